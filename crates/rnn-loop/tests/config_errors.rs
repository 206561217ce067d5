//! Every invalid configuration gives its own typed error.

mod common;

use faer::Mat;
use rnn_loop::{
    LoopConfig, LoopError, PretrainConfig, Sequencer, TargetTransitions, pretrain_syllables,
};
use rnn_tasks::{SyllableShape, TaskError};

fn with(f: impl FnOnce(&mut LoopConfig)) -> LoopConfig {
    let mut config = LoopConfig::default();
    f(&mut config);
    config
}

#[test]
fn the_default_config_is_valid() {
    LoopConfig::default().validate().unwrap();
}

#[test]
fn empty_target() {
    let err = with(|c| c.target.clear()).validate().unwrap_err();
    assert!(matches!(err, LoopError::EmptyTarget), "{err}");
}

#[test]
fn target_syllable_out_of_range() {
    let err = with(|c| c.target = vec![0, 1, 4, 3])
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::TargetSyllableOutOfRange {
                syllable: 4,
                position: 2,
                n_syllables: 4
            }
        ),
        "{err}"
    );
}

#[test]
fn target_whose_transitions_are_not_a_function() {
    // 0 -> 1 and later 0 -> 3.
    let err = with(|c| c.target = vec![0, 1, 2, 0, 3, 2])
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::AmbiguousTransition {
                syllable: 0,
                first: 1,
                second: 3,
                ..
            }
        ),
        "{err}"
    );
    // The wrap-around counts: [0, 1, 2, 3, 0, 1, 2] has 2 -> 3 and 2 -> 0.
    let err = with(|c| c.target = vec![0, 1, 2, 3, 0, 1, 2])
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::AmbiguousTransition {
                syllable: 2,
                first: 3,
                second: 0,
                second_position: 0,
                ..
            }
        ),
        "{err}"
    );
    // A repeated syllable followed by itself is a function (k -> k).
    TargetTransitions::new(&[1, 1], 4).unwrap();
}

#[test]
fn target_that_leaves_the_box() {
    // Right, up, right, up, right: the fifth reach reaches x = 3.
    let err = with(|c| c.target = vec![0, 1, 0, 1, 0, 1])
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::TargetLeavesBox {
                position: 4,
                x: 3.0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn p_explore_outside_the_unit_interval() {
    for p in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        let err = with(|c| c.p_explore = p).validate().unwrap_err();
        assert!(
            matches!(
                err,
                LoopError::InvalidProbability {
                    field: "p_explore",
                    ..
                }
            ),
            "{p}: {err}"
        );
    }
    for p in [0.0, 1.0] {
        with(|c| c.p_explore = p).validate().unwrap();
    }
}

#[test]
fn eta_s_not_positive_or_not_finite() {
    for eta in [0.0, -0.01, f64::NAN, f64::INFINITY] {
        let err = with(|c| c.eta_s = eta).validate().unwrap_err();
        assert!(
            matches!(err, LoopError::InvalidLearningRate { .. }),
            "{eta}: {err}"
        );
    }
}

#[test]
fn other_fields() {
    let err = with(|c| c.striatum_init_std = -1.0).validate().unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::InvalidConfig {
                field: "striatum_init_std",
                ..
            }
        ),
        "{err}"
    );
    let err = with(|c| c.window = 0).validate().unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::InvalidConfig {
                field: "window",
                ..
            }
        ),
        "{err}"
    );
    // Shape and box errors come from rnn-tasks.
    let err = with(|c| {
        c.shape = SyllableShape {
            reach_len: 1,
            ..SyllableShape::default()
        }
    })
    .validate()
    .unwrap_err();
    assert!(
        matches!(err, LoopError::Task(TaskError::BadReachPhase { .. })),
        "{err}"
    );
    let err = with(|c| c.box_half_width = 0.5).validate().unwrap_err();
    assert!(
        matches!(err, LoopError::Task(TaskError::BoxTooSmall { .. })),
        "{err}"
    );
    let err = with(|c| c.start = [3.0, 0.0]).validate().unwrap_err();
    assert!(
        matches!(err, LoopError::Task(TaskError::StartOutsideBox { .. })),
        "{err}"
    );
}

#[test]
fn network_sizes_must_match() {
    let config = common::short_config(0);
    // N_x = 3 for K = 4.
    let net = rnn_core::Network::random(
        &rnn_core::NetworkConfig::new(10, 3, 2),
        &mut rnn_core::seeded(1),
    )
    .unwrap();
    let err = Sequencer::new(net, config.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::NetworkShape {
                what: "N_x (inputs)",
                expected: 4,
                found: 3
            }
        ),
        "{err}"
    );
    // N_y = 1.
    let net = rnn_core::Network::random(
        &rnn_core::NetworkConfig::new(10, 4, 1),
        &mut rnn_core::seeded(1),
    )
    .unwrap();
    let err = Sequencer::new(net.clone(), config.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::NetworkShape {
                what: "N_y (outputs)",
                expected: 2,
                found: 1
            }
        ),
        "{err}"
    );
    let mut net = net;
    let err = pretrain_syllables(&mut net, &PretrainConfig::for_loop(&config)).unwrap_err();
    assert!(matches!(err, LoopError::NetworkShape { .. }), "{err}");
}

#[test]
fn the_sequencer_refuses_an_invalid_config() {
    let net = common::random_network(10, 1);
    let config = LoopConfig {
        p_explore: 2.0,
        ..common::short_config(0)
    };
    assert!(matches!(
        Sequencer::new(net, config),
        Err(LoopError::InvalidProbability { .. })
    ));
}

#[test]
fn striatum_of_the_wrong_shape_or_non_finite() {
    let mut sequencer =
        Sequencer::new(common::random_network(10, 1), common::short_config(0)).unwrap();
    let err = sequencer.set_striatum(Mat::zeros(4, 9)).unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::StriatumShape {
                expected_rows: 4,
                expected_cols: 10,
                rows: 4,
                cols: 9,
                finite: true
            }
        ),
        "{err}"
    );
    let mut bad = Mat::zeros(4, 10);
    bad[(1, 2)] = f64::NAN;
    let err = sequencer.set_striatum(bad).unwrap_err();
    assert!(
        matches!(err, LoopError::StriatumShape { finite: false, .. }),
        "{err}"
    );
    sequencer.set_striatum(Mat::zeros(4, 10)).unwrap();
}

#[test]
fn pretraining_with_a_bad_rate_is_a_learn_error() {
    let mut net = common::random_network(10, 1);
    let config = PretrainConfig {
        eta: -1.0,
        n_trials: 1,
        ..PretrainConfig::for_loop(&common::short_config(0))
    };
    let err = pretrain_syllables(&mut net, &config).unwrap_err();
    assert!(matches!(err, LoopError::Learn(_)), "{err}");
}

#[test]
fn a_repeat_in_the_target_when_repeats_are_excluded() {
    let config = with(|c| {
        c.exclude_repeats = true;
        // A functional target with a repeat is one syllable, repeated.
        c.target = vec![1, 1];
    });
    let err = config.validate().unwrap_err();
    assert!(
        matches!(
            err,
            LoopError::RepeatInTarget {
                syllable: 1,
                position: 0
            }
        ),
        "{err}"
    );
    with(|c| c.exclude_repeats = true).validate().unwrap();
}
