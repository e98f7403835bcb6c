"""Contract section 12 through the function, backfill, redrive and query on moto, over tests/fixtures/services/
(its README says what each record tests): the exports written there by hand, and no typed text in the
table, the SNS messages, the function's log lines or its metrics."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.export import export_document
from tests.helpers import (
    EVERY_SERVICE,
    TYPED,
    as_expected,
    s3_event,
    services_corpus_keys,
    services_expected,
)
from tests.integration.conftest import Stack, deployed

EVERY = ",".join(EVERY_SERVICE)
COUNTED = 215  # the corpus's distinct events of every service: Alice 102, Bob 104, Carol 6, root 3


def put_corpus(stack: Stack, prefix: str = "") -> list[str]:
    """The corpus in the stack's bucket, under its trail's keys after `prefix`, in the order they are read;
    under a prefix the bucket does not notify the function of (backfill and redrive read them)."""
    keys = {prefix + key: path for key, path in services_corpus_keys().items()}
    for key, path in keys.items():
        stack.put(key, path.read_bytes())
    return list(keys)


def notifications(queue_url: str) -> list[str]:
    """Every SNS notification the queue received, whole (subject, JSON and email bodies, attributes)."""
    sqs, bodies = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def alerts_of(bodies: list[str]) -> list[dict[str, Any]]:
    return [json.loads(json.loads(body)["Message"]) for body in bodies]


def stored(stack: Stack, alerts: list[dict[str, Any]], watched: tuple[str, ...]) -> dict[str, Any]:
    return export_document(SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities(), alerts, watched)


@pytest.mark.parametrize(
    ("services", "name"),
    [(("support",), "expected-support.json"), (EVERY_SERVICE, "expected-support-q-bedrock.json")],
    ids=["support", "every"],
)
def test_the_function_counts_what_it_watches_and_keeps_no_typed_text(services, name, monkeypatch, handler_logs, capsys):
    with deployed(monkeypatch, services=services) as stack:
        inbox = stack.inbox()
        for key in put_corpus(stack):
            assert stack.invoke(key)["reports"][0]["outcome"] == "counted"
        sent = notifications(inbox)
        document, want = stored(stack, alerts_of(sent), services), services_expected(name)
        assert as_expected(document, want) == want
        items = json.dumps(stack.items())
    printed = capsys.readouterr()  # the function's metrics (EMF) go to stdout
    assert TYPED not in items + json.dumps(sent) + json.dumps(handler_logs()) + printed.out + printed.err


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def deployed_stack(stack: Stack, watched: str) -> None:
    """A CloudFormation stack named supportwatch with the stack's outputs and WatchedServices (moto cannot
    transform the SAM template: a plain stack with the same outputs and parameters stands in for it)."""
    stack.stand_in({"WatchedServices": watched})


def test_backfill_and_query_of_a_stack_watch_what_it_watches(stack, capsys):
    """backfill --stack counts the services of the stack's WatchedServices, query --stack shows them; with
    --table and no --services, query shows the summaries as support alone shows them."""
    put_corpus(stack, "trails/")
    deployed_stack(stack, EVERY)
    backfill = ("backfill", f"s3://{stack.bucket}/trails", "--stack", "supportwatch", "--format", "json")
    code, out, err = run(capsys, *backfill, "--workers", "1")
    assert code == 0, err
    assert json.loads(out)["counted"] == COUNTED
    code, out, err = run(capsys, "query", "--stack", "supportwatch", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["summaries"] == services_expected("expected-support-q-bedrock.json")["summaries"]
    for output in ("table", "csv"):
        code, printed, noted = run(capsys, "query", "--stack", "supportwatch", "--top", "3", "--format", output)
        assert code == 0 and TYPED not in printed + noted, noted
    code, out, err = run(capsys, "query", "--table", stack.resources.table, "--format", "json")
    assert code == 0, err
    assert not [summary for summary in json.loads(out)["summaries"].values() if "services" in summary]
    assert TYPED not in json.dumps(stack.items())


def test_backfill_services_overrides_the_stack(stack, capsys):
    put_corpus(stack, "trails/")
    deployed_stack(stack, "support")
    args = ("backfill", f"s3://{stack.bucket}/trails", "--stack", "supportwatch", "--no-alerts", "--format", "json")
    args += ("--workers", "1")
    code, out, err = run(capsys, *args, "--services", "q")
    assert code == 0, err
    assert json.loads(out)["counted"] == 64  # Alice's 60 Q calls, Bob's 3, the root user's 1
    code, out, err = run(capsys, "query", "--stack", "supportwatch", "--services", "q", "--format", "json")
    assert code == 0, err
    assert {identity: summary["services"] for identity, summary in json.loads(out)["summaries"].items()} == {
        "arn:aws:iam::111122223333:root": {"q": 1},
        "arn:aws:iam::111122223333:user/alice": {"q": 60},
        "arn:aws:sts::111122223333:assumed-role/Developer/bob": {"q": 3},
    }


def test_redrive_counts_the_services_it_is_given(stack, capsys):
    """DLQ messages naming the corpus's objects (S3 notifications) replayed with --services."""
    keys = put_corpus(stack, "trails/")
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="supportwatch-dlq")["QueueUrl"]
    for key in keys:
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(s3_event(stack.bucket, key)))
    target = ("--table", stack.resources.table, "--no-alerts")
    code, out, err = run(capsys, "redrive", "--queue-url", queue, *target, "--services", EVERY, "--format", "json")
    assert code == 0, err
    assert sum(message["counted"] for message in json.loads(out)["messages"]) == COUNTED
    code, out, err = run(capsys, "query", "--table", stack.resources.table, "--services", EVERY, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["summaries"] == services_expected("expected-support-q-bedrock.json")["summaries"]


def test_a_stack_of_before_watches_support_alone(stack, capsys):
    """A stack deployed before WatchedServices existed has no such parameter: support alone."""
    stack.stand_in()
    put_corpus(stack, "trails/")
    backfill = ("backfill", f"s3://{stack.bucket}/trails", "--stack", "supportwatch", "--format", "json")
    code, out, err = run(capsys, *backfill, "--workers", "1")
    assert code == 0, err
    assert json.loads(out)["counted"] == 41 + 2  # Alice's and the root user's support calls
