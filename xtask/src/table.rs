//! A tidy CSV table: a header and rows, written atomically.

use std::fmt::Write as _;
use std::path::Path;

/// One cell of a CSV row.
pub enum Cell {
    /// Text (quoted if needed).
    Text(String),
    /// An integer.
    Int(i64),
    /// A float, written with full precision (shortest round-trip form).
    Num(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Int(v as i64)
    }
}
impl From<u64> for Cell {
    fn from(v: u64) -> Self {
        Cell::Int(v as i64)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Num(v)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Text(v.to_string())
    }
}

/// A CSV table under construction.
pub struct Table {
    columns: usize,
    text: String,
}

impl Table {
    /// A table with the given header.
    pub fn new(header: &[&str]) -> Self {
        Self {
            columns: header.len(),
            text: format!("{}\n", header.join(",")),
        }
    }

    /// Appends a row (must have as many cells as the header).
    pub fn row(&mut self, cells: Vec<Cell>) {
        assert_eq!(cells.len(), self.columns, "CSV row width");
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            match cell {
                Cell::Text(s) if s.contains([',', '"', '\n']) => {
                    let _ = write!(self.text, "\"{}\"", s.replace('"', "\"\""));
                }
                Cell::Text(s) => self.text.push_str(&s),
                Cell::Int(v) => {
                    let _ = write!(self.text, "{v}");
                }
                Cell::Num(v) if v.is_finite() => {
                    let _ = write!(self.text, "{v}");
                }
                Cell::Num(_) => self.text.push_str("NaN"),
            }
        }
        self.text.push('\n');
    }

    /// Writes the table to `path` atomically.
    pub fn write(&self, path: &Path) -> crate::Res<()> {
        rnn_core::io::write_atomic(path, self.text.as_bytes())?;
        Ok(())
    }
}

/// Builds a row from heterogeneous values: `row![a, b, c]`.
#[macro_export]
macro_rules! row {
    ($($x:expr),* $(,)?) => { vec![$($crate::table::Cell::from($x)),*] };
}
