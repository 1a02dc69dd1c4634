"""The cells of a table's columns, read by their fields: numbers (plain decimals, finite,
whole where the kind says so, inside the bound), defaults for blank cells, and text
columns with their allowed values. Columns are read at once with numpy; only the cells
found wrong are visited one by one, to word their messages.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from optimizer.program import vocabulary as voc
from optimizer.program.tables import Table, column_cells, report_rows
from optimizer.program.words import Context, outside_words, quoted

__all__ = ["read_numbers", "filled", "text_column"]

def _to_float(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _floats(cells: np.ndarray) -> np.ndarray:
    """Cells to floats as Python's ``float`` reads them; NaN where one is not a number.
    numpy converts a clean column at once, four times faster than ``pd.to_numeric``;
    a column with a bad cell is read cell by cell, with the same rules. (Cells not
    written as plain decimals are set aside before: see :func:`_not_plain`.)"""
    try:
        return cells.astype(np.float64)
    except (ValueError, TypeError, OverflowError):
        return np.fromiter((_to_float(c) for c in cells), dtype=np.float64, count=len(cells))


#: The characters of a column whose every cell float() reads as a plain decimal, or
#: refuses, or reads as not finite (refused as such): digits, letters, '.', '+', '-' (and
#: the newline that joins the cells).
_PLAIN_CHARACTERS = re.compile(r"[0-9A-Za-z.+\-\n]*")
#: A cell whose number has a leading zero (``017``, ``-00.5``): float() reads it, the
#: format does not (:data:`~optimizer.program.vocabulary.PLAIN_INTEGER`).
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]", re.MULTILINE)
#: A cell written as a plain decimal number (or as a word for a value that is not finite,
#: which has its own message).
_PLAIN_CELL = re.compile(rf"{voc.PLAIN_DECIMAL}|[-+]?(?:inf|infinity|nan)",
                         re.IGNORECASE | re.ASCII)
_INFINITE_WORD = re.compile(r"[-+]?inf(?:inity)?", re.IGNORECASE | re.ASCII)


def _not_plain(cells: np.ndarray) -> np.ndarray:
    """Where a cell is not written as a plain decimal number although Python's float()
    reads it as one (``1_0``, full-width ``１０``, Arabic-Indic ``١٠``, ``017``, blanks or
    other separators): one test of the column's whole text, cell by cell only where that
    text holds some other character or a leading zero."""
    try:
        joined = "\n".join(cells)
        quick = (_PLAIN_CHARACTERS.fullmatch(joined) is not None
                 and joined.count("\n") == len(cells) - 1  # no cell holds a newline
                 and _LEADING_ZERO.search(joined) is None)
    except TypeError:  # a cell that is not text: test each
        quick = False
    if quick:
        return np.zeros(len(cells), dtype=bool)
    return np.fromiter((_PLAIN_CELL.fullmatch(str(c)) is None for c in cells), dtype=bool,
                       count=len(cells))


def read_numbers(ctx: Context, table: Table, f: voc.Field, *,
                 required: np.ndarray | bool | None = None) -> np.ndarray:
    """Parse the column of the numeric field ``f`` to floats (NaN where blank), recording
    every bad cell: one not written as a plain decimal, not a number, not finite, not
    whole where the field's kind says so, or outside the field's bound. ``required`` (by
    default the field's own) may be a mask: which rows must give the cell."""
    col = f.name
    text = column_cells(table, col)
    blank = (text == "").to_numpy()
    raw = text.to_numpy(dtype=object)
    odd = ~blank & _not_plain(raw)
    report_rows(ctx, table, col, odd,
                lambda i: f"{quoted(raw[i])} is not a plain decimal number: write "
                          "plain decimal digits 0-9 with an optional sign, decimal point "
                          "and exponent (no '_', blanks inside the number, leading zeros "
                          "or other digits; blanks around a cell are ignored)")
    values = _floats(np.where(blank | odd, "nan", raw))
    invalid = ~blank & ~odd & ~np.isfinite(values)
    report_rows(ctx, table, col, invalid & np.isnan(values),
                lambda i: f"{quoted(raw[i])} is not a number")
    infinite = invalid & np.isinf(values)
    if infinite.any():
        word = np.zeros(len(raw), dtype=bool)
        for i in np.flatnonzero(infinite):
            word[i] = _INFINITE_WORD.fullmatch(str(raw[i])) is not None
        report_rows(ctx, table, col, infinite & word,
                    lambda i: f"{quoted(raw[i])} is not finite")
        report_rows(ctx, table, col, infinite & ~word,
                    lambda i: (outside_words(f, values[i]) if f.bound is not None else
                               "is beyond the range of floating-point numbers")
                    + f", got {quoted(raw[i])}")
    need = np.broadcast_to(np.asarray(f.required if required is None else required,
                                      dtype=bool), blank.shape)
    report_rows(ctx, table, col, blank & need, lambda i: "is required but empty")
    ok = np.isfinite(values)
    if f.integer:
        fractional = ok & (values != np.round(values))
        report_rows(ctx, table, col, fractional,
                    lambda i: f"must be a whole number, got {quoted(raw[i])}")
        ok &= ~fractional
    if f.bound is not None:
        low, high = f.bound.low, f.bound.high
        below = (values <= low) if f.low_exclusive else (values < low)
        above = (values >= high) if f.high_exclusive else (values > high)
        out = ok & (below | above)
        report_rows(ctx, table, col, out,
                    lambda i: f"{outside_words(f, values[i])}, got {quoted(raw[i])}")
        ok &= ~out
    values[~ok] = np.nan
    return values


def filled(table: Table, f: voc.Field, values: np.ndarray, absent: float = 0.0
           ) -> np.ndarray:
    """A column's values with its blank cells set to the field's default (``absent``
    where the format defines none: no reinvestment is 0 in an :class:`Instance`)."""
    blank = (column_cells(table, f.name) == "").to_numpy()
    out = values.copy()
    out[blank] = absent if f.default is None else f.default
    return out


def text_column(ctx: Context, table: Table, f: voc.Field) -> pd.Series:
    """A text column, its blank cells reported where the field is required and every cell
    outside the field's values (an empty cell aside) reported."""
    cells = column_cells(table, f.name)
    if f.required:
        report_rows(ctx, table, f.name, (cells == "").to_numpy(),
                    lambda i: "is required but empty")
    if f.values:
        raw = cells.to_numpy()
        allowed = voc.names_words([*map(repr, f.values), "empty"], "or")
        report_rows(ctx, table, f.name, ~cells.isin(["", *f.values]).to_numpy(),
                    lambda i: f"must be {allowed}, got {quoted(raw[i])}")
    return cells
