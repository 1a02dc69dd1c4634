"""Loading and validation: from a program file to an immutable :class:`Instance`.

This is the one place input is checked. Every problem in a program is collected and
raised at once as an :class:`~optimizer.errors.InstanceError` naming the file, the field
and the row. Nothing is dropped, clipped or filled in behind the user's back: the only
values supplied are the defaults the format itself defines (``build_years`` 1,
``labor`` 0, ``max_units`` 1) and the values it defines from profiles (a profiled
project's ``capital`` and ``start``).

Tables are validated column by column with pandas, so 100,000 projects load in well
under a second; only the rows found wrong are visited one by one, to word their messages.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from optimizer.errors import InstanceError, Problem
from optimizer.instance import PROFILE_COLUMNS, PROJECT_COLUMNS, Instance

__all__ = ["load", "prepare", "FORMAT"]

FORMAT = "capital-portfolio/1"
KNOWN_KEYS = {
    "format", "name", "horizon", "budget", "hurdle_rate", "sectors", "labor", "projects",
    "profiles", "dependencies", "known_optimum", "known_optimum_proven", "description",
    "source", "notes",
}
#: A blank or tab next to a comma or at either end of a line: some cell needs stripping.
_PADDING = (" ,", ", ", " \n", "\n ", " \r")


def _padded(text: str) -> bool:
    """Whether some cell of a CSV text has blanks around it (substring searches: a
    regular expression took a quarter of a second on a 100,000-row table)."""
    if text[:1] in (" ", "\t") or text[-1:] in (" ", "\t"):
        return True
    if "\t" in text and any(p in text for p in ("\t,", ",\t", "\t\r", "\t\n", "\n\t")):
        return True
    return any(pair in text for pair in _PADDING)
#: Relative tolerance for "capital, if given, must equal the profile's sum".
PROFILE_SUM_RTOL = 1e-6
#: Size limits: a program file (YAML or JSON) and each CSV table it names. A table at
#: the limit holds several million rows; a program file holds limits, not data.
MAX_DOCUMENT_BYTES = 256 * 2**20
MAX_TABLE_BYTES = 2 * 2**30
#: The most values a YAML document may expand to through its aliases.
MAX_DOCUMENT_VALUES = 20_000_000


# --------------------------------------------------------------------------- YAML
class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML's safe loader with YAML 1.2 booleans.

    YAML 1.1 reads ``on``, ``off``, ``yes``, ``no``, ``y`` and ``n`` as booleans, which
    would turn the key ``on`` of a ``requires`` dependency into ``True``. Only ``true``
    and ``false`` are booleans here. It parses with libyaml where PyYAML has it (ten times
    faster on a program with thousands of dependencies), in pure Python otherwise.
    """


class _Tagged:
    """A value carrying a YAML tag the safe loader has no constructor for (``!!python/...``,
    ``!custom``): kept as a marker so the problem can name its field, never constructed."""

    def __init__(self, tag: str, line: int) -> None:
        self.tag, self.line = tag, line


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"the key {key!r} appears twice in one mapping")
        self.key, self.line = key, line


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> _Tagged:
    return _Tagged(node.tag, node.start_mark.line + 1)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping that refuses a repeated key (YAML itself would keep the last silently)."""
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            seen = key in out
        except TypeError:  # an unhashable key (a list or mapping): the validator names it
            seen = False
            key = str(key)
        if seen:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_SafeLoader.add_multi_constructor("", _construct_tagged)
_SafeLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)

_SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


# ----------------------------------------------------------------------- context
@dataclass
class _Context:
    """Collects problems and warnings while one program is read."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, field_name: str, message: str, row: str | None = None,
            file: str | None = None) -> None:
        self.problems.append(Problem(file or self.file, field_name, row, message))


@dataclass
class _Table:
    """A table as read: every cell a stripped string ('' where empty)."""

    frame: pd.DataFrame
    file: str
    row_label: Callable[[int], str]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(ctx: _Context, value: Any, field_name: str, *, minimum: float | None = None,
            integer: bool = False) -> float | None:
    """A finite number from a program-level field, or None after recording a problem."""
    if not _is_number(value):
        ctx.add(field_name, f"must be a number, got {value!r}")
        return None
    if not math.isfinite(value):
        ctx.add(field_name, f"must be finite, got {value!r}")
        return None
    if integer and float(value) != int(value):
        ctx.add(field_name, f"must be a whole number, got {value!r}")
        return None
    if minimum is not None and value < minimum:
        ctx.add(field_name, f"must be >= {minimum:g}, got {value!r}")
        return None
    return float(value)


def _year_key(ctx: _Context, key: Any, field_name: str) -> int | None:
    if isinstance(key, bool):
        ctx.add(field_name, f"year {key!r} is not a year")
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and re.fullmatch(r"\s*-?\d+\s*", key):
        return int(key)
    ctx.add(field_name, f"year {key!r} is not a whole-number year")
    return None


def _yearly(ctx: _Context, mapping: Any, field_name: str, first: int | None,
            last: int | None) -> dict[int, float]:
    """A {year: limit} mapping (budget.per_year, labor.capacity), validated."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        ctx.add(field_name, f"must be a mapping of year to limit, got {type(mapping).__name__}")
        return {}
    out: dict[int, float] = {}
    for key, value in mapping.items():
        year = _year_key(ctx, key, field_name)
        if year is None:
            continue
        limit = _number(ctx, value, f"{field_name}.{year}", minimum=0)
        if limit is None:
            continue
        if year in out:
            ctx.add(f"{field_name}.{year}", "year given twice")
            continue
        if first is not None and last is not None and not first <= year <= last:
            # the format applies per-year limits inside the horizon only: say so, keep going
            ctx.warnings.append(f"{ctx.file}: {field_name}.{year}: year {year} is outside the "
                                f"horizon [{first}, {last}]; no per-year limit applies there")
            continue
        out[year] = limit
    return out


# -------------------------------------------------------------------- documents
def _line_of(raw: bytes, offset: int) -> str:
    newlines = raw.count(b"\n", 0, offset)
    return f"line {newlines + 1}"


def _read_document(path: Path) -> Any:
    label = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise InstanceError([Problem(label, "(file)", None,
                                         f"is {size:,} bytes; a program file may be at most "
                                         f"{MAX_DOCUMENT_BYTES:,} (put the projects in a CSV "
                                         f"table: tables may be up to {MAX_TABLE_BYTES:,})")])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InstanceError([Problem(label, "(file)", None, "file not found")]) from None
    except IsADirectoryError:
        raise InstanceError([Problem(label, "(file)", None,
                                     "is a directory; give the program file")]) from None
    except OSError as exc:
        raise InstanceError([Problem(label, "(file)", None,
                                     f"cannot be read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceError([Problem(label, "(file)", _line_of(raw, exc.start),
                                     f"is not UTF-8 text (bad byte at offset {exc.start})")]
                            ) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text, object_pairs_hook=_json_object)
        doc = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a SafeLoader subclass
        if "*" in text and "&" in text:  # aliases: refuse a document that expands too far
            _check_expansion(label, doc)
        if "!" in text:
            _refuse_tags(label, doc)
        return doc
    except json.JSONDecodeError as exc:
        raise InstanceError([Problem(label, "(file)", f"line {exc.lineno}",
                                     f"is not valid JSON: {exc.msg}")]) from None
    except _DuplicateKey as exc:
        raise InstanceError([Problem(label, str(exc.key), f"line {exc.line}",
                                     "appears twice in one mapping; give each key once "
                                     "(YAML would silently keep the last)")]) from None
    except _JsonDuplicateKey as exc:
        raise InstanceError([Problem(label, str(exc.args[0]), None,
                                     "appears twice in one object; give each key once "
                                     "(JSON readers would silently keep the last)")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InstanceError([Problem(label, "(file)", row,
                                     f"is not valid YAML: {problem}")]) from None


class _JsonDuplicateKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _JsonDuplicateKey(key)
        out[key] = value
    return out


def _refuse_tags(label: str, doc: Any) -> None:
    """Name every field whose value carries a YAML tag the safe loader does not know."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any]] = [("", doc)]
    seen: set[int] = set()
    while stack and len(problems) < 20:
        where, node = stack.pop()
        if isinstance(node, _Tagged):
            problems.append(Problem(label, where or "(document)", f"line {node.line}",
                                    f"carries the YAML tag {node.tag!r}, which is not "
                                    "allowed: write a plain value"))
        elif isinstance(node, (dict, list)) and id(node) not in seen:
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, _Tagged):
                    stack.append((where, key))
                sub = f"{where}[{key}]" if isinstance(node, list) else \
                    (f"{where}.{key}" if where else str(key))
                stack.append((sub, child))
    if problems:
        raise InstanceError(sorted(problems, key=lambda p: int(str(p.row).split()[-1])))


def _check_expansion(label: str, doc: Any) -> None:
    """Count the values a document holds once its YAML aliases are expanded (each alias
    costs what it points at, as it does for every reader of the document) and refuse it
    above :data:`MAX_DOCUMENT_VALUES`: a few lines of nested aliases ("billion laughs")
    would otherwise make billions."""
    memo: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        if key not in memo:
            memo[key] = 0  # a self-referencing alias counts once
            items = node.items() if isinstance(node, dict) else enumerate(node)
            total = 1
            for _k, child in items:
                total += size(child)
                if total > MAX_DOCUMENT_VALUES:
                    break
            memo[key] = total
        return memo[key]

    if size(doc) > MAX_DOCUMENT_VALUES:
        raise InstanceError([Problem(label, "(file)", None,
                                     f"expands to more than {MAX_DOCUMENT_VALUES:,} values "
                                     "through its YAML aliases (&anchor / *alias); write the "
                                     "values out or use CSV tables")])


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return str(value).strip()


def _read_table(ctx: _Context, spec: Any, field_name: str, base: Path,
                columns_required: tuple[str, ...]) -> _Table | None:
    """Read a table given as a CSV path (relative to the program) or an inline list."""
    if isinstance(spec, str):
        path = base / spec
        label = str(path)
        try:
            size = path.stat().st_size
            if size > MAX_TABLE_BYTES:
                ctx.add("(file)", f"is {size:,} bytes; a table may be at most "
                                  f"{MAX_TABLE_BYTES:,}", file=label)
                return None
            raw = path.read_bytes()
        except FileNotFoundError:
            ctx.add(field_name, f"file {spec!r} not found (looked for {label})")
            return None
        except OSError as exc:
            ctx.add(field_name, f"file {spec!r} cannot be read: {exc.strerror}")
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            ctx.add("(file)", f"is not UTF-8 text (bad byte at offset {exc.start})",
                    row=_line_of(raw, exc.start), file=label)
            return None
        if not text.strip():
            ctx.add("(file)", "is empty: a header row and at least one data row are needed",
                    file=label)
            return None
        from io import StringIO

        try:
            frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False,
                                na_values=[], skipinitialspace=True)
        except (pd.errors.ParserError, ValueError) as exc:
            ctx.add("(file)", f"is not a valid CSV table: {str(exc).strip()}", file=label)
            return None
        frame.columns = [str(c).strip() for c in frame.columns]
        if len(set(frame.columns)) != len(frame.columns):
            ctx.add("(header)", "a column name appears twice", file=label)
            return None
        if text and _padded(text):  # blanks around a cell: strip (a scan of the text is cheap,
            frame = frame.apply(lambda col: col.str.strip())  # stripping 10^6 cells is not)
        table = _Table(frame, label, lambda i: f"row {i + 1} (line {i + 2})")
    elif isinstance(spec, list):
        label = ctx.file
        records = []
        for i, item in enumerate(spec):
            if not isinstance(item, Mapping):
                ctx.add(field_name, f"each entry must be a mapping, got {type(item).__name__}",
                        row=f"{field_name}[{i}]")
                return None
            records.append({str(k): _cell_text(v) for k, v in item.items()})
        if not records:
            ctx.add(field_name, f"is an empty list: the {field_name} table has no rows")
            return None
        frame = pd.DataFrame.from_records(records).fillna("")

        def inline_row(i: int, name: str = field_name) -> str:
            return f"{name}[{i}]"

        table = _Table(frame, label, inline_row)
    else:
        ctx.add(field_name, "must be a CSV path (relative to the program file) or a list of "
                f"mappings, got {type(spec).__name__}")
        return None
    missing = [c for c in columns_required if c not in table.frame.columns]
    for col in missing:
        ctx.add(col, f"required column is missing from the {field_name} table", file=table.file,
                row="(header)")
    if missing:
        return None
    return table


# ------------------------------------------------------------------ table cells
def _column(table: _Table, name: str) -> pd.Series:
    frame = table.frame
    if name in frame.columns:
        return frame[name]
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _report_rows(ctx: _Context, table: _Table, col: str, mask: np.ndarray,
                 message: Callable[[int], str]) -> None:
    for i in np.flatnonzero(mask):
        ctx.add(col, message(int(i)), row=table.row_label(int(i)), file=table.file)


def _to_float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _floats(cells: np.ndarray) -> np.ndarray:
    """Cells to floats as Python's ``float`` reads them; NaN where one is not a number.
    numpy converts a clean column at once, four times faster than ``pd.to_numeric``;
    a column with a bad cell is read cell by cell, with the same rules."""
    try:
        return cells.astype(np.float64)
    except (ValueError, TypeError):
        return np.fromiter((_to_float(c) for c in cells), dtype=np.float64, count=len(cells))


def _numeric(ctx: _Context, table: _Table, col: str, *, required: np.ndarray | bool,
             integer: bool = False, minimum: float | None = None,
             strict_minimum: bool = False) -> np.ndarray:
    """Parse one column to floats (NaN where blank), recording every bad cell."""
    text = _column(table, col)
    blank = (text == "").to_numpy()
    raw = text.to_numpy(dtype=object)
    values = _floats(np.where(blank, "nan", raw))
    invalid = ~blank & ~np.isfinite(values)
    _report_rows(ctx, table, col, invalid & np.isnan(values),
                 lambda i: f"{raw[i]!r} is not a number")
    _report_rows(ctx, table, col, invalid & np.isinf(values),
                 lambda i: f"{raw[i]!r} is not finite")
    need = np.broadcast_to(np.asarray(required, dtype=bool), blank.shape)
    _report_rows(ctx, table, col, blank & need, lambda i: "is required but empty")
    ok = np.isfinite(values)
    if integer:
        fractional = ok & (values != np.round(values))
        _report_rows(ctx, table, col, fractional,
                     lambda i: f"must be a whole number, got {raw[i]!r}")
        ok &= ~fractional
    if minimum is not None:
        low = ok & ((values <= minimum) if strict_minimum else (values < minimum))
        sign = ">" if strict_minimum else ">="
        _report_rows(ctx, table, col, low,
                     lambda i: f"must be {sign} {minimum:g}, got {raw[i]!r}")
        ok &= ~low
    values[~ok] = np.nan
    return values


# ------------------------------------------------------------------ the program
def _horizon(ctx: _Context, doc: Mapping[str, Any]) -> tuple[int, int] | None:
    value = doc.get("horizon")
    if value is None:
        ctx.add("horizon", "is required: [first_year, last_year]")
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        ctx.add("horizon", f"must be [first_year, last_year] as two whole numbers, got {value!r}")
        return None
    first, last = value
    if first > last:
        ctx.add("horizon", f"first year {first} is after last year {last}")
        return None
    if last - first > 200:
        ctx.add("horizon", f"spans {last - first + 1} years; at most 201 are supported")
        return None
    return first, last


def _sectors(ctx: _Context, doc: Mapping[str, Any]) -> tuple[list[str], list[float], list[float]]:
    value = doc.get("sectors")
    names: list[str] = []
    mins: list[float] = []
    maxs: list[float] = []
    if value is None:
        ctx.add("sectors", "is required: every project's sector must be named there")
        return names, mins, maxs
    if not isinstance(value, Mapping) or not value:
        ctx.add("sectors", "must be a non-empty mapping of sector name to {min, max}")
        return names, mins, maxs
    for key, limits in value.items():
        name = str(key)
        where = f"sectors.{name}"
        low = high = math.nan
        if limits is None:
            limits = {}
        if not isinstance(limits, Mapping):
            ctx.add(where, f"must be a mapping with optional min and max, got {limits!r}")
        else:
            for extra in set(map(str, limits)) - {"min", "max"}:
                ctx.warnings.append(f"{ctx.file}: {where}.{extra} is not a field of the format; "
                                    "ignored")
            if limits.get("min") is not None:
                low = _number(ctx, limits["min"], f"{where}.min", minimum=0) or 0.0
            if limits.get("max") is not None:
                got = _number(ctx, limits["max"], f"{where}.max", minimum=0)
                high = math.nan if got is None else got
        names.append(name)
        mins.append(low)
        maxs.append(high)
    return names, mins, maxs


def _dependencies(ctx: _Context, doc: Mapping[str, Any], positions: Mapping[str, int]
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    value = doc.get("dependencies")
    requires: list[tuple[int, int]] = []
    excludes: list[np.ndarray] = []
    if value is None:
        return np.zeros((0, 2), dtype=np.int64), excludes
    if not isinstance(value, list):
        ctx.add("dependencies", f"must be a list, got {type(value).__name__}")
        return np.zeros((0, 2), dtype=np.int64), excludes

    def ref(item: Any, key: str, row: str) -> int | None:
        if item is None or isinstance(item, bool | Mapping | list):
            ctx.add(f"dependencies.{key}", f"must be a project id, got {item!r}", row=row)
            return None
        pid = str(item).strip()
        if pid not in positions:
            ctx.add(f"dependencies.{key}", f"unknown project id {pid!r}", row=row)
            return None
        return positions[pid]

    for i, dep in enumerate(value):
        row = f"dependencies[{i}]"
        if not isinstance(dep, Mapping):
            ctx.add("dependencies", f"each entry must be a mapping, got {dep!r}", row=row)
            continue
        kind = dep.get("type")
        if kind == "requires":
            for key in ("project", "on"):
                if key not in dep:
                    ctx.add(f"dependencies.{key}", "is required for a 'requires' dependency",
                            row=row)
            if "project" in dep and "on" in dep:
                a, b = ref(dep["project"], "project", row), ref(dep["on"], "on", row)
                if a is not None and b is not None:
                    if a == b:
                        ctx.warnings.append(f"{ctx.file}: {row}: project {dep['project']!r} "
                                            "requires itself; the rule has no effect")
                    requires.append((a, b))
        elif kind == "excludes":
            group = dep.get("projects")
            if not isinstance(group, list) or len(group) < 2:
                ctx.add("dependencies.projects",
                        f"an 'excludes' dependency needs a list of two or more ids, got {group!r}",
                        row=row)
                continue
            members = [ref(g, "projects", row) for g in group]
            if None in members:
                continue
            if len(set(members)) != len(members):
                ctx.add("dependencies.projects", "names the same project twice", row=row)
                continue
            excludes.append(np.array(members, dtype=np.int64))
        else:
            ctx.add("dependencies.type", f"must be 'requires' or 'excludes', got {kind!r}",
                    row=row)
    pairs = np.array(requires, dtype=np.int64).reshape(-1, 2)
    return pairs, excludes


def _has_cycle(pairs: np.ndarray) -> bool:
    """Whether the directed graph of ``pairs`` has a cycle: peel off nodes with no
    incoming edge (Kahn's algorithm) until none is left; a cycle is what remains."""
    nodes, edges = np.unique(pairs, return_inverse=True)
    edges = edges.reshape(-1, 2)
    indegree = np.bincount(edges[:, 1], minlength=len(nodes))
    order = np.argsort(edges[:, 0], kind="stable")
    starts = np.searchsorted(edges[order, 0], np.arange(len(nodes) + 1))
    ready = list(np.flatnonzero(indegree == 0))
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for target in edges[order[starts[node]:starts[node + 1]], 1]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return removed < len(nodes)


def requires_cycles(pairs: np.ndarray, n: int) -> list[np.ndarray]:
    """The groups of projects (positions, out of ``n``) whose ``requires`` pairs form a
    cycle: each group is funded all together or not at all."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0 or not _has_cycle(pairs):
        return []
    from scipy.sparse.csgraph import connected_components  # 0.1 s to import: only here

    graph = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(labels)
    return [np.flatnonzero(labels == label) for label in np.flatnonzero(sizes > 1)]


def _requires_cycles(ctx: _Context, pairs: np.ndarray, ids: np.ndarray) -> None:
    """Cycles of `requires` are legal (all or nothing); say so, as a warning."""
    for group in requires_cycles(pairs, len(ids))[:20]:
        members = ", ".join(map(str, ids[group[:10]]))
        ctx.warnings.append(f"{ctx.file}: dependencies: projects {members} require each other "
                            "in a cycle: they are funded all together or not at all")


def _validate_profiles(ctx: _Context, table: _Table, positions: Mapping[str, int],
                       first: int) -> pd.DataFrame:
    frame = table.frame
    pid = _column(table, "project")
    known = pid.isin(positions.keys()).to_numpy()
    raw = pid.to_numpy()
    _report_rows(ctx, table, "project", ~known & (pid != "").to_numpy(),
                 lambda i: f"unknown project id {raw[i]!r}")
    _report_rows(ctx, table, "project", (pid == "").to_numpy(), lambda i: "is required but empty")
    year = _numeric(ctx, table, "year", required=True, integer=True)
    early = year < first
    _report_rows(ctx, table, "year", early,
                 lambda i: f"year {int(year[i])} is before the horizon's first year {first}")
    capital = _numeric(ctx, table, "capital", required=True, minimum=0)
    labor = _numeric(ctx, table, "labor", required=False, minimum=0)
    labor_blank = (_column(table, "labor") == "").to_numpy()
    labor[labor_blank] = 0.0
    out = pd.DataFrame({"project": pid.to_numpy(dtype=object), "year": year,
                        "capital": capital, "labor": labor})
    dup = out.duplicated(["project", "year"], keep=False).to_numpy() & known & np.isfinite(year)
    _report_rows(ctx, table, "year", dup,
                 lambda i: f"project {raw[i]!r} has more than one row for year {int(year[i])}")
    del frame
    return out


def _validate_projects(ctx: _Context, table: _Table, sectors: list[str], first: int | None,
                       last: int | None, profiled: set[str]) -> pd.DataFrame:
    n = len(table.frame)
    ids = _column(table, "id")
    raw_ids = ids.to_numpy()
    _report_rows(ctx, table, "id", (ids == "").to_numpy(), lambda i: "is required but empty")
    dup = (ids.duplicated(keep=False) & (ids != "")).to_numpy()
    first_row: dict[str, int] = {}
    for i in np.flatnonzero(dup):
        first_row.setdefault(raw_ids[i], int(i))
    _report_rows(ctx, table, "id", dup & ids.duplicated(keep="first").to_numpy(),
                 lambda i: f"duplicate id {raw_ids[i]!r} (first used in "
                           f"{table.row_label(first_row[raw_ids[i]])})")
    sector = _column(table, "sector")
    raw_sector = sector.to_numpy()
    _report_rows(ctx, table, "sector", (sector == "").to_numpy(),
                 lambda i: "is required but empty")
    unknown = ~sector.isin(sectors).to_numpy() & (sector != "").to_numpy()
    names = ", ".join(sectors)
    _report_rows(ctx, table, "sector", unknown,
                 lambda i: f"unknown sector {raw_sector[i]!r}; the program names: {names}")

    has_profile = ids.isin(profiled).to_numpy()
    capital = _numeric(ctx, table, "capital", required=~has_profile, minimum=0,
                       strict_minimum=True)
    returns = _numeric(ctx, table, "return", required=True)
    start = _numeric(ctx, table, "start", required=~has_profile, integer=True)
    if first is not None and last is not None:
        outside = np.isfinite(start) & ((start < first) | (start > last))
        _report_rows(ctx, table, "start", outside,
                     lambda i: f"year {int(start[i])} is outside the horizon [{first}, {last}]")
        start[outside] = np.nan
    build = _numeric(ctx, table, "build_years", required=False, integer=True, minimum=1)
    labor = _numeric(ctx, table, "labor", required=False, minimum=0)
    every = _numeric(ctx, table, "reinvest_every", required=False, integer=True, minimum=1)
    again = _numeric(ctx, table, "reinvest_capital", required=False, minimum=0)
    units = _numeric(ctx, table, "max_units", required=False, integer=True, minimum=1)
    every_blank = (_column(table, "reinvest_every") == "").to_numpy()
    again_blank = (_column(table, "reinvest_capital") == "").to_numpy()
    _report_rows(ctx, table, "reinvest_capital", every_blank & ~again_blank,
                 lambda i: "is given but reinvest_every is not; give both or neither")
    _report_rows(ctx, table, "reinvest_every", ~every_blank & again_blank,
                 lambda i: "is given but reinvest_capital is not; give both or neither")
    force = _column(table, "force")
    raw_force = force.to_numpy()
    _report_rows(ctx, table, "force", ~force.isin(["", "in", "out"]).to_numpy(),
                 lambda i: f"must be 'in', 'out' or empty, got {raw_force[i]!r}")

    def filled(values: np.ndarray, col: str, default: float) -> np.ndarray:
        blank = (_column(table, col) == "").to_numpy()
        out = values.copy()
        out[blank] = default
        return out

    return pd.DataFrame({
        "id": raw_ids.astype(object),
        "name": _column(table, "name").to_numpy(dtype=object),
        "sector": raw_sector.astype(object),
        "capital": capital,
        "return": returns,
        "start": start,
        "build_years": filled(build, "build_years", 1),
        "labor": filled(labor, "labor", 0.0),
        "reinvest_every": filled(every, "reinvest_every", 0),
        "reinvest_capital": filled(again, "reinvest_capital", 0.0),
        "max_units": filled(units, "max_units", 1),
        "force": force.to_numpy(dtype=object),
    }, index=pd.RangeIndex(n))


def _match_profiles(ctx: _Context, table: _Table, projects: pd.DataFrame,
                    profiles: pd.DataFrame) -> None:
    """Profiled projects: capital, if given, equals the profile sum; start defaults to the
    profile's first year (both as the format defines)."""
    if profiles.empty:
        return
    valid = profiles.dropna(subset=["year", "capital"])
    sums = valid.groupby("project", sort=False)["capital"].sum()
    firsts = valid.groupby("project", sort=False)["year"].min()
    pos = projects["id"].map(sums)
    has = pos.notna().to_numpy()
    given = projects["capital"].to_numpy()
    text = _column(table, "capital").to_numpy()
    blank = text == ""
    target = pos.to_numpy(dtype=float)
    mismatch = has & ~blank & np.isfinite(given) & ~np.isclose(given, target,
                                                                rtol=PROFILE_SUM_RTOL, atol=1e-9)
    _report_rows(ctx, table, "capital", mismatch,
                 lambda i: f"is {given[i]:g} but the project's profile rows sum to "
                           f"{target[i]:g}; they must be equal (or leave capital empty)")
    zero = has & (target <= 0)
    _report_rows(ctx, table, "capital", zero,
                 lambda i: "the project's profile rows sum to 0: one unit must cost > 0")
    projects.loc[has & blank, "capital"] = target[has & blank]
    start_blank = (_column(table, "start") == "").to_numpy()
    fill = has & start_blank
    projects.loc[fill, "start"] = projects.loc[fill, "id"].map(firsts).to_numpy(dtype=float)


# --------------------------------------------------------------------- entry
def load(path: str | Path) -> Instance:
    """Read and validate a ``capital-portfolio/1`` program file (YAML or JSON).

    Returns an immutable :class:`Instance` with its model tables prepared.
    Raises :class:`~optimizer.errors.InstanceError` listing every problem found, each
    with its file, field and row.
    """
    path = Path(path)
    ctx = _Context(str(path))
    doc = _read_document(path)
    if not isinstance(doc, Mapping):
        raise InstanceError([Problem(ctx.file, "(file)", None,
                                     "must hold a mapping of program fields "
                                     f"(format, horizon, sectors, projects, ...), got "
                                     f"{type(doc).__name__}")])
    doc = {str(k): v for k, v in doc.items()}
    for key in sorted(set(doc) - KNOWN_KEYS):
        ctx.warnings.append(f"{ctx.file}: top-level field {key!r} is not part of the format; "
                            "ignored")

    fmt = doc.get("format")
    if fmt != FORMAT:
        ctx.add("format", f"must be {FORMAT!r}, got {fmt!r}")
    name = doc.get("name", path.stem)
    if not isinstance(name, str):
        ctx.add("name", f"must be text, got {name!r}")
        name = path.stem
    horizon = _horizon(ctx, doc)
    first, last = horizon if horizon else (None, None)

    budget = doc.get("budget")
    total: float | None = None
    per_year: dict[int, float] = {}
    if budget is not None:
        if not isinstance(budget, Mapping):
            ctx.add("budget", f"must be a mapping with total and/or per_year, got {budget!r}")
        else:
            if budget.get("total") is not None:
                total = _number(ctx, budget["total"], "budget.total", minimum=0)
            per_year = _yearly(ctx, budget.get("per_year"), "budget.per_year", first, last)
    hurdle = None
    if doc.get("hurdle_rate") is not None:
        hurdle = _number(ctx, doc["hurdle_rate"], "hurdle_rate")
    sectors, smin, smax = _sectors(ctx, doc)
    labor = doc.get("labor")
    capacity: dict[int, float] = {}
    if labor is not None:
        if not isinstance(labor, Mapping):
            ctx.add("labor", f"must be a mapping with a capacity mapping, got {labor!r}")
        else:
            capacity = _yearly(ctx, labor.get("capacity"), "labor.capacity", first, last)
    known = None
    if doc.get("known_optimum") is not None:
        known = _number(ctx, doc["known_optimum"], "known_optimum")
    proven = doc.get("known_optimum_proven")
    if proven is not None and not isinstance(proven, bool):
        ctx.add("known_optimum_proven", f"must be true or false, got {proven!r}")
        proven = None

    base = path.parent
    profiles = pd.DataFrame({c: [] for c in PROFILE_COLUMNS})
    profile_table = None
    if doc.get("profiles") is not None:
        profile_table = _read_table(ctx, doc["profiles"], "profiles", base,
                                    ("project", "year", "capital"))
    if "projects" not in doc or doc["projects"] is None:
        ctx.add("projects", "is required: a CSV path or an inline list of projects")
        raise InstanceError(ctx.problems)
    table = _read_table(ctx, doc["projects"], "projects", base, ("id", "sector", "return"))
    if table is None:
        raise InstanceError(ctx.problems)
    if table.frame.empty:
        ctx.add("projects", "the projects table has no rows", file=table.file)
        raise InstanceError(ctx.problems)
    ids = table.frame["id"].tolist()
    positions = {pid: i for i, pid in enumerate(ids) if pid != ""}
    if profile_table is not None:
        if profile_table.frame.empty:
            ctx.add("profiles", "the profiles table has no rows; leave `profiles` out instead",
                    file=profile_table.file)
        elif first is not None:
            profiles = _validate_profiles(ctx, profile_table, positions, first)
    projects = _validate_projects(ctx, table, sectors, first, last,
                                  set(profiles["project"].unique()))
    if profile_table is not None:
        _match_profiles(ctx, table, projects, profiles)
    requires, excludes = _dependencies(ctx, doc, positions)

    if ctx.problems:
        raise InstanceError(ctx.problems)
    assert first is not None and last is not None
    _requires_cycles(ctx, requires, projects["id"].to_numpy())

    projects = projects.astype({"start": np.int64, "build_years": np.int64,
                                "reinvest_every": np.int64, "max_units": np.int64})
    profiles = profiles.astype({"year": np.int64, "capital": float, "labor": float})
    years = np.arange(first, last + 1)
    instance = Instance(
        name=name,
        source=str(path),
        first_year=first,
        last_year=last,
        budget_total=total,
        budget_per_year=np.array([per_year.get(int(y), np.nan) for y in years]),
        hurdle_rate=hurdle,
        sectors=tuple(sectors),
        sector_min=np.array(smin, dtype=float),
        sector_max=np.array(smax, dtype=float),
        labor_capacity=np.array([capacity.get(int(y), np.nan) for y in years]),
        projects=projects[list(PROJECT_COLUMNS)],
        profiles=profiles[list(PROFILE_COLUMNS)].reset_index(drop=True),
        requires=requires,
        excludes=tuple(excludes),
        known_optimum=known,
        known_optimum_proven=proven,
        warnings=tuple(ctx.warnings),
    )
    prepared = prepare(instance)
    numerics = _numerics_warnings(prepared, ctx.file)
    if numerics:
        import dataclasses

        prepared = dataclasses.replace(prepared, warnings=prepared.warnings + tuple(numerics))
    return prepared


#: Above this ratio of largest to smallest nonzero magnitude, a warning says the solver's
#: tolerances may not hold (HiGHS itself flags matrix ranges beyond about 1e9).
COEFFICIENT_RANGE_WARN = 1e9


def _numerics_warnings(instance: Instance, file: str) -> list[str]:
    """Warnings for magnitudes that will hurt the solver's numerics: per-unit capital and
    labor (the rows' coefficients), returns (the objective), and the limits."""
    out = []
    groups = (
        ("capital and labor per unit (capital, labor, profiles)",
         np.concatenate([instance.capital_by_year.data, instance.labor_by_year.data,
                         instance.total_capital])),
        ("returns (return)", instance.returns),
        ("limits (budget, sectors, labor capacity)",
         np.concatenate([np.atleast_1d(instance.budget_total or np.nan),
                         instance.budget_per_year, instance.sector_min, instance.sector_max,
                         instance.labor_capacity])),
    )
    for what, values in groups:
        values = np.abs(values[np.isfinite(values)])
        values = values[values > 0]
        if len(values) and values.max() / values.min() > COEFFICIENT_RANGE_WARN:
            out.append(f"{file}: {what} range from {values.min():.3g} to {values.max():.3g} "
                       f"(a ratio above {COEFFICIENT_RANGE_WARN:.0e}); the solver's "
                       "tolerances may not hold: consider other units (e.g. $B, thousands "
                       "of specialists)")
    return out


# -------------------------------------------------------------------- prepare
def prepare(instance: Instance) -> Instance:
    """Derive the model tables (capital and labor per project and year, total capital per
    project, sector positions) from the validated tables, all with numpy."""
    import dataclasses

    projects, profiles = instance.projects, instance.profiles
    first, last = instance.first_year, instance.last_year
    n, n_years = len(projects), last - first + 1
    ids = projects["id"].to_numpy()
    start = projects["start"].to_numpy(dtype=np.int64)
    capital = projects["capital"].to_numpy(dtype=float)

    profiled = np.zeros(n, dtype=bool)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    cap_vals: list[np.ndarray] = []
    lab_vals: list[np.ndarray] = []
    total = np.zeros(n)
    if len(profiles):
        pos = pd.Index(ids).get_indexer(profiles["project"])
        profiled[pos] = True
        year = profiles["year"].to_numpy(dtype=np.int64)
        np.add.at(total, pos, profiles["capital"].to_numpy(dtype=float))
        inside = year <= last
        rows.append(pos[inside])
        cols.append(year[inside] - first)
        cap_vals.append(profiles["capital"].to_numpy(dtype=float)[inside])
        lab_vals.append(profiles["labor"].to_numpy(dtype=float)[inside])

    spread = np.flatnonzero(~profiled)
    build = projects["build_years"].to_numpy(dtype=np.int64)[spread]
    total[spread] += capital[spread]
    owner = np.repeat(spread, build)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(build) - build, build)
    year = start[owner] + offset
    inside = year <= last
    rows.append(owner[inside])
    cols.append(year[inside] - first)
    cap_vals.append((capital[spread] / build)[np.repeat(np.arange(len(spread)), build)][inside])
    lab_vals.append(projects["labor"].to_numpy(dtype=float)[owner][inside])

    every = projects["reinvest_every"].to_numpy(dtype=np.int64)
    again = projects["reinvest_capital"].to_numpy(dtype=float)
    has = np.flatnonzero(every > 0)
    counts = np.where(every[has] > 0, (last - start[has]) // np.maximum(every[has], 1), 0)
    counts = np.maximum(counts, 0)
    owner = np.repeat(has, counts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    rows.append(owner)
    cols.append(start[owner] + k * every[owner] - first)
    cap_vals.append(again[owner])
    lab_vals.append(np.zeros(len(owner)))
    np.add.at(total, has, counts * again[has])

    r, c = np.concatenate(rows), np.concatenate(cols)
    capital_by_year = sp.coo_array((np.concatenate(cap_vals), (r, c)), shape=(n, n_years)).tocsc()
    labor_by_year = sp.coo_array((np.concatenate(lab_vals), (r, c)), shape=(n, n_years)).tocsc()
    capital_by_year.eliminate_zeros()
    labor_by_year.eliminate_zeros()
    sector_index = pd.Index(instance.sectors).get_indexer(projects["sector"])
    return dataclasses.replace(
        instance,
        capital_by_year=capital_by_year,
        labor_by_year=labor_by_year,
        total_capital=total,
        sector_index=sector_index.astype(np.int64),
    )
