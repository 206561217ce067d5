//! `cargo xtask figures`: runs the panels of FIGURES.md and writes CSV, SVG and REPORT.md.
//!
//! Every run is seeded from (panel family, condition, seed index) only, results
//! are collected in job order, so the output is bit-identical for any
//! `--threads`. Panels run one after another; inside a panel the seeds and
//! conditions run in parallel on a rayon pool of `--threads` threads.

mod common;
mod cost;
mod fig2;
mod fig2_grid;
mod fig3;
mod fig4;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::FiguresArgs;
use crate::report::{Report, Section};

/// Errors of the figures job.
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Every panel, in report order.
pub const PANELS: [&str; 13] = [
    "fig2a",
    "fig2b",
    "fig2b_grid",
    "fig2c",
    "fig2d",
    "fig2s1",
    "fig2s2",
    "fig2s3",
    "fig3b",
    "fig3c",
    "fig4a",
    "fig4c",
    "cost",
];

/// Shared state of one `figures` invocation.
pub struct Ctx {
    /// `--quick`.
    pub quick: bool,
    /// Output folder.
    pub out: PathBuf,
    seeds_override: Option<usize>,
    pool: rayon::ThreadPool,
    show_progress: bool,
    /// Fig 2 runs shared between panels.
    pub fig2_cache: fig2::Cache,
    /// Fig 4 syllable networks shared between fig4a and fig4c.
    pub fig4_cache: fig4::Cache,
}

impl Ctx {
    /// Number of seeds: the panel's default unless `--seeds` overrides it.
    pub fn seeds(&self, default: usize) -> usize {
        self.seeds_override.unwrap_or(default).max(1)
    }

    /// A path in the output folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    /// A progress bar for `panel` counting `total` units (time steps), with an ETA.
    /// Hidden when stderr is not a terminal.
    pub fn progress(&self, panel: &str, total: u64) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(
            Some(total),
            if self.show_progress {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        pb.set_style(
            ProgressStyle::with_template(
                "{prefix:>7} [{elapsed_precise}] {bar:36} {percent:>3}% ETA {eta_precise} {msg}",
            )
            .expect("valid template"),
        );
        pb.set_prefix(panel.to_string());
        pb
    }

    /// Runs `f` over `jobs` on the pool; results in job order (deterministic).
    pub fn par_map<J: Sync, R: Send>(
        &self,
        jobs: &[J],
        f: impl Fn(&J) -> R + Sync + Send,
    ) -> Vec<R> {
        self.pool.install(|| jobs.par_iter().map(&f).collect())
    }
}

/// Runs the figures job.
pub fn run(args: &FiguresArgs) -> Res<()> {
    let started = Instant::now();
    let selected: Vec<&str> = if args.only.is_empty() {
        PANELS.to_vec()
    } else {
        let mut v = Vec::new();
        for p in &args.only {
            let p = p.trim();
            match PANELS.iter().find(|q| **q == p) {
                Some(q) => v.push(*q),
                None => {
                    return Err(
                        format!("unknown panel `{p}`; panels: {}", PANELS.join(", ")).into(),
                    );
                }
            }
        }
        // Report order, no duplicates.
        PANELS.iter().copied().filter(|p| v.contains(p)).collect()
    };
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let ctx = Ctx {
        quick: args.quick,
        out: out.clone(),
        seeds_override: args.seeds,
        pool,
        show_progress: std::io::stderr().is_terminal(),
        fig2_cache: fig2::Cache::default(),
        fig4_cache: fig4::Cache::default(),
    };
    let command = {
        let mut c = String::from("cargo xtask figures");
        for a in std::env::args().skip(2) {
            c.push(' ');
            c.push_str(&a);
        }
        c
    };
    let mut report = Report {
        quick: args.quick,
        command,
        threads,
        sections: Vec::new(),
        seconds: 0.0,
        pending: selected.iter().map(|s| s.to_string()).collect(),
    };
    println!(
        "figures: {} panel(s) -> {} ({} thread(s){})",
        selected.len(),
        out.display(),
        threads,
        if args.quick { ", quick" } else { "" }
    );
    for panel in &selected {
        let t0 = Instant::now();
        let mut section = run_panel(&ctx, panel)?;
        section.seconds = t0.elapsed().as_secs_f64();
        println!(
            "  {:<10} {:>7.1} s  {}",
            panel,
            section.seconds,
            if section.holds() {
                "holds"
            } else {
                "does not hold"
            }
        );
        report.sections.push(section);
        report.pending.retain(|p| p != panel);
        report.seconds = started.elapsed().as_secs_f64();
        write_report(&out, &report)?;
    }
    println!(
        "figures: done in {:.1} s; report {}",
        started.elapsed().as_secs_f64(),
        out.join("REPORT.md").display()
    );
    Ok(())
}

fn run_panel(ctx: &Ctx, panel: &str) -> Res<Section> {
    match panel {
        "fig2a" => fig2::fig2a(ctx),
        "fig2b" => fig2::fig2b(ctx),
        "fig2b_grid" => fig2_grid::fig2b_grid(ctx),
        "fig2c" => fig2::fig2c(ctx),
        "fig2d" => fig2::fig2d(ctx),
        "fig2s1" => fig2::fig2s1(ctx),
        "fig2s2" => fig2::fig2s2(ctx),
        "fig2s3" => fig2::fig2s3(ctx),
        "fig3b" => fig3::fig3b(ctx),
        "fig3c" => fig3::fig3c(ctx),
        "fig4a" => fig4::fig4a(ctx),
        "fig4c" => fig4::fig4c(ctx),
        "cost" => cost::cost(ctx),
        other => Err(format!("unknown panel {other}").into()),
    }
}

fn write_report(out: &Path, report: &Report) -> Res<()> {
    rnn_core::io::write_atomic(&out.join("REPORT.md"), report.render().as_bytes())?;
    Ok(())
}

/// The workspace root (the parent of `xtask/`).
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}
