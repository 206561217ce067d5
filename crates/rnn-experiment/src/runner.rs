//! The runner: many run specs on a thread pool, memoised in memory and in a
//! [`Store`], checkpointed so that a killed job resumes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::error::{ExperimentError, Result};
use crate::run::{Control, RunRecord, run_controlled};
use crate::spec::{RunKey, RunSpec};
use crate::store::Store;

/// Runs specs; each distinct spec (by [`RunKey`]) is trained once.
///
/// Results depend only on the specs: not on the thread count, the order,
/// sharding, or whether a run was resumed from a checkpoint.
pub struct Runner {
    store: Option<Store>,
    threads: usize,
    checkpoint_every: usize,
    trial_budget: Option<usize>,
    memo: Mutex<HashMap<RunKey, Arc<RunRecord>>>,
    /// Runs trained by this runner (not read from the store) and not yet
    /// counted by [`Runner::take_trained`].
    trained: Mutex<HashSet<RunKey>>,
}

impl Default for Runner {
    fn default() -> Self {
        Self::new()
    }
}

impl Runner {
    /// One thread, no store, checkpoints every 500 trials once a store is set.
    pub fn new() -> Self {
        Self {
            store: None,
            threads: 1,
            checkpoint_every: 500,
            trial_budget: None,
            memo: Mutex::new(HashMap::new()),
            trained: Mutex::new(HashSet::new()),
        }
    }

    /// How many of the distinct `keys` this runner trained (rather than
    /// read from the store), each counted once over all calls: a job that
    /// trains every run up front can still say which of its parts trained
    /// which runs.
    pub fn take_trained<'k>(&self, keys: impl IntoIterator<Item = &'k RunKey>) -> usize {
        let mut trained = self
            .trained
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.into_iter().filter(|key| trained.remove(key)).count()
    }

    /// Keeps results in `store` (and resumes from its checkpoints).
    pub fn with_store(mut self, store: Store) -> Self {
        self.store = Some(store);
        self
    }

    /// Runs up to `threads` specs at once (at least 1).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Saves a running spec's checkpoint every `every` trials (with a store; at least 1).
    pub fn with_checkpoint_every(mut self, every: usize) -> Self {
        self.checkpoint_every = every.max(1);
        self
    }

    /// Stops after this many training trials in all (every run in flight
    /// saves a checkpoint); [`Runner::run_all`] then returns
    /// [`ExperimentError::Interrupted`]. For tests of resumption and for
    /// time-boxed jobs.
    pub fn with_trial_budget(mut self, trials: usize) -> Self {
        self.trial_budget = Some(trials);
        self
    }

    /// The specs among `specs` that have no result yet (distinct, in order).
    pub fn pending(&self, specs: &[RunSpec]) -> Result<Vec<RunSpec>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for spec in specs {
            let key = spec.key();
            if !seen.insert(key) || self.cached(spec)?.is_some() {
                continue;
            }
            out.push(spec.clone());
        }
        Ok(out)
    }

    fn cached(&self, spec: &RunSpec) -> Result<Option<Arc<RunRecord>>> {
        let key = spec.key();
        if let Some(record) = self.memo_lock().get(&key) {
            return Ok(Some(record.clone()));
        }
        if let Some(store) = &self.store
            && let Some(record) = store.get(spec)?
        {
            let record = Arc::new(record);
            self.memo_lock().insert(key, record.clone());
            return Ok(Some(record));
        }
        Ok(None)
    }

    fn memo_lock(&self) -> std::sync::MutexGuard<'_, HashMap<RunKey, Arc<RunRecord>>> {
        self.memo
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The records of `specs`, in their order: from memory or the store where
    /// known, else trained now (in parallel) and stored.
    pub fn run_all(&self, specs: &[RunSpec]) -> Result<Vec<Arc<RunRecord>>> {
        self.run_all_reporting(specs, &|_| {})
    }

    /// [`Runner::run_all`], calling `progress` with the time steps of every
    /// training trial as it finishes.
    pub fn run_all_reporting(
        &self,
        specs: &[RunSpec],
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<Arc<RunRecord>>> {
        let pending = self.pending(specs)?;
        let trials = AtomicUsize::new(0);
        let stopped = AtomicUsize::new(0);
        let on_trial = |steps: u64| {
            progress(steps);
            let done = trials.fetch_add(1, Ordering::SeqCst) + 1;
            let go_on = self.trial_budget.is_none_or(|budget| done < budget);
            if !go_on {
                stopped.fetch_add(1, Ordering::SeqCst);
            }
            go_on
        };
        // Longest first, each worker taking the next run when it is free
        // (greedy LPT): a long run started last would leave the other
        // threads idle at the end. Results do not depend on the order.
        let mut pending = pending;
        pending.sort_by_key(|spec| std::cmp::Reverse(spec.training_steps()));
        let next = AtomicUsize::new(0);
        let run_one = |spec: &RunSpec| -> Result<()> {
            if self
                .trial_budget
                .is_some_and(|b| trials.load(Ordering::SeqCst) >= b)
            {
                stopped.fetch_add(1, Ordering::SeqCst);
                return Ok(());
            }
            let checkpoint = self.store.as_ref().map(|s| s.checkpoint_path(spec.key()));
            let control = Control {
                checkpoint: checkpoint
                    .as_deref()
                    .map(|path| (path, self.checkpoint_every)),
                on_trial: &on_trial,
            };
            if let Some(record) = run_controlled(spec, &control)? {
                if let Some(store) = &self.store {
                    store.put(spec, &record)?;
                }
                self.memo_lock().insert(spec.key(), Arc::new(record));
                self.trained
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(spec.key());
            }
            Ok(())
        };
        let work = || {
            (0..self.threads.max(1)).into_par_iter().try_for_each(|_| {
                while let Some(spec) = pending.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if let Err(error) = run_one(spec) {
                        // The other workers take no new run after this one.
                        next.store(pending.len(), Ordering::SeqCst);
                        return Err(error);
                    }
                }
                Ok::<(), ExperimentError>(())
            })
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .map_err(|e| ExperimentError::Spec(format!("cannot start the thread pool: {e}")))?
            .install(work)?;
        if stopped.load(Ordering::SeqCst) > 0 {
            return Err(ExperimentError::Interrupted);
        }
        specs
            .iter()
            .map(|spec| {
                self.cached(spec)?.ok_or_else(|| {
                    ExperimentError::Spec(format!("run {} has no result", spec.key()))
                })
            })
            .collect()
    }
}
