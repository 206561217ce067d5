//! `LearningRule::accumulate_many` (trials batched at fixed weights) against
//! its reference, one `accumulate` per trial in order (`accumulate_each`):
//! the summed update, the losses and the final states equal bit for bit, for
//! every registered rule in every form (RFLO's trial-batched form and BPTT
//! override it; the others take the default), and the same first error after
//! the same updates when a trial in the batch diverges; BPTT's batched
//! backward pass with trials of different lengths and more than eight trials.

use faer::Mat;
use rnn_core::{InitialState, Network, NetworkConfig, State, Trial, seeded};
use rnn_learn::{
    Bptt, LearningRates, LearningRule, Rflo, RuleSpec, TrialEndForm, TrialOutcome, WeightUpdate,
    accumulate_each,
};

fn mat_bits(m: &Mat<f64>) -> Vec<u64> {
    (0..m.ncols())
        .flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)].to_bits()))
        .collect()
}

fn assert_same_update(got: &WeightUpdate, want: &WeightUpdate, what: &str) {
    assert_eq!(
        mat_bits(&got.recurrent),
        mat_bits(&want.recurrent),
        "{what}: dW"
    );
    assert_eq!(mat_bits(&got.input), mat_bits(&want.input), "{what}: dW_in");
    assert_eq!(
        mat_bits(&got.readout),
        mat_bits(&want.readout),
        "{what}: dW_out"
    );
}

fn assert_same_outcomes(got: &[TrialOutcome], want: &[TrialOutcome], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: outcomes");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.loss.to_bits(), w.loss.to_bits(), "{what}: loss");
        assert_eq!(g.final_state, w.final_state, "{what}: final state");
    }
}

/// `K` trials of length `len` (the same or mixed), with inputs and a mask.
fn trials(n: usize, nx: usize, ny: usize, lens: &[usize], seed: u64) -> Vec<Trial> {
    let mut value = seed as f64;
    let mut next = || {
        value += 0.618_033_988_749_895;
        (value * 7.3).sin()
    };
    lens.iter()
        .enumerate()
        .map(|(k, &len)| {
            let inputs = Mat::from_fn(len, nx, |_, _| next());
            let targets = Mat::from_fn(len, ny, |_, _| 0.8 * next());
            let mask = (0..len)
                .map(|s| if (s + k) % 4 == 0 { 0.0 } else { 1.0 })
                .collect();
            let init = if k % 2 == 0 {
                InitialState::Constant(0.1)
            } else {
                InitialState::Given((0..n).map(|i| 0.05 * next() + i as f64 * 1e-3).collect())
            };
            Trial::new(inputs.as_ref(), targets.as_ref(), Some(mask), init).unwrap()
        })
        .collect()
}

fn check_rule<R: LearningRule>(rule: &R, net: &Network, trials: &[Trial], what: &str) {
    let refs: Vec<&Trial> = trials.iter().collect();
    let starts: Vec<State> = trials
        .iter()
        .map(|trial| State::initial(net, trial, None).unwrap())
        .collect();
    // A non-zero starting sum, as in the middle of an every-K group.
    let mut seed_update = WeightUpdate::zeros(net);
    seed_update.recurrent[(0, 0)] = 0.25;
    let mut want = seed_update.clone();
    let mut want_state = rule.new_state(net);
    let want_outcomes =
        accumulate_each(rule, net, &refs, &starts, &mut want_state, &mut want).unwrap();
    let mut got = seed_update;
    let mut state = rule.new_state(net);
    let outcomes = rule
        .accumulate_many(net, &refs, &starts, &mut state, &mut got)
        .unwrap();
    assert_same_update(&got, &want, what);
    assert_same_outcomes(&outcomes, &want_outcomes, what);
    // The state is reusable: a second batch in the same state gives the same again.
    let mut again = WeightUpdate::zeros(net);
    let mut again_want = WeightUpdate::zeros(net);
    rule.accumulate_many(net, &refs, &starts, &mut state, &mut again)
        .unwrap();
    accumulate_each(rule, net, &refs, &starts, &mut want_state, &mut again_want).unwrap();
    assert_same_update(&again, &again_want, &format!("{what}, second batch"));
}

/// RFLO (both trial-end forms) and BPTT, `K ∈ {1, 2, 3, 10}`,
/// `N ∈ {1, 5, 30, 33}`, `tau ∈ {1, 10}`, with and without inputs and
/// readout feedback.
#[test]
fn rflo_and_bptt_batches_equal_sequential_trials() {
    let rates = LearningRates {
        readout: 0.3,
        recurrent: 0.7,
        input: 0.11,
    };
    let mut rng = seeded(21);
    for n in [1, 5, 30, 33] {
        for tau in [1.0, 10.0] {
            for (nx, ny, feedback) in [(0, 1, false), (2, 3, false), (1, 1, true)] {
                let config = NetworkConfig::new(n, nx, ny)
                    .with_tau(tau)
                    .with_readout_feedback(feedback);
                let net = Network::random(&config, &mut rng).unwrap();
                for k in [1, 2, 3, 10] {
                    let batch = trials(n, nx, ny, &vec![11; k], (n * 100 + k) as u64);
                    let what = format!(
                        "N = {n}, tau = {tau}, N_x = {nx}, N_y = {ny}, feedback {feedback}, K = {k}"
                    );
                    check_rule(
                        &Rflo::new(rates).unwrap(),
                        &net,
                        &batch,
                        &format!("RFLO {what}"),
                    );
                    check_rule(
                        &Bptt::new(rates).unwrap(),
                        &net,
                        &batch,
                        &format!("BPTT {what}"),
                    );
                }
            }
        }
    }
    // Mixed lengths (run in groups of equal length), and the trace form (the default path).
    let net = Network::random(&NetworkConfig::new(9, 2, 1), &mut rng).unwrap();
    let batch = trials(9, 2, 1, &[5, 8, 5, 1, 8, 8], 3);
    check_rule(
        &Rflo::new(rates).unwrap(),
        &net,
        &batch,
        "RFLO, mixed lengths",
    );
    check_rule(
        &Bptt::new(rates).unwrap(),
        &net,
        &batch,
        "BPTT, mixed lengths",
    );
    let traces = Rflo::new(rates)
        .unwrap()
        .with_trial_end_form(TrialEndForm::Traces);
    check_rule(&traces, &net, &batch, "RFLO trace form");
}

/// BPTT's batched backward pass (trials aligned at their ends, one
/// `matmat_t` per step for up to eight of them): more trials than one group
/// (`K = 11`, `17`: groups of eight and a tail), lengths that all differ (so
/// trials join the backward pass at different steps, and the longest is not
/// first), `N` below, at and off a multiple of four, both projections.
#[test]
fn bptt_batched_backward_with_mixed_lengths_and_odd_k() {
    let rates = LearningRates {
        readout: 0.2,
        recurrent: 0.9,
        input: 0.3,
    };
    let mut rng = seeded(31);
    let lengths: [Vec<usize>; 3] = [
        vec![3, 12, 7, 12, 1, 9, 12, 4, 7, 10, 2],
        (0..17).map(|k| 1 + (k * 5) % 13).collect(),
        vec![6; 9],
    ];
    for (n, nx, ny, feedback) in [(3, 0, 1, false), (13, 2, 1, false), (36, 1, 2, true)] {
        let config = NetworkConfig::new(n, nx, ny).with_readout_feedback(feedback);
        let net = Network::random(&config, &mut rng).unwrap();
        for (case, lens) in lengths.iter().enumerate() {
            let batch = trials(n, nx, ny, lens, (n + case) as u64);
            let what = format!("N = {n}, N_x = {nx}, N_y = {ny}, K = {}", lens.len());
            check_rule(
                &Bptt::new(rates).unwrap(),
                &net,
                &batch,
                &format!("BPTT {what}"),
            );
            let random_feedback =
                Bptt::with_projection(rates, rnn_learn::Projection::Feedback).unwrap();
            check_rule(
                &random_feedback,
                &net,
                &batch,
                &format!("BPTT, F = B, {what}"),
            );
        }
    }
}

/// The comparison can fail: one ulp off in one element of a batched BPTT
/// update is caught.
#[test]
fn a_planted_one_ulp_difference_is_caught() {
    let net = Network::random(&NetworkConfig::new(10, 1, 1), &mut seeded(6)).unwrap();
    let batch = trials(10, 1, 1, &[4, 9, 6], 2);
    let refs: Vec<&Trial> = batch.iter().collect();
    let starts: Vec<State> = batch
        .iter()
        .map(|trial| State::initial(&net, trial, None).unwrap())
        .collect();
    let rule = Bptt::new(LearningRates::uniform(0.1)).unwrap();
    let mut got = WeightUpdate::zeros(&net);
    rule.accumulate_many(&net, &refs, &starts, &mut rule.new_state(&net), &mut got)
        .unwrap();
    let mut planted = got.clone();
    planted.recurrent[(3, 7)] = f64::from_bits(planted.recurrent[(3, 7)].to_bits() + 1);
    let caught = std::panic::catch_unwind(|| assert_same_update(&planted, &got, "planted"));
    assert!(caught.is_err());
}

/// Every registered rule in every form, through the registry's dispatch.
#[test]
fn every_rule_batches_equal_sequential_trials() {
    let net = Network::random(&NetworkConfig::new(7, 2, 2), &mut seeded(4)).unwrap();
    let batch = trials(7, 2, 2, &[6; 4], 8);
    for spec in RuleSpec::every_form(LearningRates::uniform(0.05)) {
        let rule = spec.build().unwrap();
        check_rule(&rule, &net, &batch, &format!("{spec:?}"));
    }
}

/// A trial that diverges in the middle of a batch: the same error as one at
/// a time, after the same updates (those of the trials before it); a batch
/// that does not fit the network falls back to one at a time.
#[test]
fn a_diverging_or_misfitting_trial_gives_the_sequential_error() {
    let net = Network::random(&NetworkConfig::new(6, 1, 1), &mut seeded(2)).unwrap();
    let mut batch = trials(6, 1, 1, &[7; 4], 1);
    batch[2] = Trial::new(
        Mat::from_fn(7, 1, |_, _| 1.0).as_ref(),
        Mat::from_fn(7, 1, |_, _| 1e300).as_ref(),
        None,
        InitialState::Constant(0.0),
    )
    .unwrap();
    let wrong = trials(6, 3, 1, &[7], 1).remove(0);
    for (name, spec) in [("RFLO", RuleSpec::rflo(0.1)), ("BPTT", RuleSpec::bptt(0.1))] {
        let rule = spec.build().unwrap();
        for case in [batch.clone(), {
            let mut b = batch.clone();
            b[2] = wrong.clone();
            b
        }] {
            let refs: Vec<&Trial> = case.iter().collect();
            let starts: Vec<State> = case
                .iter()
                .map(|trial| {
                    State::initial(&net, trial, None)
                        .unwrap_or_else(|_| State::initial(&net, &batch[0], None).unwrap())
                })
                .collect();
            let mut want = WeightUpdate::zeros(&net);
            let want_error = accumulate_each(
                &rule,
                &net,
                &refs,
                &starts,
                &mut rule.new_state(&net),
                &mut want,
            )
            .unwrap_err();
            let mut got = WeightUpdate::zeros(&net);
            let error = rule
                .accumulate_many(&net, &refs, &starts, &mut rule.new_state(&net), &mut got)
                .unwrap_err();
            assert_eq!(error.to_string(), want_error.to_string(), "{name}");
            assert_same_update(&got, &want, name);
            assert!(
                got.recurrent.norm_l2() > 0.0,
                "{name}: the first trials were added"
            );
        }
    }
}

/// Random trials drawn from the trainer's generator (so that its position
/// matters): `N_x = 2`, `N_y = 1`; every `carry_every`-th trial carries the
/// state over; trial `huge` has a target so large that its loss overflows
/// (or, with `finite`, only exceeds the loss bound).
struct RandomSource {
    n: usize,
    count: usize,
    carry_every: Option<usize>,
    huge: Option<(usize, bool)>,
}

impl rnn_core::TrialSource for RandomSource {
    fn next_trial(&mut self, rng: &mut rnn_core::SeededRng) -> rnn_core::Result<Trial> {
        use rand::RngExt;
        let index = self.count;
        self.count += 1;
        let len = 12;
        let x = Mat::from_fn(len, 2, |_, _| rng.random::<f64>() - 0.5);
        let mut y = Mat::from_fn(len, 1, |_, _| rng.random::<f64>() - 0.5);
        if let Some((at, finite)) = self.huge
            && at == index
        {
            let value = if finite { 1e4 } else { 1e300 };
            y = Mat::from_fn(len, 1, |_, _| value);
        }
        let start = match self.carry_every {
            Some(every) if index % every == every - 1 => InitialState::CarryOver,
            _ if index.is_multiple_of(2) => InitialState::Constant(0.1),
            _ => InitialState::Given((0..self.n).map(|i| 0.01 * i as f64).collect()),
        };
        Trial::new(x.as_ref(), y.as_ref(), None, start)
    }
}

/// Trains with `Trainer::train_trial`, checkpointing after every trial;
/// batches hold at most `batch_memory` bytes of trajectories.
fn train_steps(
    spec: &RuleSpec,
    config: &rnn_learn::TrainingConfig,
    mut source: RandomSource,
    batching: bool,
    batch_memory: usize,
) -> (Vec<rnn_learn::Checkpoint>, Vec<String>) {
    let mut net = Network::random(&NetworkConfig::new(source.n, 2, 1), &mut seeded(17)).unwrap();
    let mut trainer =
        rnn_learn::Trainer::new(spec.build().unwrap(), &mut net, config.clone()).unwrap();
    trainer.set_trial_batching(batching);
    trainer.set_batch_memory(batch_memory);
    let (mut checkpoints, mut results) = (Vec::new(), Vec::new());
    while !trainer.is_done() {
        let result = trainer.train_trial(&mut net, &mut source);
        results.push(match &result {
            Ok(loss) => format!("{:x}", loss.to_bits()),
            Err(error) => error.to_string(),
        });
        checkpoints.push(trainer.checkpoint(&net));
        if result.is_err() {
            break;
        }
    }
    (checkpoints, results)
}

/// The every-K trainer batched equals the one-at-a-time reference after
/// every trial: history, weights, pending sum, trials pending, generator
/// position, carried state (all in the checkpoint), and every trial's
/// result, for RFLO's batched form, BPTT and (not batching) the trace form;
/// with gradient alignment measured inside groups, trials that carry over
/// (the batch stops there and the next starts from them), a group cut
/// short by `n_trials`, trials that diverge or exceed the loss bound inside
/// a group, and a batch memory that splits each group into chunks of three.
#[test]
fn every_k_trainer_batched_equals_sequential() {
    let rates = LearningRates::uniform(0.05);
    let specs = [
        RuleSpec::rflo(rates),
        RuleSpec::bptt(rates),
        RuleSpec::local_symmetric(rates),
        RuleSpec::Rflo {
            rates,
            projection: rnn_learn::Projection::Feedback,
            trial_end_form: TrialEndForm::Traces,
            online_form: rnn_learn::OnlineForm::default(),
        },
    ];
    let config = rnn_learn::TrainingConfig::default()
        .with_n_trials(25)
        .with_schedule(rnn_learn::Schedule::EveryK(10))
        .with_gradient_alignment_every(3);
    let sources = [
        (None, None),
        (Some(4), None),
        (Some(1), None),
        (None, Some((13, false))),
        (Some(5), Some((14, true))),
    ];
    // Bytes of three trials' trajectories (`N = 20`, 12 steps): see
    // `rule::batch_chunk`.
    let three_trials = 3 * 6 * 8 * 20 * (12 + 1);
    for spec in &specs {
        for (&(carry_every, huge), memory) in sources
            .iter()
            .flat_map(|s| [(s, rnn_learn::BATCH_MEMORY), (s, three_trials)])
        {
            let source = || RandomSource {
                n: 20,
                count: 0,
                carry_every,
                huge,
            };
            let (got, got_results) = train_steps(spec, &config, source(), true, memory);
            let (want, want_results) = train_steps(spec, &config, source(), false, memory);
            let what =
                format!("{spec:?}, carry every {carry_every:?}, huge {huge:?}, memory {memory}");
            assert_eq!(got_results, want_results, "{what}");
            assert_eq!(got.len(), want.len(), "{what}");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(g == w, "{what}: checkpoint after trial {i} differs");
            }
            if huge.is_some() {
                assert!(
                    got_results.last().unwrap().len() > 16,
                    "{what}: the run must fail"
                );
            }
        }
    }
}

/// A batch larger than `BATCH_MEMORY` runs in chunks (here five trials of
/// N = 128 and T = 4000, chunks of at most two) and still equals its
/// trials one at a time, for RFLO's batched form and BPTT.
#[test]
fn batches_over_the_memory_budget_run_in_chunks() {
    let (n, len) = (128, 4000);
    let per_trial = 6 * 8 * n * (len + 1);
    let chunk = rnn_learn::BATCH_MEMORY / per_trial;
    assert!(
        (2..5).contains(&chunk),
        "chunk {chunk}: the test must split the batch"
    );
    let net = Network::random(&NetworkConfig::new(n, 1, 1), &mut seeded(31)).unwrap();
    let trials = trials(n, 1, 1, &[len; 5], 7);
    let rates = LearningRates::uniform(0.05);
    check_rule(&Rflo::new(rates).unwrap(), &net, &trials, "RFLO, chunked");
    check_rule(&Bptt::new(rates).unwrap(), &net, &trials, "BPTT, chunked");
}
