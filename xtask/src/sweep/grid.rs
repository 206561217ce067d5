//! The sweep file, its validation and the grid in canonical order.

use std::fmt;
use std::path::Path;

use rnn_learn::Schedule;
use serde::Deserialize;

use super::error::SweepError;

/// A learning rule of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// [`rnn_learn::Rflo`].
    Rflo,
    /// [`rnn_learn::Bptt`].
    Bptt,
    /// [`rnn_learn::Rtrl`].
    Rtrl,
    /// [`rnn_learn::LocalSymmetric`].
    LocalSymmetric,
    /// [`rnn_learn::NonlocalRandom`].
    NonlocalRandom,
}

impl RuleKind {
    /// Every rule, with its name in sweep files and CSVs.
    pub const ALL: [(RuleKind, &'static str); 5] = [
        (RuleKind::Rflo, "rflo"),
        (RuleKind::Bptt, "bptt"),
        (RuleKind::Rtrl, "rtrl"),
        (RuleKind::LocalSymmetric, "local_symmetric"),
        (RuleKind::NonlocalRandom, "nonlocal_random"),
    ];

    /// The name in sweep files and CSVs.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .expect("every rule is listed")
    }

    /// Looks a name up (hyphens allowed for underscores, any case).
    pub fn parse(name: &str) -> Option<RuleKind> {
        let name = normalise(name);
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

/// A task of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// [`rnn_tasks::Periodic`]; `T` is the period.
    Periodic,
    /// [`rnn_tasks::ReadySetGo`]; `T` is `T_max`.
    ReadySetGo,
    /// [`rnn_tasks::ReachSyllables`]; `T` is the syllable length.
    Reach,
    /// [`rnn_tasks::WholeSequence`]; `T` is the syllable length.
    WholeSequence,
}

impl TaskKind {
    /// Every task, with its name in sweep files and CSVs.
    pub const ALL: [(TaskKind, &'static str); 4] = [
        (TaskKind::Periodic, "periodic"),
        (TaskKind::ReadySetGo, "ready_set_go"),
        (TaskKind::Reach, "reach"),
        (TaskKind::WholeSequence, "whole_sequence"),
    ];

    /// The name in sweep files and CSVs.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .expect("every task is listed")
    }

    /// Looks a name up (hyphens allowed for underscores, any case).
    pub fn parse(name: &str) -> Option<TaskKind> {
        let name = normalise(name);
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// `seeds = 9` (seeds `0..9`) or `seeds = [0, 4, 7]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Seeds {
    Count(u64),
    List(Vec<u64>),
}

/// The sweep file as written (see the module docs of `sweep`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    rules: Vec<String>,
    tasks: Vec<String>,
    eta: Vec<f64>,
    seeds: Seeds,
    n_units: Vec<usize>,
    #[serde(alias = "T")]
    period: Vec<usize>,
    trials: usize,
    #[serde(default)]
    schedule: Option<String>,
    #[serde(default)]
    tau: Option<f64>,
    #[serde(default)]
    eval_trials: Option<usize>,
    /// Written by `run` into its copy `DIR/sweep.toml`; checked if present.
    #[serde(default)]
    grid_points: Option<usize>,
}

/// A validated sweep: the axes of the grid and the shared settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// Rules, in file order.
    pub rules: Vec<RuleKind>,
    /// Tasks, in file order.
    pub tasks: Vec<TaskKind>,
    /// Network sizes `N`.
    pub n_units: Vec<usize>,
    /// Task time parameters `T`.
    pub periods: Vec<usize>,
    /// Learning rates.
    pub etas: Vec<f64>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Training trials per grid point.
    pub trials: usize,
    /// Update schedule.
    pub schedule: Schedule,
    /// Time constant in steps.
    pub tau: f64,
    /// Trials averaged for the initial and final loss.
    pub eval_trials: usize,
}

/// One grid point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Position in the canonical order (0-based).
    pub index: usize,
    /// The rule.
    pub rule: RuleKind,
    /// The task.
    pub task: TaskKind,
    /// `N`.
    pub n: usize,
    /// `T`.
    pub t: usize,
    /// `eta`.
    pub eta: f64,
    /// The seed.
    pub seed: u64,
}

impl Sweep {
    /// Reads and validates a sweep file.
    pub fn load(path: &Path) -> Result<Sweep, SweepError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SweepError::sweep_file(path, format!("cannot read it: {e}")))?;
        Sweep::parse(&text, path)
    }

    /// Parses and validates the text of a sweep file; `path` labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Sweep, SweepError> {
        let err = |reason: String| SweepError::sweep_file(path, reason);
        let file: SweepFile =
            toml::from_str(text).map_err(|e| err(format!("invalid TOML: {e}")))?;
        let rules = file
            .rules
            .iter()
            .map(|name| {
                RuleKind::parse(name).ok_or_else(|| {
                    err(format!(
                        "unknown rule `{name}` (known: {})",
                        known(RuleKind::ALL.iter().map(|(_, n)| *n))
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tasks = file
            .tasks
            .iter()
            .map(|name| {
                TaskKind::parse(name).ok_or_else(|| {
                    err(format!(
                        "unknown task `{name}` (known: {})",
                        known(TaskKind::ALL.iter().map(|(_, n)| *n))
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let seeds = match file.seeds {
            Seeds::Count(count) => (0..count).collect(),
            Seeds::List(list) => list,
        };
        let axes: [(&str, usize); 6] = [
            ("rules", rules.len()),
            ("tasks", tasks.len()),
            ("eta", file.eta.len()),
            ("seeds", seeds.len()),
            ("n_units", file.n_units.len()),
            ("period", file.period.len()),
        ];
        for (axis, len) in axes {
            if len == 0 {
                return Err(err(format!(
                    "the grid is empty: axis `{axis}` has no values (every axis needs at least one)"
                )));
            }
        }
        no_repeats("rules", &rules, |r| r.name().to_owned()).map_err(&err)?;
        no_repeats("tasks", &tasks, |t| t.name().to_owned()).map_err(&err)?;
        no_repeats("eta", &file.eta, |e| format!("{e:e}")).map_err(&err)?;
        no_repeats("seeds", &seeds, |s| s.to_string()).map_err(&err)?;
        no_repeats("n_units", &file.n_units, |n| n.to_string()).map_err(&err)?;
        no_repeats("period", &file.period, |t| t.to_string()).map_err(&err)?;
        if let Some(eta) = file.eta.iter().find(|e| !e.is_finite() || **e <= 0.0) {
            return Err(err(format!("eta = {eta} must be finite and > 0")));
        }
        if let Some(n) = file.n_units.iter().find(|n| **n == 0) {
            return Err(err(format!("n_units = {n}: N must be at least 1")));
        }
        if let Some(t) = file.period.iter().find(|t| **t == 0) {
            return Err(err(format!("period = {t}: T must be at least 1")));
        }
        if file.trials == 0 {
            return Err(err("trials must be at least 1".into()));
        }
        let schedule = match &file.schedule {
            None => Schedule::PerTrial,
            Some(s) => parse_schedule(s).ok_or_else(|| {
                err(format!(
                    "unknown schedule `{s}` (known: \"per_trial\", \"online\", \"every K\" with K >= 1)"
                ))
            })?,
        };
        if schedule == Schedule::Online && rules.contains(&RuleKind::Bptt) {
            return Err(err(
                "rule `bptt` cannot run with schedule \"online\" (BPTT is acausal)".into(),
            ));
        }
        let tau = file.tau.unwrap_or(10.0);
        if !tau.is_finite() || tau < 1.0 {
            return Err(err(format!("tau = {tau} must be finite and >= 1")));
        }
        let eval_trials = file.eval_trials.unwrap_or(1);
        if eval_trials == 0 {
            return Err(err("eval_trials must be at least 1".into()));
        }
        let sweep = Sweep {
            rules,
            tasks,
            n_units: file.n_units,
            periods: file.period,
            etas: file.eta,
            seeds,
            trials: file.trials,
            schedule,
            tau,
            eval_trials,
        };
        if let Some(declared) = file.grid_points
            && declared != sweep.len()
        {
            return Err(err(format!(
                "grid_points = {declared} but the grid has {} points",
                sweep.len()
            )));
        }
        Ok(sweep)
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.rules.len()
            * self.tasks.len()
            * self.n_units.len()
            * self.periods.len()
            * self.etas.len()
            * self.seeds.len()
    }

    /// Every grid point in canonical order: rules, tasks, N, T, eta, seeds
    /// (outer to inner), each axis in file order.
    pub fn points(&self) -> Vec<Point> {
        let mut points = Vec::with_capacity(self.len());
        for &rule in &self.rules {
            for &task in &self.tasks {
                for &n in &self.n_units {
                    for &t in &self.periods {
                        for &eta in &self.etas {
                            for &seed in &self.seeds {
                                points.push(Point {
                                    index: points.len(),
                                    rule,
                                    task,
                                    n,
                                    t,
                                    eta,
                                    seed,
                                });
                            }
                        }
                    }
                }
            }
        }
        points
    }

    /// The canonical text of the sweep: a valid sweep file (with
    /// `grid_points`), byte-identical for equal sweeps. Written to
    /// `DIR/sweep.toml`.
    pub fn canonical(&self) -> String {
        let list = |items: Vec<String>| format!("[{}]", items.join(", "));
        let quoted = |names: Vec<&str>| list(names.iter().map(|n| format!("\"{n}\"")).collect());
        let mut s =
            String::from("# Canonical copy written by `cargo xtask sweep run`; do not edit.\n");
        s += &format!(
            "rules = {}\n",
            quoted(self.rules.iter().map(|r| r.name()).collect())
        );
        s += &format!(
            "tasks = {}\n",
            quoted(self.tasks.iter().map(|t| t.name()).collect())
        );
        s += &format!(
            "n_units = {}\n",
            list(self.n_units.iter().map(|n| n.to_string()).collect())
        );
        s += &format!(
            "period = {}\n",
            list(self.periods.iter().map(|t| t.to_string()).collect())
        );
        s += &format!(
            "eta = {}\n",
            list(self.etas.iter().map(|e| format!("{e:e}")).collect())
        );
        s += &format!(
            "seeds = {}\n",
            list(self.seeds.iter().map(|x| x.to_string()).collect())
        );
        s += &format!("trials = {}\n", self.trials);
        s += &format!("schedule = \"{}\"\n", schedule_name(self.schedule));
        s += &format!("tau = {:e}\n", self.tau);
        s += &format!("eval_trials = {}\n", self.eval_trials);
        s += &format!("grid_points = {}\n", self.len());
        s
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {} N={} T={} eta={:e} seed={}",
            self.index,
            self.rule.name(),
            self.task.name(),
            self.n,
            self.t,
            self.eta,
            self.seed
        )
    }
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

fn no_repeats<T>(axis: &str, items: &[T], key: impl Fn(&T) -> String) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for item in items {
        let k = key(item);
        if !seen.insert(k.clone()) {
            return Err(format!(
                "axis `{axis}` lists `{k}` twice (it would duplicate grid points)"
            ));
        }
    }
    Ok(())
}

/// `"per_trial"`, `"online"` or `"every K"`.
pub fn parse_schedule(s: &str) -> Option<Schedule> {
    let s = s.trim().to_ascii_lowercase().replace('-', "_");
    match s.as_str() {
        "per_trial" => Some(Schedule::PerTrial),
        "online" => Some(Schedule::Online),
        _ => {
            let k: usize = s.strip_prefix("every")?.trim().parse().ok()?;
            (k >= 1).then_some(Schedule::EveryK(k))
        }
    }
}

/// The sweep-file name of a schedule.
pub fn schedule_name(schedule: Schedule) -> String {
    match schedule {
        Schedule::PerTrial => "per_trial".into(),
        Schedule::Online => "online".into(),
        Schedule::EveryK(k) => format!("every {k}"),
    }
}
