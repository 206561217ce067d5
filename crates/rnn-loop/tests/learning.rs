//! The loop learns the default 8-syllable target (docs/spec/TASKS.md §5): greedy
//! evaluation reproduces it exactly, for several seeds, on a constructed
//! network and on networks pre-trained with RFLO on the reach syllables.

mod common;

use rnn_core::{InitialState, NetworkConfig, seeded};
use rnn_loop::{LoopConfig, PretrainConfig, Sequencer, pretrain_syllables};
use rnn_tasks::{BOX_TOLERANCE, ReachSyllables};

fn assert_learned(sequencer: &mut Sequencer, n_transitions: usize, label: &str) {
    let history = sequencer.train_for(n_transitions).unwrap();
    let b = sequencer.config().box_half_width;
    assert!(history.max_ideal_excursion <= BOX_TOLERANCE, "{label}");
    for t in &history.transitions {
        assert!(common::in_box(t.ideal_position, b), "{label}: {t:?}");
    }
    // Late in training the greedy policy is right and the reward rate is
    // about 1 - p_explore (an exploratory pick is right 1 time in 2..4).
    let last = history.windows.last().unwrap();
    assert_eq!(last.greedy_accuracy, Some(1.0), "{label}: {last:?}");
    assert!(last.reward_rate >= 0.8, "{label}: {last:?}");
    let test = sequencer.evaluate().unwrap();
    assert!(test.exact, "{label}: {:?}", test.syllables);
    assert_eq!(test.syllables, vec![0, 1, 2, 3, 0, 1, 2, 3]);
    assert!(test.max_ideal_excursion <= BOX_TOLERANCE);
    assert!(test.path_error.is_finite() && test.max_box_excursion.is_finite());
}

#[test]
fn constructed_network_learns_the_default_target_for_five_seeds() {
    for seed in 0..5u64 {
        let net = common::constructed_network(40, 1.0 / 40.0, 100 + seed);
        // The premise: end-of-syllable states depend on the syllable only.
        let reach = ReachSyllables::new(LoopConfig::default().reach_config()).unwrap();
        let ends: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                let trial = reach
                    .syllable_trial(k, InitialState::Constant(0.0))
                    .unwrap();
                net.run_trial(&trial, None).unwrap().final_state().h
            })
            .collect();
        for a in 0..4 {
            for c in 0..a {
                let distance: f64 = ends[a]
                    .iter()
                    .zip(&ends[c])
                    .map(|(x, y)| (x - y).powi(2))
                    .sum();
                assert!(distance > 1.0, "seed {seed}: states {a} and {c} coincide");
            }
        }
        let config = LoopConfig {
            seed,
            ..LoopConfig::default()
        };
        let mut sequencer = Sequencer::new(net, config).unwrap();
        assert_learned(&mut sequencer, 2000, &format!("constructed, seed {seed}"));
    }
}

#[test]
fn rflo_pretrained_networks_learn_the_default_target_for_three_seeds() {
    // N = 50, 3000 RFLO syllable trials and 3000 loop transitions per seed
    // (the spec's budget is N = 100, 10,000 and 10,000). Not every network
    // learns: the positive-only Hebbian rule can lock into a wrong mapping
    // when end-of-syllable states are strongly correlated (see the crate
    // docs, "Limitations"); these seeds are fixed, not searched for
    // (network seeds 100..103, the first tried).
    for seed in 0..3u64 {
        let config = LoopConfig {
            seed,
            ..LoopConfig::default()
        };
        let mut net =
            rnn_core::Network::random(&NetworkConfig::new(50, 4, 2), &mut seeded(100 + seed))
                .unwrap();
        let pretrain = PretrainConfig {
            n_trials: 3000,
            seed,
            ..PretrainConfig::for_loop(&config)
        };
        let history = pretrain_syllables(&mut net, &pretrain).unwrap();
        assert_eq!(history.loss.len(), 3000);
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        let (early, late) = (mean(&history.loss[..200]), mean(&history.loss[2800..]));
        assert!(late < 0.5 * early, "seed {seed}: loss {early} -> {late}");
        let mut sequencer = Sequencer::new(net, config).unwrap();
        assert_learned(&mut sequencer, 3000, &format!("RFLO, seed {seed}"));
    }
}
