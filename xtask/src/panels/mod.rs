//! The panel registry: every figure panel of docs/spec/FIGURES.md, in report
//! order. A panel is its runs (grids: data, printed in REPORT.md as TOML),
//! its claim evaluator and its plot. `--only`, CI and the report all read
//! [`PANELS`]; adding a panel = its function(s) + one entry here.

mod common;
mod cost;
mod fig2;
mod fig2_grid;
mod fig2_long;
mod fig3;
mod fig4;
mod zoo;
mod zoo_alignment;
mod zoo_control;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rnn_experiment::{GridFile, Point, RunRecord, Runner};

pub use common::*;

use crate::Res;
use crate::report::Section;

/// Where a panel belongs: the paper's figures, or the report's separate
/// section on the rules beyond the paper (docs/spec/FIGURES.md, last table),
/// whose verdicts are not the paper's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Part {
    #[default]
    Paper,
    Beyond,
}

/// One figure panel: its part of the report, its id (file names, `--only`, report anchors), what it
/// shows, the paper's claim it checks, its training runs as grids (empty for
/// panels that train nothing), and its evaluator (reads the runs, writes its
/// CSV and SVG, fills the section's body and verdicts).
pub struct Panel {
    pub part: Part,
    pub id: &'static str,
    pub title: &'static str,
    pub claim: &'static str,
    pub grids: fn(&Scale) -> Res<GridFile>,
    pub evaluate: fn(&mut PanelRun<'_>) -> Res<()>,
}

/// Every panel, in report order.
pub const PANELS: &[Panel] = &[
    fig2::FIG2A,
    fig2::FIG2B,
    fig2_grid::FIG2B_GRID,
    fig2_long::FIG2_LONG,
    fig2::FIG2C,
    fig2::FIG2D,
    fig2::FIG2S1,
    fig2::FIG2S2,
    fig2::FIG2S3,
    fig3::FIG3B,
    fig3::FIG3C,
    fig4::FIG4A,
    fig4::FIG4C,
    cost::COST,
    zoo_alignment::ZOO_ALIGNMENT,
    zoo::ZOO_LOSS,
    zoo_control::REINFORCE,
    zoo_control::FORCE,
    cost::COST_ZOO,
];

/// The scale of a figures job: `--quick` (reduced trials, seeds and grids),
/// `--seeds N` (replicates of every panel) and `--extended` (the runs too
/// long for the default job's time budget, e.g. Fig 2's larger trial budget;
/// a panel adds them to its grids when `extended` is set).
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub quick: bool,
    pub seeds: Option<usize>,
    pub extended: bool,
}

impl Scale {
    /// `quick` at `--quick`, else `full`.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick { quick } else { full }
    }

    /// Whether the learning-rate searches run (fig2b_grid, zoo_loss, and
    /// fig2_long's best rates): they are the project's robustness study of
    /// the paper's rates, not the paper's figures, so only with `--extended`;
    /// and at `--quick` (reduced), so that CI exercises them.
    pub fn searches(&self) -> bool {
        self.quick || self.extended
    }

    /// Replicate seeds `0..n`: the panel's default `n` unless `--seeds` overrides it.
    pub fn seeds(&self, default: usize) -> Vec<i64> {
        (0..self.seeds.unwrap_or(default).max(1) as i64).collect()
    }
}

/// A panel being evaluated: the job's scale, the section of REPORT.md being
/// written, its runs (in grid order) and where to write.
pub struct PanelRun<'a> {
    pub scale: Scale,
    pub section: Section,
    runs: Arc<Vec<Run>>,
    out: &'a Path,
    pool: &'a rayon::ThreadPool,
    runner: &'a Runner,
}

/// One run of a panel: its grid point (with its spec) and its record.
#[derive(Clone)]
pub struct Run {
    pub point: Point,
    pub record: Arc<RunRecord>,
}

impl Run {
    pub fn seed(&self) -> u64 {
        self.point.spec.seed
    }

    pub fn grid(&self) -> &str {
        &self.point.grid
    }

    /// Trained to the end without divergence, evaluated finitely.
    pub fn ok(&self) -> bool {
        self.record.completed()
    }
}

impl<'a> PanelRun<'a> {
    pub(crate) fn new(
        scale: Scale,
        section: Section,
        runs: Vec<Run>,
        out: &'a Path,
        pool: &'a rayon::ThreadPool,
        runner: &'a Runner,
    ) -> Self {
        Self {
            scale,
            section,
            runs: Arc::new(runs),
            out,
            pool,
            runner,
        }
    }

    /// A second stage of runs whose specs depend on the first stage's
    /// results (e.g. nine networks at the best rate of a grid search):
    /// trained by the same runner and store, written to
    /// `<panel>_<stage>_runs.csv`, its grid file printed in the report
    /// beside the panel's own; returns its runs in grid order.
    pub fn train(&mut self, stage: &str, grids: &GridFile) -> Res<Vec<Run>> {
        let name = format!("{}_{stage}", self.section.panel);
        let (runs, trained) =
            crate::figures::train_grids(self.runner, self.out, &name, grids, &mut self.section)?;
        self.section.trained.0 += trained.0;
        self.section.trained.1 += trained.1;
        Ok(runs)
    }

    /// The panel's runs in the grid file's order (a shared handle, so that
    /// the section can be written while the runs are read).
    pub fn runs(&self) -> Arc<Vec<Run>> {
        self.runs.clone()
    }

    /// A path in the output folder for `file`, recorded in the section's file list.
    pub fn file(&mut self, file: &str) -> PathBuf {
        self.section.files.push(file.to_string());
        self.out.join(file)
    }

    /// Runs `f` over `jobs` on the job's thread pool; results in job order
    /// (deterministic whatever the thread count). For post-training work
    /// (test trials, the sequencing loop).
    pub fn par_map<J: Sync, R: Send>(
        &self,
        jobs: &[J],
        f: impl Fn(&J) -> R + Sync + Send,
    ) -> Vec<R> {
        use rayon::prelude::*;
        self.pool.install(|| jobs.par_iter().map(&f).collect())
    }
}

/// The section of a panel whose runs the default job leaves out: says that
/// nothing was run, what `--extended` would run (`what`, then the counts of
/// `grids`, the panel's grid file at that scale), the command that runs it,
/// and records the claim as not evaluated in the default job (neither holds
/// nor fails: [`Section::not_evaluated`](crate::report::Section)).
pub fn not_run(p: &mut PanelRun<'_>, what: &str, grids: &GridFile) -> Res<()> {
    let specs: Vec<_> = grids.points()?.into_iter().map(|p| p.spec).collect();
    let distinct: std::collections::HashSet<_> = specs.iter().map(|s| s.key()).collect();
    let steps: u64 = specs.iter().map(|s| s.training_steps()).sum();
    let id = p.section.panel.clone();
    let command = format!("cargo xtask figures --extended={id} --only {id}");
    p.section.line(format!(
        "**Not run in the default job**: this panel trained nothing, so its claim is not evaluated \
         in the default job. With `--extended` it runs {what}: {} runs ({} distinct, {:.3e} \
         training time steps). `{command}` runs it (runs other panels trained are read from the \
         store); `cargo xtask figures --plan --extended={id} --only {id}` estimates its time.",
        specs.len(),
        distinct.len(),
        steps as f64
    ));
    p.section.not_evaluated = Some(command);
    Ok(())
}

/// The runs of grid `name`, in order.
pub fn grid<'r>(runs: &'r [Run], name: &str) -> Vec<&'r Run> {
    runs.iter().filter(|r| r.point.grid == name).collect()
}

/// The later stages of panel `id` for `cargo xtask figures --plan`, named:
/// their specs depend on the first stage's results, so these are the panel's
/// own estimate (see each panel's `planned_stages`).
pub fn later_stages(id: &str, scale: &Scale) -> Res<Vec<(&'static str, GridFile)>> {
    match id {
        "fig2_long" => fig2_long::planned_stages(scale),
        _ => Ok(Vec::new()),
    }
}

/// The panels named in `only` (all if empty), in report order.
pub fn select(only: &[String]) -> Res<Vec<&'static Panel>> {
    if let Some(id) = only
        .iter()
        .find(|id| !PANELS.iter().any(|p| p.id == id.trim()))
    {
        let ids: Vec<&str> = PANELS.iter().map(|p| p.id).collect();
        return Err(format!("unknown panel `{id}`; panels: {}", ids.join(", ")).into());
    }
    let wanted = |p: &&Panel| only.is_empty() || only.iter().any(|id| id.trim() == p.id);
    Ok(PANELS.iter().filter(wanted).collect())
}
