//! Online RFLO without the `N×N` trace: the weights in force as the trial's
//! starting weights plus a correction of rank at most `t` (docs/spec/MODEL.md §5, §7).
//!
//! The trace restarts at zero each trial, so after `t` online steps
//!
//! ```text
//! p(t')  = sum_{s<=t'} (1-alpha)^(t'-s) D(s) h(s-1)^T      D(s) = alpha phi'(u(s))  (diagonal)
//! W(t)   = W_0 + sum_{t'<=t} diag(c(t')) p(t')              c(t') = eta2/T [F e(t')]
//! ```
//!
//! and the next step's current `W(t) v` (with `v = h(t)`) needs no `N×N`
//! matrix but `W_0`:
//!
//! ```text
//! d_s   = h(s-1) . v                                  (s = 1..t)
//! z(t') = (1-alpha) z(t'-1) + D(t') d_t'              (z(0) = 0;  z(t') = p(t') v)
//! W(t) v = W_0 v + sum_{t'<=t} c(t') ⊙ z(t')
//! ```
//!
//! — `O(N² + t N)` work per step, reading `W_0` once instead of reading and
//! writing both `p` and `W` (`32 N²` bytes). At the trial's end the weights
//! are written once, from the backward-filtered gain
//! `r(s) = c(s) + (1-alpha) r(s+1)`:
//! `W(T) = W_0 + sum_s [D(s) ⊙ r(s)] h(s-1)^T`, one `(N×T)(T×N)` product.
//!
//! With one output and a projection fixed within the trial (`B` or a custom
//! `F`, not `LocalSymmetric`'s changing `W_out^T`), `c(t') = f e(t')` with
//! `f = eta2/T F`, so `sum c(t') ⊙ z(t') = f ⊙ sum e(t') z(t')`: only the
//! scalar errors are stored, and a step streams two `N×t` histories
//! (`h` and `D`) instead of three.
//!
//! This is the trace form's update exactly in exact arithmetic; only the
//! summation order differs (agreement to rounding, checked against the
//! naive transcription in the conformance suite). It cannot express Dale's
//! clip after every step, which is not linear; the caller falls back to the
//! trace form then.

use faer::linalg::matmul::matmul;
use faer::traits::pulp::{Arch, Simd, WithSimd};
use faer::{Accum, ColMut, ColRef, Mat, MatMut, MatRef, Par};
use rnn_core::gemv::matvec;

/// What a trial's low-rank correction needs, stored step by step.
#[derive(Debug, Clone)]
pub(crate) struct LowRankHistory {
    /// Column `s`: `h(s-1)`, `N×T`.
    presynaptic: Mat<f64>,
    /// Column `s`: `D(s) = alpha phi'(u(s))`, `N×T`.
    drive: Mat<f64>,
    /// Column `s`: `c(s) = eta2/T [F e(s)]` (per-unit mode only); the
    /// backward-filtered learning signal once the trial ends. `N×T`.
    gain: Mat<f64>,
    /// Shared mode: `f = eta2/T F` (length `N`), with `e(s)` in `errors`.
    shared: Option<Vec<f64>>,
    /// Shared mode: the scalar error `e(s)`, length `T`.
    errors: Vec<f64>,
    /// `d_s = h(s-1) . v`, length `T`.
    overlaps: Vec<f64>,
    /// `z(t')`, then the correction `sum c ⊙ z`; length `N`.
    filtered: Vec<f64>,
    correction: Vec<f64>,
    /// Steps recorded in this trial.
    recorded: usize,
}

impl LowRankHistory {
    pub fn new() -> Self {
        Self {
            presynaptic: Mat::zeros(0, 0),
            drive: Mat::zeros(0, 0),
            gain: Mat::zeros(0, 0),
            shared: None,
            errors: Vec::new(),
            overlaps: Vec::new(),
            filtered: Vec::new(),
            correction: Vec::new(),
            recorded: 0,
        }
    }

    /// Starts a trial of `len` steps for `n` units (allocates only when the
    /// stored capacity is too small: outside the step loop). `shared` is
    /// `(F, rate)` when one output's error is projected by a fixed `F`
    /// (shared mode, `f = rate F`), `None` for per-unit gains.
    pub fn begin(&mut self, n: usize, len: usize, shared: Option<(MatRef<'_, f64>, f64)>) {
        if self.presynaptic.nrows() != n || self.presynaptic.ncols() < len {
            self.presynaptic = Mat::zeros(n, len);
            self.drive = Mat::zeros(n, len);
            self.gain = Mat::zeros(n, len);
            self.errors = vec![0.0; len];
            self.overlaps = vec![0.0; len];
            self.filtered = vec![0.0; n];
            self.correction = vec![0.0; n];
        }
        match shared {
            Some((projection, rate)) => {
                let f = self.shared.get_or_insert_with(Vec::new);
                f.clear();
                f.extend((0..n).map(|i| rate * projection[(i, 0)]));
            }
            None => self.shared = None,
        }
        self.recorded = 0;
    }

    /// Records step `t`'s `h(t-1)`, `D(t)`, and `c(t)` (per-unit mode) or
    /// `e(t)` (shared mode).
    pub fn record(&mut self, presynaptic: &[f64], drive: &[f64], gain: &[f64], error: f64) {
        let s = self.recorded;
        self.presynaptic
            .col_as_slice_mut(s)
            .copy_from_slice(presynaptic);
        self.drive.col_as_slice_mut(s).copy_from_slice(drive);
        if self.shared.is_some() {
            self.errors[s] = error;
        } else {
            self.gain.col_as_slice_mut(s).copy_from_slice(gain);
        }
        self.recorded += 1;
    }

    /// `out = W(t) v` with `W(t) = W_0 + sum_{t'<=t} diag(c(t')) p(t')` over
    /// the steps recorded so far.
    pub fn current(&mut self, initial: MatRef<'_, f64>, alpha: f64, v: &[f64], out: &mut [f64]) {
        let t = self.recorded;
        let n = v.len();
        let v_col = ColRef::from_slice(v);
        // d_s = h(s-1) . v for s = 1..t: one (t×N)(N) product.
        matmul(
            ColMut::from_slice_mut(&mut self.overlaps[..t]),
            Accum::Replace,
            self.presynaptic.as_ref().subcols(0, t).transpose(),
            v_col,
            1.0,
            Par::Seq,
        );
        let gain = match &self.shared {
            Some(_) => Gain::Shared(&self.errors[..t]),
            None => Gain::PerUnit(self.gain.as_ref().subcols(0, t)),
        };
        Arch::new().dispatch(Correction {
            drive: self.drive.as_ref().subcols(0, t),
            gain,
            overlaps: &self.overlaps[..t],
            keep: 1.0 - alpha,
            filtered: &mut self.filtered[..n],
            correction: &mut self.correction[..n],
        });
        if let Some(f) = &self.shared {
            for (c, &f) in self.correction.iter_mut().zip(f) {
                *c *= f;
            }
        }
        // `W_0 v` in the forward pass's fixed order, then the correction.
        matvec(initial, v, out, false);
        for (o, &c) in out.iter_mut().zip(&self.correction) {
            *o += c;
        }
    }

    /// `W += sum_s [D(s) ⊙ r(s)] h(s-1)^T` with `r(s) = c(s) + (1-alpha) r(s+1)`:
    /// the trial's whole recurrent change, written once.
    pub fn apply(&mut self, weights: MatMut<'_, f64>, alpha: f64) {
        let t = self.recorded;
        if t == 0 {
            return;
        }
        let keep = 1.0 - alpha;
        if let Some(f) = &self.shared {
            // rho(s) = e(s) + keep rho(s+1); column s = D(s) ⊙ (f rho(s)).
            let mut rho = 0.0;
            for s in (0..t).rev() {
                rho = self.errors[s] + keep * rho;
                let drive = self.drive.col_as_slice(s);
                let signal = self.gain.col_as_slice_mut(s);
                for ((g, &d), &f) in signal.iter_mut().zip(drive).zip(f) {
                    *g = d * (f * rho);
                }
            }
        } else {
            self.filter_per_unit_gains(t, keep);
        }
        matmul(
            weights,
            Accum::Add,
            self.gain.as_ref().subcols(0, t),
            self.presynaptic.as_ref().subcols(0, t).transpose(),
            1.0,
            Par::Seq,
        );
        self.recorded = 0;
    }

    /// `r(s) = c(s) + keep r(s+1)`, column `s` of `gain` becomes `D(s) ⊙ r(s)`.
    fn filter_per_unit_gains(&mut self, t: usize, keep: f64) {
        let filtered = &mut self.filtered;
        filtered.fill(0.0);
        for s in (0..t).rev() {
            let drive = self.drive.col_as_slice(s);
            let gain = self.gain.col_as_slice_mut(s);
            for ((g, r), &d) in gain.iter_mut().zip(filtered.iter_mut()).zip(drive) {
                *r = *g + keep * *r;
                *g = d * *r;
            }
        }
    }
}

impl Default for LowRankHistory {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the correction's gains come from.
#[derive(Clone, Copy)]
enum Gain<'a> {
    /// Column `t'`: `c(t')`.
    PerUnit(MatRef<'a, f64>),
    /// `e(t')`: the sum is `sum e(t') z(t')`, to be scaled by `f` afterwards.
    Shared(&'a [f64]),
}

/// `z(t') = keep z(t'-1) + D(t') d_t'` and `correction = sum c(t') ⊙ z(t')`
/// (or `sum e(t') z(t')`) as one streaming pass, compiled for the machine's
/// vector width by runtime dispatch (no fused multiply-add:
/// machine-independent results).
struct Correction<'a> {
    drive: MatRef<'a, f64>,
    gain: Gain<'a>,
    overlaps: &'a [f64],
    keep: f64,
    filtered: &'a mut [f64],
    correction: &'a mut [f64],
}

impl WithSimd for Correction<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        match self.gain {
            Gain::PerUnit(gain) => self.run(|s, start| Column(&column(gain, s)[start..])),
            Gain::Shared(errors) => self.run(|s, _| Broadcast(errors[s])),
        }
    }
}

/// The gains of one step for a run of rows.
trait Gains {
    /// Row `start + k`.
    fn at(&self, k: usize) -> f64;
    /// Rows `start .. start + BLOCK`.
    fn block(&self) -> [f64; BLOCK];
}

/// Per-unit gains `c(t')` for rows `start..`.
struct Column<'a>(&'a [f64]);

impl Gains for Column<'_> {
    #[inline(always)]
    fn at(&self, k: usize) -> f64 {
        self.0[k]
    }

    #[inline(always)]
    fn block(&self) -> [f64; BLOCK] {
        self.0[..BLOCK].try_into().expect("block")
    }
}

/// One gain `e(t')` for every row.
struct Broadcast(f64);

impl Gains for Broadcast {
    #[inline(always)]
    fn at(&self, _k: usize) -> f64 {
        self.0
    }

    #[inline(always)]
    fn block(&self) -> [f64; BLOCK] {
        [self.0; BLOCK]
    }
}

impl Correction<'_> {
    #[inline(always)]
    fn run<G: Gains>(self, gains: impl Fn(usize, usize) -> G) {
        let Self {
            drive,
            overlaps,
            keep,
            filtered,
            correction,
            ..
        } = self;
        let n = filtered.len();
        // Rows in blocks of `BLOCK`, so that `z` and the correction of a block
        // stay in registers while the histories stream past; every row sees
        // the same operations in the same order (over `t'`) as unblocked.
        let mut start = 0;
        while start + BLOCK <= n {
            let mut z = [0.0; BLOCK];
            let mut acc = [0.0; BLOCK];
            for (s, &d_s) in overlaps.iter().enumerate() {
                let drive: &[f64; BLOCK] = column(drive, s)[start..start + BLOCK]
                    .try_into()
                    .expect("block");
                let gain = gains(s, start).block();
                for k in 0..BLOCK {
                    z[k] = keep * z[k] + drive[k] * d_s;
                    acc[k] += gain[k] * z[k];
                }
            }
            filtered[start..start + BLOCK].copy_from_slice(&z);
            correction[start..start + BLOCK].copy_from_slice(&acc);
            start += BLOCK;
        }
        let (z, acc) = (&mut filtered[start..], &mut correction[start..]);
        z.fill(0.0);
        acc.fill(0.0);
        for (s, &d_s) in overlaps.iter().enumerate() {
            let drive = &column(drive, s)[start..n];
            let gain = gains(s, start);
            for k in 0..n - start {
                z[k] = keep * z[k] + drive[k] * d_s;
                acc[k] += gain.at(k) * z[k];
            }
        }
    }
}

/// Rows per register block of [`Correction`] (four AVX2 vectors).
const BLOCK: usize = 16;

#[inline(always)]
fn column(m: MatRef<'_, f64>, s: usize) -> &[f64] {
    m.col(s)
        .try_as_col_major()
        .expect("contiguous column")
        .as_slice()
}
