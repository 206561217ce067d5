//! Every invalid config gives its typed error.

use rnn_core::{CoreError, seeded};
use rnn_tasks::{
    FixedStart, Periodic, PeriodicConfig, ReachConfig, ReachSyllables, ReadySetGo,
    ReadySetGoConfig, SyllableShape, TaskError, TrialLength, WholeSequence, WholeSequenceConfig,
};

#[test]
fn periodic_errors() {
    assert!(matches!(
        Periodic::new(PeriodicConfig::with_period(0), &mut seeded(0)),
        Err(TaskError::Zero { field: "period" })
    ));
    let config = PeriodicConfig {
        start: FixedStart::Constant(f64::NAN),
        ..PeriodicConfig::default()
    };
    assert!(matches!(
        Periodic::new(config, &mut seeded(0)),
        Err(TaskError::NonFinite { field: "start", .. })
    ));
    for (start, field) in [
        (
            FixedStart::Uniform {
                n_units: 0,
                half_width: 1.0,
            },
            "start.n_units",
        ),
        (
            FixedStart::Uniform {
                n_units: 3,
                half_width: -1.0,
            },
            "start.half_width",
        ),
        (
            FixedStart::Uniform {
                n_units: 3,
                half_width: f64::INFINITY,
            },
            "start.half_width",
        ),
        (
            FixedStart::Uniform {
                n_units: usize::MAX,
                half_width: 1.0,
            },
            "start.n_units",
        ),
    ] {
        let config = PeriodicConfig { start, period: 10 };
        let error = Periodic::new(config, &mut seeded(0)).map(drop).unwrap_err();
        assert!(error.to_string().contains(field), "{error}");
    }
    assert!(PeriodicConfig::default().validate().is_ok());
}

#[test]
fn ready_set_go_errors() {
    let base = ReadySetGoConfig::default;
    let err = |config: ReadySetGoConfig| ReadySetGo::new(config).unwrap_err();
    for sigma in [0.0, -1.0] {
        assert!(matches!(
            err(ReadySetGoConfig { sigma, ..base() }),
            TaskError::NonPositive { field: "sigma", .. }
        ));
    }
    for sigma in [f64::NAN, f64::INFINITY] {
        assert!(matches!(
            err(ReadySetGoConfig { sigma, ..base() }),
            TaskError::NonFinite { field: "sigma", .. }
        ));
    }
    assert!(matches!(
        err(ReadySetGoConfig {
            sigma: 1e300,
            ..base()
        }),
        TaskError::OutOfRange { field: "sigma", .. }
    ));
    assert!(matches!(
        err(ReadySetGoConfig::with_delays(100, 99)),
        TaskError::EmptyDelayRange { min: 100, max: 99 }
    ));
    assert!(matches!(
        err(ReadySetGoConfig::with_delays(0, 99)),
        TaskError::Zero { field: "min_delay" }
    ));
    assert!(matches!(
        err(ReadySetGoConfig {
            t_ready: 0,
            ..base()
        }),
        TaskError::Zero { field: "t_ready" }
    ));
    assert!(matches!(
        err(ReadySetGoConfig {
            max_delay: usize::MAX,
            ..base()
        }),
        TaskError::OutOfRange {
            field: "max_delay",
            ..
        }
    ));
    // Fixed trial length shorter than t_ready + 2 T_max = 350.
    assert!(matches!(
        err(ReadySetGoConfig {
            trial_length: TrialLength::Fixed(349),
            ..base()
        }),
        TaskError::DelayRangeTooLong {
            max_delay: 150,
            trial_len: 349,
            needed: 350
        }
    ));
    assert!(matches!(
        err(ReadySetGoConfig {
            trial_length: TrialLength::Fixed(0),
            ..base()
        }),
        TaskError::Zero {
            field: "trial_length"
        }
    ));
    assert!(matches!(
        err(ReadySetGoConfig {
            initial_value: f64::INFINITY,
            ..base()
        }),
        TaskError::NonFinite {
            field: "initial_value",
            ..
        }
    ));
    // Valid edge cases.
    let ok = ReadySetGo::new(ReadySetGoConfig {
        trial_length: TrialLength::Fixed(350),
        ..base()
    });
    assert_eq!(ok.unwrap().trial_len(), 350);
    assert!(ReadySetGo::new(ReadySetGoConfig::with_delays(70, 70)).is_ok());
}

#[test]
fn reach_errors() {
    let shape = SyllableShape::default;
    let base = ReachConfig::default;
    let err = |config: ReachConfig| ReachSyllables::new(config).unwrap_err();
    assert!(matches!(
        err(ReachConfig {
            shape: SyllableShape {
                n_syllables: 0,
                ..shape()
            },
            ..base()
        }),
        TaskError::NoSyllables
    ));
    assert!(matches!(
        err(ReachConfig {
            shape: SyllableShape {
                n_syllables: 1,
                ..shape()
            },
            ..base()
        }),
        TaskError::TooFewSyllables { n_syllables: 1 }
    ));
    // K = 1 is fine when repeats are allowed.
    assert!(
        ReachSyllables::new(ReachConfig {
            shape: SyllableShape {
                n_syllables: 1,
                ..shape()
            },
            exclude_repeats: false,
            ..base()
        })
        .is_ok()
    );
    assert!(matches!(
        err(ReachConfig {
            shape: SyllableShape {
                syllable_len: 0,
                reach_len: 0,
                ..shape()
            },
            ..base()
        }),
        TaskError::Zero {
            field: "syllable_len"
        }
    ));
    for reach_len in [0usize, 1, 201] {
        assert!(matches!(
            err(ReachConfig {
                shape: SyllableShape {
                    reach_len,
                    ..shape()
                },
                ..base()
            }),
            TaskError::BadReachPhase {
                syllable_len: 200,
                ..
            }
        ));
    }
    assert!(matches!(
        err(ReachConfig {
            shape: SyllableShape {
                reach_length: 0.0,
                ..shape()
            },
            ..base()
        }),
        TaskError::NonPositive {
            field: "reach_length",
            ..
        }
    ));
    assert!(matches!(
        err(ReachConfig {
            shape: SyllableShape {
                reach_length: f64::NAN,
                ..shape()
            },
            ..base()
        }),
        TaskError::NonFinite {
            field: "reach_length",
            ..
        }
    ));
    assert!(matches!(
        err(ReachConfig {
            box_half_width: 0.99,
            ..base()
        }),
        TaskError::BoxTooSmall { .. }
    ));
    assert!(matches!(
        err(ReachConfig {
            box_half_width: -2.0,
            ..base()
        }),
        TaskError::NonPositive {
            field: "box_half_width",
            ..
        }
    ));
    assert!(matches!(
        err(ReachConfig {
            box_half_width: f64::INFINITY,
            ..base()
        }),
        TaskError::NonFinite {
            field: "box_half_width",
            ..
        }
    ));
    assert!(matches!(
        err(ReachConfig {
            start: [2.5, 0.0],
            ..base()
        }),
        TaskError::StartOutsideBox { .. }
    ));
    assert!(matches!(
        err(ReachConfig {
            start: [0.0, f64::NAN],
            ..base()
        }),
        TaskError::NonFinite {
            field: "start[1]",
            ..
        }
    ));
    assert!(matches!(
        err(ReachConfig {
            first_initial_value: f64::NAN,
            ..base()
        }),
        TaskError::NonFinite {
            field: "first_initial_value",
            ..
        }
    ));
}

#[test]
fn whole_sequence_errors() {
    let base = WholeSequenceConfig::default;
    let err = |config: WholeSequenceConfig| WholeSequence::new(config, &mut seeded(0)).unwrap_err();
    assert!(matches!(
        err(WholeSequenceConfig {
            sequence: vec![],
            ..base()
        }),
        TaskError::EmptySequence
    ));
    assert!(matches!(
        err(WholeSequenceConfig {
            sequence: vec![0, 1, 4, 2],
            ..base()
        }),
        TaskError::SyllableOutOfRange {
            syllable: 4,
            n_syllables: 4,
            position: Some(2)
        }
    ));
    assert!(matches!(
        err(WholeSequenceConfig {
            shape: SyllableShape {
                n_syllables: 0,
                ..SyllableShape::default()
            },
            ..base()
        }),
        TaskError::NoSyllables
    ));
    assert!(matches!(
        err(WholeSequenceConfig {
            input_value: f64::NAN,
            ..base()
        }),
        TaskError::NonFinite {
            field: "input_value",
            ..
        }
    ));
    assert!(matches!(
        err(WholeSequenceConfig {
            start: FixedStart::Uniform {
                n_units: 0,
                half_width: 1.0
            },
            ..base()
        }),
        TaskError::Zero {
            field: "start.n_units"
        }
    ));
    assert!(matches!(
        err(WholeSequenceConfig {
            start: FixedStart::Uniform {
                n_units: 10,
                half_width: -1.0
            },
            ..base()
        }),
        TaskError::OutOfRange {
            field: "start.half_width",
            ..
        }
    ));
    assert!(matches!(
        err(WholeSequenceConfig {
            start: FixedStart::Given(vec![]),
            ..base()
        }),
        TaskError::Zero { .. }
    ));
    assert!(matches!(
        err(WholeSequenceConfig {
            start: FixedStart::Given(vec![0.0, f64::NAN]),
            ..base()
        }),
        TaskError::NonFiniteTrace { index: 1, .. }
    ));
}

#[test]
fn task_errors_cross_the_trial_source_seam() {
    let core: CoreError = TaskError::EmptySequence.into();
    let CoreError::TrialSource(source) = core else {
        panic!("expected CoreError::TrialSource, got {core}");
    };
    let task = source
        .downcast::<TaskError>()
        .expect("the task error is kept whole");
    assert!(matches!(*task, TaskError::EmptySequence));
    let core: CoreError = TaskError::Core(CoreError::EmptyTrial).into();
    assert!(matches!(core, CoreError::EmptyTrial));
    let task: TaskError = CoreError::EmptyTrial.into();
    assert!(matches!(task, TaskError::Core(CoreError::EmptyTrial)));
}

/// Found by `rnn-fuzz` (run_spec_toml, task_spec_toml): a syllable length
/// whose product with the sequence length overflows panicked in
/// `trial_len` (through `TaskSpec::steps_per_trial`), and a uniform `h(0)`
/// for `usize::MAX` units aborted on allocation in `WholeSequence::new`.
/// Both are now typed errors from `validate`.
#[test]
fn whole_sequence_sizes_that_cannot_exist_are_typed_errors() {
    use rnn_tasks::TaskSpec;
    let mut config = WholeSequenceConfig::default();
    config.shape.syllable_len = usize::MAX;
    config.shape.reach_len = 100;
    assert!(matches!(
        config.validate(),
        Err(TaskError::OutOfRange {
            field: "shape.syllable_len",
            ..
        })
    ));
    assert_eq!(config.trial_len(), usize::MAX); // saturates, never panics
    let spec = TaskSpec::WholeSequence(config);
    assert!(spec.steps_per_trial().is_err());
    assert!(spec.build(&mut seeded(0)).is_err());

    for n_units in [usize::MAX, 1 << 40, 1 << 20] {
        let config = WholeSequenceConfig {
            start: FixedStart::Uniform {
                n_units,
                half_width: 1.0,
            },
            ..WholeSequenceConfig::default()
        };
        assert!(
            matches!(
                config.validate(),
                Err(TaskError::OutOfRange {
                    field: "start.n_units",
                    ..
                })
            ),
            "{n_units}"
        );
        assert!(
            TaskSpec::WholeSequence(config)
                .build(&mut seeded(0))
                .is_err()
        );
    }
}
