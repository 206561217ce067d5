//! The loop's configuration ([`LoopConfig`]) and the target's transition map
//! ([`TargetTransitions`]).

use rnn_tasks::{ReachConfig, ReachSyllables, SyllableShape};
use serde::{Deserialize, Serialize};

use crate::error::{LoopError, Result, invalid};

/// Configuration of the sequencing loop (docs/spec/TASKS.md §5).
///
/// Every value the spec marks **(choice)** is a field here, with the spec's
/// value as the default. The syllable shape, the box and the cursor's start
/// must be those the network was trained with (docs/spec/TASKS.md §3);
/// [`LoopConfig::reach_config`] gives the matching [`ReachConfig`].
///
/// ```
/// use rnn_loop::LoopConfig;
/// let config = LoopConfig { p_explore: 0.2, seed: 3, ..LoopConfig::default() };
/// config.validate()?;
/// assert_eq!(config.target, vec![0, 1, 2, 3, 0, 1, 2, 3]);
/// # Ok::<(), rnn_loop::LoopError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopConfig {
    /// Syllable shape (`K = 4`, `D = 200`, `M = 100`, `L = 1`), as in training.
    pub shape: SyllableShape,
    /// Half-width `b` of the box `[-b, b]²` the *ideal* cursor must stay in;
    /// finite, `>= L`. Default 2.
    pub box_half_width: f64,
    /// Start of the ideal and of the produced cursor; inside the box.
    /// Default `(0, 0)` (**choice**).
    pub start: [f64; 2],
    /// The target sequence, read cyclically (its last syllable is followed
    /// by its first). Non-empty, every entry `< K`, every syllable with one
    /// successor only, and playing it once from `start` keeps the ideal
    /// cursor in the box. Default `[0, 1, 2, 3, 0, 1, 2, 3]` (**choice**: two
    /// laps around a square).
    pub target: Vec<usize>,
    /// Striatal learning rate `eta_s`; finite, `> 0`. Default 0.01
    /// (**choice**: the paper gives none).
    pub eta_s: f64,
    /// Probability `p_explore` that the gate picks a uniformly random
    /// in-box syllable instead of the argmax; in `[0, 1]`. Default 0.1.
    pub p_explore: f64,
    /// Standard deviation of the initial striatal weights,
    /// `W_s ~ N(0, s²)`; finite, `>= 0`. Default 0.01 (**choice**).
    pub striatum_init_std: f64,
    /// Exclude the current syllable from the gate's candidates (no `k → k`
    /// transitions). Default false (**choice**): docs/spec/TASKS.md §5 restricts the
    /// gate by the box only; §3's syllable training excludes repeats, so a
    /// trained network never practised them. With it on, a target with a
    /// repeat is refused ([`LoopError::RepeatInTarget`]).
    pub exclude_repeats: bool,
    /// `h(0)` of the first training syllable and of the evaluation's
    /// warm-up: every unit at this value; finite. Default 0.
    pub initial_value: f64,
    /// Number of transitions [`Sequencer::train`](crate::Sequencer::train)
    /// runs. Default 10,000 (the spec's).
    pub n_transitions: usize,
    /// Transitions per window of the training history; `>= 1`. Default 100.
    pub window: usize,
    /// Seed of the generator when none is passed in
    /// ([`Sequencer::new`](crate::Sequencer::new)).
    pub seed: u64,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            shape: SyllableShape::default(),
            box_half_width: 2.0,
            start: [0.0, 0.0],
            target: vec![0, 1, 2, 3, 0, 1, 2, 3],
            eta_s: 0.01,
            p_explore: 0.1,
            striatum_init_std: 0.01,
            exclude_repeats: false,
            initial_value: 0.0,
            n_transitions: 10_000,
            window: 100,
            seed: 0,
        }
    }
}

impl LoopConfig {
    /// The reach-task configuration with this loop's shape, box and start:
    /// the one to train the syllables with (docs/spec/TASKS.md §3; repeats excluded
    /// there, as the spec chooses) and the one whose box rule the loop uses.
    pub fn reach_config(&self) -> ReachConfig {
        ReachConfig {
            shape: self.shape.clone(),
            box_half_width: self.box_half_width,
            exclude_repeats: self.shape.n_syllables >= 2,
            start: self.start,
            first_initial_value: self.initial_value,
        }
    }

    /// The bookkeeper of the ideal cursor: the reach task whose
    /// [`allowed_syllables`](ReachSyllables::allowed_syllables) are the
    /// gate's candidates (in the box; not the current syllable if
    /// `exclude_repeats`).
    pub(crate) fn bookkeeper(&self) -> Result<ReachSyllables> {
        Ok(ReachSyllables::new(ReachConfig {
            exclude_repeats: self.exclude_repeats,
            ..self.reach_config()
        })?)
    }

    /// Checks every field and returns the first violation:
    ///
    /// 1. shape, box, start and `initial_value` by
    ///    [`ReachConfig::validate`] ([`LoopError::Task`]);
    /// 2. the target: [`LoopError::EmptyTarget`],
    ///    [`LoopError::TargetSyllableOutOfRange`],
    ///    [`LoopError::AmbiguousTransition`], [`LoopError::RepeatInTarget`]
    ///    (with `exclude_repeats`), [`LoopError::TargetLeavesBox`];
    /// 3. [`LoopError::InvalidProbability`] for `p_explore`;
    /// 4. [`LoopError::InvalidLearningRate`] for `eta_s`;
    /// 5. [`LoopError::InvalidConfig`] for `striatum_init_std` and `window`.
    pub fn validate(&self) -> Result<()> {
        self.bookkeeper()?;
        let transitions = TargetTransitions::new(&self.target, self.shape.n_syllables)?;
        if self.exclude_repeats
            && let Some(position) = (0..self.target.len())
                .find(|&i| transitions.is_target(self.target[i], self.target[i]))
        {
            return Err(LoopError::RepeatInTarget {
                syllable: self.target[position],
                position,
            });
        }
        self.check_target_in_box()?;
        if !(0.0..=1.0).contains(&self.p_explore) {
            return Err(LoopError::InvalidProbability {
                field: "p_explore",
                value: self.p_explore,
            });
        }
        if !self.eta_s.is_finite() || self.eta_s <= 0.0 {
            return Err(LoopError::InvalidLearningRate { value: self.eta_s });
        }
        if !self.striatum_init_std.is_finite() || self.striatum_init_std < 0.0 {
            return Err(invalid(
                "striatum_init_std",
                self.striatum_init_std,
                "must be finite and >= 0",
            ));
        }
        if self.window == 0 {
            return Err(invalid("window", 0, "must be at least 1"));
        }
        Ok(())
    }

    fn check_target_in_box(&self) -> Result<()> {
        let mut task = self.bookkeeper()?;
        for (position, &syllable) in self.target.iter().enumerate() {
            if !task.keeps_in_box(syllable) {
                let d = self.shape.displacement(syllable);
                let p = task.ideal_position();
                return Err(LoopError::TargetLeavesBox {
                    position,
                    x: p[0] + d[0],
                    y: p[1] + d[1],
                    half_width: self.box_half_width,
                });
            }
            task.advance(syllable)?;
        }
        Ok(())
    }
}

/// The transitions of a cyclic target sequence: `target[i] → target[i+1]`
/// and `target[last] → target[0]`, as a map from a syllable to its unique
/// successor (`None` for syllables not in the target).
///
/// ```
/// use rnn_loop::TargetTransitions;
/// let map = TargetTransitions::new(&[0, 1, 2, 3, 0, 1, 2, 3], 4)?;
/// assert_eq!(map.successor(3), Some(0)); // the wrap-around
/// assert_eq!(map.reward(1, 2), 1.0);
/// assert_eq!(map.reward(1, 3), 0.0);
/// // 0 is followed by 1 and by 2: not learnable by the gated loop.
/// assert!(TargetTransitions::new(&[0, 1, 0, 2], 4).is_err());
/// # Ok::<(), rnn_loop::LoopError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetTransitions {
    successors: Vec<Option<usize>>,
}

impl TargetTransitions {
    /// The map of `target` over `n_syllables = K` syllables.
    ///
    /// [`LoopError::EmptyTarget`], [`LoopError::TargetSyllableOutOfRange`],
    /// or [`LoopError::AmbiguousTransition`] if a syllable has two different
    /// successors (the wrap-around included).
    pub fn new(target: &[usize], n_syllables: usize) -> Result<Self> {
        if target.is_empty() {
            return Err(LoopError::EmptyTarget);
        }
        if let Some((position, &syllable)) =
            target.iter().enumerate().find(|&(_, &k)| k >= n_syllables)
        {
            return Err(LoopError::TargetSyllableOutOfRange {
                syllable,
                position,
                n_syllables,
            });
        }
        let mut successors: Vec<Option<(usize, usize)>> = vec![None; n_syllables];
        for (i, &from) in target.iter().enumerate() {
            let next_position = (i + 1) % target.len();
            let to = target[next_position];
            match successors[from] {
                None => successors[from] = Some((to, next_position)),
                Some((first, first_position)) if first != to => {
                    return Err(LoopError::AmbiguousTransition {
                        syllable: from,
                        first,
                        first_position,
                        second: to,
                        second_position: next_position,
                    });
                }
                Some(_) => {}
            }
        }
        Ok(Self {
            successors: successors
                .into_iter()
                .map(|s| s.map(|(to, _)| to))
                .collect(),
        })
    }

    /// `K`.
    pub fn n_syllables(&self) -> usize {
        self.successors.len()
    }

    /// The target successor of `syllable`, if it occurs in the target
    /// (`None` also for `syllable >= K`).
    pub fn successor(&self, syllable: usize) -> Option<usize> {
        self.successors.get(syllable).copied().flatten()
    }

    /// Whether `from → to` is a transition of the target.
    pub fn is_target(&self, from: usize, to: usize) -> bool {
        self.successor(from) == Some(to)
    }

    /// The reward `R` of the transition `from → to`: 1 if it is the
    /// target's, else 0.
    pub fn reward(&self, from: usize, to: usize) -> f64 {
        if self.is_target(from, to) { 1.0 } else { 0.0 }
    }
}
