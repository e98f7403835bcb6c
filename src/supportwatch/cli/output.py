"""What the CLI prints: results on stdout, notes and the verdict on stderr."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportwatch.cli.render import (
    Column,
    alerts_by_severity,
    clip,
    minute,
    print_table,
    print_text,
    severity_style,
    shorten_identities,
)
from supportwatch.export import export_document, to_json
from supportwatch.findings.asff import findings
from supportwatch.identities.short import shorten_texts
from supportwatch.models import Alert, Summary
from supportwatch.pipeline import ObjectReport


class NothingRead(Exception):
    """No object could be read: the command fails with this one-line reason."""


def note_ignored(ignored: Sequence[Path]) -> None:
    if ignored:
        names = ", ".join(path.name for path in ignored[:5]) + (", ..." if len(ignored) > 5 else "")
        patterns = "*.json.gz, *.json, *.jsonl, *.gz"
        sys.stderr.write(f"skipped {plural(len(ignored), 'file')} not named like a log ({patterns}): {names}\n")
        if any(path.suffix == ".cloudtrail" for path in ignored):
            sys.stderr.write(
                "hint: .cloudtrail files are CloudTrail JSON: name them on the command line "
                "(e.g. `supportwatch scan FOLDER/*.cloudtrail`), a file named explicitly is always read\n"
            )


def note_reports(reports: Sequence[ObjectReport]) -> None:
    """A line for each object that was not read whole, and the verdict when none was read."""
    for report in reports:
        if report.outcome in ("unreadable", "unavailable", "skipped"):
            sys.stderr.write(f"{report.ref.uri}: {report.outcome}: {report.reason}\n")
        else:
            note_skipped(report)
    if not any(report.outcome == "counted" for report in reports):
        if not reports:
            raise NothingRead("no log files found")
        first = reports[0]
        if len(reports) == 1:
            raise NothingRead(f"the file could not be read: {first.ref.uri}: {first.reason}")
        raise NothingRead(f"none of {len(reports)} files could be read (first: {first.ref.uri}: {first.reason})")


def note_skipped(report: ObjectReport) -> None:
    """The line naming an object with skipped entries, and why they were skipped (contract section 1)."""
    if report.skipped_entries:
        of = plural(report.entries, "entry", "entries")
        sys.stderr.write(
            f"{report.ref.uri}: skipped {report.skipped_entries} of {of} that name Support Recommendations "
            f"but are not well-formed records: {reasons_text(dict(report.skip_reasons))}\n"
        )


def skip_reasons(reports: Iterable[ObjectReport]) -> Counter[str]:
    """The skipped entries of all `reports`, by reason."""
    total: Counter[str] = Counter()
    for report in reports:
        total.update(dict(report.skip_reasons))
    return total


def reasons_text(counts: Mapping[str, int]) -> str:
    """`2 eventTime not ISO 8601, 1 eventName missing`: most first, then by name (the same text every run)."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{count} {reason}" for reason, count in ordered)


def render(
    summaries: Sequence[Summary],
    output_format: str,
    alerts: Sequence[dict[str, Any]] = (),
    wide: bool = False,
    skipped: Mapping[str, int] | None = None,
    importer: tuple[str, str] = ("", ""),
) -> None:
    """The summaries and alerts; a table also says how many entries were skipped and why (the JSON
    document's shape is the contract's, section 4: the reasons are on stderr). `asff` prints one
    Security Hub finding per alert of the export, as `importer` (account, region) would import it
    (offline, when not given: each alert's own account and region)."""
    document = export_document(summaries, alerts)
    if output_format == "json":
        sys.stdout.write(to_json(document) + "\n")
        return
    if output_format == "asff":
        found = findings(map(Alert.from_json, document["alerts"]), datetime.now(UTC), *importer)
        sys.stdout.write(to_json(found) + "\n")
        return
    summary_table(summaries, wide)
    if skipped:
        print_text(
            f"skipped {plural(sum(skipped.values()), 'entry', 'entries')} that name Support Recommendations but "
            f"are not well-formed records: {reasons_text(skipped)}"
        )
    alert_table(document["alerts"], wide)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 file`, `2 files`, `3 identities` (with `nouns`)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def alert_table(alerts: Sequence[dict[str, Any]], wide: bool = False) -> None:
    """The alerts by severity, then time."""
    if not alerts:
        return
    sys.stdout.write(f"\n{plural(len(alerts), 'alert')}:\n")
    identities = {alert["title"]: alert.get("identity") for alert in alerts}

    def titles(texts: Sequence[str], room: int) -> list[str]:  # the identities in them as in any list
        return shorten_texts(texts, [identities[text] for text in texts], room)

    columns = [
        Column("SEVERITY", style=severity_style),
        Column("WHEN", compact=minute, priority=2),
        Column("RULE", priority=1),
        Column(
            "TITLE",
            together=lambda titles, size: shorten_texts(titles, [identities[t] for t in titles], size),
            least=60,
        ),
    ]
    rows = [
        [alert["severity"].upper(), alert.get("eventTime") or alert["window"], alert["rule"], alert["title"]]
        for alert in alerts_by_severity(alerts)
    ]
    print_table(columns, rows, wide)


SUMMARY_COLUMNS = (
    Column("IDENTITY", together=shorten_identities, least=36),
    Column("TYPE", priority=4),
    Column("CALLS", right=True),
    Column("ERRORS", right=True, priority=1),
    Column("FIRST SEEN", compact=minute, priority=3),
    Column("LAST SEEN", compact=minute, priority=2),
    Column("SOURCE IPS", shrink=clip, least=15, priority=5),
    Column("REGIONS", shrink=clip, least=9, priority=6),
)


def summary_table(summaries: Sequence[Summary], wide: bool = False) -> None:
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
        sys.stdout.write("no Support Recommendations events found\n")
        return
    print_table(SUMMARY_COLUMNS, rows, wide)
    total = sum(summary.total_calls for summary in summaries)
    sys.stdout.write(f"\n{plural(len(rows), 'identity', 'identities')}, {plural(total, 'call')}\n")
