//! `--shard i/n`: 1-based shard `i` of `n`, round-robin by grid index.

use std::fmt;
use std::str::FromStr;

use crate::error::ExperimentError;

/// Shard `index` (1-based) of `count`; run `g` (index in the grid file's run order) belongs to it when
/// `g % count == index - 1`.
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
        let (i, n) = spec
            .trim()
            .split_once('/')
            .ok_or_else(|| bad("expected `i/n`, e.g. `1/3` (1-based i)".into()))?;
        let parse = |what: &str, s: &str| {
            s.trim().parse::<usize>().map_err(|_| {
                bad(format!(
                    "{what} `{s}` is not a non-negative integer; expected `i/n`, e.g. `1/3`"
                ))
            })
        };
        let index = parse("shard number i", i)?;
        let count = parse("shard count n", n)?;
        if count == 0 {
            return Err(bad("the shard count n must be at least 1".into()));
        }
        if index == 0 {
            return Err(bad(format!(
                "shard numbers are 1-based (1..={count}); with a 0-based job array \
                 (e.g. SLURM --array=0-{}) pass $((SLURM_ARRAY_TASK_ID + 1))/{count}",
                count - 1
            )));
        }
        if index > count {
            return Err(bad(format!(
                "shard number {index} is larger than the shard count {count} \
                 (1-based: i must be in 1..={count})"
            )));
        }
        Ok(Shard { index, count })
    }
}
