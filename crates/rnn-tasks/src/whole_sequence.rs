//! The whole syllable sequence without a loop (docs/spec/TASKS.md §4, Fig 4c, lower traces).
//!
//! One trial is the concatenated velocity target of a syllable sequence
//! (default `[0, 1, 2, 3, 0, 1, 2, 3]`: two laps around a square, 8 × 200 =
//! 1600 steps), with one constant input `x = 1` and a fixed `h(0)` drawn once
//! per network (at construction) and reused for every trial.

use faer::Mat;
use rnn_core::{InitialState, SeededRng, Trial};
use serde::{Deserialize, Serialize};

use crate::Task;
use crate::error::{Result, TaskError, finite};
use crate::reach::SyllableShape;
use crate::start::FixedStart;

/// Configuration of the whole-sequence task.
///
/// ```
/// use rnn_tasks::{FixedStart, WholeSequenceConfig};
/// let config = WholeSequenceConfig {
///     sequence: vec![0, 2, 1, 3],
///     start: FixedStart::Given(vec![0.0; 100]),
///     ..WholeSequenceConfig::default()
/// };
/// config.validate()?;
/// # Ok::<(), rnn_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WholeSequenceConfig {
    /// Syllable shape (`K = 4`, `D = 200`, `M = 100`, `L = 1`).
    pub shape: SyllableShape,
    /// The syllable sequence; non-empty, every entry `< K`. Default
    /// `[0, 1, 2, 3, 0, 1, 2, 3]` (**choice**).
    pub sequence: Vec<usize>,
    /// Value of the constant input `x`; finite. Default 1 (**choice**).
    pub input_value: f64,
    /// The fixed `h(0)`. Default `Uniform { n_units: 100, half_width: 1.0 }`
    /// (**choice**).
    pub start: FixedStart,
}

impl Default for WholeSequenceConfig {
    fn default() -> Self {
        Self {
            shape: SyllableShape::default(),
            sequence: vec![0, 1, 2, 3, 0, 1, 2, 3],
            input_value: 1.0,
            start: FixedStart::Uniform {
                n_units: 100,
                half_width: 1.0,
            },
        }
    }
}

impl WholeSequenceConfig {
    /// Checks every field: [`SyllableShape::validate`],
    /// [`TaskError::EmptySequence`], [`TaskError::SyllableOutOfRange`] (with
    /// the position), [`TaskError::NonFinite`] for `input_value`, and for the
    /// start [`TaskError::Zero`] (`n_units = 0` or an empty given vector),
    /// [`TaskError::NonFinite`] / [`TaskError::OutOfRange`] for the
    /// half-width, [`TaskError::NonFiniteTrace`] for a non-finite given entry.
    pub fn validate(&self) -> Result<()> {
        self.shape.validate()?;
        if self.sequence.is_empty() {
            return Err(TaskError::EmptySequence);
        }
        for (position, &syllable) in self.sequence.iter().enumerate() {
            self.shape.check_syllable(syllable, Some(position))?;
        }
        if self
            .sequence
            .len()
            .checked_mul(self.shape.syllable_len)
            .is_none()
        {
            return Err(TaskError::OutOfRange {
                field: "shape.syllable_len",
                value: self.shape.syllable_len.to_string(),
                reason: "the trial length len(sequence) * syllable_len overflows",
            });
        }
        finite("input_value", self.input_value)?;
        if let FixedStart::Constant(_) = self.start {
            return Err(constant_start_refused());
        }
        self.start.validate()?;
        Ok(())
    }

    /// Trial length `T = len(sequence) · D` (saturating; [`validate`](Self::validate)
    /// refuses a product that overflows).
    pub fn trial_len(&self) -> usize {
        self.sequence.len().saturating_mul(self.shape.syllable_len)
    }
}

/// The task's `h0()` is a vector of `N` values; a constant start has no `N`.
fn constant_start_refused() -> TaskError {
    TaskError::OutOfRange {
        field: "start",
        value: "a constant".into(),
        reason: "the whole-sequence task needs `uniform` or `given` (its h(0) has N entries)",
    }
}

/// The whole-sequence task (docs/spec/TASKS.md §4). Deterministic after construction:
/// every trial is the same.
///
/// ```
/// use rnn_core::{InitialState, TrialSource, seeded};
/// use rnn_tasks::{Task, WholeSequence, WholeSequenceConfig};
///
/// // h(0) ~ U[-1, 1) for N = 100, drawn once from this generator.
/// let mut task = WholeSequence::new(WholeSequenceConfig::default(), &mut seeded(9))?;
/// assert_eq!((task.n_inputs(), task.n_outputs()), (1, 2));
/// let trial = task.next_trial(&mut seeded(0))?;
/// assert_eq!(trial.len(), 1600);
/// assert_eq!(trial.input_at(1234), &[1.0]);
/// assert!(matches!(trial.initial_state(), InitialState::Given(h0) if h0.len() == 100));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WholeSequence {
    config: WholeSequenceConfig,
    h0: Vec<f64>,
    trial: Trial,
}

impl WholeSequence {
    /// The task for a validated `config`. With [`FixedStart::Uniform`]
    /// `h(0)` is drawn here from `rng` (exactly `N` draws); with
    /// [`FixedStart::Given`] nothing is drawn.
    pub fn new(config: WholeSequenceConfig, rng: &mut SeededRng) -> Result<Self> {
        config.validate()?;
        let InitialState::Given(h0) = config.start.draw(rng) else {
            return Err(constant_start_refused());
        };
        let targets = config.shape.sequence_velocity(&config.sequence)?;
        let inputs = Mat::from_fn(1, targets.ncols(), |_, _| config.input_value);
        let trial = Trial::from_columns(inputs, targets, None, InitialState::Given(h0.clone()))?;
        Ok(Self { config, h0, trial })
    }

    /// The configuration.
    pub fn config(&self) -> &WholeSequenceConfig {
        &self.config
    }

    /// The fixed initial state `h(0)` (length `N`).
    pub fn h0(&self) -> &[f64] {
        &self.h0
    }

    /// The (single, fixed) trial.
    pub fn trial(&self) -> &Trial {
        &self.trial
    }
}

impl Task for WholeSequence {
    fn n_inputs(&self) -> usize {
        1
    }

    fn n_outputs(&self) -> usize {
        2
    }

    /// The fixed trial; draws nothing from `rng`.
    fn generate(&mut self, _rng: &mut SeededRng) -> Result<Trial> {
        Ok(self.trial.clone())
    }
}

crate::impl_trial_source!(WholeSequence);
