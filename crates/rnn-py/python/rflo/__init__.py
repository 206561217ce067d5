"""rflo: local, online learning rules for rate RNNs (RFLO, BPTT, RTRL, ...)
at Rust speed, from numpy.

>>> import rflo
>>> net = rflo.Network(30, 0, 1, seed=1)
>>> history = rflo.train(net, rflo.rules.RFLO(0.03), rflo.tasks.Periodic(period=100),
...                      trials=200, progress=False)
>>> bool(history.loss[-20:].mean() < history.loss[:20].mean())
True

Every rule and task of the Rust registries is here (``rflo.rules``,
``rflo.tasks``); a run description (TOML text or a dict) runs with
:func:`run` exactly as ``cargo xtask sweep run`` runs it. The maths is in
docs/spec/ of the repository.
"""

from __future__ import annotations

import csv
import inspect
import io
import itertools
import json
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Union

import numpy as np

from . import _native, rules, tasks
from ._native import Network, Trajectory, Trial, feedback_alignment
from ._convert import json_default
from .rules import Rule
from .tasks import Task

__all__ = [
    "Network",
    "Trajectory",
    "Trial",
    "Task",
    "Rule",
    "History",
    "RunResult",
    "GridResult",
    "DivergedError",
    "TrainingInterrupted",
    "train",
    "run",
    "feedback_alignment",
    "rules",
    "tasks",
]


@dataclass
class History:
    """What a training run recorded, one entry per trial (numpy arrays).

    ``loss[k]`` is trial ``k``'s loss with the weights in force as it ran;
    ``feedback_alignment[k]`` the readout-feedback alignment at its start;
    ``gradient_alignment[i]`` the cosine with BPTT's update measured at trial
    ``gradient_alignment_trial[i]``, and ``exact_gradient_norm[i]`` the
    Frobenius norm of BPTT's gradient dL/dW there. ``interrupted`` is True when Ctrl-C
    stopped the run (every computed update is applied, so the network equals
    that of a run of ``len(loss)`` trials)."""

    loss: np.ndarray
    feedback_alignment: np.ndarray
    gradient_alignment_trial: np.ndarray
    gradient_alignment: np.ndarray
    exact_gradient_norm: np.ndarray
    interrupted: bool = False

    @classmethod
    def _from_native(cls, d: dict, interrupted: bool = False) -> "History":
        return cls(
            loss=d["loss"],
            feedback_alignment=d["feedback_alignment"],
            gradient_alignment_trial=np.asarray(d["gradient_alignment_trial"], dtype=np.int64),
            gradient_alignment=d["gradient_alignment"],
            exact_gradient_norm=d["exact_gradient_norm"],
            interrupted=interrupted,
        )

    def __len__(self) -> int:
        return len(self.loss)


class DivergedError(RuntimeError):
    """Training diverged (a non-finite loss, update or weight, or a loss above
    ``max_loss_ratio`` times the first trial's). ``trial`` is the 0-based
    failing trial; ``history`` holds every trial up to and including it."""

    def __init__(self, message: str, trial: int, history: History):
        super().__init__(message)
        self.trial = trial
        self.history = history


class TrainingInterrupted(UserWarning):
    """Warned when Ctrl-C stops :func:`train`; the partial history is returned."""


def _to_trial(obj: Any) -> Trial:
    if isinstance(obj, Trial):
        return obj
    if isinstance(obj, tuple) and 2 <= len(obj) <= 4:
        return Trial(*obj)
    raise TypeError(
        f"a task must yield rflo.Trial or (x, y_target[, mask[, h0]]) tuples, got {type(obj).__name__}"
    )


def _takes_argument(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
    )


def _as_source(task: Any) -> Union[Task, Callable[[int], Trial]]:
    """A built-in task as is; anything else as a callable ``f(seed) -> Trial``."""
    if isinstance(task, Task):
        return task
    if isinstance(task, (Trial, tuple)):
        one = _to_trial(task)
        return lambda seed: one
    if isinstance(task, (list,)):
        trials = [_to_trial(t) for t in task]
        if not trials:
            raise ValueError("the task is an empty list of trials")
        cycle = itertools.cycle(trials)
        return lambda seed: next(cycle)
    if callable(task):
        if _takes_argument(task):
            # The task draws from a numpy generator seeded by the training
            # seed's stream, so that the same seed gives the same trials.
            return lambda seed: _to_trial(task(np.random.default_rng(seed)))
        return lambda seed: _to_trial(task())
    if isinstance(task, Iterable):
        iterator = iter(task)
        count = [0]

        def next_trial(seed: int) -> Trial:
            try:
                trial = next(iterator)
            except StopIteration:
                raise ValueError(
                    f"the task ran out of trials after {count[0]}; "
                    "pass a list (cycled) or itertools.cycle(...)"
                ) from None
            count[0] += 1
            return _to_trial(trial)

        return next_trial
    raise TypeError(
        "task must be an rflo Task, a Trial, a list or iterable of trials, "
        f"or a callable returning one; got {type(task).__name__}"
    )


class _Progress:
    """tqdm when it is installed, a plain line on stderr otherwise."""

    def __init__(self, total: int):
        self.total = total
        try:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit="trial")
        except ImportError:
            self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.bar.set_postfix(loss=f"{loss:.4g}")
        else:
            print(f"\rtrial {done}/{total}  loss {loss:.4g}", end="", file=sys.stderr, flush=True)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            print(file=sys.stderr)


def train(
    net: Network,
    rule: Rule,
    task: Any,
    trials: int = 1000,
    *,
    seed: int = 0,
    schedule: Union[str, dict] = "per_trial",
    constraints: Optional[dict] = None,
    gradient_alignment_every: Optional[int] = None,
    max_loss_ratio: Optional[float] = 1e6,
    progress: bool = True,
) -> History:
    """Trains ``net`` in place with ``rule`` on ``task`` and returns the :class:`History`.

    - ``task``: a built-in task (``rflo.tasks.Periodic(...)``), a ``Trial``,
      a list of trials (cycled), an iterable of trials, or a callable
      returning a trial (called with a ``numpy.random.Generator`` seeded from
      ``seed`` if it takes an argument). Trials may be ``(x, y_target[, mask[, h0]])``
      tuples.
    - ``schedule``: ``"per_trial"``, ``"online"`` or ``{"every_k": K}``;
      ``constraints``: ``{"frozen": {"readout": True}, "dale": {"excitatory_fraction": 0.8}}`` as in the Rust
      ``Constraints``; ``max_loss_ratio``: the divergence bound (``None`` for none).
    - Keywords are the fields of the Rust ``TrainingConfig`` (``trials`` is
      ``n_trials``).

    Rust computes without the GIL, so a thread pool over seeds uses every
    core. Ctrl-C between trials stops cleanly: the partial history is
    returned with ``interrupted=True`` (and a :class:`TrainingInterrupted`
    warning). A divergence raises :class:`DivergedError` with the history.
    """
    config = {
        "n_trials": trials,
        "seed": seed,
        "schedule": schedule,
        "gradient_alignment_every": gradient_alignment_every,
        "max_loss_ratio": max_loss_ratio,
    }
    if constraints is not None:
        config["constraints"] = constraints
    config_json = json.dumps(config, default=json_default)
    source = _as_source(task)
    bar = _Progress(trials) if progress else None
    try:
        history, stop = _native.train(net, rule, source, config_json, bar)
    finally:
        if bar is not None:
            bar.close()
    if stop is None:
        return History._from_native(history)
    if stop[0] == "interrupted":
        warnings.warn(
            f"training interrupted after {stop[1]} trials; returning the partial history",
            TrainingInterrupted,
            stacklevel=2,
        )
        return History._from_native(history, interrupted=True)
    _, trial, message = stop
    raise DivergedError(message, trial, History._from_native(history))


@dataclass
class RunResult:
    """One run of a run description: its ``key`` (the store's), ``spec``
    (TOML), the ``grid`` and ``coords`` it came from (for grid files),
    ``history``, ``initial_loss`` and ``final_loss`` (evaluation losses;
    ``inf`` for a failed run), ``failure`` (``None`` or ``(trial, message)``)
    and the trained ``network``."""

    key: str
    spec: str
    history: History
    initial_loss: float
    final_loss: float
    failure: Optional[tuple]
    network: Network
    grid: Optional[str] = None
    coords: dict = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        """True when the run trained to its last trial and evaluated finitely."""
        return self.failure is None


@dataclass
class GridResult:
    """The runs of a grid file, in run order, and their runs table: ``table_csv``
    is byte for byte what ``cargo xtask sweep run FILE`` writes; ``rows`` is
    the same table as dicts of strings."""

    runs: list
    table_csv: str

    @property
    def rows(self) -> list:
        return list(csv.DictReader(io.StringIO(self.table_csv)))

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self):
        return iter(self.runs)


def _run_result(d: dict) -> RunResult:
    return RunResult(
        key=d["key"],
        spec=d["spec"],
        history=History._from_native(d["history"]),
        initial_loss=d["initial_loss"],
        final_loss=d["final_loss"],
        failure=d["failure"],
        network=d["network"],
        grid=d["grid"],
        coords=d["coords"],
    )


def run(
    spec: Union[str, dict],
    *,
    store: Optional[str] = None,
    threads: int = 1,
    checkpoint_every: int = 500,
) -> Union[RunResult, GridResult]:
    """Runs a run description given as TOML text or a dict, exactly as
    ``cargo xtask sweep run`` would.

    A run spec (``seed``, ``network``, ``task``, ``rule``, ``training``,
    ``evaluation``) gives a :class:`RunResult`; a grid file (top-level
    ``grid`` list) gives a :class:`GridResult`. ``store`` is a folder that
    keeps results (a rerun is a cache hit, a killed run resumes from its
    checkpoints); ``threads`` runs specs in parallel (results do not depend
    on it). A REPORT.md panel's grid file runs as is.
    """
    if isinstance(spec, dict):
        text = _native.json_to_toml(json.dumps(spec, default=json_default))
    elif isinstance(spec, str):
        text = spec
    else:
        raise TypeError(f"spec must be TOML text or a dict, got {type(spec).__name__}")
    records, table = _native.run_toml(
        text,
        store=None if store is None else str(store),
        threads=threads,
        checkpoint_every=checkpoint_every,
    )
    results = [_run_result(r) for r in records]
    if table is None:
        return results[0]
    return GridResult(runs=results, table_csv=table)
