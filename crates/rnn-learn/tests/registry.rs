//! The rule registry: `RuleSpec` as TOML/JSON (round trips, number-or-table
//! rates, clear errors), `build()` validation, `AnyRule` identical to the
//! concrete rules; `TrainingConfig` as TOML.

mod common;

use faer::Mat;
use rnn_core::{Network, NetworkConfig, TrialCycle, seeded};
use rnn_learn::{
    Bptt, EpropFeedback, History, LearnError, LearningRates, LearningRule, LocalSymmetric,
    NonlocalForm, NonlocalRandom, OnlineForm, Projection, Rflo, Rtrl, RuleSpec, Schedule, Trainer,
    TrainingConfig, TrialEndForm, train,
};
use serde::{Deserialize, Serialize};

fn mixed() -> LearningRates {
    LearningRates {
        readout: 0.03,
        recurrent: 0.02,
        input: 0.01,
    }
}

/// A spec nested in a document, as a run description holds it.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Doc {
    rule: RuleSpec,
}

fn parse(toml_text: &str) -> Result<RuleSpec, toml::de::Error> {
    toml::from_str(toml_text)
}

#[test]
fn every_form_round_trips_through_toml_and_json() {
    let custom = Projection::Custom(Mat::from_fn(3, 2, |i, j| i as f64 - 0.25 * j as f64));
    let mut specs = RuleSpec::every_form(LearningRates::uniform(0.01));
    specs.extend(RuleSpec::every_form(mixed()));
    specs.push(RuleSpec::Rtrl {
        rates: mixed(),
        projection: custom.clone(),
    });
    specs.push(RuleSpec::Rflo {
        rates: LearningRates::uniform(0.5),
        projection: Projection::Readout,
        trial_end_form: TrialEndForm::Traces,
        online_form: OnlineForm::LowRank,
    });
    specs.push(RuleSpec::Bptt {
        rates: mixed(),
        projection: Projection::Feedback,
    });
    specs.push(RuleSpec::eprop(mixed(), EpropFeedback::Random));
    specs.push(RuleSpec::Eprop {
        rates: mixed(),
        feedback: EpropFeedback::Symmetric,
        trial_end_form: TrialEndForm::Traces,
        online_form: OnlineForm::Trace,
    });
    assert_eq!(RuleSpec::every_form(mixed()).len(), 18);
    for spec in specs {
        let text = toml::to_string(&spec).unwrap();
        assert_eq!(parse(&text).unwrap(), spec, "{text}");
        let doc = Doc { rule: spec.clone() };
        let text = toml::to_string(&doc).unwrap();
        assert_eq!(toml::from_str::<Doc>(&text).unwrap(), doc, "{text}");
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(
            serde_json::from_str::<RuleSpec>(&json).unwrap(),
            spec,
            "{json}"
        );
        assert!(
            json.starts_with(&format!("{{\"name\":\"{}\"", spec.name())),
            "{json}"
        );
    }
}

#[test]
fn names_and_labels() {
    let names: Vec<_> = RuleSpec::every_form(mixed())
        .iter()
        .map(|s| (s.name(), s.label()))
        .collect();
    for expected in [
        ("rflo", "RFLO"),
        ("local_symmetric", "LocalSymmetric"),
        ("bptt", "BPTT"),
        ("rtrl", "RTRL"),
        ("nonlocal_random", "NonlocalRandom"),
        ("snap1", "SnAp-1"),
        ("uoro", "UORO"),
        ("kf_rtrl", "KF-RTRL"),
        ("reinforce", "REINFORCE"),
        ("force", "FORCE"),
    ] {
        assert!(names.contains(&expected), "{expected:?}");
    }
    for spec in RuleSpec::every_form(mixed()) {
        assert_eq!(spec.build().unwrap().name(), spec.label(), "{spec:?}");
        assert_eq!(spec.rates(), mixed());
        let other = LearningRates::uniform(0.7);
        assert_eq!(spec.clone().with_rates(other).rates(), other);
        assert_eq!(spec.clone().with_rates(other).name(), spec.name());
    }
}

/// `eprop` reads as what it is: RFLO or `LocalSymmetric`.
#[test]
fn eprop_builds_rflo_or_local_symmetric() {
    let random = parse("name = \"eprop\"\nrates = 0.01").unwrap();
    assert_eq!(random, RuleSpec::eprop(0.01, EpropFeedback::Random));
    assert_eq!((random.name(), random.label()), ("eprop", "e-prop"));
    assert_eq!(
        random.build().unwrap(),
        RuleSpec::rflo(0.01).build().unwrap()
    );
    let symmetric = parse("name = \"eprop\"\nrates = 0.01\nfeedback = \"symmetric\"").unwrap();
    assert_eq!(
        symmetric.build().unwrap(),
        RuleSpec::local_symmetric(0.01).build().unwrap()
    );
    assert!(parse("name = \"eprop\"\nrates = 0.01\nfeedback = \"other\"").is_err());
}

#[test]
fn rates_are_one_number_or_a_table() {
    let uniform = parse("name = \"rflo\"\nrates = 0.01").unwrap();
    assert_eq!(uniform, RuleSpec::rflo(0.01));
    assert_eq!(
        parse("name = \"rflo\"\nrates = 1").unwrap(),
        RuleSpec::rflo(1.0)
    );
    let table =
        parse("name = \"bptt\"\nrates = { readout = 0.03, recurrent = 0.02, input = 0.01 }")
            .unwrap();
    assert_eq!(table, RuleSpec::bptt(mixed()));
    // Serialised: a number when the three are equal, else the table.
    assert_eq!(
        toml::to_string(&RuleSpec::rtrl(0.25)).unwrap(),
        "name = \"rtrl\"\nrates = 0.25\n"
    );
    let text = toml::to_string(&RuleSpec::rtrl(mixed())).unwrap();
    assert!(text.contains("readout = 0.03"), "{text}");
    assert!(text.contains("input = 0.01"), "{text}");
    // Defaults are not written; options are.
    let traces = RuleSpec::LocalSymmetric {
        rates: LearningRates::uniform(0.1),
        trial_end_form: TrialEndForm::Traces,
        online_form: OnlineForm::Auto,
    };
    assert_eq!(
        toml::to_string(&traces).unwrap(),
        "name = \"local_symmetric\"\nrates = 0.1\ntrial_end_form = \"traces\"\n"
    );
    // A table must be complete and have only the three rates.
    let err = parse("name = \"rflo\"\nrates = { readout = 0.1, recurrent = 0.1 }").unwrap_err();
    assert!(err.to_string().contains("missing field `input`"), "{err}");
    let err =
        parse("name = \"rflo\"\nrates = { readout = 0.1, recurrent = 0.1, input = 0.1, eta4 = 1 }")
            .unwrap_err();
    assert!(err.to_string().contains("eta4"), "{err}");
    let err = parse("name = \"rflo\"\nrates = \"fast\"").unwrap_err();
    assert!(err.to_string().contains("one number"), "{err}");
}

#[test]
fn options_read_from_toml() {
    let spec = parse(
        "name = \"rflo\"\nrates = 0.1\nprojection = \"readout\"\n\
         trial_end_form = \"traces\"\nonline_form = \"low_rank\"",
    )
    .unwrap();
    assert_eq!(
        spec,
        RuleSpec::Rflo {
            rates: LearningRates::uniform(0.1),
            projection: Projection::Readout,
            trial_end_form: TrialEndForm::Traces,
            online_form: OnlineForm::LowRank,
        }
    );
    let spec = parse("name = \"nonlocal_random\"\nrates = 0.1\nform = \"rtrl\"").unwrap();
    assert_eq!(
        spec,
        RuleSpec::NonlocalRandom {
            rates: LearningRates::uniform(0.1),
            form: NonlocalForm::Rtrl,
        }
    );
    let spec =
        parse("name = \"bptt\"\nrates = 0.1\nprojection = { custom = [[1.0, 2.0], [3.0, 4.5]] }")
            .unwrap();
    let RuleSpec::Bptt {
        projection: Projection::Custom(f),
        ..
    } = spec
    else {
        panic!("{spec:?}");
    };
    assert_eq!((f.nrows(), f.ncols(), f[(1, 1)]), (2, 2, 4.5));
    let err = parse("name = \"bptt\"\nrates = 0.1\nprojection = { custom = [[1.0, 2.0], [3.0]] }")
        .unwrap_err();
    assert!(err.to_string().contains("row 1 has 1 entries"), "{err}");
}

#[test]
fn unknown_fields_names_and_values_are_clear_errors() {
    let err = parse("name = \"rflo\"\nrates = 0.1\nlearning_rate = 0.1").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `learning_rate`"),
        "{err}"
    );
    // A field of another rule is unknown too.
    let err = parse("name = \"bptt\"\nrates = 0.1\ntrial_end_form = \"traces\"").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `trial_end_form`"),
        "{err}"
    );
    let err = parse("name = \"adam\"\nrates = 0.1").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("unknown variant `adam`"), "{message}");
    assert!(
        message.contains("rflo") && message.contains("nonlocal_random"),
        "{message}"
    );
    let err = parse("name = \"rflo\"\nrates = 0.1\ntrial_end_form = \"online\"").unwrap_err();
    assert!(
        err.to_string().contains("unknown variant `online`"),
        "{err}"
    );
    let err = parse("name = \"rflo\"").unwrap_err();
    assert!(err.to_string().contains("missing field `rates`"), "{err}");
    let err = parse("rates = 0.1").unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
}

#[test]
fn build_refuses_invalid_rates_and_projections_without_panicking() {
    let bad = [
        LearningRates::uniform(-0.1),
        LearningRates::uniform(f64::NAN),
        LearningRates::uniform(f64::INFINITY),
        LearningRates {
            input: -1.0,
            ..mixed()
        },
    ];
    for rates in bad {
        for spec in RuleSpec::every_form(rates) {
            let err = spec.build().unwrap_err();
            assert!(
                matches!(err, LearnError::InvalidConfig { .. }),
                "{spec:?}: {err}"
            );
        }
    }
    // TOML can spell a NaN rate; build refuses it.
    let spec = parse("name = \"rtrl\"\nrates = nan").unwrap();
    assert!(spec.build().is_err());
    let nan_projection = RuleSpec::Bptt {
        rates: mixed(),
        projection: Projection::Custom(Mat::from_fn(2, 1, |_, _| f64::NAN)),
    };
    assert!(matches!(
        nan_projection.build(),
        Err(LearnError::InvalidConfig { .. })
    ));
}

fn network() -> Network {
    Network::random(&NetworkConfig::new(7, 2, 1).with_tau(3.0), &mut seeded(31)).unwrap()
}

fn task() -> TrialCycle {
    common::carry_over_cycle(32, 2, 11)
}

fn run<R: LearningRule>(rule: R, schedule: Schedule) -> (Network, History) {
    let mut net = network();
    let config = TrainingConfig::default()
        .with_n_trials(6)
        .with_schedule(schedule)
        .with_gradient_alignment_every(2);
    let history = train(&mut net, rule, &mut task(), &config).unwrap();
    (net, history)
}

fn bits(net: &Network, history: &History) -> Vec<u64> {
    let w = net.weights();
    [&w.recurrent, &w.input, &w.readout]
        .iter()
        .flat_map(|m| (0..m.ncols()).flat_map(move |j| (0..m.nrows()).map(move |i| m[(i, j)])))
        .chain(history.loss.iter().copied())
        .chain(history.gradient_alignment.iter().map(|p| p.cosine))
        .map(f64::to_bits)
        .collect()
}

/// Runs the spec (as an `AnyRule`) and the concrete rule it names, on both
/// schedules the rule supports, and demands bit-identical weights and history.
fn assert_same<R: LearningRule + Clone>(spec: RuleSpec, concrete: R, online: bool) {
    let schedules: &[Schedule] = if online {
        &[Schedule::PerTrial, Schedule::Online]
    } else {
        &[Schedule::PerTrial]
    };
    for &schedule in schedules {
        let (a_net, a_history) = run(spec.build().unwrap(), schedule);
        let (c_net, c_history) = run(concrete.clone(), schedule);
        assert_eq!(
            bits(&a_net, &a_history),
            bits(&c_net, &c_history),
            "{spec:?} {schedule:?}"
        );
    }
}

#[test]
fn any_rule_is_bit_identical_to_the_concrete_rule() {
    let r = mixed();
    let custom = Projection::Custom(Mat::from_fn(7, 1, |i, _| 0.1 * i as f64 - 0.3));
    for (trial_end_form, online_form) in [
        (TrialEndForm::Batched, OnlineForm::Auto),
        (TrialEndForm::Traces, OnlineForm::Trace),
        (TrialEndForm::Batched, OnlineForm::LowRank),
    ] {
        let spec = RuleSpec::Rflo {
            rates: r,
            projection: Projection::Feedback,
            trial_end_form,
            online_form,
        };
        let rflo = Rflo::new(r)
            .unwrap()
            .with_trial_end_form(trial_end_form)
            .with_online_form(online_form);
        assert_same(spec, rflo, true);
        let spec = RuleSpec::LocalSymmetric {
            rates: r,
            trial_end_form,
            online_form,
        };
        let local = LocalSymmetric::new(r)
            .unwrap()
            .with_trial_end_form(trial_end_form)
            .with_online_form(online_form);
        assert_same(spec, local, true);
    }
    assert_same(RuleSpec::bptt(r), Bptt::new(r).unwrap(), false);
    let spec = RuleSpec::Bptt {
        rates: r,
        projection: custom.clone(),
    };
    assert_same(
        spec,
        Bptt::with_projection(r, custom.clone()).unwrap(),
        false,
    );
    assert_same(RuleSpec::rtrl(r), Rtrl::new(r).unwrap(), true);
    let spec = RuleSpec::Rtrl {
        rates: r,
        projection: Projection::Feedback,
    };
    assert_same(
        spec,
        Rtrl::with_projection(r, Projection::Feedback).unwrap(),
        true,
    );
    for form in [NonlocalForm::Bptt, NonlocalForm::Rtrl] {
        let spec = RuleSpec::NonlocalRandom { rates: r, form };
        assert_same(spec, NonlocalRandom::new(r).unwrap().with_form(form), true);
    }
}

/// The comparison above has teeth: the two trial-end forms of RFLO agree
/// only to rounding, so a spec that dropped its form would be caught.
#[test]
fn forms_differ_in_the_last_bits() {
    let r = mixed();
    let batched = run(Rflo::new(r).unwrap(), Schedule::PerTrial);
    let traces = run(
        Rflo::new(r)
            .unwrap()
            .with_trial_end_form(TrialEndForm::Traces),
        Schedule::PerTrial,
    );
    assert_ne!(bits(&batched.0, &batched.1), bits(&traces.0, &traces.1));
}

#[test]
fn a_checkpoint_of_a_spec_built_rule_resumes_with_the_concrete_rule() {
    let mut net = network();
    let config = TrainingConfig::default()
        .with_n_trials(4)
        .with_max_loss_ratio(None);
    let mut trainer = Trainer::new(
        RuleSpec::rflo(0.1).build().unwrap(),
        &mut net,
        config.clone(),
    )
    .unwrap();
    let mut source = task();
    trainer.train_trial(&mut net, &mut source).unwrap();
    let checkpoint = trainer.checkpoint(&net);
    assert_eq!(checkpoint.config().max_loss_ratio, None);
    let rflo = Rflo::new(LearningRates::uniform(0.1)).unwrap();
    Trainer::resume(rflo, config, &checkpoint, &mut task()).unwrap();
}

#[test]
fn training_config_reads_partial_toml_and_round_trips() {
    let config: TrainingConfig = toml::from_str("n_trials = 50\nseed = 3").unwrap();
    assert_eq!(
        config,
        TrainingConfig::default().with_n_trials(50).with_seed(3)
    );
    let config: TrainingConfig = toml::from_str(
        "schedule = { every_k = 10 }\nmax_loss_ratio = 100\n\
         [constraints]\nfrozen = { readout = true }\ndale = {}",
    )
    .unwrap();
    assert_eq!(config.schedule, Schedule::EveryK(10));
    assert_eq!(config.max_loss_ratio, Some(100.0));
    assert!(config.constraints.frozen.readout && !config.constraints.frozen.recurrent);
    assert_eq!(config.constraints.dale.unwrap().excitatory_fraction, 0.5);
    let err = toml::from_str::<TrainingConfig>("n_trial = 50").unwrap_err();
    assert!(err.to_string().contains("unknown field `n_trial`"), "{err}");

    for config in [
        TrainingConfig::default(),
        TrainingConfig::default()
            .with_schedule(Schedule::Online)
            .with_gradient_alignment_every(5)
            .with_max_loss_ratio(None),
        TrainingConfig::default()
            .with_schedule(Schedule::EveryK(3))
            .with_max_loss_ratio(Some(12.5)),
    ] {
        let text = toml::to_string(&config).unwrap();
        assert_eq!(
            toml::from_str::<TrainingConfig>(&text).unwrap(),
            config,
            "{text}"
        );
        let json = serde_json::to_string(&config).unwrap();
        let back: TrainingConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config, "{json}");
    }
    let unbounded: TrainingConfig = toml::from_str("max_loss_ratio = inf").unwrap();
    assert_eq!(unbounded.max_loss_ratio, None);
}

/// `compare_rules`: every registered rule on one trajectory; the cosine
/// matrix is symmetric with a unit diagonal (0 for FORCE, which changes
/// neither `W` nor `W_in`), and the exact rules agree (BPTT, RTRL: cosine 1).
#[test]
fn compare_rules_gives_every_update_and_their_cosines() {
    let case = common::random_case(common::CaseSpec::small(3, 2.0, false));
    let specs = RuleSpec::every_form(mixed());
    let cmp = rnn_learn::compare_rules(&case.net, &case.trial, &case.start, &specs).unwrap();
    assert_eq!(cmp.labels.len(), specs.len());
    let k = specs.len();
    for i in 0..k {
        let unit = if cmp.labels[i] == "FORCE" { 0.0 } else { 1.0 };
        assert!(
            (cmp.cosine[(i, i)] - unit).abs() < 1e-12,
            "{}",
            cmp.labels[i]
        );
        for j in 0..k {
            assert_eq!(cmp.cosine[(i, j)].to_bits(), cmp.cosine[(j, i)].to_bits());
        }
    }
    let at = |label: &str| cmp.labels.iter().position(|l| *l == label).unwrap();
    assert!((cmp.cosine[(at("BPTT"), at("RTRL"))] - 1.0).abs() < 1e-12);
    assert!(cmp.cosine[(at("BPTT"), at("SnAp-1"))] > 0.0);
}

/// `mean_gradient_alignment`: exact rules give 1 (BPTT, and RTRL, which
/// equals it); one spec gives that rule's cosine with the exact `dW`; two
/// UORO draws give the cosine of the sum of their updates with the exact
/// `dW`, computed here from `compare_rules`' updates by the definition.
#[test]
fn mean_gradient_alignment_is_the_cosine_of_the_summed_updates() {
    let case = common::random_case(common::CaseSpec::small(3, 2.0, false));
    let rates = LearningRates::uniform(0.01);
    let align = |specs: &[RuleSpec]| {
        rnn_learn::mean_gradient_alignment(&case.net, &case.trial, &case.start, specs).unwrap()
    };
    assert!((align(&[RuleSpec::bptt(rates)]) - 1.0).abs() < 1e-12);
    assert!((align(&[RuleSpec::rtrl(rates), RuleSpec::rtrl(rates)]) - 1.0).abs() < 1e-12);
    let draws = [0, 1].map(|seed| RuleSpec::Uoro {
        rates,
        projection: Projection::Readout,
        seed,
    });
    let mut specs = vec![RuleSpec::bptt(rates), RuleSpec::rflo(rates)];
    specs.extend(draws.clone());
    let cmp = rnn_learn::compare_rules(&case.net, &case.trial, &case.start, &specs).unwrap();
    let exact = &cmp.updates[0].recurrent;
    let rflo = rnn_learn::cosine(cmp.updates[1].recurrent.as_ref(), exact.as_ref());
    assert!((align(&specs[1..2]) - rflo).abs() < 1e-12);
    let sum = &cmp.updates[2].recurrent + &cmp.updates[3].recurrent;
    let dot = rnn_learn::frobenius_dot(sum.as_ref(), exact.as_ref());
    let norms = (rnn_learn::frobenius_dot(sum.as_ref(), sum.as_ref())
        * rnn_learn::frobenius_dot(exact.as_ref(), exact.as_ref()))
    .sqrt();
    assert!((align(&draws) - dot / norms).abs() < 1e-12);
    // The two draws differ (different seeds), so the sum is not either draw.
    let one = rnn_learn::cosine(cmp.updates[2].recurrent.as_ref(), exact.as_ref());
    assert!((align(&draws) - one).abs() > 1e-9);
}
