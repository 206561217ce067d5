//! The result store: one file per run, keyed by [`RunKey`], written atomically.
//!
//! Layout of a store folder:
//!
//! ```text
//! runs/<key>.run          the record (framed, checksummed; rnn_core::io)
//! runs/<key>.toml         the run's spec, for people (never read back)
//! checkpoints/<key>.ckpt  a run in progress (removed when its record is written)
//! ```
//!
//! A record holds its spec's canonical JSON; reading it back under another
//! spec (a key collision, or a store written by another engine version) is
//! refused, never silently taken.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use rnn_core::io::{FileKind, MatrixData, read_file, write_atomic, write_file};
use rnn_core::{Network, NetworkConfig, Weights};
use rnn_learn::History;

use crate::error::{ExperimentError, Result};
use crate::run::{Failure, RunRecord};
use crate::spec::{RunKey, RunSpec};

/// File kind of a stored run record.
pub const RUN_RECORD: FileKind = FileKind(*b"RUNR");

/// A folder of run records.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct StoredRecord {
    spec: String,
    history: History,
    failure: Option<Failure>,
    initial_loss: f64,
    final_loss: f64,
    config: NetworkConfig,
    weights: [MatrixData; 4],
}

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        for sub in ["runs", "checkpoints"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| ExperimentError::io(&path, e))?;
        }
        Ok(Self { dir })
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, key: RunKey) -> PathBuf {
        self.dir.join("runs").join(format!("{key}.run"))
    }

    /// Where a run in progress keeps its checkpoint.
    pub fn checkpoint_path(&self, key: RunKey) -> PathBuf {
        self.dir.join("checkpoints").join(format!("{key}.ckpt"))
    }

    /// The stored record of `spec`, if there is one.
    pub fn get(&self, spec: &RunSpec) -> Result<Option<RunRecord>> {
        let path = self.record_path(spec.key());
        if !path.exists() {
            return Ok(None);
        }
        let stored: StoredRecord = read_file(&path, RUN_RECORD)?;
        if stored.spec != spec.canonical_json() {
            return Err(ExperimentError::io(
                &path,
                "holds the result of another run spec (key collision or foreign store)",
            ));
        }
        let [recurrent, input, readout, feedback] = stored.weights.map(|m| m.to_mat());
        let (Some(recurrent), Some(input), Some(readout), Some(feedback)) =
            (recurrent, input, readout, feedback)
        else {
            return Err(ExperimentError::io(
                &path,
                "a weight matrix does not match its shape",
            ));
        };
        let weights = Weights {
            recurrent,
            input,
            readout,
            feedback,
        };
        Ok(Some(RunRecord {
            history: stored.history,
            failure: stored.failure,
            initial_loss: stored.initial_loss,
            final_loss: stored.final_loss,
            network: Network::from_weights(&stored.config, weights)?,
        }))
    }

    /// Stores `record` as the result of `spec` (atomic), then removes the
    /// run's checkpoint.
    pub fn put(&self, spec: &RunSpec, record: &RunRecord) -> Result<()> {
        let key = spec.key();
        let w = record.network.weights();
        let stored = StoredRecord {
            spec: spec.canonical_json(),
            history: record.history.clone(),
            failure: record.failure.clone(),
            initial_loss: record.initial_loss,
            final_loss: record.final_loss,
            config: record.network.config().clone(),
            weights: [&w.recurrent, &w.input, &w.readout, &w.feedback]
                .map(|m| MatrixData::from_mat(m.as_ref())),
        };
        let spec_path = self.dir.join("runs").join(format!("{key}.toml"));
        write_atomic(&spec_path, spec.to_toml()?.as_bytes())?;
        write_file(&self.record_path(key), RUN_RECORD, &stored)?;
        // A leftover checkpoint of a stored run is never read again.
        let _ = std::fs::remove_file(self.checkpoint_path(key));
        Ok(())
    }
}
