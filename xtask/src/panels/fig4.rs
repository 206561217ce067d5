//! Fig 4: reach syllables (docs/spec/TASKS.md §3), the sequencing loop (§5, crate `rnn-loop`) and the whole
//! sequence without a loop (§4). fig4c plays the loop in the evaluator on fig4a's trained networks.

use plotters::style::RGBColor;
use rnn_core::InitialState::{CarryOver, Constant};
use rnn_experiment::stats::{Summary, fmt_num, mean, median};
use rnn_experiment::{Grid, GridFile, NetworkSpec, RunSpec, spec::STREAM_TASK};
use rnn_learn::{RuleSpec, TrainingConfig};
use rnn_loop::{LoopConfig, Sequencer, mean_squared_distance};
use rnn_tasks::{ReachConfig, ReachSyllables, TaskSpec, WholeSequence, WholeSequenceConfig};

use super::{
    Panel, PanelRun, Part, Run, Scale, band_at, binned_median_band, cols, completed, grid,
};
use super::{curve_indices, failed_of, fig2::loss_series, loss_curves, replicated, trend_text};
use crate::plot::{self, Series, Style, colors};
use crate::report::Verdict;
use crate::table::Table;
use crate::{Res, row};

/// Network size (paper: 100).
const N_UNITS: usize = 100;
/// RFLO rate of the syllables and rate of both no-loop rules (spec: 0.03).
const ETA: f64 = 0.03;
/// fig4a: every syllable's median endpoint error below this (reach lengths).
const ENDPOINT_MAX: f64 = 0.5;
/// The loop's generator: stream 10 of the syllable run's seed (1–3 are the run's own).
const LOOP_STREAM: u64 = 10;
/// The grid of the syllable runs (fig4a and fig4c).
const SYLLABLES: &str = "syllables";
const SYLLABLE_COLORS: [RGBColor; 4] = [colors::RFLO, colors::BLUE, colors::GREEN, colors::ORANGE];
/// fig4c's conditions (`"no-loop <rule>"` = grid name) and their colours.
const CONDITIONS: [&str; 3] = ["loop", "no-loop RFLO", "no-loop BPTT"];
const CONDITION_COLORS: [RGBColor; 3] = [colors::RFLO, colors::BLUE, colors::BPTT];

type Path2 = Vec<[f64; 2]>;

fn spec(task: TaskSpec, rule: RuleSpec, n_trials: usize) -> RunSpec {
    let mut spec = RunSpec::new(task, rule);
    spec.network = NetworkSpec::with_units(N_UNITS);
    spec.training = TrainingConfig::default().with_n_trials(n_trials);
    spec
}

/// RFLO on the loop's own reach task (`LoopConfig::reach_config`), 3 seeds.
fn syllable_grids(scale: &Scale) -> Res<GridFile> {
    let task = TaskSpec::Reach(LoopConfig::default().reach_config());
    let base = spec(task, RuleSpec::rflo(ETA), scale.pick(1500, 10_000));
    let grids = vec![replicated(Grid::new(SYLLABLES, &base)?, scale, 3)];
    Ok(GridFile { grids })
}

/// The median seed: the finite value nearest the median of `values`.
fn median_index(values: &[f64]) -> Option<usize> {
    let m = median(values);
    let dev = |i: usize| (values[i] - m).abs();
    let finite = (0..values.len()).filter(|&i| values[i].is_finite());
    finite.min_by(|&a, &b| dev(a).total_cmp(&dev(b)))
}

fn xy(path: &[[f64; 2]]) -> Vec<(f64, f64)> {
    path.iter().map(|q| (q[0], q[1])).collect()
}

/// Each syllable's produced and target path from the origin in the test lap, after a warm-up
/// lap from `h = first_initial_value`, the state carried over (no laps for a failed run).
fn syllable_paths(run: &Run, reach: &ReachConfig) -> Res<Vec<(Path2, Path2)>> {
    let (task, k) = (ReachSyllables::new(reach.clone())?, reach.shape.n_syllables);
    let (h0, laps) = (reach.first_initial_value, if run.ok() { 2 } else { 0 });
    let (mut state, mut out) = (None, Vec::new());
    for i in 0..laps * k {
        let trial = task.syllable_trial(i % k, if i > 0 { CarryOver } else { Constant(h0) })?;
        let tr = run.record.network.run_trial(&trial, state.as_ref())?;
        state = Some(tr.final_state());
        if i >= k {
            let path = |v| rnn_tasks::integrate_velocity(v, [0.0; 2]);
            out.push((path(tr.outputs())?, path(trial.targets())?));
        }
    }
    Ok(out)
}

/// fig4a: four reach syllables after RFLO training.
pub const FIG4A: Panel = Panel {
    part: Part::Paper,
    id: "fig4a",
    title: "Four reach syllables after RFLO training: cursor paths (each syllable from the origin)",
    claim: "four distinct reaches in the four directions",
    grids: syllable_grids,
    evaluate: fig4a,
};

fn fig4a(p: &mut PanelRun<'_>) -> Res<()> {
    let (points, all) = (p.scale.pick(150, 400), p.runs());
    let (runs, reach) = (grid(&all, SYLLABLES), LoopConfig::default().reach_config());
    let k = reach.shape.n_syllables;
    let paths = p.par_map(&runs, |r| syllable_paths(r, &reach));
    let paths = paths.into_iter().collect::<Res<Vec<_>>>()?;
    let mut csv = Table::new(&cols("seed|syllable|t|x|y|target_x|target_y"));
    let mut loss_csv = Table::new(&cols("seed|trial|loss"));
    let end = |v: &Path2| *v.last().unwrap_or(&[f64::NAN; 2]);
    let dist = |(a, b): &(Path2, Path2)| (end(a)[0] - end(b)[0]).hypot(end(a)[1] - end(b)[1]);
    // errors[run][syllable]: endpoint distance, NaN (+inf in medians) for a failed run.
    let mut errors: Vec<Vec<f64>> = Vec::new();
    for (r, ps) in runs.iter().zip(&paths) {
        let loss = &r.record.history.loss;
        for i in curve_indices(loss.len(), points) {
            loss_csv.row(row![r.seed(), i + 1, loss[i]]);
        }
        for (s, (a, b)) in ps.iter().enumerate() {
            for (t, (a, b)) in a.iter().zip(b).enumerate() {
                csv.row(row![r.seed(), s, t + 1, a[0], a[1], b[0], b[1]]);
            }
        }
        errors.push((0..k).map(|s| ps.get(s).map_or(f64::NAN, dist)).collect());
    }
    csv.write(&p.file("fig4a.csv"))?;
    loss_csv.write(&p.file("fig4a_loss.csv"))?;
    let best = median_index(&errors.iter().map(|e| mean(e)).collect::<Vec<_>>());
    let seed = best.map_or("-".into(), |b| runs[b].seed().to_string());
    let title = format!("Cursor paths (median seed {seed})");
    let axes = ("cursor x (reach lengths)", "cursor y (reach lengths)");
    let mut path_panel = plot::Panel::new(title, axes.0, axes.1);
    (path_panel.x_range, path_panel.y_range) = (Some((-1.4, 1.4)), Some((-1.4, 1.4)));
    for (s, (a, b)) in best.map_or(&[][..], |b| &paths[b]).iter().enumerate() {
        let c = SYLLABLE_COLORS[s % 4];
        path_panel = path_panel
            .with(Series::new("", c, Style::Dashed, xy(b)))
            .with(Series::new(format!("syllable {s}"), c, Style::Line, xy(a)));
    }
    let curves = loss_curves(&runs);
    let (l, b) = binned_median_band(&curves, points / 2);
    let title = "Training loss (mean over bins of trials)";
    let loss = Series::new("RFLO", colors::RFLO, Style::Line, l).with_band(b);
    let loss_panel = plot::Panel::new(title, "trial", "loss L").log_y();
    let (svg, panels) = (p.file("fig4a.svg"), [path_panel, loss_panel.with(loss)]);
    plot::render(&svg, "Fig 4a: reach syllables", 2, (460, 420), &panels)?;
    let round = |x: f64| (x * 100.0).round() / 100.0 + 0.0;
    let (mut rows, mut all_hold, mut measured) = (Vec::new(), true, Vec::new());
    for s in 0..k {
        let sm = Summary::of(&errors.iter().map(|e| e[s]).collect::<Vec<_>>());
        let [x, y] = reach.shape.direction(s).map(round);
        rows.push(vec![s.to_string(), format!("({x}, {y})"), sm.to_string()]);
        all_hold &= sm.median < ENDPOINT_MAX;
        measured.push(format!("{s}: {}", fmt_num(sm.median)));
    }
    let header = cols("syllable|direction|endpoint error (reach lengths)");
    p.section.table(&header, &rows);
    let (failed, trend) = (failed_of(&runs), trend_text(&curves).1);
    p.section.line(format!(
        "Failed runs: {failed}. Training-loss end trend (last 10% / previous 10%): {trend}. \
         The spec's prototype reached an endpoint error ≈ 0.1."
    ));
    p.section.verdicts.push(Verdict::new(
        "four distinct reaches in the four directions",
        format!(
            "for every syllable, the median over seeds of the distance between the produced and the target \
             endpoint < {ENDPOINT_MAX} reach lengths, failed runs as +inf (the targets are ≥ 1.41 apart, so each \
             reach lands nearest its own target), and fewer than half the runs failed"
        ),
        measured.join("; "),
        all_hold && completed(&runs).len() * 2 > runs.len(),
    ));
    Ok(())
}

/// fig4c: the 8-syllable sequence with the loop vs without (RFLO, BPTT).
pub const FIG4C: Panel = Panel {
    part: Part::Paper,
    id: "fig4c",
    title: "8-syllable (160τ) sequence: sequencing loop vs no-loop RFLO vs no-loop BPTT",
    claim: "the loop produces the exact syllable sequence and the lowest trajectory error",
    grids: fig4c_grids,
    evaluate: fig4c,
};

/// fig4a's syllable runs, then the no-loop runs on the whole-sequence task (RFLO, BPTT), 3 seeds.
fn fig4c_grids(scale: &Scale) -> Res<GridFile> {
    let mut file = syllable_grids(scale)?;
    for rule in [RuleSpec::rflo(ETA), RuleSpec::bptt(ETA)] {
        let task = TaskSpec::WholeSequence(WholeSequenceConfig::default());
        let name = format!("no-loop {}", rule.label());
        let grid = Grid::new(&name, &spec(task, rule, scale.pick(100, 20_000)))?;
        file.grids.push(replicated(grid, scale, 3));
    }
    Ok(file)
}

/// One condition × seed of fig4c; failed: no paths or reward rates, NaN errors (+inf in medians).
#[derive(Default)]
struct Outcome {
    label: String,
    seed: u64,
    path: Path2,
    target: Path2,
    error: f64,
    zero_error: f64,
    /// The loop's only: exact sequence?, syllables played, reward rate per window.
    exact: Option<bool>,
    syllables: Vec<String>,
    rewards: Vec<f64>,
    failed: bool,
}

fn outcome(run: &Run, config: &LoopConfig) -> Res<Outcome> {
    let (is_loop, mut o) = (run.grid() == SYLLABLES, Outcome::default());
    let label = if is_loop { "loop" } else { run.grid() };
    (o.label, o.seed, o.failed) = (label.into(), run.seed(), !run.ok());
    (o.error, o.zero_error) = (f64::NAN, f64::NAN);
    if run.ok() && is_loop {
        // As before the port, an error of the loop (e.g. a diverging state) is a failed loop.
        o.failed = play_loop(run, config, &mut o).is_err();
    } else if run.ok() {
        // The network on its task's one trial, built as the run built it (`h(0)`: `STREAM_TASK`).
        let TaskSpec::WholeSequence(c) = &run.point.spec.task else {
            return Err(format!("run {}: not a whole-sequence task", run.point.index).into());
        };
        let task = WholeSequence::new(c.clone(), &mut run.point.spec.stream(STREAM_TASK))?;
        let tr = run.record.network.run_trial(task.trial(), None)?;
        o.path = rnn_tasks::integrate_velocity(tr.outputs(), config.start)?;
        o.target = rnn_tasks::integrate_velocity(task.trial().targets(), config.start)?;
        o.error = mean_squared_distance(&o.path, &o.target);
        o.zero_error = mean_squared_distance(&vec![config.start; o.target.len()], &o.target);
    }
    Ok(o)
}

fn play_loop(run: &Run, config: &LoopConfig, o: &mut Outcome) -> Res<()> {
    let rng = run.point.spec.stream(LOOP_STREAM);
    let mut seq = Sequencer::with_rng(run.record.network.clone(), config.clone(), rng)?;
    let rewards = seq.train()?.reward_rates();
    let ev = seq.evaluate()?;
    (o.path, o.target, o.rewards) = (ev.cursor_path, ev.target_path, rewards);
    o.syllables = ev.syllables.iter().map(usize::to_string).collect();
    (o.error, o.zero_error, o.exact) = (ev.path_error, ev.zero_output_error, Some(ev.exact));
    Ok(())
}

fn fig4c(p: &mut PanelRun<'_>) -> Res<()> {
    // The loop (docs/spec/TASKS.md §5); `window` = transitions per point of the reward-rate curve.
    let config = LoopConfig {
        n_transitions: p.scale.pick(1000, 10_000),
        window: p.scale.pick(50, 200),
        ..LoopConfig::default()
    };
    let all = p.runs();
    let results = p.par_map(&all, |r| outcome(r, &config));
    let results = results.into_iter().collect::<Res<Vec<_>>>()?;
    let mut csv = Table::new(&cols("condition|seed|t|x|y|target_x|target_y"));
    let mut sum_csv = Table::new(&cols(
        "condition|seed|path_error|zero_output_error|exact_sequence|syllables|failed",
    ));
    for r in &results {
        for (i, (a, b)) in r.path.iter().zip(&r.target).enumerate() {
            csv.row(row![&*r.label, r.seed, i + 1, a[0], a[1], b[0], b[1]]);
        }
        let exact = r.exact.map_or(String::new(), |e| e.to_string());
        let (e, z, syl) = (r.error, r.zero_error, r.syllables.join(" "));
        sum_csv.row(row![&*r.label, r.seed, e, z, exact, syl, r.failed]);
    }
    csv.write(&p.file("fig4c.csv"))?;
    sum_csv.write(&p.file("fig4c_summary.csv"))?;
    let group = |l: &str| -> Vec<&Outcome> { results.iter().filter(|r| r.label == l).collect() };
    let (loops, points) = (group("loop"), p.scale.pick(150, 400));
    let exact = loops.iter().filter(|r| r.exact == Some(true)).count();
    let seqs: Vec<String> = loops.iter().map(|r| r.syllables.concat()).collect();
    let exact_cell = format!("{exact}/{} ({})", loops.len(), seqs.join(", "));
    let title = "Cursor path, 8 syllables (median seed of each)";
    let mut path_panel = plot::Panel::new(title, "cursor x", "cursor y");
    let target = results.iter().find(|r| !r.target.is_empty());
    let target = target.map(|r| Series::new("target", colors::GREY, Style::Dashed, xy(&r.target)));
    path_panel.series.extend(target);
    let (mut rows, mut medians, mut measured) = (vec![], vec![], vec![]);
    for (l, c) in CONDITIONS.into_iter().zip(CONDITION_COLORS) {
        let g = group(l);
        let errors: Vec<f64> = g.iter().map(|r| r.error).collect();
        medians.push(median(&errors));
        measured.push(format!("{l} {}", fmt_num(median(&errors))));
        if let Some(i) = median_index(&errors) {
            let label = format!("{l} (seed {})", g[i].seed);
            path_panel = path_panel.with(Series::new(label, c, Style::Line, xy(&g[i].path)));
        }
        let exact = if l == "loop" { &exact_cell[..] } else { "—" };
        let zero = Summary::of(&g.iter().map(|r| r.zero_error).collect::<Vec<_>>());
        let fails = format!("{}/{}", g.iter().filter(|r| r.failed).count(), g.len());
        let (s, zero) = (Summary::of(&errors).to_string(), zero.to_string());
        rows.push(vec![l.into(), s, zero, exact.into(), fails]);
    }
    let header =
        "condition|path error (mean squared distance)|zero-output error|exact sequence|failed";
    p.section.table(&cols(header), &rows);
    let mut loss_panel = plot::Panel::new("No-loop training: loss", "trial", "loss L").log_y();
    for (l, c) in CONDITIONS.into_iter().zip(CONDITION_COLORS).skip(1) {
        let runs = grid(&all, l);
        loss_panel = loss_panel.with(loss_series(l, c, &runs, points));
        let trend = trend_text(&loss_curves(&runs)).1;
        let text = format!("{l}: training-loss end trend (last 10% / previous 10%): {trend}.");
        p.section.line(text);
    }
    let rewards: Vec<Vec<f64>> = loops.iter().map(|r| r.rewards.clone()).collect();
    let (line, band) = band_at(&rewards, |i| (i as f64 + 0.5) * config.window as f64);
    let reward = Series::new("loop", colors::RFLO, Style::Line, line).with_band(band);
    let axes = ("transition", "fraction rewarded");
    let reward_panel = plot::Panel::new("Loop training: reward rate", axes.0, axes.1).with(reward);
    let (svg, panels) = (p.file("fig4c.svg"), [path_panel, reward_panel, loss_panel]);
    plot::render(&svg, "Fig 4c: the sequencing loop", 3, (460, 420), &panels)?;
    p.section.line(format!(
        "Reading of the paper (docs/spec/TASKS.md §5): a syllable is a 10τ reach plus a 10τ hold, and the target is two laps \
         around a square (8 syllables = 160τ). Path error: mean over steps of the squared distance between the produced \
         and the target cursor path (`rnn_loop::mean_squared_distance`); the loop's comes from `Sequencer::evaluate` \
         (greedy, after a warm-up syllable), failed runs as +inf in the medians. The loop (not a run spec: played in the \
         evaluator on each trained syllable network, its generator stream {LOOP_STREAM} of the run's seed, so its \
         `seed` field is unused), as `rnn_loop::LoopConfig`:\n\n```toml\n{}```\n",
        toml::to_string(&config)?
    ));
    p.section.verdicts.push(Verdict::new(
        "the loop produces the exact syllable sequence",
        "the greedy test sequence equals the target in every seed (none failed)",
        format!("exact in {exact}/{} seeds", loops.len()),
        exact == loops.len() && loops.iter().all(|r| !r.failed) && !loops.is_empty(),
    ));
    p.section.verdicts.push(Verdict::new(
        "the loop has the lowest trajectory error",
        "median path error of the loop < median of no-loop RFLO and < median of no-loop BPTT (failed runs as +inf)",
        measured.join("; "),
        medians[0] < medians[1] && medians[0] < medians[2],
    ));
    Ok(())
}
