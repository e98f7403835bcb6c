"""Every table the CLI prints, through `rich`, fitted to the terminal.

API (for any command: scan, local, query, and verify/report/doctor):

    from supportwatch.cli.render import Column, print_table, shorten_identities, width

    columns = [
        Column("IDENTITY", together=shorten_identities),  # priority 0: always shown; one form for all
        Column("CALLS", right=True),
        Column("REGIONS", priority=3),                # dropped first when the terminal is narrow
        Column("FIRST SEEN", compact=minute),         # `compact` shortens each value unless --wide
    ]
    print_table(columns, rows, wide=args.wide)      # rows: sequences of str, one per column
    print_text("3 entries skipped: ...")           # prose under a table, wrapped at the width

- `Column(..., wrap=True, most=28)`: values are never cut but folded onto more lines, the column at
  most `most` wide; `Column(..., style=lambda cell: "green")`: the cell's colour.

- Width: the terminal's, or `COLUMNS` when set (rich reads both); 80 when piped without `COLUMNS`;
  at most `limit` when given (doctor's 80 columns).
  No line is longer than that: columns with the highest `priority` number are dropped until the
  rest fit at their least width, then `shrink` columns shorten each value and `together` columns
  all their values at once (identities: every one in the same form, identities/short.py), and rich
  cuts with an ellipsis what still does not fit.
- `wide=True`: every column with full values, whatever the width.
- Colour only when stdout is a terminal (rich's own detection); JSON and CSV never go through here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from supportwatch.identities.short import ELLIPSIS, shorten_identities, shorten_identity

GAP = 2  # spaces between columns
SEVERITY_ORDER = ("critical", "high", "medium", "low")
SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow"}

__all__ = [
    "Column",
    "alerts_by_severity",
    "clip",
    "console",
    "minute",
    "print_table",
    "print_text",
    "severity_style",
    "shorten_identities",
    "shorten_identity",
    "width",
]


def clip(value: str, size: int) -> str:
    """The start of `value`, with an ellipsis when cut."""
    return value if len(value) <= size else value[: max(size - 1, 0)] + ELLIPSIS


def minute(timestamp: str) -> str:
    """`2023-09-11T16:34:13Z` -> `2023-09-11 16:34`."""
    return timestamp[:16].replace("T", " ")


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    right: bool = False  # numbers
    shrink: Callable[[str, int], str] | None = None  # how a value fits a narrower column
    least: int = 16  # a shrinkable column is never made narrower than this
    priority: int = 0  # 0: always shown; higher numbers are dropped first on a narrow terminal
    compact: Callable[[str], str] | None = None  # the value's short form, unless --wide
    wrap: bool = False  # long values are folded onto more lines, never cut
    most: int | None = None  # a wrapping column is never wider than this
    style: Callable[[str], str] | None = None  # a cell's style (colour), shown on a terminal only
    together: Callable[[Sequence[str], int], list[str]] | None = None  # shortens all values at once

    def narrows(self) -> bool:
        """Whether the column can be narrower than its widest value (shortened or folded)."""
        return self.shrink is not None or self.together is not None or self.wrap

    def fitted(self, values: Sequence[str], size: int) -> list[str]:
        """The column's values in `size` characters (folded columns are left whole, for rich to fold)."""
        if self.wrap or all(len(value) <= size for value in values):
            return list(values)
        if self.together:
            return self.together(values, size)
        return [(self.shrink or clip)(value, size) if len(value) > size else value for value in values]


def console(stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr): rich knows its width and whether it is a terminal."""
    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=False)


def width() -> int:
    return console().width


def _fit(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], room: int
) -> tuple[list[int], list[list[str]], list[int]]:
    """Which columns are shown, their cells (shortened to fit) and widths."""
    natural = [
        min(max(len(column.title), *(len(row[i]) for row in rows)), column.most or 1_000_000)
        for i, column in enumerate(columns)
    ]

    def least(i: int) -> int:
        column = columns[i]
        return min(natural[i], max(column.least, len(column.title))) if column.narrows() else natural[i]

    shown = list(range(len(columns)))
    while len(shown) > 1 and sum(least(i) for i in shown) + GAP * (len(shown) - 1) > room:
        droppable = [i for i in shown if columns[i].priority > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].priority, i)))
    sizes = [natural[i] for i in shown]
    while sum(sizes) + GAP * (len(sizes) - 1) > room:
        shrinkable = [n for n, i in enumerate(shown) if columns[i].narrows() and sizes[n] > least(i)]
        if not shrinkable:
            break
        sizes[max(shrinkable, key=lambda n: sizes[n])] -= 1
    fitted = [columns[i].fitted([row[i] for row in rows], size) for i, size in zip(shown, sizes, strict=True)]
    return shown, [list(row) for row in zip(*fitted, strict=True)], sizes


def build_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], wide: bool = False, room: int = 0) -> Table:
    """The rich Table of `rows` under `columns`, fitted to `room` (default: the console's width) unless `wide`."""
    if not wide:
        columns_ = list(columns)
        rows = [
            [column.compact(cell) if column.compact else cell for cell, column in zip(row, columns_, strict=True)]
            for row in rows
        ]
    room = 1_000_000 if wide else room or width()
    shown, cells, _ = _fit(columns, rows, room) if rows else (list(range(len(columns))), [], [])
    table = Table(box=None, pad_edge=False, padding=(0, GAP // 2), show_edge=False, header_style="bold")
    for i in shown:
        column = columns[i]
        justify = "right" if column.right else "left"
        if column.wrap:
            table.add_column(column.title, justify=justify, overflow="fold", max_width=column.most)
        else:
            table.add_column(column.title, justify=justify, no_wrap=True, overflow="ellipsis")
    for row in cells:  # Text: a `[` in a value is not markup
        table.add_row(*(_cell(cell, columns[i]) for cell, i in zip(row, shown, strict=True)))
    return table


def _cell(value: str, column: Column) -> Text:
    return Text(value, style=column.style(value) if column.style else "")


def print_table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], wide: bool = False, limit: int | None = None
) -> None:
    """`rows` as a table on stdout, at most `limit` columns wide (see the module's docstring)."""
    out = console()
    room = min(out.width, limit or out.width)
    if wide:
        out = Console(file=out.file, highlight=False, soft_wrap=True, width=1_000_000)
    _print(out, build_table(columns, rows, wide, room), crop=not wide, width=None if wide else room)


def _print(out: Console, renderable: Table | Text, **options: Any) -> None:
    """Print through rich, each line without the trailing spaces rich pads and wraps with."""
    with out.capture() as captured:
        out.print(renderable, **options)
    out.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def print_text(text: str, style: str = "", unbroken: bool = False) -> None:
    """Prose on stdout, wrapped at the terminal's width (`unbroken`: a command to copy and paste), styled on a
    terminal only (a `[` in it is not markup)."""
    _print(console(), Text(text, style=style), soft_wrap=unbroken)


def severity_style(severity: str) -> str:
    """The colour of a severity (any case), on a terminal."""
    return SEVERITY_STYLES.get(severity.lower(), "")


def alerts_by_severity(alerts: Sequence[dict]) -> list[dict]:
    """Alerts by severity (critical first), then time (the event's, else the window)."""
    order = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}
    return sorted(
        alerts,
        key=lambda alert: (
            order.get(alert["severity"], len(order)),
            alert.get("eventTime") or alert["window"],
            alert["title"],
        ),
    )
