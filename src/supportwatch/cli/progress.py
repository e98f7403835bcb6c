"""Progress bars on stderr through `rich`: only on a terminal, fitted to its width, one clean final line.

API (scan, local, backfill; verify, report and any other command):

    from supportwatch.cli.progress import Progress

    with Progress(len(items), unit="files", counters=("events", "support events")) as progress:
        for item in items:
            ...
            progress.advance(events=120, **{"support events": 3})   # thread-safe; counters add up

    # object pipelines: progress.advance_report(report) adds entries and support events of an ObjectReport
    # the final line is drawn when the last step is done (or at close(), e.g. after an error)

While running the line reads `[bar] 12/40 files  3,150 events  4 support events  5.1 files/s  ETA 0:06`;
when done, `40/40 files ... in 0:08`. Counters and the bar give way on a narrow terminal (below 100 and
60 columns), so the line never wraps and no redraw leaves a stale line. When stderr is not a terminal
nothing is drawn at all (`enabled` forces either way, e.g. in tests).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, ProgressColumn, Task, TextColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from supportwatch.pipeline import ObjectReport

COUNTERS_FROM = 100  # columns from which the counters are shown
BAR_FROM = 60  # columns from which the bar is drawn


def duration(seconds: float) -> str:
    """`0:07`, `12:34`, `3:02:01`."""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


def timing(done: int, total: int | None, elapsed: float, unit: str) -> str:
    """`12.5 files/s  ETA 0:42` while running, `12.5 files/s  in 1:03` when done."""
    rate = done / max(elapsed, 1e-9)
    if total is not None and done >= total:
        return f"{rate:.1f} {unit}/s  in {duration(elapsed)}"
    if total is None or not rate:
        return f"{rate:.1f} {unit}/s  ETA ?"
    return f"{rate:.1f} {unit}/s  ETA {duration((total - done) / rate)}"


class _Timing(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        total = int(task.total) if task.total is not None else None
        return Text(timing(int(task.completed), total, task.finished_time or task.elapsed or 0.0, self.unit))


class Progress:
    """A progress line of `total` steps of `unit`, with running `counters` (see the module's docstring)."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        unit: str = "files",
        counters: Sequence[str] = ("events", "support events"),
    ) -> None:
        self.total = total
        self.done = 0
        self.counts = dict.fromkeys(counters, 0)
        console = Console(file=stream or sys.stderr, highlight=False)
        self.enabled = console.is_terminal if enabled is None else enabled
        columns: list[Any] = []
        if console.width >= BAR_FROM:
            columns.append(BarColumn(bar_width=20 if console.width >= COUNTERS_FROM else 10))
        columns.append(TextColumn(f"{{task.completed:,.0f}}/{{task.total:,.0f}} {unit}"))
        if counters and console.width >= COUNTERS_FROM:
            columns.append(TextColumn("{task.fields[counts]}"))
        columns.append(_Timing(unit))
        self._lock = threading.Lock()
        self._bar = RichProgress(*columns, console=console, disable=not self.enabled, transient=False)
        self._task = self._bar.add_task("", total=total, counts=self._counts())
        if self.enabled and total:
            self._bar.start()

    def _counts(self) -> str:
        return "  ".join(f"{count:,} {name}" for name, count in self.counts.items())

    def advance(self, steps: int = 1, **counts: int) -> None:
        """`steps` more done; each counter grows by its keyword's value."""
        with self._lock:  # advances from several threads add up
            self.done += steps
            for name, value in counts.items():
                self.counts[name] = self.counts.get(name, 0) + value
            self._bar.update(self._task, advance=steps, counts=self._counts())
            finished = self.done >= self.total
        if finished:
            self.close()

    def advance_report(self, report: ObjectReport) -> None:
        """One object done: its entries are events, its support events support events."""
        self.advance(1, events=report.entries, **{"support events": report.support_events})

    def close(self) -> None:
        """Draw the final line (when anything was done) and stop."""
        if self._bar.live.is_started:
            self._bar.refresh()
            self._bar.stop()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
