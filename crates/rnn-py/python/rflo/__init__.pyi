"""Type stubs of the rflo package (for editors and type checkers)."""

from dataclasses import dataclass
from os import PathLike
from typing import Any, Callable, Iterable, Iterator, Optional, Union

import numpy as np
import numpy.typing as npt

from . import rules as rules
from . import tasks as tasks
from .rules import Rule as Rule
from .tasks import Task as Task

ArrayLike = npt.ArrayLike
Path = Union[str, PathLike[str]]

class Network:
    """A rate RNN; weights are numpy copies (W N×N, W_in N×N_x, W_out N_y×N, B N×N_y)."""

    def __init__(
        self,
        n_units: int,
        n_inputs: int = 0,
        n_outputs: int = 1,
        *,
        seed: int,
        tau: float = 10.0,
        gain: float = 1.5,
        input_scale: float = 1.0,
        readout_init: Union[str, dict, None] = None,
        feedback_scale: float = 1.0,
        readout_feedback: bool = False,
    ) -> None: ...
    @staticmethod
    def from_weights(
        W: ArrayLike,
        W_in: ArrayLike,
        W_out: ArrayLike,
        B: Optional[ArrayLike] = None,
        *,
        tau: float = 10.0,
        gain: float = 1.5,
        input_scale: float = 1.0,
        readout_init: Union[str, dict, None] = None,
        feedback_scale: float = 1.0,
        readout_feedback: bool = False,
    ) -> Network: ...
    @staticmethod
    def load(path: Path) -> Network: ...
    def save(self, path: Path) -> None: ...
    def export_npy(self, folder: Path) -> None: ...
    @staticmethod
    def from_npy(folder: Path) -> Network: ...
    @property
    def W(self) -> np.ndarray: ...
    @property
    def W_in(self) -> np.ndarray: ...
    @property
    def W_out(self) -> np.ndarray: ...
    @property
    def B(self) -> np.ndarray: ...
    @property
    def n_units(self) -> int: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    @property
    def alpha(self) -> float: ...
    @property
    def config(self) -> dict: ...
    def run(self, trial: Trial, previous: Optional[Trajectory] = None) -> Trajectory: ...
    def copy(self) -> Network: ...

class Trajectory:
    """Row s of h, u, y, error is time step t = s + 1 (T×N or T×N_y); h0 is h(0)."""

    @property
    def h(self) -> np.ndarray: ...
    @property
    def h0(self) -> np.ndarray: ...
    @property
    def u(self) -> np.ndarray: ...
    @property
    def y(self) -> np.ndarray: ...
    @property
    def error(self) -> np.ndarray: ...
    @property
    def loss(self) -> float: ...
    def __len__(self) -> int: ...

class Trial:
    """x T×N_x (or None), y_target T×N_y (1-D: one output), mask of 0/1 of length T,
    h0 a number, an array of length N, or "carry_over"."""

    def __init__(
        self,
        x: Optional[ArrayLike],
        y_target: ArrayLike,
        mask: Optional[ArrayLike] = None,
        h0: Union[float, ArrayLike, str, None] = None,
    ) -> None: ...
    @property
    def x(self) -> np.ndarray: ...
    @property
    def y_target(self) -> np.ndarray: ...
    @property
    def mask(self) -> Optional[np.ndarray]: ...
    @property
    def h0(self) -> Union[float, np.ndarray, str]: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    def __len__(self) -> int: ...

@dataclass
class History:
    loss: np.ndarray
    feedback_alignment: np.ndarray
    gradient_alignment_trial: np.ndarray
    gradient_alignment: np.ndarray
    exact_gradient_norm: np.ndarray
    interrupted: bool = False
    def __len__(self) -> int: ...

class DivergedError(RuntimeError):
    trial: int
    history: History

class TrainingInterrupted(UserWarning): ...

@dataclass
class RunResult:
    key: str
    spec: str
    history: History
    initial_loss: float
    final_loss: float
    failure: Optional[tuple[Optional[int], str]]
    network: Network
    grid: Optional[str] = None
    coords: dict = ...
    @property
    def completed(self) -> bool: ...

@dataclass
class GridResult:
    runs: list[RunResult]
    table_csv: str
    @property
    def rows(self) -> list[dict[str, str]]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[RunResult]: ...

TaskLike = Union[
    Task,
    Trial,
    tuple,
    list,
    Iterable[Union[Trial, tuple]],
    Callable[[], Union[Trial, tuple]],
    Callable[[np.random.Generator], Union[Trial, tuple]],
]

def train(
    net: Network,
    rule: Rule,
    task: TaskLike,
    trials: int = 1000,
    *,
    seed: int = 0,
    schedule: Union[str, dict] = "per_trial",
    constraints: Optional[dict] = None,
    gradient_alignment_every: Optional[int] = None,
    max_loss_ratio: Optional[float] = 1e6,
    progress: bool = True,
) -> History: ...
def run(
    spec: Union[str, dict],
    *,
    store: Optional[Path] = None,
    threads: int = 1,
    checkpoint_every: int = 500,
) -> Union[RunResult, GridResult]: ...
def feedback_alignment(net: Network) -> float: ...
