//! The [`Sequencer`]: a frozen RNN, the gated striatal readout, training and
//! greedy evaluation (docs/spec/TASKS.md §5).

use faer::{Mat, MatRef};
use rnn_core::{InitialState, Network, SeededRng, State, Trajectory, Trial, seeded};
use rnn_tasks::{ReachSyllables, integrate_velocity_by_step};
use serde::{Deserialize, Serialize};

use crate::config::{LoopConfig, TargetTransitions};
use crate::error::{LoopError, Result};
use crate::striatum::{gate, greedy, hebbian_update, random_striatum, striatal_activity};

/// One transition of the loop: the gate's decision at the end of syllable
/// `from`, its reward, and where the cursors are after playing `to`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// Index of the transition (0-based, counted since the sequencer was built).
    pub index: usize,
    /// The syllable that just ended (its end state was read).
    pub from: usize,
    /// The winner, played next.
    pub to: usize,
    /// Whether the exploration draw decided the winner.
    pub exploratory: bool,
    /// The reward `R` (1 for a target transition, else 0).
    pub reward: f64,
    /// Number of candidates the gate chose among (in the box; not `from`
    /// if repeats are excluded).
    pub n_candidates: usize,
    /// Whether the target successor of `from` was among the candidates
    /// (false when `from` has none, or when the box ruled it out after an
    /// earlier deviation moved the ideal cursor off the target's path).
    pub target_available: bool,
    /// The ideal cursor after syllable `to` (start + the sum of the commanded reaches).
    pub ideal_position: [f64; 2],
    /// The produced cursor after syllable `to` (start + the sum of the network's outputs).
    pub cursor: [f64; 2],
    /// Largest excursion of the produced cursor beyond the box during
    /// syllable `to`, `max_t max(0, |x(t)| - b, |y(t)| - b)`.
    pub cursor_excursion: f64,
    /// The loss `L` of syllable `to` against its target velocity.
    pub loss: f64,
}

/// Summary of one window of consecutive training transitions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowSummary {
    /// Index of the window's first transition within its training run.
    pub first: usize,
    /// Transitions in the window (the configured window, or fewer for a
    /// final partial window).
    pub len: usize,
    /// Fraction of the window's transitions rewarded (`R = 1`), exploratory
    /// ones included.
    pub reward_rate: f64,
    /// Exploratory choices in the window.
    pub exploratory: usize,
    /// Transition accuracy of the greedy policy: among the window's
    /// non-exploratory choices whose target successor was a candidate
    /// ([`Transition::target_available`]), the fraction that chose it;
    /// `None` if there was no such choice. (Choices where the box ruled the
    /// target successor out cannot be right and are not counted.)
    pub greedy_accuracy: Option<f64>,
    /// Mean loss of the window's syllables against their target velocity.
    pub mean_loss: f64,
}

/// What [`Sequencer::train`] recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoopHistory {
    /// The window length used for [`windows`](Self::windows).
    pub window: usize,
    /// Every transition, in order.
    pub transitions: Vec<Transition>,
    /// Per-window summaries: complete windows, then a final partial one if
    /// the number of transitions is not a multiple of the window.
    pub windows: Vec<WindowSummary>,
    /// Transitions rewarded in the run.
    pub n_rewarded: usize,
    /// Exploratory choices in the run.
    pub n_exploratory: usize,
    /// Largest excursion of the *produced* cursor beyond the box during the
    /// run, `max_t max(0, |x(t)| - b, |y(t)| - b)` (0 if it stayed inside).
    pub max_cursor_excursion: f64,
    /// Largest excursion of the *ideal* cursor beyond the box: 0 by
    /// construction (the gate never picks a syllable that leaves it) up to
    /// the rounding of its running sum, which the box test absorbs with
    /// [`rnn_tasks::BOX_TOLERANCE`]; reported raw, never clamped.
    pub max_ideal_excursion: f64,
}

impl LoopHistory {
    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.transitions.len()
    }

    /// True when no transition was run.
    pub fn is_empty(&self) -> bool {
        self.transitions.is_empty()
    }

    /// The reward rate of each window.
    pub fn reward_rates(&self) -> Vec<f64> {
        self.windows.iter().map(|w| w.reward_rate).collect()
    }

    /// Fraction of choices that were exploratory (0 for an empty run).
    pub fn exploration_rate(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            self.n_exploratory as f64 / self.len() as f64
        }
    }

    fn from_transitions(window: usize, half_width: f64, transitions: Vec<Transition>) -> Self {
        let window = window.max(1);
        let windows = transitions
            .chunks(window)
            .enumerate()
            .map(|(i, chunk)| {
                let len = chunk.len();
                let rewarded = chunk.iter().filter(|t| t.reward > 0.0).count();
                let exploratory = chunk.iter().filter(|t| t.exploratory).count();
                let greedy = chunk
                    .iter()
                    .filter(|t| !t.exploratory && t.target_available)
                    .count();
                let greedy_correct = chunk
                    .iter()
                    .filter(|t| !t.exploratory && t.target_available && t.reward > 0.0)
                    .count();
                WindowSummary {
                    first: i * window,
                    len,
                    reward_rate: rewarded as f64 / len as f64,
                    exploratory,
                    greedy_accuracy: (greedy > 0).then(|| greedy_correct as f64 / greedy as f64),
                    mean_loss: chunk.iter().map(|t| t.loss).sum::<f64>() / len as f64,
                }
            })
            .collect();
        Self {
            window,
            n_rewarded: transitions.iter().filter(|t| t.reward > 0.0).count(),
            n_exploratory: transitions.iter().filter(|t| t.exploratory).count(),
            max_cursor_excursion: transitions
                .iter()
                .map(|t| t.cursor_excursion)
                .fold(0.0, f64::max),
            max_ideal_excursion: transitions
                .iter()
                .map(|t| excursion(t.ideal_position, half_width))
                .fold(0.0, f64::max),
            windows,
            transitions,
        }
    }
}

/// The result of the greedy test ([`Sequencer::evaluate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The syllables played, `target.len()` of them; the first is the
    /// target's first (given), the others the gate's greedy choices.
    pub syllables: Vec<usize>,
    /// Whether `syllables` equals the target exactly.
    pub exact: bool,
    /// The produced cursor `p(t)`, `t = 1..T` with `T = target.len() · D`:
    /// `start` plus the running sum of the network's output.
    pub cursor_path: Vec<[f64; 2]>,
    /// The target path `p*(t)`: `start` plus the running sum of the target
    /// sequence's velocity (the same for every network).
    pub target_path: Vec<[f64; 2]>,
    /// The ideal cursor after each played syllable.
    pub ideal_positions: Vec<[f64; 2]>,
    /// `(1/T) Σ_t |p(t) - p*(t)|²`: the mean over steps of the squared
    /// Euclidean distance between produced and target position.
    pub path_error: f64,
    /// The same for a zero output (`p(t) = start`): the baseline
    /// (≈ 0.95 for the default target, docs/spec/TASKS.md §5).
    pub zero_output_error: f64,
    /// Largest excursion of the produced cursor beyond the box,
    /// `max_t max(0, |x(t)| - b, |y(t)| - b)`; 0 if it stayed inside.
    pub max_box_excursion: f64,
    /// Largest excursion of the ideal cursor beyond the box (0 by
    /// construction, up to rounding within [`rnn_tasks::BOX_TOLERANCE`]).
    pub max_ideal_excursion: f64,
}

/// The augmented circuit of Fig 4b: a frozen RNN whose tonic input is chosen,
/// syllable after syllable, by a gated striatal readout (docs/spec/TASKS.md §5; see the
/// crate documentation for the equations).
///
/// The sequencer always sits at the end of a syllable, where the gate is
/// open: construction plays the target's first syllable from
/// `h(0) = initial_value` (**choice**), and each [`step`](Self::step) chooses,
/// rewards, updates `W_s` and plays the winner. The RNN state `h` (and, in
/// readout-feedback mode, `y`) and the produced cursor carry over from one
/// syllable to the next, exactly as in the syllable training of docs/spec/TASKS.md §3.
pub struct Sequencer {
    net: Network,
    config: LoopConfig,
    transitions: TargetTransitions,
    striatum: Mat<f64>,
    rng: SeededRng,
    task: ReachSyllables,
    state: State,
    current: usize,
    cursor: [f64; 2],
    trajectory: Trajectory,
    z: Vec<f64>,
    transitions_done: usize,
    max_cursor_excursion: f64,
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("config", &self.config)
            .field("n_units", &self.net.n_units())
            .field("current", &self.current)
            .field("ideal_position", &self.task.ideal_position())
            .field("cursor", &self.cursor)
            .field("transitions_done", &self.transitions_done)
            .finish_non_exhaustive()
    }
}

impl Sequencer {
    /// A sequencer on the frozen `net`, with a generator seeded from
    /// `config.seed` (see [`with_rng`](Self::with_rng)).
    pub fn new(net: Network, config: LoopConfig) -> Result<Self> {
        let rng = seeded(config.seed);
        Self::with_rng(net, config, rng)
    }

    /// A sequencer on the frozen `net` with the generator `rng`, which
    /// makes every random draw of the loop: first `W_s ~ N(0, s²)` (`K×N`,
    /// column by column), then, per transition, the draws of
    /// [`gate`].
    ///
    /// Validates `config` ([`LoopConfig::validate`]) and the network
    /// ([`LoopError::NetworkShape`] unless `N_x = K` and `N_y = 2`), then
    /// plays the target's first syllable from `h(0) = initial_value`.
    pub fn with_rng(net: Network, config: LoopConfig, mut rng: SeededRng) -> Result<Self> {
        config.validate()?;
        check_network(&net, config.shape.n_syllables)?;
        let transitions = TargetTransitions::new(&config.target, config.shape.n_syllables)?;
        let striatum = random_striatum(
            config.shape.n_syllables,
            net.n_units(),
            config.striatum_init_std,
            &mut rng,
        );
        let mut task = config.bookkeeper()?;
        let first = config.target[0];
        let trial = task.advance(first)?;
        let state = State {
            h: vec![config.initial_value; net.n_units()],
            y: vec![0.0; net.n_outputs()],
        };
        let trajectory = Trajectory::zeros(&net, config.shape.syllable_len);
        let mut sequencer = Self {
            z: vec![0.0; config.shape.n_syllables],
            cursor: config.start,
            net,
            transitions,
            striatum,
            rng,
            task,
            state,
            current: first,
            trajectory,
            transitions_done: 0,
            max_cursor_excursion: 0.0,
            config,
        };
        let mut excursion = 0.0;
        play(
            &sequencer.net,
            &trial,
            &mut sequencer.state,
            &mut sequencer.trajectory,
            &mut sequencer.cursor,
            sequencer.config.box_half_width,
            &mut excursion,
            None,
        )?;
        sequencer.max_cursor_excursion = excursion;
        Ok(sequencer)
    }

    /// The frozen network.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The configuration.
    pub fn config(&self) -> &LoopConfig {
        &self.config
    }

    /// The target's transition map.
    pub fn target_transitions(&self) -> &TargetTransitions {
        &self.transitions
    }

    /// The striatal weights `W_s` (`K×N`).
    pub fn striatum(&self) -> MatRef<'_, f64> {
        self.striatum.as_ref()
    }

    /// Replaces `W_s` (e.g. to restore a trained readout).
    /// [`LoopError::StriatumShape`] unless it is `K×N` and finite.
    pub fn set_striatum(&mut self, w_s: Mat<f64>) -> Result<()> {
        let (k, n) = (self.config.shape.n_syllables, self.net.n_units());
        let finite = (0..w_s.ncols()).all(|j| (0..w_s.nrows()).all(|i| w_s[(i, j)].is_finite()));
        if w_s.nrows() != k || w_s.ncols() != n || !finite {
            return Err(LoopError::StriatumShape {
                expected_rows: k,
                expected_cols: n,
                rows: w_s.nrows(),
                cols: w_s.ncols(),
                finite,
            });
        }
        self.striatum = w_s;
        Ok(())
    }

    /// The syllable that just ended.
    pub fn current_syllable(&self) -> usize {
        self.current
    }

    /// The RNN state at the end of the current syllable (what the gate reads).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The ideal cursor: start + the sum of the commanded reaches so far.
    pub fn ideal_position(&self) -> [f64; 2] {
        self.task.ideal_position()
    }

    /// The produced cursor: start + the running sum of the network's output.
    pub fn cursor(&self) -> [f64; 2] {
        self.cursor
    }

    /// Largest excursion of the produced cursor beyond the box since
    /// construction (first syllable included).
    pub fn max_cursor_excursion(&self) -> f64 {
        self.max_cursor_excursion
    }

    /// Transitions run since construction.
    pub fn transitions_done(&self) -> usize {
        self.transitions_done
    }

    /// Consumes the sequencer, returning the network and `W_s`.
    pub fn into_parts(self) -> (Network, Mat<f64>) {
        (self.net, self.striatum)
    }

    /// One transition: read `z = W_s h(t_end)`, gate among the candidates
    /// (the in-box syllables, minus the current one if `exclude_repeats`), reward the transition, update the winner's row of `W_s`,
    /// then play the winner from the carried-over state.
    pub fn step(&mut self) -> Result<Transition> {
        striatal_activity(self.striatum.as_ref(), &self.state.h, &mut self.z);
        let candidates = self.task.allowed_syllables();
        let position = self.task.ideal_position();
        let choice = gate(&self.z, &candidates, self.config.p_explore, &mut self.rng).ok_or(
            LoopError::NoValidSyllable {
                x: position[0],
                y: position[1],
            },
        )?;
        let from = self.current;
        let target_available = self
            .transitions
            .successor(from)
            .is_some_and(|k| candidates.contains(&k));
        let reward = self.transitions.reward(from, choice.syllable);
        hebbian_update(
            &mut self.striatum,
            choice.syllable,
            reward,
            &self.state.h,
            self.config.eta_s,
        );
        let trial = self.task.advance(choice.syllable)?;
        let mut cursor_excursion = 0.0;
        let loss = play(
            &self.net,
            &trial,
            &mut self.state,
            &mut self.trajectory,
            &mut self.cursor,
            self.config.box_half_width,
            &mut cursor_excursion,
            None,
        )?;
        self.max_cursor_excursion = self.max_cursor_excursion.max(cursor_excursion);
        self.current = choice.syllable;
        let transition = Transition {
            index: self.transitions_done,
            from,
            to: choice.syllable,
            exploratory: choice.exploratory,
            reward,
            n_candidates: candidates.len(),
            target_available,
            ideal_position: self.task.ideal_position(),
            cursor: self.cursor,
            cursor_excursion,
            loss,
        };
        self.transitions_done += 1;
        Ok(transition)
    }

    /// Trains for `config.n_transitions` transitions (the spec's 10,000).
    pub fn train(&mut self) -> Result<LoopHistory> {
        self.train_for(self.config.n_transitions)
    }

    /// Trains for `n_transitions` transitions and returns their history
    /// (windows of `config.window` transitions).
    pub fn train_for(&mut self, n_transitions: usize) -> Result<LoopHistory> {
        let mut transitions = Vec::with_capacity(n_transitions);
        for _ in 0..n_transitions {
            transitions.push(self.step()?);
        }
        Ok(LoopHistory::from_transitions(
            self.config.window,
            self.config.box_half_width,
            transitions,
        ))
    }

    /// The greedy test of docs/spec/TASKS.md §5, with the current `W_s`; changes
    /// nothing (no learning, no random draw).
    ///
    /// 1. Warm-up: the target's **last** syllable is played once from
    ///    `h(0) = initial_value` (0 by default); only its end state is kept,
    ///    so the first syllable starts as it does inside the cycle.
    /// 2. The target's first syllable is played from that state, with both
    ///    cursors at `start`.
    /// 3. Then `target.len() - 1` times: the gate reads `z = W_s h(t_end)`
    ///    and picks the argmax among the candidates of [`step`](Self::step)
    ///    (`p_explore = 0`), which is played from the
    ///    carried-over state.
    ///
    /// The produced path is compared with the target sequence's path (see
    /// [`Evaluation::path_error`]), whatever syllables were chosen.
    pub fn evaluate(&self) -> Result<Evaluation> {
        let config = &self.config;
        let (n_syll, d, b) = (
            config.target.len(),
            config.shape.syllable_len,
            config.box_half_width,
        );
        let mut task = config.bookkeeper()?;
        let mut trajectory = Trajectory::zeros(&self.net, d);
        let mut state = State {
            h: vec![config.initial_value; self.net.n_units()],
            y: vec![0.0; self.net.n_outputs()],
        };
        let last = config.target[n_syll - 1];
        let warm_up = task.syllable_trial(last, InitialState::CarryOver)?;
        let mut scratch_cursor = config.start;
        let mut scratch_excursion = 0.0;
        play(
            &self.net,
            &warm_up,
            &mut state,
            &mut trajectory,
            &mut scratch_cursor,
            b,
            &mut scratch_excursion,
            None,
        )?;

        let mut cursor = config.start;
        let mut cursor_path = Vec::with_capacity(n_syll * d);
        let mut max_box_excursion = 0.0;
        let mut syllables = Vec::with_capacity(n_syll);
        let mut ideal_positions = Vec::with_capacity(n_syll);
        let mut z = vec![0.0; config.shape.n_syllables];
        let mut next = config.target[0];
        for i in 0..n_syll {
            if i > 0 {
                striatal_activity(self.striatum.as_ref(), &state.h, &mut z);
                let candidates = task.allowed_syllables();
                let position = task.ideal_position();
                next = greedy(&z, &candidates).ok_or(LoopError::NoValidSyllable {
                    x: position[0],
                    y: position[1],
                })?;
            }
            let trial = task.advance(next)?;
            play(
                &self.net,
                &trial,
                &mut state,
                &mut trajectory,
                &mut cursor,
                b,
                &mut max_box_excursion,
                Some(&mut cursor_path),
            )?;
            syllables.push(next);
            ideal_positions.push(task.ideal_position());
        }

        let velocity = config.shape.sequence_velocity(&config.target)?;
        let target_path = integrate_velocity_by_step(velocity.as_ref(), config.start)?;
        let path_error = mean_squared_distance(&cursor_path, &target_path);
        let zero_path = vec![config.start; target_path.len()];
        let zero_output_error = mean_squared_distance(&zero_path, &target_path);
        let max_ideal_excursion = ideal_positions
            .iter()
            .map(|&p| excursion(p, b))
            .fold(0.0, f64::max);
        Ok(Evaluation {
            exact: syllables == config.target,
            syllables,
            cursor_path,
            target_path,
            ideal_positions,
            path_error,
            zero_output_error,
            max_box_excursion,
            max_ideal_excursion,
        })
    }
}

/// [`LoopError::NetworkShape`] unless `N_x = k` (one tonic input per
/// syllable) and `N_y = 2` (the cursor velocity).
pub(crate) fn check_network(net: &Network, k: usize) -> Result<()> {
    if net.n_inputs() != k {
        return Err(LoopError::NetworkShape {
            what: "N_x (inputs)",
            expected: k,
            found: net.n_inputs(),
        });
    }
    if net.n_outputs() != 2 {
        return Err(LoopError::NetworkShape {
            what: "N_y (outputs)",
            expected: 2,
            found: net.n_outputs(),
        });
    }
    Ok(())
}

/// `max(0, |x| - b, |y| - b)`: how far `p` is outside the box `[-b, b]²`
/// in the max norm.
pub fn excursion(p: [f64; 2], half_width: f64) -> f64 {
    (p[0].abs() - half_width)
        .max(p[1].abs() - half_width)
        .max(0.0)
}

/// `(1/T) Σ_t |a(t) - b(t)|²` over the common length (0 for empty paths).
pub fn mean_squared_distance(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    let len = a.len().min(b.len());
    if len == 0 {
        return 0.0;
    }
    a.iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2))
        .sum::<f64>()
        / len as f64
}

/// Plays one syllable from `state` (its own initial-state rule ignored),
/// leaving the final state in `state`, integrating the output into `cursor`
/// and raising `max_excursion`; pushes the positions into `path` if given
/// (callers reserve its capacity). Returns the syllable's loss.
#[allow(clippy::too_many_arguments)]
fn play(
    net: &Network,
    trial: &Trial,
    state: &mut State,
    trajectory: &mut Trajectory,
    cursor: &mut [f64; 2],
    half_width: f64,
    max_excursion: &mut f64,
    mut path: Option<&mut Vec<[f64; 2]>>,
) -> Result<f64> {
    net.run_from_into(trial, state, trajectory)?;
    let len = trajectory.len();
    state.h.copy_from_slice(trajectory.h_at(len));
    state.y.copy_from_slice(trajectory.y.col_as_slice(len - 1));
    for s in 0..len {
        cursor[0] += trajectory.y[(0, s)];
        cursor[1] += trajectory.y[(1, s)];
        *max_excursion = max_excursion.max(excursion(*cursor, half_width));
        if let Some(path) = path.as_deref_mut() {
            path.push(*cursor);
        }
    }
    Ok(trajectory.loss)
}
