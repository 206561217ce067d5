//! Shared helpers for the integration tests of `rnn-learn`: small random
//! networks and trials, finite-difference gradients, an independent naive
//! implementation of the trace/sensitivity rules, and comparison metrics.

#![allow(dead_code)]

use faer::Mat;
use rand::RngExt;
use rnn_core::{
    InitialState, Network, NetworkConfig, ReadoutInit, SeededRng, State, Trajectory, Trial,
    Weights, seeded,
};
use rnn_learn::{LearningRates, WeightUpdate};

/// What to draw.
#[derive(Debug, Clone, Copy)]
pub struct CaseSpec {
    /// Seed of every random draw of the case.
    pub seed: u64,
    /// `N`.
    pub n: usize,
    /// `N_x`.
    pub nx: usize,
    /// `N_y`.
    pub ny: usize,
    /// `T`.
    pub len: usize,
    /// `tau`.
    pub tau: f64,
    /// Mask with some zeros.
    pub masked: bool,
    /// Readout-feedback mode (then `y(0)` is random and non-zero too).
    pub readout_feedback: bool,
}

impl CaseSpec {
    /// `N = 5 + seed % 2`, `N_x = 2`, `N_y = 2`, `T = 12 + 2 (seed % 4)`.
    pub fn small(seed: u64, tau: f64, masked: bool) -> Self {
        Self {
            seed,
            n: 5 + (seed % 2) as usize,
            nx: 2,
            ny: 2,
            len: 12 + 2 * (seed % 4) as usize,
            tau,
            masked,
            readout_feedback: false,
        }
    }
}

/// A network, a trial and the state it starts from.
#[derive(Debug, Clone)]
pub struct Case {
    /// What was drawn.
    pub spec: CaseSpec,
    /// The network.
    pub net: Network,
    /// The trial.
    pub trial: Trial,
    /// `h(0)` (random, non-zero) and `y(0)`.
    pub start: State,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.spec;
        write!(
            f,
            "seed {} N {} T {} tau {} masked {} feedback {}",
            s.seed, s.n, s.len, s.tau, s.masked, s.readout_feedback
        )
    }
}

fn uniform(rng: &mut SeededRng, half_width: f64) -> f64 {
    half_width * (2.0 * rng.random::<f64>() - 1.0)
}

/// Draws a case; every number comes from `seeded(spec.seed)`.
pub fn random_case(spec: CaseSpec) -> Case {
    let mut rng = seeded(spec.seed);
    let config = NetworkConfig::new(spec.n, spec.nx, spec.ny)
        .with_tau(spec.tau)
        .with_readout_init(ReadoutInit::Uniform { half_width: 0.7 })
        .with_readout_feedback(spec.readout_feedback);
    let mut net = Network::random(&config, &mut rng).unwrap();
    if spec.readout_feedback {
        // Keep the fed-back loop moderate.
        let feedback = &mut net.weights_mut().feedback;
        *feedback = Mat::from_fn(feedback.nrows(), feedback.ncols(), |i, j| {
            0.5 * feedback[(i, j)]
        });
    }
    let inputs = Mat::from_fn(spec.len, spec.nx, |_, _| uniform(&mut rng, 1.0));
    let targets = Mat::from_fn(spec.len, spec.ny, |_, _| uniform(&mut rng, 1.0));
    let mask = spec.masked.then(|| {
        let mut m: Vec<f64> = (0..spec.len)
            .map(|_| if rng.random::<f64>() < 0.3 { 0.0 } else { 1.0 })
            .collect();
        m[1] = 0.0;
        m[spec.len / 2] = 1.0;
        m
    });
    let h0: Vec<f64> = (0..spec.n).map(|_| uniform(&mut rng, 0.8)).collect();
    let trial = Trial::new(
        inputs.as_ref(),
        targets.as_ref(),
        mask,
        InitialState::Given(h0),
    )
    .unwrap();
    let mut start = State::initial(&net, &trial, None).unwrap();
    if spec.readout_feedback {
        for y in &mut start.y {
            *y = uniform(&mut rng, 0.5);
        }
    }
    Case {
        spec,
        net,
        trial,
        start,
    }
}

/// The same case with other weights.
pub fn with_weights(case: &Case, change: impl FnOnce(&mut Weights)) -> Case {
    let (config, mut weights) = case.net.clone().into_parts();
    change(&mut weights);
    Case {
        net: Network::from_weights(&config, weights).unwrap(),
        ..case.clone()
    }
}

/// The same case with `W = 0`.
pub fn with_zero_recurrent(case: &Case) -> Case {
    with_weights(case, |w| w.recurrent.fill(0.0))
}

/// A random `rows×cols` matrix, `U[-1, 1]`.
pub fn random_matrix(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut rng = seeded(seed);
    Mat::from_fn(rows, cols, |_, _| uniform(&mut rng, 1.0))
}

/// `L` of docs/spec/MODEL.md §1 for `net` on the case's trial and start.
pub fn loss(net: &Network, case: &Case) -> f64 {
    let mut trajectory = Trajectory::zeros(net, 0);
    net.run_from_into(&case.trial, &case.start, &mut trajectory)
        .unwrap();
    trajectory.loss
}

/// `-eta * dL/dTheta` by central finite differences (step `step`), one weight at a time.
pub fn finite_difference_update(case: &Case, rates: LearningRates, step: f64) -> WeightUpdate {
    let mut net = case.net.clone();
    let mut out = WeightUpdate::zeros(&net);
    for group in 0..3 {
        let (rows, cols, eta) = {
            let m = group_of(net.weights_mut(), group);
            let eta = [rates.recurrent, rates.input, rates.readout][group];
            (m.nrows(), m.ncols(), eta)
        };
        for j in 0..cols {
            for i in 0..rows {
                let original = group_of(net.weights_mut(), group)[(i, j)];
                group_of(net.weights_mut(), group)[(i, j)] = original + step;
                let plus = loss(&net, case);
                group_of(net.weights_mut(), group)[(i, j)] = original - step;
                let minus = loss(&net, case);
                group_of(net.weights_mut(), group)[(i, j)] = original;
                let target = match group {
                    0 => &mut out.recurrent,
                    1 => &mut out.input,
                    _ => &mut out.readout,
                };
                target[(i, j)] = -eta * (plus - minus) / (2.0 * step);
            }
        }
    }
    out
}

fn group_of(w: &mut Weights, group: usize) -> &mut Mat<f64> {
    match group {
        0 => &mut w.recurrent,
        1 => &mut w.input,
        _ => &mut w.readout,
    }
}

/// `max |a - b| / max |b|` over one matrix (`b` is the reference).
pub fn rel_diff_mat(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!(
        (a.nrows(), a.ncols()),
        (b.nrows(), b.ncols()),
        "shapes differ"
    );
    let mut diff: f64 = 0.0;
    let mut scale: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            diff = diff.max((a[(i, j)] - b[(i, j)]).abs());
            scale = scale.max(b[(i, j)].abs());
        }
    }
    assert!(
        scale > 0.0 || a.nrows() * a.ncols() == 0,
        "reference is zero: the comparison would be vacuous"
    );
    if scale == 0.0 { 0.0 } else { diff / scale }
}

/// The worst of [`rel_diff_mat`] over `W`, `W_in` and `W_out` (`b` is the
/// reference). A group whose reference is exactly zero (a rule that never
/// changes it, like FORCE's `W`) must be exactly zero in `a` too (else the
/// result is infinite); at least one group must have a non-zero reference.
pub fn rel_diff(a: &WeightUpdate, b: &WeightUpdate) -> f64 {
    let groups = [
        (&a.recurrent, &b.recurrent),
        (&a.input, &b.input),
        (&a.readout, &b.readout),
    ];
    let is_zero = |m: &Mat<f64>| (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)] == 0.0));
    assert!(
        groups.iter().any(|(_, b)| !is_zero(b)),
        "reference is zero: the comparison would be vacuous"
    );
    groups
        .iter()
        .map(|(a, b)| match (is_zero(b), is_zero(a)) {
            (true, true) => 0.0,
            (true, false) => f64::INFINITY,
            (false, _) => rel_diff_mat(a, b),
        })
        .fold(0.0, f64::max)
}

/// `after - before` for the three trainable groups.
pub fn weight_change(before: &Network, after: &Network) -> WeightUpdate {
    WeightUpdate {
        recurrent: &after.weights().recurrent - &before.weights().recurrent,
        input: &after.weights().input - &before.weights().input,
        readout: &after.weights().readout - &before.weights().readout,
    }
}

/// How the naive reference projects the error.
#[derive(Debug, Clone)]
pub enum NaiveProjection {
    /// `F = W_out^T` with the current readout.
    Readout,
    /// A fixed `N×N_y` matrix.
    Fixed(Mat<f64>),
}

/// Options of [`naive_rule`].
#[derive(Debug, Clone)]
pub struct NaiveOptions {
    /// `F`.
    pub projection: NaiveProjection,
    /// Drop the nonlocal term (RFLO traces) instead of full RTRL sensitivities.
    pub local: bool,
    /// SnAp-1 (docs/spec/MODEL.md §11): keep only `j = a`, with the nonlocal
    /// term restricted to `k = a` (`W_aa P[a][a][b]`). Ignored when `local`.
    pub diagonal: bool,
    /// Reproduce the paper's example-code bug: `phi'` scales the columns of `W`.
    pub column_bug: bool,
    /// Apply `dTheta(t)/T` after every step (docs/spec/MODEL.md §7 order).
    pub online: bool,
}

/// A direct, loop-by-loop transcription of docs/spec/MODEL.md §1, §2, §3, §5, §7 and §11,
/// independent of the crate: returns the summed update `(1/T) sum_t dTheta(t)`
/// and the final weights (changed only when `online`).
pub fn naive_rule(
    case: &Case,
    rates: LearningRates,
    opts: &NaiveOptions,
) -> (WeightUpdate, Weights) {
    let (n, nx, ny) = (case.spec.n, case.spec.nx, case.spec.ny);
    let len = case.trial.len();
    let alpha = 1.0 / case.spec.tau;
    let mut w = case.net.weights().clone();
    let mut total = WeightUpdate::zeros(&case.net);
    // p[j][a][b] = dh_j/dW_ab at index (j * n + a) * n + b; q likewise with nx.
    let mut p = vec![0.0; n * n * n];
    let mut q = vec![0.0; n * n * nx];
    let mut h_prev = case.start.h.clone();
    let mut y_prev = case.start.y.clone();
    for step in 0..len {
        let x = case.trial.input_at(step);
        let mut u = vec![0.0; n];
        for j in 0..n {
            let mut s = 0.0;
            for k in 0..n {
                s += w.recurrent[(j, k)] * h_prev[k];
            }
            for b in 0..nx {
                s += w.input[(j, b)] * x[b];
            }
            if case.spec.readout_feedback {
                for d in 0..ny {
                    s += w.feedback[(j, d)] * y_prev[d];
                }
            }
            u[j] = s;
        }
        let h: Vec<f64> = (0..n)
            .map(|j| (1.0 - alpha) * h_prev[j] + alpha * u[j].tanh())
            .collect();
        let y: Vec<f64> = (0..ny)
            .map(|d| (0..n).map(|k| w.readout[(d, k)] * h[k]).sum())
            .collect();
        let m = case.trial.mask_at(step);
        let e: Vec<f64> = (0..ny)
            .map(|d| m * (case.trial.target_at(step)[d] - y[d]))
            .collect();
        let slope: Vec<f64> = u.iter().map(|u| 1.0 - u.tanh().powi(2)).collect();
        // Sensitivities with the W that produced u(t).
        let advance = |s_old: &[f64], width: usize, v: &[f64]| -> Vec<f64> {
            let mut s_new = vec![0.0; n * n * width];
            for j in 0..n {
                for a in 0..n {
                    for b in 0..width {
                        let idx = |k: usize| (k * n + a) * width + b;
                        let direct = if j == a { v[b] } else { 0.0 };
                        let nonlocal = if opts.local {
                            0.0
                        } else if opts.diagonal {
                            if j == a {
                                w.recurrent[(a, a)] * s_old[idx(a)]
                            } else {
                                0.0
                            }
                        } else if opts.column_bug {
                            (0..n)
                                .map(|k| w.recurrent[(j, k)] * slope[k] * s_old[idx(k)])
                                .sum::<f64>()
                        } else {
                            (0..n)
                                .map(|k| w.recurrent[(j, k)] * s_old[idx(k)])
                                .sum::<f64>()
                        };
                        let drive = if opts.column_bug && !opts.local {
                            slope[j] * direct + nonlocal
                        } else {
                            slope[j] * (direct + nonlocal)
                        };
                        s_new[idx(j)] = (1.0 - alpha) * s_old[idx(j)] + alpha * drive;
                    }
                }
            }
            s_new
        };
        p = advance(&p, n, &h_prev);
        q = advance(&q, nx, x);
        // F e(t) with the W_out that produced y(t).
        let c: Vec<f64> = (0..n)
            .map(|j| {
                (0..ny)
                    .map(|d| {
                        let f = match &opts.projection {
                            NaiveProjection::Readout => w.readout[(d, j)],
                            NaiveProjection::Fixed(f) => f[(j, d)],
                        };
                        f * e[d]
                    })
                    .sum()
            })
            .collect();
        let mut step_update = WeightUpdate::zeros(&case.net);
        let scale = 1.0 / len as f64;
        for a in 0..n {
            for b in 0..n {
                let g: f64 = (0..n).map(|j| c[j] * p[(j * n + a) * n + b]).sum();
                step_update.recurrent[(a, b)] = rates.recurrent * scale * g;
            }
            for b in 0..nx {
                let g: f64 = (0..n).map(|j| c[j] * q[(j * n + a) * nx + b]).sum();
                step_update.input[(a, b)] = rates.input * scale * g;
            }
        }
        for d in 0..ny {
            for b in 0..n {
                step_update.readout[(d, b)] = rates.readout * scale * e[d] * h[b];
            }
        }
        total.recurrent += &step_update.recurrent;
        total.input += &step_update.input;
        total.readout += &step_update.readout;
        if opts.online {
            w.recurrent += &step_update.recurrent;
            w.input += &step_update.input;
            w.readout += &step_update.readout;
        }
        h_prev = h;
        y_prev = y;
    }
    (total, w)
}

/// BPTT written out in the test (docs/spec/MODEL.md §4, `F = W_out^T`), returning `dW`
/// for `eta2 = 1`. With `error_one_step_late` it reproduces the paper's
/// example-code bug: `e(t)` is injected into `z(t-1)` instead of `z(t)`.
pub fn reference_bptt_recurrent(case: &Case, error_one_step_late: bool) -> Mat<f64> {
    let net = &case.net;
    let (n, ny) = (case.spec.n, case.spec.ny);
    let alpha = 1.0 / case.spec.tau;
    let mut tr = Trajectory::zeros(net, 0);
    net.run_from_into(&case.trial, &case.start, &mut tr)
        .unwrap();
    let len = tr.len();
    let projected = |s: usize| -> Vec<f64> {
        (0..n)
            .map(|j| {
                (0..ny)
                    .map(|d| net.readout()[(d, j)] * tr.error[(d, s)])
                    .sum()
            })
            .collect()
    };
    let mut z = vec![0.0; n];
    // back[k] = W^T [phi'(u(t+1)) ⊙ z(t+1)]
    let mut back = vec![0.0; n];
    let mut dw = Mat::<f64>::zeros(n, n);
    for s in (0..len).rev() {
        let injected = if error_one_step_late {
            if s + 1 < len {
                projected(s + 1)
            } else {
                vec![0.0; n]
            }
        } else {
            projected(s)
        };
        for k in 0..n {
            z[k] = (1.0 - alpha) * z[k] + alpha * back[k] + injected[k];
        }
        let delta: Vec<f64> = (0..n)
            .map(|j| (1.0 - tr.u[(j, s)].tanh().powi(2)) * z[j])
            .collect();
        for a in 0..n {
            for b in 0..n {
                dw[(a, b)] += alpha / len as f64 * delta[a] * tr.h[(b, s)];
            }
        }
        for (k, back_k) in back.iter_mut().enumerate() {
            *back_k = (0..n).map(|j| net.recurrent()[(j, k)] * delta[j]).sum();
        }
    }
    dw
}

/// `n` random trials of `len` steps (`N_x = 2`, `N_y = 1`) drawn from `seed`,
/// in a cycle: the first starts from `h = 0.1`, the others carry the state over.
pub fn carry_over_cycle(seed: u64, n: usize, len: usize) -> rnn_core::TrialCycle {
    let mut rng = rnn_core::seeded(seed);
    let trials = (0..n)
        .map(|i| {
            let x = Mat::from_fn(len, 2, |_, _| rng.random::<f64>() - 0.5);
            let y = Mat::from_fn(len, 1, |_, _| rng.random::<f64>() - 0.5);
            let start = if i == 0 {
                rnn_core::InitialState::Constant(0.1)
            } else {
                rnn_core::InitialState::CarryOver
            };
            rnn_core::Trial::new(x.as_ref(), y.as_ref(), None, start).unwrap()
        })
        .collect();
    rnn_core::TrialCycle::new(trials).unwrap()
}
