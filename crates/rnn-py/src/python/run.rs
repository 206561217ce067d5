//! `rflo.run`: a run spec or a grid file, run by the experiment engine
//! exactly as `cargo xtask sweep run` runs it.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use rnn_experiment::{Point, RunRecord, RunSpec, Runner, Store};

use super::arrays::from_json_text;
use super::errors::{experiment, spec, value_error};
use super::network::PyNetwork;
use super::train::history_dict;
use crate::spec::{RunInput, run_grid};

/// One record as a dict: `key`, `grid`, `coords`, `spec` (TOML), `history`,
/// `initial_loss`, `final_loss`, `failure` (`None` or `(trial, message)`)
/// and `network` (the trained `Network`).
fn record_dict<'py>(
    py: Python<'py>,
    spec_value: &RunSpec,
    point: Option<&Point>,
    record: &RunRecord,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("key", spec_value.key().to_string())?;
    dict.set_item("grid", point.map(|p| p.grid.clone()))?;
    let coords = PyDict::new(py);
    for (path, value) in point.map_or(&[][..], |p| &p.coords[..]) {
        let json = serde_json::to_string(value).map_err(value_error)?;
        coords.set_item(path, from_json_text(py, &json)?)?;
    }
    dict.set_item("coords", coords)?;
    dict.set_item("spec", spec_value.to_toml().map_err(experiment)?)?;
    dict.set_item("history", history_dict(py, &record.history)?)?;
    dict.set_item("initial_loss", record.initial_loss)?;
    dict.set_item("final_loss", record.final_loss)?;
    dict.set_item(
        "failure",
        record
            .failure
            .as_ref()
            .map(|f| (f.trial, f.message.clone())),
    )?;
    dict.set_item(
        "network",
        PyNetwork {
            inner: record.network.clone(),
        },
    )?;
    Ok(dict)
}

/// Runs the run spec or grid file in `text` (TOML) and returns `(records,
/// table_csv)`: one record dict per run in run order and, for a grid file,
/// the runs table that `cargo xtask sweep run` writes (for a single run spec,
/// `None`). `store` keeps results (a rerun is a cache hit; a killed run
/// resumes); `threads` runs specs in parallel (results do not depend on it).
#[pyfunction]
#[pyo3(signature = (text, *, store = None, threads = 1, checkpoint_every = 500))]
pub fn run_toml<'py>(
    py: Python<'py>,
    text: &str,
    store: Option<PathBuf>,
    threads: usize,
    checkpoint_every: usize,
) -> PyResult<(Bound<'py, PyList>, Option<String>)> {
    let input = RunInput::from_toml(text).map_err(spec)?;
    let mut runner = Runner::new()
        .with_threads(threads)
        .with_checkpoint_every(checkpoint_every);
    if let Some(dir) = store {
        runner = runner.with_store(Store::open(dir).map_err(experiment)?);
    }
    match input {
        RunInput::Run(run_spec) => {
            run_spec.validate().map_err(experiment)?;
            let specs = [*run_spec];
            let records: Vec<Arc<RunRecord>> =
                py.detach(|| runner.run_all(&specs)).map_err(experiment)?;
            let dict = record_dict(py, &specs[0], None, &records[0])?;
            Ok((PyList::new(py, [dict])?, None))
        }
        RunInput::Grid(file) => {
            let runs = py.detach(|| run_grid(&file, &runner)).map_err(spec)?;
            let dicts = runs
                .points
                .iter()
                .zip(&runs.records)
                .map(|(point, record)| record_dict(py, &point.spec, Some(point), record))
                .collect::<PyResult<Vec<_>>>()?;
            Ok((PyList::new(py, dicts)?, Some(runs.table_csv)))
        }
    }
}

/// A table given as JSON text (a Python dict) as TOML text.
#[pyfunction]
pub fn json_to_toml(json: &str) -> PyResult<String> {
    crate::spec::json_to_toml(json).map_err(spec)
}
