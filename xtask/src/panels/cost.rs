//! `cost`: time per step vs N for RFLO, BPTT and RTRL, measured in-process
//! (minimum over repeats of one trial's trial-end update, divided by T). No
//! grids: it trains nothing; the criterion benches are separate.

use std::time::Instant;

use faer::Mat;
use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, seeded};
use rnn_experiment::GridFile;
use rnn_experiment::stats::{fmt_num, line_fit};
use rnn_learn::{AnyRule, LearningRule, RuleSpec, WeightUpdate};

use super::{Panel, PanelRun, Part, cols};
use crate::plot::{self, Series, Style, colors};
use crate::report::Verdict;
use crate::table::Table;
use crate::{Res, row};

/// The cost panel.
pub const COST: Panel = Panel {
    part: Part::Paper,
    id: "cost",
    title: "Time per step vs N for RFLO, BPTT, RTRL (trial-end update of one trial, in-process, minimum over repeats)",
    claim: "slopes on log–log ≈ 2, 2, 4 (fit at large N)",
    grids: |_| Ok(GridFile::default()),
    evaluate: cost,
};

/// RTRL is measured at increasing N while the predicted trial time (16× the previous) stays below this.
const RTRL_TRIAL_LIMIT_S: f64 = 1.0;
/// Largest N tried for RTRL.
const RTRL_MAX_N: usize = 128;
/// Steps per timed trial: RFLO, BPTT, RTRL.
const STEPS: [usize; 3] = [200, 200, 10];
/// The slope is fitted on this many of the largest measured N.
const FIT_POINTS: usize = 3;
/// Expected slopes: RFLO, BPTT, RTRL.
const EXPECTED: [f64; 3] = [2.0, 2.0, 4.0];
/// Allowed |slope − expected|.
const TOLERANCE: f64 = 0.5;

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

fn cost(p: &mut PanelRun<'_>) -> Res<()> {
    // Below N ≈ 100 fixed per-step costs dominate (docs/spec/FIGURES.md): the fit is on the largest N.
    let sizes = &[16, 32, 64, 128, 256, 512, 1024][..p.scale.pick(6, 7)];
    let (repeats, r) = (p.scale.pick(3, 5), 0.01);
    let rules = [RuleSpec::rflo(r), RuleSpec::bptt(r), RuleSpec::rtrl(r)];
    let mut points: [Vec<(f64, f64)>; 3] = Default::default(); // per rule: (N, s per step)
    for &n in sizes {
        let net = Network::random(&NetworkConfig::new(n, 1, 1), &mut seeded(n as u64))?;
        let last = points[2].last().map_or(0.0, |q| q.1);
        let rtrl_ok = n <= RTRL_MAX_N && last * STEPS[2] as f64 * 16.0 <= RTRL_TRIAL_LIMIT_S;
        for (r, rule) in rules.iter().enumerate().filter(|&(r, _)| r < 2 || rtrl_ok) {
            let t = time_rule(&rule.build()?, &net, STEPS[r], repeats)?;
            points[r].push((n as f64, t / STEPS[r] as f64));
        }
    }
    let header = "rule|n_units|seconds_per_step|steps_per_trial|repeats";
    let (mut csv, mut rows) = (Table::new(&cols(header)), Vec::new());
    let palette = [colors::RFLO, colors::BPTT, colors::BLUE];
    let axes = ("network size N (units)", "time per step (s)");
    let mut panel = plot::Panel::new("Cost per time step", axes.0, axes.1);
    panel = panel.log_x().log_y();
    for (r, pts) in points.into_iter().enumerate() {
        let (name, expected) = (rules[r].label(), EXPECTED[r]);
        for &(n, t) in &pts {
            csv.row(row![name, n as usize, t, STEPS[r], repeats]);
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
        panel = panel.with(Series::new(name, palette[r], Style::LinePoints, pts));
    }
    csv.write(&p.file("cost.csv"))?;
    let header = cols("rule|N: µs per step|fit on N|slope|expected");
    p.section.table(&header, &rows);
    p.section.line(
        "Timings are wall-clock on a shared machine (other processes may add noise; minima over repeats). \
         In a dev-profile build (`cargo xtask`) absolute times are higher than in release; the slopes are what is checked. \
         Rules are built from `RuleSpec::{rflo, bptt, rtrl}(0.01)`; the networks are `seeded(N)`.",
    );
    let svg = p.file("cost.svg");
    plot::render(&svg, "Cost of the learning rules", 1, (560, 420), &[panel])?;
    Ok(())
}
