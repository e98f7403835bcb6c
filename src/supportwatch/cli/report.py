"""`supportwatch report`: a period of the summaries table as one self-contained HTML file.

Reads only the period's day summaries and the summaries of the identities active in it, so a
report costs what its period holds, not what the table holds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from supportwatch.aws.clients import client
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.output import plural
from supportwatch.cli.progress import Progress
from supportwatch.cli.target import existing_table, stack_settings, watched_services
from supportwatch.decoding.instants import utc_day
from supportwatch.export import alert_day
from supportwatch.layout import days_before, parse_day, today
from supportwatch.models import Summary
from supportwatch.report.insights import Period, read_period
from supportwatch.report.page import Deployment, render_report
from supportwatch.services import DEFAULT_SERVICES

DEFAULT_DAYS = 30  # the period without --since


def run(args: argparse.Namespace) -> int:
    until = parse_day(args.until) if args.until else today()
    since = parse_day(args.since) if args.since else days_before(until, DEFAULT_DAYS - 1)
    if since > until:
        raise ValueError(f"--since {since} is after --until {until}")
    settings = stack_settings(args.stack, args.endpoint_url, args.region) if args.stack else None
    # --table or $SUPPORTWATCH_TABLE (cli/options.py), else the stack's
    table, deployment = (settings.table_name, "stack") if settings else (args.table, "table")
    watched = watched_services(args, settings)  # what the report breaks down (contract section 12)
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    store = SummaryStore(dynamodb, table)
    days = (until - since).days + 1
    with existing_table(dynamodb, table), Progress(days, unit="days", counters=("summaries",)) as progress:
        period = read_period(store, since, until, lambda read, found: progress.advance(read, summaries=found))
        alerts = store.alerts_between(since.isoformat(), until.isoformat())  # the period's published alerts
    write_report(args.output, period, alerts, Deployment(deployment, args.stack or table), watched)
    if not period.summaries():
        sys.stderr.write(where_the_data_is(store.span(), since, until) + "\n")
    return 0


def where_the_data_is(span: tuple[str, str] | None, since: date, until: date) -> str:
    """For a period without calls: the days the table holds, and the options that reach them
    (`the table holds 2023-07-10 to 2026-02-22; try --since 2023-07-01`)."""
    if span is None:
        return "the table holds no Support Recommendations calls yet"
    first, last = span
    options = []
    if first < since.isoformat():
        options.append(f"--since {first[:8]}01")
    if last > until.isoformat():
        options.append(f"--until {last}")
    return f"the table holds {first} to {last}" + (f"; try {' '.join(options)}" if options else "")


def data_span(summaries: Sequence[Summary], alerts: Sequence[dict[str, Any]] = ()) -> tuple[date, date]:
    """The UTC days from the first call or alert to the last (today, when there was none)."""
    days = [utc_day(s.first_instant) for s in summaries] + [utc_day(s.last_instant) for s in summaries]
    days += filter(None, map(alert_day, alerts))
    if not days:
        return today(), today()
    return date.fromisoformat(min(days)), date.fromisoformat(max(days))


def write_report(
    path: Path,
    period: Period,
    alerts: list[dict[str, Any]] | None,
    deployment: Deployment,
    watched: tuple[str, ...] = DEFAULT_SERVICES,
) -> None:
    """Write the report (by service and model when more than `support` is `watched`) and say on stderr
    what it holds."""
    path.write_text(render_report(period, alerts, deployment, watched=watched), encoding="utf-8")
    summaries = period.summaries()
    calls = sum(summary.total_calls for summary in summaries)
    sys.stderr.write(
        f"wrote {path}: {plural(len(summaries), 'identity', 'identities')}, {plural(calls, 'call')} "
        f"from {period.since} to {period.until}\n"
    )
