"""Alert claims per service in DynamoDB (contract section 12) on moto: a deployment that watched `support`
alone and then more services never raises a support window twice, raises the new services' windows once,
reads a day's calls per service, `forget` deletes the new services' claims too, and subscribers filter
the topic on the service."""

from __future__ import annotations

import json

import boto3
import msgspec

from supportwatch.alerting import Alerting, CollectingPublisher
from supportwatch.aws.local import received_alerts
from supportwatch.aws.store import SummaryStore
from supportwatch.config import AlertSettings
from supportwatch.decoding.records import Extraction, extract
from supportwatch.models import Alert, ObjectRef, SupportEvent
from supportwatch.pipeline import Processor, Read
from tests.helpers import CANARY, MotoAccount, q_record, support_record
from tests.integration.conftest import deployed

DAY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
ADMIN = "arn:aws:iam::111122223333:user/Admin"
ROOT = "arn:aws:iam::111122223333:root"


def q_events(*records: dict) -> list[SupportEvent]:
    """Events of Amazon Q (the decoder's part is tested on its own)."""
    return [msgspec.structs.replace(event, service="q") for event in extract(list(records)).events]


def run(table: str, files: dict[str, list[SupportEvent]], **options) -> list[Alert]:
    """The alerts the function publishes for `files`, in order, with the table as sink and claims."""
    store = SummaryStore(boto3.client("dynamodb"), table)
    publisher = CollectingPublisher()
    processor = Processor(
        fetch=lambda ref: b"",
        sink=store,
        alerting=Alerting(store, publisher),
        alert_settings=AlertSettings(volume_threshold=2),
        max_bytes=1 << 20,
        decode=lambda key, data, limits, hashed: Read(Extraction(files[key])),
        **options,
    )
    for key in files:
        processor.process(ObjectRef("trail", key), owner=key)
    return publisher.alerts


def test_switching_q_on_later_raises_only_q_windows(empty_table):
    support = [support_record(event_id="s1"), support_record(event_id="s2", arn=ROOT, error="AccessDenied")]
    before = run(empty_table, {DAY + "a.json.gz": extract(support).events})
    assert sorted((a.rule, a.identity, a.service) for a in before) == [
        ("access-denied", ROOT, None),
        ("new-identity", ROOT, None),
        ("new-identity", ADMIN, None),
        ("root-usage", ROOT, None),
    ]
    later = extract([support_record(event_id="s3", arn=ROOT, error="AccessDenied", time="2023-09-11T18:00:00Z")])
    q = q_events(support_record(event_id="q1", arn=ROOT), support_record(event_id="q2", time="2023-09-11T18:00:00Z"))
    after = run(empty_table, {DAY + "b.json.gz": later.events + q}, services=("support", "q"))
    assert sorted((a.rule, a.identity, a.service) for a in after) == [
        ("new-identity", ROOT, "q"),
        ("new-identity", ADMIN, "q"),
        ("root-usage", ROOT, "q"),
    ]
    again = run(empty_table, {DAY + "c.json.gz": q_events(support_record(event_id="q3"))}, services=("support", "q"))
    assert again == []  # q's windows are claimed now too
    published = SummaryStore(boto3.client("dynamodb"), empty_table).published_alert_items()
    services = sorted((sent["rule"], sent["identity"], sent.get("service", "-")) for _, sent in published)
    assert services == sorted([(a.rule, a.identity, a.service or "-") for a in before + after])


def test_a_days_calls_are_read_per_service(empty_table):
    store = SummaryStore(boto3.client("dynamodb"), empty_table)
    store.commit("a", extract([support_record(event_id=f"s{n}") for n in range(3)]).events)
    keys = [(ADMIN, "2023-09-11", "support"), (ADMIN, "2023-09-11", "q"), (ROOT, "2023-09-11", "support")]
    assert store.day_calls(keys) == {(ADMIN, "2023-09-11", "support"): 3, (ADMIN, "2023-09-11", "q"): 0}


def test_forget_deletes_an_unpublished_claim_of_every_service(empty_table):
    """A claim left unpublished (its attempt died) is in no index: forget finds it by its key."""
    store = SummaryStore(boto3.client("dynamodb"), empty_table)
    store.commit("a", extract([support_record(event_id="s1")]).events)
    claims = [
        Alert("new-identity", "low", "ever", "t", "d", identity=ADMIN, service=service)
        for service in ("support", "q", "bedrock")
    ] + [Alert("volume", "medium", "2023-09-11", "t", "d", identity=ADMIN, service="bedrock")]
    assert all(store.claim(alert, "dead-attempt") for alert in claims)
    store.forget([ADMIN])
    left = boto3.client("dynamodb").scan(TableName=empty_table)["Items"]
    assert not [item for item in left if ADMIN in json.dumps(item)]


def test_a_subscriber_filters_the_topic_on_the_service(monkeypatch):
    """Through the handler and SNS: a subscription whose filter policy names `q` gets Q's alerts only,
    each message carrying the `service` attribute; no typed text anywhere."""
    with deployed(monkeypatch, services=("support", "q")) as stack:
        inbox = stack.inbox()
        sqs = boto3.client("sqs")
        filtered = sqs.create_queue(QueueName="q-only")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=filtered, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns").subscribe(
            TopicArn=stack.resources.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"FilterPolicy": json.dumps({"service": ["q"]})},
        )
        stack.put_records(DAY + "a.json.gz", [support_record(event_id="s1"), q_record(event_id="q1")])
        stack.invoke(DAY + "a.json.gz")
        everything = sorted((a["rule"], a["service"], a["title"]) for a in received_alerts(MotoAccount(), inbox))
        assert everything == [
            ("new-identity", "q", f"New Amazon Q user: {ADMIN}"),
            ("new-identity", "support", f"New Support Recommendations user: {ADMIN}"),
        ]
        (message,) = sqs.receive_message(QueueUrl=filtered, MaxNumberOfMessages=10)["Messages"]
        notification = json.loads(message["Body"])
        assert notification["MessageAttributes"]["service"] == {"Type": "String", "Value": "q"}
        assert json.loads(notification["Message"])["service"] == "q"
        assert CANARY not in message["Body"]
