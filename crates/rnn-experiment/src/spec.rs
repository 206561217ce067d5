//! [`RunSpec`]: one training run written down as data.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use rnn_core::{Network, NetworkConfig, ReadoutInit, SeededRng, seeded_stream};
use rnn_learn::{RuleSpec, TrainingConfig};
use rnn_tasks::{Task, TaskSpec};

use crate::error::{ExperimentError, Result};

/// Generator stream of [`RunSpec::seed`] that draws the network.
pub const STREAM_NETWORK: u64 = 1;
/// Generator stream of [`RunSpec::seed`] for the task's construction-time draws.
pub const STREAM_TASK: u64 = 2;
/// Generator stream of [`RunSpec::seed`] that draws the evaluation trials.
pub const STREAM_EVALUATION: u64 = 3;

/// Bumped whenever the meaning of a run specification changes (the runner,
/// the seed scheme, the evaluation, the numerics), so that stored results of
/// older semantics are never taken for new ones. 2: the project's own `tanh`
/// (`rnn_core::tanh`) replaced the platform's libm `tanh` (results differ in
/// the last bits). 3: BPTT's backward pass sums `W^T [phi' ⊙ z]` in a fixed,
/// CPU-independent order (`rnn_core::gemv_transposed::matvec_t`) instead of
/// faer's run-time dispatched kernel (BPTT's results differ in the last bits).
pub const ENGINE_VERSION: u32 = 3;

/// One training run, complete: what the network is, how it is seeded, what
/// it learns, with which rule, for how long, and how it is evaluated.
///
/// **Seed scheme.** [`seed`](Self::seed) is the replicate: it draws the
/// network (stream [`STREAM_NETWORK`]), the task's construction-time draws
/// (stream [`STREAM_TASK`], e.g. the whole-sequence task's `h(0)`) and the
/// evaluation trials (stream [`STREAM_EVALUATION`]) with
/// [`rnn_core::seeded_stream`]. The network therefore depends on
/// `(seed, network, task sizes)` only, so runs that differ in rule, rates or
/// training compare paired, on the same network. `training.seed` draws the
/// training trials ([`rnn_learn::Trainer`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// The replicate seed (see the type's docs).
    #[serde(default)]
    pub seed: u64,
    /// The network's hyperparameters; its input and output sizes are the task's.
    #[serde(default)]
    pub network: NetworkSpec,
    /// The task the network learns.
    pub task: TaskSpec,
    /// The learning rule and its settings.
    pub rule: RuleSpec,
    /// Trials, schedule, constraints, diagnostics, divergence bound and the trial seed.
    #[serde(default)]
    pub training: TrainingConfig,
    /// How the initial and final losses are measured.
    #[serde(default)]
    pub evaluation: Evaluation,
}

/// A network's hyperparameters without its sizes `N_x`, `N_y`, which the
/// task fixes. Missing fields take the paper's defaults
/// ([`NetworkConfig::new`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSpec {
    /// Number of recurrent units `N`.
    pub n_units: usize,
    /// Time constant `tau` in time steps (`>= 1`).
    pub tau: f64,
    /// Gain `g` of the recurrent weights.
    pub gain: f64,
    /// Half-width of the input weights' uniform distribution.
    pub input_scale: f64,
    /// Readout initialisation.
    pub readout_init: ReadoutInit,
    /// Standard deviation of the fixed feedback matrix `B`.
    pub feedback_scale: f64,
    /// Readout-feedback mode: `B y(t-1)` is added to the input current.
    pub readout_feedback: bool,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        let c = NetworkConfig::new(30, 0, 1);
        Self {
            n_units: c.n_units,
            tau: c.tau,
            gain: c.gain,
            input_scale: c.input_scale,
            readout_init: c.readout_init,
            feedback_scale: c.feedback_scale,
            readout_feedback: c.readout_feedback,
        }
    }
}

impl NetworkSpec {
    /// The paper's defaults with `n_units` units.
    pub fn with_units(n_units: usize) -> Self {
        Self {
            n_units,
            ..Self::default()
        }
    }

    /// The full config for a task with `n_inputs` inputs and `n_outputs` outputs.
    pub fn config(&self, n_inputs: usize, n_outputs: usize) -> NetworkConfig {
        NetworkConfig {
            n_units: self.n_units,
            n_inputs,
            n_outputs,
            tau: self.tau,
            gain: self.gain,
            input_scale: self.input_scale,
            readout_init: self.readout_init,
            feedback_scale: self.feedback_scale,
            readout_feedback: self.readout_feedback,
        }
    }
}

/// How a run's initial and final losses are measured.
///
/// Both are the mean loss, without learning, of the same `trials` trials of a
/// fresh task instance (built like the training task, trials drawn from
/// stream [`STREAM_EVALUATION`] of the run's seed, the state carried from one
/// trial to the next where the trials' [`rnn_core::InitialState`] says so):
/// the initial loss with the untrained network, the final loss with the
/// trained one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Evaluation {
    /// Number of evaluation trials; `>= 1`.
    pub trials: usize,
}

impl Default for Evaluation {
    fn default() -> Self {
        Self { trials: 1 }
    }
}

/// A run's stable identity: the first 16 hex digits of the SHA-256 of its
/// canonical JSON (with [`ENGINE_VERSION`]). Equal specs have equal keys on
/// every machine; the store files results under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunKey(pub u64);

impl fmt::Display for RunKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl RunSpec {
    /// A run with default network, training and evaluation.
    pub fn new(task: TaskSpec, rule: RuleSpec) -> Self {
        Self {
            seed: 0,
            network: NetworkSpec::default(),
            task,
            rule,
            training: TrainingConfig::default(),
            evaluation: Evaluation::default(),
        }
    }

    /// Checks every part: the task, the rule, the network, the training
    /// config and the evaluation.
    pub fn validate(&self) -> Result<()> {
        self.network_config()?.validate()?;
        self.rule.build()?;
        self.training.validate()?;
        if self.evaluation.trials == 0 {
            return Err(ExperimentError::Spec(
                "evaluation.trials must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The canonical JSON text of the spec (struct fields in declaration
    /// order, floats in shortest round-trip form).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The stable key of this spec.
    pub fn key(&self) -> RunKey {
        let mut hasher = Sha256::new();
        hasher.update(format!("rnn-experiment/{ENGINE_VERSION}\n").as_bytes());
        hasher.update(self.canonical_json().as_bytes());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        RunKey(u64::from_be_bytes(first))
    }

    /// The spec as TOML (every field written out).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| ExperimentError::Spec(e.to_string()))
    }

    /// Reads a spec from TOML; missing optional parts take their defaults.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| ExperimentError::Spec(e.to_string()))
    }

    /// The network config: the spec's hyperparameters with the task's sizes.
    pub fn network_config(&self) -> Result<NetworkConfig> {
        Ok(self
            .network
            .config(self.task.n_inputs()?, self.task.n_outputs()?))
    }

    /// The untrained network (stream [`STREAM_NETWORK`] of the seed).
    pub fn initial_network(&self) -> Result<Network> {
        Ok(Network::random(
            &self.network_config()?,
            &mut self.stream(STREAM_NETWORK),
        )?)
    }

    /// A fresh instance of the task (construction draws from stream [`STREAM_TASK`]).
    pub fn build_task(&self) -> Result<Box<dyn Task + Send>> {
        Ok(self.task.build(&mut self.stream(STREAM_TASK))?)
    }

    /// Stream `stream` of the replicate seed.
    pub fn stream(&self, stream: u64) -> SeededRng {
        seeded_stream(self.seed, stream)
    }

    /// Time steps of the whole run's training (for progress reports).
    pub fn training_steps(&self) -> u64 {
        let steps = self.task.steps_per_trial().unwrap_or(1) as u64;
        steps * self.training.n_trials as u64
    }
}
