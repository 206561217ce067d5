//! The training loop: trials from a source, a rule, a schedule, a history.

use serde::{Deserialize, Serialize};

use rnn_core::{Network, SeededRng, State, Trial, TrialSource, seeded};

use crate::constraints::Constraints;
use crate::diagnostics::{GradientAlignment, feedback_alignment};
use crate::error::{LearnError, Result, invalid};
use crate::rule::{LearningRule, TrialOutcome};
use crate::schedule::Schedule;
use crate::update::WeightUpdate;

/// What a training run does, validated by [`TrainingConfig::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// Number of training trials; `>= 1`.
    pub n_trials: usize,
    /// When updates are applied.
    pub schedule: Schedule,
    /// Frozen groups and Dale's law.
    pub constraints: Constraints,
    /// Measure the gradient alignment with BPTT every this many trials
    /// (`None`: never). It costs one BPTT and one trial-end pass of the rule.
    pub gradient_alignment_every: Option<usize>,
    /// Seed of the generator handed to the trial source.
    pub seed: u64,
}

impl TrainingConfig {
    /// `n_trials` per-trial updates, no constraints, no gradient alignment.
    pub fn new(n_trials: usize, seed: u64) -> Self {
        Self {
            n_trials,
            schedule: Schedule::PerTrial,
            constraints: Constraints::default(),
            gradient_alignment_every: None,
            seed,
        }
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
        self.schedule.validate()?;
        self.constraints.validate()
    }
}

/// One gradient-alignment measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlignmentPoint {
    /// Trial index (0-based), measured with the weights in force at its start.
    pub trial: usize,
    /// Cosine between the rule's `dW` and the exact `dW`.
    pub cosine: f64,
}

/// What a training run recorded, one entry per trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The loss of each trial, with the weights in force as it ran (MODEL.md §7).
    pub loss: Vec<f64>,
    /// Readout–feedback alignment `A` with the weights at each trial's start.
    pub feedback_alignment: Vec<f64>,
    /// Gradient alignment with BPTT, where measured.
    pub gradient_alignment: Vec<AlignmentPoint>,
}

impl History {
    /// The history as CSV: `trial,loss,feedback_alignment,gradient_alignment`,
    /// one row per trial (empty gradient alignment where not measured).
    /// Floats use Rust's shortest round-trip form, so the text is lossless.
    pub fn to_csv(&self) -> String {
        let mut gradient = self.gradient_alignment.iter().peekable();
        let mut csv = String::from("trial,loss,feedback_alignment,gradient_alignment\n");
        for (trial, (loss, alignment)) in self.loss.iter().zip(&self.feedback_alignment).enumerate()
        {
            let cosine = gradient
                .next_if(|point| point.trial == trial)
                .map_or(String::new(), |point| point.cosine.to_string());
            csv.push_str(&format!("{trial},{loss},{alignment},{cosine}\n"));
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
/// [`Trainer::train_trial`] for custom loops (e.g. checkpointing).
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
            rule,
            config,
        })
    }

    /// Runs the next trial from `source`, applying updates as the schedule says.
    /// Returns the trial's loss.
    pub fn train_trial(&mut self, net: &mut Network, source: &mut dyn TrialSource) -> Result<f64> {
        let index = self.trials_done;
        let trial = source.next_trial(&mut self.rng)?;
        let start = State::initial(net, &trial, self.carried.as_ref())?;
        self.history
            .feedback_alignment
            .push(feedback_alignment(net));
        if let (Some(every), Some(alignment)) =
            (self.config.gradient_alignment_every, &mut self.alignment)
            && index % every == 0
        {
            let cosine =
                alignment.measure(&self.rule, &mut self.rule_state, net, &trial, &start)?;
            self.history.gradient_alignment.push(AlignmentPoint {
                trial: index,
                cosine,
            });
        }
        let outcome = self.run_rule(net, &trial, &start).map_err(|e| match e {
            LearnError::Core(rnn_core::CoreError::NonFiniteLoss { .. }) => LearnError::Diverged {
                trial: index,
                what: "loss",
            },
            other => other,
        })?;
        self.trials_done += 1;
        self.history.loss.push(outcome.loss);
        if !outcome.loss.is_finite() {
            return Err(LearnError::Diverged {
                trial: index,
                what: "loss",
            });
        }
        let schedule_due = self.pending_trials == self.config.schedule.trials_per_update();
        if (schedule_due || self.is_done()) && self.pending_trials > 0 {
            // A non-finite update is refused whole: the weights keep their last finite values.
            if !self.pending.is_finite() {
                return Err(LearnError::Diverged {
                    trial: index,
                    what: "weight update",
                });
            }
            self.apply_pending(net);
        }
        if net.check_finite().is_err() {
            return Err(LearnError::Diverged {
                trial: index,
                what: "weights",
            });
        }
        self.carried = Some(outcome.final_state);
        Ok(outcome.loss)
    }

    fn run_rule(
        &mut self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
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
                self.rule
                    .accumulate(net, trial, start, &mut self.rule_state, &mut self.pending)
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
/// trials; calls `on_progress` after every trial. No printing.
///
/// Stops with [`LearnError::Diverged`] naming the trial if the loss, an
/// update or the weights become non-finite. With trial-end schedules a
/// non-finite update is never applied, so `net` keeps its last finite
/// weights; with the online schedule it holds the weights of the failing step.
pub fn train<R: LearningRule>(
    net: &mut Network,
    rule: R,
    source: &mut dyn TrialSource,
    config: &TrainingConfig,
    mut on_progress: impl FnMut(&Progress),
) -> Result<History> {
    let mut trainer = Trainer::new(rule, net, config.clone())?;
    while !trainer.is_done() {
        let loss = trainer.train_trial(net, source)?;
        on_progress(&Progress {
            trials_done: trainer.trials_done(),
            n_trials: config.n_trials,
            loss,
        });
    }
    Ok(trainer.into_history())
}
