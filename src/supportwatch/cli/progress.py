"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from supportwatch.pipeline import ObjectReport


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.total = total
        self.files = self.entries = self.support_events = 0
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._lock = threading.Lock()
        self._drawn = 0.0

    def advance(self, report: ObjectReport) -> None:
        with self._lock:
            self.files += 1
            self.entries += report.entries
            self.support_events += report.support_events
            if self._enabled and (self.files == self.total or time.monotonic() - self._drawn > 0.1):
                self._draw()

    def _draw(self) -> None:
        width = 24
        done = int(width * self.files / self.total) if self.total else width
        bar = "#" * done + "-" * (width - done)
        self._stream.write(
            f"\r[{bar}] {self.files}/{self.total} files  {self.entries} events  {self.support_events} support events"
        )
        self._stream.flush()
        self._drawn = time.monotonic()

    def close(self) -> None:
        if self._enabled and self.files:
            self._stream.write("\n")
            self._stream.flush()
