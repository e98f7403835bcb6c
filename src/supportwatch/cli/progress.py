"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from supportwatch.pipeline import ObjectReport


def duration(seconds: float) -> str:
    """`0:07`, `12:34`, `3:02:01`."""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


class Progress:
    """Files, events and support events so far; with `timing`, the rate and the time left (ETA)."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        timing: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.files = self.entries = self.support_events = 0
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._timing = timing
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._drawn = 0.0

    def advance(self, report: ObjectReport) -> None:
        with self._lock:
            self.files += 1
            self.entries += report.entries
            self.support_events += report.support_events
            if self._enabled and (self.files == self.total or self._clock() - self._drawn > 0.1):
                self._draw()

    def timing(self) -> str:
        """`12.5 files/s  ETA 0:42` while running, `12.5 files/s  in 1:03` when done."""
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.files / elapsed
        left = self.total - self.files
        when = f"in {duration(elapsed)}" if left <= 0 else f"ETA {duration(left / rate)}" if rate else "ETA ?"
        return f"{rate:.1f} files/s  {when}"

    def _draw(self) -> None:
        width = 24
        done = int(width * self.files / self.total) if self.total else width
        bar = "#" * done + "-" * (width - done)
        timing = f"  {self.timing()}\x1b[K" if self._timing else ""  # ETA shrinks: clear the line's end
        self._stream.write(
            f"\r[{bar}] {self.files}/{self.total} files  {self.entries} events  {self.support_events} support events"
            + timing
        )
        self._stream.flush()
        self._drawn = self._clock()

    def close(self) -> None:
        if self._enabled and self.files:
            self._stream.write("\n")
            self._stream.flush()
