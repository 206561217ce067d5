//! The transposed product `out = W^T v`, summed in a fixed order.
//!
//! For column-major `W` (`n` rows, `m` columns) and `v` of length `n`,
//! `out_j = sum_i W_ij v_i` is a dot product of the contiguous column `j`
//! with `v`. With `q = 4 floor(n/4)`, every `out_j` is computed as
//!
//! ```text
//! s_r   = (((+0.0 + W_rj v_r) + W_(r+4)j v_(r+4)) + W_(r+8)j v_(r+8)) + ...
//!         over i = r, r+4, r+8, ... < q, in increasing i        (r = 0, 1, 2, 3)
//! out_j = ((s_0 + s_1) + (s_2 + s_3)) + W_qj v_q + W_(q+1)j v_(q+1) + ... + W_(n-1)j v_(n-1)
//!         (the tail added left to right)
//! ```
//!
//! each product rounded before its addition (no fused multiply-add: Rust
//! never contracts `a * b + c`). The four partial sums are the four lanes
//! of a 4-wide vector, whatever the machine's vector width, so every
//! `out_j` is the same sequence of IEEE operations on every CPU (a general
//! matrix–vector product picks its blocking and its use of FMA at run time).
//! [`matvec_t`] handles several columns per pass (eight with AVX2, through
//! explicit 4-lane vectors; four in the portable code), so each load of `v`
//! serves several columns; [`matmat_t`] does the same for `K` vectors at once
//! (with AVX2, tiles of two columns by five vectors, so each load of `W` also
//! serves five vectors), each result bit-identical to [`matvec_t`] of that
//! vector.

use faer::MatRef;
use faer::traits::pulp::{Arch, Simd, WithSimd};

/// Interleaved partial sums per output (the lanes of the documented order).
const LANES: usize = 4;
/// Columns of `W` per pass in [`matvec_t`]: four independent 4-wide
/// accumulators (with eight, LLVM's vectoriser fell back to 2-wide vectors
/// on AVX2; checked with `objdump -d` on the release test binary).
const PASS_COLUMNS: usize = 4;
/// Vectors per pass over `W` in [`matmat_t`].
const PASS_VECTORS: usize = 8;

/// `out = W^T v` (`out_j = sum_i W_ij v_i`) in the fixed order of the
/// module docs. `W` must have unit row stride; `v.len() == W.nrows()`,
/// `out.len() == W.ncols()`.
pub fn matvec_t(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64]) {
    debug_assert_eq!(w.nrows(), v.len());
    debug_assert_eq!(w.ncols(), out.len());
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = faer::traits::pulp::x86::V3::try_new() {
        // A struct with an inlined `call`, not a closure: a closure is not
        // reliably inlined into `vectorize`'s AVX2 context (in the dev
        // profile's many codegen units each intrinsic became a call, ten
        // times slower).
        simd.vectorize(v3::MatVecT { simd, w, v, out });
        return;
    }
    Arch::new().dispatch(MatVecT { w, v, out });
}

/// [`matvec_t`] with explicit 4-lane AVX2 vectors (lane `r` is the partial
/// sum `s_r`; lane-wise IEEE multiply and add, no FMA) and eight columns
/// per pass: eight independent accumulators, which LLVM's vectoriser did not
/// form from the portable code.
#[cfg(target_arch = "x86_64")]
mod v3 {
    use super::{LANES, column, reduce};
    use faer::MatRef;
    use faer::traits::pulp::{cast, f64x4, x86::V3};

    const COLUMNS: usize = 8;

    /// The first `blocks` whole 4-lane vectors of `s`, as vectors (a view,
    /// no copy: loads straight into the arithmetic, also in the dev profile),
    /// with a length the compiler knows.
    #[inline(always)]
    fn vectors(s: &[f64], blocks: usize) -> &[f64x4] {
        &<V3 as faer::traits::pulp::Simd>::as_simd_f64s(s).0[..blocks]
    }

    /// [`matvec_t`]'s arguments, run inside `V3::vectorize`.
    pub(super) struct MatVecT<'a> {
        pub simd: V3,
        pub w: MatRef<'a, f64>,
        pub v: &'a [f64],
        pub out: &'a mut [f64],
    }

    impl faer::traits::pulp::NullaryFnOnce for MatVecT<'_> {
        type Output = ();

        #[inline(always)]
        fn call(self) {
            matvec_t(self.simd, self.w, self.v, self.out);
        }
    }

    #[inline(always)]
    pub(super) fn matvec_t(simd: V3, w: MatRef<'_, f64>, v: &[f64], out: &mut [f64]) {
        let mut j = 0;
        while j + COLUMNS <= out.len() {
            let cols: [&[f64]; COLUMNS] = std::array::from_fn(|c| column(w, j + c));
            out[j..j + COLUMNS].copy_from_slice(&dot_columns(simd, cols, v));
            j += COLUMNS;
        }
        while j < out.len() {
            out[j] = super::dot_tile::<1, 1>([column(w, j)], [v])[0][0];
            j += 1;
        }
    }

    /// Vectors per tile of [`matmat_t`]: with two columns, ten accumulators,
    /// two loads of `W` and one of a vector fit the sixteen registers.
    const TILE_VECTORS: usize = 5;

    /// [`super::matmat_t`]'s arguments, run inside `V3::vectorize`.
    pub(super) struct MatMatT<'a> {
        pub simd: V3,
        pub w: MatRef<'a, f64>,
        pub v: &'a [f64],
        pub out: &'a mut [f64],
    }

    impl faer::traits::pulp::NullaryFnOnce for MatMatT<'_> {
        type Output = ();

        #[inline(always)]
        fn call(self) {
            let Self { simd, w, v, out } = self;
            let (n, m) = (w.nrows(), w.ncols());
            let k_total = out.len() / m;
            let mut k0 = 0;
            while k0 < k_total {
                let (v, out) = (&v[k0 * n..], &mut out[k0 * m..]);
                match (k_total - k0).min(TILE_VECTORS) {
                    5 => tiles::<5>(simd, w, v, out),
                    4 => tiles::<4>(simd, w, v, out),
                    3 => tiles::<3>(simd, w, v, out),
                    2 => tiles::<2>(simd, w, v, out),
                    _ => tiles::<1>(simd, w, v, out),
                }
                k0 += TILE_VECTORS;
            }
        }
    }

    /// `out_k = W^T v_k` for the first `K` vectors of `v` (length `n`
    /// each) into the first `K` outputs of `out` (length `m` each), two
    /// columns of `W` at a time: each load of `W` serves `K` vectors, each
    /// load of a vector two columns.
    #[inline(always)]
    fn tiles<const K: usize>(simd: V3, w: MatRef<'_, f64>, v: &[f64], out: &mut [f64]) {
        let (n, m) = (w.nrows(), w.ncols());
        let vs: [&[f64]; K] = std::array::from_fn(|k| &v[k * n..(k + 1) * n]);
        let mut j = 0;
        while j + 2 <= m {
            let sums = dot_tile::<2, K>(simd, [column(w, j), column(w, j + 1)], vs);
            for (c, sums) in sums.iter().enumerate() {
                for (k, &sum) in sums.iter().enumerate() {
                    out[k * m + j + c] = sum;
                }
            }
            j += 2;
        }
        if j < m {
            let [sums] = dot_tile::<1, K>(simd, [column(w, j)], vs);
            for (k, &sum) in sums.iter().enumerate() {
                out[k * m + j] = sum;
            }
        }
    }

    /// `sum_i col_c[i] v_k[i]` for `C` columns and `K` vectors, each in the
    /// documented order (lane `r` of accumulator `(c, k)` is its `s_r`).
    #[inline(always)]
    fn dot_tile<const C: usize, const K: usize>(
        simd: V3,
        cols: [&[f64]; C],
        vs: [&[f64]; K],
    ) -> [[f64; K]; C] {
        let n = cols[0].len();
        let (q, blocks) = (n - n % LANES, n / LANES);
        let heads: [&[f64x4]; C] = std::array::from_fn(|c| vectors(cols[c], blocks));
        let v_heads: [&[f64x4]; K] = std::array::from_fn(|k| vectors(vs[k], blocks));
        let mut s = [[simd.splat_f64x4(0.0); K]; C];
        for b in 0..blocks {
            let w: [f64x4; C] = std::array::from_fn(|c| heads[c][b]);
            for k in 0..K {
                let x = v_heads[k][b];
                for c in 0..C {
                    s[c][k] = simd.add_f64x4(s[c][k], simd.mul_f64x4(w[c], x));
                }
            }
        }
        // By value: a closure borrowing the accumulators made LLVM store
        // them to the stack on every step of the loop above.
        let sums: [[[f64; LANES]; K]; C] = s.map(|row| row.map(cast));
        let mut out = [[0.0; K]; C];
        for (c, (out, sums)) in out.iter_mut().zip(sums).enumerate() {
            for (k, (out, sum)) in out.iter_mut().zip(sums).enumerate() {
                let mut total = reduce(sum);
                for i in q..n {
                    total += cols[c][i] * vs[k][i];
                }
                *out = total;
            }
        }
        out
    }

    #[inline(always)]
    fn dot_columns(simd: V3, cols: [&[f64]; COLUMNS], v: &[f64]) -> [f64; COLUMNS] {
        let n = v.len();
        let (q, blocks) = (n - n % LANES, n / LANES);
        let heads: [&[f64x4]; COLUMNS] = std::array::from_fn(|c| vectors(cols[c], blocks));
        let v_head = vectors(v, blocks);
        let mut s = [simd.splat_f64x4(0.0); COLUMNS];
        for (b, &x) in v_head.iter().enumerate() {
            for c in 0..COLUMNS {
                let w = heads[c][b];
                s[c] = simd.add_f64x4(s[c], simd.mul_f64x4(w, x));
            }
        }
        // By value, as in `dot_tile`.
        let sums: [[f64; LANES]; COLUMNS] = s.map(cast);
        let mut out = [0.0; COLUMNS];
        for (c, (out, sum)) in out.iter_mut().zip(sums).enumerate() {
            let mut total = reduce(sum);
            for i in q..n {
                total += cols[c][i] * v[i];
            }
            *out = total;
        }
        out
    }
}

/// `OUT = W^T V` for `K` vectors at once: `v` holds the `K` vectors of
/// length `W.nrows()` one after the other (column-major `N_rows×K`), `out`
/// the `K` results of length `W.ncols()`. Vector `k` of the result equals
/// [`matvec_t`]`(W, v_k)` bit for bit (every output is the same sequence of
/// operations, see the module docs); from 256 rows `W` is read once per
/// group of vectors (five with AVX2, up to eight in the portable code)
/// instead of once per vector.
pub fn matmat_t(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64]) {
    let (n, m) = (w.nrows(), w.ncols());
    debug_assert!(
        (n == 0 && m == 0)
            || (n > 0 && v.len().is_multiple_of(n) && out.len() == v.len() / n * m)
            || (m > 0 && out.len().is_multiple_of(m) && v.len() == out.len() / m * n)
    );
    // Below this size, with `W` in L2, one `matvec_t` per vector (its
    // explicit-SIMD path) is as fast as the shared pass or faster: with AVX2
    // tiles, ten vectors, measured 0.79× at N = 30, 1.02× at 100, 1.52× at
    // 256, 1.96× at 1024 (2026-12-07). The bits are the same.
    if n < MATMAT_T_MIN_ROWS && n > 0 && m > 0 {
        for (v, out) in v.chunks_exact(n).zip(out.chunks_exact_mut(m)) {
            matvec_t(w, v, out);
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if m > 0
        && let Some(simd) = faer::traits::pulp::x86::V3::try_new()
    {
        simd.vectorize(v3::MatMatT { simd, w, v, out });
        return;
    }
    Arch::new().dispatch(MatMatT { w, v, out });
}

/// Smallest `N_rows` at which [`matmat_t`] shares its passes over `W`.
const MATMAT_T_MIN_ROWS: usize = 256;

struct MatVecT<'a> {
    w: MatRef<'a, f64>,
    v: &'a [f64],
    out: &'a mut [f64],
}

impl WithSimd for MatVecT<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Self { w, v, out } = self;
        let mut j = 0;
        while j + PASS_COLUMNS <= out.len() {
            let cols = std::array::from_fn(|c| column(w, j + c));
            let sums = dot_tile::<PASS_COLUMNS, 1>(cols, [v]);
            out[j..j + PASS_COLUMNS].copy_from_slice(&sums.map(|[sum]| sum));
            j += PASS_COLUMNS;
        }
        while j < out.len() {
            out[j] = dot_tile::<1, 1>([column(w, j)], [v])[0][0];
            j += 1;
        }
    }
}

/// Column `j` of `W` as a slice.
#[inline(always)]
fn column<'a>(w: MatRef<'a, f64>, j: usize) -> &'a [f64] {
    w.col(j)
        .try_as_col_major()
        .expect("contiguous column")
        .as_slice()
}

/// `sum_i col_c[i] v_k[i]` for `C` columns and `K` vectors, each in the
/// documented order (the portable code's one kernel: `C` columns of one
/// vector in [`matvec_t`], one column of `K` vectors in [`matmat_t`]).
#[inline(always)]
fn dot_tile<const C: usize, const K: usize>(cols: [&[f64]; C], vs: [&[f64]; K]) -> [[f64; K]; C] {
    let n = cols.first().map_or(0, |c| c.len());
    let (q, blocks) = (n - n % LANES, n / LANES);
    let heads: [&[[f64; LANES]]; C] = std::array::from_fn(|c| lanes(cols[c], blocks));
    let v_heads: [&[[f64; LANES]]; K] = std::array::from_fn(|k| lanes(vs[k], blocks));
    let mut s = [[[0.0f64; LANES]; K]; C];
    for b in 0..blocks {
        for (s, head) in s.iter_mut().zip(&heads) {
            let w = head[b];
            for (s, v_head) in s.iter_mut().zip(&v_heads) {
                let x = v_head[b];
                for r in 0..LANES {
                    s[r] += w[r] * x[r];
                }
            }
        }
    }
    std::array::from_fn(|c| {
        std::array::from_fn(|k| {
            let mut total = reduce(s[c][k]);
            for i in q..n {
                total += cols[c][i] * vs[k][i];
            }
            total
        })
    })
}

/// The first `blocks` whole blocks of four of `s`: indexed by block, with
/// no index arithmetic (nothing for the dev profile's overflow checks) and
/// a length the compiler knows, so the loops' bounds checks fold away.
#[inline(always)]
fn lanes(s: &[f64], blocks: usize) -> &[[f64; LANES]] {
    &s.as_chunks::<LANES>().0[..blocks]
}

/// `(s_0 + s_1) + (s_2 + s_3)`.
#[inline(always)]
fn reduce(s: [f64; LANES]) -> f64 {
    (s[0] + s[1]) + (s[2] + s[3])
}

struct MatMatT<'a> {
    w: MatRef<'a, f64>,
    v: &'a [f64],
    out: &'a mut [f64],
}

impl WithSimd for MatMatT<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self { w, v, out } = self;
        let (n, m) = (w.nrows(), w.ncols());
        if m == 0 {
            return;
        }
        let k_total = out.len() / m;
        let mut k0 = 0;
        while k0 < k_total {
            let width = (k_total - k0).min(PASS_VECTORS);
            let v = &v[k0 * n..(k0 + width) * n];
            let out = &mut out[k0 * m..(k0 + width) * m];
            match width {
                8 => group::<8>(w, v, out),
                7 => group::<7>(w, v, out),
                6 => group::<6>(w, v, out),
                5 => group::<5>(w, v, out),
                4 => group::<4>(w, v, out),
                3 => group::<3>(w, v, out),
                2 => group::<2>(w, v, out),
                _ => MatVecT { w, v, out }.with_simd(simd),
            }
            k0 += width;
        }
    }
}

/// `out_k = W^T v_k` for `K` vectors (`v`: `K` vectors of length `n`,
/// `out`: `K` of length `m`), one column of `W` at a time for all of them.
#[inline(always)]
fn group<const K: usize>(w: MatRef<'_, f64>, v: &[f64], out: &mut [f64]) {
    let (n, m) = (w.nrows(), w.ncols());
    let vs: [&[f64]; K] = std::array::from_fn(|k| &v[k * n..(k + 1) * n]);
    for j in 0..m {
        let [sums] = dot_tile::<1, K>([column(w, j)], vs);
        for (k, sum) in sums.into_iter().enumerate() {
            out[k * m + j] = sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    /// The portable code (all of the work on CPUs without AVX2; on AVX2
    /// machines `matvec_t` runs it only for its last columns) gives
    /// `matvec_t`'s bits, which `tests/gemv_transposed.rs` holds to the
    /// documented order: row tails, column tails and every group width.
    #[test]
    fn portable_code_equals_matvec_t() {
        for (n, m) in [(1, 1), (7, 5), (30, 30), (259, 9), (256, 7)] {
            let w = Mat::from_fn(n, m, |i, j| ((i * 31 + j * 17) % 23) as f64 / 7.0 - 1.5);
            for k in [1, 2, 5, 8, 9, 10] {
                let v: Vec<f64> = (0..n * k)
                    .map(|i| ((i * 13) % 19) as f64 / 5.0 - 1.7)
                    .collect();
                let mut want = vec![0.0; m * k];
                for (v, out) in v.chunks_exact(n).zip(want.chunks_exact_mut(m)) {
                    matvec_t(w.as_ref(), v, out);
                }
                let mut portable = vec![f64::NAN; m * k];
                Arch::new().dispatch(MatMatT {
                    w: w.as_ref(),
                    v: &v,
                    out: &mut portable,
                });
                let bits = |x: &[f64]| x.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&portable), bits(&want), "matmat_t, {n}x{m}, K = {k}");
                let mut single = vec![f64::NAN; m];
                Arch::new().dispatch(MatVecT {
                    w: w.as_ref(),
                    v: &v[..n],
                    out: &mut single,
                });
                assert_eq!(bits(&single), bits(&want[..m]), "matvec_t, {n}x{m}");
            }
        }
    }
}
