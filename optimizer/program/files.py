"""Reading a file of a program: only a regular file (not a device, a named pipe, a socket
or a directory), within a size limit, whatever size it says it has (:func:`read_regular`);
why one cannot be read is an :class:`Unreadable` in words.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["Unreadable", "read_regular", "line_of"]


def line_of(raw: bytes, offset: int) -> str:
    newlines = raw.count(b"\n", 0, offset)
    return f"line {newlines + 1}"


class Unreadable(Exception):
    """Why a path cannot be read as a file, in words; ``kind`` is one of "missing",
    "directory", "special", "path", "large" or "error"."""

    def __init__(self, message: str, kind: str = "error", limit: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.limit = kind, limit

    def words(self, what: str) -> str:
        """Why the file cannot be read, as the rest of a sentence about it; ``what`` is
        what the file should have been ("a program file", "a table")."""
        if self.kind == "missing":
            return "not found"
        if self.kind == "directory":
            return f"is a directory, not a regular file; give {what}"
        if self.kind == "special":
            return f"is {self}, not a regular file; give {what}"
        if self.kind == "large" and self.limit is not None:
            return f"{self}; {what} may be at most {self.limit:,} bytes"
        return str(self)


def _not_regular(mode: int) -> str | None:
    """What a file of this mode is, where it is not a regular file (None where it is)."""
    if stat.S_ISREG(mode):
        return None
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "not a regular file"


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Only regular files are read: a device (``/dev/zero``, ``/dev/urandom``: their size
    reads 0 and they never end), a named pipe (it would block until a writer comes), a
    socket or a directory is refused before it is opened, and checked again once open
    (opened without blocking). At most ``limit + 1`` bytes are read whatever the size
    says (``/proc`` files say 0). Raises :class:`Unreadable`.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise Unreadable("file not found", "missing") from None
    except ValueError:  # "embedded null byte": no file name holds one
        raise Unreadable("the path holds a NUL byte, which no file name can hold",
                          "path") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror}") from None
    kind = _not_regular(info.st_mode)
    if kind is not None:
        raise Unreadable(kind, "directory" if stat.S_ISDIR(info.st_mode) else "special")
    if info.st_size > limit:
        raise Unreadable(f"is {info.st_size:,} bytes", "large", limit)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror}") from None
    chunks: list[bytes] = []
    total = 0
    try:
        info = os.fstat(fd)
        kind = _not_regular(info.st_mode)  # replaced between the stat and the open
        if kind is not None:
            raise Unreadable(kind, "directory" if stat.S_ISDIR(info.st_mode) else "special")
        want = info.st_size + 1  # one read for the whole file, one to see its end
        while total <= limit:
            chunk = os.read(fd, min(max(want, 1 << 16), limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = 1 << 24
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise Unreadable(f"is more than {limit:,} bytes", "large", limit)
    return b"".join(chunks)
