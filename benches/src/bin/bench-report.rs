//! Scaling report from criterion's results: per-step cost of every workload
//! ([`Workload::all`], derived from the rule registry) against `N`, log–log
//! slopes, and the performance ratios (whose workloads are looked up by
//! spec: forward, RFLO online in its forms, RFLO batched, BPTT).
//!
//! ```text
//! cargo bench -p rnn-bench
//! cargo run --release -p rnn-bench --bin bench-report [-- <criterion dir>]
//! ```
//!
//! Reads `target/criterion/<group>/<N>/new/{sample,estimates}.json` (ns per
//! trial of `T` steps; the report is given twice, from the fastest sample and
//! from criterion's median), writes `target/bench-report/report.md` and
//! `target/bench-report/scaling-{min,median}.svg`, and prints the report.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use rnn_bench::{
    ETA, RTRL_MAX_N, SEEDS, SEEDS_N, STREAM_N, T, Updates, Workload, rflo_online_bytes_per_step,
    triad_bytes,
};
use rnn_learn::{LearningRates, OnlineForm, Projection, RuleSpec, TrialEndForm};

/// Which statistic of criterion's samples the report uses.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stat {
    /// The fastest sample (`new/sample.json`): least disturbed by other
    /// tenants of a shared machine.
    Min,
    /// Criterion's median estimate (`new/estimates.json`).
    Median,
}

/// Time of one iteration in ns for `<dir>/<group>/<id>/new/`.
fn time_ns(dir: &Path, group: &str, id: &str, stat: Stat) -> Option<f64> {
    let new = dir.join(group).join(id).join("new");
    let read = |file: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(new.join(file)).ok()?).ok()
    };
    match stat {
        Stat::Median => read("estimates.json")?["median"]["point_estimate"].as_f64(),
        Stat::Min => {
            let sample = read("sample.json")?;
            let iters = sample["iters"].as_array()?;
            let times = sample["times"].as_array()?;
            iters
                .iter()
                .zip(times)
                .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
                .reduce(f64::min)
        }
    }
}

/// Least-squares slope of `log y` against `log x`.
fn loglog_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let m = points.len() as f64;
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.iter().map(|&(x, y)| (x.ln(), y.ln())).unzip();
    let (mx, my) = (xs.iter().sum::<f64>() / m, ys.iter().sum::<f64>() / m);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    Some(sxy / sxx)
}

/// One performance bar: a measured ratio against its threshold.
struct Bar {
    what: String,
    ratio: f64,
    threshold: f64,
    at_most: bool,
}

impl Bar {
    fn passes(&self) -> bool {
        if self.at_most {
            self.ratio <= self.threshold
        } else {
            self.ratio >= self.threshold
        }
    }
}

fn criterion_dir() -> PathBuf {
    if let Some(dir) = std::env::args().nth(1) {
        return PathBuf::from(dir);
    }
    // This package lives in `benches/` at the workspace root, so the
    // workspace's target directory is `../target` from its manifest.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("criterion")
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.1}")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = criterion_dir();
    let out_dir = dir.join("../bench-report");
    std::fs::create_dir_all(&out_dir)?;
    let mut md = String::from(
        "Per-step cost of one training trial; every ratio is measured within one bench run.\n\n",
    );
    for (stat, name) in [(Stat::Min, "min"), (Stat::Median, "median")] {
        let (section, per_step, slopes) = report(&dir, stat)?;
        writeln!(
            md,
            "## Statistic: {name} over criterion's samples\n\n{section}"
        )?;
        plot(
            &out_dir.join(format!("scaling-{name}.svg")),
            &per_step,
            &slopes,
        )?;
    }
    rnn_core::io::write_atomic(&out_dir.join("report.md"), md.as_bytes())?;
    println!("{md}");
    println!(
        "written: {} (+ scaling-min.svg, scaling-median.svg)",
        out_dir.join("report.md").display()
    );
    Ok(())
}

/// ns per step by workload group and `N`.
type Table = BTreeMap<String, BTreeMap<usize, f64>>;
/// Log–log slope by workload group.
type Slopes = BTreeMap<String, f64>;

/// The workloads the bars and notes refer to, looked up by spec.
struct Named {
    forward: Workload,
    /// RFLO online, default form (`OnlineForm::Auto`).
    rflo_online: Workload,
    rflo_online_trace: Workload,
    rflo_online_low_rank: Workload,
    rflo_batched: Workload,
    bptt: Workload,
}

impl Named {
    fn new() -> Self {
        let rates = LearningRates::uniform(ETA);
        let rflo = |online_form| RuleSpec::Rflo {
            rates,
            projection: Projection::Feedback,
            trial_end_form: TrialEndForm::Batched,
            online_form,
        };
        Self {
            forward: Workload::forward(),
            rflo_online: Workload::of(RuleSpec::rflo(rates), Updates::Online),
            rflo_online_trace: Workload::of(rflo(OnlineForm::Trace), Updates::Online),
            rflo_online_low_rank: Workload::of(rflo(OnlineForm::LowRank), Updates::Online),
            rflo_batched: Workload::of(RuleSpec::rflo(rates), Updates::TrialEnd),
            bptt: Workload::of(RuleSpec::bptt(rates), Updates::TrialEnd),
        }
    }
}
/// What [`report`] returns: the Markdown section, the table and the slopes.
type Report = (String, Table, Slopes);

/// The table, slopes, bars and notes for one statistic.
fn report(dir: &Path, stat: Stat) -> Result<Report, Box<dyn std::error::Error>> {
    let time_of = |group: &str, id: &str| time_ns(dir, group, id, stat);
    // Per-step ns by workload and N.
    let all = Workload::all();
    let mut per_step: Table = BTreeMap::new();
    for workload in &all {
        for n in rnn_bench::SIZES {
            if let Some(ns) = time_of(workload.group(), &n.to_string()) {
                per_step
                    .entry(workload.group().to_string())
                    .or_default()
                    .insert(n, ns / T as f64);
            }
        }
    }
    if per_step.is_empty() {
        return Err(format!(
            "no criterion results under {}: run `cargo bench -p rnn-bench` first",
            dir.display()
        )
        .into());
    }
    let step = |w: &Workload, n: usize| per_step.get(w.group()).and_then(|m| m.get(&n)).copied();
    let named = Named::new();

    let mut md = String::new();
    writeln!(
        md,
        "### Per-step cost (ns per time step; T = {T}, N_x = N_y = 1)\n"
    )?;
    let sizes: Vec<usize> = rnn_bench::SIZES.to_vec();
    write!(md, "| rule | ")?;
    for n in &sizes {
        write!(md, "N = {n} | ")?;
    }
    writeln!(md, "slope |")?;
    writeln!(md, "|---|{}---|", "---:|".repeat(sizes.len()))?;
    let mut slopes = BTreeMap::new();
    for workload in &all {
        let Some(row) = per_step.get(workload.group()) else {
            continue;
        };
        // Slopes on N >= 128 (the O(N²) regime); the O(N⁴) workloads, those
        // measured only up to RTRL_MAX_N (the data says which), on N >= 30.
        let capped = row.keys().all(|&n| n <= RTRL_MAX_N);
        let fit: Vec<(f64, f64)> = row
            .iter()
            .filter(|&(&n, _)| if capped { n >= 30 } else { n >= 128 })
            .map(|(&n, &ns)| (n as f64, ns))
            .collect();
        let slope = loglog_slope(&fit);
        if let Some(s) = slope {
            slopes.insert(workload.group().to_string(), s);
        }
        write!(md, "| {} | ", workload.group())?;
        for n in &sizes {
            match row.get(n) {
                Some(&ns) => write!(md, "{} | ", fmt_ns(ns))?,
                None => write!(md, "– | ")?,
            }
        }
        writeln!(
            md,
            "{} |",
            slope.map_or_else(|| "–".to_string(), |s| format!("{s:.2}"))
        )?;
    }
    writeln!(
        md,
        "\nSlopes: least-squares fit of log(ns/step) on log N over N >= 128 \
         (O(N⁴) workloads, measured up to N = {RTRL_MAX_N}: N >= 30)."
    )?;
    if let Some(forward) = slopes.get(named.forward.group()) {
        let relative: Vec<String> = [&named.rflo_online, &named.rflo_batched, &named.bptt]
            .into_iter()
            .filter_map(|w| {
                Some(format!(
                    "{} {:+.2}",
                    w.group(),
                    slopes.get(w.group())? - forward
                ))
            })
            .collect();
        writeln!(
            md,
            "The forward pass alone (O(N²) operations) has slope {forward:.2} here: time per \
             operation grows once `W` leaves the caches. Slopes minus the forward pass's: {}.",
            relative.join(", ")
        )?;
    }

    // The performance bars.
    let mut bars = Vec::new();
    for n in [100, 256, 512, 1024] {
        if let (Some(r), Some(f)) = (step(&named.rflo_online, n), step(&named.forward, n)) {
            bars.push(Bar {
                what: format!("RFLO online (default form) / forward, N = {n}"),
                ratio: r / f,
                threshold: 3.0,
                at_most: true,
            });
        }
    }
    for n in [100, 256, 512, 1024] {
        if let (Some(b), Some(f)) = (step(&named.bptt, n), step(&named.forward, n)) {
            bars.push(Bar {
                what: format!("BPTT / forward, N = {n}"),
                ratio: b / f,
                threshold: 3.0,
                at_most: true,
            });
        }
    }
    for n in [256, 512, 1024] {
        if let (Some(o), Some(b)) = (step(&named.rflo_online, n), step(&named.rflo_batched, n)) {
            bars.push(Bar {
                what: format!("RFLO online (default form) / RFLO batched, N = {n}"),
                ratio: o / b,
                threshold: 2.0,
                at_most: false,
            });
        }
    }
    let mut notes = String::new();
    online_notes(&mut notes, &named, &step)?;
    let triad_gbs = time_of("triad", "64MiB").map(|ns| triad_bytes() as f64 / ns);
    if let Some(bw) = triad_gbs {
        writeln!(
            notes,
            "- Triad `a = b + s c` over 64 MiB arrays: {bw:.1} GB/s (24 bytes per element)."
        )?;
        if let Some(ns) = step(&named.rflo_online_trace, 1024) {
            let rflo_gbs = rflo_online_bytes_per_step(1024) / ns;
            writeln!(
                notes,
                "- RFLO online, trace form, at N = 1024: {rflo_gbs:.1} GB/s (32 N² bytes per step: trace and W read and written once)."
            )?;
            bars.push(Bar {
                what: "RFLO online (trace form) bandwidth / triad bandwidth, N = 1024".into(),
                ratio: rflo_gbs / bw,
                threshold: 0.6,
                at_most: false,
            });
        }
    }
    if let (Some(read), Some(product)) = (time_of("stream", "read"), time_of("stream", "matvec")) {
        let bytes = (8 * STREAM_N * STREAM_N) as f64;
        writeln!(
            notes,
            "- `u = W v` at N = {STREAM_N} (`rnn_core::gemv::matvec`, W = {} MiB): {:.1} GB/s; a plain streaming read of an array the size of W: {:.1} GB/s.",
            bytes / (1 << 20) as f64,
            bytes / product,
            bytes / read
        )?;
        bars.push(Bar {
            what: format!("W v bandwidth / streaming-read bandwidth, N = {STREAM_N}"),
            ratio: read / product,
            threshold: 0.8,
            at_most: false,
        });
    }
    for (group, spec) in rnn_bench::batch_rules() {
        for n in rnn_bench::BATCH_SIZES {
            let k = rnn_bench::BATCH_K;
            let (Some(batched), Some(sequential)) = (
                time_of(group, &format!("batched/K={k}/{n}")),
                time_of(group, &format!("sequential/K={k}/{n}")),
            ) else {
                continue;
            };
            writeln!(
                notes,
                "- {} at N = {n}, K = {k} trials at fixed weights: {:.3} µs/step batched, {:.3} µs/step one at a time (per trial).",
                spec.name(),
                batched / (k * T) as f64 / 1e3,
                sequential / (k * T) as f64 / 1e3,
            )?;
            if n >= 256 {
                bars.push(Bar {
                    what: format!(
                        "{}: K = {k} trials batched / one at a time (throughput), N = {n}",
                        spec.name()
                    ),
                    ratio: sequential / batched,
                    threshold: 3.0,
                    at_most: false,
                });
            }
        }
    }
    if let (Some(one), Some(two)) = (time_of("seeds", "threads/1"), time_of("seeds", "threads/2")) {
        writeln!(
            notes,
            "- Seeds: {SEEDS} RFLO-online trials at N = {SEEDS_N}: {:.2} ms on 1 thread, {:.2} ms on 2.",
            one / 1e6,
            two / 1e6
        )?;
        bars.push(Bar {
            what: format!("seeds on 2 threads / 1 thread (throughput), N = {SEEDS_N}"),
            ratio: one / two,
            threshold: 1.7,
            at_most: false,
        });
    }
    if let Some(ns) = step(&named.rflo_online, 30) {
        writeln!(
            notes,
            "- RFLO online at N = 30: {:.3} µs/step (orientation: numpy ≈ 64 µs, JAX BPTT ≈ 6 µs).",
            ns / 1e3
        )?;
    }
    if let Some(ns) = step(&named.bptt, 30) {
        writeln!(notes, "- BPTT at N = 30: {:.3} µs/step.", ns / 1e3)?;
    }

    writeln!(md, "\n### Performance bars (same bench run)\n")?;
    writeln!(md, "| bar | measured | target | |")?;
    writeln!(md, "|---|---:|---:|---|")?;
    for bar in &bars {
        writeln!(
            md,
            "| {} | {:.2} | {} {} | {} |",
            bar.what,
            bar.ratio,
            if bar.at_most { "≤" } else { "≥" },
            bar.threshold,
            if bar.passes() { "pass" } else { "FAIL" }
        )?;
    }
    writeln!(md, "\n{notes}")?;
    Ok((md, per_step, slopes))
}

/// The two online forms side by side, and the window that the bars
/// "online ≤ 3× forward" and "batched ≥ 2× faster than online" leave for the
/// online step: `[2 batched / forward, 3]` in units of the forward step —
/// empty wherever the batched form costs more than 1.5 forward steps.
fn online_notes(
    notes: &mut String,
    named: &Named,
    step: &impl Fn(&Workload, usize) -> Option<f64>,
) -> std::fmt::Result {
    for n in [100, 256, 512, 1024] {
        let (Some(f), Some(b)) = (step(&named.forward, n), step(&named.rflo_batched, n)) else {
            continue;
        };
        let trace = step(&named.rflo_online_trace, n).map(|ns| ns / f);
        let low_rank = step(&named.rflo_online_low_rank, n).map(|ns| ns / f);
        let fmt = |r: Option<f64>| r.map_or_else(|| "–".to_string(), |r| format!("{r:.2}"));
        let lower = 2.0 * b / f;
        writeln!(
            notes,
            "- N = {n}, in forward steps: batched {:.2}, online trace form {}, online low-rank form {}; \
             the two online bars leave online ∈ [{lower:.2}, 3.00]{}.",
            b / f,
            fmt(trace),
            fmt(low_rank),
            if lower > 3.0 { " (empty)" } else { "" }
        )?;
    }
    Ok(())
}

/// Log–log plot of ns/step against N, one line per workload.
fn plot(path: &Path, per_step: &Table, slopes: &Slopes) -> Result<(), Box<dyn std::error::Error>> {
    let all: Vec<f64> = per_step
        .values()
        .flat_map(|m| m.values().copied())
        .collect();
    let lo = all
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi = all
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .log10()
        .ceil();
    let mut svg = String::new();
    draw(&mut svg, per_step, slopes, lo, hi)?;
    // Rendered in memory, then written to a temporary name and renamed.
    rnn_core::io::write_atomic(path, svg.as_bytes())?;
    Ok(())
}

/// Draws the log–log chart into `svg`.
fn draw(
    svg: &mut String,
    per_step: &Table,
    slopes: &Slopes,
    lo: f64,
    hi: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (900, 650)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Per-step cost of one training trial (T = 200)",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(1.1f64..3.1f64, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("N (units)")
        .y_desc("time per step")
        .x_label_formatter(&|v| format!("{:.0}", 10f64.powf(*v)))
        .y_label_formatter(&|v| {
            let ns = 10f64.powf(*v);
            if ns >= 1e6 {
                format!("{:.0} ms", ns / 1e6)
            } else if ns >= 1e3 {
                format!("{:.0} µs", ns / 1e3)
            } else {
                format!("{ns:.0} ns")
            }
        })
        .draw()?;
    let palette = Palette99::pick;
    for (i, workload) in Workload::all().iter().enumerate() {
        let Some(row) = per_step.get(workload.group()) else {
            continue;
        };
        let color = palette(i).to_rgba();
        let points: Vec<(f64, f64)> = row
            .iter()
            .map(|(&n, &ns)| ((n as f64).log10(), ns.log10()))
            .collect();
        let label = match slopes.get(workload.group()) {
            Some(s) => format!("{} (slope {s:.2})", workload.group()),
            None => workload.group().to_string(),
        };
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
