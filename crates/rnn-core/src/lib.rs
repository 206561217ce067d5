//! # rnn-core
//!
//! The rate RNN of Murray, "Local online learning in recurrent networks with
//! random feedback" (eLife 2019), as specified in the project's `docs/spec/MODEL.md`:
//! network parameters with seeded initialisation ([`Network`]), the discrete
//! dynamics ([`forward_step`], [`Network::run_trial`]), the [`Trial`] type that
//! tasks produce and learners consume, checksummed save/load ([`io`]), and
//! numpy interchange: `.npy` export ([`export`]) and reading ([`npy`]).
//!
//! ```
//! use rnn_core::faer::Mat;
//! use rnn_core::{seeded, InitialState, Network, NetworkConfig, Trial};
//!
//! // The periodic task's network: N = 30, no input, one output, tau = 10.
//! let config = NetworkConfig::new(30, 0, 1);
//! let net = Network::random(&config, &mut seeded(7))?;
//!
//! // A trial of T = 200 steps: no inputs, a sine target, h(0) = 0.1.
//! let len = 200;
//! let inputs = Mat::<f64>::zeros(len, 0);
//! let targets = Mat::from_fn(len, 1, |s, _| (2.0 * std::f64::consts::PI * (s + 1) as f64 / len as f64).sin());
//! let trial = Trial::new(inputs.as_ref(), targets.as_ref(), None, InitialState::Constant(0.1))?;
//!
//! let trajectory = net.run_trial(&trial, None)?;
//! assert_eq!(trajectory.len(), len);
//! assert!(trajectory.loss.is_finite());
//! # Ok::<(), rnn_core::CoreError>(())
//! ```
//!
//! ## faer in the public API
//!
//! Matrices in this crate's public signatures are [faer](https://docs.rs/faer)
//! types, always with `f64` entries:
//!
//! - [`faer::Mat<f64>`](faer::Mat), owned and column-major: the fields of
//!   [`Weights`] and [`Trajectory`], [`Trial::from_columns`]'s arguments,
//!   [`io::MatrixData::to_mat`];
//! - [`faer::MatRef<'_, f64>`](faer::MatRef), a borrowed view: [`Trial::new`]'s
//!   arguments, the getters of [`Network`], [`Trial`] and [`Trajectory`],
//!   [`check_matrix`], [`gemv::matvec`], [`gemv_transposed::matvec_t`], [`export::write_npy`],
//!   [`io::MatrixData::from_mat`].
//!
//! The other crates of the workspace (rnn-learn, rnn-tasks, rnn-loop) use the
//! same faer in their signatures (rnn-learn also `faer::MatMut<'_, f64>`). So that callers use the very
//! faer version this crate was built with (two semver-incompatible faers give
//! types that do not match), it is re-exported as [`rnn_core::faer`](faer):
//! write `use rnn_core::faer::Mat;` instead of depending on faer yourself.
//! faer is therefore a public dependency: moving to a semver-incompatible faer
//! is a breaking change of this crate.

pub use faer;

pub mod config;
pub mod dynamics;
pub mod error;
pub mod export;
pub mod gemv;
pub mod gemv_transposed;
pub mod io;
pub mod network;
pub mod npy;
pub mod rng;
pub mod tanh;
pub mod trial;

pub use config::{MAX_WEIGHTS, NetworkConfig, ReadoutInit};
pub use dynamics::{State, Trajectory, forward_step, masked_error};
pub use error::{CoreError, Result};
pub use network::{Network, Weights, check_matrix};
pub use rng::{SeededRng, seeded, seeded_stream};
pub use trial::{InitialState, Trial, TrialCycle, TrialSource};

/// `tanh'(u) = 1 - tanh(u)^2`, the derivative of the nonlinearity `phi = tanh`
/// (the project's [`tanh::tanh`], as in the dynamics).
#[inline]
pub fn tanh_derivative(u: f64) -> f64 {
    let t = tanh::tanh(u);
    1.0 - t * t
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
