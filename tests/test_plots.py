"""A solved plan's charts (optimizer.results.plots, ``optimizer solve --plot DIR``): the
files are PNG images, and what they draw is the checker's usage, read back from the
figures' own bars and lines."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, patch_atomic_write, program, run, small, write

from optimizer import load, solve
from optimizer.cli.main import main
from optimizer.errors import OptimizerError
from optimizer.results.plots import (
    break_even,
    cash_by_year,
    cash_figure,
    figures,
    plot_result,
    recovery,
)
from optimizer.units import money

PILOT = ROOT / "instances" / "pilot-v1" / "program.yaml"  # version 1: no cash flows
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pilot():
    result = solve(PILOT)
    assert result.valid
    return result


def png_size(path: Path) -> tuple[int, int]:
    """The width and height a PNG file says (its IHDR chunk), after checking the magic."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def bar_heights(ax) -> tuple[dict[int, float], dict[tuple[str, int], float]]:
    """The stacked bars of ``ax``: the total per year, and each legend entry's (sector's)
    bar per (sector, year) where it is drawn above zero, read from the drawn rectangles;
    each bar must sit on the one below it."""
    totals: dict[int, float] = {}
    per_sector: dict[tuple[str, int], float] = {}
    for container in ax.containers:
        label = container.get_label()
        for patch in container.patches:
            year = int(round(patch.get_x() + patch.get_width() / 2))
            assert patch.get_y() == pytest.approx(totals.get(year, 0.0))  # stacked
            totals[year] = totals.get(year, 0.0) + patch.get_height()
            if patch.get_height() > 0:
                per_sector[label, year] = patch.get_height()
    return totals, per_sector


def limit_by_year(ax, label: str) -> dict[int, float]:
    """The step line ``label``: its level over each year it covers (its level pieces, one
    year wide, from year - 0.5 to year + 0.5)."""
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    out = {}
    for x0, y0, x1, y1 in zip(xs, ys, xs[1:], ys[1:], strict=False):
        if x1 - x0 == 1 and y0 == y1:  # NaN (a gap) is never equal
            assert x0 % 1 == 0.5
            out[int(x0 + 0.5)] = float(y0)
    return out


def title(ax) -> str:
    """The axes' (left) title on one line, as wrapped words joined again."""
    return " ".join(ax.get_title(loc="left").split())


def expected_by_sector(result, column: str) -> dict[tuple[str, int], float]:
    """``column`` of the checker's usage table by (sector, horizon year), worked out here."""
    inst = result.instance
    sector = dict(zip(inst.projects["id"], inst.projects["sector"], strict=True))
    out: dict[tuple[str, int], float] = {}
    for row in result.check.usage.table.itertuples():
        if inst.first_year <= row.year <= inst.last_year and getattr(row, column) > 0:
            key = (sector[row.project], int(row.year))
            out[key] = out.get(key, 0.0) + getattr(row, column)
    return out


@pytest.mark.solver
def test_plot_result_writes_the_two_charts_as_png(pilot, tmp_path):
    folder = tmp_path / "a" / "b"  # made, parents too
    paths = plot_result(pilot, folder)
    assert paths == [folder / "capital.png", folder / "labor.png"]  # no cash flows: no cash
    assert sorted(p.name for p in folder.iterdir()) == ["capital.png", "labor.png"]
    for path in paths:
        assert png_size(path) == (1100, 594)
        assert path.stat().st_size > 20_000  # a drawn chart, not an empty canvas


@pytest.mark.solver
def test_capital_bars_are_the_checkers_usage(pilot):
    ax = figures(pilot)["capital.png"].axes[0]
    totals, per_sector = bar_heights(ax)
    usage = pilot.check.usage
    years = [int(y) for y in pilot.instance.years]
    drawn = [totals.get(y, 0.0) for y in years]
    assert drawn == pytest.approx(usage.capital_by_year.loc[years].tolist(), abs=1e-9)
    assert sum(drawn) > 100
    assert per_sector == pytest.approx(expected_by_sector(pilot, "capital"))
    caps = dict(zip(years, pilot.instance.budget_per_year.tolist(), strict=True))
    assert limit_by_year(ax, "cap per year") == caps
    assert ax.get_ylabel() == "capital disbursed ($B)" and ax.get_xlabel() == "year"
    committed = money(pilot.check.total_capital, "$B")
    assert f"commits {committed} of the 550.00 $B total cap" in title(ax)
    fig = ax.figure
    assert pilot.instance.name in fig.get_suptitle()
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "cap per year"
    assert not ax.title.get_parse_math()  # "$B ... $B" is text, not mathtext
    assert [int(t) for t in ax.get_xticks() if years[0] <= t <= years[-1]] == years
    # a cap that Japan's receipts replenish (budget.recycle) is no fixed share
    params = {**pilot.instance.params, "budget_recycle": True}
    recycled = dataclasses.replace(pilot, instance=dataclasses.replace(pilot.instance,
                                                                       params=params))
    text = title(figures(recycled)["capital.png"].axes[0])
    assert f"commits {committed}; the total cap is 550.00 $B plus Japan's receipts" in text


@pytest.mark.solver
def test_labor_bars_are_the_checkers_usage(pilot):
    ax = figures(pilot)["labor.png"].axes[0]
    totals, per_sector = bar_heights(ax)
    years = [int(y) for y in pilot.instance.years]
    drawn = [totals.get(y, 0.0) for y in years]
    assert drawn == pytest.approx(pilot.check.usage.labor_by_year.loc[years].tolist())
    assert per_sector == pytest.approx(expected_by_sector(pilot, "labor"))
    assert limit_by_year(ax, "capacity") == \
        dict(zip(years, pilot.instance.labor_capacity.tolist(), strict=True))
    assert ax.get_ylabel() == "labor employed (specialists)"
    assert "Peak: " in title(ax)


@pytest.mark.solver
def test_uncapped_years_have_no_cap_and_the_units_are_the_programs(tmp_path):
    doc = program([{"id": "A", "capital": 6, "return": 6, "build_years": 3},
                   {"id": "B", "capital": 4, "return": 3, "sector": "ships", "start": 2027}],
                  budget={"per_year": {2026: 5, 2028: 4}},  # 2027, 2029, 2030 uncapped
                  units={"money": "kUSD", "labor": "crew"})
    result = solve(write(tmp_path, doc))
    assert result.valid and result.check.total_capital == pytest.approx(10)
    charts = figures(result)
    ax = charts["capital.png"].axes[0]
    assert limit_by_year(ax, "cap per year") == {2026: 5.0, 2028: 4.0}
    assert sum(bar_heights(ax)[0].values()) == pytest.approx(10)
    assert ax.get_ylabel() == "capital disbursed (kUSD)"
    assert "10.00 kUSD in all (no total cap)" in title(ax)
    labor = charts["labor.png"].axes[0]
    assert labor.get_ylabel() == "labor employed (crew)"
    assert "capacity" not in [ln.get_label() for ln in labor.get_lines()]
    assert [t.get_text() for t in labor.texts] == ["no labor employed in the horizon"]
    assert labor.get_ylim() == (0, 1) and not labor.containers  # no bars, no 1e-9 axis


@pytest.mark.solver
def test_no_plan_draws_nothing(tmp_path):
    doc = program([{"id": "A", "capital": 10, "return": 1}], sectors={"energy": {"min": 20}})
    result = solve(write(tmp_path, doc))
    assert result.status == "infeasible"
    assert plot_result(result, tmp_path / "charts") == []
    assert not (tmp_path / "charts").exists()


# ------------------------------------------------------------------ the cash chart
def waterfall() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two funded (project, start): spec/examples/waterfall.md's unit from 2026 (100
    disbursed, Japan receives 30, 30, 30, 26.0074), and one from 2028 (50, then 10 a
    year for eight years)."""
    rows = [("A", 2026, 2026, 100.0, 0.0)]
    rows += [("A", 2026, 2026 + k, 0.0, j) for k, j in enumerate((30, 30, 30, 26.0074), 1)]
    rows += [("B", 2028, 2028, 50.0, 0.0)]
    rows += [("B", 2028, y, 0.0, 10.0) for y in range(2029, 2037)]
    cash = pd.DataFrame(rows, columns=["project", "start", "year", "disbursed", "received"])
    economics = pd.DataFrame({"project": ["A", "B"], "start": [2026, 2028], "units": [1, 1],
                              "npv": [0.7906, 12.5], "irr": [0.063, None],
                              "recovered_in": [2030, 2034]})
    return cash, economics


def test_cash_by_year_fills_every_year_and_sums_the_flows():
    cash, _ = waterfall()
    per = cash_by_year(cash.sample(frac=1.0, random_state=3))  # order does not matter
    assert per.index.tolist() == list(range(2026, 2037))
    disbursed = np.zeros(11)
    received = np.zeros(11)
    for row in cash.itertuples():
        disbursed[row.year - 2026] += row.disbursed
        received[row.year - 2026] += row.received
    assert per["cumulative_disbursed"].tolist() == pytest.approx(np.cumsum(disbursed))
    assert per["cumulative_received"].tolist() == pytest.approx(np.cumsum(received))
    # received by 2031: 116.0074 + 30 = 146.0074 < 150; by 2032: 156.0074
    assert break_even(per) == 2032
    exact = pd.DataFrame({"project": "A", "start": 2026, "year": [2026, 2027, 2029],
                          "disbursed": [10.0, 0, 0], "received": [0, 5.0, 5.0]})
    assert cash_by_year(exact).index.tolist() == [2026, 2027, 2028, 2029]  # 2028 kept
    assert break_even(cash_by_year(exact)) == 2029  # reached exactly: 10 of 10


def test_cash_chart_draws_the_running_sums_and_marks_the_years():
    cash, economics = waterfall()
    fig = cash_figure(cash, economics, name="Waterfall", money_unit="$B", horizon_end=2030)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    per = cash_by_year(cash)
    assert lines["cumulative disbursed"].get_xdata().tolist() == list(range(2026, 2037))
    assert lines["cumulative disbursed"].get_ydata().tolist() == \
        pytest.approx([100, 100, 150] + [150] * 8)
    assert lines["cumulative received"].get_ydata().tolist() == \
        pytest.approx(per["cumulative_received"].tolist())
    assert lines["cumulative received"].get_ydata()[-1] == pytest.approx(116.0074 + 80)
    assert list(lines["last funded unit recovered: 2034"].get_xdata()) == [2034, 2034]
    assert list(lines["break-even: 2032"].get_xdata()) == [2032, 2032]
    assert list(lines["end of the horizon (2030)"].get_xdata()) == [2030.5, 2030.5]
    marks = [t.get_text() for t in ax.texts]
    assert "last funded unit recovered: 2034" in marks and "break-even: 2032" in marks
    assert ax.get_ylabel() == "cumulative cash ($B)"
    text = title(ax)
    assert "disburses 150.00 $B and receives 196.01 $B by 2036" in text
    assert "NPV to Japan 13.29 $B" in text and fig.get_suptitle() == "Waterfall"


def test_cash_chart_says_when_a_unit_never_recovers():
    cash, economics = waterfall()
    economics["recovered_in"] = [None, None]
    short = cash[~((cash["project"] == "B") & (cash["year"] > 2029))]  # B pays 10 only
    fig = cash_figure(short, economics, name="p")
    ax = fig.axes[0]
    assert recovery(economics) == (None, 2)
    assert break_even(cash_by_year(short)) is None
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert not any(label.startswith(("last funded", "break-even")) for label in labels)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("net outlay") and not any("net gain" in t for t in legend)
    text = title(ax)
    assert "receipts never reach disbursements" in text
    assert "2 funded project starts never recover Japan's balance" in text
    economics["recovered_in"] = [2030, None]  # one recovers, one never does
    ax = cash_figure(cash, economics, name="p").axes[0]
    assert "latest recovery (some never): 2030" in [ln.get_label() for ln in ax.get_lines()]
    assert "1 funded project start never recovers Japan's balance" in title(ax)


def with_usage(result, **fields):
    """``result`` with the checker's usage replaced by a version-2 usage: its table (given
    a ``start`` column if it has none) and ``fields`` (cash, economics)."""
    old = result.check.usage
    table = old.table if "start" in old.table else old.table.assign(start=0)
    usage = SimpleNamespace(**{**vars(old), "table": table, **fields})
    return dataclasses.replace(result, check=dataclasses.replace(result.check, usage=usage))


@pytest.mark.solver
def test_a_plan_with_cash_flows_gets_the_cash_chart(pilot, tmp_path):
    cash, economics = waterfall()
    v2 = with_usage(pilot, cash=cash, economics=economics)
    paths = plot_result(v2, tmp_path)
    assert [p.name for p in paths] == ["capital.png", "labor.png", "cash.png"]
    assert png_size(tmp_path / "cash.png") == (1100, 594)
    ax = figures(v2)["cash.png"].axes[0]
    assert pilot.instance.name in ax.figure.get_suptitle()
    assert "end of the horizon (2035)" in [ln.get_label() for ln in ax.get_lines()]
    # no cash (an empty table, or a version-1 usage without a start column): no chart
    empty = with_usage(pilot, cash=cash.iloc[:0], economics=economics.iloc[:0])
    assert list(figures(empty)) == ["capital.png", "labor.png"]
    v1_table = dataclasses.replace(v2, check=dataclasses.replace(
        v2.check, usage=SimpleNamespace(**{**vars(v2.check.usage), "table": pilot.check.usage
                                           .table.drop(columns="start", errors="ignore")})))
    assert list(figures(v1_table)) == ["capital.png", "labor.png"]


# ----------------------------------------------------------------- failed writes
@pytest.mark.solver
def test_a_failed_write_is_an_optimizer_error_naming_the_path(pilot, tmp_path, monkeypatch):
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    with pytest.raises(OptimizerError, match="taken"):
        plot_result(pilot, taken)
    assert taken.read_text() == "a file, not a folder"

    def full(path, data):
        raise OSError(28, "No space left on device", str(path))

    patch_atomic_write(monkeypatch, full)
    with pytest.raises(OptimizerError, match=r"capital\.png: No space left on device"):
        plot_result(pilot, tmp_path / "charts")
    assert pilot.valid and pilot.check.total_capital > 0  # the result is untouched


# ----------------------------------------------------------------- the command line
@pytest.mark.solver
def test_cli_plot_writes_the_charts_and_lists_them(tmp_path, capsys):
    folder = tmp_path / "charts"
    assert main(["solve", str(PILOT), "--plot", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "status: optimal" in captured.out
    for name in ("capital.png", "labor.png"):
        png_size(folder / name)
        assert f"wrote {folder / name}" in captured.err
    assert not (folder / "cash.png").exists()


@pytest.mark.solver
def test_cli_plot_with_json_keeps_stdout_one_object(tmp_path):
    folder = tmp_path / "charts"
    proc = run("solve", str(small(tmp_path)), "--json", "--plot", str(folder))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # the whole of standard output is one JSON object
    assert data["status"] == "optimal" and "plots" not in data
    assert "wrote" not in proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["capital.png", "labor.png"]


@pytest.mark.solver
def test_cli_plot_failed_write_keeps_the_result_and_exits_2(tmp_path, capsys, monkeypatch):
    def full(path, data):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("optimizer.results.plots.atomic_write", full)
    out = tmp_path / "r.json"
    assert main(["solve", str(small(tmp_path)), "--plot", str(tmp_path / "c"), "--json",
                 "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "optimal"  # reported all the same
    assert json.loads(out.read_text())["status"] == "optimal"
    assert f"could not write {tmp_path / 'c'}: No space left on device" in captured.err


@pytest.mark.parametrize("name, says", [("taken", "exists and is not a folder"),
                                        ("chart.png", "names the folder")])
def test_cli_plot_refuses_a_file_before_solving(tmp_path, capsys, name, says):
    path = small(tmp_path)
    target = tmp_path / name
    if name == "taken":
        target.write_text("x")
    assert main(["solve", str(path), "--plot", str(target)]) == 2
    err = capsys.readouterr().err
    assert says in err and str(target) in err
    assert load(path).name == "test" and not (tmp_path / "chart.png").exists()
