"""The benchmark suites: which programs each one solves (:data:`SUITES`), the solver
options of a run (:class:`Options`), and the suite's programs written out to solve
(:func:`_instances`), each with the set it belongs to."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.errors import UsageError
from optimizer.program.shipped import orlib

#: suite -> list of (kind, argument): ("orlib", file) or ("generated", projects)
SUITES: dict[str, list[tuple[str, Any]]] = {
    "tiny": [("orlib", "mknap1.txt"), ("generated", 20)],  # for the tests of this module
    "smoke": [("orlib", "mknap1.txt"), ("orlib", "mknap2.txt"), ("generated", 20),
              ("generated", 200), ("generated", 2000)],
    "nightly": [("orlib", "mknap1.txt"), ("orlib", "mknap2.txt"), ("orlib", "mknapcb1.txt"),
                ("orlib", "mknapcb4.txt"), ("orlib", "mknapcb7.txt"), ("generated", 20),
                ("generated", 2000), ("generated", 20000), ("generated", 100000)],
    "full": [("orlib", "mknap1.txt"), ("orlib", "mknap2.txt")]
    + [("orlib", f"mknapcb{k}.txt") for k in range(1, 10)]
    + [("orlib", f"gk/gk{i:02d}.dat") for i in range(1, 12)],
}


@dataclass(frozen=True)
class Options:
    time_limit: float = 60.0
    threads: int = 1
    gap: float = 1e-4


def _set_of(kind: str, arg: Any) -> str:
    """The set an instance of a suite belongs to: the OR-Library file's stem (``mknap1``,
    ``mknapcb4``; every GK file is ``gk``) or ``generated-N``."""
    if kind == "orlib":
        parts = Path(arg).parts
        return parts[0] if len(parts) > 1 else Path(arg).stem
    return f"generated-{arg}"


def _instances(suite: str, work: Path, only: str | None = None) -> list[tuple[str, Path]]:
    """The suite's programs, written under ``work``, with their sets; with ``only``, those
    whose set (``mknap2``, ``generated-200``) or bench name (the program's folder:
    ``mknapcb4-07``, ``WEISH12``, ``generated-200``) matches that shell pattern. Raises
    :class:`UsageError` listing the names when none matches."""
    from optimizer.program.generate import generate, write
    from optimizer.program.orlib import convert

    every: list[tuple[str, Path]] = []
    for kind, arg in SUITES[suite]:
        set_ = _set_of(kind, arg)
        if kind == "orlib":
            every += [(set_, p) for p in convert(orlib() / arg, work / Path(arg).stem)]
        elif only is None or fnmatch.fnmatchcase(set_, only):  # its set's name is its own
            every.append((set_, write(generate(int(arg), seed=2026), work / set_)))
        else:
            every.append((set_, work / set_ / "program.yaml"))  # named, never written
    if only is None:
        return every
    found = [(s, p) for s, p in every
             if fnmatch.fnmatchcase(s, only) or fnmatch.fnmatchcase(p.parent.name, only)]
    if not found:
        raise UsageError(f"no instance of suite {suite!r} matches {only!r}; --only matches a "
                         f"set or an instance by name: {_names(every)}")
    return found


def _names(instances: list[tuple[str, Path]]) -> str:
    """The sets of ``instances`` with their instances' names: ``mknap1 (mknap1-00 ...
    mknap1-06)``, ``generated-20``."""
    sets: dict[str, list[str]] = {}
    for set_, path in instances:
        sets.setdefault(set_, []).append(path.parent.name)
    out = []
    for set_, names in sets.items():
        if names == [set_]:
            out.append(set_)
        else:
            shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]}"
            out.append(f"{set_} ({len(names)} instances: {shown})")
    return "; ".join(out)
