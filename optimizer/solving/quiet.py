"""What HiGHS shares across a process: standard output (its banner and log) and its
thread scheduler. Every call into HiGHS goes through :func:`quiet_stdout` so that
machine-readable output stays clean, and :func:`match_thread_scheduler` before a run."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["quiet_stdout", "match_thread_scheduler"]


@contextlib.contextmanager
def quiet_stdout(to_stderr: bool = False) -> Iterator[None]:
    """Point file descriptor 1 at the null device (or, ``to_stderr``, at standard error,
    for HiGHS's log) for the duration: HiGHS prints its banner there when a ``Highs``
    object is made, whatever its options say, and its log when logging is on."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
        sink = os.dup(2) if to_stderr else os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        yield
        return
    try:
        os.dup2(sink, 1)
        os.close(sink)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)



_scheduler_threads: list[int | None] = []  # the thread count the process's scheduler has


def match_thread_scheduler(threads: int | None) -> None:
    """Restart HiGHS's thread scheduler when a solve asks for another thread count.

    The scheduler is global to the process and keeps the thread count of the first solve:
    a later solve asking for another count fails (an LP) or silently runs with the old
    count (a MIP). Call before every run; not safe while another solve runs in this
    process (this package never runs two at once).
    """
    import highspy

    if _scheduler_threads and _scheduler_threads[0] != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[:] = [threads]


