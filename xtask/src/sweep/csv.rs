//! The result table: one row per grid point, floats in `{:e}` (lossless).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::error::SweepError;
use super::grid::{Point, RuleKind, TaskKind};

/// The header line of every sweep table.
pub const HEADER: &str = "index,rule,task,eta,seed,n,T,trials,initial_loss,final_loss,status";

/// How a grid point ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Trained to the end; the final loss is finite.
    Ok,
    /// Training diverged in trial `k` (0-based).
    Diverged(usize),
    /// Training ended but the evaluation trial's loss was non-finite.
    DivergedAtEvaluation,
}

impl Status {
    /// Did the run fail?
    pub fn failed(self) -> bool {
        self != Status::Ok
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Ok => write!(f, "ok"),
            Status::Diverged(k) => write!(f, "diverged at trial {k}"),
            Status::DivergedAtEvaluation => write!(f, "diverged at evaluation"),
        }
    }
}

fn parse_status(s: &str) -> Option<Status> {
    match s {
        "ok" => Some(Status::Ok),
        "diverged at evaluation" => Some(Status::DivergedAtEvaluation),
        _ => s
            .strip_prefix("diverged at trial ")?
            .parse()
            .ok()
            .map(Status::Diverged),
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// The grid point.
    pub point: Point,
    /// Training trials.
    pub trials: usize,
    /// Loss of the initial network (no learning).
    pub initial_loss: f64,
    /// Loss of the final network (no learning); `inf` if the run diverged.
    pub final_loss: f64,
    /// How the run ended.
    pub status: Status,
}

impl Row {
    /// The row as a CSV line (no newline).
    pub fn to_line(self) -> String {
        let p = &self.point;
        format!(
            "{},{},{},{:e},{},{},{},{},{:e},{:e},{}",
            p.index,
            p.rule.name(),
            p.task.name(),
            p.eta,
            p.seed,
            p.n,
            p.t,
            self.trials,
            self.initial_loss,
            self.final_loss,
            self.status
        )
    }

    /// Parses a CSV line; the error says which field is wrong.
    pub fn parse(line: &str) -> Result<Row, String> {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 11 {
            return Err(format!(
                "expected 11 comma-separated fields ({HEADER}), found {}",
                fields.len()
            ));
        }
        fn num<T: std::str::FromStr>(name: &str, s: &str) -> Result<T, String> {
            s.parse()
                .map_err(|_| format!("field `{name}` = `{s}` does not parse"))
        }
        let point = Point {
            index: num("index", fields[0])?,
            rule: RuleKind::parse(fields[1])
                .ok_or_else(|| format!("unknown rule `{}`", fields[1]))?,
            task: TaskKind::parse(fields[2])
                .ok_or_else(|| format!("unknown task `{}`", fields[2]))?,
            eta: num("eta", fields[3])?,
            seed: num("seed", fields[4])?,
            n: num("n", fields[5])?,
            t: num("T", fields[6])?,
        };
        Ok(Row {
            point,
            trials: num("trials", fields[7])?,
            initial_loss: num("initial_loss", fields[8])?,
            final_loss: num("final_loss", fields[9])?,
            status: parse_status(fields[10])
                .ok_or_else(|| format!("unknown status `{}`", fields[10]))?,
        })
    }
}

/// The whole table text: header and rows in grid-index order.
pub fn render(rows: &BTreeMap<usize, Row>) -> String {
    let mut text = String::with_capacity(64 * (rows.len() + 1));
    text.push_str(HEADER);
    text.push('\n');
    for row in rows.values() {
        text.push_str(&row.to_line());
        text.push('\n');
    }
    text
}

/// Writes the table atomically.
pub fn write(path: &Path, rows: &BTreeMap<usize, Row>) -> Result<(), SweepError> {
    rnn_core::io::write_atomic(path, render(rows).as_bytes()).map_err(|e| SweepError::io(path, e))
}

/// Reads a table written by [`write()`]; a repeated grid index is an error.
pub fn read(path: &Path) -> Result<Vec<Row>, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|e| SweepError::io(path, e))?;
    let mut lines = text.lines();
    match lines.next() {
        Some(HEADER) => {}
        Some(other) => {
            return Err(SweepError::csv(
                path,
                1,
                format!("not a sweep table: header is `{other}`, expected `{HEADER}`"),
            ));
        }
        None => return Err(SweepError::csv(path, 0, "empty file: no header")),
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let row = Row::parse(line).map_err(|reason| SweepError::csv(path, i + 2, reason))?;
        rows.push(row);
    }
    Ok(rows)
}
