"""Summaries as CSV: one header for the all-time summaries and the day summaries (`day` empty for
the former), what `query` and `scan --format csv` print."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence

from supportwatch.models import Summary
from supportwatch.services import DEFAULT_SERVICES, extended

CSV_FIELDS = (
    "day",
    "identity",
    "identityType",
    "principal",
    "totalCalls",
    "errorCalls",
    "firstSeen",
    "lastSeen",
    "calls",
    "errors",
    "accountIds",
    "sourceIps",
    "regions",
)
SERVICE_FIELDS = ("services", "models")  # after the others, only when more than `support` is watched
MODEL_ESCAPES = {"%": "%25", ";": "%3B", "=": "%3D"}
FORMULA_START = "+-@"  # with `=`: what makes a spreadsheet read a cell as a formula


def by_calls(summaries: Sequence[Summary]) -> list[Summary]:
    """Most calls first, then by identity and day (the same order every run)."""
    return sorted(summaries, key=lambda s: (-s.total_calls, s.identity, s.day or ""))


def counts_text(counts: dict[str, int], separator: str = ";") -> str:
    """`Name=count;...` by name."""
    return separator.join(f"{name}={count}" for name, count in sorted(counts.items()))


def model_text(model: str) -> str:
    """A model ID in the `models` cell: the caller's text, so `%`, `;` and `=` (which split the cell) are
    percent-encoded, as is a leading `+`, `-` or `@` (a spreadsheet would read the cell as a formula)."""
    text = "".join(MODEL_ESCAPES.get(character, character) for character in model)
    return f"%{ord(text[0]):02X}{text[1:]}" if text[:1] in FORMULA_START else text


def write_csv(summaries: Sequence[Summary], watched: tuple[str, ...] = DEFAULT_SERVICES) -> None:
    """The summaries, in the order given, as CSV on stdout; with `services` and `models` when more than
    `support` is `watched` (contract section 12)."""
    asked = extended(watched)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS + SERVICE_FIELDS if asked else CSV_FIELDS)
    for s in summaries:
        models = {model_text(model): count for model, count in s.models.items()}
        by_service = [counts_text(s.services), counts_text(models)] if asked else []
        writer.writerow(
            [
                s.day or "",
                s.identity,
                s.identity_type,
                s.principal,
                s.total_calls,
                s.error_calls,
                s.first_seen,
                s.last_seen,
                counts_text(s.calls),
                counts_text(s.errors),
                ";".join(sorted(s.account_ids)),
                ";".join(sorted(s.source_ips)),
                ";".join(sorted(s.regions)),
                *by_service,
            ]
        )
    sys.stdout.write(buffer.getvalue())
