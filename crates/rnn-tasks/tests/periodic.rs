//! Periodic task (docs/spec/TASKS.md §1).

use rnn_core::{InitialState, TrialSource, seeded};
use rnn_tasks::{FixedStart, Periodic, PeriodicConfig, Task, periodic_target};

/// The spec's formula, written out independently of the crate.
fn formula(t: f64, period: f64) -> f64 {
    use std::f64::consts::PI;
    (2.0 * PI * t / period).sin()
        + 0.5 * (4.0 * PI * t / period).sin()
        + 0.25 * (8.0 * PI * t / period).sin()
}

#[test]
fn target_matches_formula_and_length_is_period() {
    for period in [200usize, 400, 800, 1600, 7] {
        let mut task = Periodic::new(PeriodicConfig::with_period(period), &mut seeded(0)).unwrap();
        let trial = task.next_trial(&mut seeded(1)).unwrap();
        assert_eq!(trial.len(), period);
        assert_eq!(trial.n_inputs(), 0);
        assert_eq!(trial.n_outputs(), 1);
        assert_eq!(task.n_inputs(), 0);
        assert_eq!(task.n_outputs(), 1);
        assert_eq!(trial.initial_state(), &InitialState::Constant(0.1));
        assert!(trial.mask().is_none());
        // Sampled steps, including both ends: step s holds t = s + 1.
        let steps = [
            0,
            1,
            period / 4,
            period / 3,
            period / 2,
            period - 2,
            period - 1,
        ];
        for s in steps {
            let expected = formula((s + 1) as f64, period as f64);
            let got = trial.target_at(s)[0];
            assert!(
                (got - expected).abs() < 1e-12,
                "T = {period}, s = {s}: {got} vs {expected}"
            );
            assert!((periodic_target(s + 1, period) - expected).abs() < 1e-12);
        }
    }
}

#[test]
fn known_values_fix_the_index_convention() {
    let task = Periodic::new(PeriodicConfig::with_period(200), &mut seeded(0)).unwrap();
    let trial = task.trial();
    // t = T/4 = 50 (index 49): 1 + 0.5 sin(pi) + 0.25 sin(2 pi) = 1.
    assert!((trial.target_at(49)[0] - 1.0).abs() < 1e-12);
    // t = T (index T-1): a whole period, back to 0.
    assert!(trial.target_at(199)[0].abs() < 1e-12);
    // index 0 is t = 1, not t = 0: non-zero.
    assert!(trial.target_at(0)[0] > 0.05);
}

#[test]
fn every_trial_is_the_same_and_initial_value_is_configurable() {
    let config = PeriodicConfig {
        period: 50,
        start: FixedStart::Constant(-0.3),
    };
    let mut task = Periodic::new(config, &mut seeded(0)).unwrap();
    let mut rng = seeded(3);
    let a = task.generate(&mut rng).unwrap();
    let b = task.generate(&mut rng).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.initial_state(), &InitialState::Constant(-0.3));
}

/// The other convention of the paper (its text: "a specified initial activity
/// vector"): h(0) drawn once per network from U[-1, 1), the same for every trial.
#[test]
fn a_uniform_start_is_drawn_once_per_network_and_reused() {
    let n = 4000;
    let config = PeriodicConfig {
        period: 20,
        start: FixedStart::Uniform {
            n_units: n,
            half_width: 1.0,
        },
    };
    let mut task = Periodic::new(config.clone(), &mut seeded(7)).unwrap();
    let mut rng = seeded(3);
    let (a, b) = (
        task.generate(&mut rng).unwrap(),
        task.generate(&mut rng).unwrap(),
    );
    assert_eq!(a, b, "every trial starts from the same h(0)");
    let InitialState::Given(h0) = a.initial_state() else {
        panic!("a uniform start gives a vector");
    };
    assert_eq!(h0.len(), n);
    assert!(h0.iter().all(|v| (-1.0..1.0).contains(v)));
    // U[-1, 1): mean 0 and variance 1/3; with n = 4000 the standard errors
    // are 0.0091 and 0.0047, so 5 standard errors bound a correct draw and a
    // U[0, 1) draw (mean 0.5) or a doubled width (variance 4/3) fails.
    let mean = h0.iter().sum::<f64>() / n as f64;
    let var = h0.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    assert!(
        mean.abs() < 5.0 * (1.0 / 3.0 / n as f64).sqrt(),
        "mean {mean}"
    );
    assert!((var - 1.0 / 3.0).abs() < 5.0 * 0.0047, "variance {var}");
    // The same construction generator gives the same h(0); another, another.
    let again = Periodic::new(config.clone(), &mut seeded(7)).unwrap();
    assert_eq!(again.trial().initial_state(), a.initial_state());
    let other = Periodic::new(config, &mut seeded(8)).unwrap();
    assert_ne!(other.trial().initial_state(), a.initial_state());
}

#[test]
fn the_start_reads_from_toml_in_both_conventions_and_by_its_former_name() {
    let parse = |text: &str| toml::from_str::<PeriodicConfig>(text).unwrap().start;
    assert_eq!(parse("start = 0.1"), FixedStart::Constant(0.1));
    assert_eq!(parse("initial_value = -0.5"), FixedStart::Constant(-0.5));
    assert_eq!(parse(""), FixedStart::Constant(0.1));
    assert_eq!(
        parse("start = { uniform = { n_units = 30, half_width = 1.0 } }"),
        FixedStart::Uniform {
            n_units: 30,
            half_width: 1.0
        }
    );
    assert_eq!(
        parse("start = { given = [0.5, -0.5] }"),
        FixedStart::Given(vec![0.5, -0.5])
    );
    assert!(toml::from_str::<PeriodicConfig>("start = { uniform = { n_units = 3 } }").is_err());
    assert!(toml::from_str::<PeriodicConfig>("start = \"zero\"").is_err());
    for start in [
        FixedStart::Constant(0.1),
        FixedStart::Uniform {
            n_units: 30,
            half_width: 1.0,
        },
        FixedStart::Given(vec![0.25]),
    ] {
        let config = PeriodicConfig { period: 8, start };
        let text = toml::to_string(&config).unwrap();
        assert_eq!(
            toml::from_str::<PeriodicConfig>(&text).unwrap(),
            config,
            "{text}"
        );
    }
}
