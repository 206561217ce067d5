//! fig2b_grid: the paper's learning-rate grid at our trial budget (docs/spec/FIGURES.md, "Learning rates")
//! on the first Fig 2 seeds with Fig 2's spec, so a run at the paper's rate is fig2b's very run;
//! fig2b's criteria at the paper's and the best rates (lowest median, failures as +inf).
//! The search is the project's robustness study of the paper's rates, not a figure of the
//! paper: it runs with `--extended` (and reduced at `--quick`, for CI), and the default job's
//! section says what it would run ([`Scale::searches`]).

use rnn_experiment::stats::{Summary, best_by_median, fmt_num, quantile};
use rnn_experiment::{Axis, Grid, GridFile};
use rnn_learn::RuleSpec;

use super::fig2::{
    BPTT_ETA, Convention, FAR_BELOW_FRACTION, PERIODS, RFLO_ETA, base, condition_table,
    conventions, fig2b_verdicts, labelled, paper_eta, period, random_arms_note, with_conventions,
};
use super::replicated;
use super::{Panel, PanelRun, Part, Run, Scale, tau_label};
use crate::Res;
use crate::plot::colors::{BLUE, GREEN, GREY, LOCAL_SYMMETRIC, ORANGE};
use crate::plot::{self, Series, Style};
use crate::row;
use crate::table::Table;

/// fig2b_grid: the paper's eta grid at our budget; fig2b's claim with the best rates.
pub const FIG2B_GRID: Panel = Panel {
    part: Part::Paper,
    id: "fig2b_grid",
    title: "The paper's learning-rate grid at our trial budget: final loss vs eta per rule and T; \
            fig2b re-stated with the best rates",
    claim: "with the best rate of the paper's grid at our budget (per rule and T): RFLO ≈ BPTT \
            for short T; BPTT better for long T; both far below untrained",
    grids,
    evaluate,
};

/// The paper's learning-rate grid (docs/spec/FIGURES.md), and the reduced one of `--quick`.
pub const ETA_GRID: [f64; 8] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1];
const QUICK_ETA_GRID: [f64; 4] = [1e-3, 1e-2, 3e-2, 1e-1];
/// The rules searched (the paper gives grid-searched rates for these two).
const RULES: [&str; 2] = ["RFLO", "BPTT"];
/// The plot marks the paper's rate with a vertical bar from median / BAR to median × BAR.
const BAR: f64 = 1.6;
const X_LABEL: &str = "learning rate η (bar: paper's; dashed: untrained)";

/// The paper's rate of `rule` at period `t`.
pub fn paper_rate(rule: &str, t: usize) -> f64 {
    paper_eta(if rule == "RFLO" { &RFLO_ETA } else { &BPTT_ETA }, t)
}

/// The periods, and the rates: the grid and the paper's rates at these periods, ascending.
pub fn periods_etas(scale: &Scale) -> (Vec<usize>, Vec<f64>) {
    let periods = scale.pick(vec![PERIODS[0], PERIODS[3]], PERIODS.to_vec());
    let mut etas = scale.pick(QUICK_ETA_GRID.to_vec(), ETA_GRID.to_vec());
    for &t in &periods {
        etas.extend(RULES.map(|r| paper_rate(r, t)));
    }
    etas.sort_by(f64::total_cmp);
    etas.dedup();
    (periods, etas)
}

/// One grid per rule (base: the paper's rate at 20τ): axes `task.period`,
/// `rule.rates`, `task.start` (both conventions), seeds.
/// None in the default job ([`Scale::searches`]).
pub fn grids(scale: &Scale) -> Res<GridFile> {
    if !scale.searches() {
        return Ok(GridFile { grids: Vec::new() });
    }
    let (periods, etas) = periods_etas(scale);
    search_grids(scale, &periods, &etas)
}

/// The default job's section: what `--extended` runs, not evaluated.
fn not_run(p: &mut PanelRun<'_>) -> Res<()> {
    let extended = Scale {
        extended: true,
        ..p.scale
    };
    let (periods, etas) = periods_etas(&extended);
    let ts: Vec<String> = periods.iter().map(|&t| tau_label(t)).collect();
    let convs: Vec<&str> = conventions(&extended).iter().map(|c| c.label()).collect();
    let what = format!(
        "the paper's learning-rate grid at our budget for {} × {} periods ({}) × {} rates (the \
         paper's grid with its own rates at these periods: {}) × {} h(0) conventions ({}) × {} networks",
        RULES.join(" and "),
        periods.len(),
        ts.join(", "),
        etas.len(),
        etas.iter()
            .map(|e| fmt_num(*e))
            .collect::<Vec<_>>()
            .join(", "),
        convs.len(),
        convs.join("; "),
        extended.seeds(extended.pick(2, 3)).len()
    );
    super::not_run(p, &what, &grids(&extended)?)?;
    p.section.line(
        "\nThe search is the project's robustness study of the paper's rates, not a figure of the \
         paper; fig2b decides the claim at the paper's rates. fig2_long's best-rate parts and \
         zoo_loss read this search and are not evaluated in the default job either.",
    );
    Ok(())
}

/// The search over `etas` at `periods` (both conventions, the first Fig 2
/// seeds: 3, 2 at `--quick`); shared with fig2_long, whose runs at the same
/// specs are these very runs.
pub fn search_grids(scale: &Scale, periods: &[usize], etas: &[f64]) -> Res<GridFile> {
    let n = scale.pick(2, 3);
    let mut grids = Vec::new();
    for rule in [RuleSpec::rflo(RFLO_ETA[0]), RuleSpec::bptt(BPTT_ETA[0])] {
        let grid = Grid::new(rule.label(), &base(scale, rule, PERIODS[0]))?;
        let periods = Axis::new("task.period", periods.iter().map(|&t| t as i64));
        let rates = Axis::new("rule.rates", etas.to_vec());
        let grid = with_conventions(grid.axis(periods).axis(rates), scale)?;
        grids.push(replicated(grid, scale, n));
    }
    Ok(GridFile { grids })
}

/// One (rule, T) of the search: per rate, ascending, its final losses and runs;
/// the cells of the paper's rate and of the best (`None`: every median failed).
pub struct Search<'r> {
    pub rule: &'static str,
    pub t: usize,
    pub conv: Convention,
    pub cells: Vec<(f64, Summary, Vec<&'r Run>)>,
    pub paper: usize,
    pub best: Option<usize>,
    pub untrained: f64,
}

impl Search<'_> {
    /// Median final loss at the best rate (`best`) or at the paper's; +inf if none.
    pub fn med(&self, best: bool) -> f64 {
        let i = if best { self.best } else { Some(self.paper) };
        i.map_or(f64::INFINITY, |i| self.cells[i].1.median)
    }

    fn name(&self) -> String {
        format!("{} {}, {}", self.rule, tau_label(self.t), self.conv.label())
    }

    /// The best rate, or the paper's when every median failed.
    pub fn best_eta(&self) -> f64 {
        self.cells[self.best.unwrap_or(self.paper)].0
    }

    /// A table cell: median, **bold** if best, (p) if the paper's rate, failures.
    fn cell(&self, i: usize) -> String {
        let (s, n) = (&self.cells[i].1, self.cells[i].2.len());
        let b = if self.best == Some(i) { "**" } else { "" };
        let m = fmt_num(s.median);
        let p = if i == self.paper { " (p)" } else { "" };
        let f = (s.failed > 0).then(|| format!(" [{}/{n} failed]", s.failed));
        format!("{b}{m}{b}{p}{}", f.unwrap_or_default())
    }
}

/// The search of `rule` at period `t` and convention `conv` among `runs` (its grid's runs).
pub fn search<'r>(
    runs: &[&'r Run],
    rule: &'static str,
    t: usize,
    conv: Convention,
    etas: &[f64],
) -> Search<'r> {
    let (mut cells, mut losses) = (Vec::new(), Vec::new());
    for &eta in etas {
        let at = |r: &&Run| {
            period(r) == t
                && Convention::of(r) == conv
                && r.point.spec.rule.rates().recurrent == eta
        };
        let g: Vec<&Run> = runs.iter().copied().filter(at).collect();
        losses.push(g.iter().map(|r| r.record.final_loss_or_inf()).collect());
        cells.push((eta, super::final_losses(&g), g));
    }
    let best = best_by_median(&losses);
    let paper = etas.iter().position(|&e| e == paper_rate(rule, t));
    let untrained = super::initial_losses(&cells[0].2).median;
    Search {
        rule,
        t,
        conv,
        cells,
        paper: paper.unwrap_or(0),
        best,
        untrained,
    }
}

fn evaluate(p: &mut PanelRun<'_>) -> Res<()> {
    if !p.scale.searches() {
        return not_run(p);
    }
    let (all, (periods, etas)) = (p.runs(), periods_etas(&p.scale));
    let convs = conventions(&p.scale);
    let cases = convs.iter().flat_map(|&c| {
        let periods = &periods;
        RULES
            .iter()
            .flat_map(move |r| periods.iter().map(move |&t| (r, t, c)))
    });
    let of = |r: &str| super::grid(&all, r);
    let searches: Vec<Search<'_>> = cases
        .map(|(r, t, c)| search(&of(r), r, t, c, &etas))
        .collect();
    let header =
        "rule,period_steps,h0,eta,seed,paper_eta,best_eta,final_loss,initial_loss,status,failure";
    let mut csv = Table::new(&header.split(',').collect::<Vec<_>>());
    for s in &searches {
        for (i, (eta, _, g)) in s.cells.iter().enumerate() {
            let (rule, t, eta, paper, best) = (s.rule, s.t, *eta, i == s.paper, s.best == Some(i));
            let h0 = s.conv.label();
            for r in g {
                let (seed, loss, init) = (r.seed(), r.record.final_loss, r.record.initial_loss);
                let status = if r.ok() { "ok" } else { "failed" };
                let failure = r.record.failure.as_ref().map_or("", |f| f.message.as_str());
                csv.row(row![
                    rule, t, h0, eta, seed, paper, best, loss, init, status, failure
                ]);
            }
        }
    }
    csv.write(&p.file("fig2b_grid.csv"))?;

    // SVG: median final loss vs eta, one line per T (coloured by its place in PERIODS).
    let spec = &all.first().ok_or("fig2b_grid has no runs")?.point.spec;
    let trials = spec.training.n_trials;
    let mut panels = Vec::new();
    for (conv, rule) in convs.iter().flat_map(|&c| RULES.map(|r| (c, r))) {
        let title = format!("{rule}, {trials} trials, h(0) {}", conv.label());
        let mut panel = plot::Panel::new(title, X_LABEL, "final loss L (median over seeds)");
        for s in searches.iter().filter(|s| s.rule == rule && s.conv == conv) {
            let k = PERIODS.iter().position(|&q| q == s.t).unwrap_or(0);
            let c = [BLUE, GREEN, ORANGE, LOCAL_SYMMETRIC][k];
            let (pe, pm) = (etas[s.paper], s.med(false));
            let line: Vec<(f64, f64)> = s.cells.iter().map(|c| (c.0, c.1.median)).collect();
            let untrained = vec![(etas[0], s.untrained), (etas[etas.len() - 1], s.untrained)];
            panel = panel.with(Series::new(tau_label(s.t), c, Style::LinePoints, line));
            panel = panel.with(Series::new("", c, Style::Dashed, untrained));
            let bar = vec![(pe, pm / BAR), (pe, pm * BAR)];
            panel = panel.with(Series::new("", c, Style::Line, bar));
        }
        // Headroom above the data for the legend (upper right), relative to the data's span.
        let points = panel.series.iter().flat_map(|s| &s.points);
        let ys: Vec<f64> = points.map(|q| q.1).filter(|y| y.is_finite()).collect();
        let (lo, hi) = (quantile(&ys, 0.0), quantile(&ys, 1.0));
        let span = (hi / lo).max(2.0);
        panel.y_range = Some((lo / span.powf(0.05), hi * span.sqrt()));
        panels.push(panel.log_x().log_y());
    }
    let svg = p.file("fig2b_grid.svg");
    let title = "Fig 2b, rate grid at our budget: final loss vs learning rate";
    plot::render(&svg, title, 2, (560, 420), &panels)?;

    let mut header = vec!["rule, T".to_string()];
    header.extend(etas.iter().map(|e| format!("η = {e}")));
    header.push("untrained".into());
    let (mut rows, mut conditions, mut far) = (Vec::new(), Vec::new(), Vec::new());
    for s in &searches {
        let cells = (0..etas.len()).map(|i| s.cell(i));
        rows.push([vec![s.name()], cells.collect(), vec![fmt_num(s.untrained)]].concat());
        let best = s.best.filter(|&b| b != s.paper);
        let same = if best.is_none() { " (= best)" } else { "" };
        let paper = format!("{}, paper's η{same}", s.name());
        conditions.push((paper, GREY, s.cells[s.paper].2.clone()));
        let best_name = |b: usize| (format!("{}, best η", s.name()), GREY, s.cells[b].2.clone());
        conditions.extend(best.map(best_name));
        let r = s.med(true) / s.untrained;
        if r > FAR_BELOW_FRACTION {
            far.push(format!("{} ({})", s.name(), fmt_num(r)));
        }
    }
    let bound = fmt_num(spec.training.max_loss_ratio.unwrap_or(f64::INFINITY));
    let n = p.scale.seeds(p.scale.pick(2, 3)).len();
    let sec = &mut p.section;
    sec.line(format!(
        "Seeds: networks 0..{n} of Fig 2 (paired across rates and rules); {trials} trials per run. Cells: \
         median final loss over seeds (inf: at least half the runs failed); **bold** the best η (lowest \
         median, ties to the smaller η), (p) the paper's, [k/n failed]. A run fails when a training trial's \
         loss is not finite or exceeds {bound} × its first trial's (the engine's divergence bound): the old \
         code had no such bound, so more high-η runs count as failed (+inf) than in its reports; a loss that \
         large ranks last either way unless the run would have recovered."
    ));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    sec.table(&header, &rows);
    sec.line("\nThe paper's rate and the best rate of each (rule, T):");
    condition_table(p, &conditions);

    // fig2b's verdicts at the best rates; at the paper's rates in their measured text.
    for &conv in convs {
        let find = |rule: &str, t| {
            let same = |s: &&Search<'_>| s.rule == rule && s.t == t && s.conv == conv;
            searches.iter().find(same)
        };
        let at = |best| move |rule: &str, t| find(rule, t).map_or(f64::NAN, |s| s.med(best));
        let untrained = |t| find("RFLO", t).map_or(f64::NAN, |s| s.untrained);
        let paper = fig2b_verdicts(&periods, at(false), untrained);
        let mut verdicts = fig2b_verdicts(&periods, at(true), untrained);
        for (v, w) in verdicts.iter_mut().zip(paper) {
            let (b, q) = (&v.measured, &w.measured);
            let word = ["does not hold", "holds"][usize::from(w.holds)];
            v.measured = format!("best rates: {b}; paper's rates: {q} ({word})");
        }
        p.section.verdicts.extend(labelled(verdicts, conv));
    }
    if !far.is_empty() {
        p.section.line(format!(
            "\n**Investigation.** No rate of the grid brings these below {FAR_BELOW_FRACTION} × the untrained \
             loss within {trials} trials (best / untrained): {}. Every trial starts from the same h(0) \
             with no input (docs/spec/TASKS.md §1), so a long period is generated autonomously from one state; the \
             paper's trial budget is not stated (fig2_long decides the long-period claims with nine networks, \
             both conventions and a larger budget).",
            far.join("; ")
        ));
    }
    random_arms_note(p);
    Ok(())
}
