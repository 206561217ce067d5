//! `.npy` reading: every layout numpy writes for float64, the round trip
//! through `export_network`, and a typed error (never a panic) for every bad file.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use faer::Mat;
use rnn_core::export::{export_network, write_npy, write_npy_vector};
use rnn_core::npy::{
    read_matrices, read_matrix, read_network, read_npy, read_npy_shape, read_trial, read_trials,
    read_vector,
};
use rnn_core::{CoreError, InitialState, Network, NetworkConfig, seeded};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnn-core-npy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A version-1.0 `.npy` file written by hand (independent of the reader and of npyz).
fn raw_npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_text = match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let order = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape_text}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn le_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn matrix(rows: usize, cols: usize) -> Mat<f64> {
    Mat::from_fn(rows, cols, |i, j| {
        (i as f64 + 0.25) * (j as f64 - 1.5) / 3.0
    })
}

#[test]
fn exported_network_reads_back_identical() {
    let dir = temp_dir("roundtrip");
    for (config, seed) in [
        (NetworkConfig::new(30, 0, 1), 1),
        (
            NetworkConfig::new(12, 4, 2)
                .with_tau(5.0)
                .with_readout_feedback(true),
            2,
        ),
    ] {
        let net = Network::random(&config, &mut seeded(seed)).unwrap();
        let sub = dir.join(format!("net{seed}"));
        export_network(&sub, &net).unwrap();
        let back = read_network(&sub).unwrap();
        assert_eq!(back, net);
        let bits = |m: faer::MatRef<'_, f64>| {
            (0..m.nrows())
                .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)].to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(back.recurrent()), bits(net.recurrent()));
        assert_eq!(bits(back.readout()), bits(net.readout()));
    }
}

#[test]
fn c_and_fortran_order_and_both_endiannesses_give_the_same_matrix() {
    let dir = temp_dir("orders");
    let m = matrix(3, 4);
    let c: Vec<f64> = (0..3)
        .flat_map(|i| (0..4).map(move |j| (i, j)))
        .map(|(i, j)| m[(i, j)])
        .collect();
    let f: Vec<f64> = (0..4)
        .flat_map(|j| (0..3).map(move |i| (i, j)))
        .map(|(i, j)| m[(i, j)])
        .collect();
    let be: Vec<u8> = c.iter().flat_map(|v| v.to_be_bytes()).collect();
    let files = [
        write(
            &dir,
            "c.npy",
            &raw_npy("<f8", false, &[3, 4], &le_bytes(&c)),
        ),
        write(&dir, "f.npy", &raw_npy("<f8", true, &[3, 4], &le_bytes(&f))),
        write(&dir, "be.npy", &raw_npy(">f8", false, &[3, 4], &be)),
    ];
    for path in &files {
        assert_eq!(read_matrix(path).unwrap(), m, "{}", path.display());
    }
}

#[test]
fn fortran_order_3d_is_reordered() {
    let dir = temp_dir("fortran3d");
    let (k, r, c) = (2, 3, 4);
    let value = |a: usize, b: usize, d: usize| (100 * a + 10 * b + d) as f64;
    let mut f = Vec::new();
    for d in 0..c {
        for b in 0..r {
            for a in 0..k {
                f.push(value(a, b, d));
            }
        }
    }
    let path = write(
        &dir,
        "f3.npy",
        &raw_npy("<f8", true, &[k, r, c], &le_bytes(&f)),
    );
    let mats = read_matrices(&path).unwrap();
    assert_eq!(mats.len(), k);
    for (a, m) in mats.iter().enumerate() {
        assert_eq!(*m, Mat::from_fn(r, c, |b, d| value(a, b, d)));
    }
    let array = read_npy(&path).unwrap();
    assert_eq!(array.shape(), &[k, r, c]);
    assert_eq!(array.data()[4 * 3 + 1], value(1, 0, 1));
}

#[test]
fn vectors_read_and_ranks_are_checked() {
    let dir = temp_dir("ranks");
    let v = [1.0, -2.0, 3.5];
    let path = dir.join("v.npy");
    write_npy_vector(&path, &v).unwrap();
    assert_eq!(read_vector(&path).unwrap(), v);
    let err = read_matrix(&path).unwrap_err();
    assert!(
        matches!(&err, CoreError::NpyShape { found, .. } if found == &[3]),
        "{err}"
    );
    let m = dir.join("m.npy");
    write_npy(&m, matrix(2, 2).as_ref()).unwrap();
    assert!(matches!(read_vector(&m), Err(CoreError::NpyShape { .. })));
    assert!(matches!(read_matrices(&m), Err(CoreError::NpyShape { .. })));
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let dir = temp_dir("missing");
    let path = dir.join("nope.npy");
    match read_matrix(&path) {
        Err(CoreError::Io { path: p, source }) => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn wrong_dtypes_are_npy_dtype_errors() {
    let dir = temp_dir("dtype");
    for (descr, bytes) in [
        ("<f4", vec![0u8; 16]),
        ("<i8", vec![0u8; 32]),
        ("|b1", vec![0u8; 4]),
        ("<c16", vec![0u8; 64]),
    ] {
        let path = write(&dir, "d.npy", &raw_npy(descr, false, &[2, 2], &bytes));
        match read_npy(&path) {
            Err(CoreError::NpyDtype { found, .. }) => assert_eq!(found, descr),
            other => panic!("{descr}: expected NpyDtype, got {other:?}"),
        }
    }
}

#[test]
fn non_finite_entries_are_reported_with_their_index() {
    let dir = temp_dir("nonfinite");
    let mut values = vec![0.5; 6];
    values[4] = f64::NAN; // row 1, col 1 of a 2x3 C-order array
    let path = write(
        &dir,
        "nan.npy",
        &raw_npy("<f8", false, &[2, 3], &le_bytes(&values)),
    );
    match read_matrix(&path) {
        Err(CoreError::NpyNonFinite { index, value, .. }) => {
            assert_eq!(index, vec![1, 1]);
            assert!(value.is_nan());
        }
        other => panic!("expected NpyNonFinite, got {other:?}"),
    }
    values[4] = f64::NEG_INFINITY;
    let path = write(
        &dir,
        "inf.npy",
        &raw_npy("<f8", false, &[6], &le_bytes(&values)),
    );
    assert!(
        matches!(read_vector(&path), Err(CoreError::NpyNonFinite { index, .. }) if index == [4])
    );
}

#[test]
fn malformed_files_are_corrupt_file_errors_not_panics() {
    let dir = temp_dir("corrupt");
    let good = raw_npy("<f8", false, &[2, 2], &le_bytes(&[1.0, 2.0, 3.0, 4.0]));
    let mut huge_shape = raw_npy("<f8", false, &[1 << 40, 1 << 40, 1 << 20], &[]);
    huge_shape.truncate(huge_shape.len());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"hello, this is not numpy".to_vec()),
        ("truncated header", good[..20].to_vec()),
        ("truncated data", good[..good.len() - 3].to_vec()),
        ("trailing bytes", [good.clone(), vec![0u8; 8]].concat()),
        ("overflowing shape", huge_shape),
        (
            "shape larger than the data",
            raw_npy("<f8", false, &[1 << 40, 1 << 20], &[0u8; 8]),
        ),
        ("garbage dict", {
            let mut b = good.clone();
            b[12] = b'#';
            b
        }),
    ];
    for (name, bytes) in cases {
        let path = write(&dir, "bad.npy", &bytes);
        let r = read_npy(&path);
        assert!(
            matches!(r, Err(CoreError::CorruptFile { .. })),
            "{name}: {r:?}"
        );
    }
}

#[test]
fn a_trial_reads_from_inputs_targets_and_mask() {
    let dir = temp_dir("trial");
    let (t, nx, ny) = (7, 3, 2);
    let x = matrix(t, nx);
    let y = Mat::from_fn(t, ny, |s, j| (s * ny + j) as f64);
    write_npy(&dir.join("x.npy"), x.as_ref()).unwrap();
    write_npy(&dir.join("y.npy"), y.as_ref()).unwrap();
    let mask = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
    write_npy_vector(&dir.join("m.npy"), &mask).unwrap();
    let trial = read_trial(
        Some(&dir.join("x.npy")),
        &dir.join("y.npy"),
        Some(&dir.join("m.npy")),
        InitialState::Constant(0.1),
    )
    .unwrap();
    let direct = rnn_core::Trial::new(
        x.as_ref(),
        y.as_ref(),
        Some(mask.to_vec()),
        InitialState::Constant(0.1),
    )
    .unwrap();
    assert_eq!(trial, direct);

    let no_inputs = read_trial(None, &dir.join("y.npy"), None, InitialState::CarryOver).unwrap();
    assert_eq!((no_inputs.n_inputs(), no_inputs.len()), (0, t));
}

#[test]
fn trial_files_that_disagree_are_typed_errors() {
    let dir = temp_dir("trial-errors");
    write_npy(&dir.join("x.npy"), matrix(7, 3).as_ref()).unwrap();
    write_npy(&dir.join("x6.npy"), matrix(6, 3).as_ref()).unwrap();
    write_npy(&dir.join("y.npy"), matrix(7, 1).as_ref()).unwrap();
    write_npy(&dir.join("y0.npy"), Mat::<f64>::zeros(0, 1).as_ref()).unwrap();
    write_npy_vector(&dir.join("m6.npy"), &[1.0; 6]).unwrap();
    write_npy_vector(&dir.join("mhalf.npy"), &[1.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]).unwrap();
    write_npy_vector(&dir.join("v.npy"), &[1.0; 7]).unwrap();
    let p = |n: &str| dir.join(n);
    let c = || InitialState::Constant(0.0);

    let r = read_trial(Some(&p("x6.npy")), &p("y.npy"), None, c());
    assert!(
        matches!(&r, Err(CoreError::NpyShape { path, .. }) if path == &p("x6.npy")),
        "{r:?}"
    );
    let r = read_trial(Some(&p("x.npy")), &p("y.npy"), Some(&p("m6.npy")), c());
    assert!(
        matches!(&r, Err(CoreError::NpyShape { path, .. }) if path == &p("m6.npy")),
        "{r:?}"
    );
    let r = read_trial(Some(&p("x.npy")), &p("y.npy"), Some(&p("mhalf.npy")), c());
    assert!(
        matches!(r, Err(CoreError::InvalidMask { step: 1, .. })),
        "{r:?}"
    );
    let r = read_trial(None, &p("y0.npy"), None, c());
    assert!(matches!(r, Err(CoreError::NpyShape { .. })), "{r:?}");
    let r = read_trial(None, &p("v.npy"), None, c());
    assert!(matches!(r, Err(CoreError::NpyShape { .. })), "{r:?}");
    let r = read_trial(None, &p("y.npy"), None, InitialState::Constant(f64::NAN));
    assert!(matches!(r, Err(CoreError::NonFinite { .. })), "{r:?}");
    let r = read_trial(Some(&p("missing.npy")), &p("y.npy"), None, c());
    assert!(matches!(r, Err(CoreError::Io { .. })), "{r:?}");
}

#[test]
fn three_d_files_give_k_trials_with_shared_or_per_trial_masks() {
    let dir = temp_dir("trials");
    let (k, t, nx, ny) = (3, 5, 2, 1);
    let x: Vec<f64> = (0..k * t * nx).map(|v| v as f64).collect();
    let y: Vec<f64> = (0..k * t * ny).map(|v| -(v as f64)).collect();
    let x_path = write(
        &dir,
        "x.npy",
        &raw_npy("<f8", false, &[k, t, nx], &le_bytes(&x)),
    );
    let y_path = write(
        &dir,
        "y.npy",
        &raw_npy("<f8", false, &[k, t, ny], &le_bytes(&y)),
    );
    let per_trial: Vec<f64> = (0..k * t)
        .map(|i| if i % 4 == 0 { 0.0 } else { 1.0 })
        .collect();
    let m2 = write(
        &dir,
        "m2.npy",
        &raw_npy("<f8", false, &[k, t], &le_bytes(&per_trial)),
    );
    let m1 = dir.join("m1.npy");
    write_npy_vector(&m1, &[1.0, 0.0, 1.0, 1.0, 1.0]).unwrap();

    let trials = read_trials(Some(&x_path), &y_path, Some(&m2), InitialState::CarryOver).unwrap();
    assert_eq!(trials.len(), k);
    for (m, trial) in trials.iter().enumerate() {
        assert_eq!(
            (trial.len(), trial.n_inputs(), trial.n_outputs()),
            (t, nx, ny)
        );
        for s in 0..t {
            assert_eq!(
                trial.input_at(s),
                &x[(m * t + s) * nx..(m * t + s + 1) * nx]
            );
            assert_eq!(trial.target_at(s)[0], y[m * t + s]);
            assert_eq!(trial.mask_at(s), per_trial[m * t + s]);
        }
    }
    let shared = read_trials(None, &y_path, Some(&m1), InitialState::CarryOver).unwrap();
    assert!(
        shared
            .iter()
            .all(|tr| tr.mask() == Some(&[1.0, 0.0, 1.0, 1.0, 1.0][..]))
    );

    // 2-D inputs with 3-D targets, and a 3-D file for a single trial, are shape errors.
    let x2 = dir.join("x2.npy");
    write_npy(&x2, matrix(t, nx).as_ref()).unwrap();
    let r = read_trials(Some(&x2), &y_path, None, InitialState::CarryOver);
    assert!(matches!(r, Err(CoreError::NpyShape { .. })), "{r:?}");
    let r = read_trial(None, &y_path, None, InitialState::CarryOver);
    assert!(matches!(r, Err(CoreError::NpyShape { .. })), "{r:?}");
    // A per-trial mask needs 3-D targets.
    let y2 = dir.join("y2.npy");
    write_npy(&y2, matrix(t, ny).as_ref()).unwrap();
    let r = read_trials(None, &y2, Some(&m2), InitialState::CarryOver);
    assert!(matches!(r, Err(CoreError::NpyShape { .. })), "{r:?}");
}

#[test]
fn bad_network_folders_are_typed_errors() {
    let dir = temp_dir("bad-net");
    let net = Network::random(&NetworkConfig::new(6, 2, 1), &mut seeded(3)).unwrap();
    let fresh = |name: &str| {
        let sub = dir.join(name);
        export_network(&sub, &net).unwrap();
        sub
    };

    let sub = fresh("missing");
    std::fs::remove_file(sub.join("B.npy")).unwrap();
    let r = read_network(&sub);
    assert!(
        matches!(&r, Err(CoreError::Io { path, .. }) if path.ends_with("B.npy")),
        "{r:?}"
    );

    let sub = fresh("shape");
    write_npy(&sub.join("W_in.npy"), matrix(6, 3).as_ref()).unwrap();
    let r = read_network(&sub);
    assert!(
        matches!(&r, Err(CoreError::NpyShape { path, found, .. }) if path.ends_with("W_in.npy") && found == &[6, 3]),
        "{r:?}"
    );

    let sub = fresh("nan");
    let mut w = net.recurrent().to_owned();
    w[(2, 3)] = f64::INFINITY;
    write_npy(&sub.join("W.npy"), w.as_ref()).unwrap();
    let r = read_network(&sub);
    assert!(
        matches!(&r, Err(CoreError::NpyNonFinite { index, .. }) if index == &[2, 3]),
        "{r:?}"
    );

    let sub = fresh("json");
    std::fs::write(sub.join("config.json"), b"{ not json").unwrap();
    assert!(matches!(
        read_network(&sub),
        Err(CoreError::CorruptFile { .. })
    ));

    let sub = fresh("config");
    let mut config = net.config().clone();
    config.tau = 0.5;
    std::fs::write(
        sub.join("config.json"),
        serde_json::to_vec(&config).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        read_network(&sub),
        Err(CoreError::InvalidConfig { field: "tau", .. })
    ));

    let sub = fresh("dtype");
    std::fs::write(
        sub.join("W_out.npy"),
        raw_npy("<f4", false, &[1, 6], &[0u8; 24]),
    )
    .unwrap();
    assert!(matches!(
        read_network(&sub),
        Err(CoreError::NpyDtype { .. })
    ));
}

#[test]
fn the_shape_reads_from_the_header_alone() {
    let dir = temp_dir("shape");
    // The data is truncated: only read_npy notices.
    let mut bytes = raw_npy("<f8", true, &[4, 5, 6], &le_bytes(&[0.0; 120]));
    bytes.truncate(bytes.len() - 100);
    let path = write(&dir, "s.npy", &bytes);
    assert_eq!(read_npy_shape(&path).unwrap(), vec![4, 5, 6]);
    assert!(matches!(
        read_npy(&path),
        Err(CoreError::CorruptFile { .. })
    ));
    let path = write(&dir, "i.npy", &raw_npy("<i4", false, &[2], &[0u8; 8]));
    assert!(matches!(
        read_npy_shape(&path),
        Err(CoreError::NpyDtype { .. })
    ));
    for bad in [&b""[..], b"\x93NUMPY", b"\x93NUMPY\x01\x00\xff\xff{'descr'"] {
        let path = write(&dir, "bad.npy", bad);
        assert!(
            matches!(read_npy_shape(&path), Err(CoreError::CorruptFile { .. })),
            "{bad:?}"
        );
    }
    assert!(matches!(
        read_npy_shape(&dir.join("none.npy")),
        Err(CoreError::Io { .. })
    ));
}

/// Found by `rnn-fuzz` (npy_file): a 274-byte file whose header length
/// field (format 2, 4 bytes) claimed 632 MiB made npyz reserve it before
/// reading. A header longer than the file is now refused first.
#[test]
fn a_header_longer_than_the_file_is_refused_before_reading_it() {
    let dir = temp_dir("long-header");
    let path = dir.join("a.npy");
    let good = raw_npy("<f8", false, &[2], &le_bytes(&[1.0, 2.0]));
    for (version, claimed) in [(2u8, 662_372_352u32), (3, u32::MAX), (1, 60_000)] {
        let mut bytes = b"\x93NUMPY".to_vec();
        bytes.extend_from_slice(&[version, 0]);
        if version == 1 {
            bytes.extend_from_slice(&(claimed as u16).to_le_bytes());
        } else {
            bytes.extend_from_slice(&claimed.to_le_bytes());
        }
        bytes.extend_from_slice(&good[10..]);
        std::fs::write(&path, &bytes).unwrap();
        for result in [
            read_npy(&path).map(|_| ()),
            read_npy_shape(&path).map(|_| ()),
        ] {
            match result {
                Err(CoreError::CorruptFile { reason, .. }) => {
                    assert!(reason.contains("truncated header"), "v{version}: {reason}")
                }
                other => panic!("v{version}: {other:?}"),
            }
        }
    }
    std::fs::write(&path, &good).unwrap();
    assert_eq!(read_vector(&path).unwrap(), vec![1.0, 2.0]);
}
