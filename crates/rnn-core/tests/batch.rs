//! Trials batched at fixed weights (`gemv::matmat`, `Network::run_batch_from_into`)
//! against their reference paths (`gemv::matvec`, `Network::run_from_into`):
//! equal bit for bit, not merely close.

use faer::Mat;
use rand::RngExt;
use rnn_core::gemv::{PackedMatrix, matmat, matvec};
use rnn_core::{InitialState, Network, NetworkConfig, SeededRng, State, Trajectory, Trial, seeded};

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn mat_bits(m: &Mat<f64>) -> Vec<u64> {
    (0..m.ncols())
        .flat_map(|j| bits(m.col_as_slice(j)))
        .collect()
}

fn random_mat(rows: usize, cols: usize, rng: &mut SeededRng) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0))
}

/// Every column of `W V` equals `matvec(W, v_k)` bit for bit, replace and
/// accumulate, including partial last panels (rows not a multiple of
/// `PANEL_ROWS`) and partial last groups of vectors (`K` not a multiple of
/// `GROUP_VECTORS`); and on non-square `W`.
#[test]
fn matmat_columns_equal_matvec() {
    let mut rng = seeded(11);
    for &(rows, cols) in &[
        (1, 1),
        (5, 5),
        (30, 30),
        (33, 33),
        (8, 3),
        (17, 40),
        (64, 64),
        (263, 6),
        (37, 150),
    ] {
        let w = random_mat(rows, cols, &mut rng);
        for k in [1, 2, 3, 4, 5, 7, 8, 9, 10, 17] {
            let v = random_mat(cols, k, &mut rng);
            let start = random_mat(rows, k, &mut rng);
            for accumulate in [false, true] {
                let vs: Vec<f64> = (0..k).flat_map(|c| v.col_as_slice(c).to_vec()).collect();
                let mut out: Vec<f64> = (0..k)
                    .flat_map(|c| start.col_as_slice(c).to_vec())
                    .collect();
                matmat(w.as_ref(), &vs, &mut out, accumulate);
                for c in 0..k {
                    let mut want = start.col_as_slice(c).to_vec();
                    matvec(w.as_ref(), v.col_as_slice(c), &mut want, accumulate);
                    assert_eq!(
                        bits(&out[c * rows..(c + 1) * rows]),
                        bits(&want),
                        "{rows}x{cols}, K = {k}, column {c}, accumulate {accumulate}"
                    );
                }
            }
        }
    }
}

/// One packed `W` serves products with different numbers of vectors (its
/// transposed-vector buffer is resized), each equal to `matvec` bit for bit.
#[test]
fn packed_matrix_is_reusable_across_batch_sizes() {
    let mut rng = seeded(12);
    let (rows, cols) = (21, 19);
    let w = random_mat(rows, cols, &mut rng);
    let mut packed = PackedMatrix::new(w.as_ref());
    assert_eq!((packed.nrows(), packed.ncols()), (rows, cols));
    for k in [10, 3, 1, 7, 10] {
        let v = random_mat(cols, k, &mut rng);
        let vs: Vec<f64> = (0..k).flat_map(|c| v.col_as_slice(c).to_vec()).collect();
        let mut out = vec![f64::NAN; rows * k];
        packed.matmat(&vs, &mut out, false);
        for c in 0..k {
            let mut want = vec![0.0; rows];
            matvec(w.as_ref(), v.col_as_slice(c), &mut want, false);
            assert_eq!(
                bits(&out[c * rows..(c + 1) * rows]),
                bits(&want),
                "K = {k}, column {c}"
            );
        }
    }
}

/// Signed zeros and a sum that is exactly zero: `matmat` starts from `+0.0`
/// like `matvec`, so `-0.0` products give `+0.0`, as in the reference.
#[test]
fn matmat_keeps_matvecs_zero_signs() {
    let w = Mat::from_fn(9, 2, |i, j| if (i + j) % 2 == 0 { -0.0 } else { 1.0 });
    let v = Mat::from_fn(2, 3, |j, k| if (j + k) % 2 == 0 { 0.0 } else { -1.0 });
    let vs: Vec<f64> = (0..3).flat_map(|c| v.col_as_slice(c).to_vec()).collect();
    let mut out = vec![1.0; 27];
    matmat(w.as_ref(), &vs, &mut out, false);
    for c in 0..3 {
        let mut want = vec![0.0; 9];
        matvec(w.as_ref(), v.col_as_slice(c), &mut want, false);
        assert_eq!(bits(&out[c * 9..(c + 1) * 9]), bits(&want));
    }
}

fn random_trial(
    nx: usize,
    ny: usize,
    len: usize,
    init: InitialState,
    rng: &mut SeededRng,
) -> Trial {
    let inputs = random_mat(len, nx, rng);
    let targets = random_mat(len, ny, rng);
    let mask = (0..len)
        .map(|s| if s % 3 == 0 { 0.0 } else { 1.0 })
        .collect();
    Trial::new(inputs.as_ref(), targets.as_ref(), Some(mask), init).unwrap()
}

fn assert_same_trajectory(got: &Trajectory, want: &Trajectory, what: &str) {
    assert_eq!(mat_bits(&got.u), mat_bits(&want.u), "{what}: u");
    assert_eq!(mat_bits(&got.h), mat_bits(&want.h), "{what}: h");
    assert_eq!(mat_bits(&got.y), mat_bits(&want.y), "{what}: y");
    assert_eq!(mat_bits(&got.error), mat_bits(&want.error), "{what}: error");
    assert_eq!(bits(&got.y_initial), bits(&want.y_initial), "{what}: y(0)");
    assert_eq!(got.loss.to_bits(), want.loss.to_bits(), "{what}: loss");
}

/// A batch of `K` trials gives each trial's `run_from_into_with_slope`
/// trajectory and slopes bit for bit: `K ∈ {1, 2, 3, 10}`, `N ∈ {1, 5, 30, 33}`,
/// `tau ∈ {1, 10}`, with and without inputs and readout feedback, from
/// constant, given and arbitrary (carried-over) start states.
#[test]
fn batch_equals_sequential_trials() {
    let mut rng = seeded(5);
    for n in [1, 5, 30, 33] {
        for tau in [1.0, 10.0] {
            for (nx, ny, feedback) in [(0, 1, false), (3, 2, false), (2, 1, true)] {
                let config = NetworkConfig::new(n, nx, ny)
                    .with_tau(tau)
                    .with_readout_feedback(feedback);
                let net = Network::random(&config, &mut rng).unwrap();
                for k in [1, 2, 3, 10] {
                    let trials: Vec<Trial> = (0..k)
                        .map(|i| {
                            let init = match i % 3 {
                                0 => InitialState::Constant(0.1),
                                1 => InitialState::Given((0..n).map(|u| u as f64 * 0.01).collect()),
                                _ => InitialState::CarryOver,
                            };
                            random_trial(nx, ny, 13, init, &mut rng)
                        })
                        .collect();
                    let starts: Vec<State> = trials
                        .iter()
                        .map(|trial| {
                            let carried = State {
                                h: (0..n).map(|_| rng.random_range(-0.5..0.5)).collect(),
                                y: (0..ny).map(|_| rng.random_range(-0.5..0.5)).collect(),
                            };
                            State::initial(&net, trial, Some(&carried)).unwrap()
                        })
                        .collect();
                    let refs: Vec<&Trial> = trials.iter().collect();
                    let mut batch = Vec::new();
                    let mut slopes = Vec::new();
                    net.run_batch_from_into(&refs, &starts, &mut batch, Some(&mut slopes))
                        .unwrap();
                    let mut plain = Vec::new();
                    net.run_batch_from_into(&refs, &starts, &mut plain, None)
                        .unwrap();
                    for (i, (trial, start)) in trials.iter().zip(&starts).enumerate() {
                        let what = format!(
                            "N = {n}, tau = {tau}, N_x = {nx}, N_y = {ny}, feedback {feedback}, K = {k}, trial {i}"
                        );
                        let mut want = Trajectory::zeros(&net, 0);
                        let mut want_slope = Mat::zeros(0, 0);
                        net.run_from_into_with_slope(trial, start, &mut want, &mut want_slope)
                            .unwrap();
                        assert_same_trajectory(&batch[i], &want, &what);
                        assert_same_trajectory(&plain[i], &want, &what);
                        assert_eq!(mat_bits(&slopes[i]), mat_bits(&want_slope), "{what}: slope");
                    }
                }
            }
        }
    }
}

/// Trials of different lengths are run in groups of equal length and still
/// equal their single runs; buffers of another shape are resized.
#[test]
fn batch_of_mixed_lengths_equals_sequential_trials() {
    let mut rng = seeded(9);
    let net = Network::random(&NetworkConfig::new(12, 1, 1), &mut rng).unwrap();
    let trials: Vec<Trial> = [7, 3, 7, 1, 3, 9]
        .iter()
        .map(|&len| random_trial(1, 1, len, InitialState::Constant(0.0), &mut rng))
        .collect();
    let starts: Vec<State> = trials
        .iter()
        .map(|trial| State::initial(&net, trial, None).unwrap())
        .collect();
    let refs: Vec<&Trial> = trials.iter().collect();
    let mut batch = vec![Trajectory::zeros(&net, 2); 2];
    net.run_batch_from_into(&refs, &starts, &mut batch, None)
        .unwrap();
    assert_eq!(batch.len(), trials.len());
    for (i, trial) in trials.iter().enumerate() {
        let want = net.run_trial(trial, None).unwrap();
        assert_same_trajectory(&batch[i], &want, &format!("trial {i}"));
    }
}

/// A trial that does not fit is an error before anything runs; a diverging
/// trial leaves its non-finite loss and does not disturb the others.
#[test]
fn batch_errors_and_divergence() {
    let mut rng = seeded(3);
    let net = Network::random(&NetworkConfig::new(6, 1, 1), &mut rng).unwrap();
    let good = random_trial(1, 1, 5, InitialState::Constant(0.0), &mut rng);
    let wrong = random_trial(2, 1, 5, InitialState::Constant(0.0), &mut rng);
    let start = State::initial(&net, &good, None).unwrap();
    let mut out = Vec::new();
    assert!(
        net.run_batch_from_into(
            &[&good, &wrong],
            &[start.clone(), start.clone()],
            &mut out,
            None
        )
        .is_err()
    );
    assert!(
        net.run_batch_from_into(
            &[&good, &good],
            std::slice::from_ref(&start),
            &mut out,
            None
        )
        .is_err()
    );
    let huge = Trial::new(
        Mat::from_fn(5, 1, |_, _| 1e300).as_ref(),
        Mat::from_fn(5, 1, |_, _| -1e300).as_ref(),
        None,
        InitialState::Constant(0.0),
    )
    .unwrap();
    net.run_batch_from_into(
        &[&good, &huge],
        &[start.clone(), start.clone()],
        &mut out,
        None,
    )
    .unwrap();
    assert!(!out[1].loss.is_finite());
    assert!(net.run_trial(&huge, None).is_err());
    let want = net.run_trial(&good, None).unwrap();
    assert_same_trajectory(&out[0], &want, "the finite trial");
}

/// `matvec`'s one-row path (a readout) gives the bits of its general path:
/// the same row inside a taller matrix.
#[test]
fn one_row_matvec_equals_general_path() {
    let mut rng = seeded(12);
    for cols in [1, 3, 4, 5, 30, 101] {
        let tall = random_mat(3, cols, &mut rng);
        let row = Mat::from_fn(1, cols, |_, j| tall[(0, j)]);
        let v = random_mat(cols, 1, &mut rng);
        for accumulate in [false, true] {
            let mut want = vec![0.25, 0.0, 0.0];
            matvec(tall.as_ref(), v.col_as_slice(0), &mut want, accumulate);
            let mut got = vec![0.25];
            matvec(row.as_ref(), v.col_as_slice(0), &mut got, accumulate);
            assert_eq!(
                bits(&got),
                bits(&want[..1]),
                "1x{cols}, accumulate {accumulate}"
            );
        }
    }
}
