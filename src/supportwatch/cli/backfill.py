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
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from supportwatch.aws.clients import client, emulated_endpoint
from supportwatch.aws.listing import S3Listing
from supportwatch.cli.jobs import decoder, read_ahead
from supportwatch.cli.output import Interrupted, found_events, note_unread, plural, reasons_text
from supportwatch.cli.progress import Progress, duration
from supportwatch.cli.target import ATTEMPTS, processor_for, with_retries
from supportwatch.export import to_json
from supportwatch.layout import manifest_line, parse_day, parse_log_key, parse_s3_uri, plan
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport, Processor, Read
from supportwatch.routing import skip_reason


def run(args: argparse.Namespace) -> int:
    bucket, prefix = parse_s3_uri(args.location)
    since = parse_day(args.since) if args.since else None
    until = parse_day(args.until) if args.until else None
    listing = S3Listing(client("s3", endpoint_url=args.endpoint_url, region_name=args.region))
    found = plan(listing, bucket, prefix, since, until)
    refs = list_logs(listing, found.bucket, found.prefixes(), args.workers)
    sys.stderr.write(_found(refs, len(found.regions), f"{found.since} to {found.until}" if since or until else ""))
    if args.emit_manifest:
        return _manifest(refs, args.emit_manifest)
    if args.dry_run:
        return _dry_run(refs, args.format)
    processor, owner = processor_for(args)
    started = time.monotonic()
    jobs = min(args.jobs, len(refs))
    with decoder(jobs) as decode:
        reports, failures = process(replace(processor, decode=decode), refs, owner, workers_for(args), jobs)
    totals = Totals.of(reports, failures, time.monotonic() - started)
    note_unread(reports, processor.services)  # unreadable files by name, as scan and local do
    _print_totals(totals, args.format, processor.services)
    for ref, reason in failures[:5]:
        sys.stderr.write(f"{ref.uri}: failed {ATTEMPTS} times: {reason}\n")
    if failures:
        sys.stderr.write(
            f"supportwatch: {len(failures)} of {len(refs)} files failed; run the same command again "
            "(events already counted are not counted twice)\n"
        )
        return 1
    return 0


def _found(refs: Sequence[ObjectRef], regions: int, listed: str) -> str:
    """`found 6 log files dated 2023-09-10 to 2023-09-13 in 3 region folders`: the files' own days, and
    the days listed when --since or --until chose them."""
    days = sorted(parsed.day for ref in refs if (parsed := parse_log_key(ref.key)))
    dated = "" if not days else f" dated {days[0]}" + (f" to {days[-1]}" if days[-1] != days[0] else "")
    return (
        f"found {plural(len(refs), 'log file')}{dated} in {plural(regions, 'region folder')}"
        + (f" (days {listed} listed)" if listed else "")
        + "\n"
    )


def workers_for(args: argparse.Namespace) -> int:
    """--workers against AWS; one against any other endpoint, said in one line: emulators such as a
    plain moto server do not isolate DynamoDB transactions, so files processed at the same time
    could count events twice (docs/sandbox.md)."""
    endpoint = emulated_endpoint(client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region))
    if endpoint is None or args.workers == 1:
        return args.workers
    sys.stderr.write(
        f"{endpoint} is not AWS: one file at a time instead of {args.workers},\n"
        "as emulators do not isolate DynamoDB transactions (docs/sandbox.md)\n"
    )
    return 1


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
    lines += ["", f"{'total':<10}  {files:>8}  {size:>14}  ({_size(size)}, {plural(len(ordered), 'day')})"]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def process(
    processor: Processor, refs: Sequence[ObjectRef], owner: str, workers: int, jobs: int = 1, stream: Any = None
) -> tuple[list[ObjectReport], list[tuple[ObjectRef, str]]]:
    """Every object through the processor, `workers` at a time, with a progress bar on a terminal; with
    several `jobs` (the processor decoding in as many processes), objects are read ahead of those committed."""
    progress = Progress(len(refs), stream)
    reports: list[ObjectReport] = []
    failures: list[tuple[ObjectRef, str]] = []

    def one(ref: ObjectRef, read: Read | None) -> None:
        report, failure = with_retries(processor, ref, f"{owner}:{ref.uri}", read)  # one attempt per file
        if report is None:
            failures.append((ref, failure))
            report = ObjectReport(ref, "unavailable", failure)
        else:
            reports.append(report)
        progress.advance_report(report)

    pool = ThreadPoolExecutor(max_workers=workers)
    interrupted = False
    try:
        pending: deque[Future[None]] = deque()
        for ref, read in read_ahead(_or_later(processor.prefetch), refs, jobs):
            pending.append(pool.submit(one, ref, read))
            while len(pending) > 2 * workers:  # bounded: reads wait here, not in the pool's queue
                pending.popleft().result()
        for future in pending:
            future.result()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        pool.shutdown(cancel_futures=True)  # files begun are finished: each is committed whole
        progress.close()
    if interrupted:
        raise Interrupted(progress.done, len(refs))
    return reports, failures


def _or_later(prefetch: Callable[[ObjectRef], Read | None]) -> Callable[[ObjectRef], Read | None]:
    """A read that failed for a passing reason (throttled, a dropped connection) is left to `process`,
    which reads the object again under its retries."""

    def read(ref: ObjectRef) -> Read | None:
        try:
            return prefetch(ref)
        except Exception:
            return None

    return read


@dataclass(slots=True)
class Totals:
    files: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # entries naming the source, not records: by reason
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
            totals.skipped.update(dict(report.skip_reasons))
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
            "skippedEntries": self.skipped.total(),
            "skipReasons": dict(sorted(self.skipped.items())),
            "supportEvents": self.support_events,
            "counted": self.counted,
            "alreadyCounted": self.duplicates,
            "alertsPublished": self.alerts,
            "seconds": round(self.seconds, 3),
        }


def _print_totals(totals: Totals, output_format: str, watched: tuple[str, ...]) -> None:
    if output_format == "json":
        sys.stdout.write(to_json(totals.document()) + "\n")
        return
    outcomes = [f"{count} {name}" for name, count in sorted(totals.outcomes.items())]
    outcomes += [f"{totals.failed} failed"] if totals.failed else []
    lines = [
        f"files           {totals.files}" + (f" ({', '.join(outcomes)})" if outcomes else ""),
        f"events read     {totals.entries}",
        *([f"skipped         {totals.skipped.total()} ({reasons_text(totals.skipped)})"] if totals.skipped else []),
        f"{found_events(watched):<16}{totals.support_events}",
        f"counted now     {totals.counted}",
        f"already counted {totals.duplicates}",
        f"alerts          {totals.alerts} published",
        f"time            {duration(totals.seconds)}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
