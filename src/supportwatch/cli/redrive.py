"""`supportwatch redrive --queue-url URL`: replay the function's failed events from its DLQ, locally.

A message is either Lambda's on-failure destination record of an asynchronous invocation
(`{"requestContext": {"requestId", "condition": "RetriesExhausted", ...}, "requestPayload": <event>}`)
or, from the SQS-mode notification queue's DLQ, the original notification itself. Its objects go
through the function's own `Processor` (S3 reads, the exactly-once store, the alert claims), so
what the failed invocation already counted is not counted again. The alert claims are owned by the
failed invocation's request id (or `sqs:<message id>`, which SQS keeps when it moves a message to
the DLQ), so claims it left unpublished are published now rather than after their lease. A message
is deleted only once every object it names was processed; one that fails again stays in the queue.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from supportwatch.aws.clients import client
from supportwatch.cli.output import found_events, plural
from supportwatch.cli.target import processor_for, with_retries
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport, Processor
from supportwatch.services import DEFAULT_SERVICES
from supportwatch.triggers import UnknownEnvelope, message_refs, object_refs

VISIBILITY_SECONDS = 300  # a message being replayed is hidden from other readers meanwhile


@dataclass(slots=True)
class Replay:
    """One DLQ message: what it holds and what became of it."""

    message_id: str
    receipt: str
    kind: str = "unknown"  # destination | notification | unknown
    owner: str = ""
    condition: str | None = None
    refs: list[ObjectRef] = field(default_factory=list)
    reports: list[ObjectReport] = field(default_factory=list)
    error: str | None = None
    permanent: bool = False  # the body names no object: replaying it again can never succeed
    deleted: bool = False

    def fields(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "kind": self.kind,
            "condition": self.condition,
            "objects": [ref.uri for ref in self.refs],
            "outcomes": [report.outcome for report in self.reports],
            "counted": sum(report.counted for report in self.reports),
            "alerts": sum(report.alerts for report in self.reports),
            "error": self.error,
            "deleted": self.deleted,
        }


def parse_message(message: dict[str, Any]) -> Replay:
    """The objects a DLQ message names, and the owner its replay's alert claims take."""
    replay = Replay(message["MessageId"], message["ReceiptHandle"], owner=f"sqs:{message['MessageId']}")
    body = message.get("Body", "")
    try:
        document = json.loads(body)
    except ValueError:
        replay.error, replay.permanent = f"body is not JSON ({len(body)} characters)", True
        return replay
    try:
        if isinstance(document, dict) and "requestPayload" in document:
            context = document.get("requestContext") or {}
            replay.kind = "destination"
            replay.condition = context.get("condition")
            replay.owner = context.get("requestId") or replay.owner
            replay.refs = object_refs(document["requestPayload"])
        else:
            replay.kind = "notification"
            replay.refs = message_refs(body)
    except UnknownEnvelope as error:
        replay.error, replay.permanent = str(error), True
    return replay


def receive(sqs: Any, queue_url: str, limit: int | None) -> list[Replay]:
    """Messages from the queue until it is empty (for this run) or `limit` is reached."""
    found: list[Replay] = []
    while limit is None or len(found) < limit:
        batch = 10 if limit is None else min(10, limit - len(found))
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=batch, VisibilityTimeout=VISIBILITY_SECONDS, WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            break
        found += [parse_message(message) for message in messages]
    return found


def replay(processor: Processor, sqs: Any, queue_url: str, message: Replay) -> None:
    """Process every object of a message; delete it only when all of them went through."""
    if message.error:
        return
    for ref in message.refs:
        report, failure = with_retries(processor, ref, message.owner)
        if report is None:
            message.error = f"{ref.uri}: {failure}"
            return
        message.reports.append(report)
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message.receipt)
    message.deleted = True


def _line(message: Replay, dry_run: bool, watched: tuple[str, ...] = DEFAULT_SERVICES) -> str:
    what = f"{message.message_id} ({message.kind}{', ' + message.condition if message.condition else ''})"
    objects = ", ".join(ref.uri for ref in message.refs) or "no objects"
    if dry_run:
        return f"{what}: would replay {objects}" + (f"; cannot: {message.error}" if message.error else "")
    if message.deleted:
        done = ", ".join(f"{report.ref.key}: {_outcome(report, watched)}" for report in message.reports)
        return f"{what}: replayed and deleted: {done or 'nothing to do'}"
    if message.permanent:
        return f"{what}: kept in the queue, can never be replayed ({message.error}): look at it and delete it"
    return f"{what}: failed, kept in the queue: {message.error}"


def _outcome(report: ObjectReport, watched: tuple[str, ...] = DEFAULT_SERVICES) -> str:
    """`3 events counted`, `counted before` (all already counted), or the outcome and its reason."""
    if report.outcome != "counted":
        return f"{report.outcome} ({report.reason})" if report.reason else report.outcome
    if report.counted:
        return f"{plural(report.counted, 'event')} counted"
    return "counted before" if report.support_events else f"no {found_events(watched)}"


def run(args: argparse.Namespace) -> int:
    sqs = client("sqs", endpoint_url=args.endpoint_url, region_name=args.region)
    processor = None if args.dry_run else processor_for(args)[0]
    messages = receive(sqs, args.queue_url, args.max)
    for message in messages:
        if args.dry_run:
            sqs.change_message_visibility(QueueUrl=args.queue_url, ReceiptHandle=message.receipt, VisibilityTimeout=0)
        else:
            assert processor is not None
            replay(processor, sqs, args.queue_url, message)
    if args.format == "json":
        sys.stdout.write(json.dumps({"messages": [message.fields() for message in messages]}, indent=2) + "\n")
    else:
        watched = processor.services if processor else DEFAULT_SERVICES
        for message in messages:
            sys.stdout.write(_line(message, args.dry_run, watched) + "\n")
        done = sum(message.deleted for message in messages)
        verb = "listed" if args.dry_run else f"replayed {done} of"
        sys.stdout.write(f"{verb} {plural(len(messages), 'message')}\n")
    failed = [message for message in messages if not message.deleted and not args.dry_run]
    if failed:
        hopeless = sum(message.permanent for message in failed)
        if hopeless < len(failed):
            sys.stderr.write(
                f"supportwatch: {plural(len(failed) - hopeless, 'message')} failed and stay in the queue; "
                "fix the cause and run again\n"
            )
        if hopeless:
            sys.stderr.write(
                f"supportwatch: {plural(hopeless, 'message')} can never be replayed (no object in the body) "
                "and stay in the queue: look at them and delete them\n"
            )
        return 1
    return 0
