//! `rnn-fuzz`: runs every fuzz target (or one) for N inputs and reports
//! inputs tried and failures; a failing input is saved to a file.
//!
//! ```text
//! rnn-fuzz [--iterations N] [--seed S] [--target NAME] [--threads K] [--out DIR] [--list]
//! ```
//!
//! Exits non-zero when any input failed.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use rnn_fuzz::{Report, TARGETS, Target, fuzz};

struct Args {
    iterations: u64,
    seed: u64,
    target: Option<String>,
    threads: usize,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        iterations: 10_000,
        seed: 0,
        target: None,
        threads: 2,
        out: PathBuf::from("target/fuzz-failures"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--iterations" | "-n" => {
                args.iterations = value("--iterations")?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--iterations: {e}"))?
            }
            "--seed" => {
                args.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--target" => args.target = Some(value("--target")?),
            "--threads" => {
                args.threads = value("--threads")?
                    .parse::<usize>()
                    .map_err(|e| format!("--threads: {e}"))?
                    .max(1)
            }
            "--out" => args.out = PathBuf::from(value("--out")?),
            "--list" => {
                for t in TARGETS {
                    println!("{:<16} {}", t.name, t.covers);
                }
                std::process::exit(0);
            }
            "--help" | "-h" => {
                println!(
                    "rnn-fuzz [--iterations N] [--seed S] [--target NAME] [--threads K] [--out DIR] [--list]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rnn-fuzz: {e}");
            std::process::exit(2);
        }
    };
    let targets: Vec<&'static Target> = match &args.target {
        Some(name) => match rnn_fuzz::target(name) {
            Some(t) => vec![t],
            None => {
                eprintln!("rnn-fuzz: no target `{name}` (try --list)");
                std::process::exit(2);
            }
        },
        None => TARGETS.iter().collect(),
    };
    println!(
        "rnn-fuzz: {} target(s), {} inputs each, seed {}, {} thread(s)",
        targets.len(),
        args.iterations,
        args.seed,
        args.threads
    );
    let queue = Mutex::new(targets.clone().into_iter());
    let results: Mutex<Vec<(&'static str, Report, f64)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..args.threads.min(targets.len()) {
            s.spawn(|| {
                loop {
                    let Some(target) = queue.lock().unwrap().next() else {
                        break;
                    };
                    let start = Instant::now();
                    let report = fuzz(target, args.iterations, args.seed, |failure| {
                        let _ = std::fs::create_dir_all(&args.out);
                        let hash = crc32fast_like(&failure.input);
                        let path = args.out.join(format!("{}-{hash:08x}.bin", target.name));
                        let _ = std::fs::write(&path, &failure.input);
                        eprintln!("FAIL {}: {} (input saved to {})", target.name, failure.what, path.display());
                    });
                    let secs = start.elapsed().as_secs_f64();
                    println!(
                        "{:<16} {:>10} inputs  {:>9} valid  {:>9} rejected  {} panics  {} other failures  peak {:.1} MiB  slowest {:.0} ms  {:.0} s",
                        target.name,
                        report.inputs,
                        report.accepted,
                        report.rejected,
                        report.panics,
                        report.violations,
                        report.max_peak as f64 / (1 << 20) as f64,
                        report.slowest.as_secs_f64() * 1e3,
                        secs
                    );
                    results.lock().unwrap().push((target.name, report, secs));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let total: u64 = results.iter().map(|(_, r, _)| r.inputs).sum();
    let failed: u64 = results
        .iter()
        .map(|(_, r, _)| r.panics + r.violations)
        .sum();
    println!("total: {total} inputs, {failed} failures");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// A short name for a failing input (FNV-1a, 32 bits).
fn crc32fast_like(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}
