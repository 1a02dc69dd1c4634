"""The programs and benchmark sets shipped with the package, and the names that find them.

The checkout's top-level ``instances/`` folder installs as the package
``optimizer.instances`` (see ``pyproject.toml``), so an installed copy carries the pilot
program and the OR-Library sets wherever it is run from. :func:`resolve` is how every
command and :func:`optimizer.load` reach them:

* a path that names an existing file (or anything else that exists) is used as it is;
* otherwise, if it is one of the names ``optimizer examples`` lists, the shipped file:
  ``pilot`` (a shipped program, see :data:`PROGRAMS`) or an OR-Library set such as
  ``orlib/mknap1.txt`` (see :func:`sets`);
* otherwise the path is returned unchanged, for the caller to report as missing (a
  missing ``pilot/program.yaml`` is not read from the package: only the names are).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from optimizer.errors import UsageError
from optimizer.files import atomic_write

__all__ = ["PACKAGE", "PROGRAMS", "root", "resolve", "shipped", "programs", "sets",
           "orlib", "listing", "copy_out"]

#: The package that holds the shipped files.
PACKAGE = "optimizer.instances"

#: The shipped programs: name -> program file inside the package.
PROGRAMS = {"pilot": "pilot/program.yaml", "pilot-v1": "pilot-v1/program.yaml"}

#: Files of the package that are neither programs nor data of one.
_SKIP = {"__init__.py"}


def root() -> Path:
    """The folder of the shipped files: the installed ``optimizer.instances`` package, or
    the checkout's ``instances/`` folder where an old editable install does not map it."""
    from importlib import resources

    try:
        return Path(str(resources.files(PACKAGE)))
    except ModuleNotFoundError:  # pragma: no cover - an editable install made before
        return Path(__file__).resolve().parents[1] / "instances"


def _exists(path: Path) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):  # a NUL byte, a name too long: not a shipped name either
        return False


def shipped(name: str | os.PathLike[str]) -> Path | None:
    """The shipped file a registered name stands for, or None: a program's name
    (``pilot``) or an OR-Library set's (``orlib/mknap1.txt``), as ``optimizer examples``
    lists them."""
    try:
        text = os.fspath(name)
        if text in PROGRAMS:
            candidate = root().joinpath(*PROGRAMS[text].split("/"))
        elif text.startswith("orlib/") and text in sets():
            candidate = root().joinpath(*text.split("/"))
        else:
            return None
        return candidate if candidate.is_file() else None
    except (OSError, ValueError, TypeError):  # not a name this package ships
        return None


def resolve(path: str | os.PathLike[str]) -> Path:
    """``path`` itself where it exists, else the shipped file it names (a registered
    name, see :func:`shipped`), else ``path`` unchanged (the caller reports it missing)."""
    given = Path(path)
    if _exists(given):
        return given
    found = shipped(path)
    return given if found is None else found


def programs() -> dict[str, Path]:
    """Every shipped program: name -> its file."""
    base = root()
    return {name: base.joinpath(*rel.split("/")) for name, rel in PROGRAMS.items()}


def orlib() -> Path:
    """The folder of the shipped OR-Library knapsack sets."""
    return root() / "orlib"


def sets() -> list[str]:
    """Every shipped OR-Library knapsack file, as the name ``convert`` takes
    (``orlib/mknap1.txt``, ``orlib/gk/gk01.dat``)."""
    base = orlib()
    found = [p for p in base.rglob("*") if p.is_file() and
             (p.suffix == ".dat" or p.name.startswith("mknap"))]
    return sorted(("orlib/" + p.relative_to(base).as_posix() for p in found),
                  key=lambda name: (name.count("/"), natural_order(name)))


def natural_order(text: str) -> tuple[object, ...]:
    """A sort key that orders the numbers in names by value: mknapcb2 before mknapcb10."""
    import re

    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


#: What each shipped OR-Library file holds (file-name pattern -> description).
_SET_NOTES = (
    (r"mknap1\.txt", "Petersen's R&D project selection (1967): 7 problems, proven optima"),
    (r"mknap2\.txt", "SAC-94 collection (SENTO, WEING, WEISH, PB, HP): 48 problems"),
    (r"mknapcb\d\.txt", "Chu and Beasley (1998): 30 problems"),
    (r"gk/gk\d+\.dat", "Glover and Kochenberger: 1 problem"),
)


def listing() -> str:
    """The shipped programs and OR-Library sets, as ``optimizer examples`` prints them."""
    import re

    import yaml

    lines = ["Programs (solve one by name: optimizer solve pilot):"]
    for name, path in programs().items():
        try:
            title = yaml.safe_load(path.read_text(encoding="utf-8")).get("name", "")
        except (OSError, ValueError, AttributeError, yaml.YAMLError):
            title = ""
        lines.append(f"  {name:<22} {title}")
    lines += ["", "OR-Library knapsack sets (convert one by name: "
                  "optimizer convert orlib orlib/mknap1.txt --out DIR):"]
    for name in sets():
        note = next((text for pattern, text in _SET_NOTES
                     if re.fullmatch(f"orlib/{pattern}", name)), "")
        lines.append(f"  {name:<22} {note}")
    lines += ["", f"The files are in {root()}; copy one out with "
                  "optimizer examples --copy DIR [NAME]."]
    return "\n".join(lines)


def copy_out(name: str, dest: str | os.PathLike[str]) -> list[Path]:
    """Copy a shipped program (its folder: program, tables, sources) or an OR-Library set
    (with the best-known table beside it) into the folder ``dest``; the paths written.
    Files and folders get the modes any other program would give them under the umask.
    Never overwrites: a :class:`~optimizer.errors.UsageError` names what is in the way."""

    found = shipped(name)
    if found is None:
        raise UsageError(f"examples: {name!r} is not a shipped program or set; "
                         f"choose from {', '.join([*PROGRAMS, *sets()])}")
    out = Path(dest)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--copy {out}: exists and is not a folder")
    if name in PROGRAMS:
        target = out / found.parent.name
        if target.exists():
            raise UsageError(f"--copy {out}: {target} already exists; nothing copied")
        files = sorted(p for p in found.parent.rglob("*") if p.is_file()
                       and p.name not in _SKIP and "__pycache__" not in p.parts)
        pairs = [(src, target / src.relative_to(found.parent)) for src in files]
        _copy_all(pairs, out)
        return [target / found.name]
    target = out / found.name
    if target.exists():
        raise UsageError(f"--copy {out}: {target} already exists; nothing copied")
    pairs = [(found, target)]
    table = orlib() / "best_known.csv"
    if table.is_file() and not (out / table.name).exists():
        pairs.append((table, out / table.name))
    return _copy_all(pairs, out)


def _copy_all(pairs: list[tuple[Path, Path]], out: Path) -> list[Path]:
    """Copy each (source, copy), making the folders (mode 0o777 less the umask); a failed
    copy (no space, permission lost) removes the files and folders made before it raises,
    never what was there before, so that the same command can run again."""

    written: list[Path] = []
    made: list[Path] = []
    try:
        for src, copy in pairs:
            missing = [d for d in (copy.parent, *copy.parent.parents) if not os.path.lexists(d)]
            os.makedirs(copy.parent, exist_ok=True)
            made += missing  # deepest first
            written.append(atomic_write(copy, src.read_bytes()))
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        for folder in sorted(made, key=lambda d: len(d.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return written
