//! The error type of `rnn-experiment`.

use std::path::PathBuf;

/// Everything that can go wrong when describing, running or storing experiments.
///
/// A run that *diverges* is not an error: it is a result
/// ([`crate::RunRecord::failure`]), kept with its history so far.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExperimentError {
    /// A run specification is invalid or cannot be read.
    #[error("run spec: {0}")]
    Spec(String),
    /// A `--shard i/n` argument is invalid.
    #[error("invalid shard `{spec}`: {reason}")]
    Shard {
        /// The argument as given.
        spec: String,
        /// What is wrong and what a valid one looks like.
        reason: String,
    },
    /// A grid file is invalid.
    #[error("grid: {0}")]
    Grid(String),
    /// An error from the network, a trial or a file.
    #[error(transparent)]
    Core(#[from] rnn_core::CoreError),
    /// An error from a learning rule or the training loop.
    #[error(transparent)]
    Learn(#[from] rnn_learn::LearnError),
    /// An error from a task.
    #[error(transparent)]
    Task(#[from] rnn_tasks::TaskError),
    /// A file of the store could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The runner was asked to stop (its trial budget ran out); every run in
    /// flight saved a checkpoint, so running again resumes.
    #[error("interrupted after the runner's trial budget; run again to resume")]
    Interrupted,
}

impl ExperimentError {
    pub(crate) fn io(path: &std::path::Path, error: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            reason: error.to_string(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;
