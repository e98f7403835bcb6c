"""Every trigger envelope end-to-end through the handler on moto: what is counted and what is answered.

The envelopes are the files in events/ (the documented shapes), with the stack's bucket name put in.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from supportwatch import handler
from supportwatch.aws.objects import S3Objects
from supportwatch.aws.store import SummaryStore
from supportwatch.export import export_document
from supportwatch.models import ObjectRef
from supportwatch.triggers import UnknownEnvelope
from tests.helpers import REPO, support_record
from tests.integration.conftest import LambdaContext
from tests.unit.test_triggers import BUCKET as FIXTURE_BUCKET
from tests.unit.test_triggers import ORG_KEYS, PREFIXED, PUT_KEY

ADMIN = "arn:aws:iam::111122223333:user/Admin"
SECRET = "do-not-echo-91c2"


def envelope(stack, name: str) -> dict[str, Any]:
    """An events/ fixture addressed to the stack's bucket (also inside the JSON-in-JSON bodies)."""
    return json.loads((REPO / "events" / name).read_text().replace(FIXTURE_BUCKET, stack.bucket))


def put_logs(stack, keys: list[str]) -> None:
    """One support event per key, each its own eventID, all by the same identity."""
    for number, key in enumerate(keys):
        stack.put_records(key, [support_record(time=f"2023-09-11T16:{number:02d}:00Z")])


def total_calls(stack) -> int:
    summaries = export_document(SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities())["summaries"]
    return summaries[ADMIN]["totalCalls"] if ADMIN in summaries else 0


def invoke(event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
    return handler.lambda_handler(event, context or LambdaContext())


class FailingS3:
    """An S3 client whose GetObject fails with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get_object(self, **_: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, "GetObject")


@pytest.fixture
def failing_reads(monkeypatch) -> Callable[[dict[str, str]], None]:
    """Make S3 reads of some keys fail with an error code, as S3 answers them (before the first invocation)."""
    original = S3Objects.read

    def install(errors: dict[str, str]) -> None:
        def read(self, ref: ObjectRef) -> bytes:
            if code := errors.get(ref.key):
                return original(S3Objects(FailingS3(code)), ref)
            return original(self, ref)

        monkeypatch.setattr(S3Objects, "read", read)
        handler.processor.cache_clear()  # the next processor binds the patched read

    return install


# --- envelopes that announce objects (asynchronous invocations) ----------------------------------------


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("s3-put.json", [PUT_KEY]),
        ("sns-s3.json", PREFIXED),
        ("sns-cloudtrail.json", ORG_KEYS),
        ("eventbridge-s3-object-created.json", PREFIXED[:1]),
    ],
)
def test_asynchronous_envelopes_count_every_object_once(stack, name, keys):
    put_logs(stack, keys)
    event = envelope(stack, name)
    if "detail" in event:  # EventBridge names the object's version: the one moto holds (none if unversioned)
        version = boto3.client("s3").head_object(Bucket=stack.bucket, Key=keys[0]).get("VersionId")
        event["detail"]["object"]["version-id"] = version
    reports = invoke(event)["reports"]
    assert [(r["key"], r["outcome"], r["counted"]) for r in reports] == [(key, "counted", 1) for key in keys]
    assert total_calls(stack) == len(keys)
    # At-least-once delivery: the same envelope again counts nothing.
    assert [r["duplicates"] for r in invoke(event)["reports"]] == [1] * len(keys)
    assert total_calls(stack) == len(keys)


@pytest.mark.parametrize("name", ["s3-test-event.json", "sns-s3-test-event.json"])
def test_test_events_announce_nothing(stack, name):
    assert invoke(envelope(stack, name)) == {"reports": []}


def test_asynchronous_failure_raises_for_lambda_retry(stack, failing_reads):
    put_logs(stack, ORG_KEYS)
    failing_reads({ORG_KEYS[1]: "SlowDown"})
    with pytest.raises(handler.ObjectsFailed, match="1 of 2 objects failed"):
        invoke(envelope(stack, "sns-cloudtrail.json"))
    assert total_calls(stack) == 1  # the other object is counted; Lambda's retry will not count it again


# --- SQS batches -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("sqs-s3.json", [PUT_KEY, PREFIXED[1]]),
        ("sqs-sns-s3.json", [PUT_KEY]),
        ("sqs-sns-s3-raw.json", PREFIXED),
        ("sqs-sns-cloudtrail.json", ORG_KEYS),
        ("sqs-s3-test-event.json", []),
        ("sqs-sns-s3-test-event.json", []),
    ],
)
def test_queue_envelopes(stack, name, keys):
    put_logs(stack, keys)
    event = envelope(stack, name)
    assert invoke(event) == {"batchItemFailures": []}
    assert total_calls(stack) == len(keys)
    assert invoke(event) == {"batchItemFailures": []}  # redelivered: nothing counted twice
    assert total_calls(stack) == len(keys)


def sqs_batch(stack, bodies: list[str]) -> dict[str, Any]:
    template = envelope(stack, "sqs-s3.json")["Records"][0]
    records = []
    for number, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = f"message-{number}"
        record["body"] = body
        records.append(record)
    return {"Records": records}


def s3_body(stack, key: str) -> str:
    notification = envelope(stack, "s3-put.json")
    notification["Records"][0]["s3"]["object"]["key"] = key.replace(" ", "+")
    return json.dumps(notification)


def test_one_transient_failure_in_a_batch_redelivers_only_its_message(stack, failing_reads):
    keys = [PUT_KEY.replace("Ab12", f"Zz{n:02d}") for n in range(3)]
    put_logs(stack, keys)
    failing_reads({keys[1]: "SlowDown"})
    event = sqs_batch(stack, [s3_body(stack, key) for key in keys])
    assert invoke(event) == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert total_calls(stack) == 2

    failing_reads({})  # the throttling is over; SQS redelivers message-1 alone
    assert invoke({"Records": [event["Records"][1]]}) == {"batchItemFailures": []}
    assert total_calls(stack) == 3
    assert invoke(event) == {"batchItemFailures": []}  # and a full redelivery counts nothing twice
    assert total_calls(stack) == 3


def test_undecodable_message_redelivers_only_itself_and_undecodable_log_does_not(stack, handler_logs):
    good, corrupt = PUT_KEY, PUT_KEY.replace("Ab12", "Bad0")
    put_logs(stack, [good])
    stack.put(corrupt, gzip.compress(b'{"Records": [')[:-4])
    event = sqs_batch(stack, [s3_body(stack, good), json.dumps({"note": SECRET}), s3_body(stack, corrupt)])
    # A message that is no notification goes back to the queue (and, after maxReceiveCount, its DLQ);
    # an unreadable log object is a permanent outcome: logged, alerted, and not retried.
    assert invoke(event) == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert total_calls(stack) == 1
    logs = handler_logs()
    (unknown,) = [line for line in logs if line["message"].startswith("unknown message")]
    assert unknown["messageId"] == "message-1" and "keys note" in unknown["reason"]
    (unreadable,) = [line for line in logs if line["message"] == "log object unreadable"]
    assert unreadable["key"] == corrupt
    assert SECRET not in json.dumps(logs)


# --- S3 Batch Operations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"), [("s3-batch-operations-1.0.json", PUT_KEY), ("s3-batch-operations-2.0.json", PREFIXED[0])]
)
def test_batch_operations_succeeded(stack, name, key):
    put_logs(stack, [key])
    event = envelope(stack, name)
    response = invoke(event)
    assert response == {
        "invocationSchemaVersion": event["invocationSchemaVersion"],
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": event["invocationId"],
        "results": [
            {
                "taskId": event["tasks"][0]["taskId"],
                "resultCode": "Succeeded",
                "resultString": "counted: 1 of 1 support events counted",
            }
        ],
    }
    assert total_calls(stack) == 1
    (result,) = invoke(event)["results"]  # a second job over the same object
    assert (result["resultCode"], result["resultString"]) == ("Succeeded", "counted: 0 of 1 support events counted")
    assert total_calls(stack) == 1


def batch_task(stack, key: str) -> dict[str, Any]:
    event = envelope(stack, "s3-batch-operations-2.0.json")
    event["tasks"][0]["s3Key"] = key.replace(" ", "+")
    return event


@pytest.mark.parametrize(
    ("setup", "code", "reason"),
    [
        ("throttled", "TemporaryFailure", "SlowDown"),
        ("undecodable", "PermanentFailure", "unreadable: "),
        ("missing", "PermanentFailure", "unavailable: object no longer exists (NoSuchKey)"),
        ("denied", "PermanentFailure", "unavailable: access denied on the object (AccessDenied)"),
        ("digest", "Succeeded", "digest: invalid"),  # a digest is checked (issue 13), never counted as a log
    ],
)
def test_batch_operations_result_codes(stack, failing_reads, setup, code, reason):
    key = PREFIXED[0]
    if setup == "digest":
        key = key.replace("/CloudTrail/", "/CloudTrail-Digest/")
    if setup == "undecodable":
        stack.put(key, b"\x1f\x8b not really gzip")
    elif setup != "missing":
        put_logs(stack, [key])
    failing_reads({key: {"throttled": "SlowDown", "denied": "AccessDenied"}.get(setup, "")})
    (result,) = invoke(batch_task(stack, key))["results"]
    assert result["resultCode"] == code
    assert reason in result["resultString"]
    assert total_calls(stack) == 0


def test_batch_operations_temporary_failure_then_retry_counts_once(stack, failing_reads):
    key = PREFIXED[0]
    put_logs(stack, [key])
    failing_reads({key: "SlowDown"})
    assert invoke(batch_task(stack, key))["results"][0]["resultCode"] == "TemporaryFailure"
    failing_reads({})
    assert invoke(batch_task(stack, key))["results"][0]["resultCode"] == "Succeeded"
    assert total_calls(stack) == 1


# --- unknown envelopes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {"NewImage": SECRET}}]},
        {"source": "aws.s3", "detail-type": "Object Created", "detail": SECRET},
        {"action": SECRET},
    ],
    ids=["dynamodb-stream", "eventbridge-without-object", "anything"],
)
def test_unknown_envelope_is_an_error_naming_its_shape(stack, handler_logs, event):
    with pytest.raises(UnknownEnvelope) as raised:
        invoke(event)
    assert SECRET not in str(raised.value)
    (error,) = [line for line in handler_logs() if line["level"] == "ERROR"]
    assert error["message"] == "unknown trigger envelope" and error["reason"] == str(raised.value)
    assert SECRET not in json.dumps(handler_logs())
