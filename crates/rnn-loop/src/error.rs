//! The error type of `rnn-loop`.

use rnn_core::CoreError;
use rnn_learn::LearnError;
use rnn_tasks::TaskError;

/// Everything that can go wrong in `rnn-loop`. Every public fallible function returns it.
///
/// Invalid configurations are reported by the first violated rule (in the
/// order of [`LoopConfig::validate`](crate::LoopConfig::validate)), each with
/// its own variant so callers and tests can match on the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopError {
    /// An error from `rnn-core` (running the frozen network, a bad state).
    #[error(transparent)]
    Core(#[from] CoreError),

    /// An error from `rnn-tasks` (an invalid syllable shape or box, ...).
    #[error(transparent)]
    Task(#[from] TaskError),

    /// An error from `rnn-learn` (pre-training the syllables).
    #[error(transparent)]
    Learn(#[from] LearnError),

    /// The target sequence is empty.
    #[error("invalid config: the target sequence is empty")]
    EmptyTarget,

    /// A target syllable is not below `K`.
    #[error("target syllable {syllable} at position {position} is out of range: K = {n_syllables}")]
    TargetSyllableOutOfRange {
        /// The offending syllable.
        syllable: usize,
        /// Its index in the target.
        position: usize,
        /// `K`.
        n_syllables: usize,
    },

    /// In the (cyclic) target, a syllable is followed by two different
    /// syllables. The gate sees only the RNN state at the end of the current
    /// syllable, which depends (in a trained network) on that syllable and
    /// not on where in the sequence it occurred, so it cannot learn such a
    /// target.
    #[error(
        "target transitions are not a function: syllable {syllable} is followed by {first} (position {first_position}) and by {second} (position {second_position})"
    )]
    AmbiguousTransition {
        /// The syllable with two successors.
        syllable: usize,
        /// Its first successor in the target.
        first: usize,
        /// Index in the target of the first successor (cyclic: 0 for the wrap-around).
        first_position: usize,
        /// A different successor found later.
        second: usize,
        /// Index in the target of the second successor.
        second_position: usize,
    },

    /// Repeats are excluded from the gate's candidates but the (cyclic)
    /// target has a syllable followed by itself.
    #[error(
        "invalid config: repeats are excluded but target syllable {syllable} at position {position} is followed by itself"
    )]
    RepeatInTarget {
        /// The repeated syllable.
        syllable: usize,
        /// Its (first) position in the target.
        position: usize,
    },

    /// Playing the target once from the start moves the ideal cursor out of
    /// the box, so the loop could never reproduce it.
    #[error(
        "the target leaves the box: after syllable {position} the ideal cursor is at ({x}, {y}), outside [-{half_width}, {half_width}]^2"
    )]
    TargetLeavesBox {
        /// Index in the target of the syllable that leaves the box.
        position: usize,
        /// Ideal cursor `x` after it.
        x: f64,
        /// Ideal cursor `y` after it.
        y: f64,
        /// Half-width of the box.
        half_width: f64,
    },

    /// A probability (`p_explore`) is outside `[0, 1]` or NaN.
    #[error("invalid config: `{field}` = {value} must be a probability in [0, 1]")]
    InvalidProbability {
        /// The offending field.
        field: &'static str,
        /// The value as given.
        value: f64,
    },

    /// The striatal learning rate `eta_s` is not finite and strictly positive.
    #[error("invalid config: eta_s = {value} must be finite and > 0")]
    InvalidLearningRate {
        /// The value as given.
        value: f64,
    },

    /// Another configuration value is out of its valid range.
    #[error("invalid config: `{field}` = {value}: {reason}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// The value as given, rendered.
        value: String,
        /// What a valid value looks like.
        reason: &'static str,
    },

    /// The network does not fit the loop: it needs `N_x = K` tonic inputs
    /// and `N_y = 2` outputs (the cursor velocity).
    #[error("network shape mismatch: {what} is {found}, the loop needs {expected}")]
    NetworkShape {
        /// `"N_x (inputs)"` or `"N_y (outputs)"`.
        what: &'static str,
        /// What the loop needs (`K` or 2).
        expected: usize,
        /// What the network has.
        found: usize,
    },

    /// A striatal weight matrix given to
    /// [`Sequencer::set_striatum`](crate::Sequencer::set_striatum) is not
    /// `K×N` or holds a non-finite entry.
    #[error("striatal weights W_s must be {expected_rows}x{expected_cols} and finite, got {rows}x{cols}{}", if *.finite { "" } else { " with a non-finite entry" })]
    StriatumShape {
        /// `K`.
        expected_rows: usize,
        /// `N`.
        expected_cols: usize,
        /// Rows given.
        rows: usize,
        /// Columns given.
        cols: usize,
        /// Whether every entry is finite.
        finite: bool,
    },

    /// No syllable keeps the ideal cursor in the box (impossible for `K = 4`
    /// with a box at least one reach wide).
    #[error("no syllable keeps the ideal cursor at ({x}, {y}) in the box")]
    NoValidSyllable {
        /// Ideal cursor `x`.
        x: f64,
        /// Ideal cursor `y`.
        y: f64,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = LoopError> = std::result::Result<T, E>;

pub(crate) fn invalid(
    field: &'static str,
    value: impl std::fmt::Debug,
    reason: &'static str,
) -> LoopError {
    LoopError::InvalidConfig {
        field,
        value: format!("{value:?}"),
        reason,
    }
}
