"""What the CLI prints: results on stdout, notes and the verdict on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supportwatch.export import export_document, to_json
from supportwatch.models import Summary
from supportwatch.pipeline import ObjectReport


class NothingRead(Exception):
    """No object could be read: the command fails with this one-line reason."""


def note_ignored(ignored: Sequence[Path]) -> None:
    if ignored:
        names = ", ".join(path.name for path in ignored[:5]) + (", ..." if len(ignored) > 5 else "")
        patterns = "*.json.gz, *.json, *.jsonl, *.gz"
        sys.stderr.write(f"skipped {len(ignored)} files that are not logs ({patterns}): {names}\n")


def note_reports(reports: Sequence[ObjectReport]) -> None:
    """A line for each object that was not read whole, and the verdict when none was read."""
    for report in reports:
        if report.outcome in ("unreadable", "unavailable", "skipped"):
            sys.stderr.write(f"{report.ref.uri}: {report.outcome}: {report.reason}\n")
        elif report.skipped_entries:
            sys.stderr.write(
                f"{report.ref.uri}: skipped {report.skipped_entries} of {report.entries} entries "
                "that are not well-formed records\n"
            )
    if not any(report.outcome == "counted" for report in reports):
        if not reports:
            raise NothingRead("no log files found")
        first = reports[0]
        raise NothingRead(f"none of {len(reports)} files could be read (first: {first.ref.uri}: {first.reason})")


def render(summaries: Sequence[Summary], output_format: str, alerts: Sequence[dict[str, Any]] = ()) -> None:
    document = export_document(summaries, alerts)
    if output_format == "json":
        sys.stdout.write(to_json(document) + "\n")
        return
    sys.stdout.write(summary_table(summaries) + alert_lines(document["alerts"]))


def alert_lines(alerts: Sequence[dict[str, Any]]) -> str:
    if not alerts:
        return ""
    lines = [f"{alert['severity'].upper():8}  {alert['window']:10}  {alert['title']}" for alert in alerts]
    return f"\n{len(alerts)} alerts:\n" + "\n".join(lines) + "\n"


def summary_table(summaries: Sequence[Summary]) -> str:
    header = ("IDENTITY", "TYPE", "CALLS", "ERRORS", "FIRST SEEN", "LAST SEEN", "SOURCE IPS", "REGIONS")
    rows = [
        (
            summary.identity,
            summary.identity_type,
            str(summary.total_calls),
            str(summary.error_calls),
            summary.first_seen,
            summary.last_seen,
            ",".join(sorted(summary.source_ips)),
            ",".join(sorted(summary.regions)),
        )
        for summary in sorted(summaries, key=lambda s: (-s.total_calls, s.identity))
    ]
    if not rows:
        return "no Support Recommendations events found\n"
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    total = sum(summary.total_calls for summary in summaries)
    return "\n".join(lines) + f"\n\n{len(rows)} identities, {total} calls\n"
