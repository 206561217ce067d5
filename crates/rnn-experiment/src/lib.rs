//! # rnn-experiment
//!
//! Experiments as data. A training run is a value, [`RunSpec`]: the network,
//! the seed scheme, the task ([`rnn_tasks::TaskSpec`]), the rule
//! ([`rnn_learn::RuleSpec`]), the training config and the evaluation. It can
//! be written to TOML, hashed to a stable [`RunKey`], stored and replayed:
//!
//! - [`run()`] trains and evaluates one spec; a divergence is a result
//!   ([`RunRecord::failure`]) that keeps the history so far.
//! - [`GridFile`] / [`Grid`] describe many runs in TOML: a base spec and axes
//!   over any field (dotted paths), zipped within an axis, multiplied across.
//! - [`Runner`] runs specs on a thread pool, memoises them, keeps them in a
//!   [`Store`] keyed by [`RunKey`] (a rerun is a cache hit) and checkpoints
//!   the runs in flight (a killed job resumes bit-identically).
//! - [`stats`] is the one statistics vocabulary (how failed runs enter a
//!   median is stated there).
//!
//! `cargo xtask figures` and `cargo xtask sweep` are built on this crate.
//!
//! ```
//! use rnn_experiment::{RunSpec, run};
//! let spec = RunSpec::from_toml(r#"
//!     seed = 1
//!     network = { n_units = 20 }
//!     task = { name = "periodic", period = 50 }
//!     rule = { name = "rflo", rates = 0.03 }
//!     training = { n_trials = 100 }
//! "#)?;
//! let record = run(&spec)?;
//! assert!(record.completed() && record.final_loss < record.initial_loss);
//! # Ok::<(), rnn_experiment::ExperimentError>(())
//! ```

pub mod error;
pub mod grid;
pub mod results;
pub mod run;
pub mod runner;
pub mod shard;
pub mod spec;
pub mod stats;
pub mod store;

pub use error::{ExperimentError, Result};
pub use grid::{Axis, Grid, GridFile, Point};
pub use results::{Best, RunsTable, best_by};
pub use run::{Failure, RunRecord, evaluate, run};
pub use runner::Runner;
pub use shard::Shard;
pub use spec::{Evaluation, NetworkSpec, RunKey, RunSpec};
pub use store::Store;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
