"""`supportwatch local`: the deployed pipeline on an embedded AWS.

moto's server stands in for AWS; the bucket, table and topic come from template.yaml; every file is
uploaded and the handler receives exactly the S3 notifications Lambda would, with its retries.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from supportwatch.aws.local import (
    ACCOUNT_ID,
    REGION,
    EmbeddedAws,
    LocalStack,
    RouteInboxes,
    Routes,
    deploy,
    received_alerts,
    s3_notification,
    subscribe_queue,
)
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.inputs import discover
from supportwatch.cli.output import Interrupted, note_ignored, note_reports, render, skip_reasons
from supportwatch.cli.progress import Progress
from supportwatch.cli.target import ATTEMPTS
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport
from supportwatch.privacy import load_key

REPO_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


@dataclass(frozen=True, slots=True)
class LocalContext:
    """The parts of Lambda's context object that Powertools reads."""

    function_name: str = "supportwatch-local-processor"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:supportwatch-local-processor"
    aws_request_id: str = "local"


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def find_template(given: Path | None) -> Path:
    for candidate in (given, Path("template.yaml"), REPO_TEMPLATE):
        if candidate is not None and candidate.is_file():
            return candidate
    raise FileNotFoundError("template.yaml not found: run from the repository or pass --template")


def delivered_key(key: str, stack: LocalStack) -> str:
    """The key a trail would have written: relative keys outside the notified prefix go under it."""
    return key if key.startswith(stack.key_prefix) else stack.key_prefix + key


def invoke(ref: ObjectRef, event: dict) -> ObjectReport:
    """One asynchronous invocation with Lambda's retries; the last failure is reported, not raised."""
    from supportwatch import handler

    context = LocalContext(aws_request_id=str(uuid.uuid4()))  # Lambda keeps it across the retries
    failure: Exception | None = None
    for _ in range(ATTEMPTS):
        try:
            (fields,) = handler.lambda_handler(event, context)["reports"]
            return ObjectReport.from_fields(fields)
        except Exception as error:  # the handler raises so that Lambda retries
            failure = error
    return ObjectReport(ref, "unavailable", f"failed {ATTEMPTS} times, would go to the DLQ: {failure}")


def note_undelivered(keys: list[str], stack: LocalStack) -> None:
    """One line for the files put into the bucket whose key the function is not notified of."""
    if keys:
        sys.stderr.write(
            f"uploaded but not delivered ({len(keys)}): the function is notified only for keys "
            f"ending in {stack.key_suffix!r}; `supportwatch scan` reads them: {', '.join(keys[:3])}\n"
        )


def signature_of(path: Path) -> dict[str, str]:
    """A digest file's S3 metadata: its signature from `NAME.signature` beside it (downloads lose metadata;
    `aws s3api head-object --query Metadata.signature --output text` prints it)."""
    beside = path.with_name(path.name + ".signature")
    return {"signature": beside.read_text(encoding="utf-8").strip()} if beside.is_file() else {}


def run(args: argparse.Namespace) -> int:
    key = load_key(args.pseudonymize_key) if args.pseudonymize_key else None
    inputs = discover(args.paths)
    note_ignored(inputs.ignored)
    with EmbeddedAws() as aws, patched_environ(aws.environment()):
        stack = deploy(aws, find_template(args.template), routes_of(args), key, args.services)
        inbox = subscribe_queue(aws, stack.topic_arn)
        routed = RouteInboxes.of(aws, stack)
        s3 = aws.client("s3")
        deliveries = []
        undelivered = []
        for number, (path, key) in enumerate(inputs.keyed(lambda relative: delivered_key(relative, stack))):
            body = path.read_bytes()
            etag = s3.put_object(Bucket=stack.bucket, Key=key, Body=body, Metadata=signature_of(path))["ETag"]
            if not key.endswith(stack.key_suffix):
                undelivered.append(key)
                continue
            ref = ObjectRef(stack.bucket, key)
            deliveries.append((ref, s3_notification(stack.bucket, key, len(body), etag, number)))
        note_undelivered(undelivered, stack)
        reports = _deliver(deliveries, function_environment(stack, args.verbose, args.public_keys), args.concurrency)
        note_reports(reports, args.services)
        store = SummaryStore(aws.client("dynamodb"), stack.table)
        summaries, alerts = store.identities(), received_alerts(aws, inbox)
        render(summaries, args.format, alerts, args.wide, skip_reasons(reports), (ACCOUNT_ID, REGION), args.services)
        note_routes(routed.received(aws))
        if args.report:
            _report(args.report, store, summaries, alerts, args.paths, args.services)
    return 0


def routes_of(args: argparse.Namespace) -> Routes:
    """The routes of contract section 11 switched on by --security-hub, --eventbridge and --chat."""
    return Routes(args.security_hub, args.eventbridge, args.chat)


def note_routes(received: dict[str, list]) -> None:
    """One line on stderr: how many of each route's messages arrived (one per alert)."""
    if received:
        sys.stderr.write("received: " + ", ".join(f"{len(found)} {name}" for name, found in received.items()) + "\n")


def _report(
    path: Path, store: SummaryStore, summaries: list, alerts: list, inputs: list[Path], watched: tuple[str, ...]
) -> None:
    """The HTML report of every day the files hold, their calls and alerts (the embedded table holds only
    them: read whole)."""
    from supportwatch.cli.report import data_span, write_report
    from supportwatch.report.insights import Period
    from supportwatch.report.page import Deployment

    since, until = data_span(summaries, alerts)
    period = Period.of(since, until, store.between(since.isoformat(), until.isoformat()), summaries)
    write_report(path, period, alerts, Deployment("local", " ".join(str(p) for p in inputs)), watched)


def function_environment(stack: LocalStack, verbose: bool, public_keys: str | None = None) -> dict[str, str]:
    """The function's environment variables; Powertools' log lines and metrics only when `verbose`.
    The embedded AWS has no CloudTrail keys: digests are verified with `public_keys`, or not at all."""
    environment = {
        **stack.function_environment,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "DIGEST_PUBLIC_KEYS": str(Path(public_keys).resolve()) if public_keys else "none",
    }
    if not verbose:
        # the CLI's own notes say what happened; the function's ERROR lines only with --verbose
        environment.update(POWERTOOLS_LOG_LEVEL="CRITICAL", POWERTOOLS_METRICS_DISABLED="true")
    return environment


@contextlib.contextmanager
def function_runtime(environment: dict[str, str]) -> Iterator[None]:
    """The handler with the function's environment, its logs and prints on stderr, for as long as this lasts."""
    # Powertools' Metrics prints its EMF blob whenever a metric reaches 100 values, disabled or not (it
    # only skips the flush, so values pile up across invocations): the function's prints go to stderr
    # only when its metrics are on (--verbose), else nowhere.
    quiet = environment.get("POWERTOOLS_METRICS_DISABLED") == "true"
    with patched_environ(environment):
        from aws_lambda_powertools.utilities.parameters import clear_caches

        from supportwatch import handler  # imported outside the redirect: its Logger keeps the real stdout

        handler.processor.cache_clear()
        clear_caches()  # Powertools' providers keep the client of the AWS they first met: this one's afresh
        # swapped, not setStream(): that flushes the stream the handler had, which may be closed by now
        log_handler = handler.logger.registered_handler
        log_stream, log_handler.stream = log_handler.stream, sys.stderr
        log_level = handler.logger.log_level
        handler.logger.setLevel(environment.get("POWERTOOLS_LOG_LEVEL", "INFO"))
        try:
            with (
                open(os.devnull, "w") if quiet else contextlib.nullcontext(sys.stderr) as prints,
                contextlib.redirect_stdout(prints),
            ):
                yield
        finally:
            handler.processor.cache_clear()
            log_handler.stream = log_stream
            handler.logger.setLevel(log_level)


def _deliver(deliveries: list, environment: dict[str, str], concurrency: int) -> list[ObjectReport]:
    """Hand each notification to the handler, several at a time as Lambda would; logs go to stderr."""
    with function_runtime(environment):
        progress = Progress(len(deliveries))
        pool = ThreadPoolExecutor(max_workers=concurrency)
        interrupted = False
        try:
            reports = list(pool.map(lambda item: _advance(progress, invoke(*item)), deliveries))
        except KeyboardInterrupt:
            interrupted = True
        finally:
            pool.shutdown(cancel_futures=True)
            progress.close()
    if interrupted:
        raise Interrupted(progress.done, len(deliveries), kept=False)
    return reports


def _advance(progress: Progress, report: ObjectReport) -> ObjectReport:
    progress.advance_report(report)
    return report
