//! Training the syllables before the loop (docs/spec/TASKS.md §3): RFLO on the reach
//! task, one continuous run with `h` carried over. A thin wrapper around
//! [`rnn_learn::train()`], so that the loop and its syllables are trained with
//! one shape, box and start.

use rnn_core::Network;
use rnn_learn::{History, LearnError, LearningRates, Rflo, TrainingConfig, train};
use rnn_tasks::{ReachConfig, ReachSyllables};
use serde::{Deserialize, Serialize};

use crate::config::LoopConfig;
use crate::error::Result;
use crate::sequencer::check_network;

/// How to pre-train the syllables (docs/spec/TASKS.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// The reach task (shape, box, start, repeats rule).
    pub reach: ReachConfig,
    /// RFLO learning rate, `eta1 = eta2 = eta3`. Default 0.03 (the spec's).
    pub eta: f64,
    /// Number of syllable trials. Default 10,000 (the spec's).
    pub n_trials: usize,
    /// Seed of the syllable draws.
    pub seed: u64,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        Self {
            reach: ReachConfig::default(),
            eta: 0.03,
            n_trials: 10_000,
            seed: 0,
        }
    }
}

impl PretrainConfig {
    /// The defaults, with the reach task of `config`
    /// ([`LoopConfig::reach_config`]).
    pub fn for_loop(config: &LoopConfig) -> Self {
        Self {
            reach: config.reach_config(),
            ..Self::default()
        }
    }
}

/// Trains `net` on the reach syllables with RFLO (per-trial updates) and
/// returns the training history (one loss per trial).
///
/// [`LoopError::NetworkShape`](crate::LoopError::NetworkShape) unless `N_x = K` and `N_y = 2`; errors of the
/// task config and of training ([`LoopError::Learn`](crate::LoopError::Learn), e.g. divergence) pass
/// through.
pub fn pretrain_syllables(net: &mut Network, config: &PretrainConfig) -> Result<History> {
    check_network(net, config.reach.shape.n_syllables)?;
    let mut task = ReachSyllables::new(config.reach.clone())?;
    let rule = Rflo::new(LearningRates::uniform(config.eta))?;
    let training = TrainingConfig::default()
        .with_n_trials(config.n_trials)
        .with_seed(config.seed);
    Ok(train(net, rule, &mut task, &training).map_err(LearnError::from)?)
}
