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

/// Columns of `W` per block in [`matmat`]: the accumulators of a row chunk
/// stay in registers across a block (loaded and stored once per block).
/// 64 measured fastest of 16, 64 and 256 at N = 100–1024 on the bench
/// machine (1.3–1.45× ten `matvec`s; 16 was 1.0–1.3×).
const COLUMN_BLOCK: usize = 64;
/// Vectors `k` whose accumulators are held in registers at once in [`matmat`]
/// (with two SIMD vectors of rows each: eight accumulators, two loads of
/// `W` and the broadcasts fit the sixteen AVX2 registers).
const GROUP_VECTORS: usize = 4;

/// `OUT = W V` (replace) or `OUT += W V` (`accumulate`) for `K` vectors at
/// once: `v` holds the `K` vectors of length `N_cols` one after the other
/// (column-major `N_cols×K`), `out` the `K` results of length `N_rows`.
///
/// Every output element is the same sequence of IEEE operations as
/// [`matvec`] gives for that vector: `out_ik` starts from `0.0` (or its
/// value, with `accumulate`) and `W_ij v_jk` is added for `j = 0, 1, ...`
/// in that order, each product rounded before its addition (no fused
/// multiply-add). So vector `k` of the result equals `matvec(W, v_k)` bit
/// for bit. Only the loop nest differs from `matvec`, never an element's
/// order: `W` is taken in blocks of 64 columns; within a block, rows in
/// chunks of two SIMD vectors, and for each chunk up to four vectors `k` at
/// a time keep their partial sums in registers while the block's columns
/// are added in order. Each element of `W` is loaded from memory once per
/// product (then from L1 for the other vectors), so `W` is read once per
/// product instead of `K` times, and the work is arithmetic-bound.
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
        let chunk = 2 * lanes;
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
            // Row chunks of two vectors, then at most one of one vector,
            // then single rows: every row once, each with the same order.
            let mut i = 0;
            while i + chunk <= n {
                block.rows::<S, 2>(simd, out, k_total, i);
                i += chunk;
            }
            if i + lanes <= n {
                block.rows::<S, 1>(simd, out, k_total, i);
                i += lanes;
            }
            while i < n {
                block.row(out, k_total, i);
                i += 1;
            }
            j0 += COLUMN_BLOCK;
        }
    }
}

/// Columns `j0 .. j0 + width` of `W` (`n×m`) and the vectors `v`, for
/// [`matmat`]'s accumulation of one row chunk.
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
    /// Rows `i .. i + R·lanes` of every output: `out_ik += W_ij v_jk` for
    /// the block's columns in order, `GROUP_VECTORS` vectors at a time.
    #[inline(always)]
    fn rows<S: Simd, const R: usize>(&self, simd: S, out: &mut [f64], k_total: usize, i: usize) {
        let mut k0 = 0;
        while k0 < k_total {
            match (k_total - k0).min(GROUP_VECTORS) {
                4 => self.group::<S, R, 4>(simd, out, k0, i),
                3 => self.group::<S, R, 3>(simd, out, k0, i),
                2 => self.group::<S, R, 2>(simd, out, k0, i),
                _ => self.group::<S, R, 1>(simd, out, k0, i),
            }
            k0 += GROUP_VECTORS;
        }
    }

    /// [`Block::rows`] for vectors `k0 .. k0 + C`: their `C·R` partial sums
    /// in registers across the block's columns.
    #[inline(always)]
    fn group<S: Simd, const R: usize, const C: usize>(
        &self,
        simd: S,
        out: &mut [f64],
        k0: usize,
        i: usize,
    ) {
        let (n, m) = (self.n, self.m);
        let len = R * size_of::<S::f64s>() / size_of::<f64>();
        let load = |k: usize| -> [S::f64s; R] {
            let (head, _) = S::as_simd_f64s(&out[(k0 + k) * n + i..(k0 + k) * n + i + len]);
            std::array::from_fn(|r| head[r])
        };
        let mut acc: [[S::f64s; R]; C] = std::array::from_fn(load);
        let (j0, width) = (self.j0, self.width);
        let xs: [&[f64]; C] = std::array::from_fn(|c| &self.v[(k0 + c) * m + j0..][..width]);
        for (jj, col) in self.cols[..width].iter().enumerate() {
            let (col, _) = S::as_simd_f64s(&col[i..i + len]);
            let wj: [S::f64s; R] = std::array::from_fn(|r| col[r]);
            for (acc, xs) in acc.iter_mut().zip(&xs) {
                let x = simd.splat_f64s(xs[jj]);
                for r in 0..R {
                    acc[r] = simd.add_f64s(acc[r], simd.mul_f64s(wj[r], x));
                }
            }
        }
        for (c, acc) in acc.iter().enumerate() {
            let start = (k0 + c) * n + i;
            let (head, _) = S::as_mut_simd_f64s(&mut out[start..start + len]);
            head[..R].copy_from_slice(acc);
        }
    }

    /// Row `i` of every output, scalar, in the same order.
    fn row(&self, out: &mut [f64], k_total: usize, i: usize) {
        for k in 0..k_total {
            let mut a = out[k * self.n + i];
            let xs = &self.v[k * self.m + self.j0..][..self.width];
            for (col, &x) in self.cols.iter().zip(xs) {
                a += col[i] * x;
            }
            out[k * self.n + i] = a;
        }
    }
}
