"""Splitting the text of a CSV table into cells: a fast reading (pandas' C reader) for a
table with nothing to report, and an exact one (the ``csv`` module) that names every
header cell with no name or given twice and every row of the wrong width by its line.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from optimizer.program import vocabulary as voc
from optimizer.program.words import Context

__all__ = ["padded", "csv_records", "clean_csv", "csv_frame"]

#: A blank or tab next to a comma or at either end of a line: some cell needs stripping.
_PADDING = (" ,", ", ", " \n", "\n ", " \r")


def padded(text: str) -> bool:
    """Whether some cell of a CSV text has blanks around it (substring searches: a
    regular expression took a quarter of a second on a 100,000-row table)."""
    if text[:1] in (" ", "\t") or text[-1:] in (" ", "\t"):
        return True
    if "\t" in text and any(p in text for p in ("\t,", ",\t", "\t\r", "\t\n", "\n\t")):
        return True
    return any(pair in text for pair in _PADDING)


class _CsvError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def csv_records(text: str) -> tuple[list[list[str]], list[int]]:
    """The records of a CSV text (the ``csv`` module: quoting as pandas and spreadsheets
    write it) with the line each starts on; blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    records: list[list[str]] = []
    lines: list[int] = []
    last = 0
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                records.append(record)
                lines.append(last + 1)
            last = reader.line_num
    except csv.Error as exc:
        raise _CsvError(str(exc), reader.line_num) from None
    return records, lines


def _layout(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The records of a CSV text that is not blank, counted with numpy: the number of
    fields of each, the line it starts on, and the offset where it ends; None where the
    text needs the exact reading (:func:`csv_records`): a lone carriage return, or a
    quote that does not open a field at its start and close it at its end.

    Quotes are found once: a comma or a newline is inside a quoted field where an odd
    number of quotes comes before it (an escaped quote, ``""``, counts twice). A text
    without quotes skips that."""
    if not raw or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    data = np.frombuffer(raw, dtype=np.uint8)
    all_newlines = np.flatnonzero(data == 10)
    newlines, commas = all_newlines, np.flatnonzero(data == 44)
    if b'"' in raw:
        quotes = np.flatnonzero(data == 34)
        if len(quotes) % 2:
            return None
        opens, closes = quotes[0::2], quotes[1::2]
        # an opening quote starts a field (or follows the closing one of an escaped pair)
        before = data[np.maximum(opens - 1, 0)]
        escaped = np.zeros(len(opens), dtype=bool)
        escaped[1:] = opens[1:] == closes[:-1] + 1
        if not (escaped | (opens == 0) | (before == 44) | (before == 10)).all():
            return None
        # a closing quote ends its field (or is the first of an escaped pair)
        after = data[np.minimum(closes + 1, len(data) - 1)]
        pair = np.zeros(len(closes), dtype=bool)
        pair[:-1] = opens[1:] == closes[:-1] + 1
        if not (pair | (closes == len(data) - 1) | (after == 44) | (after == 10)
                | (after == 13)).all():
            return None
        newlines = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
        commas = commas[np.searchsorted(quotes, commas) % 2 == 0]
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    fields = np.bincount(np.searchsorted(newlines, commas), minlength=len(starts))
    blank = ends == starts
    first = data[np.minimum(starts, len(data) - 1)]
    for k in np.flatnonzero(~blank & ((first == 32) | (first == 9) | (first == 13))):
        blank[k] = not raw[starts[k]:ends[k]].strip()  # blanks only: pandas skips it too
    keep = np.flatnonzero(~blank)
    lines = np.searchsorted(all_newlines, starts[keep]) + 1
    return fields[keep] + 1, lines, ends[keep]


def clean_csv(raw: bytes, text: str) -> tuple[pd.DataFrame, list[int]] | None:
    """The fast reading of a CSV table with nothing to report: every record as wide as
    the header, the header's names all given once. pandas' C reader then splits it
    (quoted fields and all) exactly as the format reads it. None for any other table (the
    exact reading, :func:`csv_records`, then reads it and words its problems)."""
    layout = _layout(raw)
    if layout is None:
        return None
    counts, lines, ends = layout
    if not len(counts) or (counts != counts[0]).any():
        return None
    head = raw[:int(ends[0])].decode("utf-8-sig").strip()  # blank lines before it
    record = next(csv.reader(io.StringIO(head, newline=""), skipinitialspace=True), [])
    header = [c.strip(voc.BLANKS) for c in record]
    if len(header) != counts[0] or "" in header or len(set(header)) != len(header):
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[],
                            skipinitialspace=True, index_col=False, engine="c")
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame) != len(lines) - 1 or len(frame.columns) != len(header):
        return None
    frame.columns = header
    return frame, lines.tolist()


def csv_frame(ctx: Context, raw: bytes, text: str, label: str
              ) -> tuple[pd.DataFrame, list[int]] | None:
    """The cells of a CSV text as a frame of strings, with the line of each record, or
    None after recording the problems: a header column with no name or given twice, a
    row with fewer or more fields than the header (each named by its line). pandas would
    rename a second ``capital`` to ``capital.1``, fill a short row with defaults and take
    the first column of long rows as an index: none of that happens here."""
    clean = clean_csv(raw, text)
    if clean is not None:
        return clean
    try:
        records, lines = csv_records(text)
    except _CsvError as exc:
        ctx.add("(file)", f"is not a valid CSV table: {exc}", row=f"line {exc.line}",
                file=label)
        return None
    header = [c.strip(voc.BLANKS) for c in records[0]]
    width = len(header)
    bad = False
    for j, name in enumerate(header):
        if not name:
            hint = " (a trailing comma?)" if j == width - 1 else ""
            ctx.add("(header)", f"column {j + 1} of the header has no name{hint}; name it "
                                "(or remove the empty column)", file=label, row="(header)")
            bad = True
    positions: dict[str, list[int]] = {}
    for j, name in enumerate(header):
        positions.setdefault(name, []).append(j + 1)
    for name, where in positions.items():
        if name and len(where) > 1:
            columns = ", ".join(map(str, where))
            ctx.add(voc.shown(name), f"the column is given {len(where)} times in the header "
                                     f"(columns {columns}); give each column once",
                    file=label, row="(header)")
            bad = True
    if bad:
        return None
    data = records[1:]
    counts = np.fromiter(map(len, data), dtype=np.int64, count=len(data))

    def row_of(i: int) -> str:
        return f"row {i + 1} (line {lines[i + 1]})"

    if len(data) and (counts != width).any():
        if (counts == width + 1).all():
            trailing = all(not r[-1].strip() for r in data)
            ctx.add("(row)", f"rows have one field more than the header (a trailing comma?): "
                             f"every row has {width + 1} fields, the header (line {lines[0]}) "
                             f"{width}; " + ("remove the comma at the end of each row"
                                             if trailing else "name the extra column in the "
                                             "header or remove it from every row"),
                    file=label, row=f"every row (lines {lines[1]}-{lines[-1]})")
            return None
        for i in np.flatnonzero(counts < width):
            got = int(counts[i])
            missing = header[got:]
            ctx.add(voc.shown(missing[0]), f"the row has {got} field{'s' if got != 1 else ''}, "
                    f"the header {width}: no {', '.join(map(voc.shown, missing))}; give "
                    "every field (an empty field takes the default)",
                    file=label, row=row_of(int(i)))
        for i in np.flatnonzero(counts > width):
            got = int(counts[i])
            hint = " (a trailing comma?)" if got == width + 1 and not data[i][-1].strip() else ""
            ctx.add("(row)", f"the row has {got} fields, {got - width} more than the header's "
                             f"{width}{hint}; remove the extra fields or name them in the header",
                    file=label, row=row_of(int(i)))
        return None
    return pd.DataFrame(data, columns=header, dtype=object), lines
