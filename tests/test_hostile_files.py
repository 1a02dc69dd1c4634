"""Hostile and malformed program files (issue 13, section 6): every one ends in exit 2
with a message naming the file and the field (and the line where there is one), nothing
on standard output under ``--json``, never a traceback, a hang or exit 1; a file that is
valid after all still loads.

The classes: integer literals beyond the floating-point range (400 digits) and beyond
Python's digit limit (5,000), in YAML, JSON, CSV cells and inline cells; a NUL byte in a
table path; documents nested hundreds or thousands of levels deep, or through an alias
into themselves; devices, directories and named pipes as the program or a table; numbers
outside the documented bounds of :mod:`optimizer.limits` in every numeric field and
column; lone UTF-16 surrogates; CSV tables whose header names a column twice or leaves
one unnamed, whose rows have fewer or more fields than the header, or a trailing comma on
every row; numbers that are not plain decimals (``1_0``, full-width or Arabic-Indic
digits, YAML 1.1's ``0x1F`` and ``1:30``). The catalogue of the Hypothesis test is
written from the format and the bounds, independently of the loader.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import error_object
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_invalid_input import BASE, PROFILES, PROJECTS

from optimizer import load
from optimizer.cli.main import main
from optimizer.limits import (
    BUILD_YEARS,
    HORIZON_YEARS,
    MAX_UNITS,
    MONEY,
    PEOPLE,
    RATE,
    REINVEST_EVERY,
    YEAR,
)

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "HOSTILE_TOKEN"


# ------------------------------------------------------------------ writing files
class Case:
    """A program to write (YAML or JSON; projects as CSV or inline), with raw text
    replacements applied to the written files (a literal no serialiser would write: a
    5,000-digit integer, a lone surrogate escape, a nest of brackets)."""

    def __init__(self, fmt: str = "yaml", csv: bool = True) -> None:
        self.fmt, self.csv = fmt, csv
        self.doc = copy.deepcopy(BASE)
        self.projects = copy.deepcopy(PROJECTS)
        self.profiles = copy.deepcopy(PROFILES)
        self.literal: str | None = None  # replaces TOKEN (and its quotes) in every file
        self.edit_projects = None  # a function of the projects.csv text
        self.append_yaml = ""  # text appended to a YAML program
        self.kind = ""  # what was broken (for the report of a failing example)

    def __repr__(self) -> str:
        return (f"Case({self.kind}, {self.fmt}, csv={self.csv}, literal="
                f"{(self.literal or '')[:40]!r})")

    def write(self, folder: Path) -> Path:
        doc = copy.deepcopy(self.doc)
        pd.DataFrame(self.profiles).to_csv(folder / "profiles.csv", index=False)
        doc.setdefault("profiles", "profiles.csv")
        if self.csv:
            pd.DataFrame(self.projects).to_csv(folder / "projects.csv", index=False)
            doc.setdefault("projects", "projects.csv")
            if self.edit_projects is not None:
                path = folder / "projects.csv"
                path.write_text(self.edit_projects(path.read_text()))
        else:
            doc.setdefault("projects", self.projects)
        path = folder / f"program.{self.fmt}"
        if self.fmt == "json":
            path.write_text(json.dumps(doc, indent=1))
        else:
            path.write_text(yaml.safe_dump(doc, sort_keys=False) + self.append_yaml)
        if self.literal is not None:
            for file in folder.iterdir():
                text = file.read_text()
                if TOKEN in text:
                    file.write_text(re.sub(f"['\"]?{TOKEN}['\"]?", lambda _: self.literal, text))
        return path


def run(path: Path, *extra: str) -> tuple[int, str, str]:
    """``optimizer solve PATH --json`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["solve", str(path), "--json", *extra])
    return code, out.getvalue(), err.getvalue()


def run_process(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The command in a process of its own, stopped after 20 s (a hang fails the test)."""
    return subprocess.run([sys.executable, "-m", "optimizer", *args], cwd=cwd or ROOT,
                          capture_output=True, timeout=20)


def refused(path: Path, *fragments: str, blamed: str | None = None) -> str:
    """Solve with --json: exit 2, nothing on stdout, the file and every fragment named."""
    code, out, err = run(path)
    assert code == 2, (code, err[-2000:], out[:300])
    assert error_object(out), out[:300]
    assert "Traceback" not in err and "internal error" not in err, err
    assert "field '" in err, err
    assert (blamed or path.name) in err, (blamed or path.name, err)
    for fragment in fragments:
        assert fragment in err, (fragment, err[-2000:])
    return err


def _set(doc: dict, dotted: str, value: object) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        doc = doc[int(k) if k.isdigit() and int(k) in doc else k]
    last = keys[-1]
    doc[int(last) if last.isdigit() and int(last) in doc else last] = value


@pytest.mark.solver
def test_the_base_is_valid(tmp_path):
    code, out, err = run(Case().write(tmp_path))
    assert code == 0, err
    assert json.loads(out)["check"]["valid"]


# ------------------------------------------------------------- huge integers
PROGRAM_NUMBERS = ["budget.total", "budget.per_year.2026", "hurdle_rate",
                   "sectors.energy.min", "sectors.energy.max", "labor.capacity.2026",
                   "known_optimum"]


@pytest.mark.parametrize("digits", [400, 5000])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("field", PROGRAM_NUMBERS)
def test_huge_integer_in_a_program_field(tmp_path, field, fmt, digits):
    case = Case(fmt)
    _set(case.doc, field, TOKEN)
    case.literal = "9" * digits
    refused(case.write(tmp_path), f"field '{field}'")


@pytest.mark.parametrize("digits", [400, 5000])
@pytest.mark.parametrize("csv", [True, False])
@pytest.mark.parametrize("column", ["capital", "return", "start", "build_years", "labor",
                                    "max_units"])
def test_huge_integer_in_a_cell(tmp_path, column, csv, digits):
    case = Case("yaml", csv)
    case.projects[0][column] = TOKEN
    case.literal = "-" * (column == "return") + "9" * digits
    refused(case.write(tmp_path), f"field '{column}'",
            "row 1 (line 2)" if csv else "projects[0]",
            blamed="projects.csv" if csv else "program.yaml")


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_huge_integer_in_the_horizon_and_a_year_key(tmp_path, fmt):
    case = Case(fmt)
    case.doc["horizon"] = [2026, TOKEN]
    case.literal = "9" * 5000
    refused(case.write(tmp_path), "field 'horizon'")
    case = Case(fmt)
    case.doc["budget"]["per_year"] = {TOKEN: 5}
    # (a YAML key may have at most 1,024 characters)
    case.literal = ('"' + "9" * 5000 + '"') if fmt == "json" else "9" * 1000
    refused(case.write(tmp_path), "field 'budget.per_year'")


# --------------------------------------------------------------------- paths
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_nul_byte_in_a_table_path(tmp_path, fmt):
    case = Case(fmt)
    case.doc["projects"] = TOKEN
    case.literal = '"proj\\u0000ects.csv"' if fmt == "json" else '"proj\\0ects.csv"'
    refused(case.write(tmp_path), "field 'projects'", "NUL")


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "/dev/null", "."])
@pytest.mark.parametrize("table", ["projects", "profiles"])
def test_special_files_as_tables(tmp_path, target, table):
    if not os.path.exists(target):
        pytest.skip(f"no {target} here")
    case = Case()
    case.doc[table] = target
    refused(case.write(tmp_path), f"field '{table}'", "not a regular file")


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "."])
def test_special_files_as_the_program(target):
    if not os.path.exists(target):
        pytest.skip(f"no {target} here")
    code, out, err = run(Path(target))
    assert code == 2 and error_object(out) and "field '(file)'" in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
@pytest.mark.parametrize("which", ["program", "projects", "profiles"])
def test_a_named_pipe_does_not_hang(tmp_path, which):
    case = Case()
    if which != "program":
        case.doc[which] = "pipe.csv"
        path = case.write(tmp_path)
        os.mkfifo(tmp_path / "pipe.csv")
    else:
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)
    proc = run_process(["solve", str(path), "--json"])
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert error_object(proc.stdout)
    assert "named pipe" in err and "Traceback" not in err, err
    assert ("field '(file)'" if which == "program" else f"field '{which}'") in err, err


# ------------------------------------------------------------------- nesting
@pytest.mark.parametrize("depth", [65, 300, 1000, 5000])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("shape", ["lists", "mappings"])
def test_deep_nesting_is_refused_naming_the_line(tmp_path, depth, fmt, shape):
    case = Case(fmt)
    case.doc["x_deep"] = TOKEN
    if shape == "lists":
        case.literal = "[" * depth + "]" * depth
    else:
        case.literal = '{"a": ' * depth + "1" + "}" * depth
    err = refused(case.write(tmp_path), "field '(file)'", "64 levels")
    assert re.search(r"line \d+", err), err


def test_deep_block_nesting_is_refused(tmp_path):
    case = Case("yaml")
    case.append_yaml = "x_deep:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(300)) + \
        " " * 302 + "b: 1\n"
    refused(case.write(tmp_path), "field '(file)'", "64 levels", "line ")


def test_nesting_at_the_limit_loads(tmp_path):
    case = Case("yaml")
    case.doc["x_deep"] = TOKEN
    case.literal = "[" * 63 + "]" * 63  # the program's mapping, then 63 lists: 64 levels
    load(case.write(tmp_path))


def test_an_alias_into_itself_is_refused(tmp_path):
    case = Case("yaml")
    case.append_yaml = "x_loop: &loop [1, *loop]\n"
    refused(case.write(tmp_path), "field '(file)'", "contains itself", "line ")


# ------------------------------------------------------------------ surrogates
@pytest.mark.parametrize("where", ["name", "sector", "id", "metadata key", "path"])
@pytest.mark.parametrize("json_out", [True, False])
def test_lone_surrogate_is_refused_and_printable(tmp_path, where, json_out):
    case = Case("json", csv=where != "id")
    if where == "name":
        case.doc["name"] = TOKEN
    elif where == "sector":
        case.doc["sectors"]["x"] = None
        case.doc["sectors"] = {(TOKEN if k == "x" else k): v
                               for k, v in case.doc["sectors"].items()}
    elif where == "id":
        case.projects[0]["id"] = TOKEN
    elif where == "metadata key":
        case.doc[f"x_{TOKEN}"] = 1
    else:
        case.doc["profiles"] = TOKEN
    case.literal = '"\\ud800"' if where != "metadata key" else "\\udfff"
    path = case.write(tmp_path)
    proc = run_process(["solve", str(path)] + (["--json"] if json_out else []))
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    if json_out:
        assert error_object(proc.stdout)["problems"], proc.stdout[:300]
    else:
        assert proc.stdout == b"", proc.stdout[:300]
    assert "surrogate" in err and "field '" in err and "program.json" in err, err
    assert "Traceback" not in err, err


def test_yaml_surrogate_escape_is_refused(tmp_path):
    case = Case("yaml")
    case.doc["name"] = TOKEN
    case.literal = '"\\ud800"'
    refused(case.write(tmp_path))


@pytest.mark.solver
def test_a_file_name_that_is_not_utf8_prints(tmp_path):
    """The program's name defaults to its file's: a name with bytes that are not UTF-8
    must print (escaped), not end in exit 1 after the solve."""
    case = Case("yaml")
    del case.doc["name"]
    path = case.write(tmp_path)
    odd = os.fsencode(tmp_path) + b"/\xff\xfe.yaml"
    os.rename(path, odd)
    proc = subprocess.run([sys.executable, "-m", "optimizer", "solve", odd], cwd=ROOT,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert b"status: optimal" in proc.stdout


# ------------------------------------------------------------------- bounds
def _outside(bound, integer=False):
    """Values just and far outside a bound."""
    step = 1 if integer else bound.high * 0.5
    return [bound.high + step, 1e19, 1e300] + ([bound.low - (1 if integer else 1)]
                                               if bound.low > -1e300 and bound.low != 0 else [])


OUT_OF_BOUNDS_PROGRAM = (
    [("budget.total", v) for v in _outside(MONEY)]
    + [("budget.per_year.2026", v) for v in _outside(MONEY)]
    + [("hurdle_rate", v) for v in _outside(RATE)]
    + [("sectors.energy.min", v) for v in _outside(MONEY)]
    + [("sectors.energy.max", v) for v in _outside(MONEY)]
    + [("labor.capacity.2026", v) for v in _outside(PEOPLE)]
    + [("known_optimum", v) for v in _outside(MONEY)] + [("known_optimum", -2e9)]
)


@pytest.mark.parametrize("field,value", OUT_OF_BOUNDS_PROGRAM,
                         ids=[f"{f}={v:g}" for f, v in OUT_OF_BOUNDS_PROGRAM])
def test_a_program_number_outside_its_bound(tmp_path, field, value):
    case = Case("yaml")
    _set(case.doc, field, value)
    refused(case.write(tmp_path), f"field '{field}'", "must be")


OUT_OF_BOUNDS_CELLS = (
    [("capital", 0, v) for v in _outside(MONEY)]
    + [("return", 0, v) for v in _outside(MONEY)] + [("return", 0, -2e9)]
    + [("start", 0, v) for v in (1e20, -1e20, 3000)]
    + [("build_years", 0, v) for v in _outside(BUILD_YEARS, True)]
    + [("labor", 1, v) for v in _outside(PEOPLE)]
    + [("reinvest_every", 2, v) for v in _outside(REINVEST_EVERY, True)]
    + [("reinvest_capital", 2, v) for v in _outside(MONEY)]
    + [("max_units", 1, v) for v in _outside(MAX_UNITS, True)]
)


@pytest.mark.parametrize("csv", [True, False])
@pytest.mark.parametrize("column,row,value", OUT_OF_BOUNDS_CELLS,
                         ids=[f"{c}={v:g}" for c, _, v in OUT_OF_BOUNDS_CELLS])
def test_a_cell_outside_its_bound(tmp_path, column, row, value, csv):
    case = Case("yaml", csv)
    case.projects[row][column] = value
    refused(case.write(tmp_path), f"field '{column}'",
            f"row {row + 1} (line {row + 2})" if csv else f"projects[{row}]",
            blamed="projects.csv" if csv else "program.yaml")


@pytest.mark.parametrize("column,value", [("year", 1e20), ("year", 2201), ("year", -1e20),
                                          ("capital", 2e9), ("capital", 1e300),
                                          ("labor", 2e10), ("labor", 1e300)])
def test_a_profile_cell_outside_its_bound(tmp_path, column, value):
    case = Case()
    case.profiles[1][column] = value
    refused(case.write(tmp_path), f"field '{column}'", "row 2 (line 3)",
            blamed="profiles.csv")


@pytest.mark.parametrize("horizon", [[YEAR.low - 1, 2030], [2026, YEAR.high + 1],
                                     [2000, 2000 + HORIZON_YEARS], [10**20, 10**20 + 1]])
def test_a_horizon_outside_its_bounds(tmp_path, horizon):
    case = Case()
    case.doc["horizon"] = [int(y) for y in horizon]
    refused(case.write(tmp_path), "field 'horizon'")


@pytest.mark.parametrize("key", [int(YEAR.low) - 1, int(YEAR.high) + 1, 10**20, -2026])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_year_key_outside_its_bound(tmp_path, key, fmt):
    case = Case(fmt)
    case.doc["labor"]["capacity"] = {key: 5}
    refused(case.write(tmp_path), "field 'labor.capacity'")


def test_numbers_at_their_bounds_load(tmp_path):
    case = Case("yaml")
    case.doc["horizon"] = [int(YEAR.high) - HORIZON_YEARS + 1, int(YEAR.high)]
    case.doc["budget"] = {"total": MONEY.high, "per_year": {int(YEAR.high): MONEY.high}}
    case.doc["hurdle_rate"] = RATE.low
    case.doc["sectors"]["energy"] = {"min": 0, "max": MONEY.high}
    case.doc["labor"] = {"capacity": {int(YEAR.high): PEOPLE.high}}
    case.doc["known_optimum"] = MONEY.low
    first = case.doc["horizon"][0]
    for p in case.projects:
        if "start" in p:
            p["start"] = first
    case.projects[0].update(capital=MONEY.high, build_years=int(BUILD_YEARS.high),
                            max_units=int(MAX_UNITS.high), labor=PEOPLE.high)
    case.projects[1]["return"] = MONEY.low
    case.projects[2].update(reinvest_every=int(REINVEST_EVERY.high), reinvest_capital=MONEY.high)
    for p in case.profiles:
        p["year"] = p["year"] - 2026 + first
    case.profiles[1]["year"] = int(YEAR.high)
    instance = load(case.write(tmp_path))
    assert instance.projects["max_units"].iloc[0] == MAX_UNITS.high


def test_generated_and_converted_programs_still_load(tmp_path):
    from optimizer.program.generate import generate
    from optimizer.program.generate import write as write_program

    load(write_program(generate(300, seed=5), tmp_path / "g"))
    load(ROOT / "instances" / "pilot" / "program.yaml")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["convert", "orlib", str(ROOT / "instances/orlib/mknap1.txt"),
                     "--out", str(tmp_path / "o")]) == 0
    programs = sorted((tmp_path / "o").rglob("*.yaml"))
    assert programs
    for path in programs:
        load(path)


# ------------------------------------------------------------------ CSV shapes
def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def _rejoin(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def test_a_column_given_twice_in_the_header(tmp_path):
    case = Case()
    case.edit_projects = lambda t: t.replace("max_units", "capital", 1)
    refused(case.write(tmp_path), "field 'capital'", "twice" if False else "2 times",
            "(header)", blamed="projects.csv")


def test_a_header_column_with_no_name(tmp_path):
    case = Case()
    case.edit_projects = lambda t: _rejoin([line + "," for line in _lines(t)])
    refused(case.write(tmp_path), "(header)", "no name", blamed="projects.csv")


@pytest.mark.parametrize("quoted", [False, True])
def test_a_row_with_fewer_fields(tmp_path, quoted):
    case = Case()
    if quoted:
        case.projects[0]["name"] = "a, quoted name"

    def cut(text: str) -> str:
        lines = _lines(text)
        lines[3] = lines[3].rsplit(",", 1)[0]  # row 3 loses its last field: force
        return _rejoin(lines)

    case.edit_projects = cut
    refused(case.write(tmp_path), "row 3 (line 4)", "field 'force'", blamed="projects.csv")


@pytest.mark.parametrize("quoted", [False, True])
def test_a_row_with_one_field_more(tmp_path, quoted):
    case = Case()
    if quoted:
        case.projects[0]["name"] = "a, quoted name"

    def extend(text: str) -> str:
        lines = _lines(text)
        lines[2] += ",7"
        return _rejoin(lines)

    case.edit_projects = extend
    refused(case.write(tmp_path), "row 2 (line 3)", "more than the header",
            blamed="projects.csv")


def test_a_trailing_comma_on_every_row(tmp_path):
    case = Case()
    case.edit_projects = lambda t: _rejoin([t.split("\n")[0]] +
                                           [line + "," for line in _lines(t)[1:]])
    err = refused(case.write(tmp_path), "rows have one field more than the header "
                                        "(a trailing comma?)", "line", blamed="projects.csv")
    assert "unknown sector" not in err


@pytest.mark.solver
def test_blank_lines_and_crlf_keep_the_line_numbers(tmp_path):
    case = Case()
    case.projects[2]["capital"] = "ten"

    def spread(text: str) -> str:
        lines = _lines(text)
        return "\r\n".join(lines[:2] + ["", "  "] + lines[2:]) + "\r\n"

    case.edit_projects = spread
    refused(case.write(tmp_path), "row 3 (line 6)", "field 'capital'", blamed="projects.csv")
    case.projects[2]["capital"] = 5
    code, _, err = run(case.write(tmp_path))
    assert code == 0, err


@pytest.mark.parametrize("quote_all", [False, True])
def test_quoted_tables_read_as_the_exact_reader_reads_them(tmp_path, quote_all):
    """A quoted CSV table (every field, or those that need it: commas, quotes and line
    breaks inside) reads with pandas' C reader as the csv module reads it, the line
    numbers of its rows counting the line breaks inside quoted cells."""
    import csv as csv_module

    from optimizer.program import loading

    case = Case()
    case.projects[0]["name"] = 'a "quoted", multi\nline\nname'
    case.projects[1]["name"] = "comma, inside"
    case.projects[2]["capital"] = "ten"
    path = case.write(tmp_path)
    table = tmp_path / "projects.csv"
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    frame.to_csv(table, index=False,
                 quoting=csv_module.QUOTE_ALL if quote_all else csv_module.QUOTE_MINIMAL)
    raw = table.read_bytes()
    fast = loading._clean_csv(raw, raw.decode())
    assert fast is not None  # the fast reading, quotes and all
    records, lines = loading._csv_records(raw.decode())
    assert fast[1] == lines == [1, 2, 5, 6, 7]
    assert fast[0].values.tolist() == [[c.strip() for c in r] for r in records[1:]]
    refused(path, "row 3 (line 6)", "field 'capital'", blamed="projects.csv")


@pytest.mark.solver
def test_quoted_tables_keep_every_shape_check(tmp_path):
    """Quoted headers given twice, rows of the wrong width and a stray quote are still
    named, with their lines."""
    case = Case()
    path = case.write(tmp_path)
    table = tmp_path / "projects.csv"
    good = table.read_text()
    lines = good.rstrip("\n").split("\n")
    quoted = ['"' + line.replace(",", '","') + '"' for line in lines]
    table.write_text("\n".join([quoted[0].replace('"force"', '"capital"')] + quoted[1:]) + "\n")
    refused(path, "field 'capital'", "2 times", blamed="projects.csv")
    table.write_text("\n".join(quoted[:2] + [quoted[2] + ',"7"'] + quoted[3:]) + "\n")
    refused(path, "row 2 (line 3)", "more than the header", blamed="projects.csv")
    table.write_text("\n".join(quoted[:3] + [quoted[3].rsplit(",", 1)[0]] + quoted[4:]) + "\n")
    refused(path, "row 3 (line 4)", "field 'force'", blamed="projects.csv")
    table.write_text("\n".join(quoted[:1] + [q + "," for q in quoted[1:]]) + "\n")
    refused(path, "trailing comma", blamed="projects.csv")
    table.write_text("\n".join(quoted) + "\n")
    code, _, err = run(path)
    assert code == 0, err


# ------------------------------------------------------------------ plain decimals
NOT_PLAIN = ["1_0", "１０", "١٠", "۱۰", "१०", "1 0", "0x10", "٣.٥", "017", "-05", "7\u00a0"]


@pytest.mark.parametrize("csv", [True, False])
@pytest.mark.parametrize("text", NOT_PLAIN)
def test_cells_that_are_not_plain_decimals(tmp_path, csv, text):
    case = Case("yaml", csv)
    case.projects[0]["capital"] = text
    refused(case.write(tmp_path), "field 'capital'",
            "row 1 (line 2)" if csv else "projects[0]",
            blamed="projects.csv" if csv else "program.yaml")


@pytest.mark.parametrize("literal", ["1_0", "0x1F", "017_0", "1:30", "１０", "'10'", "0b11",
                                     "017", "-012.5", "00"])
@pytest.mark.parametrize("field", ["budget.total", "hurdle_rate", "sectors.energy.min"])
def test_yaml_values_that_are_not_plain_decimals(tmp_path, literal, field):
    case = Case("yaml")
    _set(case.doc, field, TOKEN)
    case.literal = literal
    refused(case.write(tmp_path), f"field '{field}'")


@pytest.mark.parametrize("key", ["２０２６", "٢٠٢٦", "2_026", "20 26", "2026.5"])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_year_keys_that_are_not_plain(tmp_path, key, fmt):
    case = Case(fmt)
    case.doc["budget"]["per_year"] = {key: 5}
    refused(case.write(tmp_path), "field 'budget.per_year'")


def test_leading_zeros_are_no_numbers_anywhere(tmp_path):
    """``017`` is 15 to YAML 1.1, 17 to YAML 1.2 and no number to JSON: the format reads
    it nowhere (YAML values, CSV and inline cells), while ``0``, ``0.5`` and ``1e05``
    are numbers."""
    from optimizer.program.loading import _SafeLoader

    assert yaml.load("[017, 0, 0.5, -0, 1e05, 00.5]", Loader=_SafeLoader) == \
        ["017", 0, 0.5, 0, 1e5, "00.5"]
    for csv in (True, False):
        case = Case("yaml", csv)
        case.projects[1]["max_units"] = "02"
        refused(case.write(tmp_path), "field 'max_units'", "leading zeros",
                blamed="projects.csv" if csv else "program.yaml")
        case.projects[1]["max_units"] = "2"
        case.projects[1]["capital"] = "0.5e01"
        assert load(case.write(tmp_path)).projects["capital"].iloc[1] == 5


def test_yaml_plain_decimals_load(tmp_path):
    case = Case("yaml")
    case.doc["budget"]["total"] = TOKEN
    case.literal = "1e3"  # YAML 1.2 (and JSON) read 1e3 as a number
    assert load(case.write(tmp_path)).budget_total == 1000.0


# ------------------------------------------------------------------ generated
HUGE = ["9" * 309, "-" + "9" * 400, "9" * 4301, "1" * 5000]
DEEP = [65, 300, 1200]


def _bound_values(bound, integer=False):
    return [bound.high * 10, bound.high + (1 if integer else bound.high)]


#: numeric program fields: (path, values outside the bounds)
GEN_PROGRAM = {
    "budget.total": _bound_values(MONEY), "budget.per_year.2026": _bound_values(MONEY),
    "hurdle_rate": _bound_values(RATE) + [RATE.low - 1], "known_optimum": _bound_values(MONEY),
    "sectors.energy.min": _bound_values(MONEY), "sectors.energy.max": _bound_values(MONEY),
    "labor.capacity.2026": _bound_values(PEOPLE),
}
#: numeric project columns: (row that may hold the value, values outside the bounds)
GEN_CELLS = {
    "capital": (0, _bound_values(MONEY)), "return": (3, _bound_values(MONEY) + [-1e300]),
    "start": (0, [1e20, 5000]), "build_years": (1, _bound_values(BUILD_YEARS, True)),
    "labor": (1, _bound_values(PEOPLE)),
    "reinvest_every": (2, _bound_values(REINVEST_EVERY, True)),
    "reinvest_capital": (2, _bound_values(MONEY)),
    "max_units": (1, _bound_values(MAX_UNITS, True) + [1e19]),
}
GEN_PROFILE = {"year": [1e20, YEAR.high + 1], "capital": _bound_values(MONEY),
               "labor": _bound_values(PEOPLE)}


@st.composite
def hostile(draw: st.DrawFn) -> tuple[Case, bool, str]:
    """A case, whether it is still valid, and the file the message must name."""
    case = Case(draw(st.sampled_from(["yaml", "json"])), draw(st.booleans()))
    kind = draw(st.sampled_from(["huge", "deep", "deep_ok", "surrogate", "digits", "shape",
                                 "bound", "profile_bound", "path"]))
    event(kind)
    case.kind = kind
    blamed = case.fmt
    if kind == "huge":
        literal = draw(st.sampled_from(HUGE))
        if draw(st.booleans()):
            _set(case.doc, draw(st.sampled_from(sorted(GEN_PROGRAM))), TOKEN)
        else:
            column = draw(st.sampled_from(sorted(GEN_CELLS)))
            case.projects[GEN_CELLS[column][0]][column] = TOKEN
            blamed = "csv" if case.csv else case.fmt
        case.literal = literal
        return case, False, blamed
    if kind in ("deep", "deep_ok"):
        depth = draw(st.sampled_from(DEEP)) if kind == "deep" else draw(st.integers(1, 62))
        opening, closing = draw(st.sampled_from([("[", "]"), ('{"k": ', "}")]))
        case.doc["x_deep"] = TOKEN
        case.literal = opening * depth + ("1" if opening != "[" else "") + closing * depth
        return case, kind == "deep_ok", case.fmt
    if kind == "surrogate":
        case.fmt = "json"
        where = draw(st.sampled_from(["name", "x_note", "dependency"]))
        if where == "dependency":
            case.doc["dependencies"][0]["on"] = TOKEN
        else:
            case.doc[where] = TOKEN
        case.literal = draw(st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"\\udc80"']))
        return case, False, "json"
    if kind == "digits":
        text = draw(st.sampled_from(NOT_PLAIN))
        target = draw(st.sampled_from(["cell", "program", "year"]))
        if target == "cell":
            column = draw(st.sampled_from(sorted(GEN_CELLS)))
            case.projects[GEN_CELLS[column][0]][column] = text
            return case, False, "csv" if case.csv else case.fmt
        if target == "program":
            _set(case.doc, draw(st.sampled_from(sorted(GEN_PROGRAM))), text)
        else:
            case.doc["labor"]["capacity"] = {text: 5}
        return case, False, case.fmt
    if kind == "shape":
        case.csv = True
        shape = draw(st.sampled_from(["short", "long", "trailing", "duplicate", "unnamed"]))
        row = draw(st.integers(1, len(PROJECTS)))
        other = draw(st.sampled_from(["id", "capital", "return", "start", "labor"]))

        def edit(text: str, shape: str = shape, row: int = row, other: str = other) -> str:
            lines = _lines(text)
            if shape == "short":
                lines[row] = lines[row].rsplit(",", 1)[0]
            elif shape == "long":
                lines[row] += ",1"
            elif shape == "trailing":
                lines = lines[:1] + [line + "," for line in lines[1:]]
            elif shape == "duplicate":
                names = lines[0].split(",")
                names[-1] = other
                lines[0] = ",".join(names)
            else:
                lines[0] += ","
                lines = lines[:1] + [line + "," for line in lines[1:]]
            return _rejoin(lines)

        case.edit_projects = edit
        return case, False, "csv"
    if kind == "bound":
        if draw(st.booleans()):
            field = draw(st.sampled_from(sorted(GEN_PROGRAM)))
            _set(case.doc, field, draw(st.sampled_from(GEN_PROGRAM[field])))
            return case, False, case.fmt
        column = draw(st.sampled_from(sorted(GEN_CELLS)))
        row, values = GEN_CELLS[column]
        case.projects[row][column] = draw(st.sampled_from(values))
        return case, False, "csv" if case.csv else case.fmt
    if kind == "profile_bound":
        column = draw(st.sampled_from(sorted(GEN_PROFILE)))
        case.profiles[draw(st.integers(0, 1))][column] = draw(st.sampled_from(GEN_PROFILE[column]))
        return case, False, "profiles.csv"
    table = draw(st.sampled_from(["projects", "profiles"]))
    target = draw(st.sampled_from(["/dev/zero", "/dev/urandom", "", ".", "nowhere.csv",
                                   TOKEN]))
    case.doc[table] = target
    if target == TOKEN:
        case.literal = '"a\\u0000b.csv"' if case.fmt == "json" else '"a\\0b.csv"'
    return case, False, case.fmt


@pytest.mark.solver
@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile())
def test_generated_hostile_files(example: tuple[Case, bool, str]) -> None:
    case, valid, blamed = example
    with tempfile.TemporaryDirectory() as folder:
        path = case.write(Path(folder))
        code, out, err = run(path)
    assert code != 1 and "Traceback" not in err and "internal error" not in err, (code, err)
    if valid:
        assert code in (0, 3, 4), (code, err)
        json.loads(out)
        return
    assert code == 2, (code, err[-2000:], out[:200])
    assert error_object(out)
    assert "field '" in err, err
    name = {"yaml": "program.yaml", "json": "program.json", "csv": "projects.csv"}.get(
        blamed, blamed)
    assert name in err, (name, err[-2000:])
