//! A diverging run stops with its partial history and the failing trial:
//! for a non-finite loss and for the loss-ratio bound
//! (`TrainingConfig::max_loss_ratio`).

use faer::Mat;
use rand::RngExt;
use rnn_core::{InitialState, Network, NetworkConfig, Trial, TrialCycle, seeded};
use rnn_learn::{
    History, LearnError, LearningRule, Rflo, RuleSpec, Schedule, TrainError, Trainer,
    TrainingConfig,
};

fn network() -> Network {
    Network::random(&NetworkConfig::new(8, 2, 1).with_tau(2.0), &mut seeded(21)).unwrap()
}

fn task() -> TrialCycle {
    let mut rng = seeded(22);
    let trials = (0..3)
        .map(|_| {
            let x = Mat::from_fn(12, 2, |_, _| rng.random::<f64>() * 2.0 - 1.0);
            let y = Mat::from_fn(12, 1, |_, _| rng.random::<f64>() - 0.5);
            Trial::new(x.as_ref(), y.as_ref(), None, InitialState::Constant(0.1)).unwrap()
        })
        .collect();
    TrialCycle::new(trials).unwrap()
}

fn run(rule: RuleSpec, config: &TrainingConfig) -> (Network, Result<History, TrainError>) {
    let mut net = network();
    let result = rule.train(&mut net, &mut task(), config);
    (net, result)
}

fn bits(losses: &[f64]) -> Vec<u64> {
    losses.iter().map(|x| x.to_bits()).collect()
}

/// The failing run's history is the run's own: the same run stopped just
/// before the failing trial has exactly the same losses (bit for bit).
fn assert_prefix_of_undisturbed_run(rule: RuleSpec, config: &TrainingConfig, err: &TrainError) {
    let trial = err.trial().unwrap();
    assert_eq!(err.history.loss.len(), trial + 1, "{err}");
    assert_eq!(err.history.feedback_alignment.len(), trial + 1);
    if trial > 0 {
        let (_, before) = run(rule, &config.clone().with_n_trials(trial));
        let before = before.unwrap();
        assert_eq!(bits(&before.loss), bits(&err.history.loss[..trial]));
        assert_eq!(
            bits(&before.feedback_alignment),
            bits(&err.history.feedback_alignment[..trial])
        );
    }
}

#[test]
fn a_non_finite_loss_returns_the_history_and_the_trial() {
    // eta = 1e300: the first update makes W_out ~ 1e300, so the next
    // output overflows and the loss is infinite. No ratio bound.
    let config = TrainingConfig::default()
        .with_n_trials(20)
        .with_max_loss_ratio(None);
    let rule = RuleSpec::rflo(1e300);
    let (net, result) = run(rule.clone(), &config);
    let err = result.unwrap_err();
    assert!(
        matches!(
            err.source,
            LearnError::Diverged {
                trial: 1,
                what: "loss"
            }
        ),
        "{err}"
    );
    assert_eq!(err.trial(), Some(1));
    assert!(err.to_string().contains("trial 1"), "{err}");
    assert!(err.history.loss[0].is_finite());
    assert!(!err.history.loss[1].is_finite());
    assert_prefix_of_undisturbed_run(rule, &config, &err);
    net.check_finite()
        .expect("the failing trial's update is not applied");
}

#[test]
fn a_loss_beyond_the_ratio_bound_is_a_divergence() {
    // eta = 1e100: losses stay finite (~1e200) but explode. Before the
    // bound, such a run "succeeded" with a final loss of ~1e200.
    let rule = RuleSpec::rflo(1e100);
    let config = TrainingConfig::default().with_n_trials(20);
    let (_, result) = run(rule.clone(), &config);
    let err = result.unwrap_err();
    let LearnError::LossBound {
        trial,
        loss,
        first_loss,
        max_loss_ratio,
    } = err.source
    else {
        panic!("expected LossBound, got {err}");
    };
    assert_eq!(err.trial(), Some(trial));
    assert_eq!(max_loss_ratio, 1e6);
    assert!(loss.is_finite() && loss > max_loss_ratio * first_loss);
    assert_eq!(err.history.loss[trial].to_bits(), loss.to_bits());
    assert_eq!(err.history.loss[0].to_bits(), first_loss.to_bits());
    assert!(
        err.history.loss[..trial]
            .iter()
            .all(|&l| l <= max_loss_ratio * first_loss)
    );
    assert_prefix_of_undisturbed_run(rule.clone(), &config, &err);

    // Without the bound the same run goes on past that trial with the same losses.
    let unbounded = config.clone().with_max_loss_ratio(None);
    let (_, result) = run(rule, &unbounded);
    let losses = match result {
        Ok(history) => history.loss,
        Err(e) => e.history.loss,
    };
    assert!(losses.len() > trial + 1);
    assert_eq!(bits(&losses[..=trial]), bits(&err.history.loss));
}

#[test]
fn a_tighter_bound_stops_a_slowly_diverging_run() {
    // eta = 5 diverges over a few trials (loss ratio 4 first passed at trial 9 / 3).
    for schedule in [Schedule::PerTrial, Schedule::EveryK(2)] {
        let rule = RuleSpec::rflo(5.0);
        let config = TrainingConfig::default()
            .with_n_trials(40)
            .with_schedule(schedule)
            .with_max_loss_ratio(Some(4.0));
        let (net, result) = run(rule.clone(), &config);
        let err = result.unwrap_err();
        assert!(
            matches!(err.source, LearnError::LossBound { .. }),
            "{schedule:?}: {err}"
        );
        let trial = err.trial().unwrap();
        assert!(
            trial >= 2,
            "{schedule:?}: stopped at {trial}, too early to test the prefix"
        );
        let first = err.history.loss[0];
        assert!(err.history.loss[trial] > 4.0 * first, "{schedule:?}");
        assert_prefix_of_undisturbed_run(rule, &config, &err);
        net.check_finite().unwrap();
    }
}

#[test]
fn a_custom_loop_sees_the_failing_trial_in_the_trainer_history() {
    let mut net = network();
    let rule = Rflo::new(1e100.into()).unwrap();
    let config = TrainingConfig::default().with_n_trials(20);
    let mut trainer = Trainer::new(rule, &mut net, config).unwrap();
    let mut source = task();
    let err = loop {
        if let Err(err) = trainer.train_trial(&mut net, &mut source) {
            break err;
        }
    };
    let trial = err.diverged_at().unwrap();
    assert_eq!(trainer.trials_done(), trial + 1);
    assert_eq!(trainer.history().loss.len(), trial + 1);
}

#[test]
fn an_invalid_rule_or_config_fails_before_any_trial() {
    let mut net = network();
    let before = net.clone();
    let err = RuleSpec::bptt(-1.0)
        .train(&mut net, &mut task(), &TrainingConfig::default())
        .unwrap_err();
    assert!(matches!(err.source, LearnError::InvalidConfig { .. }));
    assert!(err.history.loss.is_empty() && err.trial().is_none());
    let rule = Rflo::new(0.1.into()).unwrap();
    let config = TrainingConfig::default().with_max_loss_ratio(Some(0.5));
    let err = rule.train(&mut net, &mut task(), &config).unwrap_err();
    assert!(matches!(err.source, LearnError::InvalidConfig { .. }));
    assert_eq!(net, before);
    // `?` into a LearnError keeps the cause.
    let as_learn_error: LearnError = err.into();
    assert!(as_learn_error.to_string().contains("max_loss_ratio"));
}

#[test]
fn a_healthy_run_is_untouched_by_the_default_bound() {
    let config = TrainingConfig::default().with_n_trials(30);
    let (_, bounded) = run(RuleSpec::rflo(0.05), &config);
    let (_, unbounded) = run(RuleSpec::rflo(0.05), &config.with_max_loss_ratio(None));
    assert_eq!(bounded.unwrap(), unbounded.unwrap());
}
