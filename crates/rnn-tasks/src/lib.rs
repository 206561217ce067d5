//! # rnn-tasks
//!
//! The tasks of Murray, "Local online learning in recurrent networks with
//! random feedback" (eLife 2019), as specified in the project's `docs/spec/TASKS.md`
//! §1–4:
//!
//! | task | spec | `N_x` | `N_y` | `h(0)` |
//! |---|---|---|---|---|
//! | [`Periodic`] | §1, Fig 2 | 0 | 1 | `Constant(0.1)` |
//! | [`ReadySetGo`] | §2, Fig 3 | 1 | 1 | `Constant(0.0)` |
//! | [`ReachSyllables`] | §3, Fig 4a | `K` | 2 | `Constant(0.0)` first, then `CarryOver` |
//! | [`WholeSequence`] | §4, Fig 4c | 1 | 2 | `Given(h0)`, drawn once |
//! | [`FileTrials`] | a user's `.npy` files | from the files | from the files | as given |
//!
//! [`TaskSpec`] (module [`registry`]) is THE list of tasks: each task's name
//! in TOML, CSV, reports and Python is its serde tag there, every config
//! field is settable, and [`TaskSpec::build`] makes the task. A new task =
//! its file + one entry in the registry.
//!
//! Every task implements [`Task`] (sizes and trial generation) and
//! [`rnn_core::TrialSource`], so a training loop can take it as
//! `&mut dyn TrialSource`. Every random draw comes from the
//! [`SeededRng`] passed in.
//!
//! ## Conventions
//!
//! Time is in steps. A trial runs `t = 1..T`; the data of step index
//! `s = 0..T` (the column index of [`Trial::targets_by_step`](rnn_core::Trial::targets_by_step),
//! the row of [`Trial::targets`](rnn_core::Trial::targets), the index of an output slice)
//! is the spec's time `t = s + 1`. A quantity "at time `t`" is therefore
//! stored at index `t - 1`.
//!
//! Every value the spec marks **(choice)** is a documented field of the
//! task's config struct, with the spec's value as the default.
//!
//! ## Writing your own task
//!
//! One file suffices: implement [`Task`] and then [`rnn_core::TrialSource`]
//! with the [`impl_trial_source!`] macro (or by hand: `Ok(self.generate(rng)?)`).
//! To make it nameable in run files, add it to [`TaskSpec`].
//!
//! ```
//! use faer::Mat;
//! use rnn_core::{InitialState, SeededRng, Trial, TrialSource, seeded};
//! use rnn_tasks::{Task, TaskError, impl_trial_source};
//!
//! /// Output a constant level given as the input.
//! struct Hold {
//!     len: usize,
//! }
//!
//! impl Task for Hold {
//!     fn n_inputs(&self) -> usize { 1 }
//!     fn n_outputs(&self) -> usize { 1 }
//!     fn generate(&mut self, rng: &mut SeededRng) -> Result<Trial, TaskError> {
//!         use rand::RngExt;
//!         let level: f64 = rng.random_range(-1.0..1.0);
//!         let x = Mat::from_fn(1, self.len, |_, _| level);
//!         let y = x.clone();
//!         Ok(Trial::from_columns(x, y, None, InitialState::Constant(0.0))?)
//!     }
//! }
//! impl_trial_source!(Hold);
//!
//! let mut task = Hold { len: 50 };
//! let source: &mut dyn TrialSource = &mut task;
//! let trial = source.next_trial(&mut seeded(1))?;
//! assert_eq!(trial.len(), 50);
//! # Ok::<(), rnn_core::CoreError>(())
//! ```

pub mod error;
pub mod files;
pub mod periodic;
pub mod reach;
pub mod ready_set_go;
pub mod registry;
pub mod start;
pub mod whole_sequence;

pub use error::{Result, TaskError};
pub use files::{FileTrials, TrialFiles};
pub use periodic::{Periodic, PeriodicConfig, periodic_target};
pub use reach::{
    BOX_TOLERANCE, ReachConfig, ReachSyllables, SyllableShape, integrate_velocity,
    integrate_velocity_by_step,
};
pub use ready_set_go::{
    IntervalReadout, ReadySetGo, ReadySetGoConfig, TrialLength, gaussian_pulse, produced_interval,
};
pub use registry::TaskSpec;
pub use start::FixedStart;
pub use whole_sequence::{WholeSequence, WholeSequenceConfig};

use rnn_core::{SeededRng, Trial, TrialSource};

/// A task: the sizes of the network it needs and a generator of trials.
///
/// `Task` has [`TrialSource`] as a supertrait, so every task can be handed to a
/// training loop as `&mut dyn TrialSource`; implement that with
/// [`impl_trial_source!`], which forwards to [`Task::generate`]. A task may
/// carry state from one trial to the next (the reach task keeps the ideal
/// cursor); [`Task::reset`] returns it to its start.
pub trait Task: TrialSource {
    /// Number of inputs `N_x` of every trial (may be 0).
    fn n_inputs(&self) -> usize;

    /// Number of outputs `N_y` of every trial.
    fn n_outputs(&self) -> usize;

    /// The next trial; every random draw comes from `rng`.
    fn generate(&mut self, rng: &mut SeededRng) -> Result<Trial>;

    /// Returns any state carried between trials to its initial value.
    /// The default does nothing (for tasks without such state).
    fn reset(&mut self) {}
}

/// Implements [`rnn_core::TrialSource`] for a type that implements [`Task`],
/// forwarding `next_trial` to [`Task::generate`] (a [`TaskError`] becomes a
/// [`rnn_core::CoreError`] through its `From` impl).
///
/// See the crate documentation for a complete custom task.
#[macro_export]
macro_rules! impl_trial_source {
    ($ty:ty) => {
        impl ::rnn_core::TrialSource for $ty {
            fn next_trial(
                &mut self,
                rng: &mut ::rnn_core::SeededRng,
            ) -> ::rnn_core::Result<::rnn_core::Trial> {
                ::std::result::Result::Ok(<Self as $crate::Task>::generate(self, rng)?)
            }
        }
    };
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
