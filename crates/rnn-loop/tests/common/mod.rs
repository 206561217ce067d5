//! Shared helpers for the integration tests of `rnn-loop`.

#![allow(dead_code)]

use faer::Mat;
use rand::RngExt;
use rnn_core::{Network, NetworkConfig, Weights, seeded};
use rnn_loop::LoopConfig;
use rnn_tasks::SyllableShape;

/// A network whose end-of-syllable state depends only on the current
/// syllable: `W = 0` and strong input weights `W_in ~ U[-3, 3]`, so during a
/// syllable `h` relaxes to `tanh(W_in[:, k])` (within `0.9^D`), a saturated
/// sign pattern that is nearly orthogonal across syllables.
/// `W_out ~ U[-r, r]`.
pub fn constructed_network(n: usize, readout_half_width: f64, seed: u64) -> Network {
    let mut rng = seeded(seed);
    let config = NetworkConfig::new(n, 4, 2);
    let input = Mat::from_fn(n, 4, |_, _| 3.0 * (2.0 * rng.random::<f64>() - 1.0));
    let readout = Mat::from_fn(2, n, |_, _| {
        readout_half_width * (2.0 * rng.random::<f64>() - 1.0)
    });
    Network::from_weights(
        &config,
        Weights {
            recurrent: Mat::zeros(n, n),
            input,
            readout,
            feedback: Mat::zeros(n, 2),
        },
    )
    .unwrap()
}

/// A random network of the paper's initialisation with `K = 4` inputs and 2 outputs.
pub fn random_network(n: usize, seed: u64) -> Network {
    Network::random(&NetworkConfig::new(n, 4, 2), &mut seeded(seed)).unwrap()
}

/// Short syllables (`D = 20`, `M = 10`) for statistics over many transitions.
pub fn short_shape() -> SyllableShape {
    SyllableShape {
        syllable_len: 20,
        reach_len: 10,
        ..SyllableShape::default()
    }
}

/// The default loop with short syllables.
pub fn short_config(seed: u64) -> LoopConfig {
    LoopConfig {
        shape: short_shape(),
        seed,
        ..LoopConfig::default()
    }
}

/// Whether `p` is inside `[-b, b]^2` up to rounding (`BOX_TOLERANCE`).
pub fn in_box(p: [f64; 2], b: f64) -> bool {
    let limit = b + rnn_tasks::BOX_TOLERANCE;
    p[0].abs() <= limit && p[1].abs() <= limit
}
