//! Checkpoint and resume of a training run, bit-identical to an uninterrupted run.
//!
//! A [`Checkpoint`] holds, at a trial boundary, everything a [`Trainer`]
//! needs to continue: the network, the training config, the rule's identity
//! (name and rates), the schedule position (trials done, the pending
//! every-K sum), the carried-over state, the position of the trial
//! generator, the rule's [`RuleMemory`] and the history so far. Most rules
//! reset their working memory at every trial start; what does carry over
//! (the sign generator of UORO and KF-RTRL) is the rule's
//! [`RuleMemory`] ([`LearningRule::memory`]), saved and restored.
//!
//! A trial source may keep its own state between trials (the reach task's
//! cursor). [`Trainer::resume`] restores it by replaying the source from a
//! fresh instance — the same `next_trial` calls with the same generator —
//! and then checks that the generator ends where the checkpoint says, so a
//! different task or seed is refused rather than silently continued.

use std::path::Path;

use serde::{Deserialize, Serialize};

use rand::SeedableRng;
use rnn_core::io::{FileKind, MatrixData, read_file, write_file};
use rnn_core::{Network, NetworkConfig, SeededRng, State, TrialSource, Weights, seeded};

use crate::error::{LearnError, Result};
use crate::rule::LearningRule;
use crate::train::{History, Trainer, TrainingConfig};
use crate::update::{LearningRates, WeightUpdate};

/// File kind of a training checkpoint.
///
/// The kind carries the checkpoint's own layout version: `CKP2` added
/// [`TrainingConfig::max_loss_ratio`], `CKP3` the rule's [`RuleMemory`]; a
/// file of an earlier layout is refused as another kind rather than misread.
pub const CHECKPOINT: FileKind = FileKind(*b"CKP3");

/// Position of the trial generator (ChaCha8: seed, stream, word position).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GeneratorPosition {
    seed: [u8; 32],
    stream: u64,
    word_pos: u128,
}

impl GeneratorPosition {
    fn of(rng: &SeededRng) -> Self {
        Self {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos(),
        }
    }

    fn generator(&self) -> SeededRng {
        let mut rng = SeededRng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos);
        rng
    }
}

/// What of a rule's working memory carries over from one trial to the next
/// (and so must be checkpointed): a generator's position and named numbers.
/// Empty for the deterministic rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleMemory {
    generator: Option<GeneratorPosition>,
    values: Vec<f64>,
}

impl RuleMemory {
    /// The memory of a rule whose only carried state is the generator `rng`.
    pub fn of_generator(rng: &SeededRng) -> Self {
        Self {
            generator: Some(GeneratorPosition::of(rng)),
            values: Vec::new(),
        }
    }

    /// With numbers that carry over (e.g. a running baseline).
    pub fn with_values(mut self, values: Vec<f64>) -> Self {
        self.values = values;
        self
    }

    /// The saved generator, at its saved position.
    pub fn generator(&self) -> Result<SeededRng> {
        self.generator
            .as_ref()
            .map(GeneratorPosition::generator)
            .ok_or(LearnError::CheckpointMismatch {
                what: "the checkpoint holds no generator for this rule",
            })
    }

    /// The saved numbers.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// True for the memory of a rule that carries nothing over.
    pub fn is_empty(&self) -> bool {
        self.generator.is_none() && self.values.is_empty()
    }
}

/// The whole state of a training run at a trial boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    rule_name: String,
    rates: LearningRates,
    config: TrainingConfig,
    network_config: NetworkConfig,
    weights: [MatrixData; 4],
    pending: [MatrixData; 3],
    pending_trials: usize,
    trials_done: usize,
    carried: Option<(Vec<f64>, Vec<f64>)>,
    generator: GeneratorPosition,
    rule_memory: RuleMemory,
    history: History,
}

impl Checkpoint {
    /// Trials done when the checkpoint was taken.
    pub fn trials_done(&self) -> usize {
        self.trials_done
    }

    /// The training config of the run.
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// The history up to the checkpoint.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Writes the checkpoint atomically (temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(write_file(path, CHECKPOINT, self)?)
    }

    /// Reads a checkpoint; truncated, corrupted or foreign files are refused.
    pub fn load(path: &Path) -> Result<Self> {
        Ok(read_file(path, CHECKPOINT)?)
    }

    fn network(&self) -> Result<Network> {
        let weights = Weights {
            recurrent: matrix(&self.weights[0])?,
            input: matrix(&self.weights[1])?,
            readout: matrix(&self.weights[2])?,
            feedback: matrix(&self.weights[3])?,
        };
        Ok(Network::from_weights(&self.network_config, weights)?)
    }
}

fn matrix(data: &MatrixData) -> Result<faer::Mat<f64>> {
    data.to_mat().ok_or(LearnError::CheckpointMismatch {
        what: "a matrix's entry count does not match its shape",
    })
}

impl<R: LearningRule> Trainer<R> {
    /// The run's state now, with `net` the network being trained.
    pub fn checkpoint(&self, net: &Network) -> Checkpoint {
        let w = net.weights();
        let m = |x: &faer::Mat<f64>| MatrixData::from_mat(x.as_ref());
        Checkpoint {
            rule_name: self.rule.name().to_owned(),
            rates: self.rule.rates(),
            config: self.config.clone(),
            network_config: net.config().clone(),
            weights: [m(&w.recurrent), m(&w.input), m(&w.readout), m(&w.feedback)],
            pending: [
                m(&self.pending.recurrent),
                m(&self.pending.input),
                m(&self.pending.readout),
            ],
            pending_trials: self.pending_trials,
            trials_done: self.trials_done,
            carried: self.carried.as_ref().map(|s| (s.h.clone(), s.y.clone())),
            generator: GeneratorPosition::of(&self.rng),
            rule_memory: self.rule.memory(&self.rule_state),
            history: self.history.clone(),
        }
    }

    /// Continues the run of `checkpoint` with `rule` and `config`, which must
    /// be the run's own; `fresh_source` is a new instance of the run's trial
    /// source, fast-forwarded here to where the run left it.
    ///
    /// Returns the trainer and the network as they were at the checkpoint.
    pub fn resume(
        rule: R,
        config: TrainingConfig,
        checkpoint: &Checkpoint,
        fresh_source: &mut dyn TrialSource,
    ) -> Result<(Self, Network)> {
        if rule.name() != checkpoint.rule_name || rule.rates() != checkpoint.rates {
            return Err(LearnError::CheckpointMismatch {
                what: "the checkpoint was written by another rule or learning rate",
            });
        }
        if config != checkpoint.config {
            return Err(LearnError::CheckpointMismatch {
                what: "the checkpoint was written with another training config",
            });
        }
        // Resuming replays `trials_done` trials: that count must be the
        // history's (one entry per trial done) and within the run, so that a
        // corrupted count cannot make the replay run for ever.
        let done = checkpoint.trials_done;
        if done > config.n_trials
            || checkpoint.history.loss.len() != done
            || checkpoint.history.feedback_alignment.len() != done
        {
            return Err(LearnError::CheckpointMismatch {
                what: "the trials done disagree with the history or exceed the run's n_trials",
            });
        }
        let mut net = checkpoint.network()?;
        let mut trainer = Trainer::new(rule, &mut net, config)?;
        trainer.pending = WeightUpdate {
            recurrent: matrix(&checkpoint.pending[0])?,
            input: matrix(&checkpoint.pending[1])?,
            readout: matrix(&checkpoint.pending[2])?,
        };
        let p = &trainer.pending;
        if p.recurrent.shape() != net.recurrent().shape()
            || p.input.shape() != net.input().shape()
            || p.readout.shape() != net.readout().shape()
        {
            return Err(LearnError::CheckpointMismatch {
                what: "the pending update does not fit the network",
            });
        }
        trainer.pending_trials = checkpoint.pending_trials;
        trainer.trials_done = checkpoint.trials_done;
        trainer.carried = checkpoint.carried.clone().map(|(h, y)| State { h, y });
        if let Some(state) = &trainer.carried {
            state.check_fits(&net)?;
        }
        trainer.history = checkpoint.history.clone();
        trainer
            .rule
            .restore_memory(&mut trainer.rule_state, &checkpoint.rule_memory)?;
        // Replay the source so that its own state (if any) is restored.
        trainer.rng = seeded(trainer.config.seed);
        for _ in 0..checkpoint.trials_done {
            fresh_source.next_trial(&mut trainer.rng)?;
        }
        let g = &checkpoint.generator;
        if trainer.rng.get_seed() != g.seed
            || trainer.rng.get_stream() != g.stream
            || trainer.rng.get_word_pos() != g.word_pos
        {
            return Err(LearnError::CheckpointMismatch {
                what: "replaying the trial source did not reach the saved generator position \
                       (another task or seed?)",
            });
        }
        Ok((trainer, net))
    }
}
