//! numpy arrays in and out.
//!
//! In: any array-like of real numbers (`float64`, `float32`, integers,
//! booleans; C- or Fortran-ordered or strided) is converted to `float64` by
//! `numpy.asarray(...).astype(float64)`, exactly for every such input;
//! complex, object and string arrays are refused with a `TypeError`, arrays
//! of the wrong dimension with a `ValueError`. Out: fresh C-ordered `float64`
//! arrays (copies; changing them does not change the network).

use numpy::ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rnn_core::faer::{Mat, MatRef};

/// `obj` as a `float64` numpy array, or a clear error naming `what`.
fn as_float64<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyAny>> {
    let numpy = PyModule::import(obj.py(), "numpy")?;
    let array = numpy.call_method1("asarray", (obj,)).map_err(|e| {
        PyTypeError::new_err(format!("{what}: not convertible to a numeric array ({e})"))
    })?;
    let dtype = array.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "b" | "i" | "u" | "f") {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected real numbers, got an array of dtype {}",
            dtype.str()?
        )));
    }
    array.call_method1("astype", ("float64",))
}

fn ndim(array: &Bound<'_, PyAny>) -> PyResult<usize> {
    array.getattr("ndim")?.extract()
}

fn shape(array: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(array.getattr("shape")?.str()?.to_string())
}

/// A 2-D array as a `rows x cols` matrix (the array's own layout).
pub fn matrix(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Mat<f64>> {
    let array = as_float64(obj, what)?;
    if ndim(&array)? != 2 {
        return Err(PyValueError::new_err(format!(
            "{what} must be a 2-D array, got shape {}",
            shape(&array)?
        )));
    }
    let array: PyReadonlyArray2<'_, f64> = array.extract()?;
    let view = array.as_array();
    Ok(Mat::from_fn(view.nrows(), view.ncols(), |i, j| {
        view[[i, j]]
    }))
}

/// A 2-D array, or a 1-D array of length `T` read as `T x 1`.
pub fn matrix_or_column(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Mat<f64>> {
    let array = as_float64(obj, what)?;
    if ndim(&array)? == 1 {
        let values = vector(&array, what)?;
        return Ok(Mat::from_fn(values.len(), 1, |i, _| values[i]));
    }
    matrix(&array, what)
}

/// A 1-D array as a vector.
pub fn vector(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
    let array = as_float64(obj, what)?;
    if ndim(&array)? != 1 {
        return Err(PyValueError::new_err(format!(
            "{what} must be a 1-D array, got shape {}",
            shape(&array)?
        )));
    }
    let array: PyReadonlyArray1<'_, f64> = array.extract()?;
    Ok(array.as_array().to_vec())
}

/// A copy of `m` as a C-ordered numpy array.
pub fn to_numpy<'py>(py: Python<'py>, m: MatRef<'_, f64>) -> Bound<'py, PyArray2<f64>> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)]).into_pyarray(py)
}

/// A copy of `v` as a numpy array.
pub fn vector_to_numpy<'py>(py: Python<'py>, v: &[f64]) -> Bound<'py, PyArray1<f64>> {
    Array1::from(v.to_vec()).into_pyarray(py)
}

/// `obj` (dicts, lists, numbers, strings, numpy arrays and scalars) as JSON
/// text, by Python's `json` with numpy values turned into lists and numbers.
pub fn json_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    let json = PyModule::import(py, "json")?;
    let util = PyModule::import(py, "rflo._convert")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("default", util.getattr("json_default")?)?;
    kwargs.set_item("allow_nan", true)?;
    json.call_method("dumps", (obj,), Some(&kwargs))?.extract()
}

/// JSON text as Python values (dicts, lists, numbers, strings).
pub fn from_json_text<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    PyModule::import(py, "json")?.call_method1("loads", (text,))
}
