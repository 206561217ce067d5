//! Fig 4: reach syllables (TASKS.md §3), the whole sequence without a loop
//! (§4) and the sequencing loop (§5, crate `rnn-loop`).
//!
//! fig4a's syllable runs (RFLO, N = 100) are also fig4c's: the same specs,
//! trained once. fig4c plays the loop on their trained networks in the
//! evaluator, deterministically: the loop's generator is stream
//! [`LOOP_STREAM`] of the run's seed. Its no-loop baselines (RFLO, BPTT on
//! the whole-sequence task) are runs.

use plotters::style::RGBColor;
use rnn_core::{InitialState, Network, State};
use rnn_experiment::spec::STREAM_TASK;
use rnn_experiment::stats::{Summary, fmt_num, mean, median};
use rnn_experiment::{Grid, GridFile, NetworkSpec, RunSpec};
use rnn_learn::{RuleSpec, TrainingConfig};
use rnn_loop::{LoopConfig, Sequencer, mean_squared_distance};
use rnn_tasks::{ReachConfig, ReachSyllables, TaskSpec, WholeSequence, WholeSequenceConfig};

use super::fig2::loss_series;
use super::fig3::{band_at, cols, loss_curves, replicated};
use super::{Panel, PanelRun, Run, Scale, completed, curve_indices, grid, trend_text};
use crate::Res;
use crate::plot::{self, Series, Style, colors};
use crate::report::Verdict;
use crate::row;
use crate::table::Table;

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

/// Each syllable's produced and target path, each from the origin: a warm-up
/// lap `0..K` from `h = first_initial_value`, then the test lap `0..K` with
/// the state carried over.
fn syllable_paths(net: &Network, reach: &ReachConfig) -> Res<Vec<(Path2, Path2)>> {
    let task = ReachSyllables::new(reach.clone())?;
    let k = reach.shape.n_syllables;
    let (mut state, mut out) = (None::<State>, Vec::new());
    for i in 0..2 * k {
        let init = match state {
            None => InitialState::Constant(reach.first_initial_value),
            Some(_) => InitialState::CarryOver,
        };
        let trial = task.syllable_trial(i % k, init)?;
        let tr = net.run_trial(&trial, state.as_ref())?;
        state = Some(tr.final_state());
        if i >= k {
            let produced = rnn_tasks::integrate_velocity(tr.outputs(), [0.0; 2])?;
            out.push((
                produced,
                rnn_tasks::integrate_velocity(trial.targets(), [0.0; 2])?,
            ));
        }
    }
    Ok(out)
}

/// fig4a: four reach syllables after RFLO training.
pub const FIG4A: Panel = Panel {
    id: "fig4a",
    title: "Four reach syllables after RFLO training: cursor paths (each syllable from the origin)",
    claim: "four distinct reaches in the four directions",
    grids: syllable_grids,
    evaluate: fig4a,
};

fn fig4a(p: &mut PanelRun<'_>) -> Res<()> {
    let points = p.scale.pick(150, 400);
    let all = p.runs();
    let runs = grid(&all, SYLLABLES);
    let reach = LoopConfig::default().reach_config();
    let k = reach.shape.n_syllables;
    let paths = p.par_map(&runs, |r| match r.ok() {
        true => syllable_paths(&r.record.network, &reach),
        false => Ok(Vec::new()),
    });
    let paths = paths.into_iter().collect::<Res<Vec<_>>>()?;
    let mut csv = Table::new(&cols("seed|syllable|t|x|y|target_x|target_y"));
    let mut loss_csv = Table::new(&cols("seed|trial|loss"));
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
        let end = |v: &Path2| *v.last().unwrap_or(&[f64::NAN; 2]);
        let dist = |(a, b): &(Path2, Path2)| (end(a)[0] - end(b)[0]).hypot(end(a)[1] - end(b)[1]);
        errors.push((0..k).map(|s| ps.get(s).map_or(f64::NAN, dist)).collect());
    }
    csv.write(&p.file("fig4a.csv"))?;
    loss_csv.write(&p.file("fig4a_loss.csv"))?;
    let best = median_index(&errors.iter().map(|e| mean(e)).collect::<Vec<_>>());
    let seed = best.map_or("-".into(), |b| runs[b].seed().to_string());
    let title = format!("Cursor paths (median seed {seed})");
    let axes = ("cursor x (reach lengths)", "cursor y (reach lengths)");
    let mut path_panel = plot::Panel::new(title, axes.0, axes.1);
    path_panel.x_range = Some((-1.4, 1.4));
    path_panel.y_range = path_panel.x_range;
    for (s, (a, b)) in best.map_or(&[][..], |b| &paths[b]).iter().enumerate() {
        let c = SYLLABLE_COLORS[s % 4];
        path_panel = path_panel
            .with(Series::new("", c, Style::Dashed, xy(b)))
            .with(Series::new(format!("syllable {s}"), c, Style::Line, xy(a)));
    }
    let curves = loss_curves(&runs);
    let (l, b) = super::binned_median_band(&curves, points / 2);
    let title = "Training loss (mean over bins of trials)";
    let loss = Series::new("RFLO", colors::RFLO, Style::Line, l).with_band(b);
    let loss_panel = plot::Panel::new(title, "trial", "loss L").log_y();
    let (svg, panels) = (p.file("fig4a.svg"), [path_panel, loss_panel.with(loss)]);
    plot::render(&svg, "Fig 4a: reach syllables", 2, (460, 420), &panels)?;
    let (mut rows, mut all_hold, mut measured) = (Vec::new(), true, Vec::new());
    for s in 0..k {
        let sm = Summary::of(&errors.iter().map(|e| e[s]).collect::<Vec<_>>());
        let d = reach
            .shape
            .direction(s)
            .map(|x| (x * 100.0).round() / 100.0 + 0.0);
        let direction = format!("({}, {})", d[0], d[1]);
        rows.push(vec![s.to_string(), direction, sm.to_string()]);
        all_hold &= sm.median < ENDPOINT_MAX;
        measured.push(format!("{s}: {}", fmt_num(sm.median)));
    }
    let header = cols("syllable|direction|endpoint error (reach lengths)");
    p.section.table(&header, &rows);
    p.section.line(format!(
        "Failed runs: {}. Training-loss end trend (last 10% / previous 10%): {}. \
         The spec's prototype reached an endpoint error ≈ 0.1.",
        super::failed_of(&runs),
        trend_text(&curves).1
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
    id: "fig4c",
    title: "8-syllable (160τ) sequence: sequencing loop vs no-loop RFLO vs no-loop BPTT",
    claim: "the loop produces the exact syllable sequence and the lowest trajectory error",
    grids: fig4c_grids,
    evaluate: fig4c,
};

/// fig4a's syllable runs, then the no-loop runs on the whole-sequence task
/// (RFLO, BPTT; grids "no-loop RFLO", "no-loop BPTT"), 3 seeds.
fn fig4c_grids(scale: &Scale) -> Res<GridFile> {
    let mut file = syllable_grids(scale)?;
    for rule in [RuleSpec::rflo(ETA), RuleSpec::bptt(ETA)] {
        let name = format!("no-loop {}", rule.label());
        let task = TaskSpec::WholeSequence(WholeSequenceConfig::default());
        let base = spec(task, rule, scale.pick(100, 20_000));
        file.grids
            .push(replicated(Grid::new(&name, &base)?, scale, 3));
    }
    Ok(file)
}

/// The loop (TASKS.md §5); `window` = transitions per point of the reward-rate curve.
fn loop_config(scale: &Scale) -> LoopConfig {
    LoopConfig {
        n_transitions: scale.pick(1000, 10_000),
        window: scale.pick(50, 200),
        ..LoopConfig::default()
    }
}

/// One condition × seed of fig4c. `curve`: the loop's reward rate per window
/// or the no-loop training loss. A failed one has NaN errors (+inf in medians).
#[derive(Default)]
struct Outcome {
    label: String,
    seed: u64,
    path: Path2,
    target: Path2,
    error: f64,
    zero_error: f64,
    exact: Option<bool>,
    syllables: Vec<usize>,
    curve: Vec<f64>,
    failed: bool,
}

fn outcome(run: &Run, config: &LoopConfig) -> Res<Outcome> {
    let mut o = Outcome {
        label: run.grid().into(),
        seed: run.seed(),
        failed: true,
        ..Outcome::default()
    };
    (o.error, o.zero_error) = (f64::NAN, f64::NAN);
    if run.grid() == SYLLABLES {
        o.label = "loop".into();
        if run.ok() {
            // As before the port, an error of the loop (e.g. a diverging state) is a failed loop.
            let _ = play_loop(run, config, &mut o);
        }
    } else {
        o.curve = run.record.history.loss.clone();
        if run.ok() {
            no_loop(run, config.start, &mut o)?;
        }
    }
    Ok(o)
}

fn play_loop(run: &Run, config: &LoopConfig, o: &mut Outcome) -> Res<()> {
    let rng = run.point.spec.stream(LOOP_STREAM);
    let mut seq = Sequencer::with_rng(run.record.network.clone(), config.clone(), rng)?;
    o.curve = seq.train()?.reward_rates();
    let ev = seq.evaluate()?;
    (o.path, o.target, o.syllables) = (ev.cursor_path, ev.target_path, ev.syllables);
    (o.error, o.zero_error, o.exact) = (ev.path_error, ev.zero_output_error, Some(ev.exact));
    o.failed = false;
    Ok(())
}

/// The trained no-loop network on its task's one trial (the task built as
/// the run built it: `h(0)` from stream `STREAM_TASK` of the seed).
fn no_loop(run: &Run, start: [f64; 2], o: &mut Outcome) -> Res<()> {
    let TaskSpec::WholeSequence(c) = &run.point.spec.task else {
        return Err(format!("run {}: not a whole-sequence task", run.point.index).into());
    };
    let task = WholeSequence::new(c.clone(), &mut run.point.spec.stream(STREAM_TASK))?;
    let tr = run.record.network.run_trial(task.trial(), None)?;
    o.path = rnn_tasks::integrate_velocity(tr.outputs(), start)?;
    o.target = rnn_tasks::integrate_velocity(task.trial().targets(), start)?;
    o.error = mean_squared_distance(&o.path, &o.target);
    o.zero_error = mean_squared_distance(&vec![start; o.target.len()], &o.target);
    o.failed = false;
    Ok(())
}

fn fig4c(p: &mut PanelRun<'_>) -> Res<()> {
    let config = loop_config(&p.scale);
    let all = p.runs();
    let results = p.par_map(&all, |r| outcome(r, &config));
    let results = results.into_iter().collect::<Res<Vec<_>>>()?;
    let mut csv = Table::new(&cols("condition|seed|t|x|y|target_x|target_y"));
    let mut sum_csv = Table::new(&cols(
        "condition|seed|path_error|zero_output_error|exact_sequence|syllables|failed",
    ));
    for r in &results {
        let label = r.label.as_str();
        for (i, (a, b)) in r.path.iter().zip(&r.target).enumerate() {
            csv.row(row![label, r.seed, i + 1, a[0], a[1], b[0], b[1]]);
        }
        let syl: Vec<String> = r.syllables.iter().map(usize::to_string).collect();
        let exact = r.exact.map_or(String::new(), |e| e.to_string());
        sum_csv.row(row![
            label,
            r.seed,
            r.error,
            r.zero_error,
            exact,
            syl.join(" "),
            r.failed
        ]);
    }
    csv.write(&p.file("fig4c.csv"))?;
    sum_csv.write(&p.file("fig4c_summary.csv"))?;

    let labels = [
        ("loop", colors::RFLO),
        ("no-loop RFLO", colors::BLUE),
        ("no-loop BPTT", colors::BPTT),
    ];
    let group = |l: &str| -> Vec<&Outcome> { results.iter().filter(|r| r.label == l).collect() };
    let title = "Cursor path, 8 syllables (median seed of each)";
    let mut path_panel = plot::Panel::new(title, "cursor x", "cursor y");
    if let Some(r) = results.iter().find(|r| !r.target.is_empty()) {
        let target = Series::new("target", colors::GREY, Style::Dashed, xy(&r.target));
        path_panel = path_panel.with(target);
    }
    let mut loss_panel = plot::Panel::new("No-loop training: loss", "trial", "loss L").log_y();
    let (mut rows, mut medians, mut trends) = (Vec::new(), Vec::new(), Vec::new());
    for (l, c) in labels {
        let g = group(l);
        let errors: Vec<f64> = g.iter().map(|r| r.error).collect();
        medians.push(median(&errors));
        if let Some(i) = median_index(&errors) {
            let label = format!("{l} (seed {})", g[i].seed);
            path_panel = path_panel.with(Series::new(label, c, Style::Line, xy(&g[i].path)));
        }
        let exact = g.iter().filter(|r| r.exact == Some(true)).count();
        let mut seqs = Vec::new();
        for r in &g {
            seqs.push(r.syllables.iter().map(usize::to_string).collect::<String>());
        }
        let exact = match l {
            "loop" => format!("{exact}/{} ({})", g.len(), seqs.join(", ")),
            _ => "—".into(),
        };
        let zero = Summary::of(&g.iter().map(|r| r.zero_error).collect::<Vec<_>>());
        let fails = format!("{}/{}", g.iter().filter(|r| r.failed).count(), g.len());
        let (s, zero) = (Summary::of(&errors).to_string(), zero.to_string());
        rows.push(vec![l.into(), s, zero, exact, fails]);
        if l != "loop" {
            let runs = grid(&all, l);
            loss_panel = loss_panel.with(loss_series(l, c, &runs, p.scale.pick(150, 400)));
            let trend = trend_text(&loss_curves(&runs)).1;
            trends.push(format!(
                "{l}: training-loss end trend (last 10% / previous 10%): {trend}."
            ));
        }
    }
    let header =
        "condition|path error (mean squared distance)|zero-output error|exact sequence|failed";
    p.section.table(&cols(header), &rows);
    trends.iter().for_each(|t| p.section.line(t));
    let loops = group("loop");
    let rewards: Vec<Vec<f64>> = loops
        .iter()
        .filter(|r| !r.failed)
        .map(|r| r.curve.clone())
        .collect();
    let (line, band) = band_at(&rewards, |i| (i as f64 + 0.5) * config.window as f64);
    let reward = Series::new("loop", colors::RFLO, Style::Line, line).with_band(band);
    let axes = ("transition", "fraction rewarded");
    let reward_panel = plot::Panel::new("Loop training: reward rate", axes.0, axes.1).with(reward);
    let svg = p.file("fig4c.svg");
    let panels = [path_panel, reward_panel, loss_panel];
    plot::render(&svg, "Fig 4c: the sequencing loop", 3, (460, 420), &panels)?;
    p.section.line(format!(
        "Reading of the paper (TASKS.md §5): a syllable is a 10τ reach plus a 10τ hold, and the target is two laps \
         around a square (8 syllables = 160τ). Path error: mean over steps of the squared distance between the produced \
         and the target cursor path (`rnn_loop::mean_squared_distance`); the loop's comes from `Sequencer::evaluate` \
         (greedy, after a warm-up syllable), failed runs as +inf in the medians. The loop (not a run spec: played in the \
         evaluator on each trained syllable network, its generator stream {LOOP_STREAM} of the run's seed, so its \
         `seed` field is unused), as `rnn_loop::LoopConfig`:\n\n```toml\n{}```\n",
        toml::to_string(&config)?
    ));
    let exact = loops.iter().filter(|r| r.exact == Some(true)).count();
    p.section.verdicts.push(Verdict::new(
        "the loop produces the exact syllable sequence",
        "the greedy test sequence equals the target in every seed (none failed)",
        format!("exact in {exact}/{} seeds", loops.len()),
        exact == loops.len() && loops.iter().all(|r| !r.failed) && !loops.is_empty(),
    ));
    p.section.verdicts.push(Verdict::new(
        "the loop has the lowest trajectory error",
        "median path error of the loop < median of no-loop RFLO and < median of no-loop BPTT (failed runs as +inf)",
        format!(
            "loop {}; no-loop RFLO {}; no-loop BPTT {}",
            fmt_num(medians[0]),
            fmt_num(medians[1]),
            fmt_num(medians[2])
        ),
        medians[0] < medians[1] && medians[0] < medians[2],
    ));
    Ok(())
}
