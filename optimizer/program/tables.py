"""Reading a table (``projects``, ``profiles``): a CSV file named by a path relative to the
program, or an inline list of mappings, into a :class:`Table` of stripped text cells;
every column name and cell holding a control character (or, in an id or sector column,
an invisible format character) is refused as it is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import printable
from optimizer.program import vocabulary as voc
from optimizer.program.csvtext import csv_frame, padded
from optimizer.program.files import Unreadable, line_of, read_regular
from optimizer.program.sizes import MAX_TABLE_BYTES
from optimizer.program.words import (
    CONTROL,
    INVISIBLE,
    Context,
    HugeNumber,
    bad_character,
    got_words,
    quoted,
    spelled,
    type_words,
)

__all__ = ["Table", "read_table", "table_path", "column_cells", "report_rows", "cell_text"]

_SAFE_BYTES = bytes([*range(0x20, 0x7F), 0x0A, *range(0x80, 0xC2), *range(0xC3, 0x100)])
_C1_BYTES = re.compile(b"\xc2[\x80-\x9f]")
#: The fields whose text is a name that must look like no other (ids, sectors).
_NAME_COLUMNS = frozenset({"id", "sector", "project"})


@dataclass
class Table:
    """A table as read: every cell a stripped string ('' where empty)."""

    frame: pd.DataFrame
    file: str
    row_label: Callable[[int], str]
    #: which table: "projects" or "profiles"
    name: str = ""
    #: the cells already refused, by column (a control character, a list as a cell): no
    #: other problem is reported for them
    refused: dict[str, np.ndarray] = field(default_factory=dict)
    #: the columns whose names were refused (a control character)
    bad_columns: set[str] = field(default_factory=set)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, HugeNumber):
        return value.literal
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return str(value).strip(voc.BLANKS)


def read_table(ctx: Context, spec: Any, field_name: str, base: Path,
               max_bytes: int = MAX_TABLE_BYTES) -> Table | None:
    """Read a table given as a CSV path (relative to the program; a file of at most
    ``max_bytes``) or an inline list."""
    section = voc.PROGRAM.field(field_name).section
    assert section is not None
    raw: bytes | None = None
    if isinstance(spec, str):
        bad = bad_character(spec)
        if bad is not None:  # no file name of a program holds one
            ctx.add(field_name, f"the path {quoted(spec)} {bad}")
            return None
        path = table_path(base, spec)
        label = str(path)
        try:
            raw = read_regular(path, max_bytes)
        except Unreadable as exc:
            words = exc.words("a table")
            if exc.kind == "large":  # the file itself is at fault
                ctx.add("(file)", words, file=label)
            else:  # the path given is (escaped: printed, a control character would act)
                looked = printable(label.replace("\0", "\\0"))
                ctx.add(field_name, f"file {quoted(spec)} (looked for {looked}): "
                                    f"{words}")
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            ctx.add("(file)", f"is not UTF-8 text (bad byte at offset {exc.start})",
                    row=line_of(raw, exc.start), file=label)
            return None
        if not text.strip():
            ctx.add("(file)", "is empty: a header row and at least one data row are needed",
                    file=label)
            return None
        read = csv_frame(ctx, raw, text, label)
        if read is None:
            return None
        frame, lines = read
        if text and padded(text):  # blanks around a cell: strip (a scan of the text is cheap,
            frame = frame.apply(lambda col: col.str.strip(voc.BLANKS))  # 10^6 cells is not)
        table = Table(frame, label, lambda i: f"row {i + 1} (line {lines[i + 1]})",
                      field_name)
    elif isinstance(spec, list):
        label = ctx.file
        records = []
        refused: dict[str, list[int]] = {}
        for i, item in enumerate(spec):
            if not isinstance(item, Mapping):
                ctx.add(field_name, f"each entry must be a mapping, got {got_words(item)}",
                        row=f"{field_name}[{i}]")
                return None
            record: dict[str, str] = {}
            for k, v in item.items():
                key = _inline_key(ctx, k, field_name, i)
                if key is None:
                    continue
                if key in record:  # YAML's 1 and "1": one column, given twice
                    ctx.add(f"{field_name}.{voc.shown(key)}", "two keys of the entry read as "
                            "this one column; give each column once", row=f"{field_name}[{i}]")
                    return None
                text, why = _inline_cell(v, key, section, ctx.version)
                if why is not None:
                    ctx.add(voc.shown(key), why, row=f"{field_name}[{i}]")
                    refused.setdefault(key, []).append(i)
                record[key] = text
            records.append(record)
        if not records:
            ctx.add(field_name, f"is an empty list: the {field_name} table has no rows")
            return None
        frame = pd.DataFrame.from_records(records).fillna("")

        def inline_row(i: int, name: str = field_name) -> str:
            return f"{name}[{i}]"

        table = Table(frame, label, inline_row, field_name)
        for key, rows in refused.items():
            mask = np.zeros(len(frame), dtype=bool)
            mask[rows] = True
            table.refused[key] = mask
    else:
        ctx.add(field_name, "must be a CSV path (relative to the program file) or a list of "
                f"mappings, got {got_words(spec)}")
        return None
    _refuse_characters(ctx, table, section, raw)
    return table


def _inline_key(ctx: Context, key: Any, field_name: str, i: int) -> str | None:
    """A key of an inline table's entry as a column name, or None after recording a
    problem: a column is named by text (a whole number reads as its digits, an unknown
    column then), never by null, a boolean, a fractional number, a date or a list."""
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool | HugeNumber):
        return str(key)
    ctx.add(f"{field_name}.{spelled(key)}", f"the key {spelled(key)} is "
            f"{type_words(key)}, not a column name", row=f"{field_name}[{i}]")
    return None


def _inline_cell(value: Any, key: str, section: voc.Section, version: int
                 ) -> tuple[str, str | None]:
    """A cell of an inline table as the text a CSV cell would hold, and why it is refused
    (None where it is not). A text column (``id``, ``name``, ``sector``, ``force``,
    ``project``) takes text or a whole number (its decimal digits: an integer id is
    unambiguous); a numeric column a number or text (read as a CSV cell is: a plain
    decimal). Nothing else is converted: ``true`` would read "True", ``1e3`` "1000.0",
    ``[a, b]`` "['a', 'b']", a date "2026-01-01". null is an empty cell. A column the
    format does not define in the file's ``version`` (metadata, or an unknown one or one
    of a later version: refused by name) is kept as text where it is a scalar, empty
    otherwise."""
    if value is None:
        return "", None
    if isinstance(value, str):
        return value.strip(voc.BLANKS), None
    try:
        f: voc.Field | None = section.field(key)
    except KeyError:
        f = None
    if f is not None and f.since > version:
        f = None
    if isinstance(value, HugeNumber):
        return value.literal, None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if f is None:
        return (cell_text(value) if number or isinstance(value, bool) else ""), None
    if f.numeric:
        if number:
            return cell_text(value), None
        return "", (f"must be a number (or a number written as text), got "
                    f"{got_words(value)}")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    return "", f"must be text (or a whole number), got {got_words(value)}"


def _may_hold_controls(raw: bytes) -> bool:
    """Whether some cell of a CSV text may hold a control character: the text holds a
    control byte other than a newline (or a carriage return before one), a C1 control
    (U+0080-U+009F), or a quote (a quoted cell may hold a newline). One deletion of the
    bytes that cannot be one (3 ms for 10 MB) answers for a clean table."""
    rest = raw.translate(None, _SAFE_BYTES)
    if rest:
        if b"\r" in rest and raw.count(b"\r") != raw.count(b"\r\n"):
            return True
        rest = rest.replace(b"\r", b"")
        if rest.replace(b"\xc2", b""):  # a tab (inside a cell?), another C0 control, DEL
            return True
        if rest and _C1_BYTES.search(raw) is not None:
            return True
    return b'"' in raw


def _refuse_characters(ctx: Context, table: Table, section: voc.Section,
                       raw: bytes | None) -> None:
    """Refuse every column name and cell that holds a control character (or, in an id or
    sector column, an invisible format character), naming its file, column and row; such
    cells are not reported again (:attr:`Table.refused`). Vectorised: a CSV table's bytes
    are tested first (:func:`_may_hold_controls`, and whether they are ASCII), then one
    search of each column's cells joined, row by row only in a column where that finds
    one. Metadata columns (x_...) are the user's own and not read."""
    frame = table.frame
    header = "(header)" if raw is not None else None
    for name in frame.columns:
        bad = bad_character(str(name))
        if bad is not None:
            ctx.add(voc.shown(name), f"the column name {quoted(name)} {bad}",
                    file=table.file, row=header)
            table.bad_columns.add(str(name))
    controls = raw is None or _may_hold_controls(raw)
    invisible = raw is None or not raw.isascii()
    known = set(section.names(ctx.version))
    for name in frame.columns:
        is_name = name in _NAME_COLUMNS
        if name not in known or not (controls or (invisible and is_name)):
            continue
        cells = frame[name]
        pattern = INVISIBLE if is_name else CONTROL
        if pattern.search(" ".join(cells.tolist())) is None:
            continue
        mask = cells.str.contains(pattern).to_numpy(dtype=bool)
        values = cells.to_numpy()

        def why(i: int, v: np.ndarray = values, n: bool = is_name) -> str:
            return f"{quoted(v[i])} {bad_character(v[i], name=n)}"

        report_rows(ctx, table, name, mask, why)
        previous = table.refused.get(name)
        table.refused[name] = mask if previous is None else (previous | mask)


# ------------------------------------------------------------------ table cells
def column_cells(table: Table, name: str) -> pd.Series:
    frame = table.frame
    if name in frame.columns:
        return frame[name]
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def report_rows(ctx: Context, table: Table, col: str, mask: np.ndarray,
                message: Callable[[int], str]) -> None:
    refused = table.refused.get(col)
    if refused is not None:
        mask = mask & ~refused
    for i in np.flatnonzero(mask):
        ctx.add(col, message(int(i)), row=table.row_label(int(i)), file=table.file)


def table_path(base: Path, spec: str) -> Path:
    """Where a table given as a path lives: relative to the program file's folder."""
    return base / spec
