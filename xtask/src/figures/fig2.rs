//! Fig 2 and its supplements: the periodic-output task (TASKS.md §1).
//!
//! All Fig 2 panels draw their runs from one [`Cache`]: a run is identified by
//! (rule, variant, period, N, eta, trials, seed), and its network by (N, seed)
//! only, so every condition of a seed uses the same network realisation
//! (paired comparisons) and a run needed by several panels is trained once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use rnn_core::{Network, NetworkConfig, seeded};
use rnn_learn::{Constraints, DaleLaw, Frozen, LearningRates, TrainingConfig, feedback_alignment};
use rnn_tasks::{Periodic, PeriodicConfig};

use super::common::{
    APPROX_FACTOR, LEARNS_FRACTION, RuleKind, approx, curve_indices, median_band, seed_of,
    train_kind, trend_text,
};
use super::{Ctx, Res};
use crate::plot::{self, Panel, Series, Style, colors};
use crate::report::{Section, Verdict};
use crate::row;
use crate::stats::{Summary, fmt_num, line_fit, median};
use crate::table::Table;

/// The paper's periods `T` (steps) and its grid-searched rates (TASKS.md §1).
pub const PERIODS: [usize; 4] = [200, 400, 800, 1600];
/// RFLO `eta` per period (paper).
pub const RFLO_ETA: [f64; 4] = [0.03, 0.01, 0.001, 0.0003];
/// BPTT `eta` per period (paper).
pub const BPTT_ETA: [f64; 4] = [0.03, 0.03, 0.01, 0.03];

/// The paper's rate for `rule` at `period` (RFLO's for the local rules, BPTT's
/// for the nonlocal ones: the paper gives none for the hybrids).
pub fn paper_eta(rule: RuleKind, period: usize) -> f64 {
    let i = PERIODS.iter().position(|&p| p == period).unwrap_or(0);
    match rule {
        RuleKind::Rflo | RuleKind::LocalSymmetric => RFLO_ETA[i],
        RuleKind::Bptt | RuleKind::NonlocalRandom => BPTT_ETA[i],
    }
}

/// Settings shared by every Fig 2 panel.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2Common {
    /// Network size `N` (paper: 30).
    pub n_units: usize,
    /// Training trials per run (TASKS.md §1: 10,000, from the paper's example code).
    pub n_trials: usize,
    /// Network realisations (paper: 9).
    pub seeds: usize,
    /// Points per loss curve written to the CSV and drawn.
    pub curve_points: usize,
    /// Update schedule: per trial (accumulate over the trial, apply at its end).
    pub schedule: &'static str,
}

pub(super) fn common(ctx: &Ctx) -> Fig2Common {
    Fig2Common {
        n_units: 30,
        n_trials: if ctx.quick { 600 } else { 10_000 },
        seeds: ctx.seeds(if ctx.quick { 3 } else { 9 }),
        curve_points: if ctx.quick { 150 } else { 400 },
        schedule: "per trial",
    }
}

/// What is trained in a Fig 2 run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// W, W_in, W_out all learn.
    Plain,
    /// Dale's law on W (f_E = 0.5).
    Dale,
    /// W, W_in frozen; readout fed back through B; only W_out learns.
    ReadoutOnly,
    /// W_out frozen; W learns.
    RecurrentOnly,
}

/// Identity of a Fig 2 run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub(super) rule: RuleKind,
    variant: Variant,
    pub(super) period: usize,
    n_units: usize,
    eta_bits: u64,
    n_trials: usize,
    pub(super) seed: usize,
}

impl Key {
    pub(super) fn new(
        c: &Fig2Common,
        rule: RuleKind,
        variant: Variant,
        period: usize,
        eta: f64,
        seed: usize,
    ) -> Self {
        Self {
            rule,
            variant,
            period,
            n_units: c.n_units,
            eta_bits: eta.to_bits(),
            n_trials: c.n_trials,
            seed,
        }
    }

    fn with_units(mut self, n: usize) -> Self {
        self.n_units = n;
        self
    }

    pub(super) fn eta(&self) -> f64 {
        f64::from_bits(self.eta_bits)
    }
}

/// What a Fig 2 run produced.
#[derive(Debug)]
pub struct Run {
    /// Its identity.
    pub key: Key,
    /// Loss per training trial.
    pub loss: Vec<f64>,
    /// Readout–feedback alignment at each trial's start, then after training.
    pub alignment: Vec<f64>,
    /// Loss of a fresh trial with the final weights, no learning (NaN if failed).
    pub final_loss: f64,
    /// Loss of the same trial with the untrained network.
    pub untrained_loss: f64,
    /// Output of the final fresh trial.
    pub output: Vec<f64>,
    /// The target.
    pub target: Vec<f64>,
    /// Why the run stopped early, if it did.
    pub failure: Option<String>,
}

/// Fig 2 runs shared between panels.
#[derive(Default)]
pub struct Cache {
    runs: Mutex<HashMap<Key, Arc<Run>>>,
}

impl Cache {
    pub(super) fn get(&self, ctx: &Ctx, panel: &str, keys: &[Key]) -> Res<Vec<Arc<Run>>> {
        let missing: Vec<Key> = {
            let runs = self.runs.lock().map_err(|_| "cache lock poisoned")?;
            let mut m: Vec<Key> = Vec::new();
            for k in keys {
                if !runs.contains_key(k) && !m.contains(k) {
                    m.push(*k);
                }
            }
            m
        };
        let total: u64 = missing.iter().map(|k| (k.n_trials * k.period) as u64).sum();
        let pb = ctx.progress(panel, total.max(1));
        let results = ctx.par_map(&missing, |k| run_one(k, &pb));
        pb.finish_and_clear();
        let mut runs = self.runs.lock().map_err(|_| "cache lock poisoned")?;
        for r in results {
            let r = r.map_err(|e| format!("{panel}: {e}"))?;
            runs.insert(r.key, Arc::new(r));
        }
        Ok(keys.iter().map(|k| runs[k].clone()).collect())
    }
}

fn run_one(key: &Key, pb: &ProgressBar) -> Result<Run, String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let mut config = NetworkConfig::new(key.n_units, 0, 1);
    if key.variant == Variant::ReadoutOnly {
        config = config.with_readout_feedback(true);
    }
    let net_seed = seed_of(&["fig2-network", &key.n_units.to_string()], key.seed);
    let mut net = Network::random(&config, &mut seeded(net_seed)).map_err(|x| e(&x))?;
    let mut task = Periodic::new(PeriodicConfig::with_period(key.period)).map_err(|x| e(&x))?;
    let trial = task.trial().clone();
    let untrained_loss = net.run_trial(&trial, None).map_or(f64::NAN, |t| t.loss);
    let eta = key.eta();
    let (rates, constraints) = match key.variant {
        Variant::Plain => (LearningRates::uniform(eta), Constraints::default()),
        Variant::Dale => (
            LearningRates::uniform(eta),
            Constraints {
                dale: Some(DaleLaw::default()),
                ..Constraints::default()
            },
        ),
        Variant::ReadoutOnly => (
            LearningRates {
                readout: eta,
                recurrent: 0.0,
                input: 0.0,
            },
            Constraints {
                frozen: Frozen::readout_only(),
                ..Constraints::default()
            },
        ),
        Variant::RecurrentOnly => (
            LearningRates::uniform(eta),
            Constraints {
                frozen: Frozen::recurrent_only(),
                ..Constraints::default()
            },
        ),
    };
    let train_seed = seed_of(&["fig2-train", &format!("{key:?}")], key.seed);
    let cfg = TrainingConfig::default()
        .with_n_trials(key.n_trials)
        .with_seed(train_seed)
        .with_constraints(constraints)
        .with_max_loss_ratio(None); // as before the bound existed
    let driven = train_kind(
        key.rule,
        rates,
        &mut net,
        &mut task,
        cfg,
        pb,
        key.period as u64,
    );
    let mut alignment = driven.history.feedback_alignment.clone();
    alignment.push(feedback_alignment(&net));
    let target: Vec<f64> = (0..trial.len()).map(|s| trial.target_at(s)[0]).collect();
    let (final_loss, output) = match (&driven.failure, net.run_trial(&trial, None)) {
        (None, Ok(tr)) => (tr.loss, (0..tr.len()).map(|s| tr.y[(0, s)]).collect()),
        _ => (f64::NAN, Vec::new()),
    };
    Ok(Run {
        key: *key,
        loss: driven.history.loss,
        alignment,
        final_loss,
        untrained_loss,
        output,
        target,
        failure: driven.failure,
    })
}

// ---------------------------------------------------------------- helpers

fn ok_runs(runs: &[Arc<Run>]) -> Vec<&Run> {
    runs.iter()
        .filter(|r| r.failure.is_none())
        .map(|r| r.as_ref())
        .collect()
}

fn finals(runs: &[Arc<Run>]) -> Summary {
    Summary::of(&runs.iter().map(|r| r.final_loss).collect::<Vec<_>>())
}

fn untrained(runs: &[Arc<Run>]) -> Summary {
    Summary::of(&runs.iter().map(|r| r.untrained_loss).collect::<Vec<_>>())
}

fn failures(runs: &[Arc<Run>]) -> usize {
    runs.iter().filter(|r| r.failure.is_some()).count()
}

fn loss_series(
    label: &str,
    color: plotters::style::RGBColor,
    runs: &[Arc<Run>],
    points: usize,
) -> Series {
    let ok = ok_runs(runs);
    let curves: Vec<&[f64]> = ok.iter().map(|r| r.loss.as_slice()).collect();
    let n = curves.iter().map(|c| c.len()).max().unwrap_or(0);
    let idx = curve_indices(n, points);
    let (line, band) = median_band(&curves, &idx);
    Series::new(label, color, Style::Line, line).with_band(band)
}

fn loss_rows(table: &mut Table, panel_fields: &[String], runs: &[Arc<Run>], points: usize) {
    for r in runs {
        for i in curve_indices(r.loss.len(), points) {
            let mut cells = row![
                r.key.rule.name(),
                format!("{:?}", r.key.variant),
                r.key.period,
                r.key.n_units,
                r.key.eta(),
                r.key.seed,
                i + 1,
                r.loss[i]
            ];
            for (k, f) in panel_fields.iter().enumerate() {
                cells.insert(k, f.clone().into());
            }
            table.row(cells);
        }
    }
}

const LOSS_HEADER: [&str; 8] = [
    "rule",
    "variant",
    "period_steps",
    "n_units",
    "eta",
    "seed",
    "trial",
    "loss",
];

fn condition_table(sec: &mut Section, rows: &[(String, &[Arc<Run>])]) {
    let mut out = Vec::new();
    for (name, runs) in rows {
        let curves: Vec<&[f64]> = ok_runs(runs).iter().map(|r| r.loss.as_slice()).collect();
        let (_, trend) = trend_text(&curves);
        out.push(vec![
            name.clone(),
            fmt_num(runs.first().map_or(f64::NAN, |r| r.key.eta())),
            untrained(runs).to_string(),
            finals(runs).to_string(),
            trend,
            format!("{}/{}", failures(runs), runs.len()),
        ]);
    }
    sec.table(
        &[
            "condition",
            "eta",
            "untrained loss",
            "final loss (fresh trial)",
            "end trend: last 10% / previous 10% (median)",
            "failed runs",
        ],
        &out,
    );
}

fn learns_verdict(name: &str, runs: &[Arc<Run>]) -> (bool, String) {
    let f = finals(runs).median;
    let u = untrained(runs).median;
    let ok = f <= LEARNS_FRACTION * u && failures(runs) * 2 < runs.len();
    (
        ok,
        format!(
            "{name}: {} vs untrained {} (ratio {})",
            fmt_num(f),
            fmt_num(u),
            fmt_num(f / u)
        ),
    )
}

const LEARNS_CRITERION: &str =
    "median final loss ≤ 0.25 × median untrained loss, and fewer than half the runs failed";

fn approx_criterion() -> String {
    format!("ratio of median final losses within a factor {APPROX_FACTOR}")
}

pub(super) fn tau_label(period: usize) -> String {
    format!("T = {}τ", period / 10)
}

fn median_seed_run(runs: &[Arc<Run>]) -> Option<&Run> {
    let m = finals(runs).median;
    ok_runs(runs).into_iter().min_by(|a, b| {
        (a.final_loss - m)
            .abs()
            .total_cmp(&(b.final_loss - m).abs())
    })
}

fn output_panel(title: &str, runs: &[(&str, plotters::style::RGBColor, &[Arc<Run>])]) -> Panel {
    let mut p = Panel::new(title, "time t (steps)", "output y(t)");
    if let Some(first) = runs.iter().find_map(|(_, _, r)| r.first()) {
        let target: Vec<(f64, f64)> = first
            .target
            .iter()
            .enumerate()
            .map(|(s, &y)| ((s + 1) as f64, y))
            .collect();
        p = p.with(Series::new("target", colors::GREY, Style::Dashed, target));
    }
    for (label, color, rs) in runs {
        if let Some(r) = median_seed_run(rs) {
            let pts = r
                .output
                .iter()
                .enumerate()
                .map(|(s, &y)| ((s + 1) as f64, y))
                .collect();
            p = p.with(Series::new(
                format!("{label} (median seed {})", r.key.seed),
                *color,
                Style::Line,
                pts,
            ));
        }
    }
    p
}

// ---------------------------------------------------------------- fig2a

/// Parameters of fig2a.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2aParams {
    /// Shared Fig 2 settings.
    pub common: Fig2Common,
    /// Periods shown (20τ and 160τ).
    pub periods: [usize; 2],
    /// RFLO rate per shown period (paper).
    pub rflo_eta: [f64; 2],
    /// BPTT rate per shown period (paper).
    pub bptt_eta: [f64; 2],
}

/// fig2a: loss per trial, BPTT vs RFLO, T = 20τ and 160τ; final output vs target.
pub fn fig2a(ctx: &Ctx) -> Res<Section> {
    let c = common(ctx);
    let periods = [200, 1600];
    let params = Fig2aParams {
        rflo_eta: periods.map(|p| paper_eta(RuleKind::Rflo, p)),
        bptt_eta: periods.map(|p| paper_eta(RuleKind::Bptt, p)),
        periods,
        common: c.clone(),
    };
    let mut keys = Vec::new();
    for &p in &periods {
        for rule in [RuleKind::Bptt, RuleKind::Rflo] {
            for s in 0..c.seeds {
                keys.push(Key::new(&c, rule, Variant::Plain, p, paper_eta(rule, p), s));
            }
        }
    }
    let runs = ctx.fig2_cache.get(ctx, "fig2a", &keys)?;
    let group = |rule: RuleKind, p: usize| -> Vec<Arc<Run>> {
        runs.iter()
            .filter(|r| r.key.rule == rule && r.key.period == p)
            .cloned()
            .collect()
    };
    let mut sec = Section::new(
        "fig2a",
        "Periodic task: loss per trial, BPTT vs RFLO, T = 20τ and 160τ; final output vs target",
        "both learn; at 20τ RFLO ≈ BPTT",
    );
    sec.params = format!("{params:#?}");
    let mut csv = Table::new(&LOSS_HEADER);
    loss_rows(&mut csv, &[], &runs, c.curve_points);
    csv.write(&ctx.path("fig2a.csv"))?;
    let mut out_csv = Table::new(&["rule", "period_steps", "seed", "t", "output", "target"]);
    for r in runs.iter() {
        for (s, (&y, &t)) in r.output.iter().zip(&r.target).enumerate() {
            out_csv.row(row![
                r.key.rule.name(),
                r.key.period,
                r.key.seed,
                s + 1,
                y,
                t
            ]);
        }
    }
    out_csv.write(&ctx.path("fig2a_output.csv"))?;
    let mut panels = Vec::new();
    let mut rows = Vec::new();
    for &p in &periods {
        let (b, f) = (group(RuleKind::Bptt, p), group(RuleKind::Rflo, p));
        panels.push(
            Panel::new(format!("Loss, {}", tau_label(p)), "trial", "loss L")
                .log_y()
                .with(loss_series("BPTT", colors::BPTT, &b, c.curve_points))
                .with(loss_series("RFLO", colors::RFLO, &f, c.curve_points)),
        );
        panels.push(output_panel(
            &format!("Output after training, {}", tau_label(p)),
            &[("BPTT", colors::BPTT, &b), ("RFLO", colors::RFLO, &f)],
        ));
        rows.push((format!("BPTT, {}", tau_label(p)), b));
        rows.push((format!("RFLO, {}", tau_label(p)), f));
    }
    let row_refs: Vec<(String, &[Arc<Run>])> = rows
        .iter()
        .map(|(n, r)| (n.clone(), r.as_slice()))
        .collect();
    condition_table(&mut sec, &row_refs);
    plot::render(
        &ctx.path("fig2a.svg"),
        "Fig 2a: periodic output, N = 30",
        2,
        (520, 360),
        &panels,
    )?;
    sec.files = vec![
        "fig2a.csv".into(),
        "fig2a_output.csv".into(),
        "fig2a.svg".into(),
    ];
    let mut all = true;
    let mut measured = Vec::new();
    for (name, r) in &rows {
        let (ok, m) = learns_verdict(name, r);
        all &= ok;
        measured.push(m);
    }
    sec.verdicts.push(Verdict::new(
        "both learn (20τ and 160τ)",
        LEARNS_CRITERION,
        measured.join("; "),
        all,
    ));
    let (b, f) = (finals(&rows[0].1).median, finals(&rows[1].1).median);
    sec.verdicts.push(Verdict::new(
        "at 20τ RFLO ≈ BPTT",
        approx_criterion(),
        format!(
            "RFLO {} / BPTT {} = {}",
            fmt_num(f),
            fmt_num(b),
            fmt_num(f / b)
        ),
        approx(f, b),
    ));
    if !sec.holds() {
        let untrained_20 = untrained(&rows[0].1).median;
        sec.line(format!(
            "\n**Investigation.** At 20τ both rules learn (final / untrained loss: BPTT {}, \
             RFLO {}); where RFLO ≈ BPTT fails, it fails on this report's factor-{APPROX_FACTOR} \
             criterion, not on learning. Runs that stay at the untrained loss (listed in the \
             verdicts) start every trial from the same fixed h(0) with no input, as TASKS.md §1 \
             prescribes; the paper does not state its trial budget, so fig2b_grid reruns the \
             paper's rate grid at ours and reports which rates learn.",
            fmt_num(b / untrained_20),
            fmt_num(f / untrained_20),
        ));
    }
    Ok(sec)
}

// ---------------------------------------------------------------- fig2b

/// Parameters of fig2b.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2bParams {
    /// Shared Fig 2 settings.
    pub common: Fig2Common,
    /// Periods `T` in steps.
    pub periods: [usize; 4],
    /// RFLO rates (paper).
    pub rflo_eta: [f64; 4],
    /// BPTT rates (paper).
    pub bptt_eta: [f64; 4],
    /// "BPTT better at long T": BPTT's median at most this fraction of RFLO's.
    pub better_fraction: f64,
    /// "far below untrained": at most this fraction of the untrained median.
    pub far_below_fraction: f64,
}

/// fig2b: final loss vs T for BPTT, RFLO and the untrained network.
pub fn fig2b(ctx: &Ctx) -> Res<Section> {
    let c = common(ctx);
    let params = Fig2bParams {
        common: c.clone(),
        periods: PERIODS,
        rflo_eta: RFLO_ETA,
        bptt_eta: BPTT_ETA,
        better_fraction: BETTER_FRACTION,
        far_below_fraction: FAR_BELOW_FRACTION,
    };
    let mut keys = Vec::new();
    for &p in &PERIODS {
        for rule in [RuleKind::Bptt, RuleKind::Rflo] {
            for s in 0..c.seeds {
                keys.push(Key::new(&c, rule, Variant::Plain, p, paper_eta(rule, p), s));
            }
        }
    }
    let runs = ctx.fig2_cache.get(ctx, "fig2b", &keys)?;
    let group = |rule: RuleKind, p: usize| -> Vec<Arc<Run>> {
        runs.iter()
            .filter(|r| r.key.rule == rule && r.key.period == p)
            .cloned()
            .collect()
    };
    let mut sec = Section::new(
        "fig2b",
        "Final loss vs period T: BPTT, RFLO, untrained",
        FIG2B_CLAIM,
    );
    sec.params = format!("{params:#?}");
    let mut csv = Table::new(&[
        "condition",
        "period_steps",
        "eta",
        "seed",
        "final_loss",
        "failed",
    ]);
    for r in runs.iter() {
        csv.row(row![
            r.key.rule.name(),
            r.key.period,
            r.key.eta(),
            r.key.seed,
            r.final_loss,
            r.failure.is_some()
        ]);
    }
    for r in runs.iter().filter(|r| r.key.rule == RuleKind::Bptt) {
        csv.row(row![
            "untrained",
            r.key.period,
            0.0,
            r.key.seed,
            r.untrained_loss,
            false
        ]);
    }
    csv.write(&ctx.path("fig2b.csv"))?;
    let mut series = Vec::new();
    let mut rows = Vec::new();
    for (rule, color) in [
        (RuleKind::Bptt, colors::BPTT),
        (RuleKind::Rflo, colors::RFLO),
    ] {
        let mut line = Vec::new();
        let mut band = Vec::new();
        for &p in &PERIODS {
            let g = group(rule, p);
            let s = finals(&g);
            line.push(((p / 10) as f64, s.median));
            band.push(((p / 10) as f64, s.q25, s.q75));
            rows.push((format!("{}, {}", rule.name(), tau_label(p)), g));
        }
        series.push(Series::new(rule.name(), color, Style::LinePoints, line).with_band(band));
    }
    let mut uline = Vec::new();
    let mut uband = Vec::new();
    for &p in &PERIODS {
        let s = untrained(&group(RuleKind::Bptt, p));
        uline.push(((p / 10) as f64, s.median));
        uband.push(((p / 10) as f64, s.q25, s.q75));
    }
    series.push(Series::new("untrained", colors::GREY, Style::LinePoints, uline).with_band(uband));
    let mut panel = Panel::new("Final loss vs period", "period T (τ)", "final loss L")
        .log_y()
        .log_x();
    panel.series = series;
    plot::render(
        &ctx.path("fig2b.svg"),
        "Fig 2b: loss at the end of training",
        1,
        (560, 400),
        &[panel],
    )?;
    let row_refs: Vec<(String, &[Arc<Run>])> = rows
        .iter()
        .map(|(n, r)| (n.clone(), r.as_slice()))
        .collect();
    condition_table(&mut sec, &row_refs);
    sec.files = vec!["fig2b.csv".into(), "fig2b.svg".into()];
    let med = |rule, p| finals(&group(rule, p)).median;
    let untrained_med = |p| untrained(&group(RuleKind::Bptt, p)).median;
    sec.verdicts
        .extend(fig2b_verdicts(&PERIODS, med, untrained_med));
    if !sec.holds() {
        sec.line(
            "\n**Investigation.** These are the paper's grid-searched rates, chosen under the \
             paper's own (unstated) trial budget. fig2b_grid reruns the paper's rate grid at our \
             budget on the first seeds and re-states this claim with the best rate per rule and T.",
        );
    }
    Ok(sec)
}

/// fig2b's claim (also re-stated by fig2b_grid with the best grid rates).
pub const FIG2B_CLAIM: &str =
    "RFLO ≈ BPTT for short T; BPTT better for long T; both far below untrained";
/// fig2b, "BPTT better at long T": BPTT's median at most this fraction of RFLO's.
pub const BETTER_FRACTION: f64 = 0.5;
/// fig2b, "far below untrained": at most this fraction of the untrained median.
pub const FAR_BELOW_FRACTION: f64 = 0.2;

/// fig2b's three verdicts from the median final loss per (rule, period) and
/// the median untrained loss per period. Short T is the first of `periods`,
/// long T the last; "far below untrained" is checked at every period.
pub(super) fn fig2b_verdicts(
    periods: &[usize],
    med: impl Fn(RuleKind, usize) -> f64,
    untrained_med: impl Fn(usize) -> f64,
) -> Vec<Verdict> {
    let (short, long) = (periods[0], periods[periods.len() - 1]);
    let mut verdicts = Vec::new();
    let (bs, fs) = (med(RuleKind::Bptt, short), med(RuleKind::Rflo, short));
    verdicts.push(Verdict::new(
        format!("RFLO ≈ BPTT for short T ({}τ)", short / 10),
        approx_criterion(),
        format!(
            "RFLO {} / BPTT {} = {}",
            fmt_num(fs),
            fmt_num(bs),
            fmt_num(fs / bs)
        ),
        approx(fs, bs),
    ));
    let (bl, fl) = (med(RuleKind::Bptt, long), med(RuleKind::Rflo, long));
    verdicts.push(Verdict::new(
        format!("BPTT better for long T ({}τ)", long / 10),
        format!(
            "median BPTT ≤ {BETTER_FRACTION} × median RFLO at {}τ",
            long / 10
        ),
        format!(
            "BPTT {} / RFLO {} = {}",
            fmt_num(bl),
            fmt_num(fl),
            fmt_num(bl / fl)
        ),
        bl <= BETTER_FRACTION * fl,
    ));
    let mut all = true;
    let mut measured = Vec::new();
    for &p in periods {
        let u = untrained_med(p);
        for rule in [RuleKind::Bptt, RuleKind::Rflo] {
            let f = med(rule, p);
            let ok = f <= FAR_BELOW_FRACTION * u;
            all &= ok;
            measured.push(format!(
                "{} {}: {}{}",
                rule.name(),
                tau_label(p),
                fmt_num(f / u),
                if ok { "" } else { " ✗" }
            ));
        }
    }
    verdicts.push(Verdict::new(
        "both far below untrained (every T)",
        format!(
            "median final loss ≤ {FAR_BELOW_FRACTION} × median untrained loss at every T (ratios listed)"
        ),
        measured.join("; "),
        all,
    ));
    verdicts
}

// ---------------------------------------------------------------- fig2c

/// Parameters of fig2c.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2cParams {
    /// Shared Fig 2 settings.
    pub common: Fig2Common,
    /// Period (choice: 20τ; the paper does not say).
    pub period: usize,
    /// RFLO rate (the paper's at this period).
    pub eta: f64,
    /// "≈ 0 at the start": abs(median A(0)) below this multiple of 1/sqrt(N)
    /// (the spread of the cosine of two random N-vectors).
    pub start_chance_multiple: f64,
    /// "clearly positive at the end": median final A at least this.
    pub end_min: f64,
    /// "grows": median of A(end) − A(0) at least this.
    pub min_increase: f64,
}

/// fig2c: readout–feedback alignment per trial under RFLO.
pub fn fig2c(ctx: &Ctx) -> Res<Section> {
    let c = common(ctx);
    let params = Fig2cParams {
        common: c.clone(),
        period: 200,
        eta: paper_eta(RuleKind::Rflo, 200),
        start_chance_multiple: 2.0,
        end_min: 0.3,
        min_increase: 0.2,
    };
    let keys: Vec<Key> = (0..c.seeds)
        .map(|s| {
            Key::new(
                &c,
                RuleKind::Rflo,
                Variant::Plain,
                params.period,
                params.eta,
                s,
            )
        })
        .collect();
    let runs = ctx.fig2_cache.get(ctx, "fig2c", &keys)?;
    let mut sec = Section::new(
        "fig2c",
        "Readout–feedback alignment A = Tr(W_out B)/(|W_out| |B|) during RFLO training",
        "A grows from ≈0 to clearly positive",
    );
    sec.params = format!("{params:#?}");
    let mut csv = Table::new(&["rule", "period_steps", "eta", "seed", "trial", "alignment"]);
    for r in runs.iter() {
        // Index i = alignment with the weights at the start of trial i+1; the last entry is after training.
        for i in curve_indices(r.alignment.len(), c.curve_points) {
            csv.row(row![
                "RFLO",
                r.key.period,
                r.key.eta(),
                r.key.seed,
                i,
                r.alignment[i]
            ]);
        }
    }
    csv.write(&ctx.path("fig2c.csv"))?;
    let ok = ok_runs(&runs);
    let curves: Vec<&[f64]> = ok.iter().map(|r| r.alignment.as_slice()).collect();
    let n = curves.iter().map(|c| c.len()).max().unwrap_or(0);
    let idx = curve_indices(n, c.curve_points);
    let rows = crate::stats::band(&curves, &idx);
    let line = rows.iter().map(|(i, s)| (*i as f64, s.median)).collect();
    let band = rows
        .iter()
        .map(|(i, s)| (*i as f64, s.q25, s.q75))
        .collect();
    let panel = Panel::new(
        format!("RFLO, {}", tau_label(params.period)),
        "trials trained",
        "alignment A",
    )
    .with(Series::new("RFLO", colors::RFLO, Style::Line, line).with_band(band))
    .with(Series::new(
        "",
        colors::GREY,
        Style::Dashed,
        vec![(0.0, 0.0), (n.saturating_sub(1) as f64, 0.0)],
    ));
    plot::render(
        &ctx.path("fig2c.svg"),
        "Fig 2c: readout–feedback alignment",
        1,
        (560, 400),
        &[panel],
    )?;
    let a0 = Summary::of(&ok.iter().map(|r| r.alignment[0]).collect::<Vec<_>>());
    let a1 = Summary::of(
        &ok.iter()
            .map(|r| *r.alignment.last().unwrap_or(&f64::NAN))
            .collect::<Vec<_>>(),
    );
    let gain = Summary::of(
        &ok.iter()
            .map(|r| r.alignment.last().unwrap_or(&f64::NAN) - r.alignment[0])
            .collect::<Vec<_>>(),
    );
    sec.table(
        &["", "A (median [25%, 75%])"],
        &[
            vec!["before training".into(), a0.to_string()],
            vec!["after training".into(), a1.to_string()],
        ],
    );
    sec.files = vec!["fig2c.csv".into(), "fig2c.svg".into()];
    sec.verdicts.push(Verdict::new(
        "A grows from ≈0 to clearly positive",
        format!(
            "abs(median A(0)) < {} / sqrt(N) (chance level of two random vectors), median final A ≥ {}, median increase A(end) − A(0) ≥ {}",
            params.start_chance_multiple, params.end_min, params.min_increase
        ),
        format!("A(0) = {}; final A = {}; increase {}", a0, a1, gain),
        a0.median.abs() < params.start_chance_multiple / (c.n_units as f64).sqrt()
            && a1.median >= params.end_min
            && gain.median >= params.min_increase,
    ));
    Ok(sec)
}

// ---------------------------------------------------------------- fig2d

/// Parameters of fig2d.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2dParams {
    /// Shared Fig 2 settings.
    pub common: Fig2Common,
    /// Period (80τ).
    pub period: usize,
    /// Rates: BPTT and RFLO the paper's; LocalSymmetric takes RFLO's, NonlocalRandom BPTT's (choice).
    pub eta: [(RuleKind, f64); 4],
}

/// fig2d: T = 80τ, BPTT vs RFLO vs LocalSymmetric vs NonlocalRandom.
pub fn fig2d(ctx: &Ctx) -> Res<Section> {
    let c = common(ctx);
    let period = 800;
    let rules = [
        RuleKind::Bptt,
        RuleKind::Rflo,
        RuleKind::LocalSymmetric,
        RuleKind::NonlocalRandom,
    ];
    let params = Fig2dParams {
        common: c.clone(),
        period,
        eta: rules.map(|r| (r, paper_eta(r, period))),
    };
    let mut keys = Vec::new();
    for rule in rules {
        for s in 0..c.seeds {
            keys.push(Key::new(
                &c,
                rule,
                Variant::Plain,
                period,
                paper_eta(rule, period),
                s,
            ));
        }
    }
    let runs = ctx.fig2_cache.get(ctx, "fig2d", &keys)?;
    let group = |rule: RuleKind| -> Vec<Arc<Run>> {
        runs.iter()
            .filter(|r| r.key.rule == rule)
            .cloned()
            .collect()
    };
    let mut sec = Section::new(
        "fig2d",
        "T = 80τ: BPTT, RFLO, LocalSymmetric (local, symmetric feedback), NonlocalRandom (nonlocal, random feedback)",
        "the local approximation accounts for the gap (LocalSymmetric ≈ RFLO); random feedback alone costs little (NonlocalRandom ≈ BPTT)",
    );
    sec.params = format!("{params:#?}");
    let mut csv = Table::new(&LOSS_HEADER);
    loss_rows(&mut csv, &[], &runs, c.curve_points);
    csv.write(&ctx.path("fig2d.csv"))?;
    let colors_of = |r: RuleKind| match r {
        RuleKind::Bptt => colors::BPTT,
        RuleKind::Rflo => colors::RFLO,
        RuleKind::LocalSymmetric => colors::LOCAL_SYMMETRIC,
        RuleKind::NonlocalRandom => colors::NONLOCAL_RANDOM,
    };
    let mut panel = Panel::new("Loss, T = 80τ", "trial", "loss L").log_y();
    let mut rows = Vec::new();
    for rule in rules {
        let g = group(rule);
        panel.series.push(loss_series(
            rule.name(),
            colors_of(rule),
            &g,
            c.curve_points,
        ));
        rows.push((rule.name().to_string(), g));
    }
    plot::render(
        &ctx.path("fig2d.svg"),
        "Fig 2d: which approximation costs",
        1,
        (620, 420),
        &[panel],
    )?;
    let row_refs: Vec<(String, &[Arc<Run>])> = rows
        .iter()
        .map(|(n, r)| (n.clone(), r.as_slice()))
        .collect();
    condition_table(&mut sec, &row_refs);
    sec.files = vec!["fig2d.csv".into(), "fig2d.svg".into()];
    let m = |r: RuleKind| finals(&group(r)).median;
    let (b, f, l, n) = (
        m(RuleKind::Bptt),
        m(RuleKind::Rflo),
        m(RuleKind::LocalSymmetric),
        m(RuleKind::NonlocalRandom),
    );
    sec.line(format!(
        "Gap RFLO/BPTT = {}; LocalSymmetric/BPTT = {}; NonlocalRandom/BPTT = {}.",
        fmt_num(f / b),
        fmt_num(l / b),
        fmt_num(n / b)
    ));
    sec.verdicts.push(Verdict::new(
        "LocalSymmetric ≈ RFLO",
        approx_criterion(),
        format!(
            "LocalSymmetric {} / RFLO {} = {}",
            fmt_num(l),
            fmt_num(f),
            fmt_num(l / f)
        ),
        approx(l, f),
    ));
    sec.verdicts.push(Verdict::new(
        "NonlocalRandom ≈ BPTT",
        approx_criterion(),
        format!(
            "NonlocalRandom {} / BPTT {} = {}",
            fmt_num(n),
            fmt_num(b),
            fmt_num(n / b)
        ),
        approx(n, b),
    ));
    Ok(sec)
}

// ---------------------------------------------------------------- fig2s1

/// Parameters of fig2s1.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2s1Params {
    /// Shared Fig 2 settings.
    pub common: Fig2Common,
    /// Period (choice: 20τ).
    pub period: usize,
    /// RFLO rate for both conditions (the paper's at 20τ).
    pub eta: f64,
    /// Dale's law (f_E = 0.5).
    pub dale: DaleLaw,
}

/// fig2s1: RFLO with and without Dale's law.
pub fn fig2s1(ctx: &Ctx) -> Res<Section> {
    let c = common(ctx);
    let params = Fig2s1Params {
        common: c.clone(),
        period: 200,
        eta: paper_eta(RuleKind::Rflo, 200),
        dale: DaleLaw::default(),
    };
    let mut keys = Vec::new();
    for v in [Variant::Plain, Variant::Dale] {
        for s in 0..c.seeds {
            keys.push(Key::new(
                &c,
                RuleKind::Rflo,
                v,
                params.period,
                params.eta,
                s,
            ));
        }
    }
    let runs = ctx.fig2_cache.get(ctx, "fig2s1", &keys)?;
    let group = |v: Variant| -> Vec<Arc<Run>> {
        runs.iter()
            .filter(|r| r.key.variant == v)
            .cloned()
            .collect()
    };
    let mut sec = Section::new(
        "fig2s1",
        "RFLO with Dale's law vs without, T = 20τ",
        "Dale-constrained RFLO still learns",
    );
    sec.params = format!("{params:#?}");
    let mut csv = Table::new(&LOSS_HEADER);
    loss_rows(&mut csv, &[], &runs, c.curve_points);
    csv.write(&ctx.path("fig2s1.csv"))?;
    let (plain, dale) = (group(Variant::Plain), group(Variant::Dale));
    let panel = Panel::new("RFLO, T = 20τ", "trial", "loss L")
        .log_y()
        .with(loss_series("RFLO", colors::RFLO, &plain, c.curve_points))
        .with(loss_series(
            "RFLO + Dale's law",
            colors::BLUE,
            &dale,
            c.curve_points,
        ));
    plot::render(
        &ctx.path("fig2s1.svg"),
        "Fig 2–S1: Dale's law",
        1,
        (560, 400),
        &[panel],
    )?;
    condition_table(
        &mut sec,
        &[
            ("RFLO".into(), plain.as_slice()),
            ("RFLO + Dale".into(), dale.as_slice()),
        ],
    );
    sec.files = vec!["fig2s1.csv".into(), "fig2s1.svg".into()];
    // "Learns" against the Dale network's own first-trial loss (its weights are sign-flipped before training).
    let f = finals(&dale).median;
    let first = median(
        &dale
            .iter()
            .filter_map(|r| r.loss.first().copied())
            .collect::<Vec<_>>(),
    );
    sec.verdicts.push(Verdict::new(
        "Dale-constrained RFLO still learns",
        "median final loss ≤ 0.25 × median loss of the first training trial (the sign-constrained initial network)",
        format!("final {} vs first trial {} (ratio {}); without Dale final {}", fmt_num(f), fmt_num(first), fmt_num(f / first), fmt_num(finals(&plain).median)),
        f <= LEARNS_FRACTION * first,
    ));
    Ok(sec)
}

// ---------------------------------------------------------------- fig2s2

/// Parameters of fig2s2.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2s2Params {
    /// Shared Fig 2 settings.
    pub common: Fig2Common,
    /// Period (choice: 20τ).
    pub period: usize,
    /// Rate for W + W_out (RFLO, paper's at 20τ).
    pub eta_full: f64,
    /// Readout-only rate eta1 (paper: 0.03); the readout is fed back through B.
    pub eta_readout_only: f64,
    /// Recurrent-only RFLO rate (choice: RFLO's).
    pub eta_recurrent_only: f64,
    /// "both > readout-only": full median at most this fraction of readout-only's.
    pub better_fraction: f64,
    /// "≈ untrained": recurrent-only median at least this fraction of untrained.
    pub fails_fraction: f64,
}

/// fig2s2: W and W_out vs readout-only vs recurrent-only.
pub fn fig2s2(ctx: &Ctx) -> Res<Section> {
    let c = common(ctx);
    let params = Fig2s2Params {
        common: c.clone(),
        period: 200,
        eta_full: paper_eta(RuleKind::Rflo, 200),
        eta_readout_only: 0.03,
        eta_recurrent_only: paper_eta(RuleKind::Rflo, 200),
        better_fraction: 0.5,
        fails_fraction: 0.5,
    };
    let conds = [
        (
            Variant::Plain,
            params.eta_full,
            "W and W_out (RFLO)",
            colors::RFLO,
        ),
        (
            Variant::ReadoutOnly,
            params.eta_readout_only,
            "readout only (with feedback)",
            colors::BLUE,
        ),
        (
            Variant::RecurrentOnly,
            params.eta_recurrent_only,
            "recurrent only",
            colors::GREEN,
        ),
    ];
    let mut keys = Vec::new();
    for (v, eta, _, _) in conds {
        for s in 0..c.seeds {
            keys.push(Key::new(&c, RuleKind::Rflo, v, params.period, eta, s));
        }
    }
    let runs = ctx.fig2_cache.get(ctx, "fig2s2", &keys)?;
    let group = |v: Variant| -> Vec<Arc<Run>> {
        runs.iter()
            .filter(|r| r.key.variant == v)
            .cloned()
            .collect()
    };
    let mut sec = Section::new(
        "fig2s2",
        "Which weights learn: W and W_out vs readout-only (readout fed back via B) vs recurrent-only, T = 20τ",
        "both > readout-only; recurrent-only fails (≈ untrained)",
    );
    sec.params = format!("{params:#?}");
    let mut csv = Table::new(&LOSS_HEADER);
    loss_rows(&mut csv, &[], &runs, c.curve_points);
    csv.write(&ctx.path("fig2s2.csv"))?;
    let mut panel = Panel::new("T = 20τ", "trial", "loss L").log_y();
    let mut rows = Vec::new();
    for (v, _, label, color) in conds {
        let g = group(v);
        panel
            .series
            .push(loss_series(label, color, &g, c.curve_points));
        rows.push((label.to_string(), g));
    }
    plot::render(
        &ctx.path("fig2s2.svg"),
        "Fig 2–S2: recurrent and readout learning",
        1,
        (600, 420),
        &[panel],
    )?;
    let row_refs: Vec<(String, &[Arc<Run>])> = rows
        .iter()
        .map(|(n, r)| (n.clone(), r.as_slice()))
        .collect();
    condition_table(&mut sec, &row_refs);
    sec.files = vec!["fig2s2.csv".into(), "fig2s2.svg".into()];
    let (full, ro, rec) = (
        finals(&rows[0].1).median,
        finals(&rows[1].1).median,
        finals(&rows[2].1).median,
    );
    let u = untrained(&rows[2].1).median;
    sec.verdicts.push(Verdict::new(
        "training both beats readout-only",
        format!(
            "median(W and W_out) ≤ {} × median(readout-only)",
            params.better_fraction
        ),
        format!(
            "{} vs {} (ratio {})",
            fmt_num(full),
            fmt_num(ro),
            fmt_num(full / ro)
        ),
        full <= params.better_fraction * ro,
    ));
    sec.verdicts.push(Verdict::new(
        "recurrent-only fails (≈ untrained)",
        format!(
            "median(recurrent-only) ≥ {} × median untrained loss",
            params.fails_fraction
        ),
        format!(
            "{} vs untrained {} (ratio {})",
            fmt_num(rec),
            fmt_num(u),
            fmt_num(rec / u)
        ),
        rec >= params.fails_fraction * u,
    ));
    Ok(sec)
}

// ---------------------------------------------------------------- fig2s3

/// Parameters of fig2s3.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct Fig2s3Params {
    /// Shared Fig 2 settings (its `n_units` is replaced by each size).
    pub common: Fig2Common,
    /// Period (choice: 20τ).
    pub period: usize,
    /// RFLO rate (the paper's at 20τ, for every N).
    pub eta: f64,
    /// Network sizes (choice).
    pub sizes: Vec<usize>,
    /// "larger do better": median at the largest N at most this fraction of the smallest's.
    pub better_fraction: f64,
}

/// fig2s3: final loss vs N (RFLO).
pub fn fig2s3(ctx: &Ctx) -> Res<Section> {
    let c = common(ctx);
    let params = Fig2s3Params {
        common: c.clone(),
        period: 200,
        eta: paper_eta(RuleKind::Rflo, 200),
        sizes: if ctx.quick {
            vec![10, 30, 60]
        } else {
            vec![10, 20, 30, 60, 120]
        },
        better_fraction: 0.5,
    };
    let mut keys = Vec::new();
    for &n in &params.sizes {
        for s in 0..c.seeds {
            keys.push(
                Key::new(
                    &c,
                    RuleKind::Rflo,
                    Variant::Plain,
                    params.period,
                    params.eta,
                    s,
                )
                .with_units(n),
            );
        }
    }
    let runs = ctx.fig2_cache.get(ctx, "fig2s3", &keys)?;
    let group = |n: usize| -> Vec<Arc<Run>> {
        runs.iter()
            .filter(|r| r.key.n_units == n)
            .cloned()
            .collect()
    };
    let mut sec = Section::new(
        "fig2s3",
        "Final loss vs network size N (RFLO, T = 20τ)",
        "larger networks do better",
    );
    sec.params = format!("{params:#?}");
    let mut csv = Table::new(&[
        "n_units",
        "rule",
        "period_steps",
        "eta",
        "seed",
        "final_loss",
        "untrained_loss",
        "failed",
    ]);
    for r in runs.iter() {
        csv.row(row![
            r.key.n_units,
            "RFLO",
            r.key.period,
            r.key.eta(),
            r.key.seed,
            r.final_loss,
            r.untrained_loss,
            r.failure.is_some()
        ]);
    }
    csv.write(&ctx.path("fig2s3.csv"))?;
    let mut line = Vec::new();
    let mut band = Vec::new();
    let mut rows = Vec::new();
    for &n in &params.sizes {
        let g = group(n);
        let s = finals(&g);
        line.push((n as f64, s.median));
        band.push((n as f64, s.q25, s.q75));
        rows.push((format!("N = {n}"), g));
    }
    let panel = Panel::new("RFLO, T = 20τ", "network size N (units)", "final loss L")
        .log_y()
        .log_x()
        .with(Series::new("RFLO", colors::RFLO, Style::LinePoints, line.clone()).with_band(band));
    plot::render(
        &ctx.path("fig2s3.svg"),
        "Fig 2–S3: network size",
        1,
        (560, 400),
        &[panel],
    )?;
    let row_refs: Vec<(String, &[Arc<Run>])> = rows
        .iter()
        .map(|(n, r)| (n.clone(), r.as_slice()))
        .collect();
    condition_table(&mut sec, &row_refs);
    sec.files = vec!["fig2s3.csv".into(), "fig2s3.svg".into()];
    let fit = line_fit(
        &line.iter().map(|p| p.0.log10()).collect::<Vec<_>>(),
        &line.iter().map(|p| p.1.log10()).collect::<Vec<_>>(),
    );
    let (first, last) = (line[0].1, line[line.len() - 1].1);
    sec.verdicts.push(Verdict::new(
        "larger networks do better",
        format!(
            "least-squares slope of log10(median final loss) vs log10(N) < 0, and median at the largest N ≤ {} × median at the smallest",
            params.better_fraction
        ),
        format!("slope {}; N = {}: {} vs N = {}: {}", fmt_num(fit.slope), params.sizes[params.sizes.len() - 1], fmt_num(last), params.sizes[0], fmt_num(first)),
        fit.slope < 0.0 && last <= params.better_fraction * first,
    ));
    Ok(sec)
}
