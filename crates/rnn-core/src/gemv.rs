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
