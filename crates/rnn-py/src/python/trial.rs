//! `rflo.Trial`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use rnn_core::faer::Mat;
use rnn_core::{InitialState, Trial};

use super::arrays::{matrix, matrix_or_column, to_numpy, vector, vector_to_numpy};
use super::errors::core;

/// The string that asks a trial to continue from the previous trial's final state.
pub const CARRY_OVER: &str = "carry_over";

/// One trial: inputs `x` (T×N_x), targets `y_target` (T×N_y; a 1-D array is
/// one output), an optional `mask` (length T, entries 0 or 1) and the initial
/// state `h0`: a number (every unit), an array of length N, or
/// `"carry_over"` (continue from the previous trial). `x=None` means no
/// inputs. Arrays are copied in.
#[pyclass(module = "rflo._native", name = "Trial", frozen)]
#[derive(Clone)]
pub struct PyTrial {
    pub inner: Trial,
}

fn initial_state(h0: &Bound<'_, PyAny>) -> PyResult<InitialState> {
    if let Ok(text) = h0.extract::<String>() {
        return if text == CARRY_OVER {
            Ok(InitialState::CarryOver)
        } else {
            Err(PyValueError::new_err(format!(
                "h0: expected a number, an array or \"{CARRY_OVER}\", got \"{text}\""
            )))
        };
    }
    if let Ok(value) = h0.extract::<f64>() {
        return Ok(InitialState::Constant(value));
    }
    Ok(InitialState::Given(vector(h0, "h0")?))
}

#[pymethods]
impl PyTrial {
    #[new]
    #[pyo3(signature = (x, y_target, mask = None, h0 = None))]
    fn new(
        x: Option<&Bound<'_, PyAny>>,
        y_target: &Bound<'_, PyAny>,
        mask: Option<&Bound<'_, PyAny>>,
        h0: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let targets = matrix_or_column(y_target, "y_target")?;
        let inputs = match x {
            Some(x) => matrix(x, "x")?,
            None => Mat::zeros(targets.nrows(), 0),
        };
        if inputs.nrows() != targets.nrows() {
            return Err(PyValueError::new_err(format!(
                "x has {} time steps (rows) but y_target has {}",
                inputs.nrows(),
                targets.nrows()
            )));
        }
        let mask = mask.map(|m| vector(m, "mask")).transpose()?;
        let initial = match h0 {
            Some(h0) => initial_state(h0)?,
            None => InitialState::Constant(0.0),
        };
        let inner = Trial::new(inputs.as_ref(), targets.as_ref(), mask, initial).map_err(core)?;
        Ok(Self { inner })
    }

    /// Inputs, T×N_x (a copy).
    #[getter]
    fn x<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.inner.inputs()).into_any()
    }

    /// Targets, T×N_y (a copy).
    #[getter]
    fn y_target<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.inner.targets()).into_any()
    }

    /// The mask (length T), or None.
    #[getter]
    fn mask<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.inner.mask().map(|m| vector_to_numpy(py, m).into_any())
    }

    /// The initial state: a number, an array, or "carry_over".
    #[getter]
    fn h0<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self.inner.initial_state() {
            InitialState::Constant(v) => v.into_pyobject(py)?.into_any(),
            InitialState::Given(h) => vector_to_numpy(py, h).into_any(),
            InitialState::CarryOver => CARRY_OVER.into_pyobject(py)?.into_any(),
        })
    }

    /// `N_x`.
    #[getter]
    fn n_inputs(&self) -> usize {
        self.inner.n_inputs()
    }

    /// `N_y`.
    #[getter]
    fn n_outputs(&self) -> usize {
        self.inner.n_outputs()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self) -> String {
        format!(
            "Trial(T={}, n_inputs={}, n_outputs={}, masked={})",
            self.inner.len(),
            self.inner.n_inputs(),
            self.inner.n_outputs(),
            if self.inner.mask().is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
}
