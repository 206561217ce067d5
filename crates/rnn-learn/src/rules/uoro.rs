//! UORO: unbiased online recurrent optimisation (docs/spec/MODEL.md §12; Tallec & Ollivier, ICLR 2018).
//!
//! A rank-one, unbiased estimate of RTRL's sensitivity,
//! `P(t) ≈ atilde(t) ⊗ Thetatilde(t)` (`atilde ∈ R^N`, `Thetatilde` shaped
//! like `Theta = [W | W_in]`), with fresh signs `nu(t) ∈ {±1}^N` each step.
//! With `xhat(t) = [h(t-1); x(t)]`, `D(t) = alpha phi'(u(t))` and the
//! Jacobian `J(t) = (1-alpha) I + diag(D(t)) W`:
//!
//! ```text
//! atilde(t)     = rho0 J(t) atilde(t-1) + rho1 nu(t)                       atilde(0) = 0
//! Thetatilde(t) = Thetatilde(t-1) / rho0 + (1/rho1) (nu(t) ⊙ D(t)) xhat(t)^T   Thetatilde(0) = 0
//! rho0 = sqrt(|Thetatilde(t-1)|_F / |J(t) atilde(t-1)|)      (1 if either norm is 0)
//! rho1 = sqrt(|D(t)| |xhat(t)| / sqrt(N))                      (1 if it is 0)
//! dTheta = (eta/T) sum_t ([F e(t)] · atilde(t)) Thetatilde(t)   (eta2 for W, eta3 for W_in)
//! dW_out = (eta1/T) sum_t e(t) h(t)^T                           (§2)
//! ```
//!
//! Promise: unbiased, `E_nu[dTheta] = dTheta_RTRL` with the same `F`
//! (default `W_out^T`, the exact gradient; `B` or a custom `F` allowed).
//! Tested by enumerating every sign sequence on a tiny case, and by
//! sampling (`tests/stochastic.rs`). Cost: O(N²) work and memory per step.
//!
//! The signs come from the rule's own generator (seed [`Uoro::with_seed`],
//! stream [`NOISE_STREAM`](crate::noise::NOISE_STREAM)), kept in its state
//! across trials and saved in checkpoints ([`LearningRule::memory`]); `N`
//! signs are drawn every step. [`Uoro::accumulate_with`] and
//! [`Uoro::run_online_with`] take any [`SignSource`] instead. Online
//! (§7): `J(t)` uses the `W` that produced `u(t)`, `F e(t)` the `W_out` that
//! produced `y(t)`, then `dTheta(t)/T` is applied through the constraints.

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

/// UORO with projection `F` (default `W_out^T`) and a noise seed; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Uoro {
    rates: LearningRates,
    projection: Projection,
    seed: u64,
}

impl Uoro {
    /// UORO with `F = W_out^T`, seed 0 and the given rates (validated).
    pub fn new(rates: LearningRates) -> Result<Self> {
        Self::with_projection(rates, Projection::Readout)
    }

    /// UORO with any projection `F`.
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
        state: &mut UoroState,
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
        state: &mut UoroState,
        constraints: &Constraints,
        noise: &mut dyn SignSource,
    ) -> Result<TrialOutcome> {
        let work = &mut state.work;
        work.begin(net, trial, start)?;
        let scale = 1.0 / trial.len() as f64;
        let frozen = constraints.frozen;
        for step in 0..trial.len() {
            // (1)-(3) of docs/spec/MODEL.md §7 with the weights in force.
            work.step(net, trial, step, &self.projection, noise);
            // (4) the step's update into the non-frozen groups, then Dale's clip.
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

/// Working memory of [`Uoro`]: the sign generator (carried across trials)
/// and the per-trial estimate.
#[derive(Debug, Clone)]
pub struct UoroState {
    noise: SeededRng,
    work: UoroWork,
}

#[derive(Debug, Clone)]
struct UoroWork {
    buffers: StepBuffers,
    /// `atilde`.
    a: Vec<f64>,
    /// `J(t) atilde(t-1)` (first `W atilde(t-1)`).
    ja: Vec<f64>,
    /// `D(t)`.
    drive: Vec<f64>,
    /// `nu(t)`.
    nu: Vec<f64>,
    /// `Thetatilde`, the `W` part (`N×N`).
    theta_recurrent: Mat<f64>,
    /// `Thetatilde`, the `W_in` part (`N×N_x`).
    theta_input: Mat<f64>,
    /// `[F e(t)] · atilde(t)`.
    gain: f64,
}

impl UoroWork {
    fn new(net: &Network) -> Self {
        let (n, nx) = (net.n_units(), net.n_inputs());
        Self {
            buffers: StepBuffers::new(net),
            a: vec![0.0; n],
            ja: vec![0.0; n],
            drive: vec![0.0; n],
            nu: vec![0.0; n],
            theta_recurrent: Mat::zeros(n, n),
            theta_input: Mat::zeros(n, nx),
            gain: 0.0,
        }
    }

    fn begin(&mut self, net: &Network, trial: &Trial, start: &State) -> Result<()> {
        trial.check_fits(net.config())?;
        start.check_fits(net)?;
        let fits = self.a.len() == net.n_units()
            && self.theta_input.ncols() == net.n_inputs()
            && self.buffers.y.len() == net.n_outputs();
        if !fits {
            *self = Self::new(net);
        }
        self.buffers.reset(start);
        self.a.fill(0.0);
        self.theta_recurrent.fill(0.0);
        self.theta_input.fill(0.0);
        Ok(())
    }

    /// Dynamics of step `step`, then `atilde(t)`, `Thetatilde(t)` and the gain.
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
        let x = trial.input_at(step);
        for (d, &s) in self.drive.iter_mut().zip(&b.slope) {
            *d = alpha * s;
        }
        // J(t) atilde(t-1) = (1-alpha) atilde + D ⊙ (W atilde).
        matmul(
            ColMut::from_slice_mut(&mut self.ja),
            Accum::Replace,
            net.recurrent(),
            ColRef::from_slice(&self.a),
            1.0,
            Par::Seq,
        );
        for ((ja, &a), &d) in self.ja.iter_mut().zip(&self.a).zip(&self.drive) {
            *ja = (1.0 - alpha) * a + d * *ja;
        }
        let theta_norm =
            (frobenius_sq(&self.theta_recurrent) + frobenius_sq(&self.theta_input)).sqrt();
        let rho0 = balance(theta_norm, norm(&self.ja));
        noise.fill_signs(&mut self.nu);
        let xhat_norm = (norm(&b.h_prev).powi(2) + norm(x).powi(2)).sqrt();
        let n = self.a.len() as f64;
        let spread = norm(&self.drive) * xhat_norm / n.sqrt();
        let rho1 = if spread == 0.0 { 1.0 } else { spread.sqrt() };
        for ((a, &ja), &nu) in self.a.iter_mut().zip(&self.ja).zip(&self.nu) {
            *a = rho0 * ja + rho1 * nu;
        }
        // Thetatilde(t) = Thetatilde(t-1)/rho0 + (1/rho1) (nu ⊙ D) xhat^T.
        for (theta, v) in [
            (&mut self.theta_recurrent, b.h_prev.as_slice()),
            (&mut self.theta_input, x),
        ] {
            for (col, &v_b) in v.iter().enumerate() {
                let column = theta.col_as_slice_mut(col);
                for ((t, &nu), &d) in column.iter_mut().zip(&self.nu).zip(&self.drive) {
                    *t = *t / rho0 + (nu * d / rho1) * v_b;
                }
            }
        }
        projection.project(net, &b.error, &mut b.projected_error);
        self.gain = b
            .projected_error
            .iter()
            .zip(&self.a)
            .map(|(c, a)| c * a)
            .sum();
    }

    /// `target += eta scale gain Thetatilde` per group, and the §2 readout step.
    fn add_update(
        &self,
        rates: LearningRates,
        scale: f64,
        recurrent: Option<&mut Mat<f64>>,
        input: Option<&mut Mat<f64>>,
        readout: Option<&mut Mat<f64>>,
    ) {
        for (target, theta, rate) in [
            (recurrent, &self.theta_recurrent, rates.recurrent),
            (input, &self.theta_input, rates.input),
        ] {
            if let Some(target) = target {
                let g = rate * scale * self.gain;
                for col in 0..theta.ncols() {
                    let t = target.col_as_slice_mut(col);
                    for (t, &th) in t.iter_mut().zip(theta.col_as_slice(col)) {
                        *t += g * th;
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

fn frobenius_sq(m: &Mat<f64>) -> f64 {
    (0..m.ncols())
        .map(|j| m.col_as_slice(j).iter().map(|x| x * x).sum::<f64>())
        .sum()
}

impl LearningRule for Uoro {
    type State = UoroState;

    fn name(&self) -> &'static str {
        "UORO"
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.projection.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> UoroState {
        UoroState {
            noise: noise_generator(self.seed),
            work: UoroWork::new(net),
        }
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut UoroState,
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
        state: &mut UoroState,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        let mut noise = state.noise.clone();
        let outcome = self.run_online_with(net, trial, start, state, constraints, &mut noise);
        state.noise = noise;
        outcome
    }

    fn memory(&self, state: &UoroState) -> RuleMemory {
        RuleMemory::of_generator(&state.noise)
    }

    fn restore_memory(&self, state: &mut UoroState, memory: &RuleMemory) -> Result<()> {
        state.noise = memory.generator()?;
        Ok(())
    }
}
