//! # rnn-fuzz
//!
//! A fuzz harness over every decoder and boundary of the workspace (issue
//! #17), on the stable toolchain: seeded, structure-aware mutation of valid
//! inputs ([`mutate`]), one function per target ([`targets`], listed in
//! [`TARGETS`]), and a driver ([`fuzz`]) that runs each input under
//! `catch_unwind` and a counting allocator ([`alloc`]).
//!
//! The property every target checks: the input becomes a valid value —
//! which then round-trips (encode → decode gives the same bits) — or a typed
//! error; never a panic, an abort, an allocation larger than the input
//! justifies ([`alloc_budget`]) or a hang (inputs slower than
//! [`SLOW_INPUT`] are reported).
//!
//! `cargo test -p rnn-fuzz` runs a short fixed-seed pass over every target;
//! `cargo xtask fuzz --iterations N` (or `cargo run -p rnn-fuzz --
//! --iterations N`) the long one. Both use the dev profile, which this
//! workspace optimises (`opt-level = 3`) and which keeps overflow checks and
//! debug assertions on, so an arithmetic overflow is found as a panic
//! instead of wrapping silently as in `--release`.

pub mod alloc;
pub mod mutate;
pub mod targets;

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use mutate::{Format, Mutator};

/// What a target made of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A valid value, which passed the target's checks.
    Accepted,
    /// A typed error.
    Rejected,
    /// A property failed: a round trip changed bits, a valid value broke an
    /// invariant, a step that must succeed failed.
    Violation(String),
}

/// A fuzz target: a boundary of the library and the valid inputs it starts from.
#[derive(Clone, Copy)]
pub struct Target {
    /// Name on the command line and in reports.
    pub name: &'static str,
    /// The code under test (crate and item).
    pub covers: &'static str,
    /// How its inputs are structured (drives the mutations).
    pub format: Format,
    /// Feeds one input to the library and checks the result.
    pub run: fn(&[u8]) -> Outcome,
    /// Valid seed inputs.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every target, in report order.
pub const TARGETS: &[Target] = &[
    Target {
        name: "network_file",
        covers: "rnn-core io.rs: Network::load (framed bincode)",
        format: Format::Framed,
        run: targets::network_file,
        seeds: targets::network_seeds,
    },
    Target {
        name: "config_file",
        covers: "rnn-core io.rs: NetworkConfig::load (framed bincode)",
        format: Format::Framed,
        run: targets::config_file,
        seeds: targets::config_seeds,
    },
    Target {
        name: "checkpoint_file",
        covers: "rnn-learn checkpoint.rs: Checkpoint decode + Trainer::resume",
        format: Format::Framed,
        run: targets::checkpoint_file,
        seeds: targets::checkpoint_seeds,
    },
    Target {
        name: "store_record",
        covers: "rnn-experiment store.rs: Store::get/put of a run record (framed bincode)",
        format: Format::Framed,
        run: targets::store_record,
        seeds: targets::store_seeds,
    },
    Target {
        name: "npy_file",
        covers: "rnn-core npy.rs: read_npy, read_npy_shape, read_vector/matrix/matrices",
        format: Format::Npy,
        run: targets::npy_file,
        seeds: targets::npy_seeds,
    },
    Target {
        name: "npy_trials",
        covers: "rnn-tasks files.rs: TaskSpec::Files sizes, build, trials",
        format: Format::Npy,
        run: targets::npy_trials,
        seeds: targets::npy_seeds,
    },
    Target {
        name: "network_values",
        covers: "rnn-core: NetworkConfig::validate, Network::random/from_weights, run_trial",
        format: Format::Bytes,
        run: targets::network_values,
        seeds: targets::byte_seeds,
    },
    Target {
        name: "trial_values",
        covers: "rnn-core: Trial::new/from_columns, npy::read_trial, run_trial",
        format: Format::Bytes,
        run: targets::trial_values,
        seeds: targets::byte_seeds,
    },
    Target {
        name: "run_spec_toml",
        covers: "rnn-experiment spec.rs: RunSpec::from_toml/to_toml, validate, run",
        format: Format::Text,
        run: targets::run_spec_toml,
        seeds: targets::run_spec_seeds,
    },
    Target {
        name: "grid_toml",
        covers: "rnn-experiment grid.rs: GridFile::from_toml/to_toml, run_count, points",
        format: Format::Text,
        run: targets::grid_toml,
        seeds: targets::grid_seeds,
    },
    Target {
        name: "task_spec_toml",
        covers: "rnn-tasks registry.rs: TaskSpec serde, validate, build, generate",
        format: Format::Text,
        run: targets::task_spec_toml,
        seeds: targets::task_spec_seeds,
    },
    Target {
        name: "rule_spec_toml",
        covers: "rnn-learn registry.rs: RuleSpec serde, build, train",
        format: Format::Text,
        run: targets::rule_spec_toml,
        seeds: targets::rule_spec_seeds,
    },
    Target {
        name: "shard_spec",
        covers: "rnn-experiment shard.rs: Shard::from_str, Display, contains",
        format: Format::Text,
        run: targets::shard_spec,
        seeds: targets::shard_seeds,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Heap a target may use for an input of `len` bytes: 16 MiB plus 64 bytes
/// per input byte. The constant covers the fixed working sets (serde's
/// capped pre-allocation of 1 MiB per sequence, small networks and trials);
/// the slope, decoded values several times the size of their encoding and
/// their round trip. A length field that makes a decoder reserve gigabytes
/// from a short input exceeds it.
pub fn alloc_budget(len: usize) -> usize {
    (16 << 20) + 64 * len
}

/// An input slower than this is reported as a hang.
pub const SLOW_INPUT: Duration = Duration::from_secs(2);

/// Inputs larger than this are cut (keeps a run's time per input bounded).
pub const MAX_INPUT: usize = 1 << 16;

/// One failing input.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong: the panic message, the violated property, the
    /// allocation or the time.
    pub what: String,
    /// The input.
    pub input: Vec<u8>,
}

/// What a run of one target did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs that became valid values.
    pub accepted: u64,
    /// Inputs rejected with a typed error.
    pub rejected: u64,
    /// Inputs that panicked.
    pub panics: u64,
    /// Inputs that violated a property, over-allocated or hung.
    pub violations: u64,
    /// The failing inputs (the first 20).
    pub failures: Vec<Failure>,
    /// The largest heap peak of one input, in bytes.
    pub max_peak: usize,
    /// The largest single allocation request of one input, in bytes.
    pub max_request: usize,
    /// The slowest input.
    pub slowest: Duration,
}

thread_local! {
    /// The message of the last panic on this thread while fuzzing.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static FUZZING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs (once) a panic hook that records panics of fuzzed inputs
/// instead of printing them; other panics go to the previous hook.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if FUZZING.with(std::cell::Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".into());
                PANIC.with(|p| *p.borrow_mut() = Some(format!("panic{location}: {message}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs one input through `target`: the outcome, or a failure (panic,
/// violation, over-allocation, hang).
pub fn check(target: &Target, input: &[u8]) -> (Outcome, Option<Failure>, alloc::Usage, Duration) {
    install_panic_hook();
    FUZZING.with(|f| f.set(true));
    let start = Instant::now();
    let (result, usage) = alloc::measure(|| catch_unwind(AssertUnwindSafe(|| (target.run)(input))));
    let elapsed = start.elapsed();
    FUZZING.with(|f| f.set(false));
    let fail = |what: String| {
        Some(Failure {
            what,
            input: input.to_vec(),
        })
    };
    let (outcome, failure) = match result {
        Err(_) => {
            let message = PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panic".into());
            (Outcome::Violation(message.clone()), fail(message))
        }
        Ok(Outcome::Violation(what)) => (Outcome::Violation(what.clone()), fail(what)),
        Ok(outcome) if usage.peak > alloc_budget(input.len()) => {
            let what = format!(
                "allocated {} bytes at peak (largest request {}) for a {}-byte input, budget {}",
                usage.peak,
                usage.largest,
                input.len(),
                alloc_budget(input.len())
            );
            (outcome, fail(what))
        }
        Ok(outcome) if elapsed > SLOW_INPUT => {
            let what = format!("took {elapsed:?} (a hang?) on a {}-byte input", input.len());
            (outcome, fail(what))
        }
        Ok(outcome) => (outcome, None),
    };
    (outcome, failure, usage, elapsed)
}

/// Fuzzes `target` with `iterations` inputs drawn from generator `seed`
/// (the seeds themselves first): mutants of the seeds and of accepted
/// mutants (kept, up to 256, as further seeds). `on_failure` sees each
/// failure as it happens.
pub fn fuzz(
    target: &Target,
    iterations: u64,
    seed: u64,
    on_failure: impl FnMut(&Failure),
) -> Report {
    fuzz_watched(target, iterations, seed, on_failure, None)
}

/// The input a fuzzing thread is running and since when, for a watchdog
/// that reports an input that never finishes (a hang is not caught by
/// timing inputs after they end).
pub type Watch = std::sync::Mutex<Option<(Instant, Vec<u8>)>>;

/// [`fuzz`], publishing each input to `watch` (if any) before running it.
pub fn fuzz_watched(
    target: &Target,
    iterations: u64,
    seed: u64,
    mut on_failure: impl FnMut(&Failure),
    watch: Option<&Watch>,
) -> Report {
    const CORPUS_CAP: usize = 256;
    let mut corpus = (target.seeds)();
    let seed_count = corpus.len();
    let stream = TARGETS
        .iter()
        .position(|t| t.name == target.name)
        .unwrap_or(0) as u64;
    let mut mutator = Mutator::new(seed, stream);
    let mut report = Report::default();
    for i in 0..iterations {
        let mut input = if (i as usize) < seed_count {
            corpus[i as usize].clone()
        } else {
            mutator.mutant(&corpus, target.format)
        };
        input.truncate(MAX_INPUT);
        if let Some(watch) = watch {
            *watch.lock().unwrap() = Some((Instant::now(), input.clone()));
        }
        let (outcome, failure, usage, elapsed) = check(target, &input);
        report.inputs += 1;
        report.max_peak = report.max_peak.max(usage.peak);
        report.max_request = report.max_request.max(usage.largest);
        report.slowest = report.slowest.max(elapsed);
        match outcome {
            Outcome::Accepted => report.accepted += 1,
            Outcome::Rejected => report.rejected += 1,
            Outcome::Violation(ref what) if what.starts_with("panic") => report.panics += 1,
            Outcome::Violation(_) => report.violations += 1,
        }
        if let Some(failure) = failure {
            // Over-allocation and slowness (panics and violations are counted above).
            if matches!(outcome, Outcome::Accepted | Outcome::Rejected) {
                report.violations += 1;
            }
            on_failure(&failure);
            if report.failures.len() < 20 {
                report.failures.push(failure);
            }
        } else if outcome == Outcome::Accepted && (i as usize) >= seed_count && input.len() <= 4096
        {
            // Keep some accepted mutants as seeds: they reach deeper code.
            if corpus.len() < CORPUS_CAP {
                corpus.push(input);
            } else if mutator.below(8) == 0 {
                let at = seed_count + mutator.below(CORPUS_CAP - seed_count);
                corpus[at] = input;
            }
        }
    }
    report
}
