"""The validated, immutable program: an :class:`Instance`.

An ``Instance`` is made by :func:`optimizer.program.loading.load` (or by :meth:`Instance.replace`
for a what-if) and never changes afterwards. Besides the validated tables it carries
the prepared arrays every model builder uses, so no builder scans projects in a loop:

* ``capital_by_year``: per-unit capital of project i in horizon year t (n x Y, sparse),
  spread or profile plus reinvestments;
* ``labor_by_year``: per-unit specialists of project i in horizon year t (n x Y, sparse);
* ``total_capital``: C_i, per-unit capital over the whole plan (years after the horizon
  included, reinvestments only inside it);
* ``sector_index``: position of each project's sector in ``sectors``.

Units: money in billions of US dollars, labor in specialists, years as integers.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from formulations.registry import FAMILIES
from optimizer.program.prepare import prepare, prepare_options
from optimizer.program.vocabulary import PROFILES, PROJECTS

__all__ = ["Instance", "Metadata", "PROJECT_COLUMNS", "PROFILE_COLUMNS"]

#: Columns of :attr:`Instance.projects`, in this order, after validation: the format's
#: columns (:data:`optimizer.program.vocabulary.PROJECTS`).
PROJECT_COLUMNS = PROJECTS.names()
#: Columns of :attr:`Instance.profiles` (:data:`optimizer.program.vocabulary.PROFILES`).
PROFILE_COLUMNS = PROFILES.names()
#: Columns the rule families add to :attr:`Instance.projects` (after the format's own),
#: with their defaults: every program has them (:data:`formulations.registry.FAMILIES`).
FAMILY_COLUMNS: dict[str, Any] = {f.name: f.default for family in FAMILIES
                                  for f in family.columns}


class Metadata(Mapping[str, Any]):
    """The user metadata of a program, read-only: a mapping of dotted place to value that
    cannot be changed in place (an :class:`Instance` is immutable). It pickles as its
    pairs (sweeps send instances to worker processes and Dask). The values are as read;
    :meth:`to_dict` gives a fresh, mutable copy."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        self._items: dict[str, Any] = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Metadata({self._items!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Metadata, (tuple(self._items.items()),))

    def to_dict(self) -> dict[str, Any]:
        return dict(self._items)


#: The family columns whose blank cells take the project's ``start`` (its window).
_START_COLUMNS = frozenset(f.name for family in FAMILIES for f in family.columns
                           if f.kind == "year")


def _at_default(projects: pd.DataFrame, name: str, default: Any) -> bool:
    """Whether a family column holds only what a program that never names it holds: its
    default, NaN where it has none, ``start`` for a start window."""
    values = projects[name]
    if name in _START_COLUMNS:
        return bool((values.to_numpy() == projects["start"].to_numpy()).all())
    if default is None:
        return bool(values.isna().all())
    return bool((values == default).all())


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Instance:
    """A validated capital-portfolio program (format ``capital-portfolio/1`` or ``/2``, as
    :attr:`version` says).

    Limits that a program does not set are ``NaN`` in the per-year and per-sector
    arrays (``budget_per_year``, ``labor_capacity``, ``sector_min``, ``sector_max``)
    and ``None`` for ``budget_total`` and ``hurdle_rate``.
    """

    name: str
    source: str
    first_year: int
    last_year: int
    budget_total: float | None
    budget_per_year: np.ndarray  # (Y,), NaN where uncapped
    hurdle_rate: float | None
    sectors: tuple[str, ...]
    sector_min: np.ndarray  # (S,), NaN where no floor
    sector_max: np.ndarray  # (S,), NaN where no ceiling
    labor_capacity: np.ndarray  # (Y,), NaN where uncapped
    projects: pd.DataFrame  # PROJECT_COLUMNS, validated, one row per project
    profiles: pd.DataFrame  # PROFILE_COLUMNS, validated
    requires: np.ndarray  # (k, 2) project positions: row a requires row b
    excludes: tuple[np.ndarray, ...]  # groups of project positions, at most one funded
    known_optimum: float | None = None
    known_optimum_proven: bool | None = None
    warnings: tuple[str, ...] = ()
    #: labels of the program's money and labor units (``units.money``, ``units.labor``):
    #: "$B" and "specialists" by default; a converted knapsack says what its numbers are
    money_unit: str = "$B"
    labor_unit: str = "specialists"
    #: user metadata: every key beginning with ``x_``, as read (kept, never interpreted),
    #: by its place: ``x_owner`` at the top level, ``budget.x_note``, ``sectors.x_order``,
    #: ``sectors.energy.x_color``, ``budget.per_year.x_source``, ``dependencies[2].x_why``
    #: and each x_ column of a table, ``projects.x_color`` or ``profiles.x_note``, as the
    #: tuple of its cell texts in the table's row order; read-only (:class:`Metadata`: a
    #: mapping given here is copied into one)
    metadata: Mapping[str, Any] = field(default_factory=Metadata, repr=False)
    #: program-level values of the rule families that keep theirs here rather than in a
    #: field of their own (``min_japan_share``), by name; every family's
    #: :attr:`~formulations.family.Family.params` is present, None where the program
    #: sets no value; read-only
    params: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: the format version the file said (1 or 2)
    version: int = 1
    #: each ``requires`` pair's ``lag`` in years (version 2), -1 where none is given
    requires_lag: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64),
                                     repr=False)
    #: the rule families' tables of rows about projects (``cash_flows``: project,
    #: offset, cash), by field name; empty where the program gives none
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    # prepared tables (derived from the above by prepare.prepare)
    capital_by_year: Any = field(default=None, repr=False)
    labor_by_year: Any = field(default=None, repr=False)
    total_capital: Any = field(default=None, repr=False)
    sector_index: Any = field(default=None, repr=False)
    #: the model's unit columns, one per project and admissible start year, with their
    #: shifted tables and flows (:class:`formulations.starts.Options`)
    options: Any = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name in (
            "budget_per_year",
            "sector_min",
            "sector_max",
            "labor_capacity",
            "requires",
            "requires_lag",
            "total_capital",
            "sector_index",
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen(value))
        object.__setattr__(self, "excludes", tuple(_frozen(g) for g in self.excludes))
        if not isinstance(self.metadata, Metadata):
            object.__setattr__(self, "metadata", Metadata(self.metadata))
        if not isinstance(self.params, Metadata):
            object.__setattr__(self, "params", Metadata(self.params))

    # ----------------------------------------------------------------- shape
    @property
    def years(self) -> np.ndarray:
        """The horizon's years, first to last inclusive."""
        return np.arange(self.first_year, self.last_year + 1)

    @property
    def n_projects(self) -> int:
        return len(self.projects)

    @cached_property
    def ids(self) -> np.ndarray:
        """The project ids, in project order (read once: an instance never changes)."""
        return self.projects["id"].to_numpy()

    @property
    def returns(self) -> np.ndarray:
        return self.projects["return"].to_numpy(dtype=float)

    @property
    def max_units(self) -> np.ndarray:
        return self.projects["max_units"].to_numpy(dtype=np.int64)

    @property
    def force_in(self) -> np.ndarray:
        return (self.projects["force"] == "in").to_numpy()

    @property
    def force_out(self) -> np.ndarray:
        return (self.projects["force"] == "out").to_numpy()

    # -------------------------------------------------------------- identity
    def digest(self) -> str:
        """A SHA-256 of the program's content (not of its file names), for manifests."""
        h = hashlib.sha256()
        h.update(repr((self.first_year, self.last_year, self.budget_total, self.hurdle_rate,
                       self.sectors)).encode())
        if any(v is not None for v in self.params.values()):  # a version-1 program: as before
            h.update(repr(sorted((k, v) for k, v in self.params.items())).encode())
        for array in (self.budget_per_year, self.sector_min, self.sector_max,
                      self.labor_capacity, self.requires):
            h.update(np.ascontiguousarray(array).tobytes())
        for group in self.excludes:
            h.update(group.tobytes() + b"|")
        # the format's own columns, then any family column that holds more than its default
        # (so a version-1 program hashes as it always has)
        own = [c for c in PROJECT_COLUMNS if c in self.projects.columns]
        h.update(pd.util.hash_pandas_object(self.projects[own], index=False).to_numpy()
                 .tobytes())
        for name, default in FAMILY_COLUMNS.items():
            if name in self.projects.columns and not _at_default(self.projects, name, default):
                h.update(name.encode())
                h.update(pd.util.hash_pandas_object(self.projects[name], index=False)
                         .to_numpy().tobytes())
        h.update(pd.util.hash_pandas_object(self.profiles, index=False).to_numpy().tobytes())
        if (np.asarray(self.requires_lag) >= 0).any():
            h.update(np.ascontiguousarray(self.requires_lag).tobytes())
        for name, frame in sorted(self.tables.items()):
            if len(frame):
                h.update(name.encode())
                h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return h.hexdigest()

    def replace(self, **changes: Any) -> Instance:
        """A new instance with some program-level fields changed (the original is untouched).

        Changing ``projects`` or ``profiles`` re-runs the preparation of the model tables.
        """
        fresh = dataclasses.replace(self, **changes)
        if {"projects", "profiles", "first_year", "last_year", "tables"} & changes.keys():
            fresh = prepare(fresh)
        elif "params" in changes:  # the options' flows and exclusions follow the params
            fresh = prepare_options(fresh)
        return fresh

    def __repr__(self) -> str:
        return (f"Instance(name={self.name!r}, projects={self.n_projects}, "
                f"years={self.first_year}-{self.last_year}, sectors={len(self.sectors)})")
