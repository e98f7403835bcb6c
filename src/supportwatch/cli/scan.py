"""`supportwatch scan`: the whole pipeline offline, on downloaded log files."""

from __future__ import annotations

import argparse
from pathlib import Path

from supportwatch.aggregate import Ledger
from supportwatch.cli.inputs import discover
from supportwatch.cli.output import note_ignored, note_reports, render
from supportwatch.cli.progress import Progress
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectUnavailable, process_object


def read_file(ref: ObjectRef) -> bytes:
    try:
        return Path(ref.key).read_bytes()
    except OSError as error:
        raise ObjectUnavailable(error.strerror or str(error)) from None


def run(args: argparse.Namespace) -> int:
    inputs = discover(args.paths)
    note_ignored(inputs.ignored)
    ledger = Ledger()
    progress = Progress(len(inputs.files))
    reports = []
    for path, _ in inputs.files:
        report = process_object(ObjectRef("", str(path)), read_file, ledger, args.max_bytes)
        progress.advance(report)
        reports.append(report)
    progress.close()
    note_reports(reports)
    render(ledger.identities(), args.format)
    return 0
