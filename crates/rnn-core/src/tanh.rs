//! `phi = tanh`, the project's own implementation: the same bits on every
//! CPU, and fast in the forward pass's loop over units.
//!
//! The platform's libm `tanh` differs between systems in its last bits and
//! is an opaque scalar call. This one uses only IEEE-754 additions,
//! multiplications and divisions in a fixed order, with no fused
//! multiply-add (Rust never contracts) and no libm call, so any x86-64 or
//! aarch64 machine gives the same result; it has no branches that depend on
//! the data's path beyond selects, so LLVM vectorises the loop over units
//! (`activate` compiles it for the CPU's widest vectors through faer's
//! `pulp` dispatch, like `gemv`).
//!
//! With `a = |x|` (the sign is restored at the end):
//!
//! - `a < 0.625`: `tanh x = x + x s P(s)/Q(s)` with `s = x²` and Cephes'
//!   rational minimax approximation (degree 2/3 in `s`);
//! - `a >= 0.625`: `tanh a = 1 - 2 / (exp(2a) + 1)`, with `a` clamped to 22
//!   (`tanh 22` rounds to 1) and `exp` by Cephes' method: `2a = n ln 2 + r`
//!   (`n` rounded to nearest by adding and subtracting `1.5 * 2^52`, `ln 2`
//!   in two parts so that `r` is exact), `exp r = 1 + 2 r P(r²)/(Q(r²) - r P(r²))`,
//!   and `2^n` assembled from its bits.
//!
//! Accuracy: at most 2 ulp from the exact value (tests/tanh.rs measures it
//! against a double-double reference over 10⁷ points and the edge cases).
//! `tanh(±0) = ±0`, subnormal and tiny `x` give `x`, `tanh(±inf) = ±1`,
//! NaN gives NaN.

// Cephes' coefficients are kept with their published digits, so that they can
// be checked against the source; each rounds to the nearest f64.
#![allow(clippy::excessive_precision)]

use faer::traits::pulp::{Arch, Simd, WithSimd};

/// Below this `|x|` the rational approximation is used, above it `exp`.
const SMALL: f64 = 0.625;
/// `|x|` is clamped here before `exp(2|x|)`: `tanh(22) = 1 - 1.6e-19` rounds to 1.
const CLAMP: f64 = 22.0;
/// `1.5 * 2^52`: adding and subtracting it rounds to the nearest integer.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// The bits of [`ROUND`]; `to_bits(v + ROUND) - ROUND_BITS = round(v)` as an integer.
const ROUND_BITS: u64 = 0x4338_0000_0000_0000;
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// `ln 2 = LN2_HI + LN2_LO`; `LN2_HI` has few enough bits that `n * LN2_HI` is exact.
const LN2_HI: f64 = 6.931_457_519_531_25e-1;
const LN2_LO: f64 = 1.428_606_820_309_417_232_12e-6;

// Cephes tanh.c: tanh x = x + x s P(s) / Q(s), s = x², |x| < 0.625 (Q monic).
const TP: [f64; 3] = [
    -9.643_991_794_250_522_386_28e-1,
    -9.928_772_310_019_185_865_64e1,
    -1.614_687_684_417_084_479_52e3,
];
const TQ: [f64; 3] = [
    1.128_116_784_916_329_314_02e2,
    2.235_488_390_601_004_485_83e3,
    4.844_063_053_251_254_860_48e3,
];

// Cephes exp.c: exp r = 1 + 2 r P(r²) / (Q(r²) - r P(r²)), |r| <= ln(2)/2.
const EP: [f64; 3] = [
    1.261_771_930_748_105_908_78e-4,
    3.029_944_077_074_419_613_00e-2,
    9.999_999_999_999_999_999_10e-1,
];
const EQ: [f64; 4] = [
    3.001_985_051_386_644_550_42e-6,
    2.524_483_403_496_841_041_92e-3,
    2.272_655_482_081_550_287_66e-1,
    2.000_000_000_000_000_000_09e0,
];

/// `exp(y)` for `y` in `[1.25, 44]` (the range [`tanh`] needs).
#[inline(always)]
fn exp_mid(y: f64) -> f64 {
    let shifted = y * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = (y - n * LN2_HI) - n * LN2_LO;
    let rr = r * r;
    let p = r * ((EP[0] * rr + EP[1]) * rr + EP[2]);
    let q = ((EQ[0] * rr + EQ[1]) * rr + EQ[2]) * rr + EQ[3];
    let e = 1.0 + 2.0 * (p / (q - p));
    // 2^n from its bits: exponent field n + 1023, n in [1, 64] here.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND_BITS);
    let scale = f64::from_bits(n_bits.wrapping_add(1023) << 52);
    e * scale
}

/// `tanh(x)`, the project's deterministic implementation (module docs).
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    let a = x.abs();
    // Small |x|: the rational form.
    let s = a * a;
    let ratio = ((TP[0] * s + TP[1]) * s + TP[2]) / (((s + TQ[0]) * s + TQ[1]) * s + TQ[2]);
    let small = a + a * (s * ratio);
    // Large |x|: 1 - 2/(exp(2a) + 1). `a > CLAMP` is false for NaN, which stays NaN.
    let clamped = if a > CLAMP { CLAMP } else { a };
    let large = 1.0 - 2.0 / (exp_mid(2.0 * clamped) + 1.0);
    // Computed on |x|, signed at the end: odd symmetry is exact, tanh(-0) = -0.
    (if a < SMALL { small } else { large }).copysign(x)
}

/// `h_i = (1 - alpha) h_prev_i + alpha tanh(u_i)` for every unit, and, when
/// `slope` is given, `slope_i = 1 - tanh(u_i)^2` from the same `tanh`.
pub(crate) fn activate(
    alpha: f64,
    h_prev: &[f64],
    u: &[f64],
    h: &mut [f64],
    slope: Option<&mut [f64]>,
) {
    Arch::new().dispatch(Activate {
        alpha,
        h_prev,
        u,
        h,
        slope,
    });
}

struct Activate<'a> {
    alpha: f64,
    h_prev: &'a [f64],
    u: &'a [f64],
    h: &'a mut [f64],
    slope: Option<&'a mut [f64]>,
}

impl WithSimd for Activate<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Self {
            alpha,
            h_prev,
            u,
            h,
            slope,
        } = self;
        let keep = 1.0 - alpha;
        match slope {
            None => {
                for ((h_i, &h_prev_i), &u_i) in h.iter_mut().zip(h_prev).zip(u) {
                    *h_i = keep * h_prev_i + alpha * tanh(u_i);
                }
            }
            Some(slope) => {
                for (((h_i, s_i), &h_prev_i), &u_i) in
                    h.iter_mut().zip(slope.iter_mut()).zip(h_prev).zip(u)
                {
                    let phi = tanh(u_i);
                    *h_i = keep * h_prev_i + alpha * phi;
                    *s_i = 1.0 - phi * phi;
                }
            }
        }
    }
}
