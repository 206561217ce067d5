//! `rflo.train`'s engine: the Rust training loop, driven in chunks so that
//! Python keeps control (progress, Ctrl-C) while Rust computes without the GIL.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rand::RngExt;

use rnn_core::{CoreError, Network, SeededRng, Trial, TrialSource};
use rnn_learn::{AnyRule, History, LearnError, Trainer};

use super::arrays::vector_to_numpy;
use super::errors::{learn, spec};
use super::network::PyNetwork;
use super::rule::PyRule;
use super::task::PyTask;
use super::trial::PyTrial;

/// Rust trains this long between returns to Python (progress, Ctrl-C): long
/// enough that the overhead is negligible, short enough to feel immediate.
const CHUNK: Duration = Duration::from_millis(100);

/// A task written in Python: a callable `f(seed) -> Trial`, called once per
/// trial with a seed drawn from the training generator (the `rflo` package
/// wraps iterables and other callables into this form).
struct PythonSource {
    callable: Py<PyAny>,
    /// The Python exception of the last failing call, re-raised as is.
    error: Option<PyErr>,
}

/// The message carried through the Rust error chain; the exception itself
/// is kept in [`PythonSource::error`].
#[derive(Debug, thiserror::Error)]
#[error("the Python task failed: {0}")]
struct PythonTaskFailed(String);

impl TrialSource for PythonSource {
    fn next_trial(&mut self, rng: &mut SeededRng) -> rnn_core::Result<Trial> {
        let seed: u64 = rng.random();
        Python::attach(|py| {
            let result = self
                .callable
                .call1(py, (seed,))
                .and_then(|obj| Ok(obj.extract::<PyRef<'_, PyTrial>>(py)?.inner.clone()));
            result.map_err(|err| {
                let message = err.to_string();
                self.error = Some(err);
                CoreError::TrialSource(Box::new(PythonTaskFailed(message)))
            })
        })
    }
}

/// How a run ended.
enum Ended {
    Completed,
    Interrupted,
    Failed(LearnError),
}

/// Trains until done, a failure or Ctrl-C, returning to Python every [`CHUNK`].
fn drive(
    py: Python<'_>,
    trainer: &mut Trainer<AnyRule>,
    net: &mut Network,
    source: &mut (dyn TrialSource + Send),
    progress: Option<(&Bound<'_, PyAny>, usize)>,
) -> PyResult<Ended> {
    loop {
        let chunk = py.detach(|| {
            let started = Instant::now();
            let mut last = None;
            while !trainer.is_done() {
                last = Some(trainer.train_trial(net, source)?);
                if started.elapsed() >= CHUNK {
                    break;
                }
            }
            Ok::<_, LearnError>(last)
        });
        let last = match chunk {
            Ok(last) => last,
            Err(error) => return Ok(Ended::Failed(error)),
        };
        if let (Some((callback, n_trials)), Some(loss)) = (progress, last) {
            match callback.call1((trainer.trials_done(), n_trials, loss)) {
                Ok(_) => {}
                Err(e) if e.is_instance_of::<PyKeyboardInterrupt>(py) => {
                    return Ok(Ended::Interrupted);
                }
                Err(e) => return Err(e),
            }
        }
        if trainer.is_done() {
            return Ok(Ended::Completed);
        }
        match py.check_signals() {
            Ok(()) => {}
            Err(e) if e.is_instance_of::<PyKeyboardInterrupt>(py) => return Ok(Ended::Interrupted),
            Err(e) => return Err(e),
        }
    }
}

/// The history as a dict of numpy arrays.
pub fn history_dict<'py>(py: Python<'py>, history: &History) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("loss", vector_to_numpy(py, &history.loss))?;
    dict.set_item(
        "feedback_alignment",
        vector_to_numpy(py, &history.feedback_alignment),
    )?;
    let trials: Vec<usize> = history.gradient_alignment.iter().map(|p| p.trial).collect();
    let cosines: Vec<f64> = history
        .gradient_alignment
        .iter()
        .map(|p| p.cosine)
        .collect();
    let norms: Vec<f64> = history
        .gradient_alignment
        .iter()
        .map(|p| p.exact_gradient_norm)
        .collect();
    dict.set_item("gradient_alignment_trial", trials)?;
    dict.set_item("gradient_alignment", vector_to_numpy(py, &cosines))?;
    dict.set_item("exact_gradient_norm", vector_to_numpy(py, &norms))?;
    Ok(dict)
}

/// Trains `net` in place with `rule` on trials from `source` (a built-in
/// `Task`, or a callable `f(seed) -> Trial`) under the training config given
/// as JSON. Returns `(history, stop)`: `stop` is `None`, `("interrupted",
/// trials_done)` or `("diverged", trial, message)`; other failures raise.
#[pyfunction]
#[pyo3(signature = (net, rule, source, config_json, progress = None))]
pub fn train<'py>(
    py: Python<'py>,
    mut net: PyRefMut<'py, PyNetwork>,
    rule: &PyRule,
    source: &Bound<'py, PyAny>,
    config_json: &str,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let config = crate::spec::training_from_json(config_json).map_err(spec)?;
    let progress = progress.map(|callback| (callback, config.n_trials));
    let net = &mut net.inner;
    let mut trainer = Trainer::new(rule.rule.clone(), net, config).map_err(learn)?;
    let mut python_source = None;
    let ended = if let Ok(task) = source.cast::<PyTask>() {
        let task = task.get();
        let mut guard = task.task.lock().map_err(|_| {
            super::errors::value_error("the task was poisoned by an earlier failure")
        })?;
        drive(py, &mut trainer, net, guard.as_mut(), progress)?
    } else if source.is_callable() {
        let mut wrapped = PythonSource {
            callable: source.clone().unbind(),
            error: None,
        };
        let ended = drive(py, &mut trainer, net, &mut wrapped, progress)?;
        python_source = Some(wrapped);
        ended
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "source must be an rflo Task or a callable f(seed) -> Trial",
        ));
    };
    let stop: Bound<'py, PyAny> = match ended {
        Ended::Completed => py.None().into_bound(py),
        Ended::Interrupted => {
            trainer.apply_pending(net);
            ("interrupted", trainer.trials_done())
                .into_pyobject(py)?
                .into_any()
        }
        Ended::Failed(error) => {
            if let Some(err) = python_source.and_then(|s| s.error) {
                if err.is_instance_of::<PyKeyboardInterrupt>(py) {
                    trainer.apply_pending(net);
                    ("interrupted", trainer.trials_done())
                        .into_pyobject(py)?
                        .into_any()
                } else {
                    return Err(err);
                }
            } else if let Some(trial) = error.diverged_at() {
                ("diverged", trial, error.to_string())
                    .into_pyobject(py)?
                    .into_any()
            } else {
                return Err(learn(error));
            }
        }
    };
    let history = history_dict(py, trainer.history())?;
    PyTuple::new(py, [history.into_any(), stop])
}
