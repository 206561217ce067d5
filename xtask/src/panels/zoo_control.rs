//! Beyond the paper (docs/spec/FIGURES.md §5): the two alternatives the
//! paper's Discussion names, on the periodic task at 20τ, N = 30.
//! `reinforce`: REINFORCE (node perturbation, the paper's Eq 8) against RFLO
//! and BPTT, each at its best rate of the paper's grid (zoo_loss's runs, which
//! it trains itself in the default job, where zoo_loss trains nothing);
//! `force`: FORCE (RLS on the readout, readout fed back) against RFLO.

use rnn_experiment::stats::{Summary, fmt_num, median};
use rnn_experiment::{Axis, Grid, GridFile};
use rnn_learn::{RuleSpec, Schedule};

use super::fig2::{Group, PERIODS, RFLO_ETA, base, condition_table, loss_panel};
use super::zoo::{Search, best_rate, etas, rate_grid};
use super::{Panel, PanelRun, Part, Run, Scale, cols, rule_color, tau_label};
use crate::plot::{self, Series, Style};
use crate::report::Verdict;
use crate::table::Table;
use crate::{Res, row};

/// "reached": a loss at most this fraction of the run's untrained loss.
const THRESHOLD: f64 = 0.1;

/// The first number of trials trained after which the trial loss is at most
/// [`THRESHOLD`] × the untrained loss (`loss[i]` is the loss of trial `i + 1`,
/// run with the weights after `i` trials); `None` if never.
fn trials_to_threshold(run: &Run) -> Option<usize> {
    let bound = THRESHOLD * run.record.initial_loss;
    run.record.history.loss.iter().position(|&l| l <= bound)
}

/// Median of per-run counts, a run that never reaches the threshold as +inf.
fn median_count(counts: &[Option<usize>]) -> f64 {
    let v: Vec<f64> = counts
        .iter()
        .map(|c| c.map_or(f64::INFINITY, |n| n as f64))
        .collect();
    median(&v)
}

/// A count as text: `> budget` when not reached.
fn count_text(m: f64, budget: usize) -> String {
    if m.is_finite() {
        fmt_num(m)
    } else {
        format!("> {budget}")
    }
}

/// reinforce: trials to 0.1 × the untrained loss, REINFORCE vs RFLO vs BPTT.
pub const REINFORCE: Panel = Panel {
    part: Part::Beyond,
    id: "reinforce",
    title: "Trials to reach 0.1 × the untrained loss, periodic task T = 20τ, N = 30: REINFORCE (node \
            perturbation, Eq 8) vs RFLO vs BPTT, each at its best rate of the paper's grid",
    claim: "reinforcement learning \"is typically much slower than supervised learning\" (Discussion): by what factor",
    grids: reinforce_grids,
    evaluate: reinforce,
};

/// The rules of `reinforce` (zoo_loss's rate searches at 20τ, the same runs).
fn reinforce_rules() -> [RuleSpec; 3] {
    let r = RFLO_ETA[0];
    [RuleSpec::reinforce(r), RuleSpec::rflo(r), RuleSpec::bptt(r)]
}

fn reinforce_grids(scale: &Scale) -> Res<GridFile> {
    let grids = reinforce_rules()
        .into_iter()
        .map(|r| rate_grid(scale, r, &PERIODS[..1]));
    Ok(GridFile {
        grids: grids.collect::<Res<_>>()?,
    })
}

/// "much slower": REINFORCE's median trials to threshold at least this multiple of each supervised rule's.
const SLOWER_FACTOR: f64 = 10.0;

fn reinforce(p: &mut PanelRun<'_>) -> Res<()> {
    let (all, etas, t) = (p.runs(), etas(&p.scale), PERIODS[0]);
    let labels = reinforce_rules().map(|r| r.label());
    let searches: Vec<Search<'_>> = labels
        .iter()
        .map(|l| best_rate(&all, l, t, &etas))
        .collect();
    let budget = all.first().map_or(0, |r| r.point.spec.training.n_trials);
    let mut csv = Table::new(&cols(
        "rule|eta|seed|untrained_loss|final_loss|trials_to_threshold",
    ));
    let (mut rows, mut medians, mut groups) = (Vec::new(), Vec::new(), Vec::<Group<'_>>::new());
    for s in &searches {
        let runs = s.best_runs();
        let counts: Vec<Option<usize>> = runs.iter().map(|r| trials_to_threshold(r)).collect();
        for (r, c) in runs.iter().zip(&counts) {
            let eta = r.point.spec.rule.rates().recurrent;
            let count = c.map_or(String::new(), |n| n.to_string());
            csv.row(row![
                s.rule.as_str(),
                eta,
                r.seed(),
                r.record.initial_loss,
                r.record.final_loss,
                count
            ]);
        }
        let m = median_count(&counts);
        let reached = counts.iter().filter(|c| c.is_some()).count();
        let f = super::final_losses(runs).to_string();
        let cells = [
            s.best_eta(),
            count_text(m, budget),
            format!("{reached}/{}", runs.len()),
            f,
        ];
        rows.push([vec![s.rule.clone()], cells.to_vec()].concat());
        medians.push(m);
        groups.push((s.rule.clone(), rule_color(&s.rule), runs.to_vec()));
    }
    csv.write(&p.file("reinforce.csv"))?;
    let header = cols("rule|best η|median trials to 0.1 × untrained|runs reaching it|final loss");
    p.section.table(&header, &rows);
    condition_table(p, &groups);
    let points = p.scale.pick(150, 400);
    let svg = p.file("reinforce.svg");
    let title = format!("{}, best rates", tau_label(t));
    plot::render(
        &svg,
        "REINFORCE vs supervised rules",
        1,
        (560, 420),
        &[loss_panel(&title, &groups, points)],
    )?;

    // Factor REINFORCE / supervised; a REINFORCE median beyond the budget gives a lower bound.
    let (mut holds, mut measured) = (true, Vec::new());
    let rf = medians[0];
    for (label, m) in labels.iter().zip(&medians).skip(1) {
        let (factor, bound) = match (rf.is_finite(), m.is_finite()) {
            (_, false) => (f64::NAN, ""),
            (true, true) => (rf / m, ""),
            (false, true) => ((budget + 1) as f64 / m, "> "),
        };
        holds &= factor >= SLOWER_FACTOR;
        measured.push(format!(
            "REINFORCE {} / {label} {} = {bound}{}",
            count_text(rf, budget),
            count_text(*m, budget),
            fmt_num(factor)
        ));
    }
    p.section.verdicts.push(Verdict::new(
        "REINFORCE is much slower than supervised learning (RFLO, BPTT)",
        format!(
            "median over seeds of the trials to reach {THRESHOLD} × the untrained loss (a run that never does: +inf; \
             a REINFORCE median beyond the {budget}-trial budget gives the lower bound (budget + 1) / other), \
             REINFORCE ≥ {SLOWER_FACTOR} × RFLO's and ≥ {SLOWER_FACTOR} × BPTT's"
        ),
        measured.join("; "),
        holds,
    ));
    p.section.line(format!(
        "Each rule at its best rate of the paper's grid ({}; the runs of zoo_loss's searches at 20τ, \
         trained by this panel when zoo_loss is not run; the first {} Fig 2 networks, {budget} trials). The loss per trial is the training trial's: for REINFORCE that of the noisy trial \
         (noise sigma = {}). REINFORCE's rate multiplies (R − R̄)/σ² (MODEL.md §14), so its scale differs from \
         the supervised rules'.",
        etas.iter().map(|e| fmt_num(*e)).collect::<Vec<_>>().join(", "),
        searches[0].best_runs().len(),
        rnn_learn::Reinforce::DEFAULT_SIGMA
    ));
    Ok(())
}

/// force: FORCE vs RFLO, free-running error after training.
pub const FORCE: Panel = Panel {
    part: Part::Beyond,
    id: "force",
    title: "FORCE (RLS on the readout, readout fed back, online) vs RFLO, periodic task T = 20τ, N = 30: \
            free-running loss after training",
    claim: "FORCE learns in tens of periods where RFLO needs thousands, at a nonlocal cost",
    grids: force_grids,
    evaluate: force,
};

/// FORCE's training lengths (periods): each a run, evaluated free-running after training.
fn force_trials(scale: &Scale) -> Vec<usize> {
    scale.pick(vec![1, 5, 20], vec![1, 2, 5, 10, 20, 50, 100])
}

/// FORCE proper (`eta1 = 1`, `delta = 1`; no rate search: the rate is part of the method) in
/// readout-feedback mode on the online schedule, `W` and `W_in` unchanged, at each length of
/// [`force_trials`]; RFLO: Fig 2's runs at the paper's rate (fig2c's, trained once).
fn force_grids(scale: &Scale) -> Res<GridFile> {
    let n = scale.pick(3, 9);
    let mut spec = base(scale, RuleSpec::force(1.0), PERIODS[0]);
    spec.network.readout_feedback = true;
    spec.training.schedule = Schedule::Online;
    let trials = Axis::new(
        "training.n_trials",
        force_trials(scale).into_iter().map(|k| k as i64),
    );
    let force = super::replicated(Grid::new("FORCE", &spec)?.axis(trials), scale, n);
    let rflo = base(scale, RuleSpec::rflo(RFLO_ETA[0]), PERIODS[0]);
    let rflo = super::replicated(Grid::new("RFLO", &rflo)?, scale, n);
    Ok(GridFile {
        grids: vec![force, rflo],
    })
}

/// "tens of periods": FORCE's median below this; "thousands": RFLO's median at least this.
const FORCE_TENS: f64 = 100.0;
const RFLO_THOUSANDS: f64 = 1000.0;

fn force(p: &mut PanelRun<'_>) -> Res<()> {
    let all = p.runs();
    let (force_runs, rflo_runs) = (super::grid(&all, "FORCE"), super::grid(&all, "RFLO"));
    let lengths = force_trials(&p.scale);
    let max_len = *lengths.last().unwrap_or(&0);
    let mut csv = Table::new(&cols(
        "rule|seed|trials_trained|free_running_loss|untrained_loss",
    ));
    for r in &force_runs {
        let (rec, k) = (&r.record, r.point.spec.training.n_trials);
        csv.row(row![
            "FORCE",
            r.seed(),
            k,
            rec.final_loss_or_inf(),
            rec.initial_loss
        ]);
    }
    let budget = rflo_runs
        .first()
        .map_or(0, |r| r.point.spec.training.n_trials);
    for r in &rflo_runs {
        let rec = &r.record;
        csv.row(row![
            "RFLO",
            r.seed(),
            budget,
            rec.final_loss_or_inf(),
            rec.initial_loss
        ]);
    }
    csv.write(&p.file("force.csv"))?;
    // FORCE per seed: the shortest training after which the free-running loss is ≤ THRESHOLD × untrained.
    let mut seeds: Vec<u64> = force_runs.iter().map(|r| r.seed()).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let force_counts: Vec<Option<usize>> = seeds
        .iter()
        .map(|&s| {
            let mut of_seed: Vec<&&Run> = force_runs.iter().filter(|r| r.seed() == s).collect();
            of_seed.sort_by_key(|r| r.point.spec.training.n_trials);
            let reached =
                |r: &&&Run| r.record.final_loss_or_inf() <= THRESHOLD * r.record.initial_loss;
            of_seed
                .into_iter()
                .find(reached)
                .map(|r| r.point.spec.training.n_trials)
        })
        .collect();
    let rflo_counts: Vec<Option<usize>> =
        rflo_runs.iter().map(|r| trials_to_threshold(r)).collect();
    let (fm, rm) = (median_count(&force_counts), median_count(&rflo_counts));
    let at = |k: usize| {
        let runs: Vec<&Run> = force_runs
            .iter()
            .copied()
            .filter(|r| r.point.spec.training.n_trials == k)
            .collect();
        super::final_losses(&runs)
    };
    let mut rows: Vec<Vec<String>> = lengths
        .iter()
        .map(|&k| vec![format!("FORCE, {k} periods"), at(k).to_string()])
        .collect();
    rows.push(vec![
        format!("RFLO (η = {}), {budget} periods", RFLO_ETA[0]),
        super::final_losses(&rflo_runs).to_string(),
    ]);
    let fu = super::initial_losses(&force_runs);
    rows.push(vec![
        "untrained, FORCE's networks (readout fed back)".into(),
        fu.to_string(),
    ]);
    rows.push(vec![
        "untrained, RFLO's networks".into(),
        super::initial_losses(&rflo_runs).to_string(),
    ]);
    p.section
        .table(&cols("condition|free-running loss after training"), &rows);
    p.section.line(format!(
        "Median periods to reach {THRESHOLD} × the untrained loss: FORCE {} (runs reaching it within {max_len}: {}/{}), \
         RFLO {} ({}/{} within {budget}).",
        count_text(fm, max_len),
        force_counts.iter().filter(|c| c.is_some()).count(),
        force_counts.len(),
        count_text(rm, budget),
        rflo_counts.iter().filter(|c| c.is_some()).count(),
        rflo_counts.len(),
    ));

    // Plot: free-running loss vs periods trained (log–log): FORCE's medians, RFLO's curve.
    let force_pts: Vec<(f64, Summary)> = lengths.iter().map(|&k| (k as f64, at(k))).collect();
    let line = force_pts.iter().map(|(x, s)| (*x, s.median)).collect();
    let band = force_pts.iter().map(|(x, s)| (*x, s.q25, s.q75)).collect();
    let mut panel = plot::Panel::new(
        tau_label(PERIODS[0]),
        "periods trained",
        "free-running loss L",
    );
    panel = panel
        .with(Series::new("FORCE", rule_color("FORCE"), Style::LinePoints, line).with_band(band));
    let curves = super::loss_curves(&rflo_runs);
    let n = curves.iter().map(|c| c.len()).max().unwrap_or(0);
    let idx: Vec<usize> = super::curve_indices(n, p.scale.pick(150, 400))
        .into_iter()
        .filter(|&i| i > 0)
        .collect();
    let (line, band) = super::median_band(&curves, &idx);
    // median_band draws at index + 1; loss[i] is after i trials: shift back.
    let line = line.into_iter().map(|(x, y)| (x - 1.0, y)).collect();
    let band = band
        .into_iter()
        .map(|(x, lo, hi)| (x - 1.0, lo, hi))
        .collect();
    panel = panel.with(Series::new("RFLO", rule_color("RFLO"), Style::Line, line).with_band(band));
    let svg = p.file("force.svg");
    plot::render(
        &svg,
        "FORCE vs RFLO",
        1,
        (560, 420),
        &[panel.log_x().log_y()],
    )?;

    let criterion = format!(
        "median over seeds of the periods trained until the free-running loss is ≤ {THRESHOLD} × the untrained loss \
         (FORCE: the shortest of its training lengths {lengths:?}; RFLO: its trial losses, each a free run from h(0) \
         with the weights in force; never: +inf): FORCE < {FORCE_TENS}, RFLO ≥ {RFLO_THOUSANDS}"
    );
    let measured = format!(
        "FORCE {}; RFLO {}",
        count_text(fm, max_len),
        count_text(rm, budget)
    );
    let holds = fm < FORCE_TENS && rm >= RFLO_THOUSANDS;
    let claim = "FORCE learns in tens of periods where RFLO needs thousands";
    p.section
        .verdicts
        .push(Verdict::new(claim, criterion, measured, holds));
    p.section.line(
        "\nThe nonlocal cost: FORCE's update of each readout weight uses `P h(t)` with the N×N inverse correlation \
         estimate `P` (MODEL.md §15): every weight's change depends on every unit's activity, O(N²) per step \
         (cost_zoo). The periodic task restarts every period from the same h(0) (TASKS.md §1; it has no \
         carry-over option), so FORCE here learns from repeated restarts rather than one continuous run; \
         the evaluation is one free-running period from h(0) with the output fed back.",
    );
    Ok(())
}
