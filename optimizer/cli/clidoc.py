"""The command-line reference, rendered from the parser itself.

:func:`render` walks :func:`optimizer.cli.parser.parser` (the top-level options, then every
subcommand with its positional arguments and flags) and returns Markdown: for each
command its one-line purpose, its synopsis as argparse prints it, and a table of its
arguments with their metavar or choices, default and help. Because the text comes from
the parser, a flag added, renamed or removed changes the reference the next time it is
written::

    python -m optimizer.cli.clidoc --write docs/cli.md   # replace the generated block
    python -m optimizer.cli.clidoc --check docs/cli.md   # exit 1 if the block is stale
    python -m optimizer.cli.clidoc                       # print the block

``--write`` replaces the text between the lines :data:`BEGIN` and :data:`END` and leaves
the rest of the file as it is. The same machinery (:func:`blocks_main`,
:func:`write_blocks`) writes the generated tables of ``docs/format.md``
(:mod:`optimizer.program.vocabulary`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from optimizer import generated

__all__ = ["BEGIN", "END", "render", "subcommands", "generated_block", "main"]

BEGIN = "<!-- BEGIN generated: cli -->"
END = "<!-- END generated: cli -->"
#: Width at which synopses are wrapped: fixed, so the text does not depend on the terminal.
WIDTH = 90


def subcommands(p: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """Each subcommand's name -> (its one-line help, its parser), in the parser's order."""
    out: dict[str, tuple[str, argparse.ArgumentParser]] = {}
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out[name] = (helps.get(name, ""), sub)
    return out


def _visible(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments worth a row: not hidden, not the subcommand list, not ``--help``."""
    return [a for a in p._actions
            if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction
                                                              | argparse._HelpAction)]


def _synopsis(p: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(prog=p.prog, width=WIDTH)
    formatter.add_usage(p.usage, p._actions, p._mutually_exclusive_groups, prefix="")
    return formatter.format_help().strip()


def _cell(text: str) -> str:
    """Text that is safe inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"`` {text} ``"


def _value(action: argparse.Action) -> str:
    """What the argument takes: its choices, its metavar, or nothing for a switch."""
    if action.nargs == 0 or (not action.option_strings and action.choices is None):
        return ""
    if action.choices is not None and not isinstance(action.choices, dict):
        return " \\| ".join(_code(str(c)) for c in action.choices)
    metavar = action.metavar
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return _code(str(metavar or action.dest.upper()))


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.required or not action.option_strings:
        return ""
    default = action.default
    if default is None or default == argparse.SUPPRESS or default == []:
        return ""
    return _code(repr(default) if isinstance(default, str) and not default else str(default))


def _name(action: argparse.Action) -> str:
    if not action.option_strings:
        return _code(str(action.metavar or action.dest))
    return ", ".join(_code(s) for s in action.option_strings)


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if action.option_strings and action.required:
        text = f"required. {text}" if text else "required"
    repeatable = action.nargs == argparse.ONE_OR_MORE or isinstance(action,
                                                                    argparse._AppendAction)
    if repeatable and "repeatable" not in text:
        text = f"{text} (repeatable)" if text else "repeatable"
    return _cell(text)


def _table(actions: Sequence[argparse.Action]) -> list[str]:
    lines = ["| argument | value | default | what it does |", "|---|---|---|---|"]
    for action in actions:
        lines.append(f"| {_name(action)} | {_value(action)} | {_default(action)} | "
                     f"{_help(action)} |")
    return lines


def render(p: argparse.ArgumentParser | None = None) -> str:
    """The Markdown reference of every command of ``p`` (default: the optimizer's parser)."""
    if p is None:  # the CLI's parser only here: program/ renders its blocks without it
        from optimizer.cli.parser import parser

        p = parser()
    lines: list[str] = [
        "<!-- written by `python -m optimizer.cli.clidoc --write docs/cli.md`; do not edit "
        "by hand -->", ""]
    top = _visible(p)
    lines += ["### `optimizer`", "", "```", _synopsis(p), "```", ""]
    if p.description:
        lines += [_cell(p.description), ""]
    if top:
        lines += _table(top) + [""]
    lines += ["Every command also takes `-h` / `--help`.", ""]
    subs = subcommands(p)
    if subs:
        lines += ["Commands: " + ", ".join(f"[`{name}`](#optimizer-{name})"
                                           for name in subs), ""]
    for name, (purpose, sub) in subs.items():
        lines += [f"### `optimizer {name}`", ""]
        if purpose:
            lines += [_cell(purpose[:1].upper() + purpose[1:]) + ".", ""]
        lines += ["```", _synopsis(sub), "```", ""]
        actions = _visible(sub)
        if actions:
            lines += _table(actions) + [""]
    return "\n".join(lines).rstrip() + "\n"


def generated_block(text: str, begin: str = BEGIN, end: str = END) -> str:
    """The text between the ``begin`` and ``end`` lines of ``text`` (the CLI reference's
    markers by default)."""
    return generated.generated_block(text, begin, end)


def main(argv: Sequence[str] | None = None) -> int:
    return generated.blocks_main("python -m optimizer.cli.clidoc",
                       "Render the command-line reference from the parser.",
                       [(BEGIN, END, render)], argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
