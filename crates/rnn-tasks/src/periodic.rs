//! Periodic output (docs/spec/TASKS.md §1, Fig 2).
//!
//! One trial is one period of `T` steps, no input, one output with target
//! `y*(t) = sin(2πt/T) + 0.5 sin(4πt/T) + 0.25 sin(8πt/T)` for `t = 1..T`
//! (stored at step index `s = t - 1`, so the last step, `t = T`, is back at 0).
//! Every trial starts from the same fixed state: `h(0) = 0.1` on every unit
//! by default (the paper's example code), or a vector drawn once per network
//! from `U[-1, 1)` (the paper's text: "a specified initial activity vector");
//! see [`FixedStart`]. Nothing carries over.

use std::f64::consts::PI;

use faer::Mat;
use rnn_core::{SeededRng, Trial};
use serde::{Deserialize, Serialize};

use crate::Task;
use crate::error::{Result, nonzero};
use crate::start::FixedStart;

/// Configuration of the periodic task.
///
/// ```
/// use rnn_tasks::PeriodicConfig;
/// let config = PeriodicConfig { period: 400, ..PeriodicConfig::default() };
/// config.validate()?;
/// # Ok::<(), rnn_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeriodicConfig {
    /// Period `T` in steps = trial length; `>= 1`. Default 200 (= 20τ, the
    /// shortest of the paper's `{200, 400, 800, 1600}`).
    pub period: usize,
    /// The `h(0)` of every trial. Default `0.1` on every unit (the paper's
    /// example code; `h(0) = 0` would stay at 0); `{ uniform = { n_units = N,
    /// half_width = 1.0 } }` draws it once per network. Read as
    /// `initial_value = 0.1` too (the field's former name).
    #[serde(alias = "initial_value")]
    pub start: FixedStart,
}

impl Default for PeriodicConfig {
    fn default() -> Self {
        Self {
            period: 200,
            start: FixedStart::Constant(0.1),
        }
    }
}

impl PeriodicConfig {
    /// The default config with period `period`.
    pub fn with_period(period: usize) -> Self {
        Self {
            period,
            ..Self::default()
        }
    }

    /// Checks every field: [`TaskError::Zero`](crate::TaskError::Zero) for
    /// `period = 0`, and [`FixedStart::validate`] for the start.
    pub fn validate(&self) -> Result<()> {
        nonzero("period", self.period)?;
        self.start.validate()
    }
}

/// The periodic target at time `t` (1-based) for period `period`:
/// `sin(2πt/T) + 0.5 sin(4πt/T) + 0.25 sin(8πt/T)`.
///
/// ```
/// let y = rnn_tasks::periodic_target(50, 200);
/// // t = T/4: sin(π/2) + 0.5 sin(π) + 0.25 sin(2π) = 1
/// assert!((y - 1.0).abs() < 1e-12);
/// ```
pub fn periodic_target(t: usize, period: usize) -> f64 {
    let phase = 2.0 * PI * t as f64 / period as f64;
    phase.sin() + 0.5 * (2.0 * phase).sin() + 0.25 * (4.0 * phase).sin()
}

/// The periodic-output task (docs/spec/TASKS.md §1). Deterministic after
/// construction: every trial is the same.
///
/// ```
/// use rnn_core::{InitialState, TrialSource, seeded};
/// use rnn_tasks::{Periodic, PeriodicConfig, Task};
///
/// let mut task = Periodic::new(PeriodicConfig::with_period(200), &mut seeded(9))?;
/// assert_eq!((task.n_inputs(), task.n_outputs()), (0, 1));
/// let trial = task.next_trial(&mut seeded(0))?;
/// assert_eq!(trial.len(), 200);
/// assert_eq!(trial.initial_state(), &InitialState::Constant(0.1));
/// // Step index s holds t = s + 1: the last step, t = T, is a full period.
/// assert!(trial.target_at(199)[0].abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Periodic {
    config: PeriodicConfig,
    trial: Trial,
}

impl Periodic {
    /// The task for a validated `config`. With [`FixedStart::Uniform`] `h(0)`
    /// is drawn here from `rng` (exactly `N` draws); otherwise nothing is drawn.
    pub fn new(config: PeriodicConfig, rng: &mut SeededRng) -> Result<Self> {
        config.validate()?;
        let period = config.period;
        let inputs = Mat::<f64>::zeros(0, period);
        let targets = Mat::from_fn(1, period, |_, s| periodic_target(s + 1, period));
        let trial = Trial::from_columns(inputs, targets, None, config.start.draw(rng))?;
        Ok(Self { config, trial })
    }

    /// The configuration.
    pub fn config(&self) -> &PeriodicConfig {
        &self.config
    }

    /// The (single, fixed) trial.
    pub fn trial(&self) -> &Trial {
        &self.trial
    }
}

impl Task for Periodic {
    fn n_inputs(&self) -> usize {
        0
    }

    fn n_outputs(&self) -> usize {
        1
    }

    /// The fixed trial; draws nothing from `rng`.
    fn generate(&mut self, _rng: &mut SeededRng) -> Result<Trial> {
        Ok(self.trial.clone())
    }
}

crate::impl_trial_source!(Periodic);
