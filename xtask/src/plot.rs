//! SVG figures with plotters, styled like a paper figure: labelled axes with
//! units, log axes where the paper uses them, median lines with 25/75 bands.
//!
//! Log axes are drawn by plotting `log10` of the data on a linear axis with
//! tick labels written back in data units (`1e-2`, ...).

use std::path::Path;

use plotters::prelude::*;

/// Colours shared by the figures (the paper's for LocalSymmetric, magenta,
/// and NonlocalRandom, cyan; grey for untrained and reference lines).
pub mod colors {
    use plotters::style::RGBColor;
    pub const BPTT: RGBColor = RGBColor(20, 20, 20);
    pub const RFLO: RGBColor = RGBColor(215, 40, 40);
    pub const LOCAL_SYMMETRIC: RGBColor = RGBColor(200, 0, 200);
    pub const NONLOCAL_RANDOM: RGBColor = RGBColor(0, 170, 210);
    pub const GREY: RGBColor = RGBColor(140, 140, 140);
    pub const BLUE: RGBColor = RGBColor(40, 90, 200);
    pub const GREEN: RGBColor = RGBColor(30, 150, 60);
    pub const ORANGE: RGBColor = RGBColor(240, 140, 0);
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Line,
    /// Targets and references.
    Dashed,
    LinePoints,
    /// Unconnected points (one per network).
    Points,
}

/// One series of a panel: points `(x, y)` in data units, an optional band
/// `(x, lo, hi)` (25/75 percentiles) and a legend entry if labelled.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: Option<String>,
    pub color: RGBColor,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
}

impl Series {
    /// A series.
    pub fn new(
        label: impl Into<String>,
        color: RGBColor,
        style: Style,
        points: Vec<(f64, f64)>,
    ) -> Self {
        let label = label.into();
        Self {
            label: if label.is_empty() { None } else { Some(label) },
            color,
            style,
            points,
            band: Vec::new(),
        }
    }

    /// Adds a band (builder style).
    pub fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Self {
        self.band = band;
        self
    }
}

/// One panel (a set of axes): title, axis labels with units, log axes, fixed
/// ranges in data units (else automatic) and its series.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
}

impl Panel {
    /// A panel with title and axis labels.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Self::default()
        }
    }

    /// Log y axis (builder style).
    pub fn log_y(mut self) -> Self {
        self.y_log = true;
        self
    }

    /// Log x axis (builder style).
    pub fn log_x(mut self) -> Self {
        self.x_log = true;
        self
    }

    /// Adds a series (builder style).
    pub fn with(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }
}

fn tx(v: f64, log: bool) -> f64 {
    if log {
        if v > 0.0 { v.log10() } else { f64::NAN }
    } else {
        v
    }
}

fn fmt_tick(v: f64, log: bool) -> String {
    if log {
        let r = v.round();
        if (v - r).abs() < 1e-9 {
            format!("1e{}", r as i64)
        } else {
            format!("{:.1e}", 10f64.powf(v))
        }
    } else {
        let a = v.abs();
        if a != 0.0 && !(1e-3..1e5).contains(&a) {
            format!("{v:.0e}")
        } else {
            let s = format!("{v:.4}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" {
                "0".to_string()
            } else {
                s.to_string()
            }
        }
    }
}

fn range(values: impl Iterator<Item = f64>, fixed: Option<(f64, f64)>, log: bool) -> (f64, f64) {
    if let Some((a, b)) = fixed {
        return (tx(a, log), tx(b, log));
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let pad = if log { 0.5 } else { lo.abs().max(1.0) * 0.1 };
        return (lo - pad, hi + pad);
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

type DynResult<T> = crate::Res<T>;

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    panel: &Panel,
) -> DynResult<()> {
    let (xl, yl) = (panel.x_log, panel.y_log);
    let xs = panel.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(move |p| tx(p.0, xl))
            .chain(s.band.iter().map(move |b| tx(b.0, xl)))
    });
    let ys = panel.series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(move |p| tx(p.1, yl))
            .chain(s.band.iter().flat_map(move |b| [tx(b.1, yl), tx(b.2, yl)]))
    });
    let (x0, x1) = range(xs, panel.x_range, xl);
    let (y0, y1) = range(ys, panel.y_range, yl);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(62)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let xfmt = move |v: &f64| fmt_tick(*v, xl);
    let yfmt = move |v: &f64| fmt_tick(*v, yl);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .axis_desc_style(("sans-serif", 14))
        .label_style(("sans-serif", 12))
        .draw()?;
    let mut any_label = false;
    for s in &panel.series {
        let color = s.color;
        if !s.band.is_empty() {
            let mut poly: Vec<(f64, f64)> = s
                .band
                .iter()
                .map(|b| (tx(b.0, xl), tx(b.2, yl)))
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            poly.extend(
                s.band
                    .iter()
                    .rev()
                    .map(|b| (tx(b.0, xl), tx(b.1, yl)))
                    .filter(|p| p.0.is_finite() && p.1.is_finite()),
            );
            if poly.len() >= 3 {
                chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.2).filled())))?;
            }
        }
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|p| (tx(p.0, xl), tx(p.1, yl)))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let anno = match s.style {
            Style::Line => chart.draw_series(LineSeries::new(pts, color.stroke_width(2)))?,
            Style::Dashed => {
                chart.draw_series(DashedLineSeries::new(pts, 6, 4, color.stroke_width(2)))?
            }
            Style::LinePoints => {
                chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?;
                chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?
            }
            Style::Points => {
                chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?
            }
        };
        if let Some(label) = &s.label {
            any_label = true;
            anno.label(label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        }
    }
    if any_label {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 12))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
    }
    Ok(())
}

/// Renders panels on a grid with `cols` columns into an SVG at `path`
/// (written atomically). Each panel is `size` pixels.
pub fn render(
    path: &Path,
    title: &str,
    cols: usize,
    size: (u32, u32),
    panels: &[Panel],
) -> DynResult<()> {
    let cols = cols.max(1);
    let rows = panels.len().div_ceil(cols).max(1);
    let (w, h) = (size.0 * cols as u32, size.1 * rows as u32 + 34);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(title, ("sans-serif", 20))?;
        let areas = root.split_evenly((rows, cols));
        for (area, panel) in areas.iter().zip(panels) {
            draw_panel(area, panel)?;
        }
        root.present()?;
    }
    rnn_core::io::write_atomic(path, svg.as_bytes())?;
    Ok(())
}
