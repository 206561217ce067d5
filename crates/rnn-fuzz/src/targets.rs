//! The fuzz targets: one function per boundary, `fn(&[u8]) -> Outcome`, and
//! the valid seed inputs they mutate.
//!
//! Each target feeds the input to the public API the way a user or a file
//! would (file-reading targets write it to a scratch file first, so that the
//! real reading path runs) and checks the property of issue #17: the input
//! becomes a valid value — which then round-trips, encode → decode giving the
//! same bits — or a typed error. Panics, over-allocation and hangs are
//! caught by the driver ([`crate::fuzz`]).

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use rnn_core::faer::Mat;
use rnn_core::io::{FileKind, decode, encode};
use rnn_core::{InitialState, Network, NetworkConfig, ReadoutInit, Trial, Weights, seeded};
use rnn_experiment::{GridFile, RunSpec, Shard};
use rnn_learn::{CHECKPOINT, Checkpoint, LearningRule, RuleSpec, Trainer, TrainingConfig};
use rnn_tasks::{PeriodicConfig, TaskSpec, TrialFiles};

use crate::Outcome;
use crate::mutate::Bytes;

/// A check that must hold; else the target reports a violation.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Outcome::Violation(format!($($msg)+));
        }
    };
}

/// `Ok(v)` → `v`; `Err(_)` → the target's input was rejected (a typed error).
macro_rules! accept {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(_) => return Outcome::Rejected,
        }
    };
}

/// `Ok(v)` → `v`; `Err(e)` → a violation: a step that must succeed failed.
macro_rules! must {
    ($result:expr, $what:expr) => {
        match $result {
            Ok(value) => value,
            Err(e) => return Outcome::Violation(format!("{}: {e}", $what)),
        }
    };
}

// ---------------------------------------------------------------------------
// Scratch files: one folder per thread, removed when the thread ends, in
// `$RNN_FUZZ_TMP`, else `/dev/shm` where it exists, else the temp folder.

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Where scratch folders go: `$RNN_FUZZ_TMP`, else `/dev/shm` (RAM-backed,
/// many small files), else the temp folder.
fn scratch_base() -> PathBuf {
    std::env::var_os("RNN_FUZZ_TMP")
        .map(PathBuf::from)
        .or_else(|| {
            let shm = Path::new("/dev/shm");
            shm.is_dir().then(|| shm.to_path_buf())
        })
        .unwrap_or_else(std::env::temp_dir)
}

/// Removes every scratch folder of this process (a thread's folder is
/// removed when the thread ends, but not always that of a thread still
/// alive at exit).
pub fn remove_scratch() {
    let prefix = format!("rnn-fuzz-{}-", std::process::id());
    if let Ok(entries) = std::fs::read_dir(scratch_base()) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// This thread's scratch folder (created on first use).
fn scratch() -> PathBuf {
    SCRATCH.with(|s| {
        s.borrow_mut()
            .get_or_insert_with(|| {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static NEXT: AtomicUsize = AtomicUsize::new(0);
                let dir = scratch_base().join(format!(
                    "rnn-fuzz-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&dir).expect("a scratch folder in the temp dir");
                Scratch(dir)
            })
            .0
            .clone()
    })
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("writing a scratch file");
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn mat_bits(m: rnn_core::faer::MatRef<'_, f64>) -> Vec<u64> {
    let mut bits = Vec::with_capacity(m.nrows() * m.ncols());
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            bits.push(m[(i, j)].to_bits());
        }
    }
    bits
}

// ---------------------------------------------------------------------------
// Framed files: networks, configs, checkpoints.

/// A network file (`Network::load`): framed bincode with config and weights.
///
/// Valid → finite weights of the config's shapes, and save → load → save
/// gives the same bytes.
pub fn network_file(data: &[u8]) -> Outcome {
    let dir = scratch();
    let (path, again) = (dir.join("net.bin"), dir.join("net2.bin"));
    write(&path, data);
    let net = accept!(Network::load(&path));
    ensure!(
        net.check_finite().is_ok(),
        "a loaded network has bad weights"
    );
    must!(net.save(&again), "saving a loaded network");
    let first = must!(std::fs::read(&again), "reading back");
    let reloaded = must!(Network::load(&again), "reloading a saved network");
    must!(reloaded.save(&again), "saving again");
    let second = must!(std::fs::read(&again), "reading back");
    ensure!(first == second, "network save/load is not bit-exact");
    Outcome::Accepted
}

/// A network config file (`NetworkConfig::load`).
pub fn config_file(data: &[u8]) -> Outcome {
    let path = scratch().join("config.bin");
    write(&path, data);
    let config = accept!(NetworkConfig::load(&path));
    let bytes = must!(encode(FileKind::CONFIG, &config), "encoding a config");
    let back: NetworkConfig = must!(decode(&bytes, FileKind::CONFIG, &path), "decoding");
    let again = must!(encode(FileKind::CONFIG, &back), "encoding again");
    ensure!(bytes == again, "config encode/decode is not bit-exact");
    Outcome::Accepted
}

/// The rule and task every checkpoint seed was written with.
fn checkpoint_rule() -> RuleSpec {
    RuleSpec::rflo(0.05)
}

fn checkpoint_task() -> TaskSpec {
    TaskSpec::Periodic(PeriodicConfig {
        period: 6,
        start: rnn_tasks::FixedStart::Constant(0.1),
    })
}

/// A training checkpoint (`Checkpoint`, framed bincode), then
/// `Trainer::resume` with the seeds' rule and task and the checkpoint's own
/// training config, and one more trial.
pub fn checkpoint_file(data: &[u8]) -> Outcome {
    let path = Path::new("fuzz-input");
    let checkpoint: Checkpoint = accept!(decode(data, CHECKPOINT, path));
    let bytes = must!(encode(CHECKPOINT, &checkpoint), "encoding a checkpoint");
    let back: Checkpoint = must!(decode(&bytes, CHECKPOINT, path), "decoding it");
    let again = must!(encode(CHECKPOINT, &back), "encoding it again");
    ensure!(bytes == again, "checkpoint encode/decode is not bit-exact");
    let rule = must!(checkpoint_rule().build(), "the seed rule");
    let mut source = must!(checkpoint_task().build(&mut seeded(0)), "the seed task");
    let config = checkpoint.config().clone();
    let source: &mut dyn rnn_core::TrialSource = &mut *source;
    let (mut trainer, mut net) = accept!(Trainer::resume(rule, config, &checkpoint, source));
    if !trainer.is_done() {
        let _ = trainer.train_trial(&mut net, source);
    }
    Outcome::Accepted
}

/// Valid network files: small networks of several shapes and settings.
pub fn network_seeds() -> Vec<Vec<u8>> {
    let dir = scratch();
    let mut seeds = Vec::new();
    for (i, (n, nx, ny)) in [(1, 0, 1), (3, 2, 1), (4, 1, 2)].into_iter().enumerate() {
        let config = NetworkConfig::new(n, nx, ny)
            .with_readout_feedback(i == 1)
            .with_readout_init(if i == 2 {
                ReadoutInit::Uniform { half_width: 0.5 }
            } else {
                ReadoutInit::PaperText
            });
        let net = Network::random(&config, &mut seeded(i as u64)).unwrap();
        let path = dir.join("seed.bin");
        net.save(&path).unwrap();
        seeds.push(std::fs::read(&path).unwrap());
    }
    seeds
}

/// Valid config files.
pub fn config_seeds() -> Vec<Vec<u8>> {
    [
        NetworkConfig::new(30, 0, 1),
        NetworkConfig::new(5, 3, 2).with_readout_init(ReadoutInit::ExampleCode),
        NetworkConfig::new(2, 1, 1).with_readout_init(ReadoutInit::Uniform { half_width: 0.1 }),
    ]
    .iter()
    .map(|c| encode(FileKind::CONFIG, c).unwrap())
    .collect()
}

/// Valid checkpoints of a small run, taken after 0, 1 and 3 trials (the
/// last with readout feedback and an every-2 schedule).
pub fn checkpoint_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (after, every_k) in [(0, false), (1, false), (3, true)] {
        let mut config = TrainingConfig::default().with_n_trials(8).with_seed(3);
        if every_k {
            config = config.with_schedule(rnn_learn::Schedule::EveryK(2));
        }
        let net_config = NetworkConfig::new(3, 0, 1).with_readout_feedback(every_k);
        let mut net = Network::random(&net_config, &mut seeded(1)).unwrap();
        let rule = checkpoint_rule().build().unwrap();
        let mut task = checkpoint_task().build(&mut seeded(0)).unwrap();
        let source: &mut dyn rnn_core::TrialSource = &mut *task;
        let mut trainer = Trainer::new(rule, &mut net, config).unwrap();
        for _ in 0..after {
            trainer.train_trial(&mut net, source).unwrap();
        }
        seeds.push(encode(CHECKPOINT, &trainer.checkpoint(&net)).unwrap());
    }
    seeds
}

/// The run whose stored result the `store_record` target reads.
fn store_spec() -> RunSpec {
    let mut spec = RunSpec::new(checkpoint_task(), checkpoint_rule());
    spec.network.n_units = 3;
    spec.training = TrainingConfig::default().with_n_trials(2);
    spec
}

/// A stored run record (rnn-experiment `store.rs`, framed bincode):
/// `Store::get` of the record file of a fixed spec.
///
/// Valid → `put` → `get` → `put` writes the same bytes.
pub fn store_record(data: &[u8]) -> Outcome {
    let dir = scratch().join("store");
    let store = must!(rnn_experiment::Store::open(&dir), "opening a store");
    let spec = store_spec();
    let path = dir.join("runs").join(format!("{}.run", spec.key()));
    write(&path, data);
    let Some(record) = accept!(store.get(&spec)) else {
        return Outcome::Violation("the record file vanished".into());
    };
    ensure!(
        record.network.check_finite().is_ok(),
        "a stored network with bad weights"
    );
    must!(store.put(&spec, &record), "storing a record read back");
    let first = must!(std::fs::read(&path), "reading the record file");
    let back = must!(store.get(&spec), "reading it again");
    let back = must!(back.ok_or("no record"), "reading it again");
    must!(store.put(&spec, &back), "storing it again");
    let second = must!(std::fs::read(&path), "reading the record file");
    ensure!(first == second, "run record put/get is not bit-exact");
    Outcome::Accepted
}

/// A valid record: the stored result of a small run (3 units, 2 trials).
pub fn store_seeds() -> Vec<Vec<u8>> {
    let dir = scratch().join("store-seed");
    let store = rnn_experiment::Store::open(&dir).unwrap();
    let spec = store_spec();
    let record = rnn_experiment::run(&spec).unwrap();
    store.put(&spec, &record).unwrap();
    let path = dir.join("runs").join(format!("{}.run", spec.key()));
    vec![std::fs::read(path).unwrap()]
}

// ---------------------------------------------------------------------------
// .npy files.

/// One `.npy` file (`rnn_core::npy`): `read_npy`, `read_npy_shape` and the
/// rank-checking readers.
///
/// Valid → finite entries, as many as the shape says, the header-only shape
/// equal to the full read's, and (1-D and 2-D) write → read the same bits.
pub fn npy_file(data: &[u8]) -> Outcome {
    use rnn_core::npy;
    let dir = scratch();
    let path = dir.join("a.npy");
    write(&path, data);
    let _ = npy::read_vector(&path);
    let _ = npy::read_matrix(&path);
    let _ = npy::read_matrices(&path);
    let header_shape = npy::read_npy_shape(&path);
    let array = accept!(npy::read_npy(&path));
    let count = array
        .shape()
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d));
    ensure!(
        count == Some(array.data().len()),
        "shape {:?} but {} entries",
        array.shape(),
        array.data().len()
    );
    ensure!(
        array.data().iter().all(|v| v.is_finite()),
        "a non-finite entry was accepted"
    );
    ensure!(
        header_shape.as_deref().ok() == Some(array.shape()),
        "read_npy_shape gives {header_shape:?}, read_npy {:?}",
        array.shape()
    );
    let again = dir.join("b.npy");
    match *array.shape() {
        [_] => {
            must!(
                rnn_core::export::write_npy_vector(&again, array.data()),
                "writing a vector"
            );
            let back = must!(npy::read_vector(&again), "reading it back");
            ensure!(
                same_bits(&back, array.data()),
                "vector write/read is not bit-exact"
            );
        }
        [rows, cols] => {
            let m = Mat::from_fn(rows, cols, |i, j| array.data()[i * cols + j]);
            must!(
                rnn_core::export::write_npy(&again, m.as_ref()),
                "writing a matrix"
            );
            let back = must!(npy::read_matrix(&again), "reading it back");
            ensure!(
                mat_bits(back.as_ref()) == mat_bits(m.as_ref()),
                "matrix write/read is not bit-exact"
            );
        }
        _ => {}
    }
    Outcome::Accepted
}

fn npy_bytes(shape: &[usize], data: &[f64], fortran: bool) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': {}, 'shape': {shape_text}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

/// Valid `.npy` files: ranks 0 to 3, C and Fortran order, masks.
pub fn npy_seeds() -> Vec<Vec<u8>> {
    let ramp = |n: usize| (0..n).map(|i| i as f64 * 0.25 - 0.5).collect::<Vec<_>>();
    vec![
        npy_bytes(&[3, 1], &ramp(3), false),
        npy_bytes(&[2, 3, 1], &ramp(6), false),
        npy_bytes(&[2, 3, 2], &ramp(12), true),
        npy_bytes(&[3], &[1.0, 0.0, 1.0], false),
        npy_bytes(&[2, 3], &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0], false),
        npy_bytes(&[], &[2.5], false),
        npy_bytes(&[3, 0], &[], false),
    ]
}

/// A user's trials from `.npy` files (`TaskSpec::Files`, rnn-tasks
/// `files.rs`): the input plays each role in turn — the targets alone, the
/// inputs beside valid 3-D targets (`2×3×1`), the mask beside them.
///
/// Valid → the sizes read from the headers (`validate`, `n_inputs`, ...)
/// equal those of the trials read, and every trial has them.
pub fn npy_trials(data: &[u8]) -> Outcome {
    let dir = scratch();
    let (fuzzed, targets) = (dir.join("fuzzed.npy"), dir.join("targets.npy"));
    write(&fuzzed, data);
    write(
        &targets,
        &npy_bytes(&[2, 3, 1], &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], false),
    );
    let roles = [
        TrialFiles::new(&fuzzed),
        TrialFiles::new(&targets).with_inputs(&fuzzed),
        TrialFiles::new(&targets).with_mask(&fuzzed),
    ];
    let mut outcome = Outcome::Rejected;
    for files in roles {
        let spec = TaskSpec::Files(files);
        let built = spec.build(&mut seeded(0));
        let Ok(mut task) = built else { continue };
        let sizes = (spec.n_inputs(), spec.n_outputs(), spec.steps_per_trial());
        let (Ok(nx), Ok(ny), Ok(len)) = sizes else {
            return Outcome::Violation(format!("the files read, but their headers give {sizes:?}"));
        };
        ensure!(
            (task.n_inputs(), task.n_outputs()) == (nx, ny),
            "headers say N_x = {nx}, N_y = {ny}, the trials have {} and {}",
            task.n_inputs(),
            task.n_outputs()
        );
        for _ in 0..3 {
            let trial = must!(task.generate(&mut seeded(1)), "a file trial");
            ensure!(
                trial.len() == len && trial.n_inputs() == nx && trial.n_outputs() == ny,
                "a trial of {}×{}×{} from headers saying T = {len}, N_x = {nx}, N_y = {ny}",
                trial.len(),
                trial.n_inputs(),
                trial.n_outputs()
            );
        }
        outcome = Outcome::Accepted;
    }
    outcome
}

// ---------------------------------------------------------------------------
// In-memory construction from arbitrary shapes and values.

fn config_from(b: &mut Bytes<'_>) -> NetworkConfig {
    let mut config = NetworkConfig::new(b.size(5), b.size(3), b.size(3));
    config.tau = if b.bool() {
        b.f64()
    } else {
        1.0 + f64::from(b.byte() % 20)
    };
    config.gain = if b.bool() { b.f64() } else { 1.5 };
    config.input_scale = if b.bool() { b.f64() } else { 1.0 };
    config.feedback_scale = if b.bool() { b.f64() } else { 1.0 };
    config.readout_init = match b.byte() % 3 {
        0 => ReadoutInit::PaperText,
        1 => ReadoutInit::ExampleCode,
        _ => ReadoutInit::Uniform {
            half_width: b.f64(),
        },
    };
    config.readout_feedback = b.bool();
    config
}

fn matrix_from(b: &mut Bytes<'_>, rows: usize, cols: usize) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| b.f64())
}

/// The shape to build a matrix with: the wanted one when small, else (or
/// when the input says so) a small wrong one.
fn shape_from(b: &mut Bytes<'_>, rows: usize, cols: usize) -> (usize, usize) {
    if rows <= 8 && cols <= 8 && b.byte() < 224 {
        (rows, cols)
    } else {
        (b.size(4).min(8), b.size(4).min(8))
    }
}

/// `Network::random` and `Network::from_weights` from arbitrary sizes
/// (zero, small, up to `usize::MAX`) and values (NaN, ±inf, subnormals,
/// extremes, raw bits).
///
/// Valid → finite weights of the config's shapes; a trial run on it gives
/// a finite loss or a typed error.
pub fn network_values(data: &[u8]) -> Outcome {
    let mut b = Bytes::new(data);
    let config = config_from(&mut b);
    let net = if b.bool() {
        accept!(Network::random(&config, &mut seeded(b.u64())))
    } else {
        let (n, nx, ny) = (config.n_units, config.n_inputs, config.n_outputs);
        let mut m = |rows, cols| {
            let (r, c) = shape_from(&mut b, rows, cols);
            matrix_from(&mut b, r, c)
        };
        let weights = Weights {
            recurrent: m(n, n),
            input: m(n, nx),
            readout: m(ny, n),
            feedback: m(n, ny),
        };
        accept!(Network::from_weights(&config, weights))
    };
    ensure!(
        net.config().validate().is_ok(),
        "an invalid config was accepted"
    );
    ensure!(
        net.check_finite().is_ok(),
        "a network with bad weights was accepted"
    );
    let (n, nx, ny) = (net.n_units(), net.n_inputs(), net.n_outputs());
    let len = 1 + b.size(4).min(6);
    let trial = must!(
        Trial::new(
            Mat::<f64>::from_fn(len, nx, |s, i| (s + i) as f64 * 0.1).as_ref(),
            Mat::<f64>::from_fn(len, ny, |s, i| (s * i) as f64 * 0.1).as_ref(),
            None,
            InitialState::Constant(0.1),
        ),
        "a plain trial"
    );
    // Huge finite weights may overflow the loss: a typed error.
    if let Ok(trajectory) = net.run_trial(&trial, None) {
        ensure!(
            trajectory.loss.is_finite(),
            "a non-finite loss returned as Ok"
        );
        ensure!(trajectory.h.nrows() == n, "trajectory of the wrong size");
    }
    Outcome::Accepted
}

/// `Trial::new` / `Trial::from_columns` from arbitrary shapes (including
/// zero steps and zero inputs), values, masks (wrong lengths, values other
/// than 0 and 1) and initial states (NaN, ±inf, wrong lengths).
///
/// Valid → finite data and a 0/1 mask of length `T`; the trial written with
/// `export::write_npy` and read back with `npy::read_trial` has the same
/// bits; on a network it fits, it runs with a finite loss or a typed error.
pub fn trial_values(data: &[u8]) -> Outcome {
    let mut b = Bytes::new(data);
    let (len, nx, ny) = (b.size(6).min(8), b.size(3).min(4), b.size(3).min(4));
    let inputs = matrix_from(&mut b, len, nx);
    let targets = Mat::from_fn(
        len,
        ny,
        |s, i| if b.bool() { b.f64() } else { (s + i) as f64 },
    );
    let mask = match b.byte() % 4 {
        0 => None,
        1 => Some((0..len).map(|s| (s % 2) as f64).collect()),
        2 => Some(
            (0..b.size(8).min(10))
                .map(|_| f64::from(b.byte() % 2))
                .collect(),
        ),
        _ => Some((0..len).map(|_| b.f64()).collect::<Vec<f64>>()),
    };
    let n = 1 + b.size(3).min(4);
    let initial_state = match b.byte() % 4 {
        0 => InitialState::Constant(b.f64()),
        1 => InitialState::Given((0..n).map(|_| b.f64()).collect()),
        2 => InitialState::Given((0..b.size(5).min(6)).map(|_| 0.1).collect()),
        _ => InitialState::CarryOver,
    };
    let trial = if b.bool() {
        accept!(Trial::new(
            inputs.as_ref(),
            targets.as_ref(),
            mask,
            initial_state
        ))
    } else {
        let (x, y) = (
            inputs.transpose().to_owned(),
            targets.transpose().to_owned(),
        );
        accept!(Trial::from_columns(x, y, mask, initial_state))
    };
    let all_finite = |m: rnn_core::faer::MatRef<'_, f64>| {
        (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite()))
    };
    ensure!(
        len >= 1 && trial.len() == len,
        "a trial of {} steps",
        trial.len()
    );
    ensure!(
        all_finite(trial.inputs()) && all_finite(trial.targets()),
        "non-finite trial data"
    );
    if let Some(m) = trial.mask() {
        ensure!(
            m.len() == len && m.iter().all(|&v| v == 0.0 || v == 1.0),
            "a bad mask"
        );
    }
    // Round trip through .npy files.
    let dir = scratch();
    let (xp, yp, mp) = (dir.join("x.npy"), dir.join("y.npy"), dir.join("m.npy"));
    must!(
        rnn_core::export::write_npy(&xp, trial.inputs()),
        "writing inputs"
    );
    must!(
        rnn_core::export::write_npy(&yp, trial.targets()),
        "writing targets"
    );
    if let Some(m) = trial.mask() {
        must!(
            rnn_core::export::write_npy_vector(&mp, m),
            "writing the mask"
        );
    }
    let back = must!(
        rnn_core::npy::read_trial(
            Some(&xp),
            &yp,
            trial.mask().map(|_| mp.as_path()),
            trial.initial_state().clone()
        ),
        "reading the trial back"
    );
    ensure!(
        mat_bits(back.inputs()) == mat_bits(trial.inputs())
            && mat_bits(back.targets()) == mat_bits(trial.targets())
            && back.mask().map(|m| m.to_vec()) == trial.mask().map(|m| m.to_vec()),
        "trial write/read through .npy is not bit-exact"
    );
    // Run it on a network it fits.
    if let InitialState::Given(h0) = trial.initial_state()
        && h0.len() != n
    {
        return Outcome::Accepted;
    }
    let net = must!(
        Network::random(&NetworkConfig::new(n, nx, ny.max(1)), &mut seeded(2)),
        "a small network"
    );
    if ny == 0 {
        // No network has zero outputs: the trial must not fit.
        ensure!(
            trial.check_fits(net.config()).is_err(),
            "a trial without outputs fits"
        );
        return Outcome::Accepted;
    }
    let trajectory = match net.run_trial(&trial, None) {
        Ok(t) => t,
        // Carry-over with no previous state is a typed error.
        Err(_) => return Outcome::Accepted,
    };
    ensure!(
        trajectory.loss.is_finite(),
        "a non-finite loss returned as Ok"
    );
    Outcome::Accepted
}

/// Raw seeds for the byte-structured targets.
pub fn byte_seeds() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![3, 1, 1, 0, 0, 0, 0, 0, 1, 7, 0, 0, 0, 0, 0, 0, 0],
        vec![
            4, 2, 1, 1, 200, 1, 180, 0, 0, 0, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
        ],
        (0..64).collect(),
        (0..64).map(|i| 255 - i).collect(),
        (0..96).map(|i| (i * 37 % 251) as u8).collect(),
    ]
}

// ---------------------------------------------------------------------------
// Text: run specs, grids, task and rule configs, shard specs.

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A run spec in TOML (`RunSpec::from_toml`, then `validate`).
///
/// Valid → `to_toml` → `from_toml` → `to_toml` gives the same text and
/// the same `RunKey`; a small valid run (`N <= 8`, `T <= 20`, at most 2
/// trials) is run end to end (`rnn_experiment::run`).
pub fn run_spec_toml(data: &[u8]) -> Outcome {
    let Some(text) = text(data) else {
        return Outcome::Rejected;
    };
    let spec = accept!(RunSpec::from_toml(text));
    let written = must!(spec.to_toml(), "writing a spec read from TOML");
    let back = must!(RunSpec::from_toml(&written), "reading a written spec");
    let again = must!(back.to_toml(), "writing it again");
    ensure!(
        written == again,
        "RunSpec TOML round trip changed:\n{written}\n---\n{again}"
    );
    ensure!(
        spec.key() == back.key(),
        "RunKey changed in a TOML round trip"
    );
    if spec.validate().is_err() {
        return Outcome::Rejected;
    }
    let small = spec.network.n_units <= 8
        && spec.task.steps_per_trial().is_ok_and(|t| t <= 20)
        && spec.task.n_inputs().is_ok_and(|n| n <= 8)
        && spec.training.n_trials <= 2
        && spec.evaluation.trials <= 2;
    if small {
        let _ = rnn_experiment::run(&spec);
    }
    Outcome::Accepted
}

/// Valid run specs.
pub fn run_spec_seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        "task = { name = \"periodic\", period = 12 }\nrule = { name = \"rflo\", rates = 0.03 }\n\
         network = { n_units = 4 }\ntraining = { n_trials = 2 }\nevaluation = { trials = 1 }\n"
            .to_owned(),
        "seed = 3\n[network]\nn_units = 5\ntau = 2.0\nreadout_feedback = true\n\
         readout_init = { Uniform = { half_width = 0.1 } }\n\
         [task]\nname = \"ready_set_go\"\n[rule]\nname = \"bptt\"\n\
         rates = { readout = 0.1, recurrent = 0.01, input = 0.0 }\n\
         [training]\nn_trials = 1\nschedule = { EveryK = 2 }\nmax_loss_ratio = 10.0\n"
            .to_owned(),
    ];
    for (task, rule) in TaskSpec::every_task()
        .into_iter()
        .zip(RuleSpec::every_form(0.01.into()).into_iter().step_by(2))
    {
        let mut spec = RunSpec::new(task, rule);
        spec.network.n_units = 3;
        spec.training = TrainingConfig::default().with_n_trials(1);
        seeds.push(spec.to_toml().unwrap());
    }
    seeds.into_iter().map(String::into_bytes).collect()
}

/// A grid file in TOML (`GridFile::from_toml`, `run_count`, `points`).
///
/// Valid → `to_toml` → `from_toml` → `to_toml` gives the same text; the run
/// count is computed without overflow, and a grid of at most 64 runs
/// expands to exactly that many points.
pub fn grid_toml(data: &[u8]) -> Outcome {
    let Some(text) = text(data) else {
        return Outcome::Rejected;
    };
    let file = accept!(GridFile::from_toml(text));
    let written = must!(file.to_toml(), "writing a grid read from TOML");
    let back = must!(GridFile::from_toml(&written), "reading a written grid");
    let again = must!(back.to_toml(), "writing it again");
    ensure!(
        written == again,
        "GridFile TOML round trip changed:\n{written}\n---\n{again}"
    );
    let count = accept!(file.run_count());
    if count <= 64 {
        let points = accept!(file.points());
        ensure!(
            points.len() == count,
            "{count} runs counted, {} points",
            points.len()
        );
    }
    Outcome::Accepted
}

/// Valid grid files.
pub fn grid_seeds() -> Vec<Vec<u8>> {
    let doc = r#"[[grid]]
name = "rflo"
[grid.base]
network = { n_units = 3 }
task = { name = "periodic", period = 20 }
rule = { name = "rflo", rates = 0.03 }
training = { n_trials = 2 }

[[grid.axis]]
"task.period" = [20, 40]
"rule.rates" = [0.03, 0.01]

[[grid.axis]]
seed = [0, 1, 2]
"training.seed" = [0, 1, 2]
"#;
    let two = r#"[[grid]]
name = "a"
base = { task = { name = "reach" }, rule = { name = "rtrl", rates = 0.1 } }
[[grid.axis]]
rule = [{ name = "rflo", rates = 0.03 }, { name = "bptt", rates = 0.03 }]
"network.n_units" = [2, 3]
[[grid]]
name = "b"
base = { task = { name = "whole_sequence" }, rule = { name = "local_symmetric", rates = 0.1 } }
[[grid.axis]]
"training.constraints.dale" = [{ excitatory_fraction = 0.8 }]
"#;
    vec![doc.as_bytes().to_vec(), two.as_bytes().to_vec()]
}

/// A task config in TOML (`TaskSpec`, rnn-tasks registry): `validate`, and
/// for a small valid task (`T <= 2000`, `N_x <= 64`) `build` and two trials.
///
/// Valid → TOML round trip gives the same text; the trials have the sizes
/// the spec states.
pub fn task_spec_toml(data: &[u8]) -> Outcome {
    let Some(text) = text(data) else {
        return Outcome::Rejected;
    };
    let spec: TaskSpec = accept!(toml::from_str(text));
    let written = must!(toml::to_string(&spec), "writing a task spec");
    let back: TaskSpec = must!(toml::from_str(&written), "reading it back");
    let again = must!(toml::to_string(&back), "writing it again");
    ensure!(
        written == again,
        "TaskSpec TOML round trip changed:\n{written}\n---\n{again}"
    );
    accept!(spec.validate());
    let (nx, ny, len) = (
        must!(spec.n_inputs(), "n_inputs of a valid task"),
        must!(spec.n_outputs(), "n_outputs of a valid task"),
        must!(spec.steps_per_trial(), "steps of a valid task"),
    );
    if len > 2000 || nx > 64 {
        return Outcome::Accepted;
    }
    let mut task = accept!(spec.build(&mut seeded(0)));
    let mut rng = seeded(1);
    for _ in 0..2 {
        let trial = accept!(task.generate(&mut rng));
        ensure!(
            trial.n_inputs() == nx && trial.n_outputs() == ny && trial.len() <= len,
            "a trial {}×{}×{} from a spec stating N_x = {nx}, N_y = {ny}, T <= {len}",
            trial.len(),
            trial.n_inputs(),
            trial.n_outputs()
        );
    }
    Outcome::Accepted
}

/// Valid task configs: every built-in task, with and without fields.
pub fn task_spec_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<String> = TaskSpec::every_task()
        .iter()
        .map(|t| toml::to_string(t).unwrap())
        .collect();
    seeds.push("name = \"periodic\"\nperiod = 7\ninitial_value = -0.5\n".into());
    seeds.push(
        "name = \"periodic\"\nperiod = 7\nstart = { uniform = { n_units = 5, half_width = 1.0 } }\n"
            .into(),
    );
    seeds.push("name = \"ready_set_go\"\nmin_delay = 3\nmax_delay = 5\n".into());
    seeds.push("name = \"files\"\ntargets = \"y.npy\"\ninitial_state = \"carry_over\"\n".into());
    seeds.into_iter().map(String::into_bytes).collect()
}

/// A rule config in TOML (`RuleSpec`, rnn-learn registry): `build`, then
/// two trials of training of a small network (`N = 3`, one input, one output).
///
/// Valid (`build` succeeds) → TOML round trip gives the same text;
/// training gives a history or a typed error.
pub fn rule_spec_toml(data: &[u8]) -> Outcome {
    let Some(text) = text(data) else {
        return Outcome::Rejected;
    };
    let spec: RuleSpec = accept!(toml::from_str(text));
    // Round trip of valid specs only: TOML writes NaN without its sign, so
    // rates (NaN, -NaN, NaN), which `build` refuses, read back as uniform.
    let rule = accept!(spec.build());
    let written = must!(toml::to_string(&spec), "writing a rule spec");
    let back: RuleSpec = must!(toml::from_str(&written), "reading it back");
    let again = must!(toml::to_string(&back), "writing it again");
    ensure!(
        written == again,
        "RuleSpec TOML round trip changed:\n{written}\n---\n{again}"
    );
    ensure!(
        rule.rates().validate().is_ok(),
        "a rule with invalid rates was built"
    );
    let mut net = must!(
        Network::random(&NetworkConfig::new(3, 1, 1), &mut seeded(4)),
        "a small network"
    );
    let trial = must!(
        Trial::new(
            Mat::<f64>::from_fn(5, 1, |s, _| s as f64 * 0.1).as_ref(),
            Mat::<f64>::from_fn(5, 1, |s, _| (s as f64).sin()).as_ref(),
            None,
            InitialState::Constant(0.1),
        ),
        "a plain trial"
    );
    let mut source = must!(rnn_core::TrialCycle::new(vec![trial]), "a cycle");
    let config = TrainingConfig::default().with_n_trials(2);
    let _ = spec.train(&mut net, &mut source, &config);
    Outcome::Accepted
}

/// Valid rule configs: every rule in every form, and custom projections.
pub fn rule_spec_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<String> = RuleSpec::every_form(0.01.into())
        .iter()
        .map(|r| toml::to_string(r).unwrap())
        .collect();
    seeds.push(
        "name = \"rflo\"\nrates = 0.1\nprojection = { custom = [[0.5], [-1.0], [2.0]] }\n".into(),
    );
    seeds.push(
        "name = \"bptt\"\nrates = { readout = 0.1, recurrent = 0.2, input = 0.0 }\n\
         projection = \"feedback\"\n"
            .into(),
    );
    seeds.into_iter().map(String::into_bytes).collect()
}

/// A shard spec `i/n` (`Shard::from_str`).
///
/// Valid → `1 <= i <= n`, `Display` parses back to the same shard, and
/// exactly one shard of `n` contains a run.
pub fn shard_spec(data: &[u8]) -> Outcome {
    let Some(text) = text(data) else {
        return Outcome::Rejected;
    };
    let shard: Shard = accept!(text.parse());
    ensure!(
        1 <= shard.index && shard.index <= shard.count,
        "shard {shard} accepted"
    );
    let back: Shard = must!(shard.to_string().parse(), "parsing a displayed shard");
    ensure!(back == shard, "shard {shard} displays as {back}");
    for run in [0, 1, shard.index - 1, shard.count, usize::MAX] {
        let owner = run % shard.count + 1;
        ensure!(
            shard.contains(run) == (owner == shard.index),
            "run {run} and shard {shard}"
        );
    }
    Outcome::Accepted
}

/// Valid shard specs.
pub fn shard_seeds() -> Vec<Vec<u8>> {
    ["1/1", "2/3", " 3 / 3 ", "7/10", "1/18446744073709551615"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
}
