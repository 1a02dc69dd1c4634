"""The documented bounds on every number a program may hold.

A value outside these bounds is refused by the loader with the field named (exit 2), so
no number reaches the model that would overflow 64-bit integers, allocate a table the
machine cannot hold, or swamp the solver's tolerances. The vocabulary of the format
(:mod:`optimizer.vocabulary`), the JSON Schema and ``docs/format.md`` all take their
bounds from here.

Units: money in billions of US dollars ($B), labor in specialists (headcount), years as
calendar years.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Bound", "YEAR", "HORIZON_YEARS", "BUILD_YEARS", "REINVEST_EVERY", "MAX_UNITS",
           "MONEY", "PEOPLE", "RATE", "BOUNDS"]


@dataclass(frozen=True)
class Bound:
    """An inclusive range ``low <= value <= high`` with the words that explain it."""

    low: float
    high: float
    why: str

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"between {self.low:,g} and {self.high:,g}"


#: Any calendar year: the horizon, a start, a profile year, a key of a per-year mapping.
YEAR = Bound(1900, 2200, "a calendar year")
#: The most years a horizon may span (first to last inclusive).
HORIZON_YEARS = 201
#: Years over which one unit's capital is spread.
BUILD_YEARS = Bound(1, 200, "years of construction")
#: Years between reinvestments.
REINVEST_EVERY = Bound(1, 200, "years between reinvestments")
#: Identical units of one project.
MAX_UNITS = Bound(1, 1_000_000, "units of one project")
#: Any amount of money, in $B, by magnitude: a billion billion dollars.
MONEY = Bound(-1e9, 1e9, "billions of US dollars (|value| at most 1e9 $B)")
#: Any count of people (labor per unit and year, capacity per year).
PEOPLE = Bound(0, 1e10, "specialists")
#: A rate of return (the hurdle rate): -100% to +1000%.
RATE = Bound(-1.0, 10.0, "a rate of return as a fraction (0.10 is 10%)")

#: Every bound by name, for documentation and the schema.
BOUNDS = {"year": YEAR, "build_years": BUILD_YEARS, "reinvest_every": REINVEST_EVERY,
          "max_units": MAX_UNITS, "money": MONEY, "people": PEOPLE, "rate": RATE}
