//! Rust errors as Python exceptions, with the Rust message.
//!
//! Bad values and shapes are `ValueError`; a failing file operation is
//! `OSError`. Divergence is reported to the Python layer as data (it raises
//! `rflo.DivergedError` with the partial history).

use std::fmt::Display;

use pyo3::PyErr;
use pyo3::exceptions::{PyOSError, PyValueError};
use rnn_core::CoreError;
use rnn_experiment::ExperimentError;
use rnn_learn::LearnError;

use crate::spec::SpecError;

/// A `ValueError` with `error`'s message.
pub fn value_error(error: impl Display) -> PyErr {
    PyValueError::new_err(error.to_string())
}

/// An `rnn-core` error: `OSError` for I/O, `ValueError` otherwise.
pub fn core(error: CoreError) -> PyErr {
    match error {
        CoreError::Io { .. } => PyOSError::new_err(error.to_string()),
        other => value_error(other),
    }
}

/// An `rnn-learn` error.
pub fn learn(error: LearnError) -> PyErr {
    match error {
        LearnError::Core(inner) => core(inner),
        other => value_error(other),
    }
}

/// An `rnn-experiment` error.
pub fn experiment(error: ExperimentError) -> PyErr {
    value_error(error)
}

/// An error of the text-to-spec layer.
pub fn spec(error: SpecError) -> PyErr {
    value_error(error)
}
