//! The runs table: one CSV row per run of a grid file, the same for a figure
//! panel and a sweep (so a panel's numbers can be compared with a sweep's
//! byte for byte), and the merge of sharded tables.
//!
//! Columns: `index, grid, key`, one column per axis path (in order of first
//! appearance; empty where a grid has no such axis), then `status`
//! (`ok`, `diverged at trial k` with `k` 0-based, or `failed at evaluation`),
//! `trials_run`, `initial_loss`, `final_loss` (`inf` for a failed run).
//! Floats are written in Rust's shortest round-trip form, so the text is
//! lossless and deterministic.

use std::collections::BTreeMap;

use crate::error::{ExperimentError, Result};
use crate::grid::Point;
use crate::run::RunRecord;
use crate::stats::{Summary, best_by_median};

/// The fixed columns after the axis columns.
pub const RESULT_COLUMNS: [&str; 4] = ["status", "trials_run", "initial_loss", "final_loss"];

/// One row of the runs table, as text cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Position in the grid file's run order.
    pub index: usize,
    /// Cells by column name.
    pub cells: BTreeMap<String, String>,
}

/// A runs table: the column names and rows sorted by index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunsTable {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, sorted by index, at most one per index.
    pub rows: Vec<Row>,
}

/// A status cell.
pub fn status(record: &RunRecord) -> String {
    match &record.failure {
        None => "ok".into(),
        Some(f) => match f.trial {
            Some(k) => format!("diverged at trial {k}"),
            None => "failed at evaluation".into(),
        },
    }
}

/// A TOML value as a cell: strings without quotes, everything else as TOML.
pub fn value_cell(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl RunsTable {
    /// The table of `points` (all of a grid file, or one shard's) with their records.
    /// `axis_paths` fixes the axis columns (take them from every point of the
    /// file, so that shards have the same columns).
    pub fn new(axis_paths: &[String], points: &[&Point], records: &[&RunRecord]) -> Self {
        let mut columns: Vec<String> = ["index", "grid", "key"].map(String::from).to_vec();
        columns.extend(axis_paths.iter().cloned());
        columns.extend(RESULT_COLUMNS.map(String::from));
        let mut rows: Vec<Row> = points
            .iter()
            .zip(records)
            .map(|(point, record)| {
                let fixed = [
                    ("index", point.index.to_string()),
                    ("grid", point.grid.clone()),
                    ("key", point.spec.key().to_string()),
                    ("status", status(record)),
                    ("trials_run", record.history.loss.len().to_string()),
                    ("initial_loss", format!("{:e}", record.initial_loss)),
                    ("final_loss", format!("{:e}", record.final_loss_or_inf())),
                ];
                let axes = point.coords.iter().map(|(p, v)| (p.clone(), value_cell(v)));
                let cells = fixed
                    .map(|(c, v)| (c.to_string(), v))
                    .into_iter()
                    .chain(axes);
                Row {
                    index: point.index,
                    cells: cells.collect(),
                }
            })
            .collect();
        rows.sort_by_key(|r| r.index);
        Self { columns, rows }
    }

    /// The axis paths of a grid file's points, in order of first appearance.
    pub fn axis_paths(points: &[Point]) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for point in points {
            for (path, _) in &point.coords {
                if !paths.contains(path) {
                    paths.push(path.clone());
                }
            }
        }
        paths
    }

    /// The table as CSV text.
    pub fn to_csv(&self) -> Result<String> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.columns).map_err(csv_error)?;
        for row in &self.rows {
            writer
                .write_record(
                    self.columns
                        .iter()
                        .map(|c| row.cells.get(c).map_or("", String::as_str)),
                )
                .map_err(csv_error)?;
        }
        let bytes = writer.into_inner().map_err(csv_error)?;
        String::from_utf8(bytes).map_err(csv_error)
    }

    /// Parses a table written by [`RunsTable::to_csv`].
    pub fn from_csv(text: &str) -> Result<Self> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let columns: Vec<String> = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(String::from)
            .collect();
        if columns.first().map(String::as_str) != Some("index") {
            return Err(ExperimentError::Grid(
                "not a runs table: the first column must be `index`".into(),
            ));
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let cells: BTreeMap<String, String> = columns
                .iter()
                .cloned()
                .zip(record.iter().map(String::from))
                .collect();
            let index = cells["index"]
                .parse()
                .map_err(|_| ExperimentError::Grid(format!("bad index `{}`", cells["index"])))?;
            rows.push(Row { index, cells });
        }
        rows.sort_by_key(|r| r.index);
        Ok(Self { columns, rows })
    }

    /// Merges shard tables with the same columns into one, sorted by index;
    /// a row present in two shards must be identical.
    pub fn merge(tables: &[RunsTable]) -> Result<Self> {
        let Some(first) = tables.first() else {
            return Err(ExperimentError::Grid("nothing to merge".into()));
        };
        let mut rows: BTreeMap<usize, Row> = BTreeMap::new();
        for table in tables {
            if table.columns != first.columns {
                return Err(ExperimentError::Grid(
                    "the tables have different columns (different grid files?)".into(),
                ));
            }
            for row in &table.rows {
                if let Some(existing) = rows.get(&row.index)
                    && existing != row
                {
                    return Err(ExperimentError::Grid(format!(
                        "run {} differs between shards",
                        row.index
                    )));
                }
                rows.insert(row.index, row.clone());
            }
        }
        Ok(Self {
            columns: first.columns.clone(),
            rows: rows.into_values().collect(),
        })
    }

    fn final_loss(row: &Row) -> f64 {
        row.cells
            .get("final_loss")
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::INFINITY)
    }
}

/// The best value of one axis for a group of runs (see [`best_by`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    /// The group: `(column, value)` of every other non-replicate column.
    pub group: Vec<(String, String)>,
    /// Each candidate value of the axis with the [`Summary`] of its runs' final losses.
    pub candidates: Vec<(String, Summary)>,
    /// The candidate with the lowest median final loss (failures as `+inf`;
    /// ties to the first listed), or `None` when every median is infinite.
    pub best: Option<String>,
}

/// For every group of runs that differ only in the axis `over` and in
/// replicate columns (`seed`, `training.seed`, ...: every column whose path
/// ends in `seed`), the value of `over` with the lowest median final loss
/// ([`crate::stats`]: failed runs count as `+inf`). Groups and candidates
/// in order of first appearance.
pub fn best_by(table: &RunsTable, over: &str) -> Result<Vec<Best>> {
    if !table.columns.iter().any(|c| c == over) {
        return Err(ExperimentError::Grid(format!(
            "no axis `{over}` in the table (axes: {})",
            axis_columns(table).cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let group_columns: Vec<&String> = std::iter::once(&table.columns[1])
        .chain(axis_columns(table))
        .filter(|c| c.as_str() != over && !c.ends_with("seed"))
        .collect();
    // Groups and candidates in order of first appearance.
    let mut groups: Vec<(Cells, Candidates)> = Vec::new();
    for row in &table.rows {
        let cell = |c: &str| row.cells.get(c).cloned().unwrap_or_default();
        let group: Cells = group_columns
            .iter()
            .map(|c| ((*c).clone(), cell(c)))
            .collect();
        if !groups.iter().any(|(g, _)| *g == group) {
            groups.push((group.clone(), Vec::new()));
        }
        let Some((_, candidates)) = groups.iter_mut().find(|(g, _)| *g == group) else {
            unreachable!("pushed above")
        };
        let (value, loss) = (cell(over), RunsTable::final_loss(row));
        match candidates.iter_mut().find(|(v, _)| *v == value) {
            Some((_, losses)) => losses.push(loss),
            None => candidates.push((value, vec![loss])),
        }
    }
    let best = |(group, candidates): (Cells, Candidates)| {
        let losses: Vec<Vec<f64>> = candidates.iter().map(|(_, l)| l.clone()).collect();
        let best = best_by_median(&losses).map(|i| candidates[i].0.clone());
        let candidates = candidates
            .into_iter()
            .map(|(v, l)| (v, Summary::of(&l)))
            .collect();
        Best {
            group,
            candidates,
            best,
        }
    };
    Ok(groups.into_iter().map(best).collect())
}

fn csv_error(e: impl std::fmt::Display) -> ExperimentError {
    ExperimentError::Grid(format!("CSV: {e}"))
}

/// `(column, value)` pairs.
type Cells = Vec<(String, String)>;
/// Candidate values with the final losses of their runs.
type Candidates = Vec<(String, Vec<f64>)>;

fn axis_columns(table: &RunsTable) -> impl Iterator<Item = &String> {
    let n = table.columns.len();
    table.columns[3..n - RESULT_COLUMNS.len()].iter()
}
