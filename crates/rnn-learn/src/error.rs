//! The error type of `rnn-learn`.

use rnn_core::CoreError;

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
