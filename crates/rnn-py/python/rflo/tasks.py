"""Tasks: the built-in ones by name, and helpers for tasks written in Python.

Built-in tasks take the fields of their Rust config as keywords (missing
fields take the paper's defaults)::

    rflo.tasks.Periodic(period=200)
    rflo.tasks.ReadySetGo(max_delay=200)
    rflo.tasks.Reach()
    rflo.tasks.WholeSequence()
    rflo.tasks.Files(inputs="x.npy", targets="y.npy")

Any Python iterable of trials, or a callable returning one, is a task as
well (see :func:`rflo.train`). :func:`from_neurogym` and
:func:`from_psychrnn` turn the batch arrays of those libraries into trials.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _native
from ._convert import camel_case

Task = _native.Task
Trial = _native.Trial

__all__ = ["Task", "registry", "from_neurogym", "from_psychrnn"]


def _task_factory(name: str):
    def factory(*, seed: int = 0, **config: Any) -> Task:
        return Task({"name": name, **config}, seed=seed)

    factory.__name__ = factory.__qualname__ = camel_case(name)
    factory.__doc__ = (
        f"The built-in ``{name}`` task (docs/spec/TASKS.md); keywords are the fields "
        "of its Rust config. ``seed`` drives draws made when the task is built."
    )
    return factory


def registry() -> list[str]:
    """The task registry's names."""
    return list(_native.task_registry())


for _name in _native.task_registry():
    globals()[camel_case(_name)] = _task_factory(_name)
    __all__.append(camel_case(_name))


def _trials(x: np.ndarray, y: np.ndarray, mask: Optional[np.ndarray], h0: Any) -> list:
    return [
        Trial(x[b], y[b], None if mask is None else mask[b], h0=h0) for b in range(y.shape[0])
    ]


def from_neurogym(
    inputs: Any, target: Any, *, n_outputs: Optional[int] = None, h0: Any = 0.0
) -> list:
    """Trials from a neurogym ``Dataset`` batch: ``inputs`` is ``(T, batch, N_x)``
    and ``target`` is ``(T, batch)`` integer labels (one-hot encoded into
    ``n_outputs`` outputs, default ``max label + 1``; label 0 is fixation as in
    neurogym) or ``(T, batch, N_y)`` real targets. One trial per batch entry."""
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(target)
    if x.ndim != 3:
        raise ValueError(f"inputs must be (T, batch, N_x), got shape {x.shape}")
    if y.ndim == 2:
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError("2-D targets must be integer labels (T, batch)")
        if y.min() < 0:
            raise ValueError("labels must be >= 0")
        n = int(y.max()) + 1 if n_outputs is None else n_outputs
        if y.max() >= n:
            raise ValueError(f"label {int(y.max())} does not fit n_outputs={n}")
        y = np.eye(n)[y]
    elif y.ndim != 3:
        raise ValueError(f"target must be (T, batch) labels or (T, batch, N_y), got shape {y.shape}")
    if y.shape[:2] != x.shape[:2]:
        raise ValueError(f"inputs {x.shape[:2]} and target {y.shape[:2]} differ in (T, batch)")
    return _trials(x.transpose(1, 0, 2), y.transpose(1, 0, 2).astype(np.float64), None, h0)


def from_psychrnn(x: Any, y: Any, mask: Any = None, *, h0: Any = 0.0) -> list:
    """Trials from a PsychRNN ``get_trial_batch()``: ``x`` is ``(batch, T, N_x)``,
    ``y`` is ``(batch, T, N_y)`` and ``mask`` ``(batch, T, N_y)`` or ``(batch, T)``.
    The library's mask is one 0/1 value per step, so a per-output mask must
    agree across outputs (a clear error otherwise)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 3 or y.ndim != 3:
        raise ValueError(f"x and y must be (batch, T, N), got shapes {x.shape} and {y.shape}")
    m = None
    if mask is not None:
        m = np.asarray(mask, dtype=np.float64)
        if m.ndim == 3:
            if not np.all(m == m[:, :, :1]):
                raise ValueError("the mask differs between outputs at some step; rflo masks whole steps")
            m = m[:, :, 0]
    return _trials(x, y, m, h0)
