"""Throttling, server and network errors at botocore's HTTP layer (so its retries run), then Lambda's.

After the retries Lambda would make, totals are exact and every alert is published exactly once;
an invocation that cannot finish raises, so the on-failure destination gets its event.
"""

from __future__ import annotations

from collections import Counter

import boto3
import pytest

from supportwatch import handler
from supportwatch.aggregate import first_by_id
from supportwatch.aws.clients import RETRY_CONFIG
from supportwatch.aws.store import SummaryStore
from supportwatch.decoding.records import extract
from supportwatch.export import export_document
from supportwatch.ledger.commits import chunks
from tests.faults import (
    HttpFaults,
    json_error,
    lambda_retries,
    network_error,
    no_backoff,
    query_error,
    received_alerts,
    s3_error,
)
from tests.helpers import comparable, expected_totals, random_support_records, s3_event
from tests.integration.conftest import LambdaContext

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/faults.json.gz"
RECORDS = random_support_records(40, seed=21, identities=4)
# `max_attempts` in a retries config counts the retries: one request plus that many.
BOTOCORE_ATTEMPTS = RETRY_CONFIG.retries["max_attempts"] + 1
THROTTLED_TRANSACTION = json_error(
    400,
    "TransactionCanceledException",
    Message="Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError]",
    CancellationReasons=[{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}] * 60,
)


@pytest.fixture
def faults(stack, monkeypatch) -> HttpFaults:
    no_backoff(monkeypatch)
    injected = HttpFaults()
    injected.install(monkeypatch)
    stack.put_records(KEY, RECORDS)
    return injected


def stored(stack) -> dict:
    return comparable(export_document(SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities()))


def assert_exact(stack, inbox: str) -> None:
    assert stored(stack) == expected_totals(RECORDS)
    published = received_alerts(inbox)
    windows = Counter((alert["rule"], alert["window"], alert["identity"]) for alert in published)
    assert windows and max(windows.values()) == 1, "an alert was published twice"
    new = {alert["identity"] for alert in published if alert["rule"] == "new-identity"}
    assert new == set(expected_totals(RECORDS)), "an alert was lost"
    denied_days = {
        (record["userIdentity"]["arn"], record["eventTime"][:10]) for record in RECORDS if record.get("errorCode")
    }
    assert {(a["identity"], a["window"]) for a in published if a["rule"] == "access-denied"} == denied_days


def invoke(stack, faults: HttpFaults, clear_after: int | None = None) -> tuple[dict, int]:
    """Invoke with Lambda's retries; the faults are lifted before retry number `clear_after`."""
    attempts = []

    def before_retry(attempt: int) -> None:
        attempts.append(attempt)
        if clear_after is not None and attempt >= clear_after:
            faults.clear()

    response = lambda_retries(s3_event(stack.bucket, KEY), LambdaContext(), before_retry)
    return response, len(attempts) + 1


@pytest.mark.parametrize(
    "fault",
    [
        json_error(400, "ThrottlingException"),
        json_error(400, "ProvisionedThroughputExceededException"),
        json_error(500, "InternalServerError"),
        json_error(503, "ServiceUnavailable"),
        network_error("connect"),
        network_error("read-timeout"),
    ],
    ids=["throttling", "provisioned-throughput", "500", "503", "endpoint-connection", "read-timeout"],
)
@pytest.mark.parametrize("operation", ["TransactWriteItems", "UpdateItem", "PutItem", "GetItem"])
def test_botocore_retries_transient_dynamodb_errors_below_the_store(stack, faults, fault, operation):
    inbox = stack.inbox()
    faults.fail(f"dynamodb.{operation}", fault, times=3)
    response, attempts = invoke(stack, faults)
    assert attempts == 1, "botocore's standard mode absorbed the errors"
    assert faults.failed[f"dynamodb.{operation}"] == 3
    assert response["reports"][0]["counted"] == len(RECORDS)
    assert_exact(stack, inbox)


def test_throttled_transaction_is_retried_by_the_store(stack, faults):
    """TransactionCanceledException is not retryable for botocore: one request per try, the store retries."""
    inbox = stack.inbox()
    faults.fail("dynamodb.TransactWriteItems", THROTTLED_TRANSACTION, times=3)
    response, attempts = invoke(stack, faults)
    assert (attempts, faults.failed["dynamodb.TransactWriteItems"]) == (1, 3)
    # the 3 refused tries of the first transaction, then each of the file's transactions once
    transactions = len(list(chunks(first_by_id(extract(RECORDS).events))))
    assert faults.sent["dynamodb.TransactWriteItems"] == 3 + transactions
    assert response["reports"][0]["counted"] == len(RECORDS)
    assert_exact(stack, inbox)


@pytest.mark.parametrize(
    ("operation", "fault"),
    [
        ("dynamodb.TransactWriteItems", json_error(400, "ThrottlingException")),
        ("dynamodb.TransactWriteItems", network_error("read-timeout")),
        ("dynamodb.PutItem", json_error(500, "InternalServerError")),
        ("dynamodb.GetItem", network_error("connect")),
        ("sns.PublishBatch", query_error(400, "Throttling")),
        ("sns.PublishBatch", query_error(500, "InternalError")),
    ],
    ids=[
        "transact-throttled",
        "transact-timeout",
        "put-500",
        "get-connect",
        "publish-throttled",
        "publish-500",
    ],
)
def test_beyond_botocore_retries_lambda_retries_finish_exactly_once(stack, faults, operation, fault):
    inbox = stack.inbox()
    faults.fail(operation, fault, times=BOTOCORE_ATTEMPTS + 2)  # the first invocation gives up
    response, attempts = invoke(stack, faults)
    assert attempts == 2
    assert faults.failed[operation] == BOTOCORE_ATTEMPTS + 2
    assert response["reports"][0]["outcome"] == "counted"
    assert_exact(stack, inbox)


def test_recording_a_sent_alert_outlasts_botocore_retries_so_no_retry_sends_it_again(stack, faults):
    # The only UpdateItem of this file is the record of a published alert (its new items' bounds are
    # written by their transactions): failing the invocation there would publish the alert again.
    inbox = stack.inbox()
    faults.fail(
        "dynamodb.UpdateItem", json_error(400, "ProvisionedThroughputExceededException"), times=BOTOCORE_ATTEMPTS + 2
    )
    response, attempts = invoke(stack, faults)
    assert attempts == 1
    assert faults.failed["dynamodb.UpdateItem"] == BOTOCORE_ATTEMPTS + 2
    assert response["reports"][0]["outcome"] == "counted"
    assert_exact(stack, inbox)


def test_throttled_transactions_beyond_the_store_retries(stack, faults):
    faults.fail("dynamodb.TransactWriteItems", THROTTLED_TRANSACTION, times=12)  # the store gives up after 10
    inbox = stack.inbox()
    _, attempts = invoke(stack, faults)
    assert attempts == 2
    assert_exact(stack, inbox)


def test_an_invocation_that_cannot_finish_raises_for_the_on_failure_destination(stack, faults):
    faults.fail("dynamodb.TransactWriteItems", json_error(400, "ThrottlingException"), times=10_000)
    with pytest.raises(handler.ObjectsFailed, match="ThrottlingException"):
        invoke(stack, faults)
    assert faults.sent["dynamodb.TransactWriteItems"] == 3 * BOTOCORE_ATTEMPTS
    assert stored(stack) == {}
    # The event redriven later (see `supportwatch redrive`) counts everything once.
    faults.clear()
    invoke(stack, faults)
    assert stored(stack) == expected_totals(RECORDS)


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (404, "NoSuchKey", "object no longer exists (NoSuchKey)"),
        (403, "AccessDenied", "access denied on the object (AccessDenied)"),
        (403, "KMS.AccessDeniedException", "access denied on the KMS key (KMS.AccessDeniedException)"),
    ],
)
def test_permanent_s3_errors_are_logged_with_the_reason_and_not_retried(
    stack, faults, handler_logs, status, code, reason
):
    faults.fail("s3.GetObject", s3_error(status, code), times=1)
    response, attempts = invoke(stack, faults)
    assert attempts == 1 and faults.sent["s3.GetObject"] == 1
    (report,) = response["reports"]
    assert (report["outcome"], report["reason"]) == ("unavailable", reason)
    (line,) = [line for line in handler_logs() if line.get("outcome") == "unavailable"]
    assert (line["bucket"], line["key"], line["reason"]) == (stack.bucket, KEY, reason)
    assert stored(stack) == {}


def test_access_denied_on_one_object_of_a_batch_alerts_once_and_the_others_count(stack, faults, handler_logs):
    inbox = stack.inbox()
    denied = KEY.replace("faults.json.gz", "denied.json.gz")
    stack.put_records(denied, random_support_records(5, seed=22))
    faults.fail("s3.GetObject", s3_error(403, "AccessDenied"), times=10_000, in_url="denied.json.gz")
    for _ in range(3):  # the notification redelivered (S3 delivers at least once): a new invocation each time
        response = handler.lambda_handler(s3_event(stack.bucket, KEY, denied), LambdaContext())
        assert [report["outcome"] for report in response["reports"]] == ["counted", "unavailable"]
    assert faults.failed["s3.GetObject"] == 3  # permanent: never retried within an invocation
    assert stored(stack) == expected_totals(RECORDS)
    alerts = [alert for alert in received_alerts(inbox) if alert["rule"] == "unavailable-log"]
    assert len(alerts) == 1, alerts
    (alert,) = alerts
    assert (alert["bucket"], alert["key"], alert["window"], alert["severity"]) == (
        stack.bucket,
        denied,
        "object",
        "high",
    )
    assert "access denied on the object (AccessDenied)" in alert["detail"]
    lines = [line for line in handler_logs() if line.get("outcome") == "unavailable"]
    assert [line["alerts"] for line in lines] == [1, 0, 0]


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (500, "InternalError"), (503, "ServiceUnavailable")])
def test_transient_s3_errors_are_retried(stack, faults, status, code):
    inbox = stack.inbox()
    faults.fail("s3.GetObject", s3_error(status, code), times=BOTOCORE_ATTEMPTS + 1)
    response, attempts = invoke(stack, faults)
    assert attempts == 2  # botocore's attempts, then Lambda's retry
    assert response["reports"][0]["counted"] == len(RECORDS)
    assert_exact(stack, inbox)
