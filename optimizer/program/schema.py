"""The JSON Schema (draft 2020-12) of the program file, generated from the vocabulary.

:func:`program_schema` builds it from :mod:`optimizer.program.vocabulary` (keys, columns, types,
allowed values) and :mod:`optimizer.limits` (bounds); the package ships the result as
``optimizer/program/program.schema.json`` (a test keeps the file equal to the function), and
``optimizer schema`` prints it. Editors use it to complete and check program files.

The schema describes the document as JSON has it: mapping keys are text, so the years of
``budget.per_year`` and ``labor.capacity`` are keys like ``"2026"`` (a YAML editor reads
``2026:`` the same way). What a schema cannot say (a project's sector is one of
``sectors``, a dependency names existing projects, ``capital`` is required unless the
project has profile rows, the CSV tables' content) the loader checks; everything the
schema refuses, the loader refuses too.

``python -m optimizer.program.schema --write`` rewrites the shipped file (``--check``: exit 1 when
it is stale).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from optimizer import generated
from optimizer.limits import HORIZON_YEARS, YEAR
from optimizer.program import vocabulary as voc
from optimizer.program.vocabulary import BLANK, PLAIN_DECIMAL

__all__ = ["program_schema", "SCHEMA_FILE", "shipped_schema", "to_json_document"]

#: The shipped schema, package data beside this module.
SCHEMA_FILE = Path(__file__).with_name("program.schema.json")
DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: x_ names: user metadata, anything goes
_METADATA: dict[str, Any] = {f"^{voc.METADATA_PREFIX}": {}}


def _range_pattern(low: int, high: int) -> str:
    """A regular expression of the whole numbers low..high (same digit count), by
    centuries, decades and years: 1900..2200 is ``19[0-9]{2}|20[0-9]{2}|21[0-9]{2}|2200``."""
    def span(lo: int, hi: int, width: int) -> list[str]:
        if width == 0 or (lo % 10**width == 0 and hi - lo + 1 == 10**width):
            head = str(lo // 10**width) if width < len(str(lo)) else ""
            return [head + ("" if width == 0 else f"[0-9]{{{width}}}" if width > 1
                            else "[0-9]")]
        out: list[str] = []
        step = 10**(width - 1)
        start = lo
        while start <= hi:
            stop = min(hi, (start // step + 1) * step - 1)
            out += span(start, stop, width - 1)
            start = stop + 1
        return out
    assert len(str(low)) == len(str(high)) and 0 < low <= high
    return "|".join(span(low, high, len(str(low))))


#: the end of the text: ``$`` alone would also match before a final newline in Python's
#: regular expressions (ECMA-262's, which editors use, do not)
_END = r"$(?!\n)"
#: a key of a year mapping, as text: a year within the bound of YEAR, with blanks around
#: (the loader's :data:`~optimizer.program.vocabulary.YEAR_KEY_TEXT`, its digits narrowed to YEAR)
_YEAR_KEY = rf"^{BLANK}*({_range_pattern(int(YEAR.low), int(YEAR.high))}){BLANK}*{_END}"
#: a number written as text in an inline table's cell, with blanks around (empty
#: allowed: the default applies); the loader's grammar, :data:`~optimizer.program.vocabulary.
#: PLAIN_DECIMAL`
_NUMBER_TEXT = rf"^{BLANK}*({PLAIN_DECIMAL})?{BLANK}*{_END}"
#: text without a control character (:data:`~optimizer.program.vocabulary.CONTROL_CHARACTERS`),
#: and free text, which may hold newlines
_NO_CONTROL = rf"^[^{voc.CONTROL_CHARACTERS}]*{_END}"
_NO_CONTROL_BUT_NEWLINE = rf"^[^{voc.CONTROL_BUT_NEWLINE}]*{_END}"
#: the same for a required cell: a number must be there
_REQUIRED_NUMBER_TEXT = rf"^{BLANK}*({PLAIN_DECIMAL}){BLANK}*{_END}"


def _bounded(f: voc.Field, schema: dict[str, Any]) -> dict[str, Any]:
    if f.bound is not None:
        if f.low_exclusive:
            schema["exclusiveMinimum"] = f.bound.low
        else:
            schema["minimum"] = f.bound.low
        if f.high_exclusive:
            schema["exclusiveMaximum"] = f.bound.high
        else:
            schema["maximum"] = f.bound.high
    return schema


def _mapping(section: voc.Section, version: int,
             value: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """An object with exactly the section's keys (and x_ metadata); each key's schema from
    ``value`` (a program field's by default; :func:`_cell` for a table row)."""
    def of(f: voc.Field) -> dict[str, Any]:
        return _value(f, version) if value is None else value(f)

    out: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: of(f) for f in section.fields if f.since <= version},
        "patternProperties": dict(_METADATA),
        "additionalProperties": False,
    }
    required = list(section.required(version))
    if required:
        out["required"] = required
    return out


def _described(f: voc.Field, schema: dict[str, Any]) -> dict[str, Any]:
    text = f.description
    if f.unit:
        text += f" ({f.unit})"
    return {"description": text, **schema}


def _nullable(f: voc.Field, schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field may be given as null (the loader reads it as absent)."""
    if f.required or not f.nullable:
        return schema
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list):
        schema["type"] = [*kind, "null"]
    else:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def _value(f: voc.Field, version: int) -> dict[str, Any]:
    """The schema of a key's value in the program file."""
    schema: dict[str, Any]
    if f.kind == "text":
        schema = {"type": "string",
                  "pattern": _NO_CONTROL_BUT_NEWLINE if f.multiline else _NO_CONTROL}
        if f.values:
            schema["enum"] = list(f.values)
        if f.max_length is not None:
            schema.update(minLength=1, maxLength=f.max_length)
    elif f.kind == "number":
        schema = _bounded(f, {"type": "number"})
    elif f.kind == "integer":
        schema = _bounded(f, {"type": "integer"})
    elif f.kind == "boolean":
        schema = {"type": "boolean"}
    elif f.kind == "year":
        schema = _bounded(f, {"type": "integer"})
    elif f.kind == "horizon":
        year = _bounded(f, {"type": "integer"})
        schema = {"type": "array", "prefixItems": [year, year], "items": False,
                  "minItems": 2, "maxItems": 2,
                  "$comment": f"first <= last, at most {HORIZON_YEARS} years"}
    elif f.kind == "year_map":
        limit = _bounded(f, {"type": "number"})
        schema = {"type": "object",
                  "patternProperties": {_YEAR_KEY: limit, **_METADATA},
                  "additionalProperties": False,
                  "$comment": f"keys are years, {YEAR.low:g} to {YEAR.high:g}"}
    elif f.kind == "mapping":
        assert f.section is not None
        schema = _mapping(f.section, version)
    elif f.kind == "named":
        assert f.section is not None
        item = _mapping(f.section, version)
        item["type"] = ["object", "null"]
        schema = {"type": "object", "minProperties": 1,
                  "propertyNames": {"pattern": _NO_CONTROL},
                  "patternProperties": dict(_METADATA), "additionalProperties": item}
    elif f.kind == "dependencies":
        schema = {"type": "array",
                  "items": {"oneOf": [{"$ref": f"#/$defs/dependency_{kind}"}
                                      for kind in voc.DEPENDENCY_TYPES]}}
    elif f.kind == "table":
        assert f.section is not None
        schema = {"oneOf": [
            {"type": "string", "minLength": 1, "pattern": _NO_CONTROL,
             "description": "path of a CSV table, relative to the program file"},
            {"type": "array", "minItems": 1,
             "items": {"$ref": f"#/$defs/{f.section.place}_row"}},
        ]}
    elif f.kind == "id":  # text, or a whole number (its digits)
        schema = {"type": ["string", "integer"], "pattern": _NO_CONTROL}
    elif f.kind == "ids":
        schema = {"type": "array", "minItems": 2, "uniqueItems": True,
                  "items": {"type": ["string", "integer"], "pattern": _NO_CONTROL}}
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(f.kind)
    return _described(f, _nullable(f, schema))


def _cell(f: voc.Field) -> dict[str, Any]:
    """The schema of one cell of an inline table row: as in a CSV cell, a number may be
    written as text, and an optional cell may be empty or null."""
    schema: dict[str, Any]
    if f.kind in ("number", "integer", "year"):
        schema = _bounded(f, {"type": ["integer" if f.kind != "number" else "number",
                                       "string"],
                                   "pattern": _REQUIRED_NUMBER_TEXT if f.required
                                   else _NUMBER_TEXT})
    elif f.values:
        schema = {"type": "string", "enum": [*f.values, ""]}
    else:  # text, or a whole number (its digits); never a fraction, a boolean or a list
        schema = {"type": ["string", "integer"], "pattern": _NO_CONTROL}
    return _described(f, _nullable(f, schema))


def _row(section: voc.Section, version: int) -> dict[str, Any]:
    """A row of an inline table: the section's columns as cells."""
    return _mapping(section, version, _cell)


def _refused(section: voc.Section, version: int) -> dict[str, Any] | None:
    """What a file of ``version`` may not hold in a mapping or row of ``section``: each
    key or column of a later version refused (``false``) at its place, at every depth;
    None where there is none."""
    names = [f.name for f in section.fields if f.since > version]
    inner = {f.name: sub for f in section.fields
             if f.since <= version and (sub := _later(f, version)) is not None}
    if not names and not inner:
        return None
    return {"properties": {**{n: False for n in names}, **inner}}


def _later(f: voc.Field, version: int) -> dict[str, Any] | None:
    """What a file of ``version`` may not hold in the value of the field ``f`` (a
    mapping, the mappings of a ``named`` field, a table's rows, the dependencies)."""
    if f.kind == "mapping" and f.section is not None:
        return _refused(f.section, version)
    if f.kind == "named" and f.section is not None:
        item = _refused(f.section, version)
        return None if item is None else {"additionalProperties": item}
    if f.kind == "table" and f.section is not None:  # a path, or a list of rows
        row = _refused(f.section, version)
        return None if row is None else {"items": row}
    if f.kind == "dependencies":
        names = sorted({g.name for s in voc.DEPENDENCY_TYPES.values() for g in s.fields
                        if g.since > version})
        return {"items": {"properties": {n: False for n in names}}} if names else None
    return None


def _versions() -> list[dict[str, Any]]:
    """For every version before the latest: a file that says it (``if`` its ``format``
    is that version) holds no key or column of a later one (``then``)."""
    rules: list[dict[str, Any]] = []
    for version in sorted(voc.FORMATS):
        then = _refused(voc.PROGRAM, version) if version < voc.LATEST else None
        if then is not None:
            rules.append({"if": {"properties": {"format": {"const": voc.FORMATS[version]}},
                                 "required": ["format"]},
                          "then": then})
    return rules


def program_schema(version: int | None = None) -> dict[str, Any]:
    """The JSON Schema of a program file: of every version of the format (a key or column
    of a later version than the file's ``format`` is refused: ``if`` / ``then`` on
    ``format``), or of the given one only."""
    latest = voc.LATEST if version is None else version
    formats = sorted(voc.FORMATS) if version is None else [version]
    fmt = " or ".join(voc.FORMATS[v] for v in formats)
    schema = _mapping(voc.PROGRAM, latest)
    schema["properties"]["format"]["enum"] = [voc.FORMATS[v] for v in formats]
    if version is None and (rules := _versions()):
        schema["allOf"] = rules
    defs: dict[str, Any] = {}
    for kind, section in voc.DEPENDENCY_TYPES.items():
        defs[f"dependency_{kind}"] = _mapping(section, latest)
    for section in (voc.PROJECTS, voc.PROFILES):
        defs[f"{section.place}_row"] = _row(section, latest)
    return {
        "$schema": DRAFT,
        "title": f"Program file, format {fmt}",
        "description": "A capital-portfolio program (YAML or JSON). Money in billions of US "
                       "dollars, labor in specialists, years as calendar years. Keys "
                       f"beginning with {voc.METADATA_PREFIX} are user metadata at every "
                       "depth. Generated from optimizer/program/vocabulary.py.",
        **schema,
        "$defs": defs,
    }


def schema_text(version: int | None = None) -> str:
    """The schema as the shipped file holds it (indented JSON, a final newline)."""
    return json.dumps(program_schema(version), indent=2, ensure_ascii=False) + "\n"


def shipped_schema() -> dict[str, Any]:
    """The schema shipped with the package (``program.schema.json``)."""
    from importlib.resources import files

    text = files("optimizer.program").joinpath("program.schema.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def to_json_document(doc: Any) -> Any:
    """A program as loaded from YAML, as JSON has it (mapping keys as text), ready for a
    JSON Schema validator."""
    return json.loads(json.dumps(doc, default=str))


def main(argv: Sequence[str] | None = None) -> int:
    return generated.file_main("python -m optimizer.program.schema",
                               "Print the program file's JSON Schema, rewrite the shipped "
                               "copy (--write) or check it (--check).",
                               SCHEMA_FILE, schema_text, argv)


if __name__ == "__main__":
    raise SystemExit(main())
