//! Beyond the paper (docs/spec/FIGURES.md §5): `zoo_alignment`, each rule's
//! trial-end `dW` against BPTT's on the same trial, periodic task
//! (docs/spec/TASKS.md §1), N = 30, Fig 2's networks untrained and after
//! Fig 2's RFLO training.

use rnn_core::State;
use rnn_experiment::stats::{Summary, fmt_num, median};
use rnn_experiment::{Grid, GridFile, RunSpec};
use rnn_learn::{RuleSpec, mean_gradient_alignment};

use super::fig2::{PERIODS, RFLO_ETA, base};
use super::{Panel, PanelRun, Part, Run, Scale, cols, rule_color, tau_label};
use crate::plot::{self, Series, Style};
use crate::report::Verdict;
use crate::table::Table;
use crate::{Res, row};

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
