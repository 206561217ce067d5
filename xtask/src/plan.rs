//! `cargo xtask figures --plan`: what a figures job would train, and how long
//! it would take on this machine, without training it.
//!
//! Per panel in report order: its runs, the distinct runs neither in the
//! store nor counted for an earlier panel (the store dedups by key), their
//! training time steps per group, and an estimated wall time. The cost per
//! step is measured, not assumed: one short copy (about
//! [`CALIBRATION_STEPS`] steps) of a representative run per group, timed on
//! one thread; a group's estimate is its steps × that cost ÷ the thread count.
//! Second stages (runs whose specs depend on a first stage's results) are
//! estimated from the panel's own formula as an upper bound.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use rnn_experiment::{RunKey, RunSpec, Runner};

use crate::Res;
use crate::panels::{self, Panel, Scale};

/// Steps of a calibration run (n_trials cut to about this many steps).
pub const CALIBRATION_STEPS: u64 = 20_000;

/// The calibration group of a run: runs that cost the same per step.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    /// The rule's label (RFLO, BPTT, ...).
    pub rule: &'static str,
    /// The rule spec without its rates and noise seed (its form and settings), as TOML.
    pub form: String,
    /// Network size N.
    pub n_units: usize,
    /// The training schedule, as written in TOML.
    pub schedule: String,
    /// The task's registry name.
    pub task: &'static str,
}

impl GroupKey {
    /// The group of `spec`.
    pub fn of(spec: &RunSpec) -> Self {
        let mut form = toml::Value::try_from(&spec.rule).ok();
        if let Some(toml::Value::Table(map)) = &mut form {
            // Rates and noise seeds do not change the cost per step.
            for field in ["rates", "seed", "name"] {
                map.remove(field);
            }
        }
        let text = |v: Option<toml::Value>| match v {
            Some(toml::Value::String(s)) => s,
            Some(toml::Value::Table(t)) => {
                let pairs: Vec<String> = t.iter().map(|(k, v)| format!("{k}={v}")).collect();
                pairs.join(",")
            }
            Some(v) => v.to_string(),
            None => String::new(),
        };
        Self {
            rule: spec.rule.label(),
            form: text(form),
            n_units: spec.network.n_units,
            schedule: text(toml::Value::try_from(spec.training.schedule).ok()),
            task: spec.task.name(),
        }
    }

    /// `RULE N=.. schedule task [form]` for the plan's rows.
    fn text(&self) -> String {
        format!(
            "{:<14} N={:<4} {:<14} {:<14} {}",
            self.rule, self.n_units, self.schedule, self.task, self.form
        )
    }
}

/// The new runs of one group in one panel (or stage).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPlan {
    pub key: GroupKey,
    /// Distinct runs to train.
    pub runs: usize,
    /// Their training time steps in all.
    pub steps: u64,
}

/// One panel's (or stage's) share of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelPlan {
    pub name: String,
    /// Runs of its grids (grid points).
    pub runs: usize,
    /// Distinct runs among them.
    pub distinct: usize,
    /// Distinct runs in neither the store nor an earlier panel.
    pub new: usize,
    /// The new runs per group, in key order.
    pub groups: Vec<GroupPlan>,
}

/// Plans `panels` (name and specs, in report order): an earlier panel's run
/// is not counted again, nor a run for which `stored` holds.
pub fn plan_panels(
    panels: &[(String, Vec<RunSpec>)],
    stored: &dyn Fn(&RunSpec) -> bool,
) -> (Vec<PanelPlan>, BTreeMap<GroupKey, RunSpec>) {
    let mut counted: HashSet<RunKey> = HashSet::new();
    let mut representatives = BTreeMap::new();
    let mut plans = Vec::new();
    for (name, specs) in panels {
        let mut mine = HashSet::new();
        let mut groups: BTreeMap<GroupKey, GroupPlan> = BTreeMap::new();
        let mut new = 0;
        for spec in specs {
            let key = spec.key();
            if !mine.insert(key) || !counted.insert(key) || stored(spec) {
                continue;
            }
            new += 1;
            let group = GroupKey::of(spec);
            representatives
                .entry(group.clone())
                .or_insert_with(|| spec.clone());
            let plan = groups.entry(group.clone()).or_insert(GroupPlan {
                key: group,
                runs: 0,
                steps: 0,
            });
            plan.runs += 1;
            plan.steps += spec.training_steps();
        }
        plans.push(PanelPlan {
            name: name.clone(),
            runs: specs.len(),
            distinct: mine.len(),
            new,
            groups: groups.into_values().collect(),
        });
    }
    (plans, representatives)
}

/// A short copy of `spec`: about [`CALIBRATION_STEPS`] steps (at most its own trials).
pub fn calibration_copy(spec: &RunSpec) -> RunSpec {
    let per_trial = spec.task.steps_per_trial().unwrap_or(1).max(1) as u64;
    let trials = CALIBRATION_STEPS.div_ceil(per_trial).max(1) as usize;
    let mut short = spec.clone();
    short.training.n_trials = short.training.n_trials.min(trials);
    short
}

/// Seconds per training step of `spec`'s group on one thread: a short copy
/// run once to warm up, then again until [`CALIBRATION_SECONDS`] have been
/// timed (at most [`CALIBRATION_REPEATS`] times); the time divided by the
/// steps trained (a diverged copy stops early). Timed in this thread's CPU
/// time when the kernel reports it, so that other processes on a shared
/// machine do not count (they still share its caches); that clock advances
/// in scheduler ticks of a few ms, hence the repeats. Else in wall time.
fn seconds_per_step(spec: &RunSpec) -> Res<f64> {
    let short = calibration_copy(spec);
    let per_trial = short.task.steps_per_trial().unwrap_or(1).max(1);
    rnn_experiment::run(&short)?;
    let (mut seconds, mut steps) = (0.0, 0);
    for _ in 0..CALIBRATION_REPEATS {
        let (cpu, wall) = (thread_cpu_seconds(), Instant::now());
        let record = rnn_experiment::run(&short)?;
        seconds += match (cpu, thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => wall.elapsed().as_secs_f64(),
        };
        steps += record.history.loss.len().max(1) * per_trial;
        if seconds >= CALIBRATION_SECONDS {
            break;
        }
    }
    Ok(seconds / steps as f64)
}

/// Time to accumulate per calibration (many scheduler ticks).
const CALIBRATION_SECONDS: f64 = 0.2;
/// At most this many timed repeats of a calibration run.
const CALIBRATION_REPEATS: usize = 30;

/// This thread's time on a CPU (Linux `/proc/thread-self/schedstat`, first field, ns).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}

/// The specs of `panel`'s grids, and of its later stages (upper bound) if any.
fn panel_specs(panel: &Panel, scale: &Scale) -> Res<Vec<(String, Vec<RunSpec>)>> {
    let specs = |grids: rnn_experiment::GridFile| -> Res<Vec<RunSpec>> {
        Ok(grids.points()?.into_iter().map(|p| p.spec).collect())
    };
    let mut out = vec![(panel.id.to_string(), specs((panel.grids)(scale)?)?)];
    for (stage, grids) in panels::later_stages(panel.id, scale)? {
        out.push((format!("{} {stage}", panel.id), specs(grids)?));
    }
    Ok(out)
}

/// Prints the plan of `selected` at `scale` (with `extended_for` per panel)
/// against `runner`'s store, on `threads` threads.
pub fn print_plan(
    runner: &Runner,
    selected: &[&Panel],
    scale: Scale,
    extended_for: &dyn Fn(&str) -> bool,
    threads: usize,
) -> Res<()> {
    let mut panels = Vec::new();
    for panel in selected {
        let scale = Scale {
            extended: extended_for(panel.id),
            ..scale
        };
        panels.extend(panel_specs(panel, &scale)?);
    }
    let pending: HashSet<RunKey> = {
        let all: Vec<RunSpec> = panels.iter().flat_map(|p| p.1.clone()).collect();
        runner.pending(&all)?.iter().map(RunSpec::key).collect()
    };
    let stored = |spec: &RunSpec| !pending.contains(&spec.key());
    let (plans, representatives) = plan_panels(&panels, &stored);

    println!(
        "plan: calibrating {} group(s) (a copy of ~{CALIBRATION_STEPS} steps each, repeated; one thread, {} time)",
        representatives.len(),
        if thread_cpu_seconds().is_some() {
            "CPU"
        } else {
            "wall"
        }
    );
    let mut cost = BTreeMap::new();
    for (key, spec) in &representatives {
        cost.insert(key.clone(), seconds_per_step(spec)?);
    }
    let threads = threads.max(1) as f64;
    let mut total = 0.0;
    for plan in &plans {
        let later = plan.name.contains(' ');
        let seconds: f64 = plan
            .groups
            .iter()
            .map(|g| g.steps as f64 * cost[&g.key] / threads)
            .sum();
        total += seconds;
        println!(
            "\n{:<22} {:>5} runs, {:>5} distinct, {:>5} new   ~{}",
            plan.name,
            plan.runs,
            plan.distinct,
            plan.new,
            minutes(seconds)
        );
        if later {
            println!(
                "    (a second stage: its specs depend on the first stage's results; estimated from \
                 the panel's formula as an upper bound, taking every rate as differing from the \
                 first stage's)"
            );
        }
        for g in &plan.groups {
            let us = cost[&g.key] * 1e6;
            println!(
                "    {}  {:>5} runs {:>9.3e} steps  {us:>7.4} µs/step  ~{}",
                g.key.text(),
                g.runs,
                g.steps as f64,
                minutes(g.steps as f64 * cost[&g.key] / threads)
            );
        }
    }
    println!(
        "\nplan: total ~{} of training on {threads} thread(s) (evaluation, plots and the cost \
         panels' timings not included)",
        minutes(total)
    );
    Ok(())
}

/// `12.3 min` (or seconds below a minute).
fn minutes(seconds: f64) -> String {
    // An empty sum is -0.0.
    let seconds = seconds.abs();
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        format!("{:.1} min", seconds / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use rnn_learn::{RuleSpec, TrialEndForm};
    use rnn_tasks::{PeriodicConfig, TaskSpec};

    use super::*;

    fn spec(rule: RuleSpec, period: usize, seed: u64) -> RunSpec {
        let task = TaskSpec::Periodic(PeriodicConfig::with_period(period));
        let mut spec = RunSpec::new(task, rule);
        spec.seed = seed;
        spec.training.n_trials = 10;
        spec
    }

    #[test]
    fn runs_are_counted_once_for_the_first_panel_and_never_when_stored() {
        let a = spec(RuleSpec::rflo(0.03), 200, 0);
        let b = spec(RuleSpec::rflo(0.03), 200, 1);
        let c = spec(RuleSpec::bptt(0.03), 400, 0);
        let stored_spec = spec(RuleSpec::bptt(0.01), 400, 0);
        let panels = vec![
            ("one".to_string(), vec![a.clone(), a.clone(), b.clone()]),
            (
                "two".to_string(),
                vec![b.clone(), c.clone(), stored_spec.clone()],
            ),
        ];
        let stored_key = stored_spec.key();
        let (plans, _) = plan_panels(&panels, &|s: &RunSpec| s.key() == stored_key);
        assert_eq!((plans[0].runs, plans[0].distinct, plans[0].new), (3, 2, 2));
        assert_eq!((plans[1].runs, plans[1].distinct, plans[1].new), (3, 3, 1));
        assert_eq!(plans[0].groups.len(), 1);
        assert_eq!(plans[0].groups[0].steps, 2 * 10 * 200);
        assert_eq!(plans[1].groups[0].key.rule, "BPTT");
        assert_eq!(plans[1].groups[0].steps, 10 * 400);
    }

    #[test]
    fn groups_split_by_form_and_size_but_not_by_rate_or_period() {
        let a = spec(RuleSpec::rflo(0.03), 200, 0);
        let other_rate_and_period = spec(RuleSpec::rflo(0.001), 800, 0);
        let mut traces = a.clone();
        traces.rule = RuleSpec::Rflo {
            rates: 0.03.into(),
            projection: rnn_learn::Projection::Feedback,
            trial_end_form: TrialEndForm::Traces,
            online_form: Default::default(),
        };
        let mut bigger = a.clone();
        bigger.network.n_units = 60;
        let mut online = a.clone();
        online.training.schedule = rnn_learn::Schedule::Online;
        let panels = vec![(
            "p".to_string(),
            vec![a.clone(), other_rate_and_period, traces, bigger, online],
        )];
        let (plans, representatives) = plan_panels(&panels, &|_: &RunSpec| false);
        let groups = &plans[0].groups;
        assert_eq!(groups.len(), 4);
        assert_eq!(representatives.len(), 4);
        let plain = groups.iter().find(|g| g.key == GroupKey::of(&a)).unwrap();
        assert_eq!((plain.runs, plain.steps), (2, 10 * 200 + 10 * 800));
        assert_eq!(representatives[&GroupKey::of(&a)], a);
    }

    #[test]
    fn a_calibration_copy_is_about_the_calibration_steps_and_never_longer_than_the_run() {
        let mut long = spec(RuleSpec::rflo(0.03), 1600, 0);
        long.training.n_trials = 10_000;
        let short = calibration_copy(&long);
        assert_eq!(
            short.training.n_trials,
            CALIBRATION_STEPS.div_ceil(1600) as usize
        );
        assert_eq!(
            calibration_copy(&spec(RuleSpec::rflo(0.03), 200, 0))
                .training
                .n_trials,
            10
        );
    }
}
