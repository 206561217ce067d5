//! `cargo xtask`: project automation — `figures` (the panel registry, plots,
//! REPORT.md; `figures.rs`), `sweep` (any grid file; `sweep.rs`) and `fuzz`
//! (the `rnn-fuzz` binary; `fuzz.rs`). It only
//! orchestrates: the maths lives in the crates, the runs in `rnn-experiment`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI reports to the terminal

mod figures;
mod fuzz;
mod panels;
mod plan;
mod plot;
mod progress;
mod report;
mod sweep;
mod table;

#[cfg(test)]
mod tests;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

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
    /// Fuzz every decoder and boundary (rnn-fuzz): inputs tried and failures per target.
    Fuzz(fuzz::FuzzArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Figures(args) => figures::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Fuzz(args) => fuzz::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
