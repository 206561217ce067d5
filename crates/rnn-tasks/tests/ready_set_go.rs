//! Ready–Set–Go task (docs/spec/TASKS.md §2).

use rnn_core::{InitialState, TrialSource, seeded};
use rnn_tasks::{ReadySetGo, ReadySetGoConfig, Task, TaskError, produced_interval};

fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

fn column(trial: &rnn_core::Trial, input: bool) -> Vec<f64> {
    (0..trial.len())
        .map(|s| {
            if input {
                trial.input_at(s)[0]
            } else {
                trial.target_at(s)[0]
            }
        })
        .collect()
}

#[test]
fn pulses_peak_at_ready_set_and_go() {
    let task = ReadySetGo::new(ReadySetGoConfig::default()).unwrap();
    assert_eq!(task.trial_len(), 50 + 2 * 150 + 60);
    for delay in [50usize, 51, 77, 100, 149, 150] {
        let trial = task.trial_with_delay(delay).unwrap();
        assert_eq!(trial.len(), 410);
        assert_eq!(trial.initial_state(), &InitialState::Constant(0.0));
        let x = column(&trial, true);
        let y = column(&trial, false);
        let t_ready = 50;
        let t_set = t_ready + delay;
        // Ready peak: index t_ready - 1 is the maximum of the window around it.
        let lo = t_ready - 20;
        assert_eq!(
            lo + argmax(&x[lo..t_ready + 20]),
            t_ready - 1,
            "delay {delay}"
        );
        // Set peak.
        let lo = t_set - 20;
        assert_eq!(lo + argmax(&x[lo..t_set + 20]), t_set - 1, "delay {delay}");
        // Target peak at t_set + delay, value exactly 1, global maximum.
        assert_eq!(argmax(&y), t_set + delay - 1, "delay {delay}");
        assert_eq!(y[t_set + delay - 1], 1.0);
        // Values against the formula, computed here.
        let g = |s: f64| (-(s * s) / (2.0 * 15.0 * 15.0)).exp();
        for s in [0usize, 10, 49, 100, 200, 409] {
            let t = (s + 1) as f64;
            let xe = g(t - t_ready as f64) + g(t - t_set as f64);
            let ye = g(t - (t_set + delay) as f64);
            assert!((x[s] - xe).abs() < 1e-15);
            assert!((y[s] - ye).abs() < 1e-15);
        }
        // The target has decayed by the end of the trial (T includes 4 sigma).
        assert!(y[409] < 1e-3);
    }
}

/// Chi-square goodness of fit of 10,000 drawn delays against the uniform law
/// on `T_min..=T_max` (both ends inclusive).
#[test]
fn delays_are_uniform_over_the_inclusive_range() {
    for (min, max) in [(50usize, 150usize), (50, 200)] {
        let mut task = ReadySetGo::new(ReadySetGoConfig::with_delays(min, max)).unwrap();
        let mut rng = seeded(2024);
        let n_bins = max - min + 1;
        let mut counts = vec![0usize; n_bins];
        let n = 10_000;
        for _ in 0..n {
            let trial = task.next_trial(&mut rng).unwrap();
            let delay = task.last_delay().unwrap();
            assert!((min..=max).contains(&delay));
            // The trial is the one of that delay.
            assert_eq!(trial, task.trial_with_delay(delay).unwrap());
            counts[delay - min] += 1;
        }
        let expected = n as f64 / n_bins as f64;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        // Upper 0.1% point of chi-square (p = 0.001): df = 100 -> 149.4,
        // df = 150 -> 209.3 (Wilson-Hilferty). A fixed seed makes the test
        // deterministic; an off-by-one range leaves a bin empty (+~99).
        let threshold = if n_bins == 101 { 149.4 } else { 209.3 };
        assert!(chi2 < threshold, "chi2 = {chi2} with {} dof", n_bins - 1);
        // Both ends are drawn (inclusive range).
        assert!(counts[0] > 0 && counts[n_bins - 1] > 0);
    }
}

#[test]
fn interval_helper_recovers_the_delay_from_the_target() {
    let task = ReadySetGo::new(ReadySetGoConfig::with_delays(50, 250)).unwrap();
    for delay in 50..=250 {
        let trial = task.trial_with_delay(delay).unwrap();
        let y = column(&trial, false);
        let readout = produced_interval(&y, task.t_set(delay)).unwrap();
        assert!(readout.interval.abs_diff(delay) <= 1, "delay {delay}");
        assert_eq!(readout.interval, delay);
        assert_eq!(readout.peak_time, task.target_peak_time(delay));
        assert_eq!(readout.peak_height, 1.0);
    }
}

#[test]
fn interval_helper_conventions_and_errors() {
    // Index s is time s + 1; only times strictly after t_set count.
    let mut trace = vec![0.0; 20];
    trace[9] = 5.0; // time 10 = t_set: ignored
    trace[14] = 2.0; // time 15
    trace[16] = 2.0; // tie: earliest wins
    let r = produced_interval(&trace, 10).unwrap();
    assert_eq!((r.interval, r.peak_time, r.peak_height), (5, 15, 2.0));

    assert!(matches!(
        produced_interval(&trace, 20),
        Err(TaskError::NoStepsAfterSet { t_set: 20, len: 20 })
    ));
    trace[12] = f64::NAN;
    assert!(matches!(
        produced_interval(&trace, 10),
        Err(TaskError::NonFiniteTrace { index: 12, .. })
    ));
}

#[test]
fn given_delay_outside_range_is_an_error() {
    let task = ReadySetGo::new(ReadySetGoConfig::default()).unwrap();
    for delay in [0usize, 49, 151] {
        assert!(matches!(
            task.trial_with_delay(delay),
            Err(TaskError::DelayOutOfRange {
                min: 50,
                max: 150,
                ..
            })
        ));
    }
    assert_eq!(
        task.evenly_spaced_delays(11),
        vec![50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]
    );
    assert_eq!(task.evenly_spaced_delays(3), vec![50, 100, 150]);
    assert_eq!(task.n_inputs(), 1);
    assert_eq!(task.n_outputs(), 1);
}
