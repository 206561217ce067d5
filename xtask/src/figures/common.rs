//! Shared pieces of the panels: seeding, the rule switch, a training driver
//! that reports progress and records divergence, curve sampling.

use indicatif::ProgressBar;
use rnn_core::{Network, TrialSource};
use rnn_learn::{
    Bptt, History, LearningRates, LearningRule, LocalSymmetric, NonlocalRandom, Rflo, Trainer,
    TrainingConfig,
};

use crate::stats::{end_trend, fmt_num};

/// A seed from a run's identity only (FNV-1a over the parts and the seed
/// index): the same run gets the same seed in any panel, order or thread count.
pub fn seed_of(parts: &[&str], seed: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for p in parts {
        eat(p.as_bytes());
    }
    eat(&(seed as u64).to_le_bytes());
    h
}

/// The learning rules used by the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleKind {
    /// Exact gradient, acausal.
    Bptt,
    /// Random feedback, local, online.
    Rflo,
    /// RFLO traces with `F = W_out^T`.
    LocalSymmetric,
    /// Exact sensitivities with `F = B` (BPTT form for trial-end updates).
    NonlocalRandom,
}

impl RuleKind {
    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Bptt => "BPTT",
            RuleKind::Rflo => "RFLO",
            RuleKind::LocalSymmetric => "LocalSymmetric",
            RuleKind::NonlocalRandom => "NonlocalRandom",
        }
    }
}

/// Outcome of a training run: the history and, if it stopped early, why.
pub struct Driven {
    /// Per-trial history (shorter than planned if the run failed).
    pub history: History,
    /// The error that stopped the run (divergence), if any.
    pub failure: Option<String>,
}

/// Trains `net` with `kind` at `rates`; ticks `pb` by `steps_per_trial` per trial.
pub fn train_kind(
    kind: RuleKind,
    rates: LearningRates,
    net: &mut Network,
    source: &mut dyn TrialSource,
    config: TrainingConfig,
    pb: &ProgressBar,
    steps_per_trial: u64,
) -> Driven {
    let result =
        match kind {
            RuleKind::Bptt => {
                Bptt::new(rates).map(|r| drive(r, net, source, config, pb, steps_per_trial))
            }
            RuleKind::Rflo => {
                Rflo::new(rates).map(|r| drive(r, net, source, config, pb, steps_per_trial))
            }
            RuleKind::LocalSymmetric => LocalSymmetric::new(rates)
                .map(|r| drive(r, net, source, config, pb, steps_per_trial)),
            RuleKind::NonlocalRandom => NonlocalRandom::new(rates)
                .map(|r| drive(r, net, source, config, pb, steps_per_trial)),
        };
    result.unwrap_or_else(|e| Driven {
        history: History::default(),
        failure: Some(e.to_string()),
    })
}

/// Drives a [`Trainer`] to the end, recording a divergence instead of losing the history.
pub fn drive<R: LearningRule>(
    rule: R,
    net: &mut Network,
    source: &mut dyn TrialSource,
    config: TrainingConfig,
    pb: &ProgressBar,
    steps_per_trial: u64,
) -> Driven {
    let n_trials = config.n_trials as u64;
    let mut trainer = match Trainer::new(rule, net, config) {
        Ok(t) => t,
        Err(e) => {
            pb.inc(n_trials * steps_per_trial);
            return Driven {
                history: History::default(),
                failure: Some(e.to_string()),
            };
        }
    };
    let mut pending = 0u64;
    let mut failure = None;
    while !trainer.is_done() {
        if let Err(e) = trainer.train_trial(net, source) {
            failure = Some(e.to_string());
            break;
        }
        pending += steps_per_trial;
        if pending >= 20_000 {
            pb.inc(pending);
            pending = 0;
        }
    }
    let done = trainer.trials_done() as u64;
    pb.inc(pending + (n_trials - done.min(n_trials)) * steps_per_trial);
    Driven {
        history: trainer.into_history(),
        failure,
    }
}

/// At most `points` trial indices spread over `0..n`, always including the last.
pub fn curve_indices(n: usize, points: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let stride = n.div_ceil(points.max(1)).max(1);
    let mut v: Vec<usize> = (0..n).step_by(stride).collect();
    if v.last() != Some(&(n - 1)) {
        v.push(n - 1);
    }
    v
}

/// A median line `(x, y)` and its band `(x, lo, hi)`.
pub type LineAndBand = (Vec<(f64, f64)>, Vec<(f64, f64, f64)>);

/// Median line and 25/75 band of curves at the sampled indices, x = index + 1
/// (trial number, 1-based). Curves of failed runs must be left out by the caller.
pub fn median_band(curves: &[&[f64]], indices: &[usize]) -> LineAndBand {
    let rows = crate::stats::band(curves, indices);
    let line = rows
        .iter()
        .map(|(i, s)| ((*i + 1) as f64, s.median))
        .collect();
    let band = rows
        .iter()
        .map(|(i, s)| ((*i + 1) as f64, s.q25, s.q75))
        .collect();
    (line, band)
}

/// A curve is "still falling" when the mean loss over its last 10% of trials
/// is below this fraction of the mean over the 10% before.
pub const FALLING_BELOW: f64 = 0.95;

/// Like [`median_band`] for tasks whose trials differ (random delays or
/// syllables): each seed's curve is first averaged over bins of consecutive
/// trials (about `points` bins), then the median and 25/75 band are taken
/// over seeds at each bin's centre.
pub fn binned_median_band(curves: &[&[f64]], points: usize) -> LineAndBand {
    let n = curves.iter().map(|c| c.len()).max().unwrap_or(0);
    let width = n.div_ceil(points.max(1)).max(1);
    let binned: Vec<Vec<f64>> = curves
        .iter()
        .map(|c| c.chunks(width).map(crate::stats::mean).collect())
        .collect();
    let refs: Vec<&[f64]> = binned.iter().map(Vec::as_slice).collect();
    let bins = n.div_ceil(width);
    let rows = crate::stats::band(&refs, &(0..bins).collect::<Vec<_>>());
    let centre = |i: usize| (i * width) as f64 + (width as f64 + 1.0) / 2.0;
    let line = rows.iter().map(|(i, s)| (centre(*i), s.median)).collect();
    let band = rows
        .iter()
        .map(|(i, s)| (centre(*i), s.q25, s.q75))
        .collect();
    (line, band)
}

/// "still falling" / "flat" from the median over seeds of [`end_trend`].
pub fn trend_text(curves: &[&[f64]]) -> (f64, String) {
    let trends: Vec<f64> = curves.iter().map(|c| end_trend(c)).collect();
    let t = crate::stats::median(&trends);
    let word = if t < FALLING_BELOW {
        "still falling"
    } else if t > 1.0 / FALLING_BELOW {
        "rising"
    } else {
        "flat"
    };
    (t, format!("{} ({word})", fmt_num(t)))
}

/// Ratio criterion "a ≈ b": within a factor of [`APPROX_FACTOR`].
pub const APPROX_FACTOR: f64 = 3.0;

/// True when `a` and `b` are within a factor [`APPROX_FACTOR`] of each other.
pub fn approx(a: f64, b: f64) -> bool {
    let r = a / b;
    r.is_finite() && (1.0 / APPROX_FACTOR..=APPROX_FACTOR).contains(&r)
}

/// "learns": final loss at most this fraction of the initial (untrained) loss.
pub const LEARNS_FRACTION: f64 = 0.25;
