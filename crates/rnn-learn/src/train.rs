//! The training loop: trials from a source, a rule, a schedule, a history.

use serde::{Deserialize, Serialize};

use std::collections::VecDeque;

use rnn_core::{InitialState, Network, SeededRng, State, Trial, TrialSource, seeded};

use crate::constraints::Constraints;
use crate::diagnostics::{GradientAlignment, feedback_alignment};
use crate::error::{LearnError, Result, TrainError, invalid};
use crate::rule::{LearningRule, TrialOutcome};
use crate::schedule::Schedule;
use crate::update::WeightUpdate;

/// What a training run does, validated by [`TrainingConfig::validate`].
///
/// Built by name from the default:
///
/// ```
/// use rnn_learn::{Schedule, TrainingConfig};
///
/// let config = TrainingConfig::default()
///     .with_n_trials(2000)
///     .with_seed(1)
///     .with_schedule(Schedule::EveryK(10));
/// assert_eq!(config.max_loss_ratio, Some(1e6));
/// # config.validate().unwrap();
/// ```
///
/// In TOML (or JSON) every field is optional and missing fields take their
/// defaults; unknown fields are refused:
///
/// ```toml
/// n_trials = 2000
/// seed = 1
/// schedule = { every_k = 10 }   # or "per_trial" (the default), "online"
/// max_loss_ratio = 1e6          # `inf` (JSON: null) for no bound
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Number of training trials; `>= 1`. Default [`TrainingConfig::DEFAULT_N_TRIALS`].
    pub n_trials: usize,
    /// When updates are applied. Default per trial.
    pub schedule: Schedule,
    /// Frozen groups and Dale's law. Default none.
    pub constraints: Constraints,
    /// Measure the gradient alignment with BPTT every this many trials
    /// (`None`, the default: never). It costs one BPTT and one trial-end
    /// pass of the rule.
    pub gradient_alignment_every: Option<usize>,
    /// Seed of the generator handed to the trial source. Default 0.
    pub seed: u64,
    /// Divergence bound: a trial whose loss exceeds `max_loss_ratio` times
    /// the first trial's loss stops the run as diverged (as a non-finite
    /// loss always does). Finite and `> 1`; `None` disables the bound.
    /// Default `Some(1e6)`. No bound applies while the first loss is 0.
    ///
    /// In human-readable formats `None` is written as an infinite ratio
    /// (TOML `inf`, JSON `null`), so that it survives a round trip.
    #[serde(with = "loss_ratio")]
    pub max_loss_ratio: Option<f64>,
}

impl Default for TrainingConfig {
    /// [`TrainingConfig::DEFAULT_N_TRIALS`] per-trial updates, seed 0, no
    /// constraints, no gradient alignment, divergence bound
    /// [`TrainingConfig::DEFAULT_MAX_LOSS_RATIO`].
    fn default() -> Self {
        Self {
            n_trials: Self::DEFAULT_N_TRIALS,
            schedule: Schedule::PerTrial,
            constraints: Constraints::default(),
            gradient_alignment_every: None,
            seed: 0,
            max_loss_ratio: Some(Self::DEFAULT_MAX_LOSS_RATIO),
        }
    }
}

impl TrainingConfig {
    /// The default number of trials.
    pub const DEFAULT_N_TRIALS: usize = 1000;

    /// The default divergence bound (see [`TrainingConfig::max_loss_ratio`]).
    pub const DEFAULT_MAX_LOSS_RATIO: f64 = 1e6;

    /// Sets the number of trials (builder style).
    pub fn with_n_trials(mut self, n_trials: usize) -> Self {
        self.n_trials = n_trials;
        self
    }

    /// Sets the seed of the trial generator (builder style).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the schedule (builder style).
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Sets the constraints (builder style).
    pub fn with_constraints(mut self, constraints: Constraints) -> Self {
        self.constraints = constraints;
        self
    }

    /// Measures gradient alignment every `every` trials (builder style).
    pub fn with_gradient_alignment_every(mut self, every: usize) -> Self {
        self.gradient_alignment_every = Some(every);
        self
    }

    /// Sets the divergence bound (`None`: only a non-finite loss, update or
    /// weight diverges) (builder style).
    pub fn with_max_loss_ratio(mut self, max_loss_ratio: Option<f64>) -> Self {
        self.max_loss_ratio = max_loss_ratio;
        self
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.n_trials == 0 {
            return Err(invalid("n_trials", 0, "must be at least 1"));
        }
        if self.gradient_alignment_every == Some(0) {
            return Err(invalid(
                "gradient_alignment_every",
                0,
                "must be at least 1 (or None)",
            ));
        }
        if let Some(ratio) = self.max_loss_ratio
            && !(ratio.is_finite() && ratio > 1.0)
        {
            return Err(invalid(
                "max_loss_ratio",
                ratio,
                "must be finite and > 1 (or None for no bound)",
            ));
        }
        self.schedule.validate()?;
        self.constraints.validate()
    }
}

/// Serde for [`TrainingConfig::max_loss_ratio`]: a plain `Option<f64>` in
/// binary formats (checkpoints); in human-readable formats, which cannot
/// all write `None` (TOML has no null), `None` is the infinite ratio.
mod loss_ratio {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_f64(value.unwrap_or(f64::INFINITY))
        } else {
            value.serialize(serializer)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        let human = deserializer.is_human_readable();
        let value = Option::<f64>::deserialize(deserializer)?;
        Ok(if human {
            value.filter(|ratio| *ratio != f64::INFINITY)
        } else {
            value
        })
    }
}

/// One gradient-alignment measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlignmentPoint {
    /// Trial index (0-based), measured with the weights in force at its start.
    pub trial: usize,
    /// Cosine between the rule's `dW` and the exact `dW`.
    pub cosine: f64,
    /// `‖∂L/∂W‖_F` of the exact gradient on that trial
    /// ([`GradientAlignment::exact_gradient_norm`](crate::GradientAlignment::exact_gradient_norm)).
    pub exact_gradient_norm: f64,
}

/// What a training run recorded, one entry per trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The loss of each trial, with the weights in force as it ran (docs/spec/MODEL.md §7).
    pub loss: Vec<f64>,
    /// Readout–feedback alignment `A` with the weights at each trial's start.
    pub feedback_alignment: Vec<f64>,
    /// Gradient alignment with BPTT, where measured.
    pub gradient_alignment: Vec<AlignmentPoint>,
}

impl History {
    /// The history as CSV: `trial,loss,feedback_alignment,gradient_alignment,
    /// exact_gradient_norm`, one row per trial (the last two empty where not
    /// measured). Floats use Rust's shortest round-trip form, so the text is lossless.
    pub fn to_csv(&self) -> String {
        let mut gradient = self.gradient_alignment.iter().peekable();
        let mut csv =
            String::from("trial,loss,feedback_alignment,gradient_alignment,exact_gradient_norm\n");
        for (trial, (loss, alignment)) in self.loss.iter().zip(&self.feedback_alignment).enumerate()
        {
            let measured = gradient
                .next_if(|point| point.trial == trial)
                .map_or(",".to_string(), |point| {
                    format!("{},{}", point.cosine, point.exact_gradient_norm)
                });
            csv.push_str(&format!("{trial},{loss},{alignment},{measured}\n"));
        }
        csv
    }

    /// Writes [`History::to_csv`] to `path` atomically.
    pub fn write_csv(&self, path: &std::path::Path) -> Result<()> {
        Ok(rnn_core::io::write_atomic(path, self.to_csv().as_bytes())?)
    }
}

/// Reported to the progress callback after every trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Trials done so far.
    pub trials_done: usize,
    /// Trials in the run.
    pub n_trials: usize,
    /// Loss of the trial just done.
    pub loss: f64,
}

/// A training run in progress: the rule, its working memory, the schedule
/// position, the carried-over state, the trial generator and the history.
///
/// [`train`] drives it to the end; drive it yourself with
/// [`Trainer::train_trial`] for custom loops (progress bars, checkpoints,
/// early stopping).
pub struct Trainer<R: LearningRule> {
    pub(crate) rule: R,
    pub(crate) config: TrainingConfig,
    pub(crate) rule_state: R::State,
    pub(crate) pending: WeightUpdate,
    pub(crate) pending_trials: usize,
    pub(crate) trials_done: usize,
    pub(crate) carried: Option<State>,
    pub(crate) rng: SeededRng,
    pub(crate) history: History,
    pub(crate) alignment: Option<GradientAlignment>,
    /// The rule's working memory for alignment measurements, loaded with the
    /// training state's [`LearningRule::memory`] before each one, so that a
    /// measurement never advances the training state (a random rule's
    /// generator, FORCE's `P`).
    pub(crate) alignment_state: Option<R::State>,
    /// Trials drawn ahead for a batched every-K group, in order.
    pub(crate) queue: VecDeque<Queued>,
    /// Whether every-K groups run batched (see [`Trainer::set_trial_batching`]).
    pub(crate) batching: bool,
    /// Bytes of trajectories a batch may hold (see [`Trainer::set_batch_memory`]).
    pub(crate) batch_memory: usize,
}

/// A trial drawn ahead of its turn: the draw's result, the generator as it
/// was after the draw (the trainer's generator takes that value when the
/// trial's turn comes, so checkpoints see the sequential position), and its
/// index in the batch prepared by [`LearningRule::prepare_batch`], if any.
pub(crate) struct Queued {
    trial: rnn_core::Result<Trial>,
    rng_after: SeededRng,
    prepared: Option<usize>,
}

impl<R: LearningRule> Trainer<R> {
    /// Starts a run on `net`: validates the config and the rule against the
    /// network, and brings `net` into the constrained set (Dale's sign flip).
    pub fn new(rule: R, net: &mut Network, config: TrainingConfig) -> Result<Self> {
        config.validate()?;
        rule.check_fits(net)?;
        rule.rates().validate()?;
        config.constraints.prepare(net);
        Ok(Self {
            rule_state: rule.new_state(net),
            pending: WeightUpdate::zeros(net),
            pending_trials: 0,
            trials_done: 0,
            carried: None,
            rng: seeded(config.seed),
            history: History::default(),
            alignment: config
                .gradient_alignment_every
                .map(|_| GradientAlignment::new(net)),
            alignment_state: config.gradient_alignment_every.map(|_| rule.new_state(net)),
            queue: VecDeque::new(),
            batching: true,
            batch_memory: crate::BATCH_MEMORY,
            rule,
            config,
        })
    }

    /// Turns batched every-K groups on (the default) or off.
    ///
    /// With [`Schedule::EveryK`] the weights are fixed within a group, so at
    /// the start of a group the trainer draws the group's trials (in the
    /// order and with the generator it would use one at a time) and, for
    /// rules that batch ([`LearningRule::prepare_batch`]: RFLO's trial-batched
    /// form, BPTT), runs the forward passes of the first trial and the
    /// following ones that do not carry over their predecessor's state
    /// together, in chunks of at most [`Trainer::set_batch_memory`] bytes of
    /// trajectories (a trial that carries over starts the next chunk). Each trial's update is still added when its turn comes, in
    /// order, so the history, the weights, the pending sum, checkpoints and
    /// errors are bit-identical to the one-at-a-time path that `false`
    /// selects (the reference, kept for tests). The source passed at a
    /// group's first trial supplies the whole group (drawn then), and the
    /// rule's state holds the group's trajectories (`K` times one trial's).
    pub fn set_trial_batching(&mut self, on: bool) {
        self.batching = on;
    }

    /// Bytes of stored trajectories one batch of an every-K group may hold
    /// (default [`crate::BATCH_MEMORY`]); a group over it runs in chunks
    /// that fit (a chunk of one trial is not batched). Results do not depend
    /// on it.
    pub fn set_batch_memory(&mut self, bytes: usize) {
        self.batch_memory = bytes;
    }

    /// At the start of an every-K group (nothing pending, nothing queued),
    /// draws the group's trials ahead; then, whenever the next queued trial
    /// is not prepared, prepares the batchable ones from it on.
    fn prepare_group(&mut self, net: &Network, source: &mut dyn TrialSource) {
        let Schedule::EveryK(k) = self.config.schedule else {
            return;
        };
        if !self.batching {
            return;
        }
        if self.queue.is_empty() {
            let group = k.min(self.config.n_trials.saturating_sub(self.trials_done));
            // An empty batch is prepared only by rules that batch at all.
            if group < 2
                || self.pending_trials != 0
                || !self.rule.prepare_batch(net, &[], &[], &mut self.rule_state)
            {
                return;
            }
            self.draw_group(group, source);
        }
        if self.queue.front().is_some_and(|q| q.prepared.is_none()) {
            self.prepare_chunk(net);
        }
    }

    /// Draws the next `group` trials into the queue, in the order and with
    /// the generator one-at-a-time training would use (up to a failed draw).
    fn draw_group(&mut self, group: usize, source: &mut dyn TrialSource) {
        let mut rng = self.rng.clone();
        for _ in 0..group {
            let trial = source.next_trial(&mut rng);
            let failed = trial.is_err();
            self.queue.push_back(Queued {
                trial,
                rng_after: rng.clone(),
                prepared: None,
            });
            if failed {
                break;
            }
        }
    }

    /// Runs the forward passes of the queued trials from the front on
    /// together, as many as fit the batch memory: the previous chunk
    /// has been used (prepared trials are a prefix of the queue).
    fn prepare_chunk(&mut self, net: &Network) {
        // The first trial starts from the carried state, known now; a later
        // trial that carries over needs its predecessor's end, and ends the
        // chunk (it starts the next one).
        let mut trials = Vec::with_capacity(self.queue.len());
        let mut starts = Vec::with_capacity(self.queue.len());
        for queued in &self.queue {
            let Ok(trial) = &queued.trial else { break };
            if !trials.is_empty() && matches!(trial.initial_state(), InitialState::CarryOver) {
                break;
            }
            let Ok(start) = State::initial(net, trial, self.carried.as_ref()) else {
                break;
            };
            trials.push(trial);
            starts.push(start);
        }
        let chunk = crate::rule::batch_chunk(net, &trials, self.batch_memory);
        trials.truncate(chunk);
        starts.truncate(chunk);
        let count = trials.len();
        if count >= 2
            && self
                .rule
                .prepare_batch(net, &trials, &starts, &mut self.rule_state)
        {
            for (k, queued) in self.queue.iter_mut().take(count).enumerate() {
                queued.prepared = Some(k);
            }
        }
    }

    /// Runs the next trial from `source`, applying updates as the schedule says.
    /// Returns the trial's loss.
    ///
    /// A divergence ([`LearnError::Diverged`], [`LearnError::LossBound`])
    /// is reported after the trial's loss has been recorded in the
    /// history; the failing trial's update is not applied (on the online
    /// schedule the weights hold the failing step's values).
    pub fn train_trial(&mut self, net: &mut Network, source: &mut dyn TrialSource) -> Result<f64> {
        let index = self.trials_done;
        self.prepare_group(net, source);
        let (trial, prepared) = match self.queue.pop_front() {
            Some(queued) => {
                self.rng = queued.rng_after;
                (queued.trial?, queued.prepared)
            }
            None => (source.next_trial(&mut self.rng)?, None),
        };
        let start = State::initial(net, &trial, self.carried.as_ref())?;
        let alignment_at_start = feedback_alignment(net);
        if let (Some(every), Some(alignment)) =
            (self.config.gradient_alignment_every, &mut self.alignment)
            && index.is_multiple_of(every)
        {
            let state = self
                .alignment_state
                .get_or_insert_with(|| self.rule.new_state(net));
            self.rule
                .restore_memory(state, &self.rule.memory(&self.rule_state))?;
            let cosine = alignment.measure(&self.rule, state, net, &trial, &start)?;
            self.history.gradient_alignment.push(AlignmentPoint {
                trial: index,
                cosine,
                exact_gradient_norm: alignment.exact_gradient_norm(),
            });
        }
        let diverged = |what| LearnError::Diverged { trial: index, what };
        let outcome = match self.run_rule(net, &trial, &start, prepared) {
            Ok(outcome) => outcome,
            Err(LearnError::Core(rnn_core::CoreError::NonFiniteLoss { loss })) => {
                self.record(alignment_at_start, loss);
                return Err(diverged("loss"));
            }
            Err(other) => return Err(other),
        };
        self.record(alignment_at_start, outcome.loss);
        if !outcome.loss.is_finite() {
            return Err(diverged("loss"));
        }
        if let Some(max_loss_ratio) = self.config.max_loss_ratio {
            let first_loss = self.history.loss[0];
            if first_loss > 0.0 && outcome.loss > max_loss_ratio * first_loss {
                return Err(LearnError::LossBound {
                    trial: index,
                    loss: outcome.loss,
                    first_loss,
                    max_loss_ratio,
                });
            }
        }
        let schedule_due = self.pending_trials == self.config.schedule.trials_per_update();
        if (schedule_due || self.is_done()) && self.pending_trials > 0 {
            // A non-finite update is refused whole: the weights keep their last finite values.
            if !self.pending.is_finite() {
                return Err(diverged("weight update"));
            }
            self.apply_pending(net);
        }
        if net.check_finite().is_err() {
            return Err(diverged("weights"));
        }
        self.carried = Some(outcome.final_state);
        Ok(outcome.loss)
    }

    /// Counts the trial and records its loss with the feedback alignment at its start.
    fn record(&mut self, feedback_alignment: f64, loss: f64) {
        self.trials_done += 1;
        self.history.feedback_alignment.push(feedback_alignment);
        self.history.loss.push(loss);
    }

    fn run_rule(
        &mut self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        prepared: Option<usize>,
    ) -> Result<TrialOutcome> {
        match self.config.schedule {
            // Rules that cannot run online (BPTT) refuse here, before any change.
            Schedule::Online => self.rule.run_online(
                net,
                trial,
                start,
                &mut self.rule_state,
                &self.config.constraints,
            ),
            Schedule::PerTrial | Schedule::EveryK(_) => {
                self.pending_trials += 1;
                match prepared {
                    Some(k) => self.rule.accumulate_prepared(
                        net,
                        k,
                        trial,
                        start,
                        &mut self.rule_state,
                        &mut self.pending,
                    ),
                    None => self.rule.accumulate(
                        net,
                        trial,
                        start,
                        &mut self.rule_state,
                        &mut self.pending,
                    ),
                }
            }
        }
    }

    /// Applies any accumulated partial sum now (a run stopped early keeps
    /// every computed update). Called automatically after the last trial.
    pub fn apply_pending(&mut self, net: &mut Network) {
        if self.pending_trials > 0 {
            self.config.constraints.apply(net, &self.pending);
            self.pending.set_zero();
            self.pending_trials = 0;
        }
    }

    /// Trials done so far.
    pub fn trials_done(&self) -> usize {
        self.trials_done
    }

    /// True when all configured trials have run.
    pub fn is_done(&self) -> bool {
        self.trials_done >= self.config.n_trials
    }

    /// The history so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The state carried into the next trial, if any.
    pub fn carried_state(&self) -> Option<&State> {
        self.carried.as_ref()
    }

    /// Ends the run, returning the history.
    pub fn into_history(self) -> History {
        self.history
    }
}

/// Trains `net` with `rule` on trials from `source` for `config.n_trials`
/// trials and returns the history. No printing; for progress reports use
/// [`train_with_progress`] (or drive a [`Trainer`] yourself).
///
/// The run stops early with a [`TrainError`] holding the history so far
/// and the cause:
///
/// - [`LearnError::Diverged`] if the loss, an update or the weights become
///   non-finite, [`LearnError::LossBound`] if a trial's loss exceeds
///   [`TrainingConfig::max_loss_ratio`] times the first trial's; both name
///   the trial ([`TrainError::trial`]), and the history then holds
///   `trial + 1` losses, the last one the failing trial's. With trial-end
///   schedules the failing trial's update is never applied, so `net` keeps
///   the weights it had before that trial; with the online schedule it
///   holds the weights of the failing step.
/// - any other [`LearnError`] (invalid config or rule, a failing trial
///   source), with the trials completed before it.
#[allow(clippy::result_large_err)] // returned once per run, holds the history by value
pub fn train<R: LearningRule>(
    net: &mut Network,
    rule: R,
    source: &mut dyn TrialSource,
    config: &TrainingConfig,
) -> std::result::Result<History, TrainError> {
    train_with_progress(net, rule, source, config, |_| {})
}

/// [`train`], calling `on_progress` after every completed trial.
#[allow(clippy::result_large_err)] // returned once per run, holds the history by value
pub fn train_with_progress<R: LearningRule>(
    net: &mut Network,
    rule: R,
    source: &mut dyn TrialSource,
    config: &TrainingConfig,
    mut on_progress: impl FnMut(&Progress),
) -> std::result::Result<History, TrainError> {
    let mut trainer = Trainer::new(rule, net, config.clone()).map_err(|source| TrainError {
        history: History::default(),
        source,
    })?;
    while !trainer.is_done() {
        match trainer.train_trial(net, source) {
            Ok(loss) => on_progress(&Progress {
                trials_done: trainer.trials_done(),
                n_trials: config.n_trials,
                loss,
            }),
            Err(source) => {
                return Err(TrainError {
                    history: trainer.into_history(),
                    source,
                });
            }
        }
    }
    Ok(trainer.into_history())
}
