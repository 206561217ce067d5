"""Learning rules, one constructor per entry of the library's rule registry.

Each takes the fields of the Rust ``RuleSpec`` as keywords::

    rflo.rules.RFLO(rates=0.03)                        # eta1 = eta2 = eta3
    rflo.rules.RFLO(rates={"readout": 0.1, "recurrent": 0.03, "input": 0.03})
    rflo.rules.RFLO(0.03, projection="readout")        # F = W_out^T
    rflo.rules.BPTT(0.01)
    rflo.rules.RTRL(0.01)

``eta`` is accepted as another name for ``rates`` (the paper's symbol).
The constructors are generated from the registry (``rflo._native.rule_registry``),
so a rule registered in Rust appears here without binding code.
"""

from __future__ import annotations

from typing import Any

from . import _native

Rule = _native.Rule

__all__ = ["Rule", "registry", "python_name"]


def _rule_factory(name: str, label: str):
    def factory(rates: Any = None, *, eta: Any = None, **options: Any) -> Rule:
        if rates is not None and eta is not None:
            raise TypeError(f"{label}: give `rates` or `eta`, not both")
        rates = eta if rates is None else rates
        if rates is None:
            raise TypeError(f"{label}: the learning rates are required (rates=0.03, say)")
        return Rule({"name": name, "rates": rates, **options})

    factory.__name__ = factory.__qualname__ = label
    factory.__doc__ = (
        f"The ``{name}`` rule of the registry, as a :class:`Rule`.\n\n"
        f"``{label}(rates, **options)``: ``rates`` is one number or "
        "``{'readout': .., 'recurrent': .., 'input': ..}`` (alias ``eta``); "
        "``options`` are the other fields of the Rust ``RuleSpec`` variant "
        "(docs/spec/MODEL.md)."
    )
    return factory


def python_name(label: str) -> str:
    """The constructor's name for a registry label: the label without the
    characters Python names cannot hold, capitalised ("SnAp-1" -> "SnAp1",
    "e-prop" -> "Eprop", "KF-RTRL" -> "KFRTRL"; "RFLO" stays "RFLO")."""
    kept = "".join(ch for ch in label if ch.isalnum() or ch == "_")
    return kept[:1].upper() + kept[1:]


def registry() -> list[tuple[str, str]]:
    """The rule registry: ``(name, label)`` pairs; the constructor of each is
    ``rflo.rules.<python_name(label)>``."""
    return list(_native.rule_registry())


for _name, _label in _native.rule_registry():
    globals()[python_name(_label)] = _rule_factory(_name, python_name(_label))
    __all__.append(python_name(_label))
