//! Summary statistics for the report: quantiles, medians, least-squares lines.
//! (Statistics of results only; no model maths.)

/// The `q`-quantile (`q` in `[0, 1]`) of the finite values, with linear
/// interpolation between order statistics; NaN if there are none.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    v[lo] + (v[hi] - v[lo]) * frac
}

/// Median of the finite values.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// Mean of the finite values; NaN if none.
pub fn mean(values: &[f64]) -> f64 {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Median with 25th and 75th percentiles.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// 25th percentile.
    pub q25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub q75: f64,
}

impl Summary {
    /// Summary of the finite values.
    pub fn of(values: &[f64]) -> Self {
        Self {
            q25: quantile(values, 0.25),
            median: median(values),
            q75: quantile(values, 0.75),
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

/// A number for the report: 4 significant digits, scientific when small or large.
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
#[derive(Debug, Clone, Copy)]
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
/// Below 0.9 means "still falling".
pub fn end_trend(curve: &[f64]) -> f64 {
    let n = curve.len();
    let w = (n / 10).max(1);
    if n < 2 * w {
        return f64::NAN;
    }
    mean(&curve[n - w..]) / mean(&curve[n - 2 * w..n - w])
}

/// Pointwise median and quartiles over several curves of equal length,
/// at the given indices.
pub fn band(curves: &[&[f64]], indices: &[usize]) -> Vec<(usize, Summary)> {
    indices
        .iter()
        .map(|&i| {
            let vals: Vec<f64> = curves.iter().filter_map(|c| c.get(i).copied()).collect();
            (i, Summary::of(&vals))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [4.0, 1.0, 3.0, 2.0, f64::NAN];
        assert_eq!(median(&v), 2.5);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.25), 1.75);
    }

    #[test]
    fn line_fit_exact() {
        let f = line_fit(&[1.0, 2.0, 3.0], &[3.0, 5.0, 7.0]);
        assert!((f.slope - 2.0).abs() < 1e-12 && (f.intercept - 1.0).abs() < 1e-12);
        assert!((f.r2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn trend() {
        let c: Vec<f64> = (0..100).map(|i| 100.0 - i as f64).collect();
        assert!(end_trend(&c) < 1.0);
    }
}
