"""`supportwatch backfill s3://BUCKET/PREFIX`: logs already in a bucket, through the Lambda's own path.

Accounts, organization ids and regions are found with delimiter listings; then only the date folders
of the days asked for are listed. Each object goes through the same `Processor` as the function
(S3 reads, the exactly-once `SummaryStore`, once-per-window alert claims), so a second run, or a run
over objects the function already processed, changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.aws.clients import client
from supportwatch.aws.listing import S3Listing
from supportwatch.aws.notify import SnsPublisher
from supportwatch.aws.objects import S3Objects
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.progress import Progress, duration
from supportwatch.cli.target import check_table, stack_settings
from supportwatch.config import AlertSettings, Settings
from supportwatch.export import to_json
from supportwatch.layout import manifest_line, parse_day, parse_log_key, parse_s3_uri, plan
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport, Processor
from supportwatch.routing import skip_reason

ATTEMPTS = 3  # like an asynchronous Lambda invocation: the first try and two retries


def run(args: argparse.Namespace) -> int:
    bucket, prefix = parse_s3_uri(args.location)
    since = parse_day(args.since) if args.since else None
    until = parse_day(args.until) if args.until else None
    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    listing = S3Listing(client("s3", endpoint_url=args.endpoint_url, region_name=args.region))
    found = plan(listing, bucket, prefix, since, until)
    refs = list_logs(listing, found.bucket, found.prefixes(), args.workers)
    span = f"{found.since} to {found.until}"
    sys.stderr.write(f"found {len(refs)} log files in {len(found.regions)} region folders, {span}\n")
    if args.emit_manifest:
        return _manifest(refs, args.emit_manifest)
    if args.dry_run:
        return _dry_run(refs, args.format)
    processor, owner = _processor(args)
    started = time.monotonic()
    reports, failures = process(processor, refs, owner, args.workers)
    totals = Totals.of(reports, failures, time.monotonic() - started)
    _print_totals(totals, args.format)
    for ref, reason in failures[:5]:
        sys.stderr.write(f"{ref.uri}: failed {ATTEMPTS} times: {reason}\n")
    if failures:
        sys.stderr.write(
            f"supportwatch: {len(failures)} of {len(refs)} files failed; run the same command again "
            "(events already counted are not counted twice)\n"
        )
        return 1
    return 0


def list_logs(listing: S3Listing, bucket: str, prefixes: Sequence[str], workers: int) -> list[ObjectRef]:
    """The objects under the date folders (several folders listed at a time), minus folder markers."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pages = pool.map(lambda prefix: list(listing.objects(bucket, prefix)), prefixes)
        return [ref for page in pages for ref in page if skip_reason(ref.key) is None]


def _manifest(refs: Sequence[ObjectRef], target: str) -> int:
    text = "".join(manifest_line(ref.bucket, ref.key) + "\n" for ref in refs)
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote {len(refs)} lines to {target} (S3 Batch Operations CSV manifest: bucket,key)\n")
    return 0


def _dry_run(refs: Sequence[ObjectRef], output_format: str) -> int:
    days: dict[str, dict[str, int]] = {}
    for ref in refs:
        parsed = parse_log_key(ref.key)
        day = days.setdefault(parsed.day.isoformat() if parsed else "?", {"files": 0, "bytes": 0})
        day["files"] += 1
        day["bytes"] += ref.size or 0
    ordered = dict(sorted(days.items()))
    files, size = len(refs), sum(ref.size or 0 for ref in refs)
    if output_format == "json":
        sys.stdout.write(to_json({"files": files, "bytes": size, "days": ordered}) + "\n")
        return 0
    lines = [f"{'DAY':<10}  {'FILES':>8}  {'BYTES':>14}"]
    lines += [f"{day:<10}  {found['files']:>8}  {found['bytes']:>14}" for day, found in ordered.items()]
    lines += ["", f"{'total':<10}  {files:>8}  {size:>14}  ({_size(size)}, {len(ordered)} days)"]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def settings_of(args: argparse.Namespace) -> Settings:
    """The stack's settings (`--stack`), or `--table`/`--topic-arn`; alert options override either."""
    if args.stack:
        settings = stack_settings(args.stack, args.endpoint_url, args.region)
    elif args.table and (args.topic_arn or args.no_alerts):
        settings = Settings(args.table, args.topic_arn or "")
    else:
        raise ValueError("name the target: --stack NAME, or --table NAME with --topic-arn ARN (or --no-alerts)")
    if args.table:
        settings = replace(settings, table_name=args.table)
    if args.topic_arn:
        settings = replace(settings, topic_arn=args.topic_arn)
    alerts = settings.alerts
    if args.no_alerts:
        alerts = AlertSettings(rules=frozenset())
    else:
        overrides = {
            "rules": frozenset(args.rules) if args.rules is not None else None,
            "volume_threshold": args.volume_threshold,
            "allowlist": tuple(args.allowlist) if args.allowlist is not None else None,
            "min_severity": args.min_severity,
        }
        alerts = replace(alerts, **{name: value for name, value in overrides.items() if value is not None})
    return replace(settings, alerts=alerts)


def _processor(args: argparse.Namespace) -> tuple[Processor, str]:
    """The function's Processor with this run's clients; the owner of its alert claims is the run."""
    settings = settings_of(args)
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    check_table(dynamodb, settings.table_name)
    store = SummaryStore(dynamodb, settings.table_name, settings.marker_ttl_days)
    if settings.alerts.rules:
        sns = client("sns", endpoint_url=args.endpoint_url, region_name=args.region)
        alerting = Alerting(store, SnsPublisher(sns, settings.topic_arn, store.lookup_command))
    else:  # no rule is on: nothing is claimed or published
        alerting = Alerting(MemoryClaims(), CollectingPublisher())
    processor = Processor(
        fetch=S3Objects(client("s3", endpoint_url=args.endpoint_url, region_name=args.region)).read,
        sink=store,
        alerting=alerting,
        alert_settings=settings.alerts,
        max_bytes=settings.max_decompressed_bytes,
    )
    return processor, f"backfill-{uuid.uuid4()}"


def process(
    processor: Processor, refs: Sequence[ObjectRef], owner: str, workers: int, stream: Any = None
) -> tuple[list[ObjectReport], list[tuple[ObjectRef, str]]]:
    """Every object through the processor, `workers` at a time, with a progress bar on a terminal."""
    progress = Progress(len(refs), stream, timing=True)
    reports: list[ObjectReport] = []
    failures: list[tuple[ObjectRef, str]] = []

    def one(ref: ObjectRef) -> None:
        report, failure = _attempts(processor, ref, owner)
        if report is None:
            failures.append((ref, failure))
            report = ObjectReport(ref, "unavailable", failure)
        else:
            reports.append(report)
        progress.advance(report)

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        for future in [pool.submit(one, ref) for ref in refs]:
            future.result()
    finally:
        pool.shutdown(cancel_futures=True)
        progress.close()
    return reports, failures


def _attempts(processor: Processor, ref: ObjectRef, owner: str) -> tuple[ObjectReport | None, str]:
    """Process with retries (the same owner, as a Lambda retry keeps its request id)."""
    reason = ""
    for attempt in range(ATTEMPTS):
        try:
            return processor.process(ref, owner), ""
        except Exception as error:  # transient AWS errors, conflicts, undelivered alerts: retried
            reason = f"{type(error).__name__}: {error}"
            time.sleep(0.2 * 2**attempt)
    return None, reason


@dataclass(slots=True)
class Totals:
    files: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    support_events: int = 0
    counted: int = 0
    duplicates: int = 0
    alerts: int = 0
    failed: int = 0
    seconds: float = 0.0

    @classmethod
    def of(cls, reports: Iterable[ObjectReport], failures: Sequence[Any], seconds: float) -> Totals:
        totals = cls(failed=len(failures), seconds=seconds)
        for report in reports:
            totals.files += 1
            totals.outcomes[report.outcome] = totals.outcomes.get(report.outcome, 0) + 1
            totals.entries += report.entries
            totals.support_events += report.support_events
            totals.counted += report.counted
            totals.duplicates += report.duplicates
            totals.alerts += report.alerts
        totals.files += totals.failed
        return totals

    def document(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "outcomes": dict(sorted(self.outcomes.items())) | ({"failed": self.failed} if self.failed else {}),
            "entries": self.entries,
            "supportEvents": self.support_events,
            "counted": self.counted,
            "alreadyCounted": self.duplicates,
            "alertsPublished": self.alerts,
            "seconds": round(self.seconds, 3),
        }


def _print_totals(totals: Totals, output_format: str) -> None:
    if output_format == "json":
        sys.stdout.write(to_json(totals.document()) + "\n")
        return
    outcomes = ", ".join(f"{count} {name}" for name, count in sorted(totals.outcomes.items()))
    lines = [
        f"files           {totals.files} ({outcomes}{f', {totals.failed} failed' if totals.failed else ''})",
        f"events read     {totals.entries}",
        f"support events  {totals.support_events}",
        f"counted now     {totals.counted}",
        f"already counted {totals.duplicates}",
        f"alerts          {totals.alerts} published",
        f"time            {duration(totals.seconds)}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
