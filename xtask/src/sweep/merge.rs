//! `cargo xtask sweep merge`: shards into one table, and the best eta per condition.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::csv::{self, Row};
use super::error::SweepError;
use super::grid::{Point, RuleKind, Sweep, TaskKind};
use super::shard::ShardSpec;

/// What `cargo xtask sweep merge` does.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// A sweep output folder, or shard CSV files.
    pub inputs: Vec<PathBuf>,
    /// The merged table (default: `DIR/merged.csv`, or `merged.csv` for files).
    pub out: Option<PathBuf>,
}

/// What the merge wrote and found.
#[derive(Debug, Clone)]
pub struct MergeReport {
    /// The merged table.
    pub table: PathBuf,
    /// The per-(condition, eta) medians with the best eta marked.
    pub best: PathBuf,
    /// Human-readable summary (the best eta per condition).
    pub text: String,
    /// Missing shards or grid points, duplicate rows.
    pub warnings: Vec<String>,
}

/// Header of the best-eta table.
pub const BEST_HEADER: &str =
    "rule,task,n,T,eta,seeds,failed,median_final_loss,median_initial_loss,best";

/// Merges shard tables; see the module docs of `sweep`.
pub fn merge(options: &MergeOptions) -> Result<MergeReport, SweepError> {
    let mut warnings = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut sweep: Option<Sweep> = None;
    let mut default_out = PathBuf::from("merged.csv");
    for input in &options.inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| SweepError::io(input, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .and_then(ShardSpec::from_file_name)
                        .is_some()
                })
                .collect();
            if found.is_empty() {
                return Err(SweepError::io(
                    input,
                    "no shard tables (shard-<i>-of-<n>.csv) in this folder",
                ));
            }
            found.sort();
            files.extend(found);
            let copy = input.join("sweep.toml");
            if options.inputs.len() == 1 {
                default_out = input.join("merged.csv");
                if copy.exists() {
                    sweep = Some(Sweep::load(&copy)?);
                }
            }
        } else {
            files.push(input.clone());
        }
    }
    check_shard_set(&files, &mut warnings);

    let mut rows: BTreeMap<usize, Row> = BTreeMap::new();
    for file in &files {
        for row in csv::read(file)? {
            match rows.get(&row.point.index) {
                None => {
                    rows.insert(row.point.index, row);
                }
                Some(existing) if existing.to_line() == row.to_line() => warnings.push(format!(
                    "grid point {} appears twice (identical rows; kept once); last seen in {}",
                    row.point.index,
                    file.display()
                )),
                Some(_) => {
                    return Err(SweepError::csv(
                        file,
                        0,
                        format!(
                            "grid point {} has a different row in another input: \
                             are these shards of different sweeps?",
                            row.point.index
                        ),
                    ));
                }
            }
        }
    }
    match &sweep {
        Some(sweep) => {
            let points = sweep.points();
            for row in rows.values() {
                if points.get(row.point.index) != Some(&row.point) || row.trials != sweep.trials {
                    return Err(SweepError::Resume(format!(
                        "row {} does not match grid point {} of the folder's sweep.toml",
                        row.to_line(),
                        row.point.index
                    )));
                }
            }
            let missing: Vec<usize> = (0..points.len())
                .filter(|i| !rows.contains_key(i))
                .collect();
            if !missing.is_empty() {
                warnings.push(format!(
                    "incomplete: {} of {} grid points missing (first: {:?}); \
                     run the missing shards (or --resume them)",
                    missing.len(),
                    points.len(),
                    &missing[..missing.len().min(10)]
                ));
            }
        }
        None => {
            if let Some((&last, _)) = rows.last_key_value()
                && rows.len() != last + 1
            {
                warnings.push(format!(
                    "incomplete: grid indices 0..={last} have {} gaps",
                    last + 1 - rows.len()
                ));
            }
        }
    }

    let table = options.out.clone().unwrap_or(default_out);
    if let Some(parent) = table.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| SweepError::io(parent, e))?;
    }
    csv::write(&table, &rows)?;
    let best = best_path(&table);
    let (best_text, summary) = best_eta(&rows);
    rnn_core::io::write_atomic(&best, best_text.as_bytes())
        .map_err(|e| SweepError::io(&best, e))?;

    let mut text = format!(
        "merged {} rows from {} file(s)\nbest eta per condition (median final loss over seeds; \
         a diverged run counts as +inf):\n",
        rows.len(),
        files.len(),
    );
    text += &summary;
    Ok(MergeReport {
        table,
        best,
        text,
        warnings,
    })
}

fn best_path(table: &Path) -> PathBuf {
    let stem = table
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "merged".into());
    table.with_file_name(format!("{stem}-best-eta.csv"))
}

/// Warns when shard files named `shard-i-of-n.csv` do not form a complete set.
fn check_shard_set(files: &[PathBuf], warnings: &mut Vec<String>) {
    let specs: Vec<ShardSpec> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().and_then(ShardSpec::from_file_name))
        .collect();
    let mut counts: Vec<usize> = specs.iter().map(|s| s.count).collect();
    counts.sort_unstable();
    counts.dedup();
    if counts.len() > 1 {
        warnings.push(format!(
            "shard tables of different shard counts {counts:?} are mixed; rows are merged by grid index"
        ));
    } else if let Some(&count) = counts.first() {
        let missing: Vec<usize> = (1..=count)
            .filter(|i| !specs.iter().any(|s| s.index == *i))
            .collect();
        if !missing.is_empty() {
            warnings.push(format!("shards {missing:?} of {count} are missing"));
        }
    }
}

/// Median of the values (sorted with `total_cmp`); `inf` counts as a value.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        0.5 * (values[mid - 1] + values[mid])
    }
}

type Condition = (RuleKind, TaskKind, usize, usize);
/// The rows of one eta of a condition.
type EtaRows<'a> = (f64, Vec<&'a Row>);

/// The best-eta table (CSV text) and a summary, conditions and etas in grid order.
fn best_eta(rows: &BTreeMap<usize, Row>) -> (String, String) {
    // condition -> eta (in first-seen order) -> rows
    let mut conditions: Vec<(Condition, Vec<EtaRows<'_>>)> = Vec::new();
    for row in rows.values() {
        let p: &Point = &row.point;
        let key = (p.rule, p.task, p.n, p.t);
        let slot = match conditions.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                conditions.push((key, Vec::new()));
                conditions.len() - 1
            }
        };
        let etas = &mut conditions[slot].1;
        match etas
            .iter_mut()
            .find(|(e, _)| e.to_bits() == p.eta.to_bits())
        {
            Some((_, list)) => list.push(row),
            None => etas.push((p.eta, vec![row])),
        }
    }
    let mut table = format!("{BEST_HEADER}\n");
    let mut summary = String::new();
    for ((rule, task, n, t), etas) in &conditions {
        let stats: Vec<(f64, usize, usize, f64, f64)> = etas
            .iter()
            .map(|(eta, list)| {
                let mut finals: Vec<f64> = list
                    .iter()
                    .map(|r| {
                        if r.status.failed() {
                            f64::INFINITY
                        } else {
                            r.final_loss
                        }
                    })
                    .collect();
                let mut initials: Vec<f64> = list.iter().map(|r| r.initial_loss).collect();
                let failed = list.iter().filter(|r| r.status.failed()).count();
                (
                    *eta,
                    list.len(),
                    failed,
                    median(&mut finals),
                    median(&mut initials),
                )
            })
            .collect();
        let mut best: Option<usize> = None;
        for (i, s) in stats.iter().enumerate() {
            if s.3.is_finite() && best.is_none_or(|b| s.3 < stats[b].3) {
                best = Some(i);
            }
        }
        for (i, (eta, seeds, failed, med_final, med_initial)) in stats.iter().enumerate() {
            let _ = writeln!(
                table,
                "{},{},{n},{t},{eta:e},{seeds},{failed},{med_final:e},{med_initial:e},{}",
                rule.name(),
                task.name(),
                if best == Some(i) { "yes" } else { "no" }
            );
        }
        let _ = match best {
            Some(b) => {
                let (eta, seeds, failed, med_final, med_initial) = stats[b];
                writeln!(
                    summary,
                    "  {} {} N={n} T={t}: best eta = {eta:e} (median final loss {med_final:e}, \
                     initial {med_initial:e}; {seeds} seeds, {failed} failed)",
                    rule.name(),
                    task.name()
                )
            }
            None => writeln!(
                summary,
                "  {} {} N={n} T={t}: no best eta (every eta failed on at least half of its seeds)",
                rule.name(),
                task.name()
            ),
        };
    }
    (table, summary)
}
