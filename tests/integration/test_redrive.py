"""`supportwatch redrive` on moto: a failed invocation's destination record replayed exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from supportwatch import handler
from supportwatch.aws.store import SummaryStore
from supportwatch.cli import target
from supportwatch.cli.main import main
from supportwatch.export import export_document
from tests.faults import HttpFaults, json_error, lambda_retries, no_backoff, received_alerts
from tests.helpers import comparable, expected_totals, random_support_records, s3_event
from tests.integration.conftest import LambdaContext

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/redrive.json.gz"
OTHER = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/redrive-2.json.gz"
RECORDS = random_support_records(30, seed=31, identities=3)
OTHER_RECORDS = random_support_records(10, seed=32, identities=2)
THROTTLED = json_error(400, "ThrottlingException")


def destination_record(event: dict, context: LambdaContext, error: Exception) -> str:
    """What Lambda sends the on-failure destination when an asynchronous invocation exhausts its retries."""
    return json.dumps(
        {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": context.aws_request_id,
                "functionArn": context.invoked_function_arn + ":$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
        }
    )


@pytest.fixture
def failed(stack, monkeypatch):
    """KEY's invocation failed three times (throttled table): its destination record is in the DLQ."""
    no_backoff(monkeypatch)
    monkeypatch.setattr(target.time, "sleep", lambda seconds: None)
    stack.put_records(KEY, RECORDS)
    stack.put_records(OTHER, OTHER_RECORDS)
    faults = HttpFaults()
    faults.install(monkeypatch)
    faults.fail("dynamodb.TransactWriteItems", THROTTLED, times=10_000)
    event, context = s3_event(stack.bucket, KEY), LambdaContext()
    with pytest.raises(handler.ObjectsFailed) as raised:
        lambda_retries(event, context)
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="supportwatch-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=destination_record(event, context, raised.value))
    return stack, queue, faults


def run(stack, queue: str, *options: str) -> int:
    target = ["--table", stack.resources.table, "--topic-arn", stack.resources.topic_arn]
    return main(["redrive", "--queue-url", queue, *target, *options])


def stored(stack) -> dict:
    return comparable(export_document(SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities()))


def remaining(queue: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_redrive_counts_once_and_deletes_the_message(failed, capsys):
    stack, queue, _ = failed
    inbox = stack.inbox()
    assert stored(stack) == {}
    assert run(stack, queue, "--dry-run") == 0
    assert "would replay s3://" in capsys.readouterr().out and remaining(queue) == 1
    assert run(stack, queue) == 0
    out = capsys.readouterr().out
    assert "RetriesExhausted" in out and "replayed and deleted" in out and "30 events counted" in out
    assert remaining(queue) == 0
    assert stored(stack) == expected_totals(RECORDS)
    new = [alert["identity"] for alert in received_alerts(inbox) if alert["rule"] == "new-identity"]
    assert sorted(new) == sorted(expected_totals(RECORDS))
    # The same event again (e.g. a second copy in the DLQ): nothing changes, no alert again.
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(s3_event(stack.bucket, KEY)))
    assert run(stack, queue, "--format", "json") == 0
    (message,) = json.loads(capsys.readouterr().out)["messages"]
    assert (message["kind"], message["counted"], message["deleted"]) == ("notification", 0, True)
    assert stored(stack) == expected_totals(RECORDS)
    assert received_alerts(inbox) == []


def test_a_message_that_fails_again_stays_in_the_queue(failed, monkeypatch, capsys):
    stack, queue, faults = failed
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(s3_event(stack.bucket, OTHER)))
    faults.install(monkeypatch, target)  # the table is still throttled for the redrive too
    assert run(stack, queue) == 1
    assert "failed, kept in the queue" in capsys.readouterr().out
    assert remaining(queue) == 2
    assert stored(stack) == {}


def test_unreadable_messages_stay_and_are_named(stack, capsys):
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="supportwatch-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="not json")
    assert run(stack, queue) == 1
    out, err = capsys.readouterr()
    assert "body is not JSON" in out and "can never be replayed" in out
    assert "1 message can never be replayed" in err and "run again" not in err
    assert remaining(queue) == 1
