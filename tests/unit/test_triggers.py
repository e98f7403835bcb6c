"""Every trigger envelope -> ObjectRefs (or the batch shape); anything else is refused without being dumped."""

from __future__ import annotations

import copy
import json

import pytest

from supportwatch.models import ObjectRef
from supportwatch.triggers import (
    BatchOperationsJob,
    BatchTask,
    Objects,
    QueueBatch,
    UnknownEnvelope,
    message_refs,
    object_refs,
    parse,
)
from tests.helpers import REPO

EVENTS = REPO / "events"
BUCKET = "supportwatch-trail-111122223333-us-east-1"
SECRET = "do-not-echo-7f3a"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_put():
    assert object_refs(load("s3-put.json")) == [
        ObjectRef(
            BUCKET,
            "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
            "111122223333_CloudTrail_us-east-1_20230911T1635Z_Ab12Cd34Ef56Gh78.json.gz",
            size=712,
        )
    ]


def test_org_prefix_two_records_plus_is_space():
    refs = object_refs(load("s3-put-org-prefix.json"))
    assert [(ref.key, ref.size) for ref in refs] == [
        (
            "my logs/AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2023/09/11/"
            "111122223333_CloudTrail_eu-west-1_20230911T1640Z_Qr5sT7uV9wX1yZ3a.json.gz",
            1187,
        ),
        (
            "my logs/AWSLogs/o-abc123def4/444455556666/CloudTrail/eu-west-1/2023/09/11/"
            "444455556666_CloudTrail_eu-west-1_20230911T1640Z_Lm2nO4pQ6rS8tU0v.json.gz",
            2364,
        ),
    ]


def test_every_record_key_is_url_decoded():
    event = load("s3-put-org-prefix.json")
    event["Records"][0]["s3"]["object"]["key"] = "a%2Bb+c%20d/%C3%A9t%C3%A9%3D1.json.gz"
    event["Records"][1]["s3"]["object"]["key"] = "x%2Fy+z%25.json.gz"
    assert [ref.key for ref in object_refs(event)] == ["a+b c d/été=1.json.gz", "x/y z%.json.gz"]


def test_test_event_announces_nothing():
    assert object_refs(load("s3-test-event.json")) == []


def test_object_removed_records_are_ignored():
    event = load("s3-put-org-prefix.json")
    event["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    removed = copy.deepcopy(event)
    removed["Records"][1]["eventName"] = "ObjectRemoved:DeleteMarkerCreated"
    assert [ref.key.split("/")[3] for ref in object_refs(event)] == ["444455556666"]
    assert object_refs(removed) == []


PUT_KEY = (
    "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
    "111122223333_CloudTrail_us-east-1_20230911T1635Z_Ab12Cd34Ef56Gh78.json.gz"
)
ORG_KEYS = [
    "AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2023/09/11/"
    "111122223333_CloudTrail_eu-west-1_20230911T1640Z_Qr5sT7uV9wX1yZ3a.json.gz",
    "AWSLogs/o-abc123def4/444455556666/CloudTrail/eu-west-1/2023/09/11/"
    "444455556666_CloudTrail_eu-west-1_20230911T1640Z_Lm2nO4pQ6rS8tU0v.json.gz",
]
PREFIXED = [f"my logs/{key}" for key in ORG_KEYS]


def keys(refs: list[ObjectRef]) -> list[str]:
    assert {ref.bucket for ref in refs} <= {BUCKET}
    return [ref.key for ref in refs]


def queue_keys(name: str) -> list[list[str]]:
    """Each SQS message of a fixture, read as the handler reads it."""
    event = load(name)
    assert parse(event) == QueueBatch(len(event["Records"]))
    return [keys(message_refs(record["body"])) for record in event["Records"]]


@pytest.mark.parametrize(
    ("name", "envelope", "expected"),
    [
        ("s3-put.json", "s3", [PUT_KEY]),
        ("sns-s3.json", "sns", PREFIXED),
        ("sns-s3-test-event.json", "sns", []),
        ("sns-cloudtrail.json", "sns", ORG_KEYS),
        ("eventbridge-s3-object-created.json", "eventbridge", PREFIXED[:1]),
        ("s3-test-event.json", "s3-test-event", []),
    ],
)
def test_envelopes_that_name_objects(name, envelope, expected):
    trigger = parse(load(name))
    assert isinstance(trigger, Objects)
    assert (trigger.envelope, keys(trigger.refs)) == (envelope, expected)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sqs-s3.json", [[PUT_KEY], PREFIXED[1:]]),
        ("sqs-s3-test-event.json", [[]]),
        ("sqs-sns-s3.json", [[PUT_KEY]]),
        ("sqs-sns-s3-raw.json", [PREFIXED]),
        ("sqs-sns-s3-test-event.json", [[]]),
        ("sqs-sns-cloudtrail.json", [ORG_KEYS]),
    ],
)
def test_queue_messages(name, expected):
    assert queue_keys(name) == expected


def test_eventbridge_keeps_size_and_version_and_ignores_other_detail_types():
    event = load("eventbridge-s3-object-created.json")
    (ref,) = object_refs(event)
    assert (ref.size, ref.version_id) == (1187, "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e")
    event["detail-type"] = "Object Deleted"
    assert object_refs(event) == []


def test_eventbridge_through_a_queue():
    body = (EVENTS / "eventbridge-s3-object-created.json").read_text()
    assert keys(message_refs(body)) == PREFIXED[:1]


def test_cloudtrail_keys_are_not_url_decoded():
    message = {"s3Bucket": BUCKET, "s3ObjectKey": ["a+b/AWSLogs/x%41.json.gz", "c d.json.gz"]}
    assert keys(message_refs(json.dumps(message))) == ["a+b/AWSLogs/x%41.json.gz", "c d.json.gz"]
    assert keys(object_refs(message)) == ["a+b/AWSLogs/x%41.json.gz", "c d.json.gz"]


@pytest.mark.parametrize(
    ("name", "version", "task"),
    [
        ("s3-batch-operations-1.0.json", "1.0", BatchTask("dGFza2lkZ29lc2hlcmUK", ObjectRef(BUCKET, PUT_KEY))),
        ("s3-batch-operations-2.0.json", "2.0", BatchTask("dGFza2lkMmdvZXNoZXJlCg", ObjectRef(BUCKET, PREFIXED[0]))),
    ],
)
def test_batch_operations(name, version, task):
    event = load(name)
    assert parse(event) == BatchOperationsJob(version, event["invocationId"], [task])


def test_batch_operations_unknown_schema_is_refused():
    event = load("s3-batch-operations-2.0.json")
    event["invocationSchemaVersion"] = "3.0"
    with pytest.raises(UnknownEnvelope, match=r"schema '3\.0'"):
        parse(event)


@pytest.mark.parametrize(
    ("envelope", "described"),
    [
        (
            {"Records": [{"eventSource": "aws:kinesis", "kinesis": {"data": SECRET}}]},
            "event sources aws:kinesis",
        ),
        ([{"key": SECRET}], "a JSON list"),
        (SECRET, "a JSON str"),
        ({"detail-type": "Object Created", "detail": {"object": {"key": SECRET}}}, "keys detail, detail-type"),
        ({"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": SECRET}}, "detail is an object"),
        ({"s3Bucket": BUCKET, "s3ObjectKey": {"key": SECRET}}, "s3ObjectKey an object with keys key"),
        ({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": SECRET}}]}, "not JSON"),
        ({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps({"x": SECRET})}}]}, "keys x"),
        ({}, "an empty object"),
    ],
    ids=[
        "kinesis",
        "list",
        "string",
        "eventbridge-no-source",
        "eventbridge-no-key",
        "cloudtrail-bad",
        "sns",
        "sns-x",
        "empty",
    ],
)
def test_unknown_envelopes(envelope, described):
    with pytest.raises(UnknownEnvelope) as raised:
        parse(envelope)
    assert described in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [SECRET, json.dumps({"Type": "Notification", "Message": json.dumps([SECRET])}), json.dumps(SECRET), "{}"],
    ids=["not-json", "sns-wrapping-a-list", "json-string", "empty-object"],
)
def test_unknown_messages(body):
    with pytest.raises(UnknownEnvelope) as raised:
        message_refs(body)
    assert SECRET not in str(raised.value)


def test_queue_batch_is_not_a_list_of_objects():
    with pytest.raises(UnknownEnvelope, match="QueueBatch"):
        object_refs(load("sqs-s3.json"))
