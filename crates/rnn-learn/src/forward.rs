//! Per-step buffers shared by the online (trace and sensitivity) rules.

use rnn_core::dynamics::{forward_step_after_recurrent, forward_step_with_slope};
use rnn_core::{Network, State, Trial, masked_error};

/// The quantities of one time step, allocated once per rule state.
///
/// After [`StepBuffers::advance`] for step `s` (time `t = s + 1`):
/// `h_prev = h(t-1)`, `u = u(t)`, `h = h(t)`, `y = y(t)`, `error = e(t)`,
/// `slope = phi'(u(t))`.
#[derive(Debug, Clone)]
pub(crate) struct StepBuffers {
    pub h_prev: Vec<f64>,
    pub h: Vec<f64>,
    pub u: Vec<f64>,
    pub slope: Vec<f64>,
    pub y_prev: Vec<f64>,
    pub y: Vec<f64>,
    pub error: Vec<f64>,
    pub projected_error: Vec<f64>,
    /// `W h(t)` for the next step, when a fused online pass computed it.
    pub next_recurrent: Vec<f64>,
    squared_error: f64,
}

impl StepBuffers {
    pub fn new(net: &Network) -> Self {
        let (n, ny) = (net.n_units(), net.n_outputs());
        Self {
            h_prev: vec![0.0; n],
            h: vec![0.0; n],
            u: vec![0.0; n],
            slope: vec![0.0; n],
            y_prev: vec![0.0; ny],
            y: vec![0.0; ny],
            error: vec![0.0; ny],
            projected_error: vec![0.0; n],
            next_recurrent: vec![0.0; n],
            squared_error: 0.0,
        }
    }

    /// Starts a trial from `start` (sizes already checked against the network).
    pub fn reset(&mut self, start: &State) {
        self.h.copy_from_slice(&start.h);
        self.y.copy_from_slice(&start.y);
        self.squared_error = 0.0;
    }

    /// Runs step `step` of `trial` with the weights of `net`.
    pub fn advance(&mut self, net: &Network, trial: &Trial, step: usize) {
        self.advance_impl(net, trial, step, false);
    }

    /// Like [`StepBuffers::advance`], with `W h(t-1)` already in
    /// `next_recurrent` (computed by the previous step's fused pass).
    pub fn advance_after_recurrent(&mut self, net: &Network, trial: &Trial, step: usize) {
        self.advance_impl(net, trial, step, true);
    }

    fn advance_impl(&mut self, net: &Network, trial: &Trial, step: usize, given: bool) {
        std::mem::swap(&mut self.h_prev, &mut self.h);
        std::mem::swap(&mut self.y_prev, &mut self.y);
        // slope = phi'(u(t)) from the same tanh as h(t) (= tanh_derivative(u), bit for bit).
        if given {
            std::mem::swap(&mut self.u, &mut self.next_recurrent);
            forward_step_after_recurrent(
                net,
                &self.h_prev,
                trial.input_at(step),
                &self.y_prev,
                &mut self.u,
                &mut self.h,
                &mut self.y,
                &mut self.slope,
            );
        } else {
            forward_step_with_slope(
                net,
                &self.h_prev,
                trial.input_at(step),
                &self.y_prev,
                &mut self.u,
                &mut self.h,
                &mut self.y,
                &mut self.slope,
            );
        }
        self.squared_error += masked_error(
            trial.target_at(step),
            &self.y,
            trial.mask_at(step),
            &mut self.error,
        );
    }

    /// The loss of the trial so far, `1/(2T) sum |e|^2` with `T = len`.
    pub fn loss(&self, len: usize) -> f64 {
        self.squared_error / (2.0 * len as f64)
    }

    /// The current state, to carry over.
    pub fn state(&self) -> State {
        State {
            h: self.h.clone(),
            y: self.y.clone(),
        }
    }
}

/// `update += scale * e h^T`: the readout update of docs/spec/MODEL.md §2 for one step.
pub(crate) fn add_readout_step(readout: &mut faer::Mat<f64>, error: &[f64], h: &[f64], scale: f64) {
    if let [e] = error {
        // One output: walk the single row (no per-column slicing), with the
        // same expression per entry.
        for (d, &h_b) in readout.row_mut(0).iter_mut().zip(h) {
            *d += scale * e * h_b;
        }
        return;
    }
    for (b, &h_b) in h.iter().enumerate() {
        let column = readout.col_as_slice_mut(b);
        for (d, &e) in column.iter_mut().zip(error) {
            *d += scale * e * h_b;
        }
    }
}
