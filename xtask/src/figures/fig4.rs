//! Fig 4: reach syllables (TASKS.md §3), the whole sequence without a loop
//! (§4) and the sequencing loop (§5, crate `rnn-loop`).
//!
//! The syllable networks of fig4a are trained once per seed and reused by
//! fig4c's loop (a [`Cache`] shared between the two panels).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use rnn_core::{InitialState, Network, NetworkConfig, State, seeded};
use rnn_learn::{LearningRates, TrainingConfig};
use rnn_loop::{LoopConfig, Sequencer, mean_squared_distance};
use rnn_tasks::{
    ReachConfig, ReachSyllables, SequenceStart, WholeSequence, WholeSequenceConfig,
    integrate_velocity,
};

use super::common::{
    RuleKind, binned_median_band, curve_indices, median_band, seed_of, train_kind, trend_text,
};
use super::{Ctx, Res};
use crate::plot::{self, Panel, Series, Style, colors};
use crate::report::{Section, Verdict};
use crate::row;
use crate::stats::{Summary, fmt_num, mean, median};
use crate::table::Table;

/// Syllable training (TASKS.md §3), shared by fig4a and fig4c.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct SyllableParams {
    /// Network size (paper: 100).
    pub n_units: usize,
    /// Network realisations (paper: single examples; spec: 3).
    pub seeds: usize,
    /// RFLO training trials, one syllable each, state carried over (paper: 10,000).
    pub n_trials: usize,
    /// RFLO rate (spec: 0.03).
    pub eta: f64,
    /// The reach task (the loop's own: `LoopConfig::reach_config`).
    pub reach: ReachConfig,
    /// Points per loss curve.
    pub curve_points: usize,
}

fn syllable_params(ctx: &Ctx) -> SyllableParams {
    SyllableParams {
        n_units: 100,
        seeds: ctx.seeds(3),
        n_trials: if ctx.quick { 1500 } else { 10_000 },
        eta: 0.03,
        reach: LoopConfig::default().reach_config(),
        curve_points: if ctx.quick { 150 } else { 400 },
    }
}

/// A trained syllable network.
pub struct Trained {
    net: Network,
    loss: Vec<f64>,
    failure: Option<String>,
}

/// Syllable networks by (seed, trials).
#[derive(Default)]
pub struct Cache {
    nets: Mutex<HashMap<(usize, usize), Arc<Trained>>>,
}

impl Cache {
    fn get(&self, ctx: &Ctx, panel: &str, p: &SyllableParams) -> Res<Vec<Arc<Trained>>> {
        let keys: Vec<(usize, usize)> = (0..p.seeds).map(|s| (s, p.n_trials)).collect();
        let missing: Vec<(usize, usize)> = {
            let nets = self.nets.lock().map_err(|_| "cache lock poisoned")?;
            keys.iter()
                .filter(|k| !nets.contains_key(k))
                .copied()
                .collect()
        };
        let steps = p.reach.shape.syllable_len as u64;
        let pb = ctx.progress(
            panel,
            (missing.len() as u64 * p.n_trials as u64 * steps).max(1),
        );
        let results = ctx.par_map(&missing, |&(seed, _)| train_syllables(p, seed, &pb));
        pb.finish_and_clear();
        let mut nets = self.nets.lock().map_err(|_| "cache lock poisoned")?;
        for (k, r) in missing.iter().zip(results) {
            nets.insert(*k, Arc::new(r.map_err(|e| format!("{panel}: {e}"))?));
        }
        Ok(keys.iter().map(|k| nets[k].clone()).collect())
    }
}

fn train_syllables(p: &SyllableParams, seed: usize, pb: &ProgressBar) -> Result<Trained, String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let k = p.reach.shape.n_syllables;
    let mut net = Network::random(
        &NetworkConfig::new(p.n_units, k, 2),
        &mut seeded(seed_of(&["fig4-network"], seed)),
    )
    .map_err(|x| e(&x))?;
    let mut task = ReachSyllables::new(p.reach.clone()).map_err(|x| e(&x))?;
    let cfg = TrainingConfig::default()
        .with_n_trials(p.n_trials)
        .with_seed(seed_of(&["fig4-syllables"], seed))
        .with_max_loss_ratio(None); // as before the bound existed
    let steps = p.reach.shape.syllable_len as u64;
    let driven = train_kind(
        RuleKind::Rflo,
        LearningRates::uniform(p.eta),
        &mut net,
        &mut task,
        cfg,
        pb,
        steps,
    );
    Ok(Trained {
        net,
        loss: driven.history.loss,
        failure: driven.failure,
    })
}

/// Each syllable's produced and target path, each from the origin: a warm-up
/// lap `0,1,2,3` from `h = 0`, then the test lap `0,1,2,3` with the state carried over.
#[allow(clippy::type_complexity)]
fn syllable_paths(
    net: &Network,
    reach: &ReachConfig,
) -> Result<Vec<(usize, Vec<[f64; 2]>, Vec<[f64; 2]>)>, String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let task = ReachSyllables::new(reach.clone()).map_err(|x| e(&x))?;
    let k = reach.shape.n_syllables;
    let mut state: Option<State> = None;
    let mut out = Vec::new();
    for lap in 0..2 {
        for s in 0..k {
            let init = if state.is_none() {
                InitialState::Constant(reach.first_initial_value)
            } else {
                InitialState::CarryOver
            };
            let trial = task.syllable_trial(s, init).map_err(|x| e(&x))?;
            let tr = net.run_trial(&trial, state.as_ref()).map_err(|x| e(&x))?;
            state = Some(tr.final_state());
            if lap == 1 {
                let produced = integrate_velocity(tr.outputs(), [0.0, 0.0]).map_err(|x| e(&x))?;
                let target = integrate_velocity(trial.targets(), [0.0, 0.0]).map_err(|x| e(&x))?;
                out.push((s, produced, target));
            }
        }
    }
    Ok(out)
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

const SYLLABLE_COLORS: [plotters::style::RGBColor; 4] =
    [colors::RFLO, colors::BLUE, colors::GREEN, colors::ORANGE];

/// fig4a: four reach syllables after RFLO training.
pub fn fig4a(ctx: &Ctx) -> Res<Section> {
    let p = syllable_params(ctx);
    let endpoint_max = 0.5;
    let trained = ctx.fig4_cache.get(ctx, "fig4a", &p)?;
    let mut sec = Section::new(
        "fig4a",
        "Four reach syllables after RFLO training: cursor paths (each syllable from the origin)",
        "four distinct reaches in the four directions",
    );
    sec.params = format!("{p:#?}\nendpoint_max (criterion, reach lengths): {endpoint_max}");
    let mut csv = Table::new(&["seed", "syllable", "t", "x", "y", "target_x", "target_y"]);
    let mut loss_csv = Table::new(&["seed", "trial", "loss"]);
    // errors[seed][syllable] = endpoint distance
    let mut errors: Vec<Vec<f64>> = Vec::new();
    let mut paths = Vec::new();
    for (seed, t) in trained.iter().enumerate() {
        for i in curve_indices(t.loss.len(), p.curve_points) {
            loss_csv.row(row![seed, i + 1, t.loss[i]]);
        }
        if t.failure.is_some() {
            errors.push(vec![f64::NAN; p.reach.shape.n_syllables]);
            paths.push(Vec::new());
            continue;
        }
        let ps = syllable_paths(&t.net, &p.reach)?;
        let mut e = Vec::new();
        for (s, produced, target) in &ps {
            for (i, (a, b)) in produced.iter().zip(target).enumerate() {
                csv.row(row![seed, *s, i + 1, a[0], a[1], b[0], b[1]]);
            }
            e.push(dist(
                *produced.last().unwrap_or(&[f64::NAN; 2]),
                *target.last().unwrap_or(&[f64::NAN; 2]),
            ));
        }
        errors.push(e);
        paths.push(ps);
    }
    csv.write(&ctx.path("fig4a.csv"))?;
    loss_csv.write(&ctx.path("fig4a_loss.csv"))?;
    // The median seed by mean endpoint error.
    let per_seed: Vec<f64> = errors.iter().map(|e| mean(e)).collect();
    let m = median(&per_seed);
    let best = (0..per_seed.len())
        .filter(|&i| per_seed[i].is_finite())
        .min_by(|&a, &b| (per_seed[a] - m).abs().total_cmp(&(per_seed[b] - m).abs()));
    let mut path_panel = Panel::new(
        format!(
            "Cursor paths (median seed {})",
            best.map_or("-".into(), |b| b.to_string())
        ),
        "cursor x (reach lengths)",
        "cursor y (reach lengths)",
    );
    path_panel.x_range = Some((-1.4, 1.4));
    path_panel.y_range = Some((-1.4, 1.4));
    if let Some(b) = best {
        for (s, produced, target) in &paths[b] {
            let c = SYLLABLE_COLORS[s % 4];
            path_panel.series.push(Series::new(
                "",
                c,
                Style::Dashed,
                target.iter().map(|q| (q[0], q[1])).collect(),
            ));
            path_panel.series.push(Series::new(
                format!("syllable {s}"),
                c,
                Style::Line,
                produced.iter().map(|q| (q[0], q[1])).collect(),
            ));
        }
    }
    let ok: Vec<&Arc<Trained>> = trained.iter().filter(|t| t.failure.is_none()).collect();
    let curves: Vec<&[f64]> = ok.iter().map(|t| t.loss.as_slice()).collect();
    let (l, b) = binned_median_band(&curves, p.curve_points / 2);
    let loss_panel = Panel::new(
        "Training loss (mean over bins of trials)",
        "trial",
        "loss L",
    )
    .log_y()
    .with(Series::new("RFLO", colors::RFLO, Style::Line, l).with_band(b));
    plot::render(
        &ctx.path("fig4a.svg"),
        "Fig 4a: reach syllables",
        2,
        (460, 420),
        &[path_panel, loss_panel],
    )?;
    let mut rows = Vec::new();
    let mut all = true;
    let mut measured = Vec::new();
    for s in 0..p.reach.shape.n_syllables {
        let sm = Summary::of(&errors.iter().map(|e| e[s]).collect::<Vec<_>>());
        let d = p.reach.shape.direction(s);
        rows.push(vec![
            format!("{s}"),
            format!(
                "({}, {})",
                (d[0] * 100.0).round() / 100.0 + 0.0,
                (d[1] * 100.0).round() / 100.0 + 0.0
            ),
            sm.to_string(),
        ]);
        all &= sm.median < endpoint_max;
        measured.push(format!("{s}: {}", fmt_num(sm.median)));
    }
    sec.table(
        &["syllable", "direction", "endpoint error (reach lengths)"],
        &rows,
    );
    let (_, trend) = trend_text(&curves);
    sec.line(format!(
        "Failed runs: {}/{}. Training-loss end trend (last 10% / previous 10%): {trend}. The spec's prototype reached an endpoint error ≈ 0.1.",
        trained.len() - ok.len(),
        trained.len()
    ));
    sec.files = vec![
        "fig4a.csv".into(),
        "fig4a_loss.csv".into(),
        "fig4a.svg".into(),
    ];
    sec.verdicts.push(Verdict::new(
        "four distinct reaches in the four directions",
        format!(
            "for every syllable, the median over seeds of the distance between the produced and the target endpoint < {endpoint_max} reach lengths \
             (the targets are ≥ 1.41 apart, so each reach lands nearest its own target)"
        ),
        measured.join("; "),
        all && ok.len() * 2 > trained.len(),
    ));
    Ok(sec)
}

/// Parameters of fig4c.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig4cParams {
    /// The syllable networks (shared with fig4a).
    pub syllables: SyllableParams,
    /// The loop (TASKS.md §5).
    pub loop_config: LoopConfig,
    /// The whole-sequence task (TASKS.md §4).
    pub whole: WholeSequenceConfig,
    /// No-loop training trials (paper: 20,000).
    pub noloop_trials: usize,
    /// No-loop rate, RFLO and BPTT (spec: 0.03).
    pub noloop_eta: f64,
    /// Transitions per window of the reward-rate curve.
    pub reward_window: usize,
}

enum Job {
    Loop(usize),
    NoLoop(RuleKind, usize),
}

struct JobResult {
    label: &'static str,
    seed: usize,
    path: Vec<[f64; 2]>,
    target: Vec<[f64; 2]>,
    error: f64,
    zero_error: f64,
    exact: Option<bool>,
    syllables: Vec<usize>,
    curve: Vec<f64>,
    failure: Option<String>,
}

fn failed(label: &'static str, seed: usize, why: String) -> JobResult {
    JobResult {
        label,
        seed,
        path: Vec::new(),
        target: Vec::new(),
        error: f64::NAN,
        zero_error: f64::NAN,
        exact: None,
        syllables: Vec::new(),
        curve: Vec::new(),
        failure: Some(why),
    }
}

fn run_loop(p: &Fig4cParams, seed: usize, trained: &Trained, pb: &ProgressBar) -> JobResult {
    let label = "loop";
    if let Some(f) = &trained.failure {
        pb.inc((p.loop_config.n_transitions * p.loop_config.shape.syllable_len) as u64);
        return failed(label, seed, format!("syllable training failed: {f}"));
    }
    let rng = seeded(seed_of(&["fig4c-loop"], seed));
    let mut seq = match Sequencer::with_rng(trained.net.clone(), p.loop_config.clone(), rng) {
        Ok(s) => s,
        Err(e) => return failed(label, seed, e.to_string()),
    };
    let mut rewards = Vec::with_capacity(p.loop_config.n_transitions);
    for i in 0..p.loop_config.n_transitions {
        match seq.step() {
            Ok(t) => rewards.push(t.reward),
            Err(e) => return failed(label, seed, e.to_string()),
        }
        if i % 50 == 49 {
            pb.inc(50 * p.loop_config.shape.syllable_len as u64);
        }
    }
    pb.inc((p.loop_config.n_transitions % 50 * p.loop_config.shape.syllable_len) as u64);
    let curve: Vec<f64> = rewards.chunks(p.reward_window).map(mean).collect();
    match seq.evaluate() {
        Ok(ev) => JobResult {
            label,
            seed,
            error: ev.path_error,
            zero_error: ev.zero_output_error,
            exact: Some(ev.exact),
            syllables: ev.syllables,
            path: ev.cursor_path,
            target: ev.target_path,
            curve,
            failure: None,
        },
        Err(e) => failed(label, seed, e.to_string()),
    }
}

fn run_noloop(p: &Fig4cParams, rule: RuleKind, seed: usize, pb: &ProgressBar) -> JobResult {
    let label = if rule == RuleKind::Bptt {
        "no-loop BPTT"
    } else {
        "no-loop RFLO"
    };
    let go = || -> Result<JobResult, String> {
        let e = |x: &dyn std::fmt::Display| x.to_string();
        let mut task =
            WholeSequence::new(p.whole.clone(), &mut seeded(seed_of(&["fig4c-h0"], seed)))
                .map_err(|x| e(&x))?;
        let mut net = Network::random(
            &NetworkConfig::new(p.syllables.n_units, 1, 2),
            &mut seeded(seed_of(&["fig4c-noloop-network"], seed)),
        )
        .map_err(|x| e(&x))?;
        let steps = p.whole.trial_len() as u64;
        let cfg = TrainingConfig::default()
            .with_n_trials(p.noloop_trials)
            .with_seed(seed_of(&["fig4c-noloop", label], seed))
            .with_max_loss_ratio(None); // as before the bound existed
        let driven = train_kind(
            rule,
            LearningRates::uniform(p.noloop_eta),
            &mut net,
            &mut task,
            cfg,
            pb,
            steps,
        );
        if let Some(f) = driven.failure {
            let mut r = failed(label, seed, f);
            r.curve = driven.history.loss;
            return Ok(r);
        }
        let tr = net.run_trial(task.trial(), None).map_err(|x| e(&x))?;
        let path = integrate_velocity(tr.outputs(), p.loop_config.start).map_err(|x| e(&x))?;
        let target =
            integrate_velocity(task.trial().targets(), p.loop_config.start).map_err(|x| e(&x))?;
        let zero = vec![p.loop_config.start; target.len()];
        Ok(JobResult {
            label,
            seed,
            error: mean_squared_distance(&path, &target),
            zero_error: mean_squared_distance(&zero, &target),
            exact: None,
            syllables: Vec::new(),
            path,
            target,
            curve: driven.history.loss,
            failure: None,
        })
    };
    go().unwrap_or_else(|why| failed(label, seed, why))
}

/// fig4c: the 8-syllable sequence with the loop vs without (RFLO, BPTT).
pub fn fig4c(ctx: &Ctx) -> Res<Section> {
    let syllables = syllable_params(ctx);
    let p = Fig4cParams {
        loop_config: LoopConfig {
            n_transitions: if ctx.quick { 1000 } else { 10_000 },
            ..LoopConfig::default()
        },
        whole: WholeSequenceConfig {
            start: SequenceStart::Uniform {
                n_units: syllables.n_units,
                half_width: 1.0,
            },
            ..WholeSequenceConfig::default()
        },
        noloop_trials: if ctx.quick { 100 } else { 20_000 },
        noloop_eta: 0.03,
        reward_window: if ctx.quick { 50 } else { 200 },
        syllables,
    };
    let trained = ctx.fig4_cache.get(ctx, "fig4c", &p.syllables)?;
    let seeds = p.syllables.seeds;
    let mut jobs: Vec<Job> = Vec::new();
    for s in 0..seeds {
        jobs.push(Job::Loop(s));
    }
    for rule in [RuleKind::Rflo, RuleKind::Bptt] {
        for s in 0..seeds {
            jobs.push(Job::NoLoop(rule, s));
        }
    }
    let total = (seeds * p.loop_config.n_transitions * p.loop_config.shape.syllable_len
        + 2 * seeds * p.noloop_trials * p.whole.trial_len()) as u64;
    let pb = ctx.progress("fig4c", total);
    let results = ctx.par_map(&jobs, |j| match j {
        Job::Loop(s) => run_loop(&p, *s, &trained[*s], &pb),
        Job::NoLoop(rule, s) => run_noloop(&p, *rule, *s, &pb),
    });
    pb.finish_and_clear();
    let mut sec = Section::new(
        "fig4c",
        "8-syllable (160τ) sequence: sequencing loop vs no-loop RFLO vs no-loop BPTT",
        "the loop produces the exact syllable sequence and the lowest trajectory error",
    );
    sec.params = format!("{p:#?}");
    let mut csv = Table::new(&["condition", "seed", "t", "x", "y", "target_x", "target_y"]);
    let mut sum_csv = Table::new(&[
        "condition",
        "seed",
        "path_error",
        "zero_output_error",
        "exact_sequence",
        "syllables",
        "failed",
    ]);
    for r in &results {
        for (i, (a, b)) in r.path.iter().zip(&r.target).enumerate() {
            csv.row(row![r.label, r.seed, i + 1, a[0], a[1], b[0], b[1]]);
        }
        let syl = r
            .syllables
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let exact = r.exact.map_or("".to_string(), |e| e.to_string());
        sum_csv.row(row![
            r.label,
            r.seed,
            r.error,
            r.zero_error,
            exact,
            syl,
            r.failure.is_some()
        ]);
    }
    csv.write(&ctx.path("fig4c.csv"))?;
    sum_csv.write(&ctx.path("fig4c_summary.csv"))?;
    let labels = [
        ("loop", colors::RFLO),
        ("no-loop RFLO", colors::BLUE),
        ("no-loop BPTT", colors::BPTT),
    ];
    let group = |l: &str| -> Vec<&JobResult> { results.iter().filter(|r| r.label == l).collect() };
    let mut path_panel = Panel::new(
        "Cursor path, 8 syllables (median seed of each)",
        "cursor x",
        "cursor y",
    );
    if let Some(r) = results.iter().find(|r| !r.target.is_empty()) {
        path_panel.series.push(Series::new(
            "target",
            colors::GREY,
            Style::Dashed,
            r.target.iter().map(|q| (q[0], q[1])).collect(),
        ));
    }
    let mut rows = Vec::new();
    let mut medians = Vec::new();
    for (l, c) in labels {
        let g = group(l);
        let errs: Vec<f64> = g.iter().map(|r| r.error).collect();
        let s = Summary::of(&errs);
        medians.push(s.median);
        if let Some(r) = g.iter().filter(|r| r.failure.is_none()).min_by(|a, b| {
            (a.error - s.median)
                .abs()
                .total_cmp(&(b.error - s.median).abs())
        }) {
            path_panel.series.push(Series::new(
                format!("{l} (seed {})", r.seed),
                c,
                Style::Line,
                r.path.iter().map(|q| (q[0], q[1])).collect(),
            ));
        }
        let exact = g.iter().filter(|r| r.exact == Some(true)).count();
        let zero = Summary::of(&g.iter().map(|r| r.zero_error).collect::<Vec<_>>());
        let fails = g.iter().filter(|r| r.failure.is_some()).count();
        let seqs = g
            .iter()
            .map(|r| {
                r.syllables
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join(", ");
        rows.push(vec![
            l.to_string(),
            s.to_string(),
            zero.to_string(),
            if l == "loop" {
                format!("{exact}/{} ({seqs})", g.len())
            } else {
                "—".into()
            },
            format!("{fails}/{}", g.len()),
        ]);
    }
    sec.table(
        &[
            "condition",
            "path error (mean squared distance)",
            "zero-output error",
            "exact sequence",
            "failed",
        ],
        &rows,
    );
    let loops = group("loop");
    let rc: Vec<&[f64]> = loops
        .iter()
        .filter(|r| r.failure.is_none())
        .map(|r| r.curve.as_slice())
        .collect();
    let nw = rc.iter().map(|c| c.len()).max().unwrap_or(0);
    let rows_b = crate::stats::band(&rc, &(0..nw).collect::<Vec<_>>());
    let w = p.reward_window as f64;
    let reward_panel = Panel::new(
        "Loop training: reward rate",
        "transition",
        "fraction rewarded",
    )
    .with(
        Series::new(
            "loop",
            colors::RFLO,
            Style::Line,
            rows_b
                .iter()
                .map(|(i, s)| ((*i as f64 + 0.5) * w, s.median))
                .collect(),
        )
        .with_band(
            rows_b
                .iter()
                .map(|(i, s)| ((*i as f64 + 0.5) * w, s.q25, s.q75))
                .collect(),
        ),
    );
    let mut loss_panel = Panel::new("No-loop training: loss", "trial", "loss L").log_y();
    for (l, c) in &labels[1..] {
        let g = group(l);
        let curves: Vec<&[f64]> = g
            .iter()
            .filter(|r| r.failure.is_none())
            .map(|r| r.curve.as_slice())
            .collect();
        let n = curves.iter().map(|c| c.len()).max().unwrap_or(0);
        let (line, band) = median_band(&curves, &curve_indices(n, p.syllables.curve_points));
        loss_panel
            .series
            .push(Series::new(*l, *c, Style::Line, line).with_band(band));
        let (_, trend) = trend_text(&curves);
        sec.line(format!(
            "{l}: training-loss end trend (last 10% / previous 10%): {trend}."
        ));
    }
    plot::render(
        &ctx.path("fig4c.svg"),
        "Fig 4c: the sequencing loop",
        3,
        (460, 420),
        &[path_panel, reward_panel, loss_panel],
    )?;
    sec.line(
        "Reading of the paper (TASKS.md §5): a syllable is a 10τ reach plus a 10τ hold, and the target is two laps \
         around a square (8 syllables = 160τ). Path error: mean over steps of the squared distance between the produced \
         and the target cursor path (`rnn_loop::mean_squared_distance`); the loop's comes from `Sequencer::evaluate` \
         (greedy, after a warm-up syllable).",
    );
    sec.files = vec![
        "fig4c.csv".into(),
        "fig4c_summary.csv".into(),
        "fig4c.svg".into(),
    ];
    let ok_loops = loops.iter().filter(|r| r.failure.is_none()).count();
    let exact = loops.iter().filter(|r| r.exact == Some(true)).count();
    sec.verdicts.push(Verdict::new(
        "the loop produces the exact syllable sequence",
        "the greedy test sequence equals the target in every seed (none failed)",
        format!("exact in {exact}/{} seeds", loops.len()),
        exact == loops.len() && ok_loops == loops.len() && !loops.is_empty(),
    ));
    sec.verdicts.push(Verdict::new(
        "the loop has the lowest trajectory error",
        "median path error of the loop < median of no-loop RFLO and < median of no-loop BPTT",
        format!(
            "loop {}; no-loop RFLO {}; no-loop BPTT {}",
            fmt_num(medians[0]),
            fmt_num(medians[1]),
            fmt_num(medians[2])
        ),
        medians[0] < medians[1] && medians[0] < medians[2],
    ));
    Ok(sec)
}
