"""A solved plan's charts (PNG, matplotlib): pictures of what the checker recomputed.

* ``capital.png``: capital disbursed by horizon year, stacked by sector, against the
  per-year caps (and, in the subtitle, how much of the total cap the plan commits);
* ``labor.png``: labor employed by horizon year, stacked by sector, against the capacity;
* ``cash.png`` (only a plan with cash flows): Japan's cumulative disbursements and
  receipts over every year of the flows, past the horizon too, with the year the last
  funded unit recovers its deemed balance and the break-even year marked.

Every number drawn comes from the checker's usage (``result.check.usage``), never from
the model. The charts are matplotlib :class:`~matplotlib.figure.Figure` objects drawn with
the Agg canvas, without pyplot: no backend is switched in the caller's process and no
figure is left open. matplotlib is imported only when a chart is drawn.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.files import atomic_write, write_errors
from optimizer.units import money, people

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from optimizer.results.result import Result

__all__ = ["CHARTS", "plot_result", "write_plots", "figures", "by_sector", "cash_by_year",
           "recovery", "break_even", "cash_figure"]

#: The files :func:`plot_result` writes, in order (``cash.png`` only with cash flows).
CHARTS = ("capital.png", "labor.png", "cash.png")
DPI = 110
SIZE = (10.0, 5.4)
#: Up to this many years, each bar's total is written above it (more would collide).
LABELLED_YEARS = 20
#: Cumulative receipts within this (relative) of cumulative disbursements have reached them.
RTOL = 1e-9


# --------------------------------------------------------------------------- the data
def _usage(result: Result) -> Any:
    """The checker's usage of a result with a plan, else None."""
    if not result.has_plan or result.check is None:
        return None
    return result.check.usage


def by_sector(result: Result, column: str) -> pd.DataFrame:
    """``column`` (``capital`` or ``labor``) of the checker's usage table summed by
    horizon year (rows) and sector (columns, every sector of the program in its order)."""
    inst = result.instance
    usage = _usage(result)
    years = pd.Index([int(y) for y in inst.years], name="year")
    sectors = list(inst.sectors)
    if usage is None or not len(usage.table):
        return pd.DataFrame(0.0, index=years, columns=sectors)
    table = usage.table
    sector_of = inst.projects.set_index("id")["sector"]
    frame = pd.DataFrame({"year": table["year"].astype(int).to_numpy(),
                          "sector": table["project"].map(sector_of).to_numpy(),
                          "value": table[column].astype(float).to_numpy()})
    sums = frame.groupby(["year", "sector"])["value"].sum().unstack("sector")
    return sums.reindex(index=years, columns=sectors).fillna(0.0).astype(float)


def _outside(result: Result) -> float:
    """Capital the plan disburses outside the horizon (not drawn)."""
    usage = _usage(result)
    if usage is None or not len(usage.table):
        return 0.0
    inst = result.instance
    years = usage.table["year"].astype(int)
    outside = (years < inst.first_year) | (years > inst.last_year)
    return math.fsum(usage.table.loc[outside, "capital"].astype(float))


def _cash(usage: Any) -> pd.DataFrame | None:
    """The usage's cash table when the plan has cash flows (a version-2 usage: a ``start``
    column and a non-empty ``cash`` table), else None."""
    cash = getattr(usage, "cash", None)
    if usage is None or "start" not in usage.table.columns or cash is None or not len(cash):
        return None
    return cash


def cash_by_year(cash: pd.DataFrame) -> pd.DataFrame:
    """Japan's cash by year, from a cash table [project, start, year, disbursed, received]:
    every year from the first flow to the last (none left out), with the year's
    ``disbursed`` and ``received``, their running sums and ``net`` (received less
    disbursed so far)."""
    per = cash.groupby(cash["year"].astype(int))[["disbursed", "received"]].sum()
    years = pd.RangeIndex(int(per.index.min()), int(per.index.max()) + 1, name="year")
    per = per.reindex(years, fill_value=0.0).astype(float)
    per["cumulative_disbursed"] = per["disbursed"].cumsum()
    per["cumulative_received"] = per["received"].cumsum()
    per["net"] = per["cumulative_received"] - per["cumulative_disbursed"]
    return per


def recovery(economics: pd.DataFrame | None) -> tuple[int | None, int]:
    """(the year the last funded (project, start) recovers Japan's deemed balance, how
    many funded (project, start) never do): the largest ``recovered_in``, None when no
    entry recovers."""
    if economics is None or not len(economics):
        return None, 0
    funded = economics[economics["units"] > 0] if "units" in economics else economics
    years = pd.to_numeric(funded["recovered_in"], errors="coerce")
    never = int(years.isna().sum())
    return (int(years.max()) if years.notna().any() else None), never


def break_even(per_year: pd.DataFrame) -> int | None:
    """The first year in which Japan's cumulative receipts reach its cumulative
    disbursements (once it has disbursed anything), else None."""
    disbursed = per_year["cumulative_disbursed"].to_numpy()
    received = per_year["cumulative_received"].to_numpy()
    reached = (disbursed > 0) & (received >= disbursed * (1 - RTOL))
    return int(per_year.index[np.argmax(reached)]) if reached.any() else None


# ------------------------------------------------------------------------ the drawing
@contextmanager
def _plain_text() -> Iterator[None]:
    """Text as written: a ``$`` of ``$B`` (or of a program's name) is not mathtext."""
    import matplotlib

    with matplotlib.rc_context({"text.parse_math": False}):
        yield


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _titles(fig: Figure, ax: Axes, name: str, what: str, subtitle: str) -> None:
    fig.suptitle("\n".join(textwrap.wrap(name, 90)), fontsize=12, fontweight="bold")
    lines = [what] + textwrap.wrap(subtitle, 110)
    ax.set_title("\n".join(lines), fontsize=9.5, loc="left")


def _number(value: float, _pos: Any = None) -> str:
    """A tick label: thousands apart, no needless decimals (750,000; 12.5; 0)."""
    return f"{value:,.10g}" if abs(value) < 1e15 else f"{value:.3g}"


def _year_axis(ax: Axes, first: int, last: int) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    ax.set_xlabel("year")
    if last - first <= 15:
        ax.xaxis.set_major_locator(MultipleLocator(1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=16, steps=[1, 2, 5, 10], integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{int(round(v))}"))


def _colors(sectors: list[str]) -> dict[str, Any]:
    """One colour per sector of the program, the same on every chart."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(sectors) <= 10 else "tab20"]
    return {s: cmap(k % cmap.N) for k, s in enumerate(sectors)}


def _limit_steps(years: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A step line over each capped year's bar (year +- 0.5), broken where uncapped."""
    xs: list[float] = []
    ys: list[float] = []
    for year, limit in zip(years, limits, strict=True):
        if not np.isfinite(limit):
            if xs and not math.isnan(ys[-1]):
                xs.append(float("nan"))
                ys.append(float("nan"))
            continue
        xs += [year - 0.5, year + 0.5]
        ys += [float(limit), float(limit)]
    return np.array(xs), np.array(ys)


def _stacked(ax: Axes, frame: pd.DataFrame, colors: dict[str, Any], limits: np.ndarray,
             limit_label: str, fmt: Callable[[float], str], empty: str) -> None:
    """Bars stacked by sector (sectors with nothing left out of the legend), the limit's
    step line, and each year's total above its bar (up to :data:`LABELLED_YEARS` bars);
    ``empty`` written across an axes with nothing to draw."""
    from matplotlib.ticker import FuncFormatter

    years = frame.index.to_numpy(dtype=float)
    limits = np.asarray(limits, dtype=float)
    base = np.zeros(len(frame))
    for sector in frame.columns:
        values = frame[sector].to_numpy(dtype=float)
        if not (values > 0).any():
            continue
        ax.bar(years, values, bottom=base, width=0.72, color=colors[sector], label=sector,
               edgecolor="white", linewidth=0.5)
        base += values
    xs, ys = _limit_steps(years, limits)
    if len(xs):
        ax.plot(xs, ys, color="black", linewidth=1.8, label=limit_label)
    top = max(float(base.max(initial=0.0)), float(np.nanmax(ys)) if len(ys) else 0.0)
    for x, total, limit in zip(years, base, limits, strict=True):
        if total > 0 and len(years) <= LABELLED_YEARS:
            # the total above its bar, or above the limit's line just over the bar
            at = limit if np.isfinite(limit) and 0 <= limit - total < 0.05 * top else total
            ax.annotate(fmt(total), (x, at), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7.5, color="0.25")
    if top > 0:
        ax.set_ylim(0, top * 1.1)
    else:  # nothing drawn: say so, on a plain 0-1 axis
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center",
                fontsize=11, color="0.4")
    ax.set_xlim(years.min() - 0.6, years.max() + 0.6)
    _year_axis(ax, int(years.min()), int(years.max()))
    ax.yaxis.set_major_formatter(FuncFormatter(_number))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    if handles:  # the limit first, then the sectors as they are stacked, top first
        order = sorted(range(len(labels)), key=lambda k: (labels[k] != limit_label, -k))
        ax.legend([handles[k] for k in order], [labels[k] for k in order], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize=8.5, frameon=False)


def _capital_figure(result: Result) -> Figure:
    inst = result.instance
    assert result.check is not None
    cash = inst.money_unit
    frame = by_sector(result, "capital")
    committed = result.check.total_capital
    if inst.budget_total is not None and inst.params.get("budget_recycle"):
        subtitle = (f"The plan commits {money(committed, cash)}; the total cap is "
                    f"{money(inst.budget_total, cash)} plus Japan's receipts, recycled into it "
                    "(budget.recycle).")
    elif inst.budget_total is not None:
        share = f" ({committed / inst.budget_total:.0%})" if inst.budget_total > 0 else ""
        subtitle = (f"The plan commits {money(committed, cash)} of the "
                    f"{money(inst.budget_total, cash)} total cap{share}.")
    else:
        subtitle = f"The plan commits {money(committed, cash)} in all (no total cap)."
    outside = _outside(result)
    if outside > 0:
        subtitle += (f" {money(outside, cash)} of it is disbursed outside "
                     f"{inst.first_year}-{inst.last_year} (not drawn).")
    fig, ax = _figure()
    _stacked(ax, frame, _colors(list(inst.sectors)), inst.budget_per_year,
             "cap per year", _amount, "no capital disbursed in the horizon")
    ax.set_ylabel(f"capital disbursed ({cash})")
    capped = np.isfinite(np.asarray(inst.budget_per_year, dtype=float)).any()
    _titles(fig, ax, inst.name, "Capital disbursed by year and sector"
            + (", against the yearly caps" if capped else " (no yearly caps)"), subtitle)
    return fig


def _labor_figure(result: Result) -> Figure:
    inst = result.instance
    staff = inst.labor_unit
    frame = by_sector(result, "labor")
    totals = frame.sum(axis=1)
    capacity = np.asarray(inst.labor_capacity, dtype=float)
    if (totals > 0).any():
        peak_year = int(totals.idxmax())
        subtitle = f"Peak: {people(totals.max(), staff)} in {peak_year}"
        cap = capacity[peak_year - inst.first_year]
        subtitle += (f", {totals.max() / cap:.0%} of that year's capacity." if np.isfinite(cap)
                     and cap > 0 else ".")
    else:
        subtitle = "The plan employs no labor."
    fig, ax = _figure()
    _stacked(ax, frame, _colors(list(inst.sectors)), capacity, "capacity", _short,
             "no labor employed in the horizon")
    ax.set_ylabel(f"labor employed ({staff})")
    _titles(fig, ax, inst.name, "Labor by year and sector" + (
        ", against the capacity" if np.isfinite(capacity).any() else " (no capacity set)"),
        subtitle)
    return fig


def _amount(value: float) -> str:
    """A bar's amount of money in few characters: 0.043, 44.6, 1,234, 56.8k."""
    if value >= 1e4:
        return _short(value)
    return f"{value:,.0f}" if value >= 1e3 else f"{value:.1f}" if value >= 1 else \
        f"{value:.2g}"


def _short(value: float) -> str:
    """A bar's total in few characters: 950, 3.79k, 720k, 1.25M."""
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value >= 1e3:
        return f"{value / 1e3:.3g}k"
    return f"{value:.3g}"


def cash_figure(cash: pd.DataFrame, economics: pd.DataFrame | None, *, name: str,
                money_unit: str = "$B", horizon_end: int | None = None) -> Figure:
    """Japan's cumulative cash position from a cash table [project, start, year,
    disbursed, received] and the economics [project, start, units, npv, irr,
    recovered_in]: the two running sums, the gap between them shaded (red while Japan is
    out of pocket, green once ahead), and vertical lines at the year the last funded unit
    recovers its balance and at the break-even year."""
    from matplotlib.ticker import FuncFormatter

    per = cash_by_year(cash)
    years = per.index.to_numpy(dtype=float)
    disbursed = per["cumulative_disbursed"].to_numpy()
    received = per["cumulative_received"].to_numpy()
    recovered, never = recovery(economics)
    even = break_even(per)
    fig, ax = _figure()
    behind = received < disbursed
    for where, color, alpha, what in ((behind, "tab:red", 0.12, "net outlay (disbursed > "
                                       "received)"),
                                      (~behind, "tab:green", 0.15, "net gain (received > "
                                       "disbursed)")):
        if where.any():  # a legend entry only for a shade that is drawn
            ax.fill_between(years, disbursed, received, where=where, interpolate=True,
                            color=color, alpha=alpha, linewidth=0, label=what)
    ax.plot(years, disbursed, color="tab:red", linewidth=2, marker="o", markersize=3,
            label="cumulative disbursed")
    ax.plot(years, received, color="tab:green", linewidth=2, marker="o", markersize=3,
            label="cumulative received")
    top = max(float(disbursed.max(initial=0.0)), float(received.max(initial=0.0)), 1e-9)
    ax.set_ylim(0, top * 1.12)
    if horizon_end is not None and years.min() <= horizon_end < years.max():
        ax.axvline(horizon_end + 0.5, color="0.55", linestyle=":", linewidth=1.2,
                   label=f"end of the horizon ({horizon_end})")
    # each mark's label runs up beside its line: the recovery's on the right, the
    # break-even's on the left, so that two marks a year apart (or in one year) never clash
    marks = [(recovered, "tab:blue", "--", 4, "latest recovery (some never)" if never
              else "last funded unit recovered"),
             (even, "tab:purple", "-.", -4, "break-even")]
    for year, color, style, side, what in marks:
        if year is None:
            continue
        ax.axvline(year, color=color, linestyle=style, linewidth=1.6, label=f"{what}: {year}")
        ax.annotate(f"{what}: {year}", (year, top * 1.1), xytext=(side, -4),
                    textcoords="offset points", rotation=90, va="top",
                    ha="left" if side > 0 else "right", fontsize=8.5, color=color,
                    fontweight="bold", bbox={"facecolor": "white", "edgecolor": "none",
                                             "alpha": 0.8, "pad": 1.0})
    ax.set_xlim(years.min() - 0.5, years.max() + 0.5)
    _year_axis(ax, int(years.min()), int(years.max()))
    ax.yaxis.set_major_formatter(FuncFormatter(_number))
    ax.set_ylabel(f"cumulative cash ({money_unit})")
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5, frameon=False)
    subtitle = (f"Japan disburses {money(disbursed[-1], money_unit)} and receives "
                f"{money(received[-1], money_unit)} by {int(years[-1])} (undiscounted)")
    if economics is not None and len(economics) and "npv" in economics:
        npv = math.fsum(pd.to_numeric(economics["npv"], errors="coerce").fillna(0.0))
        subtitle += f"; NPV to Japan {money(npv, money_unit)}"
    subtitle += "." if even is not None else "; receipts never reach disbursements."
    if never:
        subtitle += (f" {never} funded project start{'s' if never > 1 else ''} never "
                     f"recover{'' if never > 1 else 's'} Japan's balance.")
    _titles(fig, ax, name, "Japan's cumulative cash: disbursed against received",
            subtitle)
    return fig


def figures(result: Result) -> dict[str, Figure]:
    """The charts of a result with a plan, by file name (``capital.png``, ``labor.png``,
    and ``cash.png`` with cash flows); none without a plan. Drawn, not saved."""
    usage = _usage(result)
    if usage is None:
        return {}
    with _plain_text():
        out = {"capital.png": _capital_figure(result), "labor.png": _labor_figure(result)}
        cash = _cash(usage)
        if cash is not None:
            out["cash.png"] = cash_figure(cash, getattr(usage, "economics", None),
                                          name=result.instance.name,
                                          money_unit=result.instance.money_unit,
                                          horizon_end=result.instance.last_year)
    return out


# ------------------------------------------------------------------------ the writing
def _png(fig: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    with _plain_text():
        fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def write_plots(result: Result, directory: str | Path) -> list[Path]:
    """:func:`plot_result` for a caller that collects failed writes itself (the command
    line): a failed write raises the :class:`OSError`, naming the file."""
    charts = figures(result)
    if not charts:
        return []
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(20, "exists and is not a folder", str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    return [atomic_write(folder / name, _png(fig)) for name, fig in charts.items()]


def plot_result(result: Result, directory: str | Path) -> list[Path]:
    """Draw a result's charts into ``directory`` (made if missing) as PNG files:
    ``capital.png``, ``labor.png`` and, when the plan has cash flows, ``cash.png``; each
    written whole or not at all (a temporary file renamed into place). Returns the paths
    written, none for a result without a plan. A failed write (no space, a file where the
    folder should be, no permission) raises :class:`~optimizer.errors.UsageError` (an
    :class:`~optimizer.errors.OptimizerError`) naming the path; the result is unchanged."""
    with write_errors(directory):
        return write_plots(result, directory)
