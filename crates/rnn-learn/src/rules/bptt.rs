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
//! Cost: O(N²) work per step (one `W^T` mat-vec backward, and two
//! `(N×T)(T×N)` products), O(N T) memory. BPTT needs the whole trial before
//! any update, so it refuses the online schedule.

use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, Mat, Par};

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
    /// Trajectories and slopes of [`LearningRule::accumulate_many`]'s batch.
    batch: Vec<Trajectory>,
    batch_slopes: Vec<Mat<f64>>,
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
    /// ([`Network::run_batch_from_into`], bit-identical to one at a time);
    /// [`LearningRule::accumulate_prepared`] then runs each trial's backward
    /// pass and adds its update, the same bits as `accumulate`.
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
        state: &mut BpttState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        if index >= state.prepared || state.batch[index].len() != trial.len() {
            return self.accumulate(net, trial, start, state, update);
        }
        let BpttState {
            batch,
            batch_slopes,
            signal,
            adjoint,
            recurrent_term,
            ..
        } = state;
        let trajectory = &batch[index];
        if !trajectory.loss.is_finite() {
            return Err(CoreError::NonFiniteLoss {
                loss: trajectory.loss,
            }
            .into());
        }
        self.add_update(
            net,
            trial,
            trajectory,
            &batch_slopes[index],
            signal,
            adjoint,
            recurrent_term,
            update,
        );
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
        let (n, len) = (net.n_units(), trial.len());
        ensure_shape(signal, n, len);
        // signal <- F e(t) for every t; the backward pass turns it into phi' ⊙ z.
        self.projection
            .project_all(net, trajectory.error.as_ref(), signal.as_mut());
        backward(net, trajectory, slope, signal, adjoint, recurrent_term);
        let alpha_over_len = net.alpha() / len as f64;
        add_trial_products(
            trajectory,
            trial,
            signal.as_ref(),
            self.rates.recurrent * alpha_over_len,
            self.rates.input * alpha_over_len,
            self.rates.readout / len as f64,
            update,
        );
    }
}

/// The adjoint recursion, in place: on entry column `s` of `signal` holds
/// `F e(t)`; on exit it holds `phi'(u(t)) ⊙ z(t)` (`t = s + 1`).
fn backward(
    net: &Network,
    trajectory: &Trajectory,
    slope: &Mat<f64>,
    signal: &mut Mat<f64>,
    adjoint: &mut [f64],
    recurrent_term: &mut [f64],
) {
    let alpha = net.alpha();
    adjoint.fill(0.0);
    recurrent_term.fill(0.0);
    for step in (0..trajectory.len()).rev() {
        // z(t) = (1-alpha) z(t+1) + alpha W^T [phi'(u(t+1)) ⊙ z(t+1)] + F e(t);
        // recurrent_term holds W^T [phi' ⊙ z](t+1), zero at t = T.
        let column = signal.col_as_slice_mut(step);
        // phi'(u(t)), stored by the forward pass (= tanh_derivative(u(t)) bit for bit).
        let slope = slope.col_as_slice(step);
        for (((z, d), &w_term), &slope) in adjoint
            .iter_mut()
            .zip(column.iter_mut())
            .zip(recurrent_term.iter())
            .zip(slope)
        {
            *z = (1.0 - alpha) * *z + alpha * w_term + *d;
            *d = slope * *z;
        }
        matmul(
            ColMut::from_slice_mut(recurrent_term),
            Accum::Replace,
            net.recurrent().transpose(),
            ColRef::from_slice(signal.col_as_slice(step)),
            1.0,
            Par::Seq,
        );
    }
}
