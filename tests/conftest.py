"""Shared set-up of the test suite.

Markers (registered in pyproject.toml; ``--strict-markers`` refuses any other):

- ``solver``: the test runs HiGHS, in this process or in one it starts (a solve, a
  sweep, ``explain``, ``marginal``, a benchmark, ``optimizer solve`` on a valid program,
  ...). A whole module that solves says so once with ``pytestmark``.
- ``slow``: the test takes more than about 2 s on the 2-core reference machine.

``python -m pytest -m "not solver and not slow"`` runs the fast part (the loader, the
checker, the command line's refusals, the documents) in seconds; ``-m "not slow"`` adds
the quick solves; no option runs everything.

Hypothesis runs derandomized everywhere (the ``deterministic`` profile below): every run
draws the same examples, so a test that passes once passes every time on the same
versions, and a failure is reproduced by running it again. Another profile can be chosen
with ``--hypothesis-profile NAME``.
"""

import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.load_profile("deterministic")
