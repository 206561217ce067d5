//! The recurrent current `u = W v`, summed in a fixed order.
//!
//! `u_i = sum_j W_ij v_j`, accumulated over `j = 0, 1, ..., N-1` in that
//! order with a separate multiply and add (no fused multiply-add). Vectors run
//! across `i`, never across `j`, so every `u_i` is the same sequence of IEEE
//! operations whatever the machine's vector width: results do not depend on
//! the CPU (a general matrix-vector product picks its blocking and its use of
//! FMA at run time). Column-major `W` is streamed once, four columns at a
//! time, so `u` is loaded and stored once per four columns.

use faer::prelude::{Reborrow, ReborrowMut};
use faer::traits::pulp::{Arch, Simd, WithSimd};
use faer::{MatMut, MatRef};

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

/// Rows of `W` (and of the output) held in registers per tile of [`matmat`].
const TILE_ROWS: usize = 8;
/// Vectors (columns of `V`) per tile of [`matmat`].
const TILE_COLS: usize = 4;

/// `OUT = W V` (replace) or `OUT += W V` (`accumulate`) for `K` vectors at
/// once (`V` is `N_cols×K`, `OUT` is `N_rows×K`, both with unit row stride).
///
/// Every output element is the same sequence of IEEE operations as
/// [`matvec`] gives for that column: `out_ik` starts from `0.0` (or its
/// value, with `accumulate`) and `W_ij v_jk` is added for `j = 0, 1, ...`
/// in that order, each product rounded before its addition (no fused
/// multiply-add). So column `k` of the result equals `matvec(W, V[:, k])`
/// bit for bit, whatever the blocking. The blocking is over rows and
/// vectors only: a tile of `8` rows by up to `4` vectors is kept in
/// registers for the whole sum over `j`, so a pass over `W` serves four
/// vectors (one read of `W` from memory per step; the `8×N` panel of the
/// tile is re-read from cache for the next four vectors).
pub fn matmat(w: MatRef<'_, f64>, v: MatRef<'_, f64>, out: MatMut<'_, f64>, accumulate: bool) {
    debug_assert_eq!(w.ncols(), v.nrows());
    debug_assert_eq!(w.nrows(), out.nrows());
    debug_assert_eq!(v.ncols(), out.ncols());
    Arch::new().dispatch(MatMat {
        w,
        v,
        out,
        accumulate,
    });
}

struct MatMat<'a> {
    w: MatRef<'a, f64>,
    v: MatRef<'a, f64>,
    out: MatMut<'a, f64>,
    accumulate: bool,
}

impl WithSimd for MatMat<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Self {
            w,
            v,
            mut out,
            accumulate,
        } = self;
        let (n, m, k_total) = (w.nrows(), w.ncols(), v.ncols());
        if !accumulate {
            out.fill(0.0);
        }
        let mut k0 = 0;
        while k0 < k_total {
            let width = (k_total - k0).min(TILE_COLS);
            match width {
                4 => tiles::<4>(w, v, out.rb_mut(), k0, n, m),
                3 => tiles::<3>(w, v, out.rb_mut(), k0, n, m),
                2 => tiles::<2>(w, v, out.rb_mut(), k0, n, m),
                _ => tiles::<1>(w, v, out.rb_mut(), k0, n, m),
            }
            k0 += width;
        }
    }
}

/// Columns `k0 .. k0 + C` of `OUT += W V`, tile by tile over rows.
#[inline(always)]
fn tiles<const C: usize>(
    w: MatRef<'_, f64>,
    v: MatRef<'_, f64>,
    mut out: MatMut<'_, f64>,
    k0: usize,
    n: usize,
    m: usize,
) {
    let col = |j: usize| -> &[f64] {
        w.col(j)
            .try_as_col_major()
            .expect("contiguous column")
            .as_slice()
    };
    let vcol: [&[f64]; C] = std::array::from_fn(|c| {
        v.col(k0 + c)
            .try_as_col_major()
            .expect("contiguous column")
            .as_slice()
    });
    let mut i0 = 0;
    while i0 + TILE_ROWS <= n {
        let mut acc = [[0.0f64; TILE_ROWS]; C];
        for (c, a) in acc.iter_mut().enumerate() {
            let o = out
                .rb()
                .col(k0 + c)
                .try_as_col_major()
                .expect("contiguous column")
                .as_slice();
            a.copy_from_slice(&o[i0..i0 + TILE_ROWS]);
        }
        for j in 0..m {
            let wj: &[f64; TILE_ROWS] = col(j)[i0..i0 + TILE_ROWS].try_into().expect("tile rows");
            for c in 0..C {
                let vj = vcol[c][j];
                for r in 0..TILE_ROWS {
                    acc[c][r] += wj[r] * vj;
                }
            }
        }
        for (c, a) in acc.iter().enumerate() {
            let o = out
                .rb_mut()
                .col_mut(k0 + c)
                .try_as_col_major_mut()
                .expect("contiguous column")
                .as_slice_mut();
            o[i0..i0 + TILE_ROWS].copy_from_slice(a);
        }
        i0 += TILE_ROWS;
    }
    // The last rows (fewer than a tile), one at a time, in the same order.
    for i in i0..n {
        for c in 0..C {
            let mut a = out[(i, k0 + c)];
            for j in 0..m {
                a += col(j)[i] * vcol[c][j];
            }
            out[(i, k0 + c)] = a;
        }
    }
}
