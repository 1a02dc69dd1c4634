"""The report's charts: gap.png (against the published values) and time.png (as
multiples of each run's reference solve), per-set aggregates over the runs. Matplotlib is
imported only here, when a report is written."""

from __future__ import annotations

import io
import math
import sqlite3
from pathlib import Path
from typing import Any

from optimizer.bench.compare import SetStats
from optimizer.program.shipped import natural_order


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _charts(runs: list[sqlite3.Row], stats: list[dict[str, SetStats]], out: Path,
            suite: str) -> list[Path]:
    """gap.png and time.png: per-set aggregates over the runs, with axis labels, units,
    legends and titles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optimizer.results.result import atomic_write, write_errors

    xs = list(range(len(runs)))
    labels = [f"{r['id']}: {r['git_commit']}" for r in runs]
    step = max(1, math.ceil(len(runs) / 20))  # at most 20 labelled ticks
    sets = sorted({name for s in stats for name in s}, key=natural_order)
    cmap = plt.get_cmap("tab20" if len(sets) > 10 else "tab10")
    colours = {name: cmap(k % cmap.N) for k, name in enumerate(sets)}
    markers = "osD^v<>phX*"

    def series(name: str, value: Any) -> list[float]:
        ys = []
        for s in stats:
            v = value(s[name]) if name in s else None
            ys.append(math.nan if v is None else float(v))
        return ys

    def panel(ax: Any, value: Any, ylabel: str, names: list[str], log: bool = False) -> None:
        """One line per set; a log scale (labelled in plain numbers) only where the sets
        lie more than 20x apart, else a linear one from 0."""
        from matplotlib.ticker import FuncFormatter, NullFormatter

        drawn: list[float] = []
        for k, name in enumerate(names):
            ys = series(name, value)
            if all(math.isnan(y) for y in ys):
                continue
            count = max((s[name].instances for s in stats if name in s), default=0)
            ax.plot(xs, ys, marker=markers[k % len(markers)], linewidth=1.4, markersize=5,
                    color=colours[name],
                    label=f"{name} ({count} instance{'s' if count != 1 else ''})")
            drawn += [y for y in ys if not math.isnan(y)]
        if not drawn:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                    color="grey")
        ax.set_ylabel(ylabel)
        positive = [y for y in drawn if y > 0]
        if log and positive and len(positive) == len(drawn) and \
                max(positive) > 20 * min(positive):
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            top = max(drawn, default=0.0)
            ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
        ax.grid(True, alpha=0.3)
        ax.set_xticks(xs[::step], labels[::step], rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.5, max(len(xs) - 0.5, 0.5))

    def finish(fig: Any, top: Any, path: Path) -> Path:
        """The sets' legend beside the panels (from the top one), then the PNG written."""
        handles, names = top.get_legend_handles_labels()
        if handles:
            fig.legend(handles, names, title="set", loc="center left",
                       bbox_to_anchor=(0.78, 0.5), fontsize=8)
        fig.tight_layout(rect=(0, 0, 0.78 if handles else 1, 1))
        try:
            with write_errors(path):
                return atomic_write(path, _png(fig))
        finally:
            plt.close(fig)

    written = []
    published = [n for n in sets if any(n in s and s[n].published for s in stats)]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    panel(top, lambda s: None if s.mean_gap is None else 100 * s.mean_gap,
          "mean gap to published value (%)", published)
    top.set_title("Mean gap of the plan's return below the published value (0 = reached)",
                  fontsize=10)
    panel(bottom, lambda s: None if s.share is None else 100 * s.share,
          "instances reaching it (%)", published)
    bottom.set_ylim(0, 105)
    bottom.set_title("Share of the set's instances whose plan reaches the published value",
                     fontsize=10)
    bottom.set_xlabel("benchmark run (id: commit)")
    fig.suptitle(f"Suite {suite}: per-set results against the published values, "
                 f"{len(runs)} run{'s' if len(runs) != 1 else ''}")
    written.append(finish(fig, top, out / "gap.png"))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    panel(top, lambda s: s.total_ratio, "total time / reference solve (x)", sets, log=True)
    top.set_title("Time over the whole set, file to checked plan, in multiples of the "
                  "run's reference solve", fontsize=10)
    panel(bottom, lambda s: s.median_ratio, "median time / reference solve (x)", sets,
          log=True)
    bottom.set_title("Median time of one instance, in multiples of the run's reference "
                     "solve", fontsize=10)
    bottom.set_xlabel("benchmark run (id: commit)")
    fig.suptitle(f"Suite {suite}: per-set solve times ({len(runs)} "
                 f"run{'s' if len(runs) != 1 else ''}; reference solve: the pilot and a "
                 "2,000-project program)", fontsize=11)
    written.append(finish(fig, top, out / "time.png"))
    return written
