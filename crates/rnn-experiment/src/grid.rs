//! Grids of run specs, written in TOML: a base spec and axes over any field.
//!
//! ```toml
//! [[grid]]
//! name = "rflo"                       # names the grid's runs in tables
//! [grid.base]                         # a RunSpec (missing parts take defaults)
//! network = { n_units = 30 }
//! task = { name = "periodic", period = 200 }
//! rule = { name = "rflo", rates = 0.03 }
//! training = { n_trials = 2000 }
//!
//! [[grid.axis]]                       # one axis: its keys vary together (zipped)
//! "task.period" = [200, 400]
//! "rule.rates" = [0.03, 0.01]
//!
//! [[grid.axis]]                       # axes multiply: 2 × 3 runs
//! seed = [0, 1, 2]
//! "training.seed" = [0, 1, 2]
//! ```
//!
//! A key is a dotted path into the spec (`"rule.rates"`, `"network.n_units"`,
//! `"training.constraints.dale"`); its values are any TOML values, including
//! tables (`rule = [{ name = "rflo", rates = 0.03 }, { name = "bptt", rates = 0.03 }]`).
//! Runs are numbered in a fixed order: grids in file order, then the
//! product of the axes with the first axis outermost. A file may hold any
//! number of grids; runs repeated between grids are trained once.

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::error::{ExperimentError, Result};
use crate::spec::RunSpec;

/// The most runs a grid file may expand to (all its grids together): far
/// beyond any sweep, and small enough that counting and listing the runs of
/// a short file cannot overflow or exhaust memory (a few axes of a few values
/// each multiply quickly: 40 axes of 2 values are 2^40 runs).
pub const MAX_RUNS: usize = 1 << 24;

/// A file of grids (`[[grid]]` tables).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridFile {
    /// The grids, in run order.
    #[serde(rename = "grid", default)]
    pub grids: Vec<Grid>,
}

/// A base spec and its axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// A name for the grid's runs (in tables and reports).
    pub name: String,
    /// The base spec, as a (possibly partial) TOML table.
    pub base: Table,
    /// The axes: the runs are their product.
    #[serde(rename = "axis", default)]
    pub axes: Vec<Axis>,
}

/// One axis: dotted paths and their value lists, all of one length, varied together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Axis(pub Table);

/// One run of a grid: where it sits and its spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position in the file's run order (0-based).
    pub index: usize,
    /// The grid's name.
    pub grid: String,
    /// The axis values of this run: `(path, value)` in axis order.
    pub coords: Vec<(String, Value)>,
    /// The complete spec.
    pub spec: RunSpec,
}

impl Axis {
    /// An axis over one path.
    pub fn new<V: Into<Value>>(path: &str, values: impl IntoIterator<Item = V>) -> Self {
        Self::default().zip(path, values)
    }

    /// Adds a path varied together with the axis's others.
    pub fn zip<V: Into<Value>>(mut self, path: &str, values: impl IntoIterator<Item = V>) -> Self {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        self.0.insert(path.to_string(), Value::Array(values));
        self
    }

    /// The common length of the value lists.
    fn len(&self, grid: &str) -> Result<usize> {
        let mut len = None;
        for (path, values) in &self.0 {
            let Value::Array(values) = values else {
                return Err(ExperimentError::Grid(format!(
                    "grid `{grid}`: axis key `{path}` must be an array of values"
                )));
            };
            if values.is_empty() || len.is_some_and(|l| l != values.len()) {
                return Err(ExperimentError::Grid(format!(
                    "grid `{grid}`: the value lists of an axis must be non-empty and of one length (`{path}` has {})",
                    values.len()
                )));
            }
            len = Some(values.len());
        }
        len.ok_or_else(|| ExperimentError::Grid(format!("grid `{grid}`: an axis has no keys")))
    }

    fn at(&self, i: usize) -> Vec<(String, Value)> {
        self.0
            .iter()
            .filter_map(|(path, values)| match values {
                Value::Array(values) => Some((path.clone(), values[i].clone())),
                _ => None,
            })
            .collect()
    }
}

impl Grid {
    /// A grid with no axes over `base` (one run).
    pub fn new(name: &str, base: &RunSpec) -> Result<Self> {
        let base = Table::try_from(base).map_err(|e| ExperimentError::Grid(e.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            base,
            axes: Vec::new(),
        })
    }

    /// Adds an axis (builder style).
    pub fn axis(mut self, axis: Axis) -> Self {
        self.axes.push(axis);
        self
    }

    /// The number of runs (the product of the axes' lengths), checked:
    /// more than [`MAX_RUNS`] is an error.
    pub fn run_count(&self) -> Result<usize> {
        let mut total: usize = 1;
        for axis in &self.axes {
            total = total
                .checked_mul(axis.len(&self.name)?)
                .filter(|&t| t <= MAX_RUNS)
                .ok_or_else(|| too_many_runs(&self.name))?;
        }
        Ok(total)
    }

    /// The grid's runs in order (indices from 0).
    pub fn points(&self) -> Result<Vec<Point>> {
        let lens: Vec<usize> = self
            .axes
            .iter()
            .map(|a| a.len(&self.name))
            .collect::<Result<_>>()?;
        let total = self.run_count()?;
        // Each point is validated as it is built: reserve little up front.
        let mut points = Vec::with_capacity(total.min(1024));
        for index in 0..total {
            // Mixed-radix digits of `index`, first axis most significant.
            let mut rest = index;
            let mut digits = vec![0; lens.len()];
            for (d, len) in digits.iter_mut().zip(&lens).rev() {
                *d = rest % len;
                rest /= len;
            }
            let mut table = self.base.clone();
            let mut coords = Vec::new();
            for (axis, &d) in self.axes.iter().zip(&digits) {
                for (path, value) in axis.at(d) {
                    set_path(&mut table, &path, value.clone())
                        .map_err(|e| ExperimentError::Grid(format!("grid `{}`: {e}", self.name)))?;
                    coords.push((path, value));
                }
            }
            let built: Result<RunSpec, String> = Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| e.to_string())
                .and_then(|spec: RunSpec| {
                    spec.validate().map(|()| spec).map_err(|e| e.to_string())
                });
            let spec = built.map_err(|e| {
                let at = describe(&coords);
                ExperimentError::Grid(format!("grid `{}`, run {index} ({at}): {e}", self.name))
            })?;
            points.push(Point {
                index,
                grid: self.name.clone(),
                coords,
                spec,
            });
        }
        Ok(points)
    }
}

impl GridFile {
    /// Parses a grid file.
    pub fn from_toml(text: &str) -> Result<Self> {
        let file: Self = toml::from_str(text).map_err(|e| ExperimentError::Grid(e.to_string()))?;
        if file.grids.is_empty() {
            return Err(ExperimentError::Grid("the file has no [[grid]]".into()));
        }
        let mut names = std::collections::HashSet::new();
        for grid in &file.grids {
            if !names.insert(&grid.name) {
                return Err(ExperimentError::Grid(format!(
                    "two grids are named `{}`",
                    grid.name
                )));
            }
        }
        Ok(file)
    }

    /// Reads and parses a grid file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::io(path, e))?;
        Self::from_toml(&text).map_err(|e| ExperimentError::io(path, e))
    }

    /// The file as TOML.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| ExperimentError::Grid(e.to_string()))
    }

    /// The number of runs of all the grids, checked: more than
    /// [`MAX_RUNS`] is an error.
    pub fn run_count(&self) -> Result<usize> {
        let mut total: usize = 0;
        for grid in &self.grids {
            total = total
                .checked_add(grid.run_count()?)
                .filter(|&t| t <= MAX_RUNS)
                .ok_or_else(|| too_many_runs("(all grids of the file)"))?;
        }
        Ok(total)
    }

    /// Every run of every grid, numbered in file order.
    pub fn points(&self) -> Result<Vec<Point>> {
        self.run_count()?;
        let mut all = Vec::new();
        for grid in &self.grids {
            for mut point in grid.points()? {
                point.index = all.len();
                all.push(point);
            }
        }
        Ok(all)
    }
}

/// `path = value` for a run: `"rule.rates=0.03 seed=1"`.
pub fn describe(coords: &[(String, Value)]) -> String {
    coords
        .iter()
        .map(|(p, v)| format!("{p}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn too_many_runs(grid: &str) -> ExperimentError {
    ExperimentError::Grid(format!(
        "grid `{grid}`: more than {MAX_RUNS} runs (the product of the axes' lengths)"
    ))
}

fn set_path(table: &mut Table, path: &str, value: Value) -> std::result::Result<(), String> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts
        .pop()
        .filter(|p| !p.is_empty())
        .ok_or("empty axis path")?;
    let mut here = table;
    for part in parts {
        let next = here
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        here = match next {
            Value::Table(t) => t,
            _ => return Err(format!("`{path}`: `{part}` is not a table")),
        };
    }
    here.insert(last.to_string(), value);
    Ok(())
}
