//! `cost`: time per step vs N for RFLO, BPTT and RTRL, measured in-process
//! (minimum over repeats of one trial's trial-end update, divided by T).
//! The criterion benches are separate; this panel only checks the scaling.

use std::time::Instant;

use faer::Mat;
use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, seeded};
use rnn_learn::{Bptt, LearningRates, LearningRule, Rflo, Rtrl, WeightUpdate};

use super::common::seed_of;
use super::{Ctx, Res};
use crate::plot::{self, Panel, Series, Style, colors};
use crate::report::{Section, Verdict};
use crate::row;
use crate::stats::{fmt_num, line_fit};
use crate::table::Table;

/// Parameters of the cost panel.
#[allow(dead_code)] // fields are read through Debug, for the report
#[derive(Debug, Clone)]
pub struct CostParams {
    /// Network sizes for RFLO and BPTT.
    pub sizes: Vec<usize>,
    /// RTRL is measured at increasing N while the predicted trial time (16× the previous) stays below this.
    pub rtrl_trial_limit_s: f64,
    /// Largest N tried for RTRL.
    pub rtrl_max_n: usize,
    /// Steps per timed trial (RFLO, BPTT).
    pub steps: usize,
    /// Steps per timed trial (RTRL).
    pub rtrl_steps: usize,
    /// Repeats per point (minimum taken).
    pub repeats: usize,
    /// The slope is fitted on this many of the largest measured N.
    pub fit_points: usize,
    /// Expected slopes (RFLO, BPTT, RTRL).
    pub expected: [f64; 3],
    /// Allowed |slope - expected|.
    pub tolerance: f64,
}

fn params(ctx: &Ctx) -> CostParams {
    CostParams {
        // Below N ≈ 100 fixed per-step costs dominate (FIGURES.md): the slope
        // is fitted on the largest sizes, where the O(N²) work does.
        sizes: if ctx.quick {
            vec![16, 32, 64, 128, 256, 512]
        } else {
            vec![16, 32, 64, 128, 256, 512, 1024]
        },
        rtrl_trial_limit_s: 1.0,
        rtrl_max_n: 128,
        steps: 200,
        rtrl_steps: 10,
        repeats: if ctx.quick { 3 } else { 5 },
        fit_points: 3,
        expected: [2.0, 2.0, 4.0],
        tolerance: 0.5,
    }
}

fn make_trial(n_steps: usize) -> Trial {
    let inputs = Mat::from_fn(n_steps, 1, |s, _| (0.05 * s as f64).sin());
    let targets = Mat::from_fn(n_steps, 1, |s, _| (0.03 * s as f64).cos());
    Trial::new(
        inputs.as_ref(),
        targets.as_ref(),
        None,
        InitialState::Constant(0.1),
    )
    .expect("valid trial")
}

fn time_rule<R: LearningRule>(rule: &R, net: &Network, trial: &Trial, repeats: usize) -> Res<f64> {
    let start = State::initial(net, trial, None)?;
    let mut state = rule.new_state(net);
    let mut update = WeightUpdate::zeros(net);
    // Warm-up (first-touch of buffers).
    rule.accumulate(net, trial, &start, &mut state, &mut update)?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        update.set_zero();
        let t0 = Instant::now();
        rule.accumulate(net, trial, &start, &mut state, &mut update)?;
        best = best.min(t0.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// The cost panel.
pub fn cost(ctx: &Ctx) -> Res<Section> {
    let p = params(ctx);
    let rates = LearningRates::uniform(0.01);
    let names = ["RFLO", "BPTT", "RTRL"];
    let total = (p.sizes.len() * 2 + p.sizes.iter().filter(|&&n| n <= p.rtrl_max_n).count()) as u64;
    let pb = ctx.progress("cost", total);
    // (rule index, N, seconds per step)
    let mut points: Vec<(usize, usize, f64)> = Vec::new();
    let trial = make_trial(p.steps);
    let rtrl_trial = make_trial(p.rtrl_steps);
    let mut rtrl_last: Option<f64> = None;
    for &n in &p.sizes {
        let net = Network::random(
            &NetworkConfig::new(n, 1, 1),
            &mut seeded(seed_of(&["cost"], n)),
        )?;
        let t = time_rule(&Rflo::new(rates)?, &net, &trial, p.repeats)?;
        points.push((0, n, t / p.steps as f64));
        pb.inc(1);
        let t = time_rule(&Bptt::new(rates)?, &net, &trial, p.repeats)?;
        points.push((1, n, t / p.steps as f64));
        pb.inc(1);
        let affordable = rtrl_last.is_none_or(|prev| prev * 16.0 <= p.rtrl_trial_limit_s);
        if n <= p.rtrl_max_n && affordable {
            let t = time_rule(&Rtrl::new(rates)?, &net, &rtrl_trial, p.repeats)?;
            rtrl_last = Some(t);
            points.push((2, n, t / p.rtrl_steps as f64));
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    let mut sec = Section::new(
        "cost",
        "Time per step vs N for RFLO, BPTT, RTRL (trial-end update of one trial, in-process, minimum over repeats)",
        "slopes on log–log ≈ 2, 2, 4 (fit at large N)",
    );
    sec.params = format!("{p:#?}");
    let mut csv = Table::new(&[
        "rule",
        "n_units",
        "seconds_per_step",
        "steps_per_trial",
        "repeats",
    ]);
    for &(r, n, t) in &points {
        let steps = if r == 2 { p.rtrl_steps } else { p.steps };
        csv.row(row![names[r], n, t, steps, p.repeats]);
    }
    csv.write(&ctx.path("cost.csv"))?;
    let palette = [colors::RFLO, colors::BPTT, colors::BLUE];
    let mut panel = Panel::new(
        "Cost per time step",
        "network size N (units)",
        "time per step (s)",
    )
    .log_x()
    .log_y();
    let mut rows = Vec::new();
    for r in 0..3 {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|q| q.0 == r)
            .map(|q| (q.1 as f64, q.2))
            .collect();
        let fit_pts = &pts[pts.len().saturating_sub(p.fit_points)..];
        let fit = line_fit(
            &fit_pts.iter().map(|q| q.0.log10()).collect::<Vec<_>>(),
            &fit_pts.iter().map(|q| q.1.log10()).collect::<Vec<_>>(),
        );
        let holds = (fit.slope - p.expected[r]).abs() <= p.tolerance;
        rows.push(vec![
            names[r].to_string(),
            pts.iter()
                .map(|q| format!("{}: {}", q.0, fmt_num(q.1 * 1e6)))
                .collect::<Vec<_>>()
                .join(", "),
            fit_pts
                .iter()
                .map(|q| q.0.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            fmt_num(fit.slope),
            fmt_num(p.expected[r]),
        ]);
        sec.verdicts.push(Verdict::new(
            format!("{} slope ≈ {}", names[r], p.expected[r]),
            format!(
                "abs(fitted log–log slope − {}) ≤ {} (fit on the {} largest N)",
                p.expected[r], p.tolerance, p.fit_points
            ),
            format!("slope {} (R² {})", fmt_num(fit.slope), fmt_num(fit.r2)),
            holds,
        ));
        panel
            .series
            .push(Series::new(names[r], palette[r], Style::LinePoints, pts));
    }
    sec.table(
        &["rule", "N: µs per step", "fit on N", "slope", "expected"],
        &rows,
    );
    sec.line(
        "Timings are wall-clock on a shared machine (other processes may add noise; minima over repeats). \
         In a dev-profile build (`cargo xtask`) absolute times are higher than in release; the slopes are what is checked.",
    );
    plot::render(
        &ctx.path("cost.svg"),
        "Cost of the learning rules",
        1,
        (560, 420),
        &[panel],
    )?;
    sec.files = vec!["cost.csv".into(), "cost.svg".into()];
    Ok(sec)
}
