//! `--shard i/n`: 1-based shard `i` of `n`, round-robin by run index.

use std::fmt;
use std::str::FromStr;

use crate::error::ExperimentError;

/// Shard `index` (1-based) of `count`: run `g` (its index in the grid file's
/// run order) belongs to it when `g % count == index - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number, `1..=count`.
    pub index: usize,
    /// Number of shards, `>= 1`.
    pub count: usize,
}

impl Shard {
    /// Does run `run_index` belong to this shard?
    pub fn contains(&self, run_index: usize) -> bool {
        run_index % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ExperimentError;

    fn from_str(spec: &str) -> Result<Self, ExperimentError> {
        let bad = |reason: String| ExperimentError::Shard {
            spec: spec.to_owned(),
            reason,
        };
        let parsed = spec.trim().split_once('/').and_then(|(i, n)| {
            Some((
                i.trim().parse::<usize>().ok()?,
                n.trim().parse::<usize>().ok()?,
            ))
        });
        let Some((index, count)) = parsed else {
            return Err(bad(
                "expected `i/n` with integers, e.g. `1/3` (1-based i)".into()
            ));
        };
        if count == 0 || index == 0 || index > count {
            return Err(bad(format!(
                "need 1 <= i <= n (shards are 1-based; with a 0-based job array such as \
                 SLURM --array=0-{}, pass $((SLURM_ARRAY_TASK_ID + 1))/{count})",
                count.max(1) - 1
            )));
        }
        Ok(Shard { index, count })
    }
}
