//! `.npy` export: files read back (with an independent npy reader) with the
//! same shape, C order and bits.

use faer::Mat;
use rnn_core::export::{export_network, export_trajectory, write_npy};
use rnn_core::{InitialState, Network, NetworkConfig, Trial, seeded};

fn read_npy(path: &std::path::Path) -> (Vec<u64>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = file.shape().to_vec();
    assert_eq!(file.order(), npyz::Order::C);
    (shape, file.into_vec::<f64>().unwrap())
}

/// Row-major bits of `m`, read independently of the writer.
fn c_order_bits(m: faer::MatRef<'_, f64>) -> Vec<u64> {
    let mut bits = Vec::new();
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            bits.push(m[(i, j)].to_bits());
        }
    }
    bits
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rnn-core-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_matrix_round_trips_with_shape_and_bits() {
    let dir = temp_dir("matrix");
    std::fs::create_dir_all(&dir).unwrap();
    let m = Mat::from_fn(3, 5, |i, j| (i as f64 + 0.1) * (j as f64 - 2.3) / 7.0);
    let path = dir.join("m.npy");
    write_npy(&path, m.as_ref()).unwrap();
    let (shape, values) = read_npy(&path);
    assert_eq!(shape, vec![3, 5]);
    let bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, c_order_bits(m.as_ref()));
    assert_eq!(
        values[1],
        m[(0, 1)],
        "C order: second value is row 0, column 1"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn network_and_trajectory_export_round_trip() {
    let dir = temp_dir("network");
    let config = NetworkConfig::new(6, 2, 3);
    let net = Network::random(&config, &mut seeded(4)).unwrap();
    export_network(&dir, &net).unwrap();
    for (file, m) in [
        ("W.npy", net.recurrent()),
        ("W_in.npy", net.input()),
        ("W_out.npy", net.readout()),
        ("B.npy", net.feedback()),
    ] {
        let (shape, values) = read_npy(&dir.join(file));
        assert_eq!(shape, vec![m.nrows() as u64, m.ncols() as u64], "{file}");
        let bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, c_order_bits(m), "{file}");
    }
    let json = std::fs::read_to_string(dir.join("config.json")).unwrap();
    assert!(
        json.contains("\"n_units\": 6") && json.contains("\"tau\": 10.0"),
        "{json}"
    );

    let len = 9;
    let x = Mat::from_fn(len, 2, |s, b| (s * 2 + b) as f64 / 10.0);
    let y = Mat::from_fn(len, 3, |s, d| ((s + d) as f64).sin());
    let mask: Vec<f64> = (0..len)
        .map(|s| if s % 3 == 0 { 0.0 } else { 1.0 })
        .collect();
    let trial = Trial::new(
        x.as_ref(),
        y.as_ref(),
        Some(mask.clone()),
        InitialState::Constant(0.2),
    )
    .unwrap();
    let trajectory = net.run_trial(&trial, None).unwrap();
    export_trajectory(&dir, &trial, &trajectory).unwrap();
    let expect = |file: &str, m: faer::MatRef<'_, f64>| {
        let (shape, values) = read_npy(&dir.join(file));
        assert_eq!(shape, vec![m.nrows() as u64, m.ncols() as u64], "{file}");
        let bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, c_order_bits(m), "{file}");
    };
    expect("x.npy", x.as_ref());
    expect("y_target.npy", y.as_ref());
    expect("h.npy", trajectory.h.as_ref().transpose());
    expect("u.npy", trajectory.u.as_ref().transpose());
    expect("y.npy", trajectory.y.as_ref().transpose());
    expect("error.npy", trajectory.error.as_ref().transpose());
    let (shape, values) = read_npy(&dir.join("mask.npy"));
    assert_eq!((shape, values), (vec![len as u64], mask));
    let (shape, _) = read_npy(&dir.join("h.npy"));
    assert_eq!(shape, vec![len as u64 + 1, 6], "h(0) is included");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("W_out.npy") && readme.contains("h.npy"));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_trajectory_of_another_trial_is_refused() {
    let net = Network::random(&NetworkConfig::new(4, 0, 1), &mut seeded(1)).unwrap();
    let short = Trial::new(
        Mat::zeros(3, 0).as_ref(),
        Mat::zeros(3, 1).as_ref(),
        None,
        InitialState::Constant(0.0),
    )
    .unwrap();
    let long = Trial::new(
        Mat::zeros(5, 0).as_ref(),
        Mat::zeros(5, 1).as_ref(),
        None,
        InitialState::Constant(0.0),
    )
    .unwrap();
    let trajectory = net.run_trial(&long, None).unwrap();
    let dir = temp_dir("refused");
    assert!(export_trajectory(&dir, &short, &trajectory).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
