//! Unit checks of the statistics vocabulary and the shard arithmetic.

use rnn_experiment::Shard;
use rnn_experiment::stats::{Summary, best_by_median, line_fit, median, quantile};

#[test]
fn quantiles_interpolate_and_count_failures_as_worst() {
    let v = [4.0, 1.0, 3.0, 2.0];
    assert_eq!(median(&v), 2.5);
    assert_eq!(quantile(&v, 0.25), 1.75);
    // One failure of five: the median moves up one order statistic.
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0, f64::NAN]), 3.0);
    // Three failures of five: the median is a failure.
    assert_eq!(
        median(&[1.0, 2.0, f64::NAN, f64::INFINITY, f64::NAN]),
        f64::INFINITY
    );
    let s = Summary::of(&[1.0, f64::NAN, 3.0]);
    assert_eq!((s.n, s.failed, s.median), (3, 1, 3.0));
}

#[test]
fn best_by_median_skips_mostly_failed_settings() {
    let inf = f64::INFINITY;
    let groups = vec![
        vec![0.1, inf, inf],
        vec![0.5, 0.6, 0.7],
        vec![0.4, 0.4, inf],
    ];
    assert_eq!(best_by_median(&groups), Some(2));
    assert_eq!(best_by_median(&[vec![inf]]), None);
}

#[test]
fn line_fit_exact() {
    let f = line_fit(&[1.0, 2.0, 3.0], &[3.0, 5.0, 7.0]);
    assert!((f.slope - 2.0).abs() < 1e-12 && (f.intercept - 1.0).abs() < 1e-12);
    assert!((f.r2 - 1.0).abs() < 1e-12);
}

#[test]
fn shards_partition_the_runs_and_bad_specs_are_refused() {
    let shards: Vec<Shard> = (1..=3).map(|i| format!("{i}/3").parse().unwrap()).collect();
    for g in 0..10 {
        assert_eq!(shards.iter().filter(|s| s.contains(g)).count(), 1);
    }
    for bad in ["0/3", "4/3", "1/0", "x/3", "3"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}
