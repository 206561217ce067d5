//! Shared pieces of the panels: curve sampling, median bands, the report's
//! criteria words, and a standard run table.

use plotters::style::RGBColor;
use rnn_experiment::stats::{Summary, band, end_trend, fmt_num, mean, median};
use rnn_experiment::{Axis, Grid};

use crate::plot::colors;

use super::{Run, Scale};

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
    line_and_band(&band(curves, indices), |i| (i + 1) as f64)
}

/// The medians and 25–75 % bands of `rows`, drawn at `x(index)`.
fn line_and_band(rows: &[(usize, Summary)], x: impl Fn(usize) -> f64) -> LineAndBand {
    let line = rows.iter().map(|(i, s)| (x(*i), s.median)).collect();
    let band = rows.iter().map(|(i, s)| (x(*i), s.q25, s.q75)).collect();
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
        .map(|c| c.chunks(width).map(mean).collect())
        .collect();
    let centre = |i: usize| (i * width) as f64 + (width as f64 + 1.0) / 2.0;
    band_at(&binned, centre)
}

/// "still falling" / "flat" from the median over seeds of [`end_trend`].
pub fn trend_text(curves: &[&[f64]]) -> (f64, String) {
    let trends: Vec<f64> = curves.iter().map(|c| end_trend(c)).collect();
    let t = median(&trends);
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

/// `T = 20τ` for a period or delay of `steps` time steps at `tau` = 10 steps.
pub fn tau_label(steps: usize) -> String {
    format!("T = {}τ", steps / 10)
}

/// Summary of the final losses (failed runs as `+inf`, see `rnn_experiment::stats`).
pub fn final_losses(runs: &[&Run]) -> Summary {
    Summary::of(
        &runs
            .iter()
            .map(|r| r.record.final_loss_or_inf())
            .collect::<Vec<_>>(),
    )
}

/// Summary of the untrained networks' losses.
pub fn initial_losses(runs: &[&Run]) -> Summary {
    Summary::of(
        &runs
            .iter()
            .map(|r| r.record.initial_loss)
            .collect::<Vec<_>>(),
    )
}

/// The completed runs among `runs` (curves are drawn from these).
pub fn completed<'r>(runs: &[&'r Run]) -> Vec<&'r Run> {
    runs.iter().copied().filter(|r| r.ok()).collect()
}

/// `failed/total` for a table cell.
pub fn failed_of(runs: &[&Run]) -> String {
    format!("{}/{}", runs.iter().filter(|r| !r.ok()).count(), runs.len())
}

/// Adds the replicate axis: `seed` and `training.seed` together, `0..n` with
/// `n = default` unless `--seeds` (fig2 has its own, with its default).
pub fn replicated(grid: Grid, scale: &Scale, default: usize) -> Grid {
    let seeds = scale.seeds(default);
    grid.axis(Axis::new("seed", seeds.clone()).zip("training.seed", seeds))
}

/// Header cells from one `|`-separated string.
pub fn cols(header: &str) -> Vec<&str> {
    header.split('|').collect()
}

/// Median line and 25–75 % band of `curves` at every index `i`, drawn at `x(i)`.
pub fn band_at(curves: &[Vec<f64>], x: impl Fn(usize) -> f64) -> LineAndBand {
    let refs: Vec<&[f64]> = curves.iter().map(Vec::as_slice).collect();
    let n = refs.iter().map(|c| c.len()).max().unwrap_or(0);
    line_and_band(&band(&refs, &(0..n).collect::<Vec<_>>()), x)
}

/// The loss curves of the completed runs among `runs`.
pub fn loss_curves<'r>(runs: &[&'r Run]) -> Vec<&'r [f64]> {
    let loss = |r: &&'r Run| r.record.history.loss.as_slice();
    completed(runs).iter().map(loss).collect()
}

/// The colour of a rule in every panel, by its label ([`rnn_learn::RuleSpec::label`]).
pub fn rule_color(label: &str) -> RGBColor {
    match label {
        "BPTT" => colors::BPTT,
        "RFLO" => colors::RFLO,
        "LocalSymmetric" => colors::LOCAL_SYMMETRIC,
        "NonlocalRandom" => colors::NONLOCAL_RANDOM,
        "RTRL" => colors::BLUE,
        "SnAp-1" => colors::GREEN,
        "UORO" => colors::ORANGE,
        "KF-RTRL" => RGBColor(140, 90, 40),
        "REINFORCE" => RGBColor(120, 60, 180),
        "FORCE" => RGBColor(0, 120, 120),
        _ => colors::GREY,
    }
}
