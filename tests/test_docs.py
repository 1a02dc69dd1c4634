"""Every Python example in the README and in the API docstrings runs, as written."""

from __future__ import annotations

import doctest
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_examples():
    assert _readme_blocks()


@pytest.mark.parametrize("index", range(len(_readme_blocks())))
def test_readme_example_runs(index, monkeypatch, tmp_path):
    # run where the README's relative paths resolve, but write any file it makes elsewhere
    (tmp_path / "instances").symlink_to(ROOT / "instances")
    monkeypatch.chdir(tmp_path)
    exec(compile(_readme_blocks()[index], f"README.md[python {index}]", "exec"), {})


@pytest.mark.parametrize("module", ["optimizer.api", "optimizer.scenarios", "optimizer.sweeps"])
def test_api_docstrings(monkeypatch, module):
    import importlib

    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testmod(importlib.import_module(module),
                                      optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_pilot_program_solves_and_checks():
    """The main job of the quick start: the pilot program, solved and checked."""
    from helpers import solve_checked

    from optimizer import SolveOptions

    result = solve_checked(ROOT / "instances" / "pilot" / "program.yaml",
                           SolveOptions(threads=1, gap=0.0, time_limit=120))
    assert result.status == "optimal" and result.termination == "optimal"
    assert result.check.total_capital <= 550 + 1e-6
    assert os.path.exists(ROOT / "instances" / "pilot" / "SOURCES.md")
