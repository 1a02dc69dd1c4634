"""The documented bounds on every number a program may hold.

A value outside these bounds is refused by the loader with the field named (exit 2), so
no number reaches the model that would overflow 64-bit integers, allocate a table the
machine cannot hold, or swamp the solver's tolerances. The vocabulary of the format
(:mod:`optimizer.program.vocabulary`), the JSON Schema and ``docs/format.md`` all take their
bounds from here.

Units: money in billions of US dollars ($B), labor in specialists (headcount), years as
calendar years.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.units import number_text

__all__ = ["Bound", "YEAR", "HORIZON_YEARS", "BUILD_YEARS", "REINVEST_EVERY", "MAX_UNITS",
           "MAX_PROJECTS", "MONEY", "PEOPLE", "RATE", "THREADS", "BOUNDS"]


@dataclass(frozen=True)
class Bound:
    """An inclusive range ``low <= value <= high`` with the words that explain it."""

    low: float
    high: float
    why: str

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"between {number_text(self.low)} and {number_text(self.high)}"


#: Any calendar year: the horizon, a start, a profile year, a key of a per-year mapping.
YEAR = Bound(1900, 2200, "calendar years")
#: The most years a horizon may span (first to last inclusive).
HORIZON_YEARS = 201
#: The most projects ``optimizer generate`` writes into one program: ten million (its
#: tables take a few GB while generating; solving such a program needs far more).
MAX_PROJECTS = 10_000_000
#: Years over which one unit's capital is spread.
BUILD_YEARS = Bound(1, 200, "years of construction")
#: Years between reinvestments.
REINVEST_EVERY = Bound(1, 200, "years between reinvestments")
#: Identical units of one project.
MAX_UNITS = Bound(1, 1_000_000, "units of one project")
#: Any amount of money, in $B, by magnitude: a billion billion dollars.
MONEY = Bound(-1e9, 1e9, "amounts of money, in $B or the unit units.money names")
#: Any count of people (labor per unit and year, capacity per year).
PEOPLE = Bound(0, 1e10, "counts of people, in specialists or the unit units.labor names")
#: A rate of return (the hurdle rate): -100% to +1000%.
RATE = Bound(-1.0, 10.0, "rates of return as fractions, 0.10 being 10%")

#: HiGHS threads a solve may ask for (``--threads``, ``SolveOptions.threads``): HiGHS
#: aborts or hangs starting tens of thousands of threads. Not a number of the program.
THREADS = Bound(1, 256, "HiGHS threads")

#: Every bound by name, for documentation and the schema.
BOUNDS = {"year": YEAR, "build_years": BUILD_YEARS, "reinvest_every": REINVEST_EVERY,
          "max_units": MAX_UNITS, "money": MONEY, "people": PEOPLE, "rate": RATE}
