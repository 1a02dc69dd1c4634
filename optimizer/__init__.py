"""Capital-portfolio optimizer: choose which strategic projects to fund.

The public API is small: :func:`load` a program, :func:`solve` it with
:class:`SolveOptions`, read the :class:`Result`; :func:`check_plan` re-checks any plan.
What-if studies: :func:`derive` a changed program, :func:`compare` two results,
:func:`sweep` one or two parameters (:func:`frontier` for one, with charts), and
:func:`marginal_values` of every limit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Where each public name lives. They are imported on first use (PEP 562), so a command
#: loads only what it needs: ``optimizer generate`` never imports Pyomo, and a solve never
#: imports the what-if modules.
_HOME = {
    "load": "optimizer.pipeline", "solve": "optimizer.pipeline",
    "CheckReport": "optimizer.check", "Violation": "optimizer.check",
    "check_plan": "optimizer.check",
    "InstanceError": "optimizer.errors", "OptimizerError": "optimizer.errors",
    "Problem": "optimizer.errors", "UsageError": "optimizer.errors",
    "frontier": "optimizer.whatif.frontiers", "selection_frequency": "optimizer.whatif.frontiers",
    "Instance": "optimizer.program.instance",
    "marginal_values": "optimizer.whatif.marginal",
    "Conflict": "optimizer.results.result", "Result": "optimizer.results.result",
    "Comparison": "optimizer.whatif.scenarios", "compare": "optimizer.whatif.scenarios",
    "derive": "optimizer.whatif.scenarios",
    "SolveOptions": "optimizer.solving.highs",
    "Sweep": "optimizer.whatif.sweeps", "sweep": "optimizer.whatif.sweeps",
}

if TYPE_CHECKING:
    from optimizer.check import CheckReport, Violation, check_plan
    from optimizer.errors import InstanceError, OptimizerError, Problem, UsageError
    from optimizer.pipeline import load, solve
    from optimizer.program.instance import Instance
    from optimizer.results.result import Conflict, Result
    from optimizer.solving.highs import SolveOptions
    from optimizer.whatif.frontiers import frontier, selection_frequency
    from optimizer.whatif.marginal import marginal_values
    from optimizer.whatif.scenarios import Comparison, compare, derive
    from optimizer.whatif.sweeps import Sweep, sweep


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


__all__ = [
    "load",
    "solve",
    "check_plan",
    "derive",
    "compare",
    "Comparison",
    "sweep",
    "Sweep",
    "frontier",
    "selection_frequency",
    "marginal_values",
    "SolveOptions",
    "Instance",
    "Result",
    "Conflict",
    "CheckReport",
    "Violation",
    "InstanceError",
    "UsageError",
    "OptimizerError",
    "Problem",
]
__version__ = "0.1.0"
