//! RFLO: random feedback local online learning (docs/spec/MODEL.md §5; paper Eq 5–7, 15–17).
//!
//! Eligibility traces keep only the local part of the RTRL recursion
//! (docs/spec/MODEL.md §3 with the `W` term dropped and `j = a`):
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
//! [`LearningRule::accumulate`] unless [`TrialEndForm::Traces`] is chosen.
//!
//! **Online low-rank form.** On the online schedule the weights change every
//! step, but the trace restarts each trial, so `W(t)` is the trial's starting
//! `W_0` plus a correction of rank at most `t`; the next step's current
//! `W(t) h(t)` then costs `O(N² + t N)` with `W_0` only read, and `W` is
//! written once at the trial's end (see [`OnlineForm`] and the `low_rank`
//! module). It equals the trace form up to rounding. Dale's law (a clip after
//! every step) and a frozen `W` always use the trace form.

use faer::traits::pulp::{Arch, Simd, WithSimd};
use faer::{ColMut, Mat, MatMut};
use serde::{Deserialize, Serialize};

use rnn_core::{CoreError, Network, State, Trajectory, Trial, Weights};

use crate::batched::{add_trial_products, ensure_shape};
use crate::constraints::{Constraints, DaleLaw, Frozen};
use crate::error::Result;
use crate::forward::{StepBuffers, add_readout_step};
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::update::{LearningRates, WeightUpdate};

mod low_rank;

use low_rank::LowRankHistory;

/// Which computation [`LearningRule::accumulate`] uses for a trial-end
/// update (both give the same update up to rounding). Serialised as
/// `"batched"` or `"traces"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialEndForm {
    /// The trial-batched form (backward-filtered error, one matrix product).
    #[default]
    Batched,
    /// The step-by-step eligibility-trace form (the definition).
    Traces,
}

/// Which computation [`LearningRule::run_online`] uses (both apply the same
/// per-step updates; they differ only in rounding). Serialised as `"auto"`,
/// `"trace"` or `"low_rank"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineForm {
    /// [`OnlineForm::LowRank`] where it applies and is expected to be faster
    /// (trials of at most `N` steps, `N ≥ 256`: see
    /// [`OnlineForm::uses_low_rank`]), else [`OnlineForm::Trace`].
    #[default]
    Auto,
    /// The `N×N` eligibility trace, read and written every step (the definition).
    Trace,
    /// `W(t) = W_0 + ` a rank-`t` correction; `W` written at the trial's end.
    /// Falls back to the trace form under Dale's law or a frozen `W`.
    LowRank,
}

impl OnlineForm {
    /// Smallest `N` at which [`OnlineForm::Auto`] picks the low-rank form.
    ///
    /// Below it the trace and `W` (`16 N²` bytes) stay in this machine
    /// class's per-core L2, where the trace form's streaming pass wins.
    pub const AUTO_MIN_UNITS: usize = 256;

    /// True when a trial of `len` steps on `net` under `constraints` runs in
    /// the low-rank form.
    ///
    /// The low-rank step costs `O(N² + t N)` (one read of `W_0`, two or
    /// three `N×t` streams), the trace step `O(N²)` with four `N×N` streams;
    /// `Auto` takes the low-rank form when `len ≤ N` and `N ≥ AUTO_MIN_UNITS`
    /// (the crossover measured by `rnn-bench` at `T = 200`: at `N = 100` the
    /// trace form is 1.5× faster, at `N = 256` the low-rank form is ~1.1×
    /// faster, at `N = 512` and `1024` ~1.3–1.5×).
    pub fn uses_low_rank(self, net: &Network, len: usize, constraints: &Constraints) -> bool {
        let applies = constraints.dale.is_none() && !constraints.frozen.recurrent;
        let n = net.n_units();
        match self {
            Self::Trace => false,
            Self::LowRank => applies,
            Self::Auto => applies && n >= Self::AUTO_MIN_UNITS && len <= n,
        }
    }
}

/// RFLO with feedback `F` (default `B`); see the module docs for the equations.
#[derive(Debug, Clone, PartialEq)]
pub struct Rflo {
    rates: LearningRates,
    projection: Projection,
    form: TrialEndForm,
    online_form: OnlineForm,
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
            form: TrialEndForm::default(),
            online_form: OnlineForm::default(),
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

    /// Chooses the form used on the online schedule (equal up to rounding).
    pub fn with_online_form(mut self, online_form: OnlineForm) -> Self {
        self.online_form = online_form;
        self
    }

    /// The online form.
    pub fn online_form(&self) -> OnlineForm {
        self.online_form
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
        state.traces.begin(net, trial, start, true)?;
        for step in 0..trial.len() {
            // Traces and `update += dTheta(t)/T` in one pass over memory.
            state.traces.step_accumulate(
                net,
                trial,
                step,
                &self.projection,
                self.rates,
                scale,
                update,
            );
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
        net.run_from_into_with_slope(trial, start, &mut state.trajectory, &mut state.slope)?;
        let RfloState {
            trajectory,
            slope,
            signal,
            filtered,
            ..
        } = state;
        self.add_batched_update(net, trial, trajectory, slope, signal, filtered, update);
        Ok(TrialOutcome {
            loss: state.trajectory.loss,
            final_state: state.trajectory.final_state(),
        })
    }

    /// The trial-batched form's update of one trial from its forward pass
    /// (`trajectory` and `slope = phi'(u)`), added to `update`.
    #[allow(clippy::too_many_arguments)]
    fn add_batched_update(
        &self,
        net: &Network,
        trial: &Trial,
        trajectory: &Trajectory,
        slope: &Mat<f64>,
        signal: &mut Mat<f64>,
        filtered: &mut Vec<f64>,
        update: &mut WeightUpdate,
    ) {
        let (n, len) = (net.n_units(), trial.len());
        ensure_shape(signal, n, len);
        self.projection
            .project_all(net, trajectory.error.as_ref(), signal.as_mut());
        // Filter backwards: r(t) = alpha F e(t) + (1-alpha) r(t+1); then D = phi'(u) ⊙ r.
        let alpha = net.alpha();
        filtered.clear();
        filtered.resize(n, 0.0);
        for step in (0..len).rev() {
            // phi'(u(t)), stored by the forward pass (= tanh_derivative(u(t)) bit for bit).
            let slope = slope.col_as_slice(step);
            let column = signal.col_as_slice_mut(step);
            for ((d, r), &slope) in column.iter_mut().zip(filtered.iter_mut()).zip(slope) {
                *r = alpha * *d + (1.0 - alpha) * *r;
                *d = slope * *r;
            }
        }
        let scale = 1.0 / len as f64;
        add_trial_products(
            trajectory,
            trial,
            signal.as_ref(),
            self.rates.recurrent * scale,
            self.rates.input * scale,
            self.rates.readout * scale,
            update,
        );
    }
}

/// Working memory of [`Rflo`]: traces for the step-by-step form, a stored
/// trajectory and learning signal for the batched form.
#[derive(Debug, Clone)]
pub struct RfloState {
    traces: LocalTraces,
    trajectory: Trajectory,
    /// `phi'(u(t))`, `N×T`, from the forward pass.
    slope: Mat<f64>,
    signal: Mat<f64>,
    /// The backward-filtered error `r(t)`, length `N`.
    filtered: Vec<f64>,
    /// The online low-rank form's per-trial history.
    low_rank: LowRankHistory,
    /// Trajectories and slopes of [`LearningRule::accumulate_many`]'s batch.
    batch: Vec<Trajectory>,
    batch_slopes: Vec<Mat<f64>>,
    /// How many trials of `batch` are prepared.
    prepared: usize,
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
            slope: Mat::zeros(0, 0),
            signal: Mat::zeros(0, 0),
            filtered: vec![0.0; net.n_units()],
            low_rank: LowRankHistory::new(),
            batch: Vec::new(),
            batch_slopes: Vec::new(),
            prepared: 0,
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
            TrialEndForm::Batched => self.accumulate_batched(net, trial, start, state, update),
            TrialEndForm::Traces => self.accumulate_traces(net, trial, start, state, update),
        }
    }

    /// The trial-batched form runs the trials' forward passes together
    /// ([`Network::run_batch_from_into`], bit-identical to one at a time);
    /// [`LearningRule::accumulate_prepared`] then adds each trial's update,
    /// the same bits as `accumulate`. The trace form does not batch.
    fn prepare_batch(
        &self,
        net: &Network,
        trials: &[&Trial],
        starts: &[State],
        state: &mut RfloState,
    ) -> bool {
        state.prepared = 0;
        let ok = self.form == TrialEndForm::Batched
            && net
                .run_batch_from_into(
                    trials,
                    starts,
                    &mut state.batch,
                    Some(&mut state.batch_slopes),
                )
                .is_ok();
        if ok {
            state.prepared = trials.len();
        }
        ok
    }

    fn accumulate_prepared(
        &self,
        net: &Network,
        index: usize,
        trial: &Trial,
        start: &State,
        state: &mut RfloState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        if index >= state.prepared || state.batch[index].len() != trial.len() {
            return self.accumulate(net, trial, start, state, update);
        }
        let RfloState {
            batch,
            batch_slopes,
            signal,
            filtered,
            ..
        } = state;
        let trajectory = &batch[index];
        if !trajectory.loss.is_finite() {
            return Err(CoreError::NonFiniteLoss {
                loss: trajectory.loss,
            }
            .into());
        }
        self.add_batched_update(
            net,
            trial,
            trajectory,
            &batch_slopes[index],
            signal,
            filtered,
            update,
        );
        Ok(TrialOutcome {
            loss: trajectory.loss,
            final_state: trajectory.final_state(),
        })
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
        let low_rank = self
            .online_form
            .uses_low_rank(net, trial.len(), constraints);
        traces.begin(net, trial, start, !low_rank)?;
        if low_rank {
            let history = &mut state.low_rank;
            // One output and a projection fixed within the trial: the gains
            // are `rate F e(t)`, and only `e(t)` need be stored.
            let fixed = !matches!(self.projection, Projection::Readout);
            let shared = (fixed && net.n_outputs() == 1)
                .then(|| (self.projection.matrix(net), self.rates.recurrent * scale));
            history.begin(net.n_units(), trial.len(), shared);
            for step in 0..trial.len() {
                traces.step_online_low_rank(
                    net,
                    trial,
                    step,
                    &self.projection,
                    self.rates,
                    scale,
                    constraints,
                    history,
                );
            }
            let alpha = net.alpha();
            history.apply(net.weights_mut().recurrent.as_mut(), alpha);
            return Ok(traces.outcome(trial.len()));
        }
        for step in 0..trial.len() {
            // (1)-(4) of docs/spec/MODEL.md §7: dynamics, traces and projection with the
            // weights in force, then this step's update added straight into
            // the weights with the constraints (one pass over `p` and `W`).
            traces.step_online(
                net,
                trial,
                step,
                &self.projection,
                self.rates,
                scale,
                constraints,
                step + 1 < trial.len(),
            );
        }
        Ok(traces.outcome(trial.len()))
    }
}

/// Eligibility traces `p` (`N×N`) and `q` (`N×N_x`) with the step buffers.
///
/// The trace update and the weight update of a step are fused into one pass
/// over each column (`p` and the target read and written once), with the
/// same floating-point expressions as the unfused definition — results are
/// bit-for-bit those of "update the traces, then add `scale * c_a p_ab` into
/// a zeroed step update, then apply it through the constraints".
#[derive(Debug, Clone)]
pub(crate) struct LocalTraces {
    buffers: StepBuffers,
    recurrent_trace: Mat<f64>,
    input_trace: Mat<f64>,
    /// `alpha * phi'(u_a(t))`, per step.
    drive: Vec<f64>,
    /// `eta * scale * [F e(t)]_a`, per step and weight group.
    gain: Vec<f64>,
    /// True when the previous online step left `W h(t-1)` in the buffers.
    recurrent_ready: bool,
}

/// How a step's update reaches its target.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Traces only (a frozen group online).
    None,
    /// `target += update` (an accumulator, or weights without Dale's law).
    Add,
    /// `W += update`, then Dale's clip column by column.
    AddClip(DaleLaw),
}

impl LocalTraces {
    pub fn new(net: &Network) -> Self {
        let (n, nx) = (net.n_units(), net.n_inputs());
        Self {
            buffers: StepBuffers::new(net),
            recurrent_trace: Mat::zeros(n, n),
            input_trace: Mat::zeros(n, nx),
            drive: vec![0.0; n],
            gain: vec![0.0; n],
            recurrent_ready: false,
        }
    }

    /// Checks the trial and start state against `net`, resizes if `net` has
    /// other sizes than the last one (outside the step loop), zeroes the
    /// traces (the `N×N` recurrent trace only if `recurrent_trace`: the
    /// low-rank form never reads it).
    pub fn begin(
        &mut self,
        net: &Network,
        trial: &Trial,
        start: &State,
        recurrent_trace: bool,
    ) -> Result<()> {
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
        self.recurrent_ready = false;
        if recurrent_trace {
            self.recurrent_trace.fill(0.0);
        }
        self.input_trace.fill(0.0);
        Ok(())
    }

    /// Dynamics of step `step` and `F e(t)`; `drive = alpha phi'(u(t))`.
    fn advance(&mut self, net: &Network, trial: &Trial, step: usize, projection: &Projection) {
        let b = &mut self.buffers;
        if std::mem::take(&mut self.recurrent_ready) {
            b.advance_after_recurrent(net, trial, step);
        } else {
            b.advance(net, trial, step);
        }
        let alpha = net.alpha();
        for (d, &s) in self.drive.iter_mut().zip(&b.slope) {
            *d = alpha * s;
        }
        projection.project(net, &b.error, &mut b.projected_error);
    }

    /// `gain = rate * [F e(t)]`.
    fn set_gain(&mut self, rate: f64) {
        for (g, &c) in self.gain.iter_mut().zip(&self.buffers.projected_error) {
            *g = rate * c;
        }
    }

    /// Step `step` of a trial-end update: dynamics, `p(t)`, `q(t)`, `F e(t)`,
    /// and `update += scale * dTheta(t)`.
    #[allow(clippy::too_many_arguments)]
    pub fn step_accumulate(
        &mut self,
        net: &Network,
        trial: &Trial,
        step: usize,
        projection: &Projection,
        rates: LearningRates,
        scale: f64,
        update: &mut WeightUpdate,
    ) {
        self.advance(net, trial, step, projection);
        let alpha = net.alpha();
        self.set_gain(rates.recurrent * scale);
        trace_and_update(
            &mut self.recurrent_trace,
            update.recurrent.as_mut(),
            alpha,
            &self.drive,
            &self.buffers.h_prev,
            &self.gain,
            Target::Add,
        );
        self.set_gain(rates.input * scale);
        trace_and_update(
            &mut self.input_trace,
            update.input.as_mut(),
            alpha,
            &self.drive,
            trial.input_at(step),
            &self.gain,
            Target::Add,
        );
        let b = &self.buffers;
        add_readout_step(&mut update.readout, &b.error, &b.h, rates.readout * scale);
    }

    /// Step `step` of the online schedule (docs/spec/MODEL.md §7): dynamics, traces and
    /// `F e(t)` with the weights in force, then `dTheta(t)/T` added straight
    /// into the non-frozen groups of `net`, Dale's clip after it. Equal bit
    /// for bit to computing the step's update and [`Constraints::apply`].
    #[allow(clippy::too_many_arguments)]
    pub fn step_online(
        &mut self,
        net: &mut Network,
        trial: &Trial,
        step: usize,
        projection: &Projection,
        rates: LearningRates,
        scale: f64,
        constraints: &Constraints,
        fuse_next: bool,
    ) {
        self.advance(net, trial, step, projection);
        let alpha = net.alpha();
        let frozen = constraints.frozen;
        let recurrent_target = match (frozen.recurrent, constraints.dale) {
            (true, _) => Target::None,
            (false, None) => Target::Add,
            (false, Some(dale)) => Target::AddClip(dale),
        };
        let weights = net.weights_mut();
        self.set_gain(rates.recurrent * scale);
        if fuse_next {
            // The same pass also sums the next step's current `W(t) h(t)`
            // over the freshly updated (and clipped) columns of `W`.
            let b = &mut self.buffers;
            Arch::new().dispatch(FusedOnline {
                trace: &mut self.recurrent_trace,
                target: weights.recurrent.as_mut(),
                alpha,
                drive: &self.drive,
                v: &b.h_prev,
                gain: &self.gain,
                mode: recurrent_target,
                h: &b.h,
                acc: &mut b.next_recurrent,
            });
            self.recurrent_ready = true;
        } else {
            trace_and_update(
                &mut self.recurrent_trace,
                weights.recurrent.as_mut(),
                alpha,
                &self.drive,
                &self.buffers.h_prev,
                &self.gain,
                recurrent_target,
            );
        }
        self.update_input_and_readout(weights, trial, step, rates, scale, frozen, alpha);
    }

    /// The online step's `W_in` (trace `q` and update in one pass) and `W_out`
    /// updates, straight into the non-frozen groups of `weights`.
    #[allow(clippy::too_many_arguments)]
    fn update_input_and_readout(
        &mut self,
        weights: &mut Weights,
        trial: &Trial,
        step: usize,
        rates: LearningRates,
        scale: f64,
        frozen: Frozen,
        alpha: f64,
    ) {
        let input_target = if frozen.input {
            Target::None
        } else {
            Target::Add
        };
        self.set_gain(rates.input * scale);
        trace_and_update(
            &mut self.input_trace,
            weights.input.as_mut(),
            alpha,
            &self.drive,
            trial.input_at(step),
            &self.gain,
            input_target,
        );
        if !frozen.readout {
            let b = &self.buffers;
            add_readout_step(&mut weights.readout, &b.error, &b.h, rates.readout * scale);
        }
    }

    /// Step `step` of the online schedule in the low-rank form: dynamics with
    /// `W(t-1) h(t-1)` from the history, `W_in` and `W_out` updated in place
    /// as in [`LocalTraces::step_online`], the recurrent update only recorded
    /// (applied by [`LowRankHistory::apply`] at the trial's end), and the next
    /// step's `W(t) h(t)` computed from `W_0` and the history.
    #[allow(clippy::too_many_arguments)]
    fn step_online_low_rank(
        &mut self,
        net: &mut Network,
        trial: &Trial,
        step: usize,
        projection: &Projection,
        rates: LearningRates,
        scale: f64,
        constraints: &Constraints,
        history: &mut LowRankHistory,
    ) {
        self.advance(net, trial, step, projection);
        let alpha = net.alpha();
        self.set_gain(rates.recurrent * scale);
        let error = self.buffers.error.first().copied().unwrap_or(0.0);
        history.record(&self.buffers.h_prev, &self.drive, &self.gain, error);
        let weights = net.weights_mut();
        self.update_input_and_readout(
            weights,
            trial,
            step,
            rates,
            scale,
            constraints.frozen,
            alpha,
        );
        if step + 1 < trial.len() {
            let b = &mut self.buffers;
            let initial = net.weights().recurrent.as_ref();
            history.current(initial, alpha, &b.h, &mut b.next_recurrent);
            self.recurrent_ready = true;
        }
    }

    pub fn outcome(&self, len: usize) -> TrialOutcome {
        TrialOutcome {
            loss: self.buffers.loss(len),
            final_state: self.buffers.state(),
        }
    }
}

/// One fused pass, column `b` at a time:
///
/// ```text
/// trace_ab  = (1-alpha) trace_ab + drive_a v_b        drive_a = alpha phi'(u_a)
/// target_ab = target_ab + gain_a trace_ab             gain_a  = eta scale [F e]_a
/// ```
///
/// then, for [`Target::AddClip`], Dale's clip of column `b`. The expressions
/// are those of the unfused definition, so the results are bit-identical.
fn trace_and_update(
    trace: &mut Mat<f64>,
    target: MatMut<'_, f64>,
    alpha: f64,
    drive: &[f64],
    v: &[f64],
    gain: &[f64],
    mode: Target,
) {
    // Compiled for the machine's vector width (AVX2 here) by runtime
    // dispatch; no fused multiply-add is introduced, so results do not
    // depend on the machine.
    Arch::new().dispatch(TraceAndUpdate {
        trace,
        target,
        alpha,
        drive,
        v,
        gain,
        mode,
    });
}

/// The arguments of [`trace_and_update`], as a `pulp` SIMD operation.
struct TraceAndUpdate<'a> {
    trace: &'a mut Mat<f64>,
    target: MatMut<'a, f64>,
    alpha: f64,
    drive: &'a [f64],
    v: &'a [f64],
    gain: &'a [f64],
    mode: Target,
}

impl WithSimd for TraceAndUpdate<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            trace,
            mut target,
            alpha,
            drive,
            v,
            gain,
            mode,
        } = self;
        let n = trace.nrows();
        let keep = 1.0 - alpha;
        for (col, &v_b) in v.iter().enumerate() {
            let p = trace.col_as_slice_mut(col);
            match mode {
                Target::None => {
                    for (p, &d) in p.iter_mut().zip(drive) {
                        *p = keep * *p + d * v_b;
                    }
                }
                Target::Add | Target::AddClip(_) => {
                    let w = target
                        .as_mut()
                        .col_mut(col)
                        .try_as_col_major_mut()
                        .expect("contiguous column")
                        .as_slice_mut();
                    add_trace_column(simd, p, w, keep, drive, v_b, gain);
                    if let Target::AddClip(dale) = mode {
                        let sign = dale.sign(col, n);
                        for w in w.iter_mut() {
                            *w = sign * (sign * *w).max(0.0);
                        }
                    }
                }
            }
        }
    }
}

/// One column of [`TraceAndUpdate`] with an update: `p = keep p + d v_b`,
/// then `w = w + g p`, per row, in explicit SIMD vectors across rows and the
/// last `n mod lanes` rows by [`one`] (the same operations per entry).
#[inline(always)]
fn add_trace_column<S: Simd>(
    simd: S,
    p: &mut [f64],
    w: &mut [f64],
    keep: f64,
    drive: &[f64],
    v_b: f64,
    gain: &[f64],
) {
    let n = p.len();
    let (p_head, p_tail) = S::as_mut_simd_f64s(p);
    let (w_head, w_tail) = S::as_mut_simd_f64s(&mut w[..n]);
    let (d_head, d_tail) = S::as_simd_f64s(&drive[..n]);
    let (g_head, g_tail) = S::as_simd_f64s(&gain[..n]);
    let (keep_s, v_s) = (simd.splat_f64s(keep), simd.splat_f64s(v_b));
    let head = p_head
        .iter_mut()
        .zip(w_head.iter_mut())
        .zip(d_head)
        .zip(g_head);
    for (((p, w), &d), &g) in head {
        (*p, *w) = simd_one::<S, true>(simd, *p, *w, keep_s, d, v_s, g);
    }
    let tail = p_tail
        .iter_mut()
        .zip(w_tail.iter_mut())
        .zip(d_tail)
        .zip(g_tail);
    for (((p, w), &d), &g) in tail {
        one::<true, false>(p, w, keep, d, v_b, g, 1.0);
    }
}

/// The online recurrent pass with the next step's current fused in:
/// [`trace_and_update`] on `p` and `W` (same expressions, bit-identical `p`
/// and `W`), and `acc = W(t) h(t)` summed over columns in order with a
/// separate multiply and add, four columns at a time — the same operations
/// as `rnn_core::gemv::matvec`, which `forward_step` uses, so the fused
/// current equals the unfused one bit for bit (tested against
/// [`trace_and_update`] and `matvec` in this module's tests).
struct FusedOnline<'a> {
    trace: &'a mut Mat<f64>,
    target: MatMut<'a, f64>,
    alpha: f64,
    drive: &'a [f64],
    v: &'a [f64],
    gain: &'a [f64],
    mode: Target,
    h: &'a [f64],
    acc: &'a mut [f64],
}

impl WithSimd for FusedOnline<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        match self.mode {
            Target::None => self.run::<S, false, false>(simd, None),
            Target::Add => self.run::<S, true, false>(simd, None),
            Target::AddClip(dale) => self.run::<S, true, true>(simd, Some(dale)),
        }
    }
}

impl FusedOnline<'_> {
    /// Blocks of four columns, then one block of the last one to three.
    /// Every entry sees the same operations whatever its block's width, and
    /// `acc_i` gets its columns' terms in column order, so the block widths
    /// change no bit.
    #[inline(always)]
    fn run<S: Simd, const UPDATE: bool, const CLIP: bool>(self, simd: S, dale: Option<DaleLaw>) {
        let Self {
            trace,
            target,
            alpha,
            drive,
            v,
            gain,
            h,
            acc,
            ..
        } = self;
        let n = trace.nrows();
        let m = v.len();
        let mut block = Block {
            keep: 1.0 - alpha,
            drive: &drive[..n],
            gain: &gain[..n],
            v,
            h: &h[..m],
            dale,
            acc: &mut acc[..n],
        };
        block.acc.fill(0.0);
        // The columns in order from one iterator per matrix: no split of
        // the views nor a bounds check per block.
        let mut p_cols = trace.as_mut().col_iter_mut().map(|c| contiguous(c, n));
        let mut w_cols = target.col_iter_mut().map(|c| contiguous(c, n));
        let mut col = 0;
        while col + 4 <= m {
            block.columns::<S, 4, UPDATE, CLIP>(simd, &mut p_cols, &mut w_cols, col);
            col += 4;
        }
        match m - col {
            3 => block.columns::<S, 3, UPDATE, CLIP>(simd, &mut p_cols, &mut w_cols, col),
            2 => block.columns::<S, 2, UPDATE, CLIP>(simd, &mut p_cols, &mut w_cols, col),
            1 => block.columns::<S, 1, UPDATE, CLIP>(simd, &mut p_cols, &mut w_cols, col),
            _ => {}
        }
    }
}

/// The per-row factors of [`FusedOnline`] and its per-column ones for all
/// columns, with the current being summed.
struct Block<'a> {
    keep: f64,
    drive: &'a [f64],
    gain: &'a [f64],
    v: &'a [f64],
    h: &'a [f64],
    dale: Option<DaleLaw>,
    acc: &'a mut [f64],
}

impl Block<'_> {
    /// Columns `col .. col + C`, taken from the column iterators. Without
    /// Dale's clip the rows run in explicit SIMD vectors, the last one
    /// partial ([`simd_rows`]; LLVM's own vectorisation of [`rows`] leaves
    /// up to 15 scalar rows, 14 of 30 at N = 30). The clip keeps the scalar
    /// form (its `max` is `f64::max`).
    #[inline(always)]
    fn columns<'c, S: Simd, const C: usize, const UPDATE: bool, const CLIP: bool>(
        &mut self,
        simd: S,
        p_cols: &mut impl Iterator<Item = &'c mut [f64]>,
        w_cols: &mut impl Iterator<Item = &'c mut [f64]>,
        col: usize,
    ) {
        let mut p: [&mut [f64]; C] = std::array::from_fn(|_| <&mut [f64]>::default());
        let mut w: [&mut [f64]; C] = std::array::from_fn(|_| <&mut [f64]>::default());
        for (p, w) in p.iter_mut().zip(&mut w) {
            *p = p_cols.next().expect("an N×N trace");
            *w = w_cols.next().expect("an N×N target");
        }
        let n = self.acc.len();
        let c = Coefficients {
            keep: self.keep,
            drive: self.drive,
            gain: self.gain,
            v: std::array::from_fn(|b| self.v[col + b]),
            h: std::array::from_fn(|b| self.h[col + b]),
            sign: std::array::from_fn(|b| self.dale.map_or(1.0, |d| d.sign(col + b, n))),
        };
        if CLIP {
            rows::<C, UPDATE, CLIP>(p, w, self.acc, &c);
        } else {
            simd_rows::<S, C, UPDATE>(simd, p, w, self.acc, &c);
        }
    }
}

/// The per-row and per-column factors of one block of `C` columns.
struct Coefficients<'a, const C: usize> {
    keep: f64,
    drive: &'a [f64],
    gain: &'a [f64],
    v: [f64; C],
    h: [f64; C],
    sign: [f64; C],
}

/// [`rows`] without Dale's clip, SIMD vectors across rows: per row and
/// column the operations of [`one`] (`p = keep p + d v`, `w = w + g p`)
/// and `a = a + w h`, lane by lane in the same order, so the same bits;
/// the last `n mod lanes` rows run [`one`] itself (`pulp`'s partial loads
/// and stores cost more instructions than these scalar rows).
#[inline(always)]
fn simd_rows<S: Simd, const C: usize, const UPDATE: bool>(
    simd: S,
    p: [&mut [f64]; C],
    w: [&mut [f64]; C],
    acc: &mut [f64],
    c: &Coefficients<'_, C>,
) {
    let n = acc.len();
    let (acc_head, acc_tail) = S::as_mut_simd_f64s(acc);
    let (drive, drive_tail) = S::as_simd_f64s(&c.drive[..n]);
    let (gain, gain_tail) = S::as_simd_f64s(&c.gain[..n]);
    let p = p.map(|col| S::as_mut_simd_f64s(&mut col[..n]));
    let w = w.map(|col| S::as_mut_simd_f64s(&mut col[..n]));
    let keep = simd.splat_f64s(c.keep);
    let v = c.v.map(|x| simd.splat_f64s(x));
    let h = c.h.map(|x| simd.splat_f64s(x));
    let len = acc_head.len();
    for i in 0..len {
        let (d, g) = (drive[i], gain[i]);
        let mut a = acc_head[i];
        for b in 0..C {
            let (trace, weight) = (&mut p[b].0[..len][i], &mut w[b].0[..len][i]);
            let (p_new, w_new) = simd_one::<S, UPDATE>(simd, *trace, *weight, keep, d, v[b], g);
            *trace = p_new;
            if UPDATE {
                *weight = w_new;
            }
            a = simd.add_f64s(a, simd.mul_f64s(w_new, h[b]));
        }
        acc_head[i] = a;
    }
    for (i, acc) in acc_tail.iter_mut().enumerate() {
        let (d, g) = (drive_tail[i], gain_tail[i]);
        let mut a = *acc;
        for b in 0..C {
            let (trace, weight) = (&mut p[b].1[i], &mut w[b].1[i]);
            a += one::<UPDATE, false>(trace, weight, c.keep, d, c.v[b], g, 1.0) * c.h[b];
        }
        *acc = a;
    }
}

/// [`one`] without the clip on a vector of rows: the new `(p, w)`.
#[inline(always)]
fn simd_one<S: Simd, const UPDATE: bool>(
    simd: S,
    p: S::f64s,
    w: S::f64s,
    keep: S::f64s,
    d: S::f64s,
    v: S::f64s,
    g: S::f64s,
) -> (S::f64s, S::f64s) {
    let p = simd.add_f64s(simd.mul_f64s(keep, p), simd.mul_f64s(d, v));
    let w = if UPDATE {
        simd.add_f64s(w, simd.mul_f64s(g, p))
    } else {
        w
    };
    (p, w)
}

/// One block of `C` columns row by row, each entry by [`one`]. The columns
/// come in as separate `&mut` slices so that the compiler knows they do not
/// overlap.
#[inline(always)]
fn rows<const C: usize, const UPDATE: bool, const CLIP: bool>(
    p: [&mut [f64]; C],
    w: [&mut [f64]; C],
    acc: &mut [f64],
    c: &Coefficients<'_, C>,
) {
    let n = acc.len();
    let p = p.map(|col| &mut col[..n]);
    let w = w.map(|col| &mut col[..n]);
    let (drive, gain) = (&c.drive[..n], &c.gain[..n]);
    for i in 0..n {
        let (d, g) = (drive[i], gain[i]);
        let mut a = acc[i];
        for b in 0..C {
            let (trace, weight) = (&mut p[b][i], &mut w[b][i]);
            a += one::<UPDATE, CLIP>(trace, weight, c.keep, d, c.v[b], g, c.sign[b]) * c.h[b];
        }
        acc[i] = a;
    }
}

/// One entry: `p = keep p + d v`, then (if `UPDATE`) `w += g p`, then (if
/// `CLIP`) Dale's clip with sign `s`; returns the new `w`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn one<const UPDATE: bool, const CLIP: bool>(
    p: &mut f64,
    w: &mut f64,
    keep: f64,
    d: f64,
    v: f64,
    g: f64,
    s: f64,
) -> f64 {
    *p = keep * *p + d * v;
    if UPDATE {
        *w += g * *p;
        if CLIP {
            *w = s * (s * *w).max(0.0);
        }
    }
    *w
}

/// A column with unit row stride as a slice of length `n`.
#[inline(always)]
fn contiguous(c: ColMut<'_, f64>, n: usize) -> &mut [f64] {
    &mut c
        .try_as_col_major_mut()
        .expect("contiguous column")
        .as_slice_mut()[..n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};
    use rnn_core::gemv::matvec;
    use rnn_core::{SeededRng, seeded};

    fn normal_vec(rng: &mut SeededRng, n: usize) -> Vec<f64> {
        (0..n).map(|_| StandardNormal.sample(rng)).collect()
    }

    fn normal_mat(rng: &mut SeededRng, n: usize) -> Mat<f64> {
        Mat::from_fn(n, n, |_, _| StandardNormal.sample(rng))
    }

    /// The fused pass against its definition — [`trace_and_update`], then
    /// `W h` by `gemv::matvec` — bit for bit, with non-zero gains, at every
    /// size up to 13 (every block width and row tail for 2, 4 and 8 lanes)
    /// and at 30 and 33, in every target mode.
    #[test]
    fn fused_pass_equals_trace_update_then_matvec_bit_for_bit() {
        let mut rng = seeded(30);
        let modes = [
            Target::None,
            Target::Add,
            Target::AddClip(DaleLaw::default()),
        ];
        for n in (1..=13).chain([30, 33]) {
            for mode in modes {
                let (p0, w0) = (normal_mat(&mut rng, n), normal_mat(&mut rng, n));
                let [drive, gain, v, h] = std::array::from_fn(|_| normal_vec(&mut rng, n));
                let alpha = 0.3;
                let (mut p_ref, mut w_ref) = (p0.clone(), w0.clone());
                trace_and_update(&mut p_ref, w_ref.as_mut(), alpha, &drive, &v, &gain, mode);
                let mut acc_ref = vec![0.0; n];
                matvec(w_ref.as_ref(), &h, &mut acc_ref, false);
                let (mut p, mut w) = (p0.clone(), w0.clone());
                let mut acc = vec![f64::NAN; n];
                Arch::new().dispatch(FusedOnline {
                    trace: &mut p,
                    target: w.as_mut(),
                    alpha,
                    drive: &drive,
                    v: &v,
                    gain: &gain,
                    mode,
                    h: &h,
                    acc: &mut acc,
                });
                let bits = |m: &Mat<f64>| -> Vec<u64> {
                    (0..n)
                        .flat_map(|j| (0..n).map(move |i| (i, j)))
                        .map(|(i, j)| m[(i, j)].to_bits())
                        .collect()
                };
                let label = format!("n = {n}, {mode:?}");
                assert_eq!(bits(&p), bits(&p_ref), "trace, {label}");
                assert_eq!(bits(&w), bits(&w_ref), "weights, {label}");
                let acc_bits = |a: &[f64]| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(acc_bits(&acc), acc_bits(&acc_ref), "current, {label}");
            }
        }
    }
}
