//! A user's own trials, read from numpy `.npy` files.
//!
//! [`TrialFiles`] names the files; [`FileTrials`] is the task that hands
//! their trials out in order, cycling. Layout (time along the trial's first
//! axis, as [`rnn_core::export`] writes and neurogym / PsychRNN use):
//!
//! | file | one trial | `K` trials |
//! |---|---|---|
//! | `targets` (required) | `T×N_y` | `K×T×N_y` |
//! | `inputs` (optional; absent = no inputs, `N_x = 0`) | `T×N_x` | `K×T×N_x` |
//! | `mask` (optional; entries 0 or 1) | `T` | `T` (shared) or `K×T` |
//!
//! Every array is `float64` (C or Fortran order) with finite entries; every
//! trial of one set has the same length `T`. Reading and validation are those
//! of [`rnn_core::npy::read_trials`]; failures are
//! [`TaskError::Core`](crate::TaskError::Core) holding the typed
//! [`rnn_core::CoreError`] (`Io`, `CorruptFile`, `NpyDtype`, `NpyShape`,
//! `NpyNonFinite`, `InvalidMask`).
//!
//! ## Relative paths
//!
//! A relative path is used as given, i.e. relative to the process's current
//! directory, unless the spec is first passed through
//! [`TrialFiles::with_base_dir`]: a program that reads a spec from a file
//! (a run or grid TOML) calls it with that file's folder, so that paths in the
//! file are relative to the file itself. Absolute paths are never changed.

use std::path::{Path, PathBuf};

use rnn_core::{InitialState, SeededRng, Trial};
use serde::{Deserialize, Serialize};

use crate::Task;
use crate::error::Result;

/// Where a user's trials are: `.npy` files and the initial-state rule.
///
/// In TOML (inside a `[task]` table with `name = "files"`):
///
/// ```toml
/// inputs = "data/x.npy"        # optional: T x N_x or K x T x N_x
/// targets = "data/y.npy"       # T x N_y or K x T x N_y
/// mask = "data/mask.npy"       # optional: T or K x T
/// initial_state = 0.0          # a number, a list of N numbers, or "carry_over"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialFiles {
    /// Inputs, `T×N_x` or `K×T×N_x`; `None`: the trials have no input (`N_x = 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<PathBuf>,
    /// Targets, `T×N_y` (one trial) or `K×T×N_y` (`K` trials).
    pub targets: PathBuf,
    /// Mask, `T` (every trial) or `K×T` (one per trial); `None`: every step counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<PathBuf>,
    /// `h(0)` of every trial. Default `Constant(0.0)`. In TOML a number
    /// (`Constant`), a list of `N` numbers (`Given`), or `"carry_over"`.
    #[serde(default = "silent_start", with = "initial_state_value")]
    pub initial_state: InitialState,
}

fn silent_start() -> InitialState {
    InitialState::Constant(0.0)
}

impl TrialFiles {
    /// Trials with `targets` only: no inputs, no mask, `h(0) = 0`.
    pub fn new(targets: impl Into<PathBuf>) -> Self {
        Self {
            inputs: None,
            targets: targets.into(),
            mask: None,
            initial_state: silent_start(),
        }
    }

    /// Sets the inputs file (builder style).
    pub fn with_inputs(mut self, inputs: impl Into<PathBuf>) -> Self {
        self.inputs = Some(inputs.into());
        self
    }

    /// Sets the mask file (builder style).
    pub fn with_mask(mut self, mask: impl Into<PathBuf>) -> Self {
        self.mask = Some(mask.into());
        self
    }

    /// Sets the initial-state rule (builder style).
    pub fn with_initial_state(mut self, initial_state: InitialState) -> Self {
        self.initial_state = initial_state;
        self
    }

    /// Resolves every relative path against `base` (absolute paths stay).
    pub fn with_base_dir(mut self, base: &Path) -> Self {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.targets);
        self.inputs.as_mut().map(resolve);
        self.mask.as_mut().map(resolve);
        self
    }

    /// Reads and validates every trial (see the module documentation).
    pub fn read(&self) -> Result<Vec<Trial>> {
        Ok(rnn_core::npy::read_trials(
            self.inputs.as_deref(),
            &self.targets,
            self.mask.as_deref(),
            self.initial_state.clone(),
        )?)
    }

    /// `(N_x, N_y, T)` from the files' headers, without reading the data.
    pub fn sizes(&self) -> Result<(usize, usize, usize)> {
        use rnn_core::npy::read_npy_shape;
        let targets = read_npy_shape(&self.targets)?;
        let (len, ny) = match targets.as_slice() {
            &[len, ny] | &[_, len, ny] => (len, ny),
            _ => {
                return Err(rnn_core::CoreError::NpyShape {
                    path: self.targets.clone(),
                    expected: "2 axes (T, N_y) or 3 axes (K, T, N_y)".into(),
                    found: targets,
                }
                .into());
            }
        };
        let nx = match &self.inputs {
            None => 0,
            Some(path) => read_npy_shape(path)?.last().copied().unwrap_or(0),
        };
        Ok((nx, ny, len))
    }
}

/// The task over a user's trials ([`TrialFiles`]): hands them out in file
/// order and starts again after the last. Draws nothing from the generator.
#[derive(Debug, Clone)]
pub struct FileTrials {
    trials: Vec<Trial>,
    next: usize,
}

impl FileTrials {
    /// Reads and validates the trials of `files`.
    pub fn new(files: &TrialFiles) -> Result<Self> {
        Self::from_trials(files.read()?)
    }

    /// The task over given trials; they must agree on `N_x` and `N_y`
    /// ([`rnn_core::CoreError::EmptyTrial`] for an empty list).
    pub fn from_trials(trials: Vec<Trial>) -> Result<Self> {
        let first = trials.first().ok_or(rnn_core::CoreError::EmptyTrial)?;
        let (nx, ny) = (first.n_inputs(), first.n_outputs());
        if let Some(other) = trials
            .iter()
            .find(|t| t.n_inputs() != nx || t.n_outputs() != ny)
        {
            return Err(crate::TaskError::Shape {
                what: "trial sizes (N_x, N_y)",
                expected: "the same N_x and N_y for every trial",
                rows: other.n_inputs(),
                cols: other.n_outputs(),
            });
        }
        Ok(Self { trials, next: 0 })
    }

    /// The trials, in order.
    pub fn trials(&self) -> &[Trial] {
        &self.trials
    }
}

impl Task for FileTrials {
    fn n_inputs(&self) -> usize {
        self.trials[0].n_inputs()
    }

    fn n_outputs(&self) -> usize {
        self.trials[0].n_outputs()
    }

    /// The next trial in file order (cycling); draws nothing from `rng`.
    fn generate(&mut self, _rng: &mut SeededRng) -> Result<Trial> {
        let trial = self.trials[self.next].clone();
        self.next = (self.next + 1) % self.trials.len();
        Ok(trial)
    }

    /// Back to the first trial.
    fn reset(&mut self) {
        self.next = 0;
    }
}

crate::impl_trial_source!(FileTrials);

/// `InitialState` as a plain value: a number, a list, or `"carry_over"`.
mod initial_state_value {
    use rnn_core::InitialState;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Keyword {
        CarryOver,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(untagged, expecting = "a number, a list of numbers, or \"carry_over\"")]
    enum Value {
        Constant(f64),
        Given(Vec<f64>),
        Keyword(Keyword),
    }

    pub(super) fn serialize<S: Serializer>(state: &InitialState, s: S) -> Result<S::Ok, S::Error> {
        match state {
            InitialState::Constant(v) => Value::Constant(*v),
            InitialState::Given(h0) => Value::Given(h0.clone()),
            InitialState::CarryOver => Value::Keyword(Keyword::CarryOver),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<InitialState, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Constant(v) => InitialState::Constant(v),
            Value::Given(h0) => InitialState::Given(h0),
            Value::Keyword(Keyword::CarryOver) => InitialState::CarryOver,
        })
    }
}
