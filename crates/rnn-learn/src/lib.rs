//! # rnn-learn
//!
//! Learning rules for the rate RNN of `rnn-core`, exactly as the project's
//! `docs/spec/MODEL.md` states them: [`Bptt`] (§4), [`Rtrl`] (§3), [`Rflo`] (§5) and the
//! ablations [`LocalSymmetric`] and [`NonlocalRandom`] (§6); beyond the paper
//! (§10–§15) [`Snap1`], [`Uoro`], [`KfRtrl`], [`Reinforce`] and [`Force`], and
//! e-prop as the name of RFLO / `LocalSymmetric` ([`EpropFeedback`]); all
//! behind one [`LearningRule`] trait; update schedules ([`Schedule`], §7);
//! Dale's law and frozen weight groups ([`Constraints`]); a training loop
//! ([`train()`], [`Trainer`]) with diagnostics (§9, and [`compare_rules`])
//! that stops on divergence and returns the history so far ([`TrainError`]).
//! The [`registry`] describes any rule as data ([`RuleSpec`], serde) and
//! builds it as one type ([`AnyRule`]).
//!
//! | rule | projection `F` | credit assignment | work per step |
//! |---|---|---|---|
//! | [`Bptt`] | `W_out^T` | exact, acausal | O(N²) |
//! | [`Rtrl`] | `W_out^T` | exact, online | O(N⁴) |
//! | [`Rflo`] (= e-prop, random feedback) | `B` | local traces, online | O(N²) |
//! | [`LocalSymmetric`] (= e-prop, symmetric) | `W_out^T` | local traces, online | O(N²) |
//! | [`NonlocalRandom`] | `B` | exact sensitivities | O(N²) trial-end, O(N⁴) online |
//! | [`Snap1`] | `W_out^T` | own-unit sensitivities, diagonal Jacobian | O(N²) |
//! | [`Uoro`] | `W_out^T` | unbiased rank-one RTRL estimate (random) | O(N²) |
//! | [`KfRtrl`] | `W_out^T` | unbiased Kronecker RTRL estimate (random) | O(N³) |
//! | [`Reinforce`] | — | node perturbation, unbiased as `sigma → 0`; trial-end only | O(N²) |
//! | [`Force`] | — | recursive least squares on `W_out` only | O(N²) |
//!
//! The conformance suite (`tests/conformance.rs`) checks every rule against
//! finite differences and the identities of docs/spec/MODEL.md at `tau` in {1, 2, 10};
//! `tests/stochastic.rs` checks the random rules' expectations by
//! enumeration and sampling, `tests/force.rs` FORCE against ridge regression.
//!
//! A whole run is one expression ([`RuleSpec::train`], or
//! [`LearningRule::train`] on a concrete rule, or the function [`train()`]):
//!
//! ```
//! use faer::Mat;
//! use rnn_core::{seeded, InitialState, Network, NetworkConfig, Trial, TrialCycle};
//! use rnn_learn::{RuleSpec, Schedule, TrainingConfig};
//!
//! let mut net = Network::random(&NetworkConfig::new(20, 0, 1), &mut seeded(3))?;
//! let target = Mat::from_fn(100, 1, |s, _| (s as f64 / 100.0 * std::f64::consts::TAU).sin());
//! let trial = Trial::new(Mat::zeros(100, 0).as_ref(), target.as_ref(), None, InitialState::Constant(0.1))?;
//!
//! let config = TrainingConfig::default().with_n_trials(200).with_schedule(Schedule::Online);
//! let history = RuleSpec::rflo(0.03).train(&mut net, &mut TrialCycle::new(vec![trial])?, &config)?;
//! assert!(history.loss[199] < history.loss[0]);
//! # Ok::<(), rnn_learn::LearnError>(())
//! ```

mod batched;
pub mod checkpoint;
pub mod constraints;
pub mod diagnostics;
pub mod error;
mod forward;
pub mod noise;
pub mod registry;
pub mod rule;
pub mod rules;
pub mod schedule;
pub mod train;
pub mod update;

pub use checkpoint::{CHECKPOINT, Checkpoint, RuleMemory};
pub use constraints::{Constraints, DaleLaw, Frozen};
pub use diagnostics::{
    GradientAlignment, RuleComparison, compare_rules, feedback_alignment, mean_gradient_alignment,
};
pub use error::{LearnError, Result, TrainError};
pub use noise::{NormalSource, SignSource};
pub use registry::{AnyRule, AnyState, RuleSpec};
pub use rule::{BATCH_MEMORY, LearningRule, Projection, TrialOutcome, accumulate_each};
pub use rules::bptt::Bptt;
pub use rules::eprop::EpropFeedback;
pub use rules::force::Force;
pub use rules::kf_rtrl::KfRtrl;
pub use rules::local_symmetric::LocalSymmetric;
pub use rules::nonlocal_random::{NonlocalForm, NonlocalRandom};
pub use rules::reinforce::{Baseline, Reinforce};
pub use rules::rflo::{OnlineForm, Rflo, TrialEndForm};
pub use rules::rtrl::Rtrl;
pub use rules::snap1::Snap1;
pub use rules::uoro::Uoro;
pub use schedule::Schedule;
pub use train::{
    AlignmentPoint, History, Progress, Trainer, TrainingConfig, train, train_with_progress,
};
pub use update::{LearningRates, WeightUpdate, cosine, frobenius_dot};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
