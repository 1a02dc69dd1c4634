"""Import-time housekeeping, run before Pyomo is first imported.

When Pyomo's deferred import of SciPy resolves, its callback imports ``scipy.stats``
(and through it much of SciPy): about 0.6 s of every start, for a module this project
never uses. The callback is replaced by one that imports only ``scipy.sparse``, which the
standard-form compiler needs. Should Pyomo's internals change, nothing breaks: the
original behaviour simply stays.
"""

from __future__ import annotations


def _sparse_only(module: object, available: bool) -> None:
    if available:
        import scipy.sparse  # noqa: F401


def trim_pyomo_scipy_import() -> None:
    try:
        import pyomo.common.dependencies as deps

        indicator = deps.scipy_available
        if getattr(indicator, "_available", None) is None and hasattr(indicator, "_callback"):
            indicator._callback = _sparse_only
    except Exception:  # noqa: BLE001 - an optimisation only; never fail an import over it
        return


trim_pyomo_scipy_import()
