"""The structure the code promises (docs/architecture.md): imports point one way through
the stages, no import circle (counting the imports inside functions too, so that none of
them dodges one), every module of a reasonable size, and no stage but the registry
naming a rule family."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = ("optimizer", "formulations")
#: The stages in order: a module imports (at module level) only modules of its own stage
#: or an earlier one.
STAGES = (
    ("optimizer.errors", "optimizer.limits", "optimizer.units", "optimizer.files",
     "optimizer.generated", "optimizer.program.terms"),
    ("formulations",),
    ("optimizer.program",),
    ("optimizer.solving",),
    ("optimizer.check",),
    ("optimizer.results",),
    ("optimizer.diagnosis.explain",),
    ("optimizer.pipeline",),
    ("optimizer.diagnosis", "optimizer.whatif"),
    ("optimizer.cli", "optimizer.bench", "optimizer.__main__"),
)
#: The most lines a module may hold.
MAX_LINES = 430


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _stage(module: str) -> int:
    if module == "optimizer":  # the package: its public names, imported on first use
        return len(STAGES) - 1
    best, rank = -1, None
    for k, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), k
    assert rank is not None, f"{module} is in no stage: add it to STAGES"
    return rank


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(module-level, inside-function) imports of project modules; those under
    ``if TYPE_CHECKING:`` are for annotations only and left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    local: set[str] = set()

    def names(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names
                    if f"{node.module}.{a.name}" in MODULES]
            # ``from package import submodule`` imports the submodule; any other name
            # comes from the package (or module) itself
            return subs + ([node.module] if len(subs) < len(node.names) else [])
        return []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                for name in names(child):
                    target = _known(name)
                    if target is not None:
                        (local if inside else top).add(target)
            fn = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, inside or fn)

    visit(tree, False)
    return top, local


def _known(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_level_imports_point_to_earlier_stages(module):
    here = _stage(module)
    top, _ = GRAPH[module]
    later = sorted(t for t in top if _stage(t) > here)
    assert not later, f"{module} (stage {here}) imports later stages: {later}"


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt == node or _package_of(node, nxt):
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


def _package_of(a: str, b: str) -> bool:
    """A package and its own submodules import each other by construction (a package's
    __init__ re-exporting a submodule): not a circle between stages."""
    return a.startswith(b + ".") or b.startswith(a + ".")


def test_no_import_circle_even_counting_imports_inside_functions():
    edges = {m: top | local for m, (top, local) in GRAPH.items()}
    assert _cycle(edges) is None, f"import circle: {' -> '.join(_cycle(edges) or [])}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_of_a_readable_size(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


FAMILY_MODULES = {"formulations.budget", "formulations.sectors", "formulations.labor",
                  "formulations.hurdle", "formulations.dependencies",
                  "formulations.japan_share", "formulations.timing",
                  "formulations.economics", "formulations.choices"}


def test_the_registry_lists_every_family_module():
    from formulations.registry import FAMILIES

    assert {type(f).__module__ for f in FAMILIES} == FAMILY_MODULES


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("optimizer")))
def test_no_stage_names_a_family(module):
    """The pipeline asks every family; it names none (only the registry imports them)."""
    top, local = GRAPH[module]
    named = sorted((top | local) & FAMILY_MODULES)
    assert not named, f"{module} imports rule family modules {named}"
