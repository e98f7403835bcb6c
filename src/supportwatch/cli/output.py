"""What the CLI prints: results on stdout, notes and the verdict on stderr."""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportwatch.cli.render import (
    Column,
    alerts_by_severity,
    clip,
    console,
    minute,
    print_table,
    print_text,
    severity_style,
    shorten_identities,
)
from supportwatch.cli.summary_csv import by_calls, write_csv
from supportwatch.export import export_document, to_json
from supportwatch.findings.asff import findings
from supportwatch.identities.short import ELLIPSIS, shorten_texts
from supportwatch.models import Alert, ObjectRef, Summary
from supportwatch.pipeline import ObjectReport
from supportwatch.services import DEFAULT_SERVICES, extended


class NothingRead(Exception):
    """No object could be read: the command fails with this one-line reason."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run over files: how far it got, and what running it again does (exit 130)."""

    def __init__(self, done: int, total: int, kept: bool = True) -> None:
        super().__init__(done, total, kept)
        self.done, self.total, self.kept = done, total, kept

    def __str__(self) -> str:
        again = (
            "re-run to resume (counted work is kept)"
            if self.kept
            else "the embedded AWS stops with it: re-run to start again"
        )
        return f"interrupted after {self.done} of {self.total} files; {again}"


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


def named(watched: tuple[str, ...]) -> str:
    """What the skipped entries name: the service, or with more than support watched any of them."""
    return "a watched service" if extended(watched) else "Support Recommendations"


def events_of(watched: tuple[str, ...]) -> str:
    """What the counted events are called: Support Recommendations', or with more than support watched
    those of every watched service."""
    return "events of the watched services" if extended(watched) else "Support Recommendations events"


def found_events(watched: tuple[str, ...]) -> str:
    """How a file's events of the watched services are counted in progress lines and totals."""
    return "watched events" if extended(watched) else "support events"


def note_unread(reports: Sequence[ObjectReport], watched: tuple[str, ...] = DEFAULT_SERVICES) -> None:
    """A line for each object that could not be read or had entries skipped, and one line per kind of
    object skipped by its key (`skipped 24 digest files`)."""
    skipped: Counter[str] = Counter()
    for report in reports:
        if report.outcome == "skipped":
            skipped[report.reason or "file"] += 1
        elif report.outcome in ("unreadable", "unavailable"):
            note_object(report.ref, f"{report.outcome}: {report.reason}")
        else:
            note_skipped(report, watched)
    for kind, count in sorted(skipped.items()):
        sys.stderr.write(f"skipped {count} {kind if count == 1 else _plural_of(kind)}\n")


def _plural_of(kind: str) -> str:
    """`digest file` -> `digest files`, `Config file, not a CloudTrail log` -> `Config files, not ...`."""
    head, comma, tail = kind.partition(",")
    return f"{head}s{comma}{tail}" if not head.endswith("s") else kind


def note_reports(reports: Sequence[ObjectReport], watched: tuple[str, ...] = DEFAULT_SERVICES) -> None:
    """The lines of `note_unread`, and the verdict when no object was read."""
    note_unread(reports, watched)
    if not any(report.outcome == "counted" for report in reports):
        if not reports:
            raise NothingRead("no log files found")
        first = reports[0]
        if len(reports) == 1:
            raise NothingRead(f"the file could not be read: {first.ref.uri}: {first.reason}")
        raise NothingRead(f"none of {len(reports)} files could be read (first: {first.ref.uri}: {first.reason})")


def note_skipped(report: ObjectReport, watched: tuple[str, ...] = DEFAULT_SERVICES) -> None:
    """The line naming an object with skipped entries, and why they were skipped (contract section 1)."""
    if report.skipped_entries:
        of = plural(report.entries, "entry", "entries")
        note_object(
            report.ref,
            f"skipped {report.skipped_entries} of {of} that name {named(watched)} "
            f"but are not well-formed records: {reasons_text(dict(report.skip_reasons))}",
        )


def note_object(ref: ObjectRef, what: str) -> None:
    """`URI: what` on stderr: one line for logs and pipes; on a terminal too narrow for it, the URI on a line of
    its own (its folders left out, then its name cut in the middle, when it does not fit) and `what` below it,
    wrapped between words."""
    line, terminal = f"{ref.uri}: {what}", console(stderr=True)
    room = terminal.width
    if not terminal.is_terminal or len(line) <= room:
        sys.stderr.write(line + "\n")
        return
    name = ref.key.rsplit("/", 1)[-1]
    (head,) = [f"{ref.uri}:"] if len(ref.uri) < room else shorten_texts([f"{ELLIPSIS}/{name}:"], [name], room)
    body = textwrap.wrap(what, room - 2, break_long_words=False, break_on_hyphens=False)
    sys.stderr.write("".join(f"{text}\n" for text in [head, *("  " + part for part in body)]))


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
    watched: tuple[str, ...] = DEFAULT_SERVICES,
) -> None:
    """The summaries and alerts; a table also says how many entries were skipped and why (the JSON
    document's shape is the contract's, section 4: the reasons are on stderr). `asff` prints one
    Security Hub finding per alert of the export, as `importer` (account, region) would import it
    (offline, when not given: each alert's own account and region). JSON and CSV carry each summary's
    `services` and `models` when more than `support` is `watched` (contract section 12)."""
    document = export_document(summaries, alerts, watched)
    if output_format == "json":
        sys.stdout.write(to_json(document) + "\n")
        return
    if output_format == "csv":  # the summaries only, as `query --format csv` prints them
        write_csv(by_calls(summaries), watched)
        return
    if output_format == "asff":
        found = findings(map(Alert.from_json, document["alerts"]), datetime.now(UTC), *importer)
        sys.stdout.write(to_json(found) + "\n")
        return
    summary_table(summaries, wide, watched)
    if skipped:
        count = sum(skipped.values())
        name, are = ("names", "is not a well-formed record") if count == 1 else ("name", "are not well-formed records")
        entries = plural(count, "entry", "entries")
        print_text(f"skipped {entries} that {name} {named(watched)} but {are}: {reasons_text(skipped)}")
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


def summary_table(
    summaries: Sequence[Summary], wide: bool = False, watched: tuple[str, ...] = DEFAULT_SERVICES
) -> None:
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
        sys.stdout.write(f"no {events_of(watched)} found\n")
        return
    print_table(SUMMARY_COLUMNS, rows, wide)
    total = sum(summary.total_calls for summary in summaries)
    sys.stdout.write(f"\n{plural(len(rows), 'identity', 'identities')}, {plural(total, 'call')}\n")
