//! Whole-sequence task (docs/spec/TASKS.md §4).

use rnn_core::{InitialState, TrialSource, seeded};
use rnn_tasks::{
    FixedStart, ReachConfig, ReachSyllables, Task, WholeSequence, WholeSequenceConfig,
    integrate_velocity,
};

#[test]
fn target_is_the_concatenation_of_the_syllable_targets() {
    let reach = ReachSyllables::new(ReachConfig::default()).unwrap();
    for sequence in [vec![0, 1, 2, 3, 0, 1, 2, 3], vec![3, 3, 1], vec![2]] {
        let config = WholeSequenceConfig {
            sequence: sequence.clone(),
            ..WholeSequenceConfig::default()
        };
        let mut task = WholeSequence::new(config, &mut seeded(4)).unwrap();
        let trial = task.next_trial(&mut seeded(0)).unwrap();
        assert_eq!(trial.len(), 200 * sequence.len());
        assert_eq!(trial.n_inputs(), 1);
        assert_eq!(trial.n_outputs(), 2);
        for (i, &k) in sequence.iter().enumerate() {
            let syllable = reach.syllable_trial(k, InitialState::CarryOver).unwrap();
            for s in 0..200 {
                assert_eq!(trial.target_at(i * 200 + s), syllable.target_at(s));
                assert_eq!(trial.input_at(i * 200 + s), &[1.0]);
            }
        }
        // Independent check of one reach value: t = 30 of the first syllable.
        let k = sequence[0];
        let angle = 2.0 * std::f64::consts::PI * k as f64 / 4.0;
        let speed = (1.0 - (2.0 * std::f64::consts::PI * 30.0 / 100.0).cos()) / 100.0;
        let v = trial.target_at(29);
        assert!((v[0] - speed * angle.cos()).abs() < 1e-15);
        assert!((v[1] - speed * angle.sin()).abs() < 1e-15);
    }
}

#[test]
fn default_sequence_draws_two_laps_of_a_square() {
    let task = WholeSequence::new(WholeSequenceConfig::default(), &mut seeded(1)).unwrap();
    let trial = task.trial();
    assert_eq!(trial.len(), 1600);
    let path = integrate_velocity(trial.targets(), [0.0, 0.0]).unwrap();
    let corners = [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]];
    for (i, c) in corners.iter().chain(corners.iter()).enumerate() {
        let p = path[(i + 1) * 200 - 1];
        assert!(
            (p[0] - c[0]).abs() < 1e-9 && (p[1] - c[1]).abs() < 1e-9,
            "{i}: {p:?}"
        );
    }
}

#[test]
fn fixed_initial_state_is_drawn_once_or_given() {
    let mut task = WholeSequence::new(WholeSequenceConfig::default(), &mut seeded(8)).unwrap();
    let h0 = task.h0().to_vec();
    assert_eq!(h0.len(), 100);
    assert!(h0.iter().all(|v| (-1.0..1.0).contains(v)));
    // Not a constant: drawn per unit.
    assert!(h0.iter().any(|&v| v != h0[0]));
    let mut rng = seeded(0);
    for _ in 0..3 {
        let trial = task.generate(&mut rng).unwrap();
        assert_eq!(trial.initial_state(), &InitialState::Given(h0.clone()));
    }
    // Same generator seed -> same h(0); a different one -> a different h(0).
    let again = WholeSequence::new(WholeSequenceConfig::default(), &mut seeded(8)).unwrap();
    assert_eq!(again.h0(), &h0[..]);
    let other = WholeSequence::new(WholeSequenceConfig::default(), &mut seeded(9)).unwrap();
    assert_ne!(other.h0(), &h0[..]);

    let given = vec![0.25; 30];
    let config = WholeSequenceConfig {
        start: FixedStart::Given(given.clone()),
        input_value: 0.5,
        ..WholeSequenceConfig::default()
    };
    let task = WholeSequence::new(config, &mut seeded(0)).unwrap();
    assert_eq!(task.h0(), &given[..]);
    assert_eq!(task.trial().input_at(0), &[0.5]);
    assert_eq!((task.n_inputs(), task.n_outputs()), (1, 2));
}
