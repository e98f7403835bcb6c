"""The function checks digest files as they arrive (contract section 7), on moto through the handler."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from supportwatch import handler
from supportwatch.aws.digests import CloudTrailKeys, read_digest
from supportwatch.aws.local import received_alerts
from supportwatch.cli.main import main
from supportwatch.config import AlertSettings
from supportwatch.integrity.keys import key_from_api, lookup
from supportwatch.integrity.watch import DigestWatch
from supportwatch.models import ObjectRef
from tests.helpers import s3_event
from tests.trail import Trail, public_keys_json

INTEGRITY_RULES = {"tampered-log", "missing-log", "unlisted-log", "digest-invalid", "digest-missing"}


@pytest.fixture
def keyed(stack, monkeypatch, tmp_path: Path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(public_keys_json()))
    monkeypatch.setenv("DIGEST_PUBLIC_KEYS", str(path))
    handler.processor.cache_clear()
    return stack


def hour_of(start: datetime, hour: int) -> datetime:
    return start + timedelta(hours=hour)


def test_digests_as_they_arrive_raise_each_integrity_alert_once(keyed):
    stack = keyed
    inbox = stack.inbox()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=8)
    trail = Trail(bucket=stack.bucket)
    digests, logs = [], {}
    for hour in range(8):
        logs[hour] = [trail.log(hour_of(start, hour) + timedelta(minutes=minute)) for minute in (5, 35)]
        if hour == 4:  # written by someone else into an hour the digests cover: no digest lists it
            slipped = trail.log(hour_of(start, hour) + timedelta(minutes=40))
            trail.pending.remove(slipped)
        digests.append(trail.digest(hour_of(start, hour + 1)))
    tampered = logs[6][0]
    trail.objects[tampered] = (gzip.compress(b'{"Records": []}'), {})  # altered before the function read it
    never_processed, deleted, late = logs[4][1], logs[5][0], logs[7][1]
    del trail.objects[deleted]
    del trail.objects[digests[1]]
    trail.upload(boto3.client("s3"))

    processed = [key for hour in range(8) for key in logs[hour] if key not in (never_processed, deleted, late)]
    stack.invoke(*processed, slipped)
    for _ in range(2):  # every digest delivered twice: each alert still once
        reports = [stack.invoke(key)["reports"][0] for key in digests if key != digests[1]]
    assert {report["outcome"] for report in reports} == {"digest"}
    assert all(report["reason"].startswith("verified") for report in reports)

    alerts = received_alerts(boto3, inbox)
    found = sorted((alert["rule"], alert["key"]) for alert in alerts if alert["rule"] in INTEGRITY_RULES)
    assert found == sorted(
        [
            ("digest-missing", digests[1]),
            ("missing-log", deleted),
            ("missing-log", never_processed),
            ("tampered-log", tampered),
            ("unlisted-log", slipped),
        ]
    )  # `late` is listed by the newest digest: inside its grace period, it is not missing yet
    detail = {alert["key"]: alert["detail"] for alert in alerts}
    assert f"supportwatch backfill s3://{stack.bucket}/{never_processed} --stack " in detail[never_processed]
    assert "gone from the bucket" in detail[deleted]
    assert {alert["severity"] for alert in alerts if alert["rule"] == "tampered-log"} == {"critical"}

    stack.invoke(late)  # the late file arrives: nothing more to say
    stack.invoke(digests[-1])
    assert [alert for alert in received_alerts(boto3, inbox) if alert["rule"] in INTEGRITY_RULES] == []


def test_an_altered_or_unsigned_digest_is_invalid(keyed):
    stack = keyed
    inbox = stack.inbox()
    trail = Trail(bucket=stack.bucket)
    digests = trail.hours(3, start=datetime.now(UTC) - timedelta(hours=3))
    body, metadata = trail.objects[digests[1]]
    document = json.loads(gzip.decompress(body))
    document["logFiles"] = []
    trail.objects[digests[1]] = (gzip.compress(json.dumps(document).encode()), metadata)
    trail.objects[digests[0]] = (trail.objects[digests[0]][0], {})
    trail.upload(boto3.client("s3"))
    stack.invoke(*digests)
    rules = sorted((alert["rule"], alert["key"]) for alert in received_alerts(boto3, inbox))
    assert rules == [("digest-invalid", digests[0]), ("digest-invalid", digests[1]), ("digest-invalid", digests[2])]


def test_processed_logs_are_recorded_with_their_content_hash(keyed):
    stack = keyed
    trail = Trail(bucket=stack.bucket)
    key = trail.log(datetime(2026, 11, 28, 10, 5, tzinfo=UTC))
    trail.upload(boto3.client("s3"))
    stack.invoke(key)
    [item] = [item for item in stack.items() if item["pk"]["S"].startswith("LOGFILE#")]
    body = trail.objects[key][0]
    assert item["pk"]["S"] == "LOGFILE#AWSLogs/111122223333/us-east-1#2026-11-28T10"
    assert item["sk"]["S"] == key
    assert item["sha256"]["S"] == hashlib.sha256(gzip.decompress(body)).hexdigest()
    assert (item["size"]["N"], item["outcome"]["S"]) == (str(len(body)), "counted")
    assert int(item["expiresAt"]["N"]) > datetime.now(UTC).timestamp() + 399 * 86400


def test_without_public_keys_digests_are_not_verifiable_and_raise_nothing(stack, monkeypatch):
    monkeypatch.setenv("DIGEST_PUBLIC_KEYS", "none")
    handler.processor.cache_clear()
    inbox = stack.inbox()
    trail = Trail(bucket=stack.bucket, seed=1)
    digests = trail.hours(2)
    trail.upload(boto3.client("s3"))
    (report,) = stack.invoke(digests[1])["reports"]
    assert (report["outcome"], report["alerts"]) == ("digest", 0)
    assert "not verifiable" in report["reason"]
    assert received_alerts(boto3, inbox) == []


def test_a_digest_is_retried_when_cloudtrail_cannot_be_reached(stack):
    trail = Trail(bucket=stack.bucket)
    (digest,) = trail.hours(1)
    trail.upload(boto3.client("s3"))
    cloudtrail = boto3.client("cloudtrail")
    with Stubber(cloudtrail) as stub:
        stub.add_client_error("list_public_keys", "ServiceUnavailableException", http_status_code=503)
        watch = DigestWatch(
            read=partial(read_digest, boto3.client("s3")),
            key_for=CloudTrailKeys(lambda region: cloudtrail).key_for,
            book=None,
            absence=lambda bucket, key: None,
            grace=timedelta(hours=2),
            clock=lambda: datetime.now(UTC),
            settings=AlertSettings(),
        )
        with pytest.raises(Exception, match="ServiceUnavailable"):
            watch.arrived(ObjectRef(stack.bucket, digest))


def old_trail_with_an_altered_file(bucket: str, backfill: bool = False) -> tuple[Trail, str, str]:
    """Two hours of a trail three days old, one of whose files was altered after a digest listed it
    (the last hourly digest, or a `_backfill` digest CloudTrail wrote for a file it delivered late):
    (trail, that digest, the altered log)."""
    trail = Trail(bucket=bucket)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    digest = trail.hours(2, start=start)[-1]
    altered = [key for key in trail.objects if "/CloudTrail/" in key][-1]
    if backfill:
        altered = trail.log(start + timedelta(minutes=50))
        digest = trail.digest(start + timedelta(hours=2), backfill=True, logs=[altered])
    trail.objects[altered] = (gzip.compress(b'{"Records": []}'), {})
    return trail, digest, altered


def tampered_keys(inbox: str) -> list[str]:
    return [alert["key"] for alert in received_alerts(boto3, inbox) if alert["rule"] == "tampered-log"]


@pytest.mark.parametrize("backfill", [False, True], ids=["hourly", "backfill"])
def test_a_digest_delivered_after_its_grace_period_raises_an_altered_file_once(keyed, backfill):
    """Late delivery and `_backfill` digests (issue 20 item 5): the arrival check and the late check of
    one digest find the same altered file; it is published once, and not again when the digest is
    delivered again."""
    stack = keyed
    inbox = stack.inbox()
    trail, digest, altered = old_trail_with_an_altered_file(stack.bucket, backfill)
    trail.upload(boto3.client("s3"))
    stack.invoke(*[key for key in trail.objects if "/CloudTrail/" in key])
    stack.invoke(digest)
    stack.invoke(digest)
    assert tampered_keys(inbox) == [altered]


def test_a_redriven_old_digest_raises_an_altered_file_once(stack, capsys, monkeypatch):
    """Redrive (issue 20 item 5): CloudTrail's ListPublicKeys (which moto lacks) answers with the test
    trail's key."""
    keys = lookup({key.fingerprint: key for key in map(key_from_api, public_keys_json()["PublicKeyList"])})
    monkeypatch.setattr(CloudTrailKeys, "key_for", lambda self, digest: keys(digest))
    inbox = stack.inbox()
    trail, digest, altered = old_trail_with_an_altered_file(stack.bucket)
    trail.upload(boto3.client("s3"))
    stack.invoke(*[key for key in trail.objects if "/CloudTrail/" in key])
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="supportwatch-dlq")["QueueUrl"]
    target = ["--table", stack.resources.table, "--topic-arn", stack.resources.topic_arn]
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(s3_event(stack.bucket, digest)))
        assert main(["redrive", "--queue-url", queue, *target]) == 0
    capsys.readouterr()
    assert tampered_keys(inbox) == [altered]
