//! [`TaskSpec`]: THE list of tasks.
//!
//! Every task a run can name lives in this enum, and only here: its serde tag
//! (`name`, snake_case) is the task's name in TOML run and grid files, CSV
//! columns, reports and (later) Python. Registering a new task = its file
//! (a config struct with `#[serde(default, deny_unknown_fields)]` and a
//! [`Task`]) + one variant here, with its arms in the `match`es below (the
//! compiler lists them) and a default in [`TaskSpec::every_task`].
//!
//! In TOML a task is a table with `name` and any of its config's fields;
//! missing fields take the spec's defaults, unknown fields are errors:
//!
//! ```
//! use rnn_tasks::{TaskSpec, PeriodicConfig};
//! let spec: TaskSpec = toml::from_str("name = \"periodic\"\nperiod = 400")?;
//! assert_eq!(spec, TaskSpec::Periodic(PeriodicConfig { period: 400, ..Default::default() }));
//! assert_eq!(spec.steps_per_trial()?, 400);
//! assert!(toml::from_str::<TaskSpec>("name = \"periodic\"\nperiode = 400").is_err());
//!
//! let mut task = spec.build(&mut rnn_core::seeded(0))?;
//! let source: &mut dyn rnn_core::TrialSource = &mut *task;
//! assert_eq!(source.next_trial(&mut rnn_core::seeded(1))?.len(), 400);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rnn_core::SeededRng;
use serde::{Deserialize, Serialize};

use crate::Task;
use crate::error::Result;
use crate::files::{FileTrials, TrialFiles};
use crate::periodic::{Periodic, PeriodicConfig};
use crate::reach::{ReachConfig, ReachSyllables};
use crate::ready_set_go::{ReadySetGo, ReadySetGoConfig};
use crate::whole_sequence::{WholeSequence, WholeSequenceConfig};

/// A task with all its settings: a value that can be written down (TOML,
/// JSON), compared and [`build`](TaskSpec::build)t.
///
/// Serialised internally tagged: `{ name = "ready_set_go", max_delay = 200 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskSpec {
    /// Periodic output (docs/spec/TASKS.md §1): [`Periodic`].
    Periodic(PeriodicConfig),
    /// Ready–Set–Go interval matching (docs/spec/TASKS.md §2): [`ReadySetGo`].
    ReadySetGo(ReadySetGoConfig),
    /// Cursor-reach syllables (docs/spec/TASKS.md §3): [`ReachSyllables`].
    Reach(ReachConfig),
    /// The whole syllable sequence without a loop (docs/spec/TASKS.md §4): [`WholeSequence`].
    WholeSequence(WholeSequenceConfig),
    /// A user's own trials from `.npy` files: [`FileTrials`].
    Files(TrialFiles),
}

impl TaskSpec {
    /// The task's name: the serde tag (`"periodic"`, `"ready_set_go"`,
    /// `"reach"`, `"whole_sequence"`, `"files"`).
    pub fn name(&self) -> &'static str {
        match self {
            TaskSpec::Periodic(_) => "periodic",
            TaskSpec::ReadySetGo(_) => "ready_set_go",
            TaskSpec::Reach(_) => "reach",
            TaskSpec::WholeSequence(_) => "whole_sequence",
            TaskSpec::Files(_) => "files",
        }
    }

    /// Checks the settings without building (files: their headers only).
    pub fn validate(&self) -> Result<()> {
        self.sizes().map(|_| ())
    }

    /// `N_x` of every trial (validates the settings; reads only file headers).
    pub fn n_inputs(&self) -> Result<usize> {
        Ok(self.sizes()?.0)
    }

    /// `N_y` of every trial (validates the settings; reads only file headers).
    pub fn n_outputs(&self) -> Result<usize> {
        Ok(self.sizes()?.1)
    }

    /// The length `T` of the longest trial, for progress bars (validates the
    /// settings; reads only file headers).
    pub fn steps_per_trial(&self) -> Result<usize> {
        Ok(self.sizes()?.2)
    }

    /// `(N_x, N_y, longest T)`.
    fn sizes(&self) -> Result<(usize, usize, usize)> {
        match self {
            TaskSpec::Periodic(c) => {
                c.validate()?;
                Ok((0, 1, c.period))
            }
            TaskSpec::ReadySetGo(c) => Ok((1, 1, c.trial_len()?)),
            TaskSpec::Reach(c) => {
                c.validate()?;
                Ok((c.shape.n_syllables, 2, c.shape.syllable_len))
            }
            TaskSpec::WholeSequence(c) => {
                c.validate()?;
                Ok((1, 2, c.trial_len()))
            }
            TaskSpec::Files(files) => files.sizes(),
        }
    }

    /// The task, validated. `rng` serves only draws made once at
    /// construction (a fixed `h(0)` drawn with
    /// [`FixedStart::Uniform`](crate::FixedStart::Uniform)); the
    /// trials' own draws come from the generator passed to each
    /// `next_trial`. Built this way, a task gives the same trials as the
    /// same task constructed directly with the same generators.
    pub fn build(&self, rng: &mut SeededRng) -> Result<Box<dyn Task + Send>> {
        Ok(match self {
            TaskSpec::Periodic(c) => Box::new(Periodic::new(c.clone(), rng)?),
            TaskSpec::ReadySetGo(c) => Box::new(ReadySetGo::new(c.clone())?),
            TaskSpec::Reach(c) => Box::new(ReachSyllables::new(c.clone())?),
            TaskSpec::WholeSequence(c) => Box::new(WholeSequence::new(c.clone(), rng)?),
            TaskSpec::Files(files) => Box::new(FileTrials::new(files)?),
        })
    }

    /// One default of each built-in task (every variant but
    /// [`Files`](TaskSpec::Files), which needs the user's files), in
    /// declaration order: for tests, docs and benchmarks.
    pub fn every_task() -> Vec<TaskSpec> {
        vec![
            TaskSpec::Periodic(PeriodicConfig::default()),
            TaskSpec::ReadySetGo(ReadySetGoConfig::default()),
            TaskSpec::Reach(ReachConfig::default()),
            TaskSpec::WholeSequence(WholeSequenceConfig::default()),
        ]
    }

    /// Resolves the relative paths of a [`Files`](TaskSpec::Files) task
    /// against `base` (see [`TrialFiles::with_base_dir`]); other tasks are
    /// returned unchanged. Call it with the folder of the file the spec was
    /// read from.
    pub fn with_base_dir(self, base: &std::path::Path) -> Self {
        match self {
            TaskSpec::Files(files) => TaskSpec::Files(files.with_base_dir(base)),
            other => other,
        }
    }
}

impl From<PeriodicConfig> for TaskSpec {
    fn from(config: PeriodicConfig) -> Self {
        TaskSpec::Periodic(config)
    }
}

impl From<ReadySetGoConfig> for TaskSpec {
    fn from(config: ReadySetGoConfig) -> Self {
        TaskSpec::ReadySetGo(config)
    }
}

impl From<ReachConfig> for TaskSpec {
    fn from(config: ReachConfig) -> Self {
        TaskSpec::Reach(config)
    }
}

impl From<WholeSequenceConfig> for TaskSpec {
    fn from(config: WholeSequenceConfig) -> Self {
        TaskSpec::WholeSequence(config)
    }
}

impl From<TrialFiles> for TaskSpec {
    fn from(files: TrialFiles) -> Self {
        TaskSpec::Files(files)
    }
}
