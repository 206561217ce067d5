//! # rnn-learn
//!
//! Learning rules for the rate RNN of `rnn-core`, exactly as the project's
//! `MODEL.md` states them: [`Bptt`] (§4), RTRL (§3), [`Rflo`] (§5) and the
//! ablations [`LocalSymmetric`] and `NonlocalRandom` (§6), all behind one
//! [`LearningRule`] trait; update schedules (§7); Dale's law and frozen
//! weight groups ([`Constraints`]); a training loop with diagnostics (§9).

mod batched;
pub mod constraints;
pub mod diagnostics;
pub mod error;
mod forward;
pub mod rule;
pub mod rules;
pub mod schedule;
pub mod train;
pub mod update;

pub use constraints::{Constraints, DaleLaw, Frozen};
pub use diagnostics::{GradientAlignment, feedback_alignment};
pub use error::{LearnError, Result};
pub use rule::{LearningRule, Projection, TrialOutcome};
pub use rules::bptt::Bptt;
pub use rules::local_symmetric::LocalSymmetric;
pub use rules::nonlocal_random::{NonlocalForm, NonlocalRandom};
pub use rules::rflo::{Rflo, TraceForm};
pub use rules::rtrl::Rtrl;
pub use schedule::Schedule;
pub use train::{AlignmentPoint, History, Progress, Trainer, TrainingConfig, train};
pub use update::{LearningRates, WeightUpdate, cosine, frobenius_dot};
