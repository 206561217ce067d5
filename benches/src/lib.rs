//! # rnn-bench
//!
//! Workloads for the criterion benchmarks in `benches/scaling.rs` and the
//! scaling report (`src/bin/bench-report.rs`): one trial of the dynamics
//! alone and one training trial of each learning rule at a given `N`
//! (`N_x = 1`, `N_y = 1`, `T = 200`), a triad memory-bandwidth kernel and a
//! seeds-in-parallel sweep.
//!
//! ```text
//! cargo bench -p rnn-bench                      # everything (~10 minutes)
//! cargo bench -p rnn-bench -- rflo_online       # groups matching a name
//! cargo bench -p rnn-bench -- --test            # smoke: each bench once
//! cargo run --release -p rnn-bench --bin bench-report   # report.md + SVGs in target/bench-report/
//! ```
//!
//! **The workloads come from the rule registry.** [`Workload::all`] is
//! `forward` plus every spec of [`RuleSpec::every_form`] on each code path
//! where its form matters: the trial-end path (`accumulate`) for every rule,
//! the online path (`run_online`) for every rule whose built rule accepts it
//! (asked by running it once; BPTT refuses). A rule added to the registry is
//! benchmarked and reported with no edit in this crate. Group names derive
//! from the spec ([`Workload::of`] gives the rule): `rflo_online`,
//! `rflo_online_trace`, `rflo_batched`, `bptt`, `rtrl_online`, .... Which
//! workloads are O(N⁴), and so measured only up to [`RTRL_MAX_N`], is
//! measured too ([`Workload::growth_exponent`]), not listed.
//!
//! Every workload builds its network, trial and rule state once; a call of
//! [`Runner::run`] is exactly one trial (what a seed/learning-rate sweep
//! repeats), so the per-step cost is the measured time divided by [`T`].
//! The rule is an [`AnyRule`], which dispatches once per trial; the step
//! loops run in the concrete rule.

use faer::Mat;
use rayon::prelude::*;

use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, seeded};
use std::time::Instant;

use rnn_learn::{
    AnyRule, AnyState, Constraints, LearnError, LearningRates, LearningRule, NonlocalForm,
    OnlineForm, RuleSpec, TrialEndForm, WeightUpdate,
};

/// Time steps of a benchmark trial.
pub const T: usize = 200;

/// Network sizes of the scaling benchmarks.
pub const SIZES: [usize; 7] = [16, 30, 64, 100, 256, 512, 1024];

/// Largest `N` for the O(N⁴) workloads, those whose measured
/// [`Workload::growth_exponent`] exceeds [`QUARTIC_EXPONENT`] (one trial
/// stays under a second).
pub const RTRL_MAX_N: usize = 100;

/// Largest `N` for the O(N³) workloads (KF-RTRL; one trial stays near a second).
pub const CUBIC_MAX_N: usize = 256;

/// Above this growth exponent from `N = 32` a workload is probed again from
/// `N = 64` (O(N²) workloads measure 0.9–1.8 from 32 under load, KF-RTRL 2.1).
pub const CUBIC_SUSPECT: f64 = 1.6;

/// Growth exponent from `N = 64` above which a workload counts as O(N³).
pub const CUBIC_EXPONENT: f64 = 2.4;

/// Growth exponent above which a workload counts as O(N⁴): between the
/// O(N²) workloads (measured 0.9–1.4 from `N = 32` to 64: fixed costs still
/// weigh) and the O(N⁴) ones (3.9).
pub const QUARTIC_EXPONENT: f64 = 2.5;

/// The smaller of the two sizes at which [`Workload::growth_exponent`] times
/// a trial (the other is twice it).
pub const PROBE_N: usize = 32;

/// Trials timed per size by [`Workload::growth_exponent`] (the fastest counts).
pub const PROBE_REPEATS: usize = 3;

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

/// When a rule's updates are computed: the two code paths of a rule, each
/// benchmarked separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Updates {
    /// Online schedule: `run_online`, weights change after every step.
    Online,
    /// Trial-end update (per-trial and every-K schedules): `accumulate`
    /// into an update buffer that is never applied.
    TrialEnd,
}

/// One benchmarked computation: a whole trial of the dynamics alone, or a
/// whole training trial of a rule spec on one of its two code paths.
///
/// The list of workloads ([`Workload::all`]) is derived from the rule
/// registry, [`RuleSpec::every_form`]: nothing in this crate names all the
/// rules, so a rule added to the registry is benchmarked with no edit here.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// The rule and its code path; `None` for the dynamics alone.
    rule: Option<(RuleSpec, Updates)>,
    /// The criterion group name, derived from `rule` ([`Workload::group`]).
    group: String,
}

/// Settings of a [`RuleSpec`] (keys of its serialised form) that matter on
/// one code path only, with the default value each takes when the spec
/// leaves it out. Any other setting is taken to matter on both paths.
fn path_settings() -> [(&'static str, Updates, serde_json::Value); 3] {
    let json = |v: Result<serde_json::Value, _>| v.expect("a form serialises");
    [
        (
            "trial_end_form",
            Updates::TrialEnd,
            json(serde_json::to_value(TrialEndForm::default())),
        ),
        (
            "form",
            Updates::TrialEnd,
            json(serde_json::to_value(NonlocalForm::default())),
        ),
        (
            "online_form",
            Updates::Online,
            json(serde_json::to_value(OnlineForm::default())),
        ),
    ]
}

impl Workload {
    /// The dynamics alone (`Network::run_from_into`), no learning: group `forward`.
    pub fn forward() -> Self {
        Self {
            rule: None,
            group: "forward".into(),
        }
    }

    /// A rule spec on one code path (whether the rule supports it is not
    /// checked here; [`Workload::all`] only lists paths that run).
    ///
    /// The group name is derived from the spec's serialised form (the names
    /// of the registry's TOML): the rule's [`RuleSpec::name`], then
    /// `online` on the online path, then the value of each setting that
    /// matters on this path, in key order:
    ///
    /// - a trial-end form (`trial_end_form`, `form`): always on the
    ///   trial-end path, its default included (`rflo_batched`,
    ///   `rflo_traces`, `nonlocal_random_bptt`); never on the online path;
    /// - the online form (`online_form`): on the online path when not the
    ///   default `auto` (`rflo_online`, `rflo_online_trace`,
    ///   `rflo_online_low_rank`); never on the trial-end path;
    /// - any other setting (a projection other than the rule's default,
    ///   a new rule's field): on both paths, when not at its default
    ///   (its string value, or else its key);
    /// - the learning rates never.
    ///
    /// A rule with no settings is its name alone on the trial-end path
    /// (`bptt`, `rtrl`) and `<name>_online` on the online path. Two specs
    /// that give the same group are the same workload.
    pub fn of(spec: RuleSpec, updates: Updates) -> Self {
        let group = group_name(&spec, updates);
        Self {
            rule: Some((spec, updates)),
            group,
        }
    }

    /// Every workload, in report order: [`Workload::forward`], then for
    /// each rule of [`RuleSpec::every_form`] (rates [`ETA`]) its online
    /// workloads, if the built rule runs online, then its trial-end ones;
    /// each group once.
    pub fn all() -> Vec<Workload> {
        let specs = RuleSpec::every_form(LearningRates::uniform(ETA));
        let mut names: Vec<&'static str> = Vec::new();
        for spec in &specs {
            if !names.contains(&spec.name()) {
                names.push(spec.name());
            }
        }
        let mut all = vec![Workload::forward()];
        for name in names {
            let of_rule = || specs.iter().filter(move |s| s.name() == name);
            let online = of_rule()
                .filter(|spec| runs_online(spec))
                .map(|spec| Workload::of(spec.clone(), Updates::Online));
            let trial_end = of_rule().map(|spec| Workload::of(spec.clone(), Updates::TrialEnd));
            for workload in online.chain(trial_end) {
                if all.iter().all(|w| w.group != workload.group) {
                    all.push(workload);
                }
            }
        }
        all
    }

    /// The workload of [`Workload::all`] with this group name.
    pub fn find(group: &str) -> Option<Workload> {
        Self::all().into_iter().find(|w| w.group == group)
    }

    /// The criterion group name (also the directory under `target/criterion`).
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The rule and its code path (`None` for [`Workload::forward`]).
    pub fn rule(&self) -> Option<(&RuleSpec, Updates)> {
        self.rule.as_ref().map(|(spec, updates)| (spec, *updates))
    }

    /// How the cost of one trial grows with `N`, measured: the exponent
    /// `log2(t(2 N0) / t(N0))` at `N0 =` [`PROBE_N`], each time the fastest
    /// of [`PROBE_REPEATS`] trials. About 1–1.4 for the O(N²) workloads
    /// (fixed costs still weigh at these sizes), about 3.9 for the O(N⁴)
    /// sensitivity rules. Takes milliseconds (half a second for an O(N⁴)
    /// rule).
    pub fn growth_exponent(&self) -> f64 {
        self.exponent_from(PROBE_N)
    }

    /// `log2(t(2 n) / t(n))`, each time the fastest of [`PROBE_REPEATS`] trials.
    fn exponent_from(&self, n: usize) -> f64 {
        let fastest = |n: usize| {
            let mut runner = Runner::new(self, n, 1);
            (0..PROBE_REPEATS)
                .map(|_| {
                    let start = Instant::now();
                    std::hint::black_box(runner.run());
                    start.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min)
        };
        (fastest(2 * n) / fastest(n)).log2()
    }

    /// True when the measured [`Workload::growth_exponent`] exceeds
    /// [`QUARTIC_EXPONENT`]: the workload is O(N⁴) (in practice the
    /// sensitivity rules, RTRL and `NonlocalRandom`'s RTRL form, on either
    /// path) and is measured only up to [`RTRL_MAX_N`].
    pub fn is_quartic(&self) -> bool {
        self.growth_exponent() > QUARTIC_EXPONENT
    }

    /// The sizes this workload is measured at: [`SIZES`], up to
    /// [`RTRL_MAX_N`] if [`Workload::is_quartic`], up to [`CUBIC_MAX_N`] if
    /// it grows like O(N³) from `N = 64` (both measured, not listed).
    pub fn sizes(&self) -> Vec<usize> {
        let exponent = self.growth_exponent();
        let max = if exponent > QUARTIC_EXPONENT {
            RTRL_MAX_N
        } else if exponent > CUBIC_SUSPECT && self.exponent_from(2 * PROBE_N) > CUBIC_EXPONENT {
            // From N = 32 an O(N³) rule still looks quadratic (fixed costs);
            // from N = 64 its growth shows.
            CUBIC_MAX_N
        } else {
            usize::MAX
        };
        SIZES.into_iter().filter(|&n| n <= max).collect()
    }
}

/// The group name of a rule workload (documented at [`Workload::of`]).
fn group_name(spec: &RuleSpec, updates: Updates) -> String {
    let serde_json::Value::Object(mut fields) =
        serde_json::to_value(spec).expect("a rule spec serialises")
    else {
        unreachable!("a rule spec serialises as a table")
    };
    fields.remove("name");
    fields.remove("rates");
    let settings = path_settings();
    // Fill in a trial-end form left out at its default, if the rule has one:
    // the spec with the default written must read back as the same spec.
    if updates == Updates::TrialEnd {
        for (key, path, default) in &settings {
            if *path != updates || fields.contains_key(*key) {
                continue;
            }
            let mut with = serde_json::to_value(spec).expect("a rule spec serialises");
            with[*key] = default.clone();
            if serde_json::from_value::<RuleSpec>(with).is_ok_and(|back| back == *spec) {
                fields.insert((*key).to_string(), default.clone());
            }
        }
    }
    let mut parts = vec![spec.name().to_string()];
    if updates == Updates::Online {
        parts.push("online".into());
    }
    for (key, value) in &fields {
        let path = settings
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, path, _)| *path);
        if path.is_some_and(|path| path != updates) {
            continue;
        }
        parts.push(value.as_str().unwrap_or(key).to_string());
    }
    parts.join("_")
}

/// Whether the built rule runs on the online schedule: one trial of
/// `run_online` on a 2-unit network, which a rule that needs the whole
/// trial refuses with [`LearnError::OnlineUnsupported`].
fn runs_online(spec: &RuleSpec) -> bool {
    let rule = spec.build().expect("valid rates");
    let mut net = network(2, 0);
    let trial = trial();
    let start = State::initial(&net, &trial, None).expect("fits");
    let mut state = rule.new_state(&net);
    match rule.run_online(
        &mut net,
        &trial,
        &start,
        &mut state,
        &Constraints::default(),
    ) {
        Ok(_) => true,
        Err(LearnError::OnlineUnsupported { .. }) => false,
        Err(error) => panic!("{}: online probe failed: {error}", spec.name()),
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
    pub fn new(workload: &Workload, n: usize, seed: u64) -> Self {
        let net = network(n, seed);
        let trial = trial();
        let start = State::initial(&net, &trial, None).expect("fits");
        let engine = match workload.rule() {
            None => Engine::Forward(rnn_core::Trajectory::zeros(&net, T)),
            Some((spec, updates)) => {
                let rule = spec.build().expect("valid rates");
                let state = rule.new_state(&net);
                Engine::Rule {
                    rule,
                    state,
                    online: updates == Updates::Online,
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

/// Trials per batch in the batched-trials benches (the every-K schedule's
/// `K` of Fig 3).
pub const BATCH_K: usize = 10;

/// Sizes of the batched-trials benches.
pub const BATCH_SIZES: [usize; 4] = [30, 100, 256, 1024];

/// The rules of the batched-trials benches, as `(group, spec)`: RFLO's
/// trial-batched form and BPTT, the rules that batch trials.
pub fn batch_rules() -> Vec<(&'static str, RuleSpec)> {
    let rates = LearningRates::uniform(ETA);
    vec![
        ("batch_rflo", RuleSpec::rflo(rates)),
        ("batch_bptt", RuleSpec::bptt(rates)),
    ]
}

/// [`BATCH_K`] trials at fixed weights through one rule: batched
/// ([`LearningRule::accumulate_many`]) or one at a time
/// ([`rnn_learn::accumulate_each`], the reference). Both add the same bits;
/// the ratio of their times is the batching's speed-up.
pub struct BatchRunner {
    net: Network,
    trials: Vec<Trial>,
    starts: Vec<State>,
    update: WeightUpdate,
    rule: AnyRule,
    state: AnyState,
    batched: bool,
}

impl BatchRunner {
    /// `spec` at `N = n`: [`BATCH_K`] trials (the benchmark trial with the
    /// target's phase shifted per trial).
    pub fn new(spec: &RuleSpec, n: usize, batched: bool) -> Self {
        let net = network(n, 1);
        let trials: Vec<Trial> = (0..BATCH_K)
            .map(|k| {
                let inputs = Mat::from_fn(1, T, |_, s| if s < 10 { 1.0 } else { 0.0 });
                let targets = Mat::from_fn(1, T, |_, s| {
                    ((s + 7 * k) as f64 / T as f64 * std::f64::consts::TAU).sin()
                });
                Trial::from_columns(inputs, targets, None, InitialState::Constant(0.0))
                    .expect("valid trial")
            })
            .collect();
        let starts = trials
            .iter()
            .map(|trial| State::initial(&net, trial, None).expect("fits"))
            .collect();
        let rule = spec.build().expect("valid rates");
        let state = rule.new_state(&net);
        Self {
            update: WeightUpdate::zeros(&net),
            net,
            trials,
            starts,
            rule,
            state,
            batched,
        }
    }

    /// Runs the [`BATCH_K`] trials; returns the sum of their losses.
    pub fn run(&mut self) -> f64 {
        let trials: Vec<&Trial> = self.trials.iter().collect();
        let outcomes = if self.batched {
            self.rule.accumulate_many(
                &self.net,
                &trials,
                &self.starts,
                &mut self.state,
                &mut self.update,
            )
        } else {
            rnn_learn::accumulate_each(
                &self.rule,
                &self.net,
                &trials,
                &self.starts,
                &mut self.state,
                &mut self.update,
            )
        };
        outcomes
            .expect("trials run")
            .iter()
            .map(|outcome| outcome.loss)
            .sum()
    }

    /// The update summed so far (for the bit-identity check).
    pub fn update(&self) -> &WeightUpdate {
        &self.update
    }
}

/// The triad kernel `a[i] = b[i] + s c[i]` (STREAM convention: 24 bytes
/// moved per element — two reads, one write).
pub fn triad(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
        *a = b + s * c;
    }
}

/// The `N` of the streaming comparison: `W` is `8 N²` bytes = 8 MiB, beyond
/// the 2 MiB L2 of the benchmark machine.
pub const STREAM_N: usize = 1024;

/// A plain streaming read: the sum of `a` in eight independent partial sums
/// (so that the adds neither serialise nor stop vectorisation). Reading `a`
/// once is all it does: the reference bandwidth for a product that must read
/// `W` once.
pub fn stream_read(a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = a.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (acc, &x) in acc.iter_mut().zip(chunk) {
            *acc += x;
        }
    }
    acc.iter().sum::<f64>() + rest
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
        let workload = Workload::of(RuleSpec::rflo(LearningRates::uniform(ETA)), Updates::Online);
        Self {
            runners: (0..SEEDS as u64)
                .map(|seed| Runner::new(&workload, SEEDS_N, seed))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The groups the scaling report tabulates, all still derived from the
    /// registry (`cargo run --release -p rnn-bench --bin bench-report` writes
    /// that report to `target/bench-report/` when run, from criterion's results).
    #[test]
    fn todays_groups_are_derived() {
        let all = Workload::all();
        let groups: Vec<&str> = all.iter().map(Workload::group).collect();
        for group in [
            "forward",
            "rflo_online",
            "rflo_online_trace",
            "rflo_online_low_rank",
            "rflo_batched",
            "rflo_traces",
            "bptt",
            "rtrl",
            "local_symmetric_online",
            "local_symmetric_batched",
            "nonlocal_random_bptt",
            "nonlocal_random_rtrl",
        ] {
            assert!(groups.contains(&group), "{group} missing from {groups:?}");
        }
    }

    /// Every spec of the registry is benchmarked on the trial-end path,
    /// each group is one workload, and the online probe tells BPTT (which
    /// refuses the online schedule) from RFLO.
    #[test]
    fn every_spec_is_a_workload() {
        let all = Workload::all();
        let listed = |w: &Workload| all.iter().any(|v| v.group() == w.group());
        for (i, w) in all.iter().enumerate() {
            assert!(
                all[..i].iter().all(|v| v.group() != w.group()),
                "{} twice",
                w.group()
            );
        }
        let rates = LearningRates::uniform(ETA);
        for spec in RuleSpec::every_form(rates) {
            assert!(listed(&Workload::of(spec, Updates::TrialEnd)));
        }
        assert!(!listed(&Workload::of(
            RuleSpec::bptt(rates),
            Updates::Online
        )));
        assert!(listed(&Workload::of(
            RuleSpec::rflo(rates),
            Updates::Online
        )));
    }

    #[test]
    fn named_lookups_match_their_groups() {
        let rates = LearningRates::uniform(ETA);
        assert_eq!(
            Workload::of(RuleSpec::rflo(rates), Updates::Online).group(),
            "rflo_online"
        );
        assert_eq!(
            Workload::of(RuleSpec::nonlocal_random(rates), Updates::Online).group(),
            "nonlocal_random_online"
        );
        assert_eq!(
            Workload::of(RuleSpec::rtrl(rates), Updates::Online).group(),
            "rtrl_online"
        );
        assert_eq!(Workload::find("bptt").unwrap().group(), "bptt");
    }

    /// The batched-trials bench times the same computation both ways: the
    /// summed updates and losses are bit-identical (N = 256, K = 10, T = 200).
    #[test]
    fn batched_bench_adds_the_sequential_bits() {
        let bits = |u: &WeightUpdate| -> Vec<u64> {
            [&u.recurrent, &u.input, &u.readout]
                .iter()
                .flat_map(|m| {
                    (0..m.ncols())
                        .flat_map(move |j| (0..m.nrows()).map(move |i| m[(i, j)].to_bits()))
                })
                .collect()
        };
        for (group, spec) in batch_rules() {
            let mut batched = BatchRunner::new(&spec, 256, true);
            let mut sequential = BatchRunner::new(&spec, 256, false);
            assert_eq!(
                batched.run().to_bits(),
                sequential.run().to_bits(),
                "{group}"
            );
            assert_eq!(bits(batched.update()), bits(sequential.update()), "{group}");
        }
    }
}
