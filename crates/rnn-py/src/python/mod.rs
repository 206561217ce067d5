//! The extension module `rflo._native`: the classes and functions that the
//! Python package `rflo` (python/rflo/) re-exports with its Pythonic layer.

use pyo3::prelude::*;

mod arrays;
mod errors;
mod network;
mod rule;
mod run;
mod task;
mod train;
mod trial;

/// The module's contents, registered once.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<network::PyNetwork>()?;
    m.add_class::<network::PyTrajectory>()?;
    m.add_class::<trial::PyTrial>()?;
    m.add_class::<task::PyTask>()?;
    m.add_class::<rule::PyRule>()?;
    m.add_function(wrap_pyfunction!(rule::rule_registry, m)?)?;
    m.add_function(wrap_pyfunction!(rule::feedback_alignment, m)?)?;
    m.add_function(wrap_pyfunction!(task::task_registry, m)?)?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add_function(wrap_pyfunction!(run::run_toml, m)?)?;
    m.add_function(wrap_pyfunction!(run::json_to_toml, m)?)?;
    Ok(())
}
