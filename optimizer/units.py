"""How numbers read in text output: one place, used by every summary and message.

* money (capital, return, budgets, floors, ceilings) with :data:`MONEY_DECIMALS`
  decimals and thousands separators: ``51.38``, ``1,095,445.00``;
* people (labor use and capacity) as whole numbers with thousands separators:
  ``296,020``.

Each function takes an optional unit label, the program's own (``Instance.money_unit``,
``$B`` by default; ``Instance.labor_unit``, ``specialists`` by default), put after the
number: ``money(51.38, "$B")`` is ``51.38 $B``. A missing value (None, NaN, infinite)
reads ``-``. JSON output is never formatted: its numbers stay numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["MONEY_DECIMALS", "money", "people", "table", "number_text"]

#: Decimals of every amount of money in text output.
MONEY_DECIMALS = 2
MISSING = "-"


def _finite(x: Any) -> float | None:
    if x is None:
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _with(text: str, unit: str | None) -> str:
    return f"{text} {unit}" if unit and text != MISSING else text


def money(x: Any, unit: str | None = None, *, sign: bool = False) -> str:
    """An amount of money: ``51.38``, ``1,095,445.00``; with ``unit``, ``51.38 $B``;
    with ``sign``, ``+3.10`` and ``-0.50``."""
    value = _finite(x)
    if value is None:
        return MISSING
    text = f"{value:{'+' if sign else ''},.{MONEY_DECIMALS}f}"
    if text.lstrip("+-").strip("0.,") == "":  # -0.00 and +0.00 read 0.00
        text = f"{0:.{MONEY_DECIMALS}f}"
    return _with(text, unit)


def people(x: Any, unit: str | None = None, *, sign: bool = False) -> str:
    """A count of people, whole, with thousands separators: ``296,020``; with ``unit``,
    ``296,020 specialists``."""
    value = _finite(x)
    if value is None:
        return MISSING
    whole = round(value)
    if whole == 0:
        whole = 0  # never -0
    return _with(f"{whole:{'+' if sign and whole else ''},d}", unit)


def table(frame: Any, *, money_columns: tuple[str, ...] = (),
          people_columns: tuple[str, ...] = ()) -> str:
    """``frame.to_string`` with money and people columns formatted as above (other float
    columns as money); missing values read ``-``."""
    formatters: dict[str, Callable[[Any], str]] = {}
    for col in frame.columns:
        if col in people_columns:
            formatters[col] = people
        elif col in money_columns or frame[col].dtype.kind == "f":
            formatters[col] = money
    return str(frame.to_string(na_rep=MISSING, formatters=formatters))


def number_text(value: float) -> str:
    """A number as the documentation and the messages write it, exactly: ``2200``,
    ``1,000,000`` (thousands apart from five digits on), ``1e9``, ``5e9``, ``-1``,
    ``0.5``, ``1.25e10`` (:mod:`optimizer.units` formats amounts with fixed decimals,
    which would not say ``1e9``). A value that is not finite is ``inf`` or ``nan``."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        digits = str(abs(value))  # exact, past what a float holds
        kept = digits.rstrip("0")
        mantissa = kept[0] + (f".{kept[1:]}" if len(kept) > 1 else "")
        return f"{'-' if value < 0 else ''}{mantissa}e{len(digits) - 1}"
    value = float(value)
    if not math.isfinite(value):
        return repr(value)
    if value == int(value) and abs(value) < 1e7:
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    text = repr(value)  # the shortest text that reads back as this float
    if value == int(value) and "e" not in text:
        digits = text.split(".")[0].lstrip("-")
        kept = digits.rstrip("0")
        text = f"{value:.{max(len(kept) - 1, 0)}e}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return text
