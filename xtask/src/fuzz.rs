//! `cargo xtask fuzz`: the long fuzz run of issue #17, delegated to the
//! `rnn-fuzz` binary (`cargo run -p rnn-fuzz`, dev profile: optimised here,
//! with overflow checks and debug assertions on, so that an arithmetic
//! overflow is found as a panic rather than wrapping silently).

use std::process::Command;

use clap::Args;

use crate::Res;

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Inputs per target.
    #[arg(long, default_value_t = 1_000_000)]
    iterations: u64,
    /// Seed of the mutation generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Only this target (`--list` shows them).
    #[arg(long)]
    target: Option<String>,
    /// Worker threads (one target per thread at a time).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// List the targets and exit.
    #[arg(long)]
    list: bool,
}

/// Runs the fuzz binary; fails when any input failed.
pub fn run(args: &FuzzArgs) -> Res<()> {
    let mut command = Command::new(env!("CARGO"));
    command.args(["run", "--locked", "-p", "rnn-fuzz", "--"]);
    if args.list {
        command.arg("--list");
    } else {
        command.args([
            "--iterations",
            &args.iterations.to_string(),
            "--seed",
            &args.seed.to_string(),
            "--threads",
            &args.threads.to_string(),
        ]);
        if let Some(target) = &args.target {
            command.args(["--target", target]);
        }
    }
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(
            format!("rnn-fuzz failed ({status}); failing inputs are in target/fuzz-failures/")
                .into(),
        )
    }
}
