//! `rflo.Network` and `rflo.Trajectory`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use rnn_core::{Network, NetworkConfig, ReadoutInit, State, Trajectory, Weights, seeded};

use super::arrays::{from_json_text, json_text, matrix, to_numpy, vector_to_numpy};
use super::errors::{core, value_error};
use super::trial::PyTrial;

/// A rate RNN: `N` units, `N_x` inputs, `N_y` outputs, time constant `tau`.
///
/// `Network(n_units, n_inputs=0, n_outputs=1, *, seed, tau=10.0, gain=1.5,
/// input_scale=1.0, readout_init="PaperText", feedback_scale=1.0,
/// readout_feedback=False)` draws the weights from the seeded generator with
/// the paper's initialisation (docs/spec/MODEL.md §8); the keywords are the
/// fields of the Rust `NetworkConfig`. Weights are read as numpy copies
/// (`W` N×N, `W_in` N×N_x, `W_out` N_y×N, `B` N×N_y).
#[pyclass(module = "rflo._native", name = "Network")]
#[derive(Clone)]
pub struct PyNetwork {
    pub inner: Network,
}

#[allow(clippy::too_many_arguments)] // the keyword arguments of NetworkConfig
fn config(
    n_units: usize,
    n_inputs: usize,
    n_outputs: usize,
    tau: f64,
    gain: f64,
    input_scale: f64,
    readout_init: Option<&Bound<'_, PyAny>>,
    feedback_scale: f64,
    readout_feedback: bool,
) -> PyResult<NetworkConfig> {
    let readout_init = match readout_init {
        None => ReadoutInit::PaperText,
        Some(obj) => serde_json::from_str(&json_text(obj)?).map_err(|e| {
            value_error(format!(
                "invalid config: `readout_init`: {e} (expected \"PaperText\", \"ExampleCode\" or {{\"Uniform\": {{\"half_width\": w}}}})"
            ))
        })?,
    };
    let config = NetworkConfig {
        n_units,
        n_inputs,
        n_outputs,
        tau,
        gain,
        input_scale,
        readout_init,
        feedback_scale,
        readout_feedback,
    };
    config.validate().map_err(core)?;
    Ok(config)
}

#[pymethods]
impl PyNetwork {
    #[new]
    #[pyo3(signature = (n_units, n_inputs = 0, n_outputs = 1, *, seed, tau = 10.0, gain = 1.5,
        input_scale = 1.0, readout_init = None, feedback_scale = 1.0, readout_feedback = false))]
    #[allow(clippy::too_many_arguments)] // NetworkConfig's fields as keywords
    fn new(
        n_units: usize,
        n_inputs: usize,
        n_outputs: usize,
        seed: u64,
        tau: f64,
        gain: f64,
        input_scale: f64,
        readout_init: Option<&Bound<'_, PyAny>>,
        feedback_scale: f64,
        readout_feedback: bool,
    ) -> PyResult<Self> {
        let config = config(
            n_units,
            n_inputs,
            n_outputs,
            tau,
            gain,
            input_scale,
            readout_init,
            feedback_scale,
            readout_feedback,
        )?;
        let inner = Network::random(&config, &mut seeded(seed)).map_err(core)?;
        Ok(Self { inner })
    }

    /// A network with the given weights: `W` (N×N), `W_in` (N×N_x), `W_out`
    /// (N_y×N), `B` (N×N_y; default zeros); sizes are read from the shapes,
    /// the other keywords are those of `Network(...)`.
    #[staticmethod]
    #[pyo3(signature = (W, W_in, W_out, B = None, *, tau = 10.0, gain = 1.5, input_scale = 1.0,
        readout_init = None, feedback_scale = 1.0, readout_feedback = false))]
    #[allow(non_snake_case, clippy::too_many_arguments)] // the spec's symbols
    fn from_weights(
        W: &Bound<'_, PyAny>,
        W_in: &Bound<'_, PyAny>,
        W_out: &Bound<'_, PyAny>,
        B: Option<&Bound<'_, PyAny>>,
        tau: f64,
        gain: f64,
        input_scale: f64,
        readout_init: Option<&Bound<'_, PyAny>>,
        feedback_scale: f64,
        readout_feedback: bool,
    ) -> PyResult<Self> {
        let recurrent = matrix(W, "W")?;
        let input = matrix(W_in, "W_in")?;
        let readout = matrix(W_out, "W_out")?;
        let (n, ny) = (recurrent.nrows(), readout.nrows());
        let feedback = match B {
            Some(b) => matrix(b, "B")?,
            None => rnn_core::faer::Mat::zeros(n, ny),
        };
        let config = config(
            n,
            input.ncols(),
            ny,
            tau,
            gain,
            input_scale,
            readout_init,
            feedback_scale,
            readout_feedback,
        )?;
        let weights = Weights {
            recurrent,
            input,
            readout,
            feedback,
        };
        let inner = Network::from_weights(&config, weights).map_err(core)?;
        Ok(Self { inner })
    }

    /// Loads a network saved by `save` (the project's checkpoint format).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        Ok(Self {
            inner: Network::load(&path).map_err(core)?,
        })
    }

    /// Saves config and weights to `path` (written to a temporary name, then renamed).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.inner.save(&path).map_err(core)
    }

    /// Writes `W.npy`, `W_in.npy`, `W_out.npy`, `B.npy` and `config.json` to `folder`.
    fn export_npy(&self, folder: PathBuf) -> PyResult<()> {
        rnn_core::export::export_network(&folder, &self.inner).map_err(core)
    }

    /// Reads a network written by `export_npy`.
    #[staticmethod]
    fn from_npy(folder: PathBuf) -> PyResult<Self> {
        Ok(Self {
            inner: rnn_core::npy::read_network(&folder).map_err(core)?,
        })
    }

    /// Recurrent weights `W` (N×N), a copy.
    #[getter(W)]
    fn recurrent<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.inner.recurrent()).into_any()
    }

    /// Input weights `W_in` (N×N_x), a copy.
    #[getter(W_in)]
    fn input<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.inner.input()).into_any()
    }

    /// Readout weights `W_out` (N_y×N), a copy.
    #[getter(W_out)]
    fn readout<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.inner.readout()).into_any()
    }

    /// Fixed random feedback `B` (N×N_y), a copy.
    #[getter(B)]
    fn feedback<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.inner.feedback()).into_any()
    }

    /// Number of units `N`.
    #[getter]
    fn n_units(&self) -> usize {
        self.inner.n_units()
    }

    /// Number of inputs `N_x`.
    #[getter]
    fn n_inputs(&self) -> usize {
        self.inner.n_inputs()
    }

    /// Number of outputs `N_y`.
    #[getter]
    fn n_outputs(&self) -> usize {
        self.inner.n_outputs()
    }

    /// `alpha = 1 / tau`.
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.alpha()
    }

    /// The configuration as a dict (the Rust `NetworkConfig`'s fields).
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json_text(py, &crate::spec::to_json(self.inner.config()))
    }

    /// Runs `trial` with the weights fixed and returns its `Trajectory`.
    /// A trial with `h0="carry_over"` continues from `previous` (a Trajectory).
    #[pyo3(signature = (trial, previous = None))]
    fn run(&self, trial: &PyTrial, previous: Option<&PyTrajectory>) -> PyResult<PyTrajectory> {
        let previous = previous.map(|p| p.final_state.clone());
        let trajectory = self
            .inner
            .run_trial(&trial.inner, previous.as_ref())
            .map_err(core)?;
        Ok(PyTrajectory::new(trajectory))
    }

    /// An independent copy.
    fn copy(&self) -> Self {
        self.clone()
    }

    fn __copy__(&self) -> Self {
        self.clone()
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.clone()
    }

    /// Equal configs and bit-identical weights.
    fn __eq__(&self, other: &Self) -> bool {
        self.inner.config() == other.inner.config() && self.inner.weights() == other.inner.weights()
    }

    /// Pickling: the config and the weights.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let this = slf.borrow();
        let rebuild = slf.get_type().getattr("_from_config")?;
        let args = (
            crate::spec::to_json(this.inner.config()),
            this.recurrent(py),
            this.input(py),
            this.readout(py),
            this.feedback(py),
        );
        PyTuple::new(py, [rebuild, args.into_pyobject(py)?.into_any()])
    }

    /// Rebuilds a pickled network.
    #[staticmethod]
    #[allow(non_snake_case)] // the spec's symbols
    fn _from_config(
        config_json: &str,
        W: &Bound<'_, PyAny>,
        W_in: &Bound<'_, PyAny>,
        W_out: &Bound<'_, PyAny>,
        B: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let config: NetworkConfig = serde_json::from_str(config_json).map_err(value_error)?;
        let weights = Weights {
            recurrent: matrix(W, "W")?,
            input: matrix(W_in, "W_in")?,
            readout: matrix(W_out, "W_out")?,
            feedback: matrix(B, "B")?,
        };
        let inner = Network::from_weights(&config, weights).map_err(core)?;
        Ok(Self { inner })
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Network(n_units={}, n_inputs={}, n_outputs={}, tau={:?}, gain={:?}, readout_feedback={})",
            c.n_units,
            c.n_inputs,
            c.n_outputs,
            c.tau,
            c.gain,
            if c.readout_feedback { "True" } else { "False" }
        )
    }
}

/// What `Network.run` produced. Row `s` of `h`, `u`, `y` and `error` is time
/// step `t = s + 1` (the `T×N` layout of the trial's arrays); `h0` is `h(0)`.
#[pyclass(module = "rflo._native", name = "Trajectory", frozen)]
pub struct PyTrajectory {
    trajectory: Trajectory,
    final_state: State,
}

impl PyTrajectory {
    fn new(trajectory: Trajectory) -> Self {
        let final_state = trajectory.final_state();
        Self {
            trajectory,
            final_state,
        }
    }
}

#[pymethods]
impl PyTrajectory {
    /// Activities `h(1..T)`, T×N.
    #[getter]
    fn h<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        let h = self.trajectory.h.as_ref();
        to_numpy(py, h.subcols(1, h.ncols() - 1).transpose()).into_any()
    }

    /// The initial state `h(0)`, length N.
    #[getter]
    fn h0<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        vector_to_numpy(py, self.trajectory.h_at(0)).into_any()
    }

    /// Input currents `u(1..T)`, T×N.
    #[getter]
    fn u<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.trajectory.u.as_ref().transpose()).into_any()
    }

    /// Outputs `y(1..T)`, T×N_y.
    #[getter]
    fn y<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.trajectory.outputs()).into_any()
    }

    /// Masked errors `e(t) = m(t) (y*(t) - y(t))`, T×N_y.
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        to_numpy(py, self.trajectory.error.as_ref().transpose()).into_any()
    }

    /// The loss `L = 1/(2T) sum_t |e(t)|^2`.
    #[getter]
    fn loss(&self) -> f64 {
        self.trajectory.loss
    }

    fn __len__(&self) -> usize {
        self.trajectory.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Trajectory(T={}, loss={:?})",
            self.trajectory.len(),
            self.trajectory.loss
        )
    }
}
