//! The fixed initial state of a task whose every trial starts from the same
//! `h(0)` (docs/spec/TASKS.md §1 and §4): a constant on every unit, a vector
//! drawn once per network, or a given vector.

use rand::RngExt;
use rnn_core::{InitialState, SeededRng};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TaskError, finite, nonzero};

/// How a task's fixed `h(0)` is obtained; the same `h(0)` starts every trial.
///
/// In TOML: `start = 0.1` (every unit at 0.1), `start = { uniform = { n_units
/// = 30, half_width = 1.0 } }` (drawn once per network, at construction, from
/// the task's construction generator, which a run derives from the network's
/// seed), or `start = { given = [0.1, -0.2, ...] }`.
///
/// ```
/// use rnn_tasks::{FixedStart, PeriodicConfig};
/// let config: PeriodicConfig = toml::from_str("start = 0.1")?;
/// assert_eq!(config.start, FixedStart::Constant(0.1));
/// let config: PeriodicConfig =
///     toml::from_str("start = { uniform = { n_units = 30, half_width = 1.0 } }")?;
/// assert_eq!(config.start, FixedStart::Uniform { n_units: 30, half_width: 1.0 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StartRepr", into = "StartRepr")]
pub enum FixedStart {
    /// Every unit at this value; finite.
    Constant(f64),
    /// Drawn once, every unit i.i.d. `U[-half_width, half_width)`.
    Uniform {
        /// Number of units `N`; `>= 1`, a size a network may have.
        n_units: usize,
        /// Half-width of the interval; finite, `>= 0`.
        half_width: f64,
    },
    /// A given state vector (length `N`, finite entries).
    Given(Vec<f64>),
}

/// The serde form: a bare number is a constant, the others are tagged.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StartRepr {
    Constant(f64),
    Tagged(TaggedStart),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum TaggedStart {
    Constant(f64),
    Uniform { n_units: usize, half_width: f64 },
    Given(Vec<f64>),
}

impl From<StartRepr> for FixedStart {
    fn from(repr: StartRepr) -> Self {
        match repr {
            StartRepr::Constant(value) | StartRepr::Tagged(TaggedStart::Constant(value)) => {
                FixedStart::Constant(value)
            }
            StartRepr::Tagged(TaggedStart::Uniform {
                n_units,
                half_width,
            }) => FixedStart::Uniform {
                n_units,
                half_width,
            },
            StartRepr::Tagged(TaggedStart::Given(h0)) => FixedStart::Given(h0),
        }
    }
}

impl From<FixedStart> for StartRepr {
    fn from(start: FixedStart) -> Self {
        match start {
            FixedStart::Constant(value) => StartRepr::Constant(value),
            FixedStart::Uniform {
                n_units,
                half_width,
            } => StartRepr::Tagged(TaggedStart::Uniform {
                n_units,
                half_width,
            }),
            FixedStart::Given(h0) => StartRepr::Tagged(TaggedStart::Given(h0)),
        }
    }
}

impl FixedStart {
    /// Checks the start:
    /// [`TaskError::NonFinite`] for a non-finite constant or half-width,
    /// [`TaskError::Zero`] for `n_units = 0` or an empty given vector,
    /// [`TaskError::OutOfRange`] for a negative half-width or a size no
    /// network may have, [`TaskError::NonFiniteTrace`] for a non-finite
    /// given entry.
    pub fn validate(&self) -> Result<()> {
        match self {
            FixedStart::Constant(value) => finite("start", *value),
            FixedStart::Uniform {
                n_units,
                half_width,
            } => {
                nonzero("start.n_units", *n_units)?;
                // h(0) is drawn for a network of `n_units` units: a size no
                // network may have is refused before it is allocated.
                if rnn_core::NetworkConfig::new(*n_units, 1, 2)
                    .validate()
                    .is_err()
                {
                    return Err(TaskError::OutOfRange {
                        field: "start.n_units",
                        value: n_units.to_string(),
                        reason: "larger than any network (rnn_core::MAX_WEIGHTS)",
                    });
                }
                finite("start.half_width", *half_width)?;
                if *half_width < 0.0 {
                    return Err(TaskError::OutOfRange {
                        field: "start.half_width",
                        value: half_width.to_string(),
                        reason: "must be >= 0",
                    });
                }
                Ok(())
            }
            FixedStart::Given(h0) => {
                nonzero("start (given h(0) length)", h0.len())?;
                match h0.iter().position(|v| !v.is_finite()) {
                    Some(index) => Err(TaskError::NonFiniteTrace {
                        what: "given h(0)",
                        index,
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    /// The initial state of every trial: with [`FixedStart::Uniform`] drawn
    /// now from `rng` (exactly `N` draws, unit 0 first); otherwise nothing is drawn.
    pub fn draw(&self, rng: &mut SeededRng) -> InitialState {
        match self {
            FixedStart::Constant(value) => InitialState::Constant(*value),
            FixedStart::Uniform {
                n_units,
                half_width,
            } => InitialState::Given(
                (0..*n_units)
                    .map(|_| half_width * (2.0 * rng.random::<f64>() - 1.0))
                    .collect(),
            ),
            FixedStart::Given(h0) => InitialState::Given(h0.clone()),
        }
    }
}
