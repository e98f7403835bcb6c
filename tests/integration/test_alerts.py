"""Alerts through the handler on moto: SNS -> a subscribed SQS queue, once per window, never lost."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from supportwatch import handler
from supportwatch.aws.local import received_alerts, subscribe_queue
from supportwatch.aws.store import ALERT_LEASE_SECONDS, SummaryStore
from supportwatch.models import Alert
from tests.helpers import (
    CANARY,
    MotoAccount,
    embedded_stack,
    gzip_document,
    random_support_records,
    s3_event,
    support_record,
)
from tests.integration.conftest import LambdaContext

DAY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
ROOT = "arn:aws:iam::111122223333:root"


def received(queue_url: str) -> list[dict[str, Any]]:
    return received_alerts(MotoAccount(), queue_url)


def windows(alerts: list[dict[str, Any]]) -> list[tuple]:
    return sorted((a["rule"], a["window"], a["identity"] or a["key"]) for a in alerts)


def test_each_window_once_across_files_and_redeliveries(stack):
    inbox = stack.inbox()
    stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT), support_record(error="AccessDeniedException")])
    stack.put_records(DAY + "b.json.gz", [support_record(arn=ROOT, time="2023-09-11T18:00:00Z"), support_record()])
    stack.invoke(DAY + "a.json.gz")
    stack.invoke(DAY + "b.json.gz")
    stack.invoke(DAY + "a.json.gz", DAY + "b.json.gz")  # S3 redelivers both
    assert windows(received(inbox)) == [
        ("access-denied", "2023-09-11", "arn:aws:iam::111122223333:user/Admin"),
        ("new-identity", "ever", ROOT),
        ("new-identity", "ever", "arn:aws:iam::111122223333:user/Admin"),
        ("root-usage", "2023-09-11", ROOT),
    ]


def test_unreadable_log_alert_once_per_object(stack):
    inbox = stack.inbox()
    stack.put(DAY + "broken.json.gz", b"\x1f\x8b\x08\x00broken")
    stack.invoke(DAY + "broken.json.gz")
    stack.invoke(DAY + "broken.json.gz")
    (alert,) = received(inbox)
    assert (alert["rule"], alert["window"], alert["key"]) == ("unreadable-log", "object", DAY + "broken.json.gz")


class FlakySns:
    """Wraps an SNS client: the first `failures` publish calls fail as throttled."""

    def __init__(self, client: Any, failures: int, batch_partial: bool = False) -> None:
        self._client = client
        self.failures = failures
        self.batch_partial = batch_partial
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def publish(self, **request: Any) -> Any:
        self.calls.append("publish")
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish")
        return self._client.publish(**request)

    def publish_batch(self, **request: Any) -> Any:
        self.calls.append("publish_batch")
        if self.failures and self.batch_partial:
            self.failures -= 1
            first, *rest = request["PublishBatchRequestEntries"]
            response = self._client.publish_batch(TopicArn=request["TopicArn"], PublishBatchRequestEntries=rest)
            failed = {"Id": first["Id"], "Code": "InternalError", "Message": "try again", "SenderFault": False}
            return {**response, "Failed": [failed]}
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "PublishBatch")
        return self._client.publish_batch(**request)


def with_sns(monkeypatch, sns: Any) -> None:
    handler.processor.cache_clear()
    real = handler.client
    monkeypatch.setattr(handler, "client", lambda service: sns if service == "sns" else real(service))


@pytest.mark.parametrize("batch_partial", [False, True], ids=["publish-fails", "one-batch-entry-fails"])
def test_a_failed_publish_is_retried_and_delivered_exactly_once(stack, monkeypatch, batch_partial):
    inbox = stack.inbox()
    sns = FlakySns(boto3.client("sns"), failures=1, batch_partial=batch_partial)
    with_sns(monkeypatch, sns)
    records = [support_record(arn=ROOT)] + ([support_record()] if batch_partial else [])
    stack.put_records(DAY + "a.json.gz", records)
    context = LambdaContext()
    with pytest.raises(handler.ObjectsFailed, match="could not be published"):
        handler.lambda_handler(s3_event(stack.bucket, DAY + "a.json.gz"), context)
    handler.lambda_handler(s3_event(stack.bucket, DAY + "a.json.gz"), context)  # Lambda's retry, same request id
    handler.lambda_handler(s3_event(stack.bucket, DAY + "a.json.gz"), context)  # and a later redelivery
    alerts = received(inbox)
    expected = 3 if batch_partial else 2  # new-identity and root-usage of root (and new-identity of Admin)
    assert len(alerts) == len(set(windows(alerts))) == expected
    assert sns.calls[0] == "publish_batch"  # several alerts leave together


def test_normal_retry_of_a_published_alert_publishes_nothing(stack):
    inbox = stack.inbox()
    stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT)])
    context = LambdaContext()
    handler.lambda_handler(s3_event(stack.bucket, DAY + "a.json.gz"), context)
    first = received(inbox)
    handler.lambda_handler(s3_event(stack.bucket, DAY + "a.json.gz"), context)
    assert len(first) == 2 and received(inbox) == []


def test_claims_lease(stack):
    now = [1_000_000.0]
    store = SummaryStore(boto3.client("dynamodb"), stack.resources.table, clock=lambda: now[0])
    alert = Alert(rule="new-identity", severity="low", window="ever", title="t", detail="d", identity="x")
    assert store.claim(alert, "request-a")
    assert store.claim(alert, "request-a")  # a's own retry may publish what a claimed
    now[0] += ALERT_LEASE_SECONDS - 1
    assert not store.claim(alert, "request-b")  # a may still be publishing
    now[0] += 2
    assert store.claim(alert, "request-b")  # a is dead: its claim is taken over, never swallowed
    store.published(alert, "request-a")  # too late: b owns it now
    store.published(alert, "request-b")
    now[0] += 10 * ALERT_LEASE_SECONDS
    assert not store.claim(alert, "request-b") and not store.claim(alert, "request-c")


def test_alerts_once_from_concurrent_invocations(monkeypatch):
    """Through moto's server, one request at a time (see EmbeddedAws): DynamoDB's isolation."""
    records = random_support_records(120, seed=21, identities=4, days=2)
    records += [support_record(arn=ROOT, time=f"2023-09-1{n}T10:00:00Z") for n in (0, 1)]
    keys = [f"{DAY}f{n}.json.gz" for n in range(10)]
    with embedded_stack(monkeypatch) as (aws, resources):
        monkeypatch.setenv("VOLUME_THRESHOLD", "10")
        inbox = subscribe_queue(aws, resources.topic_arn)
        s3 = aws.client("s3")
        for number, key in enumerate(keys):
            share = records[number :: len(keys)] + records[:3]  # every file also carries the first records
            s3.put_object(Bucket=resources.bucket, Key=key, Body=gzip_document(share))
        handler.processor.cache_clear()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda key: handler.lambda_handler(s3_event(resources.bucket, key), LambdaContext()),
                    keys + keys[:3],
                )
            )
        handler.processor.cache_clear()
        alerts = received_alerts(aws, inbox)
    found = windows(alerts)
    assert len(found) == len(set(found))  # never twice
    assert {rule for rule, _, _ in found} >= {"new-identity", "root-usage", "access-denied", "volume"}
    identities = {record["userIdentity"]["arn"] for record in records}
    assert sorted(i for rule, _, i in found if rule == "new-identity") == sorted(identities)
    per_day = Counter((record["userIdentity"]["arn"], record["eventTime"][:10]) for record in records)
    busy_days = sorted(key for key, calls in per_day.items() if calls > 10)
    assert busy_days and sorted((i, day) for rule, day, i in found if rule == "volume") == busy_days


def test_sns_envelope_carries_subject_and_filter_attributes_and_no_typed_text(stack, handler_logs):
    queue = stack.inbox()
    handler.logger.setLevel("DEBUG")
    try:
        stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT, error="AccessDenied")])
        stack.invoke(DAY + "a.json.gz")
    finally:
        handler.logger.setLevel("INFO")
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 3
    for message in messages:
        envelope = json.loads(message["Body"])
        alert = json.loads(envelope["Message"])
        assert envelope["Subject"] == alert["title"] and len(envelope["Subject"]) < 100
        attributes = {name: value["Value"] for name, value in envelope["MessageAttributes"].items()}
        assert attributes == {"rule": alert["rule"], "severity": alert["severity"], "accountId": "111122223333"}
        assert CANARY not in message["Body"]
    assert CANARY not in json.dumps(handler_logs())
