"""Trigger envelopes -> the log objects they announce."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event

from supportwatch.models import ObjectRef


class UnknownEnvelope(ValueError):
    """An invocation payload this function does not know how to read."""


def _is_s3_notification(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(record, dict) and record.get("eventSource") == "aws:s3" for record in records)
    )


def _describe(event: Any) -> str:
    if not isinstance(event, dict):
        return f"a JSON {type(event).__name__}"
    return "an object with keys " + ", ".join(sorted(map(str, event))[:8])


def object_refs(event: Any) -> list[ObjectRef]:
    """The objects an S3 notification announces (keys URL-decoded record by record).

    S3's `s3:TestEvent` announces nothing; anything else unknown raises UnknownEnvelope.
    """
    if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
        return []
    if not isinstance(event, dict) or not _is_s3_notification(event):
        raise UnknownEnvelope(f"not an S3 event notification: received {_describe(event)}")
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
