//! Reach-syllable task (docs/spec/TASKS.md §3).

use rnn_core::{InitialState, TrialSource, seeded};
use rnn_tasks::{
    ReachConfig, ReachSyllables, SyllableShape, Task, TaskError, integrate_velocity,
    integrate_velocity_by_step,
};

#[test]
fn each_syllable_reaches_length_one_in_its_direction_then_holds_still() {
    for k_total in [4usize, 3, 6] {
        let shape = SyllableShape {
            n_syllables: k_total,
            ..SyllableShape::default()
        };
        let task = ReachSyllables::new(ReachConfig {
            shape: shape.clone(),
            ..ReachConfig::default()
        })
        .unwrap();
        for k in 0..k_total {
            let trial = task.syllable_trial(k, InitialState::CarryOver).unwrap();
            assert_eq!(trial.len(), 200);
            assert_eq!(trial.n_outputs(), 2);
            // Tonic one-hot input for the whole syllable.
            for s in 0..200 {
                for i in 0..k_total {
                    assert_eq!(trial.input_at(s)[i], if i == k { 1.0 } else { 0.0 });
                }
            }
            // Integrated displacement: length 1 in direction 2 pi k / K.
            let path = integrate_velocity(trial.targets(), [0.0, 0.0]).unwrap();
            let end = path[199];
            let angle = 2.0 * std::f64::consts::PI * k as f64 / k_total as f64;
            assert!((end[0] - angle.cos()).abs() < 1e-9, "K={k_total} k={k}");
            assert!((end[1] - angle.sin()).abs() < 1e-9, "K={k_total} k={k}");
            assert!((end[0].hypot(end[1]) - 1.0).abs() < 1e-9);
            // Reach phase t = 1..M (indices 0..100) is over by index 99.
            assert!((path[99][0] - end[0]).abs() < 1e-12);
            // Raised cosine: the speed at t (index t-1) is (1 - cos(2 pi t / M)) / M.
            for t in [1usize, 25, 50, 99, 100] {
                let v = trial.target_at(t - 1);
                let speed = (1.0 - (2.0 * std::f64::consts::PI * t as f64 / 100.0).cos()) / 100.0;
                assert!((v[0].hypot(v[1]) - speed).abs() < 1e-12);
            }
            // Hold t = M+1..D (indices 100..200) is exactly zero.
            for s in 100..200 {
                assert_eq!(trial.target_at(s), &[0.0, 0.0]);
            }
        }
    }
}

#[test]
fn ideal_cursor_stays_in_the_box_and_no_syllable_repeats() {
    let mut task = ReachSyllables::new(ReachConfig::default()).unwrap();
    let mut rng = seeded(77);
    let mut cursor = [0.0, 0.0];
    let mut previous: Option<usize> = None;
    let mut counts = [0usize; 4];
    for i in 0..10_000 {
        let trial = task.next_trial(&mut rng).unwrap();
        let k = task.last_syllable().unwrap();
        counts[k] += 1;
        assert_eq!(trial.input_at(0)[k], 1.0);
        let expected_state = if i == 0 {
            InitialState::Constant(0.0)
        } else {
            InitialState::CarryOver
        };
        assert_eq!(trial.initial_state(), &expected_state);
        assert_ne!(Some(k), previous, "trial {i} repeats syllable {k}");
        // Integrate the targets here: the whole path, not only the ends.
        let path = integrate_velocity_by_step(trial.targets_by_step(), cursor).unwrap();
        for p in &path {
            assert!(
                p[0].abs() <= 2.0 + 1e-6 && p[1].abs() <= 2.0 + 1e-6,
                "trial {i}: {p:?}"
            );
        }
        cursor = path[path.len() - 1];
        let ideal = task.ideal_position();
        assert!((ideal[0] - cursor[0]).abs() < 1e-6 && (ideal[1] - cursor[1]).abs() < 1e-6);
        previous = Some(k);
    }
    assert_eq!(task.trial_count(), 10_000);
    // Every syllable gets used.
    assert!(counts.iter().all(|&c| c > 1000), "{counts:?}");
}

#[test]
fn draws_are_uniform_among_allowed_syllables() {
    // From the origin after syllable 0 (cursor at (1, 0)), allowed = {1, 2, 3}.
    let mut counts = [0usize; 4];
    for seed in 0..3000 {
        let mut task = ReachSyllables::new(ReachConfig::default()).unwrap();
        task.advance(0).unwrap();
        assert_eq!(task.allowed_syllables(), vec![1, 2, 3]);
        task.generate(&mut seeded(seed)).unwrap();
        counts[task.last_syllable().unwrap()] += 1;
    }
    assert_eq!(counts[0], 0);
    for &c in &counts[1..] {
        assert!((850..1150).contains(&c), "{counts:?}");
    }
}

#[test]
fn box_walls_restrict_the_choice() {
    let mut task = ReachSyllables::new(ReachConfig::default()).unwrap();
    task.advance(0).unwrap();
    task.advance(1).unwrap();
    task.advance(0).unwrap();
    task.advance(1).unwrap();
    // At (2, 2): only left and down stay in; previous was up (1).
    let p = task.ideal_position();
    assert!((p[0] - 2.0).abs() < 1e-12 && (p[1] - 2.0).abs() < 1e-12);
    assert_eq!(task.in_box_syllables(), vec![2, 3]);
    assert_eq!(task.allowed_syllables(), vec![2, 3]);
    assert!(!task.keeps_in_box(0));
    assert!(!task.keeps_in_box(9));
    // At (1, 2) after left (2): in the box {0, 2, 3}, allowed without the repeat {0, 3}.
    task.advance(2).unwrap();
    assert_eq!(task.in_box_syllables(), vec![0, 2, 3]);
    assert_eq!(task.allowed_syllables(), vec![0, 3]);
}

#[test]
fn repeats_occur_when_not_excluded() {
    let config = ReachConfig {
        exclude_repeats: false,
        ..ReachConfig::default()
    };
    let mut task = ReachSyllables::new(config).unwrap();
    let mut rng = seeded(1);
    let mut previous = None;
    let mut repeats = 0;
    for _ in 0..1000 {
        task.generate(&mut rng).unwrap();
        if task.last_syllable() == previous {
            repeats += 1;
        }
        previous = task.last_syllable();
    }
    assert!(repeats > 100, "{repeats}");
}

#[test]
fn advance_reset_and_out_of_range_syllable() {
    let mut task = ReachSyllables::new(ReachConfig::default()).unwrap();
    assert!(matches!(
        task.advance(4),
        Err(TaskError::SyllableOutOfRange {
            syllable: 4,
            n_syllables: 4,
            ..
        })
    ));
    // A failed advance does not count as a trial.
    assert_eq!(task.trial_count(), 0);
    let t0 = task.advance(2).unwrap();
    assert_eq!(t0.initial_state(), &InitialState::Constant(0.0));
    let t1 = task.advance(3).unwrap();
    assert_eq!(t1.initial_state(), &InitialState::CarryOver);
    let p = task.ideal_position();
    assert!((p[0] + 1.0).abs() < 1e-12 && (p[1] + 1.0).abs() < 1e-12);
    task.reset();
    assert_eq!(task.ideal_position(), [0.0, 0.0]);
    assert_eq!(task.last_syllable(), None);
    assert_eq!(
        task.advance(1).unwrap().initial_state(),
        &InitialState::Constant(0.0)
    );
    assert_eq!((task.n_inputs(), task.n_outputs()), (4, 2));
}

#[test]
fn integrate_velocity_layouts_agree_and_check_shapes() {
    let v = faer::Mat::from_fn(5, 2, |s, j| {
        (s as f64 + 1.0) * if j == 0 { 1.0 } else { -0.5 }
    });
    let a = integrate_velocity(v.as_ref(), [1.0, 2.0]).unwrap();
    let b = integrate_velocity_by_step(v.as_ref().transpose(), [1.0, 2.0]).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 5);
    assert_eq!(a[0], [2.0, 1.5]);
    assert_eq!(a[4], [1.0 + 15.0, 2.0 - 7.5]);
    assert!(matches!(
        integrate_velocity(v.as_ref().transpose(), [0.0, 0.0]),
        Err(TaskError::Shape {
            rows: 2,
            cols: 5,
            ..
        })
    ));
    assert!(matches!(
        integrate_velocity_by_step(v.as_ref(), [0.0, 0.0]),
        Err(TaskError::Shape {
            rows: 5,
            cols: 2,
            ..
        })
    ));
}
