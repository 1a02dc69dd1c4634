"""Capital-portfolio optimizer: choose which strategic projects to fund.

The public API is small: :func:`load` a program, :func:`solve` it with
:class:`SolveOptions`, read the :class:`Result`; :func:`check_plan` re-checks any plan.
What-if studies: :func:`derive` a changed program, :func:`compare` two results,
:func:`sweep` one or two parameters (:func:`frontier` for one, with charts), and
:func:`marginal_values` of every limit.
"""

from optimizer.api import load, solve
from optimizer.check import CheckReport, Violation, check_plan
from optimizer.errors import InstanceError, OptimizerError, Problem, UsageError
from optimizer.frontiers import frontier, selection_frequency
from optimizer.instance import Instance
from optimizer.marginal import marginal_values
from optimizer.results import Conflict, Result
from optimizer.scenarios import Comparison, compare, derive
from optimizer.solver import SolveOptions
from optimizer.sweeps import Sweep, sweep

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
