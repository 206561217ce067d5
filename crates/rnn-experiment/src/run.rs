//! Running one [`RunSpec`]: train, evaluate, keep everything.

use std::path::Path;

use serde::{Deserialize, Serialize};

use rnn_core::{CoreError, InitialState, Network, State, Trial};
use rnn_learn::{Checkpoint, History, Trainer};

use crate::error::{ExperimentError, Result};
use crate::spec::{RunSpec, STREAM_EVALUATION};

/// What one run produced. A run that diverged is a result too: its history
/// up to the failing trial, the weights it stopped with and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Loss and diagnostics of every training trial that ran.
    pub history: History,
    /// Why training stopped early, if it did.
    pub failure: Option<Failure>,
    /// Evaluation loss of the untrained network ([`crate::Evaluation`]).
    pub initial_loss: f64,
    /// Evaluation loss of the trained network; `+inf` when the run failed.
    pub final_loss: f64,
    /// The network after training (the last finite weights of a failed run).
    pub network: Network,
}

/// Why a run stopped before its last trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The training trial (0-based) in which it happened; `None` when the
    /// run failed at evaluation.
    pub trial: Option<usize>,
    /// The error's message.
    pub message: String,
}

impl RunRecord {
    /// True when the run trained to its last trial and evaluated finitely.
    pub fn completed(&self) -> bool {
        self.failure.is_none()
    }

    /// The final loss for statistics: `+inf` for a failed run.
    pub fn final_loss_or_inf(&self) -> f64 {
        if self.completed() && self.final_loss.is_finite() {
            self.final_loss
        } else {
            f64::INFINITY
        }
    }
}

/// What the runner asks of one run besides the spec.
pub(crate) struct Control<'a> {
    /// Save a checkpoint here every this many trials.
    pub checkpoint: Option<(&'a Path, usize)>,
    /// Called after every trial with the steps it ran; `false` stops the run
    /// (after saving a checkpoint, if checkpoints are on).
    pub on_trial: &'a (dyn Fn(u64) -> bool + Sync),
}

/// Trains and evaluates `spec` from scratch, with no checkpoints.
///
/// Errors are reserved for specs that cannot run (invalid settings, a task
/// that cannot be built); a divergence is reported in the record.
pub fn run(spec: &RunSpec) -> Result<RunRecord> {
    let control = Control {
        checkpoint: None,
        on_trial: &|_| true,
    };
    run_controlled(spec, &control)?.ok_or(ExperimentError::Interrupted)
}

/// [`run`] with checkpoints and a stop signal; `Ok(None)` when stopped.
pub(crate) fn run_controlled(spec: &RunSpec, control: &Control<'_>) -> Result<Option<RunRecord>> {
    spec.validate()?;
    let initial = spec.initial_network()?;
    let initial_loss = evaluate(spec, &initial)?;
    let rule = spec.rule.build()?;
    let mut source = spec.build_task()?;
    let steps = spec.task.steps_per_trial()? as u64;

    let resumable = control
        .checkpoint
        .filter(|(path, _)| path.exists())
        .map(|(path, _)| Checkpoint::load(path))
        .transpose()?;
    let (mut trainer, mut net) = match resumable {
        Some(checkpoint) => {
            Trainer::resume(rule, spec.training.clone(), &checkpoint, source.as_mut())?
        }
        None => {
            let mut net = initial;
            let trainer = Trainer::new(rule, &mut net, spec.training.clone())?;
            (trainer, net)
        }
    };

    let mut failure = None;
    while !trainer.is_done() {
        match trainer.train_trial(&mut net, source.as_mut()) {
            Ok(_) => {}
            Err(error) if error.diverged_at().is_some() => {
                failure = Some(Failure {
                    trial: error.diverged_at(),
                    message: error.to_string(),
                });
                break;
            }
            Err(other) => return Err(other.into()),
        }
        let go_on = (control.on_trial)(steps);
        if let Some((path, every)) = control.checkpoint
            && !trainer.is_done()
            && (!go_on || trainer.trials_done() % every == 0)
        {
            trainer.checkpoint(&net).save(path)?;
        }
        if !go_on && !trainer.is_done() {
            return Ok(None);
        }
    }

    let final_loss = if failure.is_none() {
        let loss = evaluate(spec, &net)?;
        if !loss.is_finite() {
            failure = Some(Failure {
                trial: None,
                message: "the trained network's evaluation loss is not finite".into(),
            });
        }
        loss
    } else {
        f64::INFINITY
    };
    Ok(Some(RunRecord {
        history: trainer.into_history(),
        failure,
        initial_loss,
        final_loss: if final_loss.is_finite() {
            final_loss
        } else {
            f64::INFINITY
        },
        network: net,
    }))
}

/// Evaluation trials run together at most this many at a time.
const EVALUATION_BATCH: usize = 10;

/// Mean loss of the evaluation trials with `net` (see [`crate::Evaluation`]);
/// `+inf` if a trial's loss is not finite.
///
/// The weights are fixed, so the trials are drawn up to
/// ten at a time and a trial that does not carry over its
/// predecessor's state runs in one pass with its neighbours
/// ([`Network::run_batch_from_into`], bit-identical to one at a time);
/// carry-over trials run one at a time. The result is bit-identical to
/// [`evaluate_sequential`], the definition.
pub fn evaluate(spec: &RunSpec, net: &Network) -> Result<f64> {
    let mut task = spec.build_task()?;
    let mut rng = spec.stream(STREAM_EVALUATION);
    let mut previous: Option<State> = None;
    let mut sum = 0.0;
    let mut remaining = spec.evaluation.trials;
    let mut trajectories = Vec::new();
    while remaining > 0 {
        // Draw the next chunk in the sequential order; a failed draw is
        // reported when its turn comes (an earlier trial may diverge first).
        let mut trials = Vec::with_capacity(EVALUATION_BATCH.min(remaining));
        let mut draw_error = None;
        while trials.len() < EVALUATION_BATCH.min(remaining) {
            match task.next_trial(&mut rng) {
                Ok(trial) => trials.push(trial),
                Err(error) => {
                    draw_error = Some(error);
                    break;
                }
            }
        }
        remaining -= trials.len();
        let mut i = 0;
        while i < trials.len() {
            // A run of trials that do not carry over, after trial `i` (whose start is known).
            let mut end = i + 1;
            while end < trials.len()
                && !matches!(trials[end].initial_state(), InitialState::CarryOver)
            {
                end += 1;
            }
            let starts: Option<Vec<State>> = trials[i..end]
                .iter()
                .map(|trial| State::initial(net, trial, previous.as_ref()).ok())
                .collect();
            let refs: Vec<&Trial> = trials[i..end].iter().collect();
            let batched = end - i > 1
                && starts.is_some_and(|starts| {
                    net.run_batch_from_into(&refs, &starts, &mut trajectories, None)
                        .is_ok()
                });
            if batched {
                for trajectory in &trajectories[..end - i] {
                    if !trajectory.loss.is_finite() {
                        return Ok(f64::INFINITY);
                    }
                    sum += trajectory.loss;
                    previous = Some(trajectory.final_state());
                }
                i = end;
                continue;
            }
            // One at a time (also where a trial does not fit: its error in its place).
            match net.run_trial(&trials[i], previous.as_ref()) {
                Ok(trajectory) if trajectory.loss.is_finite() => {
                    sum += trajectory.loss;
                    previous = Some(trajectory.final_state());
                }
                Ok(_) | Err(CoreError::NonFiniteLoss { .. }) => return Ok(f64::INFINITY),
                Err(other) => return Err(other.into()),
            }
            i += 1;
        }
        if let Some(error) = draw_error {
            return Err(error.into());
        }
    }
    Ok(sum / spec.evaluation.trials as f64)
}

/// [`evaluate`] one trial at a time: the definition, kept for tests.
#[doc(hidden)]
pub fn evaluate_sequential(spec: &RunSpec, net: &Network) -> Result<f64> {
    let mut task = spec.build_task()?;
    let mut rng = spec.stream(STREAM_EVALUATION);
    let mut previous: Option<State> = None;
    let mut sum = 0.0;
    for _ in 0..spec.evaluation.trials {
        let trial = task.next_trial(&mut rng)?;
        match net.run_trial(&trial, previous.as_ref()) {
            Ok(trajectory) if trajectory.loss.is_finite() => {
                sum += trajectory.loss;
                previous = Some(trajectory.final_state());
            }
            Ok(_) | Err(CoreError::NonFiniteLoss { .. }) => return Ok(f64::INFINITY),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(sum / spec.evaluation.trials as f64)
}
