"""Aligned text tables that fit an 80-column terminal: long identities are shortened, not wrapped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 80
GAP = "  "
ELLIPSIS = "…"


def clip(value: str, width: int) -> str:
    """The start of `value`, with an ellipsis when cut."""
    return value if len(value) <= width else value[: max(width - 1, 0)] + ELLIPSIS


def clip_middle(value: str, width: int) -> str:
    """Both ends of `value` (an identity's end tells identities apart), with an ellipsis between."""
    if len(value) <= width:
        return value
    head = max((width - 1) // 3, 0)
    return value[:head] + ELLIPSIS + value[len(value) - (width - 1 - head) :]


def _shorter_forms(identity: str) -> list[str]:
    """Ever shorter forms of an identity key that keep the account and the last path element."""
    parts = identity.split(":", 5)
    if identity.startswith("arn:") and len(parts) == 6:
        account, resource = parts[4], parts[5]
        lead = f"{account}:" if account else f"{parts[2]}:"
        forms = [lead + resource]
        path = resource.split("/")
        if len(path) > 2:
            forms.append(lead + "/".join(path[1:]))  # assumed-role/Role/session -> Role/session
        if len(path) > 1:
            forms.append(lead + ELLIPSIS + "/" + path[-1])
        return forms
    if "/" in identity:
        return [identity.split(":", 1)[0] + ":" + ELLIPSIS + "/" + identity.rsplit("/", 1)[1]]
    return []


def shorten_identity(identity: str, width: int) -> str:
    """`identity` in at most `width` characters: `arn:aws:sts::111122223333:assumed-role/R/s` becomes
    `111122223333:assumed-role/R/s`, then `111122223333:R/s`, then `111122223333:…/s`."""
    if len(identity) <= width:
        return identity
    forms = _shorter_forms(identity)
    for form in forms:
        if len(form) <= width:
            return form
    return clip_middle(forms[-1] if forms else identity, width)


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    right: bool = False  # numbers
    shrink: Callable[[str, int], str] | None = None  # how a value fits a narrower column
    least: int = 12


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int = WIDTH) -> str:
    """Header and rows, aligned; shrinkable columns give up width (widest first) until the lines fit."""
    widths = [max(len(column.title), *(len(row[i]) for row in rows)) for i, column in enumerate(columns)]
    while sum(widths) + len(GAP) * (len(widths) - 1) > width:
        shrinkable = [
            i for i, column in enumerate(columns) if column.shrink and widths[i] > max(column.least, len(column.title))
        ]
        if not shrinkable:
            break
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1

    table = [[column.title for column in columns]]
    for cells in rows:
        table.append(
            [
                (column.shrink or clip)(cell, size) if len(cell) > size else cell
                for cell, column, size in zip(cells, columns, widths, strict=True)
            ]
        )
    widths = [max(len(cells[i]) for cells in table) for i in range(len(columns))]  # shortened values may be narrower
    lines = [
        GAP.join(
            cell.rjust(size) if column.right else cell.ljust(size)
            for cell, column, size in zip(cells, columns, widths, strict=True)
        ).rstrip()
        for cells in table
    ]
    return "\n".join(lines) + "\n"


IDENTITY = Column("IDENTITY", shrink=shorten_identity, least=16)
