//! REINFORCE / node perturbation (docs/spec/MODEL.md §14; the paper's Eq 8).
//!
//! During a training trial, Gaussian noise `xi_a(t) ~ N(0, sigma²)` is added
//! to the current, `u(t) = W h(t-1) + W_in x(t) + xi(t)` (`+ B y(t-1)` in
//! readout-feedback mode). With the reward `R = -L` of that noisy trial (`L`
//! of §1, with its `1/(2T)`) and a baseline `Rbar` that does not depend on
//! this trial's noise:
//!
//! ```text
//! dW_ab    = (eta2 / sigma²) (R - Rbar) sum_{t=1..T} xi_a(t) h_b(t-1)
//! dW_in_ab = (eta3 / sigma²) (R - Rbar) sum_{t=1..T} xi_a(t) x_b(t)
//! dW_out   = (eta1 / T) sum_t e(t) h(t)^T   on the noisy trial (§2), or 0 (`learn_readout = false`)
//! ```
//!
//! (The paper's `(eta/T) ... h_b(t)` is this with its summed reward,
//! `eta_paper = eta / sigma²`, and its `h_b(t)` read as our `h_b(t-1)`.)
//! Promise: with `Rbar = R(no noise)` and `sigma → 0`, `E[dW] → -eta dL/dW`
//! with bias O(sigma²) (tested by enumerating `±sigma` noise, and by
//! sampling, in `tests/stochastic.rs`). Cost: O(N²) per step.
//!
//! Baselines ([`Baseline`]): the running mean of past rewards
//! `Rbar ← (1-beta) Rbar + beta R` (updated after the trial's update; on
//! the first trial of a state `Rbar` is that trial's noise-free reward), or
//! the reward of the same trial run without noise (one extra forward pass
//! per trial).
//!
//! **Low-pass-filtered variant** (`filtered = true`, the form the paper
//! mentions): the sum `sum_t xi_a(t) h_b(t-1)` is replaced by
//! `sum_t E_ab(t)`, `E_ab(t) = (1-alpha) E_ab(t-1) + alpha xi_a(t) h_b(t-1)`,
//! `E(0) = 0`. Since `sum_t E(t) = sum_s [1 - (1-alpha)^(T-s+1)] xi(s) h(s-1)^T`,
//! its expectation is the gradient with the contribution of step `s`
//! weighted by `1 - (1-alpha)^(T-s+1)`: **biased**, down-weighting the last
//! few `tau` of the trial. It is an option, not REINFORCE.
//!
//! The update needs the whole trial's reward, so the rule refuses the
//! online schedule (as BPTT does). The noise comes from the rule's own
//! generator (seed, stream [`NOISE_STREAM`](crate::noise::NOISE_STREAM)),
//! `N` standard normals per step scaled by `sigma`; the generator and the
//! running baseline carry over between trials and are saved in checkpoints.
//! [`Reinforce::accumulate_with`] takes any [`NormalSource`] instead (tests
//! replay `±1` to enumerate `±sigma` noise).

use faer::Mat;
use serde::{Deserialize, Serialize};

use rnn_core::dynamics::forward_step_after_recurrent;
use rnn_core::gemv::matvec;
use rnn_core::{Network, SeededRng, State, Trial, masked_error};

use crate::checkpoint::RuleMemory;
use crate::error::{LearnError, Result, invalid};
use crate::forward::add_readout_step;
use crate::noise::{NormalSource, noise_generator};
use crate::rule::{LearningRule, TrialOutcome};
use crate::update::{LearningRates, WeightUpdate};

/// The baseline `Rbar` of [`Reinforce`]. Serialised as
/// `{ running_mean = beta }` or `"noise_free"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// `Rbar ← (1-beta) Rbar + beta R` after each trial, `beta` in `(0, 1]`;
    /// starts from the first trial's noise-free reward.
    RunningMean(f64),
    /// `Rbar = R` of the same trial without noise (the promise's baseline).
    NoiseFree,
}

impl Default for Baseline {
    fn default() -> Self {
        Self::RunningMean(0.1)
    }
}

/// REINFORCE / node perturbation; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Reinforce {
    rates: LearningRates,
    sigma: f64,
    baseline: Baseline,
    learn_readout: bool,
    filtered: bool,
    seed: u64,
}

impl Reinforce {
    /// Default noise `sigma`.
    pub const DEFAULT_SIGMA: f64 = 0.01;

    /// With the given rates (validated), `sigma = 0.01`, the running-mean
    /// baseline (`beta = 0.1`), `W_out` learning by §2, unfiltered, seed 0.
    pub fn new(rates: LearningRates) -> Result<Self> {
        rates.validate()?;
        Ok(Self {
            rates,
            sigma: Self::DEFAULT_SIGMA,
            baseline: Baseline::default(),
            learn_readout: true,
            filtered: false,
            seed: 0,
        })
    }

    /// The noise standard deviation (finite, `> 0`).
    pub fn with_sigma(mut self, sigma: f64) -> Result<Self> {
        if !sigma.is_finite() || sigma <= 0.0 {
            return Err(invalid("sigma", sigma, "must be finite and > 0"));
        }
        self.sigma = sigma;
        Ok(self)
    }

    /// The baseline (a running mean's `beta` must lie in `(0, 1]`).
    pub fn with_baseline(mut self, baseline: Baseline) -> Result<Self> {
        if let Baseline::RunningMean(beta) = baseline
            && !(beta > 0.0 && beta <= 1.0)
        {
            return Err(invalid("baseline beta", beta, "must lie in (0, 1]"));
        }
        self.baseline = baseline;
        Ok(self)
    }

    /// Whether `W_out` learns by §2 on the noisy trial (else its update is 0).
    pub fn with_learn_readout(mut self, learn_readout: bool) -> Self {
        self.learn_readout = learn_readout;
        self
    }

    /// The low-pass-filtered (biased) variant; see the module docs.
    pub fn with_filtered(mut self, filtered: bool) -> Self {
        self.filtered = filtered;
        self
    }

    /// The seed of the rule's noise generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// `sigma`.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// The baseline.
    pub fn baseline(&self) -> Baseline {
        self.baseline
    }

    /// Whether `W_out` learns.
    pub fn learn_readout(&self) -> bool {
        self.learn_readout
    }

    /// Whether the filtered variant is used.
    pub fn filtered(&self) -> bool {
        self.filtered
    }

    /// The noise seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// [`LearningRule::accumulate`] with the standard values drawn from
    /// `noise` (scaled by `sigma`) instead of the state's generator, which
    /// is left untouched; the running baseline is used and updated as usual.
    pub fn accumulate_with(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut ReinforceState,
        update: &mut WeightUpdate,
        noise: &mut dyn NormalSource,
    ) -> Result<TrialOutcome> {
        trial.check_fits(net.config())?;
        start.check_fits(net)?;
        let work = &mut state.work;
        if !work.fits(net) {
            *work = Work::new(net);
        }
        let len = trial.len();
        let alpha = net.alpha();
        let scale = 1.0 / len as f64;
        // The noisy trial: eligibility sums and the §2 readout update.
        work.reset(start);
        work.clear_sums();
        let mut squared = 0.0;
        for step in 0..len {
            noise.fill_normal(&mut work.xi);
            for z in &mut work.xi {
                *z *= self.sigma;
            }
            squared += work.step(net, trial, step, true);
            let x = trial.input_at(step);
            if self.filtered {
                work.filter_and_sum(alpha, x);
            } else {
                let Work {
                    xi,
                    h_prev,
                    recurrent_sum,
                    input_sum,
                    ..
                } = work;
                outer_add(recurrent_sum, xi, h_prev, 1.0);
                outer_add(input_sum, xi, x, 1.0);
            }
            if self.learn_readout {
                add_readout_step(&mut work.readout_sum, &work.error, &work.h, 1.0);
            }
        }
        let loss = squared / (2.0 * len as f64);
        let final_state = State {
            h: work.h.clone(),
            y: work.y.clone(),
        };
        let reward = -loss;
        let baseline = match (self.baseline, state.running) {
            (Baseline::RunningMean(_), Some(mean)) => mean,
            // The noise-free reward (the running mean's first value).
            _ => {
                work.reset(start);
                let mut clean = 0.0;
                for step in 0..len {
                    clean += work.step(net, trial, step, false);
                }
                -clean / (2.0 * len as f64)
            }
        };
        let advantage = (reward - baseline) / (self.sigma * self.sigma);
        add_scaled(
            &mut update.recurrent,
            &work.recurrent_sum,
            self.rates.recurrent * advantage,
        );
        add_scaled(
            &mut update.input,
            &work.input_sum,
            self.rates.input * advantage,
        );
        if self.learn_readout {
            add_scaled(
                &mut update.readout,
                &work.readout_sum,
                self.rates.readout * scale,
            );
        }
        if let Baseline::RunningMean(beta) = self.baseline {
            state.running = Some((1.0 - beta) * baseline + beta * reward);
        }
        Ok(TrialOutcome { loss, final_state })
    }
}

/// Working memory of [`Reinforce`]: the noise generator and the running
/// baseline (both carried across trials), and the per-trial sums.
#[derive(Debug, Clone)]
pub struct ReinforceState {
    noise: SeededRng,
    running: Option<f64>,
    work: Work,
}

#[derive(Debug, Clone)]
struct Work {
    h_prev: Vec<f64>,
    h: Vec<f64>,
    u: Vec<f64>,
    slope: Vec<f64>,
    y_prev: Vec<f64>,
    y: Vec<f64>,
    error: Vec<f64>,
    xi: Vec<f64>,
    /// `sum_t xi(t) h(t-1)^T` (filtered: `sum_t E(t)`).
    recurrent_sum: Mat<f64>,
    /// `sum_t xi(t) x(t)^T` (filtered: likewise).
    input_sum: Mat<f64>,
    /// The filtered traces `E(t)` for `W` and `W_in`.
    recurrent_trace: Mat<f64>,
    input_trace: Mat<f64>,
    /// `sum_t e(t) h(t)^T`.
    readout_sum: Mat<f64>,
}

impl Work {
    fn new(net: &Network) -> Self {
        let (n, nx, ny) = (net.n_units(), net.n_inputs(), net.n_outputs());
        Self {
            h_prev: vec![0.0; n],
            h: vec![0.0; n],
            u: vec![0.0; n],
            slope: vec![0.0; n],
            y_prev: vec![0.0; ny],
            y: vec![0.0; ny],
            error: vec![0.0; ny],
            xi: vec![0.0; n],
            recurrent_sum: Mat::zeros(n, n),
            input_sum: Mat::zeros(n, nx),
            recurrent_trace: Mat::zeros(n, n),
            input_trace: Mat::zeros(n, nx),
            readout_sum: Mat::zeros(ny, n),
        }
    }

    fn fits(&self, net: &Network) -> bool {
        self.h.len() == net.n_units()
            && self.input_sum.ncols() == net.n_inputs()
            && self.y.len() == net.n_outputs()
    }

    /// Starts a trial (noisy or clean) from `start`.
    fn reset(&mut self, start: &State) {
        self.h.copy_from_slice(&start.h);
        self.y.copy_from_slice(&start.y);
    }

    /// Zeroes the sums and traces of a noisy trial.
    fn clear_sums(&mut self) {
        self.recurrent_sum.fill(0.0);
        self.input_sum.fill(0.0);
        self.recurrent_trace.fill(0.0);
        self.input_trace.fill(0.0);
        self.readout_sum.fill(0.0);
    }

    /// One step, with `xi` added to the current when `noisy`; returns `|e(t)|²`.
    fn step(&mut self, net: &Network, trial: &Trial, step: usize, noisy: bool) -> f64 {
        std::mem::swap(&mut self.h_prev, &mut self.h);
        std::mem::swap(&mut self.y_prev, &mut self.y);
        matvec(net.recurrent(), &self.h_prev, &mut self.u, false);
        if noisy {
            for (u, &xi) in self.u.iter_mut().zip(&self.xi) {
                *u += xi;
            }
        }
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
        masked_error(
            trial.target_at(step),
            &self.y,
            trial.mask_at(step),
            &mut self.error,
        )
    }

    /// `E(t) = (1-alpha) E(t-1) + alpha xi h(t-1)^T` (and for `x`), summed.
    fn filter_and_sum(&mut self, alpha: f64, x: &[f64]) {
        for (trace, sum, v) in [
            (
                &mut self.recurrent_trace,
                &mut self.recurrent_sum,
                &self.h_prev[..],
            ),
            (&mut self.input_trace, &mut self.input_sum, x),
        ] {
            for (b, &v_b) in v.iter().enumerate() {
                let e = trace.col_as_slice_mut(b);
                let s = sum.col_as_slice_mut(b);
                for ((e, s), &xi) in e.iter_mut().zip(s.iter_mut()).zip(&self.xi) {
                    *e = (1.0 - alpha) * *e + alpha * xi * v_b;
                    *s += *e;
                }
            }
        }
    }
}

/// `m += scale * a b^T`.
fn outer_add(m: &mut Mat<f64>, a: &[f64], b: &[f64], scale: f64) {
    for (j, &b_j) in b.iter().enumerate() {
        for (d, &a_i) in m.col_as_slice_mut(j).iter_mut().zip(a) {
            *d += scale * a_i * b_j;
        }
    }
}

/// `target += scale * m`.
fn add_scaled(target: &mut Mat<f64>, m: &Mat<f64>, scale: f64) {
    for j in 0..m.ncols() {
        for (t, &v) in target.col_as_slice_mut(j).iter_mut().zip(m.col_as_slice(j)) {
            *t += scale * v;
        }
    }
}

impl LearningRule for Reinforce {
    type State = ReinforceState;

    fn name(&self) -> &'static str {
        "REINFORCE"
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, _net: &Network) -> Result<()> {
        Ok(())
    }

    fn new_state(&self, net: &Network) -> ReinforceState {
        ReinforceState {
            noise: noise_generator(self.seed),
            running: None,
            work: Work::new(net),
        }
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut ReinforceState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        let mut noise = state.noise.clone();
        let outcome = self.accumulate_with(net, trial, start, state, update, &mut noise);
        state.noise = noise;
        outcome
    }

    fn memory(&self, state: &ReinforceState) -> RuleMemory {
        RuleMemory::of_generator(&state.noise).with_values(state.running.into_iter().collect())
    }

    fn restore_memory(&self, state: &mut ReinforceState, memory: &RuleMemory) -> Result<()> {
        state.noise = memory.generator()?;
        state.running = match memory.values() {
            [] => None,
            [mean] => Some(*mean),
            _ => {
                return Err(LearnError::CheckpointMismatch {
                    what: "REINFORCE memory holds more than one baseline",
                });
            }
        };
        Ok(())
    }
}
