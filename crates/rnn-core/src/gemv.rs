//! The recurrent current `u = W v`, summed in a fixed order.
//!
//! `u_i = sum_j W_ij v_j`, accumulated over `j = 0, 1, ..., N-1` in that
//! order with a separate multiply and add (no fused multiply-add). Vectors run
//! across `i`, never across `j`, so every `u_i` is the same sequence of IEEE
//! operations whatever the machine's vector width: results do not depend on
//! the CPU (a general matrix-vector product picks its blocking and its use of
//! FMA at run time). Column-major `W` is streamed once, four columns at a
//! time, so `u` is loaded and stored once per four columns.

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

struct MatVec<'a> {
    w: MatRef<'a, f64>,
    v: &'a [f64],
    out: &'a mut [f64],
    accumulate: bool,
}

impl WithSimd for MatVec<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
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
            let (c, vj) = (col(j), v[j]);
            for i in 0..n {
                out[i] += c[i] * vj;
            }
            j += 1;
        }
    }
}

/// Vectors handled per pass over `W` in [`matmat`].
const PASS_VECTORS: usize = 8;
/// Rows per block in [`matmat`]: the block's `PASS_VECTORS` output
/// segments (16 KiB) stay in L1 while the block's part of `W` streams past.
const ROW_BLOCK: usize = 256;

/// `OUT = W V` (replace) or `OUT += W V` (`accumulate`) for `K` vectors at
/// once: `v` holds the `K` vectors of length `N_cols` one after the other
/// (column-major `N_cols×K`), `out` the `K` results of length `N_rows`.
///
/// Every output element is the same sequence of IEEE operations as
/// [`matvec`] gives for that vector: `out_ik` starts from `0.0` (or its
/// value, with `accumulate`) and `W_ij v_jk` is added for `j = 0, 1, ...`
/// in that order, each product rounded before its addition (no fused
/// multiply-add). So vector `k` of the result equals `matvec(W, v_k)` bit
/// for bit. The loops are those of `matvec` (four columns of `W` at a time,
/// vectors across rows `i`) with up to eight vectors `k` inside and the rows
/// in blocks of 256 (the blocking changes no element's order): each element
/// of `W` loaded serves eight vectors, so `W` is read `ceil(K/8)` times per
/// product instead of `K` times.
pub fn matmat(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64], accumulate: bool) {
    let (n, m) = (w.nrows(), w.ncols());
    debug_assert_eq!(v.len() % m.max(1), 0);
    debug_assert!(m == 0 || out.len() == v.len() / m * n);
    Arch::new().dispatch(MatMat {
        w,
        v,
        out,
        accumulate,
    });
}

struct MatMat<'a> {
    w: MatRef<'a, f64>,
    v: &'a [f64],
    out: &'a mut [f64],
    accumulate: bool,
}

impl WithSimd for MatMat<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
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
        if n == 0 {
            return;
        }
        let k_total = out.len() / n;
        let mut k0 = 0;
        while k0 < k_total {
            let width = (k_total - k0).min(PASS_VECTORS);
            let v = &v[k0 * m..(k0 + width) * m];
            let out = &mut out[k0 * n..(k0 + width) * n];
            let mut i0 = 0;
            while i0 < n {
                let rows = (n - i0).min(ROW_BLOCK);
                let w = w.subrows(i0, rows);
                match width {
                    8 => pass::<8>(w, v, out, n, i0),
                    7 => pass::<7>(w, v, out, n, i0),
                    6 => pass::<6>(w, v, out, n, i0),
                    5 => pass::<5>(w, v, out, n, i0),
                    4 => pass::<4>(w, v, out, n, i0),
                    3 => pass::<3>(w, v, out, n, i0),
                    2 => pass::<2>(w, v, out, n, i0),
                    _ => pass::<1>(w, v, out, n, i0),
                }
                i0 += rows;
            }
            k0 += width;
        }
    }
}

/// Rows `i0 .. i0 + w.nrows()` of `out_k += W v_k` for `C` vectors (each
/// of length `n_out` in `out`), in `matvec`'s order; `w` is that block of rows.
#[inline(always)]
fn pass<const C: usize>(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64], n_out: usize, i0: usize) {
    let (n, m) = (w.nrows(), w.ncols());
    let col = |j: usize| -> &[f64] {
        &w.col(j)
            .try_as_col_major()
            .expect("contiguous column")
            .as_slice()[..n]
    };
    let mut chunks = out.chunks_exact_mut(n_out);
    let outs: [&mut [f64]; C] =
        std::array::from_fn(|_| &mut chunks.next().expect("C output vectors")[i0..i0 + n]);
    let vs: [&[f64]; C] = std::array::from_fn(|c| &v[c * m..(c + 1) * m]);
    let mut j = 0;
    while j + 4 <= m {
        let (c0, c1, c2, c3) = (col(j), col(j + 1), col(j + 2), col(j + 3));
        let x: [[f64; 4]; C] =
            std::array::from_fn(|c| [vs[c][j], vs[c][j + 1], vs[c][j + 2], vs[c][j + 3]]);
        for i in 0..n {
            let (w0, w1, w2, w3) = (c0[i], c1[i], c2[i], c3[i]);
            for c in 0..C {
                let o = &mut outs[c][i];
                let mut a = *o;
                a += w0 * x[c][0];
                a += w1 * x[c][1];
                a += w2 * x[c][2];
                a += w3 * x[c][3];
                *o = a;
            }
        }
        j += 4;
    }
    while j < m {
        let c0 = col(j);
        let x: [f64; C] = std::array::from_fn(|c| vs[c][j]);
        for i in 0..n {
            let w0 = c0[i];
            for c in 0..C {
                outs[c][i] += w0 * x[c];
            }
        }
        j += 1;
    }
}
