"""Dependencies between projects, on the funded indicators z.

    requires(a, on b):   z_a - z_b <= 0
    excludes(S):         sum_{i in S} z_i <= 1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from formulations.columns import Columns
from formulations.family import Conflict, Family, Finding, Rule, RuleRef, Usage, Violation, Words
from formulations.graphs import requires_cycles
from formulations.rows import RowBlock, row_block
from formulations.shared import funded_column, names
from optimizer.program.terms import Field, Section
from optimizer.units import people

if TYPE_CHECKING:
    from optimizer.program.instance import Instance

__all__ = ["FAMILY", "Dependencies", "NAME_REQUIRES", "NAME_EXCLUDES"]

NAME_REQUIRES = "requires"
NAME_EXCLUDES = "excludes"
REQUIRES, EXCLUDES = "dependencies.requires", "dependencies.excludes"



#: The keys this family reads (its part of the format's vocabulary).
REQUIRES_KEYS = Section("dependencies[] (requires)",
                   "`dependencies` entry of type `requires`: a funded project needs another", (
                       Field("type", "text", "the kind of dependency", required=True,
                             values=("requires",)),
                       Field("project", "id", "the project that needs `on`: if it is funded, "
                             "`on` is funded too", required=True),
                       Field("on", "id", "the project it needs (the key is the text "
                             "`on`, never a boolean)", required=True),
                   ))

EXCLUDES_KEYS = Section("dependencies[] (excludes)",
                   "`dependencies` entry of type `excludes`: at most one of a group", (
                       Field("type", "text", "the kind of dependency", required=True,
                             values=("excludes",)),
                       Field("projects", "ids", "two or more distinct project ids; at most "
                             "one of them is funded", required=True),
                   ))

#: Every kind of dependency by its ``type``.
DEPENDENCY_TYPES = {"requires": REQUIRES_KEYS, "excludes": EXCLUDES_KEYS}
#: The keys of every kind of dependency together: what an entry whose ``type`` is wrong
#: or missing may hold.
ANY_DEPENDENCY = Section("dependencies[]", "a `dependencies` entry of any type", tuple(
    {f.name: f for s in DEPENDENCY_TYPES.values() for f in s.fields}.values()))


class Dependencies(Family):
    name = "dependencies"
    rules = (Rule(REQUIRES, "requires", amount="count",
                  key_text=lambda key: f"{key[0]}->{key[1]}",
                  violation_key=lambda key: f"{key[0]} requires {key[1]}"),
             Rule(EXCLUDES, "excludes", amount="count", key_text=lambda key: ", ".join(key)))
    fields = (
        Field("dependencies", "dependencies", "`requires` and `excludes` rules (below)",
              default_text="none"),
    )
    sections = (REQUIRES_KEYS, EXCLUDES_KEYS, ANY_DEPENDENCY)

    # ------------------------------------------------------------------- model
    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        n, m = instance.n_projects, columns.n_columns
        ids = instance.ids
        z = funded_column(instance, columns)
        blocks = []
        pairs = instance.requires[instance.requires[:, 0] != instance.requires[:, 1]]
        if len(pairs):
            k = len(pairs)
            matrix = sp.csr_array((np.tile([1.0, -1.0], k),
                                   (np.repeat(np.arange(k), 2), pairs.reshape(-1))),
                                  shape=(k, n))
            keys = tuple(zip(ids[pairs[:, 0]].tolist(), ids[pairs[:, 1]].tolist(), strict=True))
            blocks.append(row_block(NAME_REQUIRES, matrix, z, m, np.full(k, -np.inf),
                                    np.zeros(k), keys, family=self.name, upper_rule=REQUIRES))
        if instance.excludes:
            groups = instance.excludes
            sizes = np.array([len(g) for g in groups])
            cols = np.concatenate(groups)
            matrix = sp.csr_array((np.ones(len(cols)),
                                   (np.repeat(np.arange(len(groups)), sizes), cols)),
                                  shape=(len(groups), n))
            keys = tuple(tuple(ids[g].tolist()) for g in groups)
            blocks.append(row_block(NAME_EXCLUDES, matrix, z, m, np.full(len(groups), -np.inf),
                                    np.ones(len(groups)), keys, family=self.name,
                                    upper_rule=EXCLUDES))
        return blocks

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        bad: list[Violation] = []
        funded = (usage.units > 0).to_numpy()
        ids = instance.projects["id"].to_numpy()
        pairs = np.asarray(instance.requires, dtype=np.int64).reshape(-1, 2)
        broken = funded[pairs[:, 0]] & ~funded[pairs[:, 1]]
        for a, b in pairs[broken]:
            key = (ids[a], ids[b])
            bad.append(Violation("requires", f"{ids[a]} requires {ids[b]}", 1.0, 0.0, 1.0,
                                 RuleRef(REQUIRES, key)))
        for group in instance.excludes:
            count = int(funded[group].sum())
            if count > 1:
                bad.append(Violation("excludes", ", ".join(map(str, ids[group])), count, 1.0,
                                     count - 1.0, RuleRef(EXCLUDES, tuple(ids[group]))))
        return bad

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """Dependencies on forced choices, and cycles of requirements."""
        out: list[Finding] = []
        ids = instance.ids
        forced = np.asarray(instance.force_in, dtype=bool)
        allowed = ~np.asarray(instance.force_out, dtype=bool)
        for a, b in np.asarray(instance.requires).reshape(-1, 2):
            ref = RuleRef(REQUIRES, (ids[a], ids[b]))
            if instance.force_out[b] and forced[a]:
                out.append(Finding("conflict", REQUIRES, f"{ids[a]}->{ids[b]}",
                                   f"{ids[a]} is forced in but requires {ids[b]}, which is "
                                   "forced out", ref))
            elif instance.force_out[b] and allowed[a]:
                out.append(Finding("note", REQUIRES, f"{ids[a]}->{ids[b]}",
                                   f"{ids[a]} requires {ids[b]}, which is forced out: "
                                   f"{ids[a]} can never be funded", ref))
        for group in instance.excludes:
            if forced[group].sum() > 1:
                members = np.zeros(len(ids), dtype=bool)
                members[group[forced[group]]] = True
                key = ", ".join(map(str, ids[group]))
                out.append(Finding("conflict", EXCLUDES, key,
                                   f"at most one of {key} may be funded, but "
                                   f"{names(ids, members)} are forced in",
                                   RuleRef(EXCLUDES, tuple(ids[group]))))
        for group in requires_cycles(instance.requires, instance.n_projects):
            members = np.zeros(instance.n_projects, dtype=bool)
            members[group] = True
            out.append(Finding("note", REQUIRES, names(ids, members),
                               f"projects {names(ids, members)} require each other in a "
                               "cycle: they are funded all together or not at all"))
        return out

    # ------------------------------------------------------------------ wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        rule = self.rule(ref.rule)
        if ref.rule == REQUIRES:
            a, b = ref.key
            msg = f"project {a} requires {b}, which the other rules rule out{words.with_forced}"
            return Conflict(REQUIRES, rule.conflict_key(ref.key), 0.0, reached, msg, ref)
        msg = (f"at most one of {', '.join(ref.key)} may be funded, but the other rules need "
               f"{people(reached + 1 if side == 'upper' else reached)}{words.with_forced}")
        return Conflict(EXCLUDES, rule.conflict_key(ref.key), 1.0, reached, msg, ref)


FAMILY = Dependencies()
