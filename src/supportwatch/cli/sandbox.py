"""`supportwatch sandbox [PATH...]`: the deployed workflow on an embedded AWS that runs until Ctrl-C.

The stack is the one `local` builds from template.yaml (bucket, table, topic, a queue subscribed to
the topic). The bucket notifies a queue of every object created under the function's prefix and
suffix filter, with S3's own ObjectCreated event, and the sandbox hands each event to the handler
(with Lambda's retries): an object put into the bucket by any client reaches the function within a
second, as in a deployment. PATHs are uploaded first and go the same way. The printed `export`
lines point the AWS CLI, boto3 and `supportwatch backfill/query/redrive` at it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

from supportwatch.aws.local import (
    CREDENTIALS,
    REGION,
    EmbeddedAws,
    LocalStack,
    RouteInboxes,
    deploy,
    notification_queue,
    subscribe_queue,
)
from supportwatch.cli.inputs import discover
from supportwatch.cli.local import (
    delivered_key,
    find_template,
    function_environment,
    function_runtime,
    invoke,
    patched_environ,
    routes_of,
)
from supportwatch.cli.output import note_ignored, note_skipped
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport

POLL_SECONDS = 0.5
READY = "# Ctrl-C stops the sandbox; everything in it is lost."


@contextlib.contextmanager
def stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM set `stop` instead of interrupting whatever is running."""
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class Notifications:
    """The bucket's ObjectCreated events from their queue, each handed to the function."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def deliver(self) -> int:
        """Invoke the function for the events waiting (up to ten); how many messages there were."""
        messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            for record in event.get("Records", []):  # S3's s3:TestEvent has none
                found = record["s3"]
                ref = ObjectRef(found["bucket"]["name"], unquote_plus(found["object"]["key"]))
                note(invoke(ref, {"Records": [record]}))
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def note(report: ObjectReport) -> None:
    """One line on stderr for each object the function was invoked for."""
    if report.outcome != "counted":
        sys.stderr.write(f"{report.ref.uri}: {report.outcome}: {report.reason}\n")
        return
    alerts = f", {report.alerts} alert{'s' if report.alerts != 1 else ''}" if report.alerts else ""
    sys.stderr.write(
        f"{report.ref.uri}: {report.support_events} support events, {report.counted} counted now, "
        f"{report.duplicates} already counted{alerts}\n"
    )
    note_skipped(report)


def upload(aws: EmbeddedAws, stack: LocalStack, paths: list) -> None:
    inputs = discover(paths)
    note_ignored(inputs.ignored)
    s3 = aws.client("s3")
    for path, key in inputs.keyed(lambda relative: delivered_key(relative, stack)):
        s3.put_object(Bucket=stack.bucket, Key=key, Body=path.read_bytes())
        if not key.endswith(stack.key_suffix):
            sys.stderr.write(
                f"s3://{stack.bucket}/{key}: uploaded, not delivered: its key does not end in {stack.key_suffix}\n"
            )


def instructions(endpoint: str, stack: LocalStack, inbox: str, routed: RouteInboxes | None = None) -> str:
    """Lines to paste into a shell: every one is a comment or an `export`."""
    names = {"BUCKET": stack.bucket, "TABLE": stack.table, "TOPIC_ARN": stack.topic_arn, "INBOX_URL": inbox}
    routes = []
    routed = routed or RouteInboxes()
    if routed.security_hub:
        routes.append("#   aws securityhub get-findings   # one finding per alert")
    if routed.events:
        names["EVENT_INBOX_URL"] = routed.events
        routes.append("#   aws sqs receive-message --queue-url $EVENT_INBOX_URL   # bus events")
    if routed.chat:
        names |= {"CHAT_TOPIC_ARN": stack.chat_topic_arn, "CHAT_INBOX_URL": routed.chat}
        routes.append("#   aws sqs receive-message --queue-url $CHAT_INBOX_URL   # chat messages")

    def export(values: dict[str, str]) -> str:
        return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in values.items())

    credentials = {name: value for name, value in CREDENTIALS.items() if not name.endswith("REGION")}
    return "\n".join(
        [
            f"# supportwatch sandbox: an embedded AWS at {endpoint} with the stack of template.yaml.",
            f"# Paste into another shell (or give each command --endpoint-url {endpoint} --region {REGION}):",
            export({"AWS_ENDPOINT_URL": endpoint}),
            export(credentials),
            export({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}),
            export(names),
            f"# Objects put under s3://$BUCKET/{stack.key_prefix} ending in {stack.key_suffix} reach the function:",
            "#   aws s3 cp --recursive demo/trails s3://$BUCKET/   # demo/trails holds AWSLogs/...",
            "#   supportwatch backfill s3://$BUCKET --table $TABLE --topic-arn $TOPIC_ARN",
            "#   supportwatch query --table $TABLE",
            "#   aws sqs receive-message --queue-url $INBOX_URL --max-number-of-messages 10   # the alerts",
            *routes,
            READY,
        ]
    )


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    template = find_template(args.template)
    with stopped_by_signals(stop), EmbeddedAws(args.port) as aws, patched_environ(aws.environment()):
        stack = deploy(aws, template, routes_of(args))
        inbox = subscribe_queue(aws, stack.topic_arn)
        routed = RouteInboxes.of(aws, stack)
        notifications = Notifications(aws.client("sqs"), notification_queue(aws, stack))
        out = sys.stdout  # the function's prints go to stderr, the instructions to stdout
        with function_runtime(function_environment(stack, args.verbose)):
            if args.paths:
                upload(aws, stack, args.paths)
                while not stop.is_set() and notifications.deliver():
                    pass
            out.write(instructions(aws.endpoint_url, stack, inbox, routed) + "\n")
            out.flush()
            while not stop.is_set():
                if not notifications.deliver():
                    stop.wait(POLL_SECONDS)
    sys.stderr.write("sandbox stopped\n")
    return 0
