//! The two online forms of RFLO and LocalSymmetric (docs/spec/MODEL.md §5, §7): the
//! low-rank form (`W_0` plus a rank-`t` correction, `W` written once per
//! trial) against the trace form (the definition), over several trials of
//! different lengths, at `tau` in {1, 2, 10}, with constraints; and which
//! form `OnlineForm::Auto` picks.
//!
//! The conformance suite checks both forms against the naive §7
//! transcription on one trial; here the forms are compared with each other
//! where the low-rank form's state is reused (longer and shorter trials,
//! reallocation) and where it must fall back (Dale's law, frozen `W`).

use faer::Mat;
use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, seeded};
use rnn_learn::{
    Constraints, DaleLaw, Frozen, LearningRates, LearningRule, LocalSymmetric, OnlineForm,
    Projection, Rflo,
};

fn network(n: usize, tau: f64, seed: u64) -> Network {
    network_with_outputs(n, 2, tau, seed)
}

fn network_with_outputs(n: usize, outputs: usize, tau: f64, seed: u64) -> Network {
    let config = NetworkConfig::new(n, 2, outputs).with_tau(tau);
    Network::random(&config, &mut seeded(seed)).unwrap()
}

/// A trial of `len` steps with inputs and (two) targets that vary in time.
fn trial(len: usize, phase: f64) -> Trial {
    trial_with_outputs(len, phase, 2)
}

fn trial_with_outputs(len: usize, phase: f64, outputs: usize) -> Trial {
    let inputs = Mat::from_fn(2, len, |i, s| ((s as f64 + phase) * 0.3 + i as f64).sin());
    let targets = Mat::from_fn(outputs, len, |i, s| {
        ((s as f64 + phase) * 0.17 - i as f64).cos()
    });
    Trial::from_columns(inputs, targets, None, InitialState::CarryOver).unwrap()
}

/// Runs trials of the given lengths online, carrying the state over, and
/// returns the network and the losses.
fn run<R: LearningRule>(
    rule: &R,
    mut net: Network,
    lengths: &[usize],
    constraints: &Constraints,
) -> (Network, Vec<f64>) {
    constraints.prepare(&mut net);
    let mut state = rule.new_state(&net);
    let mut previous: Option<State> = None;
    let mut losses = Vec::new();
    for (k, &len) in lengths.iter().enumerate() {
        let trial = trial_with_outputs(len, k as f64 * 7.0, net.n_outputs());
        // The first trial starts from a fixed non-zero state, later ones carry over.
        let first = State {
            h: (0..net.n_units()).map(|i| 0.5 * (i as f64).sin()).collect(),
            y: vec![0.0; net.n_outputs()],
        };
        let start =
            State::initial(&net, &trial, Some(previous.as_ref().unwrap_or(&first))).unwrap();
        let outcome = rule
            .run_online(&mut net, &trial, &start, &mut state, constraints)
            .unwrap();
        losses.push(outcome.loss);
        previous = Some(outcome.final_state);
    }
    (net, losses)
}

/// Largest `|a - b| / max(|b|)` over the three weight groups.
fn rel_diff(a: &Network, b: &Network) -> f64 {
    let (wa, wb) = (a.weights(), b.weights());
    [
        (&wa.recurrent, &wb.recurrent),
        (&wa.input, &wb.input),
        (&wa.readout, &wb.readout),
    ]
    .into_iter()
    .map(|(x, y)| {
        let scale = y.norm_max().max(f64::MIN_POSITIVE);
        (x - y).norm_max() / scale
    })
    .fold(0.0, f64::max)
}

/// Largest relative change of the recurrent weights from `before` to `after`.
fn recurrent_change(before: &Network, after: &Network) -> f64 {
    let (w0, w1) = (&before.weights().recurrent, &after.weights().recurrent);
    (w1 - w0).norm_max() / w0.norm_max()
}

const LENGTHS: [usize; 5] = [30, 12, 45, 1, 30];

/// The trials of [`LENGTHS`] run with `rule(OnlineForm::Trace)` and with
/// `rule(OnlineForm::LowRank)` from the same network: `[trace, low_rank]`.
fn both_forms<R: LearningRule>(
    rule: impl Fn(OnlineForm) -> R,
    net: &Network,
    constraints: &Constraints,
) -> [(Network, Vec<f64>); 2] {
    [OnlineForm::Trace, OnlineForm::LowRank]
        .map(|form| run(&rule(form), net.clone(), &LENGTHS, constraints))
}

#[test]
fn low_rank_equals_trace_form_over_trials_of_different_lengths() {
    let rates = LearningRates::uniform(0.05);
    let free = Constraints::default();
    for tau in [1.0, 2.0, 10.0] {
        for seed in 0..3 {
            let net = network(24, tau, seed);
            let rflo = |form| Rflo::new(rates).unwrap().with_online_form(form);
            let [(a, la), (b, lb)] = both_forms(rflo, &net, &free);
            let diff = rel_diff(&b, &a);
            assert!(diff <= 1e-12, "RFLO tau {tau} seed {seed}: {diff:e}");
            for (x, y) in la.iter().zip(&lb) {
                assert!((x - y).abs() <= 1e-12 * x.abs(), "loss {x} vs {y}");
            }
            // The comparison has teeth: W moved by far more than the tolerance.
            assert!(recurrent_change(&net, &a) > 1e-4, "W barely changed");

            let local = |form| LocalSymmetric::new(rates).unwrap().with_online_form(form);
            let [(a, _), (b, _)] = both_forms(local, &net, &free);
            let diff = rel_diff(&b, &a);
            assert!(
                diff <= 1e-12,
                "LocalSymmetric tau {tau} seed {seed}: {diff:e}"
            );
        }
    }
}

/// With one output and a fixed projection the low-rank form stores only the
/// scalar errors (`c(t) = rate F e(t)`); with `LocalSymmetric`'s changing
/// `W_out^T` it keeps per-unit gains. Both against the trace form.
#[test]
fn low_rank_with_one_output_equals_trace_form() {
    let rates = LearningRates::uniform(0.05);
    let free = Constraints::default();
    for tau in [1.0, 2.0, 10.0] {
        for seed in 0..3 {
            let net = network_with_outputs(24, 1, tau, seed);
            let custom = Mat::from_fn(24, 1, |i, _| ((i + seed as usize) as f64 * 0.7).sin());
            let projections = [
                Projection::Feedback,
                Projection::Custom(custom),
                Projection::Readout,
            ];
            for projection in projections {
                let rule = |form| {
                    Rflo::with_projection(rates, projection.clone())
                        .unwrap()
                        .with_online_form(form)
                };
                let [(a, _), (b, _)] = both_forms(rule, &net, &free);
                let diff = rel_diff(&b, &a);
                assert!(
                    diff <= 1e-12,
                    "{projection:?} tau {tau} seed {seed}: {diff:e}"
                );
                assert!(recurrent_change(&net, &a) > 1e-4, "W barely changed");
            }
        }
    }
}

#[test]
fn low_rank_keeps_frozen_input_and_readout_untouched() {
    let rates = LearningRates::uniform(0.05);
    let net = network(20, 2.0, 5);
    let rflo = |form| Rflo::new(rates).unwrap().with_online_form(form);
    for frozen in [
        Frozen {
            recurrent: false,
            input: true,
            readout: false,
        },
        Frozen {
            recurrent: false,
            input: false,
            readout: true,
        },
    ] {
        let constraints = Constraints { frozen, dale: None };
        let [(a, _), (b, _)] = both_forms(rflo, &net, &constraints);
        assert!(rel_diff(&b, &a) <= 1e-12, "{frozen:?}");
        if frozen.input {
            assert_eq!(b.weights().input, net.weights().input);
        }
        if frozen.readout {
            assert_eq!(b.weights().readout, net.weights().readout);
        }
        assert!(recurrent_change(&net, &b) > 1e-4);
    }
}

#[test]
fn low_rank_falls_back_to_the_trace_form_bit_for_bit() {
    let rates = LearningRates::uniform(0.05);
    let net = network(20, 2.0, 8);
    let rflo = |form| Rflo::new(rates).unwrap().with_online_form(form);
    let cases = [
        Constraints {
            frozen: Frozen::default(),
            dale: Some(DaleLaw::default()),
        },
        Constraints {
            frozen: Frozen::readout_only(),
            dale: None,
        },
    ];
    for constraints in cases {
        let [(a, _), (b, _)] = both_forms(rflo, &net, &constraints);
        assert_eq!(a.weights(), b.weights(), "{constraints:?}");
        if let Some(dale) = constraints.dale {
            assert!(dale.holds(&b));
        }
    }
}

#[test]
fn auto_picks_low_rank_only_where_it_applies_and_pays() {
    let free = Constraints::default();
    let dale = Constraints {
        frozen: Frozen::default(),
        dale: Some(DaleLaw::default()),
    };
    let frozen_w = Constraints {
        frozen: Frozen::readout_only(),
        dale: None,
    };
    let big = network(OnlineForm::AUTO_MIN_UNITS * 2, 10.0, 1);
    let small = network(OnlineForm::AUTO_MIN_UNITS - 1, 10.0, 1);
    let n = big.n_units();
    assert!(OnlineForm::Auto.uses_low_rank(&big, n, &free));
    assert!(!OnlineForm::Auto.uses_low_rank(&big, n + 1, &free));
    assert!(!OnlineForm::Auto.uses_low_rank(&small, 10, &free));
    assert!(!OnlineForm::Auto.uses_low_rank(&big, 10, &dale));
    assert!(!OnlineForm::Auto.uses_low_rank(&big, 10, &frozen_w));
    assert!(OnlineForm::LowRank.uses_low_rank(&small, 1000, &free));
    assert!(!OnlineForm::LowRank.uses_low_rank(&small, 10, &dale));
    assert!(!OnlineForm::LowRank.uses_low_rank(&small, 10, &frozen_w));
    assert!(!OnlineForm::Trace.uses_low_rank(&big, 10, &free));
    assert_eq!(
        Rflo::new(LearningRates::uniform(0.1))
            .unwrap()
            .online_form(),
        OnlineForm::Auto
    );
}

/// With zero rates the weights stay put, so an online trial must reproduce
/// the plain forward pass bit for bit. This pins the next step's current that
/// both online forms compute outside `forward_step` (the trace form's fused
/// pass, the low-rank form's `W_0 v` plus a zero correction) to the forward
/// pass's own summation order.
#[test]
fn online_forms_with_zero_rates_reproduce_the_forward_pass_bit_for_bit() {
    let zero = LearningRates::uniform(0.0);
    for tau in [1.0, 10.0] {
        let net = network(37, tau, 4);
        let trial = trial(25, 0.0);
        let start = State {
            h: (0..37).map(|i| 0.5 * (i as f64).cos()).collect(),
            y: vec![0.0; 2],
        };
        let reference = net.run_trial(&trial, Some(&start)).unwrap();
        for form in [OnlineForm::Trace, OnlineForm::LowRank] {
            let rule = Rflo::new(zero).unwrap().with_online_form(form);
            let mut online_net = net.clone();
            let mut state = rule.new_state(&online_net);
            let outcome = rule
                .run_online(
                    &mut online_net,
                    &trial,
                    &start,
                    &mut state,
                    &Constraints::default(),
                )
                .unwrap();
            assert_eq!(online_net.weights(), net.weights(), "{form:?}");
            assert_eq!(
                outcome.loss.to_bits(),
                reference.loss.to_bits(),
                "{form:?} tau {tau}"
            );
            assert_eq!(
                outcome.final_state,
                reference.final_state(),
                "{form:?} tau {tau}"
            );
        }
    }
}
