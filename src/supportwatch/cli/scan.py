"""`supportwatch scan`: the whole pipeline offline, on downloaded log files."""

from __future__ import annotations

import argparse
from pathlib import Path

from supportwatch.aggregate import Ledger
from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.cli.inputs import discover
from supportwatch.cli.jobs import decoder, read_ahead
from supportwatch.cli.output import note_ignored, note_reports, render, skip_reasons
from supportwatch.cli.progress import Progress
from supportwatch.config import AlertSettings
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectUnavailable, Processor
from supportwatch.privacy import Pseudonymizer, load_key


def read_file(ref: ObjectRef) -> bytes:
    try:
        return Path(ref.key).read_bytes()
    except OSError as error:
        raise ObjectUnavailable(error.strerror or str(error)) from None


def run(args: argparse.Namespace) -> int:
    privacy = Pseudonymizer(load_key(args.pseudonymize_key)) if args.pseudonymize_key else None
    inputs = discover(args.paths)
    note_ignored(inputs.ignored)
    ledger = Ledger()
    published = CollectingPublisher()
    settings = AlertSettings(
        rules=frozenset(args.rules),
        volume_threshold=args.volume_threshold,
        allowlist=tuple(args.allowlist),
        min_severity=args.min_severity,
    )
    refs = [ObjectRef("", str(file.path)) for file in inputs.files]
    jobs = min(args.jobs, len(refs))
    reports = []
    with decoder(jobs) as decode, Progress(len(refs)) as progress:
        processor = Processor(
            read_file,
            ledger,
            Alerting(MemoryClaims(), published),
            settings,
            args.max_bytes,
            args.exact_max_bytes,
            privacy=privacy,
            decode=decode,
            services=args.services,
        )
        # one file at a time is counted, in the order given, while the next ones are decoded
        for ref, read in read_ahead(processor.prefetch, refs, jobs):
            report = processor.process(ref, owner="scan", read=read)
            progress.advance_report(report)
            reports.append(report)
    note_reports(reports, args.services)
    alerts = [alert.to_json() for alert in published.alerts]
    render(ledger.identities(), args.format, alerts, args.wide, skip_reasons(reports), watched=args.services)
    return 0
