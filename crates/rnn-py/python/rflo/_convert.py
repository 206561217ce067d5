"""Conversions between Python values and the library's data."""

from __future__ import annotations

import numbers

import numpy as np


def json_default(obj):
    """`json.dumps` hook: numpy arrays become lists, numpy scalars numbers."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    raise TypeError(f"{type(obj).__name__} is not a number, string, list, dict or array")


def camel_case(name: str) -> str:
    """`"ready_set_go"` -> `"ReadySetGo"`."""
    return "".join(part.capitalize() for part in name.split("_"))
