//! Update schedules (docs/spec/MODEL.md §7).

use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid};

/// When computed updates are applied to the weights. Serialised as
/// `"online"`, `"per_trial"` or `{ every_k = K }`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Apply `dTheta(t)/T` after every time step; weights change inside the
    /// trial (RFLO, RTRL and the hybrids; not BPTT, which is acausal).
    Online,
    /// Accumulate over the trial, apply at its end (the default).
    #[default]
    PerTrial,
    /// Sum the per-trial updates of `k` trials and apply after the `k`-th
    /// (Fig 3 uses `k = 10`). A run whose length is not a multiple of `k`
    /// applies the partial sum after its last trial.
    EveryK(usize),
}

impl Schedule {
    /// `k >= 1` for [`Schedule::EveryK`].
    pub fn validate(&self) -> Result<()> {
        match self {
            Schedule::EveryK(0) => Err(invalid("schedule.k", 0, "must be at least 1")),
            _ => Ok(()),
        }
    }

    /// Trials per applied update (1 for online and per-trial).
    pub fn trials_per_update(&self) -> usize {
        match self {
            Schedule::EveryK(k) => *k,
            _ => 1,
        }
    }
}
