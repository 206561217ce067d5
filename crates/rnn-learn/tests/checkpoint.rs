//! Checkpoint and resume: a run stopped after trial k and resumed from its
//! checkpoint ends bit-identical to an uninterrupted run.

mod common;

use rnn_core::{Network, NetworkConfig, TrialCycle, seeded};
use rnn_learn::{
    Bptt, Checkpoint, LearnError, LearningRates, LearningRule, Projection, Rflo, RuleSpec,
    Schedule, Trainer, TrainingConfig,
};

/// A stateful source (a cycle of distinct trials) whose trials carry the state over.
fn source() -> TrialCycle {
    common::carry_over_cycle(77, 3, 14)
}

fn network() -> Network {
    Network::random(&NetworkConfig::new(7, 2, 1).with_tau(3.0), &mut seeded(5)).unwrap()
}

fn config() -> TrainingConfig {
    TrainingConfig::default()
        .with_n_trials(11)
        .with_seed(9)
        .with_schedule(Schedule::EveryK(3))
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rnn-learn-ckpt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("run.ckpt")
}

fn kill_and_resume<R: LearningRule + Clone>(rule: R, name: &str) {
    // Uninterrupted.
    let mut net = network();
    let mut trainer = Trainer::new(rule.clone(), &mut net, config()).unwrap();
    let mut task = source();
    while !trainer.is_done() {
        trainer.train_trial(&mut net, &mut task).unwrap();
    }
    let (expected_net, expected_history) = (net, trainer.into_history());

    // Stopped after trial k = 5 (mid-way through an every-3 group), saved, resumed.
    let path = temp_path(name);
    let mut net = network();
    let mut trainer = Trainer::new(rule.clone(), &mut net, config()).unwrap();
    let mut task = source();
    for _ in 0..5 {
        trainer.train_trial(&mut net, &mut task).unwrap();
    }
    trainer.checkpoint(&net).save(&path).unwrap();
    drop((trainer, net, task));

    let checkpoint = Checkpoint::load(&path).unwrap();
    assert_eq!(checkpoint.trials_done(), 5);
    let mut task = source();
    let (mut trainer, mut net) = Trainer::resume(rule, config(), &checkpoint, &mut task).unwrap();
    while !trainer.is_done() {
        trainer.train_trial(&mut net, &mut task).unwrap();
    }
    assert_eq!(net, expected_net, "{name}: final weights differ");
    let history = trainer.into_history();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&history.loss), bits(&expected_history.loss));
    assert_eq!(history, expected_history);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn rflo_resumes_bit_identically() {
    kill_and_resume(Rflo::new(LearningRates::uniform(0.2)).unwrap(), "rflo");
}

#[test]
fn bptt_resumes_bit_identically() {
    kill_and_resume(Bptt::new(LearningRates::uniform(0.2)).unwrap(), "bptt");
}

/// The stochastic rules carry their sign generator across trials; the
/// checkpoint saves its position ([`rnn_learn::RuleMemory`]), so the
/// resumed run draws the same signs. Teeth: the noise matters — another
/// noise seed ends elsewhere — so a resume that restarted the generator
/// would not be bit-identical.
#[test]
fn stochastic_rules_resume_bit_identically() {
    for (spec, name) in [
        (RuleSpec::uoro(0.2), "uoro"),
        (RuleSpec::kf_rtrl(0.2), "kf_rtrl"),
    ] {
        kill_and_resume(spec.build().unwrap(), name);
        for schedule in [Schedule::EveryK(3), Schedule::Online] {
            let run = |seed: u64| {
                let spec = match &spec {
                    RuleSpec::Uoro { rates, .. } => RuleSpec::Uoro {
                        rates: *rates,
                        projection: Projection::Readout,
                        seed,
                    },
                    RuleSpec::KfRtrl { rates, .. } => RuleSpec::KfRtrl {
                        rates: *rates,
                        projection: Projection::Readout,
                        seed,
                    },
                    _ => unreachable!(),
                };
                let mut net = network();
                spec.train(&mut net, &mut source(), &config().with_schedule(schedule))
                    .unwrap();
                net
            };
            assert_eq!(run(0), run(0), "{name}: same seed");
            assert_ne!(run(0), run(1), "{name}: the noise seed matters");
        }
    }
}

/// REINFORCE carries its noise generator and its running baseline; both are
/// rule memory, and the resumed run is bit-identical.
#[test]
fn reinforce_resumes_bit_identically() {
    kill_and_resume(RuleSpec::reinforce(0.2).build().unwrap(), "reinforce");
}

/// FORCE carries `P` from trial to trial; it is rule memory.
#[test]
fn force_resumes_bit_identically() {
    kill_and_resume(RuleSpec::force(1.0).build().unwrap(), "force");
}

#[test]
fn foreign_truncated_and_mismatched_checkpoints_are_refused() {
    let rule = Rflo::new(LearningRates::uniform(0.2)).unwrap();
    let path = temp_path("refused");
    let mut net = network();
    let mut trainer = Trainer::new(rule.clone(), &mut net, config()).unwrap();
    let mut task = source();
    trainer.train_trial(&mut net, &mut task).unwrap();
    let checkpoint = trainer.checkpoint(&net);
    checkpoint.save(&path).unwrap();

    // Another config, another rule, another rate.
    let other = TrainingConfig::default()
        .with_n_trials(12)
        .with_seed(9)
        .with_schedule(Schedule::EveryK(3));
    let err = Trainer::resume(rule.clone(), other, &checkpoint, &mut source())
        .err()
        .unwrap();
    assert!(
        matches!(err, LearnError::CheckpointMismatch { .. }),
        "{err}"
    );
    let bptt = Bptt::new(LearningRates::uniform(0.2)).unwrap();
    let err = Trainer::resume(bptt, config(), &checkpoint, &mut source())
        .err()
        .unwrap();
    assert!(
        matches!(err, LearnError::CheckpointMismatch { .. }),
        "{err}"
    );
    let slower = Rflo::new(LearningRates::uniform(0.1)).unwrap();
    let err = Trainer::resume(slower, config(), &checkpoint, &mut source())
        .err()
        .unwrap();
    assert!(
        matches!(err, LearnError::CheckpointMismatch { .. }),
        "{err}"
    );

    // Truncated and foreign files.
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 10, 30, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert!(matches!(Checkpoint::load(&path), Err(LearnError::Core(_))));
    }
    network().save(&path).unwrap();
    assert!(matches!(Checkpoint::load(&path), Err(LearnError::Core(_))));
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn history_csv_is_lossless_and_has_a_row_per_trial() {
    let mut net = network();
    let config = TrainingConfig::default()
        .with_n_trials(7)
        .with_seed(1)
        .with_gradient_alignment_every(3);
    let rule = Rflo::new(LearningRates::uniform(0.2)).unwrap();
    let history = rnn_learn::train(&mut net, rule, &mut source(), &config).unwrap();
    let csv = history.to_csv();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "trial,loss,feedback_alignment,gradient_alignment,exact_gradient_norm"
    );
    assert_eq!(rows.len(), 8);
    for (trial, row) in rows[1..].iter().enumerate() {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields[0].parse::<usize>().unwrap(), trial);
        assert_eq!(
            fields[1].parse::<f64>().unwrap().to_bits(),
            history.loss[trial].to_bits()
        );
        assert_eq!(fields[3].is_empty(), trial % 3 != 0, "row {row}");
        assert_eq!(fields[4].is_empty(), trial % 3 != 0, "row {row}");
    }
}

/// Measuring gradient alignment does not change a run, even for rules that
/// carry memory (it runs on a separate state loaded with that memory).
#[test]
fn alignment_measurements_leave_rules_with_memory_unchanged() {
    for spec in [
        RuleSpec::uoro(0.2),
        RuleSpec::kf_rtrl(0.2),
        RuleSpec::reinforce(0.2),
        RuleSpec::force(1.0),
    ] {
        for schedule in [Schedule::EveryK(3), Schedule::Online] {
            if matches!(spec, RuleSpec::Reinforce { .. }) && schedule == Schedule::Online {
                continue; // trial-end only
            }
            let run = |every: Option<usize>| {
                let mut net = network();
                let mut config = config().with_schedule(schedule);
                if let Some(every) = every {
                    config = config.with_gradient_alignment_every(every);
                }
                let history = spec.train(&mut net, &mut source(), &config).unwrap();
                (net, history.loss)
            };
            let (plain, measured) = (run(None), run(Some(2)));
            assert_eq!(plain.0, measured.0, "{}: weights", spec.name());
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&plain.1), bits(&measured.1), "{}", spec.name());
        }
    }
}

/// Found by `rnn-fuzz` (checkpoint_file): a checkpoint whose trial count was
/// corrupted to a huge number made `resume` replay the trial source for
/// ever. The count must match the history and fit in the run.
#[test]
fn a_trial_count_beyond_the_history_or_the_run_is_refused_before_replaying() {
    let rule = Rflo::new(LearningRates::uniform(0.05)).unwrap();
    let mut net = network();
    let mut trainer = Trainer::new(rule.clone(), &mut net, config()).unwrap();
    let mut task = source();
    for _ in 0..2 {
        trainer.train_trial(&mut net, &mut task).unwrap();
    }
    let good = serde_json::to_value(trainer.checkpoint(&net)).unwrap();
    for (field, value) in [
        ("trials_done", serde_json::json!(1u64 << 60)),
        ("trials_done", serde_json::json!(3)),
        ("trials_done", serde_json::json!(12)),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let checkpoint: Checkpoint = serde_json::from_value(bad).unwrap();
        let result = Trainer::resume(rule.clone(), config(), &checkpoint, &mut source());
        assert!(
            matches!(result, Err(LearnError::CheckpointMismatch { .. })),
            "{field}: {:?}",
            result.err()
        );
    }
    // The untouched checkpoint still resumes.
    let checkpoint: Checkpoint = serde_json::from_value(good).unwrap();
    assert!(Trainer::resume(rule, config(), &checkpoint, &mut source()).is_ok());
}
