//! Seeded randomness: the one generator type of the project.
//!
//! Every random draw in the workspace comes from a [`SeededRng`] passed in
//! explicitly; the same seed gives the same numbers on every machine and
//! thread count. There is no global or thread-local generator.

use rand::SeedableRng;

/// The project's random generator: ChaCha8, portable and reproducible.
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// A generator seeded from a `u64`.
pub fn seeded(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}

/// A generator for the `stream`-th independent sub-stream of `seed`.
///
/// Use it to give each part of an experiment (network draw, task draw, ...)
/// its own stream, so changing how many numbers one part draws never shifts
/// another's.
pub fn seeded_stream(seed: u64, stream: u64) -> SeededRng {
    let mut rng = SeededRng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
