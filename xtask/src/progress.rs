//! A progress bar (hidden when stderr is not a terminal) fed by the runner.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rnn_experiment::{RunRecord, RunSpec, Runner};

/// A bar over the time steps of `pending` runs, labelled `label`.
pub fn bar(label: &str, pending: &[RunSpec]) -> ProgressBar {
    let total: u64 = pending.iter().map(RunSpec::training_steps).sum();
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let pb = ProgressBar::with_draw_target(Some(total.max(1)), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>10} [{elapsed_precise}] {bar:36} {percent:>3}% ETA {eta_precise}",
    ) {
        pb.set_style(style);
    }
    pb.set_prefix(label.to_string());
    pb
}

/// The records of `specs` from `runner`, with a progress bar labelled `label`
/// over the runs it has to train.
pub fn run(runner: &Runner, label: &str, specs: &[RunSpec]) -> crate::Res<Vec<Arc<RunRecord>>> {
    let pb = bar(label, &runner.pending(specs)?);
    let records = runner.run_all_reporting(specs, &|steps| pb.inc(steps));
    pb.finish_and_clear();
    Ok(records?)
}
