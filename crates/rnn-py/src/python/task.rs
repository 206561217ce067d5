//! `rflo.tasks.Task`: a built-in task from the task registry.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyList;

use rnn_core::{SeededRng, Trial, TrialSource, seeded};
use rnn_tasks::{Task, TaskSpec};

use super::arrays::{from_json_text, json_text};
use super::errors::{self, core, value_error};
use super::trial::PyTrial;

/// A built-in task, from its spec (a dict such as `{"name": "periodic",
/// "period": 200}`; fields of the Rust config, missing ones take defaults).
/// `seed` drives the draws made when the task is built (e.g. the whole
/// sequence's initial state); trials are drawn from the training seed.
#[pyclass(module = "rflo._native", name = "Task", frozen)]
pub struct PyTask {
    pub spec: TaskSpec,
    // Tasks carry state between trials; the lock makes the object shareable
    // between Python threads (each `train` call holds it for the run).
    pub task: Mutex<Box<dyn Task + Send>>,
}

impl PyTask {
    /// Runs `f` with the task as a trial source.
    pub fn with_source<T>(&self, f: impl FnOnce(&mut dyn TrialSource) -> T) -> PyResult<T> {
        let mut task = self
            .task
            .lock()
            .map_err(|_| value_error("the task was poisoned by an earlier failure"))?;
        Ok(f(task.as_mut()))
    }
}

#[pymethods]
impl PyTask {
    #[new]
    #[pyo3(signature = (spec, *, seed = 0))]
    fn new(spec: &Bound<'_, PyAny>, seed: u64) -> PyResult<Self> {
        let task_spec = crate::spec::task_from_json(&json_text(spec)?).map_err(errors::spec)?;
        let task = task_spec.build(&mut seeded(seed)).map_err(value_error)?;
        Ok(Self {
            spec: task_spec,
            task: Mutex::new(task),
        })
    }

    /// The task's registry name ("periodic", ...).
    #[getter]
    fn name(&self) -> &'static str {
        self.spec.name()
    }

    /// The full spec as a dict (defaults filled in).
    #[getter(spec)]
    fn spec_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json_text(py, &crate::spec::to_json(&self.spec))
    }

    /// `N_x`.
    #[getter]
    fn n_inputs(&self) -> PyResult<usize> {
        self.spec.n_inputs().map_err(value_error)
    }

    /// `N_y`.
    #[getter]
    fn n_outputs(&self) -> PyResult<usize> {
        self.spec.n_outputs().map_err(value_error)
    }

    /// `n` trials drawn from a generator seeded with `seed` (continuing the
    /// task's own state, e.g. the reach task's cursor): on a fresh task,
    /// exactly the first `n` trials that `rflo.train(..., seed=seed)` trains on.
    #[pyo3(signature = (n, *, seed = 0))]
    fn trials<'py>(&self, py: Python<'py>, n: usize, seed: u64) -> PyResult<Bound<'py, PyList>> {
        let mut rng: SeededRng = seeded(seed);
        let trials: Vec<Trial> = self
            .with_source(|source| {
                (0..n)
                    .map(|_| source.next_trial(&mut rng))
                    .collect::<rnn_core::Result<Vec<_>>>()
            })?
            .map_err(core)?;
        PyList::new(py, trials.into_iter().map(|inner| PyTrial { inner }))
    }

    /// Returns the task's carried state (if any) to its start.
    fn reset(&self) -> PyResult<()> {
        let mut task = self
            .task
            .lock()
            .map_err(|_| value_error("the task was poisoned by an earlier failure"))?;
        task.reset();
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("Task({})", crate::spec::to_json(&self.spec))
    }
}

/// The task registry's names, in registry order.
#[pyfunction]
pub fn task_registry() -> Vec<&'static str> {
    crate::spec::task_registry()
}
