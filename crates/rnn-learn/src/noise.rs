//! Noise for the stochastic rules: signs (UORO, KF-RTRL; docs/spec/MODEL.md §12–§13)
//! and standard normals (REINFORCE, §14).
//!
//! The rules draw their signs from a [`SignSource`]. In training it is the
//! rule's own seeded generator (a [`SeededRng`] kept in the rule's state and
//! saved in checkpoints); tests inject a source that replays a given sign
//! sequence, so that every sequence can be enumerated and the exact
//! expectation computed.

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use rnn_core::{SeededRng, seeded_stream};

/// A source of independent, equiprobable signs `±1`.
pub trait SignSource {
    /// Fills `out` with the next `out.len()` signs (each `1.0` or `-1.0`).
    fn fill_signs(&mut self, out: &mut [f64]);
}

impl SignSource for SeededRng {
    /// One `u64` per 64 signs (bit `i` set: `+1`), in order.
    fn fill_signs(&mut self, out: &mut [f64]) {
        for chunk in out.chunks_mut(64) {
            let bits: u64 = self.random();
            for (i, sign) in chunk.iter_mut().enumerate() {
                *sign = if (bits >> i) & 1 == 1 { 1.0 } else { -1.0 };
            }
        }
    }
}

/// A source of independent standard values (mean 0, variance 1).
pub trait NormalSource {
    /// Fills `out` with the next `out.len()` values.
    fn fill_normal(&mut self, out: &mut [f64]);
}

impl NormalSource for SeededRng {
    /// Standard normal draws (`rand_distr::StandardNormal`), in order.
    fn fill_normal(&mut self, out: &mut [f64]) {
        for z in out {
            *z = StandardNormal.sample(self);
        }
    }
}

/// The stream of [`seeded_stream`] a stochastic rule draws its signs from,
/// so that a rule seed equal to a training seed gives unrelated numbers.
pub const NOISE_STREAM: u64 = 0x7369_676e; // "sign"

/// The generator of a stochastic rule with seed `seed`.
pub fn noise_generator(seed: u64) -> SeededRng {
    seeded_stream(seed, NOISE_STREAM)
}

/// Euclidean norm of a slice.
pub(crate) fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `sqrt(num / den)`, or 1 when either is 0 (the convention of MODEL.md §12–§13).
pub(crate) fn balance(num: f64, den: f64) -> f64 {
    if num == 0.0 || den == 0.0 {
        1.0
    } else {
        (num / den).sqrt()
    }
}
