"""Stage 7, the command line (:mod:`optimizer.cli.main`)."""

from optimizer.cli.main import main, parser, run  # noqa: F401
