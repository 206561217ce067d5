//! # rnn-loop
//!
//! The sequencing loop of Murray, "Local online learning in recurrent
//! networks with random feedback" (eLife 2019), Fig 4b, as specified in the
//! project's `docs/spec/TASKS.md` §5: a frozen RNN that has learned short reach
//! syllables (docs/spec/TASKS.md §3) is chained into a long sequence by a "striatum"
//! of `K` units that reads the RNN only at the end of each syllable and
//! chooses the next syllable's tonic input.
//!
//! ## The loop
//!
//! At the end `t_end` of the current syllable `c` (the gate is open only then):
//!
//! ```text
//! z    = W_s h(t_end)                         W_s: K×N, init N(0, 0.01²)
//! C    = { k : ideal + L d_k stays in [-b, b]² }    (and k != c if exclude_repeats)
//! next = uniform random k in C                with probability p_explore (0.1)
//!      = argmax_{k in C} z_k                  otherwise
//! R    = 1 if (c → next) is a transition of the target, else 0
//! dW_s = eta_s R onehot(next) h(t_end)^T      eta_s = 0.01
//! ```
//!
//! then syllable `next` is played: its one-hot tonic input (built by
//! [`rnn_tasks::ReachSyllables`], so it matches training exactly) drives the
//! frozen RNN for `D` steps from the carried-over state `h(t_end)`; the
//! produced cursor (start + the running sum of the network's velocity
//! output) carries over too. The *ideal* cursor is start + the sum of the
//! commanded reaches `L d_k`; the in-box rule uses it, never the produced
//! cursor, which drifts (docs/spec/TASKS.md §5 explains why).
//!
//! The target is read **cyclically**: its transitions are
//! `target[i] → target[i+1]` and `target[last] → target[0]`; each syllable
//! must have a single successor ([`TargetTransitions`]).
//!
//! ## The greedy test
//!
//! [`Sequencer::evaluate`]: `p_explore = 0`; the target's last syllable is
//! played once from `h = 0` as a warm-up; from its end state the target's
//! first syllable is played, then the gate chooses `target.len() - 1`
//! syllables greedily. Reported: the syllables (and whether they are
//! exactly the target), the produced cursor path `p(t)`, the target path
//! `p*(t)`, and the path error
//!
//! ```text
//! E = (1/T) Σ_{t=1..T} |p(t) - p*(t)|²        T = target.len() · D
//! ```
//!
//! (mean over steps of the squared Euclidean distance), with the zero-output
//! baseline and the largest excursion of the produced cursor beyond the box.
//!
//! ## Choices where the spec is silent
//!
//! - The target is cyclic (see above); a target whose single pass from
//!   `start` leaves the box is refused ([`LoopError::TargetLeavesBox`]);
//!   one whose lap does not close is allowed (the walls then cut it).
//! - Training starts by playing the target's first syllable from
//!   `h(0) = initial_value` (0) with both cursors at `start`; the gate first
//!   opens at its end.
//! - Repeats (`k → k`) are allowed candidates by default (only the box
//!   restricts the gate, as docs/spec/TASKS.md §5 states), unlike the syllable
//!   training of §3; [`LoopConfig::exclude_repeats`] removes them.
//! - Ties in the argmax go to the lowest syllable index. Random draws per
//!   transition: one `U[0, 1)` for the exploration decision, plus one
//!   uniform index if it explores ([`striatum::gate`]).
//! - The in-box test is `rnn-tasks`' ([`rnn_tasks::ReachSyllables::keeps_in_box`],
//!   with [`rnn_tasks::BOX_TOLERANCE`] for rounding in the ideal cursor's sum).
//!
//! ## Limitations
//!
//! The reward is positive-only and the update Hebbian, so nothing ever
//! weakens a row of `W_s`: when end-of-syllable states are strongly
//! correlated (a large overlap `h_a · h_b` against `|h_b|²`), a row grown
//! early by one rewarded transition can win the argmax at another
//! syllable's end too, and the wrong choice is never punished — the loop
//! locks into a wrong mapping that exploration alone does not undo. On
//! RFLO-trained networks this happened for some network seeds even at the
//! spec's budget (`N = 100`, 10,000 syllable trials, 10,000 transitions);
//! inspect [`LoopHistory::windows`] (the greedy accuracy) rather than
//! assuming success.
//!
//! ## Example
//!
//! ```
//! use rnn_core::{Network, NetworkConfig, seeded};
//! use rnn_loop::{LoopConfig, Sequencer};
//! use rnn_tasks::SyllableShape;
//!
//! // Short syllables keep the example fast; a real run uses the defaults.
//! let config = LoopConfig {
//!     shape: SyllableShape { syllable_len: 20, reach_len: 10, ..SyllableShape::default() },
//!     n_transitions: 200,
//!     ..LoopConfig::default()
//! };
//! let net = Network::random(&NetworkConfig::new(20, 4, 2), &mut seeded(1))?;
//! let mut sequencer = Sequencer::new(net, config)?;
//! let history = sequencer.train()?;
//! assert_eq!(history.len(), 200);
//! assert!(history.max_ideal_excursion <= rnn_tasks::BOX_TOLERANCE);
//! let test = sequencer.evaluate()?;
//! assert_eq!(test.syllables.len(), 8);
//! assert_eq!(test.cursor_path.len(), 8 * 20);
//! # Ok::<(), rnn_loop::LoopError>(())
//! ```

pub mod config;
pub mod error;
pub mod pretrain;
pub mod sequencer;
pub mod striatum;

pub use config::{LoopConfig, TargetTransitions};
pub use error::{LoopError, Result};
pub use pretrain::{PretrainConfig, pretrain_syllables};
pub use sequencer::{
    Evaluation, LoopHistory, Sequencer, Transition, WindowSummary, excursion, mean_squared_distance,
};
pub use striatum::{Choice, gate, greedy, hebbian_update, random_striatum, striatal_activity};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
