"""Generated broken files: every one ends in exit 2 with a message naming the file and the
field, nothing on standard output, and never a traceback.

Each example starts from a valid program (YAML or JSON; projects as CSV or inline) and
breaks it in one way drawn from a catalogue: a bad value in any numeric program field
(NaN, infinities, negatives, text, lists, mappings, booleans), a bad cell in any project
or profile column, an unknown or malformed dependency, a stray non-UTF-8 byte, a YAML tag,
a repeated key, a table with no rows or without a required column. The catalogue is
written from the format, independently of the loader.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import error_object
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_invalid_input import BASE, PROFILES, PROJECTS

from optimizer.cli.main import main

pytestmark = pytest.mark.slow

NAN, INF = float("nan"), float("inf")
NOT_NUMBERS = [NAN, INF, -INF, "lots", [1, 2], {"a": 1}, True]

#: program fields: (dotted path, values that must be refused)
PROGRAM_FIELDS = {
    "budget.total": NOT_NUMBERS + [-1, -1e-9],
    "budget.per_year.2026": NOT_NUMBERS + [-5],
    "hurdle_rate": NOT_NUMBERS,
    "sectors.energy.min": NOT_NUMBERS + [-1],
    "sectors.energy.max": NOT_NUMBERS + [-1],
    "labor.capacity.2026": NOT_NUMBERS + [-1],
    "horizon": [[2030, 2026], [2026], "2026-2030", [2026.5, 2030], NAN, [True, 2030]],
    "format": ["capital-portfolio/3", 1, None, ["capital-portfolio/1"]],
    "sectors": [[], "energy", 5],
    "budget": [550, "a lot", [550]],
    "labor": [1000, "many"],
}

#: project columns: (rows that may take the value, values that must be refused)
PROJECT_CELLS = {
    "capital": ((0, 1, 2), ["nan", "inf", "-inf", 0, -3, "ten", ""]),
    "return": ((0, 1, 2, 3), ["nan", "inf", "-inf", "high", ""]),
    "start": ((0, 1, 2), [2025, 2031, 2026.5, "soon", ""]),
    "build_years": ((0, 1, 2), [0, -1, 1.5, "two", "inf"]),
    "labor": ((0, 1, 2, 3), [-1, "nan", "inf", "some"]),
    "max_units": ((0, 1, 2, 3), [0, -1, 1.5, "many", "inf"]),
    "force": ((0, 1, 2, 3), ["maybe", 1, "IN!"]),
    "sector": ((0, 1, 2, 3), ["space", ""]),
    "id": ((0, 1, 2, 3), [""]),
    "reinvest_every": ((2,), [0, -2, 1.5, "often"]),
    "reinvest_capital": ((2,), [-1, "nan", "lots"]),
}

PROFILE_CELLS = {
    "project": ["Z", ""],
    "year": [2025, 2027.5, "next", ""],
    "capital": [-1, "nan", "inf", "x"],
    "labor": [-1, "nan", "x"],
}

DEPENDENCIES = [
    ({"type": "requires", "project": "Z", "on": "A"}, "dependencies.project"),
    ({"type": "requires", "project": "A", "on": "Z"}, "dependencies.on"),
    ({"type": "requires", "project": "A"}, "dependencies.on"),
    ({"type": "needs", "project": "A", "on": "B"}, "dependencies.type"),
    ({"type": "excludes", "projects": ["A", "Q"]}, "dependencies.projects"),
    ({"type": "excludes", "projects": ["A"]}, "dependencies.projects"),
    ({"type": "excludes", "projects": "A,B"}, "dependencies.projects"),
]


def _set(doc: dict, dotted: str, value: object) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        k = int(k) if k.isdigit() else k
        doc = doc[k]
    last = keys[-1]
    doc[int(last) if last.isdigit() else last] = value


class Case:
    """A program being broken: its mapping, tables and the text or bytes edits to apply."""

    def __init__(self, fmt: str, csv: bool) -> None:
        self.fmt, self.csv = fmt, csv
        self.doc = copy.deepcopy(BASE)
        self.projects = copy.deepcopy(PROJECTS)
        self.profiles = copy.deepcopy(PROFILES)
        self.edit_program = None  # bytes -> bytes
        self.edit_projects = None
        self.expect: list[str] = []  # fragments the message must hold
        self.blamed = "program"  # which file the message must name

    def write(self, folder: Path) -> Path:
        doc = copy.deepcopy(self.doc)
        pd.DataFrame(self.profiles).to_csv(folder / "profiles.csv", index=False)
        doc["profiles"] = "profiles.csv"
        if self.csv:
            pd.DataFrame(self.projects).to_csv(folder / "projects.csv", index=False)
            doc["projects"] = "projects.csv"
            if self.edit_projects is not None:
                path = folder / "projects.csv"
                path.write_bytes(self.edit_projects(path.read_bytes()))
        else:
            doc["projects"] = self.projects
        path = folder / f"program.{self.fmt}"
        if self.fmt == "json":
            text = json.dumps(doc, indent=1)  # NaN and Infinity as Python writes them
        else:
            text = yaml.safe_dump(doc, sort_keys=False)
        raw = text.encode()
        if self.edit_program is not None:
            raw = self.edit_program(raw)
        path.write_bytes(raw)
        return path


@st.composite
def broken(draw: st.DrawFn) -> Case:
    case = Case(draw(st.sampled_from(["yaml", "json"])), draw(st.booleans()))
    kind = draw(st.sampled_from(["program", "project", "profile", "dependency", "bytes",
                                 "tag", "duplicate_key", "empty_table", "missing_column"]))
    event(kind)
    if kind == "program":
        field = draw(st.sampled_from(sorted(PROGRAM_FIELDS)))
        _set(case.doc, field, draw(st.sampled_from(PROGRAM_FIELDS[field])))
        case.expect = [f"'{field}'"]
    elif kind == "project":
        column = draw(st.sampled_from(sorted(PROJECT_CELLS)))
        rows, values = PROJECT_CELLS[column]
        row = draw(st.sampled_from(rows))
        value = draw(st.sampled_from(values))
        if column == "id" and draw(st.booleans()):
            value = PROJECTS[(row + 1) % len(PROJECTS)]["id"]  # a duplicate id
        case.projects[row][column] = value
        if column.startswith("reinvest"):  # give the pair, break one side
            other = "reinvest_capital" if column == "reinvest_every" else "reinvest_every"
            case.projects[row].setdefault(other, 2)
        case.expect = [f"field '{column}'",
                       f"row {row + 1} (line {row + 2})" if case.csv else f"projects[{row}]"]
        case.blamed = "projects" if case.csv else "program"
    elif kind == "profile":
        column = draw(st.sampled_from(sorted(PROFILE_CELLS)))
        row = draw(st.sampled_from([0, 1]))
        case.profiles[row][column] = draw(st.sampled_from(PROFILE_CELLS[column]))
        case.expect = [f"field '{column}'", f"row {row + 1} (line {row + 2})"]
        case.blamed = "profiles"
    elif kind == "dependency":
        entry, field = draw(st.sampled_from(DEPENDENCIES))
        deps = case.doc["dependencies"]
        deps.insert(draw(st.integers(0, len(deps))), entry)
        case.expect = [f"'{field}'"]
    elif kind == "bytes":  # a byte no UTF-8 text holds, somewhere in one file
        target = draw(st.sampled_from(["program", "projects"] if case.csv else ["program"]))
        where = draw(st.floats(0, 1))

        def insert(raw: bytes) -> bytes:
            k = int(where * len(raw))
            return raw[:k] + b"\xff" + raw[k:]

        if target == "program":
            case.edit_program = insert
        else:
            case.edit_projects = insert
        case.expect = ["not UTF-8", "field '(file)'", "line "]
        case.blamed = target
    elif kind == "tag":
        case.fmt = "yaml"
        field = draw(st.sampled_from(["name", "hurdle_rate", "budget.total", "horizon"]))
        tag = draw(st.sampled_from(["!!python/object/apply:os.system", "!custom",
                                    "!!python/name:os.getcwd"]))
        _set(case.doc, field, "TAGGED")

        def tag_it(raw: bytes) -> bytes:
            return raw.replace(b"TAGGED", f"{tag} [x]".encode(), 1)

        case.edit_program = tag_it
        case.expect = [f"field '{field}'", "YAML tag"]
    elif kind == "duplicate_key":
        key = draw(st.sampled_from(["name", "hurdle_rate", "budget"]))
        if case.fmt == "yaml":
            def repeat(raw: bytes) -> bytes:
                line = next(x for x in raw.split(b"\n") if x.startswith(key.encode() + b":"))
                return raw.replace(line + b"\n", line + b"\n" + line + b"\n", 1)
        else:
            def repeat(raw: bytes) -> bytes:
                data = json.loads(raw)
                again = json.dumps({key: data[key]})[1:-1]
                return b"{" + again.encode() + b", " + raw.lstrip()[1:]
        case.edit_program = repeat
        case.expect = [f"field '{key}'", "twice"]
    elif kind == "empty_table":
        target = draw(st.sampled_from(["projects", "profiles"]))
        if target == "projects":
            case.projects = []
            case.expect = ["projects"]
        else:
            case.profiles = []
            case.expect = ["profiles"]
        case.blamed = "program" if (target == "projects" and not case.csv) else target
        if case.blamed == "program":
            case.expect = ["'projects'"]
    else:  # a required column missing from the projects table
        column = draw(st.sampled_from(["id", "sector", "return"]))
        case.projects = [{k: v for k, v in p.items() if k != column} for p in case.projects]
        case.expect = [f"field '{column}'"]
        case.blamed = "projects" if case.csv else "program"
    return case


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(broken())
def test_every_broken_file_exits_2_naming_the_field(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = case.write(Path(folder))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["solve", str(path), "--json"])
        message = err.getvalue()
        assert code == 2, (code, message, out.getvalue()[:300])
        assert error_object(out.getvalue())["problems"]
        assert "Traceback" not in message and "internal error" not in message, message
        for fragment in case.expect:
            assert fragment in message, (fragment, message)
        blamed = path.name if case.blamed == "program" else f"{case.blamed}.csv"
        assert blamed in message, (blamed, message)
