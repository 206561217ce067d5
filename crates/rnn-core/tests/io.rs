//! Save/load: bit-identical round trips, and every damaged or foreign file
//! (truncated, bit-flipped, random, empty, of another kind) gives an error,
//! never a panic. Atomic writes leave no temporary file behind.

use std::fs;
use std::path::{Path, PathBuf};

use faer::MatRef;
use rnn_core::io::{FORMAT_VERSION, FileKind, MAGIC, MatrixData, encode};
use rnn_core::{CoreError, Network, NetworkConfig, ReadoutInit, seeded};

/// A fresh folder under the system temp dir, removed on drop (even when the
/// test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "rnn-core-io-test-{test}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn odd_config() -> NetworkConfig {
    let mut c = NetworkConfig::new(7, 3, 2)
        .with_tau(1.234_567_890_123_456_7)
        .with_gain(0.1 + 0.2)
        .with_readout_init(ReadoutInit::Uniform {
            half_width: std::f64::consts::PI / 1e3,
        })
        .with_readout_feedback(true);
    c.input_scale = 0.3;
    c.feedback_scale = 1.0 / 3.0;
    c
}

fn bits(m: MatRef<'_, f64>) -> Vec<u64> {
    let mut v = Vec::new();
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            v.push(m[(i, j)].to_bits());
        }
    }
    v
}

fn assert_same_network(a: &Network, b: &Network) {
    assert_eq!(a.config(), b.config());
    assert_eq!(a.config().tau.to_bits(), b.config().tau.to_bits());
    assert_eq!(a.config().gain.to_bits(), b.config().gain.to_bits());
    for (x, y) in [
        (a.recurrent(), b.recurrent()),
        (a.input(), b.input()),
        (a.readout(), b.readout()),
        (a.feedback(), b.feedback()),
    ] {
        assert_eq!((x.nrows(), x.ncols()), (y.nrows(), y.ncols()));
        assert_eq!(bits(x), bits(y));
    }
}

/// An error of the "damaged or foreign file" family.
fn assert_rejected<T: std::fmt::Debug>(r: rnn_core::Result<T>, what: &str) {
    match r {
        Err(CoreError::CorruptFile { .. }) | Err(CoreError::WrongFileKind { .. }) => {}
        other => panic!("{what}: expected CorruptFile or WrongFileKind, got {other:?}"),
    }
}

#[test]
fn config_round_trip_is_bit_identical() {
    let dir = TempDir::new("config-rt");
    for (k, config) in [odd_config(), NetworkConfig::new(30, 0, 1)]
        .into_iter()
        .enumerate()
    {
        let path = dir.file(&format!("config{k}.bin"));
        config.save(&path).unwrap();
        let loaded = NetworkConfig::load(&path).unwrap();
        assert_eq!(loaded, config);
        assert_eq!(loaded.tau.to_bits(), config.tau.to_bits());
        assert_eq!(loaded.gain.to_bits(), config.gain.to_bits());
        assert_eq!(
            loaded.feedback_scale.to_bits(),
            config.feedback_scale.to_bits()
        );
        // Save of the loaded value gives the same bytes.
        let again = dir.file(&format!("config{k}-again.bin"));
        loaded.save(&again).unwrap();
        assert_eq!(fs::read(&path).unwrap(), fs::read(&again).unwrap());
    }
}

#[test]
fn network_round_trip_is_bit_identical() {
    let dir = TempDir::new("network-rt");
    for (k, config) in [odd_config(), NetworkConfig::new(30, 0, 1)]
        .into_iter()
        .enumerate()
    {
        let net = Network::random(&config, &mut seeded(1000 + k as u64)).unwrap();
        let path = dir.file(&format!("net{k}.bin"));
        net.save(&path).unwrap();
        let loaded = Network::load(&path).unwrap();
        assert_same_network(&net, &loaded);
        assert_eq!(net, loaded);
    }
    // Special values that are finite survive: -0.0, subnormals, extremes.
    let config = NetworkConfig::new(2, 1, 1);
    let mut net = Network::random(&config, &mut seeded(5)).unwrap();
    net.weights_mut().recurrent[(0, 0)] = -0.0;
    net.weights_mut().recurrent[(1, 0)] = 5e-324;
    net.weights_mut().input[(1, 0)] = f64::MAX;
    net.weights_mut().readout[(0, 1)] = f64::MIN_POSITIVE;
    let path = dir.file("special.bin");
    net.save(&path).unwrap();
    assert_same_network(&net, &Network::load(&path).unwrap());
}

#[test]
fn save_overwrites_and_leaves_no_temporary_file() {
    let dir = TempDir::new("no-tmp");
    let config = odd_config();
    let net = Network::random(&config, &mut seeded(1)).unwrap();
    let net_path = dir.file("net.bin");
    let config_path = dir.file("config.bin");
    net.save(&net_path).unwrap();
    config.save(&config_path).unwrap();
    assert_eq!(
        dir.listing(),
        vec!["config.bin".to_string(), "net.bin".to_string()]
    );
    // Overwrite with another network.
    let other = Network::random(&config, &mut seeded(2)).unwrap();
    other.save(&net_path).unwrap();
    assert_eq!(
        dir.listing(),
        vec!["config.bin".to_string(), "net.bin".to_string()]
    );
    assert_same_network(&other, &Network::load(&net_path).unwrap());
}

#[test]
fn save_into_missing_folder_is_an_io_error() {
    let dir = TempDir::new("missing-folder");
    let path = dir.file("no/such/folder/net.bin");
    let net = Network::random(&NetworkConfig::new(3, 1, 1), &mut seeded(1)).unwrap();
    assert!(matches!(net.save(&path), Err(CoreError::Io { .. })));
    assert!(matches!(Network::load(&path), Err(CoreError::Io { .. })));
    assert!(matches!(
        NetworkConfig::load(&path),
        Err(CoreError::Io { .. })
    ));
    assert!(dir.listing().is_empty());
}

fn saved_network(dir: &TempDir) -> (PathBuf, Vec<u8>) {
    let net = Network::random(&odd_config(), &mut seeded(77)).unwrap();
    let path = dir.file("net.bin");
    net.save(&path).unwrap();
    let bytes = fs::read(&path).unwrap();
    (path, bytes)
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
}

const HEADER_LEN: usize = 28;

#[test]
fn header_layout_is_as_documented() {
    let dir = TempDir::new("layout");
    let (_, bytes) = saved_network(&dir);
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(&bytes[8..12], &FORMAT_VERSION.to_le_bytes());
    assert_eq!(&bytes[12..16], b"NETW");
    let len = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    assert_eq!(len as usize, bytes.len() - HEADER_LEN);
    let crc = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    assert_eq!(crc, crc32fast::hash(&bytes[HEADER_LEN..]));
}

#[test]
fn truncated_files_are_rejected() {
    let dir = TempDir::new("truncated");
    let (path, bytes) = saved_network(&dir);
    let n = bytes.len();
    assert!(n > HEADER_LEN + 100);
    let cuts = [
        0,
        1,
        4,
        7,
        8,
        11,
        12,
        15,
        16,
        23,
        24,
        27,
        28,
        29,
        40,
        n / 2,
        n - 8,
        n - 1,
    ];
    for cut in cuts {
        write(&path, &bytes[..cut]);
        assert_rejected(
            Network::load(&path),
            &format!("network cut at {cut} of {n}"),
        );
    }
    // Padded file (extra bytes) too.
    let mut padded = bytes.clone();
    padded.extend_from_slice(&[0, 0, 0]);
    write(&path, &padded);
    assert_rejected(Network::load(&path), "padded network");

    let config_path = dir.file("config.bin");
    odd_config().save(&config_path).unwrap();
    let cbytes = fs::read(&config_path).unwrap();
    for cut in [0, 5, 8, 20, 27, 28, cbytes.len() - 1] {
        write(&config_path, &cbytes[..cut]);
        assert_rejected(
            NetworkConfig::load(&config_path),
            &format!("config cut at {cut}"),
        );
    }
}

#[test]
fn bit_flipped_files_are_rejected() {
    let dir = TempDir::new("bitflip");
    let (path, bytes) = saved_network(&dir);
    // Every byte of the file, one bit each (rotating which bit), plus all
    // eight bits of a few header and payload bytes.
    let mut flips: Vec<(usize, u8)> = (0..bytes.len()).map(|i| (i, (i % 8) as u8)).collect();
    for i in [
        0,
        9,
        13,
        17,
        25,
        HEADER_LEN,
        HEADER_LEN + 3,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        flips.extend((0..8).map(|b| (i, b)));
    }
    for (i, bit) in flips {
        let mut damaged = bytes.clone();
        damaged[i] ^= 1 << bit;
        write(&path, &damaged);
        assert_rejected(
            Network::load(&path),
            &format!("bit {bit} of byte {i} flipped"),
        );
    }

    let config_path = dir.file("config.bin");
    odd_config().save(&config_path).unwrap();
    let cbytes = fs::read(&config_path).unwrap();
    for i in 0..cbytes.len() {
        let mut damaged = cbytes.clone();
        damaged[i] ^= 1 << ((i * 3) % 8);
        write(&config_path, &damaged);
        assert_rejected(
            NetworkConfig::load(&config_path),
            &format!("config byte {i} flipped"),
        );
    }
}

#[test]
fn foreign_files_are_rejected() {
    let dir = TempDir::new("foreign");
    let path = dir.file("foreign.bin");

    write(&path, &[]);
    assert_rejected(Network::load(&path), "empty file");
    assert_rejected(NetworkConfig::load(&path), "empty file as config");

    // Deterministic pseudo-random bytes of several lengths (an LCG: no
    // dependence on the code under test).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for len in [1, 27, 28, 100, 4096] {
        let noise: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect();
        write(&path, &noise);
        assert_rejected(Network::load(&path), &format!("{len} random bytes"));
        assert_rejected(
            NetworkConfig::load(&path),
            &format!("{len} random bytes as config"),
        );
        // The right magic followed by noise.
        let mut with_magic = MAGIC.to_vec();
        with_magic.extend_from_slice(&noise);
        write(&path, &with_magic);
        assert_rejected(Network::load(&path), &format!("magic + {len} random bytes"));
    }

    // Text file.
    write(&path, b"tau = 10\ngain = 1.5\n");
    assert_rejected(NetworkConfig::load(&path), "text file");
}

#[test]
fn file_of_another_kind_is_wrong_file_kind() {
    let dir = TempDir::new("kind");
    let config_path = dir.file("config.bin");
    let config = odd_config();
    config.save(&config_path).unwrap();
    assert!(matches!(
        Network::load(&config_path),
        Err(CoreError::WrongFileKind { .. })
    ));

    let net_path = dir.file("net.bin");
    Network::random(&config, &mut seeded(3))
        .unwrap()
        .save(&net_path)
        .unwrap();
    assert!(matches!(
        NetworkConfig::load(&net_path),
        Err(CoreError::WrongFileKind { .. })
    ));

    // Another format version.
    let mut bytes = fs::read(&net_path).unwrap();
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    write(&net_path, &bytes);
    assert!(matches!(
        Network::load(&net_path),
        Err(CoreError::WrongFileKind { .. })
    ));

    // Another project's kind tag with a valid frame.
    let other = encode(FileKind(*b"CKPT"), &config).unwrap();
    write(&net_path, &other);
    assert!(matches!(
        NetworkConfig::load(&net_path),
        Err(CoreError::WrongFileKind { .. })
    ));
}

/// Files with a valid frame and checksum but a payload that is not a valid
/// network: wrong type, inconsistent matrix data, wrong shapes, non-finite
/// weights, invalid config. (The network payload is serialised like a tuple
/// (config, W, W_in, W_out, B) of `MatrixData`.)
#[test]
fn well_framed_but_invalid_payloads_are_rejected() {
    let dir = TempDir::new("payload");
    let path = dir.file("net.bin");
    let config = NetworkConfig::new(3, 1, 1);
    let net = Network::random(&config, &mut seeded(4)).unwrap();
    let md = |m: MatRef<'_, f64>| MatrixData::from_mat(m);
    let parts = (
        config.clone(),
        md(net.recurrent()),
        md(net.input()),
        md(net.readout()),
        md(net.feedback()),
    );

    // Sanity: the tuple form is what `save` writes, so the variants below
    // exercise the loader's checks, not the decoder's.
    write(&path, &encode(FileKind::NETWORK, &parts).unwrap());
    assert_same_network(&net, &Network::load(&path).unwrap());

    // Wrong payload type.
    write(&path, &encode(FileKind::NETWORK, &42u32).unwrap());
    assert_rejected(Network::load(&path), "u32 payload");
    // Trailing bytes after a valid payload (re-framed with a correct CRC).
    let mut payload = encode(FileKind::NETWORK, &parts).unwrap()[HEADER_LEN..].to_vec();
    payload.push(0);
    let mut framed = MAGIC.to_vec();
    framed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    framed.extend_from_slice(b"NETW");
    framed.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    framed.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    framed.extend_from_slice(&payload);
    write(&path, &framed);
    assert_rejected(Network::load(&path), "trailing byte");

    // Entry count inconsistent with the shape.
    let mut bad = parts.clone();
    bad.2.data.pop();
    write(&path, &encode(FileKind::NETWORK, &bad).unwrap());
    assert_rejected(Network::load(&path), "short W_in data");
    // rows * cols overflows.
    let mut bad = parts.clone();
    bad.1.rows = usize::MAX;
    bad.1.cols = 2;
    write(&path, &encode(FileKind::NETWORK, &bad).unwrap());
    assert_rejected(Network::load(&path), "overflowing shape");

    // Consistent matrix data of the wrong shape.
    let mut bad = parts.clone();
    bad.4 = MatrixData {
        rows: 1,
        cols: 3,
        data: vec![0.0; 3],
    };
    write(&path, &encode(FileKind::NETWORK, &bad).unwrap());
    assert!(matches!(
        Network::load(&path),
        Err(CoreError::ShapeMismatch { what: "B", .. })
    ));

    // Non-finite weight.
    let mut bad = parts.clone();
    bad.3.data[1] = f64::NAN;
    write(&path, &encode(FileKind::NETWORK, &bad).unwrap());
    assert!(matches!(
        Network::load(&path),
        Err(CoreError::NonFinite { what: "W_out", .. })
    ));

    // Invalid config.
    let mut bad = parts.clone();
    bad.0.tau = 0.5;
    write(&path, &encode(FileKind::NETWORK, &bad).unwrap());
    assert!(matches!(
        Network::load(&path),
        Err(CoreError::InvalidConfig { field: "tau", .. })
    ));
    let config_path = dir.file("config.bin");
    write(&config_path, &encode(FileKind::CONFIG, &bad.0).unwrap());
    assert!(matches!(
        NetworkConfig::load(&config_path),
        Err(CoreError::InvalidConfig { field: "tau", .. })
    ));
}

#[test]
fn matrix_data_round_trip() {
    let m = faer::Mat::from_fn(3, 4, |i, j| (i * 10 + j) as f64 - 0.5);
    let d = MatrixData::from_mat(m.as_ref());
    assert_eq!((d.rows, d.cols), (3, 4));
    // Column-major order.
    assert_eq!(d.data[1], m[(1, 0)]);
    assert_eq!(d.data[3], m[(0, 1)]);
    assert_eq!(d.to_mat().unwrap(), m);
    let short = MatrixData {
        rows: 3,
        cols: 4,
        data: vec![0.0; 11],
    };
    assert!(short.to_mat().is_none());
}

/// Found by `rnn-fuzz` (checkpoint_file): a 400-byte file whose string
/// length field claimed 2 GiB made the decoder reserve 2 GiB before finding
/// the bytes missing. The decoder may now claim only a small multiple of the
/// payload's size: such a length is refused before anything is reserved.
#[test]
fn a_length_field_beyond_the_payload_is_refused_before_allocating() {
    let path = Path::new("claims.bin");
    for claimed in [3u32 << 30, 1 << 20, 4096] {
        // bincode varint: 252 then a u32; then a few bytes, not `claimed`.
        let mut payload = vec![252u8];
        payload.extend_from_slice(&claimed.to_le_bytes());
        payload.extend_from_slice(b"abc");
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        framed.extend_from_slice(b"NETW");
        framed.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        framed.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        framed.extend_from_slice(&payload);
        let result = rnn_core::io::decode::<String>(&framed, FileKind::NETWORK, path);
        match result {
            Err(CoreError::CorruptFile { reason, .. }) => {
                assert!(reason.contains("LimitExceeded"), "{claimed}: {reason}")
            }
            other => panic!("{claimed}: {other:?}"),
        }
    }
    // A string that is there still decodes, large or small.
    for len in [0usize, 3, 100_000] {
        let text = "x".repeat(len);
        let framed = encode(FileKind::NETWORK, &text).unwrap();
        let back: String = rnn_core::io::decode(&framed, FileKind::NETWORK, path).unwrap();
        assert_eq!(back, text);
    }
}

/// Found by `rnn-fuzz` (checkpoint_file, seed 1): a checkpoint whose pending
/// update was a `0 × 913710005873866` matrix (no entries, so the count
/// matched) made `to_mat` loop over its columns for hours. An empty matrix
/// may now have sides up to 2^16 only (a network's are far shorter).
#[test]
fn an_empty_matrix_with_a_huge_side_is_refused_at_once() {
    for (rows, cols) in [
        (0, 913_710_005_873_866),
        (1 << 40, 0),
        (0, usize::MAX),
        (0, 1 << 17),
    ] {
        let m = MatrixData {
            rows,
            cols,
            data: Vec::new(),
        };
        assert!(m.to_mat().is_none(), "{rows} x {cols}");
    }
    for (rows, cols) in [(0, 0), (16_384, 0), (0, 1 << 16)] {
        let m = MatrixData {
            rows,
            cols,
            data: Vec::new(),
        };
        let mat = m.to_mat().unwrap();
        assert_eq!((mat.nrows(), mat.ncols()), (rows, cols));
    }
    // A W_in with no inputs still round-trips.
    let net = Network::random(&NetworkConfig::new(5, 0, 1), &mut seeded(2)).unwrap();
    let back = MatrixData::from_mat(net.input()).to_mat().unwrap();
    assert_eq!((back.nrows(), back.ncols()), (5, 0));
}
