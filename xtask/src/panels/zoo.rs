//! Beyond the paper (docs/spec/FIGURES.md §5): the rule zoo on the periodic
//! task (docs/spec/TASKS.md §1), N = 30, Fig 2's networks. `zoo_loss`: final
//! loss with each rule's best rate of the paper's grid (its searches run with
//! `--extended`, and reduced at `--quick`: [`Scale::searches`]). The rate search
//! ([`rate_grid`], [`best_rate`]) is shared with `zoo_control`; `zoo_alignment`
//! has its own file.

use rnn_experiment::stats::{Summary, best_by_median, fmt_num};
use rnn_experiment::{Axis, Grid, GridFile};
use rnn_learn::RuleSpec;

use super::fig2::{PERIODS, RFLO_ETA, base};
use super::fig2_grid::ETA_GRID;
use super::{APPROX_FACTOR, final_losses, initial_losses};
use super::{Panel, PanelRun, Part, Run, Scale, approx, cols, rule_color, tau_label};
use crate::plot::{self, Series, Style};
use crate::report::Verdict;
use crate::table::Table;
use crate::{Res, row};

/// The reduced rate grid of `--quick` (a subset of the paper's).
const QUICK_ETA_GRID: [f64; 4] = [1e-3, 1e-2, 3e-2, 1e-1];

/// The rates searched: the paper's grid (docs/spec/FIGURES.md), reduced at `--quick`.
pub fn etas(scale: &Scale) -> Vec<f64> {
    scale.pick(QUICK_ETA_GRID.to_vec(), ETA_GRID.to_vec())
}

/// The random rules, whose noise has its own seed (`rule.seed`).
fn is_random(rule: &RuleSpec) -> bool {
    matches!(rule.name(), "uoro" | "kf_rtrl" | "reinforce")
}

/// Replicates of the rate searches: the first Fig 2 networks, 3 (2 at `--quick`), as in fig2b_grid.
fn search_seeds(scale: &Scale) -> Vec<i64> {
    scale.seeds(scale.pick(2, 3))
}

/// A rate search of `rule` (grid named by its label): axes `task.period`, `rule.rates`
/// ([`etas`]) and the replicate (`seed` = `training.seed`, and `rule.seed` for a random
/// rule, so that replicates do not share a noise sequence). For RFLO and BPTT these are
/// fig2b_grid's very runs (same specs, trained once).
pub fn rate_grid(scale: &Scale, rule: RuleSpec, periods: &[usize]) -> Res<Grid> {
    let random = is_random(&rule);
    let grid = Grid::new(rule.label(), &base(scale, rule, periods[0]))?;
    let periods = Axis::new("task.period", periods.iter().map(|&t| t as i64));
    let seeds = search_seeds(scale);
    let mut replicate = Axis::new("seed", seeds.clone()).zip("training.seed", seeds.clone());
    if random {
        replicate = replicate.zip("rule.seed", seeds);
    }
    let rates = Axis::new("rule.rates", etas(scale));
    Ok(grid.axis(periods).axis(rates).axis(replicate))
}

/// The period of a run (its trial length).
pub fn period(run: &Run) -> usize {
    run.point.spec.task.steps_per_trial().unwrap_or(0)
}

/// One (rule, T) rate search: per rate, its runs and final losses; the best rate
/// (lowest median final loss, failures as +inf, ties to the smaller rate).
pub struct Search<'r> {
    pub rule: String,
    pub cells: Vec<(f64, Summary, Vec<&'r Run>)>,
    /// Index of the best rate (`None`: every median is +inf).
    pub best: Option<usize>,
}

impl<'r> Search<'r> {
    /// The runs at the best rate (at the smallest rate if all failed).
    pub fn best_runs(&self) -> &[&'r Run] {
        &self.cells[self.best.unwrap_or(0)].2
    }

    /// The best rate as text (with "all failed" when no rate has a finite median).
    pub fn best_eta(&self) -> String {
        self.best
            .map_or("none (all failed)".into(), |i| fmt_num(self.cells[i].0))
    }
}

/// The rate search of grid `name` at period `t` over `etas`.
pub fn best_rate<'r>(all: &'r [Run], name: &str, t: usize, etas: &[f64]) -> Search<'r> {
    let runs = super::grid(all, name);
    let (mut cells, mut losses) = (Vec::new(), Vec::new());
    for &eta in etas {
        let at = |r: &&Run| period(r) == t && r.point.spec.rule.rates().recurrent == eta;
        let g: Vec<&Run> = runs.iter().copied().filter(at).collect();
        losses.push(g.iter().map(|r| r.record.final_loss_or_inf()).collect());
        cells.push((eta, final_losses(&g), g));
    }
    let best = best_by_median(&losses);
    Search {
        rule: name.to_string(),
        cells,
        best,
    }
}

/// zoo_loss: final loss with each rule's best rate.
pub const ZOO_LOSS: Panel = Panel {
    part: Part::Beyond,
    id: "zoo_loss",
    title: "Final loss with each rule's best rate of the paper's grid, periodic task, N = 30",
    claim: "ordering of the rules by loss; which are within a factor 3 of BPTT",
    grids: loss_grids,
    evaluate: zoo_loss,
};

/// zoo_loss's rules: BPTT and RFLO (fig2b_grid's runs), LocalSymmetric, SnAp-1,
/// REINFORCE; UORO and KF-RTRL with `--extended` (measured at N = 30, 20τ: about 6 and 9
/// times RFLO's time per trial, over the 4-minute budget of these panels). RTRL is left
/// out: it equals BPTT exactly in the trial-end form (tested in the conformance suite), at
/// O(N⁴) per step.
fn loss_rules(scale: &Scale) -> Vec<RuleSpec> {
    let r = RFLO_ETA[0];
    let mut rules = vec![
        RuleSpec::bptt(r),
        RuleSpec::rflo(r),
        RuleSpec::local_symmetric(r),
        RuleSpec::snap1(r),
        RuleSpec::reinforce(r),
    ];
    if scale.extended {
        rules.extend([RuleSpec::uoro(r), RuleSpec::kf_rtrl(r)]);
    }
    rules
}

/// zoo_loss's periods: 20τ; 80τ too with `--extended` (four times the cost per run).
fn loss_periods(scale: &Scale) -> Vec<usize> {
    if scale.extended {
        vec![PERIODS[0], PERIODS[2]]
    } else {
        vec![PERIODS[0]]
    }
}

/// None in the default job ([`Scale::searches`]).
fn loss_grids(scale: &Scale) -> Res<GridFile> {
    if !scale.searches() {
        return Ok(GridFile { grids: Vec::new() });
    }
    let periods = loss_periods(scale);
    let grids = loss_rules(scale)
        .into_iter()
        .map(|r| rate_grid(scale, r, &periods));
    Ok(GridFile {
        grids: grids.collect::<Res<_>>()?,
    })
}

/// The default job's section: what `--extended` runs, not evaluated.
fn loss_not_run(p: &mut PanelRun<'_>) -> Res<()> {
    let extended = Scale {
        extended: true,
        ..p.scale
    };
    let rules: Vec<&str> = loss_rules(&extended).iter().map(|r| r.label()).collect();
    let periods: Vec<String> = loss_periods(&extended).into_iter().map(tau_label).collect();
    let etas = etas(&extended);
    let what = format!(
        "a rate search per rule on the paper's grid: {} rules ({}) × {} periods ({}) × {} rates ({}) \
         × {} networks",
        rules.len(),
        rules.join(", "),
        periods.len(),
        periods.join(", "),
        etas.len(),
        etas.iter()
            .map(|e| fmt_num(*e))
            .collect::<Vec<_>>()
            .join(", "),
        search_seeds(&extended).len()
    );
    super::not_run(p, &what, &loss_grids(&extended)?)
}

fn zoo_loss(p: &mut PanelRun<'_>) -> Res<()> {
    if !p.scale.searches() {
        return loss_not_run(p);
    }
    let (all, etas) = (p.runs(), etas(&p.scale));
    let rules: Vec<&str> = loss_rules(&p.scale).iter().map(|r| r.label()).collect();
    let header = "rule,period_steps,eta,seed,final_loss,initial_loss,failed,best_eta";
    let mut csv = Table::new(&header.split(',').collect::<Vec<_>>());
    let (mut panels, mut rows) = (Vec::new(), Vec::new());
    for t in loss_periods(&p.scale) {
        let searches: Vec<Search<'_>> =
            rules.iter().map(|r| best_rate(&all, r, t, &etas)).collect();
        let title = format!("{}, {} trials", tau_label(t), p.scale.pick(600, 10_000));
        let x = "learning rate η";
        let mut panel = plot::Panel::new(title, x, "final loss L (median over seeds)");
        for s in &searches {
            for (i, (eta, _, g)) in s.cells.iter().enumerate() {
                for r in g {
                    let (rec, best) = (&r.record, s.best == Some(i));
                    let cells = row![s.rule.as_str(), t, *eta, r.seed(), rec.final_loss];
                    let more = row![rec.initial_loss, !r.ok(), best];
                    csv.row([cells, more].concat());
                }
            }
            let line = s.cells.iter().map(|c| (c.0, c.1.median)).collect();
            let color = rule_color(&s.rule);
            panel = panel.with(Series::new(s.rule.clone(), color, Style::LinePoints, line));
        }
        panels.push(panel.log_x().log_y());
        let bptt = searches[0].best_runs();
        let bptt_median = final_losses(bptt).median;
        let mut order: Vec<(f64, &Search<'_>)> = searches
            .iter()
            .map(|s| (final_losses(s.best_runs()).median, s))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (m, s) in &order {
            let runs = s.best_runs();
            let untrained = initial_losses(runs).median;
            let (f, ratio) = (final_losses(runs), fmt_num(m / bptt_median));
            let trend = super::trend_text(&super::loss_curves(runs)).1;
            let cells = [
                s.best_eta(),
                fmt_num(untrained),
                f.to_string(),
                ratio.clone(),
                trend,
            ];
            let mut row = vec![s.rule.clone(), tau_label(t)];
            row.extend(cells);
            row.push(super::failed_of(runs));
            rows.push(row);
            if s.rule != "BPTT" {
                let claim = format!(
                    "{} within a factor {APPROX_FACTOR} of BPTT at {}",
                    s.rule,
                    tau_label(t)
                );
                let criterion = format!(
                    "median final loss at the rule's best rate / BPTT's at its best rate within [1/{APPROX_FACTOR}, {APPROX_FACTOR}]"
                );
                let measured = format!("{} / {} = {ratio}", fmt_num(*m), fmt_num(bptt_median));
                let holds = approx(*m, bptt_median);
                p.section
                    .verdicts
                    .push(Verdict::new(claim, criterion, measured, holds));
            }
        }
        let names: Vec<String> = order
            .iter()
            .map(|(m, s)| format!("{} ({})", s.rule, fmt_num(*m)))
            .collect();
        p.section.line(format!(
            "Ordering at {} (median final loss at each rule's best rate, lowest first): {}.",
            tau_label(t),
            names.join(" < ")
        ));
    }
    csv.write(&p.file("zoo_loss.csv"))?;
    let header =
        "rule|T|best η|untrained loss|final loss|÷ BPTT|end trend (last 10% / previous 10%)|failed";
    p.section.table(&cols(header), &rows);
    let n = search_seeds(&p.scale).len();
    p.section.line(format!(
        "Seeds: networks 0..{n} of Fig 2 (paired across rules and rates); rates: {} (best: lowest median final \
         loss, failures as +inf, ties to the smaller rate). RFLO's and BPTT's runs are fig2b_grid's. RTRL is left \
         out: its trial-end update equals BPTT's exactly (conformance suite), at O(N⁴) per step. The random rules' \
         noise seed `rule.seed` is the replicate seed. {}",
        etas.iter().map(|e| fmt_num(*e)).collect::<Vec<_>>().join(", "),
        if p.scale.extended {
            "With `--extended`: UORO, KF-RTRL and T = 80τ included."
        } else {
            "Not run here (over the time budget of the default job): UORO, KF-RTRL and T = 80τ; rerun with `cargo xtask figures --extended=zoo_loss --only zoo_loss`."
        }
    ));
    let svg = p.file("zoo_loss.svg");
    plot::render(
        &svg,
        "Rule zoo: final loss vs learning rate",
        panels.len(),
        (560, 420),
        &panels,
    )?;
    Ok(())
}
