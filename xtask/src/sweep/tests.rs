//! Tests of `cargo xtask sweep`: sharding, kill-and-resume, refusals.

use std::path::{Path, PathBuf};

use super::csv::{self, HEADER};
use super::grid::Sweep;
use super::merge::{BEST_HEADER, median};
use super::*;

/// The tiny grid of the tests: 2 rules × 2 etas × 2 seeds, N = 8, T = 20, 30 trials.
const TINY: &str = r#"
rules = ["rflo", "bptt"]
tasks = ["periodic"]
eta = [1e-3, 3e-2]
seeds = 2
n_units = [8]
period = [20]
trials = 30
"#;

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-sweep-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_sweep(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("sweep-file.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn options(file: &Path, out: &Path, shard: &str) -> RunOptions {
    RunOptions {
        sweep_file: file.to_path_buf(),
        out: out.to_path_buf(),
        shard: shard.parse().unwrap(),
        checkpoint_every: None,
        resume: false,
        threads: Some(1),
        quiet: true,
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// One unsharded run of the tiny grid; its table.
fn unsharded(name: &str) -> (PathBuf, String) {
    let dir = scratch(name);
    let file = write_sweep(&dir, TINY);
    let out = dir.join("out");
    let summary = run_sweep(&options(&file, &out, "1/1"), &Limits::default()).unwrap();
    assert_eq!(summary.ran, 8);
    (file, read(&summary.csv))
}

#[test]
fn sharded_then_merged_equals_unsharded_byte_for_byte() {
    let (file, whole) = unsharded("whole-a");
    assert!(whole.starts_with(&format!("{HEADER}\n")));
    assert_eq!(whole.lines().count(), 1 + 8);
    assert!(whole.lines().skip(1).all(|l| l.ends_with(",ok")), "{whole}");

    let dir = scratch("sharded");
    let out = dir.join("out");
    let mut sizes = Vec::new();
    for i in 1..=3 {
        let mut o = options(&file, &out, &format!("{i}/3"));
        // Thread count must not matter.
        o.threads = Some(if i == 2 { 2 } else { 1 });
        let s = run_sweep(&o, &Limits::default()).unwrap();
        assert_eq!(s.csv, out.join(format!("shard-{i}-of-3.csv")));
        sizes.push(s.ran);
    }
    assert_eq!(sizes, vec![3, 3, 2], "round-robin slices of 8 points");
    // Each shard holds its own grid indices only.
    let shard2 = csv::read(&out.join("shard-2-of-3.csv")).unwrap();
    let indices: Vec<usize> = shard2.iter().map(|r| r.point.index).collect();
    assert_eq!(indices, vec![1, 4, 7]);

    let report = merge(&MergeOptions {
        inputs: vec![out.clone()],
        out: None,
    })
    .unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.table, out.join("merged.csv"));
    assert_eq!(read(&report.table), whole);

    // Merging explicit files in any order gives the same bytes too.
    let merged2 = dir.join("again.csv");
    merge(&MergeOptions {
        inputs: (1..=3)
            .rev()
            .map(|i| out.join(format!("shard-{i}-of-3.csv")))
            .collect(),
        out: Some(merged2.clone()),
    })
    .unwrap();
    assert_eq!(read(&merged2), whole);

    // The best-eta table: 2 conditions × 2 etas, one best per condition.
    let best = read(&report.best);
    assert!(best.starts_with(BEST_HEADER));
    assert_eq!(best.lines().count(), 1 + 4);
    assert_eq!(best.lines().filter(|l| l.ends_with(",yes")).count(), 2);
    assert!(report.text.contains("rflo periodic N=8 T=20: best eta ="));
}

#[test]
fn kill_and_resume_gives_the_same_bytes() {
    let (file, whole) = unsharded("whole-b");
    let dir = scratch("resume");
    let out = dir.join("out");
    let mut o = options(&file, &out, "1/1");
    o.checkpoint_every = Some(7);

    // "Killed" after 3 grid points.
    let s = run_sweep(
        &o,
        &Limits {
            max_points: Some(3),
            max_trials: None,
        },
    )
    .unwrap();
    assert_eq!((s.ran, s.interrupted), (3, 5));
    assert_eq!(read(&s.csv).lines().count(), 1 + 3);

    // Without --resume the existing table is refused.
    let err = run_sweep(&o, &Limits::default()).unwrap_err().to_string();
    assert!(err.contains("--resume"), "{err}");

    // Resumed, then "killed" again in the middle of every remaining point:
    // at trial 17, between the checkpoints at 14 and 21.
    o.resume = true;
    let s = run_sweep(
        &o,
        &Limits {
            max_points: None,
            max_trials: Some(17),
        },
    )
    .unwrap();
    assert_eq!((s.ran, s.skipped, s.interrupted), (0, 3, 5));
    for index in 3..8 {
        let ckpt = out.join("checkpoints").join(format!("{index}.ckpt"));
        let saved = rnn_learn::Checkpoint::load(&ckpt).unwrap();
        assert_eq!(saved.trials_done(), 14, "checkpoint of point {index}");
    }

    // Resumed to the end, with 2 threads: the same bytes as uninterrupted.
    o.threads = Some(2);
    let s = run_sweep(&o, &Limits::default()).unwrap();
    assert_eq!((s.ran, s.skipped), (5, 3));
    assert_eq!(read(&s.csv), whole);
    // Finished points leave no checkpoint behind.
    let left = std::fs::read_dir(out.join("checkpoints")).unwrap().count();
    assert_eq!(left, 0);

    // A second resume of a finished shard does nothing and changes nothing.
    let s = run_sweep(&o, &Limits::default()).unwrap();
    assert_eq!((s.ran, s.skipped), (0, 8));
    assert_eq!(read(&s.csv), whole);
}

#[test]
fn a_checkpoint_of_another_grid_point_is_refused() {
    let dir = scratch("foreign-ckpt");
    let file = write_sweep(&dir, TINY);
    let out = dir.join("out");
    let mut o = options(&file, &out, "1/1");
    o.checkpoint_every = Some(5);
    let limits = Limits {
        max_points: Some(2),
        max_trials: Some(12),
    };
    run_sweep(&o, &limits).unwrap();
    let ckpts = out.join("checkpoints");
    // Swap the labels of points 0 and 1: the checkpoint of 0 is not 1's.
    std::fs::rename(ckpts.join("0.ckpt"), ckpts.join("tmp.ckpt")).unwrap();
    std::fs::rename(ckpts.join("1.ckpt"), ckpts.join("0.ckpt")).unwrap();
    std::fs::rename(ckpts.join("tmp.ckpt"), ckpts.join("1.ckpt")).unwrap();
    o.resume = true;
    let err = run_sweep(&o, &Limits::default()).unwrap_err().to_string();
    assert!(err.contains("cannot resume"), "{err}");
}

#[test]
fn another_sweep_in_the_same_folder_is_refused() {
    let dir = scratch("other-sweep");
    let file = write_sweep(&dir, TINY);
    let out = dir.join("out");
    run_sweep(
        &options(&file, &out, "2/3"),
        &Limits {
            max_points: Some(0),
            max_trials: None,
        },
    )
    .unwrap();
    let other = dir.join("other.toml");
    std::fs::write(&other, TINY.replace("trials = 30", "trials = 31")).unwrap();
    let err = run_sweep(&options(&other, &out, "1/3"), &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds another sweep"), "{err}");
}

fn parse_err(text: &str) -> String {
    Sweep::parse(text, Path::new("bad.toml"))
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_sweep_files_are_refused_with_a_clear_message() {
    let err = parse_err(&TINY.replace(r#""bptt""#, r#""bpt""#));
    assert!(err.contains("unknown rule `bpt`"), "{err}");
    assert!(
        err.contains("rflo, bptt, rtrl"),
        "lists the known rules: {err}"
    );

    let err = parse_err(&TINY.replace(r#"["periodic"]"#, r#"["sine"]"#));
    assert!(err.contains("unknown task `sine`"), "{err}");

    let err = parse_err(&TINY.replace("eta = [1e-3, 3e-2]", "eta = []"));
    assert!(
        err.contains("the grid is empty") && err.contains("`eta`"),
        "{err}"
    );
    let err = parse_err(&TINY.replace("seeds = 2", "seeds = 0"));
    assert!(
        err.contains("the grid is empty") && err.contains("`seeds`"),
        "{err}"
    );
    let err = parse_err(&TINY.replace("rules = [\"rflo\", \"bptt\"]", "rules = []"));
    assert!(err.contains("`rules`"), "{err}");

    let err = parse_err(&TINY.replace("eta = [1e-3, 3e-2]", "eta = [1e-3, 1e-3]"));
    assert!(err.contains("twice"), "{err}");
    let err = parse_err(&TINY.replace("eta = [1e-3, 3e-2]", "eta = [-1e-3]"));
    assert!(err.contains("must be finite and > 0"), "{err}");
    let err = parse_err(&format!("{TINY}\nlearning_rate = 3\n"));
    assert!(err.contains("unknown field"), "{err}");
    let err = parse_err(&format!("{TINY}\nschedule = \"online\"\n"));
    assert!(err.contains("bptt") && err.contains("online"), "{err}");
    let err = parse_err(&TINY.replace("trials = 30", ""));
    assert!(err.contains("trials"), "{err}");

    // Through the runner: refused before anything is written.
    let dir = scratch("bad-file");
    let file = write_sweep(&dir, &TINY.replace("seeds = 2", "seeds = []"));
    let out = dir.join("out");
    let err = run_sweep(&options(&file, &out, "1/1"), &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("sweep file {}", file.display())),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn bad_shard_specs_are_refused_with_a_clear_message() {
    for (spec, says) in [
        ("3/2", "larger than the shard count 2"),
        ("0/0", "at least 1"),
        ("1/0", "at least 1"),
        ("a/b", "not a non-negative integer"),
        ("0/3", "1-based"),
        ("2", "expected `i/n`"),
        ("-1/3", "not a non-negative integer"),
    ] {
        let err = spec.parse::<ShardSpec>().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("bad shard spec `{spec}`")) && err.contains(says),
            "{spec}: {err}"
        );
    }
    let s: ShardSpec = " 2/3 ".parse().unwrap();
    assert_eq!((s.index, s.count), (2, 3));
    assert!(s.contains(1) && s.contains(4) && !s.contains(2));
    assert_eq!(ShardSpec::from_file_name("shard-2-of-3.csv"), Some(s));
    assert_eq!(ShardSpec::from_file_name("shard-4-of-3.csv"), None);
}

#[test]
fn the_grid_has_a_fixed_canonical_order() {
    let sweep = Sweep::parse(
        r#"
rules = ["bptt", "rflo"]
tasks = ["periodic", "ready-set-go"]
eta = [3e-2, 1e-3]
seeds = [5, 2]
n_units = [8, 4]
period = [20]
trials = 3
"#,
        Path::new("order.toml"),
    )
    .unwrap();
    let points = sweep.points();
    assert_eq!(points.len(), 32);
    assert!(points.iter().enumerate().all(|(i, p)| p.index == i));
    let first: Vec<String> = points[..5].iter().map(|p| p.to_string()).collect();
    assert_eq!(
        first,
        [
            "#0 bptt periodic N=8 T=20 eta=3e-2 seed=5",
            "#1 bptt periodic N=8 T=20 eta=3e-2 seed=2",
            "#2 bptt periodic N=8 T=20 eta=1e-3 seed=5",
            "#3 bptt periodic N=8 T=20 eta=1e-3 seed=2",
            "#4 bptt periodic N=4 T=20 eta=3e-2 seed=5",
        ]
    );
    assert_eq!(points[8].task.name(), "ready_set_go");
    assert_eq!(points[16].rule.name(), "rflo");
    // The canonical copy parses back to the same sweep.
    let again = Sweep::parse(&sweep.canonical(), Path::new("copy.toml")).unwrap();
    assert_eq!(again, sweep);
}

#[test]
fn diverged_runs_count_as_infinite_in_the_median() {
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&mut [1.0, f64::INFINITY, 2.0]), 2.0);
    assert_eq!(median(&mut [1.0, f64::INFINITY]), f64::INFINITY);

    // A real divergence: eta = 1e300 (absurd) blows BPTT up; the row says so and the
    // merge cannot pick that eta.
    let dir = scratch("diverge");
    let file = write_sweep(
        &dir,
        &TINY
            .replace("eta = [1e-3, 3e-2]", "eta = [1e300, 1e-3]")
            .replace(r#"["rflo", "bptt"]"#, r#"["bptt"]"#),
    );
    let out = dir.join("out");
    let s = run_sweep(&options(&file, &out, "1/1"), &Limits::default()).unwrap();
    let rows = csv::read(&s.csv).unwrap();
    assert_eq!(s.diverged, 2, "{rows:?}");
    for row in &rows[..2] {
        assert!(row.status.failed());
        assert_eq!(row.final_loss, f64::INFINITY);
        assert!(
            row.to_line().contains(",inf,diverged at "),
            "{}",
            row.to_line()
        );
    }
    let report = merge(&MergeOptions {
        inputs: vec![out],
        out: None,
    })
    .unwrap();
    assert!(report.text.contains("best eta = 1e-3"), "{}", report.text);
    let best = read(&report.best);
    assert!(best.contains("bptt,periodic,8,20,1e300,2,2,inf,"), "{best}");
}
