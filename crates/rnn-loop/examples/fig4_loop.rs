//! The whole Fig 4 pipeline: train the reach syllables with RFLO
//! (docs/spec/TASKS.md §3), freeze the network, train the sequencing loop
//! (docs/spec/TASKS.md §5) and run the greedy test.
//!
//! `cargo run --release -p rnn-loop --example fig4_loop -- [N] [syllable trials] [transitions] [seed]`
//! (defaults: the spec's 100, 10000, 10000, 0).

#![allow(clippy::print_stdout)]

use rnn_core::{Network, NetworkConfig, seeded_stream};
use rnn_loop::{LoopConfig, PretrainConfig, Sequencer, pretrain_syllables};

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (n, n_trials, n_transitions, seed) = (
        arg(1, 100usize),
        arg(2, 10_000usize),
        arg(3, 10_000usize),
        arg(4, 0u64),
    );
    let config = LoopConfig {
        n_transitions,
        seed,
        ..LoopConfig::default()
    };
    let mut net = Network::random(
        &NetworkConfig::new(n, config.shape.n_syllables, 2),
        &mut seeded_stream(seed, 1),
    )?;
    let pretrain = PretrainConfig {
        n_trials,
        seed,
        ..PretrainConfig::for_loop(&config)
    };
    let syllables = pretrain_syllables(&mut net, &pretrain)?;
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    let k = syllables.loss.len().min(100);
    println!(
        "syllables: loss {:.3e} (first {k} trials) -> {:.3e} (last {k})",
        mean(&syllables.loss[..k]),
        mean(&syllables.loss[syllables.loss.len() - k..])
    );

    let mut sequencer = Sequencer::new(net, config)?;
    let history = sequencer.train()?;
    for w in history.windows.iter().step_by(10) {
        println!(
            "transitions {:>5}..: reward rate {:.2}, greedy accuracy {:?}, exploratory {}",
            w.first, w.reward_rate, w.greedy_accuracy, w.exploratory
        );
    }
    println!(
        "exploration rate {:.3}; produced cursor's largest excursion beyond the box in training {:.2}",
        history.exploration_rate(),
        history.max_cursor_excursion
    );
    let test = sequencer.evaluate()?;
    println!(
        "greedy test: {:?} (exact: {}); path error {:.3} (zero output {:.3}); largest excursion beyond the box {:.3}",
        test.syllables, test.exact, test.path_error, test.zero_output_error, test.max_box_excursion
    );
    Ok(())
}
