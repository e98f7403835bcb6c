"""`supportwatch query`: the table's access patterns, as a table, JSON or CSV.

- no pattern: every identity (`--format json` is the contract's export document)
- `--identity ARN`: one identity, all fields and its day-by-day history (Query on pk)
- `--principal ARN`: all sessions of a role (index byPrincipal)
- `--day D`, `--since D [--until D]`: who used the service on those UTC days (index byPeriod: a Query per year)
- `--top N`: the identities with the most calls (a scan of the summaries); with `--since D [--until D]`,
  of those days only, and the principals with the most calls too (index byPeriod, then the identities' summaries)
- `--active [--since D] [--until D] [--by day|week|month]`: active identities and principals, calls,
  conversations, refused calls and first-time identities per day, week or month (default: the last 30 days)
- `--errors [--days N]`: identities with failed calls on the last N UTC days (byPeriod's error partition only)
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import textwrap
from collections.abc import Sequence
from datetime import date
from typing import Any

from supportwatch.aws.clients import client
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.output import events_of, plural, render
from supportwatch.cli.render import Column, clip, print_table, shorten_identities, shorten_identity, width
from supportwatch.cli.service_tables import print_breakdown, service_columns
from supportwatch.cli.summary_csv import by_calls, counts_text, write_csv
from supportwatch.cli.target import NotFound, existing_table, stack_settings, watched_services
from supportwatch.export import to_json
from supportwatch.identities.match import match_identity, shortest_name
from supportwatch.layout import days_before, parse_day, today
from supportwatch.models import Summary
from supportwatch.report.breakdown import services_of
from supportwatch.report.insights import Period, Ranked, read_period
from supportwatch.services import extended

ACTIVE_DAYS = 30  # the period `--active` shows without --since
ACTIVE_FIELDS = (
    "start",
    "activeIdentities",
    "activePrincipals",
    "calls",
    "conversations",
    "errorCalls",
    "accessDenied",
    "firstTimeIdentities",
)

IDENTITY = Column("IDENTITY", together=shorten_identities, least=36)


def run(args: argparse.Namespace) -> int:
    settings = stack_settings(args.stack, args.endpoint_url, args.region) if args.stack else None
    table = settings.table_name if settings else args.table
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    store = SummaryStore(dynamodb, table)
    watched = watched_services(args, settings)
    with existing_table(dynamodb, table):
        if args.identity:
            return _identity(store, args.identity, args.format, args.wide, watched)
        if args.principal:
            sessions = store.sessions(args.principal)
            if not sessions:
                raise NotFound(f"no identity rolls up to {args.principal} in table {table}")
            return _identities(sessions, args.format, {"principal": args.principal}, "identities", args.wide, watched)
        if args.active:
            since, until = _range(args, default_days=ACTIVE_DAYS)
            return _active(read_period(store, since, until), args.by, args.format, args.wide, watched)
        if args.top is not None and (args.since or args.until or args.day):
            since, until = _range(args)
            return _top_of_period(read_period(store, since, until), args.top, args.format, args.wide, watched)
        if args.top is not None:
            everyone = by_calls(store.identities())
            top = everyone[: args.top]
            return _identities(top, args.format, {}, "top", args.wide, watched, ranked=True, of=everyone)
        if args.errors:
            since, until = days_before(today(), args.days - 1), today()
            found = store.between(since.isoformat(), until.isoformat(), errors_only=True)
            return _errors(found, since, until, args.format, args.wide, watched)
        if args.day or args.since or args.until:
            since, until = _range(args)
            found = store.between(since.isoformat(), until.isoformat())
            return _days(found, since, until, args.format, args.wide, watched)
        return _everyone(store, args.format, args.wide, watched)


def _range(args: argparse.Namespace, default_days: int | None = None) -> tuple[date, date]:
    if default_days and not (args.day or args.since or args.until):
        return days_before(today(), default_days - 1), today()
    if args.day:  # the combinations are checked by cli/options.py
        day = parse_day(args.day)
        return day, day
    since = parse_day(args.since)
    return since, parse_day(args.until) if args.until else today()


def _row(summary: Summary, watched: tuple[str, ...]) -> dict[str, Any]:
    """An identity (or identity-day) summary as JSON: the export fields plus its keys."""
    keys = {"identity": summary.identity} | ({"day": summary.day} if summary.day else {})
    return keys | summary.to_export(extended(watched))


def _codes(errors: dict[str, int]) -> str:
    """The error codes of a row; the count only when there are several (ERRORS has the total)."""
    return next(iter(errors)) if len(errors) == 1 else counts_text(errors, ", ")


def _json(document: dict[str, Any]) -> None:
    sys.stdout.write(to_json(document) + "\n")


def _everyone(store: SummaryStore, output_format: str, wide: bool, watched: tuple[str, ...]) -> int:
    summaries = store.identities()
    if output_format == "json":  # the contract's export document: summaries and alerts
        render(summaries, "json", store.alerts(), watched=watched)
    elif output_format == "csv":
        write_csv(by_calls(summaries), watched)
    else:
        _identity_table(by_calls(summaries), wide, watched)
    return 0


def _identity_table(
    summaries: Sequence[Summary],
    wide: bool,
    watched: tuple[str, ...],
    ranked: bool = False,
    of: Sequence[Summary] = (),
) -> None:
    """The identities, ranked or not, with their calls per service when more than `support` is watched;
    `of` is everyone when they are the top ones (said in the footer)."""
    if not summaries:
        sys.stdout.write(f"no {events_of(watched)} found\n")
        return
    columns = [
        IDENTITY,
        Column("CALLS", right=True),
        Column("ERRORS", right=True, priority=1),
        Column("FIRST SEEN", priority=3),
        Column("LAST SEEN", priority=2),
    ]
    rows = [
        [s.identity, str(s.total_calls), str(s.error_calls), s.first_seen[:10], s.last_seen[:10]] for s in summaries
    ]
    if extended(watched):
        columns, rows = _with_services(columns, rows, watched, summaries)
    if ranked:
        columns.insert(0, Column("#", right=True))
        rows = [[str(rank), *row] for rank, row in enumerate(rows, 1)]
    total = sum(s.total_calls for s in summaries)
    footer = f"{plural(len(summaries), 'identity', 'identities')}, {plural(total, 'call')}"
    if of:
        everyone, calls = plural(len(of), "identity", "identities"), sum(s.total_calls for s in of)
        footer = f"the top {len(summaries)} of {everyone}, with {total} of the {plural(calls, 'call')}"
    print_table(columns, rows, wide)
    sys.stdout.write(f"\n{footer}\n")


def _identities(
    summaries: list[Summary],
    output_format: str,
    about: dict[str, Any],
    key: str,
    wide: bool,
    watched: tuple[str, ...],
    ranked: bool = False,
    of: Sequence[Summary] = (),
) -> int:
    ordered = summaries if ranked else by_calls(summaries)
    if output_format == "json":
        _json(about | {key: [_row(s, watched) for s in ordered]})
    elif output_format == "csv":
        write_csv(ordered, watched)
    else:
        _identity_table(ordered, wide, watched, ranked, of)
    return 0


def _clock(timestamp: str) -> str:
    """`2023-09-11T16:34:13Z` -> `16:34`."""
    return timestamp[11:16]


def _field(label: str, value: str) -> str:
    return textwrap.fill(
        value,
        width=width(),
        initial_indent=f"  {label:<11}",
        subsequent_indent=" " * 13,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _meant(store: SummaryStore, text: str, watched: tuple[str, ...]) -> str:
    """The identity key `text` names: itself, or the one identity whose shortened form or end it is."""
    known = [summary.identity for summary in store.identities()]
    match = match_identity(text, known)
    if match.identity is not None:
        return match.identity
    if match.matches:
        listed = ", ".join(shortest_name(i, known) for i in match.matches[:5]) + (", ..." * (len(match.matches) > 5))
        raise NotFound(f"{text} names {len(match.matches)} identities in table {store.table_name}: {listed}")
    names = [shortest_name(identity, known) for identity in match.suggestions]
    hint = f"; did you mean {' or '.join(names)}?" if names else ""
    raise NotFound(f"no {events_of(watched)} of {text} in table {store.table_name}{hint}")


def _identity(store: SummaryStore, text: str, output_format: str, wide: bool, watched: tuple[str, ...]) -> int:
    summary, days = store.history(text)
    identity = text
    if summary is None:  # a shortened form or the end of a key, as the tables print them
        identity = _meant(store, text, watched)
        summary, days = store.history(identity)
    if summary is None:
        raise NotFound(f"no {events_of(watched)} of {identity} in table {store.table_name}")
    if output_format == "json":
        exported = summary.to_export(extended(watched))
        _json({"identity": identity, "summary": exported, "days": [_row(day, watched) for day in days]})
        return 0
    if output_format == "csv":
        write_csv([summary, *days], watched)
        return 0
    lines = [
        identity if wide else shorten_identity(identity, width()),
        _field("type", summary.identity_type),
        _field("principal", summary.principal if wide else shorten_identity(summary.principal, width() - 13)),
        _field("accounts", ", ".join(sorted(summary.account_ids))),
        _field("calls", f"{summary.total_calls} ({counts_text(summary.calls, ', ')})"),
        _field(
            "errors", f"{summary.error_calls}" + (f" ({codes})" if (codes := counts_text(summary.errors, ", ")) else "")
        ),
        _field("first seen", summary.first_seen),
        _field("last seen", summary.last_seen),
        _field("source IPs", ", ".join(sorted(summary.source_ips))),
        _field("regions", ", ".join(sorted(summary.regions))),
    ]
    columns = [
        Column("DAY"),
        Column("CALLS", right=True),
        Column("ERRORS", right=True),
        Column("FIRST"),
        Column("LAST"),
        Column("SOURCE IPS", shrink=clip, priority=1),
    ]
    rows = [
        [
            day.day or "",
            str(day.total_calls),
            str(day.error_calls),
            _clock(day.first_seen),
            _clock(day.last_seen),
            ", ".join(sorted(day.source_ips)),
        ]
        for day in days
    ]
    if extended(watched):
        lines[5:5] = _service_fields(summary, wide)
        columns, rows = _with_services(columns, rows, watched, days)
    sys.stdout.write("\n".join(lines) + "\n\n")
    print_table(columns, rows, wide)
    sys.stdout.write(f"\n{plural(len(days), 'day')}\n")
    return 0


def _days(
    summaries: list[Summary], since: date, until: date, output_format: str, wide: bool, watched: tuple[str, ...]
) -> int:
    ordered = sorted(summaries, key=lambda s: (s.day or "", -s.total_calls, s.identity))
    if output_format == "json":
        _json({"since": since.isoformat(), "until": until.isoformat(), "days": [_row(s, watched) for s in ordered]})
    elif output_format == "csv":
        write_csv(ordered, watched)
    elif not ordered:
        sys.stdout.write(f"no {events_of(watched)} from {since} to {until}\n")
    else:
        columns = [
            Column("DAY"),
            IDENTITY,
            Column("CALLS", right=True),
            Column("ERRORS", right=True, priority=1),
            Column("FIRST", priority=3),
            Column("LAST", priority=2),
        ]
        rows = [
            [s.day or "", s.identity, str(s.total_calls), str(s.error_calls), _clock(s.first_seen), _clock(s.last_seen)]
            for s in ordered
        ]
        if extended(watched):
            columns, rows = _with_services(columns, rows, watched, ordered, after=2)
        identities = len({s.identity for s in ordered})
        days = len({s.day for s in ordered})
        total = sum(s.total_calls for s in ordered)
        footer = f"\n{plural(identities, 'identity', 'identities')} on {plural(days, 'day')}, {plural(total, 'call')}\n"
        print_table(columns, rows, wide)
        sys.stdout.write(footer)
    return 0


def _errors(
    summaries: list[Summary], since: date, until: date, output_format: str, wide: bool, watched: tuple[str, ...]
) -> int:
    ordered = sorted(summaries, key=lambda s: (-s.error_calls, s.identity))
    ordered.sort(key=lambda s: s.day or "", reverse=True)  # the most recent day first (a stable sort)
    if output_format == "json":
        _json({"since": since.isoformat(), "until": until.isoformat(), "errors": [_row(s, watched) for s in ordered]})
    elif output_format == "csv":
        write_csv(ordered, watched)
    elif not ordered:
        sys.stdout.write(f"no failed calls from {since} to {until}\n")
    else:
        columns = [Column("DAY"), IDENTITY, Column("ERRORS", right=True), Column("ERROR CODES", shrink=clip, least=16)]
        rows = [[s.day or "", s.identity, str(s.error_calls), _codes(s.errors)] for s in ordered]
        total = sum(s.error_calls for s in ordered)
        print_table(columns, rows, wide)
        sys.stdout.write(f"\n{plural(total, 'failed call')} from {since} to {until}\n")
    return 0


def _active(period: Period, by: str, output_format: str, wide: bool, watched: tuple[str, ...]) -> int:
    rows = [row.to_json() for row in period.activity(by)]
    if output_format == "json":
        _json({"since": period.since.isoformat(), "until": period.until.isoformat(), "by": by, "activity": rows})
    elif output_format == "csv":
        _csv_rows(ACTIVE_FIELDS, rows)
    else:
        columns = [Column(by.upper())] + [
            Column(title, right=True) for title in ("IDENTITIES", "PRINCIPALS", "CALLS", "CHATS", "DENIED", "NEW")
        ]
        table = [[str(row[name]) for name in ACTIVE_FIELDS if name != "errorCalls"] for row in rows]
        whole = period.summaries()
        principals = plural(len({s.principal for s in whole}), "principal")
        calls = plural(sum(s.total_calls for s in whole), "call")
        footer = (
            f"{plural(len(whole), 'identity', 'identities')} ({principals}) from {period.since} to {period.until}, "
            f"{calls}; CHATS: conversations started, "
            "DENIED: calls refused for lack of permission, NEW: identities seen for the first time\n"
        )
        print_table(columns, table, wide)
        sys.stdout.write("\n" + textwrap.fill(footer, width()) + "\n")
        if extended(watched):
            print_breakdown(period, watched, wide)
    return 0


def _csv_rows(fields: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    sys.stdout.write(buffer.getvalue())


def _ranked_table(first: Column, ranked: Sequence[Ranked], sessions: bool, wide: bool) -> None:
    titles = ("CALLS", "CHATS", "ERRORS", "DAYS") + (("SESSIONS",) if sessions else ())
    columns = [Column("#", right=True), first, *(Column(title, right=True) for title in titles)]
    rows = []
    for rank, r in enumerate(ranked, 1):
        counts = [r.calls, r.conversations, r.error_calls, r.active_days] + ([r.identities] if sessions else [])
        rows.append([str(rank), r.name, *map(str, counts)])
    print_table(columns, rows, wide)


def _top_of_period(period: Period, limit: int, output_format: str, wide: bool, watched: tuple[str, ...]) -> int:
    days = period.active_days()
    top = period.top_identities(limit)
    rows = {s.identity: s for s in period.summaries()}
    if output_format == "json":
        _json(
            {
                "since": period.since.isoformat(),
                "until": period.until.isoformat(),
                "top": [_row(rows[r.name], watched) | {"activeDays": days[r.name]} for r in top],
                "principals": [r.to_json() for r in period.top_principals(limit)],
            }
        )
    elif output_format == "csv":
        write_csv([rows[r.name] for r in top], watched)
    elif not top:
        sys.stdout.write(f"no {events_of(watched)} from {period.since} to {period.until}\n")
    else:
        principal = Column("PRINCIPAL", together=shorten_identities, least=16)
        _ranked_table(IDENTITY, top, False, wide)
        sys.stdout.write("\n")
        _ranked_table(principal, period.top_principals(limit), True, wide)
        sys.stdout.write(f"\nfrom {period.since} to {period.until}; CHATS: conversations started, DAYS: active days\n")
        if extended(watched):
            print_breakdown(period, watched, wide, limit)
    return 0


def _service_fields(summary: Summary, wide: bool) -> list[str]:
    """An identity's calls per service, and per Bedrock model when it called any: a model ID is the caller's
    text (up to 1,024 bytes), cut to fit a line unless `wide`."""
    fields = [_field("services", counts_text(services_of(summary), ", "))]
    if not summary.models:
        return fields
    room = width() - 13  # after the label, as _field indents
    models = ", ".join(
        f"{name if wide else clip(name, room - len(f'={count},'))}={count}"
        for name, count in sorted(summary.models.items())
    )
    return [*fields, _field("models", models)]


def _with_services(
    columns: list[Column],
    rows: list[list[str]],
    watched: tuple[str, ...],
    summaries: Sequence[Summary],
    after: int = 1,
) -> tuple[list[Column], list[list[str]]]:
    """The identity table with a calls column per service after its CALLS (column `after`) (contract section 12)."""
    added, cells = service_columns(watched, summaries)
    at = after + 1
    return columns[:at] + added + columns[at:], [
        row[:at] + more + row[at:] for row, more in zip(rows, cells, strict=True)
    ]
