"""Format version 2 in the program stage: the version a file says decides which keys and
columns it may use; the rule families' keys and columns (so far the Japanese-supplier
share: column ``japan_share``, key ``min_japan_share``) are read by their fields into
``Instance.projects`` and ``Instance.params``; version 1 keeps exactly its meaning."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from helpers import error_object, program, run, write

from optimizer.errors import InstanceError
from optimizer.program import loading, vocabulary
from optimizer.program.instance import FAMILY_COLUMNS, PROJECT_COLUMNS
from optimizer.program.loading import load

V1 = "capital-portfolio/1"
V2 = "capital-portfolio/2"
LATER = "exists from `format: capital-portfolio/2` on"

#: the top-level keys and project columns of version 1, as they have always been
V1_KEYS = ("format", "name", "horizon", "budget", "hurdle_rate", "sectors", "labor", "units",
           "projects", "profiles", "dependencies", "known_optimum", "known_optimum_proven",
           "description", "source", "notes")
V1_COLUMNS = ("id", "name", "sector", "capital", "return", "start", "build_years", "labor",
              "reinvest_every", "reinvest_capital", "max_units", "force")


def _doc(version: str = V2, shares=(0.5, None, 0.25), **fields) -> dict:
    projects = [{"id": "A", "capital": 4, "return": 2}, {"id": "B", "capital": 3, "return": 1},
                {"id": "C", "capital": 2, "return": 1, "x_owner": "ops"}]
    for row, share in zip(projects, shares, strict=True):
        if share is not None:
            row["japan_share"] = share
    doc = program(projects, budget={"total": 8}, **fields)
    doc["format"] = version
    return doc


def _set(params) -> dict:
    """The params a program sets (those not None)."""
    return {k: v for k, v in dict(params).items() if v is not None}


def _problems(path) -> list:
    with pytest.raises(InstanceError) as err:
        load(path)
    return list(err.value.problems)


# ------------------------------------------------------------------ the vocabulary
def test_version_1_names_are_unchanged_and_version_2_adds_the_families():
    assert vocabulary.PROGRAM.names(1) == V1_KEYS
    assert vocabulary.PROJECTS.names(1) == V1_COLUMNS == PROJECT_COLUMNS
    assert vocabulary.PROGRAM.names(2) == (*V1_KEYS, "min_japan_share", "commitment_deadline",
                                           "cash_flows", "economics", "project_hurdle")
    assert vocabulary.PROJECTS.names(2) == (*V1_COLUMNS, "japan_share", "earliest_start",
                                            "latest_start", "annual_cash", "operating_years",
                                            "loss_rate", "deemed_rate")
    assert FAMILY_COLUMNS == {"japan_share": 0, "earliest_start": None, "latest_start": None,
                              "annual_cash": None, "operating_years": None,
                              "loss_rate": 0.0, "deemed_rate": None}
    assert vocabulary.PROGRAM.field("format").values == (V1, V2)
    assert vocabulary.PROGRAM.later("min_japan_share", 1) == 2
    assert vocabulary.PROGRAM.later("min_japan_share", 2) is None
    assert vocabulary.PROGRAM.later("hurdle_rate", 1) is None


def test_the_loader_still_exports_what_others_import():
    for name in ("load", "prepare", "table_paths", "read_regular", "Unreadable", "FORMAT",
                 "requires_cycles", "MAX_DOCUMENT_BYTES", "MAX_TABLE_BYTES",
                 "MAX_DOCUMENT_VALUES", "MAX_DOCUMENT_DEPTH", "MAX_INTEGER_DIGITS",
                 "_read_document", "_SafeLoader", "_clean_csv", "_csv_records", "_INVISIBLE",
                 "_PLAIN_NUMBER", "_PLAIN_INT", "_YEAR_TEXT"):
        assert hasattr(loading, name), name
    assert loading.FORMAT == V1


# --------------------------------------------------------------- a version-2 program
@pytest.mark.parametrize("csv", [False, True], ids=["inline", "csv"])
def test_a_version_2_program_with_the_japanese_share_loads(tmp_path, csv):
    instance = load(write(tmp_path, _doc(min_japan_share=0.3), csv=csv))
    assert instance.version == 2
    assert list(instance.projects.columns) == [*PROJECT_COLUMNS, *FAMILY_COLUMNS]
    assert instance.projects["japan_share"].tolist() == [0.5, 0.0, 0.25]  # B: the default
    assert instance.projects["japan_share"].dtype == float
    assert _set(instance.params) == _set({"min_japan_share": 0.3})
    assert instance.metadata["projects.x_owner"] == ("", "", "ops")


def test_absent_values_take_their_defaults(tmp_path):
    instance = load(write(tmp_path, _doc(shares=(None, None, None))))
    assert instance.version == 2
    assert instance.projects["japan_share"].tolist() == [0.0, 0.0, 0.0]
    assert _set(instance.params) == _set({"min_japan_share": None})
    doc = _doc(shares=(None, None, None), min_japan_share=None)  # null: absent
    absent = load(write(tmp_path, doc, name="null.yaml"))
    assert _set(absent.params) == _set({"min_japan_share": None})


def test_a_blank_csv_cell_is_the_default(tmp_path):
    path = write(tmp_path, _doc(), csv=True)
    text = (tmp_path / "projects.csv").read_text()
    assert ",0.5," in text and ",0.25," in text
    instance = load(path)
    assert instance.projects["japan_share"].tolist() == [0.5, 0.0, 0.25]


def test_a_version_1_program_has_the_family_columns_at_their_defaults(tmp_path):
    instance = load(write(tmp_path, _doc(V1, shares=(None, None, None))))
    assert instance.version == 1
    assert list(instance.projects.columns) == [*PROJECT_COLUMNS, *FAMILY_COLUMNS]
    assert instance.projects["japan_share"].tolist() == [0.0, 0.0, 0.0]
    assert _set(instance.params) == _set({"min_japan_share": None})


def test_version_2_without_new_fields_is_the_version_1_program(tmp_path):
    """The same file as version 1 and as version 2 (no key of version 2 used) is the same
    program: the same digest, tables and values; only ``version`` says which it said."""
    one = load(write(tmp_path, _doc(V1, shares=(None, None, None)), name="one.yaml"))
    two = load(write(tmp_path, _doc(V2, shares=(None, None, None)), name="two.yaml"))
    assert one.digest() == two.digest()
    pd.testing.assert_frame_equal(one.projects, two.projects)
    pd.testing.assert_frame_equal(one.profiles, two.profiles)
    assert dict(one.params) == dict(two.params)
    assert (one.total_capital == two.total_capital).all()
    assert (one.version, two.version) == (1, 2)


def test_the_japanese_share_changes_the_digest(tmp_path):
    plain = load(write(tmp_path, _doc(shares=(None, None, None)), name="plain.yaml"))
    shared = load(write(tmp_path, _doc(), name="shared.yaml"))
    ruled = load(write(tmp_path, _doc(shares=(None, None, None), min_japan_share=0.2),
                       name="ruled.yaml"))
    assert len({plain.digest(), shared.digest(), ruled.digest()}) == 3


def test_replace_and_dataclasses_replace_keep_working(tmp_path):
    instance = load(write(tmp_path, _doc(min_japan_share=0.3)))
    projects = instance.projects.copy()
    projects.loc[0, "capital"] = 6.0
    fresh = instance.replace(projects=projects)
    assert fresh.total_capital[0] == 6.0 and instance.total_capital[0] == 4.0
    assert fresh.projects["japan_share"].tolist() == [0.5, 0.0, 0.25]
    assert _set(fresh.params) == _set({"min_japan_share": 0.3}) and fresh.version == 2
    other = dataclasses.replace(instance, params={"min_japan_share": 0.1})
    assert _set(other.params) == _set({"min_japan_share": 0.1})
    assert _set(instance.params) == _set({"min_japan_share": 0.3})
    with pytest.raises(TypeError):
        instance.params["min_japan_share"] = 1  # type: ignore[index]


# ------------------------------------------------------ version-2 names in version 1
def test_a_version_2_key_in_a_version_1_file_is_named(tmp_path):
    path = write(tmp_path, _doc(V1, shares=(None, None, None), min_japan_share=0.3))
    [problem] = _problems(path)
    assert (problem.file, problem.field, problem.row) == (str(path), "min_japan_share", None)
    assert LATER in problem.message and f"this file says `format: {V1}`" in problem.message


def test_a_version_2_column_in_a_version_1_csv_is_named(tmp_path):
    path = write(tmp_path, _doc(V1), csv=True)
    [problem] = _problems(path)
    assert problem.file == str(tmp_path / "projects.csv")
    assert (problem.field, problem.row) == ("japan_share", "(header)")
    assert f"the column 'japan_share' {LATER}" in problem.message


def test_a_version_2_column_in_a_version_1_inline_table_is_named(tmp_path):
    path = write(tmp_path, _doc(V1, min_japan_share=0.5))
    problems = _problems(path)
    assert [(p.file, p.field, p.row) for p in problems] == [
        (str(path), "min_japan_share", None),
        (str(path), "projects.japan_share", "projects[0]")]
    assert LATER in problems[1].message and "(also in 1 more projects entries)" in \
        problems[1].message


def test_a_bad_value_of_a_version_2_name_in_version_1_is_said_once(tmp_path):
    """In a version-1 file the name itself is the problem: its value is not read."""
    doc = _doc(V1, shares=(7, "lots", None), min_japan_share="half")
    problems = _problems(write(tmp_path, doc))
    assert len(problems) == 2 and all(LATER in p.message for p in problems)


def test_version_1_suggests_no_version_2_name(tmp_path):
    doc = _doc(V1, shares=(None, None, None), min_japan_shar=0.3)
    [problem] = _problems(write(tmp_path, doc))
    assert problem.message.startswith("unknown field 'min_japan_shar'")
    assert "min_japan_share" not in problem.message
    doc["format"] = V2
    [problem] = _problems(write(tmp_path, doc, name="two.yaml"))
    assert problem.message == ("unknown field 'min_japan_shar'; did you mean "
                               "'min_japan_share'?")


@pytest.mark.parametrize("name", ["scenarios", "risk"])
def test_unimplemented_version_2_fields_stay_unknown(tmp_path, name):
    doc = _doc(shares=(None, None, None))
    doc[name] = 1
    [problem] = _problems(write(tmp_path, doc))
    assert problem.field == name and problem.message.startswith(f"unknown field '{name}'")


@pytest.mark.parametrize("column", ["overrun", "labor_electricians"])
def test_unimplemented_version_2_columns_stay_unknown(tmp_path, column):
    doc = _doc(shares=(None, None, None))
    doc["projects"][0][column] = 1
    path = write(tmp_path, doc, csv=True)
    [problem] = _problems(path)
    assert (problem.field, problem.row) == (column, "(header)")
    assert problem.message.startswith(f"unknown column '{column}'")


# -------------------------------------------------------------------- bad values
@pytest.mark.parametrize("cell,words", [(1.5, "must be at most 1, got '1.5'"),
                                        (-0.1, "must be at least 0, got '-0.1'"),
                                        ("text", "'text' is not a number"),
                                        ("1_0", "'1_0' is not a plain decimal number"),
                                        ("nan", "'nan' is not a number")])
def test_a_bad_japan_share_cell_in_csv_is_named(tmp_path, cell, words):
    path = write(tmp_path, _doc(shares=(0.5, cell, None)), csv=True)
    [problem] = _problems(path)
    assert problem.file == str(tmp_path / "projects.csv")
    assert (problem.field, problem.row) == ("japan_share", "row 2 (line 3)")
    assert problem.message.startswith(words), problem.message


@pytest.mark.parametrize("cell,words", [(1.5, "must be at most 1, got '1.5'"),
                                        (-0.1, "must be at least 0, got '-0.1'"),
                                        ("text", "'text' is not a number"),
                                        (True, "must be a number (or a number written as "
                                               "text), got true"),
                                        ([0.5], "must be a number")])
def test_a_bad_japan_share_cell_inline_is_named(tmp_path, cell, words):
    path = write(tmp_path, _doc(shares=(0.5, None, cell)))
    [problem] = _problems(path)
    assert (problem.file, problem.field, problem.row) == (str(path), "japan_share",
                                                          "projects[2]")
    assert problem.message.startswith(words), problem.message


def test_a_japan_share_written_as_text_is_a_number(tmp_path):
    instance = load(write(tmp_path, _doc(shares=(" 0.5 ", "", "1"))))
    assert instance.projects["japan_share"].tolist() == [0.5, 0.0, 1.0]


@pytest.mark.parametrize("value,words", [(1.5, "must be at most 1, got 1.5"),
                                         (-0.1, "must be at least 0, got -0.1"),
                                         ("half", "must be a number, got 'half'"),
                                         (True, "must be a number, got true"),
                                         (float("nan"), "must be finite")])
def test_min_japan_share_outside_0_1_is_refused(tmp_path, value, words):
    path = write(tmp_path, _doc(min_japan_share=value))
    [problem] = _problems(path)
    assert (problem.file, problem.field, problem.row) == (str(path), "min_japan_share", None)
    assert problem.message.startswith(words), problem.message


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0])
def test_min_japan_share_takes_its_bounds(tmp_path, value):
    assert load(write(tmp_path, _doc(min_japan_share=value))).params["min_japan_share"] \
        == value


def test_a_familys_own_problems_are_the_programs(tmp_path, monkeypatch):
    """What a family's read() raises is reported with the program's other problems, in
    the program's file where the family names none."""
    from formulations.family import Family
    from optimizer.errors import Problem

    class Picky(Family):
        name = "picky"
        params = {"min_japan_share": None}

        def read(self, values, years):
            raise InstanceError([Problem("", "min_japan_share", None, "too picky")])

    monkeypatch.setattr(loading, "FAMILIES", (*loading.FAMILIES, Picky()))
    doc = _doc(min_japan_share=0.3)
    doc["hurdle_rate"] = "high"
    path = write(tmp_path, doc)
    problems = _problems(path)
    assert [(p.file, p.field, p.message) for p in problems][-1] == \
        (str(path), "min_japan_share", "too picky")
    assert any(p.field == "hurdle_rate" for p in problems)


# ---------------------------------------------------------------- the format field
def test_the_format_field_names_both_versions(tmp_path):
    doc = _doc(shares=(None, None, None))
    doc["format"] = "capital-portfolio/3"
    [problem] = _problems(write(tmp_path, doc))
    assert problem.field == "format"
    assert problem.message == (f"must be '{V1}' or '{V2}', got 'capital-portfolio/3'")
    del doc["format"]
    [problem] = _problems(write(tmp_path, doc, name="none.yaml"))
    assert problem.message.startswith(f"is required: write `format: {V1}`")


# ------------------------------------------------------------------- the command line
def test_validate_json_names_a_version_2_key_in_version_1(tmp_path):
    path = write(tmp_path, _doc(V1, min_japan_share=0.3), csv=True)
    proc = run("validate", str(path), "--json")
    assert proc.returncode == 2, proc.stderr
    data = error_object(proc.stdout)
    assert [(p["file"], p["field"], p["row"]) for p in data["problems"]] == [
        (str(path), "min_japan_share", None),
        (str(tmp_path / "projects.csv"), "japan_share", "(header)")]
    assert all(LATER in p["message"] for p in data["problems"])


def test_validate_json_names_a_bad_japan_share_cell(tmp_path):
    path = write(tmp_path, _doc(shares=(0.5, 1.5, None), min_japan_share=2), csv=True)
    proc = run("validate", str(path), "--json")
    assert proc.returncode == 2, proc.stderr
    data = error_object(proc.stdout)
    assert [(p["file"], p["field"], p["row"]) for p in data["problems"]] == [
        (str(path), "min_japan_share", None),
        (str(tmp_path / "projects.csv"), "japan_share", "row 2 (line 3)")]


def test_validate_json_takes_a_version_2_program(tmp_path):
    proc = run("validate", str(write(tmp_path, _doc(min_japan_share=0.3))), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "valid"


# -------------------------------------------------------------------- the schema
def test_the_schema_takes_version_2_and_refuses_its_names_in_version_1():
    jsonschema = pytest.importorskip("jsonschema")
    from optimizer.program import schema

    validator = jsonschema.Draft202012Validator(schema.program_schema())
    doc = schema.to_json_document(_doc(min_japan_share=0.3))
    assert list(validator.iter_errors(doc)) == []
    for bad in (1.5, "x"):
        wrong = copy.deepcopy(doc)
        wrong["projects"][0]["japan_share"] = bad
        assert list(validator.iter_errors(wrong))
    one = copy.deepcopy(doc)
    one["format"] = V1
    assert list(validator.iter_errors(one))  # both names
    del one["min_japan_share"]
    assert list(validator.iter_errors(one))  # the column
    for row in one["projects"]:
        row.pop("japan_share", None)
    assert list(validator.iter_errors(one)) == []
    one["projects"] = "projects.csv"  # a table's columns are the loader's to check
    assert list(validator.iter_errors(one)) == []
    only_1 = jsonschema.Draft202012Validator(schema.program_schema(1))
    assert list(only_1.iter_errors(schema.to_json_document(_doc(V2, (None,) * 3))))


def test_the_generated_tables_mark_version_2():
    text = vocabulary.markdown()
    share = next(line for line in text.splitlines() if line.startswith("| `japan_share` |"))
    assert "**version 2.**" in share
    assert "min_japan_share" not in vocabulary.markdown(1)
    assert np.all([f"| `{name}` |" in text for name in vocabulary.PROGRAM.names(2)])
