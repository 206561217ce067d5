//! Beyond the paper (docs/spec/FIGURES.md §5): the rule zoo on the periodic
//! task (docs/spec/TASKS.md §1), N = 30, Fig 2's networks. `zoo_alignment`:
//! each rule's `dW` against BPTT's on the same trial; `zoo_loss`: final loss
//! with each rule's best rate of the paper's grid. The rate search
//! ([`rate_grid`], [`best_rate`]) is shared with `zoo_control`.

use rnn_core::State;
use rnn_experiment::stats::{Summary, best_by_median, fmt_num, median};
use rnn_experiment::{Axis, Grid, GridFile, RunSpec};
use rnn_learn::{RuleSpec, mean_gradient_alignment};

use super::fig2::{PERIODS, RFLO_ETA, base};
use super::fig2_grid::ETA_GRID;
use super::{APPROX_FACTOR, final_losses, initial_losses};
use super::{Panel, PanelRun, Part, Run, Scale, approx, cols, rule_color, tau_label};
use crate::plot::{self, Series, Style};
use crate::report::Verdict;
use crate::table::Table;
use crate::{Res, row};

/// The reduced rate grid of `--quick` (a subset of the paper's).
const QUICK_ETA_GRID: [f64; 4] = [1e-3, 1e-2, 3e-2, 1e-1];

/// The rates searched: the paper's grid (docs/spec/FIGURES.md), reduced at `--quick`.
pub fn etas(scale: &Scale) -> Vec<f64> {
    scale.pick(QUICK_ETA_GRID.to_vec(), ETA_GRID.to_vec())
}

/// The random rules, whose noise has its own seed (`rule.seed`).
fn is_random(rule: &RuleSpec) -> bool {
    matches!(rule.name(), "uoro" | "kf_rtrl" | "reinforce")
}

/// Replicates of the rate searches: the first Fig 2 networks, 3 (2 at `--quick`), as in fig2b_grid.
fn search_seeds(scale: &Scale) -> Vec<i64> {
    scale.seeds(scale.pick(2, 3))
}

/// A rate search of `rule` (grid named by its label): axes `task.period`, `rule.rates`
/// ([`etas`]) and the replicate (`seed` = `training.seed`, and `rule.seed` for a random
/// rule, so that replicates do not share a noise sequence). For RFLO and BPTT these are
/// fig2b_grid's very runs (same specs, trained once).
pub fn rate_grid(scale: &Scale, rule: RuleSpec, periods: &[usize]) -> Res<Grid> {
    let random = is_random(&rule);
    let grid = Grid::new(rule.label(), &base(scale, rule, periods[0]))?;
    let periods = Axis::new("task.period", periods.iter().map(|&t| t as i64));
    let seeds = search_seeds(scale);
    let mut replicate = Axis::new("seed", seeds.clone()).zip("training.seed", seeds.clone());
    if random {
        replicate = replicate.zip("rule.seed", seeds);
    }
    let rates = Axis::new("rule.rates", etas(scale));
    Ok(grid.axis(periods).axis(rates).axis(replicate))
}

/// The period of a run (its trial length).
pub fn period(run: &Run) -> usize {
    run.point.spec.task.steps_per_trial().unwrap_or(0)
}

/// One (rule, T) rate search: per rate, its runs and final losses; the best rate
/// (lowest median final loss, failures as +inf, ties to the smaller rate).
pub struct Search<'r> {
    pub rule: String,
    pub cells: Vec<(f64, Summary, Vec<&'r Run>)>,
    /// Index of the best rate (`None`: every median is +inf).
    pub best: Option<usize>,
}

impl<'r> Search<'r> {
    /// The runs at the best rate (at the smallest rate if all failed).
    pub fn best_runs(&self) -> &[&'r Run] {
        &self.cells[self.best.unwrap_or(0)].2
    }

    /// The best rate as text (with "all failed" when no rate has a finite median).
    pub fn best_eta(&self) -> String {
        self.best
            .map_or("none (all failed)".into(), |i| fmt_num(self.cells[i].0))
    }
}

/// The rate search of grid `name` at period `t` over `etas`.
pub fn best_rate<'r>(all: &'r [Run], name: &str, t: usize, etas: &[f64]) -> Search<'r> {
    let runs = super::grid(all, name);
    let (mut cells, mut losses) = (Vec::new(), Vec::new());
    for &eta in etas {
        let at = |r: &&Run| period(r) == t && r.point.spec.rule.rates().recurrent == eta;
        let g: Vec<&Run> = runs.iter().copied().filter(at).collect();
        losses.push(g.iter().map(|r| r.record.final_loss_or_inf()).collect());
        cells.push((eta, final_losses(&g), g));
    }
    let best = best_by_median(&losses);
    Search {
        rule: name.to_string(),
        cells,
        best,
    }
}

/// zoo_loss: final loss with each rule's best rate.
pub const ZOO_LOSS: Panel = Panel {
    part: Part::Beyond,
    id: "zoo_loss",
    title: "Final loss with each rule's best rate of the paper's grid, periodic task, N = 30",
    claim: "ordering of the rules by loss; which are within a factor 3 of BPTT",
    grids: loss_grids,
    evaluate: zoo_loss,
};

/// zoo_loss's rules: BPTT and RFLO (fig2b_grid's runs), LocalSymmetric, SnAp-1,
/// REINFORCE; UORO and KF-RTRL with `--extended` (measured at N = 30, 20τ: about 6 and 9
/// times RFLO's time per trial, over the 4-minute budget of these panels). RTRL is left
/// out: it equals BPTT exactly in the trial-end form (tested in the conformance suite), at
/// O(N⁴) per step.
fn loss_rules(scale: &Scale) -> Vec<RuleSpec> {
    let r = RFLO_ETA[0];
    let mut rules = vec![
        RuleSpec::bptt(r),
        RuleSpec::rflo(r),
        RuleSpec::local_symmetric(r),
        RuleSpec::snap1(r),
        RuleSpec::reinforce(r),
    ];
    if scale.extended {
        rules.extend([RuleSpec::uoro(r), RuleSpec::kf_rtrl(r)]);
    }
    rules
}

/// zoo_loss's periods: 20τ; 80τ too with `--extended` (four times the cost per run).
fn loss_periods(scale: &Scale) -> Vec<usize> {
    if scale.extended {
        vec![PERIODS[0], PERIODS[2]]
    } else {
        vec![PERIODS[0]]
    }
}

fn loss_grids(scale: &Scale) -> Res<GridFile> {
    let periods = loss_periods(scale);
    let grids = loss_rules(scale)
        .into_iter()
        .map(|r| rate_grid(scale, r, &periods));
    Ok(GridFile {
        grids: grids.collect::<Res<_>>()?,
    })
}

fn zoo_loss(p: &mut PanelRun<'_>) -> Res<()> {
    let (all, etas) = (p.runs(), etas(&p.scale));
    let rules: Vec<&str> = loss_rules(&p.scale).iter().map(|r| r.label()).collect();
    let header = "rule,period_steps,eta,seed,final_loss,initial_loss,failed,best_eta";
    let mut csv = Table::new(&header.split(',').collect::<Vec<_>>());
    let (mut panels, mut rows) = (Vec::new(), Vec::new());
    for t in loss_periods(&p.scale) {
        let searches: Vec<Search<'_>> =
            rules.iter().map(|r| best_rate(&all, r, t, &etas)).collect();
        let title = format!("{}, {} trials", tau_label(t), p.scale.pick(600, 10_000));
        let x = "learning rate η";
        let mut panel = plot::Panel::new(title, x, "final loss L (median over seeds)");
        for s in &searches {
            for (i, (eta, _, g)) in s.cells.iter().enumerate() {
                for r in g {
                    let (rec, best) = (&r.record, s.best == Some(i));
                    let cells = row![s.rule.as_str(), t, *eta, r.seed(), rec.final_loss];
                    let more = row![rec.initial_loss, !r.ok(), best];
                    csv.row([cells, more].concat());
                }
            }
            let line = s.cells.iter().map(|c| (c.0, c.1.median)).collect();
            let color = rule_color(&s.rule);
            panel = panel.with(Series::new(s.rule.clone(), color, Style::LinePoints, line));
        }
        panels.push(panel.log_x().log_y());
        let bptt = searches[0].best_runs();
        let bptt_median = final_losses(bptt).median;
        let mut order: Vec<(f64, &Search<'_>)> = searches
            .iter()
            .map(|s| (final_losses(s.best_runs()).median, s))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (m, s) in &order {
            let runs = s.best_runs();
            let untrained = initial_losses(runs).median;
            let (f, ratio) = (final_losses(runs), fmt_num(m / bptt_median));
            let trend = super::trend_text(&super::loss_curves(runs)).1;
            let cells = [
                s.best_eta(),
                fmt_num(untrained),
                f.to_string(),
                ratio.clone(),
                trend,
            ];
            let mut row = vec![s.rule.clone(), tau_label(t)];
            row.extend(cells);
            row.push(super::failed_of(runs));
            rows.push(row);
            if s.rule != "BPTT" {
                let claim = format!(
                    "{} within a factor {APPROX_FACTOR} of BPTT at {}",
                    s.rule,
                    tau_label(t)
                );
                let criterion = format!(
                    "median final loss at the rule's best rate / BPTT's at its best rate within [1/{APPROX_FACTOR}, {APPROX_FACTOR}]"
                );
                let measured = format!("{} / {} = {ratio}", fmt_num(*m), fmt_num(bptt_median));
                let holds = approx(*m, bptt_median);
                p.section
                    .verdicts
                    .push(Verdict::new(claim, criterion, measured, holds));
            }
        }
        let names: Vec<String> = order
            .iter()
            .map(|(m, s)| format!("{} ({})", s.rule, fmt_num(*m)))
            .collect();
        p.section.line(format!(
            "Ordering at {} (median final loss at each rule's best rate, lowest first): {}.",
            tau_label(t),
            names.join(" < ")
        ));
    }
    csv.write(&p.file("zoo_loss.csv"))?;
    let header =
        "rule|T|best η|untrained loss|final loss|÷ BPTT|end trend (last 10% / previous 10%)|failed";
    p.section.table(&cols(header), &rows);
    let n = search_seeds(&p.scale).len();
    p.section.line(format!(
        "Seeds: networks 0..{n} of Fig 2 (paired across rules and rates); rates: {} (best: lowest median final \
         loss, failures as +inf, ties to the smaller rate). RFLO's and BPTT's runs are fig2b_grid's. RTRL is left \
         out: its trial-end update equals BPTT's exactly (conformance suite), at O(N⁴) per step. The random rules' \
         noise seed `rule.seed` is the replicate seed. {}",
        etas.iter().map(|e| fmt_num(*e)).collect::<Vec<_>>().join(", "),
        if p.scale.extended {
            "With `--extended`: UORO, KF-RTRL and T = 80τ included."
        } else {
            "Not run here (over the time budget of the default job): UORO, KF-RTRL and T = 80τ; rerun with `cargo xtask figures --extended --only zoo_loss`."
        }
    ));
    let svg = p.file("zoo_loss.svg");
    plot::render(
        &svg,
        "Rule zoo: final loss vs learning rate",
        panels.len(),
        (560, 420),
        &panels,
    )?;
    Ok(())
}

/// zoo_alignment: each rule's `dW` against BPTT's, untrained and RFLO-trained networks.
pub const ZOO_ALIGNMENT: Panel = Panel {
    part: Part::Beyond,
    id: "zoo_alignment",
    title: "Gradient alignment: cosine of each rule's trial-end dW with BPTT's on the same trial, \
            periodic task, N = 30; untrained networks and RFLO-trained ones (fig2c's runs)",
    claim: "the unbiased rules' mean aligns (→ 1 as K grows); SnAp-1 ≥ LocalSymmetric ≥ RFLO \
            before alignment grows; RFLO's alignment grows with training",
    grids: alignment_grids,
    evaluate: zoo_alignment,
};

/// The trained networks: Fig 2's RFLO runs at 20τ and the paper's rate (fig2c's, trained once).
fn alignment_grids(scale: &Scale) -> Res<GridFile> {
    let spec = base(scale, RuleSpec::rflo(RFLO_ETA[0]), PERIODS[0]);
    let grid = super::replicated(Grid::new("RFLO", &spec)?, scale, scale.pick(3, 9));
    Ok(GridFile { grids: vec![grid] })
}

/// Draw counts `K` of the Monte Carlo means.
fn draws(scale: &Scale) -> Vec<usize> {
    scale.pick(vec![1, 4], vec![1, 8, 64])
}

/// The periods of the untrained measurements.
fn alignment_periods(scale: &Scale) -> Vec<usize> {
    scale.pick(vec![PERIODS[0], PERIODS[2]], PERIODS.to_vec())
}

/// The deterministic rules and the random ones (measured as means of `K` draws).
const DETERMINISTIC: [&str; 3] = ["SnAp-1", "LocalSymmetric", "RFLO"];
const RANDOM: [&str; 3] = ["UORO", "KF-RTRL", "REINFORCE"];

/// The spec of rule `label` (unit rate: cosines do not depend on it) with noise seed `seed`.
fn spec_of(label: &str, seed: u64) -> RuleSpec {
    let r = 1.0;
    let with_seed = |spec: RuleSpec| match spec {
        RuleSpec::Uoro {
            rates, projection, ..
        } => RuleSpec::Uoro {
            rates,
            projection,
            seed,
        },
        RuleSpec::KfRtrl {
            rates, projection, ..
        } => RuleSpec::KfRtrl {
            rates,
            projection,
            seed,
        },
        RuleSpec::Reinforce {
            rates,
            sigma,
            baseline,
            learn_readout,
            filtered,
            ..
        } => RuleSpec::Reinforce {
            rates,
            sigma,
            baseline,
            learn_readout,
            filtered,
            seed,
        },
        other => other,
    };
    with_seed(match label {
        "SnAp-1" => RuleSpec::snap1(r),
        "LocalSymmetric" => RuleSpec::local_symmetric(r),
        "RFLO" => RuleSpec::rflo(r),
        "UORO" => RuleSpec::uoro(r),
        "KF-RTRL" => RuleSpec::kf_rtrl(r),
        _ => RuleSpec::reinforce(r),
    })
}

/// One measurement: network seed, trained or not, period, rule, `K`, cosine.
struct Cos {
    seed: u64,
    trained: bool,
    t: usize,
    rule: &'static str,
    k: usize,
    cosine: f64,
}

/// Generator stream of the measured trial (not 1..=3; the periodic task draws nothing).
const TRIAL_STREAM: u64 = 5;

/// Every measurement of one (run, trained, period): the deterministic rules, and the
/// random rules as means of `K` draws (draw seeds `1000·seed + k`, disjoint across networks).
fn measure(run: &Run, trained: bool, t: usize, ks: &[usize]) -> Res<Vec<Cos>> {
    let mut spec: RunSpec = run.point.spec.clone();
    spec.task = rnn_tasks::TaskSpec::Periodic(rnn_tasks::PeriodicConfig::with_period(t));
    let net = if trained {
        run.record.network.clone()
    } else {
        spec.initial_network()?
    };
    let trial = spec
        .build_task()?
        .next_trial(&mut spec.stream(TRIAL_STREAM))?;
    let start = State::initial(&net, &trial, None)?;
    let seed = run.seed();
    let mut out = Vec::new();
    let mut push = |rule, k, specs: Vec<RuleSpec>| -> Res<()> {
        let cosine = mean_gradient_alignment(&net, &trial, &start, &specs)?;
        out.push(Cos {
            seed,
            trained,
            t,
            rule,
            k,
            cosine,
        });
        Ok(())
    };
    for rule in DETERMINISTIC {
        push(rule, 1, vec![spec_of(rule, 0)])?;
    }
    for rule in RANDOM {
        for &k in ks {
            let specs = (0..k as u64)
                .map(|d| spec_of(rule, 1000 * seed + d))
                .collect();
            push(rule, k, specs)?;
        }
    }
    Ok(out)
}

fn zoo_alignment(p: &mut PanelRun<'_>) -> Res<()> {
    let all = p.runs();
    let (ks, periods) = (draws(&p.scale), alignment_periods(&p.scale));
    let runs: Vec<&Run> = all.iter().filter(|r| r.ok()).collect();
    let mut jobs: Vec<(&Run, bool, usize)> = Vec::new();
    for r in &runs {
        jobs.extend(periods.iter().map(|&t| (*r, false, t)));
        jobs.push((r, true, PERIODS[0]));
    }
    let results = p.par_map(&jobs, |&(r, trained, t)| measure(r, trained, t, &ks));
    let mut cos = Vec::new();
    for r in results {
        cos.extend(r?);
    }
    let mut csv = Table::new(&cols("seed|network|period_steps|rule|draws|cosine"));
    for c in &cos {
        let net = if c.trained {
            "RFLO-trained"
        } else {
            "untrained"
        };
        csv.row(row![c.seed, net, c.t, c.rule, c.k, c.cosine]);
    }
    csv.write(&p.file("zoo_alignment.csv"))?;
    let of = |trained: bool, t: usize, rule: &str, k: usize| {
        let v: Vec<f64> = cos
            .iter()
            .filter(|c| c.trained == trained && c.t == t && c.rule == rule && c.k == k)
            .map(|c| c.cosine)
            .collect();
        Summary::of(&v)
    };
    // Table: one row per (rule, K), one column per period (untrained), then trained at 20τ.
    let mut header = vec!["rule".to_string(), "K".to_string()];
    header.extend(
        periods
            .iter()
            .map(|&t| format!("untrained, {}", tau_label(t))),
    );
    header.push(format!("RFLO-trained, {}", tau_label(PERIODS[0])));
    let measures: Vec<(&str, usize)> = DETERMINISTIC
        .iter()
        .map(|&r| (r, 1))
        .chain(RANDOM.iter().flat_map(|&r| ks.iter().map(move |&k| (r, k))))
        .collect();
    let mut rows = Vec::new();
    for &(rule, k) in &measures {
        let mut row = vec![rule.to_string(), k.to_string()];
        row.extend(periods.iter().map(|&t| of(false, t, rule, k).to_string()));
        row.push(of(true, PERIODS[0], rule, k).to_string());
        rows.push(row);
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    p.section.table(&header, &rows);

    // Plot: median cosine vs T (untrained), and vs K at 20τ.
    let mut by_t = plot::Panel::new(
        "Untrained networks",
        "period T (τ)",
        "cosine with BPTT's dW (median)",
    );
    for &(rule, k) in measures.iter().filter(|m| m.1 == 1) {
        let line = periods
            .iter()
            .map(|&t| ((t / 10) as f64, of(false, t, rule, k).median))
            .collect();
        let label = if RANDOM.contains(&rule) {
            format!("{rule} (1 draw)")
        } else {
            rule.to_string()
        };
        by_t = by_t.with(Series::new(
            label,
            rule_color(rule),
            Style::LinePoints,
            line,
        ));
    }
    let t0 = PERIODS[0];
    let mut by_k = plot::Panel::new(
        format!("Mean of K draws, untrained, {}", tau_label(t0)),
        "draws K",
        "cosine with BPTT's dW (median)",
    );
    for rule in RANDOM {
        let line = ks
            .iter()
            .map(|&k| (k as f64, of(false, t0, rule, k).median))
            .collect();
        by_k = by_k.with(Series::new(rule, rule_color(rule), Style::LinePoints, line));
    }
    let svg = p.file("zoo_alignment.svg");
    plot::render(
        &svg,
        "Rule zoo: alignment with the exact gradient",
        2,
        (560, 420),
        &[by_t.log_x(), by_k.log_x()],
    )?;

    // Verdicts.
    let k_max = *ks.last().unwrap_or(&1);
    let (mut holds, mut measured) = (true, Vec::new());
    for rule in ["UORO", "KF-RTRL"] {
        for &t in &periods {
            let meds: Vec<f64> = ks.iter().map(|&k| of(false, t, rule, k).median).collect();
            let rising = meds.windows(2).all(|w| w[1] > w[0]);
            let last = meds[meds.len() - 1];
            holds &= rising && last >= MEAN_ALIGNS_MIN;
            let text: Vec<String> = ks
                .iter()
                .zip(&meds)
                .map(|(k, m)| format!("K={k}: {}", fmt_num(*m)))
                .collect();
            measured.push(format!("{rule} {}: {}", tau_label(t), text.join(", ")));
        }
    }
    p.section.verdicts.push(Verdict::new(
        "the unbiased rules' mean aligns (→ 1 as K grows)",
        format!(
            "UORO and KF-RTRL, untrained networks, every T: the median cosine of the mean of K draws rises with every step of K \
             and is ≥ {MEAN_ALIGNS_MIN} at K = {k_max}"
        ),
        measured.join("; "),
        holds,
    ));
    let (mut holds, mut measured) = (true, Vec::new());
    for &t in &periods {
        let [s, l, r] = DETERMINISTIC.map(|rule| of(false, t, rule, 1).median);
        holds &= s >= l && l >= r;
        measured.push(format!(
            "{}: {} / {} / {}",
            tau_label(t),
            fmt_num(s),
            fmt_num(l),
            fmt_num(r)
        ));
    }
    p.section.verdicts.push(Verdict::new(
        "SnAp-1 ≥ LocalSymmetric ≥ RFLO before alignment grows",
        "untrained networks, every T: median cosine SnAp-1 ≥ LocalSymmetric ≥ RFLO",
        format!("SnAp-1 / LocalSymmetric / RFLO: {}", measured.join("; ")),
        holds,
    ));
    let before_after = |r: &&Run| {
        let find = |trained| {
            cos.iter().find(|c| {
                c.seed == r.seed() && c.trained == trained && c.t == t0 && c.rule == "RFLO"
            })
        };
        Some(find(true)?.cosine - find(false)?.cosine)
    };
    let gains: Vec<f64> = runs.iter().filter_map(before_after).collect();
    let gain = median(&gains);
    let (b, a) = (of(false, t0, "RFLO", 1), of(true, t0, "RFLO", 1));
    p.section.verdicts.push(Verdict::new(
        "RFLO's alignment grows with training",
        format!(
            "{}: median over networks of cosine(RFLO-trained) − cosine(untrained) ≥ {GROWS_MIN}",
            tau_label(t0)
        ),
        format!(
            "untrained {b}; trained {a}; median increase {}",
            fmt_num(gain)
        ),
        gain >= GROWS_MIN,
    ));
    let failed = all.len() - runs.len();
    p.section.line(format!(
        "Each cosine: one network (Fig 2's seeds) and the trial of period T, the rule's trial-end dW (a fresh working \
         state) against BPTT's (`rnn_learn::mean_gradient_alignment`, MODEL.md §9); UORO, KF-RTRL and REINFORCE as the \
         mean of K draws (noise seeds 1000·seed + 0..K). The trained networks are Fig 2's RFLO runs at 20τ \
         (η = {}; {failed} failed runs left out). RTRL equals BPTT (cosine 1, conformance suite); FORCE changes \
         only W_out (cosine 0) and is not listed.",
        RFLO_ETA[0]
    ));
    Ok(())
}

/// "aligns": median cosine of the K-draw mean at the largest K at least this.
const MEAN_ALIGNS_MIN: f64 = 0.5;
/// "grows with training": median increase of RFLO's cosine at least this.
const GROWS_MIN: f64 = 0.1;
