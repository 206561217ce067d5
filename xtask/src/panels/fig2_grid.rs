//! fig2b_grid: the paper's learning-rate grid at our trial budget (FIGURES.md,
//! "Learning rates"). Every (rule, T) is trained at each rate of the grid and
//! at the paper's rate on the first Fig 2 seeds with Fig 2's spec ([`base`]),
//! so a run at the paper's rate is fig2a/fig2b's very run. The best rate has
//! the lowest median final loss, failures as +inf ([`best_by_median`]); fig2b's
//! claim is checked with its criteria at the paper's and at the best rates.

use rnn_experiment::stats::{Summary, best_by_median, fmt_num, median};
use rnn_experiment::{Axis, Grid, GridFile};
use rnn_learn::{LearningRates, RuleSpec};

use super::fig2::{BPTT_ETA, LEARNS_CRITERION, PERIODS, RFLO_ETA, base, paper_eta};
use super::fig2::{condition_table, learns_verdict};
use super::{APPROX_FACTOR, Panel, PanelRun, Run, Scale, approx, tau_label};
use crate::Res;
use crate::plot::colors::{BLUE, GREEN, LOCAL_SYMMETRIC, ORANGE};
use crate::plot::{self, Series, Style};
use crate::report::Verdict;
use crate::row;
use crate::table::Table;

/// fig2b_grid: the paper's eta grid at our budget; fig2b's claim with the best rates.
pub const FIG2B_GRID: Panel = Panel {
    id: "fig2b_grid",
    title: "The paper's learning-rate grid at our trial budget: final loss vs eta per rule and T; \
            fig2b re-stated with the best rates",
    claim: "with the best rate of the paper's grid at our budget (per rule and T): RFLO ≈ BPTT \
            for short T; BPTT better for long T; both far below untrained",
    grids,
    evaluate,
};

/// The paper's learning-rate grid (FIGURES.md), and the reduced one of `--quick`.
pub const ETA_GRID: [f64; 8] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1];
const QUICK_ETA_GRID: [f64; 4] = [1e-3, 1e-2, 3e-2, 1e-1];
/// fig2b, "BPTT better at long T": BPTT's median at most this fraction of RFLO's.
pub const BETTER_FRACTION: f64 = 0.5;
/// fig2b, "far below untrained": at most this fraction of the untrained median.
pub const FAR_BELOW_FRACTION: f64 = 0.2;
/// The rules searched (the paper gives grid-searched rates for these two).
const RULES: [&str; 2] = ["RFLO", "BPTT"];
/// The plot marks the paper's rate with a vertical bar from median / BAR to median × BAR.
const BAR: f64 = 1.6;

/// The paper's rate of `rule` at period `t`.
fn paper_rate(rule: &str, t: usize) -> f64 {
    paper_eta(if rule == "RFLO" { &RFLO_ETA } else { &BPTT_ETA }, t)
}

fn periods(scale: &Scale) -> Vec<usize> {
    scale.pick(vec![PERIODS[0], PERIODS[3]], PERIODS.to_vec())
}

/// The first Fig 2 seeds: 3 (2 at `--quick`).
fn seeds(scale: &Scale) -> Vec<i64> {
    scale.seeds(scale.pick(2, 3))
}

/// The rates tried for `rule` at `t`: the grid and the paper's rate, ascending.
fn etas(scale: &Scale, rule: &str, t: usize) -> Vec<f64> {
    let mut v = scale.pick(QUICK_ETA_GRID.to_vec(), ETA_GRID.to_vec());
    v.push(paper_rate(rule, t));
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

fn name(rule: &str, t: usize) -> String {
    format!("{rule} {}", tau_label(t))
}

/// One grid per (rule, T), named by [`name`]: axis `rule.rates`, then the
/// seeds (`seed` zipped with `training.seed`); Fig 2's trial budget.
fn grids(scale: &Scale) -> Res<GridFile> {
    let mut grids = Vec::new();
    for rule in RULES {
        for t in periods(scale) {
            let rates = LearningRates::uniform(paper_rate(rule, t));
            let rule_spec = if rule == "RFLO" {
                RuleSpec::rflo(rates)
            } else {
                RuleSpec::bptt(rates)
            };
            let seed = Axis::new("seed", seeds(scale)).zip("training.seed", seeds(scale));
            let rates = Axis::new("rule.rates", etas(scale, rule, t));
            let grid = Grid::new(&name(rule, t), &base(scale, rule_spec, t))?;
            grids.push(grid.axis(rates).axis(seed));
        }
    }
    Ok(GridFile { grids })
}

/// One (rule, T) of the search: per rate, ascending, its final losses and runs;
/// the cells of the paper's and of the best rate (`None`: every median failed).
struct Search<'r> {
    rule: &'static str,
    t: usize,
    cells: Vec<(f64, Summary, Vec<&'r Run>)>,
    paper: usize,
    best: Option<usize>,
    untrained: f64,
}

impl Search<'_> {
    /// Median final loss of cell `i` (+inf for `None`).
    fn med(&self, i: Option<usize>) -> f64 {
        i.map_or(f64::INFINITY, |i| self.cells[i].1.median)
    }

    /// A table cell: median, **bold** if best, (p) if the paper's rate, failures.
    fn cell(&self, i: usize) -> String {
        let (s, n) = (&self.cells[i].1, self.cells[i].2.len());
        let m = fmt_num(s.median);
        let m = if self.best == Some(i) {
            format!("**{m}**")
        } else {
            m
        };
        let p = if i == self.paper { " (p)" } else { "" };
        let f = if s.failed > 0 {
            format!(" [{}/{n} failed]", s.failed)
        } else {
            String::new()
        };
        format!("{m}{p}{f}")
    }
}

fn search<'r>(scale: &Scale, all: &'r [Run], rule: &'static str, t: usize) -> Res<Search<'r>> {
    let runs = super::grid(all, &name(rule, t));
    let mut cells = Vec::new();
    for eta in etas(scale, rule, t) {
        let at = |r: &&Run| r.point.spec.rule.rates().recurrent == eta;
        let g: Vec<&Run> = runs.iter().copied().filter(at).collect();
        cells.push((eta, super::final_losses(&g), g));
    }
    let loss =
        |c: &(f64, Summary, Vec<&Run>)| c.2.iter().map(|r| r.record.final_loss_or_inf()).collect();
    let best = best_by_median(&cells.iter().map(loss).collect::<Vec<_>>());
    let paper = cells
        .iter()
        .position(|c| c.0 == paper_rate(rule, t))
        .ok_or("paper's rate not run")?;
    let untrained = super::initial_losses(&runs).median;
    Ok(Search {
        rule,
        t,
        cells,
        paper,
        best,
        untrained,
    })
}

/// fig2b's three verdicts from the median final loss per (rule, T) and the
/// median untrained loss per T; short T is the first period, long T the last.
pub fn fig2b_verdicts(
    periods: &[usize],
    med: impl Fn(&str, usize) -> f64,
    untrained: impl Fn(usize) -> f64,
) -> Vec<Verdict> {
    let (short, long) = (periods[0] / 10, periods[periods.len() - 1] / 10);
    let ratio = |a: &str, b: &str, t: usize| {
        let (x, y) = (med(a, t * 10), med(b, t * 10));
        let (fx, fy, r) = (fmt_num(x), fmt_num(y), fmt_num(x / y));
        (x, y, format!("{a} {fx} / {b} {fy} = {r}"))
    };
    let ((fs, bs, short_text), (bl, fl, long_text)) =
        (ratio("RFLO", "BPTT", short), ratio("BPTT", "RFLO", long));
    let far = |r: &str, t: usize| med(r, t) / untrained(t);
    let far: Vec<(String, f64)> = periods
        .iter()
        .flat_map(|&t| RULES.map(|r| (name(r, t), far(r, t))))
        .collect();
    let ok = |x: f64| x <= FAR_BELOW_FRACTION;
    let cross = |x: f64| if ok(x) { "" } else { " ✗" };
    let listed: Vec<String> = far
        .iter()
        .map(|(n, x)| format!("{n}: {}{}", fmt_num(*x), cross(*x)))
        .collect();
    let criterion =
        format!("median final loss ≤ {FAR_BELOW_FRACTION} × median untrained loss at every T");
    vec![
        Verdict::new(
            format!("RFLO ≈ BPTT for short T ({short}τ)"),
            format!("ratio of median final losses within a factor {APPROX_FACTOR}"),
            short_text,
            approx(fs, bs),
        ),
        Verdict::new(
            format!("BPTT better for long T ({long}τ)"),
            format!("median BPTT ≤ {BETTER_FRACTION} × median RFLO at {long}τ"),
            long_text,
            bl <= BETTER_FRACTION * fl,
        ),
        Verdict::new(
            "both far below untrained (every T)",
            format!("{criterion} (ratios listed)"),
            listed.join("; "),
            far.iter().all(|(_, x)| ok(*x)),
        ),
    ]
}

fn evaluate(p: &mut PanelRun<'_>) -> Res<()> {
    let (all, periods) = (p.runs(), periods(&p.scale));
    let mut searches = Vec::new();
    for rule in RULES {
        for &t in &periods {
            searches.push(search(&p.scale, &all, rule, t)?);
        }
    }
    let header =
        "rule,period_steps,eta,seed,paper_eta,best_eta,final_loss,initial_loss,status,failure";
    let mut csv = Table::new(&header.split(',').collect::<Vec<_>>());
    for s in &searches {
        for (i, (eta, _, g)) in s.cells.iter().enumerate() {
            for r in g {
                let (eta, seed, paper, best) = (*eta, r.seed(), i == s.paper, s.best == Some(i));
                let (loss, init) = (r.record.final_loss, r.record.initial_loss);
                let status = if r.ok() { "ok" } else { "failed" };
                let failure = r.record.failure.as_ref().map_or("", |f| f.message.as_str());
                csv.row(row![
                    s.rule, s.t, eta, seed, paper, best, loss, init, status, failure
                ]);
            }
        }
    }
    csv.write(&p.file("fig2b_grid.csv"))?;

    // SVG: median final loss vs eta, one line per T (coloured by its place in PERIODS).
    let trials = all.first().map_or(0, |r| r.point.spec.training.n_trials);
    let x_label = "learning rate η (bar: the paper's; dashed: untrained)";
    let mut panels = Vec::new();
    for rule in RULES {
        let title = format!("{rule}, {trials} trials");
        let mut panel = plot::Panel::new(title, x_label, "final loss L (median over seeds)");
        let mut ys = Vec::new();
        for s in searches.iter().filter(|s| s.rule == rule) {
            let c = [BLUE, GREEN, ORANGE, LOCAL_SYMMETRIC]
                [PERIODS.iter().position(|&q| q == s.t).unwrap_or(0)];
            let line: Vec<(f64, f64)> = s.cells.iter().map(|c| (c.0, c.1.median)).collect();
            let (e0, e1, (pe, pm)) = (line[0].0, line[line.len() - 1].0, line[s.paper]);
            ys.extend(line.iter().map(|q| q.1).chain([s.untrained]));
            let (untrained, bar) = (
                vec![(e0, s.untrained), (e1, s.untrained)],
                vec![(pe, pm / BAR), (pe, pm * BAR)],
            );
            panel = panel.with(Series::new(tau_label(s.t), c, Style::LinePoints, line));
            panel = panel.with(Series::new("", c, Style::Dashed, untrained));
            panel = panel.with(Series::new("", c, Style::Line, bar));
        }
        // Headroom above the data for the legend (upper right), relative to the data's span.
        let ys: Vec<f64> = ys.into_iter().filter(|y| y.is_finite()).collect();
        let (lo, hi) = ys
            .iter()
            .fold((f64::INFINITY, 0f64), |(a, b), &y| (a.min(y), b.max(y)));
        let span = (hi / lo).max(2.0);
        panel.y_range = Some((lo / BAR / span.powf(0.05), hi * span.sqrt()));
        panels.push(panel.log_x().log_y());
    }
    let (svg, title) = (
        p.file("fig2b_grid.svg"),
        "Fig 2b, rate grid at our budget: final loss vs learning rate",
    );
    plot::render(&svg, title, 2, (560, 420), &panels)?;

    let bound = all
        .first()
        .and_then(|r| r.point.spec.training.max_loss_ratio);
    let bound = bound.map_or(String::new(), |b| {
        format!(" or exceeds {} × its first trial's", fmt_num(b))
    });
    let n = seeds(&p.scale).len();
    p.section.line(format!(
        "Seeds: networks 0..{n} of Fig 2 (paired across rates and rules); {trials} trials per run. Best η: \
         the lowest median final loss over seeds, a failed run counting as +inf, ties to the smaller η. \
         Cells: median final loss over seeds (inf: at least half the runs failed); **bold** the best η, (p) \
         the paper's, [k/n failed]. A run fails when a training trial's loss is not finite{bound}: the old \
         code had no such bound, so more high-η runs count as failed than in its reports (a loss that large \
         ranks last either way, unless the run would have recovered)."
    ));
    let mut union: Vec<f64> = searches
        .iter()
        .flat_map(|s| s.cells.iter().map(|c| c.0))
        .collect();
    union.sort_by(f64::total_cmp);
    union.dedup();
    let mut header = vec!["rule, T".to_string()];
    header.extend(
        union
            .iter()
            .map(|e| format!("η = {e}"))
            .chain(["untrained".into()]),
    );
    let (mut rows, mut conditions) = (Vec::new(), Vec::new());
    for s in &searches {
        let cell = |&e: &f64| {
            s.cells
                .iter()
                .position(|c| c.0 == e)
                .map_or("—".into(), |i| s.cell(i))
        };
        rows.push(
            [
                vec![name(s.rule, s.t)],
                union.iter().map(cell).collect(),
                vec![fmt_num(s.untrained)],
            ]
            .concat(),
        );
        let both = if s.best == Some(s.paper) {
            " = best η"
        } else {
            ""
        };
        conditions.push((
            format!("{}, paper's η{both}", name(s.rule, s.t)),
            s.cells[s.paper].2.clone(),
        ));
        if let Some(b) = s.best.filter(|&b| b != s.paper) {
            conditions.push((
                format!("{}, best η", name(s.rule, s.t)),
                s.cells[b].2.clone(),
            ));
        }
    }
    p.section.table(
        &header.iter().map(String::as_str).collect::<Vec<_>>(),
        &rows,
    );
    p.section
        .line("\nThe paper's rate and the best rate of each (rule, T):");
    condition_table(p, &conditions);
    let learns = |s: &Search<'_>| learns_verdict(&name(s.rule, s.t), &s.cells[s.paper].2);
    let learns: Vec<String> = searches
        .iter()
        .map(learns)
        .map(|(ok, x)| format!("{x}{}", if ok { " ✓" } else { " ✗" }))
        .collect();
    let differ = searches.iter().filter(|s| s.best != Some(s.paper)).count();
    p.section.line(format!(
        "Does the paper's η learn at our budget ({LEARNS_CRITERION})? {}. The best η differs from the \
         paper's for {differ} of {} (rule, T).",
        learns.join("; "),
        searches.len()
    ));

    let find = |rule: &str, t| searches.iter().find(|s| s.rule == rule && s.t == t);
    let at = |best: bool, rule: &str, t| {
        find(rule, t).map_or(f64::NAN, |s| {
            s.med(if best { s.best } else { Some(s.paper) })
        })
    };
    let untrained = |t| find("RFLO", t).map_or(f64::NAN, |s| s.untrained);
    let with_paper = fig2b_verdicts(&periods, |r, t| at(false, r, t), untrained);
    p.section.verdicts = fig2b_verdicts(&periods, |r, t| at(true, r, t), untrained);
    let word = |v: &Verdict| {
        format!(
            "{} — **{}**",
            v.measured,
            if v.holds { "holds" } else { "does not hold" }
        )
    };
    let rows: Vec<Vec<String>> = with_paper
        .iter()
        .zip(&p.section.verdicts)
        .map(|(a, b)| vec![a.claim.clone(), word(a), word(b)])
        .collect();
    p.section.line("\nfig2b's claim on these seeds, with fig2b's criteria, at the paper's and at the best rates:");
    p.section
        .table(&["claim", "paper's rates", "best grid rates"], &rows);

    // Investigation, written from this run's numbers.
    let ratio = |s: &&Search<'_>| s.med(s.best) / s.untrained;
    let far: Vec<String> = searches
        .iter()
        .filter(|s| !(ratio(s) <= FAR_BELOW_FRACTION))
        .map(|s| format!("{} ({})", name(s.rule, s.t), fmt_num(ratio(&s))))
        .collect();
    p.section.line("\n**Investigation.**");
    if !far.is_empty() {
        p.section.line(format!(
            "No rate of the grid brings these below {FAR_BELOW_FRACTION} × the untrained loss within {trials} \
             trials (best / untrained): {}. Every trial starts from the same fixed h(0) with no input \
             (TASKS.md §1), so a long period is generated autonomously from one state; the paper's trial \
             budget is not stated (the end trend of the best rate, above, says whether more trials would help).",
            far.join("; ")
        ));
    }
    let gain = |rule| {
        median(
            &searches
                .iter()
                .filter(|s| s.rule == rule)
                .map(|s| s.med(Some(s.paper)) / s.med(s.best))
                .collect::<Vec<_>>(),
        )
    };
    let (gr, gb) = (gain("RFLO"), gain("BPTT"));
    let more = if gb > gr { "BPTT" } else { "RFLO" };
    let (gr, gb) = (fmt_num(gr), fmt_num(gb));
    p.section.line(format!(
        "Median over T of the paper's / best final loss: RFLO {gr}, BPTT {gb}; tuning helps {more} more."
    ));
    Ok(())
}
