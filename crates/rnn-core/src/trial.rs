//! `Trial`: what a task hands to a network or a learner (docs/spec/MODEL.md §1, docs/spec/TASKS.md).

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::config::NetworkConfig;
use crate::error::{CoreError, Result};
use crate::network::check_matrix;

/// How `h(0)` is set at the start of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InitialState {
    /// Every unit starts at the same value (`0.0` for a silent start; the
    /// periodic task uses `0.1`).
    Constant(f64),
    /// A given state vector of length `N`.
    Given(Vec<f64>),
    /// Continue from the final state of the previous trial (docs/spec/TASKS.md §3);
    /// the caller supplies that state. Readout feedback continues from the
    /// previous trial's last output.
    CarryOver,
}

/// One trial: inputs, targets, an optional mask and the initial-state rule.
///
/// Data are stored step-major (a column per time step) so that a step reads
/// contiguous memory; [`Trial::new`] takes the conventional `T×N_x` and
/// `T×N_y` layout used by neurogym and PsychRNN, [`Trial::from_columns`] the
/// step-major one without a copy. Step `s = 0..T` is the spec's `t = s + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    inputs: Mat<f64>,
    targets: Mat<f64>,
    mask: Option<Vec<f64>>,
    initial_state: InitialState,
}

impl Trial {
    /// A trial from `inputs` (`T×N_x`, `N_x` may be 0) and `targets` (`T×N_y`).
    ///
    /// `mask`, if given, has length `T` with entries in {0, 1}.
    pub fn new(
        inputs: MatRef<'_, f64>,
        targets: MatRef<'_, f64>,
        mask: Option<Vec<f64>>,
        initial_state: InitialState,
    ) -> Result<Self> {
        Self::from_columns(
            inputs.transpose().to_owned(),
            targets.transpose().to_owned(),
            mask,
            initial_state,
        )
    }

    /// A trial from step-major data: `inputs` is `N_x×T`, `targets` is `N_y×T`.
    pub fn from_columns(
        inputs: Mat<f64>,
        targets: Mat<f64>,
        mask: Option<Vec<f64>>,
        initial_state: InitialState,
    ) -> Result<Self> {
        let len = targets.ncols();
        if len == 0 {
            return Err(CoreError::EmptyTrial);
        }
        check_matrix(
            "trial targets (N_y x T)",
            targets.as_ref(),
            targets.nrows(),
            len,
        )?;
        check_matrix(
            "trial inputs (N_x x T)",
            inputs.as_ref(),
            inputs.nrows(),
            len,
        )?;
        if let Some(mask) = &mask {
            check_mask(mask, len)?;
        }
        check_initial_state(&initial_state)?;
        Ok(Self {
            inputs,
            targets,
            mask,
            initial_state,
        })
    }

    /// Number of time steps `T`.
    pub fn len(&self) -> usize {
        self.targets.ncols()
    }

    /// Always false: a trial has at least one step.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `N_x`.
    pub fn n_inputs(&self) -> usize {
        self.inputs.nrows()
    }

    /// `N_y`.
    pub fn n_outputs(&self) -> usize {
        self.targets.nrows()
    }

    /// `x(t)` at step `s` (`t = s + 1`).
    pub fn input_at(&self, step: usize) -> &[f64] {
        self.inputs.col_as_slice(step)
    }

    /// `y*(t)` at step `s` (`t = s + 1`).
    pub fn target_at(&self, step: usize) -> &[f64] {
        self.targets.col_as_slice(step)
    }

    /// `m(t)` at step `s`: 1 when there is no mask.
    pub fn mask_at(&self, step: usize) -> f64 {
        self.mask.as_ref().map_or(1.0, |m| m[step])
    }

    /// Inputs as `T×N_x` (a view, no copy).
    pub fn inputs(&self) -> MatRef<'_, f64> {
        self.inputs.as_ref().transpose()
    }

    /// Targets as `T×N_y` (a view, no copy).
    pub fn targets(&self) -> MatRef<'_, f64> {
        self.targets.as_ref().transpose()
    }

    /// Inputs step-major, `N_x×T`.
    pub fn inputs_by_step(&self) -> MatRef<'_, f64> {
        self.inputs.as_ref()
    }

    /// Targets step-major, `N_y×T`.
    pub fn targets_by_step(&self) -> MatRef<'_, f64> {
        self.targets.as_ref()
    }

    /// The mask, if any.
    pub fn mask(&self) -> Option<&[f64]> {
        self.mask.as_deref()
    }

    /// The initial-state rule.
    pub fn initial_state(&self) -> &InitialState {
        &self.initial_state
    }

    /// Checks that this trial fits a network with `config`.
    pub fn check_fits(&self, config: &NetworkConfig) -> Result<()> {
        let len = self.len();
        check_matrix(
            "trial inputs (N_x x T)",
            self.inputs.as_ref(),
            config.n_inputs,
            len,
        )?;
        check_matrix(
            "trial targets (N_y x T)",
            self.targets.as_ref(),
            config.n_outputs,
            len,
        )?;
        if let InitialState::Given(h0) = &self.initial_state
            && h0.len() != config.n_units
        {
            return Err(CoreError::ShapeMismatch {
                what: "initial state h(0)",
                expected_rows: config.n_units,
                expected_cols: 1,
                rows: h0.len(),
                cols: 1,
            });
        }
        Ok(())
    }
}

fn check_mask(mask: &[f64], len: usize) -> Result<()> {
    if mask.len() != len {
        return Err(CoreError::ShapeMismatch {
            what: "trial mask",
            expected_rows: len,
            expected_cols: 1,
            rows: mask.len(),
            cols: 1,
        });
    }
    match mask.iter().position(|&m| m != 0.0 && m != 1.0) {
        Some(step) => Err(CoreError::InvalidMask {
            step,
            value: mask[step],
        }),
        None => Ok(()),
    }
}

fn check_initial_state(initial_state: &InitialState) -> Result<()> {
    let values: &[f64] = match initial_state {
        InitialState::Constant(v) => std::slice::from_ref(v),
        InitialState::Given(h0) => h0,
        InitialState::CarryOver => &[],
    };
    match values.iter().position(|v| !v.is_finite()) {
        Some(row) => Err(CoreError::NonFinite {
            what: "initial state h(0)",
            row,
            col: 0,
        }),
        None => Ok(()),
    }
}

/// Anything that hands out trials one after another: the seam between tasks
/// (`rnn-tasks`) and learners (`rnn-learn`), which do not depend on each other.
///
/// A source may carry state between trials (e.g. the cursor position of the
/// reach task); every random draw comes from the generator passed in.
pub trait TrialSource {
    /// The next trial.
    fn next_trial(&mut self, rng: &mut crate::rng::SeededRng) -> Result<Trial>;
}

/// A fixed list of trials, handed out in order and cycled.
#[derive(Debug, Clone)]
pub struct TrialCycle {
    trials: Vec<Trial>,
    next: usize,
}

impl TrialCycle {
    /// A cycle over `trials`; an empty list is [`CoreError::EmptyTrial`].
    pub fn new(trials: Vec<Trial>) -> Result<Self> {
        if trials.is_empty() {
            return Err(CoreError::EmptyTrial);
        }
        Ok(Self { trials, next: 0 })
    }
}

impl TrialSource for TrialCycle {
    fn next_trial(&mut self, _rng: &mut crate::rng::SeededRng) -> Result<Trial> {
        let trial = self.trials[self.next].clone();
        self.next = (self.next + 1) % self.trials.len();
        Ok(trial)
    }
}
