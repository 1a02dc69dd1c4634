"""The command-line reference, rendered from the parser itself.

:func:`render` walks :func:`optimizer.cli.parser` (the top-level options, then every
subcommand with its positional arguments and flags) and returns Markdown: for each
command its one-line purpose, its synopsis as argparse prints it, and a table of its
arguments with their metavar or choices, default and help. Because the text comes from
the parser, a flag added, renamed or removed changes the reference the next time it is
written::

    python -m optimizer.clidoc --write docs/cli.md   # replace the generated block
    python -m optimizer.clidoc --check docs/cli.md   # exit 1 if the block is stale
    python -m optimizer.clidoc                       # print the block

``--write`` replaces the text between the lines :data:`BEGIN` and :data:`END` and leaves
the rest of the file as it is. The same machinery (:func:`blocks_main`,
:func:`write_blocks`) writes the generated tables of ``docs/format.md``
(:mod:`optimizer.vocabulary`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

__all__ = ["BEGIN", "END", "render", "subcommands", "replace_block", "generated_block",
           "replace_blocks", "write_blocks", "blocks_main", "file_main", "main"]

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
    if p is None:
        from optimizer.cli import parser

        p = parser()
    lines: list[str] = [
        "<!-- written by `python -m optimizer.clidoc --write docs/cli.md`; do not edit "
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


# ------------------------------------------------------------- generated blocks
#: A generated block of a document: its begin line, its end line, and what renders it.
Block = tuple[str, str, Callable[[], str]]


def replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with whatever lies between the ``begin`` and ``end`` lines replaced by
    ``block``; a ValueError when the two lines are not both there, once, in that order."""
    head, found, rest = text.partition(begin + "\n")
    if not found or rest.count(end) != 1 or (begin + "\n") in rest:
        raise ValueError(f"the file must hold the line {begin!r} once, followed by "
                         f"the line {end!r} once")
    _old, _, tail = rest.partition(end)
    return f"{head}{begin}\n{block}{end}{tail}"


def generated_block(text: str, begin: str = BEGIN, end: str = END) -> str:
    """The text between the ``begin`` and ``end`` lines of ``text``."""
    _, found, rest = text.partition(begin + "\n")
    if not found or end not in rest:
        raise ValueError(f"no block between {begin!r} and {end!r}")
    return rest.partition(end)[0]


def replace_blocks(text: str, blocks: Iterable[tuple[str, str, str]]) -> str:
    """``text`` with every block ``(begin, end, content)`` replaced (:func:`replace_block`)."""
    for begin, end, content in blocks:
        text = replace_block(text, content, begin, end)
    return text


def write_blocks(path: str | Path, blocks: Iterable[tuple[str, str, str]]) -> bool:
    """Replace the blocks ``(begin, end, content)`` of the file at ``path``, written
    whole or not at all (:func:`optimizer.results.atomic_write`); return whether it
    changed. Raises OSError, or ValueError when a marker is missing."""
    from optimizer.results import atomic_write  # results imports pandas: only here

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = replace_blocks(text, blocks)
    if new == text:
        return False
    atomic_write(path, new)
    return True


def blocks_main(prog: str, description: str, blocks: Sequence[Block],
                argv: Sequence[str] | None = None) -> int:
    """The command line of a generator of blocks: print them, ``--write FILE`` (replace
    them in FILE; exit 2 when a marker is missing) or ``--check FILE`` (exit 1 when FILE's
    blocks differ from what the code renders)."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    group = ap.add_mutually_exclusive_group()
    markers = " and ".join(f"{b} ... {e}" for b, e, _ in blocks)
    group.add_argument("--write", metavar="FILE.md",
                       help=f"replace the text between {markers} in FILE.md")
    group.add_argument("--check", metavar="FILE.md",
                       help="exit 1 if FILE.md's generated text differs from the code's")
    args = ap.parse_args(argv)
    rendered = [(begin, end, render()) for begin, end, render in blocks]
    target = args.write or args.check
    if target is None:
        sys.stdout.write("".join(content for _, _, content in rendered))
        return 0
    path = Path(target)
    try:
        if args.check:
            text = path.read_text(encoding="utf-8")
            if replace_blocks(text, rendered) != text:
                print(f"{path}: the generated text is stale; run {prog} --write {path}",
                      file=sys.stderr)
                return 1
            return 0
        changed = write_blocks(path, rendered)
    except (OSError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: {'updated' if changed else 'already up to date'}")
    return 0


def file_main(prog: str, description: str, path: Path, render: Callable[[], str],
              argv: Sequence[str] | None = None) -> int:
    """The command line of a generated file (the shipped JSON Schema): print it,
    ``--write`` it (whole, :func:`optimizer.results.atomic_write`) or ``--check`` it (exit
    1 when the file differs from what the code renders)."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"rewrite {path}")
    group.add_argument("--check", action="store_true",
                       help=f"exit 1 if {path} differs from what the code generates")
    args = ap.parse_args(argv)
    text = render()
    if not (args.write or args.check):
        sys.stdout.write(text)
        return 0
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if args.check:
            if old != text:
                print(f"{path}: stale; run {prog} --write", file=sys.stderr)
                return 1
            return 0
        if old != text:
            from optimizer.results import atomic_write

            atomic_write(path, text)
    except OSError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return blocks_main("python -m optimizer.clidoc",
                       "Render the command-line reference from the parser.",
                       [(BEGIN, END, render)], argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
