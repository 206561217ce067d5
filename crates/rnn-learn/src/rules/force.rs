//! FORCE: recursive least squares on the readout (docs/spec/MODEL.md §15; Sussillo & Abbott 2009).
//!
//! Meant for readout-feedback mode (§6, `u += B y(t-1)`), running
//! continuously (the state carried over from trial to trial), with `W` and
//! `W_in` never changed. The inverse correlation estimate starts at
//! `P(0) = I / delta` (`delta = 1` by default) and carries over between
//! trials. At each step, with `e(t) = y*(t) - y(t)` from the pre-update
//! `W_out`:
//!
//! ```text
//! k = P h(t);   c = 1 / (1 + h(t)^T k);   P ← P - c k k^T;   W_out ← W_out + eta1 c e(t) k^T
//! ```
//!
//! `eta1 = 1` is FORCE; the error right after the step is then `c e(t)`.
//! Identity (tested, §16): with `eta1 = 1`, after `t` steps `W_out` is the
//! ridge least-squares readout on the states seen so far,
//! `argmin sum_s |y*(s) - W_out h(s)|² + delta |W_out - W_out(0)|_F²`. A
//! masked step (`m(t) = 0`) is skipped (no target: neither `P` nor `W_out`
//! changes), so the least squares run over the unmasked steps. `eta2`,
//! `eta3` are not used. Cost: O(N²) per step.
//!
//! Schedules: online (§7) is FORCE proper. A trial-end update runs the same
//! recursion on a shadow copy of `W_out` (the dynamics use the fixed one)
//! and returns the shadow's change; with the per-trial schedule `W_out`
//! after each trial is again the ridge readout on all states seen (the
//! every-K sum of such changes is not). `P` is rule memory, saved in
//! checkpoints.

use faer::Mat;

use rnn_core::gemv::matvec;
use rnn_core::{Network, State, Trial};

use crate::checkpoint::RuleMemory;
use crate::constraints::Constraints;
use crate::error::{LearnError, Result, invalid};
use crate::forward::StepBuffers;
use crate::rule::{LearningRule, TrialOutcome};
use crate::update::{LearningRates, WeightUpdate};

/// FORCE (RLS on the readout) with regulariser `delta`; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Force {
    rates: LearningRates,
    delta: f64,
}

impl Force {
    /// FORCE with `delta = 1` and the given rates (validated; only `eta1` is
    /// used, `eta1 = 1` being FORCE proper).
    pub fn new(rates: LearningRates) -> Result<Self> {
        rates.validate()?;
        Ok(Self { rates, delta: 1.0 })
    }

    /// The regulariser `delta` (finite, `> 0`): `P(0) = I / delta`.
    pub fn with_delta(mut self, delta: f64) -> Result<Self> {
        if !delta.is_finite() || delta <= 0.0 {
            return Err(invalid("delta", delta, "must be finite and > 0"));
        }
        self.delta = delta;
        Ok(self)
    }

    /// `delta`.
    pub fn delta(&self) -> f64 {
        self.delta
    }
}

/// Working memory of [`Force`]: `P` (carried across trials), the step
/// buffers, `k`, the error and the shadow readout of trial-end updates.
#[derive(Debug, Clone)]
pub struct ForceState {
    p: Mat<f64>,
    buffers: StepBuffers,
    k: Vec<f64>,
    error: Vec<f64>,
    prediction: Vec<f64>,
    shadow: Mat<f64>,
}

impl ForceState {
    fn new(net: &Network, delta: f64) -> Self {
        let (n, ny) = (net.n_units(), net.n_outputs());
        Self {
            p: Mat::from_fn(n, n, |i, j| if i == j { 1.0 / delta } else { 0.0 }),
            buffers: StepBuffers::new(net),
            k: vec![0.0; n],
            error: vec![0.0; ny],
            prediction: vec![0.0; ny],
            shadow: Mat::zeros(ny, n),
        }
    }

    fn begin(&mut self, net: &Network, trial: &Trial, start: &State, delta: f64) -> Result<()> {
        trial.check_fits(net.config())?;
        start.check_fits(net)?;
        if self.p.nrows() != net.n_units() || self.error.len() != net.n_outputs() {
            *self = Self::new(net, delta);
        }
        self.buffers.reset(start);
        Ok(())
    }

    /// One RLS step on `readout` with `h = h(t)` and `error = y* - readout h`
    /// (already in `self.error`).
    fn rls(&mut self, readout: Option<&mut Mat<f64>>, eta: f64) {
        let h = &self.buffers.h;
        matvec(self.p.as_ref(), h, &mut self.k, false);
        let c = 1.0 / (1.0 + h.iter().zip(&self.k).map(|(a, b)| a * b).sum::<f64>());
        for j in 0..self.k.len() {
            let kj = c * self.k[j];
            for (p, &ki) in self.p.col_as_slice_mut(j).iter_mut().zip(&self.k) {
                *p -= kj * ki;
            }
        }
        if let Some(readout) = readout {
            for (j, &kj) in self.k.iter().enumerate() {
                for (w, &e) in readout.col_as_slice_mut(j).iter_mut().zip(&self.error) {
                    *w += eta * c * e * kj;
                }
            }
        }
    }

    fn outcome(&self, len: usize) -> TrialOutcome {
        TrialOutcome {
            loss: self.buffers.loss(len),
            final_state: self.buffers.state(),
        }
    }
}

impl LearningRule for Force {
    type State = ForceState;

    fn name(&self) -> &'static str {
        "FORCE"
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, _net: &Network) -> Result<()> {
        Ok(())
    }

    fn new_state(&self, net: &Network) -> ForceState {
        ForceState::new(net, self.delta)
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut ForceState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        state.begin(net, trial, start, self.delta)?;
        let mut shadow = std::mem::replace(&mut state.shadow, Mat::new());
        if shadow.shape() != net.readout().shape() {
            shadow = Mat::zeros(net.n_outputs(), net.n_units());
        }
        shadow.copy_from(net.readout());
        for step in 0..trial.len() {
            state.buffers.advance(net, trial, step);
            if trial.mask_at(step) == 0.0 {
                continue;
            }
            // The error of the shadow readout, which RLS updates.
            matvec(
                shadow.as_ref(),
                &state.buffers.h,
                &mut state.prediction,
                false,
            );
            for ((e, &target), &y) in state
                .error
                .iter_mut()
                .zip(trial.target_at(step))
                .zip(&state.prediction)
            {
                *e = target - y;
            }
            state.rls(Some(&mut shadow), self.rates.readout);
        }
        let readout = net.readout();
        for j in 0..shadow.ncols() {
            for (i, d) in update.readout.col_as_slice_mut(j).iter_mut().enumerate() {
                *d += shadow[(i, j)] - readout[(i, j)];
            }
        }
        state.shadow = shadow;
        Ok(state.outcome(trial.len()))
    }

    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut ForceState,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        state.begin(net, trial, start, self.delta)?;
        for step in 0..trial.len() {
            // e(t) with the pre-update W_out (the one that produced y(t)).
            state.buffers.advance(net, trial, step);
            if trial.mask_at(step) == 0.0 {
                continue;
            }
            state.error.copy_from_slice(&state.buffers.error);
            let readout = (!constraints.frozen.readout).then(|| &mut net.weights_mut().readout);
            state.rls(readout, self.rates.readout);
        }
        Ok(state.outcome(trial.len()))
    }

    fn memory(&self, state: &ForceState) -> RuleMemory {
        let n = state.p.nrows();
        let values = (0..n)
            .flat_map(|j| state.p.col_as_slice(j).iter().copied())
            .collect();
        RuleMemory::default().with_values(values)
    }

    fn restore_memory(&self, state: &mut ForceState, memory: &RuleMemory) -> Result<()> {
        let n = state.p.nrows();
        let values = memory.values();
        if values.len() != n * n {
            return Err(LearnError::CheckpointMismatch {
                what: "FORCE memory does not hold an N×N matrix P",
            });
        }
        state.p = Mat::from_fn(n, n, |i, j| values[j * n + i]);
        Ok(())
    }
}
