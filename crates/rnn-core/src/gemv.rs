//! The recurrent current `u = W v`, summed in a fixed order.
//!
//! `u_i = sum_j W_ij v_j`, accumulated over `j = 0, 1, ..., N-1` in that
//! order with a separate multiply and add (no fused multiply-add). Vectors run
//! across `i`, never across `j`, so every `u_i` is the same sequence of IEEE
//! operations whatever the machine's vector width: results do not depend on
//! the CPU (a general matrix-vector product picks its blocking and its use of
//! FMA at run time).
//!
//! [`matvec`] streams `W` four columns at a time. [`matmat`] (`K` vectors,
//! each bit-identical to `matvec`) has its own loop nest, which changes no
//! element's order: `W` is packed ([`PackedMatrix`]) into panels of
//! [`PANEL_ROWS`] rows stored column after column; for each panel, up to
//! [`GROUP_VECTORS`] vectors `k` keep their partial sums in registers while
//! all the columns are added in order, reading the panel as one stream. Its
//! SIMD code is explicit (`pulp`): LLVM does not vectorise that loop nest by
//! itself.

use faer::MatRef;
use faer::traits::pulp::{Arch, Simd, WithSimd};

/// `out = W v` (replace) or `out += W v` (`accumulate`), in the fixed order
/// described in the module docs. `W` must have unit row stride.
pub fn matvec(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64], accumulate: bool) {
    debug_assert_eq!(w.ncols(), v.len());
    debug_assert_eq!(w.nrows(), out.len());
    Arch::new().dispatch(MatVec {
        w,
        v,
        out,
        accumulate,
    });
}

/// [`matvec`]'s loop nest: `W` streamed four columns at a time, `out`
/// loaded and stored once per four columns, rows `i` in the innermost loop,
/// which LLVM vectorises. (Explicit SIMD with a partial last vector, as in
/// [`matmat`], measured slower here at N = 30 and no faster above; the
/// register accumulators of [`matmat`] stall on the adder's latency with
/// one vector.)
struct MatVec<'a> {
    w: MatRef<'a, f64>,
    v: &'a [f64],
    out: &'a mut [f64],
    accumulate: bool,
}

impl WithSimd for MatVec<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            w,
            v,
            out,
            accumulate,
        } = self;
        let n = out.len();
        if !accumulate {
            out.fill(0.0);
        }
        // One row (a readout `W_out h` with one output): the same sum in the
        // same order, without a column lookup per term. A one-row `Mat`'s
        // columns are padded apart, so the row is strided: walked as such.
        if n == 1 {
            let row = w.row(0);
            let mut a = out[0];
            if let Some(row) = row.try_as_row_major() {
                for (&w0, &x) in row.as_slice().iter().zip(v) {
                    a += w0 * x;
                }
            } else {
                for (&w0, &x) in row.iter().zip(v) {
                    a += w0 * x;
                }
            }
            out[0] = a;
            return;
        }
        let col = |j: usize| -> &[f64] {
            &w.col(j)
                .try_as_col_major()
                .expect("contiguous column")
                .as_slice()[..n]
        };
        let mut j = 0;
        while j + 4 <= v.len() {
            let (c0, c1, c2, c3) = (col(j), col(j + 1), col(j + 2), col(j + 3));
            let (v0, v1, v2, v3) = (v[j], v[j + 1], v[j + 2], v[j + 3]);
            for i in 0..n {
                let mut a = out[i];
                a += c0[i] * v0;
                a += c1[i] * v1;
                a += c2[i] * v2;
                a += c3[i] * v3;
                out[i] = a;
            }
            j += 4;
        }
        while j < v.len() {
            add_scaled(simd, out, col(j), v[j]);
            j += 1;
        }
    }
}

/// `out_i += c_i x` for every row (the column loop of [`MatVec`] for its
/// last columns, and all of an `N×1` input product): explicit SIMD vectors
/// across rows, then the last `n mod lanes` rows one by one, each element
/// the same multiply and add. (LLVM's own vectorisation of this loop
/// leaves up to 15 scalar rows, 14 of 30 at N = 30.)
#[inline(always)]
fn add_scaled<S: Simd>(simd: S, out: &mut [f64], c: &[f64], x: f64) {
    let c = &c[..out.len()];
    let (out_head, out_tail) = S::as_mut_simd_f64s(out);
    let (c_head, c_tail) = S::as_simd_f64s(c);
    let xs = simd.splat_f64s(x);
    for (o, &c) in out_head.iter_mut().zip(c_head) {
        *o = simd.add_f64s(*o, simd.mul_f64s(c, xs));
    }
    for (o, &c) in out_tail.iter_mut().zip(c_tail) {
        *o += c * x;
    }
}

/// `OUT = W V` (replace) or `OUT += W V` (`accumulate`) for `K` vectors at
/// once: `v` holds the `K` vectors of length `N_cols` one after the other
/// (column-major `N_cols×K`), `out` the `K` results of length `N_rows`.
///
/// Every output element is the same sequence of IEEE operations as
/// [`matvec`] gives for that vector: `out_ik` starts from `0.0` (or its
/// value, with `accumulate`) and `W_ij v_jk` is added for `j = 0, 1, ...`
/// in that order, each product rounded before its addition (no fused
/// multiply-add). So vector `k` of the result equals `matvec(W, v_k)` bit
/// for bit.
///
/// This packs `W` on every call; a caller that multiplies by the same `W`
/// many times (one product per time step of a batch of trials) packs it
/// once with [`PackedMatrix::new`] and calls [`PackedMatrix::matmat`].
pub fn matmat(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64], accumulate: bool) {
    PackedMatrix::new(w).matmat(v, out, accumulate);
}

/// Rows of `W` per panel of a [`PackedMatrix`]: two AVX2 vectors (one
/// AVX-512 vector) of `f64`.
pub const PANEL_ROWS: usize = 8;

/// Vectors `k` whose partial sums are held in registers at once: with two
/// AVX2 vectors of rows, ten accumulators, two loads of `W` and a broadcast
/// fit the sixteen registers.
pub const GROUP_VECTORS: usize = 5;

/// A matrix `W` laid out for [`PackedMatrix::matmat`]: its rows in panels of
/// [`PANEL_ROWS`] (the last zero-padded), each panel stored column after
/// column, so that the product reads `W` as one sequential stream.
///
/// Packing costs one pass over `W`; a product of `W` with `K` vectors then
/// keeps `PANEL_ROWS × GROUP_VECTORS` partial sums in registers for the whole
/// row of columns, loading each element of `W` once per group of vectors
/// instead of once per vector (from beyond L2 once per product: a panel,
/// `8·N_cols` values, stays in L2 for the next groups).
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    nrows: usize,
    ncols: usize,
    /// Panel `p`, column `j`, row `r` at `(p·ncols + j)·PANEL_ROWS + r`.
    panels: Vec<f64>,
    /// The vectors of the current product, transposed (`K×N_cols`
    /// column-major: `v_jk` at `j·K + k`), so that one step of `j` reads the
    /// group's `v_jk` from one place.
    transposed: Vec<f64>,
}

impl PackedMatrix {
    /// Packs `W` (any strides).
    pub fn new(w: MatRef<'_, f64>) -> Self {
        let (nrows, ncols) = (w.nrows(), w.ncols());
        let n_panels = nrows.div_ceil(PANEL_ROWS);
        let mut panels = vec![0.0; n_panels * ncols * PANEL_ROWS];
        for (p, panel) in panels.chunks_exact_mut(ncols * PANEL_ROWS).enumerate() {
            let rows = (nrows - p * PANEL_ROWS).min(PANEL_ROWS);
            for (j, column) in panel.chunks_exact_mut(PANEL_ROWS).enumerate() {
                for (r, x) in column[..rows].iter_mut().enumerate() {
                    *x = w[(p * PANEL_ROWS + r, j)];
                }
            }
        }
        Self {
            nrows,
            ncols,
            panels,
            transposed: Vec::new(),
        }
    }

    /// Rows of `W`.
    pub fn nrows(&self) -> usize {
        self.nrows
    }

    /// Columns of `W`.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// [`matmat`] with this `W`: `out = W V` or `out += W V` (`accumulate`),
    /// `v` column-major `N_cols×K`, `out` column-major `N_rows×K`; each
    /// column bit-identical to [`matvec`].
    pub fn matmat(&mut self, v: &[f64], out: &mut [f64], accumulate: bool) {
        let (n, m) = (self.nrows, self.ncols);
        if !accumulate {
            out.fill(0.0);
        }
        if n == 0 || m == 0 {
            return;
        }
        debug_assert_eq!(v.len() % m, 0);
        let k_total = v.len() / m;
        debug_assert_eq!(out.len(), k_total * n);
        self.transposed.resize(v.len(), 0.0);
        for (j, row) in self.transposed.chunks_exact_mut(k_total).enumerate() {
            for (k, x) in row.iter_mut().enumerate() {
                *x = v[k * m + j];
            }
        }
        Arch::new().dispatch(Panels {
            panels: &self.panels,
            transposed: &self.transposed,
            out,
            n,
            m,
            k_total,
        });
    }
}

/// The product of [`PackedMatrix::matmat`] over all panels and vectors.
struct Panels<'a> {
    panels: &'a [f64],
    transposed: &'a [f64],
    out: &'a mut [f64],
    n: usize,
    m: usize,
    k_total: usize,
}

impl WithSimd for Panels<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        // SIMD vectors per panel: the register tile's height.
        match PANEL_ROWS / (size_of::<S::f64s>() / size_of::<f64>()) {
            1 => self.tiles::<S, 1>(simd),
            2 => self.tiles::<S, 2>(simd),
            4 => self.tiles::<S, 4>(simd),
            _ => self.tiles::<S, 8>(simd),
        }
    }
}

impl Panels<'_> {
    /// Every panel and every group of vectors, `R` SIMD vectors per panel.
    #[inline(always)]
    fn tiles<S: Simd, const R: usize>(self, simd: S) {
        let Self {
            panels,
            transposed,
            out,
            n,
            m,
            k_total,
        } = self;
        for (p, panel) in panels.chunks_exact(m * PANEL_ROWS).enumerate() {
            let tile = Tile {
                panel,
                transposed,
                k_total,
                row0: p * PANEL_ROWS,
                rows: (n - p * PANEL_ROWS).min(PANEL_ROWS),
                n,
            };
            let mut k0 = 0;
            while k0 < k_total {
                match (k_total - k0).min(GROUP_VECTORS) {
                    5 => tile.group::<S, R, 5>(simd, out, k0),
                    4 => tile.group::<S, R, 4>(simd, out, k0),
                    3 => tile.group::<S, R, 3>(simd, out, k0),
                    2 => tile.group::<S, R, 2>(simd, out, k0),
                    _ => tile.group::<S, R, 1>(simd, out, k0),
                }
                k0 += GROUP_VECTORS;
            }
        }
    }
}

/// One panel of rows (`row0 .. row0 + rows`) against the vectors.
struct Tile<'a> {
    panel: &'a [f64],
    transposed: &'a [f64],
    k_total: usize,
    row0: usize,
    rows: usize,
    n: usize,
}

impl Tile<'_> {
    /// `out_ik += W_ij v_jk` for the panel's rows, vectors `k0 .. k0 + C`,
    /// and `j = 0, 1, ...` in order, the `C·R` partial sums in registers.
    #[inline(always)]
    fn group<S: Simd, const R: usize, const C: usize>(&self, simd: S, out: &mut [f64], k0: usize) {
        let Self {
            panel,
            transposed,
            k_total,
            row0,
            rows,
            n,
        } = *self;
        // Through a padded copy: a partial last panel needs no other code.
        let mut buffer = [0.0; PANEL_ROWS];
        let mut acc: [[S::f64s; R]; C] = std::array::from_fn(|c| {
            let start = (k0 + c) * n + row0;
            buffer[..rows].copy_from_slice(&out[start..start + rows]);
            let (vectors, _) = S::as_simd_f64s(&buffer);
            std::array::from_fn(|r| vectors[r])
        });
        for (column, xs) in panel
            .chunks_exact(PANEL_ROWS)
            .zip(transposed.chunks_exact(k_total))
        {
            let (w, _) = S::as_simd_f64s(column);
            let w: [S::f64s; R] = std::array::from_fn(|r| w[r]);
            let xs = &xs[k0..k0 + C];
            for (acc, &x) in acc.iter_mut().zip(xs) {
                let x = simd.splat_f64s(x);
                for r in 0..R {
                    acc[r] = simd.add_f64s(acc[r], simd.mul_f64s(w[r], x));
                }
            }
        }
        for (c, acc) in acc.iter().enumerate() {
            let (vectors, _) = S::as_mut_simd_f64s(&mut buffer);
            vectors[..R].copy_from_slice(acc);
            let start = (k0 + c) * n + row0;
            out[start..start + rows].copy_from_slice(&buffer[..rows]);
        }
    }
}
