//! Initialisation statistics (docs/spec/MODEL.md §8) at N = 500, checked within
//! 5 standard errors of the sampling distribution; ranges checked exactly.
//! Also seeded reproducibility: same seed, same bits; another seed, other bits.

use faer::{Mat, MatRef};
use rnn_core::{InitialState, Network, NetworkConfig, ReadoutInit, Trial, seeded, seeded_stream};

/// Number of standard errors allowed.
const Z: f64 = 5.0;

fn entries(m: MatRef<'_, f64>) -> Vec<f64> {
    let mut v = Vec::with_capacity(m.nrows() * m.ncols());
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            v.push(m[(i, j)]);
        }
    }
    v
}

/// Sample mean, unbiased variance and the standardised fourth moment
/// (kurtosis: 3 for a normal, 9/5 for a uniform).
fn moments(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let m2 = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m4 = v.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    (mean, m2 * n / (n - 1.0), m4 / (m2 * m2))
}

/// Checks mean 0 and variance `var` of i.i.d. samples whose population
/// kurtosis is `kurt` (SE of the sample variance = var sqrt((kurt - 1) / n)).
fn check_mean_var(v: &[f64], var: f64, kurt: f64, what: &str) {
    let n = v.len() as f64;
    let (mean, s2, k) = moments(v);
    let se_mean = (var / n).sqrt();
    assert!(
        mean.abs() < Z * se_mean,
        "{what}: mean {mean:e}, 5 SE = {:e}",
        Z * se_mean
    );
    let se_var = var * ((kurt - 1.0) / n).sqrt();
    assert!(
        (s2 - var).abs() < Z * se_var,
        "{what}: variance {s2:e}, want {var:e} +- {:e}",
        Z * se_var
    );
    // SE of the sample kurtosis is about sqrt(24 / n) for a normal and
    // sqrt(0.46 / n) for a uniform (n large); use the larger bound.
    let se_kurt = (24.0 / n).sqrt();
    assert!(
        (k - kurt).abs() < Z * se_kurt,
        "{what}: kurtosis {k}, want {kurt} +- {}",
        Z * se_kurt
    );
}

/// Uniform on [-w, w]: every entry within the range (exactly), the range is
/// actually used (max |x| > 0.99 w: probability of failing 0.99^n), mean 0,
/// variance w^2 / 3, kurtosis 9/5.
fn check_uniform(v: &[f64], w: f64, what: &str) {
    assert!(
        v.iter().all(|&x| -w <= x && x <= w),
        "{what}: entry outside [-{w}, {w}]"
    );
    let max = v.iter().fold(0.0f64, |a, &x| a.max(x.abs()));
    assert!(
        max > 0.99 * w,
        "{what}: max |x| = {max}, range [-{w}, {w}] not covered"
    );
    assert!(v.iter().any(|&x| x > 0.5 * w) && v.iter().any(|&x| x < -0.5 * w));
    check_mean_var(v, w * w / 3.0, 1.8, what);
}

const N: usize = 500;
const NX: usize = 20;
const NY: usize = 20;

fn big_net(config: &NetworkConfig, seed: u64) -> Network {
    Network::random(config, &mut seeded(seed)).unwrap()
}

#[test]
fn recurrent_weights_are_normal_with_variance_g2_over_n() {
    for gain in [1.5, 0.5] {
        let config = NetworkConfig::new(N, NX, NY).with_gain(gain);
        let net = big_net(&config, 2019);
        assert_eq!((net.recurrent().nrows(), net.recurrent().ncols()), (N, N));
        let w = entries(net.recurrent());
        let var = gain * gain / N as f64;
        check_mean_var(&w, var, 3.0, &format!("W (g = {gain})"));

        // Neighbouring entries are uncorrelated (SE of a correlation = 1/sqrt(n)).
        let r = net.recurrent();
        let mut sum = 0.0;
        let mut count = 0.0;
        for j in 0..N - 1 {
            for i in 0..N {
                sum += r[(i, j)] * r[(i, j + 1)];
                count += 1.0;
            }
        }
        let corr = sum / count / var;
        assert!(corr.abs() < Z / count.sqrt(), "W column correlation {corr}");
    }
}

#[test]
fn zero_gain_gives_zero_recurrent_weights() {
    let net = big_net(&NetworkConfig::new(10, 1, 1).with_gain(0.0), 5);
    assert!(entries(net.recurrent()).iter().all(|&x| x == 0.0));
}

#[test]
fn input_weights_are_uniform_on_minus_one_one() {
    let net = big_net(&NetworkConfig::new(N, NX, NY), 7);
    assert_eq!((net.input().nrows(), net.input().ncols()), (N, NX));
    check_uniform(&entries(net.input()), 1.0, "W_in");

    let mut config = NetworkConfig::new(N, NX, NY);
    config.input_scale = 0.25;
    let net = big_net(&config, 8);
    check_uniform(&entries(net.input()), 0.25, "W_in (scale 0.25)");
}

#[test]
fn readout_paper_text_is_uniform_on_one_over_n() {
    let config = NetworkConfig::new(N, NX, NY).with_readout_init(ReadoutInit::PaperText);
    let net = big_net(&config, 11);
    assert_eq!((net.readout().nrows(), net.readout().ncols()), (NY, N));
    check_uniform(
        &entries(net.readout()),
        1.0 / N as f64,
        "W_out (paper text)",
    );
}

#[test]
fn readout_example_code_is_uniform_on_point_one_over_sqrt_n() {
    let config = NetworkConfig::new(N, NX, NY).with_readout_init(ReadoutInit::ExampleCode);
    let net = big_net(&config, 12);
    check_uniform(
        &entries(net.readout()),
        0.1 / (N as f64).sqrt(),
        "W_out (example code)",
    );
}

#[test]
fn readout_uniform_half_width() {
    let config =
        NetworkConfig::new(N, NX, NY).with_readout_init(ReadoutInit::Uniform { half_width: 0.3 });
    let net = big_net(&config, 13);
    check_uniform(&entries(net.readout()), 0.3, "W_out (uniform 0.3)");
    let zero =
        NetworkConfig::new(5, 1, 1).with_readout_init(ReadoutInit::Uniform { half_width: 0.0 });
    assert!(
        entries(big_net(&zero, 1).readout())
            .iter()
            .all(|&x| x == 0.0)
    );
}

#[test]
fn readout_half_width_formulas() {
    assert_eq!(ReadoutInit::PaperText.half_width(500), 1.0 / 500.0);
    assert_eq!(ReadoutInit::ExampleCode.half_width(400), 0.1 / 20.0);
    assert_eq!(ReadoutInit::Uniform { half_width: 0.7 }.half_width(9), 0.7);
}

#[test]
fn feedback_is_standard_normal() {
    let net = big_net(&NetworkConfig::new(N, NX, NY), 17);
    assert_eq!((net.feedback().nrows(), net.feedback().ncols()), (N, NY));
    check_mean_var(&entries(net.feedback()), 1.0, 3.0, "B");

    let mut config = NetworkConfig::new(N, NX, NY);
    config.feedback_scale = 2.0;
    let net = big_net(&config, 18);
    check_mean_var(&entries(net.feedback()), 4.0, 3.0, "B (scale 2)");
}

#[test]
fn defaults_are_the_papers() {
    let c = NetworkConfig::new(30, 2, 1);
    assert_eq!(c.tau, 10.0);
    assert_eq!(c.alpha(), 0.1);
    assert_eq!(c.gain, 1.5);
    assert_eq!(c.input_scale, 1.0);
    assert_eq!(c.feedback_scale, 1.0);
    assert_eq!(c.readout_init, ReadoutInit::PaperText);
    assert!(!c.readout_feedback);
    c.validate().unwrap();
    // Boundary values are valid.
    NetworkConfig::new(1, 0, 1)
        .with_tau(1.0)
        .with_gain(0.0)
        .validate()
        .unwrap();
}

fn col_major(rows: usize, cols: usize, mut f: impl FnMut() -> f64) -> Mat<f64> {
    let mut m = Mat::<f64>::zeros(rows, cols);
    for j in 0..cols {
        for i in 0..rows {
            m[(i, j)] = f();
        }
    }
    m
}

/// The documented draw order (W column by column, then W_in, W_out, B, each
/// column-major) reproduced with the generator directly.
#[test]
fn documented_draw_order() {
    use rand::RngExt;
    use rand_distr::{Distribution, Normal};
    let (n, nx, ny) = (4, 3, 2);
    let config = NetworkConfig::new(n, nx, ny);
    let net = Network::random(&config, &mut seeded(42)).unwrap();
    let mut rng = seeded(42);
    let normal = Normal::new(0.0, 1.5 / (n as f64).sqrt()).unwrap();
    let w = col_major(n, n, || normal.sample(&mut rng));
    assert_eq!(w, net.weights().recurrent);
    let w_in = col_major(n, nx, || 2.0 * rng.random::<f64>() - 1.0);
    assert_eq!(w_in, net.weights().input);
    let hw = 1.0 / n as f64;
    let w_out = col_major(ny, n, || hw * (2.0 * rng.random::<f64>() - 1.0));
    assert_eq!(w_out, net.weights().readout);
    let std_normal = Normal::new(0.0, 1.0).unwrap();
    let b = col_major(n, ny, || std_normal.sample(&mut rng));
    assert_eq!(b, net.weights().feedback);
}

fn mat_bits(m: MatRef<'_, f64>) -> Vec<u64> {
    entries(m).iter().map(|x| x.to_bits()).collect()
}

fn net_bits(net: &Network) -> Vec<Vec<u64>> {
    vec![
        mat_bits(net.recurrent()),
        mat_bits(net.input()),
        mat_bits(net.readout()),
        mat_bits(net.feedback()),
    ]
}

fn a_trial(nx: usize, ny: usize) -> Trial {
    let len = 25;
    Trial::new(
        Mat::from_fn(len, nx, |s, k| ((s + 7 * k) as f64 * 0.3).sin()).as_ref(),
        Mat::from_fn(len, ny, |s, k| ((s * 2 + k) as f64 * 0.1).cos()).as_ref(),
        None,
        InitialState::Constant(0.1),
    )
    .unwrap()
}

#[test]
fn same_seed_gives_bit_identical_network_and_trajectory() {
    let config = NetworkConfig::new(40, 3, 2).with_readout_feedback(true);
    let a = Network::random(&config, &mut seeded(123)).unwrap();
    let b = Network::random(&config, &mut seeded(123)).unwrap();
    assert_eq!(net_bits(&a), net_bits(&b));
    let trial = a_trial(3, 2);
    let ta = a.run_trial(&trial, None).unwrap();
    let tb = b.run_trial(&trial, None).unwrap();
    assert_eq!(mat_bits(ta.h.as_ref()), mat_bits(tb.h.as_ref()));
    assert_eq!(mat_bits(ta.u.as_ref()), mat_bits(tb.u.as_ref()));
    assert_eq!(mat_bits(ta.y.as_ref()), mat_bits(tb.y.as_ref()));
    assert_eq!(ta.loss.to_bits(), tb.loss.to_bits());
    // Running the same network twice is deterministic too.
    let ta2 = a.run_trial(&trial, None).unwrap();
    assert_eq!(mat_bits(ta.h.as_ref()), mat_bits(ta2.h.as_ref()));
}

#[test]
fn different_seed_gives_different_network_and_trajectory() {
    let config = NetworkConfig::new(40, 3, 2);
    let a = Network::random(&config, &mut seeded(123)).unwrap();
    let b = Network::random(&config, &mut seeded(124)).unwrap();
    let (na, nb) = (net_bits(&a), net_bits(&b));
    for (k, (ma, mb)) in na.iter().zip(&nb).enumerate() {
        // Every matrix differs, and in almost every entry.
        let same = ma.iter().zip(mb).filter(|(x, y)| x == y).count();
        assert!(
            same * 100 < ma.len(),
            "matrix {k}: {same} of {} entries equal",
            ma.len()
        );
    }
    let trial = a_trial(3, 2);
    let ta = a.run_trial(&trial, None).unwrap();
    let tb = b.run_trial(&trial, None).unwrap();
    assert_ne!(mat_bits(ta.h.as_ref()), mat_bits(tb.h.as_ref()));
    assert_ne!(ta.loss.to_bits(), tb.loss.to_bits());
}

#[test]
fn streams_are_reproducible_and_distinct() {
    let config = NetworkConfig::new(20, 1, 1);
    let s0 = Network::random(&config, &mut seeded_stream(5, 0)).unwrap();
    let s0b = Network::random(&config, &mut seeded_stream(5, 0)).unwrap();
    let s1 = Network::random(&config, &mut seeded_stream(5, 1)).unwrap();
    assert_eq!(net_bits(&s0), net_bits(&s0b));
    assert_ne!(net_bits(&s0), net_bits(&s1));
}
