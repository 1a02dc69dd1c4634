"""What a rule family is: the one place a rule of the program lives, from the file to the
report.

A family (:class:`Family`) owns its rules' whole life. The pipeline asks every family in
:data:`formulations.registry.FAMILIES` and names none:

======================  ==============================================================
stage                   the family's hook
======================  ==============================================================
reading                 :attr:`Family.fields`, :attr:`Family.columns` (its keys and
                        project columns, which the format's vocabulary gathers) and
                        :meth:`Family.read` (its part of the program, validated)
the model               :meth:`Family.column_blocks` and :meth:`Family.rows`, over the
                        model's columns (:mod:`formulations.columns`)
the independent check   :meth:`Family.check`, from the program's tables and the
                        checker's own recomputed usage (:class:`Usage`), never the
                        model's arrays
before any solve        :meth:`Family.arithmetic`: necessary conditions on the numbers
wording                 :meth:`Family.conflict` (why a rule cannot be met), the
                        :class:`Rule` names of its rules
the report              :meth:`Family.binding`, :meth:`Family.report`
what-if studies         :meth:`Family.derive` and :attr:`Family.changes`,
                        :attr:`Family.parameters`, :meth:`Family.marginal`,
                        :meth:`Family.limits` / :meth:`Family.coefficients` (a model
                        built once, moved point to point), :meth:`Family.superset`,
                        :meth:`Family.restricts`
======================  ==============================================================

Every rule is named by one :class:`RuleRef` (the rule's name in the program, and a key:
a year, a sector, a pair of projects) in the rows, the checker, conflicts and the IIS,
binding, marginal values and the JSON; the strings the results have always shown
(``budget.per_year[2027]`` when binding, ``budget_year`` in a violation, ``2027`` as a
conflict's key) are rendered from the family's :class:`Rule` at the edge only.

This module imports nothing of the pipeline: families sit below the loader, the model,
the solver and every later stage, so imports point one way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from formulations.columns import ColumnBlock, Columns
    from formulations.rows import RowBlock
    from optimizer.program.instance import Instance
    from optimizer.program.terms import Field, Section
    from optimizer.results.result import Result

__all__ = ["RuleRef", "Rule", "Family", "Violation", "Finding", "Conflict", "Usage",
           "Marginal", "Words"]


# ----------------------------------------------------------------- naming a rule
@dataclass(frozen=True, order=False)
class RuleRef:
    """One rule of the program: ``rule`` its name (``budget.per_year``,
    ``sectors.min``, ``dependencies.requires``, ``min_japan_share``) and ``key`` the
    instance of it (a year, a sector, a pair of project ids; None for a rule with one
    row). Rows, violations, conflicts, IIS members, binding limits and marginal values
    all carry one."""

    rule: str
    key: Any = None

    def __str__(self) -> str:
        return self.rule if self.key is None else f"{self.rule}[{self.key}]"


def _plain_key(key: Any) -> str:
    return "" if key is None else str(key)


@dataclass(frozen=True)
class Rule:
    """How one rule of a family is named at each edge.

    ``name`` is the program's name of the rule (a :class:`RuleRef`'s ``rule``);
    ``check_name`` the name a violation has always had in results (``budget_year``);
    ``label`` renders a binding limit (``budget.per_year[2027]``), ``key_text`` a
    conflict's and an IIS member's key (``2027``, ``A->B``), ``violation_key`` a
    violation's key (``A requires B``); ``amount`` says what the rule's numbers count
    (``money``, ``people`` or ``count``); ``single`` that the rule has one row (its key
    is not shown)."""

    name: str
    check_name: str
    amount: str = "money"
    label: Callable[[Any], str] | None = None
    key_text: Callable[[Any], str] = _plain_key
    violation_key: Callable[[Any], str] | None = None
    single: bool = False
    #: what the rule's own limit counts, where it differs from its rows' amounts (a rate:
    #: the rows count money, the program sets a fraction)
    limit: str | None = None

    @property
    def limit_amount(self) -> str:
        return self.limit or self.amount

    def limit_text(self, value: float) -> str:
        """The rule's limit as the results write it: money to two decimals, people and
        counts whole, rates as given."""
        from optimizer.units import money, people

        if self.limit_amount == "rate":
            return f"{value:g}"
        return money(value) if self.limit_amount == "money" else people(value)

    def ref(self, key: Any = None) -> RuleRef:
        return RuleRef(self.name, key)

    def binding_label(self, key: Any) -> str:
        if self.label is not None:
            return self.label(key)
        return self.name if self.single or key is None else f"{self.name}[{key}]"

    def conflict_key(self, key: Any) -> str:
        return self.key_text(key)

    def checked_key(self, key: Any) -> str:
        return (self.violation_key or self.key_text)(key)


# --------------------------------------------------------------- the verdicts
@dataclass(frozen=True)
class Violation:
    """One broken rule: which, where, the plan's value, the limit and by how much.

    ``rule`` and ``key`` are the names results have always shown (``budget_year``,
    ``2027``), rendered from ``ref`` by the rule's family."""

    rule: str  # units | budget_total | budget_year | sector_min | sector_max | labor_year
    #            | hurdle | requires | excludes | force_in | force_out | japan_share
    key: str  # the year, sector, project or projects concerned
    value: float
    limit: float
    excess: float
    ref: RuleRef | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return (f"{self.rule} [{self.key}]: plan has {self.value:,.6g}, limit {self.limit:,.6g}"
                f" (off by {self.excess:,.3g})")

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key, "value": self.value, "limit": self.limit,
                "excess": self.excess}


@dataclass(frozen=True)
class Finding:
    """One arithmetic finding: ``conflict`` (no plan can meet the rule) or ``note``."""

    kind: str
    rule: str
    key: str
    message: str
    ref: RuleRef | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "key": self.key, "message": self.message}


@dataclass(frozen=True)
class Conflict:
    """A rule that cannot be met, in the program's own terms."""

    rule: str
    key: str
    required: float | None
    achievable: float | None
    message: str
    ref: RuleRef | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key, "required": self.required,
                "achievable": self.achievable, "message": self.message}


@dataclass(frozen=True)
class Usage:
    """What a plan uses, recomputed by the independent checker from the program's tables
    (never from the model): the unit counts by project id, the long table of capital and
    labor per project and year, and its sums."""

    units: pd.Series  # project id -> units (every project, in project order)
    table: pd.DataFrame  # project, year, capital, labor (years after the horizon included)
    total_capital: float
    total_return: float
    capital_by_year: pd.Series  # year -> capital (horizon years and later)
    capital_by_project: pd.Series  # funded project id -> capital over the plan
    capital_by_sector: pd.Series  # sector -> capital
    labor_by_year: pd.Series  # horizon year -> labor
    projects: pd.DataFrame  # the projects table indexed by id (read once, for every check)
    starts: pd.DataFrame = field(default=None)  # funded: project, start, units
    #: per funded (project, start), all its units: year, disbursed, received (Japan's)
    cash: pd.DataFrame = field(default=None)
    #: per funded (project, start), all its units: units, npv, irr (None where none),
    #: recovered_in, received, disbursed, hurdle_npv; empty without economics
    economics: pd.DataFrame = field(default=None)
    #: the value of the program's objective (the total return, or the NPV under npv)
    objective: float = 0.0

    @property
    def funded(self) -> pd.Series:
        return self.units[self.units > 0]


@dataclass(frozen=True)
class Marginal:
    """One limit whose worth :func:`optimizer.whatif.marginal.marginal_values` measures:
    the rule, the step (in the limit's own units, signed: a floor is lowered), the
    change of :func:`~optimizer.whatif.scenarios.derive` that moves it, and the factor
    from the step to the move of the model row's limit (1, or the plan's capital for a
    rate)."""

    ref: RuleRef
    step: float
    change: dict[str, Any]
    row_scale: Callable[[Result], float] | None = None


@dataclass(frozen=True)
class Words:
    """What a family's wording may use: the program, its units' labels and the forced
    projects (named in conflicts: 'with the forced projects P1, P2')."""

    instance: Instance
    forced: tuple[str, ...] = ()

    @property
    def cash(self) -> str:
        return self.instance.money_unit

    @property
    def staff(self) -> str:
        return self.instance.labor_unit

    @property
    def with_forced(self) -> str:
        return f" with the forced projects {', '.join(self.forced)}" if self.forced else ""


# ------------------------------------------------------------------- the family
class Family:
    """A rule family: override the hooks its rules need; every hook's default is
    'nothing to add'. See the module's table for who calls which."""

    #: the family's name (``budget``), and the rules it owns, by name
    name: str = ""
    rules: tuple[Rule, ...] = ()

    # ----------------------------------------------------------------- reading
    #: keys of the program's top level this family adds (the format's vocabulary gathers
    #: them; their kind, bound and default say how they are read)
    fields: tuple[Field, ...] = ()
    #: columns of the projects table this family adds
    columns: tuple[Field, ...] = ()
    #: sections of its keys that no field of ``fields`` holds (a dependency's entries)
    sections: tuple[Section, ...] = ()
    #: the program-level values this family keeps in :attr:`Instance.params` (read by
    #: :meth:`read`, changed by :meth:`derive`), with their values when absent
    params: Mapping[str, Any] = {}

    def read(self, values: Mapping[str, Any], years: np.ndarray) -> dict[str, Any]:
        """The family's part of the :class:`Instance` from the program's top-level values
        as read and bounded by the vocabulary (``values[field name]``; None when absent)
        over the horizon's ``years``: :class:`Instance` fields by name, and the values it
        keeps in :attr:`Instance.params` under their names (:attr:`params`). Raise
        :class:`~optimizer.errors.InstanceError` for what the field bounds cannot say."""
        return {name: values.get(name, default) for name, default in self.params.items()}

    def complete(self, projects: pd.DataFrame, values: Mapping[str, Any],
                 tables: Mapping[str, pd.DataFrame], first: int, last: int
                 ) -> tuple[dict[str, np.ndarray], list[tuple[str, np.ndarray,
                                                             Callable[[int], str]]],
                            list[tuple[str, str]]]:
        """The family's rules between the columns of the validated ``projects`` table
        (with the top-level ``values`` and the other ``tables``, ``cash_flows``) over the
        horizon: the columns it fills in ({name: values}), the problems by row ((column,
        mask of rows, message of a row)) and the program's ((place, message))."""
        return {}, [], []

    # ------------------------------------------------------------------- model
    def column_blocks(self, instance: Instance) -> list[ColumnBlock]:
        """Blocks of columns this family adds to the model (most add none)."""
        return []

    def column_values(self, instance: Instance, block: ColumnBlock,
                      units: np.ndarray) -> np.ndarray | None:
        """The values of ``block``'s columns for a plan of ``units`` per project (a
        warm start); None when the plan does not determine them."""
        return None

    def rows(self, instance: Instance, columns: Columns) -> list[RowBlock]:
        """The family's rows over the model's columns."""
        return []

    def limits(self, instance: Instance) -> dict[str, tuple[tuple, np.ndarray, np.ndarray]]:
        """Every limit-carrying row block the model may have, by block name: (keys,
        lower, upper), +-inf where the program sets no limit. A model built once moves
        its row bounds to another program's with these (sweeps, marginal values)."""
        return {}

    def coefficients(self, instance: Instance) -> dict[str, np.ndarray]:
        """Single-row blocks whose coefficients over the projects' unit columns depend
        on program-level values (a rate times capital), by block name."""
        return {}

    def superset(self, points: Sequence[Instance]) -> dict[str, Any]:
        """Changes of ``points[0]`` that give the model every row any point needs, at
        values that hold no plan back (a model built once for all of them); values kept
        in :attr:`Instance.params` go under ``"params"``, this family's only."""
        return {}

    def restricts(self, b: Instance, a: Instance) -> bool:
        """Whether ``b``'s rules of this family are at least as tight as ``a``'s."""
        return True

    def same_rows(self, b: Instance, a: Instance) -> bool:
        """Whether the model of ``a`` holds ``b``'s rows of this family by moving limits,
        costs and column bounds only (the coefficients of its rows are ``b``'s)."""
        return True

    # ------------------------------------------------------------------- check
    def check(self, instance: Instance, usage: Usage, rtol: float) -> list[Violation]:
        """The broken rules of this family for the plan ``usage`` describes, from the
        program's tables (a mistake in the rows must not hide here)."""
        return []

    # -------------------------------------------------------------- arithmetic
    def arithmetic(self, instance: Instance) -> list[Finding]:
        """Necessary conditions of feasibility on the program's numbers, no solver."""
        return []

    # ----------------------------------------------------------------- wording
    def conflict(self, ref: RuleRef, side: str, limit: float, reached: float,
                 words: Words) -> Conflict:
        """Why the rule ``ref`` (its ``side``, lower or upper) cannot be met: the best
        relaxed plan reaches ``reached`` against ``limit`` (in the row's terms)."""
        rule = self.rule(ref.rule)
        return Conflict(ref.rule, rule.conflict_key(ref.key), limit, reached,
                        f"rule {ref} cannot be met ({reached:g} against {limit:g})", ref)

    def empty_conflict(self, ref: RuleRef, lower: float, upper: float,
                       words: Words) -> Conflict:
        """Why a row that holds no decision (no project can add to it) cannot be met."""
        rule = self.rule(ref.rule)
        return Conflict(ref.rule, rule.conflict_key(ref.key), None, None,
                        f"rule {ref.rule}[{ref.key}] can be met by no plan", ref)

    def column_member(self, instance: Instance, block: ColumnBlock, position: int,
                      side: str, lower: float, upper: float
                      ) -> tuple[RuleRef, str, float] | None:
        """The rule behind a bound of one of this family's columns in an IIS: (rule,
        side, limit), or None for a bound that says nothing (a unit's own floor of 0). By
        default the bound itself, named by its block and label."""
        return (RuleRef("bound", f"{block.name}[{block.index[position]}]"), side,
                lower if side == "lower" else upper)

    def excluded_reason(self, instance: Instance, option: int) -> tuple[str, str] | None:
        """(rule, reason in words) when this family's rule rules out the option (a
        project and start year, :attr:`Instance.options`) before any solve; else None."""
        return None

    def excluded_reasons(self, instance: Instance, options: np.ndarray
                         ) -> dict[int, tuple[str, str]]:
        """:meth:`excluded_reason` of many options at once: {option: (rule, reason)}."""
        found = {k: self.excluded_reason(instance, k) for k in np.asarray(options).tolist()}
        return {k: v for k, v in found.items() if v is not None}

    def iis_limit(self, ref: RuleRef, limit: float, instance: Instance) -> float | None:
        """The limit an IIS member of this rule reports (the row's own by default)."""
        return float(limit) if np.isfinite(limit) else None

    # ------------------------------------------------------------------ report
    def binding(self, result: Result) -> list[RuleRef]:
        """The family's limits the plan presses against."""
        return []

    def report(self, result: Result) -> list[str]:
        """Lines of the readable summary for this family's rules (empty: none)."""
        return []

    # ------------------------------------------------------------------ what-if
    #: the keywords of :func:`~optimizer.whatif.scenarios.derive` this family takes,
    #: with what each does
    changes: Mapping[str, str] = {}
    #: the sweep parameters it offers (``NAME`` or ``NAME:KEY``), with what each means
    parameters: Mapping[str, str] = {}
    #: the sweep parameters among them that take a ``:KEY``
    keyed_parameters: frozenset[str] = frozenset()
    #: a chart's axis label for each sweep parameter (``{key}``, ``{cash}`` and
    #: ``{staff}`` filled in: the parameter's key and the program's units' labels)
    axis_labels: Mapping[str, str] = {}
    #: the default step of each kind of limit for marginal values
    steps: Mapping[str, float] = {}

    def derive(self, instance: Instance, changes: Mapping[str, Any],
               labels: list[str]) -> dict[str, Any]:
        """The :class:`Instance` fields (``params`` included, as a whole mapping) that
        ``changes`` (this family's keywords only) make, each checked; ``labels`` gets a
        text per change for the derived program's name."""
        return {}

    def parameter(self, kind: str, key: str, value: float) -> dict[str, Any]:
        """The keywords of :meth:`derive` for sweep parameter ``kind`` (``key`` after
        its colon, '' when none) at ``value``."""
        raise KeyError(kind)

    def marginal(self, instance: Instance, steps: Mapping[str, float]) -> list[Marginal]:
        """Every limit of this family the program sets, with the change one step makes."""
        return []

    # ----------------------------------------------------------------- helpers
    def rule(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(f"{self.name} has no rule {name!r}")

    def __repr__(self) -> str:
        return f"<rule family {self.name}>"
