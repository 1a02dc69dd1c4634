"""An independent reference for format version 2, part A (the version-2 contract, A1-A3, on
top of version 1): the contract's arithmetic written out in plain Python, from the
spec alone. Nothing here comes from the package (no loader, model, checker or solver), so
that comparing the two catches the package's mistakes.

A *program* is a plain dict holding the same data :func:`write_program` puts in the files::

    {"format": "capital-portfolio/2", "horizon": [2026, 2030],
     "budget": {"total": 20, "per_year": {2026: 8}, "recycle": True},
     "sectors": {"energy": {"min": 5, "max": 30}}, "labor": {"capacity": {2026: 50}},
     "hurdle_rate": 0.05, "commitment_deadline": 2028,
     "economics": {"base_year": 2026, "discount_rate": 0.06, "deemed_rate": 0.055,
                   "split": {"before": 0.5, "after": 0.1}, "objective": "npv"},
     "project_hurdle": {"irr": 0.1, "recover_within": 20},
     "dependencies": [{"type": "requires", "project": "A", "on": "B", "lag": 2},
                      {"type": "excludes", "projects": ["A", "C"]}],
     "projects": [{"id": "A", "sector": "energy", "capital": 10, "return": 2, "start": 2026,
                   "earliest_start": 2026, "latest_start": 2028, "annual_cash": 3,
                   "operating_years": 5, "loss_rate": 0.1, "deemed_rate": 0.05}, ...],
     "profiles": [{"project": "B", "year": 2027, "capital": 4, "labor": 10}, ...],
     "cash_flows": [{"project": "C", "offset": 1, "cash": 6.5}, ...]}

A *plan* maps (project id, start year) to the units started that year.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

V1 = "capital-portfolio/1"
V2 = "capital-portfolio/2"
#: a linear rule lhs <= rhs holds when lhs <= rhs + FEAS_TOL * max(1, |lhs|, |rhs|)
FEAS_TOL = 1e-6
#: "NPV >= 0" of the per-project irr test holds within 1e-9 (A2)
HURDLE_TOL = 1e-9
#: a balance B_t <= 1e-9 is recovered (A2)
RECOVERED = 1e-9

Plan = dict[tuple[str, int], int]

# ------------------------------------------------------------------------------- the files
_TABLES = {
    "projects": ("projects.csv", ("id", "name", "sector", "capital", "return", "start",
                                  "build_years", "labor", "reinvest_every", "reinvest_capital",
                                  "max_units", "force", "earliest_start", "latest_start",
                                  "annual_cash", "operating_years", "loss_rate",
                                  "deemed_rate")),
    "profiles": ("profiles.csv", ("project", "year", "capital", "labor")),
    "cash_flows": ("cash.csv", ("project", "offset", "cash")),
}


def _plain(value: Any) -> Any:
    """Python scalars, lists and dicts only (numpy numbers made plain) for YAML."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def write_program(tmp_dir: Path | str, program: dict[str, Any], inline: bool = False,
                  name: str = "program.yaml") -> Path:
    """Write ``program`` as program.yaml (with projects.csv, profiles.csv and cash.csv
    beside it, or the tables inline when ``inline``) and return the YAML file's path. The
    format is ``program["format"]`` (default ``capital-portfolio/2``)."""
    tmp_dir = Path(tmp_dir)
    doc: dict[str, Any] = {"format": program.get("format", V2),
                           "name": program.get("name", "v2-reference")}
    for key, value in program.items():
        if key in ("format", "name"):
            continue
        if key in _TABLES:
            if not value and key != "projects":
                continue
            file, order = _TABLES[key]
            rows = [{k: v for k, v in row.items() if v is not None} for row in value]
            if inline:
                doc[key] = _plain(rows)
                continue
            cols = [c for c in order if any(c in r for r in rows)]
            cols += sorted({k for r in rows for k in r} - set(cols))
            with (tmp_dir / file).open("w", newline="", encoding="utf-8") as fh:
                out = csv.writer(fh, lineterminator="\n")
                out.writerow(cols)
                out.writerows([_cell(r.get(c)) for c in cols] for r in rows)
            doc[key] = file
        else:
            doc[key] = _plain(value)
    path = tmp_dir / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- the money of a unit
@dataclass(frozen=True)
class Step:
    """One year of the waterfall (A2), exactly as the spec writes it."""
    year: int
    D: float
    C: float
    owed: float
    paid: float
    J: float
    B: float


def waterfall(D: dict[int, float], C: dict[int, float], r: float, before: float,
              after: float) -> list[Step]:
    """owed_t = B_{t-1}(1+r) + D_t; paid_t = min(before C_t, owed_t) if C_t > 0 else 0;
    J_t = paid_t + after (C_t - paid_t / before) if C_t > 0 else 0; B_t = owed_t - paid_t;
    B = 0 before the first year with D_t or C_t, for every year up to the last."""
    years = [t for t in set(D) | set(C) if D.get(t, 0.0) != 0.0 or C.get(t, 0.0) != 0.0]
    if not years:
        return []
    steps, B = [], 0.0
    for t in range(min(years), max(years) + 1):
        d, c = D.get(t, 0.0), C.get(t, 0.0)
        owed = B * (1 + r) + d
        paid = min(before * c, owed) if c > 0 else 0.0
        j = paid + after * (c - paid / before) if c > 0 else 0.0
        B = owed - paid
        steps.append(Step(t, d, c, owed, paid, j, B))
    return steps


def present_value(flows: dict[int, float], rate: float, base: int) -> float:
    return sum(v / (1 + rate) ** (t - base) for t, v in flows.items())


def irr(flows: dict[int, float]) -> float | None:
    """The rate at which ``flows`` have NPV 0 where their sign changes exactly once (zeros
    skipped), else None. With one change of sign the polynomial in x = 1 / (1 + rate) has
    exactly one positive root (Descartes), found here by bisection."""
    items = sorted((t, v) for t, v in flows.items() if abs(v) > 1e-12)
    signs = [v > 0 for _, v in items]
    if sum(a != b for a, b in itertools.pairwise(signs)) != 1:
        return None
    t0 = items[0][0]

    def g(x: float) -> float:
        return sum(v * x ** (t - t0) for t, v in items)

    lo, hi = 0.0, 1.0
    while (g(hi) > 0) == signs[0]:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if (g(mid) > 0) == signs[0]:
            lo = mid
        else:
            hi = mid
    return 1.0 / ((lo + hi) / 2) - 1.0


@dataclass(frozen=True)
class Unit:
    """One unit of a project started in year ``start``."""
    project: str
    start: int
    D: dict[int, float]        # capital disbursed by year (years past the horizon included)
    labor: dict[int, float]    # labor by year (shifted)
    C: dict[int, float] | None  # cash by year after loss_rate; None without cash flows
    steps: list[Step]          # the waterfall (empty without cash flows)
    capital: float             # C_{i,s}: every disbursement of the unit
    npv: float | None          # NPV_{i,s} at the discount rate (None without one)
    recovered_in: int | None
    irr: float | None

    @property
    def J(self) -> dict[int, float]:
        return {s.year: s.J for s in self.steps}


# ------------------------------------------------------------------------------ a program
_FIELDS = {"format", "name", "horizon", "budget", "hurdle_rate", "sectors", "labor",
           "projects", "profiles", "dependencies", "known_optimum", "known_optimum_proven",
           "description", "source", "notes", "units", "commitment_deadline", "cash_flows",
           "economics", "project_hurdle"}
_V2_FIELDS = {"commitment_deadline", "cash_flows", "economics", "project_hurdle"}
_V2_COLUMNS = set(_TABLES["projects"][1][-6:])


class Reference:
    """The rules of a program (version 1 and part A of version 2), read from the dict."""

    def __init__(self, program: dict[str, Any]):
        unknown = {k for k in program if not str(k).startswith("x_")} - _FIELDS
        columns = {k for p in program["projects"] for k in p if not str(k).startswith("x_")}
        unknown |= columns - set(_TABLES["projects"][1])
        assert not unknown, f"fields neither version defines: {sorted(unknown)}"
        if program.get("format") == V1:
            later = (set(program) & _V2_FIELDS) | (columns & _V2_COLUMNS)
            later |= {"budget.recycle"} if (program.get("budget") or {}).get("recycle") else set()
            later |= {"lag" for d in program.get("dependencies") or [] if "lag" in d}
            assert not later, f"version-2 fields in a version-1 program: {sorted(later)}"
        self.program = program
        self.first, self.last = (int(y) for y in program["horizon"])
        self.years = list(range(self.first, self.last + 1))
        self.projects = {str(p["id"]): p for p in program["projects"]}
        self.profiles: dict[str, list[dict[str, Any]]] = {}
        for row in program.get("profiles") or []:
            self.profiles.setdefault(str(row["project"]), []).append(row)
        self.cash_rows: dict[str, dict[int, float]] = {}
        for row in program.get("cash_flows") or []:
            self.cash_rows.setdefault(str(row["project"]), {})[int(row["offset"])] = \
                float(row["cash"])
        econ = program.get("economics") or {}
        self.base = int(econ.get("base_year", self.first))
        self.rho = econ.get("discount_rate")
        self.deemed = econ.get("deemed_rate")
        self.split = econ.get("split") or {}
        self.objective = econ.get("objective", "return")
        self.deadline = program.get("commitment_deadline")
        self.hurdle = program.get("project_hurdle")
        self.budget = program.get("budget") or {}
        self._units: dict[tuple[str, int], Unit] = {}

    # ---- projects
    def _get(self, pid: str, key: str, default: Any = None) -> Any:
        value = self.projects[pid].get(key)
        return default if value is None or value == "" else value

    def nominal(self, pid: str) -> int:
        if pid in self.profiles:
            return min(int(r["year"]) for r in self.profiles[pid])
        return int(self._get(pid, "start"))

    def window(self, pid: str) -> tuple[int, int]:
        s = self.nominal(pid)
        return int(self._get(pid, "earliest_start", s)), int(self._get(pid, "latest_start", s))

    def max_units(self, pid: str) -> int:
        return int(self._get(pid, "max_units", 1))

    def has_cash(self, pid: str) -> bool:
        return pid in self.cash_rows or self._get(pid, "annual_cash") is not None

    def starts(self, pid: str) -> list[int]:
        """The start years the window and the commitment deadline allow."""
        lo, hi = self.window(pid)
        if self.deadline is not None:
            hi = min(hi, int(self.deadline))
        return list(range(lo, hi + 1))

    def unit(self, pid: str, s: int) -> Unit:
        key = (pid, s)
        if key not in self._units:
            self._units[key] = self._unit(pid, s)
        return self._units[key]

    def _unit(self, pid: str, s: int) -> Unit:
        shift = s - self.nominal(pid)
        D: dict[int, float] = {}
        L: dict[int, float] = {}
        if pid in self.profiles:
            for row in self.profiles[pid]:
                t = int(row["year"]) + shift
                D[t] = D.get(t, 0.0) + float(row.get("capital") or 0.0)
                L[t] = L.get(t, 0.0) + float(row.get("labor") or 0.0)
            last_build = max(D)
        else:
            b = int(self._get(pid, "build_years", 1))
            for t in range(s, s + b):
                D[t] = float(self._get(pid, "capital")) / b
                L[t] = float(self._get(pid, "labor", 0.0))
            last_build = s + b - 1
        every = self._get(pid, "reinvest_every")
        if every is not None:
            t = s + int(every)
            while t <= self.last:
                D[t] = D.get(t, 0.0) + float(self._get(pid, "reinvest_capital"))
                t += int(every)
        capital = sum(D.values())
        C: dict[int, float] | None = None
        keep = 1.0 - float(self._get(pid, "loss_rate", 0.0))
        if pid in self.cash_rows:
            C = {s + k: keep * v for k, v in self.cash_rows[pid].items()}
        elif self._get(pid, "annual_cash") is not None:
            cash = float(self._get(pid, "annual_cash"))
            C = {last_build + k: keep * cash
                 for k in range(1, int(self._get(pid, "operating_years")) + 1)}
        steps: list[Step] = []
        recovered = rate = None
        if C is not None:
            r = float(self._get(pid, "deemed_rate", self.deemed))
            steps = waterfall(D, C, r, float(self.split["before"]), float(self.split["after"]))
            last_d = max(t for t, v in D.items() if v != 0.0)
            recovered = next((st.year for st in steps
                              if st.year >= last_d and st.B <= RECOVERED), None)
        J = {st.year: st.J for st in steps}
        net = {t: J.get(t, 0.0) - D.get(t, 0.0) for t in set(J) | set(D)}
        if C is not None:
            rate = irr(net)
        npv = None if self.rho is None else present_value(net, float(self.rho), self.base)
        return Unit(pid, s, D, L, C, steps, capital, npv, recovered, rate)

    def hurdle_failures(self, pid: str, s: int) -> list[str]:
        """Which of project_hurdle's tests the unit (pid, s) fails (A2)."""
        if not self.hurdle:
            return []
        if not self.has_cash(pid):
            return [k for k in ("irr", "recover_within") if k in self.hurdle]
        u, out = self.unit(pid, s), []
        if "irr" in self.hurdle:
            net = {t: u.J.get(t, 0.0) - u.D.get(t, 0.0) for t in set(u.J) | set(u.D)}
            if present_value(net, float(self.hurdle["irr"]), self.base) < -HURDLE_TOL:
                out.append("irr")
        if "recover_within" in self.hurdle:
            if u.recovered_in is None or u.recovered_in > s + int(self.hurdle["recover_within"]):
                out.append("recover_within")
        return out

    def value(self, pid: str, s: int) -> float:
        """One unit's contribution to the objective."""
        if self.objective == "npv":
            npv = self.unit(pid, s).npv
            assert npv is not None, "objective npv needs economics.discount_rate"
            return npv
        return float(self._get(pid, "return"))

    # ---- the linear rules: rows lhs <= rhs, lhs = sum over units of a per-unit term plus,
    # ---- for every funded project, a per-project term
    def rows(self) -> list[tuple[str, float, Any, Any]]:
        """(rule, rhs, unit_term(pid, s), funded_term(pid)) for every linear rule."""
        rows: list[tuple[str, float, Any, Any]] = []
        none = lambda pid: 0.0  # noqa: E731
        b = self.budget
        if "total" in b and not b.get("recycle"):
            rows.append(("budget.total", float(b["total"]),
                         lambda pid, s: self.unit(pid, s).capital, none))
        if b.get("recycle"):
            for t in self.years:
                def term(pid: str, s: int, t: int = t) -> float:
                    u = self.unit(pid, s)
                    spent = u.capital if t == self.last else \
                        sum(v for y, v in u.D.items() if y <= t)
                    return spent - sum(v for y, v in u.J.items() if y < t)
                rows.append((f"budget.recycle[{t}]", float(b["total"]), term, none))
        for t, cap in (b.get("per_year") or {}).items():
            if self.first <= int(t) <= self.last:  # a year outside the horizon is ignored
                rows.append((f"budget.per_year[{t}]", float(cap), lambda pid, s, t=int(t):
                             self.unit(pid, s).D.get(t, 0.0), none))
        for t, cap in ((self.program.get("labor") or {}).get("capacity") or {}).items():
            if self.first <= int(t) <= self.last:
                rows.append((f"labor.capacity[{t}]", float(cap), lambda pid, s, t=int(t):
                             self.unit(pid, s).labor.get(t, 0.0), none))
        for name, lim in (self.program.get("sectors") or {}).items():
            lim = lim or {}
            inside = lambda pid, name=name: self.projects[pid]["sector"] == name  # noqa: E731
            if lim.get("min") is not None:
                rows.append((f"sectors.{name}.min", -float(lim["min"]), lambda pid, s, f=inside:
                             -self.unit(pid, s).capital if f(pid) else 0.0, none))
            if lim.get("max") is not None:
                rows.append((f"sectors.{name}.max", float(lim["max"]), lambda pid, s, f=inside:
                             self.unit(pid, s).capital if f(pid) else 0.0, none))
        if self.program.get("hurdle_rate") is not None:
            h = float(self.program["hurdle_rate"])
            rows.append(("hurdle_rate", 0.0, lambda pid, s: h * self.unit(pid, s).capital
                         - float(self._get(pid, "return")), none))
        for k, dep in enumerate(self.program.get("dependencies") or []):
            if dep["type"] == "excludes":
                group = [str(x) for x in dep["projects"]]
                rows.append((f"excludes[{k}]", 1.0, lambda pid, s: 0.0,
                             lambda pid, g=group: float(pid in g)))
                continue
            a, on = str(dep["project"]), str(dep["on"])
            if a == on:
                continue
            rows.append((f"requires[{k}]", 0.0, lambda pid, s: 0.0,
                         lambda pid, a=a, on=on: float(pid == a) - float(pid == on)))
            if dep.get("lag") is None:
                continue
            lag, mu = int(dep["lag"]), self.max_units(a)
            for t in self.years:
                rows.append((f"requires[{k}].lag[{t}]", 0.0,
                             lambda pid, s, a=a, on=on, t=t, lag=lag, mu=mu:
                             float(pid == a and s <= t) - mu * float(pid == on and s <= t - lag),
                             none))
        return rows

    # ---- a plan
    def evaluate(self, plan: Plan) -> tuple[bool, float, list[str]]:
        """(feasible, objective, names of the rules broken) of ``plan``, rule by rule."""
        plan = {(str(p), int(s)): int(n) for (p, s), n in plan.items() if int(n) != 0}
        broken: list[str] = []
        unknown = sorted({p for p, _ in plan} - set(self.projects))
        assert not unknown, f"the plan funds projects the program does not have: {unknown}"
        total = {pid: sum(n for (p, _), n in plan.items() if p == pid) for pid in self.projects}
        if any(n < 0 for n in plan.values()):
            broken.append("units")
        if any(total[p] > self.max_units(p) for p in self.projects):
            broken.append("max_units")
        for pid, row in self.projects.items():
            force = row.get("force") or None
            if (force == "in" and total[pid] < 1) or (force == "out" and total[pid] > 0):
                broken.append(f"force.{pid}")
        for pid, s in plan:
            lo, hi = self.window(pid)
            if not lo <= s <= hi:
                broken.append("start_window")
            if self.deadline is not None and s > int(self.deadline):
                broken.append("commitment_deadline")
            if self.hurdle_failures(pid, s):
                broken.append("project_hurdle")
        funded = {p for p in self.projects if total[p] > 0}
        for rule, rhs, unit_term, funded_term in self.rows():
            lhs = sum(n * unit_term(p, s) for (p, s), n in plan.items())
            lhs += sum(funded_term(p) for p in funded)
            if lhs > rhs + FEAS_TOL * max(1.0, abs(lhs), abs(rhs)):
                broken.append(rule)
        objective = sum(n * self.value(p, s) for (p, s), n in plan.items())
        broken = list(dict.fromkeys(broken))
        return not broken, objective, broken

    def economics(self, plan: Plan) -> dict[str, Any]:
        """What the results' ``economics`` section should hold for ``plan`` (A3)."""
        receipts: dict[int, float] = {}
        disbursed: dict[int, float] = {}
        entries: list[dict[str, Any]] = []
        for (pid, s), n in sorted(plan.items()):
            if not n:
                continue
            u = self.unit(pid, s)
            for t, v in u.J.items():
                receipts[t] = receipts.get(t, 0.0) + n * v
            for t, v in u.D.items():
                disbursed[t] = disbursed.get(t, 0.0) + n * v
            entries.append({"id": pid, "start": s, "units": n, "has_cash": u.C is not None,
                            "npv": None if u.npv is None else n * u.npv, "irr": u.irr,
                            "recovered_in": u.recovered_in})
        npv = None if self.rho is None else sum(e["npv"] for e in entries)
        return {"npv": npv, "receipts_by_year": receipts, "disbursed_by_year": disbursed,
                "projects": entries}

    # ---- every plan
    def choices(self, pid: str) -> list[dict[int, int]]:
        """Every way to start units of ``pid``: {start: units}, within max_units and force,
        at the starts the window, the deadline and project_hurdle allow."""
        starts = [s for s in self.starts(pid) if not self.hurdle_failures(pid, s)]
        force, mu = self._get(pid, "force"), self.max_units(pid)
        out = []
        for counts in itertools.product(range(mu + 1), repeat=len(starts)):
            n = sum(counts)
            if n > mu or (force == "in" and n == 0) or (force == "out" and n > 0):
                continue
            out.append({s: k for s, k in zip(starts, counts, strict=True) if k})
        return out

    def space(self) -> int:
        return math.prod(len(self.choices(p)) for p in self.projects)

    def search(self, limit: int = 200_000) -> dict[str, Any]:
        """Enumerate every plan (vectorised over the linear rows): the best objective and a
        plan that reaches it (None where no plan is feasible), how many plans are feasible,
        and ``near``: whether some plan's row lies within 1e-5 of its limit without being
        on it (within 1e-9), or some unit is that close to a per-project test, where a
        solver's tolerances and this reference could honestly disagree."""
        ids = list(self.projects)
        rows = self.rows()
        rhs = np.array([r[1] for r in rows])
        lhs = np.zeros((1, len(rows)))
        obj = np.zeros(1)
        picks = np.zeros((1, 0), dtype=np.int64)
        menus = []
        for pid in ids:
            menu = self.choices(pid)
            menus.append(menu)
            vec = np.array([[sum(n * term(pid, s) for s, n in c.items())
                             + (funded(pid) if c else 0.0) for _, _, term, funded in rows]
                            for c in menu]).reshape(len(menu), len(rows))
            val = np.array([sum(n * self.value(pid, s) for s, n in c.items()) for c in menu])
            if len(obj) * len(menu) > limit:
                raise ValueError(f"more than {limit} plans")
            lhs = (lhs[:, None, :] + vec[None, :, :]).reshape(len(obj) * len(menu), len(rows))
            obj = (obj[:, None] + val[None, :]).reshape(-1)
            picks = np.concatenate([np.repeat(picks, len(menu), axis=0),
                                    np.tile(np.arange(len(menu)), len(picks))[:, None]], axis=1)
        scale = np.maximum(1.0, np.maximum(abs(lhs), abs(rhs)))
        gap = lhs - rhs
        ok = np.all(gap <= FEAS_TOL * scale, axis=1) if len(obj) else np.zeros(0, bool)
        near = bool(np.any((abs(gap) > 1e-9 * scale) & (abs(gap) < 1e-5 * scale)))
        near = near or self._near_hurdle()
        out = {"best": None, "plan": None, "feasible": int(ok.sum()), "near": near,
               "plans": len(obj), "ok": ok, "picks": picks, "menus": menus}
        if ok.any():
            k = int(np.flatnonzero(ok)[np.argmax(obj[ok])])
            out["best"] = float(obj[k])
            out["plan"] = {(pid, s): n for pid, menu, j in zip(ids, menus, picks[k], strict=True)
                           for s, n in menu[j].items()}
        return out

    def _near_hurdle(self) -> bool:
        if not self.hurdle:
            return False
        for pid in self.projects:
            if not self.has_cash(pid):
                continue
            for s in self.starts(pid):
                u = self.unit(pid, s)
                if any(1e-12 < st.B < 1e-6 for st in u.steps):
                    return True
                if "irr" in self.hurdle:
                    net = {t: u.J.get(t, 0.0) - u.D.get(t, 0.0) for t in set(u.J) | set(u.D)}
                    if abs(present_value(net, float(self.hurdle["irr"]), self.base)) < 1e-6:
                        return True
        return False


def evaluate(program: dict[str, Any], plan: Plan) -> tuple[bool, float, list[str]]:
    """(feasible, objective, broken rules) of ``plan`` {(id, start): units} under every
    rule of version 1 and of part A of version 2."""
    return Reference(program).evaluate(plan)


def enumerate_best(program: dict[str, Any]) -> float | None:
    """The best objective over every plan of a tiny program, or None if none is feasible."""
    return Reference(program).search()["best"]
