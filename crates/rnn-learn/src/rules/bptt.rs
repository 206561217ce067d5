//! BPTT: backpropagation through time, exact and acausal (docs/spec/MODEL.md §4; paper Eq 18–23).
//!
//! Run the trial forward storing `u(t)`, `h(t)`, `e(t)`, then the adjoint backward:
//!
//! ```text
//! z(T) = F e(T)
//! z(t) = (1-alpha) z(t+1) + alpha W^T [phi'(u(t+1)) ⊙ z(t+1)] + F e(t),   t = T-1 .. 1
//!
//! dW     = (eta2 alpha / T) sum_t [phi'(u(t)) ⊙ z(t)] h(t-1)^T
//! dW_in  = (eta3 alpha / T) sum_t [phi'(u(t)) ⊙ z(t)] x(t)^T
//! dW_out = (eta1 / T)       sum_t e(t) h(t)^T
//! ```
//!
//! With `F = W_out^T` (the default) this is `-eta` times the exact gradient
//! of `L`, equal to RTRL's trial-end update (docs/spec/MODEL.md §4, Appendix 1). Note
//! the error `e(t)` enters `z(t)`, not `z(t-1)` (the paper's example code
//! has that off-by-one). In readout-feedback mode the feedback loop
//! `B y(t-1)` is not differentiated through (docs/spec/MODEL.md §6): the rule then
//! treats the fed-back output as an input.
//!
//! The backward pass's product `W^T [phi' ⊙ z]` is
//! [`rnn_core::gemv_transposed::matvec_t`], summed in a fixed order without
//! fused multiply-add, so the adjoint does not depend on the CPU.
//!
//! Cost: O(N²) work per step (one `W^T` mat-vec backward, and two
//! `(N×T)(T×N)` products), O(N T) memory. BPTT needs the whole trial before
//! any update, so it refuses the online schedule.
//!
//! **Batched trials** ([`LearningRule::prepare_batch`]): the `K` forward
//! passes run together, then the `K` backward passes, stepping back together
//! with one [`rnn_core::gemv_transposed::matmat_t`] per step for the `K`
//! products (`W` read once per step for up to eight trials). Trials are
//! aligned at their ends: at backward step `g = 0, 1, ...` every trial with
//! `T_k > g` is at its own step `t = T_k - g` (a shorter trial joins when the
//! longest has `T_k` steps left), so each trial's adjoint is the same
//! sequence of operations as alone, bit for bit.

use faer::Mat;

use rnn_core::gemv_transposed::{matmat_t, matvec_t};
use rnn_core::{CoreError, Network, State, Trajectory, Trial};

use crate::batched::{add_trial_products, ensure_shape};
use crate::error::Result;
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::update::{LearningRates, WeightUpdate};

/// BPTT with projection `F` (default `W_out^T`: the exact gradient).
#[derive(Debug, Clone, PartialEq)]
pub struct Bptt {
    rates: LearningRates,
    projection: Projection,
}

impl Bptt {
    /// Exact-gradient BPTT (`F = W_out^T`) with the given rates (validated).
    pub fn new(rates: LearningRates) -> Result<Self> {
        Self::with_projection(rates, Projection::Readout)
    }

    /// BPTT with any projection `F` (`NonlocalRandom` uses `F = B`).
    pub fn with_projection(rates: LearningRates, projection: Projection) -> Result<Self> {
        rates.validate()?;
        Ok(Self { rates, projection })
    }

    /// The projection `F`.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }
}

/// Working memory of [`Bptt`]: the stored trajectory and the adjoint signal.
#[derive(Debug, Clone)]
pub struct BpttState {
    trajectory: Trajectory,
    /// `phi'(u(t))`, `N×T`, from the forward pass.
    slope: Mat<f64>,
    /// Column `s`: `phi'(u(t)) ⊙ z(t)` for `t = s + 1`, after the backward pass.
    signal: Mat<f64>,
    adjoint: Vec<f64>,
    recurrent_term: Vec<f64>,
    /// Trajectories, slopes and (after the batched backward pass) signals of
    /// [`LearningRule::accumulate_many`]'s batch.
    batch: Vec<Trajectory>,
    batch_slopes: Vec<Mat<f64>>,
    batch_signals: Vec<Mat<f64>>,
    /// The batched backward pass's working memory.
    batch_backward: BatchBackward,
    /// How many trials of `batch` are prepared.
    prepared: usize,
}

impl LearningRule for Bptt {
    type State = BpttState;

    fn name(&self) -> &'static str {
        match self.projection {
            Projection::Readout => "BPTT",
            Projection::Feedback => "NonlocalRandom (BPTT form)",
            Projection::Custom(_) => "BPTT (custom F)",
        }
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.projection.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> BpttState {
        let n = net.n_units();
        BpttState {
            trajectory: Trajectory::zeros(net, 0),
            slope: Mat::zeros(n, 0),
            signal: Mat::zeros(n, 0),
            adjoint: vec![0.0; n],
            recurrent_term: vec![0.0; n],
            batch: Vec::new(),
            batch_slopes: Vec::new(),
            batch_signals: Vec::new(),
            batch_backward: BatchBackward::default(),
            prepared: 0,
        }
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut BpttState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        net.run_from_into_with_slope(trial, start, &mut state.trajectory, &mut state.slope)?;
        let BpttState {
            trajectory,
            slope,
            signal,
            adjoint,
            recurrent_term,
            ..
        } = state;
        self.add_update(
            net,
            trial,
            trajectory,
            slope,
            signal,
            adjoint,
            recurrent_term,
            update,
        );
        Ok(TrialOutcome {
            loss: state.trajectory.loss,
            final_state: state.trajectory.final_state(),
        })
    }

    /// Runs the trials' forward passes together
    /// ([`Network::run_batch_from_into`]), then their backward passes
    /// together (aligned at their ends, see the module docs), each
    /// bit-identical to one at a time; [`LearningRule::accumulate_prepared`]
    /// then adds each trial's products, the same bits as `accumulate`.
    fn prepare_batch(
        &self,
        net: &Network,
        trials: &[&Trial],
        starts: &[State],
        state: &mut BpttState,
    ) -> bool {
        state.prepared = 0;
        let ok = net
            .run_batch_from_into(
                trials,
                starts,
                &mut state.batch,
                Some(&mut state.batch_slopes),
            )
            .is_ok();
        if !ok {
            return false;
        }
        let (n, k) = (net.n_units(), trials.len());
        if state.batch_signals.len() < k {
            state.batch_signals.resize_with(k, || Mat::zeros(n, 0));
        }
        let signals = &mut state.batch_signals[..k];
        for (signal, trajectory) in signals.iter_mut().zip(&state.batch[..k]) {
            self.project_errors(net, trajectory, signal);
        }
        state
            .batch_backward
            .run(net, &state.batch_slopes[..k], signals);
        state.prepared = k;
        true
    }

    fn accumulate_prepared(
        &self,
        net: &Network,
        index: usize,
        trial: &Trial,
        start: &State,
        state: &mut BpttState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        if index >= state.prepared || state.batch[index].len() != trial.len() {
            return self.accumulate(net, trial, start, state, update);
        }
        let trajectory = &state.batch[index];
        if !trajectory.loss.is_finite() {
            return Err(CoreError::NonFiniteLoss {
                loss: trajectory.loss,
            }
            .into());
        }
        self.add_products(net, trial, trajectory, &state.batch_signals[index], update);
        Ok(TrialOutcome {
            loss: trajectory.loss,
            final_state: trajectory.final_state(),
        })
    }
}

impl Bptt {
    /// The backward pass and the update of one trial from its forward pass
    /// (`trajectory`, `slope = phi'(u)`), added to `update`.
    #[allow(clippy::too_many_arguments)]
    fn add_update(
        &self,
        net: &Network,
        trial: &Trial,
        trajectory: &Trajectory,
        slope: &Mat<f64>,
        signal: &mut Mat<f64>,
        adjoint: &mut [f64],
        recurrent_term: &mut [f64],
        update: &mut WeightUpdate,
    ) {
        self.project_errors(net, trajectory, signal);
        backward(net, slope, signal, adjoint, recurrent_term);
        self.add_products(net, trial, trajectory, signal, update);
    }

    /// `signal <- F e(t)` for every step (the backward pass turns it into
    /// `phi' ⊙ z`).
    fn project_errors(&self, net: &Network, trajectory: &Trajectory, signal: &mut Mat<f64>) {
        ensure_shape(signal, net.n_units(), trajectory.len());
        self.projection
            .project_all(net, trajectory.error.as_ref(), signal.as_mut());
    }

    /// Adds the trial's update from its signal `phi' ⊙ z` (after the backward pass).
    fn add_products(
        &self,
        net: &Network,
        trial: &Trial,
        trajectory: &Trajectory,
        signal: &Mat<f64>,
        update: &mut WeightUpdate,
    ) {
        let len = trial.len() as f64;
        let alpha_over_len = net.alpha() / len;
        add_trial_products(
            trajectory,
            trial,
            signal.as_ref(),
            self.rates.recurrent * alpha_over_len,
            self.rates.input * alpha_over_len,
            self.rates.readout / len,
            update,
        );
    }
}

/// The adjoint recursion, in place: on entry column `s` of `signal` holds
/// `F e(t)`; on exit it holds `phi'(u(t)) ⊙ z(t)` (`t = s + 1`).
fn backward(
    net: &Network,
    slope: &Mat<f64>,
    signal: &mut Mat<f64>,
    adjoint: &mut [f64],
    recurrent_term: &mut [f64],
) {
    let alpha = net.alpha();
    adjoint.fill(0.0);
    recurrent_term.fill(0.0);
    for step in (0..signal.ncols()).rev() {
        adjoint_step(
            alpha,
            slope.col_as_slice(step),
            signal.col_as_slice_mut(step),
            adjoint,
            recurrent_term,
        );
        matvec_t(net.recurrent(), signal.col_as_slice(step), recurrent_term);
    }
}

/// One step of the adjoint: `z(t) = (1-alpha) z(t+1) + alpha W^T [phi' ⊙ z](t+1)
/// + F e(t)` with `recurrent_term = W^T [phi' ⊙ z](t+1)` (zero at `t = T`)
/// and `column = F e(t)` on entry, `phi'(u(t)) ⊙ z(t)` on exit.
#[inline]
fn adjoint_step(
    alpha: f64,
    slope: &[f64],
    column: &mut [f64],
    adjoint: &mut [f64],
    recurrent_term: &[f64],
) {
    // slope = phi'(u(t)), stored by the forward pass (= tanh_derivative(u(t)) bit for bit).
    for (((z, d), &w_term), &slope) in adjoint
        .iter_mut()
        .zip(column.iter_mut())
        .zip(recurrent_term)
        .zip(slope)
    {
        *z = (1.0 - alpha) * *z + alpha * w_term + *d;
        *d = slope * *z;
    }
}

/// Working memory of the batched backward pass: per slot (trials ordered
/// by decreasing length) the adjoint, `W^T [phi' ⊙ z]` and the current
/// `phi' ⊙ z`, each `K` vectors of length `N` one after another.
#[derive(Debug, Clone, Default)]
struct BatchBackward {
    /// Trial index of each slot, longest first (ties in batch order).
    order: Vec<usize>,
    adjoints: Vec<f64>,
    recurrent_terms: Vec<f64>,
    current: Vec<f64>,
}

impl BatchBackward {
    /// [`backward`] of every trial (`slopes[k]`, `signals[k]`, `N×T_k`),
    /// aligned at their ends: at backward step `g` the trials with
    /// `T_k > g` (a prefix of the slots) are at their step `T_k - 1 - g`,
    /// and one `matmat_t` gives their `K` products.
    fn run(&mut self, net: &Network, slopes: &[Mat<f64>], signals: &mut [Mat<f64>]) {
        let (n, alpha) = (net.n_units(), net.alpha());
        let k = signals.len();
        self.order.clear();
        self.order.extend(0..k);
        self.order
            .sort_by_key(|&index| std::cmp::Reverse(signals[index].ncols()));
        for buffer in [
            &mut self.adjoints,
            &mut self.recurrent_terms,
            &mut self.current,
        ] {
            buffer.clear();
            buffer.resize(k * n, 0.0);
        }
        let longest = self
            .order
            .first()
            .map_or(0, |&index| signals[index].ncols());
        for g in 0..longest {
            let active = self
                .order
                .iter()
                .take_while(|&&index| signals[index].ncols() > g)
                .count();
            for (slot, &index) in self.order[..active].iter().enumerate() {
                let step = signals[index].ncols() - 1 - g;
                let range = slot * n..(slot + 1) * n;
                let column = signals[index].col_as_slice_mut(step);
                adjoint_step(
                    alpha,
                    slopes[index].col_as_slice(step),
                    column,
                    &mut self.adjoints[range.clone()],
                    &self.recurrent_terms[range.clone()],
                );
                self.current[range].copy_from_slice(column);
            }
            matmat_t(
                net.recurrent(),
                &self.current[..active * n],
                &mut self.recurrent_terms[..active * n],
            );
        }
    }
}
