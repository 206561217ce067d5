//! The [`LearningRule`] trait and the error projection `F` shared by the rules.

use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, Mat, MatMut, MatRef, Par};

use serde::{Deserialize, Serialize};

use rnn_core::{Network, State, Trial, TrialSource};

use crate::checkpoint::RuleMemory;
use crate::constraints::Constraints;
use crate::error::{LearnError, Result, TrainError};
use crate::train::{History, TrainingConfig};
use crate::update::{LearningRates, WeightUpdate};

/// What one trial produced besides the update.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialOutcome {
    /// The trial's loss `L = 1/(2T) sum_t |e(t)|^2`, with the weights in force as it ran.
    pub loss: f64,
    /// The state at the end of the trial (for tasks that carry it over).
    pub final_state: State,
}

/// A learning rule: given a network and a trial, the weight update.
///
/// A rule value is an immutable, validated configuration (learning rates,
/// projection, ...). Its per-trial working memory — eligibility traces,
/// sensitivity tensors, the stored trajectory — is the associated
/// [`LearningRule::State`], allocated once by [`LearningRule::new_state`] and
/// reused for every trial, so no time-step loop allocates.
///
/// Every rule is gradient *descent*: the update is **added** to the weights.
pub trait LearningRule {
    /// Working memory reused across trials.
    type State;

    /// A short name ("RFLO", "BPTT", ...).
    fn name(&self) -> &'static str;

    /// The learning rates `eta1..eta3`.
    fn rates(&self) -> LearningRates;

    /// Checks that the rule fits `net` (e.g. the shape of a custom projection).
    fn check_fits(&self, net: &Network) -> Result<()>;

    /// Working memory sized for `net`.
    fn new_state(&self, net: &Network) -> Self::State;

    /// Runs `trial` from `start` with the weights held fixed and **adds** the
    /// trial's update `(1/T) sum_t dTheta(t)` to `update` (per-trial and
    /// every-K schedules, docs/spec/MODEL.md §7).
    fn accumulate(
        &self,
        net: &Network,
        trial: &Trial,
        start: &State,
        state: &mut Self::State,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome>;

    /// [`LearningRule::accumulate`] for several trials at the same weights:
    /// trial `k` from `starts[k]`, its update added to `update` in the order
    /// of `trials`, exactly as that many `accumulate` calls would (the same
    /// bits in `update`, the same outcomes, the same first error, with the
    /// updates of the trials before it added).
    ///
    /// Provided: [`LearningRule::prepare_batch`], then
    /// [`LearningRule::accumulate_prepared`] per trial (rules that cannot
    /// batch run `accumulate` per trial). Trials whose start depends on the
    /// previous trial's end (carry-over) cannot be batched: their `starts`
    /// are not known in advance, so callers run them one at a time.
    fn accumulate_many(
        &self,
        net: &Network,
        trials: &[&Trial],
        starts: &[State],
        state: &mut Self::State,
        update: &mut WeightUpdate,
    ) -> Result<Vec<TrialOutcome>> {
        check_batch(trials, starts)?;
        let chunk = batch_chunk(net, trials, BATCH_MEMORY);
        let mut outcomes = Vec::with_capacity(trials.len());
        for (trials, starts) in trials.chunks(chunk).zip(starts.chunks(chunk)) {
            let batched = trials.len() > 1 && self.prepare_batch(net, trials, starts, state);
            for (k, (trial, start)) in trials.iter().zip(starts).enumerate() {
                outcomes.push(if batched {
                    self.accumulate_prepared(net, k, trial, start, state, update)?
                } else {
                    self.accumulate(net, trial, start, state, update)?
                });
            }
        }
        Ok(outcomes)
    }

    /// The first half of a batched [`LearningRule::accumulate_many`]: runs
    /// what of the trials does not depend on the update order (RFLO's
    /// trial-batched form and BPTT: the forward passes, together, through
    /// [`Network::run_batch_from_into`], which reads `W` once per step for
    /// all trials; BPTT also its backward passes, together, through
    /// [`rnn_core::gemv_transposed::matmat_t`]) and keeps it in `state`. Returns `false` when nothing was
    /// prepared: the rule does not batch (the default) or the batch does not
    /// fit the network (then `accumulate` per trial gives the error in its place).
    ///
    /// After `true`, call [`LearningRule::accumulate_prepared`] for
    /// `k = 0, 1, ...` in order with the same trials and starts, with no
    /// other use of `state` in between.
    fn prepare_batch(
        &self,
        net: &Network,
        trials: &[&Trial],
        starts: &[State],
        state: &mut Self::State,
    ) -> bool {
        let _ = (net, trials, starts, state);
        false
    }

    /// The second half: [`LearningRule::accumulate`] of trial `index` of the
    /// batch prepared by [`LearningRule::prepare_batch`] (`trial` and
    /// `start` are that trial and its start), bit-identical to it. Where
    /// nothing is prepared for `index`, this is `accumulate` (the default).
    fn accumulate_prepared(
        &self,
        net: &Network,
        index: usize,
        trial: &Trial,
        start: &State,
        state: &mut Self::State,
        update: &mut WeightUpdate,
    ) -> Result<TrialOutcome> {
        let _ = index;
        self.accumulate(net, trial, start, state, update)
    }

    /// Runs `trial` from `start`, applying `dTheta(t)/T` (through
    /// `constraints`) after every step (the online schedule of docs/spec/MODEL.md §7).
    ///
    /// Rules that need the whole trial first (BPTT) return
    /// [`LearnError::OnlineUnsupported`]; that is the default.
    fn run_online(
        &self,
        net: &mut Network,
        trial: &Trial,
        start: &State,
        state: &mut Self::State,
        constraints: &Constraints,
    ) -> Result<TrialOutcome> {
        let _ = (net, trial, start, state, constraints);
        Err(LearnError::OnlineUnsupported { rule: self.name() })
    }

    /// What of `state` carries over from one trial to the next, for
    /// checkpoints ([`crate::Checkpoint`]): the sign generator of the
    /// stochastic rules. The default, for rules that reset their working
    /// memory at every trial start, is empty.
    fn memory(&self, state: &Self::State) -> RuleMemory {
        let _ = state;
        RuleMemory::default()
    }

    /// Restores what [`LearningRule::memory`] saved into `state` (a state
    /// made by [`LearningRule::new_state`] for the same network). The
    /// default accepts only an empty memory.
    fn restore_memory(&self, state: &mut Self::State, memory: &RuleMemory) -> Result<()> {
        let _ = state;
        if memory.is_empty() {
            Ok(())
        } else {
            Err(LearnError::CheckpointMismatch {
                what: "the checkpoint holds rule memory this rule does not keep",
            })
        }
    }

    /// Trains `net` with this rule on trials from `source`: [`train()`](crate::train()) in
    /// method form, so that a run is one expression:
    ///
    /// ```
    /// # use rnn_core::{seeded, Network, NetworkConfig, TrialCycle, Trial, InitialState};
    /// # use faer::Mat;
    /// use rnn_learn::{LearningRates, LearningRule, Rflo, TrainingConfig};
    /// # let mut net = Network::random(&NetworkConfig::new(10, 0, 1), &mut seeded(0))?;
    /// # let target = Mat::from_fn(20, 1, |s, _| (s as f64 / 3.0).sin());
    /// # let trial = Trial::new(Mat::zeros(20, 0).as_ref(), target.as_ref(), None, InitialState::Constant(0.1))?;
    /// # let mut task = TrialCycle::new(vec![trial])?;
    /// let config = TrainingConfig::default().with_n_trials(50);
    /// let history = Rflo::new(LearningRates::uniform(0.01))?.train(&mut net, &mut task, &config)?;
    /// assert_eq!(history.loss.len(), 50);
    /// # Ok::<(), rnn_learn::LearnError>(())
    /// ```
    #[allow(clippy::result_large_err)] // returned once per run, holds the history by value
    fn train(
        self,
        net: &mut Network,
        source: &mut dyn TrialSource,
        config: &TrainingConfig,
    ) -> std::result::Result<History, TrainError>
    where
        Self: Sized,
    {
        crate::train::train(net, self, source, config)
    }
}

/// [`LearningRule::accumulate_many`]'s reference: one
/// [`LearningRule::accumulate`] per trial, in order, stopping at the first error.
pub fn accumulate_each<R: LearningRule + ?Sized>(
    rule: &R,
    net: &Network,
    trials: &[&Trial],
    starts: &[State],
    state: &mut R::State,
    update: &mut WeightUpdate,
) -> Result<Vec<TrialOutcome>> {
    check_batch(trials, starts)?;
    trials
        .iter()
        .zip(starts)
        .map(|(trial, start)| rule.accumulate(net, trial, start, state, update))
        .collect()
}

/// One start state per trial.
fn check_batch(trials: &[&Trial], starts: &[State]) -> Result<()> {
    if trials.len() != starts.len() {
        return Err(LearnError::Core(rnn_core::CoreError::ShapeMismatch {
            what: "batch (rows: trials, cols: start states)",
            expected_rows: trials.len(),
            expected_cols: trials.len(),
            rows: trials.len(),
            cols: starts.len(),
        }));
    }
    Ok(())
}

/// The matrix `F` (`N×N_y`) that projects the output error into the network.
///
/// Serialised (TOML/JSON) as `"readout"`, `"feedback"`, or
/// `{ custom = [[F_11, .., F_1Ny], .., [F_N1, .., F_NNy]] }` (the rows of `F`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "ProjectionRepr", try_from = "ProjectionRepr")]
pub enum Projection {
    /// `F = W_out^T`, the current readout: exact gradients (BPTT, RTRL) and `LocalSymmetric`.
    #[default]
    Readout,
    /// `F = B`, the network's fixed random feedback: RFLO and `NonlocalRandom`.
    Feedback,
    /// Any given `N×N_y` matrix.
    Custom(Mat<f64>),
}

impl Projection {
    /// Checks a custom matrix's shape against `net`.
    pub fn check_fits(&self, net: &Network) -> Result<()> {
        if let Projection::Custom(f) = self {
            let (n, ny) = (net.n_units(), net.n_outputs());
            if f.nrows() != n || f.ncols() != ny {
                return Err(LearnError::ProjectionShape {
                    expected_rows: n,
                    expected_cols: ny,
                    rows: f.nrows(),
                    cols: f.ncols(),
                });
            }
        }
        Ok(())
    }

    /// `F` as an `N×N_y` view.
    pub fn matrix<'a>(&'a self, net: &'a Network) -> MatRef<'a, f64> {
        match self {
            Projection::Readout => net.readout().transpose(),
            Projection::Feedback => net.feedback(),
            Projection::Custom(f) => f.as_ref(),
        }
    }

    /// `out = F e` for one error vector.
    ///
    /// With one output, `out_i = F_i0 e_0` directly: a general product's
    /// dispatch costs more than the `N` products of an online step at small
    /// `N` (a tenth of an RFLO online step at `N = 30`).
    pub fn project(&self, net: &Network, error: &[f64], out: &mut [f64]) {
        let f = self.matrix(net);
        if f.ncols() == 1 {
            let e = error[0];
            for (o, &f_i) in out.iter_mut().zip(f.col(0).iter()) {
                *o = f_i * e;
            }
            return;
        }
        matmul(
            ColMut::from_slice_mut(out),
            Accum::Replace,
            self.matrix(net),
            ColRef::from_slice(error),
            1.0,
            Par::Seq,
        );
    }

    /// `out = F E` for all steps at once (`E` is `N_y×T`, `out` is `N×T`).
    pub fn project_all(&self, net: &Network, errors: MatRef<'_, f64>, out: MatMut<'_, f64>) {
        matmul(out, Accum::Replace, self.matrix(net), errors, 1.0, Par::Seq);
    }
}

/// The serialised form of [`Projection`]: a custom matrix as its rows.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ProjectionRepr {
    Readout,
    Feedback,
    Custom(Vec<Vec<f64>>),
}

impl From<Projection> for ProjectionRepr {
    fn from(projection: Projection) -> Self {
        match projection {
            Projection::Readout => Self::Readout,
            Projection::Feedback => Self::Feedback,
            Projection::Custom(f) => Self::Custom(
                (0..f.nrows())
                    .map(|i| (0..f.ncols()).map(|j| f[(i, j)]).collect())
                    .collect(),
            ),
        }
    }
}

impl TryFrom<ProjectionRepr> for Projection {
    type Error = String;

    fn try_from(repr: ProjectionRepr) -> std::result::Result<Self, String> {
        Ok(match repr {
            ProjectionRepr::Readout => Self::Readout,
            ProjectionRepr::Feedback => Self::Feedback,
            ProjectionRepr::Custom(rows) => {
                let ncols = rows.first().map_or(0, Vec::len);
                if let Some(i) = rows.iter().position(|row| row.len() != ncols) {
                    return Err(format!(
                        "custom projection: row {i} has {} entries, row 0 has {ncols}",
                        rows[i].len()
                    ));
                }
                if rows.iter().flatten().any(|x| !x.is_finite()) {
                    return Err("custom projection: entries must be finite".to_owned());
                }
                Self::Custom(Mat::from_fn(rows.len(), ncols, |i, j| rows[i][j]))
            }
        })
    }
}

/// Bytes of stored trajectories a batch of [`LearningRule::accumulate_many`]
/// (and, by default, of the every-K trainer) may hold; larger batches run in
/// chunks that fit (a chunk of one trial is not batched). It bounds the
/// memory a batch takes (`K` trials keep `K` trajectories), it is not a
/// speed setting: on the bench machine (32 MiB L3) batches of ten trials at
/// N = 1024 (about 100 MB) ran faster than their trials one at a time, and
/// chunks of six no slower than whole batches. Results do not depend on it:
/// a batch equals its trials one at a time.
pub const BATCH_MEMORY: usize = 64 << 20;

/// `N×(T+1)` arrays a batched trial keeps (`u`, `h`, `y`, the error,
/// `phi'(u)`, BPTT's signal), at most.
const BATCH_ARRAYS: usize = 6;

/// Trials per chunk of a batch within `budget` bytes (at least one).
pub(crate) fn batch_chunk(net: &Network, trials: &[&Trial], budget: usize) -> usize {
    let steps = trials.iter().map(|t| t.len() + 1).max().unwrap_or(1);
    let per_trial = BATCH_ARRAYS * size_of::<f64>() * net.n_units().max(1) * steps;
    (budget / per_trial).clamp(1, trials.len().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-output path of `project` against the product `F e` taken
    /// entry by entry from the matrix, for each projection (the readout's
    /// is a transposed, strided view).
    #[test]
    fn one_output_projection_is_f_times_e() {
        let net = rnn_core::Network::random(
            &rnn_core::NetworkConfig::new(7, 1, 1),
            &mut rnn_core::seeded(3),
        )
        .unwrap();
        let custom = Mat::from_fn(7, 1, |i, _| 0.1 * i as f64 - 0.3);
        for projection in [
            Projection::Readout,
            Projection::Feedback,
            Projection::Custom(custom),
        ] {
            let mut out = vec![f64::NAN; 7];
            projection.project(&net, &[-0.7], &mut out);
            let f = projection.matrix(&net);
            for (i, &o) in out.iter().enumerate() {
                assert_eq!(
                    o.to_bits(),
                    (f[(i, 0)] * -0.7).to_bits(),
                    "{projection:?} row {i}"
                );
            }
        }
    }
}
