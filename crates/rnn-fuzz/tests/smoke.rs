//! The short fixed-seed fuzz run that CI covers: every target, a few
//! thousand mutated inputs each, no failure allowed.

use rnn_fuzz::{TARGETS, fuzz};

/// Inputs per target in `cargo test` (seconds for the whole run).
const ITERATIONS: u64 = 3_000;

#[test]
fn every_target_survives_a_short_fixed_seed_run() {
    let mut summary = Vec::new();
    let mut failed = Vec::new();
    for target in TARGETS {
        let report = fuzz(target, ITERATIONS, 17, |_| {});
        assert_eq!(report.inputs, ITERATIONS);
        let shown: Vec<String> = report
            .failures
            .iter()
            .take(3)
            .map(|f| {
                format!(
                    "{} on input {:?}",
                    f.what,
                    String::from_utf8_lossy(&f.input)
                )
            })
            .collect();
        if !report.failures.is_empty() {
            failed.push(format!(
                "{}: {} panics, {} other failures; first: {shown:#?}",
                target.name, report.panics, report.violations
            ));
            continue;
        }
        // The mutations reach both outcomes.
        assert!(report.accepted > 0, "{}: no input accepted", target.name);
        assert!(report.rejected > 0, "{}: no input rejected", target.name);
        summary.push((target.name, report.accepted, report.rejected));
    }
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(summary.len(), TARGETS.len());
}

#[test]
fn a_run_is_reproducible_from_its_seed() {
    let target = rnn_fuzz::target("shard_spec").unwrap();
    let a = fuzz(target, 300, 5, |_| {});
    let b = fuzz(target, 300, 5, |_| {});
    assert_eq!((a.accepted, a.rejected), (b.accepted, b.rejected));
}

#[test]
fn the_counting_allocator_sees_a_large_reservation() {
    let (v, usage) = rnn_fuzz::alloc::measure(|| Vec::<u8>::with_capacity(64 << 20));
    assert!(usage.largest >= 64 << 20 && usage.peak >= 64 << 20);
    drop(v);
}
