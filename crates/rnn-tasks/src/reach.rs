//! Cursor reaches: behavioural syllables (docs/spec/TASKS.md §3, Fig 4a).
//!
//! The output is the cursor's 2-D velocity; the position is its running sum
//! ([`integrate_velocity`]). Syllable `k` of `K` lasts `D` steps: a reach of
//! length `L` (default 1) in direction `d_k = (cos 2πk/K, sin 2πk/K)` over the
//! first `M` steps, then a hold:
//!
//! ```text
//! v*(t) = L d_k (1 - cos(2π t / M)) / M     t = 1..M
//! v*(t) = 0                                 t = M+1..D
//! ```
//!
//! (stored at step index `s = t - 1`). The discrete sum of the reach phase is
//! exactly `L d_k` (for `M >= 2`), so a reach lands exactly. The input is
//! one-hot and tonic: input `k` is 1 for the whole syllable, the others 0.
//!
//! Training is one continuous run: each trial is one syllable, and `h`
//! carries over ([`InitialState::CarryOver`]) from the second trial on. The
//! task keeps the *ideal* cursor (start + the sum of the target reaches so
//! far; it never sees the network's output) and the previous syllable; each
//! trial's syllable is drawn uniformly among those that keep the ideal cursor
//! inside the box `[-b, b]²` and differ from the previous syllable.

use std::f64::consts::PI;

use faer::{Mat, MatRef};
use rand::RngExt;
use rnn_core::{InitialState, SeededRng, Trial};
use serde::{Deserialize, Serialize};

use crate::Task;
use crate::error::{Result, TaskError, finite, nonzero, positive};

/// Slack of the box test, so that rounding in the running sum of the ideal
/// cursor (e.g. `cos(π/2) = 6e-17`) never turns a position on the wall into
/// one outside it.
pub const BOX_TOLERANCE: f64 = 1e-9;

/// The shape of the syllables: their number, duration, reach phase and reach
/// length. Shared by [`ReachSyllables`] and [`WholeSequence`](crate::WholeSequence).
///
/// ```
/// use rnn_tasks::SyllableShape;
/// let shape = SyllableShape::default();
/// // The raised-cosine reach sums exactly to one unit in its direction.
/// let v = shape.syllable_velocity(1)?; // 2 x D, step-major
/// let path = rnn_tasks::integrate_velocity_by_step(v.as_ref(), [0.0, 0.0])?;
/// let end = path[path.len() - 1];
/// assert!(end[0].abs() < 1e-12 && (end[1] - 1.0).abs() < 1e-12);
/// # Ok::<(), rnn_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyllableShape {
    /// Number of syllables `K` (directions and tonic inputs); `>= 1`. Default 4
    /// (right, up, left, down).
    pub n_syllables: usize,
    /// Duration `D` of one syllable in steps; `>= 2`. Default 200 = 20τ.
    pub syllable_len: usize,
    /// Duration `M` of the reach phase; `2 <= M <= D`. Default 100 = `D/2`
    /// (**choice**: the rest of the syllable is a hold).
    pub reach_len: usize,
    /// Length `L` of one reach; finite, `> 0`. Default 1.
    pub reach_length: f64,
}

impl Default for SyllableShape {
    fn default() -> Self {
        Self {
            n_syllables: 4,
            syllable_len: 200,
            reach_len: 100,
            reach_length: 1.0,
        }
    }
}

impl SyllableShape {
    /// Checks every field: [`TaskError::NoSyllables`] for `K = 0`,
    /// [`TaskError::Zero`] for `D = 0`, [`TaskError::BadReachPhase`] unless
    /// `2 <= M <= D`, [`TaskError::NonFinite`] / [`TaskError::NonPositive`]
    /// for `reach_length`.
    pub fn validate(&self) -> Result<()> {
        if self.n_syllables == 0 {
            return Err(TaskError::NoSyllables);
        }
        nonzero("syllable_len", self.syllable_len)?;
        if self.reach_len < 2 || self.reach_len > self.syllable_len {
            return Err(TaskError::BadReachPhase {
                reach_len: self.reach_len,
                syllable_len: self.syllable_len,
            });
        }
        positive("reach_length", self.reach_length)?;
        Ok(())
    }

    /// [`TaskError::SyllableOutOfRange`] unless `syllable < K`; `position` is
    /// reported in the error (its index in a sequence, if any).
    pub fn check_syllable(&self, syllable: usize, position: Option<usize>) -> Result<()> {
        if syllable < self.n_syllables {
            Ok(())
        } else {
            Err(TaskError::SyllableOutOfRange {
                syllable,
                n_syllables: self.n_syllables,
                position,
            })
        }
    }

    /// Unit direction `d_k = (cos 2πk/K, sin 2πk/K)` (not range-checked).
    pub fn direction(&self, syllable: usize) -> [f64; 2] {
        let angle = 2.0 * PI * syllable as f64 / self.n_syllables as f64;
        [angle.cos(), angle.sin()]
    }

    /// The displacement of one whole syllable, `L d_k` (what the ideal cursor moves).
    pub fn displacement(&self, syllable: usize) -> [f64; 2] {
        let d = self.direction(syllable);
        [self.reach_length * d[0], self.reach_length * d[1]]
    }

    /// The target velocity of syllable `k` at time `t` (1-based, `t = s + 1`):
    /// `L d_k (1 - cos(2πt/M)) / M` for `1 <= t <= M`, exactly 0 otherwise.
    /// Not range-checked.
    pub fn velocity(&self, syllable: usize, t: usize) -> [f64; 2] {
        if t == 0 || t > self.reach_len {
            return [0.0, 0.0];
        }
        let m = self.reach_len as f64;
        let speed = self.reach_length * (1.0 - (2.0 * PI * t as f64 / m).cos()) / m;
        let d = self.direction(syllable);
        [speed * d[0], speed * d[1]]
    }

    /// The target velocity of one syllable, step-major `2×D` (column `s` is `t = s + 1`).
    pub fn syllable_velocity(&self, syllable: usize) -> Result<Mat<f64>> {
        self.check_syllable(syllable, None)?;
        Ok(Mat::from_fn(2, self.syllable_len, |i, s| {
            self.velocity(syllable, s + 1)[i]
        }))
    }

    /// The target velocity of a sequence of syllables, concatenated,
    /// step-major `2×(len·D)`. Errors on an empty sequence or a syllable `>= K`.
    pub fn sequence_velocity(&self, sequence: &[usize]) -> Result<Mat<f64>> {
        if sequence.is_empty() {
            return Err(TaskError::EmptySequence);
        }
        for (position, &syllable) in sequence.iter().enumerate() {
            self.check_syllable(syllable, Some(position))?;
        }
        let d = self.syllable_len;
        Ok(Mat::from_fn(2, sequence.len() * d, |i, s| {
            self.velocity(sequence[s / d], s % d + 1)[i]
        }))
    }

    /// The tonic one-hot input of syllable `k`, step-major `K×D` (not range-checked).
    pub fn syllable_input(&self, syllable: usize) -> Mat<f64> {
        Mat::from_fn(self.n_syllables, self.syllable_len, |i, _| {
            if i == syllable { 1.0 } else { 0.0 }
        })
    }
}

/// Integrates a velocity trace into a path: `path[s] = start + Σ_{s' <= s} v[s']`,
/// i.e. the position at time `t = s + 1` (the start itself is not included).
///
/// `velocity` is `T×2` (a row per step, as [`Trial::targets`] returns).
/// [`TaskError::Shape`] if it does not have 2 columns. Non-finite values
/// propagate into the path (a diverged run's path is NaN, not an error).
///
/// ```
/// use faer::mat;
/// let v = mat![[0.5, 0.0], [0.5, 1.0]];
/// let path = rnn_tasks::integrate_velocity(v.as_ref(), [1.0, 1.0])?;
/// assert_eq!(path, vec![[1.5, 1.0], [2.0, 2.0]]);
/// # Ok::<(), rnn_tasks::TaskError>(())
/// ```
pub fn integrate_velocity(velocity: MatRef<'_, f64>, start: [f64; 2]) -> Result<Vec<[f64; 2]>> {
    if velocity.ncols() != 2 {
        return Err(TaskError::Shape {
            what: "velocity trace",
            expected: "T x 2",
            rows: velocity.nrows(),
            cols: velocity.ncols(),
        });
    }
    integrate_velocity_by_step(velocity.transpose(), start)
}

/// [`integrate_velocity`] for a step-major `2×T` trace (as
/// [`Trial::targets_by_step`] returns). [`TaskError::Shape`] unless it has 2 rows.
pub fn integrate_velocity_by_step(
    velocity: MatRef<'_, f64>,
    start: [f64; 2],
) -> Result<Vec<[f64; 2]>> {
    if velocity.nrows() != 2 {
        return Err(TaskError::Shape {
            what: "velocity trace (step-major)",
            expected: "2 x T",
            rows: velocity.nrows(),
            cols: velocity.ncols(),
        });
    }
    let mut position = start;
    Ok((0..velocity.ncols())
        .map(|s| {
            position[0] += velocity[(0, s)];
            position[1] += velocity[(1, s)];
            position
        })
        .collect())
}

/// Configuration of the reach task.
///
/// ```
/// use rnn_tasks::ReachConfig;
/// let config = ReachConfig { box_half_width: 3.0, ..ReachConfig::default() };
/// config.validate()?;
/// # Ok::<(), rnn_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReachConfig {
    /// Syllable shape (`K = 4`, `D = 200`, `M = 100`, `L = 1`).
    pub shape: SyllableShape,
    /// Half-width `b` of the box `[-b, b]²` that the ideal cursor must stay
    /// in; finite, `>= L`. Default 2.
    pub box_half_width: f64,
    /// Exclude a syllable equal to the previous one (**choice**, default
    /// true); needs `K >= 2`.
    pub exclude_repeats: bool,
    /// Start of the ideal cursor; finite and inside the box. Default `(0, 0)`
    /// (**choice**).
    pub start: [f64; 2],
    /// `h(0)` of the first trial: every unit at this value (later trials
    /// carry over). Default 0 (**choice**: a silent start).
    pub first_initial_value: f64,
}

impl Default for ReachConfig {
    fn default() -> Self {
        Self {
            shape: SyllableShape::default(),
            box_half_width: 2.0,
            exclude_repeats: true,
            start: [0.0, 0.0],
            first_initial_value: 0.0,
        }
    }
}

impl ReachConfig {
    /// Checks every field ([`SyllableShape::validate`] first), then
    /// [`TaskError::NonFinite`] / [`TaskError::NonPositive`] /
    /// [`TaskError::BoxTooSmall`] for the box,
    /// [`TaskError::TooFewSyllables`] for `K = 1` with repeats excluded,
    /// [`TaskError::NonFinite`] / [`TaskError::StartOutsideBox`] for the
    /// start, [`TaskError::NonFinite`] for `first_initial_value`.
    pub fn validate(&self) -> Result<()> {
        self.shape.validate()?;
        positive("box_half_width", self.box_half_width)?;
        if self.box_half_width < self.shape.reach_length {
            return Err(TaskError::BoxTooSmall {
                half_width: self.box_half_width,
                reach_length: self.shape.reach_length,
            });
        }
        if self.exclude_repeats && self.shape.n_syllables < 2 {
            return Err(TaskError::TooFewSyllables {
                n_syllables: self.shape.n_syllables,
            });
        }
        finite("start[0]", self.start[0])?;
        finite("start[1]", self.start[1])?;
        if !in_box(self.start, self.box_half_width) {
            return Err(TaskError::StartOutsideBox {
                x: self.start[0],
                y: self.start[1],
                half_width: self.box_half_width,
            });
        }
        finite("first_initial_value", self.first_initial_value)?;
        Ok(())
    }
}

fn in_box(p: [f64; 2], half_width: f64) -> bool {
    let limit = half_width + BOX_TOLERANCE;
    p[0].abs() <= limit && p[1].abs() <= limit
}

/// The reach-syllable task (docs/spec/TASKS.md §3): a continuous run of syllables.
///
/// [`Task::generate`] draws the next syllable; a sequencing loop that picks
/// syllables itself calls [`advance`](Self::advance) instead (same bookkeeping).
///
/// ```
/// use rnn_core::{InitialState, TrialSource, seeded};
/// use rnn_tasks::{ReachConfig, ReachSyllables, Task};
///
/// let mut task = ReachSyllables::new(ReachConfig::default())?;
/// assert_eq!((task.n_inputs(), task.n_outputs()), (4, 2));
/// let mut rng = seeded(5);
/// let first = task.next_trial(&mut rng)?;
/// assert_eq!(first.initial_state(), &InitialState::Constant(0.0));
/// let k = task.last_syllable().unwrap();
/// assert_eq!(first.input_at(0)[k], 1.0);
/// let second = task.next_trial(&mut rng)?;
/// assert_eq!(second.initial_state(), &InitialState::CarryOver);
/// assert_ne!(task.last_syllable(), Some(k)); // no repeats
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReachSyllables {
    config: ReachConfig,
    position: [f64; 2],
    last_syllable: Option<usize>,
    trials: usize,
}

impl ReachSyllables {
    /// The task for a validated `config`, with the ideal cursor at `config.start`.
    pub fn new(config: ReachConfig) -> Result<Self> {
        config.validate()?;
        let position = config.start;
        Ok(Self {
            config,
            position,
            last_syllable: None,
            trials: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ReachConfig {
        &self.config
    }

    /// The syllable shape.
    pub fn shape(&self) -> &SyllableShape {
        &self.config.shape
    }

    /// The ideal cursor: start + the target displacements of every syllable so far.
    pub fn ideal_position(&self) -> [f64; 2] {
        self.position
    }

    /// The syllable of the last trial (the "previous syllable" of the next), if any.
    pub fn last_syllable(&self) -> Option<usize> {
        self.last_syllable
    }

    /// Number of trials handed out since construction or [`Task::reset`].
    pub fn trial_count(&self) -> usize {
        self.trials
    }

    /// Whether syllable `k` keeps the ideal cursor in the box (with
    /// [`BOX_TOLERANCE`]); false for `k >= K`.
    pub fn keeps_in_box(&self, syllable: usize) -> bool {
        if syllable >= self.config.shape.n_syllables {
            return false;
        }
        let d = self.config.shape.displacement(syllable);
        in_box(
            [self.position[0] + d[0], self.position[1] + d[1]],
            self.config.box_half_width,
        )
    }

    /// The syllables that keep the ideal cursor in the box, ascending
    /// (repeats allowed: the sequencing loop's candidate set).
    pub fn in_box_syllables(&self) -> Vec<usize> {
        (0..self.config.shape.n_syllables)
            .filter(|&k| self.keeps_in_box(k))
            .collect()
    }

    /// The syllables [`Task::generate`] draws from: in the box and, if
    /// `exclude_repeats`, different from [`last_syllable`](Self::last_syllable).
    pub fn allowed_syllables(&self) -> Vec<usize> {
        let previous = if self.config.exclude_repeats {
            self.last_syllable
        } else {
            None
        };
        (0..self.config.shape.n_syllables)
            .filter(|&k| Some(k) != previous && self.keeps_in_box(k))
            .collect()
    }

    /// The trial of syllable `k` with a given initial-state rule; pure (does
    /// not touch the task's state). [`TaskError::SyllableOutOfRange`] for `k >= K`.
    pub fn syllable_trial(&self, syllable: usize, initial_state: InitialState) -> Result<Trial> {
        let shape = &self.config.shape;
        let targets = shape.syllable_velocity(syllable)?;
        let inputs = shape.syllable_input(syllable);
        Ok(Trial::from_columns(inputs, targets, None, initial_state)?)
    }

    /// Plays syllable `k` next: returns its trial (`h(0)` constant for the
    /// first trial, [`InitialState::CarryOver`] after) and records it (ideal
    /// cursor moves by `L d_k`, `k` becomes the previous syllable).
    ///
    /// Only `k < K` is enforced ([`TaskError::SyllableOutOfRange`]); the box
    /// and the no-repeat rule are the caller's policy (see
    /// [`in_box_syllables`](Self::in_box_syllables) and
    /// [`allowed_syllables`](Self::allowed_syllables)).
    pub fn advance(&mut self, syllable: usize) -> Result<Trial> {
        let initial_state = if self.trials == 0 {
            InitialState::Constant(self.config.first_initial_value)
        } else {
            InitialState::CarryOver
        };
        let trial = self.syllable_trial(syllable, initial_state)?;
        let d = self.config.shape.displacement(syllable);
        self.position = [self.position[0] + d[0], self.position[1] + d[1]];
        self.last_syllable = Some(syllable);
        self.trials += 1;
        Ok(trial)
    }
}

impl Task for ReachSyllables {
    fn n_inputs(&self) -> usize {
        self.config.shape.n_syllables
    }

    fn n_outputs(&self) -> usize {
        2
    }

    /// Draws the next syllable uniformly from
    /// [`allowed_syllables`](ReachSyllables::allowed_syllables) (one draw) and
    /// [`advance`](ReachSyllables::advance)s. [`TaskError::NoValidSyllable`]
    /// if none is allowed (impossible for `K = 4` with `b >= L`).
    fn generate(&mut self, rng: &mut SeededRng) -> Result<Trial> {
        let allowed = self.allowed_syllables();
        if allowed.is_empty() {
            return Err(TaskError::NoValidSyllable {
                x: self.position[0],
                y: self.position[1],
                previous: self.last_syllable,
            });
        }
        let syllable = allowed[rng.random_range(0..allowed.len())];
        self.advance(syllable)
    }

    /// Back to the start: ideal cursor at `config.start`, no previous
    /// syllable, the next trial is a "first" trial again.
    fn reset(&mut self) {
        self.position = self.config.start;
        self.last_syllable = None;
        self.trials = 0;
    }
}

crate::impl_trial_source!(ReachSyllables);
