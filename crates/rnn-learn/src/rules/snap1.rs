//! SnAp-1: RTRL's sensitivities kept for each weight's own unit only (docs/spec/MODEL.md §11;
//! Menick et al., ICLR 2021).
//!
//! With `xhat(t) = [h(t-1); x(t)]`, `Theta = [W | W_in]`, `D(t) = alpha phi'(u(t))`
//! and the diagonal of the Jacobian `J_aa(t) = (1-alpha) + D_a(t) W_aa`:
//!
//! ```text
//! s_ab(t)   = J_aa(t) s_ab(t-1) + D_a(t) xhat_b(t)          s(0) = 0
//! dTheta_ab = (eta/T) sum_t [F e(t)]_a s_ab(t)              (eta2 for W, eta3 for W_in)
//! dW_out    = (eta1/T) sum_t e(t) h(t)^T                     (§2)
//! ```
//!
//! `F = W_out^T` by default ([`Projection::Readout`]); `B` or a custom `F`
//! are allowed. Of RTRL's recursion `P(t) = J(t) P(t-1) + Mbar(t)` (§3, §10)
//! only the entries `P[a][a][b]` are kept, propagated by `J_aa`: RFLO's
//! trace (§5) is the same with `J_aa` replaced by `1 - alpha`. Hence
//! (tested, §16): `W` diagonal ⇒ SnAp-1 = RTRL with the same `F`;
//! `diag(W) = 0` ⇒ SnAp-1 = RFLO's trace rule with the same `F`.
//! Cost: O(N²) work and memory per step.
//!
//! **Trial-batched form** (weights fixed during the trial, the default for
//! trial-end updates): `r_a(t) = [F e(t)]_a + J_aa(t+1) r_a(t+1)`,
//! `r(T+1) = 0`, `dTheta = (eta/T) sum_t (D(t) ⊙ r(t)) xhat(t)^T` — one
//! `(N×T)(T×N)` product. It equals the trace form to rounding;
//! [`TrialEndForm::Traces`] selects the trace form (the definition). The
//! online schedule (§7) always runs the trace form: `s(t)` uses the `W_aa`
//! that produced `u(t)`, `F e(t)` the `W_out` that produced `y(t)`, then
//! `dTheta(t)/T` is applied through the constraints.

use faer::{Mat, MatMut};

use rnn_core::{Network, State, Trajectory, Trial};

use crate::batched::{add_trial_products, ensure_shape};
use crate::constraints::Constraints;
use crate::error::Result;
use crate::forward::{StepBuffers, add_readout_step};
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::rules::rflo::TrialEndForm;
use crate::update::{LearningRates, WeightUpdate};

/// SnAp-1 with projection `F` (default `W_out^T`); see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Snap1 {
    rates: LearningRates,
    projection: Projection,
    form: TrialEndForm,
}

impl Snap1 {
    /// SnAp-1 with `F = W_out^T` and the given rates (validated).
    pub fn new(rates: LearningRates) -> Result<Self> {
        Self::with_projection(rates, Projection::Readout)
    }

    /// SnAp-1 with any projection `F`.
    pub fn with_projection(rates: LearningRates, projection: Projection) -> Result<Self> {
        rates.validate()?;
        Ok(Self {
            rates,
            projection,
            form: TrialEndForm::default(),
        })
    }

    /// Chooses the form used for trial-end updates (equal up to rounding).
    pub fn with_trial_end_form(mut self, form: TrialEndForm) -> Self {
        self.form = form;
        self
    }

    /// The projection `F`.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// The trial-end form.
    pub fn trial_end_form(&self) -> TrialEndForm {
        self.form
    }

    fn accumulate_batched(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut Snap1State,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        net.run_from_into_with_slope(trial, start, &mut state.trajectory, &mut state.slope)?;
        let (n, len) = (net.n_units(), trial.len());
        ensure_shape(&mut state.signal, n, len);
        self.projection
            .project_all(net, state.trajectory.error.as_ref(), state.signal.as_mut());
        let alpha = net.alpha();
        let w = net.recurrent();
        state.filtered.clear();
        state.filtered.resize(n, 0.0);
        state.keep.clear();
        state.keep.resize(n, 0.0);
        // r(t) = F e(t) + J_aa(t+1) r(t+1); signal = D(t) ⊙ r(t).
        for step in (0..len).rev() {
            let slope = state.slope.col_as_slice(step);
            let column = state.signal.col_as_slice_mut(step);
            for a in 0..n {
                let r = column[a] + state.keep[a] * state.filtered[a];
                state.filtered[a] = r;
                let drive = alpha * slope[a];
                column[a] = drive * r;
                state.keep[a] = (1.0 - alpha) + drive * w[(a, a)];
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

    fn accumulate_traces(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut Snap1State,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        state.begin(net, trial, start)?;
        let scale = 1.0 / trial.len() as f64;
        for step in 0..trial.len() {
            state.advance(net, trial, step, &self.projection);
            state.traces_and_update(
                trial,
                step,
                self.rates,
                scale,
                Some(update.recurrent.as_mut()),
                Some(update.input.as_mut()),
            );
            let b = &state.buffers;
            add_readout_step(
                &mut update.readout,
                &b.error,
                &b.h,
                self.rates.readout * scale,
            );
        }
        Ok(state.outcome(trial.len()))
    }
}

/// Working memory of [`Snap1`]: the traces `s` (`N×N` for `W`, `N×N_x` for
/// `W_in`) and step buffers for the trace form; a stored trajectory and
/// learning signal for the batched form.
#[derive(Debug, Clone)]
pub struct Snap1State {
    buffers: StepBuffers,
    recurrent_trace: Mat<f64>,
    input_trace: Mat<f64>,
    /// `D(t) = alpha phi'(u(t))`.
    drive: Vec<f64>,
    /// `J_aa(t)` (batched form: `J_aa(t+1)`).
    keep: Vec<f64>,
    /// `eta scale [F e(t)]_a`.
    gain: Vec<f64>,
    trajectory: Trajectory,
    slope: Mat<f64>,
    signal: Mat<f64>,
    /// The backward-filtered error `r(t)`.
    filtered: Vec<f64>,
}

impl Snap1State {
    fn new(net: &Network) -> Self {
        let (n, nx) = (net.n_units(), net.n_inputs());
        Self {
            buffers: StepBuffers::new(net),
            recurrent_trace: Mat::zeros(n, n),
            input_trace: Mat::zeros(n, nx),
            drive: vec![0.0; n],
            keep: vec![0.0; n],
            gain: vec![0.0; n],
            trajectory: Trajectory::zeros(net, 0),
            slope: Mat::zeros(0, 0),
            signal: Mat::zeros(0, 0),
            filtered: vec![0.0; n],
        }
    }

    /// Checks shapes, resizes for another network, zeroes the traces.
    fn begin(&mut self, net: &Network, trial: &Trial, start: &State) -> Result<()> {
        trial.check_fits(net.config())?;
        start.check_fits(net)?;
        let fits = self.recurrent_trace.nrows() == net.n_units()
            && self.input_trace.ncols() == net.n_inputs()
            && self.buffers.y.len() == net.n_outputs();
        if !fits {
            *self = Self::new(net);
        }
        self.buffers.reset(start);
        self.recurrent_trace.fill(0.0);
        self.input_trace.fill(0.0);
        Ok(())
    }

    /// Dynamics of step `step` with the weights in force, `D(t)`, `J_aa(t)`
    /// (the `W` that produced `u(t)`) and `F e(t)` (the `W_out` that produced `y(t)`).
    fn advance(&mut self, net: &Network, trial: &Trial, step: usize, projection: &Projection) {
        let b = &mut self.buffers;
        b.advance(net, trial, step);
        let alpha = net.alpha();
        let w = net.recurrent();
        for (a, (d, k)) in self.drive.iter_mut().zip(&mut self.keep).enumerate() {
            *d = alpha * b.slope[a];
            *k = (1.0 - alpha) + *d * w[(a, a)];
        }
        projection.project(net, &b.error, &mut b.projected_error);
    }

    /// `s(t)` for `W` and `W_in`, and `target += eta scale [F e]_a s_ab(t)`
    /// into each given target.
    fn traces_and_update(
        &mut self,
        trial: &Trial,
        step: usize,
        rates: LearningRates,
        scale: f64,
        recurrent: Option<MatMut<'_, f64>>,
        input: Option<MatMut<'_, f64>>,
    ) {
        set_gain(
            &mut self.gain,
            &self.buffers.projected_error,
            rates.recurrent * scale,
        );
        trace_step(
            &mut self.recurrent_trace,
            recurrent,
            &self.keep,
            &self.drive,
            &self.buffers.h_prev,
            &self.gain,
        );
        set_gain(
            &mut self.gain,
            &self.buffers.projected_error,
            rates.input * scale,
        );
        trace_step(
            &mut self.input_trace,
            input,
            &self.keep,
            &self.drive,
            trial.input_at(step),
            &self.gain,
        );
    }

    fn outcome(&self, len: usize) -> TrialOutcome {
        TrialOutcome {
            loss: self.buffers.loss(len),
            final_state: self.buffers.state(),
        }
    }
}

fn set_gain(gain: &mut [f64], projected: &[f64], rate: f64) {
    for (g, &c) in gain.iter_mut().zip(projected) {
        *g = rate * c;
    }
}

/// `s_ab <- keep_a s_ab + drive_a v_b`, then `target_ab += gain_a s_ab`.
fn trace_step(
    trace: &mut Mat<f64>,
    mut target: Option<MatMut<'_, f64>>,
    keep: &[f64],
    drive: &[f64],
    v: &[f64],
    gain: &[f64],
) {
    for (b, &v_b) in v.iter().enumerate() {
        let s = trace.col_as_slice_mut(b);
        for ((s_ab, &k), &d) in s.iter_mut().zip(keep).zip(drive) {
            *s_ab = k * *s_ab + d * v_b;
        }
        if let Some(target) = target.as_mut() {
            let column = target
                .as_mut()
                .col_mut(b)
                .try_as_col_major_mut()
                .expect("contiguous column")
                .as_slice_mut();
            for ((t, &s_ab), &g) in column.iter_mut().zip(s.iter()).zip(gain) {
                *t += g * s_ab;
            }
        }
    }
}

impl LearningRule for Snap1 {
    type State = Snap1State;

    fn name(&self) -> &'static str {
        "SnAp-1"
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.projection.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> Snap1State {
        Snap1State::new(net)
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut Snap1State,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        match self.form {
            TrialEndForm::Batched => self.accumulate_batched(net, trial, start, state, update),
            TrialEndForm::Traces => self.accumulate_traces(net, trial, start, state, update),
        }
    }

    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut Snap1State,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        state.begin(net, trial, start)?;
        let scale = 1.0 / trial.len() as f64;
        let frozen = constraints.frozen;
        for step in 0..trial.len() {
            // (1)-(3) of docs/spec/MODEL.md §7 with the weights in force.
            state.advance(net, trial, step, &self.projection);
            // (4) this step's update into the non-frozen groups, then Dale's clip.
            let weights = net.weights_mut();
            state.traces_and_update(
                trial,
                step,
                self.rates,
                scale,
                (!frozen.recurrent).then(|| weights.recurrent.as_mut()),
                (!frozen.input).then(|| weights.input.as_mut()),
            );
            if !frozen.readout {
                let b = &state.buffers;
                add_readout_step(
                    &mut weights.readout,
                    &b.error,
                    &b.h,
                    self.rates.readout * scale,
                );
            }
            if let (Some(dale), false) = (&constraints.dale, frozen.recurrent) {
                dale.clip(net);
            }
        }
        Ok(state.outcome(trial.len()))
    }
}
