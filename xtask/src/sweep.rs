//! `cargo xtask sweep`: any grid file (format: `rnn_experiment::grid`,
//! example: `xtask/sweeps/example.toml`), split across machines, surviving kills.
//!
//! * `run FILE [--shard i/n]` trains the runs of shard `i` of `n` (run `g`
//!   belongs to shard `g % n + 1`; 1-based, e.g. `$SLURM_ARRAY_TASK_ID/16`)
//!   into the store (`DIR/store/`; a rerun is a cache hit, a killed run
//!   resumes from checkpoints saved every `--checkpoint-every` trials) and
//!   writes their runs table (`rnn_experiment::results`) to
//!   `DIR/shard-i-of-n.csv` (default `DIR`: `target/sweep/<file stem>/`).
//! * `merge DIR|FILES` writes the shards as one table sorted by run index,
//!   identical to an unsharded run's, and `<stem>-best.csv`: per group of runs
//!   that differ only in the axis `--best-by` (default `rule.rates`) and in
//!   replicate seeds, the value with the lowest median final loss (a failed
//!   run counts as `+inf`).

use std::path::PathBuf;

use clap::Subcommand;
use rnn_core::io::write_atomic;
use rnn_experiment::{GridFile, Runner, RunsTable, Shard, Store, best_by};

use crate::Res;
use crate::progress;
use crate::row;
use crate::table::Table;

/// Arguments of `cargo xtask sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: SweepCommand,
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Run one shard of a grid file into DIR/shard-i-of-n.csv.
    Run(RunArgs),
    /// Merge shard tables into one and report the best value of an axis.
    Merge(MergeArgs),
}

/// Options of `cargo xtask sweep run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The grid file (TOML; see `xtask/sweeps/example.toml`).
    pub file: PathBuf,
    /// Run shard i of n (1-based i, e.g. `1/3` or `$SLURM_ARRAY_TASK_ID/16`).
    #[arg(long, value_name = "i/n", default_value = "1/1")]
    pub shard: String,
    /// Output folder. Default: `target/sweep/<file stem>/`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The result store. Default: `DIR/store/`.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Save a checkpoint of every running run every K trials.
    #[arg(long, value_name = "K", default_value_t = 500)]
    pub checkpoint_every: usize,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Options of `cargo xtask sweep merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// A sweep output folder, or shard tables.
    #[arg(required = true, value_name = "DIR or FILES")]
    pub inputs: Vec<PathBuf>,
    /// The merged table. Default: `DIR/merged.csv` (or `merged.csv` for files).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The axis whose best value is reported per group (default: `rule.rates` if present).
    #[arg(long, value_name = "PATH")]
    pub best_by: Option<String>,
}

/// Runs `cargo xtask sweep ...`.
pub fn run(args: &SweepArgs) -> Res<()> {
    match &args.command {
        SweepCommand::Run(a) => run_grid(a).map(|_| ()),
        SweepCommand::Merge(a) => merge(a),
    }
}

/// `sweep run`; returns the path of the shard's table.
pub fn run_grid(args: &RunArgs) -> Res<PathBuf> {
    let shard: Shard = args.shard.parse()?;
    let text =
        std::fs::read_to_string(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let file = GridFile::from_toml(&text).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let points = file.points()?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("target").join("sweep").join(stem)
    });
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    write_atomic(&out.join("grid.toml"), text.as_bytes())?;
    let store = Store::open(args.store.clone().unwrap_or_else(|| out.join("store")))?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let runner = Runner::new()
        .with_store(store)
        .with_threads(threads)
        .with_checkpoint_every(args.checkpoint_every);
    let mine: Vec<_> = points.iter().filter(|p| shard.contains(p.index)).collect();
    let specs: Vec<_> = mine.iter().map(|p| p.spec.clone()).collect();
    let records = progress::run(&runner, &format!("shard {shard}"), &specs)?;
    let table = RunsTable::new(
        &RunsTable::axis_paths(&points),
        &mine,
        &records.iter().map(|r| r.as_ref()).collect::<Vec<_>>(),
    );
    let path = out.join(format!("shard-{}-of-{}.csv", shard.index, shard.count));
    write_atomic(&path, table.to_csv()?.as_bytes())?;
    let failed = records.iter().filter(|r| !r.completed()).count();
    println!(
        "shard {shard}: {} run(s), {failed} failed (diverged); table: {}",
        mine.len(),
        path.display()
    );
    Ok(path)
}

fn merge(args: &MergeArgs) -> Res<()> {
    let (files, default_out) = shard_files(&args.inputs)?;
    let tables = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
            RunsTable::from_csv(&text).map_err(|e| format!("{}: {e}", f.display()).into())
        })
        .collect::<Res<Vec<_>>>()?;
    let merged = RunsTable::merge(&tables)?;
    let out = args.out.clone().unwrap_or(default_out);
    write_atomic(&out, merged.to_csv()?.as_bytes())?;
    println!(
        "merged table ({} runs): {}",
        merged.rows.len(),
        out.display()
    );
    let axis = args.best_by.clone().or_else(|| {
        merged
            .columns
            .iter()
            .find(|c| c.as_str() == "rule.rates")
            .cloned()
    });
    let Some(axis) = axis else {
        return Ok(());
    };
    let mut table = Table::new(&[
        "group",
        &axis,
        "median_final_loss",
        "q25",
        "q75",
        "failed",
        "n",
        "best",
    ]);
    // `{:e}` keeps `inf`: a median over mostly failed runs.
    let e = |x: f64| format!("{x:e}");
    for group in best_by(&merged, &axis)? {
        let name: Vec<String> = group
            .group
            .iter()
            .map(|(c, v)| format!("{c}={v}"))
            .collect();
        let best = group.best.as_deref().unwrap_or("none");
        println!("{}: best {axis} = {best}", name.join(" "));
        for (value, s) in &group.candidates {
            let is_best = best == value;
            let (m, lo, hi) = (e(s.median), e(s.q25), e(s.q75));
            table.row(row![
                name.join(" "),
                value,
                m,
                lo,
                hi,
                s.failed,
                s.n,
                is_best
            ]);
        }
    }
    let stem = out
        .file_stem()
        .map_or("merged".into(), |s| s.to_string_lossy().into_owned());
    let best_path = out.with_file_name(format!("{stem}-best.csv"));
    table.write(&best_path)?;
    println!("best {axis} per group: {}", best_path.display());
    Ok(())
}

/// The shard tables named by `inputs` and the default merged path.
fn shard_files(inputs: &[PathBuf]) -> Res<(Vec<PathBuf>, PathBuf)> {
    if let [dir] = inputs
        && dir.is_dir()
    {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.starts_with("shard-") && name.ends_with(".csv")
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(format!("{}: no shard-*-of-*.csv tables", dir.display()).into());
        }
        return Ok((files, dir.join("merged.csv")));
    }
    Ok((inputs.to_vec(), PathBuf::from("merged.csv")))
}
