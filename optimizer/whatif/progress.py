"""A sweep's live progress: points done of the total, and the elapsed time ticking while
points run."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optimizer.whatif.points import Point

__all__ = ["SweepProgress", "TICK_SECONDS", "Reporter"]


@dataclass(frozen=True)
class SweepProgress:
    """A live report from a running sweep: ``done`` of ``total`` points solved after
    ``elapsed`` seconds, and the status and parameters of the last point done."""

    done: int
    total: int
    elapsed: float
    last_status: str | None
    last_parameters: dict[str, float] | None


#: Seconds between two progress reports while points run (elapsed time refreshed even
#: when no point finishes).
TICK_SECONDS = 0.5


class Reporter:
    """The sweep's progress: a report when points are done (:meth:`done`) and, between
    them, at least every :data:`TICK_SECONDS` (:meth:`tick`, called by the wait loops or
    by :meth:`ticking`'s thread), so that the elapsed time moves while points run."""

    def __init__(self, progress: Callable[[SweepProgress], None] | None, total: int,
                 started: float) -> None:
        self.progress, self.total, self.started = progress, total, started
        self.count = 0
        self.status: str | None = None
        self.parameters: dict[str, float] | None = None
        self.last = -math.inf
        self.lock = threading.Lock()

    def _send(self) -> None:
        assert self.progress is not None
        self.last = time.perf_counter()
        self.progress(SweepProgress(self.count, self.total, self.last - self.started,
                                    self.status, self.parameters))

    def done(self, points: list[Point]) -> None:
        if self.progress is None or not points:
            return
        with self.lock:
            self.count += len(points)
            self.status = points[-1].result.status
            self.parameters = dict(points[-1].parameters)
            self._send()

    def tick(self) -> None:
        if self.progress is None:
            return
        with self.lock:
            if time.perf_counter() - self.last >= TICK_SECONDS:
                self._send()

    @contextlib.contextmanager
    def ticking(self) -> Iterator[None]:
        """A daemon thread calling :meth:`tick` while the block runs (the serial path,
        whose solves hold this thread)."""
        if self.progress is None:
            yield
            return
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(TICK_SECONDS / 2):
                self.tick()

        thread = threading.Thread(target=run, name="sweep-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
