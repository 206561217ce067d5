//! One statistics vocabulary for every table, panel and sweep.
//!
//! **Failed runs.** A run that diverged, or whose trained network evaluates
//! to a non-finite loss, enters every median and quantile of its results as
//! `+inf` (worst): [`crate::RunRecord::final_loss_or_inf`], and any NaN
//! given to these functions, counts as `+inf`. So a median is finite only if
//! fewer than half of the runs failed, and "the best setting by median" can
//! never be one at which most runs diverge. Per-trial curves (loss against
//! trial) are drawn from the runs that completed; reports print how many
//! failed next to every statistic.

/// The `q`-quantile (`q` in `[0, 1]`) with linear interpolation between
/// order statistics; NaN counts as `+inf`; NaN if `values` is empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values
        .iter()
        .map(|&x| if x.is_nan() { f64::INFINITY } else { x })
        .collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    if lo == hi || v[lo] == v[hi] {
        return v[lo];
    }
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The median (see [`quantile`]).
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The mean of the finite values; NaN if there are none. For averages
/// *within* one run (over test trials, over bins of a curve).
pub fn mean(values: &[f64]) -> f64 {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Median with 25th and 75th percentiles, and how many values were failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// 25th percentile.
    pub q25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub q75: f64,
    /// Number of values.
    pub n: usize,
    /// Number of failures (non-finite values).
    pub failed: usize,
}

impl Summary {
    /// Summary of `values`, failures (NaN, ±inf) counting as `+inf`.
    pub fn of(values: &[f64]) -> Self {
        let values: Vec<f64> = values
            .iter()
            .map(|&x| if x.is_finite() { x } else { f64::INFINITY })
            .collect();
        Self {
            q25: quantile(&values, 0.25),
            median: median(&values),
            q75: quantile(&values, 0.75),
            n: values.len(),
            failed: values.iter().filter(|x| !x.is_finite()).count(),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}, {}]",
            fmt_num(self.median),
            fmt_num(self.q25),
            fmt_num(self.q75)
        )
    }
}

/// A number for reports: 4 significant digits, scientific when small or large.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{x:.3e}")
    } else {
        let digits = if a == 0.0 {
            3
        } else {
            (3 - a.log10().floor() as i32).clamp(0, 6) as usize
        };
        format!("{x:.digits$}")
    }
}

/// A least-squares line `y = slope x + intercept` with its R².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
    /// Coefficient of determination.
    pub r2: f64,
}

/// Least-squares line through the finite points; NaNs if fewer than two distinct x.
pub fn line_fit(xs: &[f64], ys: &[f64]) -> LineFit {
    let pts: Vec<(f64, f64)> = xs
        .iter()
        .zip(ys)
        .map(|(&x, &y)| (x, y))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let nan = LineFit {
        slope: f64::NAN,
        intercept: f64::NAN,
        r2: f64::NAN,
    };
    if pts.len() < 2 {
        return nan;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = pts.iter().map(|p| (p.1 - my).powi(2)).sum();
    if sxx == 0.0 {
        return nan;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_res: f64 = pts
        .iter()
        .map(|p| (p.1 - (slope * p.0 + intercept)).powi(2))
        .sum();
    let r2 = if syy == 0.0 { 1.0 } else { 1.0 - ss_res / syy };
    LineFit {
        slope,
        intercept,
        r2,
    }
}

/// Trend at the end of a curve: mean of the last 10% over the mean of the 10% before.
pub fn end_trend(curve: &[f64]) -> f64 {
    let n = curve.len();
    let w = (n / 10).max(1);
    if n < 2 * w {
        return f64::NAN;
    }
    mean(&curve[n - w..]) / mean(&curve[n - 2 * w..n - w])
}

/// Pointwise [`Summary`] over several curves at the given indices (curves
/// shorter than an index are left out there).
pub fn band(curves: &[&[f64]], indices: &[usize]) -> Vec<(usize, Summary)> {
    indices
        .iter()
        .map(|&i| {
            let vals: Vec<f64> = curves.iter().filter_map(|c| c.get(i).copied()).collect();
            (i, Summary::of(&vals))
        })
        .collect()
}

/// The 95 % Wilson score interval `(low, high)` of a proportion with
/// `successes` of `n` (`z = 1.959964`, no continuity correction):
/// `(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)` with `p = successes/n`.
/// Unlike the normal interval it stays inside `[0, 1]` and is not empty at
/// 0 of 9 or 9 of 9. `(0, 1)` when `n = 0`.
pub fn wilson_interval(successes: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    const Z: f64 = 1.959_963_984_540_054;
    let (k, n) = (successes.min(n) as f64, n as f64);
    let p = k / n;
    let z2 = Z * Z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    // At k = 0 (k = n) the bound is 0 (1) exactly; rounding could leave it
    // a hair inside, above the estimate p.
    let low = if k == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if k == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

/// Of groups of values (one group per candidate setting), the index of the
/// group with the lowest median (failures as `+inf`); ties go to the first.
/// `None` when every median is infinite (no candidate works).
pub fn best_by_median(groups: &[Vec<f64>]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, g) in groups.iter().enumerate() {
        let m = median(g);
        if m.is_finite() && best.is_none_or(|(_, b)| m < b) {
            best = Some((i, m));
        }
    }
    best.map(|(i, _)| i)
}
