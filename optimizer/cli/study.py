"""The what-if commands: ``optimizer sweep`` (a grid of one or two parameters, locally or
on Dask), ``optimizer marginal`` (what one more unit of each limit is worth) and
``optimizer explain`` (the checked solve and why an infeasible program is infeasible)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from optimizer.cli.common import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    _check_outputs,
    _distinct_outputs,
    _emit,
    _LiveSweep,
    _options,
    _quiet_fd1_if,
    _refuse_inputs,
    _Writes,
)
from optimizer.errors import UsageError
from optimizer.units import money, people
from optimizer.units import table as formatted


def _sweep(args: argparse.Namespace) -> int:
    from optimizer.program.loading import load
    from optimizer.whatif.sweeps import sweep

    grid = _sweep_grid(args)
    _check_outputs(args, [("--out", (".json", ".csv")), ("--plot", (".png",)),
                          ("--frequency-plot", (".png",))])
    _distinct_outputs(args, ["--out", "--plot", "--frequency-plot"])
    if args.scheduler is not None:
        try:
            import distributed  # noqa: F401 - an extra: is it installed?
        except ImportError:
            raise UsageError("--scheduler runs the sweep on Dask, whose 'distributed' package "
                             "is not installed; install it with: "
                             "pip install 'capital-portfolio-optimizer[dask]'") from None
    outputs = ["--out", "--plot", "--frequency-plot"]
    _refuse_inputs(args, outputs, tables=False)
    options = _options(args)
    instance = load(args.path)
    _refuse_inputs(args, outputs, tables=True)
    for warning in instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    client = None
    if args.scheduler is not None:
        from distributed import Client

        try:
            client = Client(args.scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--scheduler {args.scheduler}: cannot connect ({exc})") from None
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    live = _LiveSweep() if (not args.json and not args.log and sys.stderr.isatty()) else None
    try:
        with _quiet_fd1_if(args.json):
            result = sweep(instance, grid, options, workers=workers, client=client,
                           chunk_size=args.chunk_size, reuse=not args.cold,
                           share=not args.cold, progress=live)
    finally:
        if live is not None:
            live.close()
        if client is not None:
            client.close()
    writes = _Writes()
    if args.out is not None:
        writes.run(args.out, lambda: result.write(args.out))
    if args.plot is not None:
        writes.run(args.plot, lambda: result.plot(args.plot))
    if args.frequency_plot is not None:
        from optimizer.whatif.frontiers import plot_frequency

        writes.run(args.frequency_plot, lambda: plot_frequency(result, args.frequency_plot))
    if args.json:
        _emit(result.to_json() + "\n")
    else:
        _emit(result.summary() + "\n")
    code = 0
    invalid = (result.frame["status"] == "invalid").sum()
    if not result.complete:
        print(f"optimizer: interrupted: {len(result.points)} of {result.grid_size} points "
              "solved; those are reported", file=sys.stderr)
        code = EXIT_INTERRUPTED
    elif invalid:
        print(f"optimizer: {invalid} point(s) with a plan that breaks a rule; see the output",
              file=sys.stderr)
        code = EXIT_INTERNAL
    return writes.exit_code(code)


def _sweep_grid(args: argparse.Namespace) -> dict[str, list[float]]:
    from optimizer.whatif.sweeps import parse_range

    grid: dict[str, list[float]] = {}

    def add(name: str, text: str, flag: str) -> None:
        if name in grid:
            raise UsageError(f"{flag}: the parameter {name!r} is already swept")
        grid[name] = parse_range(text, flag)

    for flag, name in (("budget", "budget"), ("labor_scale", "labor_scale"),
                       ("budget_scale", "budget_scale"), ("hurdle", "hurdle_rate")):
        if getattr(args, flag) is not None:
            add(name, getattr(args, flag), f"--{flag.replace('_', '-')}")
    for flag in ("sector_min", "sector_max"):
        text = getattr(args, flag)
        if text is not None:
            sector, eq, values = text.partition("=")
            if not eq or not sector.strip():
                raise UsageError(f"--{flag.replace('_', '-')} {text!r}: write "
                                 "SECTOR=START:STOP:STEP")
            add(f"{flag}:{sector.strip()}", values, f"--{flag.replace('_', '-')}")
    for text in args.param:
        name, eq, values = text.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--param {text!r}: write NAME=START:STOP:STEP")
        add(name.strip(), values, "--param")
    if not grid:
        raise UsageError("sweep: name a parameter to sweep (--budget, --labor-scale, "
                         "--sector-min, --param ...)")
    return grid


def _marginal(args: argparse.Namespace) -> int:
    from optimizer.program.loading import load
    from optimizer.whatif.marginal import marginal_values

    options = _options(args)
    instance = load(args.path)
    with _quiet_fd1_if(args.json):
        table = marginal_values(instance, options=options)
    if args.json:
        records = json.loads(table.to_json(orient="records"))
        _emit(json.dumps({"program": instance.name, "limits": records},
                         indent=2) + "\n")
    else:
        import pandas as pd

        from formulations import registry
        from optimizer.whatif.marginal import STEPS, limits_of

        shown = table.copy()
        # each step as its rule's limit reads (the table's rows are the limits, in order)
        kinds = [getattr(registry.rule(m.ref.rule), "limit_amount", "money")
                 for m in limits_of(instance, STEPS)]
        shown["step"] = [
            people(s, instance.labor_unit) if kind == "people" else
            f"{s:g}" if kind == "rate" else money(s, instance.money_unit)
            for kind, s in zip(kinds, table["step"], strict=True)]
        with pd.option_context("display.width", 140, "display.max_columns", 20):
            _emit(f"{instance.name}: what each step of a limit is worth, as the change of the "
                  f"best return ({instance.money_unit})\n"
                  + formatted(shown.set_index("rule")) + "\n")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from optimizer.diagnosis.diagnose import diagnose

    options = _options(args)
    with _quiet_fd1_if(args.json):
        story = diagnose(args.path, options)
    for warning in story.instance.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _emit((story.to_json() if args.json else story.text()) + "\n")
    return story.exit_code
