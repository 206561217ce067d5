//! Running a shard: grid points in parallel, checkpoints, resume.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rnn_core::{Network, NetworkConfig, State, TrialSource, seeded_stream};
use rnn_learn::{
    Bptt, Checkpoint, LearnError, LearningRates, LearningRule, LocalSymmetric, NonlocalRandom,
    Rflo, Rtrl, Trainer, TrainingConfig,
};
use rnn_tasks::{
    Periodic, PeriodicConfig, ReachConfig, ReachSyllables, ReadySetGo, ReadySetGoConfig,
    SequenceStart, SyllableShape, Task, WholeSequence, WholeSequenceConfig,
};

use super::csv::{self, Row, Status};
use super::error::SweepError;
use super::grid::{Point, RuleKind, Sweep, TaskKind};
use super::shard::ShardSpec;

/// Generator stream of the network draw (stream 0, `seeded(seed)`, is the
/// training trials').
const STREAM_NETWORK: u64 = 1;
/// Generator stream of the task's construction (whole-sequence `h(0)`).
const STREAM_TASK: u64 = 2;
/// Generator stream of the evaluation trials (initial and final loss).
const STREAM_EVAL: u64 = 3;

/// What `cargo xtask sweep run` does.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The sweep file.
    pub sweep_file: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Which shard.
    pub shard: ShardSpec,
    /// Checkpoint every this many trials.
    pub checkpoint_every: Option<usize>,
    /// Continue an interrupted run.
    pub resume: bool,
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// No progress lines.
    pub quiet: bool,
}

/// Artificial stops, to simulate a kill in tests. The default stops nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Start at most this many grid points (in this invocation); the others
    /// are left as if the process had been killed before reaching them.
    pub max_points: Option<usize>,
    /// Stop every grid point once it has done this many trials in total,
    /// without writing its row and without a checkpoint beyond the last
    /// regular one (as a kill between two checkpoints would).
    pub max_trials: Option<usize>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The shard's table.
    pub csv: PathBuf,
    /// Grid points run to the end in this invocation.
    pub ran: usize,
    /// Grid points already in the table (resume).
    pub skipped: usize,
    /// Grid points stopped by [`Limits`].
    pub interrupted: usize,
    /// Rows of the table with a failed status.
    pub diverged: usize,
}

/// Runs shard `options.shard` of the sweep file; see the module docs of `sweep`.
pub fn run_sweep(options: &RunOptions, limits: &Limits) -> Result<RunSummary, SweepError> {
    let sweep = Sweep::load(&options.sweep_file)?;
    if options.checkpoint_every == Some(0) {
        return Err(SweepError::Options(
            "--checkpoint-every must be at least 1".into(),
        ));
    }
    if options.threads == Some(0) {
        return Err(SweepError::Options("--threads must be at least 1".into()));
    }
    let points: Vec<Point> = sweep
        .points()
        .into_iter()
        .filter(|p| options.shard.contains(p.index))
        .collect();
    // Build every (task, N, T) once first: invalid sizes fail before any training.
    for p in &points {
        build_task(p).map_err(|reason| SweepError::Point {
            index: p.index,
            reason,
        })?;
    }

    let out = &options.out;
    std::fs::create_dir_all(out).map_err(|e| SweepError::io(out, e))?;
    check_sweep_copy(out, &sweep, options.resume)?;
    let csv_path = out.join(options.shard.file_name());
    let mut done: BTreeMap<usize, Row> = BTreeMap::new();
    if csv_path.exists() {
        if !options.resume {
            return Err(SweepError::Resume(format!(
                "{} exists: pass --resume to continue it, or remove it to start again",
                csv_path.display()
            )));
        }
        for row in csv::read(&csv_path)? {
            let expected = points.iter().find(|p| p.index == row.point.index);
            if expected != Some(&row.point) || row.trials != sweep.trials {
                return Err(SweepError::Resume(format!(
                    "{}: row {} does not belong to this sweep and shard ({}): \
                     was it written by another sweep file?",
                    csv_path.display(),
                    row.point.index,
                    options.shard
                )));
            }
            done.insert(row.point.index, row);
        }
    }
    let checkpoints = out.join("checkpoints");
    if options.checkpoint_every.is_some() {
        std::fs::create_dir_all(&checkpoints).map_err(|e| SweepError::io(&checkpoints, e))?;
    }
    let skipped = done.len();
    // Write the table now (header only on a fresh start) so a shard with no
    // finished point still leaves its file.
    csv::write(&csv_path, &done)?;

    let todo: Vec<Point> = points
        .into_iter()
        .filter(|p| !done.contains_key(&p.index))
        .collect();
    let total = todo.len();
    let table = Mutex::new(done);
    let started = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let interrupted = AtomicUsize::new(0);
    let ctx = PointContext {
        sweep: &sweep,
        checkpoints: &checkpoints,
        checkpoint_every: options.checkpoint_every,
        resume: options.resume,
        max_trials: limits.max_trials,
    };

    let work = || {
        todo.par_iter().try_for_each(|point| {
            if let Some(max) = limits.max_points
                && started.fetch_add(1, Ordering::SeqCst) >= max
            {
                interrupted.fetch_add(1, Ordering::SeqCst);
                return Ok(());
            }
            match run_point(point, &ctx)? {
                Some(row) => {
                    let mut rows = table.lock().unwrap_or_else(|e| e.into_inner());
                    rows.insert(point.index, row);
                    csv::write(&csv_path, &rows)?;
                    drop(rows);
                    remove_checkpoint(&checkpoints, point.index);
                    let k = finished.fetch_add(1, Ordering::SeqCst) + 1;
                    if !options.quiet {
                        eprintln!(
                            "[{k}/{total}] {point}: loss {:e} -> {:e} ({})",
                            row.initial_loss, row.final_loss, row.status
                        );
                    }
                }
                None => {
                    interrupted.fetch_add(1, Ordering::SeqCst);
                }
            }
            Ok::<(), SweepError>(())
        })
    };
    match options.threads {
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| SweepError::Options(format!("cannot start {threads} threads: {e}")))?
            .install(work)?,
        None => work()?,
    }

    let rows = table.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(RunSummary {
        csv: csv_path,
        ran: finished.into_inner(),
        skipped,
        interrupted: interrupted.into_inner(),
        diverged: rows.values().filter(|r| r.status.failed()).count(),
    })
}

/// `DIR/sweep.toml`: the canonical copy of the sweep. A folder holding
/// another sweep is refused; all shards write the same bytes.
fn check_sweep_copy(out: &Path, sweep: &Sweep, resume: bool) -> Result<(), SweepError> {
    let path = out.join("sweep.toml");
    let canonical = sweep.canonical();
    if path.exists() {
        let existing = Sweep::load(&path)?;
        if existing != *sweep {
            return Err(SweepError::Resume(format!(
                "{} holds another sweep ({}): use another --out folder",
                out.display(),
                path.display()
            )));
        }
        if resume {
            return Ok(());
        }
    }
    rnn_core::io::write_atomic(&path, canonical.as_bytes()).map_err(|e| SweepError::io(&path, e))
}

struct PointContext<'a> {
    sweep: &'a Sweep,
    checkpoints: &'a Path,
    checkpoint_every: Option<usize>,
    resume: bool,
    max_trials: Option<usize>,
}

fn checkpoint_paths(dir: &Path, index: usize) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{index}.ckpt")),
        dir.join(format!("{index}.point")),
    )
}

fn remove_checkpoint(dir: &Path, index: usize) {
    let (ckpt, label) = checkpoint_paths(dir, index);
    // Best effort: a leftover checkpoint of a finished point is never read
    // again (its row is in the table).
    let _ = std::fs::remove_file(ckpt);
    let _ = std::fs::remove_file(label);
}

/// The line identifying a grid point and its settings, stored next to its checkpoint.
fn point_label(point: &Point, sweep: &Sweep) -> String {
    format!(
        "{},{},{},{:e},{},{},{},{},{},{:e},{}\n",
        point.index,
        point.rule.name(),
        point.task.name(),
        point.eta,
        point.seed,
        point.n,
        point.t,
        sweep.trials,
        super::grid::schedule_name(sweep.schedule),
        sweep.tau,
        sweep.eval_trials
    )
}

/// A task instance for the grid point, with its sizes `(N_x, N_y)`.
fn build_task(point: &Point) -> Result<(Box<dyn TrialSource>, usize, usize), String> {
    let t = point.t;
    let err = |e: rnn_tasks::TaskError| {
        format!(
            "task {} with T = {t}, N = {}: {e}",
            point.task.name(),
            point.n
        )
    };
    let shape = || SyllableShape {
        syllable_len: t,
        reach_len: t / 2,
        ..SyllableShape::default()
    };
    Ok(match point.task {
        TaskKind::Periodic => {
            let task = Periodic::new(PeriodicConfig::with_period(t)).map_err(err)?;
            let sizes = (task.n_inputs(), task.n_outputs());
            (Box::new(task), sizes.0, sizes.1)
        }
        TaskKind::ReadySetGo => {
            let min = ReadySetGoConfig::default().min_delay.min(t);
            let task = ReadySetGo::new(ReadySetGoConfig::with_delays(min, t)).map_err(err)?;
            let sizes = (task.n_inputs(), task.n_outputs());
            (Box::new(task), sizes.0, sizes.1)
        }
        TaskKind::Reach => {
            let config = ReachConfig {
                shape: shape(),
                ..ReachConfig::default()
            };
            let task = ReachSyllables::new(config).map_err(err)?;
            let sizes = (task.n_inputs(), task.n_outputs());
            (Box::new(task), sizes.0, sizes.1)
        }
        TaskKind::WholeSequence => {
            let config = WholeSequenceConfig {
                shape: shape(),
                start: SequenceStart::Uniform {
                    n_units: point.n,
                    half_width: 1.0,
                },
                ..WholeSequenceConfig::default()
            };
            let task = WholeSequence::new(config, &mut seeded_stream(point.seed, STREAM_TASK))
                .map_err(err)?;
            let sizes = (task.n_inputs(), task.n_outputs());
            (Box::new(task), sizes.0, sizes.1)
        }
    })
}

/// Runs one grid point; `None` if stopped by [`Limits::max_trials`].
fn run_point(point: &Point, ctx: &PointContext<'_>) -> Result<Option<Row>, SweepError> {
    let rates = LearningRates::uniform(point.eta);
    let fail = |e: LearnError| SweepError::Point {
        index: point.index,
        reason: e.to_string(),
    };
    match point.rule {
        RuleKind::Rflo => train_point(Rflo::new(rates).map_err(fail)?, point, ctx),
        RuleKind::Bptt => train_point(Bptt::new(rates).map_err(fail)?, point, ctx),
        RuleKind::Rtrl => train_point(Rtrl::new(rates).map_err(fail)?, point, ctx),
        RuleKind::LocalSymmetric => {
            train_point(LocalSymmetric::new(rates).map_err(fail)?, point, ctx)
        }
        RuleKind::NonlocalRandom => {
            train_point(NonlocalRandom::new(rates).map_err(fail)?, point, ctx)
        }
    }
}

fn train_point<R: LearningRule>(
    rule: R,
    point: &Point,
    ctx: &PointContext<'_>,
) -> Result<Option<Row>, SweepError> {
    let sweep = ctx.sweep;
    let fail = |reason: String| SweepError::Point {
        index: point.index,
        reason,
    };
    let learn = |e: LearnError| fail(e.to_string());
    let core = |e: rnn_core::CoreError| fail(e.to_string());

    let (mut eval_source, nx, ny) = build_task(point).map_err(fail)?;
    let config = NetworkConfig::new(point.n, nx, ny).with_tau(sweep.tau);
    let initial =
        Network::random(&config, &mut seeded_stream(point.seed, STREAM_NETWORK)).map_err(core)?;
    let initial_loss = evaluate(&initial, eval_source.as_mut(), None, point.seed, sweep)
        .map_err(core)?
        .ok_or_else(|| fail("the initial network's loss is not finite".into()))?;

    let training = TrainingConfig::default()
        .with_n_trials(sweep.trials)
        .with_seed(point.seed)
        .with_schedule(sweep.schedule)
        .with_max_loss_ratio(None); // as before the bound existed
    let (mut source, _, _) = build_task(point).map_err(fail)?;
    let (ckpt_path, label_path) = checkpoint_paths(ctx.checkpoints, point.index);
    let label = point_label(point, sweep);
    let (mut trainer, mut net) = if ctx.resume && ckpt_path.exists() {
        let saved = std::fs::read_to_string(&label_path).unwrap_or_default();
        if saved != label {
            return Err(SweepError::Resume(format!(
                "checkpoint {} belongs to another grid point or sweep \
                 ({} says `{}`, expected `{}`): remove it or use another --out folder",
                ckpt_path.display(),
                label_path.display(),
                saved.trim(),
                label.trim()
            )));
        }
        let checkpoint = Checkpoint::load(&ckpt_path).map_err(learn)?;
        Trainer::resume(rule, training, &checkpoint, source.as_mut()).map_err(learn)?
    } else {
        let mut net = initial.clone();
        let trainer = Trainer::new(rule, &mut net, training).map_err(learn)?;
        (trainer, net)
    };

    let mut status = Status::Ok;
    while !trainer.is_done() {
        if ctx
            .max_trials
            .is_some_and(|max| trainer.trials_done() >= max)
        {
            return Ok(None);
        }
        match trainer.train_trial(&mut net, source.as_mut()) {
            Ok(_) => {}
            Err(LearnError::Diverged { trial, .. }) => {
                status = Status::Diverged(trial);
                break;
            }
            Err(e) => return Err(learn(e)),
        }
        if let Some(every) = ctx.checkpoint_every
            && trainer.trials_done() % every == 0
            && !trainer.is_done()
        {
            rnn_core::io::write_atomic(&label_path, label.as_bytes())
                .map_err(|e| SweepError::io(&label_path, e))?;
            trainer.checkpoint(&net).save(&ckpt_path).map_err(learn)?;
        }
    }

    let final_loss = if status == Status::Ok {
        let carried = trainer.carried_state().cloned();
        match evaluate(&net, source.as_mut(), carried.as_ref(), point.seed, sweep) {
            Ok(Some(loss)) => loss,
            Ok(None) | Err(rnn_core::CoreError::NonFiniteLoss { .. }) => {
                status = Status::DivergedAtEvaluation;
                f64::INFINITY
            }
            Err(e) => return Err(core(e)),
        }
    } else {
        f64::INFINITY
    };
    Ok(Some(Row {
        point: *point,
        trials: sweep.trials,
        initial_loss,
        final_loss,
        status,
    }))
}

/// Mean loss of `eval_trials` trials from `source`, without learning; the
/// state carries from one to the next (used only by tasks that carry it).
/// `None` if a loss is not finite.
fn evaluate(
    net: &Network,
    source: &mut dyn TrialSource,
    carried: Option<&State>,
    seed: u64,
    sweep: &Sweep,
) -> Result<Option<f64>, rnn_core::CoreError> {
    let mut rng = seeded_stream(seed, STREAM_EVAL);
    let mut previous = carried.cloned();
    let mut sum = 0.0;
    for _ in 0..sweep.eval_trials {
        let trial = source.next_trial(&mut rng)?;
        let trajectory = net.run_trial(&trial, previous.as_ref())?;
        if !trajectory.loss.is_finite() {
            return Ok(None);
        }
        sum += trajectory.loss;
        previous = Some(trajectory.final_state());
    }
    Ok(Some(sum / sweep.eval_trials as f64))
}
