//! `cargo xtask figures`: every panel of the registry through one runner and
//! one store (`DIR/store/`). Per panel, in report order: expand its grids,
//! take the results the store has and train the rest (checkpointed), write
//! `<panel>_runs.csv` (the table `cargo xtask sweep run` gives for the grid
//! file REPORT.md prints), evaluate the claim, rewrite REPORT.md. A killed job
//! resumes when started again; a result depends only on its run spec, so the
//! output is bit-identical for any thread count, order, shard or interruption.
//! `--shard i/n` only trains shard `i` of the distinct runs into the store; a
//! final run without it writes the report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rnn_experiment::{Runner, RunsTable, Shard, Store};

use crate::Res;
use crate::panels::{self, PanelRun, Run, Scale};
use crate::progress;
use crate::report::{Report, Section};

/// Options of `cargo xtask figures`.
#[derive(Debug, Clone, clap::Args)]
pub struct FiguresArgs {
    /// Reduced scale (fewer trials, 3 seeds, smaller grids) for tests and CI.
    #[arg(long)]
    pub quick: bool,
    /// Only these panels, comma-separated (e.g. `fig2a,cost`). Default: all.
    #[arg(long, value_delimiter = ',', value_name = "PANEL[,PANEL]")]
    pub only: Vec<String>,
    /// Output folder. Default: `target/figures/` (`target/figures-quick/` with --quick).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The result store. Default: `DIR/store/`.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Override the number of seeds (network realisations) of every panel.
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Only train shard i of n of the runs into the store (1-based); no report.
    #[arg(long, value_name = "i/n")]
    pub shard: Option<String>,
    /// Also the runs too long for the default job (e.g. Fig 2 at 50,000
    /// trials, about an hour on 2 cores): of every panel, or only of the
    /// panels listed (`--extended=fig2_long`). The report sections say which.
    #[arg(long, num_args = 0.., require_equals = true, value_delimiter = ',', value_name = "PANEL[,PANEL]")]
    pub extended: Option<Vec<String>>,
    /// Print what the job would train (per panel: runs, new runs, time steps
    /// per rule group) and its wall time estimated from a short timed run per
    /// group on this machine, and exit without training.
    #[arg(long)]
    pub plan: bool,
    /// Print the panel ids, one per line, and exit.
    #[arg(long)]
    pub list: bool,
    /// Stop after this many training trials in all (runs in flight save
    /// checkpoints); for tests of resumption.
    #[arg(long, value_name = "TRIALS", hide = true)]
    pub trial_budget: Option<usize>,
}

/// Runs the figures job.
pub fn run(args: &FiguresArgs) -> Res<()> {
    let selected = panels::select(&args.only)?;
    if args.list {
        for panel in &selected {
            println!("{}", panel.id);
        }
        return Ok(());
    }
    let started = Instant::now();
    let scale = Scale {
        quick: args.quick,
        seeds: args.seeds,
        extended: false,
    };
    let extended_for = |id: &str| {
        args.extended
            .as_ref()
            .is_some_and(|only| only.is_empty() || only.iter().any(|p| p.trim() == id))
    };
    if let Some(id) = args
        .extended
        .iter()
        .flatten()
        .find(|id| panels::select(&[id.to_string()]).is_err())
    {
        return Err(format!("--extended: unknown panel `{id}`").into());
    }
    let out = args.out.clone().unwrap_or_else(|| {
        workspace_root().join(if args.quick {
            "target/figures-quick"
        } else {
            "target/figures"
        })
    });
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let store = Store::open(args.store.clone().unwrap_or_else(|| out.join("store")))?;
    let mut runner = Runner::new().with_store(store).with_threads(threads);
    if let Some(budget) = args.trial_budget {
        runner = runner.with_trial_budget(budget);
    }
    if args.plan {
        return crate::plan::print_plan(&runner, &selected, scale, &extended_for, threads);
    }
    if let Some(shard) = &args.shard {
        return run_shard(&runner, &selected, scale, &extended_for, shard.parse()?);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let mut report = Report {
        quick: args.quick,
        extended: match &args.extended {
            None => "none".to_string(),
            Some(only) if only.is_empty() => "all".to_string(),
            Some(only) => only.join(", "),
        },
        command: std::iter::once("cargo xtask figures".to_string())
            .chain(std::env::args().skip(2))
            .collect::<Vec<_>>()
            .join(" "),
        threads,
        sections: Vec::new(),
        seconds: 0.0,
        training_seconds: 0.0,
        pending: selected.iter().map(|p| p.id.to_string()).collect(),
    };
    println!(
        "figures: {} panel(s) -> {} ({} thread(s){})",
        selected.len(),
        out.display(),
        threads,
        if args.quick { ", quick" } else { "" }
    );
    // Every panel's runs first, as one pool, longest first: panel by panel,
    // each panel's longest run kept one thread busy while the others idled.
    // (A panel's second stage, chosen from its first stage's results, is
    // trained when the panel is evaluated.)
    let all = distinct_specs(&selected, scale, &extended_for)?;
    progress::run(&runner, "all panels", &all)?;
    report.training_seconds = started.elapsed().as_secs_f64();
    for panel in selected {
        let t0 = Instant::now();
        let mut section = Section::new(panel.id, panel.title, panel.claim);
        section.part = panel.part;
        let scale = Scale {
            extended: extended_for(panel.id),
            ..scale
        };
        let grids = (panel.grids)(&scale)?;
        let (runs, trained) = train_grids(&runner, &out, panel.id, &grids, &mut section)?;
        section.trained = trained;
        let mut panel_run = PanelRun::new(scale, section, runs, &out, &pool, &runner);
        (panel.evaluate)(&mut panel_run).map_err(|e| format!("{}: {e}", panel.id))?;
        let mut section = panel_run.section;
        section.seconds = t0.elapsed().as_secs_f64();
        let verdict = section.verdict();
        println!("  {:<10} {:>7.1} s  {verdict}", panel.id, section.seconds);
        report.sections.push(section);
        report.pending.retain(|p| p != panel.id);
        report.seconds = started.elapsed().as_secs_f64();
        rnn_core::io::write_atomic(&out.join("REPORT.md"), report.render().as_bytes())?;
    }
    println!(
        "figures: done in {:.1} s; report {}",
        started.elapsed().as_secs_f64(),
        out.join("REPORT.md").display()
    );
    Ok(())
}

/// Trains (or reads from the store) the runs of `grids` for the panel or
/// stage `name`: writes `<name>_runs.csv` (when there are runs) and the grid
/// file into `section`; returns the runs in grid order and `(trained now,
/// distinct)`.
pub(crate) fn train_grids(
    runner: &Runner,
    out: &Path,
    name: &str,
    grids: &rnn_experiment::GridFile,
    section: &mut Section,
) -> Res<(Vec<Run>, (usize, usize))> {
    let points = grids.points()?;
    let specs: Vec<_> = points.iter().map(|p| p.spec.clone()).collect();
    let distinct: std::collections::HashSet<_> = specs.iter().map(|s| s.key()).collect();
    let records = progress::run(runner, name, &specs).map_err(|e| format!("{name}: {e}"))?;
    // Trained by this job (up front or now) and not yet counted for an earlier panel.
    let trained = (runner.take_trained(&distinct), distinct.len());
    if !points.is_empty() {
        let table = RunsTable::new(
            &RunsTable::axis_paths(&points),
            &points.iter().collect::<Vec<_>>(),
            &records.iter().map(|r| r.as_ref()).collect::<Vec<_>>(),
        );
        let file = format!("{name}_runs.csv");
        rnn_core::io::write_atomic(&out.join(&file), table.to_csv()?.as_bytes())?;
        section.grids.push((file.clone(), grids.to_toml()?));
        section.files.push(file);
    }
    let runs = points
        .into_iter()
        .zip(records)
        .map(|(point, record)| Run { point, record })
        .collect();
    Ok((runs, trained))
}

/// The distinct run specs of `selected`'s grids, in panel order (each
/// panel at `scale`, extended where `extended_for` says).
fn distinct_specs(
    selected: &[&panels::Panel],
    scale: Scale,
    extended_for: &dyn Fn(&str) -> bool,
) -> Res<Vec<rnn_experiment::RunSpec>> {
    let mut specs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for panel in selected {
        let scale = Scale {
            extended: extended_for(panel.id),
            ..scale
        };
        for point in (panel.grids)(&scale)?.points()? {
            if seen.insert(point.spec.key()) {
                specs.push(point.spec);
            }
        }
    }
    Ok(specs)
}

/// Trains shard `shard` of the distinct runs of `selected` into the store.
fn run_shard(
    runner: &Runner,
    selected: &[&panels::Panel],
    scale: Scale,
    extended_for: &dyn Fn(&str) -> bool,
    shard: Shard,
) -> Res<()> {
    // Shards partition the distinct runs whatever the store already holds.
    let specs = distinct_specs(selected, scale, extended_for)?;
    let mine: Vec<_> = specs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| shard.contains(*i))
        .map(|(_, s)| s)
        .collect();
    progress::run(runner, &format!("shard {shard}"), &mine)?;
    println!("figures: shard {shard}: {} run(s) in the store", mine.len());
    Ok(())
}

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}
