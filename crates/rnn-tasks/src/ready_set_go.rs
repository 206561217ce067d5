//! Interval matching, "Ready–Set–Go" (docs/spec/TASKS.md §2, Fig 3).
//!
//! With the Gaussian pulse `g(s) = exp(-s² / (2σ²))`:
//!
//! - input  `x(t)  = g(t - t_ready) + g(t - t_set)`, `t_set = t_ready + T_delay`;
//! - target `y*(t) = g(t - (t_set + T_delay))`;
//! - `T_delay` uniform over the integers `T_min..=T_max` (**both ends
//!   inclusive**), drawn afresh for every trial;
//! - trial length `T = t_ready + 2 T_max + ceil(4σ)` (the target pulse has
//!   decayed to `exp(-8) ≈ 3e-4` at the end of the longest-delay trial);
//! - `h(0) = 0` at every trial start; nothing carries over.
//!
//! **Index convention.** All times (`t_ready`, `t_set`, peak times) are the
//! spec's 1-based `t`; the value at time `t` is stored at step index
//! `s = t - 1`. So the Ready pulse peaks at index `t_ready - 1`, the Set pulse
//! at `t_set - 1` and the target at `t_set + T_delay - 1`.
//! [`produced_interval`] uses the same convention.

use faer::Mat;
use rand::RngExt;
use rnn_core::{InitialState, SeededRng, Trial};
use serde::{Deserialize, Serialize};

use crate::Task;
use crate::error::{Result, TaskError, finite, nonzero, positive};

/// The Gaussian pulse `g(s) = exp(-s² / (2σ²))` (peak 1 at `s = 0`).
///
/// ```
/// assert_eq!(rnn_tasks::gaussian_pulse(0.0, 15.0), 1.0);
/// assert!((rnn_tasks::gaussian_pulse(15.0, 15.0) - (-0.5f64).exp()).abs() < 1e-15);
/// ```
pub fn gaussian_pulse(s: f64, sigma: f64) -> f64 {
    (-(s * s) / (2.0 * sigma * sigma)).exp()
}

/// How the trial length `T` is set.
///
/// In TOML: `trial_length = "rule"` or `trial_length = { fixed = 700 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TrialLength {
    /// The spec's rule (**choice**): `T = t_ready + 2 T_max + ceil(4σ)`.
    #[default]
    Rule,
    /// A fixed length; must be at least `t_ready + 2 T_max` so the target
    /// peak of the longest delay lies inside the trial.
    Fixed(usize),
}

/// Configuration of the Ready–Set–Go task. Defaults are the spec's RFLO
/// panel with `T_max = 15τ`.
///
/// ```
/// use rnn_tasks::ReadySetGoConfig;
/// // The BPTT panel: delays up to 25τ = 250 steps.
/// let config = ReadySetGoConfig { max_delay: 250, ..ReadySetGoConfig::default() };
/// assert_eq!(config.trial_len()?, 50 + 2 * 250 + 60);
/// # Ok::<(), rnn_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadySetGoConfig {
    /// Width `σ` of the Gaussian pulses, in steps; finite, `> 0`. Default 15.
    pub sigma: f64,
    /// Time `t_ready` (1-based) of the Ready pulse's peak; `>= 1`.
    /// Default 50 (**choice**).
    pub t_ready: usize,
    /// `T_min`, the shortest delay in steps; `>= 1`. Default 50 = 5τ (**choice**).
    pub min_delay: usize,
    /// `T_max`, the longest delay in steps; `>= T_min`. Default 150 = 15τ
    /// (RFLO panels: 150 or 200; BPTT panel: 250).
    pub max_delay: usize,
    /// Trial length rule. Default [`TrialLength::Rule`] (**choice**).
    pub trial_length: TrialLength,
    /// The value of every unit of `h(0)` at each trial start; finite.
    /// Default 0 (**choice**).
    pub initial_value: f64,
}

impl Default for ReadySetGoConfig {
    fn default() -> Self {
        Self {
            sigma: 15.0,
            t_ready: 50,
            min_delay: 50,
            max_delay: 150,
            trial_length: TrialLength::Rule,
            initial_value: 0.0,
        }
    }
}

impl ReadySetGoConfig {
    /// The default config with delays in `[min_delay, max_delay]`.
    pub fn with_delays(min_delay: usize, max_delay: usize) -> Self {
        Self {
            min_delay,
            max_delay,
            ..Self::default()
        }
    }

    /// Checks every field; returns the first violation:
    /// [`TaskError::NonFinite`] / [`TaskError::NonPositive`] for `sigma`,
    /// [`TaskError::Zero`] for `t_ready`, `min_delay` or a fixed length of 0,
    /// [`TaskError::EmptyDelayRange`] for `min_delay > max_delay`,
    /// [`TaskError::DelayRangeTooLong`] when a fixed length is shorter than
    /// `t_ready + 2 T_max`, [`TaskError::NonFinite`] for `initial_value`.
    pub fn validate(&self) -> Result<()> {
        self.trial_len().map(|_| ())
    }

    /// The trial length `T` after validating the config.
    pub fn trial_len(&self) -> Result<usize> {
        positive("sigma", self.sigma)?;
        nonzero("t_ready", self.t_ready)?;
        nonzero("min_delay", self.min_delay)?;
        if self.min_delay > self.max_delay {
            return Err(TaskError::EmptyDelayRange {
                min: self.min_delay,
                max: self.max_delay,
            });
        }
        finite("initial_value", self.initial_value)?;
        let overflow = || TaskError::OutOfRange {
            field: "max_delay",
            value: self.max_delay.to_string(),
            reason: "the trial length t_ready + 2 T_max + ceil(4 sigma) overflows",
        };
        // Time of the latest target peak: t_ready + 2 T_max.
        let needed = self
            .max_delay
            .checked_mul(2)
            .and_then(|d| d.checked_add(self.t_ready))
            .ok_or_else(overflow)?;
        match self.trial_length {
            TrialLength::Rule => {
                let tail = (4.0 * self.sigma).ceil();
                if tail >= usize::MAX as f64 {
                    return Err(TaskError::OutOfRange {
                        field: "sigma",
                        value: self.sigma.to_string(),
                        reason: "4 sigma does not fit a trial length",
                    });
                }
                // `tail` is finite, positive and below usize::MAX: the cast is exact enough.
                needed.checked_add(tail as usize).ok_or_else(overflow)
            }
            TrialLength::Fixed(len) => {
                nonzero("trial_length", len)?;
                if len < needed {
                    return Err(TaskError::DelayRangeTooLong {
                        max_delay: self.max_delay,
                        trial_len: len,
                        needed,
                    });
                }
                Ok(len)
            }
        }
    }
}

/// The peak of an output trace after `t_set`: see [`produced_interval`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalReadout {
    /// Produced interval `t_peak - t_set` in steps (`>= 1`).
    pub interval: usize,
    /// Time `t_peak` (1-based) of the peak; its value is at index `t_peak - 1`.
    pub peak_time: usize,
    /// The output at the peak.
    pub peak_height: f64,
}

/// The interval the network produced: the time of the output's maximum
/// strictly after `t_set`, minus `t_set`.
///
/// `output[s]` is the output at time `t = s + 1` (the crate's convention);
/// `t_set` is 1-based, so the search covers indices `t_set..output.len()`,
/// i.e. times `t_set + 1..=T`. Ties go to the earliest step. For the task's
/// own target the result is exactly `T_delay`.
///
/// Errors: [`TaskError::NoStepsAfterSet`] if the trace ends at or before
/// `t_set`; [`TaskError::NonFiniteTrace`] if a searched value is NaN or
/// infinite (a diverged run).
///
/// ```
/// use rnn_core::seeded;
/// use rnn_tasks::{ReadySetGo, ReadySetGoConfig, produced_interval};
///
/// let task = ReadySetGo::new(ReadySetGoConfig::default())?;
/// let trial = task.trial_with_delay(120)?;
/// let target: Vec<f64> = (0..trial.len()).map(|s| trial.target_at(s)[0]).collect();
/// let readout = produced_interval(&target, task.t_set(120))?;
/// assert_eq!(readout.interval, 120);
/// # Ok::<(), rnn_tasks::TaskError>(())
/// ```
pub fn produced_interval(output: &[f64], t_set: usize) -> Result<IntervalReadout> {
    if output.len() <= t_set {
        return Err(TaskError::NoStepsAfterSet {
            t_set,
            len: output.len(),
        });
    }
    let mut best = t_set;
    for s in t_set..output.len() {
        let value = output[s];
        if !value.is_finite() {
            return Err(TaskError::NonFiniteTrace {
                what: "output trace",
                index: s,
            });
        }
        if value > output[best] {
            best = s;
        }
    }
    let peak_time = best + 1;
    Ok(IntervalReadout {
        interval: peak_time - t_set,
        peak_time,
        peak_height: output[best],
    })
}

/// The Ready–Set–Go task (docs/spec/TASKS.md §2).
///
/// ```
/// use rnn_core::{InitialState, TrialSource, seeded};
/// use rnn_tasks::{ReadySetGo, ReadySetGoConfig, Task};
///
/// let mut task = ReadySetGo::new(ReadySetGoConfig::default())?;
/// assert_eq!((task.n_inputs(), task.n_outputs()), (1, 1));
/// let trial = task.next_trial(&mut seeded(3))?;
/// assert_eq!(trial.len(), 50 + 2 * 150 + 60);
/// assert_eq!(trial.initial_state(), &InitialState::Constant(0.0));
/// let delay = task.last_delay().unwrap();
/// assert!((50..=150).contains(&delay));
/// // The Ready pulse peaks at t = 50, i.e. step index 49.
/// assert_eq!(trial.input_at(49)[0], 1.0 + rnn_tasks::gaussian_pulse(delay as f64, 15.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReadySetGo {
    config: ReadySetGoConfig,
    trial_len: usize,
    last_delay: Option<usize>,
}

impl ReadySetGo {
    /// The task for a validated `config`.
    pub fn new(config: ReadySetGoConfig) -> Result<Self> {
        let trial_len = config.trial_len()?;
        Ok(Self {
            config,
            trial_len,
            last_delay: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ReadySetGoConfig {
        &self.config
    }

    /// Trial length `T` (the same for every delay).
    pub fn trial_len(&self) -> usize {
        self.trial_len
    }

    /// `t_set = t_ready + T_delay` (1-based time of the Set pulse's peak).
    pub fn t_set(&self, delay: usize) -> usize {
        self.config.t_ready + delay
    }

    /// `t_set + T_delay` (1-based time of the target's peak).
    pub fn target_peak_time(&self, delay: usize) -> usize {
        self.config.t_ready + 2 * delay
    }

    /// The delay of the last trial drawn by [`Task::generate`], if any.
    pub fn last_delay(&self) -> Option<usize> {
        self.last_delay
    }

    /// `n` delays spread evenly over `[T_min, T_max]`, both ends included
    /// (rounded to the nearest step): the figures' test set (`n = 11`).
    /// `n = 1` gives `[T_min]`; `n = 0` an empty list.
    ///
    /// ```
    /// # use rnn_tasks::{ReadySetGo, ReadySetGoConfig};
    /// let task = ReadySetGo::new(ReadySetGoConfig::default())?;
    /// assert_eq!(task.evenly_spaced_delays(11), vec![50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]);
    /// # Ok::<(), rnn_tasks::TaskError>(())
    /// ```
    pub fn evenly_spaced_delays(&self, n: usize) -> Vec<usize> {
        let (lo, hi) = (self.config.min_delay, self.config.max_delay);
        match n {
            0 => Vec::new(),
            1 => vec![lo],
            _ => (0..n)
                .map(|i| lo + ((i * (hi - lo)) as f64 / (n - 1) as f64).round() as usize)
                .collect(),
        }
    }

    /// The trial with a given delay; [`TaskError::DelayOutOfRange`] if it is
    /// outside `[T_min, T_max]`. Draws nothing and does not change
    /// [`last_delay`](Self::last_delay).
    pub fn trial_with_delay(&self, delay: usize) -> Result<Trial> {
        let (min, max) = (self.config.min_delay, self.config.max_delay);
        if !(min..=max).contains(&delay) {
            return Err(TaskError::DelayOutOfRange { delay, min, max });
        }
        let sigma = self.config.sigma;
        let t_ready = self.config.t_ready as f64;
        let t_set = self.t_set(delay) as f64;
        let t_go = self.target_peak_time(delay) as f64;
        let len = self.trial_len;
        // Column s holds time t = s + 1.
        let inputs = Mat::from_fn(1, len, |_, s| {
            let t = (s + 1) as f64;
            gaussian_pulse(t - t_ready, sigma) + gaussian_pulse(t - t_set, sigma)
        });
        let targets = Mat::from_fn(1, len, |_, s| gaussian_pulse((s + 1) as f64 - t_go, sigma));
        Ok(Trial::from_columns(
            inputs,
            targets,
            None,
            InitialState::Constant(self.config.initial_value),
        )?)
    }
}

impl Task for ReadySetGo {
    fn n_inputs(&self) -> usize {
        1
    }

    fn n_outputs(&self) -> usize {
        1
    }

    /// Draws `T_delay` uniformly from `T_min..=T_max` (one draw) and returns its trial.
    fn generate(&mut self, rng: &mut SeededRng) -> Result<Trial> {
        let delay = rng.random_range(self.config.min_delay..=self.config.max_delay);
        let trial = self.trial_with_delay(delay)?;
        self.last_delay = Some(delay);
        Ok(trial)
    }

    /// Forgets the last delay.
    fn reset(&mut self) {
        self.last_delay = None;
    }
}

crate::impl_trial_source!(ReadySetGo);
