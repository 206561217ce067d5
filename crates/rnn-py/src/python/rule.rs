//! `rflo.rules.Rule`: any rule of the rule registry, and the diagnostics.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use rnn_core::State;
use rnn_learn::{AnyRule, GradientAlignment, LearningRule, RuleSpec, WeightUpdate};

use super::arrays::{from_json_text, json_text, to_numpy};
use super::errors::{self, core, learn};
use super::network::PyNetwork;
use super::trial::PyTrial;

/// A learning rule from its spec (a dict such as `{"name": "rflo", "rates":
/// 0.03}`; the fields of the Rust `RuleSpec`). `rflo.rules` has one class per
/// registry entry (`RFLO(rates=0.03)`, ...) that builds this.
#[pyclass(module = "rflo._native", name = "Rule", frozen)]
pub struct PyRule {
    pub spec: RuleSpec,
    pub rule: AnyRule,
}

/// The start state of `trial` on `net` (a carried-over start needs training).
fn start_state(net: &PyNetwork, trial: &PyTrial) -> PyResult<State> {
    State::initial(&net.inner, &trial.inner, None).map_err(core)
}

#[pymethods]
impl PyRule {
    #[new]
    fn new(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let rule_spec = crate::spec::rule_from_json(&json_text(spec)?).map_err(errors::spec)?;
        let rule = rule_spec.build().map_err(learn)?;
        Ok(Self {
            spec: rule_spec,
            rule,
        })
    }

    /// The registry name ("rflo", ...).
    #[getter]
    fn name(&self) -> &'static str {
        self.spec.name()
    }

    /// The label in plots and reports ("RFLO", ...).
    #[getter]
    fn label(&self) -> &'static str {
        self.spec.label()
    }

    /// The spec as a dict (options at their defaults omitted).
    #[getter(spec)]
    fn spec_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json_text(py, &crate::spec::to_json(&self.spec))
    }

    /// The update `(dW, dW_in, dW_out)` that a trial-end schedule would add to
    /// the weights after `trial` (learning rates included; the weights are
    /// not changed): `(1/T) sum_t dTheta(t)` of docs/spec/MODEL.md §7.
    fn update<'py>(
        &self,
        py: Python<'py>,
        net: &PyNetwork,
        trial: &PyTrial,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let start = start_state(net, trial)?;
        self.rule.check_fits(&net.inner).map_err(learn)?;
        let mut state = self.rule.new_state(&net.inner);
        let mut update = WeightUpdate::zeros(&net.inner);
        py.detach(|| {
            self.rule
                .accumulate(&net.inner, &trial.inner, &start, &mut state, &mut update)
        })
        .map_err(learn)?;
        PyTuple::new(
            py,
            [
                to_numpy(py, update.recurrent.as_ref()),
                to_numpy(py, update.input.as_ref()),
                to_numpy(py, update.readout.as_ref()),
            ],
        )
    }

    /// Cosine between this rule's `dW` and the exact gradient's (BPTT) on
    /// `trial` with `net`'s weights (docs/spec/MODEL.md §9).
    fn gradient_alignment(
        &self,
        py: Python<'_>,
        net: &PyNetwork,
        trial: &PyTrial,
    ) -> PyResult<f64> {
        let start = start_state(net, trial)?;
        self.rule.check_fits(&net.inner).map_err(learn)?;
        let mut state = self.rule.new_state(&net.inner);
        let mut alignment = GradientAlignment::new(&net.inner);
        py.detach(|| alignment.measure(&self.rule, &mut state, &net.inner, &trial.inner, &start))
            .map_err(learn)
    }

    fn __repr__(&self) -> String {
        format!("Rule({})", crate::spec::to_json(&self.spec))
    }
}

/// The rule registry as `(name, label)` pairs.
#[pyfunction]
pub fn rule_registry() -> Vec<(&'static str, &'static str)> {
    crate::spec::rule_registry()
}

/// Readout–feedback alignment `Tr(W_out B) / (|W_out| |B|)` (docs/spec/MODEL.md §9).
#[pyfunction]
pub fn feedback_alignment(net: &PyNetwork) -> f64 {
    rnn_learn::feedback_alignment(&net.inner)
}
