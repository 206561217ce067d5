//! The error type of `rnn-core`.

use std::path::PathBuf;

/// Everything that can go wrong in `rnn-core`. Every public fallible function returns it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A configuration value is out of its valid range.
    #[error("invalid config: `{field}` = {value}: {reason}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// The value as given, rendered.
        value: String,
        /// What a valid value looks like.
        reason: &'static str,
    },
    /// A matrix or vector has the wrong shape.
    #[error(
        "shape mismatch for {what}: expected {expected_rows}x{expected_cols}, got {rows}x{cols}"
    )]
    ShapeMismatch {
        /// What was being checked (e.g. "W_in").
        what: &'static str,
        /// Expected number of rows.
        expected_rows: usize,
        /// Expected number of columns.
        expected_cols: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("non-finite value in {what} at ({row}, {col})")]
    NonFinite {
        /// What was being checked.
        what: &'static str,
        /// Row of the first offending entry.
        row: usize,
        /// Column of the first offending entry.
        col: usize,
    },
    /// A trial's loss overflowed or became NaN (the weights are too large).
    #[error("the trial loss is non-finite ({loss})")]
    NonFiniteLoss {
        /// The loss as computed.
        loss: f64,
    },
    /// A [`TrialSource`](crate::TrialSource) failed with its own error
    /// (e.g. an `rnn-tasks` error); downcast the source to inspect it.
    #[error("the trial source failed: {0}")]
    TrialSource(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A trial has no time steps.
    #[error("empty trial: a trial needs at least one time step")]
    EmptyTrial,
    /// A mask entry is not 0 or 1.
    #[error("mask entry at step {step} is {value}; a mask holds only 0 or 1")]
    InvalidMask {
        /// Zero-based step index.
        step: usize,
        /// The offending value.
        value: f64,
    },
    /// A trial asks to carry over the state but no previous state was given.
    #[error("the trial's initial state is `CarryOver` but no previous state was supplied")]
    MissingCarryOverState,
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not one of ours, was truncated, or is corrupted.
    #[error("cannot read {path}: {reason}")]
    CorruptFile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A file is one of ours, but of another kind or format version.
    #[error("{path} holds {found}, expected {expected}")]
    WrongFileKind {
        /// The file.
        path: PathBuf,
        /// What the caller asked for.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A `.npy` file holds another element type than `float64`
    /// (e.g. `float32` or integers: convert with `x.astype(np.float64)`).
    #[error("{path} holds dtype {found}, expected float64 ('<f8' or '>f8')")]
    NpyDtype {
        /// The file.
        path: PathBuf,
        /// The dtype as written in the file's header (numpy `descr`).
        found: String,
    },
    /// A `.npy` array has the wrong number of axes, or an axis of the wrong length.
    #[error("{path} has shape {found:?}, expected {expected}")]
    NpyShape {
        /// The file.
        path: PathBuf,
        /// The expected shape, in words (e.g. `"2 axes (T, N_x) with T = 200"`).
        expected: String,
        /// The shape as written in the file.
        found: Vec<usize>,
    },
    /// A `.npy` array holds NaN or infinity.
    #[error("{path} holds the non-finite value {value} at index {index:?}")]
    NpyNonFinite {
        /// The file.
        path: PathBuf,
        /// The index of the first offending entry (in C order), one entry per axis.
        index: Vec<usize>,
        /// The offending value.
        value: f64,
    },
    /// Encoding a value failed.
    #[error("encoding failed: {0}")]
    Encode(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
