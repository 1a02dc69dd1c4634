# ruff: noqa: B023, B905, E501, E741  (an independent checker written apart from the package: its lambdas run at once, inside their loops)
"""Held-out check of the Japanese-supplier share (format version 2, B4) by enumeration.

Seeded random ``capital-portfolio/2`` programs combine ``japan_share`` /
``min_japan_share`` with version-1 rules (total and per-year budget, sector floors and
ceilings, labor, hurdle, requires / excludes, forced choices, modular projects,
reinvestments, profiles). The expected answer comes from this file alone: the spec's
arithmetic (instance-format.md section 4, instance-format-v2.md B4) in exact rationals and
an enumeration of every unit vector. Nothing is shared with the loader, model or checker.
"""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction as F

import pytest

from optimizer import SolveOptions, load, solve

pytestmark = pytest.mark.solver

Y0 = 2026


def _dec(rng, lo, hi, nd=2):
    return f"{rng.uniform(lo, hi):.{nd}f}"


def _program(seed):
    rng = random.Random(seed)
    years = list(range(Y0, Y0 + rng.randint(3, 4)))
    sectors = ["energy", "semis", "ships"][: rng.randint(1, 3)]
    projects, profiles, space = [], [], 1
    for k in range(rng.randint(3, 7)):
        p = {"id": f"P{k + 1:02d}", "sector": rng.choice(sectors), "_mu": 1}
        if rng.random() < 0.3 and space * 3 <= 300:
            p["_mu"] = p["max_units"] = rng.choice([2, 2, 3])
        space *= p["_mu"] + 1
        if rng.random() < 0.2:
            first = rng.choice(years)
            for j in range(rng.randint(1, 3)):  # may run past the horizon
                profiles.append((p["id"], first + j, rng.randint(1, 15), rng.randint(0, 40)))
        else:
            p["capital"] = _dec(rng, 1, 30, rng.choice([0, 1, 2]))
            p["start"] = rng.choice(years)
            if rng.random() < 0.5:
                p["build_years"] = rng.randint(1, 3)
            if rng.random() < 0.4:
                p["labor"] = rng.randint(1, 50)
        if rng.random() < 0.15:
            p["reinvest_every"] = rng.randint(1, 3)
            p["reinvest_capital"] = _dec(rng, 0.5, 8, 1)
        p["return"] = _dec(rng, -1.5, 6)
        r = rng.random()
        if r < 0.06:
            p["force"] = "in"
        elif r < 0.12:
            p["force"] = "out"
        r = rng.random()
        if r > 0.12:
            p["japan_share"] = "0" if r < 0.3 else "1" if r < 0.36 else _dec(rng, 0, 1)
        projects.append(p)
    prog = {"years": years, "projects": projects, "profiles": profiles, "deps": [],
            "budget": {}, "sectors": {s: {} for s in sectors}, "labor": {}}
    data = _data(prog)
    full = lambda f: sum(f(p) * p["_mu"] for p in projects)  # noqa: E731
    if rng.random() < 0.7:
        prog["budget"]["total"] = f"{float(full(lambda p: data[p['id']]['C'])) * rng.uniform(0.25, 0.9):.1f}"
    for y in years:
        if rng.random() < 0.25:
            cap = float(full(lambda p: data[p["id"]]["c"].get(y, 0))) * rng.uniform(0.2, 0.9)
            prog["budget"].setdefault("per_year", {})[y] = f"{cap:.1f}"
        need = float(full(lambda p: data[p["id"]]["l"].get(y, 0)))
        if need > 0 and rng.random() < 0.3:
            prog["labor"].setdefault("capacity", {})[y] = str(int(need * rng.uniform(0.2, 0.9)))
    for s in sectors:
        tot = float(full(lambda p: data[p["id"]]["C"] if p["sector"] == s else 0))
        if tot > 0 and rng.random() < 0.25:
            prog["sectors"][s]["min"] = f"{tot * rng.uniform(0.05, 0.35):.1f}"
        if tot > 0 and rng.random() < 0.3:
            prog["sectors"][s]["max"] = f"{tot * rng.uniform(0.3, 0.9):.1f}"
    if rng.random() < 0.3:
        prog["hurdle_rate"] = _dec(rng, 0, 0.2)
    ids = [p["id"] for p in projects]
    for _ in range(rng.choice([0, 1, 2])):
        prog["deps"].append(("requires", *rng.sample(ids, 2)))
    for _ in range(rng.choice([0, 1])):
        prog["deps"].append(("excludes", rng.sample(ids, 2)))
    if rng.random() < 0.9:
        prog["min_japan_share"] = _dec(rng, 0.05, 0.6)
    return prog


def _data(prog):
    """Per project, from the spec: C (capital per unit over the plan, years past the horizon
    included, plus reinvestments inside it), c / l (capital / labor by year), r, share."""
    last = prog["years"][-1]
    rows = {}
    for pid, y, cap, lab in prog["profiles"]:
        rows.setdefault(pid, []).append((y, F(cap), F(lab)))
    out = {}
    for p in prog["projects"]:
        c, l = {}, {}
        if p["id"] in rows:
            for y, cap, lab in rows[p["id"]]:
                c[y], l[y] = cap, lab
            start = min(c)
        else:
            b, start = p.get("build_years", 1), p["start"]
            for y in range(start, start + b):
                c[y], l[y] = F(p["capital"]) / b, F(p.get("labor", 0))
        C = sum(c.values())
        if "reinvest_every" in p:
            y = start + p["reinvest_every"]
            while y <= last:
                c[y] = c.get(y, 0) + F(p["reinvest_capital"])
                C += F(p["reinvest_capital"])
                y += p["reinvest_every"]
        out[p["id"]] = {"C": C, "c": c, "l": l, "r": F(p["return"]),
                        "js": F(p.get("japan_share", 0)), "mu": p["_mu"]}
    return out


def _rows(prog):
    d = _data(prog)
    ids = [p["id"] for p in prog["projects"]]
    sec = {p["id"]: p["sector"] for p in prog["projects"]}
    rows = []  # sum a_i u_i <= b

    def add(f, b):
        rows.append(([F(f(i)) for i in ids], F(b)))

    if "total" in prog["budget"]:
        add(lambda i: d[i]["C"], prog["budget"]["total"])
    for y, cap in prog["budget"].get("per_year", {}).items():
        add(lambda i: d[i]["c"].get(y, 0), cap)
    for y, cap in prog["labor"].get("capacity", {}).items():
        add(lambda i: d[i]["l"].get(y, 0), cap)
    for s, sm in prog["sectors"].items():
        if "min" in sm:
            add(lambda i: -d[i]["C"] if sec[i] == s else 0, -F(sm["min"]))
        if "max" in sm:
            add(lambda i: d[i]["C"] if sec[i] == s else 0, sm["max"])
    if "hurdle_rate" in prog:
        h = F(prog["hurdle_rate"])
        add(lambda i: h * d[i]["C"] - d[i]["r"], 0)
    if "min_japan_share" in prog:
        beta = F(prog["min_japan_share"])
        add(lambda i: (beta - d[i]["js"]) * d[i]["C"], 0)
    return ids, d, rows


def _feasible(prog, units):
    ids, d, rows = _rows(prog)
    u = [units.get(i, 0) for i in ids]
    force = {p["id"]: p.get("force") for p in prog["projects"]}
    if any(not 0 <= units.get(i, 0) <= d[i]["mu"] for i in ids):
        return False
    if any((force[i] == "in" and not units.get(i)) or (force[i] == "out" and units.get(i))
           for i in ids):
        return False
    for dep in prog["deps"]:
        if dep[0] == "requires" and units.get(dep[1]) and not units.get(dep[2]):
            return False
        if dep[0] == "excludes" and sum(1 for i in dep[1] if units.get(i)) > 1:
            return False
    return all(sum(a * x for a, x in zip(row, u)) <= b for row, b in rows)


def _brute(prog):
    ids, d, rows = _rows(prog)
    irows = []
    for a, b in rows:
        den = math.lcm(*(x.denominator for x in a + [b]))
        irows.append(([int(x * den) for x in a], math.floor(b * den)))
    force = {p["id"]: p.get("force") for p in prog["projects"]}
    ranges = [range(1, d[i]["mu"] + 1) if force[i] == "in" else range(1) if force[i] == "out"
              else range(d[i]["mu"] + 1) for i in ids]
    pos = {i: k for k, i in enumerate(ids)}
    req = [(pos[x[1]], pos[x[2]]) for x in prog["deps"] if x[0] == "requires"]
    exc = [[pos[i] for i in x[1]] for x in prog["deps"] if x[0] == "excludes"]
    best, plan = None, None
    for u in itertools.product(*ranges):
        if any(u[a] and not u[b] for a, b in req) or any(sum(1 for k in s if u[k]) > 1 for s in exc):
            continue
        if all(sum(x * y for x, y in zip(a, u)) <= b for a, b in irows):
            val = sum(d[i]["r"] * n for i, n in zip(ids, u))
            if best is None or val > best:
                best, plan = val, {i: n for i, n in zip(ids, u) if n}
    return best, plan


def _tight(prog):
    """The program with min_japan_share just above the share of its best plan without the
    rule (so that plan is cut off), or None when that plan is empty or already at 100%."""
    free = {k: v for k, v in prog.items() if k != "min_japan_share"}
    best, plan = _brute(free)
    d = _data(prog)
    cap = sum(d[i]["C"] * n for i, n in (plan or {}).items())
    if not cap:
        return None
    share = sum(d[i]["js"] * d[i]["C"] * n for i, n in plan.items()) / cap
    beta = math.floor(share * 1000 + 1) / F(1000)
    return None if beta > 1 else dict(free, min_japan_share=f"{float(beta):.3f}")


def _write(prog, tmp_path):
    lines = ["format: capital-portfolio/2", "name: japan-independent",
             f"horizon: [{prog['years'][0]}, {prog['years'][-1]}]"]
    b = prog["budget"]
    if b:
        parts = [f"total: {b['total']}"] if "total" in b else []
        if "per_year" in b:
            parts.append("per_year: {" + ", ".join(f"{y}: {v}" for y, v in b["per_year"].items()) + "}")
        lines.append("budget: {" + ", ".join(parts) + "}")
    for key in ("hurdle_rate", "min_japan_share"):
        if key in prog:
            lines.append(f"{key}: {prog[key]}")
    lines.append("sectors:")
    lines += [f"  {s}: {{" + ", ".join(f"{k}: {v}" for k, v in m.items()) + "}"
              for s, m in prog["sectors"].items()]
    if prog["labor"]:
        cap = prog["labor"]["capacity"]
        lines.append("labor: {capacity: {" + ", ".join(f"{y}: {v}" for y, v in cap.items()) + "}}")
    lines.append("projects:")
    for p in prog["projects"]:
        lines.append("  - {" + ", ".join(f"{k}: {v}" for k, v in p.items() if k[0] != "_") + "}")
    if prog["profiles"]:
        lines.append("profiles: profiles.csv")
        (tmp_path / "profiles.csv").write_text(
            "project,year,capital,labor\n"
            + "".join(f"{p},{y},{c},{lab}\n" for p, y, c, lab in prog["profiles"]))
    if prog["deps"]:
        lines.append("dependencies:")
        for dep in prog["deps"]:
            lines.append(f"  - {{type: requires, project: {dep[1]}, on: {dep[2]}}}"
                         if dep[0] == "requires"
                         else f"  - {{type: excludes, projects: [{', '.join(dep[1])}]}}")
    path = tmp_path / "program.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _agrees(prog, tmp_path):
    best, _ = _brute(prog)
    result = solve(load(_write(prog, tmp_path)), SolveOptions(threads=1, gap=0.0)).to_dict()
    if best is None:
        assert result["status"] == "infeasible"
        return
    assert result["status"] == "optimal"
    assert result["objective"] == pytest.approx(float(best), rel=1e-6, abs=1e-9)
    units = {s["id"]: s["units"] for s in result["selected"]}
    assert _feasible(prog, units), units


@pytest.mark.parametrize("seed", range(40))
def test_japan_share_against_enumeration(seed, tmp_path):
    """The drawn program, then the same program with the share set just above its
    unconstrained optimum's (where there is one), which the rule must then cut off."""
    prog = _program(1000 + seed)
    _agrees(prog, tmp_path)
    tight = _tight(prog)
    if tight is not None:
        (tmp_path / "tight").mkdir()
        _agrees(tight, tmp_path / "tight")
