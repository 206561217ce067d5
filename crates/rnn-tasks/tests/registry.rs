//! The task registry: TOML round trips, defaults, clear errors, `build`
//! equal to direct construction, and the Files task.

use std::path::PathBuf;

use faer::Mat;
use rnn_core::export::{write_npy, write_npy_vector};
use rnn_core::{CoreError, InitialState, Trial, TrialSource, seeded};
use rnn_tasks::{
    FixedStart, Periodic, PeriodicConfig, ReachConfig, ReachSyllables, ReadySetGo,
    ReadySetGoConfig, TaskError, TaskSpec, TrialFiles, TrialLength, WholeSequence,
    WholeSequenceConfig,
};

/// A version-1.0 C-order float64 `.npy` file written by hand.
fn raw_npy(shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}), }}",
        dims.join(", ")
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rnn-tasks-registry-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every variant with non-default values in every field.
fn every_variant_changed() -> Vec<TaskSpec> {
    let shape = rnn_tasks::SyllableShape {
        syllable_len: 120,
        reach_len: 60,
        reach_length: 0.5,
        ..Default::default()
    };
    vec![
        TaskSpec::Periodic(PeriodicConfig {
            period: 400,
            start: FixedStart::Constant(0.25),
        }),
        TaskSpec::ReadySetGo(ReadySetGoConfig {
            sigma: 10.0,
            t_ready: 30,
            min_delay: 40,
            max_delay: 200,
            trial_length: TrialLength::Fixed(500),
            initial_value: 0.1,
        }),
        TaskSpec::Reach(ReachConfig {
            shape: shape.clone(),
            box_half_width: 1.5,
            exclude_repeats: false,
            start: [0.5, -0.5],
            first_initial_value: 0.2,
        }),
        TaskSpec::WholeSequence(WholeSequenceConfig {
            shape,
            sequence: vec![3, 2, 1],
            input_value: 0.5,
            start: FixedStart::Given(vec![0.1, -0.2, 0.3]),
        }),
        TaskSpec::Files(
            TrialFiles::new("y.npy")
                .with_inputs("x.npy")
                .with_mask("m.npy")
                .with_initial_state(InitialState::Given(vec![0.5, 1.0])),
        ),
        TaskSpec::Files(TrialFiles::new("/abs/y.npy").with_initial_state(InitialState::CarryOver)),
    ]
}

#[test]
fn every_task_round_trips_through_toml_and_json() {
    let mut specs = TaskSpec::every_task();
    specs.extend(every_variant_changed());
    for spec in specs {
        let text = toml::to_string(&spec).unwrap();
        assert!(
            text.contains(&format!("name = \"{}\"", spec.name())),
            "{text}"
        );
        let back: TaskSpec = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        assert_eq!(back, spec, "{text}");
        let json = serde_json_free_round_trip(&spec);
        assert_eq!(json, spec);
    }
}

/// A second self-describing format through toml's `Value` (no extra dependency).
fn serde_json_free_round_trip(spec: &TaskSpec) -> TaskSpec {
    let value = toml::Value::try_from(spec).unwrap();
    value.try_into().unwrap()
}

#[test]
fn every_task_lists_each_built_in_task_once_with_its_defaults() {
    let names: Vec<&str> = TaskSpec::every_task().iter().map(TaskSpec::name).collect();
    assert_eq!(
        names,
        ["periodic", "ready_set_go", "reach", "whole_sequence"]
    );
    for spec in TaskSpec::every_task() {
        // The bare name gives the same defaults.
        let bare: TaskSpec = toml::from_str(&format!("name = \"{}\"", spec.name())).unwrap();
        assert_eq!(bare, spec);
        spec.build(&mut seeded(0)).unwrap();
    }
}

#[test]
fn a_partial_table_takes_the_defaults() {
    let spec: TaskSpec = toml::from_str("name = \"ready_set_go\"\nmax_delay = 250").unwrap();
    assert_eq!(
        spec,
        TaskSpec::ReadySetGo(ReadySetGoConfig {
            max_delay: 250,
            ..ReadySetGoConfig::default()
        })
    );
    // Nested tables are partial too.
    let spec: TaskSpec = toml::from_str(
        "name = \"reach\"\nbox_half_width = 3\n[shape]\nsyllable_len = 100\nreach_len = 50",
    )
    .unwrap();
    let mut expected = ReachConfig {
        box_half_width: 3.0,
        ..ReachConfig::default()
    };
    expected.shape.syllable_len = 100;
    expected.shape.reach_len = 50;
    assert_eq!(spec, TaskSpec::Reach(expected));
    let spec: TaskSpec = toml::from_str(
        "name = \"whole_sequence\"\nsequence = [0, 1]\nstart = { uniform = { n_units = 30, half_width = 0.5 } }",
    )
    .unwrap();
    let TaskSpec::WholeSequence(c) = &spec else {
        panic!("{spec:?}")
    };
    assert_eq!(c.sequence, [0, 1]);
    assert_eq!(
        c.start,
        FixedStart::Uniform {
            n_units: 30,
            half_width: 0.5
        }
    );
    let spec: TaskSpec =
        toml::from_str("name = \"ready_set_go\"\ntrial_length = { fixed = 600 }").unwrap();
    assert_eq!(spec.steps_per_trial().unwrap(), 600);
    let spec: TaskSpec = toml::from_str("name = \"files\"\ntargets = \"y.npy\"").unwrap();
    assert_eq!(spec, TaskSpec::Files(TrialFiles::new("y.npy")));
}

#[test]
fn unknown_fields_and_unknown_names_are_clear_errors() {
    let err = toml::from_str::<TaskSpec>("name = \"periodic\"\nperiode = 400").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("unknown field `periode`") && msg.contains("period"),
        "{msg}"
    );

    let err = toml::from_str::<TaskSpec>("name = \"reach\"\n[shape]\nsylable_len = 3").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `sylable_len`"),
        "{err}"
    );

    let err = toml::from_str::<TaskSpec>("name = \"files\"\ntargets = \"y.npy\"\nmsak = \"m.npy\"")
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `msak`"), "{err}");

    let err = toml::from_str::<TaskSpec>("name = \"periodical\"").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("unknown variant `periodical`") && msg.contains("ready_set_go"),
        "{msg}"
    );

    let err = toml::from_str::<TaskSpec>("period = 200").unwrap_err();
    assert!(err.to_string().contains("missing field `name`"), "{err}");

    let err = toml::from_str::<TaskSpec>("name = \"files\"").unwrap_err();
    assert!(err.to_string().contains("missing field `targets`"), "{err}");

    let err = toml::from_str::<TaskSpec>(
        "name = \"files\"\ntargets = \"y.npy\"\ninitial_state = \"carry\"",
    )
    .unwrap_err();
    assert!(err.to_string().contains("carry_over"), "{err}");
}

fn bits(trial: &Trial) -> (Vec<u64>, InitialState) {
    let mut out = Vec::new();
    for s in 0..trial.len() {
        out.extend(trial.input_at(s).iter().map(|v| v.to_bits()));
        out.extend(trial.target_at(s).iter().map(|v| v.to_bits()));
    }
    (out, trial.initial_state().clone())
}

fn trials(source: &mut dyn TrialSource, seed: u64, n: usize) -> Vec<(Vec<u64>, InitialState)> {
    let mut rng = seeded(seed);
    (0..n)
        .map(|_| bits(&source.next_trial(&mut rng).unwrap()))
        .collect()
}

#[test]
fn build_gives_the_trials_of_direct_construction() {
    for spec in TaskSpec::every_task()
        .into_iter()
        .chain(every_variant_changed().into_iter().take(4))
    {
        let mut built = spec.build(&mut seeded(7)).unwrap();
        let mut direct: Box<dyn TrialSource> = match &spec {
            TaskSpec::Periodic(c) => Box::new(Periodic::new(c.clone(), &mut seeded(0)).unwrap()),
            TaskSpec::ReadySetGo(c) => Box::new(ReadySetGo::new(c.clone()).unwrap()),
            TaskSpec::Reach(c) => Box::new(ReachSyllables::new(c.clone()).unwrap()),
            TaskSpec::WholeSequence(c) => {
                Box::new(WholeSequence::new(c.clone(), &mut seeded(7)).unwrap())
            }
            other => panic!("not a built-in task: {other:?}"),
        };
        let a = trials(&mut *built, 3, 6);
        assert_eq!(a, trials(&mut *direct, 3, 6), "{}", spec.name());
        assert_eq!(
            (built.n_inputs(), built.n_outputs()),
            (spec.n_inputs().unwrap(), spec.n_outputs().unwrap())
        );
        let longest = {
            let mut fresh = spec.build(&mut seeded(7)).unwrap();
            let mut rng = seeded(3);
            (0..6)
                .map(|_| fresh.generate(&mut rng).unwrap().len())
                .max()
                .unwrap()
        };
        assert_eq!(spec.steps_per_trial().unwrap(), longest, "{}", spec.name());
    }
    // The construction generator matters where the task draws at construction.
    let spec = TaskSpec::every_task().pop().unwrap();
    let h0 = |seed| match spec
        .build(&mut seeded(seed))
        .unwrap()
        .generate(&mut seeded(0))
        .unwrap()
        .initial_state()
    {
        InitialState::Given(h0) => h0.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(h0(7), h0(7));
    assert_ne!(h0(7), h0(8));
}

#[test]
fn invalid_settings_are_task_errors_from_every_method() {
    let spec: TaskSpec =
        toml::from_str("name = \"ready_set_go\"\nmin_delay = 300\nmax_delay = 100").unwrap();
    assert!(matches!(
        spec.build(&mut seeded(0)),
        Err(TaskError::EmptyDelayRange { .. })
    ));
    assert!(matches!(
        spec.steps_per_trial(),
        Err(TaskError::EmptyDelayRange { .. })
    ));
    let spec: TaskSpec = toml::from_str("name = \"periodic\"\nperiod = 0").unwrap();
    assert!(matches!(
        spec.n_inputs(),
        Err(TaskError::Zero { field: "period" })
    ));
    assert!(matches!(
        spec.build(&mut seeded(0)),
        Err(TaskError::Zero { .. })
    ));
}

#[test]
fn the_files_task_cycles_the_trials_of_its_files() {
    let dir = temp_dir("cycle");
    let (k, t, nx, ny) = (3, 4, 2, 1);
    // K x T x N arrays, written as a numpy user would (C order).
    let write3 = |name: &str, n: usize, f: &dyn Fn(usize, usize, usize) -> f64| {
        let mut data = Vec::new();
        for m in 0..k {
            for s in 0..t {
                for j in 0..n {
                    data.extend_from_slice(&f(m, s, j).to_le_bytes());
                }
            }
        }
        std::fs::write(dir.join(name), raw_npy(&[k, t, n], &data)).unwrap();
    };
    write3("x.npy", nx, &|m, s, j| (100 * m + 10 * s + j) as f64);
    write3("y.npy", ny, &|m, s, _| -((10 * m + s) as f64));
    let toml_text =
        "name = \"files\"\ninputs = \"x.npy\"\ntargets = \"y.npy\"\ninitial_state = \"carry_over\"";
    let spec: TaskSpec = toml::from_str::<TaskSpec>(toml_text)
        .unwrap()
        .with_base_dir(&dir);
    assert_eq!(
        (
            spec.n_inputs().unwrap(),
            spec.n_outputs().unwrap(),
            spec.steps_per_trial().unwrap()
        ),
        (nx, ny, t)
    );
    let mut task = spec.build(&mut seeded(0)).unwrap();
    assert_eq!((task.n_inputs(), task.n_outputs()), (nx, ny));
    let mut rng = seeded(0);
    for round in 0..2 * k + 1 {
        let m = round % k;
        let trial = task.generate(&mut rng).unwrap();
        assert_eq!(trial.initial_state(), &InitialState::CarryOver);
        for s in 0..t {
            assert_eq!(
                trial.input_at(s),
                &[(100 * m + 10 * s) as f64, (100 * m + 10 * s + 1) as f64]
            );
            assert_eq!(trial.target_at(s), &[-((10 * m + s) as f64)]);
        }
    }
    task.reset();
    assert_eq!(task.generate(&mut rng).unwrap().target_at(1), &[-1.0]);

    // One trial from 2-D files, with a mask.
    write_npy(
        &dir.join("y2.npy"),
        Mat::from_fn(5, 2, |s, j| (s + j) as f64).as_ref(),
    )
    .unwrap();
    write_npy_vector(&dir.join("m.npy"), &[0.0, 1.0, 1.0, 1.0, 1.0]).unwrap();
    let spec = TaskSpec::Files(TrialFiles::new("y2.npy").with_mask("m.npy")).with_base_dir(&dir);
    let mut task = spec.build(&mut seeded(0)).unwrap();
    let first = task.generate(&mut rng).unwrap();
    assert_eq!(
        (first.n_inputs(), first.len(), first.mask_at(0)),
        (0, 5, 0.0)
    );
    assert_eq!(task.generate(&mut rng).unwrap(), first);
}

#[test]
fn the_files_task_rejects_bad_files_with_typed_errors() {
    let dir = temp_dir("bad");
    write_npy(&dir.join("y.npy"), Mat::<f64>::zeros(5, 1).as_ref()).unwrap();
    write_npy(&dir.join("x4.npy"), Mat::<f64>::zeros(4, 2).as_ref()).unwrap();
    write_npy_vector(&dir.join("v.npy"), &[0.0; 5]).unwrap();
    let mut nan = Mat::<f64>::zeros(5, 1);
    nan[(3, 0)] = f64::NAN;
    write_npy(&dir.join("nan.npy"), nan.as_ref()).unwrap();
    let core = |spec: TaskSpec| match spec.with_base_dir(&dir).build(&mut seeded(0)) {
        Err(TaskError::Core(e)) => e,
        Err(other) => panic!("expected a core error, got {other:?}"),
        Ok(_) => panic!("expected an error"),
    };
    let files = TrialFiles::new;
    assert!(matches!(
        core(
            files("x4.npy")
                .with_inputs("x4.npy")
                .with_mask("v.npy")
                .into()
        ),
        CoreError::NpyShape { .. }
    ));
    assert!(
        matches!(core(files("y.npy").with_inputs("x4.npy").into()), CoreError::NpyShape { path, .. } if path.ends_with("x4.npy"))
    );
    assert!(matches!(
        core(files("v.npy").into()),
        CoreError::NpyShape { .. }
    ));
    assert!(
        matches!(core(files("nan.npy").into()), CoreError::NpyNonFinite { index, .. } if index == [3, 0])
    );
    assert!(matches!(
        core(files("missing.npy").into()),
        CoreError::Io { .. }
    ));
    assert!(matches!(
        core(
            files("y.npy")
                .with_initial_state(InitialState::Constant(f64::INFINITY))
                .into()
        ),
        CoreError::NonFinite { .. }
    ));
    // The cheap size queries read headers and fail the same way on a bad rank.
    let spec: TaskSpec = TaskSpec::Files(files("v.npy")).with_base_dir(&dir);
    assert!(matches!(
        spec.n_outputs(),
        Err(TaskError::Core(CoreError::NpyShape { .. }))
    ));
}
