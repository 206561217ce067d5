//! `gemv_transposed::{matvec_t, matmat_t}` against the mathematics:
//! bit for bit against the documented order written as plain scalar code
//! (the reference path), within the rounding bound of the exact sum
//! (computed in double-double), and `matmat_t` against `matvec_t` bit for
//! bit. Planted perturbations show each comparison can fail.

use faer::{Mat, MatRef};
use rand::RngExt;
use rnn_core::gemv_transposed::{matmat_t, matvec_t};
use rnn_core::{SeededRng, seeded};

/// Row counts: empty, below, at and around one 4-lane block, the 8-column
/// pass, and the sizes of the benches.
const ROWS: [usize; 11] = [0, 1, 2, 3, 4, 5, 7, 31, 64, 100, 129];
/// Column counts: below, at and around the 8-column pass.
const COLS: [usize; 8] = [0, 1, 3, 7, 8, 9, 17, 64];

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn random_mat(rows: usize, cols: usize, rng: &mut SeededRng) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

fn random_vec(len: usize, rng: &mut SeededRng) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// The module docs' order in plain scalar code: four partial sums over
/// `i ≡ r (mod 4)` below `q = 4 floor(n/4)`, `(s0 + s1) + (s2 + s3)`, then
/// the tail left to right.
fn reference_dot(col: &[f64], v: &[f64]) -> f64 {
    let n = v.len();
    let q = n / 4 * 4;
    let mut s = [0.0f64; 4];
    let mut i = 0;
    while i < q {
        let p = col[i] * v[i];
        s[i % 4] += p;
        i += 1;
    }
    let mut total = (s[0] + s[1]) + (s[2] + s[3]);
    for i in q..n {
        let p = col[i] * v[i];
        total += p;
    }
    total
}

fn reference(w: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    (0..w.ncols())
        .map(|j| {
            let col: Vec<f64> = (0..w.nrows()).map(|i| w[(i, j)]).collect();
            reference_dot(&col, v)
        })
        .collect()
}

/// `a + b` as a double-double `(s, e)`, `s + e = a + b` exactly (Knuth's TwoSum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// Veltkamp's split of `a` into two halves of 26 bits.
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `a * b` as `(p, e)`, `p + e = a * b` exactly (Dekker's TwoProduct, no FMA).
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, al * bl - (((p - ah * bh) - al * bh) - ah * bl))
}

/// `sum_i col_i v_i` in twice the working precision (Ogita–Rump–Oishi Dot2)
/// and `sum_i |col_i v_i|`.
fn accurate_dot(col: &[f64], v: &[f64]) -> (f64, f64) {
    let (mut sum, mut err, mut abs) = (0.0, 0.0, 0.0);
    for (&a, &b) in col.iter().zip(v) {
        let (p, pe) = two_product(a, b);
        let (s, se) = two_sum(sum, p);
        sum = s;
        err += pe + se;
        abs += (a * b).abs();
    }
    (sum + err, abs)
}

/// Checks `out` against the documented order bit for bit and against the
/// accurate sum within the bound; the first mismatch, if any.
fn check(w: MatRef<'_, f64>, v: &[f64], out: &[f64]) -> Result<(), String> {
    let want = reference(w, v);
    if bits(out) != bits(&want) {
        return Err(format!("not the documented order: {out:?} vs {want:?}"));
    }
    check_bound(w, v, out)
}

/// `|out_j - sum_i W_ij v_i| <= n eps sum_i |W_ij v_i|` for every `j`.
fn check_bound(w: MatRef<'_, f64>, v: &[f64], out: &[f64]) -> Result<(), String> {
    let n = w.nrows();
    for (j, &got) in out.iter().enumerate() {
        let col: Vec<f64> = (0..n).map(|i| w[(i, j)]).collect();
        let (exact, abs) = accurate_dot(&col, v);
        let bound = n as f64 * f64::EPSILON * abs;
        if (got - exact).abs() > bound {
            return Err(format!(
                "column {j}: |{got} - {exact}| exceeds the bound {bound}"
            ));
        }
    }
    Ok(())
}

/// `matvec_t` equals the reference order bit for bit and the exact sum
/// within the bound, on every shape, and on a view with a column stride
/// larger than its row count.
#[test]
fn matvec_t_is_the_documented_sum() {
    let mut rng = seeded(3);
    for &n in &ROWS {
        for &m in &COLS {
            let w = random_mat(n, m, &mut rng);
            let v = random_vec(n, &mut rng);
            let mut out = vec![f64::NAN; m];
            matvec_t(w.as_ref(), &v, &mut out);
            check(w.as_ref(), &v, &out).unwrap_or_else(|e| panic!("{n}x{m}: {e}"));
        }
    }
    let big = random_mat(40, 30, &mut rng);
    let view = big.as_ref().submatrix(3, 2, 33, 19);
    let v = random_vec(33, &mut rng);
    let mut out = vec![0.0; 19];
    matvec_t(view, &v, &mut out);
    check(view, &v, &out).unwrap();
}

/// Values of very different magnitudes, where the order of the additions
/// decides the rounding: still the documented order and within the bound.
#[test]
fn matvec_t_follows_the_order_under_cancellation() {
    let mut rng = seeded(5);
    for n in [5, 13, 100] {
        let w = Mat::from_fn(n, 9, |i, _| {
            let scale = [1e16, 1.0, -1e16, 1e-3][i % 4];
            scale * rng.random_range(0.5..1.5)
        });
        let v = random_vec(n, &mut rng);
        let mut out = vec![0.0; 9];
        matvec_t(w.as_ref(), &v, &mut out);
        check(w.as_ref(), &v, &out).unwrap_or_else(|e| panic!("n = {n}: {e}"));
    }
}

/// Every vector of `matmat_t` equals `matvec_t` of that vector bit for bit,
/// for `K = 1..=17` (every partial group of vectors), on square and
/// non-square `W`. Below 256 rows `matmat_t` runs `matvec_t` per vector; from
/// 256 rows its shared passes (on an AVX2 machine, tiles of two columns by
/// five vectors), here with odd column counts (a last single column) and
/// every row tail past the 4-lane blocks.
#[test]
fn matmat_t_equals_matvec_t() {
    let mut rng = seeded(7);
    let shapes = ROWS
        .iter()
        .flat_map(|&n| [(n, n), (n, 3), (n, 9)])
        .chain([(0, 5), (100, 31), (31, 100)])
        // From 256 rows matmat_t shares its passes over W.
        .chain([(256, 9), (257, 4), (258, 7), (259, 6), (301, 13)]);
    for (n, m) in shapes {
        let w = random_mat(n, m, &mut rng);
        for k in 1..=17 {
            let vs = random_vec(n * k, &mut rng);
            let mut out = vec![f64::NAN; m * k];
            matmat_t(w.as_ref(), &vs, &mut out);
            for c in 0..k {
                let mut want = vec![0.0; m];
                matvec_t(w.as_ref(), &vs[c * n..(c + 1) * n], &mut want);
                assert_eq!(
                    bits(&out[c * m..(c + 1) * m]),
                    bits(&want),
                    "{n}x{m}, K = {k}, vector {c}"
                );
            }
        }
    }
}

/// The checks can fail: one ulp off in one output, a naive left-to-right
/// sum (another order), and an error beyond the bound are all rejected.
#[test]
fn planted_perturbations_are_caught() {
    let mut rng = seeded(9);
    let (n, m) = (100, 12);
    let w = random_mat(n, m, &mut rng);
    let v = random_vec(n, &mut rng);
    let mut out = vec![0.0; m];
    matvec_t(w.as_ref(), &v, &mut out);
    check(w.as_ref(), &v, &out).unwrap();

    let mut one_ulp = out.clone();
    one_ulp[5] = f64::from_bits(one_ulp[5].to_bits() + 1);
    assert!(check(w.as_ref(), &v, &one_ulp).is_err());

    let naive: Vec<f64> = (0..m)
        .map(|j| (0..n).fold(0.0, |acc, i| acc + w[(i, j)] * v[i]))
        .collect();
    assert_ne!(bits(&naive), bits(&out), "the order is visible in the bits");
    assert!(check(w.as_ref(), &v, &naive).is_err());

    // The bound rejects a value off by twice the bound.
    let col: Vec<f64> = (0..n).map(|i| w[(i, 0)]).collect();
    let (_, abs) = accurate_dot(&col, &v);
    let mut far = out.clone();
    far[0] += 2.0 * n as f64 * f64::EPSILON * abs;
    assert!(check_bound(w.as_ref(), &v, &out).is_ok());
    assert!(check_bound(w.as_ref(), &v, &far).is_err());

    // A perturbed matmat_t vector differs from matvec_t.
    let vs = random_vec(n * 3, &mut rng);
    let mut batch = vec![0.0; m * 3];
    matmat_t(w.as_ref(), &vs, &mut batch);
    let mut single = vec![0.0; m];
    matvec_t(w.as_ref(), &vs[n..2 * n], &mut single);
    assert_eq!(bits(&batch[m..2 * m]), bits(&single));
    batch[m + 2] = f64::from_bits(batch[m + 2].to_bits() ^ 1);
    assert_ne!(bits(&batch[m..2 * m]), bits(&single));
}
