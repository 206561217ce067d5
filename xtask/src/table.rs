//! A tidy CSV table (the `csv` crate), written atomically.

use std::path::Path;

/// One cell: text as is, numbers in Rust's shortest round-trip form, `NaN`
/// for a non-finite float.
pub type Cell = String;

/// Converts a value into a [`Cell`] (see [`row!`](crate::row)).
pub trait IntoCell {
    fn into_cell(self) -> Cell;
}

macro_rules! display_cells {
    ($($t:ty),*) => { $(impl IntoCell for $t { fn into_cell(self) -> Cell { self.to_string() } })* };
}
display_cells!(&str, String, &String, usize, u64, bool);

impl IntoCell for f64 {
    fn into_cell(self) -> Cell {
        if self.is_finite() {
            self.to_string()
        } else {
            "NaN".into()
        }
    }
}

/// A CSV table under construction.
pub struct Table {
    columns: usize,
    writer: csv::Writer<Vec<u8>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        let mut writer = csv::Writer::from_writer(Vec::new());
        // Writing into memory cannot fail.
        let _ = writer.write_record(header);
        Self {
            columns: header.len(),
            writer,
        }
    }

    /// Appends a row (must have as many cells as the header).
    pub fn row(&mut self, cells: Vec<Cell>) {
        assert_eq!(cells.len(), self.columns, "CSV row width");
        let _ = self.writer.write_record(&cells);
    }

    /// Writes the table to `path` atomically.
    pub fn write(self, path: &Path) -> crate::Res<()> {
        let bytes = self.writer.into_inner().map_err(|e| e.to_string())?;
        rnn_core::io::write_atomic(path, &bytes)?;
        Ok(())
    }
}

/// Builds a row from heterogeneous values: `row![a, b, c]`.
#[macro_export]
macro_rules! row {
    ($($x:expr),* $(,)?) => { vec![$($crate::table::IntoCell::into_cell($x)),*] };
}
