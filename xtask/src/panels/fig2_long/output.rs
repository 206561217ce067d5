//! fig2_long's output: the per-run CSV, the tables, the plots and the verdicts.

use rnn_experiment::stats::{Summary, end_trend, fmt_num, wilson_interval};

use super::super::fig2::{
    BETTER_FRACTION, CONVENTIONS, Convention, FAR_BELOW_FRACTION, fig2b_verdicts,
};
use super::super::fig2_grid::Search;
use super::super::{FALLING_BELOW, LEARNS_FRACTION, PanelRun, Run, band_at, tau_label};
use super::{Cell, Rates, falling, last_percent, learns};
use crate::Res;
use crate::plot::{self, Series, Style, colors};
use crate::report::Verdict;
use crate::row;
use crate::table::Table;

/// `fig2_long.csv`: one row per run of every cell.
pub(super) fn runs_csv(p: &mut PanelRun<'_>, cells: &[Cell<'_>]) -> Res<()> {
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
pub(super) fn tables(p: &mut PanelRun<'_>, cells: &[Cell<'_>], searches: &[Search<'_>]) {
    let rows: Vec<Vec<String>> = searches
        .iter()
        .map(|s| {
            let (paper, best) = (s.cells[s.paper].0, s.best_eta());
            let rule_t = format!("{} {}", s.rule, tau_label(s.t));
            vec![rule_t, s.conv.label().into(), fmt_num(paper), fmt_num(best)]
        })
        .collect();
    if rows.is_empty() {
        p.section.line(
            "Best rate of the paper's grid: not evaluated in the default job (fig2b_grid's rate search \
             is not run; `--extended=fig2_long` runs it).",
        );
    } else {
        p.section.line(
            "Best rate of the paper's grid (lowest median final loss over fig2b_grid's three networks at \
             Fig 2's budget; the paper's rate where every median failed):",
        );
        p.section
            .table(&["rule, T", "h(0)", "paper's η", "best η"], &rows);
    }
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
pub(super) fn plots(p: &mut PanelRun<'_>, cells: &[Cell<'_>], budgets: &[usize]) -> Res<()> {
    let mut panels = Vec::new();
    let styles = [
        ("RFLO", Rates::Paper, colors::RFLO, 0.88),
        ("RFLO", Rates::Best, colors::ORANGE, 0.94),
        ("BPTT", Rates::Paper, colors::BPTT, 1.06),
        ("BPTT", Rates::Best, colors::BLUE, 1.12),
    ];
    for &trials in budgets {
        for conv in present(cells) {
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
        for conv in present(cells) {
            let title = format!("BPTT, T = 160τ, h(0) {}, {trials} trials", conv.label());
            let mut panel = plot::Panel::new(title, "trial", "‖∂L/∂W‖ (median, 25–75 %)");
            for (rates, color) in [(Rates::Paper, colors::BPTT), (Rates::Best, colors::BLUE)] {
                let cell = cells.iter().find(|c| {
                    (c.rule, c.t, c.conv, c.trials, c.rates) == ("BPTT", 1600, conv, trials, rates)
                });
                let Some(cell) = cell else { continue };
                let curves: Vec<Vec<f64>> = super::super::completed(&cell.runs)
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
        let every = super::super::fig2::alignment_every(&p.scale);
        let title =
            format!("BPTT's gradient norm over training, T = 160τ (measured every {every} trials)");
        plot::render(&svg, &title, 2, (560, 400), &panels)?;
    }
    Ok(())
}

/// Per (convention, budget, rates): fig2b's three claims; and the evidence for the default convention.
pub(super) fn verdicts(p: &mut PanelRun<'_>, cells: &[Cell<'_>], budgets: &[usize], ts: &[usize]) {
    let mut summary = Vec::new();
    for &trials in budgets {
        for rates in [Rates::Paper, Rates::Best] {
            if !cells.iter().any(|c| c.rates == rates) {
                continue;
            }
            for conv in present(cells) {
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
    if present(cells).len() < CONVENTIONS.len() {
        p.section.line(
            "\nWhich h(0) convention more networks learn with: not evaluated in the default job (it runs \
             the paper's h(0) only); `cargo xtask figures --extended=fig2_long --only fig2_long` adds the \
             other convention.",
        );
        return;
    }
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

/// The conventions `cells` hold runs of, in report order.
fn present(cells: &[Cell<'_>]) -> Vec<Convention> {
    let has = |conv: &Convention| cells.iter().any(|c| c.conv == *conv && !c.runs.is_empty());
    CONVENTIONS.into_iter().filter(has).collect()
}
