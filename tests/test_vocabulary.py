"""The format's vocabulary: every unknown key or column is an error naming the file, the
place and the nearest known name (exit 2, nothing on standard output); names beginning
with ``x_`` are user metadata everywhere; the loader, the documentation and the schema
all come from :mod:`optimizer.program.vocabulary`."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer import InstanceError, load
from optimizer.cli.main import main
from optimizer.limits import BOUNDS
from optimizer.program import vocabulary
from optimizer.program.instance import FAMILY_COLUMNS, PROFILE_COLUMNS, PROJECT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]

BASE = {
    "format": "capital-portfolio/1",
    "name": "vocabulary",
    "horizon": [2026, 2030],
    "budget": {"total": 100, "per_year": {2026: 50}},
    "hurdle_rate": 0.05,
    "sectors": {"energy": {"min": 1, "max": 90}, "shipbuilding": None},
    "labor": {"capacity": {2026: 1000}},
    "units": {"money": "$B", "labor": "specialists"},
    "dependencies": [{"type": "requires", "project": "B", "on": "A"},
                     {"type": "excludes", "projects": ["B", "C"]}],
}
PROJECTS = [
    {"id": "A", "sector": "energy", "capital": 10, "return": 2, "start": 2026},
    {"id": "B", "sector": "energy", "capital": 5, "return": 1, "start": 2027, "max_units": 2},
    {"id": "C", "sector": "shipbuilding", "capital": 5, "return": 1, "start": 2026},
    {"id": "D", "sector": "shipbuilding", "return": 1},
]
PROFILES = [{"project": "D", "year": 2027, "capital": 3, "labor": 5},
            {"project": "D", "year": 2028, "capital": 2, "labor": 5}]


def write(folder: Path, doc=None, projects=None, profiles=None, inline=False) -> Path:
    """The program in ``folder``: tables as CSV files, or inline with ``inline``."""
    doc = copy.deepcopy(BASE if doc is None else doc)
    projects = copy.deepcopy(PROJECTS if projects is None else projects)
    profiles = copy.deepcopy(PROFILES if profiles is None else profiles)
    if inline:
        doc.setdefault("projects", projects)
        doc.setdefault("profiles", profiles)
    else:
        pd.DataFrame(projects).to_csv(folder / "projects.csv", index=False)
        pd.DataFrame(profiles).to_csv(folder / "profiles.csv", index=False)
        doc.setdefault("projects", "projects.csv")
        doc.setdefault("profiles", "profiles.csv")
    path = folder / "program.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def cli(command: str, path: Path, capsys) -> tuple[int, str, str]:
    code = main([command, str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_base_program_is_valid(tmp_path, capsys):
    for inline in (False, True):
        folder = tmp_path / str(inline)
        folder.mkdir()
        code, out, err = cli("validate", write(folder, inline=inline), capsys)
        assert code == 0, err
        assert "valid" in out


# ----------------------------------------------------------- every misspelling class
def _top(doc, projects, profiles):
    doc["hurdle_rat"] = doc.pop("hurdle_rate")


def _sector(doc, projects, profiles):
    doc["sectors"]["energy"] = {"min": 1, "mx": 90}


def _budget(doc, projects, profiles):
    doc["budget"]["totl"] = doc["budget"].pop("total")


def _labor(doc, projects, profiles):
    doc["labor"]["capacty"] = doc["labor"].pop("capacity")


def _units(doc, projects, profiles):
    doc["units"]["mony"] = doc["units"].pop("money")


def _requires(doc, projects, profiles):
    doc["dependencies"][0]["onn"] = "A"


def _excludes(doc, projects, profiles):
    doc["dependencies"][1]["project"] = doc["dependencies"][1].pop("projects")


def _column(doc, projects, profiles):
    projects[1]["maxunits"] = projects[1].pop("max_units")


def _profile_column(doc, projects, profiles):
    for row in profiles:
        row["labour"] = row.pop("labor")


# (change, inline tables, where the problem is, the file named, the place, the suggestion)
MISSPELLINGS = [
    (_top, False, "program.yaml", "field 'hurdle_rat'", "did you mean 'hurdle_rate'?"),
    (_sector, False, "program.yaml", "field 'sectors.energy.mx'", "did you mean 'max'?"),
    (_budget, False, "program.yaml", "field 'budget.totl'", "did you mean 'total'?"),
    (_labor, False, "program.yaml", "field 'labor.capacty'", "did you mean 'capacity'?"),
    (_units, False, "program.yaml", "field 'units.mony'", "did you mean 'money'?"),
    (_requires, False, "program.yaml", "dependencies[0], field 'dependencies.onn'",
     "did you mean 'on'?"),
    (_excludes, False, "program.yaml", "dependencies[1], field 'dependencies.project'",
     "did you mean 'projects'?"),
    (_column, False, "projects.csv", "(header), field 'maxunits'",
     "did you mean 'max_units'?"),
    (_profile_column, False, "profiles.csv", "(header), field 'labour'",
     "did you mean 'labor'?"),
    (_column, True, "program.yaml", "projects[1], field 'projects.maxunits'",
     "did you mean 'max_units'?"),
    (_profile_column, True, "program.yaml", "profiles[0], field 'profiles.labour'",
     "did you mean 'labor'?"),
]


@pytest.mark.parametrize("command", ["validate", "solve"])
@pytest.mark.parametrize("change,inline,file,place,suggestion", MISSPELLINGS,
                         ids=[f"{c[0].__name__}{'-inline' if c[1] else ''}"
                              for c in MISSPELLINGS])
def test_a_misspelled_name_is_an_error(tmp_path, capsys, command, change, inline, file,
                                       place, suggestion):
    doc, projects, profiles = (copy.deepcopy(x) for x in (BASE, PROJECTS, PROFILES))
    change(doc, projects, profiles)
    path = write(tmp_path, doc, projects, profiles, inline=inline)
    code, out, err = cli(command, path, capsys)
    assert code == 2, err
    assert out == ""
    line = next((ln for ln in err.splitlines() if place in ln), None)
    assert line is not None, err
    assert str(tmp_path / file) in line and suggestion in line, line
    assert "Traceback" not in err


def test_every_unknown_name_is_listed_at_once(tmp_path):
    doc, projects, profiles = (copy.deepcopy(x) for x in (BASE, PROJECTS, PROFILES))
    for change in dict.fromkeys(case[0] for case in MISSPELLINGS):
        change(doc, projects, profiles)
    with pytest.raises(InstanceError) as info:
        load(write(tmp_path, doc, projects, profiles))
    fields = {p.field for p in info.value.problems}
    assert {"hurdle_rat", "sectors.energy.mx", "budget.totl", "labor.capacty", "units.mony",
            "dependencies.onn", "maxunits", "labour"} <= fields, fields


def test_a_misspelled_required_column_is_named_with_its_suggestion(tmp_path):
    projects = [{("retrun" if k == "return" else k): v for k, v in p.items()}
                for p in PROJECTS]
    with pytest.raises(InstanceError) as info:
        load(write(tmp_path, projects=projects))
    messages = {(p.field, p.message) for p in info.value.problems}
    assert ("retrun", "unknown column 'retrun'; did you mean 'return'?") in messages
    assert ("return", "required column is missing from the projects table") in messages


def test_an_unknown_name_with_no_near_name_lists_the_known_ones(tmp_path):
    doc = copy.deepcopy(BASE)
    doc["budget"]["zzzzzz"] = 1
    with pytest.raises(InstanceError) as info:
        load(write(tmp_path, doc))
    (problem,) = info.value.problems
    assert problem.field == "budget.zzzzzz"
    assert "total, per_year" in problem.message and "x_" in problem.message


def test_an_unknown_dependency_type_still_names_unknown_keys(tmp_path):
    doc = copy.deepcopy(BASE)
    doc["dependencies"] = [{"type": "needs", "project": "A", "onn": "B"}]
    with pytest.raises(InstanceError) as info:
        load(write(tmp_path, doc))
    fields = {p.field for p in info.value.problems}
    assert {"dependencies.type", "dependencies.onn"} <= fields


def test_metadata_is_read_only_and_pickles(tmp_path):
    import pickle

    doc = copy.deepcopy(BASE)
    doc["x_tag"] = 7
    instance = load(write(tmp_path, doc))
    with pytest.raises(TypeError):
        instance.metadata["x_tag"] = 8  # type: ignore[index]
    again = pickle.loads(pickle.dumps(instance))
    assert again.metadata == {"x_tag": 7} and again.metadata.to_dict() == {"x_tag": 7}
    fresh = instance.metadata.to_dict()
    fresh["x_tag"] = 9  # a copy: the instance keeps its own
    assert instance.metadata["x_tag"] == 7


def test_messages_list_the_keys_of_the_vocabulary(tmp_path):
    """A mapping given as something else is answered with its section's keys, and a
    wrong dependency type with the types, from the vocabulary."""
    doc = copy.deepcopy(BASE)
    doc.update(budget=5, labor=[1], units="EUR")
    doc["sectors"]["energy"] = 3
    doc["dependencies"] = [{"type": "needs"}]
    with pytest.raises(InstanceError) as info:
        load(write(tmp_path, doc))
    messages = {p.field: p.message for p in info.value.problems}
    assert "total and/or per_year" in messages["budget"]
    assert "capacity" in messages["labor"] and "money and/or labor" in messages["units"]
    assert "min and/or max" in messages["sectors.energy"]
    assert "'requires' or 'excludes'" in messages["dependencies.type"]


def test_a_header_cell_without_a_name_is_named(tmp_path):
    path = write(tmp_path)
    (tmp_path / "projects.csv").write_text(
        "id,,sector,capital,return,start\nA,x,energy,10,2,2026\nB,y,energy,5,1,2027\n"
        "C,z,shipbuilding,5,1,2026\nD,w,shipbuilding,,1,\n")
    with pytest.raises(InstanceError) as info:
        load(path)
    assert any(p.row == "(header)" and "column 2" in p.message for p in info.value.problems)


# ----------------------------------------------------------------- x_ metadata
def test_x_names_are_metadata_everywhere(tmp_path, capsys):
    doc, projects, profiles = (copy.deepcopy(x) for x in (BASE, PROJECTS, PROFILES))
    doc["x_owner"] = {"team": "capital", "reviewed": True}
    doc["budget"]["x_note"] = "from the memorandum"
    doc["budget"]["per_year"]["x_source"] = "table 3"
    doc["sectors"]["x_order"] = ["energy", "shipbuilding"]
    doc["sectors"]["energy"]["x_color"] = "red"
    doc["labor"]["x_note"] = "headcount"
    doc["labor"]["capacity"]["x_note"] = "full-time"
    doc["units"]["x_note"] = "labels"
    doc["dependencies"][0]["x_why"] = "same site"
    doc["dependencies"][1]["x_why"] = "competing bids"
    for i, row in enumerate(projects):
        row["x_owner"] = "ops" if i != 1 else None  # an empty cell: ""
        row["x_rank"] = i + 1
    for row in profiles:
        row["x_source"] = "plan"
    for inline in (False, True):
        folder = tmp_path / str(inline)
        folder.mkdir()
        path = write(folder, doc, projects, profiles, inline=inline)
        code, out, err = cli("validate", path, capsys)
        assert code == 0, err
        instance = load(path)
        assert instance.sectors == ("energy", "shipbuilding")
        assert instance.metadata == {
            "x_owner": {"team": "capital", "reviewed": True},
            "budget.x_note": "from the memorandum",
            "budget.per_year.x_source": "table 3",
            "sectors.x_order": ["energy", "shipbuilding"],
            "sectors.energy.x_color": "red",
            "labor.x_note": "headcount",
            "labor.capacity.x_note": "full-time",
            "units.x_note": "labels",
            "dependencies[0].x_why": "same site",
            "dependencies[1].x_why": "competing bids",
            # x_ columns (CSV) and x_ keys of inline rows: the cells as text, in row order
            "projects.x_owner": ("ops", "", "ops", "ops"),
            "projects.x_rank": ("1", "2", "3", "4"),
            "profiles.x_source": ("plan",) * len(profiles),
        }
        assert list(instance.projects.columns) == list(PROJECT_COLUMNS) + list(FAMILY_COLUMNS)
        assert list(instance.budget_per_year[:1]) == [50]


def test_metadata_and_units_survive_replace(tmp_path):
    doc = copy.deepcopy(BASE)
    doc["units"] = {"money": "units", "labor": "people"}
    doc["x_tag"] = 7
    instance = load(write(tmp_path, doc))
    assert (instance.money_unit, instance.labor_unit) == ("units", "people")
    fresh = instance.replace(budget_total=90.0)
    assert (fresh.money_unit, fresh.labor_unit, fresh.metadata) == \
        ("units", "people", {"x_tag": 7})
    again = instance.replace(projects=instance.projects.copy())
    assert (again.money_unit, again.metadata) == ("units", {"x_tag": 7})


def test_units_default_and_are_checked(tmp_path):
    doc = copy.deepcopy(BASE)
    del doc["units"]
    instance = load(write(tmp_path, doc))
    assert (instance.money_unit, instance.labor_unit) == ("$B", "specialists")
    for bad, field in (({"money": 5}, "units.money"), ({"labor": ""}, "units.labor"),
                       ("EUR", "units"), ({"money": "x" * 41}, "units.money"),
                       ({"money": "a\nb"}, "units.money")):
        doc["units"] = bad
        with pytest.raises(InstanceError) as info:
            load(write(tmp_path, doc))
        assert [p.field for p in info.value.problems] == [field]


def test_free_text_fields_are_text(tmp_path):
    doc = copy.deepcopy(BASE)
    doc.update(description="d", source="s", notes="two\nlines", known_optimum=3.0,
               known_optimum_proven=False)
    load(write(tmp_path, doc))
    doc["notes"] = ["a", "b"]
    with pytest.raises(InstanceError) as info:
        load(write(tmp_path, doc))
    assert [p.field for p in info.value.problems] == ["notes"]


# ------------------------------------------------------------ sector collisions
def test_sector_names_that_collide_as_text_are_an_error(tmp_path, capsys):
    path = write(tmp_path)
    text = path.read_text().replace("  shipbuilding: null\n",
                                    "  shipbuilding: null\n  1: {min: 1}\n  '1': {max: 5}\n")
    path.write_text(text)
    code, out, err = cli("validate", path, capsys)
    assert code == 2 and out == ""
    line = next(ln for ln in err.splitlines() if "sectors.1" in ln)
    assert "1 and '1'" in line and str(path) in line


# ------------------------------------------------------------ random unknown names
DEPTHS = ["top", "budget", "sector", "labor", "units", "requires", "excludes",
          "project-csv", "project-inline", "profile-csv", "profile-inline"]
_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)


def _known_at(depth: str) -> tuple[str, ...]:
    return {
        "top": vocabulary.PROGRAM, "budget": vocabulary.BUDGET, "sector": vocabulary.SECTOR,
        "labor": vocabulary.LABOR, "units": vocabulary.UNITS,
        "requires": vocabulary.REQUIRES, "excludes": vocabulary.EXCLUDES,
        "project-csv": vocabulary.PROJECTS, "project-inline": vocabulary.PROJECTS,
        "profile-csv": vocabulary.PROFILES, "profile-inline": vocabulary.PROFILES,
    }[depth].names()


def _add(depth: str, name: str, doc, projects, profiles) -> None:
    if depth == "top":
        doc[name] = 1
    elif depth in ("budget", "labor", "units"):
        doc[depth][name] = 1
    elif depth == "sector":
        doc["sectors"]["energy"][name] = 1
    elif depth == "requires":
        doc["dependencies"][0][name] = "A"
    elif depth == "excludes":
        doc["dependencies"][1][name] = "A"
    elif depth.startswith("project"):
        projects[2][name] = "1"
    else:
        profiles[0][name] = "1"


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depth=st.sampled_from(DEPTHS), name=_NAMES, metadata=st.booleans())
def test_random_unknown_names_at_random_depths(depth, name, metadata):
    if metadata:
        name = "x_" + name
    else:  # a name the format knows there is no unknown name: draw another
        assume(name not in _known_at(depth) and not name.startswith("x_"))
    doc, projects, profiles = (copy.deepcopy(x) for x in (BASE, PROJECTS, PROFILES))
    _add(depth, name, doc, projects, profiles)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), doc, projects, profiles, inline=depth.endswith("inline"))
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(path)])
    if metadata:
        assert code == 0, err.getvalue()
    else:
        assert code == 2, (depth, name)
        assert out.getvalue() == ""
        assert f"unknown {'column' if 'csv' in depth else 'field'} '{name}'" in err.getvalue(), \
            err.getvalue()


# -------------------------------------------------------------- one vocabulary
def test_the_vocabulary_is_the_loaders():
    assert vocabulary.PROJECTS.names() == PROJECT_COLUMNS
    assert vocabulary.PROFILES.names() == PROFILE_COLUMNS
    from optimizer.program.generate import _PROJECT_COLUMNS

    assert _PROJECT_COLUMNS == list(PROJECT_COLUMNS)
    assert vocabulary.PROJECTS.required() == ("id", "sector", "return")
    assert vocabulary.PROFILES.required() == ("project", "year", "capital")


def test_bounds_come_from_limits():
    bounds = {f.name: f.bound for f in vocabulary.PROJECTS.fields if f.bound is not None}
    assert bounds["build_years"] is BOUNDS["build_years"]
    assert bounds["max_units"] is BOUNDS["max_units"]
    assert bounds["reinvest_every"] is BOUNDS["reinvest_every"]
    assert bounds["start"] is BOUNDS["year"]
    assert bounds["return"] is BOUNDS["money"]
    assert bounds["labor"] is BOUNDS["people"]
    assert bounds["capital"].high == BOUNDS["money"].high
    assert vocabulary.PROGRAM.field("hurdle_rate").bound is BOUNDS["rate"]


def test_every_field_is_described():
    for section in vocabulary.SECTIONS:
        for f in section.fields:
            assert f.description, (section.place, f.name)
            assert not vocabulary.is_metadata(f.name)


def test_suggestions_and_shown_names():
    assert vocabulary.suggest("hurdle_rat", vocabulary.PROGRAM.names()) == "hurdle_rate"
    assert vocabulary.suggest("Capital", vocabulary.PROJECTS.names()) == "capital"
    assert vocabulary.suggest("mx", vocabulary.SECTOR.names()) == "max"
    assert vocabulary.unknown_message("hurdle_rat", vocabulary.PROGRAM.names()) == \
        "unknown field 'hurdle_rat'; did you mean 'hurdle_rate'?"
    assert vocabulary.shown("a\udc80b") == "a\\udc80b"
    assert vocabulary.shown("a\nb") == "a\\nb"
    assert len(vocabulary.shown("k" * 10_000)) < 100


def test_an_unprintable_key_is_named_printably(tmp_path, capsys):
    import json

    write(tmp_path)  # the tables
    doc = {**copy.deepcopy(BASE), "projects": "projects.csv", "profiles": "profiles.csv"}
    path = tmp_path / "program.json"
    path.write_text(json.dumps(doc)[:-1] + ', "new\\nline": 1, "nul\\u0000key": 2}')
    code, out, err = cli("validate", path, capsys)
    assert code == 2 and out == ""
    assert "'new\\nline'" in err and "'nul\\x00key'" in err
    err.encode("utf-8")  # printable: a lone surrogate is refused before (test_hostile)


# ------------------------------------------------------------------ the docs
def test_docs_format_md_holds_the_generated_tables():
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    block = vocabulary.generated_block(text)
    assert block is not None, ("docs/format.md lacks the markers "
                               f"{vocabulary.BEGIN_MARKER} / {vocabulary.END_MARKER}")
    assert block == vocabulary.markdown(), (
        "docs/format.md's field tables are out of date: run "
        "`python -m optimizer.program.vocabulary --write docs/format.md`")


def test_markdown_names_every_key_and_column():
    text = vocabulary.markdown()
    for section in vocabulary.SECTIONS:
        assert section.title in text
        for f in section.fields:
            assert f"| `{f.name}` |" in text


def test_write_markdown_replaces_between_the_markers(tmp_path):
    doc = tmp_path / "format.md"
    doc.write_text(f"# Format\n\nbefore\n{vocabulary.BEGIN_MARKER}\nold\n"
                   f"{vocabulary.END_MARKER}\nmiddle\n{vocabulary.LIMITS_BEGIN}\nold\n"
                   f"{vocabulary.LIMITS_END}\nafter\n")
    assert vocabulary.main(["--check", str(doc)]) == 1
    assert vocabulary.main(["--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Format\n\nbefore\n") and text.endswith("after\n")
    assert "\nmiddle\n" in text
    assert "old" not in text and vocabulary.generated_block(text) == vocabulary.markdown()
    assert vocabulary.generated_block(text, vocabulary.LIMITS_BEGIN, vocabulary.LIMITS_END) \
        == vocabulary.limits_markdown()
    assert vocabulary.main(["--check", str(doc)]) == 0
    assert not vocabulary.write_markdown(doc)  # a second run changes nothing
    (tmp_path / "plain.md").write_text("# no markers\n")
    assert vocabulary.main(["--write", str(tmp_path / "plain.md")]) == 2
    assert (tmp_path / "plain.md").read_text() == "# no markers\n"


def test_docs_format_md_holds_the_generated_limits():
    """The bounds and file limits of docs/format.md are generated from the code
    (optimizer/limits.py, optimizer/program/loading.py), the nesting depth among them."""
    from optimizer import limits
    from optimizer.program import loading

    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    block = vocabulary.generated_block(text, vocabulary.LIMITS_BEGIN, vocabulary.LIMITS_END)
    assert block == vocabulary.limits_markdown(), (
        "docs/format.md's limits are out of date: run "
        "`python -m optimizer.program.vocabulary --write docs/format.md`")
    assert f"at most {loading.MAX_DOCUMENT_DEPTH} levels" in block
    assert f"{loading.MAX_TABLE_BYTES:,}" in block and f"{loading.MAX_DOCUMENT_BYTES:,}" in block
    assert f"{limits.MAX_UNITS.high:,.0f}" in block


def test_the_prose_of_format_md_names_the_defaults_of_the_code():
    """Numbers the prose of docs/format.md states outside the generated blocks are the
    code's: the defaults of max_units, build_years and labor, the alias limit."""
    from optimizer.program import loading

    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    for begin, end, _ in vocabulary.BLOCKS:  # the generated text aside
        text = text[:text.index(begin)] + text[text.index(end):]
    projects = vocabulary.PROJECTS
    assert f"`max_units` ({projects.field('max_units').default} unless said otherwise" in text
    assert f"{loading.MAX_DOCUMENT_VALUES / 1e6:.0f} million values" in text
