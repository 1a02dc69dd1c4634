"""Writing files safely: atomic writes that keep the file's mode (or the umask's), output
paths checked before any work starts, and failed writes as clear errors. Every stage that
writes a file (results, sweeps, charts, benchmark history, generated documents) uses
these; they import nothing of the pipeline."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from optimizer.errors import UsageError

__all__ = ["atomic_write", "check_output", "check_output_dir", "current_umask",
           "write_errors", "same_file"]


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's file-mode creation mask, read without changing it where the system
    tells it (Linux's ``/proc/self/status``), else by setting and restoring it under a
    lock (the mask is process-wide: another thread creating a file in that instant would
    get mask 0)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def check_output(path: str | Path, flag: str, suffixes: tuple[str, ...] = ()) -> Path:
    """Check, before any work starts, that ``path`` can be written: its suffix is one of
    ``suffixes`` (any when empty), it is not a folder, and its folder exists and is a
    writable folder. Raises :class:`~optimizer.errors.UsageError` naming ``flag``, the
    path and the reason."""
    path = Path(path)
    where = f"{flag} {path}"
    if path.is_dir():
        raise UsageError(f"{where}: is a folder; name a file in it")
    if suffixes and path.suffix.lower() not in suffixes:
        names = " or ".join(", ".join(suffixes).rsplit(", ", 1))
        raise UsageError(f"{where}: the file must end in {names}")
    if path.exists() and not path.is_file():
        raise UsageError(f"{where}: exists and is not a regular file")
    folder = path.parent
    if not folder.exists():
        raise UsageError(f"{where}: the folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{where}: {str(folder)!r} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the folder {str(folder)!r} is not writable")
    return path


def check_output_dir(path: str | Path, flag: str) -> Path:
    """Check, before any work starts, that the folder ``path`` can be written into: it is a
    writable folder, or it does not exist yet and its nearest existing ancestor is one (it
    will be created). Raises :class:`~optimizer.errors.UsageError` naming ``flag``."""
    path = Path(path)
    where = f"{flag} {path}"
    if path.exists() and not path.is_dir():
        raise UsageError(f"{where}: exists and is not a folder")
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{where}: {str(ancestor)!r} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{where}: the folder {str(ancestor)!r} is not writable")
    return path


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place: the
    file is complete or absent, never half-written. A new file gets the mode any other
    program would give it, ``0o666`` less the process's umask (the temporary file is made
    0600). An existing file keeps its mode, and a symbolic link stays a link: the file it
    points to is the one replaced (the temporary file is made beside that file). Raises
    :class:`OSError` when the write fails (no space, folder gone), leaving no temporary
    file behind."""
    path = Path(path)
    target, mode = path, None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)  # follows a link to the file it names
    except OSError:  # a new file (or a dangling link: replaced, as before)
        pass
    else:
        target = Path(os.path.realpath(path))
    if mode is None:
        mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        try:
            view = memoryview(data.encode("utf-8") if isinstance(data, str) else data)
            while view:
                view = view[os.write(fd, view):]
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):  # pragma: no cover - Windows before Python 3.13
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:  # name the file, not tmp
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    return path


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same file where both exist (links and
    hard links included), else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one of them missing (or a path no system can hold)
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


@contextlib.contextmanager
def write_errors(path: str | Path) -> Iterator[None]:
    """A failed write inside (no space, permission lost, a folder gone, a database that
    cannot be written) as a :class:`~optimizer.errors.UsageError` naming the file (the
    one the error names, else ``path``) and the reason: the command exits 2."""
    import sqlite3

    try:
        yield
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str) else path
        raise UsageError(f"could not write {where}: {exc.strerror or exc}") from None
    except sqlite3.DatabaseError as exc:  # OperationalError too: disk full, read-only
        raise UsageError(f"could not write {path}: {exc}") from None
