//! The error type of `cargo xtask sweep`.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can stop a sweep, with a message meant for the user.
#[derive(Debug)]
pub enum SweepError {
    /// The sweep file is unreadable or invalid (unknown rule or task, empty axis, ...).
    SweepFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A bad `--shard i/n`.
    Shard {
        /// The spec as given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// Bad command-line options (other than the shard).
    Options(String),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// A CSV line does not parse or does not belong here.
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0: the file as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Training or evaluating a grid point failed (other than divergence,
    /// which is a result, not an error).
    Point {
        /// Grid index.
        index: usize,
        /// The cause.
        reason: String,
    },
    /// A checkpoint or an output folder belongs to another sweep.
    Resume(String),
}

impl SweepError {
    pub(crate) fn sweep_file(path: &Path, reason: impl Into<String>) -> Self {
        Self::SweepFile {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &Path, reason: impl fmt::Display) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn csv(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        Self::Csv {
            path: path.to_path_buf(),
            line,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SweepFile { path, reason } => {
                write!(f, "sweep file {}: {reason}", path.display())
            }
            Self::Shard { spec, reason } => write!(f, "bad shard spec `{spec}`: {reason}"),
            Self::Options(reason) => write!(f, "{reason}"),
            Self::Io { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::Csv { path, line, reason } => {
                if *line == 0 {
                    write!(f, "{}: {reason}", path.display())
                } else {
                    write!(f, "{}:{line}: {reason}", path.display())
                }
            }
            Self::Point { index, reason } => write!(f, "grid point {index}: {reason}"),
            Self::Resume(reason) => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for SweepError {}
