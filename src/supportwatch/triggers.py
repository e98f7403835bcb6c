"""Trigger envelopes -> the log objects they announce (pure: no AWS calls).

One function accepts every way a new CloudTrail log can reach it:

- S3 event notifications, directly (`Records[].eventSource == "aws:s3"`, keys URL-encoded);
- an SQS batch (`Records[].eventSource == "aws:sqs"`), whose message bodies are read one by one
  with `message_refs` (the handler reports failed messages with Powertools' batch utility);
- SNS (`Records[].EventSource == "aws:sns"`), whose messages are read with `message_refs`;
- EventBridge `Object Created` events from S3 (`source == "aws.s3"`);
- S3 Batch Operations (invocation schema 1.0 and 2.0), answered per task.

A message (SNS message or SQS body) is JSON holding an S3 notification, S3's `s3:TestEvent`,
CloudTrail's own delivery notification `{"s3Bucket": ..., "s3ObjectKey": [...]}` (keys not
URL-encoded), an EventBridge event, or an SNS notification wrapping one of those (SNS -> SQS
without raw message delivery). Anything else raises UnknownEnvelope naming the keys and types it
received, never their values.

Powertools' data classes are imported by the function that reads their envelope, on its first use:
their package costs a cold start ~80 ms that an invocation of another kind never needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from supportwatch.models import ObjectRef

BATCH_OPERATIONS_SCHEMAS = ("1.0", "2.0")
_MAX_NESTING = 4  # SNS -> SQS -> notification is three levels; nothing legitimate goes deeper


class UnknownEnvelope(ValueError):
    """An invocation payload (or message) this function does not know how to read."""


@dataclass(frozen=True, slots=True)
class Objects:
    """An envelope that announces objects directly (S3, SNS, EventBridge, CloudTrail's notification)."""

    envelope: str
    refs: list[ObjectRef]


@dataclass(frozen=True, slots=True)
class QueueBatch:
    """An SQS batch: each message is read with `message_refs` and may fail on its own."""

    size: int


@dataclass(frozen=True, slots=True)
class BatchTask:
    task_id: str
    ref: ObjectRef


@dataclass(frozen=True, slots=True)
class BatchOperationsJob:
    """An S3 Batch Operations invocation: the answer names every task with a result code."""

    schema_version: str
    invocation_id: str
    tasks: list[BatchTask]


Trigger = Objects | QueueBatch | BatchOperationsJob


def describe(value: Any) -> str:
    """What was received, by shape only: the type, and an object's (first, shortened) keys."""
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__}"
    if not value:
        return "an empty object"
    keys = sorted(str(key)[:40] for key in value)
    more = f" (+{len(keys) - 8} more)" if len(keys) > 8 else ""
    return "an object with keys " + ", ".join(keys[:8]) + more


def _records(event: dict[str, Any]) -> list[dict[str, Any]] | None:
    records = event.get("Records")
    if isinstance(records, list) and records and all(isinstance(record, dict) for record in records):
        return records
    return None


def _record_sources(records: list[dict[str, Any]]) -> set[Any]:
    # S3 and SQS spell it eventSource, SNS EventSource.
    return {record.get("eventSource", record.get("EventSource")) for record in records}


def _s3_notification_refs(event: dict[str, Any]) -> list[ObjectRef]:
    from aws_lambda_powertools.utilities.data_classes import S3Event

    refs = []
    for record in S3Event(event).records:
        if not record.event_name.startswith("ObjectCreated:"):
            continue
        s3_object = record.s3.get_object
        refs.append(
            ObjectRef(
                bucket=record.s3.bucket.name,
                key=unquote_plus(s3_object.key),  # S3Event.object_key decodes the first record only
                size=s3_object.size,
                version_id=s3_object.version_id,
            )
        )
    return refs


def _eventbridge_refs(event: dict[str, Any]) -> list[ObjectRef]:
    from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

    notification = S3EventBridgeNotificationEvent(event)
    if notification.detail_type != "Object Created":
        return []  # a rule wider than ours (deletions, restores): nothing to read
    raw = event.get("detail")
    if not (
        isinstance(raw, dict)
        and isinstance(raw.get("bucket"), dict)
        and isinstance(raw["bucket"].get("name"), str)
        and isinstance(raw.get("object"), dict)
        and isinstance(raw["object"].get("key"), str)
    ):
        raise UnknownEnvelope(
            f"EventBridge Object Created event without detail.bucket.name and detail.object.key: "
            f"detail is {describe(raw)}"
        )
    detail = notification.detail
    return [
        ObjectRef(
            bucket=detail.bucket.name,
            key=detail.object.key,  # URL-decoded by Powertools, as S3 encodes it in notifications
            size=detail.object.size,
            version_id=detail.object.get("version-id"),
        )
    ]


def _cloudtrail_refs(message: dict[str, Any]) -> list[ObjectRef]:
    bucket, keys = message["s3Bucket"], message["s3ObjectKey"]
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(bucket, str) or not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise UnknownEnvelope(
            f"CloudTrail notification with s3Bucket {describe(bucket)} and s3ObjectKey {describe(keys)}"
        )
    return [ObjectRef(bucket=bucket, key=key) for key in keys]  # CloudTrail does not URL-encode these


def _is_s3_test_event(value: dict[str, Any]) -> bool:
    return value.get("Event") == "s3:TestEvent"


def _is_eventbridge_s3(value: dict[str, Any]) -> bool:
    return value.get("source") == "aws.s3" and "detail-type" in value


def _announced(document: dict[str, Any], depth: int) -> tuple[str, list[ObjectRef]] | None:
    """The envelope and objects of a notification document (an invocation or a message), if it is one."""
    if _is_s3_test_event(document):
        return "s3-test-event", []
    if (records := _records(document)) is not None and _record_sources(records) == {"aws:s3"}:
        return "s3", _s3_notification_refs(document)
    if "s3Bucket" in document and "s3ObjectKey" in document:
        return "cloudtrail", _cloudtrail_refs(document)
    if document.get("Type") == "Notification" and isinstance(document.get("Message"), str):
        return "sns", message_refs(document["Message"], depth + 1)  # SNS -> SQS, raw message delivery off
    if _is_eventbridge_s3(document):
        return "eventbridge", _eventbridge_refs(document)  # directly, or EventBridge -> SQS
    return None


def _document_refs(document: Any, depth: int) -> list[ObjectRef]:
    """The objects one decoded message announces."""
    if depth > _MAX_NESTING:
        raise UnknownEnvelope("message nested too deeply")
    found = _announced(document, depth) if isinstance(document, dict) else None
    if found is None:
        raise UnknownEnvelope(
            f"message is not an S3, SNS, EventBridge or CloudTrail notification: {describe(document)}"
        )
    return found[1]


def message_refs(body: str, depth: int = 0) -> list[ObjectRef]:
    """The objects an SQS message body or an SNS message announces (JSON, possibly wrapping more JSON)."""
    if not isinstance(body, str):
        raise UnknownEnvelope(f"message body is {describe(body)}, not a string")
    try:
        document = json.loads(body)
    except ValueError:
        raise UnknownEnvelope(f"message body is not JSON ({len(body)} characters)") from None
    return _document_refs(document, depth + 1)


def _sns_refs(event: dict[str, Any]) -> list[ObjectRef]:
    from aws_lambda_powertools.utilities.data_classes import SNSEvent

    refs = []
    for record in SNSEvent(event).records:
        sns = record.get("Sns")
        if not isinstance(sns, dict) or not isinstance(sns.get("Message"), str):
            raise UnknownEnvelope(f"SNS record without a Message string: received {describe(record)}")
        refs.extend(message_refs(record.sns.message))
    return refs


def _batch_operations(event: dict[str, Any]) -> BatchOperationsJob:
    from aws_lambda_powertools.utilities.data_classes import S3BatchOperationEvent

    job = S3BatchOperationEvent(event)
    version = job.invocation_schema_version
    if version not in BATCH_OPERATIONS_SCHEMAS:
        raise UnknownEnvelope(f"S3 Batch Operations invocation schema {str(version)[:10]!r} is not 1.0 or 2.0")
    for raw in event["tasks"]:
        if not (
            isinstance(raw, dict)
            and isinstance(raw.get("taskId"), str)
            and isinstance(raw.get("s3Key"), str)
            and isinstance(raw.get("s3BucketArn", raw.get("s3Bucket")), str)
        ):
            raise UnknownEnvelope(f"S3 Batch Operations task without taskId, s3Key and bucket: {describe(raw)}")
    tasks = []
    for task in job.tasks:
        # Schema 1.0 names the bucket by s3BucketArn, 2.0 by s3Bucket; keys are URL-encoded in both.
        ref = ObjectRef(bucket=task.s3_bucket, key=task.s3_key, version_id=task.s3_version_id or None)
        tasks.append(BatchTask(task_id=task.task_id, ref=ref))
    return BatchOperationsJob(schema_version=version, invocation_id=job.invocation_id, tasks=tasks)


def parse(event: Any) -> Trigger:
    """Recognise the envelope of one invocation."""
    if not isinstance(event, dict):
        raise UnknownEnvelope(f"unknown trigger envelope: received {describe(event)}")
    if (records := _records(event)) is not None:
        sources = _record_sources(records)
        if sources == {"aws:sqs"}:
            return QueueBatch(len(records))
        if sources == {"aws:sns"}:
            return Objects("sns", _sns_refs(event))
        if sources != {"aws:s3"}:
            named = ", ".join(sorted(str(source)[:20] for source in sources))
            raise UnknownEnvelope(f"unknown trigger envelope: Records from event sources {named}")
    if "invocationSchemaVersion" in event and isinstance(event.get("tasks"), list):
        return _batch_operations(event)
    if (found := _announced(event, 0)) is None:
        raise UnknownEnvelope(f"unknown trigger envelope: received {describe(event)}")
    return Objects(*found)


def object_refs(event: Any) -> list[ObjectRef]:
    """The objects an envelope that announces objects directly names (not SQS or Batch Operations)."""
    trigger = parse(event)
    if not isinstance(trigger, Objects):
        raise UnknownEnvelope(f"{type(trigger).__name__} is answered per message or task, not as one list")
    return trigger.refs
