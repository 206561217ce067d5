//! `cargo xtask`: project automation. It only orchestrates; the maths lives in
//! the crates, the runs in `rnn-experiment`.
//!
//! - `cargo xtask figures [--quick] [--only P,Q] [--out DIR] [--seeds N] [--threads N] [--shard i/n]`
//!   reproduces every panel of docs/spec/FIGURES.md (the registry in
//!   `panels/mod.rs`): per panel its runs table, a tidy CSV, an SVG and a
//!   section of `REPORT.md` with the claim, the panel's grid file (TOML), the
//!   measured numbers and verdicts. Results are kept in `DIR/store/`: a
//!   rerun reuses them, a killed run resumes.
//! - `cargo xtask sweep run FILE.toml [--shard i/n]` and `cargo xtask sweep merge DIR`
//!   run any grid file (the same engine and store) and merge shards.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI reports to the terminal

mod figures;
mod panels;
mod plot;
mod progress;
mod report;
mod sweep;
mod table;

#[cfg(test)]
mod tests;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Errors of the xtask jobs.
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Project automation for the RFLO reference library.
#[derive(Debug, Parser)]
#[command(name = "xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reproduce the paper's figure panels: runs tables, CSV data, SVG pictures and REPORT.md.
    Figures(figures::FiguresArgs),
    /// Run grids of run specs (sharded, resumable) and merge the shards.
    Sweep(sweep::SweepArgs),
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
