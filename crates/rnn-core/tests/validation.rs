//! Every invalid input gives the right typed error: configs name the field,
//! shapes name the matrix, non-finite values are caught, and trials check
//! their lengths, masks and fit to the network.

use faer::Mat;
use rnn_core::{
    CoreError, InitialState, Network, NetworkConfig, ReadoutInit, Trial, TrialCycle, TrialSource,
    Weights, seeded,
};

fn expect_invalid(config: &NetworkConfig, field: &str) {
    match config.validate() {
        Err(CoreError::InvalidConfig { field: f, .. }) => {
            assert_eq!(f, field, "wrong field for {config:?}")
        }
        other => panic!("expected InvalidConfig({field}) for {config:?}, got {other:?}"),
    }
    // Construction validates too, both ways.
    match Network::random(config, &mut seeded(0)) {
        Err(CoreError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
        other => panic!("Network::random: expected InvalidConfig({field}), got {other:?}"),
    }
    let weights = Weights {
        recurrent: Mat::zeros(config.n_units, config.n_units),
        input: Mat::zeros(config.n_units, config.n_inputs),
        readout: Mat::zeros(config.n_outputs, config.n_units),
        feedback: Mat::zeros(config.n_units, config.n_outputs),
    };
    match Network::from_weights(config, weights) {
        Err(CoreError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
        other => panic!("Network::from_weights: expected InvalidConfig({field}), got {other:?}"),
    }
}

const BAD_NON_NEGATIVE: [f64; 5] = [-1e-12, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

#[test]
fn zero_sizes_are_invalid() {
    expect_invalid(&NetworkConfig::new(0, 1, 1), "n_units");
    expect_invalid(&NetworkConfig::new(3, 1, 0), "n_outputs");
    // N_x = 0 is allowed.
    NetworkConfig::new(3, 0, 1).validate().unwrap();
}

#[test]
fn bad_tau_is_invalid() {
    for tau in [
        0.0,
        -0.0,
        -1.0,
        -10.0,
        0.5,
        0.999_999,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        expect_invalid(&NetworkConfig::new(3, 1, 1).with_tau(tau), "tau");
    }
    for tau in [1.0, 1.5, 10.0, 1e6] {
        NetworkConfig::new(3, 1, 1)
            .with_tau(tau)
            .validate()
            .unwrap();
    }
}

#[test]
fn bad_gain_is_invalid() {
    for g in BAD_NON_NEGATIVE {
        expect_invalid(&NetworkConfig::new(3, 1, 1).with_gain(g), "gain");
    }
}

#[test]
fn bad_input_scale_is_invalid() {
    for s in BAD_NON_NEGATIVE {
        let mut c = NetworkConfig::new(3, 1, 1);
        c.input_scale = s;
        expect_invalid(&c, "input_scale");
    }
}

#[test]
fn bad_feedback_scale_is_invalid() {
    for s in BAD_NON_NEGATIVE {
        let mut c = NetworkConfig::new(3, 1, 1);
        c.feedback_scale = s;
        expect_invalid(&c, "feedback_scale");
    }
}

#[test]
fn bad_readout_half_width_is_invalid() {
    for w in BAD_NON_NEGATIVE {
        let c =
            NetworkConfig::new(3, 1, 1).with_readout_init(ReadoutInit::Uniform { half_width: w });
        expect_invalid(&c, "readout_init.half_width");
    }
}

#[test]
fn invalid_config_error_renders_field_and_value() {
    let err = NetworkConfig::new(3, 1, 1)
        .with_tau(0.5)
        .validate()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("tau") && msg.contains("0.5"), "{msg}");
}

fn good_weights(n: usize, nx: usize, ny: usize) -> Weights {
    Weights {
        recurrent: Mat::from_fn(n, n, |i, j| 0.1 * (i as f64 - j as f64)),
        input: Mat::from_fn(n, nx, |i, j| 0.2 * (i + j) as f64),
        readout: Mat::from_fn(ny, n, |i, j| 0.01 * (i * j) as f64),
        feedback: Mat::from_fn(n, ny, |i, j| (i as f64 - j as f64).sin()),
    }
}

fn expect_shape(
    config: &NetworkConfig,
    weights: Weights,
    what: &str,
    want: (usize, usize),
    got: (usize, usize),
) {
    match Network::from_weights(config, weights) {
        Err(CoreError::ShapeMismatch {
            what: w,
            expected_rows,
            expected_cols,
            rows,
            cols,
        }) => {
            assert_eq!(w, what);
            assert_eq!(
                (expected_rows, expected_cols),
                want,
                "{what}: expected shape"
            );
            assert_eq!((rows, cols), got, "{what}: given shape");
        }
        other => panic!("expected ShapeMismatch({what}), got {other:?}"),
    }
}

#[test]
fn from_weights_rejects_each_wrong_shape() {
    let (n, nx, ny) = (4, 3, 2);
    let config = NetworkConfig::new(n, nx, ny);
    Network::from_weights(&config, good_weights(n, nx, ny)).unwrap();

    for (r, c) in [(n + 1, n), (n, n - 1), (n - 1, n + 1)] {
        let mut w = good_weights(n, nx, ny);
        w.recurrent = Mat::zeros(r, c);
        expect_shape(&config, w, "W", (n, n), (r, c));
    }
    for (r, c) in [(n + 1, nx), (n, nx + 1), (n, 0), (nx, n)] {
        let mut w = good_weights(n, nx, ny);
        w.input = Mat::zeros(r, c);
        expect_shape(&config, w, "W_in", (n, nx), (r, c));
    }
    for (r, c) in [(ny + 1, n), (ny, n - 1), (n, ny)] {
        let mut w = good_weights(n, nx, ny);
        w.readout = Mat::zeros(r, c);
        expect_shape(&config, w, "W_out", (ny, n), (r, c));
    }
    for (r, c) in [(n + 1, ny), (n, ny - 1), (ny, n)] {
        let mut w = good_weights(n, nx, ny);
        w.feedback = Mat::zeros(r, c);
        expect_shape(&config, w, "B", (n, ny), (r, c));
    }
    // N_x = 0 needs an N x 0 input matrix.
    let config0 = NetworkConfig::new(n, 0, ny);
    Network::from_weights(&config0, good_weights(n, 0, ny)).unwrap();
    expect_shape(&config0, good_weights(n, 1, ny), "W_in", (n, 0), (n, 1));
}

#[test]
fn from_weights_rejects_non_finite_entries() {
    let (n, nx, ny) = (4, 3, 2);
    let config = NetworkConfig::new(n, nx, ny);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for (what, (r, c)) in [
            ("W", (2, 3)),
            ("W_in", (3, 1)),
            ("W_out", (1, 2)),
            ("B", (0, 1)),
        ] {
            let mut w = good_weights(n, nx, ny);
            let m = match what {
                "W" => &mut w.recurrent,
                "W_in" => &mut w.input,
                "W_out" => &mut w.readout,
                _ => &mut w.feedback,
            };
            m[(r, c)] = bad;
            match Network::from_weights(&config, w) {
                Err(CoreError::NonFinite {
                    what: got,
                    row,
                    col,
                }) => {
                    assert_eq!(got, what);
                    assert_eq!((row, col), (r, c), "{what}: position");
                }
                other => panic!("expected NonFinite({what}), got {other:?}"),
            }
        }
    }
}

#[test]
fn check_finite_catches_diverged_weights() {
    let config = NetworkConfig::new(3, 1, 1);
    let mut net = Network::random(&config, &mut seeded(1)).unwrap();
    net.check_finite().unwrap();
    net.weights_mut().readout[(0, 2)] = f64::NAN;
    assert!(matches!(
        net.check_finite(),
        Err(CoreError::NonFinite {
            what: "W_out",
            row: 0,
            col: 2
        })
    ));
}

fn mk(len_x: usize, nx: usize, len_y: usize, ny: usize) -> (Mat<f64>, Mat<f64>) {
    (
        Mat::from_fn(len_x, nx, |s, k| (s + k) as f64 * 0.1),
        Mat::from_fn(len_y, ny, |s, k| (s * k) as f64 * 0.1),
    )
}

#[test]
fn empty_trial_is_rejected() {
    let (x, y) = mk(0, 1, 0, 1);
    let r = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0));
    assert!(matches!(r, Err(CoreError::EmptyTrial)), "{r:?}");
    let r = Trial::from_columns(
        Mat::zeros(0, 0),
        Mat::zeros(1, 0),
        None,
        InitialState::Constant(0.0),
    );
    assert!(matches!(r, Err(CoreError::EmptyTrial)), "{r:?}");
    let r = Trial::new(
        x.as_ref(),
        y.as_ref(),
        Some(vec![]),
        InitialState::Constant(0.0),
    );
    assert!(matches!(r, Err(CoreError::EmptyTrial)), "{r:?}");
}

#[test]
fn inputs_and_targets_of_different_length_are_rejected() {
    for (tx, ty) in [(4, 5), (5, 4), (0, 3)] {
        let (x, y) = mk(tx, 2, ty, 1);
        let r = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0));
        assert!(
            matches!(r, Err(CoreError::ShapeMismatch { .. })),
            "T_x = {tx}, T_y = {ty}: {r:?}"
        );
    }
}

#[test]
fn non_finite_trial_data_is_rejected() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (mut x, y) = mk(5, 2, 5, 1);
        x[(3, 1)] = bad;
        let r = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0));
        // Step-major storage: row = input index, column = step.
        assert!(
            matches!(r, Err(CoreError::NonFinite { row: 1, col: 3, .. })),
            "{r:?}"
        );

        let (x, mut y) = mk(5, 2, 5, 1);
        y[(4, 0)] = bad;
        let r = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0));
        assert!(
            matches!(r, Err(CoreError::NonFinite { row: 0, col: 4, .. })),
            "{r:?}"
        );

        let (x, y) = mk(5, 2, 5, 1);
        let r = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(bad));
        assert!(matches!(r, Err(CoreError::NonFinite { .. })), "{r:?}");
        let r = Trial::new(
            x.as_ref(),
            y.as_ref(),
            None,
            InitialState::Given(vec![0.0, bad]),
        );
        assert!(
            matches!(r, Err(CoreError::NonFinite { row: 1, .. })),
            "{r:?}"
        );
    }
}

#[test]
fn bad_masks_are_rejected() {
    let (x, y) = mk(5, 2, 5, 1);
    for len in [4, 6, 1] {
        let r = Trial::new(
            x.as_ref(),
            y.as_ref(),
            Some(vec![1.0; len]),
            InitialState::Constant(0.0),
        );
        assert!(
            matches!(
                r,
                Err(CoreError::ShapeMismatch {
                    what: "trial mask",
                    ..
                })
            ),
            "mask length {len}: {r:?}"
        );
    }
    for bad in [0.5, -1.0, 2.0, 1e-300, f64::NAN, f64::INFINITY] {
        let mask = vec![1.0, 0.0, bad, 1.0, 1.0];
        match Trial::new(
            x.as_ref(),
            y.as_ref(),
            Some(mask),
            InitialState::Constant(0.0),
        ) {
            Err(CoreError::InvalidMask { step, value }) => {
                assert_eq!(step, 2);
                assert_eq!(value.to_bits(), bad.to_bits());
            }
            other => panic!("mask value {bad}: expected InvalidMask, got {other:?}"),
        }
    }
    // 0, -0 and 1 are fine.
    Trial::new(
        x.as_ref(),
        y.as_ref(),
        Some(vec![0.0, -0.0, 1.0, 1.0, 0.0]),
        InitialState::Constant(0.0),
    )
    .unwrap();
}

#[test]
fn trial_that_does_not_fit_the_network_is_rejected_by_run_trial() {
    let net = Network::random(&NetworkConfig::new(4, 2, 1), &mut seeded(3)).unwrap();
    // Wrong N_x.
    for nx in [0, 1, 3] {
        let (x, y) = mk(5, nx, 5, 1);
        let trial = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0)).unwrap();
        assert!(
            matches!(
                net.run_trial(&trial, None),
                Err(CoreError::ShapeMismatch { .. })
            ),
            "N_x = {nx}"
        );
    }
    // Wrong N_y.
    for ny in [2, 3] {
        let (x, y) = mk(5, 2, 5, ny);
        let trial = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0)).unwrap();
        assert!(
            matches!(
                net.run_trial(&trial, None),
                Err(CoreError::ShapeMismatch { .. })
            ),
            "N_y = {ny}"
        );
        assert!(trial.check_fits(net.config()).is_err());
    }
    // A fitting trial passes.
    let (x, y) = mk(5, 2, 5, 1);
    let trial = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0)).unwrap();
    net.run_trial(&trial, None).unwrap();
}

#[test]
fn given_initial_state_of_wrong_length_is_rejected() {
    let net = Network::random(&NetworkConfig::new(4, 2, 1), &mut seeded(3)).unwrap();
    let (x, y) = mk(5, 2, 5, 1);
    for len in [0, 3, 5] {
        let trial = Trial::new(
            x.as_ref(),
            y.as_ref(),
            None,
            InitialState::Given(vec![0.1; len]),
        )
        .unwrap();
        match net.run_trial(&trial, None) {
            Err(CoreError::ShapeMismatch { what, rows, .. }) => {
                assert_eq!(what, "initial state h(0)");
                assert_eq!(rows, len);
            }
            other => panic!("h(0) of length {len}: expected ShapeMismatch, got {other:?}"),
        }
    }
    let trial = Trial::new(
        x.as_ref(),
        y.as_ref(),
        None,
        InitialState::Given(vec![0.1; 4]),
    )
    .unwrap();
    let tr = net.run_trial(&trial, None).unwrap();
    assert_eq!(tr.h_at(0), &[0.1; 4]);
}

#[test]
fn carry_over_without_previous_state_is_rejected() {
    let net = Network::random(&NetworkConfig::new(4, 2, 1), &mut seeded(3)).unwrap();
    let (x, y) = mk(5, 2, 5, 1);
    let trial = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::CarryOver).unwrap();
    assert!(matches!(
        net.run_trial(&trial, None),
        Err(CoreError::MissingCarryOverState)
    ));
    // With a previous state it runs.
    let start = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.2)).unwrap();
    let prev = net.run_trial(&start, None).unwrap().final_state();
    net.run_trial(&trial, Some(&prev)).unwrap();
}

#[test]
fn trial_cycle() {
    assert!(matches!(
        TrialCycle::new(vec![]),
        Err(CoreError::EmptyTrial)
    ));
    let make = |len| {
        let (x, y) = mk(len, 1, len, 1);
        Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0)).unwrap()
    };
    let trials = vec![make(2), make(3), make(4)];
    let mut cycle = TrialCycle::new(trials.clone()).unwrap();
    let mut rng = seeded(0);
    for k in 0..7 {
        assert_eq!(cycle.next_trial(&mut rng).unwrap(), trials[k % 3]);
    }
}

#[test]
fn trial_accessors_follow_layout() {
    let (x, y) = mk(4, 2, 4, 3);
    let trial = Trial::new(
        x.as_ref(),
        y.as_ref(),
        Some(vec![1.0, 0.0, 1.0, 1.0]),
        InitialState::Constant(0.0),
    )
    .unwrap();
    assert_eq!(
        (trial.len(), trial.n_inputs(), trial.n_outputs()),
        (4, 2, 3)
    );
    assert!(!trial.is_empty());
    for s in 0..4 {
        assert_eq!(trial.input_at(s), &[x[(s, 0)], x[(s, 1)]]);
        assert_eq!(trial.target_at(s), &[y[(s, 0)], y[(s, 1)], y[(s, 2)]]);
        assert_eq!(trial.inputs()[(s, 1)], x[(s, 1)]);
        assert_eq!(trial.targets_by_step()[(2, s)], y[(s, 2)]);
    }
    assert_eq!(trial.mask_at(1), 0.0);
    assert_eq!(trial.mask_at(2), 1.0);
    let unmasked = Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.0)).unwrap();
    assert_eq!(unmasked.mask_at(3), 1.0);
    assert!(unmasked.mask().is_none());
    // from_columns is the step-major form of new.
    let cols = Trial::from_columns(
        x.as_ref().transpose().to_owned(),
        y.as_ref().transpose().to_owned(),
        Some(vec![1.0, 0.0, 1.0, 1.0]),
        InitialState::Constant(0.0),
    )
    .unwrap();
    assert_eq!(cols, trial);
}

/// Found by `rnn-fuzz` (network_values): sizes whose matrices cannot be
/// allocated made faer panic (capacity overflow) or abort (a 1×3037000500
/// `W_in` is 194 GB as stored). They are now an invalid config.
#[test]
fn sizes_beyond_max_weights_are_invalid_not_a_panic() {
    let field = "n_units, n_inputs, n_outputs";
    for (n, nx, ny) in [
        (usize::MAX, 0, 1),
        (1 << 32, 1, 1),
        (65_537, 0, 1),
        (1, 3_037_000_500, 1),
        (1, 0, usize::MAX),
        (usize::MAX, usize::MAX, usize::MAX),
    ] {
        let config = NetworkConfig::new(n, nx, ny);
        for result in [
            config.validate(),
            Network::random(&config, &mut seeded(0)).map(|_| ()),
            // Matrices of the config's shapes cannot exist: small ones.
            Network::from_weights(
                &config,
                Weights {
                    recurrent: Mat::zeros(1, 1),
                    input: Mat::zeros(1, 0),
                    readout: Mat::zeros(1, 1),
                    feedback: Mat::zeros(1, 1),
                },
            )
            .map(|_| ()),
        ] {
            match result {
                Err(CoreError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{config:?}: {other:?}"),
            }
        }
    }
    // The largest square network within the bound is valid (not built here).
    assert!(NetworkConfig::new(16_000, 0, 1).validate().is_ok());
    const { assert!(rnn_core::MAX_WEIGHTS >= 16_000 * 16_008) };
}

/// Found by `rnn-fuzz` (network_values): a gain or scale near `f64::MAX` is
/// finite, hence valid, but its draws overflow to infinity; `random` gave a
/// network with infinite weights. It is now a typed error.
#[test]
fn a_draw_that_overflows_is_a_non_finite_error() {
    let mut feedback = NetworkConfig::new(1, 1, 1);
    feedback.feedback_scale = f64::MAX;
    for (config, what) in [
        (NetworkConfig::new(1, 1, 1).with_gain(f64::MAX), "W"),
        (feedback, "B"),
    ] {
        assert!(config.validate().is_ok());
        // N(0, MAX^2) overflows when |z| > 1: about one draw in three.
        let mut refused = 0;
        for seed in 0..20 {
            match Network::random(&config, &mut seeded(seed)) {
                Ok(net) => assert!(net.check_finite().is_ok()),
                Err(CoreError::NonFinite { what: w, .. }) => {
                    assert_eq!(w, what);
                    refused += 1;
                }
                Err(other) => panic!("{other:?}"),
            }
        }
        assert!(refused > 0, "{what}: no draw overflowed");
    }
}
