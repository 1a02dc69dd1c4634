"""Generated blocks of documents: the text between two marker lines of a file, replaced
by what the code renders (the format's field tables, the CLI reference) or checked
against it, and generated files (the shipped JSON Schema). ``python -m`` entry points of
:mod:`optimizer.program.vocabulary`, :mod:`optimizer.program.schema` and
:mod:`optimizer.cli.clidoc` share this."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from optimizer.files import atomic_write

__all__ = ["Block", "replace_block", "generated_block", "replace_blocks", "write_blocks",
           "blocks_main", "file_main"]


#: A generated block of a document: its begin line, its end line, and what renders it.
Block = tuple[str, str, Callable[[], str]]


def replace_block(text: str, block: str, begin: str, end: str) -> str:
    """``text`` with whatever lies between the ``begin`` and ``end`` lines replaced by
    ``block``; a ValueError when the two lines are not both there, once, in that order."""
    head, found, rest = text.partition(begin + "\n")
    if not found or rest.count(end) != 1 or (begin + "\n") in rest:
        raise ValueError(f"the file must hold the line {begin!r} once, followed by "
                         f"the line {end!r} once")
    _old, _, tail = rest.partition(end)
    return f"{head}{begin}\n{block}{end}{tail}"


def generated_block(text: str, begin: str, end: str) -> str:
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
    whole or not at all (:func:`optimizer.results.result.atomic_write`); return whether it
    changed. Raises OSError, or ValueError when a marker is missing."""
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
    ``--write`` it (whole, :func:`optimizer.results.result.atomic_write`) or ``--check`` it (exit
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
            atomic_write(path, text)
    except OSError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0
