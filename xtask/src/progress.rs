//! Training with a progress bar (hidden when stderr is not a terminal).

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rnn_experiment::{RunRecord, RunSpec, Runner};

/// The records of `specs` from `runner`, with a bar labelled `label` over the
/// time steps of the runs it has to train.
pub fn run(runner: &Runner, label: &str, specs: &[RunSpec]) -> crate::Res<Vec<Arc<RunRecord>>> {
    let total: u64 = runner
        .pending(specs)?
        .iter()
        .map(RunSpec::training_steps)
        .sum();
    let target = match std::io::stderr().is_terminal() {
        true => ProgressDrawTarget::stderr(),
        false => ProgressDrawTarget::hidden(),
    };
    let pb =
        ProgressBar::with_draw_target(Some(total.max(1)), target).with_prefix(label.to_string());
    let template = "{prefix:>10} [{elapsed_precise}] {bar:36} {percent:>3}% ETA {eta_precise}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style);
    }
    let records = runner.run_all_reporting(specs, &|steps| pb.inc(steps));
    pb.finish_and_clear();
    Ok(records?)
}
