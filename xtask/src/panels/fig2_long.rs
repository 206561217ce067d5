//! fig2_long: Fig 2b's claims at long periods decided with nine networks per
//! setting (docs/spec/FIGURES.md, "Fig 2 at long periods").
//!
//! For `T` = 20τ (the short-period reference), 80τ and 160τ, both `h(0)`
//! conventions (docs/spec/TASKS.md §1) and both rules: the best rate of the
//! paper's grid on fig2b_grid's three networks (its very runs), then nine
//! networks at the paper's rate (fig2b's very runs) and at the best rate, at
//! 10,000 trials and at 50,000. The best rate is chosen at 10,000 trials and
//! kept for the larger budget. The default job runs the paper's settings
//! only (fixed `h(0)`, the paper's rates, 10,000 trials: fig2b's runs,
//! nothing of its own; no rate search, so no best rate); `--extended` adds
//! the rest, the search included ([`Scale::searches`]; reduced at `--quick`).

use rnn_experiment::stats::{Summary, end_trend, mean};
use rnn_experiment::{Axis, Grid, GridFile};
use rnn_learn::RuleSpec;

use super::fig2::{
    Convention, FIG2B_CLAIM, N_UNITS, base, bptt_rflo_grids, conventions, period, replicated,
};
use super::fig2_grid::{Search, paper_rate, periods_etas, search, search_grids};
use super::{FALLING_BELOW, LEARNS_FRACTION, Panel, PanelRun, Part, Run, Scale};
use crate::Res;

mod output;
use output::{plots, runs_csv, tables, verdicts};

/// fig2_long: the long-period study.
pub const FIG2_LONG: Panel = Panel {
    part: Part::Paper,
    id: "fig2_long",
    title: "Fig 2 at long periods: nine networks per rule, T, h(0) convention, rate (paper's, best of \
            the grid) and trial budget",
    claim: FIG2B_CLAIM,
    grids,
    evaluate,
};

/// The rules (grid name prefixes).
const RULES: [&str; 2] = ["RFLO", "BPTT"];
/// The larger trial budget of `--extended`.
const EXTENDED_TRIALS: usize = 50_000;
/// The larger budget at `--quick --extended` (tests).
const QUICK_EXTENDED_TRIALS: usize = 1_200;

/// Which rate a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rates {
    Paper,
    Best,
}

impl Rates {
    fn label(self) -> &'static str {
        match self {
            Rates::Paper => "paper's η",
            Rates::Best => "best η",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Rates::Paper => "paper",
            Rates::Best => "best",
        }
    }
}

/// The rates whose nine networks a job runs: the paper's; the best of the
/// search too with `--extended`.
fn rates_run(scale: &Scale) -> &'static [Rates] {
    if scale.extended {
        &[Rates::Paper, Rates::Best]
    } else {
        &[Rates::Paper]
    }
}

/// The periods: 20τ and 160τ at `--quick`, else 20τ, 80τ, 160τ.
fn periods(scale: &Scale) -> Vec<usize> {
    scale.pick(vec![200, 1600], vec![200, 800, 1600])
}

/// The trial budgets: Fig 2's, and the extended one with `--extended`.
fn budgets(scale: &Scale) -> Vec<usize> {
    let mut budgets = vec![scale.pick(600, 10_000)];
    if scale.extended {
        budgets.push(scale.pick(QUICK_EXTENDED_TRIALS, EXTENDED_TRIALS));
    }
    budgets
}

/// Stage 1: fig2b_grid's search at these periods (grids `search RFLO`,
/// `search BPTT`; only where [`Scale::searches`]) and fig2b's nine networks
/// at the paper's rates (`RFLO paper`, `BPTT paper`): the same specs, so
/// the same runs.
fn grids(scale: &Scale) -> Res<GridFile> {
    let (_, etas) = periods_etas(scale);
    let ts = periods(scale);
    let mut search = GridFile { grids: Vec::new() };
    if scale.searches() {
        search = search_grids(scale, &ts, &etas)?;
    }
    for grid in &mut search.grids {
        grid.name = format!("search {}", grid.name);
    }
    let mut paper = bptt_rflo_grids(scale, &ts)?;
    for grid in &mut paper.grids {
        grid.name = format!("{} paper", grid.name);
    }
    search.grids.extend(paper.grids);
    Ok(search)
}

/// Nine networks per `(rule, T, convention, eta)` of `cases`, at `trials`
/// trials; grids named `"<rule> <tag>"`.
fn nine(
    scale: &Scale,
    cases: &[(&str, usize, Convention, f64)],
    trials: usize,
    tag: &str,
) -> Res<GridFile> {
    let mut grids = Vec::new();
    for rule in RULES {
        let mine: Vec<_> = cases.iter().filter(|c| c.0 == rule).collect();
        let Some(first) = mine.first() else { continue };
        let spec_rule = if rule == "RFLO" {
            RuleSpec::rflo(first.3)
        } else {
            RuleSpec::bptt(first.3)
        };
        let mut spec = base(scale, spec_rule, first.1);
        spec.training.n_trials = trials;
        let starts: Vec<toml::Value> = mine
            .iter()
            .map(|c| toml::Value::try_from(c.2.start(N_UNITS)))
            .collect::<Result<_, _>>()?;
        let axis = Axis::new("task.period", mine.iter().map(|c| c.1 as i64))
            .zip("task.start", starts)
            .zip("rule.rates", mine.iter().map(|c| c.3));
        let grid = Grid::new(&format!("{rule} {tag}"), &spec)?.axis(axis);
        grids.push(replicated(grid, scale));
    }
    Ok(GridFile { grids })
}

/// The second stages for `--plan`: the `best` stage (and `extended`) with
/// every rate a placeholder that no first-stage run has (the best rates are
/// known only after stage one), so the plan counts their steps as an upper
/// bound: a best rate equal to the paper's reuses fig2b's runs.
pub fn planned_stages(scale: &Scale) -> Res<Vec<(&'static str, GridFile)>> {
    // Not a rate of the grid, so no key collides with a stage-one run.
    const PLACEHOLDER: f64 = 0.123_456;
    if !scale.extended {
        return Ok(Vec::new());
    }
    let budgets = budgets(scale);
    let mut cases = Vec::new();
    for &conv in conventions(scale) {
        for rule in RULES {
            cases.extend(
                periods(scale)
                    .into_iter()
                    .map(|t| (rule, t, conv, PLACEHOLDER)),
            );
        }
    }
    let mut stages = vec![("best", nine(scale, &cases, budgets[0], "best")?)];
    if let Some(&trials) = budgets.get(1) {
        let mut grids = nine(scale, &cases, trials, "best")?;
        let paper: Vec<_> = cases
            .iter()
            .map(|c| (c.0, c.1, c.2, paper_rate(c.0, c.1)))
            .collect();
        grids
            .grids
            .extend(nine(scale, &paper, trials, "paper")?.grids);
        stages.push(("extended", grids));
    }
    Ok(stages)
}

/// The nine runs of one setting: `(rule, T, convention, budget, rates)`.
struct Cell<'r> {
    rule: &'static str,
    t: usize,
    conv: Convention,
    trials: usize,
    rates: Rates,
    eta: f64,
    runs: Vec<&'r Run>,
}

/// A run's final loss as the mean over its last 1 % of training trials (`+inf` if it failed).
fn last_percent(run: &Run) -> f64 {
    let loss = &run.record.history.loss;
    if !run.ok() || loss.is_empty() {
        return f64::INFINITY;
    }
    mean(&loss[loss.len() - (loss.len() / 100).max(1)..])
}

/// Learns: the last-1 % loss at most [`LEARNS_FRACTION`] × the network's own untrained loss.
fn learns(run: &Run) -> bool {
    last_percent(run) <= LEARNS_FRACTION * run.record.initial_loss
}

/// Still falling: the end trend of its loss curve below [`FALLING_BELOW`].
fn falling(run: &Run) -> bool {
    run.ok() && end_trend(&run.record.history.loss) < FALLING_BELOW
}

impl Cell<'_> {
    fn last(&self) -> Summary {
        Summary::of(
            &self
                .runs
                .iter()
                .map(|r| last_percent(r))
                .collect::<Vec<_>>(),
        )
    }

    fn fresh(&self) -> Summary {
        super::final_losses(&self.runs)
    }

    fn untrained(&self) -> f64 {
        super::initial_losses(&self.runs).median
    }

    fn learn_count(&self) -> usize {
        self.runs.iter().filter(|r| learns(r)).count()
    }

    fn setting(&self) -> String {
        let trials = self.trials;
        format!(
            "{}, {trials} trials, {}",
            self.conv.label(),
            self.rates.label()
        )
    }
}

fn evaluate(p: &mut PanelRun<'_>) -> Res<()> {
    let (stage1, (_, etas), ts) = (p.runs(), periods_etas(&p.scale), periods(&p.scale));
    let budgets = budgets(&p.scale);
    // The best rate per (rule, T, convention), on the search's three networks
    // (no search in the default job).
    let mut searches: Vec<Search<'_>> = Vec::new();
    let convs = if p.scale.searches() {
        conventions(&p.scale)
    } else {
        &[]
    };
    for &conv in convs {
        for rule in RULES {
            let runs = super::grid(&stage1, &format!("search {rule}"));
            searches.extend(ts.iter().map(|&t| search(&runs, rule, t, conv, &etas)));
        }
    }
    let find = |rule: &str, t, conv| {
        searches
            .iter()
            .find(|s| s.rule == rule && s.t == t && s.conv == conv)
    };
    let best_eta = |rule: &str, t, conv| find(rule, t, conv).map_or(f64::NAN, Search::best_eta);
    let mut cases = Vec::new();
    for &conv in conventions(&p.scale) {
        for rule in RULES {
            cases.extend(ts.iter().map(|&t| (rule, t, conv, best_eta(rule, t, conv))));
        }
    }
    // The nine networks at the best rates are the study's own runs: `--extended` only.
    let best = if p.scale.extended {
        p.train("best", &nine(&p.scale, &cases, budgets[0], "best")?)?
    } else {
        Vec::new()
    };
    let mut extended = Vec::new();
    if let Some(&trials) = budgets.get(1) {
        let mut grids = nine(&p.scale, &cases, trials, "best")?;
        let paper: Vec<_> = cases
            .iter()
            .map(|c| (c.0, c.1, c.2, paper_rate(c.0, c.1)))
            .collect();
        grids
            .grids
            .extend(nine(&p.scale, &paper, trials, "paper")?.grids);
        extended = p.train("extended", &grids)?;
    }

    // Every cell: (budget, rates, convention, rule, T).
    let mut cells = Vec::new();
    for (b, &trials) in budgets.iter().enumerate() {
        for &rates in rates_run(&p.scale) {
            let source: &[Run] = match (b, rates) {
                (0, Rates::Paper) => &stage1,
                (0, Rates::Best) => &best,
                _ => &extended,
            };
            for &conv in conventions(&p.scale) {
                for rule in RULES {
                    for &t in &ts {
                        let name = format!("{rule} {}", rates.tag());
                        let runs = super::grid(source, &name).into_iter();
                        let runs: Vec<&Run> = runs
                            .filter(|r| period(r) == t && Convention::of(r) == conv)
                            .collect();
                        let eta = runs
                            .first()
                            .map_or(f64::NAN, |r| r.point.spec.rule.rates().recurrent);
                        cells.push(Cell {
                            rule,
                            t,
                            conv,
                            trials,
                            rates,
                            eta,
                            runs,
                        });
                    }
                }
            }
        }
    }
    runs_csv(p, &cells)?;
    tables(p, &cells, &searches);
    plots(p, &cells, &budgets)?;
    verdicts(p, &cells, &budgets, &ts);
    if !p.scale.extended {
        // At `--quick` the reduced search runs (for CI), so only its nine networks are missing.
        let search = match p.scale.searches() {
            true => "",
            false => "the rate search (fig2b_grid's) and ",
        };
        p.section.line(format!(
            "\nThe default job runs the paper's settings only: the nine networks at the paper's rates \
             (fig2b's runs) with the paper's h(0). Not in this run, so not evaluated in the default \
             job: {search}the nine networks at the best rates, the arms with h(0) {}, and the larger \
             budget ({EXTENDED_TRIALS} trials, about an hour on 2 cores); `cargo xtask figures \
             --extended=fig2_long --only fig2_long` adds them (the runs above are read from the store).",
            Convention::Random.label()
        ));
    }
    Ok(())
}
