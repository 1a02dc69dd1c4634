"""The projects' choices: the units funded of each project, whether it is funded, the
forced choices, and the return the objective counts.

For project i, u_i in 0..max_units_i counts the units funded and z_i in {0,1} says
whether it is funded (u_i <= max_units_i z_i, z_i <= u_i). The model keeps exactly that
meaning with fewer columns and rows:

* column block ``units``, one column per project: binary for a single-unit project
  (max_units 1, the usual case: z_i = u_i, so the one column serves as both), integer for
  a modular one;
* column block ``funded``: a separate binary z_i for each modular project a dependency
  refers to, tied to u_i by the two rows of blocks ``link_units`` and ``link_funded``
  (definitions, never relaxed). Elsewhere z_i appears in no rule, and forced choices are
  bounds on u_i (``force: in``: z_i = 1, so u_i >= 1; ``force: out``: u_i = 0).

The objective is the total return, sum_i r_i u_i.

Version 2 (A1): the unit columns are one per project and admissible start year
(:class:`~formulations.starts.Options`), u_i = sum_s u_is. A project with several starts
gets the row ``max_units`` (sum_s u_is <= max_units_i, block ``start_units``), or, where
a dependency names it, the link rows over that sum; ``force: in`` is the row sum_s u_is
>= 1 (block ``start_forced``). A start the commitment deadline or the per-project hurdle
rules out has its column fixed to 0. Under ``economics.objective: npv`` a unit's
coefficient is its NPV to Japan at its start (:mod:`formulations.waterfall`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from formulations.columns import BINARY, INTEGER, ColumnBlock, Columns
from formulations.family import Conflict, Family, Rule, RuleRef, Violation, Words
from formulations.rows import RowBlock, row_block
from formulations.shared import FUNDED, linked_projects
from formulations.starts import EXCLUDED_DEADLINE
from formulations.whatif import bounded, number, project_positions
from optimizer.errors import UsageError
from optimizer.limits import MONEY

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["FAMILY", "Choices"]

UNITS = "units"




def objective_coefficients(instance: Instance) -> np.ndarray:
    """The objective's coefficient of one unit of each option: its project's return, or
    under ``economics.objective: npv`` its NPV to Japan at its start."""
    o = instance.options
    if instance.params.get("objective") == "npv":
        assert o.npv is not None
        return np.asarray(o.npv, dtype=float)
    return o.of(instance.returns).astype(float)


class Choices(Family):
    name = "choices"
    rules = (
        Rule("max_units", "units", amount="count"),
        Rule("force_in", "force_in", amount="count"),
        Rule("force_out", "force_out", amount="count"),
    )
    changes = {
        "return_multiplier": "{project id or sector: factor} on each project's return (a "
                             "project named and in a named sector gets both factors)",
        "force_in": "project ids to force in",
        "force_out": "project ids to force out",
        "release": "project ids to free of any forced choice",
    }
    parameters = {"return_multiplier": "return_multiplier:PROJECT_OR_SECTOR, a factor on "
                                       "returns"}
    keyed_parameters = frozenset({"return_multiplier"})
    axis_labels = {"return_multiplier": "return multiplier on {key}"}

    # ------------------------------------------------------------------- model
    def column_blocks(self, instance: Instance) -> list[ColumnBlock]:
        max_units = instance.max_units
        force_in, force_out = instance.force_in, instance.force_out
        ids = instance.ids
        o = instance.options
        if o.identity and not o.excluded.any():  # version 1's columns, as they were
            index: Any = ids
            lower = force_in.astype(float)
            upper = np.where(force_out, 0, max_units).astype(float)
        else:  # one column per option the model holds (a ruled-out start has none)
            members = np.flatnonzero(o.modelled)
            index = list(zip(ids[o.project[members]].tolist(), o.start[members].tolist(),
                             strict=True))
            single = o.count_modelled()[o.project[members]] == 1
            closed = (o.of(force_out) | (o.excluded != 0))[members]
            lower = (o.of(force_in)[members] & single & ~closed).astype(float)
            upper = np.where(closed, 0, o.of(max_units)[members]).astype(float)
            kind = np.where(o.of(max_units)[members] == 1, BINARY, INTEGER).astype(np.int8)
            return [ColumnBlock(UNITS, self.name, index, kind, lower, upper,
                                objective_coefficients(instance)[members],
                                o.project[members].copy(), units=True,
                                members=None if len(members) == o.size else members),
                    *self._funded_block(instance)]
        blocks = [ColumnBlock(
            UNITS, self.name, index,
            np.where(o.of(max_units) == 1, BINARY, INTEGER).astype(np.int8), lower, upper,
            objective_coefficients(instance), o.project.copy(), units=True)]
        return blocks + self._funded_block(instance)

    def _funded_block(self, instance: Instance) -> list[ColumnBlock]:
        """The funded indicator z_i of each project a dependency names whose funding is
        not one column."""
        ids, force_in, force_out = instance.ids, instance.force_in, instance.force_out
        blocks: list[ColumnBlock] = []
        linked = linked_projects(instance)
        if len(linked):
            blocks.append(ColumnBlock(
                FUNDED, self.name, ids[linked], np.full(len(linked), BINARY, dtype=np.int8),
                force_in[linked].astype(float), np.where(force_out[linked], 0, 1).astype(float),
                np.zeros(len(linked)), linked.astype(np.int64), auxiliary=False))
        return blocks

    def column_values(self, instance: Instance, block: ColumnBlock,
                      units: np.ndarray) -> np.ndarray | None:
        if block.name == FUNDED:
            return (np.asarray(units)[np.asarray(block.project)] > 0).astype(float)
        return None

    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        """sum_s u_is - max_units_i z_i <= 0 and z_i - sum_s u_is <= 0 where z_i is a
        separate column; sum_s u_is <= max_units_i and, forced in, >= 1 for the other
        projects with several start years."""
        m = columns.n_columns
        unit_cols, owner = columns.unit_columns()
        n = instance.n_projects
        blocks: list[RowBlock] = []
        linked = np.asarray(columns.block(FUNDED).project) if columns.has(FUNDED) else \
            np.zeros(0, dtype=np.int64)
        if len(linked):
            k = len(linked)
            row_of = np.full(n, -1, dtype=np.int64)
            row_of[linked] = np.arange(k)
            mine = row_of[owner] >= 0
            u_rows, u_cols = row_of[owner[mine]], unit_cols[mine]
            cols_z, idx = columns.positions(FUNDED), np.arange(k)
            cap = sp.csr_array((np.concatenate([np.ones(len(u_rows)),
                                                -instance.max_units[linked]]),
                                (np.concatenate([u_rows, idx]),
                                 np.concatenate([u_cols, cols_z]))), shape=(k, m))
            floor = sp.csr_array((np.concatenate([np.ones(k), -np.ones(len(u_rows))]),
                                  (np.concatenate([idx, u_rows]),
                                   np.concatenate([cols_z, u_cols]))), shape=(k, m))
            inf = np.full(k, np.inf)
            keys = tuple(instance.ids[linked].tolist())
            blocks += [row_block("link_units", cap, m, m, -inf, np.zeros(k), keys,
                                 family=self.name, role="definition"),
                       row_block("link_funded", floor, m, m, -inf, np.zeros(k), keys,
                                 family=self.name, role="definition")]
        several = instance.options.count_modelled() > 1
        several[linked] = False  # their link rows hold sum_s u_is <= max_units_i z_i
        # the bounds of version 1's one column a project, over its starts: definitions,
        # as bounds are, which an explanation holds (naming the forced projects)
        blocks += self._sum_rows(instance, columns, several, "start_units", "max_units",
                                 -np.inf, instance.max_units.astype(float))
        # (a forced project with no start left gets an empty row: no plan meets it)
        forced = (instance.options.count_modelled() != 1) & instance.force_in
        blocks += self._sum_rows(instance, columns, forced, "start_forced", "force_in", 1.0,
                                 np.inf)
        return blocks

    def _sum_rows(self, instance: Instance, columns: Columns, which: np.ndarray, name: str,
                  rule: str, lower: Any, upper: Any) -> list[RowBlock]:
        """One row per project of ``which``: lower <= sum_s u_is <= upper."""
        chosen = np.flatnonzero(which)
        if not len(chosen):
            return []
        m = columns.n_columns
        unit_cols, owner = columns.unit_columns()
        row_of = np.full(instance.n_projects, -1, dtype=np.int64)
        row_of[chosen] = np.arange(len(chosen))
        mine = row_of[owner] >= 0
        k = len(chosen)
        matrix = sp.csr_array((np.ones(int(mine.sum())), (row_of[owner[mine]],
                                                          unit_cols[mine])), shape=(k, m))
        low = np.broadcast_to(np.asarray(lower, dtype=float), (instance.n_projects,))[chosen]
        high = np.broadcast_to(np.asarray(upper, dtype=float), (instance.n_projects,))[chosen]
        side = {"lower_rule": rule} if np.isfinite(low).any() else {"upper_rule": rule}
        return [row_block(name, matrix, m, m, low, high, tuple(instance.ids[chosen].tolist()),
                          family=self.name, role="definition", **side)]

    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        return {"projects": points[0].projects.assign(force="")}

    def restricts(self, b: Instance, a: Instance) -> bool:
        return (bool(np.array_equal(b.returns, a.returns))
                and bool(np.all(b.force_in | ~a.force_in))
                and bool(np.all(b.force_out | ~a.force_out)))

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Any, rtol: float) -> list[Violation]:
        projects = usage.projects
        units = usage.units
        bad: list[Violation] = []
        values = units.to_numpy(dtype=float)
        max_units = projects["max_units"].to_numpy(dtype=float)
        over = values > max_units
        rule = self.rule("max_units")
        for pid, v, m in zip(units.index[over], values[over], max_units[over], strict=True):
            bad.append(Violation(rule.check_name, str(pid), float(v), float(m), float(v - m),
                                 rule.ref(pid)))
        funded = (units > 0).to_numpy()
        force = projects["force"].to_numpy(dtype=object)
        for pid in units.index[(force == "in") & ~funded]:
            bad.append(Violation("force_in", str(pid), 0.0, 1.0, 1.0, RuleRef("force_in", pid)))
        for pid in units.index[(force == "out") & funded]:
            bad.append(Violation("force_out", str(pid), float(units[pid]), 0.0,
                                 float(units[pid]), RuleRef("force_out", pid)))
        return bad

    # ------------------------------------------------------------------ wording
    def empty_conflict(self, ref: RuleRef, lower: float, upper: float,
                       words: Words) -> Conflict:
        if ref.rule == "force_in":  # a forced project none of whose starts is open
            return Conflict("force_in", str(ref.key), 1.0, 0.0,
                            f"project {ref.key} is forced in, but every start year of it "
                            "is ruled out", ref)
        return super().empty_conflict(ref, lower, upper, words)

    def column_member(self, instance: Instance, block: ColumnBlock, position: int,
                      side: str, lower: float, upper: float) -> tuple[RuleRef, str, float] | None:
        """The rule behind a bound of one of this family's columns in an IIS: (rule,
        side, limit), or None for a bound that says nothing (a unit's own floor of 0)."""
        project = int(block.project[position])
        pid = str(instance.ids[project])
        if side in ("lower", "both") and lower > 0:
            return RuleRef("force_in", pid), side, lower
        if side in ("upper", "both") and upper == 0 and instance.force_out[project]:
            return RuleRef("force_out", pid), side, upper
        o = instance.options
        option = position if block.members is None else int(block.members[position])
        if block.name == UNITS and upper == 0 and side in ("upper", "both") \
                and o.excluded[option]:
            start = int(o.start[option])
            if o.excluded[option] == EXCLUDED_DEADLINE:
                return RuleRef("commitment_deadline", f"{pid}@{start}"), side, upper
            return RuleRef("project_hurdle", f"{pid}@{start}"), side, upper
        if side == "upper":
            return RuleRef("max_units", pid), side, upper
        return None

    # ------------------------------------------------------------------ what-if
    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:

        projects = instance.projects
        multiplier = changes.get("return_multiplier")
        if multiplier:
            factor = np.ones(instance.n_projects)
            sectors = set(instance.sectors)
            id_set = set(instance.ids.tolist())
            for key, value in multiplier.items():
                what = f"return_multiplier[{key}]"
                m = number(what, value, allow_none=False)
                if key in sectors and key in id_set:
                    raise UsageError(f"{what}: {key!r} is both a sector and a project id")
                if key in sectors:
                    factor[instance.sector_index == instance.sectors.index(key)] *= m
                else:
                    factor[project_positions(instance, what, [key])] *= m
            returns = projects["return"].to_numpy(dtype=float) * factor
            outside = np.flatnonzero((returns < MONEY.low) | (returns > MONEY.high))
            if len(outside):
                j = int(outside[0])
                keys = [k for k in multiplier if k == instance.ids[j]
                        or k == instance.sectors[instance.sector_index[j]]]
                bounded(f"return_multiplier[{', '.join(map(str, keys))}]: the return of "
                        f"project {instance.ids[j]!r}", float(returns[j]), MONEY,
                        by=f"x{factor[j]:g}")
            projects = projects.assign(**{"return": returns})
            labels.append(f"return_multiplier={dict(multiplier)}")
        force = None
        named: dict[str, Iterable[str]] = {k: changes.get(k, ()) for k in
                                           ("release", "force_in", "force_out")}
        for what, choice in (("release", ""), ("force_in", "in"), ("force_out", "out")):
            positions = project_positions(instance, what, named[what])
            if len(positions):
                if force is None:
                    force = projects["force"].to_numpy(dtype=object).copy()
                force[positions] = choice
                labels.append(f"{what}={sorted(instance.ids[positions].tolist())}")
        if force is not None:
            both = set(project_positions(instance, "force_in", named["force_in"]).tolist()) \
                & set(project_positions(instance, "force_out", named["force_out"]).tolist())
            if both:
                raise UsageError(f"force_in and force_out both name "
                                 f"{instance.ids[min(both)]!r}")
            projects = projects.assign(force=force)
        return {"projects": projects} if projects is not instance.projects else {}

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        if kind == "return_multiplier":
            return {"return_multiplier": {key: value}}
        raise KeyError(kind)


FAMILY = Choices()
