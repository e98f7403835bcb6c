"""S3 notifications -> ObjectRefs; anything else is refused without being dumped."""

from __future__ import annotations

import copy
import json

import pytest

from supportwatch.models import ObjectRef
from supportwatch.triggers import UnknownEnvelope, object_refs
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


@pytest.mark.parametrize(
    ("envelope", "described"),
    [
        (
            {"Records": [{"eventSource": "aws:sqs", "messageId": "1", "body": SECRET}]},
            "an object with keys Records",
        ),
        ([{"key": SECRET}], "a JSON list"),
        (SECRET, "a JSON str"),
        (
            {"detail-type": "Object Created", "detail": {"object": {"key": SECRET}}},
            "keys detail, detail-type",
        ),
    ],
    ids=["sqs", "list", "string", "eventbridge"],
)
def test_unknown_envelopes(envelope, described):
    with pytest.raises(UnknownEnvelope) as raised:
        object_refs(envelope)
    assert described in str(raised.value)
    assert SECRET not in str(raised.value)
