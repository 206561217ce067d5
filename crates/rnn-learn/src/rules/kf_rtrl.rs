//! KF-RTRL: Kronecker-factored RTRL (docs/spec/MODEL.md §13; Mujika, Meier & Steger, NeurIPS 2018).
//!
//! An unbiased Kronecker estimate of RTRL's sensitivity,
//! `P[j][a][b](t) ≈ A_ja(t) v_b(t)` (`A ∈ R^{N×N}`, `v ∈ R^{N+N_x}`), with
//! two fresh signs `c1, c2 ∈ {±1}` each step. With `xhat(t) = [h(t-1); x(t)]`,
//! `D(t) = alpha phi'(u(t))` and `J(t) = (1-alpha) I + diag(D(t)) W`:
//!
//! ```text
//! v(t) = c1 rho0 v(t-1) + c2 rho1 xhat(t)                          v(0) = 0
//! A(t) = (c1/rho0) J(t) A(t-1) + (c2/rho1) diag(D(t))              A(0) = 0
//! rho0 = sqrt(|J(t) A(t-1)|_F / |v(t-1)|),  rho1 = sqrt(|D(t)| / |xhat(t)|)   (1 if a norm is 0)
//! dTheta_ab = (eta/T) sum_t (A(t)^T F e(t))_a v_b(t)              (eta2 for W, eta3 for W_in)
//! dW_out    = (eta1/T) sum_t e(t) h(t)^T                          (§2)
//! ```
//!
//! Promise: unbiased, `E[dTheta] = dTheta_RTRL` with the same `F` (default
//! `W_out^T`); its variance is lower than UORO's. Tested by enumerating
//! every sign sequence on a small case, and by sampling
//! (`tests/stochastic.rs`). Cost: O(N³) work per step (`W A`), O(N²) memory.
//!
//! Signs: the rule's own generator (seed [`KfRtrl::with_seed`], stream
//! [`NOISE_STREAM`](crate::noise::NOISE_STREAM)), two per step (`c1` then
//! `c2`), kept across trials and saved in checkpoints; or any
//! [`SignSource`] through [`KfRtrl::accumulate_with`] and
//! [`KfRtrl::run_online_with`]. Online as §7 (the `W` that produced `u(t)`,
//! the `W_out` that produced `y(t)`, then the update through the constraints).

use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, Mat, Par};

use rnn_core::{Network, SeededRng, State, Trial};

use crate::checkpoint::RuleMemory;
use crate::constraints::Constraints;
use crate::error::Result;
use crate::forward::{StepBuffers, add_readout_step};
use crate::noise::{SignSource, balance, noise_generator, norm};
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::update::{LearningRates, WeightUpdate};

/// KF-RTRL with projection `F` (default `W_out^T`) and a noise seed; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct KfRtrl {
    rates: LearningRates,
    projection: Projection,
    seed: u64,
}

impl KfRtrl {
    /// KF-RTRL with `F = W_out^T`, seed 0 and the given rates (validated).
    pub fn new(rates: LearningRates) -> Result<Self> {
        Self::with_projection(rates, Projection::Readout)
    }

    /// KF-RTRL with any projection `F`.
    pub fn with_projection(rates: LearningRates, projection: Projection) -> Result<Self> {
        rates.validate()?;
        Ok(Self {
            rates,
            projection,
            seed: 0,
        })
    }

    /// The seed of the rule's sign generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The projection `F`.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// The noise seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// [`LearningRule::accumulate`] with the signs drawn from `noise`
    /// instead of the state's generator (which is left untouched).
    pub fn accumulate_with(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut KfRtrlState,
        update: &mut WeightUpdate,
        noise: &mut dyn SignSource,
    ) -> Result<TrialOutcome> {
        let work = &mut state.work;
        work.begin(net, trial, start)?;
        let scale = 1.0 / trial.len() as f64;
        for step in 0..trial.len() {
            work.step(net, trial, step, &self.projection, noise);
            work.add_update(
                self.rates,
                scale,
                Some(&mut update.recurrent),
                Some(&mut update.input),
                Some(&mut update.readout),
            );
        }
        Ok(work.outcome(trial.len()))
    }

    /// [`LearningRule::run_online`] with the signs drawn from `noise`.
    pub fn run_online_with(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut KfRtrlState,
        constraints: &Constraints,
        noise: &mut dyn SignSource,
    ) -> Result<TrialOutcome> {
        let work = &mut state.work;
        work.begin(net, trial, start)?;
        let scale = 1.0 / trial.len() as f64;
        let frozen = constraints.frozen;
        for step in 0..trial.len() {
            work.step(net, trial, step, &self.projection, noise);
            let weights = net.weights_mut();
            work.add_update(
                self.rates,
                scale,
                (!frozen.recurrent).then_some(&mut weights.recurrent),
                (!frozen.input).then_some(&mut weights.input),
                (!frozen.readout).then_some(&mut weights.readout),
            );
            if let (Some(dale), false) = (&constraints.dale, frozen.recurrent) {
                dale.clip(net);
            }
        }
        Ok(work.outcome(trial.len()))
    }
}

/// Working memory of [`KfRtrl`]: the sign generator (carried across
/// trials) and the per-trial factors.
#[derive(Debug, Clone)]
pub struct KfRtrlState {
    noise: SeededRng,
    work: KfWork,
}

#[derive(Debug, Clone)]
struct KfWork {
    buffers: StepBuffers,
    /// `A` (`N×N`).
    a: Mat<f64>,
    /// `J(t) A(t-1)` (first `W A(t-1)`).
    ja: Mat<f64>,
    /// `v`, length `N + N_x`.
    v: Vec<f64>,
    /// `D(t)`.
    drive: Vec<f64>,
    /// `c1, c2`.
    signs: [f64; 2],
    /// `A(t)^T F e(t)`.
    gain: Vec<f64>,
}

impl KfWork {
    fn new(net: &Network) -> Self {
        let (n, nx) = (net.n_units(), net.n_inputs());
        Self {
            buffers: StepBuffers::new(net),
            a: Mat::zeros(n, n),
            ja: Mat::zeros(n, n),
            v: vec![0.0; n + nx],
            drive: vec![0.0; n],
            signs: [0.0; 2],
            gain: vec![0.0; n],
        }
    }

    fn begin(&mut self, net: &Network, trial: &Trial, start: &State) -> Result<()> {
        trial.check_fits(net.config())?;
        start.check_fits(net)?;
        let fits = self.a.nrows() == net.n_units()
            && self.v.len() == net.n_units() + net.n_inputs()
            && self.buffers.y.len() == net.n_outputs();
        if !fits {
            *self = Self::new(net);
        }
        self.buffers.reset(start);
        self.a.fill(0.0);
        self.v.fill(0.0);
        Ok(())
    }

    fn step(
        &mut self,
        net: &Network,
        trial: &Trial,
        step: usize,
        projection: &Projection,
        noise: &mut dyn SignSource,
    ) {
        let b = &mut self.buffers;
        b.advance(net, trial, step);
        let alpha = net.alpha();
        let n = self.a.nrows();
        let x = trial.input_at(step);
        for (d, &s) in self.drive.iter_mut().zip(&b.slope) {
            *d = alpha * s;
        }
        // J(t) A(t-1) = (1-alpha) A + diag(D) (W A).
        matmul(
            self.ja.as_mut(),
            Accum::Replace,
            net.recurrent(),
            self.a.as_ref(),
            1.0,
            Par::Seq,
        );
        let mut ja_sq = 0.0;
        for col in 0..n {
            let a = self.a.col_as_slice(col);
            let ja = self.ja.col_as_slice_mut(col);
            for ((ja, &a), &d) in ja.iter_mut().zip(a).zip(&self.drive) {
                *ja = (1.0 - alpha) * a + d * *ja;
                ja_sq += *ja * *ja;
            }
        }
        let rho0 = balance(ja_sq.sqrt(), norm(&self.v));
        noise.fill_signs(&mut self.signs);
        let [c1, c2] = self.signs;
        let xhat_norm = (norm(&b.h_prev).powi(2) + norm(x).powi(2)).sqrt();
        let rho1 = balance(norm(&self.drive), xhat_norm);
        // v(t) = c1 rho0 v(t-1) + c2 rho1 xhat(t).
        for (v, &xh) in self.v.iter_mut().zip(b.h_prev.iter().chain(x)) {
            *v = c1 * rho0 * *v + c2 * rho1 * xh;
        }
        // A(t) = (c1/rho0) J A(t-1) + (c2/rho1) diag(D).
        for col in 0..n {
            let ja = self.ja.col_as_slice(col);
            let a = self.a.col_as_slice_mut(col);
            for (a, &ja) in a.iter_mut().zip(ja) {
                *a = c1 / rho0 * ja;
            }
            a[col] += c2 / rho1 * self.drive[col];
        }
        projection.project(net, &b.error, &mut b.projected_error);
        matmul(
            ColMut::from_slice_mut(&mut self.gain),
            Accum::Replace,
            self.a.as_ref().transpose(),
            ColRef::from_slice(&b.projected_error),
            1.0,
            Par::Seq,
        );
    }

    /// `target_ab += eta scale (A^T F e)_a v_b` per group, and the §2 readout step.
    fn add_update(
        &self,
        rates: LearningRates,
        scale: f64,
        recurrent: Option<&mut Mat<f64>>,
        input: Option<&mut Mat<f64>>,
        readout: Option<&mut Mat<f64>>,
    ) {
        let n = self.a.nrows();
        for (target, v, rate) in [
            (recurrent, &self.v[..n], rates.recurrent),
            (input, &self.v[n..], rates.input),
        ] {
            if let Some(target) = target {
                for (col, &v_b) in v.iter().enumerate() {
                    let t = target.col_as_slice_mut(col);
                    for (t, &g) in t.iter_mut().zip(&self.gain) {
                        *t += rate * scale * g * v_b;
                    }
                }
            }
        }
        if let Some(readout) = readout {
            let b = &self.buffers;
            add_readout_step(readout, &b.error, &b.h, rates.readout * scale);
        }
    }

    fn outcome(&self, len: usize) -> TrialOutcome {
        TrialOutcome {
            loss: self.buffers.loss(len),
            final_state: self.buffers.state(),
        }
    }
}

impl LearningRule for KfRtrl {
    type State = KfRtrlState;

    fn name(&self) -> &'static str {
        "KF-RTRL"
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.projection.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> KfRtrlState {
        KfRtrlState {
            noise: noise_generator(self.seed),
            work: KfWork::new(net),
        }
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut KfRtrlState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        let mut noise = state.noise.clone();
        let outcome = self.accumulate_with(net, trial, start, state, update, &mut noise);
        state.noise = noise;
        outcome
    }

    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut KfRtrlState,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        let mut noise = state.noise.clone();
        let outcome = self.run_online_with(net, trial, start, state, constraints, &mut noise);
        state.noise = noise;
        outcome
    }

    fn memory(&self, state: &KfRtrlState) -> RuleMemory {
        RuleMemory::of_generator(&state.noise)
    }

    fn restore_memory(&self, state: &mut KfRtrlState, memory: &RuleMemory) -> Result<()> {
        state.noise = memory.generator()?;
        Ok(())
    }
}
