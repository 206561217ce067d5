//! Conformance suite: every learning rule checked against the mathematics of
//! docs/spec/MODEL.md §2–§7 on small random networks (N = 5..6, N_x = N_y = 2,
//! T = 12..18, random inputs, targets and non-zero `h(0)`), several seeds,
//! with and without a mask, at `tau` in {1, 2, 10}.
//!
//! One generic harness runs over every rule (the [`entries`] table); each rule
//! is tagged with what it must equal:
//!
//! - exact rules (`F = W_out^T`, exact sensitivities: BPTT, RTRL) equal
//!   `-eta` times the finite-difference gradient of `L`, and each other;
//! - exact sensitivities with another `F` (`NonlocalRandom` in both forms,
//!   RTRL/BPTT with `F = B` or a custom `F`) equal RTRL and BPTT with that `F`;
//! - local rules (RFLO, `LocalSymmetric`, both trace forms) equal RTRL with
//!   the same `F` when `W = 0`, and differ from it when `W != 0`;
//! - every rule equals an independent loop-by-loop transcription of the
//!   equations written in `tests/common` (trial-end and online, §7 order);
//! - online with a tiny rate equals the trial-end update to first order.
//!
//! Relative differences are `max |a - b| / max |b|` per weight group, worst
//! over `W`, `W_in`, `W_out`. Run with `--nocapture` to see the measured
//! worst cases.

#![allow(clippy::print_stderr)]

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;

use faer::Mat;
use rnn_core::{Network, Trajectory, Weights};
use rnn_learn::{
    AnyRule, Bptt, Constraints, DaleLaw, EpropFeedback, Frozen, LearnError, LearningRates,
    LearningRule, LocalSymmetric, NonlocalRandom, Projection, Rflo, Rtrl, RuleSpec, TrialEndForm,
    TrialOutcome, WeightUpdate,
};

use common::{
    Case, CaseSpec, NaiveOptions, NaiveProjection, finite_difference_update, naive_rule,
    random_case, random_matrix, reference_bptt_recurrent, rel_diff, rel_diff_mat, weight_change,
    with_weights, with_zero_recurrent,
};

/// Rounding-level agreement between two exact computations.
const EXACT: f64 = 1e-12;
/// Agreement with central finite differences (step [`FD_STEP`]).
const FD_TOL: f64 = 1e-7;
/// Finite-difference step.
const FD_STEP: f64 = 1e-6;
/// Minimum difference for "these really differ".
const DIFFERENT: f64 = 1e-3;
/// Online (tiny rate) vs trial-end: first-order agreement.
const FIRST_ORDER: f64 = 1e-4;
/// The tiny rate of the first-order test.
const TINY_ETA: f64 = 1e-7;

const SEEDS: [u64; 4] = [11, 12, 13, 14];
const TAUS: [f64; 3] = [1.0, 2.0, 10.0];

/// Distinct rates per group, so a swapped rate cannot pass.
fn rates() -> LearningRates {
    LearningRates {
        readout: 0.3,
        recurrent: 0.7,
        input: 1.3,
    }
}

/// The naive transcription's form of a projection.
fn naive_projection(projection: &Projection, net: &Network) -> NaiveProjection {
    match projection {
        Projection::Readout => NaiveProjection::Readout,
        Projection::Feedback => NaiveProjection::Fixed(net.feedback().to_owned()),
        Projection::Custom(f) => NaiveProjection::Fixed(f.clone()),
    }
}

/// What a rule must equal.
#[derive(Debug, Clone)]
enum Kind {
    /// Exact sensitivities projected with `F` (with `F = W_out^T`: the exact gradient).
    Sensitivities(Projection),
    /// RFLO's local traces projected with `F`.
    Local(Projection),
    /// SnAp-1's diagonal sensitivities projected with `F` (MODEL.md §11).
    Snap1(Projection),
    /// An unbiased stochastic estimate of RTRL with `F` (UORO, KF-RTRL:
    /// MODEL.md §12–§13). One update is a sample, so the sample-wise
    /// identities do not apply; its expectation and its transcription with
    /// given signs are checked in `tests/stochastic.rs`.
    Stochastic,
    /// Node perturbation (REINFORCE, MODEL.md §14): a sample, and its
    /// trial runs with noise in the current, so its loss, final state and
    /// `dW_out` are those of the noisy trial (checked in `tests/stochastic.rs`).
    Perturbation,
    /// Recursive least squares on the readout (FORCE, MODEL.md §15): `P`
    /// carries over between trials, `W` and `W_in` never change, `dW_out`
    /// is RLS, not §2 (its identity with ridge regression is checked in
    /// `tests/force.rs`).
    Rls,
}

impl Kind {
    fn deterministic(&self) -> bool {
        !matches!(self, Kind::Stochastic | Kind::Perturbation | Kind::Rls)
    }

    fn readout_by_section2(&self) -> bool {
        !matches!(self, Kind::Rls)
    }

    fn learns_recurrent(&self) -> bool {
        !matches!(self, Kind::Rls)
    }

    fn clean_forward(&self) -> bool {
        !matches!(self, Kind::Perturbation)
    }
}

impl Kind {
    /// What the rule of `spec` must equal. A rule added to the registry
    /// fails here until its identity is stated.
    fn of(spec: &RuleSpec) -> Kind {
        match spec {
            RuleSpec::Bptt { projection, .. } | RuleSpec::Rtrl { projection, .. } => {
                Kind::Sensitivities(projection.clone())
            }
            RuleSpec::NonlocalRandom { .. } => Kind::Sensitivities(Projection::Feedback),
            RuleSpec::Rflo { projection, .. } => Kind::Local(projection.clone()),
            RuleSpec::LocalSymmetric { .. } => Kind::Local(Projection::Readout),
            RuleSpec::Snap1 { projection, .. } => Kind::Snap1(projection.clone()),
            RuleSpec::Uoro { .. } | RuleSpec::KfRtrl { .. } => Kind::Stochastic,
            RuleSpec::Reinforce { .. } => Kind::Perturbation,
            RuleSpec::Force { .. } => Kind::Rls,
            other => panic!("{}: state what the new rule must equal", other.name()),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    label: String,
    rule: AnyRule,
    kind: Kind,
    online: bool,
}

/// The spec without its rates, as JSON (a custom `F` shown as `"custom"`).
fn label(spec: &RuleSpec) -> String {
    let mut value = serde_json::to_value(spec).unwrap();
    let map = value.as_object_mut().unwrap();
    map.remove("rates");
    if map.get("projection").is_some_and(|p| p.is_object()) {
        map.insert("projection".into(), "custom".into());
    }
    value.to_string()
}

/// The table of rules under test, for one network (a custom `F` is drawn to
/// fit it): every rule in every form from the registry, and BPTT/RTRL with
/// `F = B` and a custom `F`.
fn entries(net: &Network, eta: LearningRates) -> Vec<Entry> {
    let custom = Projection::Custom(random_matrix(net.n_units(), net.n_outputs(), 99));
    let mut specs = RuleSpec::every_form(eta);
    specs.extend([
        RuleSpec::Bptt {
            rates: eta,
            projection: Projection::Feedback,
        },
        RuleSpec::Rtrl {
            rates: eta,
            projection: custom.clone(),
        },
        RuleSpec::Bptt {
            rates: eta,
            projection: custom,
        },
    ]);
    specs
        .iter()
        .map(|spec| Entry {
            label: label(spec),
            rule: spec.build().unwrap(),
            kind: Kind::of(spec),
            online: !matches!(spec, RuleSpec::Bptt { .. } | RuleSpec::Reinforce { .. }),
        })
        .collect()
}

fn accumulate_generic<R: LearningRule>(rule: &R, case: &Case) -> (WeightUpdate, TrialOutcome) {
    rule.check_fits(&case.net).unwrap();
    let mut state = rule.new_state(&case.net);
    let mut update = WeightUpdate::zeros(&case.net);
    let outcome = rule
        .accumulate(&case.net, &case.trial, &case.start, &mut state, &mut update)
        .unwrap();
    assert!(update.is_finite());
    (update, outcome)
}

/// The trial-end update of `rule` on `case` (weights held fixed).
fn trial_end(rule: &AnyRule, case: &Case) -> WeightUpdate {
    accumulate_generic(rule, case).0
}

/// The total weight change of one online trial (docs/spec/MODEL.md §7).
fn online_change(rule: &AnyRule, case: &Case) -> Result<(WeightUpdate, TrialOutcome), LearnError> {
    let mut net = case.net.clone();
    let mut state = rule.new_state(&net);
    let outcome = rule.run_online(
        &mut net,
        &case.trial,
        &case.start,
        &mut state,
        &Constraints::default(),
    )?;
    Ok((weight_change(&case.net, &net), outcome))
}

/// The rule with the same projection `F` and exact sensitivities.
fn rtrl_with(projection: &Projection, rates: LearningRates) -> AnyRule {
    let projection = projection.clone();
    RuleSpec::Rtrl { rates, projection }.build().unwrap()
}

fn bptt_with(projection: &Projection, rates: LearningRates) -> AnyRule {
    let projection = projection.clone();
    RuleSpec::Bptt { rates, projection }.build().unwrap()
}

fn naive_options(kind: &Kind, net: &Network, online: bool) -> NaiveOptions {
    let (proj, local, diagonal) = match kind {
        Kind::Sensitivities(p) => (p, false, false),
        Kind::Local(p) => (p, true, false),
        Kind::Snap1(p) => (p, false, true),
        Kind::Stochastic | Kind::Perturbation | Kind::Rls => {
            unreachable!("no naive transcription here: tests/stochastic.rs, tests/force.rs")
        }
    };
    NaiveOptions {
        projection: naive_projection(proj, net),
        local,
        diagonal,
        column_bug: false,
        online,
    }
}

/// The standard grid of cases (optionally in readout-feedback mode).
fn cases(readout_feedback: bool) -> Vec<Case> {
    let mut out = Vec::new();
    for &seed in &SEEDS {
        for masked in [false, true] {
            for &tau in &TAUS {
                let mut spec = CaseSpec::small(seed, tau, masked);
                spec.readout_feedback = readout_feedback;
                out.push(random_case(spec));
            }
        }
    }
    out
}

/// Records the worst measured value of each named check and prints them.
#[derive(Default)]
struct Worst(RefCell<BTreeMap<String, f64>>);

impl Worst {
    /// Asserts `value <= tol` (or `>= tol` when `at_least`) and records it.
    fn check(&self, what: &str, label: &str, case: &Case, value: f64, tol: f64, at_least: bool) {
        let key = format!("{what} [{label}]");
        let mut map = self.0.borrow_mut();
        let slot = map
            .entry(key.clone())
            .or_insert(if at_least { f64::INFINITY } else { 0.0 });
        *slot = if at_least {
            slot.min(value)
        } else {
            slot.max(value)
        };
        if at_least {
            assert!(
                value >= tol,
                "{key}: {value:e} < {tol:e} (should differ) on {case}"
            );
        } else {
            assert!(value <= tol, "{key}: {value:e} > {tol:e} on {case}");
        }
    }

    fn report(&self, test: &str) {
        for (key, value) in self.0.borrow().iter() {
            eprintln!("{test}: {key}: {value:.2e}");
        }
    }
}

// ---------------------------------------------------------------------------
// The harness: one generic function per property, run over every rule.
// ---------------------------------------------------------------------------

/// Trial-end update vs the rule's mathematical reference (see module docs).
fn check_trial_end(entry: &Entry, case: &Case, worst: &Worst, fd: Option<&WeightUpdate>) {
    let eta = rates();
    let got = trial_end(&entry.rule, case);
    let label = entry.label.as_str();
    if !entry.kind.deterministic() {
        // A finite sample (checked in `trial_end`); the rest in tests/stochastic.rs.
        return;
    }

    // Independent transcription of the equations.
    let (naive, _) = naive_rule(case, eta, &naive_options(&entry.kind, &case.net, false));
    worst.check("= naive", label, case, rel_diff(&got, &naive), EXACT, false);

    match &entry.kind {
        Kind::Sensitivities(proj) => {
            let rtrl = trial_end(&rtrl_with(proj, eta), case);
            let bptt = trial_end(&bptt_with(proj, eta), case);
            worst.check(
                "= RTRL(F)",
                label,
                case,
                rel_diff(&got, &rtrl),
                EXACT,
                false,
            );
            worst.check(
                "= BPTT(F)",
                label,
                case,
                rel_diff(&got, &bptt),
                EXACT,
                false,
            );
            if let (Projection::Readout, Some(fd)) = (proj, fd) {
                worst.check("= -eta FD", label, case, rel_diff(&got, fd), FD_TOL, false);
            }
        }
        Kind::Local(proj) => {
            // With W = 0 the local traces are the exact sensitivities.
            let zero = with_zero_recurrent(case);
            let local = trial_end(&entry.rule, &zero);
            let rtrl = trial_end(&rtrl_with(proj, eta), &zero);
            worst.check(
                "W=0: = RTRL(F)",
                label,
                case,
                rel_diff(&local, &rtrl),
                EXACT,
                false,
            );
            // With W != 0 the approximation is real.
            let rtrl = trial_end(&rtrl_with(proj, eta), case);
            let d = rel_diff_mat(&got.recurrent, &rtrl.recurrent);
            worst.check("W!=0: dW != RTRL(F)", label, case, d, DIFFERENT, true);
        }
        Kind::Stochastic | Kind::Perturbation | Kind::Rls => unreachable!("returned above"),
        Kind::Snap1(proj) => {
            let local = |p: &Projection| -> AnyRule {
                Rflo::with_projection(eta, p.clone())
                    .unwrap()
                    .with_trial_end_form(TrialEndForm::Traces)
                    .into()
            };
            // (i) W diagonal: the Jacobian is diagonal, SnAp-1 is exact RTRL.
            let diagonal = with_weights(case, |w| {
                let n = w.recurrent.nrows();
                for j in 0..n {
                    for i in (0..n).filter(|&i| i != j) {
                        w.recurrent[(i, j)] = 0.0;
                    }
                }
            });
            let snap = trial_end(&entry.rule, &diagonal);
            let rtrl = trial_end(&rtrl_with(proj, eta), &diagonal);
            let d = rel_diff(&snap, &rtrl);
            worst.check("W diagonal: = RTRL(F)", label, case, d, EXACT, false);
            // (ii) diag(W) = 0: J_aa = 1 - alpha, SnAp-1 is RFLO's trace rule.
            let hollow = with_weights(case, |w| {
                for a in 0..w.recurrent.nrows() {
                    w.recurrent[(a, a)] = 0.0;
                }
            });
            let snap = trial_end(&entry.rule, &hollow);
            let rflo = trial_end(&local(proj), &hollow);
            let d = rel_diff(&snap, &rflo);
            worst.check("diag(W)=0: = RFLO traces(F)", label, case, d, EXACT, false);
            // General W: not vacuous, SnAp-1 differs from both.
            let rtrl = trial_end(&rtrl_with(proj, eta), case);
            let d = rel_diff_mat(&got.recurrent, &rtrl.recurrent);
            worst.check("general W: dW != RTRL(F)", label, case, d, DIFFERENT, true);
            let rflo = trial_end(&local(proj), case);
            let d = rel_diff_mat(&got.recurrent, &rflo.recurrent);
            worst.check("general W: dW != RFLO(F)", label, case, d, DIFFERENT, true);
        }
    }
}

/// Generic invariants of `accumulate`: it adds (does not overwrite), the state
/// is reusable across trials of other lengths, the outcome is the trial's loss
/// and final state, and `dW_out` is the §2 formula.
///
/// A stochastic rule draws new signs for each trial, so its "additive" check
/// compares against the sum of the same two samples taken by a fresh state.
fn check_accumulate_invariants<R: LearningRule>(
    rule: &R,
    label: &str,
    case: &Case,
    worst: &Worst,
    kind: &Kind,
) {
    let deterministic = kind.deterministic();
    let net = &case.net;
    let mut state = rule.new_state(net);
    let (once, _) = accumulate_generic(rule, case);

    // Reuse one state: a longer trial first, then this one twice into one update.
    let longer = random_case(CaseSpec {
        len: case.spec.len + 5,
        seed: case.spec.seed + 1000,
        ..case.spec
    });
    let longer = Case {
        net: net.clone(),
        ..longer
    };
    let mut scratch = WeightUpdate::zeros(net);
    rule.accumulate(net, &longer.trial, &longer.start, &mut state, &mut scratch)
        .unwrap();
    let mut twice = WeightUpdate::zeros(net);
    let mut outcome = None;
    for _ in 0..2 {
        outcome = Some(
            rule.accumulate(net, &case.trial, &case.start, &mut state, &mut twice)
                .unwrap(),
        );
    }
    if deterministic {
        let half = WeightUpdate {
            recurrent: &twice.recurrent * faer::Scale(0.5),
            input: &twice.input * faer::Scale(0.5),
            readout: &twice.readout * faer::Scale(0.5),
        };
        worst.check(
            "additive, state reusable",
            label,
            case,
            rel_diff(&half, &once),
            1e-14,
            false,
        );
    } else {
        // The same three draws from a fresh state, the third two summed separately.
        let mut fresh = rule.new_state(net);
        let mut scratch = WeightUpdate::zeros(net);
        rule.accumulate(net, &longer.trial, &longer.start, &mut fresh, &mut scratch)
            .unwrap();
        let mut sum = WeightUpdate::zeros(net);
        for _ in 0..2 {
            let mut one = WeightUpdate::zeros(net);
            rule.accumulate(net, &case.trial, &case.start, &mut fresh, &mut one)
                .unwrap();
            sum.recurrent += &one.recurrent;
            sum.input += &one.input;
            sum.readout += &one.readout;
        }
        worst.check(
            "additive, state reusable",
            label,
            case,
            rel_diff(&twice, &sum),
            1e-14,
            false,
        );
    }

    if !kind.clean_forward() {
        return;
    }
    // Outcome: loss and final state of the trial.
    let outcome = outcome.unwrap();
    let mut tr = Trajectory::zeros(net, 0);
    net.run_from_into(&case.trial, &case.start, &mut tr)
        .unwrap();
    let loss_diff = (outcome.loss - tr.loss).abs() / tr.loss;
    worst.check("outcome loss", label, case, loss_diff, 1e-13, false);
    let final_state = tr.final_state();
    let state_diff = outcome
        .final_state
        .h
        .iter()
        .chain(&outcome.final_state.y)
        .zip(final_state.h.iter().chain(&final_state.y))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    worst.check("outcome final state", label, case, state_diff, 1e-13, false);

    if !kind.readout_by_section2() {
        return;
    }
    // dW_out = (eta1/T) sum_t e(t) h(t)^T, from the stored trajectory.
    let len = tr.len() as f64;
    let readout = Mat::from_fn(net.n_outputs(), net.n_units(), |d, b| {
        (0..tr.len())
            .map(|s| tr.error[(d, s)] * tr.h[(b, s + 1)])
            .sum::<f64>()
            * rule.rates().readout
            / len
    });
    worst.check(
        "dW_out = §2",
        label,
        case,
        rel_diff_mat(&once.readout, &readout),
        EXACT,
        false,
    );
}

/// Online with a tiny rate vs the trial-end update (first order in eta), and
/// online with a large rate vs the naive §7 transcription.
fn check_online(entry: &Entry, case: &Case, worst: &Worst) {
    let label = entry.label.as_str();
    if !entry.online {
        let err = online_change(&entry.rule, case).unwrap_err();
        assert!(
            matches!(err, LearnError::OnlineUnsupported { .. }),
            "{label}: expected OnlineUnsupported, got {err:?}"
        );
        return;
    }
    // First order: tiny eta.
    let tiny = LearningRates::uniform(TINY_ETA);
    let tiny_entry = entries(&case.net, tiny)
        .into_iter()
        .find(|e| e.label == label)
        .unwrap();
    let (online, outcome) = online_change(&tiny_entry.rule, case).unwrap();
    let batch = trial_end(&tiny_entry.rule, case);
    worst.check(
        "online ~ trial-end (eta 1e-7)",
        label,
        case,
        rel_diff(&online, &batch),
        FIRST_ORDER,
        false,
    );
    let loss_diff = (outcome.loss - common::loss(&case.net, case)).abs();
    assert!(
        loss_diff < 1e-5,
        "{label}: online loss {loss_diff:e} off on {case}"
    );

    // Large eta: the exact §7 order, against the naive transcription.
    let eta = LearningRates::uniform(0.05);
    let big_entry = entries(&case.net, eta)
        .into_iter()
        .find(|e| e.label == label)
        .unwrap();
    let (online, _) = online_change(&big_entry.rule, case).unwrap();
    if entry.kind.deterministic() {
        let (_, naive_weights) =
            naive_rule(case, eta, &naive_options(&entry.kind, &case.net, true));
        let naive_net = Network::from_weights(case.net.config(), naive_weights).unwrap();
        let naive = weight_change(&case.net, &naive_net);
        worst.check(
            "online (eta 0.05) = naive §7",
            label,
            case,
            rel_diff(&online, &naive),
            1e-11,
            false,
        );
    }
    check_online_constraints(&big_entry.rule, label, case, entry.kind.learns_recurrent());
    // ... and the weights really changed within the trial (the test has teeth).
    let batch = trial_end(&big_entry.rule, case);
    if matches!(entry.kind, Kind::Rls) && !case.spec.readout_feedback {
        // Without feedback the readout does not act on the dynamics, so
        // FORCE's RLS on the shadow readout is its online run, exactly.
        worst.check(
            "no feedback: online = trial-end",
            label,
            case,
            rel_diff(&online, &batch),
            EXACT,
            false,
        );
        return;
    }
    worst.check(
        "online (eta 0.05) != trial-end",
        label,
        case,
        rel_diff(&online, &batch),
        1e-6,
        true,
    );
}

/// Online updates go through the constraints at every step: frozen groups
/// stay bit-identical, Dale's law holds after the trial.
fn check_online_constraints(rule: &AnyRule, label: &str, case: &Case, learns_recurrent: bool) {
    fn run(rule: &AnyRule, net: &mut Network, case: &Case, c: &Constraints) {
        let mut state = rule.new_state(net);
        rule.run_online(net, &case.trial, &case.start, &mut state, c)
            .unwrap();
    }
    let frozen = Constraints {
        frozen: Frozen::readout_only(),
        dale: None,
    };
    let mut net = case.net.clone();
    run(rule, &mut net, case, &frozen);
    assert_eq!(
        net.weights().recurrent,
        case.net.weights().recurrent,
        "{label}: W frozen"
    );
    assert_eq!(
        net.weights().input,
        case.net.weights().input,
        "{label}: W_in frozen"
    );
    assert_ne!(
        net.weights().readout,
        case.net.weights().readout,
        "{label}: W_out learns"
    );

    let dale = Constraints {
        frozen: Frozen::default(),
        dale: Some(DaleLaw::default()),
    };
    let mut net = case.net.clone();
    dale.prepare(&mut net);
    let prepared = net.clone();
    run(rule, &mut net, case, &dale);
    assert!(
        DaleLaw::default().holds(&net),
        "{label}: Dale's law after online trial"
    );
    if learns_recurrent {
        assert_ne!(
            net.weights().recurrent,
            prepared.weights().recurrent,
            "{label}: W learns"
        );
    }
}

// ---------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------

#[test]
fn trial_end_updates_match_their_references() {
    let worst = Worst::default();
    for case in cases(false) {
        let fd = finite_difference_update(&case, rates(), FD_STEP);
        for entry in entries(&case.net, rates()) {
            check_trial_end(&entry, &case, &worst, Some(&fd));
        }
    }
    worst.report("trial-end");
}

#[test]
fn accumulate_invariants_hold_for_every_rule() {
    let worst = Worst::default();
    for case in cases(false).iter().chain(&cases(true)).step_by(3) {
        for entry in entries(&case.net, rates()) {
            check_accumulate_invariants(&entry.rule, &entry.label, case, &worst, &entry.kind);
        }
    }
    worst.report("invariants");
}

#[test]
fn online_schedule_matches_trial_end_and_section7_order() {
    let worst = Worst::default();
    for case in cases(false).iter().chain(&cases(true)).step_by(2) {
        for entry in entries(&case.net, rates()) {
            check_online(&entry, case, &worst);
        }
    }
    worst.report("online");
}

/// Readout-feedback mode: RTRL and BPTT both treat the fed-back `y(t-1)` as
/// an input, so they agree with each other (and every identity between rules
/// holds), but they are *not* the full gradient of `L`, which also flows
/// through the loop `B y(t-1)` (docs/spec/MODEL.md §6).
#[test]
fn readout_feedback_mode_identities_hold_but_not_full_gradient() {
    let worst = Worst::default();
    for case in cases(true) {
        for entry in entries(&case.net, rates()) {
            check_trial_end(&entry, &case, &worst, None);
        }
        let exact = trial_end(&Bptt::new(rates()).unwrap().into(), &case);
        let fd = finite_difference_update(&case, rates(), FD_STEP);
        worst.check(
            "BPTT != full FD gradient",
            "feedback mode",
            &case,
            rel_diff(&exact, &fd),
            DIFFERENT,
            true,
        );
    }
    worst.report("readout-feedback");
}

/// RFLO with `W = 0` and `B = W_out^T` (built with `Network::from_weights`) is
/// exact RTRL, hence also `-eta` times the finite-difference gradient.
#[test]
fn rflo_with_zero_w_and_symmetric_feedback_is_rtrl() {
    let worst = Worst::default();
    for case in cases(false) {
        let symmetric = with_weights(&case, |w: &mut Weights| {
            w.recurrent.fill(0.0);
            w.feedback = w.readout.transpose().to_owned();
        });
        for form in [TrialEndForm::Batched, TrialEndForm::Traces] {
            let rflo = trial_end(
                &Rflo::new(rates()).unwrap().with_trial_end_form(form).into(),
                &symmetric,
            );
            let rtrl = trial_end(&Rtrl::new(rates()).unwrap().into(), &symmetric);
            let fd = finite_difference_update(&symmetric, rates(), FD_STEP);
            let label = if form == TrialEndForm::Batched {
                "batched"
            } else {
                "trace"
            };
            worst.check(
                "RFLO(W=0, B=W_out^T) = RTRL",
                label,
                &case,
                rel_diff(&rflo, &rtrl),
                EXACT,
                false,
            );
            worst.check(
                "RFLO(W=0, B=W_out^T) = -eta FD",
                label,
                &case,
                rel_diff(&rflo, &fd),
                FD_TOL,
                false,
            );
        }
    }
    worst.report("rflo-w0");
}

/// Every alternative form of every rule gives the trial-end update of the
/// rule's default form (RFLO and LocalSymmetric: batched = traces;
/// NonlocalRandom: BPTT form = RTRL form).
#[test]
fn every_form_equals_the_default_form() {
    let worst = Worst::default();
    for case in cases(false).iter().chain(&cases(true)) {
        for spec in RuleSpec::every_form(rates()) {
            // The rule with every form option at its default (the projection
            // kept), as TOML without those options reads it.
            let mut value = serde_json::to_value(&spec).unwrap();
            let map = value.as_object_mut().unwrap();
            for option in ["trial_end_form", "online_form", "form"] {
                map.remove(option);
            }
            let default: RuleSpec = serde_json::from_value(value).unwrap();
            if default == spec {
                continue; // no alternative form
            }
            let d = rel_diff(
                &trial_end(&spec.build().unwrap(), case),
                &trial_end(&default.build().unwrap(), case),
            );
            worst.check("form = default form", &label(&spec), case, d, EXACT, false);
        }
    }
    worst.report("forms");
}

/// `NonlocalRandom` uses `F = B`: with `B != W_out^T` it is not BPTT.
#[test]
fn nonlocal_random_differs_from_bptt() {
    let worst = Worst::default();
    for case in cases(false) {
        let nonlocal = trial_end(&NonlocalRandom::new(rates()).unwrap().into(), &case);
        let bptt = trial_end(&Bptt::new(rates()).unwrap().into(), &case);
        let d = rel_diff_mat(&nonlocal.recurrent, &bptt.recurrent)
            .max(rel_diff_mat(&nonlocal.input, &bptt.input));
        worst.check("NonlocalRandom != BPTT", "F=B", &case, d, DIFFERENT, true);
        // The readout update is the same exact §2 rule for both.
        let r = rel_diff_mat(&nonlocal.readout, &bptt.readout);
        worst.check("same dW_out", "F=B", &case, r, EXACT, false);
    }
    worst.report("nonlocal-random");
}

#[test]
fn bptt_refuses_the_online_schedule() {
    let case = random_case(CaseSpec::small(1, 2.0, false));
    for rule in [
        Bptt::new(rates()).unwrap(),
        Bptt::with_projection(rates(), Projection::Feedback).unwrap(),
    ] {
        let err = online_change(&rule.into(), &case).unwrap_err();
        assert!(
            matches!(err, LearnError::OnlineUnsupported { .. }),
            "{err:?}"
        );
    }
}

#[test]
fn custom_projection_of_wrong_shape_is_rejected() {
    let case = random_case(CaseSpec::small(1, 2.0, false));
    let (n, ny) = (case.spec.n, case.spec.ny);
    for (rows, cols) in [(n + 1, ny), (n, ny + 1), (ny, n)] {
        let bad = || Projection::Custom(Mat::zeros(rows, cols));
        let errors = [
            Bptt::with_projection(rates(), bad())
                .unwrap()
                .check_fits(&case.net),
            Rtrl::with_projection(rates(), bad())
                .unwrap()
                .check_fits(&case.net),
            Rflo::with_projection(rates(), bad())
                .unwrap()
                .check_fits(&case.net),
        ];
        for err in errors {
            match err {
                Err(LearnError::ProjectionShape {
                    expected_rows,
                    expected_cols,
                    rows: r,
                    cols: c,
                }) => assert_eq!((expected_rows, expected_cols, r, c), (n, ny, rows, cols)),
                other => panic!("expected ProjectionShape, got {other:?}"),
            }
        }
    }
    let good = Projection::Custom(Mat::zeros(n, ny));
    Rtrl::with_projection(rates(), good)
        .unwrap()
        .check_fits(&case.net)
        .unwrap();
}

/// Known-bug regression (docs/spec/MODEL.md §8): the paper's example BPTT injects `e(t)`
/// into `z(t-1)`. Written out here, it is far from the finite-difference
/// gradient at `tau = 1`, while the test's correct transcription and the
/// crate's BPTT match it: the suite catches this bug class.
#[test]
fn known_bug_bptt_error_one_step_late_is_caught() {
    let eta2 = LearningRates {
        readout: 1.0,
        recurrent: 1.0,
        input: 1.0,
    };
    let mut worst_bug: f64 = f64::INFINITY;
    let mut worst_bug_tau10: f64 = f64::INFINITY;
    let mut worst_ok: f64 = 0.0;
    for &seed in &SEEDS {
        for (tau, bug_min) in [(1.0, 0.1), (10.0, 10.0 * FD_TOL)] {
            let case = random_case(CaseSpec::small(seed, tau, seed % 2 == 0));
            let fd = finite_difference_update(&case, eta2, FD_STEP).recurrent;
            let ours = trial_end(&Bptt::new(eta2).unwrap().into(), &case).recurrent;
            let correct = reference_bptt_recurrent(&case, false);
            let buggy = reference_bptt_recurrent(&case, true);
            worst_ok = worst_ok
                .max(rel_diff_mat(&ours, &fd))
                .max(rel_diff_mat(&correct, &fd));
            assert!(rel_diff_mat(&ours, &fd) <= FD_TOL, "our BPTT vs FD, {case}");
            assert!(
                rel_diff_mat(&correct, &fd) <= FD_TOL,
                "test's BPTT vs FD, {case}"
            );
            let bug = rel_diff_mat(&buggy, &fd);
            assert!(bug >= bug_min, "buggy BPTT not caught: {bug:e} on {case}");
            if tau == 1.0 {
                worst_bug = worst_bug.min(bug);
            } else {
                worst_bug_tau10 = worst_bug_tau10.min(bug);
            }
        }
    }
    eprintln!(
        "known-bug BPTT: ours/correct vs FD worst {worst_ok:.2e}; buggy vs FD at least {worst_bug:.2e} (tau 1), {worst_bug_tau10:.2e} (tau 10)"
    );
}

/// Known-bug regression (docs/spec/MODEL.md §8): the paper's example RTRL scales the
/// columns of `W` by `phi'` instead of the rows. The naive transcription with
/// that bug is far from the finite-difference gradient at `tau = 1`.
#[test]
fn known_bug_rtrl_column_scaling_is_caught() {
    let mut worst_bug: f64 = f64::INFINITY;
    let mut worst_ok: f64 = 0.0;
    for &seed in &SEEDS {
        let case = random_case(CaseSpec::small(seed, 1.0, seed % 2 == 1));
        let fd = finite_difference_update(&case, rates(), FD_STEP);
        let mut opts = NaiveOptions {
            projection: NaiveProjection::Readout,
            local: false,
            diagonal: false,
            column_bug: false,
            online: false,
        };
        let (correct, _) = naive_rule(&case, rates(), &opts);
        opts.column_bug = true;
        let (buggy, _) = naive_rule(&case, rates(), &opts);
        let ours = trial_end(&Rtrl::new(rates()).unwrap().into(), &case);
        worst_ok = worst_ok
            .max(rel_diff(&ours, &fd))
            .max(rel_diff(&correct, &fd));
        assert!(rel_diff(&ours, &fd) <= FD_TOL, "our RTRL vs FD, {case}");
        let bug = rel_diff_mat(&buggy.recurrent, &fd.recurrent);
        assert!(
            bug >= 0.1,
            "column-scaled RTRL not caught: {bug:e} on {case}"
        );
        worst_bug = worst_bug.min(bug);
    }
    eprintln!(
        "known-bug RTRL: ours/correct vs FD worst {worst_ok:.2e}; buggy dW vs FD at least {worst_bug:.2e} (tau 1)"
    );
}

/// e-prop (docs/spec/MODEL.md §11) is a name for rules the crate has: the
/// registry's `eprop` builds exactly RFLO (random feedback) or
/// `LocalSymmetric` (symmetric feedback), and its update equals e-prop's
/// definition computed here from scratch: the eligibility trace
/// `e_ab(t) = (1-alpha) e_ab(t-1) + dh_a(t)/dW_ab |_{h(t-1) fixed}`, the
/// explicit derivative taken by central finite differences of one step of
/// the dynamics, and `dW = (eta2/T) sum_t L_a(t) e_ab(t)`, `L(t) = F e(t)`.
#[test]
fn eprop_is_rflo_or_local_symmetric() {
    let mut worst: f64 = 0.0;
    for case in cases(false) {
        let net = &case.net;
        let (n, ny) = (case.spec.n, case.spec.ny);
        let alpha = 1.0 / case.spec.tau;
        let mut tr = Trajectory::zeros(net, 0);
        net.run_from_into(&case.trial, &case.start, &mut tr)
            .unwrap();
        let len = tr.len();
        for feedback in [EpropFeedback::Random, EpropFeedback::Symmetric] {
            let spec = RuleSpec::eprop(rates(), feedback);
            let rule = spec.build().unwrap();
            let same: AnyRule = match feedback {
                EpropFeedback::Random => Rflo::new(rates()).unwrap().into(),
                EpropFeedback::Symmetric => LocalSymmetric::new(rates()).unwrap().into(),
            };
            assert_eq!(rule, same, "{feedback:?}");
            assert_eq!(trial_end(&rule, &case), trial_end(&same, &case));
            // e-prop from its definition.
            let f = |j: usize, d: usize| match feedback {
                EpropFeedback::Random => net.feedback()[(j, d)],
                EpropFeedback::Symmetric => net.readout()[(d, j)],
            };
            let step_h = |s: usize, a: usize, b: usize, dw: f64| -> f64 {
                // h_a(t) with W_ab shifted by dw, h(t-1) held fixed.
                let mut u = tr.u[(a, s)];
                u += dw * tr.h[(b, s)];
                (1.0 - alpha) * tr.h[(a, s)] + alpha * u.tanh()
            };
            let fd = 1e-6;
            let mut elig = Mat::<f64>::zeros(n, n);
            let mut dw = Mat::<f64>::zeros(n, n);
            for s in 0..len {
                for a in 0..n {
                    let signal: f64 = (0..ny).map(|d| f(a, d) * tr.error[(d, s)]).sum();
                    for b in 0..n {
                        let explicit = (step_h(s, a, b, fd) - step_h(s, a, b, -fd)) / (2.0 * fd);
                        elig[(a, b)] = (1.0 - alpha) * elig[(a, b)] + explicit;
                        dw[(a, b)] += rates().recurrent / len as f64 * signal * elig[(a, b)];
                    }
                }
            }
            let got = trial_end(&rule, &case).recurrent;
            let d = rel_diff_mat(&got, &dw);
            worst = worst.max(d);
            assert!(d <= FD_TOL, "e-prop {feedback:?}: {d:e} on {case}");
        }
    }
    eprintln!("e-prop = RFLO / LocalSymmetric: vs its definition (FD) worst {worst:.2e}");
}

/// The gradient norm the alignment diagnostic reports is `‖∂L/∂W‖_F` of the
/// loss: against central finite differences at tau 1, 2 and 10, masked and not.
#[test]
fn the_exact_gradient_norm_of_the_alignment_diagnostic_is_the_norm_of_dl_dw() {
    let mut worst: f64 = 0.0;
    for (seed, tau, masked) in [
        (1, 1.0, false),
        (2, 2.0, true),
        (3, 10.0, false),
        (4, 10.0, true),
    ] {
        let case = random_case(CaseSpec::small(seed, tau, masked));
        let rule = RuleSpec::rflo(0.1).build().unwrap();
        let mut alignment = rnn_learn::GradientAlignment::new(&case.net);
        let mut state = rule.new_state(&case.net);
        alignment
            .measure(&rule, &mut state, &case.net, &case.trial, &case.start)
            .unwrap();
        let fd = finite_difference_update(&case, LearningRates::uniform(1.0), FD_STEP);
        let expected = fd.recurrent.norm_l2();
        let rel = (alignment.exact_gradient_norm() - expected).abs() / expected;
        worst = worst.max(rel);
        // Central differences at step 1e-6 are accurate to ~1e-9 here; a
        // norm of the wrong block or a missing factor is off by far more.
        assert!(
            rel < FD_TOL,
            "{case}: {} vs {expected}",
            alignment.exact_gradient_norm()
        );
    }
    eprintln!("exact gradient norm vs finite differences: worst relative difference {worst:.1e}");
}
