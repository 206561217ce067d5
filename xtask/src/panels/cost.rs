//! `cost` and `cost_zoo`: time per step vs N, measured in-process (minimum
//! over repeats of one trial's trial-end update, divided by T). `cost` is the
//! paper's three rules; `cost_zoo` (beyond the paper) every registered rule
//! in one representative form. No grids: they train nothing; the criterion
//! benches are separate.

use std::time::Instant;

use faer::Mat;
use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, seeded};
use rnn_experiment::GridFile;
use rnn_experiment::stats::{fmt_num, line_fit};
use rnn_learn::{AnyRule, LearningRates, LearningRule, RuleSpec, WeightUpdate};

use super::{Panel, PanelRun, Part, cols, rule_color};
use crate::plot::{self, Series, Style};
use crate::report::Verdict;
use crate::table::Table;
use crate::{Res, row};

/// The cost panel: RFLO, BPTT, RTRL.
pub const COST: Panel = Panel {
    part: Part::Paper,
    id: "cost",
    title: "Time per step vs N for RFLO, BPTT, RTRL (trial-end update of one trial, in-process, minimum over repeats)",
    claim: "slopes on log–log ≈ 2, 2, 4 (fit at large N)",
    grids: |_| Ok(GridFile::default()),
    evaluate: |p| measure(p, &paper_rules()),
};

/// The extended cost panel: every registered rule (beyond the paper).
pub const COST_ZOO: Panel = Panel {
    part: Part::Beyond,
    id: "cost_zoo",
    title: "Time per step vs N for every registered rule (trial-end update of one trial, in-process, minimum over repeats)",
    claim: "slopes on log–log ≈ 2 (SnAp-1, UORO, REINFORCE, FORCE, and RFLO, LocalSymmetric, e-prop, BPTT, NonlocalRandom), 3 (KF-RTRL), 4 (RTRL) (fit at large N)",
    grids: |_| Ok(GridFile::default()),
    evaluate: |p| measure(p, &zoo_rules()),
};

/// A rule is measured at increasing N while its predicted trial time (the
/// previous N's times `2^expected slope`) stays below this.
const TRIAL_LIMIT_S: f64 = 1.0;
/// Largest N tried for RTRL (O(N⁴) memory and time).
const RTRL_MAX_N: usize = 128;
/// Steps per timed trial: the O(N²) rules, and the O(N³)–O(N⁴) ones (RTRL, KF-RTRL).
const STEPS: (usize, usize) = (200, 10);
/// The slope is fitted on this many of the largest measured N.
const FIT_POINTS: usize = 3;
/// Allowed |slope − expected|.
const TOLERANCE: f64 = 0.5;
/// The rate of the timed rules (a rate does not change the cost).
const RATE: f64 = 0.01;

/// A timed rule: its spec, steps per trial, expected slope and largest N.
struct Timed {
    spec: RuleSpec,
    steps: usize,
    expected: f64,
    max_n: usize,
}

/// The expected log–log slope of a rule's cost per step (docs/spec/MODEL.md §10–§15).
fn timed(spec: RuleSpec) -> Timed {
    let (expected, steps, max_n) = match spec.name() {
        "rtrl" => (4.0, STEPS.1, RTRL_MAX_N),
        "kf_rtrl" => (3.0, STEPS.1, usize::MAX),
        _ => (2.0, STEPS.0, usize::MAX),
    };
    Timed {
        spec,
        steps,
        expected,
        max_n,
    }
}

fn paper_rules() -> Vec<Timed> {
    [
        RuleSpec::rflo(RATE),
        RuleSpec::bptt(RATE),
        RuleSpec::rtrl(RATE),
    ]
    .into_iter()
    .map(timed)
    .collect()
}

/// Every registered rule in its default form ([`RuleSpec::every_rule`]).
fn zoo_rules() -> Vec<Timed> {
    let rules = RuleSpec::every_rule(LearningRates::uniform(RATE));
    rules.into_iter().map(timed).collect()
}

/// Minimum over `repeats` of the trial-end update of a synthetic `n_steps` trial, after a
/// warm-up (first touch of buffers).
fn time_rule(rule: &AnyRule, net: &Network, n_steps: usize, repeats: usize) -> Res<f64> {
    let inputs = Mat::from_fn(n_steps, 1, |s, _| (0.05 * s as f64).sin());
    let targets = Mat::from_fn(n_steps, 1, |s, _| (0.03 * s as f64).cos());
    let h0 = InitialState::Constant(0.1);
    let trial = &Trial::new(inputs.as_ref(), targets.as_ref(), None, h0)?;
    let (start, mut best) = (State::initial(net, trial, None)?, f64::INFINITY);
    let (mut state, mut update) = (rule.new_state(net), WeightUpdate::zeros(net));
    rule.accumulate(net, trial, &start, &mut state, &mut update)?;
    for _ in 0..repeats {
        update.set_zero();
        let t0 = Instant::now();
        rule.accumulate(net, trial, &start, &mut state, &mut update)?;
        best = best.min(t0.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn measure(p: &mut PanelRun<'_>, rules: &[Timed]) -> Res<()> {
    // Below N ≈ 100 fixed per-step costs dominate (docs/spec/FIGURES.md): the fit is on the largest N.
    let sizes = &[16, 32, 64, 128, 256, 512, 1024][..p.scale.pick(6, 7)];
    let repeats = p.scale.pick(3, 5);
    let mut points: Vec<Vec<(f64, f64)>> = vec![Vec::new(); rules.len()]; // per rule: (N, s per step)
    for &n in sizes {
        let net = Network::random(&NetworkConfig::new(n, 1, 1), &mut seeded(n as u64))?;
        for (r, rule) in rules.iter().enumerate() {
            let last = points[r].last().map_or(0.0, |q| q.1);
            let predicted = last * rule.steps as f64 * 2f64.powf(rule.expected);
            if n > rule.max_n || predicted > TRIAL_LIMIT_S {
                continue;
            }
            let t = time_rule(&rule.spec.build()?, &net, rule.steps, repeats)?;
            points[r].push((n as f64, t / rule.steps as f64));
        }
    }
    let id = p.section.panel.clone();
    let header = "rule|n_units|seconds_per_step|steps_per_trial|repeats";
    let (mut csv, mut rows) = (Table::new(&cols(header)), Vec::new());
    let axes = ("network size N (units)", "time per step (s)");
    let mut panel = plot::Panel::new("Cost per time step", axes.0, axes.1);
    panel = panel.log_x().log_y();
    for (rule, pts) in rules.iter().zip(points) {
        let (name, expected) = (rule.spec.label(), rule.expected);
        for &(n, t) in &pts {
            csv.row(row![name, n as usize, t, rule.steps, repeats]);
        }
        let fit_pts = &pts[pts.len().saturating_sub(FIT_POINTS)..];
        let (xs, ys): (Vec<_>, Vec<_>) = fit_pts.iter().map(|q| (q.0.log10(), q.1.log10())).unzip();
        let fit = line_fit(&xs, &ys);
        let time = |q: &(f64, f64)| format!("{}: {}", q.0, fmt_num(q.1 * 1e6));
        let times = pts.iter().map(time).collect::<Vec<_>>().join(", ");
        let fit_on: Vec<String> = fit_pts.iter().map(|q| q.0.to_string()).collect();
        let (slope, exp) = (fmt_num(fit.slope), fmt_num(expected));
        rows.push(vec![name.into(), times, fit_on.join(", "), slope, exp]);
        p.section.verdicts.push(Verdict::new(
            format!("{name} slope ≈ {expected}"),
            format!("abs(fitted log–log slope − {expected}) ≤ {TOLERANCE} (fit on the {FIT_POINTS} largest N)"),
            format!("slope {} (R² {})", fmt_num(fit.slope), fmt_num(fit.r2)),
            (fit.slope - expected).abs() <= TOLERANCE,
        ));
        panel = panel.with(Series::new(name, rule_color(name), Style::LinePoints, pts));
    }
    csv.write(&p.file(&format!("{id}.csv")))?;
    let header = cols("rule|N: µs per step|fit on N|slope|expected");
    p.section.table(&header, &rows);
    let specs: Vec<String> = rules
        .iter()
        .map(|r| format!("`{}`", r.spec.name()))
        .collect();
    p.section.line(format!(
        "Timings are wall-clock on a shared machine (other processes may add noise; minima over repeats). \
         In a dev-profile build (`cargo xtask`) absolute times are higher than in release; the slopes are what is checked. \
         Rules: {} in their default forms (`RuleSpec`, rate {RATE}); the networks are `seeded(N)`; \
         {} steps per trial ({} for RTRL and KF-RTRL); a rule is measured at the next N only while its predicted \
         trial time stays under {TRIAL_LIMIT_S} s (RTRL at most N = {RTRL_MAX_N}).",
        specs.join(", "),
        STEPS.0,
        STEPS.1
    ));
    let svg = p.file(&format!("{id}.svg"));
    plot::render(&svg, "Cost of the learning rules", 1, (560, 420), &[panel])?;
    Ok(())
}
