//! The loop: carry-over, determinism, exploration statistics, the box, the
//! Hebbian update inside the loop, and the greedy test's definitions.

mod common;

use rnn_core::{InitialState, State, seeded};
use rnn_loop::{LoopConfig, Sequencer, excursion, mean_squared_distance};
use rnn_tasks::{BOX_TOLERANCE, ReachSyllables, integrate_velocity_by_step};

#[test]
fn w_s_changes_only_on_rewarded_transitions_and_then_by_eta_h() {
    let config = LoopConfig {
        p_explore: 0.5,
        ..common::short_config(11)
    };
    let eta = config.eta_s;
    let mut sequencer = Sequencer::new(common::random_network(20, 2), config).unwrap();
    let (mut rewarded, mut unrewarded) = (0, 0);
    for _ in 0..1000 {
        let before = sequencer.striatum().to_owned();
        let h = sequencer.state().h.clone();
        let t = sequencer.step().unwrap();
        let after = sequencer.striatum().to_owned();
        if t.reward == 0.0 {
            unrewarded += 1;
            assert_eq!(after, before, "transition {}", t.index);
        } else {
            rewarded += 1;
            assert_eq!(t.reward, 1.0);
            assert!(sequencer.target_transitions().is_target(t.from, t.to));
            assert!(t.target_available);
            for i in 0..4 {
                for j in 0..20 {
                    let dw = if i == t.to { eta * h[j] } else { 0.0 };
                    assert!((after[(i, j)] - before[(i, j)] - dw).abs() < 1e-15);
                }
            }
        }
    }
    assert!(rewarded > 50 && unrewarded > 50, "{rewarded} {unrewarded}");
}

#[test]
fn without_exploration_choices_are_deterministic_given_the_seed() {
    let run = |seed: u64| {
        let config = LoopConfig {
            p_explore: 0.0,
            ..common::short_config(seed)
        };
        let mut sequencer = Sequencer::new(common::random_network(20, 5), config).unwrap();
        let w0 = sequencer.striatum().to_owned();
        let history = sequencer.train_for(300).unwrap();
        (w0, history)
    };
    let (w_a, a) = run(1);
    let (w_b, b) = run(1);
    assert_eq!(w_a, w_b);
    assert_eq!(a, b);
    assert_eq!(a.n_exploratory, 0);
    assert!(a.transitions.iter().all(|t| !t.exploratory));
    // Another seed draws another W_s.
    let (w_c, _) = run(2);
    assert_ne!(w_a, w_c);
    // With exploration, the whole run is still fixed by the seed.
    let run_explore = |seed| {
        let mut s =
            Sequencer::new(common::random_network(20, 5), common::short_config(seed)).unwrap();
        s.train_for(300).unwrap()
    };
    assert_eq!(run_explore(4), run_explore(4));
}

#[test]
fn a_generator_passed_in_is_used() {
    let config = common::short_config(999);
    let net = common::random_network(10, 5);
    let a = Sequencer::with_rng(net.clone(), config.clone(), seeded(7)).unwrap();
    let b = Sequencer::with_rng(net.clone(), config.clone(), seeded(7)).unwrap();
    let c = Sequencer::new(net, config).unwrap();
    assert_eq!(a.striatum(), b.striatum());
    assert_ne!(a.striatum(), c.striatum());
}

#[test]
fn exploration_frequency_matches_p_explore() {
    for (p, seed) in [(0.1, 21u64), (0.3, 22), (0.9, 23)] {
        let n = 5000;
        let config = LoopConfig {
            p_explore: p,
            ..common::short_config(seed)
        };
        let mut sequencer = Sequencer::new(common::random_network(10, seed), config).unwrap();
        let history = sequencer.train_for(n).unwrap();
        let count = history.n_exploratory as f64;
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        assert!(
            (count - mean).abs() < 5.0 * sd,
            "p = {p}: {count} exploratory of {n} (expected {mean} ± {sd})"
        );
        let per_window: usize = history.windows.iter().map(|w| w.exploratory).sum();
        assert_eq!(per_window, history.n_exploratory);
        assert_eq!(
            history.n_exploratory,
            history.transitions.iter().filter(|t| t.exploratory).count()
        );
    }
}

#[test]
fn the_ideal_cursor_never_leaves_the_box() {
    // An untrained readout with much exploration wanders everywhere.
    let config = LoopConfig {
        p_explore: 0.7,
        ..common::short_config(31)
    };
    let b = config.box_half_width;
    let mut sequencer = Sequencer::new(common::random_network(10, 3), config).unwrap();
    let history = sequencer.train_for(4000).unwrap();
    let mut corners = 0;
    for t in &history.transitions {
        assert!(common::in_box(t.ideal_position, b), "{t:?}");
        assert!(t.n_candidates >= 2 && t.n_candidates <= 4);
        if t.ideal_position[0].abs() > 1.5 && t.ideal_position[1].abs() > 1.5 {
            corners += 1;
        }
    }
    assert!(corners > 0, "the walls were never reached");
    assert!(history.max_ideal_excursion <= BOX_TOLERANCE);
    let test = sequencer.evaluate().unwrap();
    for p in &test.ideal_positions {
        assert!(common::in_box(*p, b));
    }
    assert!(test.max_ideal_excursion <= BOX_TOLERANCE);
}

#[test]
fn the_produced_cursors_excursion_is_reported_not_hidden() {
    // Large readout: the produced cursor flies far outside the box.
    let net = common::constructed_network(20, 0.05, 9);
    let config = common::short_config(1);
    let b = config.box_half_width;
    let mut sequencer = Sequencer::new(net, config).unwrap();
    let history = sequencer.train_for(50).unwrap();
    let from_steps = history
        .transitions
        .iter()
        .map(|t| t.cursor_excursion)
        .fold(0.0, f64::max);
    assert!(history.max_cursor_excursion > 0.0);
    assert_eq!(history.max_cursor_excursion, from_steps);
    assert!(sequencer.max_cursor_excursion() >= history.max_cursor_excursion);
    let test = sequencer.evaluate().unwrap();
    let from_path = test
        .cursor_path
        .iter()
        .map(|&p| excursion(p, b))
        .fold(0.0, f64::max);
    assert!(test.max_box_excursion > 0.0);
    assert_eq!(test.max_box_excursion, from_path);
    // The ideal cursor stays in, whatever the produced one does.
    assert!(test.max_ideal_excursion <= BOX_TOLERANCE);
}

#[test]
fn state_and_cursor_carry_over_between_syllables() {
    let net = common::random_network(15, 4);
    let config = common::short_config(41);
    let mut sequencer = Sequencer::new(net.clone(), config.clone()).unwrap();
    let reach = ReachSyllables::new(config.reach_config()).unwrap();
    for _ in 0..20 {
        let start: State = sequencer.state().clone();
        let cursor = sequencer.cursor();
        let t = sequencer.step().unwrap();
        // Rerun the chosen syllable by hand from the carried-over state.
        let trial = reach.syllable_trial(t.to, InitialState::CarryOver).unwrap();
        let trajectory = net.run_trial(&trial, Some(&start)).unwrap();
        assert_eq!(sequencer.state(), &trajectory.final_state());
        let path = integrate_velocity_by_step(trajectory.y.as_ref(), cursor).unwrap();
        assert_eq!(sequencer.cursor(), path[path.len() - 1]);
        assert_eq!(t.cursor, sequencer.cursor());
        assert_eq!(t.loss, trajectory.loss);
        assert_eq!(sequencer.current_syllable(), t.to);
    }
}

#[test]
fn the_greedy_test_is_defined_as_documented() {
    let net = common::random_network(15, 6);
    let config = common::short_config(51);
    let mut sequencer = Sequencer::new(net.clone(), config.clone()).unwrap();
    sequencer.train_for(200).unwrap();
    let w_s = sequencer.striatum().to_owned();
    let done = sequencer.transitions_done();
    let test = sequencer.evaluate().unwrap();
    // Evaluation changes nothing and draws nothing: it is repeatable.
    assert_eq!(sequencer.striatum(), w_s.as_ref());
    assert_eq!(sequencer.transitions_done(), done);
    assert_eq!(sequencer.evaluate().unwrap(), test);

    let d = config.shape.syllable_len;
    let n = config.target.len();
    assert_eq!(test.syllables.len(), n);
    assert_eq!(test.syllables[0], config.target[0]);
    assert_eq!(test.exact, test.syllables == config.target);
    assert_eq!(test.cursor_path.len(), n * d);
    assert_eq!(test.target_path.len(), n * d);

    // Warm-up: the target's last syllable from h = 0; then the first
    // syllable from its end state, cursor at the start.
    let reach = ReachSyllables::new(config.reach_config()).unwrap();
    let warm = reach
        .syllable_trial(config.target[n - 1], InitialState::Constant(0.0))
        .unwrap();
    let warm_end = net.run_trial(&warm, None).unwrap().final_state();
    let first = reach
        .syllable_trial(config.target[0], InitialState::CarryOver)
        .unwrap();
    let first_run = net.run_trial(&first, Some(&warm_end)).unwrap();
    let first_path = integrate_velocity_by_step(first_run.y.as_ref(), config.start).unwrap();
    assert_eq!(&test.cursor_path[..d], &first_path[..]);

    // Target path: the target's velocity integrated from the start; it
    // closes (two laps of a square) and ends where it began.
    let end = test.target_path[n * d - 1];
    assert!(end[0].abs() < 1e-9 && end[1].abs() < 1e-9);
    assert!((test.target_path[d - 1][0] - 1.0).abs() < 1e-9);

    // Path error: mean over steps of the squared distance.
    let manual: f64 = test
        .cursor_path
        .iter()
        .zip(&test.target_path)
        .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
        .sum::<f64>()
        / (n * d) as f64;
    assert!((test.path_error - manual).abs() < 1e-12);
    assert_eq!(
        test.path_error,
        mean_squared_distance(&test.cursor_path, &test.target_path)
    );
    // The zero-output baseline (docs/spec/TASKS.md §5: 0.95 for the default target).
    assert!(
        (test.zero_output_error - 0.95).abs() < 0.01,
        "{}",
        test.zero_output_error
    );
}

#[test]
fn history_windows_summarise_the_transitions() {
    let config = LoopConfig {
        window: 40,
        ..common::short_config(61)
    };
    let mut sequencer = Sequencer::new(common::random_network(10, 7), config).unwrap();
    let history = sequencer.train_for(130).unwrap();
    assert_eq!(history.len(), 130);
    let lens: Vec<usize> = history.windows.iter().map(|w| w.len).collect();
    assert_eq!(lens, vec![40, 40, 40, 10]);
    for w in &history.windows {
        let chunk = &history.transitions[w.first..w.first + w.len];
        let rewarded = chunk.iter().filter(|t| t.reward > 0.0).count();
        assert_eq!(w.reward_rate, rewarded as f64 / w.len as f64);
        let greedy: Vec<_> = chunk
            .iter()
            .filter(|t| !t.exploratory && t.target_available)
            .collect();
        let correct = greedy.iter().filter(|t| t.reward > 0.0).count();
        assert_eq!(
            w.greedy_accuracy,
            (!greedy.is_empty()).then(|| correct as f64 / greedy.len() as f64)
        );
    }
    assert_eq!(history.reward_rates().len(), 4);
    assert_eq!(
        history.n_rewarded,
        history
            .transitions
            .iter()
            .filter(|t| t.reward > 0.0)
            .count()
    );
    // Transition indices continue across training calls.
    let more = sequencer.train_for(5).unwrap();
    assert_eq!(more.transitions[0].index, 130);
}

#[test]
fn excluding_repeats_removes_the_current_syllable_from_the_candidates() {
    let run = |exclude_repeats: bool| {
        let config = LoopConfig {
            p_explore: 1.0,
            exclude_repeats,
            ..common::short_config(71)
        };
        let mut sequencer = Sequencer::new(common::random_network(10, 8), config).unwrap();
        sequencer.train_for(2000).unwrap()
    };
    let repeats =
        |h: &rnn_loop::LoopHistory| h.transitions.iter().filter(|t| t.from == t.to).count();
    assert!(repeats(&run(false)) > 100);
    let excluded = run(true);
    assert_eq!(repeats(&excluded), 0);
    assert!(excluded.transitions.iter().all(|t| t.n_candidates <= 3));
}
