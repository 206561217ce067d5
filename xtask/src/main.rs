//! `cargo xtask`: project automation. It only orchestrates; the maths lives in the crates.
//!
//! `cargo xtask figures [--quick] [--only PANEL[,PANEL]] [--out DIR] [--seeds N] [--threads N]`
//! reproduces every panel of the spec's FIGURES.md: per panel a tidy CSV, an
//! SVG and a section of `REPORT.md` with the claim, the measured numbers and
//! a verdict. For timing-faithful numbers use an optimised build:
//! `cargo run --release -p xtask -- figures`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI reports to the terminal

mod figures;
mod plot;
mod report;
mod stats;
mod sweep;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for the RFLO reference library.
#[derive(Debug, Parser)]
#[command(name = "xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reproduce the paper's figure panels: CSV data, SVG pictures and REPORT.md.
    Figures(FiguresArgs),
    /// Learning-rate sweeps: run a grid (sharded, resumable) and merge the shards.
    Sweep(sweep::SweepArgs),
}

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
    /// Override the number of seeds (network realisations) of every panel.
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,
    /// Worker threads for the seeds (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Figures(args) => figures::run(&args),
        Command::Sweep(args) => sweep::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
