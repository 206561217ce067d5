//! The experiment layer: specs as data, grids, the store, the runner's
//! determinism and resumption, divergence as a result.

use std::path::PathBuf;

use rnn_experiment::{
    Axis, ExperimentError, Grid, GridFile, RunSpec, Runner, RunsTable, Store, best_by, run,
};

fn spec(text: &str) -> RunSpec {
    RunSpec::from_toml(text).unwrap()
}

fn small() -> RunSpec {
    spec(
        r#"
        seed = 3
        network = { n_units = 12 }
        task = { name = "periodic", period = 40 }
        rule = { name = "rflo", rates = 0.05 }
        training = { n_trials = 60 }
        "#,
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnn-experiment-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn toml_round_trip_keeps_the_key() {
    let a = small();
    let text = a.to_toml().unwrap();
    let b = RunSpec::from_toml(&text).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.key(), b.key());
    let mut c = a.clone();
    c.training = c.training.clone().with_n_trials(61);
    assert_ne!(
        a.key(),
        c.key(),
        "a different spec must have a different key"
    );
    let mut d = a.clone();
    d.seed = 4;
    assert_ne!(a.key(), d.key());
}

#[test]
fn unknown_fields_are_errors() {
    let err = RunSpec::from_toml(
        r#"
        task = { name = "periodic", period = 40 }
        rule = { name = "rflo", rates = 0.05 }
        netwrok = { n_units = 12 }
        "#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("netwrok"), "{err}");
}

#[test]
fn network_is_paired_across_rules_and_rates() {
    let a = small();
    let mut b = a.clone();
    b.rule = rnn_learn::RuleSpec::bptt(rnn_learn::LearningRates::uniform(0.01));
    assert_eq!(a.initial_network().unwrap(), b.initial_network().unwrap());
    let mut c = a.clone();
    c.seed += 1;
    assert_ne!(a.initial_network().unwrap(), c.initial_network().unwrap());
}

#[test]
fn a_run_learns_and_its_evaluation_matches_the_network() {
    let s = small();
    let record = run(&s).unwrap();
    assert!(record.completed());
    assert_eq!(record.history.loss.len(), 60);
    assert!(record.final_loss < record.initial_loss);
    // The final loss is the trained network's loss on the evaluation trial.
    assert_eq!(
        record.final_loss,
        rnn_experiment::evaluate(&s, &record.network).unwrap()
    );
    assert_eq!(
        record.initial_loss,
        rnn_experiment::evaluate(&s, &s.initial_network().unwrap()).unwrap()
    );
}

#[test]
fn a_diverging_run_is_a_result_with_its_partial_history() {
    let mut s = small();
    s.rule = s
        .rule
        .clone()
        .with_rates(rnn_learn::LearningRates::uniform(1e6));
    let record = run(&s).unwrap();
    let failure = record.failure.clone().expect("eta = 1e6 must diverge");
    let trial = failure.trial.expect("divergence during training");
    assert!(trial < 60);
    assert_eq!(record.history.loss.len(), trial + 1);
    assert_eq!(record.final_loss_or_inf(), f64::INFINITY);
}

#[test]
fn grids_expand_in_order_zipped_within_and_multiplied_across_axes() {
    let file = GridFile::from_toml(
        r#"
        [[grid]]
        name = "g"
        [grid.base]
        network = { n_units = 8 }
        task = { name = "periodic", period = 20 }
        rule = { name = "rflo", rates = 0.01 }
        [[grid.axis]]
        "task.period" = [20, 30]
        "rule.rates" = [0.01, 0.02]
        [[grid.axis]]
        seed = [0, 1, 2]
        "#,
    )
    .unwrap();
    let points = file.points().unwrap();
    assert_eq!(points.len(), 6);
    let got: Vec<(f64, u64)> = points
        .iter()
        .map(|p| (p.spec.rule.rates().recurrent, p.spec.seed))
        .collect();
    assert_eq!(
        got,
        vec![
            (0.01, 0),
            (0.01, 1),
            (0.01, 2),
            (0.02, 0),
            (0.02, 1),
            (0.02, 2)
        ]
    );
    assert!(points.iter().all(|p| p.spec.task.steps_per_trial().unwrap()
        == if p.spec.rule.rates().recurrent == 0.01 {
            20
        } else {
            30
        }));
    // Printed and read back, the file gives the same runs.
    let again = GridFile::from_toml(&file.to_toml().unwrap()).unwrap();
    assert_eq!(again.points().unwrap(), points);
}

#[test]
fn bad_grids_are_refused_with_the_reason() {
    let uneven = r#"
        [[grid]]
        name = "g"
        [grid.base]
        task = { name = "periodic" }
        rule = { name = "rflo", rates = 0.01 }
        [[grid.axis]]
        seed = [0, 1]
        "rule.rates" = [0.01]
    "#;
    let err = GridFile::from_toml(uneven).unwrap().points().unwrap_err();
    assert!(err.to_string().contains("one length"), "{err}");
    let bad_value = r#"
        [[grid]]
        name = "g"
        [grid.base]
        task = { name = "periodic" }
        rule = { name = "rflo", rates = 0.01 }
        [[grid.axis]]
        "network.n_units" = [0]
    "#;
    let err = GridFile::from_toml(bad_value)
        .unwrap()
        .points()
        .unwrap_err();
    assert!(matches!(err, ExperimentError::Grid(_)), "{err}");
}

#[test]
fn the_store_returns_what_was_put_and_refuses_another_spec() {
    let dir = temp_dir("store");
    let store = Store::open(&dir).unwrap();
    let s = small();
    assert!(store.get(&s).unwrap().is_none());
    let record = run(&s).unwrap();
    store.put(&s, &record).unwrap();
    assert_eq!(store.get(&s).unwrap().unwrap(), record);
    // Plant another spec's record under this key: refused, not taken.
    let mut other = s.clone();
    other.seed = 99;
    let planted = dir.join("runs").join(format!("{}.run", other.key()));
    std::fs::copy(dir.join("runs").join(format!("{}.run", s.key())), &planted).unwrap();
    assert!(store.get(&other).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

fn three_specs() -> Vec<RunSpec> {
    let grid = Grid::new("g", &small())
        .unwrap()
        .axis(Axis::new("seed", [0i64, 1, 2]));
    grid.points().unwrap().into_iter().map(|p| p.spec).collect()
}

#[test]
fn results_do_not_depend_on_threads_and_repeats_are_cache_hits() {
    let specs = three_specs();
    let one = Runner::new().run_all(&specs).unwrap();
    let two = Runner::new().with_threads(2).run_all(&specs).unwrap();
    assert_eq!(one, two);
    let direct: Vec<_> = specs.iter().map(|s| run(s).unwrap()).collect();
    assert!(one.iter().zip(&direct).all(|(a, b)| **a == *b));

    let dir = temp_dir("cache");
    let runner = Runner::new().with_store(Store::open(&dir).unwrap());
    runner.run_all(&specs).unwrap();
    let fresh = Runner::new().with_store(Store::open(&dir).unwrap());
    assert!(
        fresh.pending(&specs).unwrap().is_empty(),
        "a rerun is a cache hit"
    );
    assert_eq!(fresh.run_all(&specs).unwrap(), one);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_interrupted_runner_resumes_to_the_same_bits() {
    let specs = three_specs();
    let uninterrupted = Runner::new().run_all(&specs).unwrap();
    let dir = temp_dir("resume");
    // Stop mid-way through the second run (60 trials each), checkpointing every 7 trials.
    let killed = Runner::new()
        .with_store(Store::open(&dir).unwrap())
        .with_checkpoint_every(7)
        .with_trial_budget(90);
    assert!(matches!(
        killed.run_all(&specs),
        Err(ExperimentError::Interrupted)
    ));
    let store = Store::open(&dir).unwrap();
    assert!(store.checkpoint_path(specs[1].key()).exists());
    let resumed = Runner::new().with_store(store).run_all(&specs).unwrap();
    assert_eq!(resumed, uninterrupted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runs_tables_round_trip_merge_and_pick_the_best_rate() {
    let file = GridFile {
        grids: vec![
            Grid::new("g", &small())
                .unwrap()
                .axis(Axis::new("rule.rates", [0.01, 0.05, 1e6]))
                .axis(Axis::new("seed", [0i64, 1])),
        ],
    };
    let points = file.points().unwrap();
    let specs: Vec<_> = points.iter().map(|p| p.spec.clone()).collect();
    let records = Runner::new().with_threads(2).run_all(&specs).unwrap();
    let paths = RunsTable::axis_paths(&points);
    let all = RunsTable::new(
        &paths,
        &points.iter().collect::<Vec<_>>(),
        &records.iter().map(|r| r.as_ref()).collect::<Vec<_>>(),
    );
    let text = all.to_csv().unwrap();
    assert_eq!(RunsTable::from_csv(&text).unwrap().to_csv().unwrap(), text);
    // Two shards merge into the unsharded table.
    let shard = |k: usize| {
        let idx: Vec<usize> = (0..points.len()).filter(|i| i % 2 == k).collect();
        RunsTable::new(
            &paths,
            &idx.iter().map(|&i| &points[i]).collect::<Vec<_>>(),
            &idx.iter().map(|&i| records[i].as_ref()).collect::<Vec<_>>(),
        )
    };
    let merged = RunsTable::merge(&[shard(1), shard(0)]).unwrap();
    assert_eq!(merged.to_csv().unwrap(), text);
    // The best rate has the lowest median final loss; 1e6 diverges and cannot win.
    let best = best_by(&merged, "rule.rates").unwrap();
    assert_eq!(best.len(), 1);
    let medians: Vec<f64> = best[0].candidates.iter().map(|(_, s)| s.median).collect();
    assert_eq!(medians[2], f64::INFINITY);
    let lowest = if medians[0] <= medians[1] { 0 } else { 1 };
    assert_eq!(
        best[0].best.as_deref(),
        Some(best[0].candidates[lowest].0.as_str())
    );
}

/// `evaluate` (trials that do not carry over run batched) gives the bits
/// of `evaluate_sequential` (one trial at a time, the definition) for every
/// built-in task — the reach task carries the state over from its second
/// trial on, the others do not — on the initial network, on a trained one,
/// with a trial count that is not a multiple of the batch, and on a network
/// whose evaluation diverges (`+inf`).
#[test]
fn batched_evaluation_equals_one_trial_at_a_time() {
    for task in rnn_tasks::TaskSpec::every_task() {
        let mut s = small();
        s.task = task;
        s.training = s.training.clone().with_n_trials(12);
        // The reach task's given start state has 100 units.
        s.network.n_units = 100;
        for trials in [1, 3, 10, 23] {
            s.evaluation.trials = trials;
            let initial = s.initial_network().unwrap();
            let trained = run(&s).unwrap().network;
            let mut blown = initial.clone();
            blown.weights_mut().readout.fill(1e200);
            for (what, net) in [
                ("initial", &initial),
                ("trained", &trained),
                ("blown", &blown),
            ] {
                let got = rnn_experiment::evaluate(&s, net).unwrap();
                let want = rnn_experiment::run::evaluate_sequential(&s, net).unwrap();
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{} {what}, {trials} trials",
                    s.task.name()
                );
            }
            assert_eq!(
                rnn_experiment::evaluate(&s, &blown).unwrap(),
                f64::INFINITY,
                "{}",
                s.task.name()
            );
        }
    }
}
