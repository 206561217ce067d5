//! RTRL: real-time recurrent learning, exact, online and nonlocal (docs/spec/MODEL.md §3; paper Eq 10–12, 29).
//!
//! Sensitivities `P[j][a][b](t) = d h_j(t) / d W_ab` and
//! `Q[j][a][b](t) = d h_j(t) / d W_in_ab`, with `P(0) = Q(0) = 0`:
//!
//! ```text
//! P[j][a][b](t) = (1-alpha) P[j][a][b](t-1)
//!                 + alpha phi'(u_j(t)) ( delta_ja h_b(t-1) + sum_k W_jk P[k][a][b](t-1) )
//! Q[j][a][b](t) = (1-alpha) Q[j][a][b](t-1)
//!                 + alpha phi'(u_j(t)) ( delta_ja x_b(t)   + sum_k W_jk Q[k][a][b](t-1) )
//!
//! dW_ab    = (eta2 / T) sum_t sum_j [F e(t)]_j P[j][a][b](t)
//! dW_in_ab = (eta3 / T) sum_t sum_j [F e(t)]_j Q[j][a][b](t)
//! dW_out   = (eta1 / T) sum_t e(t) h(t)^T
//! ```
//!
//! `phi'(u_j(t))` scales **row** `j` of the nonlocal term `W P` (the paper's
//! example code scales the columns of `W` instead, which is wrong and only
//! shows at small `tau`). The direct term uses `h(t-1)` and `x(t)`, the
//! same-step indexing as the dynamics of docs/spec/MODEL.md §1.
//!
//! With `F = W_out^T` (the default, [`Projection::Readout`]) the trial-end
//! update is `-eta` times the exact gradient of `L` and equals BPTT's to
//! rounding (docs/spec/MODEL.md §4, Appendix 1). With `F = B` it is the
//! `NonlocalRandom` variant (docs/spec/MODEL.md §6). In readout-feedback mode the loop
//! `B y(t-1)` is not differentiated through: the fed-back output is treated
//! as an input, as BPTT does.
//!
//! **Layout.** `P` is stored as one `N×(N·N)` matrix whose column `b·N + a`
//! holds `P[·][a][b]` (column-major, like `W`), so the nonlocal term
//! `sum_k W_jk P[k][ab]` is a single product `W · P` into a preallocated
//! buffer, and the update `sum_j [F e]_j P[j][ab]` is one product
//! `P^T (F e)`. `Q` is `N×(N·N_x)` in the same layout.
//!
//! Cost: O(N³) memory, O(N⁴) work per step (the `W · P` product) — usable
//! for small networks and as the reference for the cheaper rules.
//!
//! Online schedule (docs/spec/MODEL.md §7): within step `t`, the dynamics run with the
//! weights in force; `P(t)` uses the `W` that produced `u(t)`; `F e(t)` uses
//! the `W_out` that produced `y(t)`; then `dTheta(t)/T` is applied through
//! the constraints.

use faer::linalg::matmul::matmul;
use faer::traits::pulp::{Arch, Simd, WithSimd};
use faer::{Accum, Col, ColRef, Mat, MatRef, Par};

use rnn_core::{Network, State, Trial};

use crate::constraints::Constraints;
use crate::error::Result;
use crate::forward::{StepBuffers, add_readout_step};
use crate::rule::{LearningRule, Projection, TrialOutcome};
use crate::update::{LearningRates, WeightUpdate};

/// RTRL with projection `F` (default `W_out^T`: the exact gradient); see the
/// module docs for the equations.
#[derive(Debug, Clone, PartialEq)]
pub struct Rtrl {
    rates: LearningRates,
    projection: Projection,
}

impl Rtrl {
    /// Exact RTRL (`F = W_out^T`) with the given rates (validated).
    pub fn new(rates: LearningRates) -> Result<Self> {
        Self::with_projection(rates, Projection::Readout)
    }

    /// RTRL's exact sensitivities with any projection `F` (`NonlocalRandom` uses `F = B`).
    pub fn with_projection(rates: LearningRates, projection: Projection) -> Result<Self> {
        rates.validate()?;
        Ok(Self { rates, projection })
    }

    /// The projection `F`.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }
}

/// Working memory of [`Rtrl`]: the sensitivity tensors `P` (`N×N²`) and `Q`
/// (`N×N·N_x`), scratch for `W·P` and `W·Q`, and the step buffers.
#[derive(Debug, Clone)]
pub struct RtrlState {
    buffers: StepBuffers,
    /// `P`, column `b·N + a` holds `d h / d W_ab`.
    recurrent_sensitivity: Mat<f64>,
    /// `Q`, column `b·N + a` holds `d h / d W_in_ab`.
    input_sensitivity: Mat<f64>,
    /// Scratch for `W · P`.
    recurrent_product: Mat<f64>,
    /// Scratch for `W · Q`.
    input_product: Mat<f64>,
    /// `sum_t P(t)^T F e(t)` (or one step's term online), length `N²`.
    recurrent_gradient: Col<f64>,
    /// `sum_t Q(t)^T F e(t)` (or one step's term online), length `N·N_x`.
    input_gradient: Col<f64>,
    n_units: usize,
    n_inputs: usize,
    n_outputs: usize,
}

impl RtrlState {
    fn new(net: &Network) -> Self {
        let (n, nx, ny) = (net.n_units(), net.n_inputs(), net.n_outputs());
        Self {
            buffers: StepBuffers::new(net),
            recurrent_sensitivity: Mat::zeros(n, n * n),
            input_sensitivity: Mat::zeros(n, n * nx),
            recurrent_product: Mat::zeros(n, n * n),
            input_product: Mat::zeros(n, n * nx),
            recurrent_gradient: Col::zeros(n * n),
            input_gradient: Col::zeros(n * nx),
            n_units: n,
            n_inputs: nx,
            n_outputs: ny,
        }
    }

    fn fits(&self, net: &Network) -> bool {
        self.n_units == net.n_units()
            && self.n_inputs == net.n_inputs()
            && self.n_outputs == net.n_outputs()
    }

    /// Starts a trial: `P(0) = Q(0) = 0`, buffers from `start`.
    fn reset(&mut self, start: &State) {
        self.buffers.reset(start);
        self.recurrent_sensitivity.fill(0.0);
        self.input_sensitivity.fill(0.0);
        self.recurrent_gradient.fill(0.0);
        self.input_gradient.fill(0.0);
    }

    /// Step `step`: dynamics, then `P(t)`, `Q(t)` with the `W` that produced
    /// `u(t)`, then `F e(t)` with the current `W_out`.
    fn step(&mut self, net: &Network, trial: &Trial, step: usize, projection: &Projection) {
        let b = &mut self.buffers;
        b.advance(net, trial, step);
        let alpha = net.alpha();
        advance_sensitivity(
            &mut self.recurrent_sensitivity,
            &mut self.recurrent_product,
            net.recurrent(),
            alpha,
            &b.slope,
            &b.h_prev,
        );
        if self.n_inputs > 0 {
            advance_sensitivity(
                &mut self.input_sensitivity,
                &mut self.input_product,
                net.recurrent(),
                alpha,
                &b.slope,
                trial.input_at(step),
            );
        }
        projection.project(net, &b.error, &mut b.projected_error);
    }

    /// `gradient (+)= P(t)^T F e(t)` and `Q(t)^T F e(t)`.
    fn project_sensitivities(&mut self, accum: Accum) {
        let c = ColRef::from_slice(&self.buffers.projected_error);
        matmul(
            &mut self.recurrent_gradient,
            accum,
            self.recurrent_sensitivity.as_ref().transpose(),
            c,
            1.0,
            Par::Seq,
        );
        if self.n_inputs > 0 {
            matmul(
                &mut self.input_gradient,
                accum,
                self.input_sensitivity.as_ref().transpose(),
                c,
                1.0,
                Par::Seq,
            );
        }
    }

    fn outcome(&self, len: usize) -> TrialOutcome {
        TrialOutcome {
            loss: self.buffers.loss(len),
            final_state: self.buffers.state(),
        }
    }
}

impl LearningRule for Rtrl {
    type State = RtrlState;

    fn name(&self) -> &'static str {
        match self.projection {
            Projection::Readout => "RTRL",
            Projection::Feedback => "NonlocalRandom (RTRL form)",
            Projection::Custom(_) => "RTRL (custom F)",
        }
    }

    fn rates(&self) -> LearningRates {
        self.rates
    }

    fn check_fits(&self, net: &Network) -> Result<()> {
        self.projection.check_fits(net)
    }

    fn new_state(&self, net: &Network) -> RtrlState {
        RtrlState::new(net)
    }

    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut RtrlState,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        prepare(net, trial, start, state)?;
        let len = trial.len();
        let scale = 1.0 / len as f64;
        for step in 0..len {
            state.step(net, trial, step, &self.projection);
            state.project_sensitivities(Accum::Add);
            let b = &state.buffers;
            add_readout_step(
                &mut update.readout,
                &b.error,
                &b.h,
                self.rates.readout * scale,
            );
        }
        add_unflattened(
            &mut update.recurrent,
            state.recurrent_gradient.as_ref(),
            self.rates.recurrent * scale,
        );
        add_unflattened(
            &mut update.input,
            state.input_gradient.as_ref(),
            self.rates.input * scale,
        );
        Ok(state.outcome(len))
    }

    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut RtrlState,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        prepare(net, trial, start, state)?;
        let len = trial.len();
        let scale = 1.0 / len as f64;
        for step in 0..len {
            // (1)-(3) of docs/spec/MODEL.md §7 with the weights in force.
            state.step(net, trial, step, &self.projection);
            state.project_sensitivities(Accum::Replace);
            // (4): this step's update dTheta(t)/T added straight into the
            // non-frozen groups (no zeroed step buffer), then Dale's clip:
            // bit-identical to building the step's update and `Constraints::apply`.
            let RtrlState {
                buffers,
                recurrent_gradient,
                input_gradient,
                ..
            } = &*state;
            let frozen = constraints.frozen;
            let weights = net.weights_mut();
            if !frozen.recurrent {
                add_unflattened(
                    &mut weights.recurrent,
                    recurrent_gradient.as_ref(),
                    self.rates.recurrent * scale,
                );
            }
            if !frozen.input {
                add_unflattened(
                    &mut weights.input,
                    input_gradient.as_ref(),
                    self.rates.input * scale,
                );
            }
            if !frozen.readout {
                add_readout_step(
                    &mut weights.readout,
                    &buffers.error,
                    &buffers.h,
                    self.rates.readout * scale,
                );
            }
            if let (Some(dale), false) = (&constraints.dale, frozen.recurrent) {
                dale.clip(net);
            }
        }
        Ok(state.outcome(len))
    }
}

/// Checks shapes once per trial and resizes `state` if it was made for
/// another network (outside the step loop).
fn prepare(net: &Network, trial: &Trial, start: &State, state: &mut RtrlState) -> Result<()> {
    trial.check_fits(net.config())?;
    start.check_fits(net)?;
    if !state.fits(net) {
        *state = RtrlState::new(net);
    }
    state.reset(start);
    Ok(())
}

/// One step of the sensitivity recursion, in place (`v` is `h(t-1)` for `P`,
/// `x(t)` for `Q`; column `b·N + a` of `sensitivity` is `S[·][a][b]`):
///
/// ```text
/// S[j][ab] <- (1-alpha) S[j][ab] + alpha phi'(u_j) ( delta_ja v_b + sum_k W_jk S[k][ab] )
/// ```
///
/// `product` receives `W · S(t-1)` first, so the old `S` is used throughout.
fn advance_sensitivity(
    sensitivity: &mut Mat<f64>,
    product: &mut Mat<f64>,
    w: MatRef<'_, f64>,
    alpha: f64,
    slope: &[f64],
    v: &[f64],
) {
    matmul(
        product.as_mut(),
        Accum::Replace,
        w,
        sensitivity.as_ref(),
        1.0,
        Par::Seq,
    );
    Arch::new().dispatch(SensitivityUpdate {
        sensitivity,
        product,
        alpha,
        slope,
        v,
    });
}

/// The elementwise part of [`advance_sensitivity`] as a `pulp` SIMD
/// operation (compiled for AVX2 by runtime dispatch, no FMA introduced):
/// the same expressions as the definition, bit for bit.
struct SensitivityUpdate<'a> {
    sensitivity: &'a mut Mat<f64>,
    product: &'a Mat<f64>,
    alpha: f64,
    slope: &'a [f64],
    v: &'a [f64],
}

impl WithSimd for SensitivityUpdate<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Self {
            sensitivity,
            product,
            alpha,
            slope,
            v,
        } = self;
        let n = slope.len();
        let keep = 1.0 - alpha;
        for (b, &v_b) in v.iter().enumerate() {
            for a in 0..n {
                let column = b * n + a;
                let nonlocal = product.col_as_slice(column);
                let s = sensitivity.col_as_slice_mut(column);
                // Row j = a first, from the old value: it alone has the direct term.
                let diagonal = keep * s[a] + alpha * slope[a] * (v_b + nonlocal[a]);
                // Row scaling: phi'(u_j) multiplies the whole drive of unit j
                // (`0.0 + w` is the definition's `direct + w_term` for j != a).
                for ((s_j, &w_term), &slope_j) in s.iter_mut().zip(nonlocal).zip(slope) {
                    *s_j = keep * *s_j + alpha * slope_j * (0.0 + w_term);
                }
                s[a] = diagonal;
            }
        }
    }
}

/// `target_ab += scale * flat[b·N + a]` for an `N×M` target.
fn add_unflattened(target: &mut Mat<f64>, flat: ColRef<'_, f64>, scale: f64) {
    let n = target.nrows();
    for b in 0..target.ncols() {
        let column = target.col_as_slice_mut(b);
        for (a, d) in column.iter_mut().enumerate() {
            *d += scale * flat[b * n + a];
        }
    }
}
