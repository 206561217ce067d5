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
//! element's order: column-major `W` is taken in blocks of [`COLUMN_BLOCK`] columns;
//! within a block, the rows in chunks of a few SIMD vectors (the last chunk
//! with a partial vector, loaded zero-filled and stored partially, so that
//! no row falls back to scalar code), and for each chunk up to
//! [`GROUP_VECTORS`] vectors `k` keep their partial sums in registers while
//! the block's columns are added in order. Its SIMD code is explicit
//! (`pulp`): LLVM does not vectorise that loop nest by itself.

use faer::MatRef;
use faer::traits::pulp::{Arch, Simd, WithSimd};

/// Columns of `W` per block: a chunk's accumulators are loaded and stored
/// once per block. 64 measured fastest of 16, 64 and 256 at N = 100–1024 on
/// the bench machine.
pub const COLUMN_BLOCK: usize = 64;

/// Vectors `k` whose partial sums are held in registers at once.
pub const GROUP_VECTORS: usize = 4;

/// SIMD vectors of rows per chunk in [`matmat`]: with four vectors, eight
/// accumulators, the loads of `W` and a broadcast fit the sixteen AVX2
/// registers.
const MATMAT_CHUNK: usize = 2;

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
/// for bit. Each element of `W` is loaded from memory once per product (then
/// from L1 for the other vectors of its chunk), so `W` is read once per
/// product instead of `K` times.
pub fn matmat(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64], accumulate: bool) {
    let (n, m) = (w.nrows(), w.ncols());
    debug_assert_eq!(v.len() % m.max(1), 0);
    debug_assert!(m == 0 || out.len() == v.len() / m * n);
    Arch::new().dispatch(Product::<MATMAT_CHUNK> {
        w,
        v,
        out,
        accumulate,
    });
}

/// The product of the module docs, with chunks of `R` SIMD vectors of rows.
struct Product<'a, const R: usize> {
    w: MatRef<'a, f64>,
    v: &'a [f64],
    out: &'a mut [f64],
    accumulate: bool,
}

impl<const R: usize> WithSimd for Product<'_, R> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            w,
            v,
            out,
            accumulate,
        } = self;
        let (n, m) = (w.nrows(), w.ncols());
        if !accumulate {
            out.fill(0.0);
        }
        if n == 0 || m == 0 {
            return;
        }
        let k_total = out.len() / n;
        let lanes = size_of::<S::f64s>() / size_of::<f64>();
        let mut j0 = 0;
        while j0 < m {
            let width = (m - j0).min(COLUMN_BLOCK);
            let col = |j: usize| -> &[f64] {
                &w.col(j0 + j)
                    .try_as_col_major()
                    .expect("contiguous column")
                    .as_slice()[..n]
            };
            let block = Block {
                cols: std::array::from_fn(|j| if j < width { col(j) } else { &[] }),
                v,
                j0,
                width,
                n,
                m,
            };
            let mut i = 0;
            while i + R * lanes <= n {
                block.rows::<S, R, false>(simd, out, k_total, i);
                i += R * lanes;
            }
            // The rest (fewer than R vectors' rows), its last vector partial.
            match (n - i).div_ceil(lanes) {
                0 => {}
                1 => block.rows::<S, 1, true>(simd, out, k_total, i),
                2 => block.rows::<S, 2, true>(simd, out, k_total, i),
                3 => block.rows::<S, 3, true>(simd, out, k_total, i),
                _ => block.rows::<S, 4, true>(simd, out, k_total, i),
            }
            j0 += COLUMN_BLOCK;
        }
    }
}

/// Columns `j0 .. j0 + width` of `W` (`n×m`) and the vectors `v`.
struct Block<'a> {
    /// The block's columns of `W` (the first `width`), each of length `n`.
    cols: [&'a [f64]; COLUMN_BLOCK],
    v: &'a [f64],
    j0: usize,
    width: usize,
    n: usize,
    m: usize,
}

impl Block<'_> {
    /// Rows from `i` (`V` vectors' worth; with `PARTIAL`, up to row `n`,
    /// the last vector partial) of every output: `out_ik += W_ij v_jk` for
    /// the block's columns in order, [`GROUP_VECTORS`] vectors at a time.
    #[inline(always)]
    fn rows<S: Simd, const V: usize, const PARTIAL: bool>(
        &self,
        simd: S,
        out: &mut [f64],
        k_total: usize,
        i: usize,
    ) {
        let mut k0 = 0;
        while k0 < k_total {
            match (k_total - k0).min(GROUP_VECTORS) {
                4 => self.group::<S, V, 4, PARTIAL>(simd, out, k0, i),
                3 => self.group::<S, V, 3, PARTIAL>(simd, out, k0, i),
                2 => self.group::<S, V, 2, PARTIAL>(simd, out, k0, i),
                _ => self.group::<S, V, 1, PARTIAL>(simd, out, k0, i),
            }
            k0 += GROUP_VECTORS;
        }
    }

    /// [`Block::rows`] for vectors `k0 .. k0 + C`: their `C·V` partial sums
    /// in registers across the block's columns.
    #[inline(always)]
    fn group<S: Simd, const V: usize, const C: usize, const PARTIAL: bool>(
        &self,
        simd: S,
        out: &mut [f64],
        k0: usize,
        i: usize,
    ) {
        let (n, m) = (self.n, self.m);
        let lanes = size_of::<S::f64s>() / size_of::<f64>();
        // Rows i .. i + full are whole vectors; with PARTIAL the last of the
        // V vectors covers rows i + full .. n.
        let full = if PARTIAL { (V - 1) * lanes } else { V * lanes };
        let load = |x: &[f64]| -> [S::f64s; V] {
            let (head, _) = S::as_simd_f64s(&x[i..i + full]);
            std::array::from_fn(|r| {
                if PARTIAL && r == V - 1 {
                    simd.partial_load_f64s(&x[i + full..])
                } else {
                    head[r]
                }
            })
        };
        let end = if PARTIAL { n } else { i + full };
        let mut acc: [[S::f64s; V]; C] =
            std::array::from_fn(|c| load(&out[(k0 + c) * n..(k0 + c) * n + end]));
        let (j0, width) = (self.j0, self.width);
        let xs: [&[f64]; C] = std::array::from_fn(|c| &self.v[(k0 + c) * m + j0..][..width]);
        for (jj, col) in self.cols[..width].iter().enumerate() {
            let wj = load(&col[..end]);
            for (acc, xs) in acc.iter_mut().zip(&xs) {
                let x = simd.splat_f64s(xs[jj]);
                for r in 0..V {
                    acc[r] = simd.add_f64s(acc[r], simd.mul_f64s(wj[r], x));
                }
            }
        }
        for (c, acc) in acc.iter().enumerate() {
            let out = &mut out[(k0 + c) * n..(k0 + c) * n + end];
            let (head, _) = S::as_mut_simd_f64s(&mut out[i..i + full]);
            let whole = if PARTIAL { V - 1 } else { V };
            head[..whole].copy_from_slice(&acc[..whole]);
            if PARTIAL {
                simd.partial_store_f64s(&mut out[i + full..], acc[V - 1]);
            }
        }
    }
}
