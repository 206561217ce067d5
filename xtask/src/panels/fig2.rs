//! Fig 2 and its supplements: the periodic-output task (docs/spec/TASKS.md §1), N = 30.
//! The replicate seed draws the network, so the conditions of a seed share it (paired
//! comparisons), and a run needed by several panels (same spec, same key) is trained once.

use plotters::style::RGBColor;
use rnn_experiment::stats::{Summary, band, fmt_num, line_fit, median};
use rnn_experiment::{Axis, Grid, GridFile, NetworkSpec, RunSpec};
use rnn_learn::{DaleLaw, Frozen, LearningRates, RuleSpec, TrainingConfig, feedback_alignment};
use rnn_tasks::{FixedStart, PeriodicConfig, TaskSpec};

use super::{APPROX_FACTOR, LEARNS_FRACTION, Panel, PanelRun, Part, Run, Scale, loss_curves};
use super::{approx, completed, curve_indices, final_losses, initial_losses, tau_label};
use crate::Res;
use crate::plot::{self, Series, Style, colors};
use crate::report::Verdict;
use crate::row;
use crate::table::{Cell, Table};

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

/// The base spec of a Fig 2 run: periodic task of `period` steps from the
/// fixed `h(0) = 0.1`, N = 30, `rule`, per-trial updates, 10,000 trials (600
/// at `--quick`), the gradient alignment with BPTT and BPTT's gradient norm
/// measured every [`alignment_every`] trials.
pub fn base(scale: &Scale, rule: RuleSpec, period: usize) -> RunSpec {
    let task = TaskSpec::Periodic(PeriodicConfig::with_period(period));
    let mut spec = RunSpec::new(task, rule);
    spec.network = NetworkSpec::with_units(N_UNITS);
    spec.training = TrainingConfig::default()
        .with_n_trials(scale.pick(600, 10_000))
        .with_gradient_alignment_every(alignment_every(scale));
    spec
}

/// Trials between gradient measurements (each costs about one extra BPTT trial).
pub fn alignment_every(scale: &Scale) -> usize {
    scale.pick(20, 100)
}

/// The two conventions for the periodic task's `h(0)` (docs/spec/TASKS.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// `h(0) = 0.1` on every unit, every trial (the paper's example code).
    Fixed,
    /// `h(0)` drawn once per network from `U[-1, 1)`, kept for every trial (the paper's text).
    Random,
}

/// Both conventions, in report order.
pub const CONVENTIONS: [Convention; 2] = [Convention::Fixed, Convention::Random];

impl Convention {
    /// The convention's name in tables and verdicts.
    pub fn label(self) -> &'static str {
        match self {
            Convention::Fixed => "fixed 0.1",
            Convention::Random => "random per network",
        }
    }

    /// The task's `start` for `n_units` units.
    pub fn start(self, n_units: usize) -> FixedStart {
        match self {
            Convention::Fixed => FixedStart::Constant(0.1),
            Convention::Random => FixedStart::Uniform {
                n_units,
                half_width: 1.0,
            },
        }
    }

    /// The convention of a periodic run (fixed for any other start).
    pub fn of(run: &Run) -> Self {
        match &run.point.spec.task {
            TaskSpec::Periodic(c) if matches!(c.start, FixedStart::Uniform { .. }) => {
                Convention::Random
            }
            _ => Convention::Fixed,
        }
    }
}

/// The conventions a panel runs: the paper's (fixed) alone in the default
/// job; both with `--extended` (the comparison is the project's study).
pub fn conventions(scale: &Scale) -> &'static [Convention] {
    if scale.extended {
        &CONVENTIONS
    } else {
        &CONVENTIONS[..1]
    }
}

/// The report's note when the random-`h(0)` arms are left out: what is
/// missing and the command that adds it (nothing with `--extended`).
pub fn random_arms_note(p: &mut PanelRun<'_>) {
    if p.scale.extended {
        return;
    }
    let id = p.section.panel.clone();
    p.section.line(format!(
        "
The default job runs the paper's h(0) (fixed 0.1) only. The arms with h(0) {} (the \
         project's comparison of the two conventions) and their verdicts are not evaluated in the \
         default job: `cargo xtask figures --extended={id} --only {id}` adds them.",
        Convention::Random.label()
    ));
}

/// Adds the axis `task.start` over the [`conventions`] of `scale` (N = 30).
pub fn with_conventions(grid: Grid, scale: &Scale) -> Res<Grid> {
    let values: Vec<toml::Value> = conventions(scale)
        .iter()
        .map(|c| toml::Value::try_from(c.start(N_UNITS)))
        .collect::<Result<_, _>>()?;
    Ok(grid.axis(Axis::new("task.start", values)))
}

/// The runs of `runs` with convention `conv`.
pub fn of_convention<'r>(runs: &[&'r Run], conv: Convention) -> Vec<&'r Run> {
    runs.iter()
        .copied()
        .filter(|r| Convention::of(r) == conv)
        .collect()
}

/// `verdicts` with the convention appended to each claim.
pub fn labelled(verdicts: Vec<Verdict>, conv: Convention) -> Vec<Verdict> {
    let label = |mut v: Verdict| {
        v.claim = format!("{} [{}]", v.claim, conv.label());
        v
    };
    verdicts.into_iter().map(label).collect()
}

/// The replicate axis: 9 networks as in the paper (3 at `--quick`).
pub fn replicated(grid: Grid, scale: &Scale) -> Grid {
    super::replicated(grid, scale, scale.pick(3, 9))
}

/// The paper's rate of a rule at `period`: `etas[i]` for `PERIODS[i]`.
pub fn paper_eta(etas: &[f64; 4], period: usize) -> f64 {
    etas[PERIODS.iter().position(|&p| p == period).unwrap_or(0)]
}

/// The period of a run (its trial length).
pub fn period(run: &Run) -> usize {
    run.point.spec.task.steps_per_trial().unwrap_or(0)
}

/// The 20τ RFLO run at the paper's rate (fig2c; the reference of 2–S1 to 2–S3).
fn rflo_20(scale: &Scale) -> RunSpec {
    base(scale, RuleSpec::rflo(RFLO_ETA[0]), PERIODS[0])
}

/// One replicated grid per `(name, spec)`.
fn conditions(scale: &Scale, specs: Vec<(&str, RunSpec)>) -> Res<GridFile> {
    let mut grids = Vec::new();
    for (name, spec) in specs {
        grids.push(replicated(Grid::new(name, &spec)?, scale));
    }
    Ok(GridFile { grids })
}

/// A labelled, coloured group of runs (a condition).
pub type Group<'r> = (String, RGBColor, Vec<&'r Run>);
/// A condition of a panel: its grid's name and its colour.
type Cond = (&'static str, RGBColor);
/// Rows of a CSV.
type Rows = Vec<Vec<Cell>>;

/// Median final loss (failed runs as `+inf`).
pub fn med(runs: &[&Run]) -> f64 {
    final_losses(runs).median
}

/// Rates as text: one number when `eta1 = eta2 = eta3`.
pub fn rates_text(r: LearningRates) -> String {
    if r == LearningRates::uniform(r.readout) {
        return fmt_num(r.readout);
    }
    let [a, b, c] = [r.readout, r.recurrent, r.input].map(fmt_num);
    format!("readout {a}, recurrent {b}, input {c}")
}

/// Writes `file`: per run, condition, rule, period, N, rates, seed, then each of `rows(run)`.
fn runs_csv(p: &mut PanelRun<'_>, file: &str, cols: &str, rows: impl Fn(&Run) -> Rows) -> Res<()> {
    let header = format!("condition,rule,period_steps,n_units,eta,seed,{cols}");
    let mut csv = Table::new(&header.split(',').collect::<Vec<_>>());
    for r in p.runs().iter() {
        let (s, t) = (&r.point.spec, period(r));
        let (rule, n, eta) = (s.rule.label(), s.network.n_units, s.rule.rates());
        for extra in rows(r) {
            let mut cells = row![r.grid(), rule, t, n, rates_text(eta), r.seed()];
            cells.extend(extra);
            csv.row(cells);
        }
    }
    csv.write(&p.file(file))
}

/// `(index + first, value)` rows of a curve at the sampled indices.
fn curve_rows(curve: &[f64], points: usize, first: usize) -> Rows {
    let idx = curve_indices(curve.len(), points);
    idx.into_iter().map(|i| row![i + first, curve[i]]).collect()
}

/// Writes `<panel>.csv`: each run's loss curve at the sampled trials.
fn loss_csv(p: &mut PanelRun<'_>) -> Res<()> {
    let (file, points) = (format!("{}.csv", p.section.panel), curve_points(&p.scale));
    let rows = |r: &Run| curve_rows(&r.record.history.loss, points, 1);
    runs_csv(p, &file, "trial,loss", rows)
}

/// Writes `<panel>.csv`: each run's final and untrained loss.
fn finals_csv(p: &mut PanelRun<'_>) -> Res<()> {
    let file = format!("{}.csv", p.section.panel);
    let row = |r: &Run| vec![row![r.record.final_loss, r.record.initial_loss, !r.ok()]];
    runs_csv(p, &file, "final_loss,untrained_loss,failed", row)
}

/// Renders `panels` into `<panel>.svg`.
fn svg(p: &mut PanelRun<'_>, title: &str, cols: usize, panels: &[plot::Panel]) -> Res<()> {
    let path = p.file(&format!("{}.svg", p.section.panel));
    plot::render(&path, title, cols, (560, 400), panels)
}

/// A log-y loss panel: per group, [`loss_series`].
pub fn loss_panel(title: &str, groups: &[Group<'_>], points: usize) -> plot::Panel {
    let mut panel = plot::Panel::new(title, "trial", "loss L").log_y();
    for (label, color, runs) in groups {
        panel = panel.with(loss_series(label, *color, runs, points));
    }
    panel
}

/// The median loss curve of the completed `runs` with its 25–75 % band.
pub fn loss_series(label: &str, color: RGBColor, runs: &[&Run], points: usize) -> Series {
    let curves = loss_curves(runs);
    let n = curves.iter().map(|c| c.len()).max().unwrap_or(0);
    let (line, band) = super::median_band(&curves, &curve_indices(n, points));
    Series::new(label, color, Style::Line, line).with_band(band)
}

/// A median line with its 25–75 % band through `(x, summary)` points.
fn summary_series(label: &str, color: RGBColor, style: Style, pts: &[(f64, Summary)]) -> Series {
    let line = pts.iter().map(|(x, s)| (*x, s.median)).collect();
    let band = pts.iter().map(|(x, s)| (*x, s.q25, s.q75)).collect();
    Series::new(label, color, style, line).with_band(band)
}

/// Compares the grids `conds`: `<panel>.csv` (loss curves), `<panel>.svg` (titled `t`), the table.
fn compare<'r>(
    p: &mut PanelRun<'_>,
    runs: &'r [Run],
    conds: &[Cond],
    t: &str,
) -> Res<Vec<Group<'r>>> {
    loss_csv(p)?;
    let group = |&(name, c): &Cond| (name.to_string(), c, super::grid(runs, name));
    let groups: Vec<_> = conds.iter().map(group).collect();
    let (title, points) = (tau_label(period(&runs[0])), curve_points(&p.scale));
    svg(p, t, 1, &[loss_panel(&title, &groups, points)])?;
    condition_table(p, &groups);
    Ok(groups)
}

/// `"a x / b y = x/y"` for two labelled medians.
fn ratio((a, x): (&str, f64), (b, y): (&str, f64)) -> String {
    let [xs, ys, rs] = [x, y, x / y].map(fmt_num);
    format!("{a} {xs} / {b} {ys} = {rs}")
}

/// "`a` ≈ `b`": their median final losses within a factor [`APPROX_FACTOR`].
pub fn approx_verdict(claim: &str, a: (&str, f64), b: (&str, f64)) -> Verdict {
    let criterion = format!("ratio of median final losses within a factor {APPROX_FACTOR}");
    Verdict::new(claim, criterion, ratio(a, b), approx(a.1, b.1))
}

/// A table of conditions: rates, untrained and final loss, trend, failures.
pub fn condition_table(p: &mut PanelRun<'_>, groups: &[Group<'_>]) {
    let mut out = Vec::new();
    for (name, _, runs) in groups {
        let eta = runs.first().map(|r| rates_text(r.point.spec.rule.rates()));
        let i = initial_losses(runs).to_string();
        let f = final_losses(runs).to_string();
        let trend = super::trend_text(&loss_curves(runs)).1;
        let eta = eta.unwrap_or_default();
        out.push(vec![name.clone(), eta, i, f, trend, super::failed_of(runs)]);
    }
    let header =
        "condition,eta,untrained loss,final loss,end trend (last 10% / previous 10%),failed";
    p.section
        .table(&header.split(',').collect::<Vec<_>>(), &out);
}

/// fig2c: readout–feedback alignment during RFLO training.
pub const FIG2C: Panel = Panel {
    part: Part::Paper,
    id: "fig2c",
    title: "Readout–feedback alignment A = Tr(W_out B)/(|W_out| |B|) during RFLO training",
    claim: "A grows from ≈0 to clearly positive",
    grids: |s| conditions(s, vec![("RFLO", rflo_20(s))]),
    evaluate: fig2c,
};

/// |median A(0)| below this multiple of 1/sqrt(N) (chance level of two random vectors).
const FIG2C_START_CHANCE_MULTIPLE: f64 = 2.0;
/// Median final A at least this.
const FIG2C_END_MIN: f64 = 0.3;
/// Median increase A(end) − A(0) at least this.
const FIG2C_MIN_INCREASE: f64 = 0.2;

/// The alignment curve of a run: at each trial's start, then after training.
fn alignment_curve(run: &Run) -> Vec<f64> {
    let mut a = run.record.history.feedback_alignment.clone();
    a.push(feedback_alignment(&run.record.network));
    a
}

fn fig2c(p: &mut PanelRun<'_>) -> Res<()> {
    let (all, points) = (p.runs(), curve_points(&p.scale));
    // Trial i = alignment with the weights at the start of trial i+1; the last is after training.
    let rows = |r: &Run| curve_rows(&alignment_curve(r), points, 0);
    runs_csv(p, "fig2c.csv", "trial,alignment", rows)?;
    let runs = super::grid(&all, "RFLO");
    let curves: Vec<Vec<f64>> = completed(&runs).into_iter().map(alignment_curve).collect();
    let refs: Vec<&[f64]> = curves.iter().map(Vec::as_slice).collect();
    let n = refs.iter().map(|c| c.len()).max().unwrap_or(0);
    let rows = band(&refs, &curve_indices(n, points));
    let pts: Vec<_> = rows.into_iter().map(|(i, s)| (i as f64, s)).collect();
    let zero = vec![(0.0, 0.0), (n.saturating_sub(1) as f64, 0.0)];
    let panel = plot::Panel::new(tau_label(200), "trials trained", "alignment A");
    let panel = panel.with(summary_series("RFLO", colors::RFLO, Style::Line, &pts));
    let panel = panel.with(Series::new("", colors::GREY, Style::Dashed, zero));
    svg(p, "Fig 2c: readout–feedback alignment", 1, &[panel])?;

    let of = |f: fn(&Vec<f64>) -> f64| Summary::of(&curves.iter().map(f).collect::<Vec<_>>());
    let (a0, a1) = (of(|c| c[0]), of(|c| c[c.len() - 1]));
    let gain = of(|c| c[c.len() - 1] - c[0]);
    let cells = [a0.to_string(), a1.to_string(), super::failed_of(&runs)];
    let rows = ["before training", "after training", "failed runs"].into_iter();
    let rows: Vec<_> = rows.zip(cells).map(|(k, v)| vec![k.into(), v]).collect();
    p.section.table(&["", "A (median [25%, 75%])"], &rows);
    let criterion = format!(
        "abs(median A(0)) < {FIG2C_START_CHANCE_MULTIPLE} / sqrt(N) (chance level of two random vectors), \
         median final A ≥ {FIG2C_END_MIN}, median increase A(end) − A(0) ≥ {FIG2C_MIN_INCREASE} \
         (over the completed runs)"
    );
    let holds = a0.median.abs() < FIG2C_START_CHANCE_MULTIPLE / (N_UNITS as f64).sqrt()
        && a1.median >= FIG2C_END_MIN
        && gain.median >= FIG2C_MIN_INCREASE;
    let measured = format!("A(0) = {a0}; final A = {a1}; increase {gain}");
    let verdict = Verdict::new(FIG2C.claim, criterion, measured, holds);
    p.section.verdicts.push(verdict);
    Ok(())
}

/// fig2a: loss per trial, BPTT vs RFLO, T = 20τ and 160τ; final output vs target.
pub const FIG2A: Panel = Panel {
    part: Part::Paper,
    id: "fig2a",
    title: "Periodic task: loss per trial, BPTT vs RFLO, T = 20τ and 160τ; final output vs target",
    claim: "both learn; at 20τ RFLO ≈ BPTT",
    grids: |s| bptt_rflo_grids(s, &FIG2A_PERIODS),
    evaluate: fig2a,
};

/// fig2a's periods (20τ and 160τ).
const FIG2A_PERIODS: [usize; 2] = [200, 1600];
/// The rules of fig2a and fig2b (grid names), with their colours.
const RULES: [Cond; 2] = [("BPTT", colors::BPTT), ("RFLO", colors::RFLO)];
/// Generator stream of fig2a's output trial (not 1..=3; the periodic task draws nothing).
const OUTPUT_STREAM: u64 = 4;

/// BPTT and RFLO at the paper's rates over `periods` (axis `task.period` zipped with
/// `rule.rates`), replicated: one grid per rule (fig2a's runs are fig2b's).
pub fn bptt_rflo_grids(scale: &Scale, periods: &[usize]) -> Res<GridFile> {
    let grid = |rule: RuleSpec, etas: &[f64; 4]| -> Res<Grid> {
        let rates = periods.iter().map(|&t| paper_eta(etas, t));
        let axis = Axis::new("task.period", periods.iter().map(|&t| t as i64));
        let grid = Grid::new(rule.label(), &base(scale, rule, periods[0]))?;
        let grid = with_conventions(grid.axis(axis.zip("rule.rates", rates)), scale)?;
        Ok(replicated(grid, scale))
    };
    let bptt = grid(RuleSpec::bptt(BPTT_ETA[0]), &BPTT_ETA)?;
    let grids = vec![bptt, grid(RuleSpec::rflo(RFLO_ETA[0]), &RFLO_ETA)?];
    Ok(GridFile { grids })
}

/// The runs of grid `rule` at period `t` with convention `conv`.
fn at<'r>(runs: &'r [Run], rule: &str, t: usize, conv: Convention) -> Vec<&'r Run> {
    let runs = super::grid(runs, rule).into_iter();
    let runs = runs.filter(|r| period(r) == t && Convention::of(r) == conv);
    runs.collect()
}

/// BPTT and RFLO at each of `periods`, convention `conv`.
fn rule_groups<'r>(runs: &'r [Run], periods: &[usize], conv: Convention) -> Vec<Group<'r>> {
    let group = |t: usize, (r, c): Cond| {
        let name = format!("{r}, {}, {}", tau_label(t), conv.label());
        (name, c, at(runs, r, t, conv))
    };
    let groups = periods
        .iter()
        .flat_map(|&t| RULES.map(|rule| group(t, rule)));
    groups.collect()
}

/// Output and target `(t, value)` of one trial of the trained network (none for a failed run).
fn output_trace(run: &Run) -> Res<[Vec<(f64, f64)>; 2]> {
    let spec = &run.point.spec;
    let mut task = spec.build_task()?;
    let trial = task.next_trial(&mut spec.stream(OUTPUT_STREAM))?;
    if !run.ok() {
        return Ok([vec![], vec![]]);
    }
    let y = run.record.network.run_trial(&trial, None)?.y;
    let xy = |f: &dyn Fn(usize) -> f64| (0..trial.len()).map(|s| ((s + 1) as f64, f(s))).collect();
    Ok([xy(&|s| y[(0, s)]), xy(&|s| trial.target_at(s)[0])])
}

/// The completed run whose final loss is nearest the median.
fn median_run<'r>(runs: &[&'r Run]) -> Option<&'r Run> {
    let dist = |r: &&Run| (r.record.final_loss - med(runs)).abs();
    let nearest = |a: &&Run, b: &&Run| dist(a).total_cmp(&dist(b));
    completed(runs).into_iter().min_by(nearest)
}

fn fig2a(p: &mut PanelRun<'_>) -> Res<()> {
    let (all, points) = (p.runs(), curve_points(&p.scale));
    loss_csv(p)?;
    let traces = p.par_map(&all, output_trace);
    let traces: Vec<_> = traces.into_iter().collect::<Res<_>>()?;
    let rows = |r: &Run| {
        let [y, target] = &traces[r.point.index];
        let row = |(y, t): (&(f64, f64), &(f64, f64))| row![y.0 as usize, y.1, t.1];
        y.iter().zip(target).map(row).collect()
    };
    runs_csv(p, "fig2a_output.csv", "t,output,target", rows)?;
    let mut panels = Vec::new();
    for &conv in conventions(&p.scale) {
        let groups = rule_groups(&all, &FIG2A_PERIODS, conv);
        for (t, pair) in FIG2A_PERIODS.iter().zip(groups.chunks(2)) {
            let title = format!("Loss, {}, h(0) {}", tau_label(*t), conv.label());
            panels.push(loss_panel(&title, pair, points));
            let title = format!("Output after training, {}, {}", tau_label(*t), conv.label());
            let mut panel = plot::Panel::new(title, "time t (steps)", "output y(t)");
            for (_, color, runs) in pair {
                let Some(r) = median_run(runs) else { continue };
                let [y, target] = traces[r.point.index].clone();
                if panel.series.is_empty() {
                    panel = panel.with(Series::new("target", colors::GREY, Style::Dashed, target));
                }
                let label = format!("{} (median seed {})", r.grid(), r.seed());
                panel = panel.with(Series::new(label, *color, Style::Line, y));
            }
            panels.push(panel);
        }
        condition_table(p, &groups);
        let verdicts = fig2a_verdicts(&groups);
        p.section.verdicts.extend(labelled(verdicts, conv));
    }
    svg(p, "Fig 2a: periodic output, N = 30", 2, &panels)?;
    random_arms_note(p);
    Ok(())
}

/// fig2a's verdicts for the groups of one convention (BPTT, RFLO at 20τ, then at 160τ).
fn fig2a_verdicts(groups: &[Group<'_>]) -> Vec<Verdict> {
    // "learns": median final ≤ LEARNS_FRACTION × median untrained, and fewer than half failed.
    let (mut holds, mut measured) = (true, Vec::new());
    for (name, _, runs) in groups {
        let (f, u) = (med(runs), initial_losses(runs).median);
        let failed = runs.iter().filter(|r| !r.ok()).count();
        holds &= f <= LEARNS_FRACTION * u && failed * 2 < runs.len();
        let [fs, us, rs] = [f, u, f / u].map(fmt_num);
        measured.push(format!("{name}: {fs} vs untrained {us} (ratio {rs})"));
    }
    let criterion = format!(
        "median final loss ≤ {LEARNS_FRACTION} × median untrained loss, and fewer than half the runs failed"
    );
    let (claim, measured) = ("both learn (20τ and 160τ)", measured.join("; "));
    let [b, f] = [0, 1].map(|i| (RULES[i].0, med(&groups[i].2)));
    vec![
        Verdict::new(claim, criterion, measured, holds),
        approx_verdict("at 20τ RFLO ≈ BPTT", f, b),
    ]
}

/// fig2b: final loss vs period for BPTT, RFLO and the untrained network.
pub const FIG2B: Panel = Panel {
    part: Part::Paper,
    id: "fig2b",
    title: "Final loss vs period T: BPTT, RFLO, untrained",
    claim: FIG2B_CLAIM,
    grids: |s| bptt_rflo_grids(s, &PERIODS),
    evaluate: fig2b,
};

/// fig2b's claim (also re-stated by fig2b_grid with the best grid rates).
pub const FIG2B_CLAIM: &str =
    "RFLO ≈ BPTT for short T; BPTT better for long T; both far below untrained";
/// "BPTT better at long T": BPTT's median at most this fraction of RFLO's.
pub const BETTER_FRACTION: f64 = 0.5;
/// "far below untrained": at most this fraction of the untrained median.
pub const FAR_BELOW_FRACTION: f64 = 0.2;

fn fig2b(p: &mut PanelRun<'_>) -> Res<()> {
    let all = p.runs();
    finals_csv(p)?;
    let mut panels = Vec::new();
    for &conv in conventions(&p.scale) {
        let untrained = |t: usize| initial_losses(&at(&all, "BPTT", t, conv));
        let series = |(rule, color): Cond, of: &dyn Fn(usize) -> Summary| {
            let pts: Vec<_> = PERIODS.iter().map(|&t| ((t / 10) as f64, of(t))).collect();
            summary_series(rule, color, Style::LinePoints, &pts)
        };
        let title = format!("Final loss vs period, h(0) {}", conv.label());
        let mut panel = plot::Panel::new(title, "period T (τ)", "final loss L");
        for rule in RULES {
            panel = panel.with(series(rule, &|t| final_losses(&at(&all, rule.0, t, conv))));
        }
        let panel = panel.with(series(("untrained", colors::GREY), &untrained));
        panels.push(panel.log_x().log_y());
        condition_table(p, &rule_groups(&all, &PERIODS, conv));
        let med = |rule: &str, t| med(&at(&all, rule, t, conv));
        let verdicts = fig2b_verdicts(&PERIODS, med, |t| untrained(t).median);
        p.section.verdicts.extend(labelled(verdicts, conv));
    }
    let cols = panels.len();
    svg(p, "Fig 2b: loss at the end of training", cols, &panels)?;
    random_arms_note(p);
    Ok(())
}

/// fig2b's verdicts from the median final loss per (rule, period) and untrained loss per
/// period: short T is the first of `periods`, long T the last; "far below" at every period.
pub fn fig2b_verdicts(
    periods: &[usize],
    med: impl Fn(&str, usize) -> f64,
    untrained: impl Fn(usize) -> f64,
) -> Vec<Verdict> {
    let (s, l) = (periods[0], periods[periods.len() - 1]);
    let m = |rule: &'static str, t| (rule, med(rule, t));
    let (bs, fs, bl, fl) = (m("BPTT", s), m("RFLO", s), m("BPTT", l), m("RFLO", l));
    let (mut far, mut all) = (Vec::new(), true);
    for (t, (rule, _)) in periods.iter().flat_map(|&t| RULES.map(|r| (t, r))) {
        let ratio = med(rule, t) / untrained(t);
        let below = ratio <= FAR_BELOW_FRACTION;
        all &= below;
        let mark = if below { "" } else { " ✗" };
        far.push(format!("{rule} {}: {}{mark}", tau_label(t), fmt_num(ratio)));
    }
    let (s, l) = (s / 10, l / 10);
    let better = format!("median BPTT ≤ {BETTER_FRACTION} × median RFLO at {l}τ");
    let far_criterion = format!(
        "median final loss ≤ {FAR_BELOW_FRACTION} × median untrained loss at every T (ratios listed)"
    );
    let (better_claim, far_claim) = (
        format!("BPTT better for long T ({l}τ)"),
        "both far below untrained (every T)",
    );
    // A ratio, so that two failed medians (inf / inf) do not count as "better".
    let holds = bl.1 / fl.1 <= BETTER_FRACTION;
    vec![
        approx_verdict(&format!("RFLO ≈ BPTT for short T ({s}τ)"), fs, bs),
        Verdict::new(better_claim, better, ratio(bl, fl), holds),
        Verdict::new(far_claim, far_criterion, far.join("; "), all),
    ]
}

/// fig2d: T = 80τ, BPTT vs RFLO vs LocalSymmetric vs NonlocalRandom.
pub const FIG2D: Panel = Panel {
    part: Part::Paper,
    id: "fig2d",
    title: "T = 80τ: BPTT, RFLO, LocalSymmetric (local, symmetric feedback), NonlocalRandom (nonlocal, random feedback)",
    claim: "the local approximation accounts for the gap (LocalSymmetric ≈ RFLO); random feedback alone costs little (NonlocalRandom ≈ BPTT)",
    grids: |s| {
        let mut grids = Vec::new();
        for (rule, _) in fig2d_rules() {
            let grid = with_conventions(Grid::new(rule.label(), &base(s, rule, 800))?, s)?;
            grids.push(replicated(grid, s));
        }
        Ok(GridFile { grids })
    },
    evaluate: fig2d,
};

/// fig2d's rules at 80τ, at the paper's rates: LocalSymmetric takes RFLO's, NonlocalRandom
/// BPTT's (choice: the paper gives none).
fn fig2d_rules() -> [(RuleSpec, RGBColor); 4] {
    let (local, nonlocal) = (paper_eta(&RFLO_ETA, 800), paper_eta(&BPTT_ETA, 800));
    [
        (RuleSpec::bptt(nonlocal), colors::BPTT),
        (RuleSpec::rflo(local), colors::RFLO),
        (RuleSpec::local_symmetric(local), colors::LOCAL_SYMMETRIC),
        (RuleSpec::nonlocal_random(nonlocal), colors::NONLOCAL_RANDOM),
    ]
}

fn fig2d(p: &mut PanelRun<'_>) -> Res<()> {
    let (all, points) = (p.runs(), curve_points(&p.scale));
    loss_csv(p)?;
    let conds = fig2d_rules().map(|(rule, color)| (rule.label(), color));
    let mut panels = Vec::new();
    for &conv in conventions(&p.scale) {
        let group = |&(name, c): &Cond| {
            let runs = of_convention(&super::grid(&all, name), conv);
            (format!("{name}, {}", conv.label()), c, runs)
        };
        let groups: Vec<_> = conds.iter().map(group).collect();
        let title = format!("{}, h(0) {}", tau_label(800), conv.label());
        panels.push(loss_panel(&title, &groups, points));
        condition_table(p, &groups);
        let [b, f, l, n] = [0, 1, 2, 3].map(|i| (conds[i].0, med(&groups[i].2)));
        let gaps = [f, l, n].map(|(name, x)| format!("{name}/BPTT = {}", fmt_num(x / b.1)));
        p.section
            .line(format!("Gap, {}: {}.", conv.label(), gaps.join("; ")));
        let verdicts = vec![
            approx_verdict("LocalSymmetric ≈ RFLO", l, f),
            approx_verdict("NonlocalRandom ≈ BPTT", n, b),
        ];
        p.section.verdicts.extend(labelled(verdicts, conv));
    }
    let cols = panels.len();
    svg(p, "Fig 2d: which approximation costs", cols, &panels)?;
    random_arms_note(p);
    Ok(())
}

/// fig2s1: RFLO with and without Dale's law.
pub const FIG2S1: Panel = Panel {
    part: Part::Paper,
    id: "fig2s1",
    title: "RFLO with Dale's law vs without, T = 20τ",
    claim: "Dale-constrained RFLO still learns",
    grids: fig2s1_grids,
    evaluate: fig2s1,
};

/// fig2s1's conditions: RFLO at 20τ, and the same with Dale's law (f_E = 0.5) on W.
const FIG2S1_CONDS: [Cond; 2] = [("RFLO", colors::RFLO), ("RFLO + Dale", colors::BLUE)];

fn fig2s1_grids(scale: &Scale) -> Res<GridFile> {
    let mut dale = rflo_20(scale);
    dale.training.constraints.dale = Some(DaleLaw::default());
    let [plain_name, dale_name] = FIG2S1_CONDS.map(|c| c.0);
    conditions(scale, vec![(plain_name, rflo_20(scale)), (dale_name, dale)])
}

fn fig2s1(p: &mut PanelRun<'_>) -> Res<()> {
    let all = p.runs();
    let groups = compare(p, &all, &FIG2S1_CONDS, "Fig 2–S1: Dale's law")?;
    // "Learns" against the Dale network's own first-trial loss: its weights are
    // sign-flipped when training starts, after the untrained evaluation.
    let dale = &groups[1].2;
    let first = |r: &&Run| r.record.history.loss.first().copied();
    let firsts: Vec<f64> = dale.iter().filter_map(first).collect();
    let (f, first) = (("final", med(dale)), ("first trial", median(&firsts)));
    let criterion = format!(
        "median final loss ≤ {LEARNS_FRACTION} × median loss of the first training trial (the sign-constrained initial network)"
    );
    let holds = f.1 <= LEARNS_FRACTION * first.1;
    let verdict = Verdict::new(FIG2S1.claim, criterion, ratio(f, first), holds);
    p.section.verdicts.push(verdict);
    Ok(())
}

/// fig2s2: W and W_out vs readout-only vs recurrent-only.
pub const FIG2S2: Panel = Panel {
    part: Part::Paper,
    id: "fig2s2",
    title: "Which weights learn: W and W_out vs readout-only (readout fed back via B) vs recurrent-only, T = 20τ",
    claim: "both > readout-only; recurrent-only fails (≈ untrained)",
    grids: fig2s2_grids,
    evaluate: fig2s2,
};

/// Readout-only rate eta1 (paper: 0.03).
const FIG2S2_READOUT_ETA: f64 = 0.03;
/// "both > readout-only": median(W and W_out) at most this fraction of readout-only's.
const FIG2S2_BETTER_FRACTION: f64 = 0.5;
/// "≈ untrained": median(recurrent-only) at least this fraction of the untrained median.
const FIG2S2_FAILS_FRACTION: f64 = 0.5;
/// fig2s2's conditions (grid names).
const FIG2S2_CONDS: [Cond; 3] = [
    ("W and W_out (RFLO)", colors::RFLO),
    ("readout only (with feedback)", colors::BLUE),
    ("recurrent only", colors::GREEN),
];

/// RFLO at 20τ; readout-only (W, W_in frozen, only eta1 nonzero, the readout
/// fed back through B); recurrent-only (W_out frozen), at RFLO's rate.
fn fig2s2_grids(scale: &Scale) -> Res<GridFile> {
    let (full, mut readout, mut recurrent) = (rflo_20(scale), rflo_20(scale), rflo_20(scale));
    let mut rates = LearningRates::uniform(0.0);
    rates.readout = FIG2S2_READOUT_ETA;
    readout.rule = RuleSpec::rflo(rates);
    readout.network.readout_feedback = true;
    readout.training.constraints.frozen = Frozen::readout_only();
    recurrent.training.constraints.frozen = Frozen::recurrent_only();
    let [a, b, c] = FIG2S2_CONDS.map(|c| c.0);
    conditions(scale, vec![(a, full), (b, readout), (c, recurrent)])
}

fn fig2s2(p: &mut PanelRun<'_>) -> Res<()> {
    let all = p.runs();
    let title = "Fig 2–S2: recurrent and readout learning";
    let groups = compare(p, &all, &FIG2S2_CONDS, title)?;
    let [full, ro, rec] = [0, 1, 2].map(|i| med(&groups[i].2));
    let u = initial_losses(&groups[2].2).median;
    let [c1, c2] = [FIG2S2_BETTER_FRACTION, FIG2S2_FAILS_FRACTION];
    let v = &mut p.section.verdicts;
    v.push(Verdict::new(
        "training both beats readout-only",
        format!("median(W and W_out) ≤ {c1} × median(readout-only)"),
        ratio(("W and W_out", full), ("readout-only", ro)),
        full <= c1 * ro,
    ));
    v.push(Verdict::new(
        "recurrent-only fails (≈ untrained)",
        format!("median(recurrent-only) ≥ {c2} × median untrained loss"),
        ratio(("recurrent-only", rec), ("untrained", u)),
        rec >= c2 * u,
    ));
    Ok(())
}

/// fig2s3: final loss vs network size N (RFLO).
pub const FIG2S3: Panel = Panel {
    part: Part::Paper,
    id: "fig2s3",
    title: "Final loss vs network size N (RFLO, T = 20τ)",
    claim: "larger networks do better",
    grids: fig2s3_grids,
    evaluate: fig2s3,
};

/// "larger do better": median at the largest N at most this fraction of the smallest's.
const FIG2S3_BETTER_FRACTION: f64 = 0.5;

/// Network sizes (choice).
fn fig2s3_sizes(scale: &Scale) -> Vec<usize> {
    scale.pick(vec![10, 30, 60], vec![10, 20, 30, 60, 120])
}

fn fig2s3_grids(scale: &Scale) -> Res<GridFile> {
    let sizes = fig2s3_sizes(scale).into_iter().map(|n| n as i64);
    let grid = Grid::new("RFLO", &rflo_20(scale))?.axis(Axis::new("network.n_units", sizes));
    let grids = vec![replicated(grid, scale)];
    Ok(GridFile { grids })
}

fn fig2s3(p: &mut PanelRun<'_>) -> Res<()> {
    let all = p.runs();
    finals_csv(p)?;
    let mut groups: Vec<Group<'_>> = Vec::new();
    for n in fig2s3_sizes(&p.scale) {
        let runs = all.iter().filter(|r| r.point.spec.network.n_units == n);
        groups.push((format!("N = {n}"), colors::RFLO, runs.collect()));
    }
    let point = |g: &Group<'_>| (g.2[0].point.spec.network.n_units as f64, final_losses(&g.2));
    let pts: Vec<_> = groups.iter().map(point).collect();
    let series = summary_series("RFLO", colors::RFLO, Style::LinePoints, &pts);
    let panel = plot::Panel::new("RFLO, T = 20τ", "network size N (units)", "final loss L");
    let panel = panel.log_x().log_y().with(series);
    svg(p, "Fig 2–S3: network size", 1, &[panel])?;
    condition_table(p, &groups);
    let log = |f: fn(&(f64, Summary)) -> f64| pts.iter().map(|q| f(q).log10()).collect::<Vec<_>>();
    let slope = line_fit(&log(|q| q.0), &log(|q| q.1.median)).slope;
    let [first, last] = [pts[0], pts[pts.len() - 1]].map(|(n, s)| (format!("N = {n}:"), s.median));
    let (a, b) = ((last.0.as_str(), last.1), (first.0.as_str(), first.1));
    let measured = format!("slope {}; {}", fmt_num(slope), ratio(a, b));
    let holds = slope < 0.0 && last.1 <= FIG2S3_BETTER_FRACTION * first.1;
    let criterion = format!(
        "least-squares slope of log10(median final loss) vs log10(N) < 0, and median at the largest N ≤ {FIG2S3_BETTER_FRACTION} × median at the smallest"
    );
    let verdict = Verdict::new(FIG2S3.claim, criterion, measured, holds);
    p.section.verdicts.push(verdict);
    Ok(())
}
