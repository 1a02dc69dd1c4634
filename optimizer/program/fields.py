"""The program's mappings, read field by field as the vocabulary says: numbers by kind
and bound, year maps, the horizon, texts and labels, nested sections, the sectors; and
the keys of every mapping checked against its section (unknown names refused with the
nearest known one, ``x_`` metadata kept at its dotted place).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from optimizer.errors import printable
from optimizer.limits import HORIZON_YEARS, YEAR
from optimizer.program import vocabulary as voc
from optimizer.program.words import (
    Context,
    HugeNumber,
    bad_character,
    got_words,
    is_number,
    outside_words,
    quoted,
    spelled,
    type_words,
)

__all__ = ["read_fields", "read_sectors", "check_keys", "YEAR_TEXT"]



def _number(ctx: Context, value: Any, where: str, f: voc.Field) -> float | None:
    """A finite number for the program-level field ``f`` (at ``where``: ``budget.total``,
    ``budget.per_year.2026``, ``sectors.energy.min``), whole where its kind says so and
    inside its bound, or None after recording a problem."""
    if isinstance(value, HugeNumber):
        rule = outside_words(f, value) if f.bound is not None else "must be finite"
        ctx.add(where, f"{rule}, got {quoted(value)}")
        return None
    if not is_number(value):
        ctx.add(where, f"must be a number, got {got_words(value)}")
        return None
    if not math.isfinite(value):
        ctx.add(where, f"must be finite, got {quoted(value)}")
        return None
    if f.integer and float(value) != int(value):
        ctx.add(where, f"must be a whole number, got {quoted(value)}")
        return None
    if not f.holds(value):
        ctx.add(where, f"{outside_words(f, value)}, got {quoted(value)}")
        return None
    return float(value)


#: A year as text (a JSON key, a quoted YAML key): the vocabulary's grammar.
YEAR_TEXT = re.compile(voc.YEAR_KEY_TEXT)
#: A year key with more digits than this is outside every year (not converted).
_YEAR_DIGITS = 12
#: The bound of every year, as a field (for its messages).
_YEAR_FIELD = voc.Field("year", "year", "a year", bound=YEAR)


def _year_key(ctx: Context, key: Any, field_name: str) -> int | None:
    """A key of a per-year mapping as a year inside :data:`~optimizer.limits.YEAR`."""
    if isinstance(key, bool):
        ctx.add(field_name, f"year {quoted(key)} is not a year")
        return None
    year: int | None = None
    if isinstance(key, int):
        year = key
    elif isinstance(key, str) and (match := YEAR_TEXT.fullmatch(key)):
        digits = match.group(1)
        year = int(digits) if len(digits) <= _YEAR_DIGITS else int(YEAR.high) + 1
    if year is None:
        ctx.add(field_name, f"year {quoted(key)} is not a whole-number year (ASCII "
                            "digits, no sign or leading zero)")
        return None
    if not YEAR.holds(year):
        ctx.add(field_name, f"year {quoted(key)} {outside_words(_YEAR_FIELD, year)}")
        return None
    return year


def _yearly(ctx: Context, mapping: Any, field_name: str, f: voc.Field, first: int | None,
            last: int | None, metadata: dict[str, Any] | None = None) -> dict[int, float]:
    """A {year: limit} mapping (budget.per_year, labor.capacity: the ``year_map`` field
    ``f``), validated; its x_ keys are metadata, kept at their dotted place."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        ctx.add(field_name, f"must be a mapping of year to limit, got {got_words(mapping)}")
        return {}
    out: dict[int, float] = {}
    for key, value in mapping.items():
        if voc.is_metadata(key):  # user metadata (x_...), as at every depth: not a year
            if _metadata_key(ctx, key, f"{field_name}.{voc.shown(key)}") and \
                    metadata is not None:
                metadata[f"{field_name}.{key}"] = value
            continue
        year = _year_key(ctx, key, field_name)
        if year is None:
            continue
        limit = _number(ctx, value, f"{field_name}.{year}", f)
        if limit is None:
            continue
        if year in out:
            ctx.add(f"{field_name}.{year}", "year given twice")
            continue
        if first is not None and last is not None and not first <= year <= last:
            # the format applies per-year limits inside the horizon only: say so, keep going
            ctx.warnings.append(f"{printable(ctx.file)}: {field_name}.{year}: year {year} is "
                                f"outside the horizon [{first}, {last}]; no per-year limit "
                                "applies there")
            continue
        out[year] = limit
    return out


# ------------------------------------------------------------------ the program
def _horizon(ctx: Context, value: Any, f: voc.Field) -> tuple[int, int] | None:
    """The horizon ``[first, last]`` (the ``horizon`` field ``f``), validated."""
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int | HugeNumber) and not isinstance(v, bool)
                       for v in value)):  # a huge integer: a whole number out of bounds
        ctx.add(f.name, "must be [first_year, last_year] as two whole numbers, got "
                        f"{quoted(value)}")
        return None
    first, last = value
    for which, year in (("first", first), ("last", last)):
        if not f.holds(year):
            ctx.add(f.name, f"the {which} year {outside_words(f, year)}, got {quoted(year)}")
            return None
    if first > last:
        ctx.add(f.name, f"first year {first} is after last year {last}")
        return None
    if last - first + 1 > HORIZON_YEARS:
        ctx.add(f.name, f"spans {last - first + 1} years; at most {HORIZON_YEARS} are "
                        "supported")
        return None
    return first, last


def _keys_words(section: voc.Section, version: int) -> str:
    """The keys of a mapping, for a message: ``total and/or per_year``."""
    return voc.names_words(section.names(version), "and" if section.required(version)
                           else "and/or")


def _section(ctx: Context, value: Any, section: voc.Section, where: str, *,
             metadata: dict[str, Any] | None = None, first: int | None = None,
             last: int | None = None) -> dict[str, Any]:
    """The values of a mapping with the keys of ``section`` (``budget``, a sector's
    limits, ``labor``, ``units``), each read by its field (:func:`read_fields`); {} after
    recording a problem where it is no mapping."""
    if not isinstance(value, Mapping):
        ctx.add(where, f"must be a mapping with {_keys_words(section, ctx.version)}, got "
                       f"{quoted(value)}")
        return {}
    check_keys(ctx, value, section, where, metadata=metadata)
    return read_fields(ctx, value, section, where, metadata=metadata, first=first, last=last)


def read_fields(ctx: Context, mapping: Mapping[str, Any], section: voc.Section, where: str, *,
                metadata: dict[str, Any] | None = None, first: int | None = None,
                last: int | None = None) -> dict[str, Any]:
    """Every field of ``section`` in ``mapping``, read as its kind says: {name: value},
    None where absent (the field's default, a text one's given here). A required field
    that is absent, a number outside its bound, a text outside its values or longer
    than its most is a problem at ``where.name``. The horizon, read first in the program,
    gives the years of the ``year_map`` fields after it. The kinds read elsewhere
    (``named``, ``table``, ``dependencies``) are given as they are. A field of a later
    version than the file's (``ctx.version``) is not read: None (:func:`check_keys`
    refuses it where it is given)."""
    out: dict[str, Any] = {}
    for f in section.fields:
        if f.since > ctx.version:
            out[f.name] = None
            continue
        place = f"{where}.{f.name}" if where else f.name
        value = mapping.get(f.name)
        if value is None:
            if f.required and f.values:
                # values are allowed: say what to write, the first (capital-portfolio/1)
                ctx.add(place, f"is required: write `{f.name}: {f.values[0]}` "
                               f"({f.description})")
            elif f.required:
                ctx.add(place, f"is required: {f.description}")
            elif f.name in mapping and not f.nullable:
                ctx.add(place, "must not be null: give a value or leave the key out")
            out[f.name] = None if f.default is None or f.kind != "text" else f.default
            continue
        got: Any = value
        if f.numeric:
            got = _number(ctx, value, place, f)
        elif f.kind == "boolean":
            if not isinstance(value, bool):
                ctx.add(place, f"must be true or false, got {got_words(value)}")
                got = None
        elif f.kind == "text":
            got = _text(ctx, value, place, label=f.max_length is not None,
                        lines=f.multiline)
            if got is not None and f.max_length is not None:
                got = got.strip(voc.BLANKS)
                if len(got) > f.max_length:
                    ctx.add(place, f"is {len(got)} characters long; a label may have at "
                                   f"most {f.max_length}")
                    got = None
            if got is not None and f.values and got not in f.values:
                allowed = voc.names_words([repr(v) for v in f.values], "or")
                ctx.add(place, f"must be {allowed}, got {got_words(value)}")
                got = None
            if got is None:
                got = f.default
        elif f.kind == "horizon":
            got = _horizon(ctx, value, f)
            if got is not None:
                first, last = got
        elif f.kind == "year_map":
            got = _yearly(ctx, value, place, f, first, last, metadata)
        elif f.kind == "mapping":
            assert f.section is not None
            got = _section(ctx, value, f.section, place, metadata=metadata, first=first,
                           last=last)
        out[f.name] = got
    return out


def read_sectors(ctx: Context, doc: Mapping[str, Any], metadata: dict[str, Any] | None = None
                 ) -> tuple[list[str], list[float], list[float]]:
    """The sectors by name, with their floors and ceilings (NaN where none). A key
    beginning with ``x_`` is metadata, not a sector; two keys that read as the same name
    (YAML's ``1`` and ``"1"``) are an error naming both."""
    value = doc.get("sectors")
    names: list[str] = []
    mins: list[float] = []
    maxs: list[float] = []
    if value is None:  # required: said by read_fields
        return names, mins, maxs
    if not isinstance(value, Mapping) or not value:
        ctx.add("sectors", "must be a non-empty mapping of sector name to "
                           f"{{{', '.join(voc.SECTOR.names(ctx.version))}}}")
        return names, mins, maxs
    first_key: dict[str, Any] = {}
    for key, limits in value.items():
        if voc.is_metadata(key):
            if _metadata_key(ctx, key, f"sectors.{voc.shown(key)}") and metadata is not None:
                metadata[f"sectors.{key}"] = limits
            continue
        name = _name_key(ctx, key, "sectors", "a sector name")
        if name is None:
            continue
        where = f"sectors.{voc.shown(name)}"
        if name in first_key:
            ctx.add(where, f"the sector keys {quoted(first_key[name])} and "
                           f"{quoted(key)} both read as the sector name "
                           f"'{voc.shown(name)}'; give each sector a distinct name")
            continue
        first_key[name] = key
        got = _section(ctx, {} if limits is None else limits, voc.SECTOR, where,
                       metadata=metadata)
        low, high = (math.nan if got.get(n) is None else got[n] for n in ("min", "max"))
        names.append(name)
        mins.append(low)
        maxs.append(high)
    if not first_key:
        ctx.add("sectors", "names no sector (keys beginning with x_ are metadata, not sectors)")
    return names, mins, maxs

def _name_key(ctx: Context, key: Any, where: str, what: str) -> str | None:
    """A key of a mapping whose keys are names (``sectors``) as text, or None after
    recording a problem at ``where.<key>``: a name is text or a whole number (its decimal
    digits: YAML's ``7``), never null, a boolean, a fractional number (``1e3`` would read
    as ``1000.0``), a date or a list; it holds no control or invisible format character."""
    if isinstance(key, HugeNumber):
        key = key.literal
    elif isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if not isinstance(key, str):
        value = "" if key is None else f" ({spelled(key)})"
        ctx.add(where, f"a key is {type_words(key)}{value}, not {what}: write {what} as "
                       "text (in quotes, as YAML would otherwise read it: \"1.50\", \"true\")")
        return None
    bad = bad_character(key, name=True)
    if bad is not None:
        ctx.add(f"{where}.{voc.shown(key)}", f"the key {quoted(key)} {bad}")
        return None
    return key


# ------------------------------------------------------------- the vocabulary
def check_keys(ctx: Context, mapping: Mapping[Any, Any], section: voc.Section, where: str,
               *, row: str | None = None, metadata: dict[str, Any] | None = None) -> None:
    """Every key of ``mapping`` that ``section`` does not define in the file's version
    (``ctx.version``) is a problem naming the place (``where``: ``budget``,
    ``sectors.energy``; "" at the top level) and the nearest known name, or, for a key of
    a later version, the version it exists from; keys beginning with ``x_`` are user
    metadata, kept in ``metadata`` (under their dotted place, or their row's) where one
    is given."""
    prefix = row or where
    for key in mapping:  # at its place: budget.x_note, dependencies[2].x_why
        if voc.is_metadata(key):
            place = f"{where}.{voc.shown(key)}" if where else voc.shown(key)
            if _metadata_key(ctx, key, place, row) and metadata is not None:
                metadata[f"{prefix}.{key}" if prefix else key] = mapping[key]
    names = section.names(ctx.version)
    for key in section.unknown(mapping, ctx.version):
        place = f"{where}.{voc.shown(key)}" if where else voc.shown(key)
        since = section.later(key, ctx.version) if isinstance(key, str) else None
        if since is not None:  # a key of a later version of the format
            ctx.add(place, voc.version_message(key, since, ctx.version), row=row)
        elif isinstance(key, str):
            ctx.add(place, voc.unknown_message(key, names), row=row)
        else:  # YAML's null, true, 1.5, a date or a list as a key
            place = f"{where}.{spelled(key)}" if where else spelled(key)
            ctx.add(place, f"the key {spelled(key)} is {type_words(key)}, not a name: "
                           f"the keys here are {', '.join(names)}", row=row)


def _metadata_key(ctx: Context, key: str, place: str, row: str | None = None) -> bool:
    """Whether a metadata key (x_...) may stand: it holds no control character (else a
    problem at ``place``)."""
    bad = bad_character(key)
    if bad is None:
        return True
    ctx.add(place, f"the key {quoted(key)} {bad}", row=row)
    return False


def _text(ctx: Context, value: Any, field_name: str, *, label: bool = False,
          lines: bool = False) -> str | None:
    """A text field (None where absent or after recording a problem); a ``label`` (one
    line in reports) must be non-empty printable text; no text holds a control character
    (free text, ``lines``, may hold newlines)."""
    if value is None:
        return None
    if not isinstance(value, str):
        ctx.add(field_name, f"must be text, got {got_words(value)}")
        return None
    bad = bad_character(value, lines=lines)
    if bad is not None:
        ctx.add(field_name, f"{quoted(value)} {bad}")
        return None
    if label and not value.strip():
        ctx.add(field_name, "must not be empty")
        return None
    if label and not value.isprintable():
        ctx.add(field_name, f"must be printable text on one line, got {voc.shown(value)!r}")
        return None
    return value
