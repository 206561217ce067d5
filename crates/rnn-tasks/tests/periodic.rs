//! Periodic task (docs/spec/TASKS.md §1).

use rnn_core::{InitialState, TrialSource, seeded};
use rnn_tasks::{Periodic, PeriodicConfig, Task, periodic_target};

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
        let mut task = Periodic::new(PeriodicConfig::with_period(period)).unwrap();
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
    let task = Periodic::new(PeriodicConfig::with_period(200)).unwrap();
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
        initial_value: -0.3,
    };
    let mut task = Periodic::new(config).unwrap();
    let mut rng = seeded(3);
    let a = task.generate(&mut rng).unwrap();
    let b = task.generate(&mut rng).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.initial_state(), &InitialState::Constant(-0.3));
}
