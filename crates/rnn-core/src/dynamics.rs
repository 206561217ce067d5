//! The dynamics of docs/spec/MODEL.md §1: one step, and a whole trial.
//!
//! ```text
//! u(t) = W h(t-1) + W_in x(t)  (+ B y(t-1) in readout-feedback mode)
//! h(t) = (1 - alpha) h(t-1) + alpha tanh(u(t))
//! y(t) = W_out h(t)
//! e(t) = m(t) (y*(t) - y(t))
//! L    = 1/(2T) sum_t |e(t)|^2
//! ```

use crate::gemv::{PackedMatrix, matvec};
use faer::{Mat, MatRef};

use crate::error::{CoreError, Result};
use crate::network::Network;
use crate::trial::{InitialState, Trial};

/// The state that carries from one step (or trial) to the next: `h` and, for
/// readout feedback, the last output `y`.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Unit activities `h`, length `N`.
    pub h: Vec<f64>,
    /// Last output `y`, length `N_y` (zero at a fresh start).
    pub y: Vec<f64>,
}

impl State {
    /// The state a trial starts from, by its [`InitialState`] rule.
    ///
    /// `previous` is the final state of the previous trial, needed only for
    /// [`InitialState::CarryOver`].
    pub fn initial(net: &Network, trial: &Trial, previous: Option<&State>) -> Result<Self> {
        trial.check_fits(net.config())?;
        let (n, ny) = (net.n_units(), net.n_outputs());
        let state = match trial.initial_state() {
            InitialState::Constant(v) => State {
                h: vec![*v; n],
                y: vec![0.0; ny],
            },
            InitialState::Given(h0) => State {
                h: h0.clone(),
                y: vec![0.0; ny],
            },
            InitialState::CarryOver => previous.ok_or(CoreError::MissingCarryOverState)?.clone(),
        };
        state.check_fits(net)?;
        Ok(state)
    }

    /// Checks that `h` has length `N` and `y` length `N_y`, all finite.
    pub fn check_fits(&self, net: &Network) -> Result<()> {
        let (n, ny) = (net.n_units(), net.n_outputs());
        if self.h.len() != n || self.y.len() != ny {
            return Err(CoreError::ShapeMismatch {
                what: "state (rows: len of h, cols: len of y)",
                expected_rows: n,
                expected_cols: ny,
                rows: self.h.len(),
                cols: self.y.len(),
            });
        }
        match self.h.iter().chain(&self.y).position(|v| !v.is_finite()) {
            Some(row) => Err(CoreError::NonFinite {
                what: "state (h then y)",
                row,
                col: 0,
            }),
            None => Ok(()),
        }
    }
}

/// One step of docs/spec/MODEL.md §1: writes `u(t)`, `h(t)` and `y(t)` from `h(t-1)`,
/// `x(t)` and (readout feedback only) `y(t-1)`. No allocation.
///
/// Slices must have lengths `N`, `N_x`, `N_y`; this is checked in debug builds
/// only, because it runs in the innermost loop (callers check shapes once per
/// trial with [`Trial::check_fits`]).
pub fn forward_step(
    net: &Network,
    h_prev: &[f64],
    x: &[f64],
    y_prev: &[f64],
    u: &mut [f64],
    h: &mut [f64],
    y: &mut [f64],
) {
    forward_step_impl(net, h_prev, x, y_prev, u, h, y, None, false);
}

/// [`forward_step`] that also writes `slope = phi'(u(t)) = 1 - tanh(u(t))^2`
/// from the same `tanh` (bit-identical to [`crate::tanh_derivative`], one
/// `tanh` per unit instead of two). For learning rules' step loops.
#[allow(clippy::too_many_arguments)]
pub fn forward_step_with_slope(
    net: &Network,
    h_prev: &[f64],
    x: &[f64],
    y_prev: &[f64],
    u: &mut [f64],
    h: &mut [f64],
    y: &mut [f64],
    slope: &mut [f64],
) {
    debug_assert_eq!(slope.len(), net.n_units());
    forward_step_impl(net, h_prev, x, y_prev, u, h, y, Some(slope), false);
}

/// [`forward_step_with_slope`] for a caller that has already computed the
/// recurrent current: on entry `u` holds `W h(t-1)`, on exit `u(t)`. Online
/// learners compute `W h(t-1)` while they update `W` (one pass over `W`
/// instead of two); the sum over units then runs in the caller's order.
#[allow(clippy::too_many_arguments)]
pub fn forward_step_after_recurrent(
    net: &Network,
    h_prev: &[f64],
    x: &[f64],
    y_prev: &[f64],
    u: &mut [f64],
    h: &mut [f64],
    y: &mut [f64],
    slope: &mut [f64],
) {
    debug_assert_eq!(slope.len(), net.n_units());
    forward_step_impl(net, h_prev, x, y_prev, u, h, y, Some(slope), true);
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_step_impl(
    net: &Network,
    h_prev: &[f64],
    x: &[f64],
    y_prev: &[f64],
    u: &mut [f64],
    h: &mut [f64],
    y: &mut [f64],
    slope: Option<&mut [f64]>,
    recurrent_given: bool,
) {
    debug_assert_eq!(h_prev.len(), net.n_units());
    debug_assert_eq!(x.len(), net.n_inputs());
    debug_assert_eq!(y_prev.len(), net.n_outputs());
    let alpha = net.alpha();
    // Every product in the fixed, machine-independent order of `gemv`.
    if !recurrent_given {
        matvec(net.recurrent(), h_prev, u, false);
    }
    if net.n_inputs() > 0 {
        matvec(net.input(), x, u, true);
    }
    if net.config().readout_feedback {
        matvec(net.feedback(), y_prev, u, true);
    }
    crate::tanh::activate(alpha, h_prev, u, h, slope);
    matvec(net.readout(), h, y, false);
}

/// The masked error `e = m (y* - y)` written into `error`; returns `|e|^2`.
pub fn masked_error(target: &[f64], y: &[f64], mask: f64, error: &mut [f64]) -> f64 {
    let mut squared = 0.0;
    for ((e, &t), &y) in error.iter_mut().zip(target).zip(y) {
        *e = mask * (t - y);
        squared += *e * *e;
    }
    squared
}

/// Everything a trial produced, step-major (a column per step).
///
/// Column `s` of `u`, `y` and `error` is time `t = s + 1`; `h` has `T + 1`
/// columns with `h(0)` first, so column `t` of `h` is `h(t)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Input currents `u(t)`, `N×T`.
    pub u: Mat<f64>,
    /// Activities `h(0..=T)`, `N×(T+1)`.
    pub h: Mat<f64>,
    /// Outputs `y(t)`, `N_y×T`.
    pub y: Mat<f64>,
    /// Masked errors `e(t)`, `N_y×T`.
    pub error: Mat<f64>,
    /// Output fed back at the start, `y(0)` (zero unless carried over).
    pub y_initial: Vec<f64>,
    /// The loss `L = 1/(2T) sum_t |e(t)|^2`.
    pub loss: f64,
}

impl Trajectory {
    /// Buffers for a trial of `len` steps on `net`, zero-filled.
    pub fn zeros(net: &Network, len: usize) -> Self {
        let (n, ny) = (net.n_units(), net.n_outputs());
        Self {
            u: Mat::zeros(n, len),
            h: Mat::zeros(n, len + 1),
            y: Mat::zeros(ny, len),
            error: Mat::zeros(ny, len),
            y_initial: vec![0.0; ny],
            loss: 0.0,
        }
    }

    /// Number of steps `T`.
    pub fn len(&self) -> usize {
        self.u.ncols()
    }

    /// True when the trajectory has no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `h(t)` for `t = 0..=T`.
    pub fn h_at(&self, t: usize) -> &[f64] {
        self.h.col_as_slice(t)
    }

    /// Outputs as `T×N_y` (a view).
    pub fn outputs(&self) -> MatRef<'_, f64> {
        self.y.as_ref().transpose()
    }

    /// The state at the end of the trial, to carry over.
    pub fn final_state(&self) -> State {
        let len = self.len();
        State {
            h: self.h.col_as_slice(len).to_vec(),
            y: if len == 0 {
                self.y_initial.clone()
            } else {
                self.y.col_as_slice(len - 1).to_vec()
            },
        }
    }

    fn fits(&self, net: &Network, len: usize) -> bool {
        self.u.nrows() == net.n_units() && self.y.nrows() == net.n_outputs() && self.len() == len
    }
}

impl Network {
    /// Runs a whole trial with fixed weights and returns its trajectory.
    ///
    /// `previous` is the final state of the previous trial, used only when the
    /// trial's initial state is [`InitialState::CarryOver`].
    pub fn run_trial(&self, trial: &Trial, previous: Option<&State>) -> Result<Trajectory> {
        let mut trajectory = Trajectory::zeros(self, trial.len());
        self.run_trial_into(trial, previous, &mut trajectory)?;
        Ok(trajectory)
    }

    /// Like [`Network::run_trial`], reusing `trajectory`'s buffers (resized
    /// only if the trial's length or the network's sizes differ).
    pub fn run_trial_into(
        &self,
        trial: &Trial,
        previous: Option<&State>,
        trajectory: &mut Trajectory,
    ) -> Result<()> {
        let start = State::initial(self, trial, previous)?;
        self.run_from_into(trial, &start, trajectory)
    }

    /// Runs `trial` from the explicit state `start`, ignoring the trial's own
    /// initial-state rule (learners resolve that rule once per trial).
    pub fn run_from_into(
        &self,
        trial: &Trial,
        start: &State,
        trajectory: &mut Trajectory,
    ) -> Result<()> {
        self.run_from_into_impl(trial, start, trajectory, None)
    }

    /// [`Network::run_from_into`] that also stores `phi'(u(t)) = 1 - tanh(u(t))^2`
    /// in column `s` of `slope` (`N×T`, resized if needed), computed from the
    /// same `tanh` as `h(t)`: bit-identical to [`crate::tanh_derivative`] of
    /// the stored `u`, without a second `tanh` per unit and step.
    pub fn run_from_into_with_slope(
        &self,
        trial: &Trial,
        start: &State,
        trajectory: &mut Trajectory,
        slope: &mut Mat<f64>,
    ) -> Result<()> {
        if slope.nrows() != self.n_units() || slope.ncols() != trial.len() {
            *slope = Mat::zeros(self.n_units(), trial.len());
        }
        self.run_from_into_impl(trial, start, trajectory, Some(slope))
    }

    fn run_from_into_impl(
        &self,
        trial: &Trial,
        start: &State,
        trajectory: &mut Trajectory,
        mut slope: Option<&mut Mat<f64>>,
    ) -> Result<()> {
        trial.check_fits(self.config())?;
        start.check_fits(self)?;
        if !trajectory.fits(self, trial.len()) {
            *trajectory = Trajectory::zeros(self, trial.len());
        }
        trajectory.h.col_as_slice_mut(0).copy_from_slice(&start.h);
        trajectory.y_initial.copy_from_slice(&start.y);
        let mut squared_error = 0.0;
        for step in 0..trial.len() {
            let slope_column = slope.as_deref_mut().map(|m| m.col_as_slice_mut(step));
            self.trajectory_step(trial, step, trajectory, slope_column);
            let Trajectory { y, error, .. } = trajectory;
            squared_error += masked_error(
                trial.target_at(step),
                y.col_as_slice(step),
                trial.mask_at(step),
                error.col_as_slice_mut(step),
            );
        }
        trajectory.loss = squared_error / (2.0 * trial.len() as f64);
        if !trajectory.loss.is_finite() {
            return Err(CoreError::NonFiniteLoss {
                loss: trajectory.loss,
            });
        }
        Ok(())
    }

    fn trajectory_step(
        &self,
        trial: &Trial,
        step: usize,
        tr: &mut Trajectory,
        slope: Option<&mut [f64]>,
    ) {
        let (h_before, h_after) = tr.h.as_mut().split_at_col_mut(step + 1);
        let h_prev = h_before
            .col(step)
            .try_as_col_major()
            .expect("contiguous column");
        let h_next = h_after
            .col_mut(0)
            .try_as_col_major_mut()
            .expect("contiguous column");
        let (y_before, y_after) = tr.y.as_mut().split_at_col_mut(step);
        let y_prev: &[f64] = if step == 0 {
            &tr.y_initial
        } else {
            y_before
                .col(step - 1)
                .try_as_col_major()
                .expect("contiguous column")
                .as_slice()
        };
        forward_step_impl(
            self,
            h_prev.as_slice(),
            trial.input_at(step),
            y_prev,
            tr.u.col_as_slice_mut(step),
            h_next.as_slice_mut(),
            y_after
                .col_mut(0)
                .try_as_col_major_mut()
                .expect("contiguous column")
                .as_slice_mut(),
            slope,
            false,
        );
    }
}

impl Network {
    /// Runs `K` trials at once with the weights held fixed: trial `k` from
    /// `starts[k]` (its own initial-state rule is ignored, as in
    /// [`Network::run_from_into`]) into `trajectories[k]` and, if given,
    /// `phi'(u(t))` into `slopes[k]` (`N×T`). The vectors are grown to `K`
    /// entries if shorter (entries beyond `K` are left alone) and each
    /// buffer is resized if its shape differs, outside the step loop.
    ///
    /// Each trajectory (and slope) is bit-identical to what
    /// [`Network::run_from_into`] ([`Network::run_from_into_with_slope`])
    /// writes for that trial alone: the recurrent currents `W h_k(t-1)` of all
    /// trials of one length are one [`PackedMatrix::matmat`] per step (each column summed
    /// in [`matvec`]'s order), so `W` is read once per step for all of them;
    /// the rest of the step (`W_in x`, `B y`, `tanh`, `W_out h`, the error) is
    /// the single-trial code column by column. Trials of different lengths
    /// are run in groups of equal length.
    ///
    /// All trials and start states are checked first; the first that does
    /// not fit is the error, and then nothing is run. A non-finite loss is
    /// not an error here: it is left in `trajectories[k].loss` for the
    /// caller, who knows which trials count (`run_from_into` would have
    /// returned [`CoreError::NonFiniteLoss`] for that trial).
    pub fn run_batch_from_into(
        &self,
        trials: &[&Trial],
        starts: &[State],
        trajectories: &mut Vec<Trajectory>,
        mut slopes: Option<&mut Vec<Mat<f64>>>,
    ) -> Result<()> {
        if trials.len() != starts.len() {
            return Err(CoreError::ShapeMismatch {
                what: "batch (rows: trials, cols: start states)",
                expected_rows: trials.len(),
                expected_cols: trials.len(),
                rows: trials.len(),
                cols: starts.len(),
            });
        }
        for (trial, start) in trials.iter().zip(starts) {
            trial.check_fits(self.config())?;
            start.check_fits(self)?;
        }
        let n = self.n_units();
        // Grown, never shrunk: a smaller batch keeps the buffers of a larger one.
        if trajectories.len() < trials.len() {
            trajectories.resize_with(trials.len(), || Trajectory::zeros(self, 0));
        }
        if let Some(slopes) = slopes.as_deref_mut()
            && slopes.len() < trials.len()
        {
            slopes.resize_with(trials.len(), || Mat::zeros(n, 0));
        }
        for (k, trial) in trials.iter().enumerate() {
            if !trajectories[k].fits(self, trial.len()) {
                trajectories[k] = Trajectory::zeros(self, trial.len());
            }
            if let Some(slopes) = slopes.as_deref_mut()
                && (slopes[k].nrows() != n || slopes[k].ncols() != trial.len())
            {
                slopes[k] = Mat::zeros(n, trial.len());
            }
        }
        // Groups of equal length, in order of first appearance.
        let mut done = vec![false; trials.len()];
        let mut group = Vec::with_capacity(trials.len());
        for first in 0..trials.len() {
            if done[first] {
                continue;
            }
            group.clear();
            for k in first..trials.len() {
                if !done[k] && trials[k].len() == trials[first].len() {
                    done[k] = true;
                    group.push(k);
                }
            }
            self.run_group(trials, starts, &group, trajectories, slopes.as_deref_mut());
        }
        Ok(())
    }

    /// [`Network::run_batch_from_into`] for the trials `group` (equal lengths,
    /// checked, buffers sized).
    fn run_group(
        &self,
        trials: &[&Trial],
        starts: &[State],
        group: &[usize],
        trajectories: &mut [Trajectory],
        mut slopes: Option<&mut Vec<Mat<f64>>>,
    ) {
        let (n, width) = (self.n_units(), group.len());
        let len = trials[group[0]].len();
        // h(t-1) of every trial one after the other (`N×K`, column-major), and W h(t-1).
        let mut h_prev = vec![0.0; n * width];
        let mut recurrent = vec![0.0; n * width];
        let mut squared_error = vec![0.0; width];
        // `W` is fixed for the whole group: packed once, read as one stream per step.
        let mut recurrent_weights = PackedMatrix::new(self.recurrent());
        for (c, &k) in group.iter().enumerate() {
            h_prev[c * n..(c + 1) * n].copy_from_slice(&starts[k].h);
            let trajectory = &mut trajectories[k];
            trajectory
                .h
                .col_as_slice_mut(0)
                .copy_from_slice(&starts[k].h);
            trajectory.y_initial.copy_from_slice(&starts[k].y);
        }
        let alpha = self.alpha();
        for step in 0..len {
            recurrent_weights.matmat(&h_prev, &mut recurrent, false);
            for (c, &k) in group.iter().enumerate() {
                let trial = trials[k];
                let tr = &mut trajectories[k];
                let u = tr.u.col_as_slice_mut(step);
                u.copy_from_slice(&recurrent[c * n..(c + 1) * n]);
                // The rest of `forward_step_impl`, in its order.
                if self.n_inputs() > 0 {
                    matvec(self.input(), trial.input_at(step), u, true);
                }
                if self.config().readout_feedback {
                    let y_prev: &[f64] = if step == 0 {
                        &tr.y_initial
                    } else {
                        tr.y.col_as_slice(step - 1)
                    };
                    matvec(self.feedback(), y_prev, u, true);
                }
                let slope = slopes
                    .as_deref_mut()
                    .map(|slopes| slopes[k].col_as_slice_mut(step));
                let h = &mut h_prev[c * n..(c + 1) * n];
                let h_next = tr.h.col_as_slice_mut(step + 1);
                crate::tanh::activate(alpha, h, tr.u.col_as_slice(step), h_next, slope);
                h.copy_from_slice(h_next);
                let y = tr.y.col_as_slice_mut(step);
                matvec(self.readout(), tr.h.col_as_slice(step + 1), y, false);
                let Trajectory { y, error, .. } = tr;
                squared_error[c] += masked_error(
                    trial.target_at(step),
                    y.col_as_slice(step),
                    trial.mask_at(step),
                    error.col_as_slice_mut(step),
                );
            }
        }
        for (c, &k) in group.iter().enumerate() {
            trajectories[k].loss = squared_error[c] / (2.0 * len as f64);
        }
    }
}
