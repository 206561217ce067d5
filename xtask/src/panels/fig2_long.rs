//! fig2_long: Fig 2b's claims at long periods decided with nine networks per
//! setting (docs/spec/FIGURES.md, "Fig 2 at long periods").
//!
//! For `T` = 20τ (the short-period reference), 80τ and 160τ, both `h(0)`
//! conventions (docs/spec/TASKS.md §1) and both rules: the best rate of the
//! paper's grid on fig2b_grid's three networks (its very runs), then nine
//! networks at the paper's rate (fig2b's very runs) and at the best rate, at
//! 10,000 trials and, with `--extended`, at 50,000. The best rate is chosen
//! at 10,000 trials and kept for the larger budget.

use rnn_experiment::stats::{Summary, end_trend, fmt_num, mean, wilson_interval};
use rnn_experiment::{Axis, Grid, GridFile};
use rnn_learn::RuleSpec;

use super::fig2::{
    BETTER_FRACTION, CONVENTIONS, Convention, FAR_BELOW_FRACTION, FIG2B_CLAIM, N_UNITS, base,
    bptt_rflo_grids, fig2b_verdicts, period, replicated,
};
use super::fig2_grid::{Search, paper_rate, periods_etas, search, search_grids};
use super::{
    FALLING_BELOW, LEARNS_FRACTION, Panel, PanelRun, Part, Run, Scale, band_at, tau_label,
};
use crate::Res;
use crate::plot::{self, Series, Style, colors};
use crate::report::Verdict;
use crate::row;
use crate::table::Table;

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
/// `search BPTT`) and fig2b's nine networks at the paper's rates (`RFLO
/// paper`, `BPTT paper`): the same specs, so the same runs.
fn grids(scale: &Scale) -> Res<GridFile> {
    let (_, etas) = periods_etas(scale);
    let ts = periods(scale);
    let mut search = search_grids(scale, &ts, &etas)?;
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
    // The best rate per (rule, T, convention), on the search's three networks.
    let mut searches: Vec<Search<'_>> = Vec::new();
    for conv in CONVENTIONS {
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
    for conv in CONVENTIONS {
        for rule in RULES {
            cases.extend(ts.iter().map(|&t| (rule, t, conv, best_eta(rule, t, conv))));
        }
    }
    let best = p.train("best", &nine(&p.scale, &cases, budgets[0], "best")?)?;
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
        for rates in [Rates::Paper, Rates::Best] {
            let source: &[Run] = match (b, rates) {
                (0, Rates::Paper) => &stage1,
                (0, Rates::Best) => &best,
                _ => &extended,
            };
            for conv in CONVENTIONS {
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
        p.section.line(format!(
            "\nThe larger budget ({EXTENDED_TRIALS} trials, about an hour on 2 cores) is not in this run: \
             `cargo xtask figures --extended=fig2_long --only fig2_long` adds it (the runs above are \
             read from the store)."
        ));
    }
    Ok(())
}

/// `fig2_long.csv`: one row per run of every cell.
fn runs_csv(p: &mut PanelRun<'_>, cells: &[Cell<'_>]) -> Res<()> {
    let header = "h0,trials,rates,rule,period_steps,eta,seed,final_last_1pct,final_fresh_trial,\
                  untrained,learns,end_trend,status";
    let mut csv = Table::new(&header.split(',').collect::<Vec<_>>());
    for c in cells {
        for r in &c.runs {
            let status = if r.ok() { "ok" } else { "failed" };
            let trend = end_trend(&r.record.history.loss);
            csv.row(row![
                c.conv.label(),
                c.trials,
                c.rates.tag(),
                c.rule,
                c.t,
                c.eta,
                r.seed(),
                last_percent(r),
                r.record.final_loss,
                r.record.initial_loss,
                learns(r),
                trend,
                status
            ]);
        }
    }
    csv.write(&p.file("fig2_long.csv"))
}

/// The best rates, and the statistics of every cell.
fn tables(p: &mut PanelRun<'_>, cells: &[Cell<'_>], searches: &[Search<'_>]) {
    let rows: Vec<Vec<String>> = searches
        .iter()
        .map(|s| {
            let (paper, best) = (s.cells[s.paper].0, s.best_eta());
            let rule_t = format!("{} {}", s.rule, tau_label(s.t));
            vec![rule_t, s.conv.label().into(), fmt_num(paper), fmt_num(best)]
        })
        .collect();
    p.section.line(
        "Best rate of the paper's grid (lowest median final loss over fig2b_grid's three networks at \
         Fig 2's budget; the paper's rate where every median failed):",
    );
    p.section
        .table(&["rule, T", "h(0)", "paper's η", "best η"], &rows);
    let mut rows = Vec::new();
    for c in cells {
        let n = c.runs.len();
        let k = c.learn_count();
        let (lo, hi) = wilson_interval(k, n);
        let falling = c.runs.iter().filter(|r| falling(r)).count();
        let failed = c.runs.iter().filter(|r| !r.ok()).count();
        rows.push(vec![
            c.setting(),
            format!("{} {}", c.rule, tau_label(c.t)),
            fmt_num(c.eta),
            c.last().to_string(),
            c.fresh().to_string(),
            fmt_num(c.untrained()),
            format!("{k}/{n} [{}, {}]", fmt_num(lo), fmt_num(hi)),
            format!("{falling}/{n}"),
            format!("{failed}/{n}"),
        ]);
    }
    p.section.line(format!(
        "\nPer setting, nine networks: the final loss as the mean over the last 1 % of training trials \
         and as the loss of the fresh test trial (median [25 %, 75 %]; failed runs +inf); the fraction \
         that learns (last-1 % loss ≤ {LEARNS_FRACTION} × the network's own untrained loss) with its 95 % \
         Wilson interval; how many curves are still falling at the end (mean of the last 10 % of trials \
         < {FALLING_BELOW} × the 10 % before). Every network's numbers are in fig2_long.csv."
    ));
    let header = [
        "setting",
        "rule, T",
        "η",
        "final (last 1 %)",
        "final (fresh trial)",
        "untrained (median)",
        "learn [95 % CI]",
        "still falling",
        "failed",
    ];
    p.section.table(&header, &rows);
}

/// fig2_long.svg (every network's final loss) and fig2_long_gradient.svg (BPTT's gradient norm at 160τ).
fn plots(p: &mut PanelRun<'_>, cells: &[Cell<'_>], budgets: &[usize]) -> Res<()> {
    let mut panels = Vec::new();
    let styles = [
        ("RFLO", Rates::Paper, colors::RFLO, 0.88),
        ("RFLO", Rates::Best, colors::ORANGE, 0.94),
        ("BPTT", Rates::Paper, colors::BPTT, 1.06),
        ("BPTT", Rates::Best, colors::BLUE, 1.12),
    ];
    for &trials in budgets {
        for conv in CONVENTIONS {
            let title = format!("h(0) {}, {trials} trials", conv.label());
            let y = "final loss (last 1 % of trials)";
            let mut panel = plot::Panel::new(title, "period T (τ), points: networks", y);
            let mine = |c: &&Cell<'_>| c.trials == trials && c.conv == conv;
            for (rule, rates, color, dx) in styles {
                let pts = cells
                    .iter()
                    .filter(mine)
                    .filter(|c| c.rule == rule && c.rates == rates)
                    .flat_map(|c| {
                        c.runs
                            .iter()
                            .map(move |r| ((c.t / 10) as f64 * dx, last_percent(r)))
                    });
                let label = format!("{rule}, {}", rates.label());
                panel = panel.with(Series::new(label, color, Style::Points, pts.collect()));
            }
            let untrained = cells
                .iter()
                .filter(mine)
                .filter(|c| c.rule == "RFLO" && c.rates == Rates::Paper)
                .map(|c| ((c.t / 10) as f64, c.untrained()));
            panel = panel.with(Series::new(
                "untrained",
                colors::GREY,
                Style::Dashed,
                untrained.collect(),
            ));
            panels.push(panel.log_x().log_y());
        }
    }
    let svg = p.file("fig2_long.svg");
    plot::render(
        &svg,
        "Fig 2 at long periods: every network's final loss",
        2,
        (560, 420),
        &panels,
    )?;

    let (mut panels, mut norms) = (Vec::new(), Vec::new());
    for &trials in budgets {
        for conv in CONVENTIONS {
            let title = format!("BPTT, T = 160τ, h(0) {}, {trials} trials", conv.label());
            let mut panel = plot::Panel::new(title, "trial", "‖∂L/∂W‖ (median, 25–75 %)");
            for (rates, color) in [(Rates::Paper, colors::BPTT), (Rates::Best, colors::BLUE)] {
                let cell = cells.iter().find(|c| {
                    (c.rule, c.t, c.conv, c.trials, c.rates) == ("BPTT", 1600, conv, trials, rates)
                });
                let Some(cell) = cell else { continue };
                let curves: Vec<Vec<f64>> = super::completed(&cell.runs)
                    .iter()
                    .map(|r| {
                        r.record
                            .history
                            .gradient_alignment
                            .iter()
                            .map(|a| a.exact_gradient_norm)
                            .collect()
                    })
                    .collect();
                let trial_of = cell
                    .runs
                    .first()
                    .map(|r| {
                        r.record
                            .history
                            .gradient_alignment
                            .iter()
                            .map(|a| a.trial)
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                let (line, band) = band_at(&curves, |i| {
                    trial_of.get(i).map_or(0.0, |&t| (t + 1) as f64)
                });
                let label = format!("η = {} ({})", fmt_num(cell.eta), rates.label());
                panel = panel.with(Series::new(label, color, Style::Line, line).with_band(band));
                let of = |f: fn(&Vec<f64>) -> f64| {
                    Summary::of(
                        &curves
                            .iter()
                            .filter(|c| !c.is_empty())
                            .map(f)
                            .collect::<Vec<_>>(),
                    )
                };
                let first = of(|c| c[0]);
                let peak = of(|c| c.iter().copied().fold(0.0, f64::max) / c[0]);
                let last = of(|c| c[c.len() - 1]);
                norms.push(vec![
                    format!("{}, {trials} trials, {}", conv.label(), rates.label()),
                    fmt_num(cell.eta),
                    first.to_string(),
                    peak.to_string(),
                    last.to_string(),
                ]);
            }
            panels.push(panel.log_y());
        }
    }
    if !norms.is_empty() {
        p.section.line(
            "\nBPTT's exact gradient norm ‖∂L/∂W‖_F at 160τ over training (medians [25 %, 75 %] over the \
             completed networks; the largest norm is relative to each network's first):",
        );
        let header = [
            "setting",
            "η",
            "at trial 0",
            "largest / first",
            "at the end",
        ];
        p.section.table(&header, &norms);
    }
    if panels.iter().any(|p| !p.series.is_empty()) {
        let svg = p.file("fig2_long_gradient.svg");
        let every = super::fig2::alignment_every(&p.scale);
        let title =
            format!("BPTT's gradient norm over training, T = 160τ (measured every {every} trials)");
        plot::render(&svg, &title, 2, (560, 400), &panels)?;
    }
    Ok(())
}

/// Per (convention, budget, rates): fig2b's three claims; and the evidence for the default convention.
fn verdicts(p: &mut PanelRun<'_>, cells: &[Cell<'_>], budgets: &[usize], ts: &[usize]) {
    let mut summary = Vec::new();
    for &trials in budgets {
        for rates in [Rates::Paper, Rates::Best] {
            for conv in CONVENTIONS {
                let cell = |rule: &str, t| {
                    cells.iter().find(|c| {
                        (c.rule, c.t, c.conv, c.trials, c.rates) == (rule, t, conv, trials, rates)
                    })
                };
                let med = |rule: &str, t| cell(rule, t).map_or(f64::NAN, |c| c.last().median);
                let untrained = |t| cell("RFLO", t).map_or(f64::NAN, |c| c.untrained());
                let parts = fig2b_verdicts(ts, med, untrained);
                let holds = parts.iter().all(|v| v.holds);
                let words: Vec<String> = parts
                    .iter()
                    .map(|v| {
                        format!(
                            "{} — {} ({})",
                            v.claim,
                            v.measured,
                            crate::report::verdict_word(v.holds)
                        )
                    })
                    .collect();
                let setting = format!("{}, {trials} trials, {}", conv.label(), rates.label());
                summary.push(vec![
                    setting.clone(),
                    parts
                        .iter()
                        .map(|v| crate::report::verdict_word(v.holds))
                        .collect::<Vec<_>>()
                        .join(" / "),
                ]);
                let criterion = format!(
                    "fig2b's three criteria on the median last-1 % loss of nine networks: ratio RFLO/BPTT at \
                     {} within a factor 3; median BPTT ≤ {BETTER_FRACTION} × median RFLO at {}; every median \
                     ≤ {FAR_BELOW_FRACTION} × the median untrained loss",
                    tau_label(ts[0]),
                    tau_label(ts[ts.len() - 1])
                );
                p.section.verdicts.push(Verdict::new(
                    format!("the paper's ordering [{setting}]"),
                    criterion,
                    words.join("; "),
                    holds,
                ));
            }
        }
    }
    p.section.line("\nFig 2b's claims per setting (RFLO ≈ BPTT for short T / BPTT better for long T / both far below untrained):");
    p.section.table(&["setting", "verdicts"], &summary);
    // Which convention the evidence favours: networks that learn at the long periods.
    let long = |c: &&Cell<'_>| c.t >= 800;
    let mut evidence = Vec::new();
    for conv in CONVENTIONS {
        let mine: Vec<&Cell<'_>> = cells
            .iter()
            .filter(long)
            .filter(|c| c.conv == conv)
            .collect();
        // Distinct runs: where the best rate is the paper's, the two cells share their runs.
        let mut seen = std::collections::HashSet::new();
        let runs: Vec<&Run> = mine
            .iter()
            .flat_map(|c| c.runs.iter().copied())
            .filter(|r| seen.insert(r.point.spec.key()))
            .collect();
        let (k, n) = (runs.iter().filter(|r| learns(r)).count(), runs.len());
        let (lo, hi) = wilson_interval(k, n);
        evidence.push((
            conv,
            k,
            n,
            format!("{k} of {n} runs [{}, {}]", fmt_num(lo), fmt_num(hi)),
        ));
    }
    let text: Vec<String> = evidence
        .iter()
        .map(|e| format!("{}: {}", e.0.label(), e.3))
        .collect();
    let fraction = |i: usize| evidence[i].1 as f64 / evidence[i].2.max(1) as f64;
    let interval = |i: usize| wilson_interval(evidence[i].1, evidence[i].2);
    let ((lo0, hi0), (lo1, hi1)) = (interval(0), interval(1));
    let overlap = lo0 <= hi1 && lo1 <= hi0;
    let larger = match fraction(0).total_cmp(&fraction(1)) {
        std::cmp::Ordering::Equal => "The two fractions are equal".to_string(),
        std::cmp::Ordering::Greater => {
            format!("The larger fraction is with h(0) {}", evidence[0].0.label())
        }
        std::cmp::Ordering::Less => {
            format!("The larger fraction is with h(0) {}", evidence[1].0.label())
        }
    };
    // The periodic task's default follows the evidence only when the intervals separate.
    let more = if overlap {
        format!(
            "{larger}, but the 95 % intervals overlap: the evidence does not favour either convention, so the \
             periodic task's default stays {} (the paper's example code; a random h(0) also needs the \
             network's N in the task spec).",
            CONVENTIONS[0].label()
        )
    } else {
        format!(
            "{larger}, and the 95 % intervals do not overlap: the evidence favours that convention (the \
             periodic task's default is still {}, because a random h(0) needs the network's N in the task spec; \
             state `start = {{ uniform = {{ n_units = N, half_width = 1.0 }} }}`).",
            CONVENTIONS[0].label()
        )
    };
    p.section.line(format!(
        "\nDistinct training runs that learn at the long periods (80τ and 160τ; every rule, rate and budget \
         of this run; a run shared by the paper's and the best rate counted once), by convention: {}. {more}",
        text.join("; ")
    ));
}
