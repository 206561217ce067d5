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

use rnn_fuzz::{Report, TARGETS, Target, Watch, fuzz_watched};

/// An input still running after this long is reported as a hang and the run stops.
const HANG: std::time::Duration = std::time::Duration::from_secs(60);

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
    let workers = args.threads.min(targets.len());
    // Per worker: its target and the input it is running.
    let watches: Vec<(Mutex<&'static str>, Watch)> = (0..workers)
        .map(|_| (Mutex::new(""), Mutex::new(None)))
        .collect();
    let running = std::sync::atomic::AtomicUsize::new(workers);
    std::thread::scope(|s| {
        // The watchdog: a hang never ends, so it is caught while it runs.
        s.spawn(|| {
            while running.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                std::thread::sleep(std::time::Duration::from_millis(500));
                for (name, watch) in &watches {
                    let slot = watch.lock().unwrap();
                    if let Some((since, input)) = slot.as_ref()
                        && since.elapsed() > HANG
                    {
                        let name = *name.lock().unwrap();
                        let _ = std::fs::create_dir_all(&args.out);
                        let path = args
                            .out
                            .join(format!("{name}-hang-{:08x}.bin", crc32fast_like(input)));
                        let _ = std::fs::write(&path, input);
                        eprintln!(
                            "HANG {name}: an input has run for {:?} (input saved to {})",
                            since.elapsed(),
                            path.display()
                        );
                        std::process::exit(1);
                    }
                }
            }
        });
        for w in 0..workers {
            let (watches, running, queue, results, args) =
                (&watches, &running, &queue, &results, &args);
            s.spawn(move || {
                loop {
                    let Some(target) = queue.lock().unwrap().next() else {
                        break;
                    };
                    *watches[w].0.lock().unwrap() = target.name;
                    let start = Instant::now();
                    let on_failure = |failure: &rnn_fuzz::Failure| {
                        let _ = std::fs::create_dir_all(&args.out);
                        let hash = crc32fast_like(&failure.input);
                        let path = args.out.join(format!("{}-{hash:08x}.bin", target.name));
                        let _ = std::fs::write(&path, &failure.input);
                        eprintln!("FAIL {}: {} (input saved to {})", target.name, failure.what, path.display());
                    };
                    let report = fuzz_watched(target, args.iterations, args.seed, on_failure, Some(&watches[w].1));
                    *watches[w].1.lock().unwrap() = None;
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
                running.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    rnn_fuzz::targets::remove_scratch();
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
