//! The error type of `rnn-tasks`.

use rnn_core::CoreError;

/// Everything that can go wrong in `rnn-tasks`. Every public fallible function returns it.
///
/// Invalid configurations are reported by the first violated rule, each with
/// its own variant so callers (and tests) can match on the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// An error from `rnn-core` (e.g. building a [`rnn_core::Trial`]).
    #[error(transparent)]
    Core(#[from] CoreError),

    /// A configuration value that must be finite is NaN or infinite.
    #[error("invalid config: `{field}` = {value} is not finite")]
    NonFinite {
        /// The offending field.
        field: &'static str,
        /// The value as given.
        value: f64,
    },

    /// A configuration value that must be strictly positive is not
    /// (e.g. the pulse width `sigma <= 0`).
    #[error("invalid config: `{field}` = {value} must be > 0")]
    NonPositive {
        /// The offending field.
        field: &'static str,
        /// The value as given.
        value: f64,
    },

    /// A length or count that must be at least 1 is 0 (e.g. the period `T = 0`).
    #[error("invalid config: `{field}` must be at least 1, got 0")]
    Zero {
        /// The offending field.
        field: &'static str,
    },

    /// A configuration value is out of its valid range (a rule not covered
    /// by a more specific variant).
    #[error("invalid config: `{field}` = {value}: {reason}")]
    OutOfRange {
        /// The offending field.
        field: &'static str,
        /// The value as given, rendered.
        value: String,
        /// What a valid value looks like.
        reason: &'static str,
    },

    /// The delay range `[min, max]` is empty (`min > max`).
    #[error("empty delay range: T_min = {min} > T_max = {max}")]
    EmptyDelayRange {
        /// `T_min` in steps.
        min: usize,
        /// `T_max` in steps.
        max: usize,
    },

    /// The longest delay does not fit in the trial: the target peak
    /// `t_ready + 2 T_max` (plus the pulse's tail) would fall after the last step.
    #[error(
        "delay range too long for the trial: T_max = {max_delay} needs at least {needed} steps, the trial has {trial_len}"
    )]
    DelayRangeTooLong {
        /// `T_max` in steps.
        max_delay: usize,
        /// The configured trial length `T`.
        trial_len: usize,
        /// The minimal trial length for `T_max`.
        needed: usize,
    },

    /// A delay asked for explicitly is outside the configured range.
    #[error("delay {delay} is outside the configured range [{min}, {max}]")]
    DelayOutOfRange {
        /// The delay asked for.
        delay: usize,
        /// `T_min`.
        min: usize,
        /// `T_max`.
        max: usize,
    },

    /// The number of syllables `K` is 0.
    #[error("invalid config: the number of syllables K must be at least 1")]
    NoSyllables,

    /// Repeats are excluded but there is only one syllable, so no trial after
    /// the first could be drawn.
    #[error("invalid config: excluding repeats needs at least 2 syllables, K = {n_syllables}")]
    TooFewSyllables {
        /// `K`.
        n_syllables: usize,
    },

    /// A syllable sequence is empty.
    #[error("invalid config: the syllable sequence is empty")]
    EmptySequence,

    /// A syllable index is not below `K`.
    #[error("syllable {syllable} is out of range: K = {n_syllables} (at position {position:?})")]
    SyllableOutOfRange {
        /// The offending syllable index.
        syllable: usize,
        /// `K`.
        n_syllables: usize,
        /// Its position in a sequence, if it came from one.
        position: Option<usize>,
    },

    /// The reach phase `M` is longer than the syllable `D`, or shorter than 2
    /// steps (with `M = 1` the raised-cosine profile is identically zero).
    #[error(
        "invalid config: reach phase M = {reach_len} must satisfy 2 <= M <= D = {syllable_len}"
    )]
    BadReachPhase {
        /// `M`.
        reach_len: usize,
        /// `D`.
        syllable_len: usize,
    },

    /// The box is smaller than one reach: from its centre some syllable would
    /// already leave it.
    #[error(
        "invalid config: box half-width {half_width} is smaller than the reach length {reach_length}"
    )]
    BoxTooSmall {
        /// Half-width `b` of the box `[-b, b]^2`.
        half_width: f64,
        /// Length of one reach.
        reach_length: f64,
    },

    /// The ideal cursor's start position is outside the box.
    #[error(
        "invalid config: start position ({x}, {y}) is outside the box [-{half_width}, {half_width}]^2"
    )]
    StartOutsideBox {
        /// Start `x`.
        x: f64,
        /// Start `y`.
        y: f64,
        /// Half-width of the box.
        half_width: f64,
    },

    /// No syllable keeps the ideal cursor in the box (and differs from the
    /// previous one). Cannot happen for `K = 4` with a box at least one reach
    /// wide; possible for other `K` where the reachable positions are not a lattice.
    #[error(
        "no syllable keeps the ideal cursor at ({x}, {y}) in the box (previous syllable {previous:?})"
    )]
    NoValidSyllable {
        /// Ideal cursor `x`.
        x: f64,
        /// Ideal cursor `y`.
        y: f64,
        /// The previous syllable.
        previous: Option<usize>,
    },

    /// A matrix argument has the wrong shape.
    #[error("shape mismatch for {what}: expected {expected}, got {rows}x{cols}")]
    Shape {
        /// What was being checked.
        what: &'static str,
        /// The expected shape, in words.
        expected: &'static str,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
    },

    /// A trace (e.g. a network output) holds NaN or infinity.
    #[error("non-finite value in {what} at index {index}")]
    NonFiniteTrace {
        /// What was being read.
        what: &'static str,
        /// Zero-based index of the first offending entry.
        index: usize,
    },

    /// An output trace has no step after `t_set`, so no interval can be read.
    #[error("output trace of {len} steps has no step after t_set = {t_set}")]
    NoStepsAfterSet {
        /// `t_set`.
        t_set: usize,
        /// Length of the trace.
        len: usize,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = TaskError> = std::result::Result<T, E>;

/// Lets a task's error cross the [`rnn_core::TrialSource`] seam, whose
/// `next_trial` returns [`CoreError`].
///
/// [`TaskError::Core`] unwraps to the inner error; any other variant is boxed
/// whole into [`CoreError::TrialSource`], so a caller can downcast the
/// source back to the [`TaskError`].
impl From<TaskError> for CoreError {
    fn from(err: TaskError) -> Self {
        match err {
            TaskError::Core(inner) => inner,
            // Boxed whole, so callers can downcast back to the TaskError.
            other => CoreError::TrialSource(Box::new(other)),
        }
    }
}

// ---- validation helpers shared by the task configs ----

pub(crate) fn finite(field: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(TaskError::NonFinite { field, value })
    }
}

pub(crate) fn positive(field: &'static str, value: f64) -> Result<()> {
    finite(field, value)?;
    if value > 0.0 {
        Ok(())
    } else {
        Err(TaskError::NonPositive { field, value })
    }
}

pub(crate) fn nonzero(field: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        Err(TaskError::Zero { field })
    } else {
        Ok(())
    }
}
