//! The Rust-native baseline of `bench/overhead.py`: the same training as the
//! Python benchmark (N = 30, periodic task of period 200, RFLO at 0.03,
//! per-trial updates), timed in Rust. Prints one wall time in seconds per
//! repeat.
//!
//! `cargo run --release -p rnn-py --example native_train -- TRIALS REPEATS`

use std::time::Instant;

use rnn_core::{Network, NetworkConfig, seeded};
use rnn_learn::{RuleSpec, TrainingConfig};
use rnn_tasks::{PeriodicConfig, TaskSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let trials: usize = args.next().map_or(Ok(2000), |a| a.parse())?;
    let repeats: usize = args.next().map_or(Ok(7), |a| a.parse())?;
    let spec = TaskSpec::Periodic(PeriodicConfig {
        period: 200,
        ..PeriodicConfig::default()
    });
    for _ in 0..repeats {
        let mut net = Network::random(&NetworkConfig::new(30, 0, 1), &mut seeded(1))?;
        let mut task = spec.build(&mut seeded(0))?;
        let config = TrainingConfig::default().with_n_trials(trials);
        let started = Instant::now();
        let history = RuleSpec::rflo(0.03).train(&mut net, task.as_mut(), &config)?;
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(history.loss.len(), trials);
        #[allow(clippy::print_stdout)] // the example's output is its measurement
        {
            println!("{seconds}");
        }
    }
    Ok(())
}
