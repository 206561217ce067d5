//! FORCE (docs/spec/MODEL.md §15): recursive least squares on the readout
//! equals the ridge least-squares readout on the states seen so far,
//! `argmin sum_s |y*(s) - W_out h(s)|² + delta |W_out - W_out(0)|_F²`, at
//! every step (to 1e-10), in readout-feedback mode with the state carried
//! over, masked steps skipped; `P` is rule memory and a run resumes
//! bit-identically; and it learns a periodic target in readout-feedback mode.

#![allow(clippy::print_stderr)]

mod common;

use faer::Mat;
use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, TrialCycle, seeded};
use rnn_learn::{Constraints, Force, LearningRates, LearningRule, Schedule, TrainingConfig};

use common::rel_diff_mat;

/// Solves `A X = R` (`A` square, well conditioned) by Gauss–Jordan with
/// partial pivoting.
fn solve(a: &Mat<f64>, r: &Mat<f64>) -> Mat<f64> {
    let n = a.nrows();
    let mut a = a.clone();
    let mut x = r.clone();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[(i, col)].abs().total_cmp(&a[(j, col)].abs()))
            .unwrap();
        for j in 0..n {
            let t = a[(col, j)];
            a[(col, j)] = a[(pivot, j)];
            a[(pivot, j)] = t;
        }
        for j in 0..x.ncols() {
            let t = x[(col, j)];
            x[(col, j)] = x[(pivot, j)];
            x[(pivot, j)] = t;
        }
        let d = a[(col, col)];
        for i in (0..n).filter(|&i| i != col) {
            let f = a[(i, col)] / d;
            for j in 0..n {
                a[(i, j)] -= f * a[(col, j)];
            }
            for j in 0..x.ncols() {
                x[(i, j)] -= f * x[(col, j)];
            }
        }
    }
    Mat::from_fn(n, x.ncols(), |i, j| x[(i, j)] / a[(i, i)])
}

/// The ridge readout `W = (Y* H^T + delta W0)(H H^T + delta I)^{-1}` for
/// the given `(h(s), y*(s))` pairs.
fn ridge(pairs: &[(Vec<f64>, Vec<f64>)], w0: &Mat<f64>, delta: f64) -> Mat<f64> {
    let (ny, n) = (w0.nrows(), w0.ncols());
    let a = Mat::from_fn(n, n, |i, j| {
        pairs.iter().map(|(h, _)| h[i] * h[j]).sum::<f64>() + if i == j { delta } else { 0.0 }
    });
    // A W^T = H Y*^T + delta W0^T.
    let r = Mat::from_fn(n, ny, |i, d| {
        pairs.iter().map(|(h, y)| h[i] * y[d]).sum::<f64>() + delta * w0[(d, i)]
    });
    solve(&a, &r).transpose().to_owned()
}

fn network(seed: u64) -> Network {
    let config = NetworkConfig::new(8, 2, 2)
        .with_tau(3.0)
        .with_readout_feedback(true);
    Network::random(&config, &mut seeded(seed)).unwrap()
}

/// One-step trials of a random sequence (some steps masked when `masked`).
fn one_step_trials(seed: u64, len: usize, masked: bool) -> Vec<Trial> {
    let x = common::random_matrix(len, 2, seed);
    let y = common::random_matrix(len, 2, seed + 1);
    (0..len)
        .map(|s| {
            let mask = (masked && s % 3 == 1).then(|| vec![0.0]);
            Trial::new(
                x.as_ref().subrows(s, 1),
                y.as_ref().subrows(s, 1),
                mask,
                InitialState::CarryOver,
            )
            .unwrap()
        })
        .collect()
}

/// After every step (run as a chain of one-step online trials, the state
/// carried over), `W_out` is the ridge readout on the unmasked states seen
/// so far; and the chain equals one long online trial.
#[test]
fn force_is_ridge_regression_on_the_states_seen() {
    let mut worst: f64 = 0.0;
    for (seed, delta, masked) in [(1, 1.0, false), (2, 0.5, true), (3, 2.0, false)] {
        let mut net = network(seed);
        let w0 = net.readout().to_owned();
        let rule = Force::new(LearningRates::uniform(1.0))
            .unwrap()
            .with_delta(delta)
            .unwrap();
        let mut state = rule.new_state(&net);
        let trials = one_step_trials(seed + 10, 40, masked);
        let mut start = State {
            h: vec![0.3; 8],
            y: vec![0.0; 2],
        };
        let first = start.clone();
        let mut pairs = Vec::new();
        for trial in &trials {
            let outcome = rule
                .run_online(&mut net, trial, &start, &mut state, &Constraints::default())
                .unwrap();
            if trial.mask_at(0) != 0.0 {
                pairs.push((outcome.final_state.h.clone(), trial.target_at(0).to_vec()));
            }
            let want = ridge(&pairs, &w0, delta);
            let d = rel_diff_mat(&net.readout().to_owned(), &want);
            assert!(d <= 1e-10, "step {}: {d:e}", pairs.len());
            worst = worst.max(d);
            start = outcome.final_state;
        }
        // The same sequence as one trial.
        let x = Mat::from_fn(40, 2, |s, j| trials[s].input_at(0)[j]);
        let y = Mat::from_fn(40, 2, |s, j| trials[s].target_at(0)[j]);
        let mask = masked.then(|| (0..40).map(|s| trials[s].mask_at(0)).collect());
        let long = Trial::new(x.as_ref(), y.as_ref(), mask, InitialState::CarryOver).unwrap();
        let mut other = network(seed);
        let mut state = rule.new_state(&other);
        rule.run_online(
            &mut other,
            &long,
            &first,
            &mut state,
            &Constraints::default(),
        )
        .unwrap();
        assert!(rel_diff_mat(&other.readout().to_owned(), &net.readout().to_owned()) <= 1e-12);
        // W and W_in never change.
        assert_eq!(other.recurrent(), network(seed).recurrent());
        assert_eq!(other.input(), network(seed).input());
    }
    eprintln!("FORCE = ridge readout on the states seen: worst {worst:.2e} over every step");
}

/// A sine of period 200 steps, readout-feedback mode, the state carried
/// over (MODEL.md §15's reference setting, N = 100, g = 1.5): trained online
/// for 20 periods,
/// then run free (no learning); the normalised error `mean |y - y*|² /
/// mean |y*|²` is small with `B ~ N(0, 1)` and large with `B = 0`.
#[test]
fn force_learns_a_periodic_target_with_feedback() {
    let period = 200;
    let target = Mat::from_fn(period, 1, |s, _| {
        let t = s as f64 / period as f64 * std::f64::consts::TAU;
        t.sin()
    });
    let trial = Trial::new(
        Mat::zeros(period, 0).as_ref(),
        target.as_ref(),
        None,
        InitialState::CarryOver,
    )
    .unwrap();
    let first = Trial::new(
        Mat::zeros(period, 0).as_ref(),
        target.as_ref(),
        None,
        InitialState::Constant(0.1),
    )
    .unwrap();
    let mut errors = Vec::new();
    for zero_feedback in [false, true] {
        let config = NetworkConfig::new(100, 0, 1)
            .with_tau(10.0)
            .with_readout_feedback(true);
        let mut net = Network::random(&config, &mut seeded(7)).unwrap();
        if zero_feedback {
            net.weights_mut().feedback.fill(0.0);
        }
        let mut cycle = TrialCycle::new(vec![first.clone(), trial.clone()]).unwrap();
        let training = TrainingConfig::default()
            .with_n_trials(20)
            .with_schedule(Schedule::Online);
        let rule = Force::new(LearningRates::uniform(1.0)).unwrap();
        let mut trainer = rnn_learn::Trainer::new(rule, &mut net, training).unwrap();
        while !trainer.is_done() {
            trainer.train_trial(&mut net, &mut cycle).unwrap();
        }
        // Free run over two periods from the carried state.
        let mut start = trainer.carried_state().unwrap().clone();
        let (mut err, mut norm) = (0.0, 0.0);
        for _ in 0..2 {
            let tr = net.run_trial(&trial, Some(&start)).unwrap();
            for s in 0..period {
                err += tr.error[(0, s)].powi(2);
                norm += target[(s, 0)].powi(2);
            }
            start = tr.final_state();
        }
        errors.push(err / norm);
    }
    eprintln!(
        "FORCE periodic target (N 100, period 200, 20 periods): free-running normalised error {:.2e} with B ~ N(0,1), {:.2e} with B = 0",
        errors[0], errors[1]
    );
    assert!(errors[0] < 0.05, "{errors:?}");
    assert!(errors[1] > 0.5, "{errors:?}");
}
