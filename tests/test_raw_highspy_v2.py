"""The raw highspy reference on version-2 (part A) programs, against exhaustive enumeration.

``benchmarks/raw_highspy.py`` builds the version-2 model with numpy (one column per project
and start year, the waterfall vectorised over columns). Here the same programs are solved
by brute force, written from the format's text alone, one unit and one year at a time:
every plan (units per project and start year) is enumerated, checked against every rule of
part A and valued, and the best value must be the reference's optimum. The waterfall is
first checked against the worked example of the format (a unit of 100 paying 60 a year for
four years: Japan receives 30, 30, 30 and 26.0074; NPV 0.7906 at 6%).
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import raw_highspy  # noqa: E402

pytestmark = pytest.mark.solver

V2 = "capital-portfolio/2"


# ------------------------------------------------------- the format, one unit at a time
def waterfall(disbursed: dict, cash: dict, rate: float, before: float, after: float):
    """{year: (J_t, B_t)} over the unit's years, and its recovery year (None if never)."""
    years = [t for t in set(disbursed) | set(cash) if disbursed.get(t) or cash.get(t)]
    out, balance, recovered = {}, 0.0, None
    if not years:
        return out, None
    last_paid = max((t for t, v in disbursed.items() if v), default=min(years))
    for t in range(min(years), max(years) + 1):
        d, c = disbursed.get(t, 0.0), cash.get(t, 0.0)
        owed = balance * (1 + rate) + d
        if c > 0:
            paid = min(before * c, owed)
            japan = paid + after * (c - paid / before)
        else:
            paid = japan = 0.0
        balance = owed - paid
        out[t] = (japan, balance)
        if recovered is None and t >= last_paid and balance <= 1e-9:
            recovered = t
    return out, recovered


def present_value(disbursed: dict, flows: dict, rho: float, base: int) -> float:
    years = set(disbursed) | set(flows)
    return sum((flows.get(t, (0.0, 0.0))[0] - disbursed.get(t, 0.0)) / (1 + rho) ** (t - base)
               for t in years)


def test_the_worked_example():
    flows, recovered = waterfall({0: 100.0}, {t: 60.0 for t in (1, 2, 3, 4)}, 0.06, 0.5, 0.1)
    receipts = [flows[t][0] for t in range(5)]
    assert receipts == pytest.approx([0.0, 30.0, 30.0, 30.0, 26.0074], abs=1e-4)
    assert [flows[t][1] for t in range(5)] == pytest.approx(
        [100.0, 76.0, 50.56, 23.5936, 0.0], abs=1e-4)
    assert sum(receipts) == pytest.approx(116.0074, abs=1e-4) and recovered == 4
    assert present_value({0: 100.0}, flows, 0.06, 0) == pytest.approx(0.7906, abs=1e-4)
    assert present_value({0: 100.0}, flows, 0.10, 0) == pytest.approx(-7.6311, abs=1e-4)
    assert present_value({0: 100.0}, flows, 0.05, 0) == pytest.approx(3.0938, abs=1e-4)
    late, _ = waterfall({2: 100.0}, {t: 60.0 for t in (3, 4, 5, 6)}, 0.06, 0.5, 0.1)
    assert present_value({2: 100.0}, late, 0.06, 0) == pytest.approx(0.7037, abs=1e-4)


def _example(tmp_path, **changes) -> Path:
    project = {"id": "U", "sector": "energy", "capital": 100, "return": 1, "start": 2026,
               "annual_cash": 60, "operating_years": 4}
    project.update(changes.pop("project", {}))
    doc = {"format": V2, "name": "worked example", "horizon": [2026, 2031],
           "budget": {"total": 100}, "sectors": {"energy": {}}, "projects": [project],
           "economics": {"base_year": 2026, "discount_rate": 0.06, "deemed_rate": 0.06,
                         "split": {"before": 0.5, "after": 0.1}, "objective": "npv"}}
    doc.update(changes)
    path = tmp_path / "program.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("changes,objective,starts", [
    ({}, 0.7906, {"2026": 1}),
    ({"project": {"earliest_start": 2028, "latest_start": 2028}}, 0.7037, {"2028": 1}),
    ({"project": {"latest_start": 2028}}, 0.7906, {"2026": 1}),
    ({"project_hurdle": {"irr": 0.10}}, 0.0, {}),
    ({"project_hurdle": {"irr": 0.05}}, 0.7906, {"2026": 1}),
    ({"project_hurdle": {"recover_within": 3}}, 0.0, {}),
    ({"project_hurdle": {"recover_within": 4}}, 0.7906, {"2026": 1}),
    ({"project": {"loss_rate": 0.5}}, 0.0, {}),                 # 30 a year: a loss
])
def test_the_reference_values_the_worked_example(tmp_path, changes, objective, starts):
    out = raw_highspy.solve_file(_example(tmp_path, **changes), gap=0.0)
    assert out["status"] == "optimal"
    assert out["objective"] == pytest.approx(objective, abs=1e-4)
    assert out["starts"] == [starts]


# ------------------------------------------------------------ tiny random programs
def random_program(rng: np.random.Generator, folder: Path, timing: bool = False) -> Path:
    """A program of 2-5 projects with every part-A rule drawn at random; with ``timing``,
    projects worth funding, three-year windows and one or two ``requires`` with a lag in
    every program (where the lag rule binds most often)."""
    first = 2026
    last = first + int(rng.integers(3, 7)) - 1
    n = int(rng.integers(3 if timing else 2, 6))
    rows, profiles, cash_rows = [], [], []
    for i in range(n):
        pid = f"P{i}"
        row: dict = {"id": pid, "sector": ["a", "b"][int(rng.integers(2))],
                     "return": round(float(rng.uniform(-0.5, 2.0)), 2),
                     "max_units": int(rng.choice([1, 1, 2]))}
        start = int(rng.integers(first, last + 1))
        if rng.random() < 0.25:                                  # a profile, maybe with a gap
            years = sorted(set(int(start + k) for k in rng.integers(0, 3, 2)) | {start})
            for y in years:
                profiles.append({"project": pid, "year": y,
                                 "capital": round(float(rng.uniform(0.5, 3.0)), 2),
                                 "labor": int(rng.integers(0, 30))})
            end = max(years)
        else:
            build = int(rng.integers(1, 4))
            row.update(capital=round(float(rng.uniform(1.0, 5.0)), 2), start=start,
                       build_years=build, labor=int(rng.integers(0, 30)))
            end = start + build - 1
        if rng.random() < 0.25:
            row.update(reinvest_every=int(rng.integers(2, 4)),
                       reinvest_capital=round(float(rng.uniform(0.2, 1.0)), 2))
        width = 3 if timing else int(rng.integers(1, 4))
        early = int(rng.integers(0, width))
        lo, hi = max(first, start - early), min(last, start + width - 1 - early)
        if lo != start or rng.random() < 0.2:
            row["earliest_start"] = lo
        if hi != start or rng.random() < 0.2:
            row["latest_start"] = hi
        kind = 0 if timing else rng.choice(3, p=[0.55, 0.3, 0.15])
        size = row.get("capital", sum(r["capital"] for r in profiles if r["project"] == pid))
        if kind == 0:
            row.update(annual_cash=round(float(size * rng.uniform(0.5 if timing else 0.2,
                                                                  1.0)), 2),
                       operating_years=int(rng.integers(2, 9)))
        elif kind == 1:
            for offset in sorted(set(int(k) for k in rng.integers(0, end - start + 8, 5))):
                cash_rows.append({"project": pid, "offset": offset,
                                  "cash": round(float(rng.uniform(0.0, 3.0)), 2)})
        if kind < 2 and rng.random() < 0.3:
            row["loss_rate"] = round(float(rng.uniform(0.0, 0.3)), 2)
        if kind < 2 and rng.random() < 0.2:
            row["deemed_rate"] = round(float(rng.uniform(0.02, 0.1)), 3)
        if rng.random() < (0 if timing else 0.15):
            row["force"] = str(rng.choice(["in", "out"]))
        rows.append(row)
    before = round(float(rng.uniform(0.4, 1.0)), 2)
    doc: dict = {
        "format": V2, "name": "random", "horizon": [first, last],
        "sectors": {"a": {}, "b": {}},
        "economics": {"base_year": first + int(rng.integers(0, 2)),
                      "discount_rate": round(float(rng.uniform(0.0, 0.1)), 3),
                      "deemed_rate": round(float(rng.uniform(0.0, 0.08)), 3),
                      "split": {"before": before,
                                "after": round(float(rng.uniform(0.05, before)), 2)},
                      "objective": "npv" if rng.random() < 0.7 else "return"},
    }
    if timing:                                   # money is cheap, the deemed rate is not
        doc["economics"].update(discount_rate=0.01, deemed_rate=0.06, objective="npv")
    scale = sum(r.get("capital", 4.0) * r["max_units"] for r in rows)
    budget: dict = {}
    if rng.random() < 0.9:
        budget["total"] = round(float(scale * rng.uniform(0.5 if timing else 0.2, 0.8)), 2)
        if rng.random() < 0.5:
            budget["recycle"] = True
    if rng.random() < 0.5:
        budget["per_year"] = {int(y): round(float(scale * rng.uniform(0.05, 0.4)), 2)
                              for y in rng.integers(first, last + 1, 2)}
    if budget:
        doc["budget"] = budget
    if rng.random() < 0.4:
        doc["commitment_deadline"] = int(rng.integers(first, last + 1))
    if rng.random() < (0.1 if timing else 0.5):
        hurdle = {}
        if rng.random() < 0.7:
            hurdle["irr"] = round(float(rng.uniform(0.0, 0.1)), 3)
        if rng.random() < 0.6 or not hurdle:
            hurdle["recover_within"] = int(rng.integers(2, 10))
        doc["project_hurdle"] = hurdle
    if rng.random() < 0.3:
        doc["hurdle_rate"] = round(float(rng.uniform(0.0, 0.2)), 2)
    if rng.random() < 0.4:
        doc["labor"] = {"capacity": {int(y): int(rng.integers(10, 60))
                                     for y in rng.integers(first, last + 1, 2)}}
    if rng.random() < 0.3:
        doc["sectors"]["a"] = {"max": round(float(scale * rng.uniform(0.1, 0.5)), 2)}
    if rng.random() < 0.2:
        doc["sectors"]["b"] = {"min": round(float(scale * rng.uniform(0.0, 0.2)), 2)}
    deps = []
    for _ in range(int(rng.integers(1, 3) if timing else rng.integers(0, 3))):
        a, b = (f"P{k}" for k in rng.choice(n, 2, replace=False))
        dep: dict = {"type": "requires", "project": a, "on": b}
        if timing or rng.random() < 0.6:
            dep["lag"] = int(rng.integers(0, 3))
        deps.append(dep)
    if n >= 3 and rng.random() < 0.3:
        deps.append({"type": "excludes", "projects": [f"P{k}" for k in
                                                      rng.choice(n, 2, replace=False)]})
    if deps:
        doc["dependencies"] = deps
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "projects.csv", index=False)
    doc["projects"] = "projects.csv"
    if profiles:
        pd.DataFrame(profiles).to_csv(folder / "profiles.csv", index=False)
        doc["profiles"] = "profiles.csv"
    if cash_rows:
        if rng.random() < 0.5:
            doc["cash_flows"] = cash_rows                        # inline
        else:
            pd.DataFrame(cash_rows).to_csv(folder / "cash.csv", index=False)
            doc["cash_flows"] = "cash.csv"
    path = folder / "program.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _value(row: pd.Series, name: str, default):
    value = row.get(name, default)
    return default if value is None or (isinstance(value, float) and np.isnan(value)) \
        else value


def units_of(path: Path) -> tuple[dict, list[dict]]:
    """The program, and every unit (project, start year) it could fund, valued by the
    format's text: one dict per unit with its years' capital and labor, total capital,
    receipts, NPV, the hurdle's verdict and its return."""
    doc = yaml.safe_load(path.read_text())
    folder = path.parent
    projects = pd.read_csv(folder / doc["projects"], dtype={"id": str})
    profiles = (pd.read_csv(folder / doc["profiles"]) if doc.get("profiles")
                else pd.DataFrame(columns=["project", "year", "capital", "labor"]))
    cash_spec = doc.get("cash_flows")
    table = (pd.DataFrame(cash_spec) if isinstance(cash_spec, list) else
             pd.read_csv(folder / cash_spec) if cash_spec else
             pd.DataFrame(columns=["project", "offset", "cash"]))
    first, last = doc["horizon"]
    econ = doc["economics"]
    hurdle = doc.get("project_hurdle")
    units = []
    for _, p in projects.iterrows():
        pid = p["id"]
        rows = profiles[profiles["project"] == pid]
        nominal = int(rows["year"].min()) if len(rows) else int(p["start"])
        earliest = int(_value(p, "earliest_start", nominal))
        latest = int(_value(p, "latest_start", nominal))
        loss = float(_value(p, "loss_rate", 0.0))
        rate = float(_value(p, "deemed_rate", econ["deemed_rate"]))
        for s in range(earliest, latest + 1):
            shift = s - nominal
            capital, labor = defaultdict(float), defaultdict(float)
            if len(rows):
                for _, r in rows.iterrows():
                    capital[int(r["year"]) + shift] += float(r["capital"])
                    labor[int(r["year"]) + shift] += float(r["labor"])
                built = int(rows["year"].max()) + shift
            else:
                build = int(_value(p, "build_years", 1))
                for k in range(build):
                    capital[s + k] += float(p["capital"]) / build
                    labor[s + k] += float(_value(p, "labor", 0.0))
                built = s + build - 1
            every = int(_value(p, "reinvest_every", 0))
            k = 1
            while every and s + k * every <= last:
                capital[s + k * every] += float(p["reinvest_capital"])
                k += 1
            cash = defaultdict(float)
            if not np.isnan(float(_value(p, "annual_cash", np.nan))):
                for k in range(int(p["operating_years"])):
                    cash[built + 1 + k] += float(p["annual_cash"]) * (1 - loss)
            for _, r in table[table["project"] == pid].iterrows():
                cash[s + int(r["offset"])] += float(r["cash"]) * (1 - loss)
            split = econ["split"]
            flows, recovered = waterfall(capital, cash, rate, split["before"], split["after"])
            passes = True
            if hurdle is not None:
                passes = any(v > 0 for v in cash.values())
                if "irr" in hurdle:
                    passes &= present_value(capital, flows, hurdle["irr"],
                                            econ["base_year"]) >= -1e-9
                if "recover_within" in hurdle:
                    passes &= recovered is not None and recovered <= s + hurdle["recover_within"]
            units.append({
                "project": pid, "start": s, "max_units": int(_value(p, "max_units", 1)),
                "sector": p["sector"], "force": _value(p, "force", ""),
                "return": float(_value(p, "return", 0.0)),
                "capital": dict(capital), "labor": dict(labor),
                "total": sum(capital.values()),
                "receipts": {t: j for t, (j, _b) in flows.items()},
                "npv": present_value(capital, flows, econ["discount_rate"], econ["base_year"]),
                "passes": passes})
    return doc, units


def best_by_enumeration(doc: dict, units: list[dict]):
    """The best value over every plan that keeps every rule (None if none does), the plans
    that keep them (units by unit column), their values, and the units."""
    first, last = doc["horizon"]
    years = range(first, last + 1)
    by_project: dict[str, list[int]] = defaultdict(list)
    for c, u in enumerate(units):
        by_project[u["project"]].append(c)
    choices = []                       # per project: every vector of units by start
    for cols in by_project.values():
        top = units[cols[0]]["max_units"]
        choices.append([v for v in itertools.product(range(top + 1), repeat=len(cols))
                        if sum(v) <= top])
    plans = np.array([np.concatenate(pick) for pick in itertools.product(*choices)], dtype=float)
    order = np.concatenate(list(by_project.values()))
    plan = np.zeros_like(plans)
    plan[:, order] = plans
    ok = np.ones(len(plan), dtype=bool)

    def column(f) -> np.ndarray:
        return np.array([float(f(u)) for u in units])

    def funded(pid: str) -> np.ndarray:
        return plan[:, by_project[pid]].sum(axis=1)

    deadline = doc.get("commitment_deadline")
    ok &= plan @ column(lambda u: not u["passes"]
                        or (deadline is not None and u["start"] > deadline)) == 0
    for pid, cols in by_project.items():
        force = units[cols[0]]["force"]
        if force == "in":
            ok &= funded(pid) >= 1
        elif force == "out":
            ok &= funded(pid) == 0
    budget = doc.get("budget") or {}
    total = column(lambda u: u["total"])
    if budget.get("total") is not None and budget.get("recycle"):
        for t in years:
            spent = total if t == last else column(
                lambda u, t=t: sum(v for y, v in u["capital"].items() if y <= t))
            back = column(lambda u, t=t: sum(v for y, v in u["receipts"].items() if y < t))
            ok &= plan @ (spent - back) <= budget["total"] + 1e-9
    elif budget.get("total") is not None:
        ok &= plan @ total <= budget["total"] + 1e-9
    for key, caps in (("capital", budget.get("per_year") or {}),
                      ("labor", (doc.get("labor") or {}).get("capacity") or {})):
        for t, cap in caps.items():
            if first <= int(t) <= last:
                ok &= plan @ column(lambda u, t=t, key=key: u[key].get(int(t), 0.0)) \
                    <= cap + 1e-9
    for name, limits in doc["sectors"].items():
        mine = plan @ column(lambda u, name=name: u["total"] * (u["sector"] == name))
        ok &= mine >= (limits or {}).get("min", -np.inf) - 1e-9
        ok &= mine <= (limits or {}).get("max", np.inf) + 1e-9
    if doc.get("hurdle_rate") is not None:
        ok &= plan @ column(lambda u: u["return"] - doc["hurdle_rate"] * u["total"]) >= -1e-9
    for dep in doc.get("dependencies") or []:
        if dep["type"] == "excludes":
            ok &= sum((funded(p) > 0).astype(int) for p in dep["projects"]) <= 1
            continue
        a, b, lag = dep["project"], dep["on"], dep.get("lag")
        ok &= (funded(a) == 0) | (funded(b) > 0)
        if lag is not None:
            top = units[by_project[a][0]]["max_units"]
            for t in years:
                mine = plan @ column(lambda u, t=t, a=a: u["project"] == a and u["start"] <= t)
                theirs = plan @ column(lambda u, t=t, b=b, lag=lag: u["project"] == b
                                       and u["start"] <= t - lag)
                ok &= mine <= top * theirs
    value = plan @ column(lambda u: u["npv"] if doc["economics"]["objective"] == "npv"
                          else u["return"])
    best = float(value[ok].max()) if ok.any() else None
    return best, plan[ok], value[ok], units


SEEDS = range(60)
CASES = [(seed, False) for seed in SEEDS] + [(seed, True) for seed in range(1000, 1040)]


@pytest.mark.parametrize("seed,timing", CASES)
def test_the_reference_finds_the_best_plan_of_every_tiny_program(tmp_path, seed, timing):
    path = random_program(np.random.default_rng(seed), tmp_path, timing)
    doc, units = units_of(path)
    best, plans, values, units = best_by_enumeration(doc, units)
    out = raw_highspy.solve_file(path, gap=0.0)
    if best is None:
        assert out["status"] == "infeasible", out
        return
    assert out["status"] == "optimal", out
    assert out["objective"] == pytest.approx(best, abs=1e-6, rel=1e-7)
    # the reference's own plan is one the enumeration found, and worth its optimum
    mine = np.zeros(len(units))
    ids = list(dict.fromkeys(u["project"] for u in units))
    for pid, starts in zip(ids, out["starts"], strict=True):
        for year, count in starts.items():
            c = next(k for k, u in enumerate(units)
                     if u["project"] == pid and u["start"] == int(year))
            mine[c] = count
    match = np.flatnonzero((plans == mine).all(axis=1))
    assert len(match) == 1 and values[match[0]] == pytest.approx(best, abs=1e-6)


def test_the_tiny_programs_are_not_trivial(tmp_path):
    """Across the seeds: most are feasible; in most, the best plan funds some units and
    leaves others; and several use more than one start year of a project or a late one."""
    feasible = funds = leaves = late = 0
    for seed in SEEDS:
        path = random_program(np.random.default_rng(seed), tmp_path / str(seed))
        best, plans, values, units = best_by_enumeration(*units_of(path))
        if best is None:
            continue
        feasible += 1
        plan = plans[np.argmax(values)]
        funds += plan.sum() > 0
        leaves += plan.sum() < sum({u["project"]: u["max_units"] for u in units}.values())
        earliest = {}
        for u in units:
            earliest.setdefault(u["project"], u["start"])
        late += any(k and u["start"] > earliest[u["project"]] for k, u in zip(plan, units,
                                                                              strict=True))
    assert feasible >= 0.6 * len(SEEDS)
    assert funds >= 0.6 * feasible and leaves >= 0.6 * feasible and late >= 5, \
        (feasible, funds, leaves, late)


def test_a_version_2_file_without_its_fields_means_version_1(tmp_path):
    """The same generated program read as version 1 and as version 2 (no part-A field):
    the same optimum through the two model paths of the reference."""
    from optimizer.program.generate import generate, write

    path = write(generate(60, seed=3), tmp_path)
    v1 = raw_highspy.solve_file(path, gap=0.0)
    text = path.read_text().replace("capital-portfolio/1", V2)
    (tmp_path / "v2.yaml").write_text(text)
    v2 = raw_highspy.solve_file(tmp_path / "v2.yaml", gap=0.0)
    assert v1["status"] == v2["status"] == "optimal"
    assert v2["objective"] == pytest.approx(v1["objective"], rel=1e-9)
    assert (v2["units"] == v1["units"]).all()
