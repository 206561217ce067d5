//! # rnn-bench
//!
//! Workloads for the criterion benchmarks in `benches/scaling.rs` and the
//! scaling report (`src/bin/bench-report.rs`): one training trial of each
//! learning rule at a given `N` (`N_x = 1`, `N_y = 1`, `T = 200`), a triad
//! memory-bandwidth kernel and a seeds-in-parallel sweep.
//!
//! ```text
//! cargo bench -p rnn-bench                      # everything (~10 minutes)
//! cargo bench -p rnn-bench -- rflo_online       # one group
//! cargo bench -p rnn-bench -- --test            # smoke: each bench once
//! cargo run --release -p rnn-bench --bin bench-report
//! ```
//!
//! Every workload builds its network, trial and rule state once; a call of
//! [`Runner::run`] is exactly one trial (what a seed/learning-rate sweep
//! repeats), so the per-step cost is the measured time divided by [`T`].

use faer::Mat;
use rayon::prelude::*;

use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, seeded};
use rnn_learn::{
    AnyRule, AnyState, Constraints, LearningRates, LearningRule, NonlocalForm, OnlineForm,
    Projection, RuleSpec, TrialEndForm, WeightUpdate,
};

/// Time steps of a benchmark trial.
pub const T: usize = 200;

/// Network sizes of the scaling benchmarks.
pub const SIZES: [usize; 7] = [16, 30, 64, 100, 256, 512, 1024];

/// Largest `N` for the O(N⁴) rules (one trial stays well under a second).
pub const RTRL_MAX_N: usize = 100;

/// Learning rate of the benchmarks: small, so that online runs repeated
/// thousands of times on one network stay bounded.
pub const ETA: f64 = 1e-4;

/// Elements of each triad array: 64 MiB of `f64`.
pub const TRIAD_LEN: usize = 64 * 1024 * 1024 / 8;

/// Network size of the seeds-in-parallel benchmark.
pub const SEEDS_N: usize = 100;

/// Number of seeds (independent networks) run per iteration of the
/// seeds-in-parallel benchmark.
pub const SEEDS: usize = 8;

/// One benchmarked computation: a whole training trial of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// The dynamics alone (`Network::run_from_into`), no learning.
    Forward,
    /// RFLO, online schedule (`run_online`, the default `OnlineForm::Auto`).
    RfloOnline,
    /// RFLO, online schedule, the `N×N` trace form (`OnlineForm::Trace`).
    RfloOnlineTrace,
    /// RFLO, online schedule, the low-rank form (`OnlineForm::LowRank`).
    RfloOnlineLowRank,
    /// RFLO, trial-end update by the batched fast form (`accumulate`).
    RfloBatched,
    /// RFLO, trial-end update by the trace form (`accumulate`, `TrialEndForm::Traces`).
    RfloTraces,
    /// BPTT (forward, backward, update products).
    Bptt,
    /// RTRL, trial-end update (`accumulate`), O(N⁴).
    Rtrl,
    /// `LocalSymmetric`, online schedule (`OnlineForm::Auto`).
    LocalSymmetricOnline,
    /// `LocalSymmetric`, trial-end update by the batched form.
    LocalSymmetricBatched,
    /// `NonlocalRandom`, trial-end update by its BPTT form.
    NonlocalRandomBptt,
    /// `NonlocalRandom`, trial-end update by its RTRL form, O(N⁴).
    NonlocalRandomRtrl,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 12] = [
        Workload::Forward,
        Workload::RfloOnline,
        Workload::RfloOnlineTrace,
        Workload::RfloOnlineLowRank,
        Workload::RfloBatched,
        Workload::RfloTraces,
        Workload::Bptt,
        Workload::Rtrl,
        Workload::LocalSymmetricOnline,
        Workload::LocalSymmetricBatched,
        Workload::NonlocalRandomBptt,
        Workload::NonlocalRandomRtrl,
    ];

    /// The criterion group name (also the directory under `target/criterion`).
    pub fn group(self) -> &'static str {
        match self {
            Workload::Forward => "forward",
            Workload::RfloOnline => "rflo_online",
            Workload::RfloOnlineTrace => "rflo_online_trace",
            Workload::RfloOnlineLowRank => "rflo_online_low_rank",
            Workload::RfloBatched => "rflo_batched",
            Workload::RfloTraces => "rflo_traces",
            Workload::Bptt => "bptt",
            Workload::Rtrl => "rtrl",
            Workload::LocalSymmetricOnline => "local_symmetric_online",
            Workload::LocalSymmetricBatched => "local_symmetric_batched",
            Workload::NonlocalRandomBptt => "nonlocal_random_bptt",
            Workload::NonlocalRandomRtrl => "nonlocal_random_rtrl",
        }
    }

    /// The sizes this workload is measured at.
    pub fn sizes(self) -> impl Iterator<Item = usize> {
        let max = if self.is_quartic() {
            RTRL_MAX_N
        } else {
            usize::MAX
        };
        SIZES.into_iter().filter(move |&n| n <= max)
    }

    /// The rule of this workload (`None` for [`Workload::Forward`]) and
    /// whether it runs on the online schedule.
    pub fn rule(self) -> Option<(RuleSpec, bool)> {
        let rates = LearningRates::uniform(ETA);
        let rflo = |trial_end_form, online_form| RuleSpec::Rflo {
            rates,
            projection: Projection::Feedback,
            trial_end_form,
            online_form,
        };
        let nonlocal = |form| RuleSpec::NonlocalRandom { rates, form };
        let (batched, auto) = (TrialEndForm::Batched, OnlineForm::Auto);
        Some(match self {
            Workload::Forward => return None,
            Workload::RfloOnline => (rflo(batched, auto), true),
            Workload::RfloOnlineTrace => (rflo(batched, OnlineForm::Trace), true),
            Workload::RfloOnlineLowRank => (rflo(batched, OnlineForm::LowRank), true),
            Workload::RfloBatched => (rflo(batched, auto), false),
            Workload::RfloTraces => (rflo(TrialEndForm::Traces, auto), false),
            Workload::Bptt => (RuleSpec::bptt(rates), false),
            Workload::Rtrl => (RuleSpec::rtrl(rates), false),
            Workload::LocalSymmetricOnline => (RuleSpec::local_symmetric(rates), true),
            Workload::LocalSymmetricBatched => (RuleSpec::local_symmetric(rates), false),
            Workload::NonlocalRandomBptt => (nonlocal(NonlocalForm::Bptt), false),
            Workload::NonlocalRandomRtrl => (nonlocal(NonlocalForm::Rtrl), false),
        })
    }

    /// True for the O(N⁴) sensitivity rules.
    pub fn is_quartic(self) -> bool {
        matches!(self, Workload::Rtrl | Workload::NonlocalRandomRtrl)
    }
}

/// The benchmark network: `N` units, one input, one output, paper defaults.
pub fn network(n: usize, seed: u64) -> Network {
    Network::random(&NetworkConfig::new(n, 1, 1), &mut seeded(seed)).expect("valid config")
}

/// The benchmark trial: `T` steps, a brief input pulse, a sine target,
/// silent start.
pub fn trial() -> Trial {
    let inputs = Mat::from_fn(1, T, |_, s| if s < 10 { 1.0 } else { 0.0 });
    let targets = Mat::from_fn(1, T, |_, s| {
        (s as f64 / T as f64 * std::f64::consts::TAU).sin()
    });
    Trial::from_columns(inputs, targets, None, InitialState::Constant(0.0)).expect("valid trial")
}

/// A rule with its working memory (one per runner, so the size spread of
/// the variants does not matter). `AnyRule` dispatches once per trial; the
/// step loops run in the concrete rule.
#[allow(clippy::large_enum_variant)]
enum Engine {
    Forward(rnn_core::Trajectory),
    Rule {
        rule: AnyRule,
        state: AnyState,
        online: bool,
    },
}

/// Everything one trial of a [`Workload`] needs, allocated once.
pub struct Runner {
    net: Network,
    trial: Trial,
    start: State,
    update: WeightUpdate,
    constraints: Constraints,
    engine: Engine,
}

impl Runner {
    /// Builds the network (seed `seed`), the trial and the rule's state.
    pub fn new(workload: Workload, n: usize, seed: u64) -> Self {
        let net = network(n, seed);
        let trial = trial();
        let start = State::initial(&net, &trial, None).expect("fits");
        let engine = match workload.rule() {
            None => Engine::Forward(rnn_core::Trajectory::zeros(&net, T)),
            Some((spec, online)) => {
                let rule = spec.build().expect("valid rates");
                let state = rule.new_state(&net);
                Engine::Rule {
                    rule,
                    state,
                    online,
                }
            }
        };
        Self {
            update: WeightUpdate::zeros(&net),
            net,
            trial,
            start,
            constraints: Constraints::default(),
            engine,
        }
    }

    /// Runs one trial; returns its loss. Trial-end rules add into one
    /// update buffer that is never applied (the network stays fixed);
    /// online rules change the network a little (rate [`ETA`]).
    pub fn run(&mut self) -> f64 {
        let Self {
            net,
            trial,
            start,
            update,
            constraints,
            engine,
        } = self;
        let outcome = match engine {
            Engine::Forward(trajectory) => {
                net.run_from_into(trial, start, trajectory).expect("runs");
                return trajectory.loss;
            }
            Engine::Rule {
                rule,
                state,
                online: true,
            } => rule.run_online(net, trial, start, state, constraints),
            Engine::Rule { rule, state, .. } => rule.accumulate(net, trial, start, state, update),
        };
        outcome.expect("trial runs").loss
    }
}

/// The triad kernel `a[i] = b[i] + s c[i]` (STREAM convention: 24 bytes
/// moved per element — two reads, one write).
pub fn triad(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
        *a = b + s * c;
    }
}

/// Bytes one triad over [`TRIAD_LEN`] elements moves (STREAM convention).
pub fn triad_bytes() -> u64 {
    3 * 8 * TRIAD_LEN as u64
}

/// Bytes one RFLO online step of the trace form (`OnlineForm::Trace`) must
/// move at size `n`: the trace `p` and the
/// weights `W`, each read and written once (`32 N²`; the `O(N)` vectors and
/// the `N×1` input trace are ignored). A step cannot move less: its weight
/// update needs all of `p(t)` and changes all of `W`, and the next step's
/// currents need all of the new `W`. (The low-rank form avoids this traffic
/// by keeping `W` unchanged until the trial's end.)
pub fn rflo_online_bytes_per_step(n: usize) -> f64 {
    32.0 * (n * n) as f64
}

/// [`SEEDS`] independent RFLO online runs (one network per seed, `N =`
/// [`SEEDS_N`]) — the shape of a seed sweep.
pub struct SeedSweep {
    runners: Vec<Runner>,
}

impl SeedSweep {
    /// One runner per seed.
    pub fn new() -> Self {
        Self {
            runners: (0..SEEDS as u64)
                .map(|seed| Runner::new(Workload::RfloOnline, SEEDS_N, seed))
                .collect(),
        }
    }

    /// One trial of every seed on `pool` (a dynamic split over its threads).
    pub fn run(&mut self, pool: &rayon::ThreadPool) -> f64 {
        pool.install(|| self.runners.par_iter_mut().map(Runner::run).sum())
    }
}

impl Default for SeedSweep {
    fn default() -> Self {
        Self::new()
    }
}

/// A rayon pool with `threads` threads.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}
