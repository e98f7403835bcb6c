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
import sysconfig
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote_plus

from supportwatch.aws.local import (
    CREDENTIALS,
    STACK_NAME,
    EmbeddedAws,
    LocalStack,
    RouteInboxes,
    deploy,
    notification_queue,
    subscribe_queue,
)
from supportwatch.aws.sandbox_account import open_trail, own_log, put_digests, record_stack, write_public_keys
from supportwatch.cli.inputs import discover
from supportwatch.cli.local import (
    delivered_key,
    find_template,
    function_environment,
    function_runtime,
    invoke,
    note_undelivered,
    patched_environ,
    routes_of,
)
from supportwatch.cli.output import found_events, note_ignored, note_skipped, plural
from supportwatch.cli.progress import Progress
from supportwatch.cli.render import width
from supportwatch.config import DEFAULT_MAX_DECOMPRESSED_BYTES
from supportwatch.decoding.inflate import UnreadableLog
from supportwatch.identities.short import ELLIPSIS, shorten_texts
from supportwatch.integrity.digest import content_sha256, is_digest_key
from supportwatch.integrity.signing import SigningKey, Trail
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport
from supportwatch.privacy import load_key
from supportwatch.services import DEFAULT_SERVICES

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

    def deliver(self, done: Callable[[ObjectReport], None]) -> int:
        """Invoke the function for the events waiting (up to ten), `done` hears each report; how many
        messages there were."""
        messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            for record in event.get("Records", []):  # S3's s3:TestEvent has none
                found = record["s3"]
                ref = ObjectRef(found["bucket"]["name"], unquote_plus(found["object"]["key"]))
                done(invoke(ref, {"Records": [record]}))
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)


def note(report: ObjectReport, watched: tuple[str, ...] = DEFAULT_SERVICES) -> None:
    """One line on stderr, within the terminal's width, for an object the function was invoked for (its
    folders left out, then its name cut in the middle, when the URI does not fit)."""
    if report.outcome != "counted":
        what = f"{report.outcome}: {report.reason}"
    else:
        what = ", ".join(
            [f"{report.support_events} {found_events(watched)}", f"{report.counted} counted now"]
            + ([f"{report.duplicates} already counted"] if report.duplicates else [])
            + ([plural(report.alerts, "alert")] if report.alerts else [])
        )
    line, room = f"{report.ref.uri}: {what}", width()
    if len(line) > room:
        name = report.ref.key.rsplit("/", 1)[-1]
        (line,) = shorten_texts([f"{ELLIPSIS}/{name}: {what}"], [name], room)
    sys.stderr.write(line + "\n")
    note_skipped(report, watched)


def note_problem(report: ObjectReport, watched: tuple[str, ...] = DEFAULT_SERVICES) -> None:
    """A line for a loaded object only when it was not counted whole (or, a digest, checked)."""
    if report.outcome not in ("counted", "digest"):
        note(report, watched)
    else:
        note_skipped(report, watched)


def upload(aws: EmbeddedAws, stack: LocalStack, paths: list) -> tuple[int, list[tuple[str, str]]]:
    """Put the files into the bucket: how many of them the function is notified of, and the key and
    content SHA-256 of each readable log file among them (what the trail's digests list)."""
    inputs = discover(paths)
    note_ignored(inputs.ignored)
    s3 = aws.client("s3")
    undelivered, logs = [], []
    for path, key in inputs.keyed(lambda relative: delivered_key(relative, stack)):
        body = path.read_bytes()
        s3.put_object(Bucket=stack.bucket, Key=key, Body=body)
        if not key.endswith(stack.key_suffix):
            undelivered.append(key)
        elif not is_digest_key(key):
            with contextlib.suppress(UnreadableLog):  # not listed: `verify` names it
                logs.append((key, content_sha256(body, DEFAULT_MAX_DECOMPRESSED_BYTES)))
    note_undelivered(undelivered, stack)
    return len(inputs.files) - len(undelivered), logs


def load(
    aws: EmbeddedAws,
    stack: LocalStack,
    paths: list,
    notifications: Notifications,
    stop: threading.Event,
    watched: tuple[str, ...] = DEFAULT_SERVICES,
) -> tuple[int, list[tuple[str, str]]]:
    """Upload PATHs and hand their events to the function, with a progress line: how many were delivered,
    and the logs among them (see `upload`); `watched`: the services the function counts."""
    expected, logs = upload(aws, stack, paths)
    progress = Progress(expected)

    def done(report: ObjectReport) -> None:
        progress.advance_report(report)
        note_problem(report, watched)

    try:
        while not stop.is_set() and notifications.deliver(done):
            pass
    finally:
        progress.close()
    return progress.done, logs


def sign(aws: EmbeddedAws, trail: Trail, key: SigningKey, logs: list[tuple[str, str]], now: datetime) -> int:
    """The trail's own log file, then the digests of it and of `logs`, put into the bucket; how many digests."""
    own, body = own_log(trail, now)
    aws.client("s3").put_object(Bucket=trail.bucket, Key=own, Body=body)
    digests = trail.digests([*logs, (own, content_sha256(body, DEFAULT_MAX_DECOMPRESSED_BYTES))], key, now)
    put_digests(aws, trail.bucket, digests)
    return len(digests)


def instructions(
    endpoint: str, stack: LocalStack, inbox: str, routed: RouteInboxes | None = None, public_keys: Path | None = None
) -> list[str]:
    """Lines to paste into a shell, each a comment or an `export` of one variable: `supportwatch` on PATH,
    the endpoint, dummy credentials, the region and the stack's names (the routes' inboxes, and the file
    of the trail's public key, too)."""
    names = {"BUCKET": stack.bucket, "TABLE": stack.table, "TOPIC_ARN": stack.topic_arn, "INBOX_URL": inbox}
    names["SUPPORTWATCH_TABLE"] = stack.table  # query, report and migrate read it without --table
    if public_keys:
        names["PUBLIC_KEYS"] = str(public_keys)
    routed = routed or RouteInboxes()
    if routed.events:
        names["EVENT_INBOX_URL"] = routed.events
    if routed.chat:
        names |= {"CHAT_TOPIC_ARN": stack.chat_topic_arn, "CHAT_INBOX_URL": routed.chat}
    values = {"AWS_ENDPOINT_URL": endpoint, **CREDENTIALS, **names}
    return [
        "# supportwatch sandbox: an embedded AWS with the stack of template.yaml.",
        "# Paste these lines into another shell:",
        *path_export(Path(sysconfig.get_path("scripts")), Path.home()),
        *(f"export {name}={shlex.quote(value)}" for name, value in values.items()),
    ]


def path_export(scripts: Path, home: Path) -> list[str]:
    """The export that puts this `supportwatch` on PATH (the folder under $HOME written so)."""
    if not (scripts / "supportwatch").exists():
        return []
    folder = shlex.quote(str(scripts))
    if scripts.is_relative_to(home) and scripts != home:
        folder = '"$HOME"/' + shlex.quote(scripts.relative_to(home).as_posix())
    return [f'export PATH={folder}:"$PATH"']


def tour(stack: LocalStack, routed: RouteInboxes | None = None) -> list[str]:
    """What to try, once the files are loaded (the AWS CLI v1 reads no AWS_ENDPOINT_URL: each `aws`
    command names the endpoint)."""
    aws = "#   aws --endpoint-url $AWS_ENDPOINT_URL"
    routes = []
    routed = routed or RouteInboxes()
    if routed.security_hub:
        routes.append(f"{aws} securityhub get-findings   # findings")
    if routed.events:
        routes += [f"{aws} sqs receive-message \\", "#       --queue-url $EVENT_INBOX_URL   # bus events"]
    if routed.chat:
        routes += [f"{aws} sqs receive-message \\", "#       --queue-url $CHAT_INBOX_URL   # chat messages"]
    return [
        f"# Objects put at s3://$BUCKET/{stack.key_prefix}*{stack.key_suffix} reach the function. Try:",
        "#   supportwatch query --top 10            # the table: $SUPPORTWATCH_TABLE",
        "#   supportwatch backfill s3://$BUCKET --table $TABLE --topic-arn $TOPIC_ARN",
        "#   supportwatch verify s3://$BUCKET --public-keys $PUBLIC_KEYS",
        f"#   supportwatch doctor --stack {STACK_NAME}",
        "#   aws --endpoint-url $AWS_ENDPOINT_URL s3 cp --recursive DIR s3://$BUCKET/",
        "#   aws --endpoint-url $AWS_ENDPOINT_URL sqs receive-message \\",
        "#       --queue-url $INBOX_URL --max-number-of-messages 10   # the alerts",
        *routes,
        READY,
    ]


def say(out: TextIO, lines: list[str]) -> None:
    out.write("".join(line + "\n" for line in lines))
    out.flush()


def run(args: argparse.Namespace) -> int:
    stop = threading.Event()
    template = find_template(args.template)
    key = load_key(args.pseudonymize_key) if args.pseudonymize_key else None
    with (
        stopped_by_signals(stop),
        EmbeddedAws(args.port) as aws,
        patched_environ(aws.environment()),
        tempfile.TemporaryDirectory(prefix="supportwatch-sandbox-") as folder,
    ):
        stack = deploy(aws, template, routes_of(args), key, args.services)
        inbox = subscribe_queue(aws, stack.topic_arn)
        routed = RouteInboxes.of(aws, stack)
        record_stack(aws, stack)
        notifications = Notifications(aws.client("sqs"), notification_queue(aws, stack))
        trail, signer, now = open_trail(aws, stack.bucket), SigningKey(), datetime.now(UTC)
        public_keys = write_public_keys(signer, Path(folder), now)
        out = sys.stdout  # the function's prints go elsewhere while it runs
        say(out, instructions(aws.endpoint_url, stack, inbox, routed, public_keys))
        with function_runtime(function_environment(stack, args.verbose, str(public_keys))):
            watched = args.services
            loaded, logs = load(aws, stack, args.paths, notifications, stop, watched) if args.paths else (0, [])
            digests = sign(aws, trail, signer, logs, now)
            while not stop.is_set() and notifications.deliver(partial(note_problem, watched=watched)):
                pass
            say(out, [f"# Loaded {plural(loaded, 'file')}; trail {trail.name} signed {plural(digests, 'digest')}."])
            say(out, tour(stack, routed))
            while not stop.is_set():
                if not notifications.deliver(partial(note, watched=watched)):
                    stop.wait(POLL_SECONDS)
    sys.stderr.write("sandbox stopped\n")
    return 0
