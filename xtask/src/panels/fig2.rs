//! Fig 2 and its supplements: the periodic-output task (docs/spec/TASKS.md §1).
//!
//! Every Fig 2 run is a [`RunSpec`] on the periodic task with N = 30. The
//! replicate seed draws the network, so every condition of a seed uses the
//! same network realisation (paired comparisons), and a run needed by
//! several panels (same spec, same key) is trained once.

use rnn_experiment::stats::{Summary, band, fmt_num};
use rnn_experiment::{Axis, Grid, GridFile, NetworkSpec, RunSpec};
use rnn_learn::{LearningRates, RuleSpec, TrainingConfig, feedback_alignment};
use rnn_tasks::{PeriodicConfig, TaskSpec};

use super::{Panel, PanelRun, Run, Scale, curve_indices, tau_label};
use crate::Res;
use crate::plot::{self, Series, Style, colors};
use crate::report::Verdict;
use crate::row;
use crate::table::Table;

/// The paper's periods `T` (steps) and its grid-searched rates (docs/spec/TASKS.md §1).
pub const PERIODS: [usize; 4] = [200, 400, 800, 1600];
/// RFLO's `eta` per period (paper); used for the local rules.
pub const RFLO_ETA: [f64; 4] = [0.03, 0.01, 0.001, 0.0003];
/// BPTT's `eta` per period (paper); used for the nonlocal rules.
pub const BPTT_ETA: [f64; 4] = [0.03, 0.03, 0.01, 0.03];

/// Network size of every Fig 2 panel but 2–S3 (paper: 30).
pub const N_UNITS: usize = 30;

/// Points per loss or alignment curve in the CSVs and plots.
pub fn curve_points(scale: &Scale) -> usize {
    scale.pick(150, 400)
}

/// The base spec of a Fig 2 run: periodic task of `period` steps, N = 30,
/// `rule`, per-trial updates, 10,000 trials (600 at `--quick`).
pub fn base(scale: &Scale, rule: RuleSpec, period: usize) -> RunSpec {
    let mut spec = RunSpec::new(
        TaskSpec::Periodic(PeriodicConfig::with_period(period)),
        rule,
    );
    spec.network = NetworkSpec::with_units(N_UNITS);
    spec.training = TrainingConfig::default().with_n_trials(scale.pick(600, 10_000));
    spec
}

/// Adds the replicate axis: `seed` and `training.seed` together, `0..n`
/// (9 networks as in the paper; 3 at `--quick`).
pub fn replicated(grid: Grid, scale: &Scale) -> Grid {
    let seeds = scale.seeds(scale.pick(3, 9));
    grid.axis(Axis::new("seed", seeds.clone()).zip("training.seed", seeds))
}

/// `rule` at the paper's rates for `periods`, as one grid named `name`
/// (axis `task.period` zipped with `rule.rates`), replicated.
pub fn paper_rates_grid(
    scale: &Scale,
    name: &str,
    rule: RuleSpec,
    etas: &[f64],
    periods: &[usize],
) -> Res<Grid> {
    let grid = Grid::new(name, &base(scale, rule, periods[0]))?.axis(
        Axis::new("task.period", periods.iter().map(|&p| p as i64))
            .zip("rule.rates", etas.iter().copied()),
    );
    Ok(replicated(grid, scale))
}

/// The paper's rate of a rule at `period`: `etas[i]` for `PERIODS[i]`.
pub fn paper_eta(etas: &[f64; 4], period: usize) -> f64 {
    let i = PERIODS.iter().position(|&p| p == period).unwrap_or(0);
    etas[i]
}

/// The period of a run.
pub fn period(run: &Run) -> usize {
    match &run.point.spec.task {
        TaskSpec::Periodic(config) => config.period,
        _ => 0,
    }
}

/// A median loss curve with its 25–75 % band, over the completed runs.
pub fn loss_series(
    label: &str,
    color: plotters::style::RGBColor,
    runs: &[&Run],
    points: usize,
) -> Series {
    let curves: Vec<&[f64]> = super::completed(runs)
        .iter()
        .map(|r| r.record.history.loss.as_slice())
        .collect();
    let n = curves.iter().map(|c| c.len()).max().unwrap_or(0);
    let (line, band) = super::median_band(&curves, &curve_indices(n, points));
    Series::new(label, color, Style::Line, line).with_band(band)
}

/// "learns": median final loss at most [`super::LEARNS_FRACTION`] of the
/// median untrained loss, and fewer than half the runs failed.
pub fn learns_verdict(name: &str, runs: &[&Run]) -> (bool, String) {
    let f = super::final_losses(runs).median;
    let u = super::initial_losses(runs).median;
    let failed = runs.iter().filter(|r| !r.ok()).count();
    (
        f <= super::LEARNS_FRACTION * u && failed * 2 < runs.len(),
        format!(
            "{name}: {} vs untrained {} (ratio {})",
            fmt_num(f),
            fmt_num(u),
            fmt_num(f / u)
        ),
    )
}

/// The criterion text of [`learns_verdict`].
pub const LEARNS_CRITERION: &str =
    "median final loss ≤ 0.25 × median untrained loss, and fewer than half the runs failed";

/// A table of conditions: rate, untrained and final loss, trend, failures.
pub fn condition_table(run: &mut PanelRun<'_>, rows: &[(String, Vec<&Run>)]) {
    let mut out = Vec::new();
    for (name, runs) in rows {
        let curves: Vec<&[f64]> = super::completed(runs)
            .iter()
            .map(|r| r.record.history.loss.as_slice())
            .collect();
        let (_, trend) = super::trend_text(&curves);
        out.push(vec![
            name.clone(),
            runs.first()
                .map_or("–".into(), |r| fmt_num(r.point.spec.rule.rates().recurrent)),
            super::initial_losses(runs).to_string(),
            super::final_losses(runs).to_string(),
            trend,
            super::failed_of(runs),
        ]);
    }
    run.section.table(
        &[
            "condition",
            "eta",
            "untrained loss",
            "final loss",
            "end trend (last 10% / previous 10%)",
            "failed",
        ],
        &out,
    );
}

// ---------------------------------------------------------------- fig2c

/// fig2c: readout–feedback alignment during RFLO training.
pub const FIG2C: Panel = Panel {
    id: "fig2c",
    title: "Readout–feedback alignment A = Tr(W_out B)/(|W_out| |B|) during RFLO training",
    claim: "A grows from ≈0 to clearly positive",
    grids: fig2c_grids,
    evaluate: fig2c,
};

/// |median A(0)| below this multiple of 1/sqrt(N) (chance level of two random vectors).
const FIG2C_START_CHANCE_MULTIPLE: f64 = 2.0;
/// Median final A at least this.
const FIG2C_END_MIN: f64 = 0.3;
/// Median increase A(end) − A(0) at least this.
const FIG2C_MIN_INCREASE: f64 = 0.2;

fn fig2c_grids(scale: &Scale) -> Res<GridFile> {
    let rule = RuleSpec::rflo(LearningRates::uniform(paper_eta(&RFLO_ETA, 200)));
    Ok(GridFile {
        grids: vec![replicated(Grid::new("RFLO", &base(scale, rule, 200))?, scale)],
    })
}

/// The alignment curve of a run: at each trial's start, then after training.
fn alignment_curve(run: &Run) -> Vec<f64> {
    let mut a = run.record.history.feedback_alignment.clone();
    a.push(feedback_alignment(&run.record.network));
    a
}

fn fig2c(p: &mut PanelRun<'_>) -> Res<()> {
    let points = curve_points(&p.scale);
    let all = p.runs();
    let runs = super::grid(&all, "RFLO");
    let curves: Vec<Vec<f64>> = super::completed(&runs).iter().map(|r| alignment_curve(r)).collect();
    let mut csv = Table::new(&["seed", "trial", "alignment"]);
    for (r, curve) in super::completed(&runs).iter().zip(&curves) {
        // Index i = alignment with the weights at the start of trial i+1; the last is after training.
        for i in curve_indices(curve.len(), points) {
            csv.row(row![r.seed(), i, curve[i]]);
        }
    }
    let csv_path = p.file("fig2c.csv");
    csv.write(&csv_path)?;

    let refs: Vec<&[f64]> = curves.iter().map(Vec::as_slice).collect();
    let n = refs.iter().map(|c| c.len()).max().unwrap_or(0);
    let rows = band(&refs, &curve_indices(n, points));
    let line = rows.iter().map(|(i, s)| (*i as f64, s.median)).collect();
    let shade = rows.iter().map(|(i, s)| (*i as f64, s.q25, s.q75)).collect();
    let panel = plot::Panel::new(
        format!("RFLO, {}", tau_label(200)),
        "trials trained",
        "alignment A",
    )
    .with(Series::new("RFLO", colors::RFLO, Style::Line, line).with_band(shade))
    .with(Series::new(
        "",
        colors::GREY,
        Style::Dashed,
        vec![(0.0, 0.0), (n.saturating_sub(1) as f64, 0.0)],
    ));
    let svg = p.file("fig2c.svg");
    plot::render(&svg, "Fig 2c: readout–feedback alignment", 1, (560, 400), &[panel])?;

    let a0 = Summary::of(&curves.iter().map(|c| c[0]).collect::<Vec<_>>());
    let a1 = Summary::of(&curves.iter().map(|c| c[c.len() - 1]).collect::<Vec<_>>());
    let gain = Summary::of(&curves.iter().map(|c| c[c.len() - 1] - c[0]).collect::<Vec<_>>());
    p.section.table(
        &["", "A (median [25%, 75%])"],
        &[
            vec!["before training".into(), a0.to_string()],
            vec!["after training".into(), a1.to_string()],
            vec!["failed runs".into(), super::failed_of(&runs)],
        ],
    );
    p.section.verdicts.push(Verdict::new(
        "A grows from ≈0 to clearly positive",
        format!(
            "abs(median A(0)) < {FIG2C_START_CHANCE_MULTIPLE} / sqrt(N) (chance level of two random vectors), \
             median final A ≥ {FIG2C_END_MIN}, median increase A(end) − A(0) ≥ {FIG2C_MIN_INCREASE} \
             (over the completed runs)"
        ),
        format!("A(0) = {a0}; final A = {a1}; increase {gain}"),
        a0.median.abs() < FIG2C_START_CHANCE_MULTIPLE / (N_UNITS as f64).sqrt()
            && a1.median >= FIG2C_END_MIN
            && gain.median >= FIG2C_MIN_INCREASE,
    ));
    Ok(())
}

/// fig2a (being ported to the run-spec engine).
pub const FIG2A: Panel = Panel {
    id: "fig2a",
    title: "fig2a",
    claim: "(not yet ported)",
    grids: fig2a_grids,
    evaluate: fig2a,
};

fn fig2a_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig2a(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig2a is not yet ported".into())
}

/// fig2b (being ported to the run-spec engine).
pub const FIG2B: Panel = Panel {
    id: "fig2b",
    title: "fig2b",
    claim: "(not yet ported)",
    grids: fig2b_grids,
    evaluate: fig2b,
};

fn fig2b_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig2b(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig2b is not yet ported".into())
}

/// fig2d (being ported to the run-spec engine).
pub const FIG2D: Panel = Panel {
    id: "fig2d",
    title: "fig2d",
    claim: "(not yet ported)",
    grids: fig2d_grids,
    evaluate: fig2d,
};

fn fig2d_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig2d(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig2d is not yet ported".into())
}

/// fig2s1 (being ported to the run-spec engine).
pub const FIG2S1: Panel = Panel {
    id: "fig2s1",
    title: "fig2s1",
    claim: "(not yet ported)",
    grids: fig2s1_grids,
    evaluate: fig2s1,
};

fn fig2s1_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig2s1(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig2s1 is not yet ported".into())
}

/// fig2s2 (being ported to the run-spec engine).
pub const FIG2S2: Panel = Panel {
    id: "fig2s2",
    title: "fig2s2",
    claim: "(not yet ported)",
    grids: fig2s2_grids,
    evaluate: fig2s2,
};

fn fig2s2_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig2s2(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig2s2 is not yet ported".into())
}

/// fig2s3 (being ported to the run-spec engine).
pub const FIG2S3: Panel = Panel {
    id: "fig2s3",
    title: "fig2s3",
    claim: "(not yet ported)",
    grids: fig2s3_grids,
    evaluate: fig2s3,
};

fn fig2s3_grids(_: &Scale) -> Res<GridFile> {
    Ok(GridFile::default())
}

fn fig2s3(_: &mut PanelRun<'_>) -> Res<()> {
    Err("fig2s3 is not yet ported".into())
}
