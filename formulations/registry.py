"""The rule families of the model, in the order their rows enter it.

A new family is a new module of :mod:`formulations` with one :class:`~formulations.family.Family`
object, added to :data:`FAMILIES` here: the loader, the model, the checker, the
explanation, the report and the what-if studies ask every family in this tuple, and no
other module names one.
"""

from __future__ import annotations

from functools import cache

from formulations import (
    budget,
    choices,
    dependencies,
    economics,
    hurdle,
    japan_share,
    labor,
    sectors,
    timing,
)
from formulations.family import Family, Rule

__all__ = ["FAMILIES", "family", "rule", "owner"]

#: Every rule family. ``choices`` (the units of each project, their bounds and forced
#: choices) comes last so that the rows of version 1 keep their order.
FAMILIES: tuple[Family, ...] = (
    budget.FAMILY,
    sectors.FAMILY,
    labor.FAMILY,
    hurdle.FAMILY,
    dependencies.FAMILY,
    japan_share.FAMILY,
    timing.FAMILY,
    economics.FAMILY,
    choices.FAMILY,
)


@cache
def _rules() -> dict[str, tuple[Family, Rule]]:
    out: dict[str, tuple[Family, Rule]] = {}
    for f in FAMILIES:
        for r in f.rules:
            if r.name in out:
                raise ValueError(f"rule {r.name} is claimed by {out[r.name][0].name} and "
                                 f"{f.name}")
            out[r.name] = (f, r)
    return out


def family(name: str) -> Family:
    """The family called ``name``."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise KeyError(f"no rule family {name!r}")


def owner(rule_name: str) -> Family | None:
    """The family that owns the rule called ``rule_name`` (None: no family does, e.g. a
    row added to the Pyomo form)."""
    found = _rules().get(rule_name)
    return None if found is None else found[0]


def rule(rule_name: str) -> Rule | None:
    found = _rules().get(rule_name)
    return None if found is None else found[1]
