//! Dynamics of docs/spec/MODEL.md §1 checked against hand computations and an
//! independent reference implementation: one step, whole trials, the loss,
//! carry-over between trials, and `tanh'`.

use faer::Mat;
use rnn_core::{
    InitialState, Network, NetworkConfig, State, Trial, Weights, forward_step, masked_error,
    seeded, tanh_derivative,
};

/// Relative/absolute closeness for values computed in a different order
/// (faer may use FMA and another summation order).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-14 * (1.0 + a.abs().max(b.abs()))
}

fn assert_close_slice(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(close(g, w), "{what}[{i}]: got {g:e}, want {w:e}");
    }
}

/// The 2-unit, 1-input, 1-output network used in the hand computations.
///
/// W = [[0.5, -0.3], [0.2, 0.4]], W_in = [0.7, -1.1]^T, W_out = [0.6, -0.8],
/// B = [1.5, -0.5]^T.
fn two_unit_net(tau: f64, feedback: bool) -> Network {
    let config = NetworkConfig::new(2, 1, 1)
        .with_tau(tau)
        .with_readout_feedback(feedback);
    let w = [[0.5, -0.3], [0.2, 0.4]];
    let weights = Weights {
        recurrent: Mat::from_fn(2, 2, |i, j| w[i][j]),
        input: Mat::from_fn(2, 1, |i, _| [0.7, -1.1][i]),
        readout: Mat::from_fn(1, 2, |_, j| [0.6, -0.8][j]),
        feedback: Mat::from_fn(2, 1, |i, _| [1.5, -0.5][i]),
    };
    Network::from_weights(&config, weights).unwrap()
}

/// One step without readout feedback, written out by hand from docs/spec/MODEL.md §1.
fn check_one_step_no_feedback(tau: f64) {
    let net = two_unit_net(tau, false);
    let a = 1.0 / tau;
    let h_prev = [0.3, -0.6];
    let x = [0.9];
    // y_prev must be ignored when readout feedback is off.
    let y_prev = [2.5];

    // u = W h + W_in x
    let u0 = 0.5 * 0.3 + (-0.3) * (-0.6) + 0.7 * 0.9; // 0.15 + 0.18 + 0.63 = 0.96
    let u1 = 0.2 * 0.3 + 0.4 * (-0.6) + (-1.1) * 0.9; // 0.06 - 0.24 - 0.99 = -1.17
    assert!(close(u0, 0.96) && close(u1, -1.17));
    // h = (1 - a) h_prev + a tanh(u)
    let h0 = (1.0 - a) * 0.3 + a * u0.tanh();
    let h1 = (1.0 - a) * (-0.6) + a * u1.tanh();
    // y = W_out h
    let y0 = 0.6 * h0 + (-0.8) * h1;

    let (mut u, mut h, mut y) = ([0.0; 2], [0.0; 2], [0.0; 1]);
    forward_step(&net, &h_prev, &x, &y_prev, &mut u, &mut h, &mut y);
    assert_close_slice(&u, &[u0, u1], &format!("u (tau = {tau})"));
    assert_close_slice(&h, &[h0, h1], &format!("h (tau = {tau})"));
    assert_close_slice(&y, &[y0], &format!("y (tau = {tau})"));
}

/// One step with readout feedback: u gains B y_prev.
fn check_one_step_feedback(tau: f64) {
    let net = two_unit_net(tau, true);
    let a = 1.0 / tau;
    let h_prev = [0.3, -0.6];
    let x = [0.9];
    let y_prev = [0.4];

    // u = W h + W_in x + B y_prev
    let u0 = 0.5 * 0.3 + (-0.3) * (-0.6) + 0.7 * 0.9 + 1.5 * 0.4; // 0.96 + 0.6 = 1.56
    let u1 = 0.2 * 0.3 + 0.4 * (-0.6) + (-1.1) * 0.9 + (-0.5) * 0.4; // -1.17 - 0.2 = -1.37
    assert!(close(u0, 1.56) && close(u1, -1.37));
    let h0 = (1.0 - a) * 0.3 + a * u0.tanh();
    let h1 = (1.0 - a) * (-0.6) + a * u1.tanh();
    let y0 = 0.6 * h0 + (-0.8) * h1;

    let (mut u, mut h, mut y) = ([0.0; 2], [0.0; 2], [0.0; 1]);
    forward_step(&net, &h_prev, &x, &y_prev, &mut u, &mut h, &mut y);
    assert_close_slice(&u, &[u0, u1], &format!("u feedback (tau = {tau})"));
    assert_close_slice(&h, &[h0, h1], &format!("h feedback (tau = {tau})"));
    assert_close_slice(&y, &[y0], &format!("y feedback (tau = {tau})"));
}

#[test]
fn one_step_matches_hand_computation_tau_1() {
    check_one_step_no_feedback(1.0);
    check_one_step_feedback(1.0);
}

#[test]
fn one_step_matches_hand_computation_tau_2() {
    check_one_step_no_feedback(2.0);
    check_one_step_feedback(2.0);
}

#[test]
fn one_step_matches_hand_computation_tau_10() {
    check_one_step_no_feedback(10.0);
    check_one_step_feedback(10.0);
}

#[test]
fn tau_1_step_is_pure_tanh_of_current() {
    // At alpha = 1 the leak vanishes: h = tanh(u) regardless of h_prev.
    let net = two_unit_net(1.0, false);
    let (mut u, mut h, mut y) = ([0.0; 2], [0.0; 2], [0.0; 1]);
    forward_step(&net, &[0.0, 0.0], &[1.0], &[0.0], &mut u, &mut h, &mut y);
    assert_close_slice(&u, &[0.7, -1.1], "u from input only");
    assert_close_slice(&h, &[0.7f64.tanh(), (-1.1f64).tanh()], "h = tanh(u)");
}

/// Two steps of a trial with readout feedback, by hand: y(0) = 0, so the
/// feedback term only enters at t = 2, with y(1).
#[test]
fn two_step_trial_with_feedback_matches_hand_computation() {
    for tau in [1.0, 2.0, 10.0] {
        let net = two_unit_net(tau, true);
        let a = 1.0 / tau;
        let inputs = Mat::from_fn(2, 1, |s, _| [0.9, -0.4][s]);
        let targets = Mat::from_fn(2, 1, |s, _| [0.5, -0.25][s]);
        let trial = Trial::new(
            inputs.as_ref(),
            targets.as_ref(),
            None,
            InitialState::Given(vec![0.3, -0.6]),
        )
        .unwrap();
        let tr = net.run_trial(&trial, None).unwrap();

        // t = 1: y(0) = 0
        let u10: f64 = 0.5 * 0.3 + (-0.3) * (-0.6) + 0.7 * 0.9;
        let u11: f64 = 0.2 * 0.3 + 0.4 * (-0.6) + (-1.1) * 0.9;
        let h10 = (1.0 - a) * 0.3 + a * u10.tanh();
        let h11 = (1.0 - a) * (-0.6) + a * u11.tanh();
        let y1 = 0.6 * h10 - 0.8 * h11;
        // t = 2: x = -0.4, feedback B y(1)
        let u20 = 0.5 * h10 + (-0.3) * h11 + 0.7 * (-0.4) + 1.5 * y1;
        let u21 = 0.2 * h10 + 0.4 * h11 + (-1.1) * (-0.4) + (-0.5) * y1;
        let h20 = (1.0 - a) * h10 + a * u20.tanh();
        let h21 = (1.0 - a) * h11 + a * u21.tanh();
        let y2 = 0.6 * h20 - 0.8 * h21;
        let loss = ((0.5 - y1).powi(2) + (-0.25 - y2).powi(2)) / (2.0 * 2.0);

        assert_eq!(tr.len(), 2);
        assert_close_slice(tr.h_at(0), &[0.3, -0.6], "h(0)");
        assert_close_slice(tr.h_at(1), &[h10, h11], "h(1)");
        assert_close_slice(tr.h_at(2), &[h20, h21], "h(2)");
        assert_close_slice(tr.u.col_as_slice(0), &[u10, u11], "u(1)");
        assert_close_slice(tr.u.col_as_slice(1), &[u20, u21], "u(2)");
        assert_close_slice(tr.y.col_as_slice(0), &[y1], "y(1)");
        assert_close_slice(tr.y.col_as_slice(1), &[y2], "y(2)");
        assert_close_slice(tr.error.col_as_slice(0), &[0.5 - y1], "e(1)");
        assert_close_slice(tr.error.col_as_slice(1), &[-0.25 - y2], "e(2)");
        assert!(close(tr.loss, loss), "loss {} vs {}", tr.loss, loss);
        // outputs() is the T x N_y view of y.
        assert_eq!(tr.outputs().nrows(), 2);
        assert_eq!(tr.outputs()[(1, 0)].to_bits(), tr.y[(0, 1)].to_bits());
    }
}

/// An independent, loop-based implementation of docs/spec/MODEL.md §1 for a whole
/// trial. Returns (h(0..=T) as rows, y(1..=T) as rows, loss).
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn reference_trial(
    w: &[Vec<f64>],
    w_in: &[Vec<f64>],
    w_out: &[Vec<f64>],
    b: &[Vec<f64>],
    feedback: bool,
    tau: f64,
    h0: &[f64],
    x: &[Vec<f64>],
    y_star: &[Vec<f64>],
    mask: &[f64],
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>, f64) {
    let n = h0.len();
    let ny = w_out.len();
    let a = 1.0 / tau;
    let big_t = y_star.len();
    let mut hs = vec![h0.to_vec()];
    let mut ys: Vec<Vec<f64>> = Vec::new();
    let mut sum_sq = 0.0;
    for t in 0..big_t {
        let h_prev = hs[t].clone();
        let y_prev = if t == 0 {
            vec![0.0; ny]
        } else {
            ys[t - 1].clone()
        };
        let mut h = vec![0.0; n];
        for j in 0..n {
            let mut u = 0.0;
            for k in 0..n {
                u += w[j][k] * h_prev[k];
            }
            for (k, xk) in x[t].iter().enumerate() {
                u += w_in[j][k] * xk;
            }
            if feedback {
                for (k, yk) in y_prev.iter().enumerate() {
                    u += b[j][k] * yk;
                }
            }
            h[j] = (1.0 - a) * h_prev[j] + a * u.tanh();
        }
        let mut y = vec![0.0; ny];
        for (i, yi) in y.iter_mut().enumerate() {
            for k in 0..n {
                *yi += w_out[i][k] * h[k];
            }
            let e = mask[t] * (y_star[t][i] - *yi);
            sum_sq += e * e;
        }
        hs.push(h);
        ys.push(y);
    }
    (hs, ys, sum_sq / (2.0 * big_t as f64))
}

fn to_rows(m: faer::MatRef<'_, f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
        .collect()
}

fn assert_close_tol(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs())),
        "{what}: {a:e} vs {b:e}"
    );
}

/// A whole trial on a random network, with a mask containing zeros, equals
/// the reference implementation, and its loss is 1/(2T) sum |m (y* - y)|^2.
#[test]
fn trial_matches_reference_and_loss_uses_mask() {
    for (tau, feedback) in [(1.0, false), (2.0, true), (10.0, false), (10.0, true)] {
        let (n, nx, ny, len) = (7, 3, 2, 9);
        let config = NetworkConfig::new(n, nx, ny)
            .with_tau(tau)
            .with_readout_feedback(feedback)
            .with_readout_init(rnn_core::ReadoutInit::Uniform { half_width: 0.5 });
        let net = Network::random(&config, &mut seeded(11)).unwrap();
        let inputs = Mat::from_fn(len, nx, |s, k| ((s * 3 + k) as f64 * 0.7).sin());
        let targets = Mat::from_fn(len, ny, |s, k| ((s + 2 * k) as f64 * 0.4).cos());
        let mask = vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let h0: Vec<f64> = (0..n).map(|j| 0.1 * j as f64 - 0.3).collect();
        let trial = Trial::new(
            inputs.as_ref(),
            targets.as_ref(),
            Some(mask.clone()),
            InitialState::Given(h0.clone()),
        )
        .unwrap();
        let tr = net.run_trial(&trial, None).unwrap();

        let x = to_rows(inputs.as_ref());
        let y_star = to_rows(targets.as_ref());
        let (hs, ys, loss) = reference_trial(
            &to_rows(net.recurrent()),
            &to_rows(net.input()),
            &to_rows(net.readout()),
            &to_rows(net.feedback()),
            feedback,
            tau,
            &h0,
            &x,
            &y_star,
            &mask,
        );
        for (t, h_ref) in hs.iter().enumerate() {
            for (j, &hr) in h_ref.iter().enumerate() {
                assert_close_tol(tr.h_at(t)[j], hr, 1e-12, &format!("h({t})[{j}]"));
            }
        }
        for (s, y_ref) in ys.iter().enumerate() {
            for (i, &yr) in y_ref.iter().enumerate() {
                assert_close_tol(tr.y[(i, s)], yr, 1e-12, &format!("y[{i}, {s}]"));
            }
        }
        assert_close_tol(tr.loss, loss, 1e-12, "loss vs reference");

        // Loss recomputed from the trajectory's own outputs, with the mask.
        let mut sum_sq = 0.0;
        for s in 0..len {
            for i in 0..ny {
                let e = mask[s] * (targets[(s, i)] - tr.y[(i, s)]);
                sum_sq += e * e;
                if mask[s] == 0.0 {
                    // Masked steps have exactly zero error.
                    assert_eq!(tr.error[(i, s)], 0.0);
                } else {
                    assert_close_tol(tr.error[(i, s)], e, 1e-15, "e(t)");
                }
            }
        }
        let expected = sum_sq / (2.0 * len as f64);
        assert_close_tol(tr.loss, expected, 1e-14, "loss from steps");

        // The mask matters: without it the loss is strictly larger here.
        let unmasked = Trial::new(
            inputs.as_ref(),
            targets.as_ref(),
            None,
            InitialState::Given(h0.clone()),
        )
        .unwrap();
        let tr_unmasked = net.run_trial(&unmasked, None).unwrap();
        assert!(tr_unmasked.loss > tr.loss);
        // Same dynamics: the mask only affects the error.
        assert_eq!(tr_unmasked.h, tr.h);
    }
}

#[test]
fn masked_error_values() {
    let mut e = [0.0; 3];
    let sq = masked_error(&[1.0, -2.0, 0.5], &[0.5, 1.0, 0.5], 1.0, &mut e);
    assert_eq!(e, [0.5, -3.0, 0.0]);
    assert_eq!(sq, 0.25 + 9.0);
    let sq0 = masked_error(&[1.0, -2.0, 0.5], &[0.5, 1.0, 0.5], 0.0, &mut e);
    assert_eq!(sq0, 0.0);
    assert!(e.iter().all(|&v| v == 0.0));
}

#[test]
fn constant_initial_state_and_no_input_network() {
    // N_x = 0: u = W h only.
    let config = NetworkConfig::new(4, 0, 1).with_tau(2.0);
    let net = Network::random(&config, &mut seeded(3)).unwrap();
    let len = 3;
    let trial = Trial::new(
        Mat::<f64>::zeros(len, 0).as_ref(),
        Mat::<f64>::zeros(len, 1).as_ref(),
        None,
        InitialState::Constant(0.1),
    )
    .unwrap();
    let tr = net.run_trial(&trial, None).unwrap();
    assert_eq!(tr.h_at(0), &[0.1; 4]);
    let w = net.recurrent();
    for j in 0..4 {
        let u: f64 = (0..4).map(|k| w[(j, k)] * 0.1).sum();
        let h = 0.5 * 0.1 + 0.5 * u.tanh();
        assert_close_tol(tr.h_at(1)[j], h, 1e-14, "h(1) with no input");
    }
}

#[test]
fn run_trial_into_reuses_and_resizes_buffers() {
    let config = NetworkConfig::new(5, 2, 1).with_readout_feedback(true);
    let net = Network::random(&config, &mut seeded(21)).unwrap();
    let make = |len: usize| {
        Trial::new(
            Mat::from_fn(len, 2, |s, k| (s as f64 - k as f64) * 0.3).as_ref(),
            Mat::from_fn(len, 1, |s, _| s as f64 * 0.1).as_ref(),
            None,
            InitialState::Constant(0.2),
        )
        .unwrap()
    };
    let long = make(8);
    let short = make(3);
    let mut buf = net.run_trial(&long, None).unwrap();
    net.run_trial_into(&short, None, &mut buf).unwrap();
    assert_eq!(buf, net.run_trial(&short, None).unwrap());
    net.run_trial_into(&long, None, &mut buf).unwrap();
    assert_eq!(buf, net.run_trial(&long, None).unwrap());
    // Same-size reuse with stale contents gives a fresh result.
    net.run_trial_into(&long, None, &mut buf).unwrap();
    assert_eq!(buf, net.run_trial(&long, None).unwrap());
}

/// Two consecutive trials, the second carrying over the first's final state,
/// equal one trial of the concatenated data, bit for bit.
#[test]
fn carry_over_equals_concatenated_trial() {
    for feedback in [false, true] {
        let (n, nx, ny) = (6, 2, 2);
        let (t1, t2) = (5, 7);
        let config = NetworkConfig::new(n, nx, ny)
            .with_tau(3.0)
            .with_readout_feedback(feedback)
            .with_readout_init(rnn_core::ReadoutInit::Uniform { half_width: 0.4 });
        let net = Network::random(&config, &mut seeded(99)).unwrap();
        let total = t1 + t2;
        let inputs = Mat::from_fn(total, nx, |s, k| ((s * 5 + k * 3) as f64 * 0.37).sin());
        let targets = Mat::from_fn(total, ny, |s, k| ((s + k) as f64 * 0.21).cos());
        let h0: Vec<f64> = (0..n).map(|j| 0.05 * j as f64).collect();

        let whole = Trial::new(
            inputs.as_ref(),
            targets.as_ref(),
            None,
            InitialState::Given(h0.clone()),
        )
        .unwrap();
        let first = Trial::new(
            inputs.as_ref().subrows(0, t1),
            targets.as_ref().subrows(0, t1),
            None,
            InitialState::Given(h0.clone()),
        )
        .unwrap();
        let second = Trial::new(
            inputs.as_ref().subrows(t1, t2),
            targets.as_ref().subrows(t1, t2),
            None,
            InitialState::CarryOver,
        )
        .unwrap();

        let tr_whole = net.run_trial(&whole, None).unwrap();
        let tr1 = net.run_trial(&first, None).unwrap();
        let carried = tr1.final_state();
        assert_eq!(carried.h, tr1.h_at(t1));
        assert_eq!(carried.y, tr1.y.col_as_slice(t1 - 1));
        let tr2 = net.run_trial(&second, Some(&carried)).unwrap();
        assert_eq!(tr2.y_initial, carried.y);

        for t in 0..=t1 {
            let a: Vec<u64> = tr1.h_at(t).iter().map(|v| v.to_bits()).collect();
            let b: Vec<u64> = tr_whole.h_at(t).iter().map(|v| v.to_bits()).collect();
            assert_eq!(a, b, "h({t}) first part, feedback = {feedback}");
        }
        for t in 0..=t2 {
            let a: Vec<u64> = tr2.h_at(t).iter().map(|v| v.to_bits()).collect();
            let b: Vec<u64> = tr_whole.h_at(t1 + t).iter().map(|v| v.to_bits()).collect();
            assert_eq!(a, b, "h({}) second part, feedback = {feedback}", t1 + t);
        }
        for s in 0..t2 {
            for i in 0..ny {
                assert_eq!(tr2.y[(i, s)].to_bits(), tr_whole.y[(i, t1 + s)].to_bits());
            }
        }
        // The losses combine by step counts: T L = T1 L1 + T2 L2.
        assert_close_tol(
            total as f64 * tr_whole.loss,
            t1 as f64 * tr1.loss + t2 as f64 * tr2.loss,
            1e-13,
            "combined loss",
        );
    }
}

#[test]
fn carry_over_state_of_wrong_size_is_rejected() {
    let net = Network::random(&NetworkConfig::new(3, 1, 1), &mut seeded(1)).unwrap();
    let trial = Trial::new(
        Mat::<f64>::zeros(2, 1).as_ref(),
        Mat::<f64>::zeros(2, 1).as_ref(),
        None,
        InitialState::CarryOver,
    )
    .unwrap();
    let bad = State {
        h: vec![0.0; 4],
        y: vec![0.0],
    };
    assert!(matches!(
        net.run_trial(&trial, Some(&bad)),
        Err(rnn_core::CoreError::ShapeMismatch { .. })
    ));
    let bad_y = State {
        h: vec![0.0; 3],
        y: vec![0.0; 2],
    };
    assert!(matches!(
        net.run_trial(&trial, Some(&bad_y)),
        Err(rnn_core::CoreError::ShapeMismatch { .. })
    ));
}

/// `tanh'` agrees with a central finite difference of `tanh`
/// (truncation error ~ h^2 |tanh'''| / 6 <= 1e-10 / 3 at h = 1e-5).
#[test]
fn tanh_derivative_matches_finite_difference() {
    let step: f64 = 1e-5;
    let mut u: f64 = -6.0;
    while u <= 6.0 {
        let fd = ((u + step).tanh() - (u - step).tanh()) / (2.0 * step);
        let d = tanh_derivative(u);
        assert!((d - fd).abs() < 1e-9, "u = {u}: {d} vs {fd}");
        u += 0.137;
    }
    assert_eq!(tanh_derivative(0.0), 1.0);
    assert!(tanh_derivative(40.0) >= 0.0 && tanh_derivative(40.0) < 1e-30);
    assert_eq!(tanh_derivative(1.3), tanh_derivative(-1.3));
}

#[test]
fn run_from_into_equals_run_trial_from_the_same_state() {
    let config = NetworkConfig::new(5, 2, 1).with_readout_feedback(true);
    let net = Network::random(&config, &mut seeded(8)).unwrap();
    let len = 6;
    let inputs = Mat::from_fn(len, 2, |s, k| (s as f64 * 0.5 + k as f64).cos());
    let targets = Mat::from_fn(len, 1, |s, _| s as f64 * 0.05);
    let h0 = vec![0.3, -0.1, 0.0, 0.2, -0.4];
    let given = Trial::new(
        inputs.as_ref(),
        targets.as_ref(),
        None,
        InitialState::Given(h0.clone()),
    )
    .unwrap();
    let expected = net.run_trial(&given, None).unwrap();
    // run_from_into ignores the trial's own rule (CarryOver here).
    let carry = Trial::new(
        inputs.as_ref(),
        targets.as_ref(),
        None,
        InitialState::CarryOver,
    )
    .unwrap();
    let start = State {
        h: h0,
        y: vec![0.0],
    };
    let mut tr = rnn_core::Trajectory::zeros(&net, 1);
    net.run_from_into(&carry, &start, &mut tr).unwrap();
    assert_eq!(tr, expected);

    // A non-zero y(0) enters through B at t = 1 in feedback mode.
    let start_y = State {
        h: start.h.clone(),
        y: vec![0.7],
    };
    net.run_from_into(&carry, &start_y, &mut tr).unwrap();
    let b = net.feedback();
    for j in 0..5 {
        let delta = tr.u[(j, 0)] - expected.u[(j, 0)];
        assert!(
            (delta - b[(j, 0)] * 0.7).abs() < 1e-14,
            "B y(0) term, unit {j}"
        );
    }
}

#[test]
fn non_finite_start_state_is_rejected() {
    let net = Network::random(&NetworkConfig::new(3, 1, 1), &mut seeded(2)).unwrap();
    let trial = Trial::new(
        Mat::<f64>::zeros(2, 1).as_ref(),
        Mat::<f64>::zeros(2, 1).as_ref(),
        None,
        InitialState::CarryOver,
    )
    .unwrap();
    for bad in [
        State {
            h: vec![0.0, f64::NAN, 0.0],
            y: vec![0.0],
        },
        State {
            h: vec![0.0; 3],
            y: vec![f64::INFINITY],
        },
    ] {
        assert!(matches!(
            net.run_trial(&trial, Some(&bad)),
            Err(rnn_core::CoreError::NonFinite { .. })
        ));
    }
}

#[test]
fn overflowing_loss_is_an_error() {
    // |y| ~ 1e200 * |h|: the squared error overflows to infinity.
    let config = NetworkConfig::new(2, 1, 1);
    let weights = Weights {
        recurrent: Mat::zeros(2, 2),
        input: Mat::from_fn(2, 1, |_, _| 1.0),
        readout: Mat::from_fn(1, 2, |_, _| 1e200),
        feedback: Mat::zeros(2, 1),
    };
    let net = Network::from_weights(&config, weights).unwrap();
    let trial = Trial::new(
        Mat::from_fn(3, 1, |_, _| 1.0).as_ref(),
        Mat::<f64>::zeros(3, 1).as_ref(),
        None,
        InitialState::Constant(0.0),
    )
    .unwrap();
    assert!(matches!(
        net.run_trial(&trial, None),
        Err(rnn_core::CoreError::NonFiniteLoss { .. })
    ));
    // Masked out, the same outputs give a finite (zero) loss.
    let masked = Trial::new(
        Mat::from_fn(3, 1, |_, _| 1.0).as_ref(),
        Mat::<f64>::zeros(3, 1).as_ref(),
        Some(vec![0.0; 3]),
        InitialState::Constant(0.0),
    )
    .unwrap();
    assert_eq!(net.run_trial(&masked, None).unwrap().loss, 0.0);
}

/// The recurrent current is the sequential sum `u_i = ((0 + W_i0 v_0) + W_i1 v_1) + ...`
/// with separate multiplies and adds, bit for bit, at sizes with and without a
/// remainder of the four-column blocking, replacing and accumulating.
#[test]
fn recurrent_current_is_the_sequential_sum_bit_for_bit() {
    for n in [1, 2, 3, 4, 5, 7, 8, 13, 33] {
        let w = faer::Mat::from_fn(n, n, |i, j| ((i * 7 + j * 3) as f64 * 0.37).sin() / 3.0);
        let v: Vec<f64> = (0..n)
            .map(|j| ((j as f64) * 1.3).cos() * 1e3_f64.powi(j as i32 % 3 - 1))
            .collect();
        let reference: Vec<f64> = (0..n)
            .map(|i| {
                let mut sum = 0.0;
                for j in 0..n {
                    let product = w[(i, j)] * v[j];
                    sum += product;
                }
                sum
            })
            .collect();
        let mut out = vec![f64::NAN; n];
        rnn_core::gemv::matvec(w.as_ref(), &v, &mut out, false);
        assert_eq!(out, reference, "replace, n = {n}");
        let mut acc = vec![0.25; n];
        rnn_core::gemv::matvec(w.as_ref(), &v, &mut acc, true);
        let expected: Vec<f64> = (0..n)
            .map(|i| {
                let mut sum = 0.25;
                for j in 0..n {
                    sum += w[(i, j)] * v[j];
                }
                sum
            })
            .collect();
        assert_eq!(acc, expected, "accumulate, n = {n}");
    }
}
