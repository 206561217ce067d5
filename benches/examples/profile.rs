//! Runs one benchmark workload repeatedly, for a profiler:
//!
//! ```text
//! cargo build --release -p rnn-bench --example profile
//! valgrind --tool=callgrind target/release/examples/profile rflo_online 30 200
//! ```
//!
//! Arguments: the workload's criterion group name, `N`, and the number of
//! trials. The batched-trials workloads are named `batch_rflo/batched`,
//! `batch_rflo/sequential`, `batch_bptt/batched`, `batch_bptt/sequential`;
//! for them the count is of batches of `BATCH_K` trials.
#![allow(clippy::print_stdout)]

use rnn_bench::{BATCH_K, BatchRunner, Runner, Workload, batch_rules};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let group = args.get(1).map_or("rflo_online", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30);
    let trials: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    if let Some((name, mode)) = group.split_once('/')
        && let Some((_, spec)) = batch_rules().into_iter().find(|(g, _)| *g == name)
    {
        let mut runner = BatchRunner::new(&spec, n, mode == "batched");
        let total: f64 = (0..trials).map(|_| runner.run()).sum();
        println!(
            "{group} N = {n}: {trials} batches of {BATCH_K} trials, mean loss {}",
            total / (trials * BATCH_K) as f64
        );
        return;
    }
    let Some(workload) = Workload::find(group) else {
        let all = Workload::all();
        let names: Vec<&str> = all.iter().map(Workload::group).collect();
        println!("unknown workload {group}; one of: {}", names.join(", "));
        std::process::exit(2);
    };
    let mut runner = Runner::new(&workload, n, 1);
    let total: f64 = (0..trials).map(|_| runner.run()).sum();
    println!(
        "{group} N = {n}: {trials} trials, mean loss {}",
        total / trials as f64
    );
}
