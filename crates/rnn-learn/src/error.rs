//! The error type of `rnn-learn`.

use rnn_core::CoreError;

use crate::train::History;

/// Everything that can go wrong while learning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LearnError {
    /// An error from the network, a trial or a file.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A hyperparameter is out of its valid range.
    #[error("invalid config: `{field}` = {value}: {reason}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// The value as given, rendered.
        value: String,
        /// What a valid value looks like.
        reason: &'static str,
    },
    /// The rule cannot apply updates inside a trial (BPTT is acausal).
    #[error(
        "{rule} cannot run with the online schedule: it needs the whole trial before any update"
    )]
    OnlineUnsupported {
        /// The rule's name.
        rule: &'static str,
    },
    /// A projection matrix `F` has the wrong shape.
    #[error("projection F must be {expected_rows}x{expected_cols}, got {rows}x{cols}")]
    ProjectionShape {
        /// Expected rows (`N`).
        expected_rows: usize,
        /// Expected columns (`N_y`).
        expected_cols: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// A checkpoint does not belong to the run it is resumed into.
    #[error("cannot resume: {what}")]
    CheckpointMismatch {
        /// What differs.
        what: &'static str,
    },
    /// The loss or the weights became NaN or infinite.
    #[error("training diverged at trial {trial} (0-based): {what} became non-finite")]
    Diverged {
        /// Index of the trial (0-based) in which it happened.
        trial: usize,
        /// What went non-finite ("loss", "W", ...).
        what: &'static str,
    },
    /// The loss grew beyond the divergence bound
    /// [`TrainingConfig::max_loss_ratio`](crate::TrainingConfig::max_loss_ratio).
    #[error(
        "training diverged at trial {trial} (0-based): loss {loss:e} exceeds \
         max_loss_ratio = {max_loss_ratio:e} times the first trial's loss {first_loss:e}"
    )]
    LossBound {
        /// Index of the trial (0-based) whose loss exceeded the bound.
        trial: usize,
        /// Its loss.
        loss: f64,
        /// The loss of the run's first trial.
        first_loss: f64,
        /// The bound on `loss / first_loss`.
        max_loss_ratio: f64,
    },
}

impl LearnError {
    /// The trial (0-based) at which training diverged, for
    /// [`LearnError::Diverged`] and [`LearnError::LossBound`]; `None` for
    /// every other error.
    pub fn diverged_at(&self) -> Option<usize> {
        match self {
            LearnError::Diverged { trial, .. } | LearnError::LossBound { trial, .. } => {
                Some(*trial)
            }
            _ => None,
        }
    }
}

/// A training run that stopped early: the error, and the history of every
/// trial run so far (including the failing trial's loss when a trial ran).
///
/// Displays as its [`source`](TrainError::source); `?` converts it into a
/// [`LearnError`] (dropping the history) where only the error matters.
#[derive(Debug)]
pub struct TrainError {
    /// Every trial run before the run stopped. For a divergence at trial
    /// `k` it holds `k + 1` losses (the last one non-finite or beyond the
    /// bound); for an invalid config or rule it is empty.
    pub history: History,
    /// Why the run stopped.
    pub source: LearnError,
}

impl TrainError {
    /// The trial (0-based) at which the run diverged, if it diverged
    /// (see [`LearnError::diverged_at`]).
    pub fn trial(&self) -> Option<usize> {
        self.source.diverged_at()
    }
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.source, f)
    }
}

impl std::error::Error for TrainError {
    // Transparent, like `#[error(transparent)]`: the message is the source's,
    // so the chain continues with the source's own source.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.source)
    }
}

impl From<TrainError> for LearnError {
    fn from(error: TrainError) -> Self {
        error.source
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = LearnError> = std::result::Result<T, E>;

pub(crate) fn invalid(
    field: &'static str,
    value: impl std::fmt::Debug,
    reason: &'static str,
) -> LearnError {
    LearnError::InvalidConfig {
        field,
        value: format!("{value:?}"),
        reason,
    }
}
