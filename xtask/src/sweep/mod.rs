//! `cargo xtask sweep`: learning-rate sweeps over rule × task × N × T × eta × seed,
//! split across machines without a scheduler of ours, and surviving kills.
//!
//! The paper chose every learning rate by grid search over
//! `eta in {1e-4, 3e-4, 1e-3, ..., 3e-1}` and reports medians over nine
//! networks. This command runs such a grid, one CSV row per grid point, and
//! merges the results into one table with the best `eta` per condition.
//!
//! # Usage
//!
//! ```text
//! cargo xtask sweep run <file.toml> [--shard i/n] [--out DIR] [--checkpoint-every K]
//!                                   [--resume] [--threads N] [--quiet]
//! cargo xtask sweep merge <DIR or files...> [--out FILE]
//! ```
//!
//! * `run` expands the grid of `file.toml` (below) and runs the grid points of
//!   shard `i` of `n` into `DIR/shard-i-of-n.csv` (default `DIR` =
//!   `target/sweep/<file stem>/`). The CSV is rewritten atomically
//!   ([`rnn_core::io::write_atomic`]) after every completed grid point, its
//!   rows sorted by grid index, so a killed run loses at most the points in
//!   flight.
//! * `merge` reads shard CSVs (a directory: every `shard-*-of-*.csv` in it; or
//!   the files given), writes one table sorted by grid index (default
//!   `DIR/merged.csv`, or `merged.csv` when files are given) and, next to it,
//!   `<stem>-best-eta.csv` with the median final loss of every (condition,
//!   eta), where a condition is rule × task × N × T. The best `eta` of a
//!   condition is the one with the lowest median final loss over seeds; a
//!   **diverged run counts as `+inf`** (failed), so an `eta` at which more than
//!   half of the seeds diverge has an infinite median and cannot win; a
//!   condition where every `eta` has an infinite median has no best `eta`
//!   ("none"). Ties go to the `eta` listed first in the sweep file. The
//!   summary is printed too. If `DIR` holds the sweep's copy `sweep.toml`
//!   (written by `run`), the merge checks that every grid point is present
//!   and warns otherwise.
//!
//! ## Sharding (cluster job arrays)
//!
//! `--shard i/n` is **1-based**: `i in 1..=n`. Grid point `g` (0-based grid
//! index) belongs to shard `i` when `g % n == i - 1` (round-robin, so every
//! shard gets a similar mix of rules and sizes). The `n` shards are disjoint
//! and together cover the grid. With SLURM, use a 1-based array:
//!
//! ```text
//! #SBATCH --array=1-16
//! cargo xtask sweep run sweeps/eta.toml --shard $SLURM_ARRAY_TASK_ID/16 --out /scratch/eta \
//!     --checkpoint-every 500 --resume
//! ```
//!
//! (with a 0-based array `--array=0-15`, pass `$((SLURM_ARRAY_TASK_ID + 1))/16`).
//! Shards may share one `--out` directory (their files and checkpoints have
//! distinct names). Running all shards and merging gives exactly the bytes of
//! one unsharded run (`--shard 1/1`, the default): every grid point's result
//! depends only on the grid point, never on the shard, the thread count or
//! the order of execution.
//!
//! ## Checkpoint and resume
//!
//! With `--checkpoint-every K` a running grid point saves its training state
//! ([`rnn_learn::Checkpoint`], atomic write) every `K` trials to
//! `DIR/checkpoints/<grid index>.ckpt`, next to `<grid index>.point`, a line
//! naming the grid point (checked on resume, so a checkpoint of another sweep
//! is refused). Both files are removed once the point's row is in the CSV.
//! `--resume` skips the grid points whose rows are already in the shard's
//! CSV and continues the others from their checkpoints (from the start if
//! there is none). The result is bit-identical to an uninterrupted run.
//! Without `--resume`, an existing shard CSV is refused (nothing is
//! overwritten). `DIR/sweep.toml` is a canonical copy of the sweep file; a
//! run into a directory holding another sweep is refused.
//!
//! ## Parallelism
//!
//! `--threads N` runs grid points in parallel (rayon; default: all cores).
//! Rows are collected and sorted by grid index, so the output does not
//! depend on `N`.
//!
//! # The sweep file (TOML)
//!
//! ```toml
//! rules = ["rflo", "bptt"]     # rflo | bptt | rtrl | local_symmetric | nonlocal_random
//! tasks = ["periodic"]         # periodic | ready_set_go | reach | whole_sequence
//! eta = [1e-3, 3e-3]           # eta1 = eta2 = eta3 = eta; finite, > 0
//! seeds = 9                    # a count (seeds 0..9) or a list: [0, 1, 7]
//! n_units = [30]               # N
//! period = [200]               # T: the task's time parameter in steps (below)
//! trials = 2000                # training trials per grid point
//! # Optional:
//! schedule = "per_trial"       # "per_trial" (default) | "online" | "every 10"
//! tau = 10.0                   # time constant in steps (default 10)
//! eval_trials = 1              # trials averaged for the initial/final loss (default 1)
//! ```
//!
//! Every axis must be non-empty and free of repeats; unknown keys, rules and
//! tasks are refused. Hyphens may stand for underscores in names
//! (`ready-set-go`). `T` (key `period`, alias `T`) means, per task:
//!
//! | task | `N_x`, `N_y` | `T` is |
//! |---|---|---|
//! | `periodic` | 0, 1 | the period = trial length |
//! | `ready_set_go` | 1, 1 | `T_max`, the longest delay (`T_min = min(50, T)`) |
//! | `reach` | 4, 2 | the syllable length `D` (reach phase `D/2`) |
//! | `whole_sequence` | 1, 2 | the syllable length `D` of the 8-syllable sequence |
//!
//! Other task parameters are the spec's defaults.
//!
//! # The grid
//!
//! Grid points are numbered in a fixed canonical order: nested loops, outer
//! to inner, over `rules`, `tasks`, `n_units`, `period`, `eta`, `seeds`, each
//! in the order the file lists it (seeds innermost, so a condition's seeds
//! are neighbours).
//!
//! Per grid point, with seed `s`: the network is drawn from
//! `seeded_stream(s, 1)` (the same network for every rule and `eta`); the
//! whole-sequence task draws its `h(0)` from `seeded_stream(s, 2)`; training
//! trials come from `seeded(s)` (the training config's seed). The
//! **initial loss** is the mean loss of `eval_trials` trials, without
//! learning, of the initial network on a fresh task instance; the **final
//! loss** (MODEL.md §7) is the same with the final weights, the trials taken
//! from the training task as it stands after training and starting from the
//! carried-over state (which only the reach task uses). Both draw their
//! trials from `seeded_stream(s, 3)`, so for tasks without carried state they
//! are the same trials.
//!
//! # The CSV
//!
//! One header line and one line per grid point, sorted by grid index:
//!
//! ```text
//! index,rule,task,eta,seed,n,T,trials,initial_loss,final_loss,status
//! 0,rflo,periodic,1e-3,0,30,200,2000,1.6336e-1,4.1234e-2,ok
//! ```
//!
//! Floats are written with Rust's `{:e}` (shortest representation that
//! round-trips), so the bytes are deterministic. `status` is `ok`,
//! `diverged at trial k` (`k` 0-based: the loss, an update or the weights
//! became non-finite during training trial `k`) or `diverged at evaluation`;
//! a diverged row has `final_loss = inf`.

mod csv;
mod error;
mod exec;
mod grid;
mod merge;
mod shard;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use clap::Subcommand;

pub use exec::{Limits, RunOptions, run_sweep};
pub use merge::{MergeOptions, merge};
pub use shard::ShardSpec;

/// Arguments of `cargo xtask sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: SweepCommand,
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Run one shard of a sweep grid into DIR/shard-i-of-n.csv.
    Run(RunArgs),
    /// Merge shard CSVs into one table and report the best eta per condition.
    Merge(MergeArgs),
}

/// Options of `cargo xtask sweep run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The sweep file (TOML; see `xtask/sweeps/example.toml`).
    file: PathBuf,
    /// Run shard i of n (1-based i, e.g. `1/3` or `$SLURM_ARRAY_TASK_ID/16`).
    #[arg(long, value_name = "i/n", default_value = "1/1")]
    shard: String,
    /// Output folder. Default: `target/sweep/<file stem>/`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Save a checkpoint of every running grid point every K trials.
    #[arg(long, value_name = "K")]
    checkpoint_every: Option<usize>,
    /// Continue: skip points already in the shard CSV, resume from checkpoints.
    #[arg(long)]
    resume: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// No progress lines.
    #[arg(long)]
    quiet: bool,
}

/// Options of `cargo xtask sweep merge`.
#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// A sweep output folder, or shard CSV files.
    #[arg(required = true, value_name = "DIR or FILES")]
    inputs: Vec<PathBuf>,
    /// The merged table. Default: `DIR/merged.csv` (or `merged.csv` for files).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs `cargo xtask sweep ...`.
pub fn run(args: &SweepArgs) -> Result<(), Box<dyn std::error::Error>> {
    match &args.command {
        SweepCommand::Run(a) => {
            let shard: ShardSpec = a.shard.parse()?;
            let out = match &a.out {
                Some(dir) => dir.clone(),
                None => {
                    let stem = a
                        .file
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "sweep".into());
                    PathBuf::from("target").join("sweep").join(stem)
                }
            };
            let options = RunOptions {
                sweep_file: a.file.clone(),
                out,
                shard,
                checkpoint_every: a.checkpoint_every,
                resume: a.resume,
                threads: a.threads,
                quiet: a.quiet,
            };
            let summary = run_sweep(&options, &Limits::default())?;
            println!(
                "shard {shard}: {} grid points run, {} already done, {} stopped early, {} failed (diverged); table: {}",
                summary.ran,
                summary.skipped,
                summary.interrupted,
                summary.diverged,
                summary.csv.display()
            );
            Ok(())
        }
        SweepCommand::Merge(a) => {
            let report = merge(&MergeOptions {
                inputs: a.inputs.clone(),
                out: a.out.clone(),
            })?;
            print!("{}", report.text);
            println!(
                "merged table: {}\nmedians per (condition, eta): {}",
                report.table.display(),
                report.best.display()
            );
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
            Ok(())
        }
    }
}
