"""The commands around a solve: ``optimizer validate`` and ``optimizer schema`` (the
program file), ``generate``, ``convert`` and ``examples`` (programs to solve), and
``optimizer bench`` (the benchmark suites and their report, :mod:`optimizer.bench`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from optimizer import bench
from optimizer.cli.common import _emit, _written
from optimizer.errors import UsageError
from optimizer.program import shipped


def _validate(args: argparse.Namespace) -> int:
    from optimizer.program.loading import load

    instance = load(args.path)
    for warning in instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    shown = args.path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if args.json:
        _emit(json.dumps({"status": "valid", "source": shown, "name": instance.name,
                          "projects": instance.n_projects,
                          "horizon": [instance.first_year, instance.last_year],
                          "sectors": list(instance.sectors),
                          "warnings": list(instance.warnings)},
                         indent=2, ensure_ascii=False) + "\n")
        return 0
    print(f"{shown}: valid ({instance.n_projects} projects, "
          f"{instance.first_year}-{instance.last_year}, {len(instance.sectors)} sectors)")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from optimizer.program.schema import schema_text

    _emit(schema_text())
    return 0


def _generate(args: argparse.Namespace) -> int:
    from optimizer.program.generate import generate, write
    from optimizer.program.generate_v2 import generate_v2
    from optimizer.results.result import check_output_dir

    check_output_dir(args.out, "--out")
    program = (generate_v2 if args.format == "2" else generate)(
        args.projects, years=args.years, seed=args.seed, first_year=args.first_year)
    print(_written(args.out, lambda: write(program, args.out)))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from optimizer.program.orlib import convert
    from optimizer.results.result import check_output_dir

    check_output_dir(args.out, "--out")
    for path in _written(args.out, lambda: convert(args.path, args.out, args.best_known)):
        print(path)
    return 0


def _examples(args: argparse.Namespace) -> int:
    if args.copy is not None:
        for path in _written(args.copy, lambda: shipped.copy_out(args.name or "pilot",
                                                                 args.copy)):
            print(path)
    elif args.name is not None:
        found = shipped.shipped(args.name)
        if found is None:
            raise UsageError(f"examples: {args.name!r} is not a shipped program or set; "
                             "run `optimizer examples` for the list")
        print(found)
    else:
        print(shipped.listing())
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.target == "report":
        code, path = bench.report(Path(args.history), Path(args.out), args.suite)
        print(path)
        if code:
            print("optimizer: regressions found; see the report", file=sys.stderr)
        return code
    run_id = bench.run_suite(args.target, Path(args.history),
                             bench.Options(time_limit=args.time_limit, threads=args.threads,
                                           gap=args.gap), only=args.only)
    print(f"run {run_id} recorded in {args.history}")
    return 0
