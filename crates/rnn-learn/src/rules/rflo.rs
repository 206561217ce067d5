//! RFLO: random feedback local online learning (MODEL.md §5; paper Eq 5–7, 15–17).
//!
//! Eligibility traces keep only the local part of the RTRL recursion
//! (MODEL.md §3 with the `W` term dropped and `j = a`):
//!
//! ```text
//! p_ab(t) = (1-alpha) p_ab(t-1) + alpha phi'(u_a(t)) h_b(t-1)     p(0) = 0
//! q_ab(t) = (1-alpha) q_ab(t-1) + alpha phi'(u_a(t)) x_b(t)       q(0) = 0
//! dW_ab(t)    = eta2 [F e(t)]_a p_ab(t)
//! dW_in_ab(t) = eta3 [F e(t)]_a q_ab(t)
//! dW_out(t)   = eta1 e(t) h(t)^T
//! per trial: dTheta = (1/T) sum_t dTheta(t)
//! ```
//!
//! with `F = B`, the network's fixed random feedback. Cost: O(N²) work and
//! memory per step.
//!
//! **Trial-batched fast form.** When the weights are fixed within the trial,
//! the same update follows without the `N×N` trace from the backward-filtered
//! error `r(t) = alpha F e(t) + (1-alpha) r(t+1)`, `r(T+1) = 0`:
//! `dW = (eta2/T) sum_t [phi'(u(t)) ⊙ r(t)] h(t-1)^T` — one `(N×T)(T×N)`
//! product (likewise `dW_in` with `x(t)`). It equals the trace form up to
//! rounding (summation order differs) and is used by
//! [`LearningRule::accumulate`] unless [`TraceForm::Online`] is chosen. The
//! online schedule always uses the trace form.

use faer::Mat;

use rnn_core::{Network, State, Trajectory, Trial, tanh_derivative};

use crate::batched::{add_trial_products, ensure_shape};
use crate::constraints::Constraints;
use crate::error::Result;
use crate::forward::{StepBuffers, add_readout_step};
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::update::{LearningRates, WeightUpdate};

/// Which computation [`LearningRule::accumulate`] uses for a trial-end update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TraceForm {
    /// The trial-batched form (backward-filtered error, one matrix product).
    #[default]
    Batched,
    /// The step-by-step eligibility-trace form (the definition).
    Online,
}

/// RFLO with feedback `F` (default `B`); see the module docs for the equations.
#[derive(Debug, Clone, PartialEq)]
pub struct Rflo {
    rates: LearningRates,
    projection: Projection,
    form: TraceForm,
}

impl Rflo {
    /// RFLO with random feedback `B` and the given rates (validated).
    pub fn new(rates: LearningRates) -> Result<Self> {
        Self::with_projection(rates, Projection::Feedback)
    }

    /// The local trace rule with any projection `F` (`LocalSymmetric` uses `W_out^T`).
    pub fn with_projection(rates: LearningRates, projection: Projection) -> Result<Self> {
        rates.validate()?;
        Ok(Self {
            rates,
            projection,
            form: TraceForm::default(),
        })
    }

    /// Chooses the form used for trial-end updates.
    pub fn with_form(mut self, form: TraceForm) -> Self {
        self.form = form;
        self
    }

    /// The projection `F`.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// The trial-end form.
    pub fn form(&self) -> TraceForm {
        self.form
    }

    fn accumulate_traces(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        let scale = 1.0 / trial.len() as f64;
        state.traces.begin(net, trial, start)?;
        for step in 0..trial.len() {
            state.traces.step(net, trial, step, &self.projection);
            state.traces.add_update(self.rates, scale, update);
        }
        Ok(state.traces.outcome(trial.len()))
    }

    fn accumulate_batched(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        net.run_from_into(trial, start, &mut state.trajectory)?;
        let (n, len) = (net.n_units(), trial.len());
        ensure_shape(&mut state.signal, n, len);
        self.projection
            .project_all(net, state.trajectory.error.as_ref(), state.signal.as_mut());
        // Filter backwards: r(t) = alpha F e(t) + (1-alpha) r(t+1); then D = phi'(u) ⊙ r.
        let alpha = net.alpha();
        let mut filtered = vec![0.0; n];
        for step in (0..len).rev() {
            let u = state.trajectory.u.col_as_slice(step);
            let column = state.signal.col_as_slice_mut(step);
            for ((d, r), &u) in column.iter_mut().zip(filtered.iter_mut()).zip(u) {
                *r = alpha * *d + (1.0 - alpha) * *r;
                *d = tanh_derivative(u) * *r;
            }
        }
        let scale = 1.0 / len as f64;
        add_trial_products(
            &state.trajectory,
            trial,
            state.signal.as_ref(),
            self.rates.recurrent * scale,
            self.rates.input * scale,
            self.rates.readout * scale,
            update,
        );
        Ok(TrialOutcome {
            loss: state.trajectory.loss,
            final_state: state.trajectory.final_state(),
        })
    }
}

/// Working memory of [`Rflo`]: traces for the step-by-step form, a stored
/// trajectory and learning signal for the batched form.
#[derive(Debug, Clone)]
pub struct RfloState {
    traces: LocalTraces,
    trajectory: Trajectory,
    signal: Mat<f64>,
}

impl LearningRule for Rflo {
    type State = RfloState;

    fn name(&self) -> &'static str {
        match self.projection {
            Projection::Readout => "LocalSymmetric",
            _ => "RFLO",
        }
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.projection.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> RfloState {
        RfloState {
            traces: LocalTraces::new(net),
            trajectory: Trajectory::zeros(net, 0),
            signal: Mat::zeros(0, 0),
        }
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        match self.form {
            TraceForm::Batched => self.accumulate_batched(net, trial, start, state, update),
            TraceForm::Online => self.accumulate_traces(net, trial, start, state, update),
        }
    }

    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        let scale = 1.0 / trial.len() as f64;
        let traces = &mut state.traces;
        traces.begin(net, trial, start)?;
        for step in 0..trial.len() {
            // (1)-(3) of MODEL.md §7: dynamics, traces and projection with the weights in force.
            traces.step(net, trial, step, &self.projection);
            // (4): this step's update, applied through the constraints.
            constraints.apply(net, traces.step_update(self.rates, scale));
        }
        Ok(traces.outcome(trial.len()))
    }
}

/// Eligibility traces `p` (`N×N`) and `q` (`N×N_x`) with the step buffers.
#[derive(Debug, Clone)]
pub(crate) struct LocalTraces {
    buffers: StepBuffers,
    recurrent_trace: Mat<f64>,
    input_trace: Mat<f64>,
    step_update: WeightUpdate,
}

impl LocalTraces {
    pub fn new(net: &Network) -> Self {
        let (n, nx) = (net.n_units(), net.n_inputs());
        Self {
            buffers: StepBuffers::new(net),
            recurrent_trace: Mat::zeros(n, n),
            input_trace: Mat::zeros(n, nx),
            step_update: WeightUpdate::zeros(net),
        }
    }

    /// Checks the trial and start state against `net`, resizes if `net` has
    /// other sizes than the last one (outside the step loop), zeroes the traces.
    pub fn begin(&mut self, net: &Network, trial: &Trial, start: &State) -> Result<()> {
        trial.check_fits(net.config())?;
        start.check_fits(net)?;
        let (n, nx, ny) = (net.n_units(), net.n_inputs(), net.n_outputs());
        let sized = self.input_trace.nrows() == n
            && self.input_trace.ncols() == nx
            && self.buffers.y.len() == ny;
        if !sized {
            *self = Self::new(net);
        }
        self.buffers.reset(start);
        self.recurrent_trace.fill(0.0);
        self.input_trace.fill(0.0);
        Ok(())
    }

    /// Dynamics of step `step`, then `p(t)`, `q(t)` and `F e(t)`.
    pub fn step(&mut self, net: &Network, trial: &Trial, step: usize, projection: &Projection) {
        let b = &mut self.buffers;
        b.advance(net, trial, step);
        let alpha = net.alpha();
        decay_and_add_outer(&mut self.recurrent_trace, alpha, &b.slope, &b.h_prev);
        decay_and_add_outer(&mut self.input_trace, alpha, &b.slope, trial.input_at(step));
        projection.project(net, &b.error, &mut b.projected_error);
    }

    /// `update += scale * dTheta(t)` for the current step.
    pub fn add_update(&self, rates: LearningRates, scale: f64, update: &mut WeightUpdate) {
        add_trace_update(
            &self.buffers,
            &self.recurrent_trace,
            &self.input_trace,
            rates,
            scale,
            update,
        );
    }

    /// `scale * dTheta(t)` alone, in a buffer owned by the traces.
    pub fn step_update(&mut self, rates: LearningRates, scale: f64) -> &WeightUpdate {
        self.step_update.set_zero();
        add_trace_update(
            &self.buffers,
            &self.recurrent_trace,
            &self.input_trace,
            rates,
            scale,
            &mut self.step_update,
        );
        &self.step_update
    }

    pub fn outcome(&self, len: usize) -> TrialOutcome {
        TrialOutcome {
            loss: self.buffers.loss(len),
            final_state: self.buffers.state(),
        }
    }
}

/// `update += scale * dTheta(t)` from the traces and the step's errors.
fn add_trace_update(
    b: &StepBuffers,
    recurrent_trace: &Mat<f64>,
    input_trace: &Mat<f64>,
    rates: LearningRates,
    scale: f64,
    update: &mut WeightUpdate,
) {
    let c = &b.projected_error;
    add_row_scaled(
        &mut update.recurrent,
        recurrent_trace,
        c,
        rates.recurrent * scale,
    );
    add_row_scaled(&mut update.input, input_trace, c, rates.input * scale);
    add_readout_step(&mut update.readout, &b.error, &b.h, rates.readout * scale);
}

/// `trace_ab = (1-alpha) trace_ab + alpha slope_a v_b`.
fn decay_and_add_outer(trace: &mut Mat<f64>, alpha: f64, slope: &[f64], v: &[f64]) {
    for (b, &v_b) in v.iter().enumerate() {
        let column = trace.col_as_slice_mut(b);
        for (p, &s) in column.iter_mut().zip(slope) {
            *p = (1.0 - alpha) * *p + alpha * s * v_b;
        }
    }
}

/// `target_ab += scale * c_a trace_ab`.
fn add_row_scaled(target: &mut Mat<f64>, trace: &Mat<f64>, c: &[f64], scale: f64) {
    for b in 0..trace.ncols() {
        let source = trace.col_as_slice(b);
        let column = target.col_as_slice_mut(b);
        for ((d, &p), &c) in column.iter_mut().zip(source).zip(c) {
            *d += scale * c * p;
        }
    }
}
