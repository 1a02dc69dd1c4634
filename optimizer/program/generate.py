"""Synthetic ``capital-portfolio/1`` programs (version 2: :mod:`.generate_v2`), shaped like
a US-Japan strategic investment program: five sectors, lognormal project sizes in $B,
returns around 10% of capital, build periods, reinvestments, modular projects, uneven
disbursement profiles, forced decisions, dependencies, sector floors and ceilings, yearly
capital caps and a labor capacity. Everything is drawn with one
``numpy.random.default_rng(seed)`` and computed column by column, so 100,000 projects
generate in well under a couple of seconds, and the same arguments give the same bytes.

Every generated program is feasible, and provably so: after the caps are set, a witness plan
(the forced-in projects and a random set of dependency-free ones at or above the hurdle,
repaired until it meets every cap) is built, and the sector limits are set from it.

    from optimizer.program.generate import generate, write
    path = write(generate(20_000, years=10, seed=2026), "out/n20000")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import yaml

from optimizer.errors import UsageError
from optimizer.files import atomic_write
from optimizer.limits import HORIZON_YEARS, MAX_PROJECTS, YEAR
from optimizer.program.vocabulary import PROJECTS

__all__ = ["GeneratedProgram", "generate", "write", "SECTORS", "MAX_PROJECTS"]

FORMAT = "capital-portfolio/1"
HURDLE_RATE = 0.10

#: sector: (share of projects, median capital of one unit in $B, mean return rate,
#:          specialists per $B disbursed in a year, probability of reinvestment)
SECTORS: dict[str, tuple[float, float, float, float, float]] = {
    "semiconductors": (0.24, 2.0, 0.12, 600.0, 0.05),
    "ai_infrastructure": (0.24, 1.2, 0.13, 300.0, 0.32),
    "energy": (0.22, 1.0, 0.09, 450.0, 0.12),
    "shipbuilding": (0.12, 0.8, 0.07, 900.0, 0.02),
    "critical_minerals": (0.18, 0.5, 0.08, 500.0, 0.02),
}
_KINDS = {
    "semiconductors": ["Logic fab", "Memory fab", "Advanced packaging plant",
                       "Wafer materials plant", "Photoresist plant"],
    "ai_infrastructure": ["AI data center", "GPU cluster campus", "Subsea cable landing",
                          "Edge compute hub"],
    "energy": ["SMR unit", "Gas turbine plant", "Grid interconnect", "LNG terminal",
               "Transmission line", "Battery storage park"],
    "shipbuilding": ["Shipyard modernization", "Dry dock", "Naval repair yard",
                     "Marine engine plant"],
    "critical_minerals": ["Copper smelter", "Rare-earth separation plant",
                          "Lithium refinery", "Graphite anode plant", "Nickel processing plant"],
}
_PLACES = ["Arizona", "Ohio", "Texas", "New York", "Oregon", "Georgia", "Virginia",
           "Louisiana", "Alaska", "Pennsylvania", "Kumamoto", "Hokkaido", "Mie", "Hiroshima",
           "Nagasaki", "Aichi", "Iwate", "Osaka"]

_MONEY = 4       # decimals for $B amounts in the tables
_LIMIT = 2       # decimals for $B limits in the program file
_GREEDY_UP_TO = 5000   # witness by a greedy pass up to this many projects
#: the projects table's columns, in the format's order (optimizer.program.vocabulary)
_PROJECT_COLUMNS = list(PROJECTS.names())


@dataclass(frozen=True)
class GeneratedProgram:
    """A generated program: the YAML mapping and its tables (as written)."""

    program: dict
    projects: pd.DataFrame
    profiles: pd.DataFrame
    cash_flows: pd.DataFrame | None = None    # version 2: the table ``cash_flows`` names


def _round(x: Any, decimals: int) -> Any:
    return np.round(np.asarray(x, dtype=float), decimals) + 0.0   # + 0.0: no "-0.0000"


def _floor(x: float, decimals: int) -> float:
    return float(np.floor(x * 10.0 ** decimals) / 10.0 ** decimals)


def _ceil(x: float, decimals: int) -> float:
    return float(np.ceil(x * 10.0 ** decimals) / 10.0 ** decimals)


def _count(n: int, share: float, at_least: int, pool: int) -> int:
    """round(share * n), at least ``at_least`` when the pool allows, never above pool."""
    return int(max(0, min(pool, max(at_least, round(share * n)))))


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        style = "," if high > 9999 else ""   # thousands apart, but years as years
        raise UsageError(f"{name} must be between {low:{style}} and {high:{style}}, "
                         f"got {int(value):{style}}")
    return int(value)


def _checked(n_projects: Any, years: Any, first_year: Any) -> tuple[int, int, int]:
    """The arguments as whole numbers within the format's bounds (optimizer.limits), or a
    UsageError naming the argument: every generated program is one the loader accepts."""
    n = _whole(n_projects, "n_projects (--projects)", 1, MAX_PROJECTS)
    y = _whole(years, "years (--years)", 1, HORIZON_YEARS)
    first = _whole(first_year, "first_year (--first-year)", int(YEAR.low), int(YEAR.high))
    if first + y - 1 > YEAR.high:
        raise UsageError(f"the horizon's last year (--first-year + --years - 1 = "
                         f"{first + y - 1}) must be at most {int(YEAR.high)}; "
                         f"use --first-year {int(YEAR.high) - y + 1} or earlier")
    return n, y, first


def generate(n_projects: int, years: int = 10, seed: int = 0,
             first_year: int = 2026) -> GeneratedProgram:
    """A feasible synthetic program of ``n_projects`` projects over ``years`` years (for
    version 2: :func:`optimizer.program.generate_v2.generate_v2`)."""
    n, years, first_year = _checked(n_projects, years, first_year)
    rng = np.random.default_rng(seed)
    d = _draw(rng, n, years, first_year)
    return _version_1(rng, d, seed)


def _draw(rng: np.random.Generator, n: int, years: int, first_year: int) -> SimpleNamespace:
    """Every attribute, profile and dependency of the projects, as arrays, by name."""
    first, last = first_year, first_year + years - 1
    names = list(SECTORS)
    share, median, mean_rate, specialists, p_reinvest = (
        np.array([SECTORS[s][k] for s in names]) for k in range(5))
    # ----------------------------------------------------------- project attributes
    sector = rng.choice(len(names), size=n, p=share / share.sum())
    width = max(3, len(str(n)))
    ids = np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    kinds = [(s, k) for s in names for k in _KINDS[s]]
    kind_offset = np.cumsum([0] + [len(_KINDS[s]) for s in names])[:-1]
    kind_pick = kind_offset[sector] + (rng.random(n) * np.array(
        [len(_KINDS[s]) for s in names])[sector]).astype(np.int64)
    kind_text = np.array([k for _, k in kinds], dtype=object)[kind_pick]
    place = np.array(_PLACES, dtype=object)[rng.integers(0, len(_PLACES), n)]
    label = kind_text + " " + place + " " + ids.astype(object)

    modular = rng.random(n) < 0.10
    max_units = np.where(modular, rng.integers(2, 6, n), 1)
    # a modular unit is a smaller, repeatable block (a data hall, a turbine, a dock)
    capital = median[sector] * rng.lognormal(0.0, 0.8, n) * np.where(modular, 0.4, 1.0)
    capital = np.maximum(_round(capital, _MONEY), 10.0 ** -_MONEY * 10)
    # starts spread over the horizon, a little front-loaded
    weights = np.linspace(1.5, 0.5, years) if years > 1 else np.ones(1)
    start = first + rng.choice(years, size=n, p=weights / weights.sum())
    build = rng.choice(np.arange(1, 6), size=n, p=[0.15, 0.25, 0.25, 0.2, 0.15])
    labor = np.maximum(1, np.round(capital / build * specialists[sector]
                                   * rng.lognormal(0.0, 0.3, n))).astype(np.int64)

    reinvest = rng.random(n) < p_reinvest[sector]
    every = np.where(reinvest, rng.integers(5, 8, n), 0)
    again = np.where(reinvest, _round(capital * rng.uniform(0.3, 0.6, n), _MONEY), 0.0)

    # ~5% with uneven disbursement profiles (replacing capital, start, build_years, labor)
    profiled = (rng.random(n) < 0.05) & ~modular
    p_idx = np.flatnonzero(profiled)
    p_len = rng.integers(2, 6, len(p_idx))
    p_len = np.minimum(p_len, int(YEAR.high) - start[p_idx] + 1)   # no year past 2200
    p_owner = np.repeat(p_idx, p_len)
    p_step = np.arange(len(p_owner)) - np.repeat(np.cumsum(p_len) - p_len, p_len)
    p_year = start[p_owner] + p_step
    p_weight = rng.gamma(1.5, 1.0, len(p_owner))
    p_weight /= np.bincount(np.repeat(np.arange(len(p_idx)), p_len), p_weight,
                            minlength=len(p_idx))[np.repeat(np.arange(len(p_idx)), p_len)]
    p_capital = _round(capital[p_owner] * p_weight, _MONEY)
    p_labor = np.round(p_capital * specialists[sector[p_owner]]
                       * rng.lognormal(0.0, 0.3, len(p_owner))).astype(np.int64)
    capital[p_idx] = _round(np.bincount(p_owner, p_capital, minlength=n)[p_idx], _MONEY)
    bad = profiled & (capital <= 0)          # a profile of all-zero rows: not allowed
    if bad.any():
        keep = ~np.isin(p_owner, np.flatnonzero(bad))
        p_owner, p_year, p_capital, p_labor = (a[keep] for a in
                                               (p_owner, p_year, p_capital, p_labor))
        profiled &= ~bad
        capital[bad] = 1.0

    # ------------------------------------------ capital and labor by year, total capital
    Y = years
    year_cap = np.zeros((n, Y))
    year_lab = np.zeros((n, Y))
    spread = np.flatnonzero(~profiled)
    owner = np.repeat(spread, build[spread])
    step = np.arange(len(owner)) - np.repeat(np.cumsum(build[spread]) - build[spread],
                                             build[spread])
    col = start[owner] + step - first
    inside = col < Y
    np.add.at(year_cap, (owner[inside], col[inside]), (capital / build)[owner[inside]])
    np.add.at(year_lab, (owner[inside], col[inside]), labor[owner[inside]])
    col = p_year - first
    inside = col < Y
    np.add.at(year_cap, (p_owner[inside], col[inside]), p_capital[inside])
    np.add.at(year_lab, (p_owner[inside], col[inside]), p_labor[inside])
    n_again = np.where(every > 0, (last - start) // np.maximum(every, 1), 0)
    r_owner = np.repeat(np.arange(n), n_again)
    k = np.arange(len(r_owner)) - np.repeat(np.cumsum(n_again) - n_again, n_again) + 1
    np.add.at(year_cap, (r_owner, start[r_owner] + k * every[r_owner] - first), again[r_owner])
    total = capital + n_again * again                     # C_i, build years past the horizon too

    rate = rng.normal(mean_rate[sector], 0.05, n)
    returns = _round(rate * total, _MONEY)

    # ------------------------------------------------------------- forced decisions
    force = np.full(n, "", dtype=object)
    cheap = total <= np.quantile(total, 0.25)
    pool_in = np.flatnonzero(cheap & ~profiled & ~modular & (returns >= HURDLE_RATE * total))
    n_in = _count(n, 0.002, 1 if n >= 10 else 0, len(pool_in))
    forced_in = np.sort(rng.choice(pool_in, n_in, replace=False)) if n_in else pool_in[:0]
    force[forced_in] = "in"
    pool_out = np.flatnonzero(force == "")
    n_out = _count(n, 0.005, 1 if n >= 10 else 0, len(pool_out) // 2)
    forced_out = np.sort(rng.choice(pool_out, n_out, replace=False)) if n_out else pool_out[:0]
    force[forced_out] = "out"

    # ------------------------------------------------------------------ dependencies
    free = rng.permutation(np.flatnonzero(force == ""))
    n_req = _count(n, 0.02, 1 if n >= 10 else 0, len(free) // 4)
    req = free[:2 * n_req].reshape(-1, 2)
    rest = free[2 * n_req:]
    n_exc = _count(n, 0.01, 1 if n >= 10 else 0, len(rest) // 6)
    sizes = rng.integers(2, 4, n_exc)
    ends = np.cumsum(sizes)
    groups = np.split(rest[:ends[-1]], ends[:-1]) if n_exc else []
    in_dependency = np.zeros(n, dtype=bool)
    in_dependency[req.ravel()] = True
    for g in groups:
        in_dependency[g] = True
    dependencies: list[dict[str, Any]] = [
        {"type": "requires", "project": str(ids[a]), "on": str(ids[b])} for a, b in req]
    dependencies += [{"type": "excludes", "projects": [str(ids[i]) for i in np.sort(g)]}
                     for g in groups]

    return SimpleNamespace(**{k: v for k, v in locals().items() if k != "rng"})


def _version_1(rng: np.random.Generator, d: SimpleNamespace, seed: int) -> GeneratedProgram:
    """The version-1 limits around the drawn projects ``d``, and the written program."""
    n, Y, first, last, total, force = d.n, d.Y, d.first, d.last, d.total, d.force
    year_cap, year_lab, returns = d.year_cap, d.year_lab, d.returns
    proposed = float((total * d.max_units)[force != "out"].sum())
    budget_total = _round(proposed * rng.uniform(0.35, 0.45), _LIMIT).item()
    per_year_cap = np.full(Y, budget_total / Y * 1.3)
    labor_cap = _labor_cap(rng, (year_lab * d.max_units[:, None])[force != "out"].sum(axis=0))
    fin = force == "in"
    need_cap, need_lab = year_cap[fin].sum(axis=0), year_lab[fin].sum(axis=0)
    per_year_cap = np.array([_ceil(v, _LIMIT) for v in np.maximum(per_year_cap, need_cap * 1.05)])
    labor_cap = np.maximum(labor_cap, np.ceil(need_lab * 1.05) + 1)
    labor_cap = np.maximum(labor_cap, year_lab.max(axis=0))  # labor alone bars none
    budget_total = max(budget_total, _ceil(float(total[fin].sum()) * 1.05, _LIMIT))

    eligible = ~fin & (force == "") & ~d.in_dependency & (returns > 0)
    sectors = _sectors(rng, d, fin, eligible, total, returns, (year_cap, year_lab),
                       (budget_total, per_year_cap, labor_cap))
    projects, profiles = _tables(rng, d)
    program: dict[str, Any] = {
        "format": FORMAT,
        "name": f"US-Japan strategic investment program (synthetic: {n} projects, seed {seed})",
        "horizon": [first, last],
        "budget": {"total": float(budget_total),
                   "per_year": {first + t: float(per_year_cap[t]) for t in range(Y)}},
        "hurdle_rate": HURDLE_RATE,
        "sectors": sectors,
        "labor": {"capacity": {first + t: int(labor_cap[t]) for t in range(Y)}},
        "projects": "projects.csv",
        **({} if profiles.empty else {"profiles": "profiles.csv"}),
        "dependencies": d.dependencies,
    }
    return GeneratedProgram(program=program, projects=projects, profiles=profiles)


def _labor_cap(rng: np.random.Generator, demand: np.ndarray) -> np.ndarray:
    """Specialists by year from the demand of the proposed units: scarce early, growing with
    training (each binding labor year is one more knapsack dimension: keep few binding)."""
    Y = len(demand)
    tight = max(1, round(0.2 * Y))
    growth = np.concatenate([rng.uniform(0.85, 0.95, tight),
                             np.linspace(1.2, 1.6, Y - tight) * rng.uniform(0.95, 1.05, Y - tight)])
    return np.round(demand * 0.4 * growth)


def _sectors(rng: np.random.Generator, d: SimpleNamespace, fin: np.ndarray, eligible: np.ndarray,
             total: np.ndarray, returns: np.ndarray, by_year: tuple, caps: tuple,
             ceiling: float = 1.0) -> dict:
    """Sector floors and ceilings (``ceiling`` x a share of the budget) that a witness plan
    meets; ``by_year`` = (capital, labor) by project and year, ``caps`` = the limits."""
    names, sector, budget_total = d.names, d.sector, caps[0]
    floors = rng.uniform(0.05, 0.10, len(names)) * budget_total
    best, best_score = None, -1.0
    for _ in range(8 if d.n <= _GREEDY_UP_TO else 1):  # small programs: the best of a few draws
        plan = _witness(rng, fin, eligible, sector, total, returns, *by_year, *caps)
        got = np.bincount(sector, total * plan, minlength=len(names))
        score = float(np.minimum(got, floors).sum())
        if score > best_score:
            best, best_score = plan, score
    w_sector = np.bincount(sector, total * best, minlength=len(names))
    sectors: dict[str, dict[str, float]] = {}
    ceilings = {"semiconductors": rng.uniform(0.28, 0.36), "ai_infrastructure":
                rng.uniform(0.22, 0.30)}
    for s, name in enumerate(names):
        limits: dict[str, float] = {}
        floor = min(_floor(floors[s], _LIMIT), _floor(0.95 * w_sector[s], _LIMIT))
        if floor > 0:
            limits["min"] = floor
        if name in ceilings:
            limits["max"] = max(_ceil(ceilings[name] * ceiling * budget_total, _LIMIT),
                                _ceil(1.0001 * w_sector[s] + 0.01, _LIMIT))
        sectors[name] = limits
    return sectors


def blank_int(values: np.ndarray, keep: np.ndarray) -> pd.Series:   # empty where not keep
    return pd.Series(pd.array(np.where(keep, values, 0), dtype="Int64")).where(keep)


def blank_float(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return np.where(keep, values, np.nan)


def _tables(rng: np.random.Generator, d: SimpleNamespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The projects and profiles tables of the drawn projects ``d``."""
    profiled = d.profiled
    give_capital = ~profiled | (rng.random(d.n) < 0.5)     # profiled: half leave it empty
    projects = pd.DataFrame({
        "id": d.ids.astype(object),
        "name": d.label,
        "sector": np.array(d.names, dtype=object)[d.sector],
        "capital": blank_float(d.capital, give_capital),
        "return": d.returns,
        "start": blank_int(d.start, ~profiled),
        "build_years": blank_int(d.build, ~profiled),
        "labor": blank_int(d.labor, ~profiled),
        "reinvest_every": blank_int(d.every, d.reinvest),
        "reinvest_capital": blank_float(d.again, d.reinvest),
        "max_units": d.max_units.astype(np.int64),
        "force": d.force,
    }, columns=_PROJECT_COLUMNS)
    profiles = pd.DataFrame({
        "project": d.ids[d.p_owner].astype(object),
        "year": d.p_year.astype(np.int64),
        "capital": d.p_capital,
        "labor": d.p_labor,
    })
    return projects, profiles


def _witness(rng: np.random.Generator, forced: np.ndarray, eligible: np.ndarray,
             sector: np.ndarray, total: np.ndarray, returns: np.ndarray,
             year_cap: np.ndarray, year_lab: np.ndarray, budget: float,
             per_year: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """0/1 units of a plan that meets the total, yearly and labor caps and the hurdle.
    Small programs: a greedy pass over the eligible projects in random order, sectors
    taking turns. Large ones (every project small next to the caps): a random share of the
    eligible projects, then projects on a violated cap dropped at random until none is.
    The forced projects alone fit (by construction of the caps) and clear the hurdle;
    last, the lowest-rate optional members are dropped until the hurdle holds."""
    margin = 1.0 - 1e-6
    limits = np.concatenate([[budget], per_year, capacity]) * margin
    weight = np.column_stack([total, year_cap, year_lab])
    chosen = forced.copy()
    if len(total) <= _GREEDY_UP_TO:
        candidates = rng.permutation(np.flatnonzero(eligible))
        # sectors take turns: the k-th candidate of every sector before any (k+1)-th
        turn = np.zeros(len(candidates), dtype=np.int64)
        for s in np.unique(sector[candidates]):
            mine = sector[candidates] == s
            turn[mine] = np.arange(mine.sum())
        candidates = candidates[np.argsort(turn, kind="stable")]
        load = chosen @ weight
        for i in candidates:
            trial = load + weight[i]
            if np.all(trial <= limits):
                load = trial
                chosen[i] = True
    else:
        base = float(total[eligible].sum())
        take = min(1.0, 0.75 * budget / base) if base > 0 else 0.0
        chosen |= eligible & (rng.random(len(total)) < take)
        for _ in range(500):
            loads = chosen @ weight
            over = loads > limits
            if not over.any():
                break
            excess = (loads - limits) / np.maximum(loads, 1e-12)
            uses = weight[:, over] > 0
            p = np.max(np.where(uses, np.minimum(1.0, 1.5 * excess[over] + 0.01), 0.0), axis=1)
            chosen &= ~(~forced & (rng.random(len(total)) < p))
        else:  # pragma: no cover - the drop probability is >= 1% a round
            chosen = forced.copy()
    surplus = returns - HURDLE_RATE * total
    if surplus @ chosen < 0:
        optional = np.flatnonzero(chosen & ~forced)
        order = optional[np.argsort(surplus[optional] / total[optional], kind="stable")]
        # drop the worst k members, the smallest k that leaves a nonnegative surplus
        after = surplus @ chosen - np.cumsum(surplus[order])
        k = int(np.argmax(after >= 0)) + 1 if (after >= 0).any() else len(order)
        chosen[order[:k]] = False
    return chosen.astype(np.int64)


def write(program: GeneratedProgram, out_dir: str | Path) -> Path:
    """Write ``program.yaml``, ``projects.csv``, ``profiles.csv`` (and ``cash.csv``) into
    ``out_dir`` (created if needed), each whole or not at all; return ``program.yaml``."""

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    options = {"index": False, "float_format": f"%.{_MONEY}f", "na_rep": "",
               "lineterminator": "\n"}
    atomic_write(out / "projects.csv", program.projects.to_csv(**options))
    if "profiles" in program.program:
        atomic_write(out / program.program["profiles"], program.profiles.to_csv(**options))
    if program.cash_flows is not None and "cash_flows" in program.program:
        atomic_write(out / program.program["cash_flows"], program.cash_flows.to_csv(**options))
    path = out / "program.yaml"
    atomic_write(path, yaml.safe_dump(program.program, sort_keys=False, allow_unicode=True))
    return path
