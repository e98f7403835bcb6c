"""`identity-revealed` on moto (contract section 10): a delivered log holding a reveal raises it once per
pseudonym and UTC day through the function's own parts (the table's claims, the SNS topic), however
often and in however many files the reveal is delivered."""

from __future__ import annotations

import json

import boto3

from supportwatch.alerting import Alerting
from supportwatch.aws.notify import SnsPublisher
from supportwatch.aws.objects import S3Objects
from supportwatch.aws.store import SummaryStore
from supportwatch.config import AlertSettings
from supportwatch.models import ObjectRef
from supportwatch.pipeline import Processor
from supportwatch.privacy import Pseudonymizer
from tests.faults import received_alerts
from tests.helpers import reveal_record, support_record

PRIVACY = Pseudonymizer(b"revealed-test-key")
ALICE = "arn:aws:sts::111122223333:assumed-role/Support/alice@example.com"
BOB = "arn:aws:sts::111122223333:assumed-role/Security/bob@example.com"
P_ALICE = PRIVACY.of(ALICE)
KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/06/111122223333_CloudTrail_us-east-1_{}.json.gz"


def processor(stack) -> Processor:
    store = SummaryStore(boto3.client("dynamodb"), stack.resources.table)
    alerting = Alerting(store, SnsPublisher(boto3.client("sns"), stack.resources.topic_arn, store))
    fetch = S3Objects(boto3.client("s3")).read
    return Processor(fetch, store, alerting, AlertSettings(), 1 << 30, privacy=PRIVACY)


def test_a_delivered_reveal_raises_identity_revealed_once(stack) -> None:
    inbox = stack.inbox()
    stack.put_records(KEY.format("a"), [support_record(arn=ALICE), reveal_record(P_ALICE, event_id="r1")])
    stack.put_records(KEY.format("b"), [reveal_record(P_ALICE, time="2026-12-06T23:00:00Z", event_id="r2")])
    function = processor(stack)
    for name in ("a", "b", "a"):  # a second file, and a redelivery
        function.process(ObjectRef(stack.bucket, KEY.format(name)), owner=f"attempt-{name}")
    revealed = [alert for alert in received_alerts(inbox) if alert["rule"] == "identity-revealed"]
    assert [(a["identity"], a["revealedBy"], a["eventId"], a["window"]) for a in revealed] == [
        (P_ALICE, BOB, "r1", "2026-12-06")
    ]
    stored = [item for item in stack.items() if item["pk"]["S"].startswith("ALERT#identity-revealed#")]
    assert [json.loads(item["alert"]["S"])["revealedBy"] for item in stored] == [BOB]  # published, in the export
