//! Run descriptions, rules and tasks from the text Python hands over.
//!
//! Python dicts arrive as JSON (the `rflo` package serialises them, numpy
//! arrays as nested lists); TOML text arrives as is. Both end in the same
//! serde types as `cargo xtask`: [`RuleSpec`], [`TaskSpec`], [`RunSpec`] and
//! [`GridFile`], so a notebook and the command line describe a run the same way.

use std::sync::Arc;

use rnn_experiment::{ExperimentError, GridFile, Point, RunRecord, RunSpec, Runner, RunsTable};
use rnn_learn::{LearningRates, RuleSpec, TrainingConfig};
use rnn_tasks::TaskSpec;

/// What can go wrong between Python's text and the library's types.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The text is not a valid value of the named type.
    #[error("invalid {what}: {message}")]
    Invalid {
        /// What was being read ("rule", "task", "run spec", ...).
        what: &'static str,
        /// The parser's message (names the offending field).
        message: String,
    },
    /// Building or running an experiment failed.
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
}

fn invalid(what: &'static str, message: impl ToString) -> SpecError {
    SpecError::Invalid {
        what,
        message: message.to_string(),
    }
}

/// A rule from its JSON form (`{"name": "rflo", "rates": 0.03, ...}`), validated.
pub fn rule_from_json(json: &str) -> Result<RuleSpec, SpecError> {
    let spec: RuleSpec = serde_json::from_str(json).map_err(|e| invalid("rule", e))?;
    spec.build().map_err(|e| invalid("rule", e))?;
    Ok(spec)
}

/// A task from its JSON form (`{"name": "periodic", "period": 200}`), validated.
pub fn task_from_json(json: &str) -> Result<TaskSpec, SpecError> {
    let spec: TaskSpec = serde_json::from_str(json).map_err(|e| invalid("task", e))?;
    spec.validate().map_err(|e| invalid("task", e))?;
    Ok(spec)
}

/// A training config from its JSON form (every field optional), validated.
pub fn training_from_json(json: &str) -> Result<TrainingConfig, SpecError> {
    let config: TrainingConfig =
        serde_json::from_str(json).map_err(|e| invalid("training config", e))?;
    config
        .validate()
        .map_err(|e| invalid("training config", e))?;
    Ok(config)
}

/// Any serialisable value as JSON text (specs handed back to Python).
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("specs serialise to JSON")
}

/// The rule registry as `(name, label)` pairs in registry order: the serde
/// tag (`"rflo"`) and the class name Python shows (`"RFLO"`). Every rule
/// registered in `rnn_learn::registry` appears here without binding code.
pub fn rule_registry() -> Vec<(&'static str, &'static str)> {
    RuleSpec::every_rule(LearningRates::uniform(1.0))
        .iter()
        .map(|spec| (spec.name(), spec.label()))
        .collect()
}

/// The task registry's names in registry order (`"periodic"`, ...).
pub fn task_registry() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for spec in TaskSpec::every_task() {
        if !names.contains(&spec.name()) {
            names.push(spec.name());
        }
    }
    // `every_task` lists the tasks with a default config; `files` has none
    // (it needs the user's paths) but is a registry entry all the same.
    if !names.contains(&"files") {
        names.push("files");
    }
    names
}

/// JSON text of a table (a Python dict) as TOML text, so that a dict and a
/// TOML file go through the same parser. `null` has no TOML form and is refused.
pub fn json_to_toml(json: &str) -> Result<String, SpecError> {
    let table: toml::Table = serde_json::from_str(json).map_err(|e| invalid("run spec", e))?;
    toml::to_string(&table).map_err(|e| invalid("run spec", e))
}

/// A run description: one run, or a grid file of many.
#[derive(Debug, Clone)]
pub enum RunInput {
    /// One [`RunSpec`].
    Run(Box<RunSpec>),
    /// A [`GridFile`] (top-level `[[grid]]` tables).
    Grid(GridFile),
}

impl RunInput {
    /// Parses TOML text: a grid file when it has a top-level `grid` key, a
    /// run spec otherwise.
    pub fn from_toml(text: &str) -> Result<Self, SpecError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| invalid("run spec", e))?;
        Ok(if table.contains_key("grid") {
            Self::Grid(GridFile::from_toml(text)?)
        } else {
            Self::Run(Box::new(RunSpec::from_toml(text)?))
        })
    }
}

/// A grid file's runs, trained by `runner`, with the runs table that
/// `cargo xtask sweep run FILE` (one shard) writes, byte for byte.
pub struct GridRuns {
    /// Every point of the grid file, in run order.
    pub points: Vec<Point>,
    /// The record of each point.
    pub records: Vec<Arc<RunRecord>>,
    /// The runs table as CSV text.
    pub table_csv: String,
}

/// Runs every point of `file` with `runner`.
pub fn run_grid(file: &GridFile, runner: &Runner) -> Result<GridRuns, SpecError> {
    let points = file.points()?;
    let specs: Vec<RunSpec> = points.iter().map(|p| p.spec.clone()).collect();
    let records = runner.run_all(&specs)?;
    let mine: Vec<&Point> = points.iter().collect();
    let table = RunsTable::new(
        &RunsTable::axis_paths(&points),
        &mine,
        &records.iter().map(|r| r.as_ref()).collect::<Vec<_>>(),
    );
    let table_csv = table.to_csv()?;
    Ok(GridRuns {
        points,
        records,
        table_csv,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_list_every_rule_and_task_once() {
        let rules = rule_registry();
        for expected in [
            ("rflo", "RFLO"),
            ("bptt", "BPTT"),
            ("rtrl", "RTRL"),
            ("local_symmetric", "LocalSymmetric"),
            ("nonlocal_random", "NonlocalRandom"),
        ] {
            assert!(rules.contains(&expected), "{expected:?} missing");
        }
        let mut names: Vec<_> = rules.iter().map(|(n, _)| *n).collect();
        names.dedup();
        assert_eq!(names.len(), rules.len());
        let tasks = task_registry();
        for expected in [
            "periodic",
            "ready_set_go",
            "reach",
            "whole_sequence",
            "files",
        ] {
            assert!(tasks.contains(&expected), "{expected} missing");
        }
    }

    #[test]
    fn bad_rule_json_names_the_field() {
        let err = rule_from_json(r#"{"name": "rflo", "rates": 0.1, "projeciton": "readout"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("projeciton"), "{err}");
        let err = rule_from_json(r#"{"name": "rflo", "rates": -1.0}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid rule"), "{err}");
    }

    #[test]
    fn a_dict_and_its_toml_text_give_the_same_spec() {
        let json = r#"{"seed": 3, "network": {"n_units": 12},
            "task": {"name": "periodic", "period": 20},
            "rule": {"name": "bptt", "rates": 0.01}, "training": {"n_trials": 5}}"#;
        let text = json_to_toml(json).unwrap();
        let RunInput::Run(from_dict) = RunInput::from_toml(&text).unwrap() else {
            panic!("a run spec, not a grid");
        };
        let from_toml = RunSpec::from_toml(
            "seed = 3\nnetwork = { n_units = 12 }\ntask = { name = \"periodic\", period = 20 }\n\
             rule = { name = \"bptt\", rates = 0.01 }\ntraining = { n_trials = 5 }\n",
        )
        .unwrap();
        assert_eq!(*from_dict, from_toml);
        assert!(json_to_toml(r#"{"seed": null}"#).is_err());
    }

    #[test]
    fn a_grid_is_recognised_and_runs_like_the_sweep() {
        let text = r#"
            [[grid]]
            name = "g"
            [grid.base]
            network = { n_units = 8 }
            task = { name = "periodic", period = 10 }
            rule = { name = "rflo", rates = 0.01 }
            training = { n_trials = 3 }
            [[grid.axis]]
            seed = [0, 1]
        "#;
        let RunInput::Grid(file) = RunInput::from_toml(text).unwrap() else {
            panic!("a grid");
        };
        let runs = run_grid(&file, &Runner::new().with_threads(1)).unwrap();
        assert_eq!(runs.records.len(), 2);
        assert_eq!(runs.table_csv.lines().count(), 3);
        assert!(runs.table_csv.starts_with("index,grid,key,seed,status"));
    }
}
