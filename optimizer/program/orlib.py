"""OR-Library multidimensional knapsack files, converted into ``capital-portfolio/1`` programs.

The layouts read (see ``instances/orlib/PROVENANCE.md``):

* ``mknap1`` and ``mknapcbK``: the number of problems, then per problem ``n m optimum``,
  the n profits, the m x n weights row by row and the m capacities;
* ``mknap2``: a free-text preamble, then per problem a ``problem NAME.DAT`` line, a line of
  ``+``, ``m n`` (constraints first), the profits, the capacities, the weights and the
  optimum;
* single-problem files (GK, Drake's ``.dat``): one problem with no leading count, CRLF
  line endings accepted.

Each problem maps onto the format exactly as its section 4 says: one project per item,
one year per constraint, one profile row per item and year with the weight as capital,
that year's capacity as ``budget.per_year``, the item's profit as ``return``, no total.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from optimizer.errors import InstanceError, Problem
from optimizer.files import atomic_write
from optimizer.program.loading import MAX_TABLE_BYTES, Unreadable, read_regular
from optimizer.program.shipped import resolve

__all__ = ["Knapsack", "read_orlib", "write_program", "convert", "best_known"]

#: The year of a problem's first constraint: constraint k becomes year FIRST_YEAR + k, a
#: calendar year as the format's bounds want (GK's 100 constraints end in 2100)
FIRST_YEAR = 2001


@dataclass(frozen=True)
class Knapsack:
    """One 0-1 multidimensional knapsack problem: max p.x s.t. W x <= b, x binary."""

    name: str
    profits: np.ndarray  # (n,)
    weights: np.ndarray  # (m, n)
    capacities: np.ndarray  # (m,)
    optimum: float | None  # stated in the file (None where 0 / unknown)

    @property
    def n(self) -> int:
        return len(self.profits)

    @property
    def m(self) -> int:
        return len(self.capacities)


def _numbers(text: str, label: str) -> np.ndarray:
    try:
        return np.array(text.split(), dtype=float)
    except ValueError as exc:
        raise InstanceError([Problem(label, "(file)", None,
                                     f"is not an OR-Library knapsack file: {exc}")]) from None


def _one(tokens: np.ndarray, at: int, name: str, label: str) -> tuple[Knapsack, int]:
    if at + 3 > len(tokens):
        raise InstanceError([Problem(label, "(file)", name, "ends inside a problem header")])
    n, m, optimum = int(tokens[at]), int(tokens[at + 1]), float(tokens[at + 2])
    at += 3
    need = n + m * n + m
    if n < 1 or m < 1 or at + need > len(tokens):
        raise InstanceError([Problem(label, "(file)", name,
                                     f"needs {need} numbers for n={n}, m={m}")])
    profits = tokens[at:at + n]
    weights = tokens[at + n:at + n + m * n].reshape(m, n)
    capacities = tokens[at + n + m * n:at + need]
    return Knapsack(name, profits, weights, capacities, optimum or None), at + need


def _mknap2(text: str, label: str) -> list[Knapsack]:
    parts = re.split(r"^\s*problem\s+(\S+)\s*$", text, flags=re.M)
    problems = []
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        body = re.sub(r"\++", " ", body)
        tokens = _numbers(body, label)
        m, n = int(tokens[0]), int(tokens[1])
        need = 2 + n + m + m * n + 1
        if len(tokens) < need:
            raise InstanceError([Problem(label, "(file)", name,
                                         f"needs {need} numbers for m={m}, n={n}")])
        profits = tokens[2:2 + n]
        capacities = tokens[2 + n:2 + n + m]
        weights = tokens[2 + n + m:2 + n + m + m * n].reshape(m, n)
        optimum = float(tokens[need - 1])
        problems.append(Knapsack(name.removesuffix(".DAT").removesuffix(".dat"), profits,
                                 weights, capacities, optimum or None))
    return problems


def _read_text(path: Path, what: str) -> str:
    """The UTF-8 text of a regular file (a device or a named pipe would never end or never
    start), or an :class:`InstanceError` naming the file; ``what`` names the file's kind."""

    try:
        return read_regular(path, MAX_TABLE_BYTES).decode("utf-8", errors="strict")
    except Unreadable as exc:
        raise InstanceError([Problem(str(path), "(file)", None, exc.words(what))]) from None
    except UnicodeDecodeError as exc:
        raise InstanceError([Problem(str(path), "(file)", None,
                                     f"is not UTF-8 text (bad byte at offset {exc.start})")]
                            ) from None


def read_orlib(path: str | Path) -> list[Knapsack]:
    """Every problem in an OR-Library knapsack file, whichever of its layouts it uses."""
    path = Path(path)
    label = str(path)
    text = _read_text(path, "an OR-Library file")
    stem = path.stem
    if re.search(r"^\s*problem\s+\S+", text, flags=re.M):
        return _mknap2(text, label)
    tokens = _numbers(text, label)
    if len(tokens) == 0:
        raise InstanceError([Problem(label, "(file)", None, "is empty")])
    count = int(tokens[0])
    problems: list[Knapsack] = []
    at = 1
    try:  # a file of several problems, led by their number
        for i in range(count):
            problem, at = _one(tokens, at, f"{stem}-{i:02d}", label)
            problems.append(problem)
        if at == len(tokens) and count > 0:
            return problems
    except InstanceError:
        pass
    problem, at = _one(tokens, 0, stem, label)  # a single problem, no count
    if at != len(tokens):
        raise InstanceError([Problem(label, "(file)", None,
                                     f"{len(tokens) - at} numbers left over after the problem")])
    return [problem]


def best_known(table: str | Path) -> dict[tuple[str, int], tuple[float, str]]:
    """{(file name, index): (value, proven yes/no/unknown)} from a best-known table."""
    import io

    label = str(table)
    text = _read_text(Path(table), "a best-known table")
    out = {}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"file", "index", "best_known", "proven_optimal"} - set(reader.fieldnames or ())
    if missing:
        raise InstanceError([Problem(label, ", ".join(sorted(missing)), "(header)",
                                     "required column is missing")])
    for line, row in enumerate(reader, start=2):
        if row["best_known"]:
            for column, kind in (("index", int), ("best_known", float)):
                try:
                    kind(row[column] or "")
                except (TypeError, ValueError):
                    raise InstanceError([Problem(label, column, f"line {line}",
                                                 f"{row[column]!r} is not a number")]) from None
            key = (Path(row["file"] or "").name, int(row["index"]))
            out[key] = (float(row["best_known"]), row["proven_optimal"])
    return out


def write_program(problem: Knapsack, out_dir: str | Path, *, source: str = "",
                  known: tuple[float, str] | None = None) -> Path:
    """Write one problem as ``out_dir/program.yaml`` with its projects and profiles CSVs
    (each written whole or not at all, with the umask's mode)."""
    import io


    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n, m = problem.n, problem.m
    ids = [f"I{j:04d}" for j in range(n)]
    with io.StringIO() as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "sector", "return"])
        for pid, profit in zip(ids, problem.profits, strict=True):
            w.writerow([pid, "items", f"{profit:g}"])
        atomic_write(out / "projects.csv", fh.getvalue())
    rows, cols = np.nonzero(problem.weights.T)  # (item, constraint) with weight > 0
    with io.StringIO() as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["project", "year", "capital", "labor"])
        for j, i in zip(rows.tolist(), cols.tolist(), strict=True):
            w.writerow([ids[j], FIRST_YEAR + i, f"{problem.weights[i, j]:g}", 0])
        atomic_write(out / "profiles.csv", fh.getvalue())
    program: dict = {
        "format": "capital-portfolio/1",
        "name": f"OR-Library {problem.name} ({n} items, {m} constraints)",
        "horizon": [FIRST_YEAR, FIRST_YEAR + m - 1],
        "budget": {"per_year": {FIRST_YEAR + i: float(c)
                                for i, c in enumerate(problem.capacities)}},
        "sectors": {"items": None},
        # an item's weight is its "capital" and its profit its "return": plain numbers, not
        # billions of dollars; no item needs labor
        "units": {"money": "units", "labor": "units"},
        "projects": "projects.csv",
        "profiles": "profiles.csv",
    }
    # the file's own value is exact; the table's may be rounded (its WEING7 row reads
    # 1.09544e+06 for the file's 1095445), so the table serves where the file says nothing,
    # and tells whether the value is proven where the two agree
    if problem.optimum is not None:
        program["known_optimum"] = problem.optimum
        if known is not None and abs(known[0] - problem.optimum) <= 1e-5 * abs(problem.optimum):
            program["known_optimum_proven"] = known[1] == "yes"
    elif known is not None:
        program["known_optimum"] = known[0]
        if known[1] in ("yes", "no"):
            program["known_optimum_proven"] = known[1] == "yes"
    if source:
        program["source"] = source
    path = out / "program.yaml"
    atomic_write(path, yaml.safe_dump(program, sort_keys=False))
    return path


def convert(path: str | Path, out_dir: str | Path,
            table: str | Path | None = None) -> list[Path]:
    """Convert every problem of an OR-Library file into ``out_dir/<name>/program.yaml``.

    ``known_optimum`` comes from the best-known table (by default ``best_known.csv``
    beside the file or one folder up, where it exists), else from the file itself.

    ``path`` is a file, or the name of a shipped set (``orlib/mknap1.txt``; see
    ``optimizer examples``). Items of zero weight in every constraint cannot be projects
    (one unit must cost > 0) and raise an :class:`InstanceError` naming them.
    """

    path = resolve(path)
    if table is None:
        table = next((c for c in (path.parent / "best_known.csv",
                                  path.parent.parent / "best_known.csv") if c.exists()), None)
    known = best_known(table) if table is not None else {}
    written = []
    for index, problem in enumerate(read_orlib(path)):
        free = np.flatnonzero(problem.weights.sum(axis=0) <= 0)
        if len(free):
            raise InstanceError([Problem(str(path), "weights", problem.name,
                                         f"items {free[:5].tolist()} weigh nothing in every "
                                         "constraint; the format needs a positive cost")])
        key = (path.name, index)
        written.append(write_program(problem, Path(out_dir) / problem.name,
                                     source=f"{path.name}#{index}", known=known.get(key)))
    return written
