"""A sweep's charts (PNG, matplotlib) and the robustness of its choices.

* :func:`selection_frequency`: how often each project is chosen across a sweep's plans:
  chosen everywhere (robust), nowhere, or sometimes (marginal: the choices that depend on
  the parameter);
* :func:`plot_sweep` / :func:`plot_frequency`: the charts.

matplotlib is imported only when a chart is drawn, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from formulations.registry import FAMILIES
from optimizer.errors import UsageError
from optimizer.files import atomic_write

if TYPE_CHECKING:
    from optimizer.whatif.points import Sweep

__all__ = ["selection_frequency", "plot_sweep", "plot_frequency", "axis_label"]

def axis_label(parameter: str, cash: str = "$B", staff: str = "specialists") -> str:
    """An axis label for a swept parameter, in the program's units: the words of the
    family that offers it (:attr:`~formulations.family.Family.axis_labels`), else its
    name."""
    kind, _, key = parameter.partition(":")
    for family in FAMILIES:
        if kind in family.axis_labels:
            return family.axis_labels[kind].format(key=key, cash=cash, staff=staff)
    return parameter


def selection_frequency(s: Sweep) -> pd.DataFrame:
    """Per project: the points whose plan funds it, their share of the points with a plan,
    and a verdict: ``robust`` (every plan), ``marginal`` (some), ``never``."""
    inst = s.instance
    with_plan = s.frame[s.frame["status"].isin(["optimal", "feasible"])]
    counts = pd.Series(0, index=pd.Index(inst.ids, name="id"), dtype=np.int64)
    for chosen in with_plan["selected"]:
        counts[list(chosen)] += 1
    n = len(with_plan)
    share = counts / n if n else counts.astype(float)
    verdict = np.where(counts == 0, "never", np.where(counts == n, "robust", "marginal"))
    frame = pd.DataFrame({"name": inst.projects["name"].to_numpy(),
                          "sector": inst.projects["sector"].to_numpy(),
                          "chosen": counts.to_numpy(), "share": share.to_numpy(),
                          "verdict": verdict}, index=counts.index)
    return frame.sort_values(["share", "id"], ascending=[False, True]) if n else frame


def _title(s: Sweep, what: str) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(f"{s.instance.name}: {what}", 80))


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise UsageError(f"{path}: charts are written as PNG; name the file .png")
    import io


    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=110, format="png")
    return atomic_write(path, buffer.getvalue())


def plot_sweep(s: Sweep, path: str | Path) -> Path:
    """A sweep's chart. One parameter: the frontier of return (with the solver's bound
    where it is above) and, below it, the plan's capital by sector. Two parameters: one
    return curve per value of the second."""
    plt = _pyplot()
    frame = s.frame
    x = s.parameters[0]
    cash = s.instance.money_unit
    units = {"cash": cash, "staff": s.instance.labor_unit}
    if len(s.parameters) == 1:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7.5), sharex=True,
                                          gridspec_kw={"height_ratios": [3, 2]})
        ok = frame["status"].isin(["optimal", "feasible"])
        proven = frame["status"] == "optimal"
        top.plot(frame.loc[ok, x], frame.loc[ok, "objective"], "-", color="tab:blue",
                 label="return of the plan")
        top.plot(frame.loc[proven, x], frame.loc[proven, "objective"], "o", color="tab:blue",
                 label="proven within the gap")
        if (ok & ~proven).any():
            top.plot(frame.loc[ok & ~proven, x], frame.loc[ok & ~proven, "objective"], "o",
                     mfc="white", color="tab:blue", label="stopped at a limit")
        if (frame.loc[ok, "bound"] > frame.loc[ok, "objective"] * (1 + 1e-6)).any():
            top.plot(frame.loc[ok, x], frame.loc[ok, "bound"], "--", color="tab:gray",
                     label="solver's bound")
        bad = ~ok
        if bad.any():
            top.plot(frame.loc[bad, x], np.zeros(int(bad.sum())), "x", color="tab:red",
                     label="infeasible / no plan")
        top.set_ylabel(f"expected return ({cash})")
        top.set_title(_title(s, f"return against {axis_label(x, **units)}"), fontsize=10)
        top.grid(alpha=0.3)
        top.legend(fontsize=8)
        sectors = list(s.instance.sectors)
        values = frame[[f"capital.{sec}" for sec in sectors]].fillna(0.0).to_numpy(dtype=float)
        xs = frame[x].to_numpy(dtype=float)
        width = 0.8 * (np.min(np.diff(np.unique(xs))) if len(np.unique(xs)) > 1 else 1.0)
        bottom_edge = np.zeros(len(frame))
        for k, sec in enumerate(sectors):
            bottom.bar(xs, values[:, k], width=width, bottom=bottom_edge, label=sec)
            bottom_edge += values[:, k]
        bottom.set_ylim(0, max(float(bottom_edge.max()), 1e-9) * 1.3)  # room for the legend
        bottom.set_ylabel(f"capital committed ({cash})")
        bottom.set_xlabel(axis_label(x, **units))
        bottom.legend(fontsize=7, ncol=min(5, len(sectors)), loc="upper left")
        bottom.grid(alpha=0.3, axis="y")
    else:
        y = s.parameters[1]
        fig, top = plt.subplots(figsize=(8, 5))
        for value, group in frame.groupby(y, sort=True):
            ok = group["status"].isin(["optimal", "feasible"])
            top.plot(group.loc[ok, x], group.loc[ok, "objective"], "o-",
                     label=f"{axis_label(y, **units)} = {value:g}")
        top.set_xlabel(axis_label(x, **units))
        top.set_ylabel(f"expected return ({cash})")
        top.set_title(_title(s, f"return against {axis_label(x, **units)} and "
                                f"{axis_label(y, **units)}"), fontsize=10)
        top.grid(alpha=0.3)
        top.legend(fontsize=8)
    fig.tight_layout()
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def plot_frequency(s: Sweep, path: str | Path, top_n: int = 40) -> Path:
    """Horizontal bars: the share of the sweep's plans funding each project (the
    ``top_n`` most often chosen that are not chosen everywhere come after the robust)."""
    plt = _pyplot()
    freq = selection_frequency(s)
    shown = freq[freq["chosen"] > 0].head(top_n)
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.22 * len(shown) + 1)))
    colors = np.where(shown["verdict"] == "robust", "tab:green", "tab:orange")
    ax.barh(shown.index.astype(str)[::-1], shown["share"].to_numpy()[::-1],
            color=colors[::-1])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the sweep's plans funding the project")
    ax.set_title(_title(s, "robust (green) and marginal (orange) choices"), fontsize=10)
    fig.tight_layout()
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)
