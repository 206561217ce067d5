//! The gate and the Hebbian update on their own.

use faer::Mat;
use rnn_core::seeded;
use rnn_loop::{Choice, gate, greedy, hebbian_update, random_striatum, striatal_activity};

#[test]
fn with_zero_reward_the_update_changes_nothing() {
    let mut w = random_striatum(4, 7, 0.01, &mut seeded(3));
    let before = w.clone();
    let h: Vec<f64> = (0..7).map(|j| 0.3 * j as f64 - 0.9).collect();
    for winner in 0..4 {
        hebbian_update(&mut w, winner, 0.0, &h, 0.01);
        hebbian_update(&mut w, winner, 0.0, &h, 1e6);
    }
    assert_eq!(w, before);
}

#[test]
fn a_reward_adds_eta_r_h_to_the_winners_row_only() {
    let mut w = random_striatum(4, 5, 0.01, &mut seeded(4));
    let before = w.clone();
    let h = [0.5, -1.0, 0.25, 0.0, 0.75];
    hebbian_update(&mut w, 2, 1.0, &h, 0.1);
    for i in 0..4 {
        for j in 0..5 {
            let expected = before[(i, j)] + if i == 2 { 0.1 * h[j] } else { 0.0 };
            assert_eq!(w[(i, j)], expected, "({i}, {j})");
        }
    }
    // Out-of-range winner: no change, no panic.
    let again = w.clone();
    hebbian_update(&mut w, 9, 1.0, &h, 0.1);
    assert_eq!(w, again);
}

#[test]
fn striatal_activity_is_w_s_times_h() {
    let w = Mat::from_fn(3, 4, |i, j| (i * 4 + j) as f64);
    let h = [1.0, 0.5, -1.0, 2.0];
    let mut z = [0.0; 3];
    striatal_activity(w.as_ref(), &h, &mut z);
    for i in 0..3 {
        let expected: f64 = (0..4).map(|j| w[(i, j)] * h[j]).sum();
        assert_eq!(z[i], expected);
    }
}

#[test]
fn greedy_takes_the_argmax_among_candidates_first_on_ties() {
    let z = [5.0, 1.0, 3.0, 3.0];
    assert_eq!(greedy(&z, &[0, 1, 2, 3]), Some(0));
    assert_eq!(greedy(&z, &[1, 2, 3]), Some(2));
    assert_eq!(greedy(&z, &[3, 2]), Some(3));
    assert_eq!(greedy(&z, &[1]), Some(1));
    assert_eq!(greedy(&z, &[]), None);
    assert_eq!(greedy(&[f64::NAN, 0.0], &[0, 1]), Some(1));
}

#[test]
fn gate_without_exploration_is_greedy_and_with_certain_exploration_is_uniform() {
    let z = [0.0, 2.0, 1.0, -1.0];
    let mut rng = seeded(8);
    for _ in 0..200 {
        assert_eq!(
            gate(&z, &[0, 2, 3], 0.0, &mut rng),
            Some(Choice {
                syllable: 2,
                exploratory: false
            })
        );
    }
    let mut counts = [0usize; 4];
    for _ in 0..3000 {
        let choice = gate(&z, &[0, 2, 3], 1.0, &mut rng).unwrap();
        assert!(choice.exploratory);
        counts[choice.syllable] += 1;
    }
    assert_eq!(counts[1], 0, "only candidates are chosen");
    // Uniform over 3: mean 1000, sd ~26; 5 sd.
    for k in [0, 2, 3] {
        assert!((870..1130).contains(&counts[k]), "{counts:?}");
    }
    assert_eq!(gate(&z, &[], 0.5, &mut rng), None);
}
