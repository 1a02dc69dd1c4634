"""The JSON Schema of the program file: generated from the vocabulary, shipped as package
data and kept equal to the generator, printed by ``optimizer schema``; every shipped,
converted and generated program validates, and misspelled keys are refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

from optimizer.cli.main import main  # noqa: E402
from optimizer.program import schema  # noqa: E402
from optimizer.program.loading import _read_document  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = jsonschema.Draft202012Validator(schema.program_schema())


def document(path: Path):
    """A program file as JSON has it, read as the loader reads it (YAML 1.2: `on` is
    text)."""
    return schema.to_json_document(_read_document(path))


def errors(doc) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(doc)]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(schema.program_schema())
    assert schema.program_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_shipped_file_is_the_generated_schema():
    assert schema.SCHEMA_FILE.read_text(encoding="utf-8") == schema.schema_text(), (
        "optimizer/program/program.schema.json is out of date: run "
        "`python -m optimizer.program.schema --write`")
    assert schema.shipped_schema() == schema.program_schema()


def test_optimizer_schema_prints_one_json_object(capsys):
    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == schema.program_schema() and err == ""


def _program_files() -> list[Path]:
    return sorted(p for ext in ("yaml", "yml", "json")
                  for p in (ROOT / "instances").rglob(f"*.{ext}"))


def test_there_are_program_files_to_check():
    assert ROOT / "instances" / "pilot" / "program.yaml" in _program_files()


@pytest.mark.parametrize("path", _program_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_program_validates(path):
    assert errors(document(path)) == []


def test_orlib_conversions_validate(tmp_path):
    from optimizer.program.orlib import convert

    written = convert(ROOT / "instances" / "orlib" / "mknap1.txt", tmp_path / "mknap1")
    written += convert(ROOT / "instances" / "orlib" / "mknap2.txt", tmp_path / "mknap2")[:5]
    assert len(written) >= 10
    for path in written:
        assert errors(document(path)) == [], path


@pytest.mark.parametrize("n,seed", [(5, 0), (40, 1), (300, 2)])
def test_generated_programs_validate(tmp_path, n, seed):
    from optimizer.program.generate import generate, write

    path = write(generate(n, seed=seed), tmp_path)
    assert errors(document(path)) == []


def test_inline_programs_validate():
    """The programs the tests build inline (numbers as numbers or as text, blanks)."""
    from test_vocabulary import BASE, PROFILES, PROJECTS

    doc = schema.to_json_document({**copy.deepcopy(BASE), "projects": PROJECTS,
                                   "profiles": PROFILES})
    assert errors(doc) == []
    doc["projects"][0].update(capital="10.5", name=None, force="", x_owner={"a": 1})
    doc["profiles"][0]["labor"] = " 7 "
    assert errors(doc) == []


PILOT = ROOT / "instances" / "pilot-v1" / "program.yaml"


def _misspell(doc, where: str) -> None:
    if where == "top":
        doc["hurdle_rat"] = doc.pop("hurdle_rate")
    elif where == "sector":
        doc["sectors"]["energy"]["mx"] = 5
    elif where == "budget":
        doc["budget"]["totl"] = doc["budget"].pop("total")
    elif where == "per_year":
        doc["budget"]["per_year"]["2O26"] = 4
    elif where == "labor":
        doc["labor"]["capacty"] = doc["labor"].pop("capacity")
    elif where == "units":
        doc["units"] = {"mony": "EUR"}
    elif where == "requires":
        doc["dependencies"][0]["onn"] = "P10"
    elif where == "excludes":
        doc["dependencies"][3]["project"] = doc["dependencies"][3].pop("projects")
    elif where == "project":
        doc["projects"] = [{"id": "A", "sector": "energy", "return": 1, "maxunits": 2}]
    elif where == "profile":
        doc["profiles"] = [{"project": "A", "year": 2027, "capital": 1, "labour": 2}]
    elif where == "force":
        doc["projects"] = [{"id": "A", "sector": "energy", "return": 1, "force": "yes"}]
    elif where == "format":
        doc["format"] = "capital-portfolio/3"
    else:  # pragma: no cover
        raise ValueError(where)


@pytest.mark.parametrize("where", ["top", "sector", "budget", "per_year", "labor", "units",
                                   "requires", "excludes", "project", "profile", "force",
                                   "format"])
def test_the_schema_refuses_misspellings(where):
    doc = document(PILOT)
    assert errors(doc) == []
    _misspell(doc, where)
    assert errors(doc), where


def test_x_names_pass_the_schema_everywhere():
    doc = document(PILOT)
    doc["x_owner"] = "me"
    doc["budget"]["x_note"] = 1
    doc["budget"]["per_year"]["x_note"] = 1
    doc["sectors"]["x_order"] = [1, 2]
    doc["sectors"]["energy"]["x_color"] = "red"
    doc["labor"]["x_note"] = 1
    doc["labor"]["capacity"]["x_note"] = 1
    doc["units"] = {"money": "EUR", "x_note": 1}
    for dep in doc["dependencies"]:
        dep["x_why"] = "because"
    doc["projects"] = [{"id": "A", "sector": "energy", "return": 1, "capital": 1,
                        "start": 2026, "x_owner": "ops"}]
    doc["profiles"] = [{"project": "A", "year": 2027, "capital": 1, "x_source": "plan"}]
    assert errors(doc) == []


def test_the_schema_holds_the_bounds():
    doc = document(PILOT)
    doc["horizon"] = [1800, 2035]
    assert errors(doc)
    doc = document(PILOT)
    doc["budget"]["total"] = 1e12
    assert errors(doc)
    doc = document(PILOT)
    doc["projects"] = [{"id": "A", "sector": "energy", "return": 1, "max_units": 10**19}]
    assert errors(doc)
    doc["projects"] = [{"id": "A", "sector": "energy", "return": 1, "capital": 0}]
    assert errors(doc)


# ------------------------------------------------------ the loader and the schema agree
#: year keys as text (JSON keys, quoted YAML keys): blanks are spaces and tabs only, no
#: sign, no leading zero, ASCII digits, inside the years of the format
YEAR_KEYS = ["2026", " 2026", "2026\t", "\t 2026 ", "+2026", "-2026", "02026", "2026.0",
             "2026 x", "20 26", "\u00a02026", "2026\n", "２０２６", "1899", "1900", "2200",
             "2201", "", " ", "1e3", "99999999999999999999"]
#: numbers written as text in an inline table's cell
NUMBER_TEXTS = ["7", " 7 ", "\t7", "+7", "-7", "7.", ".5", "-.5", "0", "0.5", "1e3", "1E-3",
                "2.5e+2", "017", "00.5", "-01", "1_0", "0x1F", "1,5", "e3", "1e", ".",
                "--1", "\u00a07", "7\n", "１０", "inf", "nan", "1 0", ""]


def _loads(doc) -> tuple[bool, set[str]]:
    """Whether the loader takes the program (in a JSON file), and the fields it names."""
    import tempfile

    from optimizer import InstanceError, load

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "program.json"
        path.write_text(json.dumps(doc))
        try:
            load(path)
        except InstanceError as exc:
            return False, {p.field for p in exc.problems}
    return True, set()


def _small() -> dict:
    return {"format": "capital-portfolio/1", "horizon": [2026, 2030],
            "sectors": {"energy": None},
            "projects": [{"id": "A", "sector": "energy", "capital": 2, "return": 1,
                          "start": 2026}]}


@pytest.mark.parametrize("key", YEAR_KEYS, ids=repr)
def test_loader_and_schema_agree_on_year_keys(key):
    doc = _small()
    doc["budget"] = {"per_year": {key: 5}}
    loaded, fields = _loads(doc)
    assert loaded == (errors(doc) == []), (key, fields, errors(doc))
    if not loaded:
        assert fields == {"budget.per_year"}, fields


@pytest.mark.parametrize("text", NUMBER_TEXTS, ids=repr)
def test_loader_and_schema_agree_on_number_texts(text):
    doc = _small()
    doc["projects"][0]["return"] = text  # required, and no bound a text could break
    loaded, fields = _loads(doc)
    by_schema = errors(doc) == []
    if text.strip(" \t").lower() in ("inf", "nan"):
        # plain words, refused by the loader; the schema's pattern refuses them too
        assert not loaded and not by_schema
        return
    assert loaded == by_schema, (text, fields, errors(doc))
    if not loaded:
        assert fields == {"return"}, fields


def test_the_patterns_are_the_vocabularys():
    """One grammar: the loader's and the schema's patterns are built from the
    vocabulary's."""
    from optimizer.program import loading, vocabulary

    assert loading._PLAIN_NUMBER.pattern == vocabulary.PLAIN_DECIMAL
    assert loading._PLAIN_INT.pattern == vocabulary.PLAIN_INTEGER
    assert loading._YEAR_TEXT.pattern == vocabulary.YEAR_KEY_TEXT
    assert vocabulary.PLAIN_DECIMAL in schema._NUMBER_TEXT
    assert vocabulary.PLAIN_DECIMAL in schema._REQUIRED_NUMBER_TEXT
    assert schema._YEAR_KEY.startswith(f"^{vocabulary.BLANK}*")


def test_schema_check_flag(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "program.schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(schema, "SCHEMA_FILE", stale)
    assert schema.main(["--check"]) == 1
    assert schema.main(["--write"]) == 0
    assert stale.read_text(encoding="utf-8") == schema.schema_text()
    assert schema.main(["--check"]) == 0
