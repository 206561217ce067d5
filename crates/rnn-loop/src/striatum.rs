//! The striatal readout: its activity, the gated winner-take-all choice and
//! the reward-modulated Hebbian update (docs/spec/TASKS.md §5).
//!
//! ```text
//! z      = W_s h(t_end)                                  (K values)
//! next   = uniform over C          with probability p_explore
//!        = argmax_{k in C} z_k     otherwise
//! dW_s   = eta_s R onehot(next) h(t_end)^T
//! ```
//!
//! where `C` is the candidate set (the syllables that keep the ideal cursor
//! in the box). These are free functions on plain data so they can be tested
//! and reused on their own; [`Sequencer`](crate::Sequencer) calls them.

use faer::{Mat, MatRef};
use rand::RngExt;
use rand_distr::{Distribution, Normal};
use rnn_core::SeededRng;
use serde::{Deserialize, Serialize};

/// The gate's decision at one syllable end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The winning syllable.
    pub syllable: usize,
    /// Whether the exploration draw decided it (a uniform pick among the
    /// candidates, which may coincide with the argmax).
    pub exploratory: bool,
}

/// Draws `W_s` (`K×N`), every entry i.i.d. `N(0, std²)`, column by column
/// (the draw order of `rnn-core`). A negative or non-finite `std` gives
/// zeros (callers validate it first).
pub fn random_striatum(
    n_syllables: usize,
    n_units: usize,
    std: f64,
    rng: &mut SeededRng,
) -> Mat<f64> {
    let mut w = Mat::zeros(n_syllables, n_units);
    if let Ok(normal) = Normal::new(0.0, std) {
        for col in 0..n_units {
            for row in 0..n_syllables {
                w[(row, col)] = normal.sample(rng);
            }
        }
    }
    w
}

/// The striatal activity `z = W_s h`, written into `z` (length `K`).
///
/// `h` must have length `N` and `z` length `K`; extra entries are ignored
/// (zipped), so a mismatch cannot panic.
pub fn striatal_activity(w_s: MatRef<'_, f64>, h: &[f64], z: &mut [f64]) {
    for (k, z_k) in z.iter_mut().enumerate().take(w_s.nrows()) {
        *z_k = h
            .iter()
            .enumerate()
            .take(w_s.ncols())
            .map(|(j, &h_j)| w_s[(k, j)] * h_j)
            .sum();
    }
}

/// The greedy winner: the candidate with the largest `z` (the first in
/// `candidates` on a tie). `None` if there is no candidate; candidates
/// without a `z` entry (`k >= z.len()`) and NaN activities never win.
pub fn greedy(z: &[f64], candidates: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for &k in candidates {
        let Some(&z_k) = z.get(k) else { continue };
        if z_k.is_nan() {
            continue;
        }
        if best.is_none_or(|(_, b)| z_k > b) {
            best = Some((k, z_k));
        }
    }
    best.map(|(k, _)| k)
}

/// The gate: winner-take-all with exploration among `candidates`.
///
/// Draw order (fixed, so a seed fixes every choice): one `u ~ U[0, 1)`; if
/// `u < p_explore` the choice is exploratory and a second draw picks a
/// candidate uniformly; otherwise the winner is [`greedy`] and nothing more
/// is drawn. So `p_explore = 0` never explores and `p_explore = 1` always does.
/// `None` if there is no candidate (nothing is drawn then).
pub fn gate(
    z: &[f64],
    candidates: &[usize],
    p_explore: f64,
    rng: &mut SeededRng,
) -> Option<Choice> {
    if candidates.is_empty() {
        return None;
    }
    let u: f64 = rng.random();
    if u < p_explore {
        let syllable = candidates[rng.random_range(0..candidates.len())];
        return Some(Choice {
            syllable,
            exploratory: true,
        });
    }
    greedy(z, candidates)
        .or(candidates.first().copied())
        .map(|syllable| Choice {
            syllable,
            exploratory: false,
        })
}

/// The reward-modulated Hebbian update of the winner's row,
/// `W_s[winner, :] += eta_s R h`, i.e. `dW_s = eta_s R onehot(winner) h^T`.
///
/// With `R = 0` nothing is touched (not even a `+ 0.0`), so `W_s` stays
/// bit-for-bit the same. An out-of-range `winner` changes nothing.
pub fn hebbian_update(w_s: &mut Mat<f64>, winner: usize, reward: f64, h: &[f64], eta_s: f64) {
    if reward == 0.0 || winner >= w_s.nrows() {
        return;
    }
    let scale = eta_s * reward;
    for (j, &h_j) in h.iter().enumerate().take(w_s.ncols()) {
        w_s[(winner, j)] += scale * h_j;
    }
}
