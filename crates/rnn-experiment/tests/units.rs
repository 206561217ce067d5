//! Unit checks of the statistics vocabulary and the shard arithmetic.

use rnn_experiment::Shard;
use rnn_experiment::stats::{Summary, best_by_median, line_fit, median, quantile, wilson_interval};

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

/// Found by `rnn-fuzz` (grid_toml): a short grid file with many axes
/// multiplied past `usize` (a panic on overflow) or into an allocation of
/// 2^40 points (an abort). The run count is now checked and capped.
#[test]
fn a_grid_of_too_many_runs_is_a_typed_error() {
    use rnn_experiment::GridFile;
    use rnn_experiment::grid::MAX_RUNS;
    let grid = |axes: usize, values: &str| {
        let mut doc = String::from(
            "[[grid]]\nname = \"big\"\n[grid.base]\ntask = { name = \"periodic\" }\n\
             rule = { name = \"rflo\", rates = 0.03 }\n",
        );
        for i in 0..axes {
            doc.push_str(&format!(
                "[[grid.axis]]\n\"training.seed\" = {values}\n# {i}\n"
            ));
        }
        GridFile::from_toml(&doc).unwrap()
    };
    for (axes, values) in [
        (40, "[0, 1]"),
        (70, "[0, 1]"),
        (25, "[0, 1]"),
        (9, "[0, 1, 2, 3, 4, 5, 6]"),
    ] {
        let file = grid(axes, values);
        assert!(file.run_count().is_err(), "{axes} axes");
        assert!(file.points().is_err(), "{axes} axes");
    }
    assert!(7usize.pow(9) > MAX_RUNS && 2usize.pow(24) == MAX_RUNS);
    let file = grid(3, "[0, 1]");
    assert_eq!(file.run_count().unwrap(), 8);
    assert_eq!(file.points().unwrap().len(), 8);
}

/// Published values: Newcombe (1998, Stat. Med. 17:857, Table I, method 3)
/// gives 0/10 -> [0, 0.2775] and 81/263 -> [0.2553, 0.3662]; the others follow
/// from the formula by hand (4/9: p = 0.4444, centre 0.4610, half-width 0.2723).
#[test]
fn wilson_intervals_match_published_values_and_are_symmetric() {
    let close =
        |(a, b): (f64, f64), (x, y): (f64, f64)| (a - x).abs() < 1e-4 && (b - y).abs() < 1e-4;
    assert!(
        close(wilson_interval(0, 10), (0.0, 0.2775)),
        "{:?}",
        wilson_interval(0, 10)
    );
    assert!(
        close(wilson_interval(81, 263), (0.2553, 0.3662)),
        "{:?}",
        wilson_interval(81, 263)
    );
    assert!(
        close(wilson_interval(4, 9), (0.1887, 0.7333)),
        "{:?}",
        wilson_interval(4, 9)
    );
    for n in 1..20 {
        for k in 0..=n {
            let (lo, hi) = wilson_interval(k, n);
            let (lo2, hi2) = wilson_interval(n - k, n);
            assert!((lo - (1.0 - hi2)).abs() < 1e-12 && (hi - (1.0 - lo2)).abs() < 1e-12);
            let p = k as f64 / n as f64;
            assert!(0.0 <= lo && lo <= p && p <= hi && hi <= 1.0);
        }
    }
    assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
}
