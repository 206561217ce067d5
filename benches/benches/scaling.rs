//! Per-time-step cost of one training trial of every learning rule against
//! `N` (every workload of the rule registry, [`Workload::all`]), a triad memory-bandwidth kernel and seeds in parallel (1 vs 2
//! threads), all in one criterion run so that their ratios compare like
//! with like; `batch_rflo` and `batch_bptt` compare `K = 10` trials batched
//! at fixed weights with the same trials one at a time. `cargo run --release -p rnn-bench --bin bench-report` turns
//! the results into slopes and the performance ratios, written to
//! `target/bench-report/` (`report.md`, `scaling-{min,median}.svg`).
//!
//! In criterion's test mode (`-- --test`, the smoke run) sizes `N >= 512`
//! are skipped so that the run takes seconds.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

use rnn_bench::{
    BATCH_K, BATCH_SIZES, BatchRunner, Runner, SEEDS, STREAM_N, SeedSweep, T, TRIAD_LEN, Workload,
    batch_rules, network, pool, stream_read, triad, triad_bytes,
};

/// True in criterion's test mode (`--test`): run each bench once, quickly.
fn test_mode() -> bool {
    std::env::args().any(|arg| arg == "--test")
}

fn rules(c: &mut Criterion) {
    let quick = test_mode();
    for workload in Workload::all() {
        let mut group = c.benchmark_group(workload.group());
        group.throughput(Throughput::Elements(T as u64));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        for n in workload.sizes() {
            if quick && n >= 512 {
                continue;
            }
            let mut runner = Runner::new(&workload, n, 1);
            group.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| black_box(runner.run()))
            });
        }
        group.finish();
    }
}

fn memory(c: &mut Criterion) {
    let mut group = c.benchmark_group("triad");
    group.throughput(Throughput::Bytes(triad_bytes()));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    let b_vec: Vec<f64> = (0..TRIAD_LEN).map(|i| i as f64).collect();
    let c_vec = vec![0.5; TRIAD_LEN];
    let mut a_vec = vec![0.0; TRIAD_LEN];
    group.bench_function("64MiB", |b| {
        b.iter(|| {
            triad(&mut a_vec, black_box(&b_vec), black_box(&c_vec), 3.0);
            black_box(a_vec[TRIAD_LEN / 2])
        })
    });
    group.finish();

    // `u = W v` at N = STREAM_N (the forward pass's product, `rnn_core::gemv`)
    // against a plain streaming read of an array the size of `W`.
    let net = network(STREAM_N, 1);
    let w_bytes = (8 * STREAM_N * STREAM_N) as u64;
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Bytes(w_bytes));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    let copy: Vec<f64> = (0..STREAM_N * STREAM_N).map(|i| i as f64).collect();
    group.bench_function("read", |b| {
        b.iter(|| black_box(stream_read(black_box(&copy))))
    });
    let v = vec![0.1; STREAM_N];
    let mut u = vec![0.0; STREAM_N];
    group.bench_function("matvec", |b| {
        b.iter(|| {
            rnn_core::gemv::matvec(net.recurrent(), black_box(&v), &mut u, false);
            black_box(u[0])
        })
    });
    // `K` vectors per pass over `W` (packed once, as a batch of trials does),
    // counted as `K` reads of `W`: its rate compares with `matvec`'s per vector.
    group.throughput(Throughput::Bytes(w_bytes * BATCH_K as u64));
    let mut packed = rnn_core::gemv::PackedMatrix::new(net.recurrent());
    let vs = vec![0.1; STREAM_N * BATCH_K];
    let mut us = vec![0.0; STREAM_N * BATCH_K];
    group.bench_function(format!("matmat/K={BATCH_K}"), |b| {
        b.iter(|| {
            packed.matmat(black_box(&vs), &mut us, false);
            black_box(us[0])
        })
    });
    group.finish();
}

/// `K` trials at fixed weights, batched (`accumulate_many`: `W` read once
/// per step for all of them) and one at a time, for the rules that batch.
/// Throughput in time steps of all `K` trials, so the two ids of a group
/// compare per-trial throughput directly.
fn batched(c: &mut Criterion) {
    let quick = test_mode();
    for (name, spec) in batch_rules() {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements((BATCH_K * T) as u64));
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        for n in BATCH_SIZES {
            if quick && n >= 512 {
                continue;
            }
            for (id, on) in [("batched", true), ("sequential", false)] {
                let mut runner = BatchRunner::new(&spec, n, on);
                group.bench_function(BenchmarkId::new(format!("{id}/K={BATCH_K}"), n), |b| {
                    b.iter(|| black_box(runner.run()))
                });
            }
        }
        group.finish();
    }
}

fn seeds(c: &mut Criterion) {
    let mut group = c.benchmark_group("seeds");
    group.throughput(Throughput::Elements((SEEDS * T) as u64));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for threads in [1, 2] {
        let pool = pool(threads);
        let mut sweep = SeedSweep::new();
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| black_box(sweep.run(&pool)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = memory, rules, batched, seeds
}
criterion_main!(benches);
