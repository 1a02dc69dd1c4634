"""Capital-portfolio optimizer: choose which strategic projects to fund.

The public API is small: :func:`load` a program, :func:`solve` it with
:class:`SolveOptions`, read the :class:`Result`; :func:`check_plan` re-checks any plan.
"""

from optimizer.api import load, solve
from optimizer.check import CheckReport, Violation, check_plan
from optimizer.errors import InstanceError, OptimizerError, Problem, UsageError
from optimizer.instance import Instance
from optimizer.results import Conflict, Result
from optimizer.solver import SolveOptions

__all__ = [
    "load",
    "solve",
    "check_plan",
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
