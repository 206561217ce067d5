//! Train RFLO on the periodic target of the paper's Fig 2 (docs/spec/TASKS.md §1).
//!
//! `cargo run --release -p rnn-learn --example sine`

#![allow(clippy::print_stdout, clippy::print_stderr)] // an example reports to the terminal

use faer::Mat;
use rnn_core::{InitialState, Network, NetworkConfig, Trial, TrialCycle, seeded};
use rnn_learn::{LearningRates, Rflo, TrainingConfig, feedback_alignment, train_with_progress};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // N = 30 units, no input, one output; tau = 10 steps; paper's initialisation.
    let mut net = Network::random(&NetworkConfig::new(30, 0, 1), &mut seeded(1))?;

    // One trial = one period of T = 200 steps, from h(0) = 0.1.
    let period = 200;
    let tau = std::f64::consts::TAU;
    let target = Mat::from_fn(period, 1, |s, _| {
        let t = (s + 1) as f64 / period as f64;
        (tau * t).sin() + 0.5 * (2.0 * tau * t).sin() + 0.25 * (4.0 * tau * t).sin()
    });
    let trial = Trial::new(
        Mat::zeros(period, 0).as_ref(),
        target.as_ref(),
        None,
        InitialState::Constant(0.1),
    )?;
    let mut task = TrialCycle::new(vec![trial])?;

    let rule = Rflo::new(LearningRates::uniform(0.03))?;
    let history = train_with_progress(
        &mut net,
        rule,
        &mut task,
        &TrainingConfig::default().with_n_trials(2000).with_seed(1),
        |p| {
            if p.trials_done % 500 == 0 {
                eprintln!("trial {:>5}: loss {:.5}", p.trials_done, p.loss);
            }
        },
    )?;

    let first = history.loss[0];
    let last = *history.loss.last().expect("2000 trials ran");
    println!("loss {first:.4} -> {last:.4} ({:.0}x lower)", first / last);
    println!(
        "readout-feedback alignment: {:.3}",
        feedback_alignment(&net)
    );
    Ok(())
}
