"""What an independent fuzzer found in the loader (issue 13, section 6), each class fixed in
general: control characters (and, in ids and sector names, invisible format characters)
in any text of a program; messages that echoed a whole value (a 569-byte file gave 57 MB
on standard error); terminal escapes, forged lines and undecodable file names reaching
the output; inline cells and sector keys of other YAML types silently turned into text
(``true`` -> "True", ``null`` -> "None", ``[a, b]`` -> "['a', 'b']").

The first tests are the fuzzer's own repro files (their bytes written here); then
generated variants (Hypothesis): a random control or format character in a random text
of a YAML, JSON or CSV program, and a random non-text YAML scalar as an inline text cell
or a sector key, each ending in exit 2 with the field named; every exit-2 run's standard
error holds no raw control character but the newline, and each of its problem lines names
a file and a field.
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
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import error_object
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import load
from optimizer.cli.main import main
from optimizer.errors import InstanceError, Problem, printable
from optimizer.program.loading import _INVISIBLE
from optimizer.program.vocabulary import shown, shown_value

ROOT = Path(__file__).resolve().parents[1]
#: what standard error may never hold: a control character but the newline, a line or
#: paragraph separator (each would break or rewrite a line on a terminal)
_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")

HEAD = (b"format: capital-portfolio/1\nhorizon: [2026, 2030]\nsectors: {energy: {}}\n")


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def clean_stderr(err: str, files: tuple[str, ...]) -> list[str]:
    """The problem lines of an exit-2 message, after checking it is safe to print: no raw
    control character but the newline, every ``  - `` line naming one of ``files`` and
    a field."""
    assert _RAW_CONTROL.search(err) is None, ascii(err[:2000])
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    lines = [ln for ln in err.split("\n") if ln.startswith("  - ")]
    assert lines, err[:2000]
    for line in lines:
        assert "field '" in line, line
        assert any(line[4:].startswith(printable(f) + ": ") for f in files), (files, line)
    return lines


def refused(path: Path, *fragments: str, files: tuple[str, ...] = ()) -> list[str]:
    """``optimizer solve PATH --json``: exit 2, nothing on standard output, a clean message
    holding every fragment."""
    code, out, err = cli("solve", str(path), "--json")
    assert code == 2, (code, err[-2000:], out[:300])
    assert error_object(out), out[:300]
    lines = clean_stderr(err, files or (str(path),))
    for fragment in fragments:
        assert fragment in err, (fragment, err[-2000:])
    return lines


def write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder / next(iter(files))


# ------------------------------------------------------------ the repro files
NUL_JSON = (b'{"format": "capital-portfolio/1", "horizon": [2026, 2030],\n'
            b' "sectors": {"energy": {}},\n'
            b' "projects": [{"id": "A", "sector": "energy", "capital": 2, "return": 1, '
            b'"start": 2026, "force": "out"},\n'
            b'              {"id": "A\\u0000", "sector": "energy", "capital": 3, "return": 1, '
            b'"start": 2026}]}\n')
NUL_YAML = HEAD + (b"projects:\n"
                   b"  - {id: A, sector: energy, capital: 2, return: 1, start: 2026, force: out}\n"
                   b'  - {id: "A\\0", sector: energy, capital: 3, return: 1, start: 2026}\n')
NUL_CSV = b"id,sector,capital,return,start,force\nA,energy,2,1,2026,out\nA\0,energy,3,1,2026,\n"


@pytest.mark.parametrize("files,blamed,row", [
    ({"nul-id.json": NUL_JSON}, "nul-id.json", "projects[1]"),
    ({"nul-id.yaml": NUL_YAML}, "nul-id.yaml", "projects[1]"),
    ({"nul-id-csv.yaml": HEAD + b"projects: nul-id.csv\n", "nul-id.csv": NUL_CSV},
     "nul-id.csv", "row 2 (line 3)"),
])
def test_a_nul_in_an_id_is_refused(tmp_path, files, blamed, row):
    """``A\\0`` was a project distinct from ``A`` that the JSON result named ``A``."""
    path = write(tmp_path, files)
    lines = refused(path, "field 'id'", "U+0000", row,
                    files=tuple(str(tmp_path / n) for n in files))
    assert len(lines) == 1 and blamed in lines[0], lines


ALIAS_BOMB = HEAD + b"""projects:
  - {id: A, sector: energy, capital: 2, return: 1, start: 2026}
x_d:
  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]
  - &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
  - &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
  - &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
  - &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
  - &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
  - &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
name: *a6
"""


@pytest.mark.parametrize("place", ["name", "id", "capital", "on", "sector key", "format",
                                   "horizon", "units"])
def test_a_huge_value_is_quoted_short(tmp_path, place):
    """A 569-byte file gave 57 MB of message: the value was echoed whole."""
    text = ALIAS_BOMB
    if place == "id":
        text = text.replace(b"name: *a6", b"projects: [{id: *a6, sector: energy, capital: 2, "
                                          b"return: 1, start: 2026}]").replace(
            b"projects:\n  - {id: A, sector: energy, capital: 2, return: 1, start: 2026}\n", b"")
    elif place == "capital":
        text = text.replace(b"name: *a6", b"projects: [{id: B, sector: energy, capital: *a6, "
                                          b"return: 1, start: 2026}]").replace(
            b"projects:\n  - {id: A, sector: energy, capital: 2, return: 1, start: 2026}\n", b"")
    elif place == "on":
        text = text.replace(b"name: *a6",
                            b"dependencies: [{type: requires, project: A, on: *a6}]")
    elif place == "sector key":
        text = text.replace(b"name: *a6", b"x_e: 1").replace(b"sectors: {energy: {}}",
                                                           b"sectors: {energy: {}, ? *a4 : {}}")
    elif place == "format":
        text = text.replace(b"name: *a6", b"").replace(b"format: capital-portfolio/1",
                                                       b"format: *a5")
        text = text.replace(b"x_d:\n", b"x_d:\n").replace(b"format: *a5\n", b"") + \
            b"format: *a5\n"
    elif place == "horizon":
        text = text.replace(b"name: *a6", b"").replace(b"horizon: [2026, 2030]\n", b"") + \
            b"horizon: *a6\n"
    elif place == "units":
        text = text.replace(b"name: *a6", b"units: {money: *a6}")
    path = write(tmp_path, {"bomb.yaml": text})
    code, out, err = cli("validate", str(path))
    assert code == 2, err[-2000:]
    assert len(err) < 3000, len(err)
    clean_stderr(err, (str(path),))


INLINE_COERCED = HEAD + b"""projects:
  - {id: [a, b], sector: energy, capital: 2, return: 1, start: 2026}
  - {id: 007, sector: energy, capital: 2, return: 1, start: 2026}
  - {id: !!binary aGk=, name: {a: 1}, sector: energy, capital: 2, return: 1, start: 2026}
"""


def test_inline_cells_of_other_types_are_refused(tmp_path):
    path = write(tmp_path, {"inline.yaml": INLINE_COERCED})
    lines = refused(path)
    assert any("projects[0], field 'id'" in ln and "a list" in ln for ln in lines), lines
    assert any("projects[2], field 'id'" in ln and "binary" in ln for ln in lines), lines
    assert any("projects[2], field 'name'" in ln and "a mapping" in ln for ln in lines), lines
    assert not any("projects[1]" in ln for ln in lines), lines  # 007 is the text "007"


@pytest.mark.parametrize("sectors,projects", [
    (b"sectors:\n  null: {}\n", b'  - {id: A, sector: "null", capital: 2, return: 1, '
                                b"start: 2026}\n"),
    (b"sectors:\n  null: {}\n  007: {}\n", b"  - {id: A, sector: None, capital: 2, return: 1, "
                                           b'start: 2026}\n  - {id: B, sector: "7", capital: 2, '
                                           b"return: 1, start: 2026}\n"),
])
def test_a_null_sector_key_is_refused(tmp_path, sectors, projects):
    text = (b"format: capital-portfolio/1\nhorizon: [2026, 2030]\n" + sectors + b"projects:\n"
            + projects)
    path = write(tmp_path, {"sectors.yaml": text})
    lines = refused(path, "field 'sectors'", "null")
    assert not any("names: None" in ln for ln in lines), lines


def test_numbers_as_text_in_inline_cells_read_as_csv_cells(tmp_path):
    """An inline cell is read as a CSV cell is: "12" is a number there (a program-level
    number must be a number, as before)."""
    row = b'  - {id: A, sector: energy, capital: "12", return: "1", start: "2026", ' \
          b'max_units: "2.0"}\n'
    path = write(tmp_path, {"inline.yaml": HEAD + b"known_optimum: 12\nprojects:\n" + row})
    instance = load(path)
    assert instance.projects["capital"].tolist() == [12.0]
    assert instance.projects["max_units"].tolist() == [2]
    path = write(tmp_path, {"top.yaml": HEAD + b'known_optimum: "12"\nprojects:\n' + row})
    refused(path, "field 'known_optimum'")
    for bad in (b'"1_2"', b'" 12 0"', b'"0x1F"', b"true", b"[12]"):
        text = HEAD + b"projects:\n" + row.replace(b'"12"', bad)
        refused(write(tmp_path, {"bad.yaml": text}), "field 'capital'", "projects[0]")


def test_blanks_around_csv_cells_are_ignored(tmp_path):
    path = write(tmp_path, {"blanks.yaml": HEAD + b"projects: blanks.csv\n",
                            "blanks.csv": b"id, sector, capital, return, start, force\n"
                                          b" A , energy , 2 , 1 ,\t2026, in \n"})
    projects = load(path).projects
    assert projects[["id", "sector", "force"]].values.tolist() == [["A", "energy", "in"]]
    assert projects["start"].tolist() == [2026]


def test_rows_of_the_wrong_width_are_reported_before_the_cells(tmp_path):
    """As docs/format.md says: every row of the wrong width is named (row by row), the
    cells are checked once the rows are fixed."""
    csv = b"id,sector,capital,return,start\nA,energy,abc,1,2026\nB,nosuch,1,1,1800\nC,energy,1,1\n"
    path = write(tmp_path, {"rows.yaml": HEAD + b"projects: rows.csv\n", "rows.csv": csv})
    lines = refused(path, "row 3 (line 4)", "the row has 4 fields",
                    files=(str(tmp_path / "rows.csv"),))
    assert len(lines) == 1, lines
    fixed = csv.replace(b"C,energy,1,1\n", b"C,energy,1,1,2026\n")
    (tmp_path / "rows.csv").write_bytes(fixed)
    lines = refused(path, files=(str(tmp_path / "rows.csv"),))
    assert {ln.split("field '")[1].split("'")[0] for ln in lines} >= {"capital", "sector",
                                                                       "start"}, lines


def test_terminal_escapes_in_a_table_path_never_reach_the_terminal(tmp_path):
    text = HEAD + b'projects: "\\e]0;pwned\\a\\e[2J\\nFAKE LINE.csv"\n'
    path = write(tmp_path, {"escapes.yaml": text})
    lines = refused(path, "field 'projects'", "control character")
    assert len(lines) == 1 and "FAKE LINE" in lines[0], lines


def test_looked_for_is_escaped(tmp_path):
    """A table path that cannot be found is printed escaped where it names the folder
    too (the program's own folder may hold any character)."""
    odd = tmp_path / "dir\x1b[2J\nFAKE"
    odd.mkdir()
    path = write(odd, {"prog\x07ram.yaml": HEAD + b"projects: missing.csv\n"})
    code, out, err = cli("validate", str(path))
    assert code == 2
    (line,) = clean_stderr(err, (str(path),))
    assert "looked for" in line and "missing.csv" in line


@pytest.mark.solver
@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
def test_a_file_name_that_is_not_utf8_is_clean_in_every_output(tmp_path):
    """``prog\\xff.yaml``: validate printed the raw byte, the JSON result a lone surrogate
    (which strict JSON parsers refuse)."""
    name = os.fsencode(tmp_path) + b"/prog\xff.yaml"
    with open(name, "wb") as handle:
        handle.write(HEAD + b"projects:\n  - {id: A, sector: energy, capital: 2, return: 1, "
                            b"start: 2026}\n")
    run = [sys.executable, "-m", "optimizer"]
    valid = subprocess.run([*run, "validate", name], cwd=ROOT, capture_output=True, timeout=60)
    assert valid.returncode == 0, valid.stderr
    assert b"\xff" not in valid.stdout and b"prog\\xff.yaml: valid" in valid.stdout
    solved = subprocess.run([*run, "solve", name, "--json"], cwd=ROOT, capture_output=True,
                            timeout=120)
    assert solved.returncode == 0, solved.stderr
    assert b"\xff" not in solved.stdout and b"\\udc" not in solved.stdout.lower()
    result = json.loads(solved.stdout)
    assert result["instance"]["source"].endswith("prog\\xff.yaml")
    assert load(os.fsdecode(name)).name == "prog\\xff"
    broken = os.fsencode(tmp_path) + b"/bad\xfe.yaml"
    with open(broken, "wb") as handle:
        handle.write(HEAD + b"projects: [{id: A}]\n")
    proc = subprocess.run([*run, "validate", broken], cwd=ROOT, capture_output=True, timeout=60)
    assert proc.returncode == 2
    clean_stderr(proc.stderr.decode("utf-8"), (os.fsdecode(broken),))
    assert b"bad\\xfe.yaml" in proc.stderr


# ------------------------------------------------------------ the rules, one by one
def test_the_invisible_characters_are_every_format_character():
    """Every character of Unicode category Cf (and Cc) is refused in ids and sector names;
    no letter, digit or visible symbol is."""
    for code in range(0x110000):
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cf", "Cc"):
            assert _INVISIBLE.fullmatch(char), hex(code)
        elif category[0] in "LNPS":
            assert not _INVISIBLE.fullmatch(char), hex(code)


def test_integer_ids_and_sector_keys_read_as_their_digits(tmp_path):
    text = (b"format: capital-portfolio/1\nhorizon: [2026, 2030]\nsectors: {7: {}, "
            b"energy: {}}\nprojects:\n"
            b"  - {id: 7, sector: 7, capital: 2, return: 1, start: 2026}\n"
            b"  - {id: B, sector: energy, capital: 2, return: 1, start: 2026}\n"
            b"dependencies: [{type: requires, project: B, on: 7},"
            b" {type: excludes, projects: [7, B]}]\n")
    instance = load(write(tmp_path, {"ints.yaml": text}))
    assert instance.projects["id"].tolist() == ["7", "B"]
    assert instance.sectors == ("7", "energy")
    for bad in (b"true", b"7.0", b"[7]", b"null", b"2026-01-01"):
        broken = text.replace(b"on: 7}", b"on: " + bad + b"}")
        refused(write(tmp_path, {"bad.yaml": broken}), "field 'dependencies.on'",
                "dependencies[0]")


def test_free_text_may_span_lines_but_holds_no_other_control(tmp_path):
    base = HEAD + b"projects: [{id: A, sector: energy, capital: 2, return: 1, start: 2026}]\n"
    load(write(tmp_path, {"ok.yaml": base + b'notes: "two\\nlines"\ndescription: |\n  a\n  b\n'
                                           b'x_note: "metadata is yours: \\0"\n'}))
    for field, value in (("notes", b'"a\\tb"'), ("description", b'"a\\x1b[2Jb"'),
                         ("source", b'"a\\rb"'), ("name", b'"two\\nlines"')):
        path = write(tmp_path, {"bad.yaml": base + field.encode() + b": " + value + b"\n"})
        refused(path, f"field '{field}'", "control character")


def test_csv_tables_with_other_scripts_and_tab_separated_blanks_load(tmp_path):
    csv = ("id,name,sector,capital,return,start\n"
           "A,\u6771\u4eac \u00b0 caf\u00e9 \u00a0x,energy,2,1,2026\n"
           "B\t,\tZ\u00fcrich,\tenergy ,3,1,2026\n").encode()
    path = write(tmp_path, {"p.yaml": HEAD + b"projects: p.csv\n", "p.csv": csv})
    assert load(path).projects["id"].tolist() == ["A", "B"]
    for cell, fragment in (("B\u0085", "U+0085"), ("B\u200bC", "U+200B"), ("B\tC", "U+0009"),
                           ("B\u202eC", "U+202E"), ("\"B\nC\"", "U+000A"), ("B\x7f", "U+007F")):
        broken = csv.replace(b"B\t,", cell.encode() + b",")
        (tmp_path / "p.csv").write_bytes(broken)
        refused(path, "field 'id'", fragment, "row 2 (line 3)",
                files=(str(tmp_path / "p.csv"),))


def test_a_control_character_in_a_header_or_metadata_key(tmp_path):
    csv = b"id,sector,capital,return,start,x_n\x01ote\nA,energy,2,1,2026,hi\n"
    path = write(tmp_path, {"p.yaml": HEAD + b"projects: p.csv\n", "p.csv": csv})
    lines = refused(path, "U+0001", "(header)", files=(str(tmp_path / "p.csv"),))
    assert len(lines) == 1, lines
    base = HEAD + b"projects: [{id: A, sector: energy, capital: 2, return: 1, start: 2026}]\n"
    for extra, field in ((b'"x_a\\0": 1\n', "x_a"), (b'budget: {"x_\\e": 1}\n', "budget.x_"),
                         (b'labor: {capacity: {"x_\\a": 1}}\n', "labor.capacity.x_")):
        refused(write(tmp_path, {"k.yaml": base + extra}), f"field '{field}")


@pytest.mark.parametrize("key,words", [("null", "null"), ("true", "a boolean"),
                                       ("1e3", "fractional"), ("1.50", "fractional"),
                                       ("2026-01-01", "a date"), ("[a, b]", "a list"),
                                       ("!!float 3", "fractional"), (".inf", "fractional")])
def test_sector_keys_of_other_types(tmp_path, key, words):
    text = (b"format: capital-portfolio/1\nhorizon: [2026, 2030]\nsectors:\n  energy: {}\n  "
            + key.encode() + b": {}\nprojects: [{id: A, sector: energy, capital: 2, return: 1, "
            b"start: 2026}]\n")
    lines = refused(write(tmp_path, {"s.yaml": text}), "field 'sectors'", words)
    assert len(lines) == 1, lines


def test_keys_that_are_no_names_elsewhere(tmp_path):
    base = HEAD + b"projects: [{id: A, sector: energy, capital: 2, return: 1, start: 2026}]\n"
    for extra in (b"null: 1\n", b"true: 1\n", b"1.5: 1\n", b"budget: {null: 1}\n",
                  b"units: {[a]: b}\n"):
        lines = refused(write(tmp_path, {"k.yaml": base + extra}))
        assert not any("'None'" in ln or "'True'" in ln for ln in lines), lines
    row = b"projects: [{id: A, sector: energy, capital: 2, return: 1, start: 2026, null: 1}]\n"
    refused(write(tmp_path, {"r.yaml": HEAD + row}), "projects[0]", "null")


def test_messages_and_problems_are_one_line():
    problem = Problem("a\nb.yaml", "f\x1b", "row\r1", "got '\u2028' \x9b \ud800 \udcff \u00e9")
    text = str(problem)
    assert "\n" not in text and _RAW_CONTROL.search(text) is None
    assert "\\xff" in text and "\u00e9" in text
    error = InstanceError([problem])
    assert all(_RAW_CONTROL.search(line) is None for line in str(error).split("\n"))


def test_shown_values_are_short():
    nested: object = ["lol"] * 15
    for _ in range(9):
        nested = [nested] * 9
    for value in (nested, {"a": nested}, {frozenset({1, 2})}, b"x" * 10**6, "y" * 10**6,
                  ("z",) * 10**5):
        assert len(shown_value(value)) < 120
        assert len(shown(value)) < 120


# ------------------------------------------------------------ generated variants
BASE: dict = {
    "format": "capital-portfolio/1", "name": "fuzz", "horizon": [2026, 2030],
    "sectors": {"energy": {"max": 10, "x_color": "red"}, "ships": None},
    "units": {"money": "$B", "labor": "people"},
    "description": "d", "notes": "n",
    "projects": [
        {"id": "Alpha", "name": "First", "sector": "energy", "capital": 2, "return": 1,
         "start": 2026},
        {"id": "Beta", "name": "Second", "sector": "ships", "capital": 3, "return": 2,
         "start": 2027, "force": "in"},
    ],
    "profiles": [{"project": "Alpha", "year": 2026, "capital": 2}],
    "dependencies": [{"type": "requires", "project": "Alpha", "on": "Beta"},
                     {"type": "excludes", "projects": ["Alpha", "Beta"]}],
}
#: where a character goes: (place, whether it is a name (ids, sectors), the field named)
TEXT_PLACES = [
    ("name", False, "name"), ("description", False, "description"),
    ("units.money", False, "units.money"), ("sector key", True, "sectors"),
    ("projects.0.id", True, "id"), ("projects.1.name", False, "name"),
    ("projects.1.sector", True, "sector"), ("projects.1.force", False, "force"),
    ("profiles.0.project", True, "project"), ("dependencies.0.on", True, "dependencies.on"),
    ("dependencies.1.projects", True, "dependencies.projects"), ("x_ key", False, "x_"),
    ("sector x_ key", False, "sectors.energy.x_"),
]
CSV_PLACES = [("id", True), ("name", False), ("sector", True), ("force", False),
              ("header", False), ("path", False)]
CONTROL = st.characters(codec=None, categories=["Cc"])
FORMAT = st.characters(categories=["Cf"])


def _insert(text: str, char: str, at: int) -> str:
    """``text`` with ``char`` inside it: not at either end (blanks there are stripped), and
    after the ``x_`` of a metadata name (which it would otherwise make unknown)."""
    low = 3 if text.startswith("x_") else 1
    at = low + at % max(len(text) - low, 1)
    return text[:at] + char + text[at:]


def _dump(doc: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=False)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(TEXT_PLACES), fmt=st.sampled_from(["yaml", "json"]),
       data=st.data(), at=st.integers(0, 100))
def test_a_character_in_any_text_of_a_program(tmp_path, place, fmt, data, at):
    where, is_name, field = place
    char = data.draw(st.one_of(CONTROL, FORMAT) if is_name else CONTROL, label="char")
    if where == "description" and char == "\n":
        char = "\x00"  # free text may span lines
    doc = copy.deepcopy(BASE)
    if where == "sector key":
        doc["sectors"] = {_insert("energy", char, at): doc["sectors"]["energy"],
                          "ships": None}
    elif where == "x_ key":
        doc[_insert("x_note", char, at)] = "n"
    elif where == "sector x_ key":
        doc["sectors"]["energy"] = {"max": 10, _insert("x_color", char, at): "red"}
    elif where == "dependencies.1.projects":
        doc["dependencies"][1]["projects"][1] = _insert("Beta", char, at)
    else:
        node = doc
        *path, last = where.split(".")
        for key in path:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = _insert(node[last], char, at)
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / f"program.{fmt}"
    path.write_text(_dump(doc, fmt), encoding="utf-8")
    code, out, err = cli("solve", str(path), "--json")
    assert code == 2 and error_object(out), (code, err[-2000:])
    lines = clean_stderr(err, (str(path),))
    assert any(f"field '{field}" in ln for ln in lines), (field, lines)


def _csv_cell(text: str) -> str:
    if any(c in text for c in "\n\r\",") or text != text.strip(" \t"):
        return '"' + text.replace('"', '""') + '"'
    return text


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(CSV_PLACES), data=st.data(), at=st.integers(0, 100),
       other_script=st.booleans())
def test_a_character_in_a_csv_table(tmp_path, place, data, at, other_script):
    column, is_name = place
    char = data.draw(st.one_of(CONTROL, FORMAT) if is_name else CONTROL, label="char")
    header = ["id", "name", "sector", "capital", "return", "start", "force", "x_note"]
    rows = [["Alpha", "First \u6771\u4eac" if other_script else "First", "energy", "2", "1",
             "2026", "", "a"],
            ["Beta", "Second", "ships", "3", "2", "2027", "in", "b"]]
    table = "projects.csv"
    if column == "header":
        header[-1] = _insert("x_note", char, at)
    elif column == "path":
        table = _insert("projects.csv", char, at)
    else:
        j = header.index(column)
        rows[1][j] = _insert(rows[1][j], char, at)
    doc = copy.deepcopy(BASE)
    del doc["profiles"]
    doc["projects"] = table
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / "program.yaml"
    path.write_text(_dump(doc, "yaml"), encoding="utf-8")
    csv_path = folder / "projects.csv"
    text = "\n".join(",".join(map(_csv_cell, r)) for r in [header, *rows]) + "\n"
    csv_path.write_bytes(text.encode("utf-8", "surrogatepass"))
    code, out, err = cli("solve", str(path), "--json")
    assert code == 2 and error_object(out), (code, err[-2000:])
    lines = clean_stderr(err, (str(path), str(csv_path)))
    if column == "path":
        assert any("field 'projects'" in ln for ln in lines), lines
    elif column == "header":
        assert any("field 'x_" in ln and "(header)" in ln for ln in lines), lines
    else:
        assert any(f"field '{column}'" in ln and "row 2 (line 3)" in ln for ln in lines), lines


#: YAML scalars (and collections) that are not text, none of them a whole number
NOT_TEXT = ["true", "false", "1.5", "1e3", ".inf", "-.inf", ".nan", "2026-01-01",
            "2026-01-01T10:00:00", "!!binary aGk=", "[a, b]", "{a: 1}", "!!set {a, b}",
            "!!float 3", "!!bool true", "1.50", "-0.0", "!!timestamp 2001-12-14"]
INLINE_TEXT_CELLS = [("projects", 0, "id"), ("projects", 1, "name"), ("projects", 0, "sector"),
                     ("projects", 1, "force"), ("profiles", 0, "project")]


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(scalar=st.sampled_from(NOT_TEXT), cell=st.sampled_from(INLINE_TEXT_CELLS + ["key"]))
def test_a_yaml_value_that_is_not_text_as_a_text_cell_or_sector_key(tmp_path, scalar, cell):
    doc = copy.deepcopy(BASE)
    doc["sectors"]["SECTOR_KEY"] = None
    if cell != "key":
        table, row, column = cell
        doc[table][row][column] = "TOKEN_VALUE"
    text = yaml.safe_dump(doc, sort_keys=False)
    text = text.replace("SECTOR_KEY: null", (f"? {scalar}\n  : null" if cell == "key" else
                                             "other: null"))
    text = text.replace("TOKEN_VALUE", scalar)
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / "program.yaml"
    path.write_text(text)
    code, out, err = cli("solve", str(path), "--json")
    assert code == 2 and error_object(out), (code, text, err[-2000:])
    lines = clean_stderr(err, (str(path),))
    expected = "field 'sectors'" if cell == "key" else f"field '{cell[2]}'"
    assert any(expected in ln for ln in lines), (expected, lines)
    if cell != "key":
        assert any(f"{cell[0]}[{cell[1]}]" in ln for ln in lines), lines


# ------------------------------------- acceptance findings of c0039a8 (issue 13)
def _problems(path: Path) -> list[str]:
    with pytest.raises(InstanceError) as info:
        load(path)
    return [f"{p.field}: {p.message}" for p in info.value.problems]


def _program(folder: Path, projects: list[dict], **fields: object) -> Path:
    from helpers import program
    from helpers import write as write_program

    return write_program(folder, program(projects, **fields))


def test_bound_messages_are_plain_and_unit_neutral(tmp_path):
    """A converted knapsack (its own money unit) with out-of-bound numbers: each message
    says the bound's number in one style, no unit, no nested parentheses."""
    path = _program(tmp_path, [{"id": "A", "capital": 1, "return": 1e12, "labor": 2e11,
                                "max_units": 0}],
                    units={"money": "units"}, budget={"total": 5e9, "per_year": {2026: -2e9}},
                    hurdle_rate=20, labor={"capacity": {2026: 1e11}})
    problems = _problems(path)
    assert "budget.total: must be at most 1e9, got 5e9" in problems, problems
    assert "budget.per_year.2026: must be at least 0, got -2e9" in problems, problems
    assert "labor.capacity.2026: must be at most 1e10, got 1e11" in problems, problems
    for message in problems:
        assert "$B" not in message and "e+" not in message and "specialists" not in message
        assert not re.search(r"\([^()]*\(", message), message  # no nested parentheses
    assert any(m.startswith("hurdle_rate: must be at most 10 (") for m in problems)


def test_bound_words_hold_no_nested_parentheses():
    from optimizer.limits import BOUNDS
    from optimizer.program.vocabulary import number_text

    for bound in BOUNDS.values():
        assert not re.search(r"\([^()]*\(", f"({bound.why})"), bound.why
        assert "e+" not in bound.describe()
    assert [number_text(v) for v in (2200, 1e9, 5e9, 1_000_000, 0.5, -1, 1.25e10)] == [
        "2200", "1e9", "5e9", "1,000,000", "0.5", "-1", "1.25e10"]


def test_a_misnamed_column_is_one_header_problem_not_one_per_row(tmp_path):
    from helpers import program
    from helpers import write as write_program

    path = write_program(tmp_path, program(
        [{"id": f"P{i}", "capital": 1, "return": 1} for i in range(20)]), csv=True)
    text = (tmp_path / "projects.csv").read_text()
    (tmp_path / "projects.csv").write_text(text.replace("capital", "Capital", 1))
    problems = _problems(path)
    assert problems[0] == "Capital: unknown column 'Capital'; did you mean 'capital'?"
    assert len(problems) == 2 and "required column is missing" in problems[1], problems
    assert not any("is required but empty" in p for p in problems)


def test_a_broken_profiles_table_adds_no_empty_capital_or_start(tmp_path):
    from helpers import program
    from helpers import write as write_program

    path = write_program(tmp_path, program(
        [{"id": "A", "capital": 1, "return": 1}] + [{"id": p, "return": 1} for p in "DE"]),
        csv=True, profiles=[{"project": p, "year": 2027, "capital": 3, "labor": 1}
                            for p in "DE"])
    for start in (False, True):
        projects = (tmp_path / "projects.csv").read_text()
        if start:  # and with no start column at all: still no per-row cascade
            frame = pd.read_csv(tmp_path / "projects.csv").drop(columns=["start"])
            frame.to_csv(tmp_path / "projects.csv", index=False)
        lines = (tmp_path / "profiles.csv").read_text().splitlines()
        lines[1] = "D,2027"  # a short row
        (tmp_path / "profiles.csv").write_text("\n".join(lines) + "\n")
        problems = _problems(path)
        assert len(problems) == 1 and "the row has 2 fields" in problems[0], problems
        (tmp_path / "projects.csv").write_text(projects)


@pytest.mark.parametrize("text,expected", [
    ("budget: {total: 2026-01-01}", "budget.total: must be a number, got a date (2026-01-01)"),
    ("hurdle_rate: true", "hurdle_rate: must be a number, got true"),
    ("budget: {per_year: [1, 2]}",
     "budget.per_year: must be a mapping of year to limit, got a list [1, 2]"),
    ("dependencies: {a: 1}", "dependencies: must be a list, got a mapping {'a': 1}"),
    ("horizon: [2026, 2" + "0" * 400 + "]",
     "horizon: the last year must be at most 2200, got <a number of 401 digits>"),
    ("null: 3", "null: the key null is null, not a name"),
])
def test_messages_speak_the_format_not_python(tmp_path, text, expected):
    base = {"format": "capital-portfolio/1", "horizon": [2026, 2030],
            "sectors": {"energy": None},
            "projects": [{"id": "A", "sector": "energy", "capital": 1, "return": 1,
                          "start": 2026}]}
    key = text.split(":")[0]
    body = yaml.safe_dump({k: v for k, v in base.items() if k != key}, sort_keys=False)
    (tmp_path / "p.yaml").write_text(body + text + "\n")
    problems = _problems(tmp_path / "p.yaml")
    assert any(p.startswith(expected) for p in problems), problems
    for p in problems:
        assert not re.search(r"datetime|\bNone\b|\bTrue\b|got (dict|list|str|int)\b", p), p


def test_a_missing_format_says_what_to_write(tmp_path):
    (tmp_path / "p.yaml").write_text("horizon: [2026, 2030]\nsectors: {energy: null}\n"
                                     "projects: [{id: A, sector: energy, capital: 1, "
                                     "return: 1, start: 2026}]\n")
    assert _problems(tmp_path / "p.yaml")[0].startswith(
        "format: is required: write `format: capital-portfolio/1`")
    (tmp_path / "q.yaml").write_text("[1, 2]\n")
    assert "got a list [1, 2]" in _problems(tmp_path / "q.yaml")[0]


@pytest.mark.solver
def test_every_result_key_is_documented(tmp_path):
    """A feasible, an infeasible (conflicts, timings.explain) and a time-limited solve: every
    key of the JSON (past the data keyed by years, sectors, options and libraries) is named
    in the result section of docs/format.md."""
    from helpers import ROOT, program
    from helpers import write as write_program

    from optimizer import SolveOptions, solve
    from optimizer.program.generate import generate
    from optimizer.program.generate import write as write_generated

    def keys(value: object, prefix: str = "") -> set[str]:
        found: set[str] = set()
        if isinstance(value, dict):
            for k, v in value.items():
                found.add(k)
                if k not in ("by_year", "by_sector", "options", "versions", "machine"):
                    found |= keys(v, k)
        elif isinstance(value, list):
            for v in value:
                found |= keys(v, prefix)
        return found

    (tmp_path / "f").mkdir()
    (tmp_path / "i").mkdir()
    feasible = write_program(tmp_path / "f", program(
        [{"id": "A", "capital": 10, "return": 2}], budget={"total": 50}))
    infeasible = write_program(tmp_path / "i", program(
        [{"id": "A", "capital": 10, "return": 2, "force": "in"}], budget={"total": 5},
        known_optimum=1, known_optimum_proven=False))
    limited = write_generated(generate(3000, seed=1), tmp_path / "t")
    found: set[str] = set()
    results = [solve(load(feasible), SolveOptions(threads=1)),
               solve(load(infeasible), SolveOptions(threads=1)),
               solve(load(limited), SolveOptions(threads=1, time_limit=0.2))]
    assert [r.status for r in results][:2] == ["optimal", "infeasible"]
    assert results[2].termination == "time_limit"
    for result in results:
        found |= keys(json.loads(result.to_json()))
    assert "explain" in found and "conflicts" in found
    doc = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    section = doc[doc.index("## The result"):doc.index("## Exit codes")]
    missing = sorted(k for k in found if f"`{k}`" not in section and f'"{k}"' not in section)
    assert missing == [], missing
