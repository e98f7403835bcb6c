"""The function's digest check (integrity/watch.py) over an in-memory trail and log book: pure."""

from __future__ import annotations

import gzip
import hashlib
from datetime import datetime, timedelta

from supportwatch.config import AlertSettings
from supportwatch.integrity.digest import Stream, log_key_time, stream_of
from supportwatch.integrity.keys import key_from_api, lookup
from supportwatch.integrity.outcomes import DigestObject
from supportwatch.integrity.watch import DigestWatch
from supportwatch.models import ObjectRef
from tests.trail import START, Trail, public_keys_json

KEYS = lookup({key.fingerprint: key for key in map(key_from_api, public_keys_json()["PublicKeyList"])})


class Book:
    """Log files processed, by key: SHA-256 of their content."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def hashes(self, keys):
        return {key: self.seen[key] for key in keys if key in self.seen}

    def processed(self, stream: Stream, start: datetime, end: datetime) -> list[str]:
        return [key for key in self.seen if stream_of(key) == stream and start <= log_key_time(key) < end]


ALL = AlertSettings()


def watch(trail: Trail, book: Book, now: datetime, settings: AlertSettings = ALL) -> DigestWatch:
    def read(bucket: str, key: str) -> DigestObject | None:
        if key not in trail.objects:
            return None
        body, metadata = trail.objects[key]
        return DigestObject(bucket, key, gzip.decompress(body), metadata.get("signature"))

    return DigestWatch(
        read=read,
        key_for=KEYS,
        book=book,
        absence=lambda bucket, key: None if key in trail.objects else "deleted (NoSuchKey)",
        grace=timedelta(minutes=120),
        clock=lambda: now,
        settings=settings,
    )


def process(trail: Trail, book: Book, *keys: str) -> None:
    for key in keys:
        book.seen[key] = hashlib.sha256(gzip.decompress(trail.objects[key][0])).hexdigest()


def rules(verdict) -> list[tuple[str, str]]:
    return sorted((alert.rule, alert.key) for alert in verdict.alerts)


def test_a_digest_arriving_before_its_logs_waits_the_grace_period():
    trail, book = Trail(), Book()
    digests = trail.hours(4)
    logs = [key for key in trail.objects if "/CloudTrail/" in key]
    process(trail, book, *logs[:-2])  # the last hour's files are not processed yet
    arrived = START + timedelta(hours=4, minutes=5)
    verdict = watch(trail, book, arrived).arrived(ObjectRef(trail.bucket, digests[-1]))
    assert verdict.alerts == [] and verdict.summary.startswith("verified")
    # Still not processed when a digest arrives after the grace period: missing, with the fix.
    later = trail.hours(3, start=START + timedelta(hours=4))
    process(trail, book, *[key for key in trail.objects if "/CloudTrail/" in key and key not in logs])
    verdict = watch(trail, book, START + timedelta(hours=7, minutes=5)).arrived(ObjectRef(trail.bucket, later[-1]))
    assert rules(verdict) == [("missing-log", logs[-2]), ("missing-log", logs[-1])]
    assert "supportwatch backfill s3://trail-bucket/" in verdict.alerts[0].detail
    # Processed in time instead: nothing.
    process(trail, book, *logs[-2:])
    assert (
        watch(trail, book, START + timedelta(hours=7, minutes=5)).arrived(ObjectRef(trail.bucket, later[-1])).alerts
        == []
    )


def test_a_replayed_old_digest_is_checked_fully_and_rules_that_are_off_raise_nothing():
    trail, book = Trail(), Book()
    digests = trail.hours(3)
    logs = [key for key in trail.objects if "/CloudTrail/" in key]
    process(trail, book, *logs[:-1])
    days_later = START + timedelta(days=3)
    verdict = watch(trail, book, days_later).arrived(ObjectRef(trail.bucket, digests[-1]))
    assert rules(verdict) == [("missing-log", logs[-1])]
    quiet = AlertSettings(rules=frozenset({"tampered-log"}))
    assert watch(trail, book, days_later, quiet).arrived(ObjectRef(trail.bucket, digests[-1])).alerts == []


def test_a_gone_digest_is_none_and_a_bad_one_invalid():
    trail, book = Trail(), Book()
    (digest,) = trail.hours(1)
    assert watch(trail, book, START).arrived(ObjectRef(trail.bucket, "AWSLogs/x/CloudTrail-Digest/gone")) is None
    trail.objects[digest] = (trail.objects[digest][0], {"signature": "00" * 256})
    verdict = watch(trail, book, START).arrived(ObjectRef(trail.bucket, digest))
    assert rules(verdict) == [("digest-invalid", digest)]
    assert "signature does not hold" in verdict.alerts[0].detail


def test_an_altered_file_of_a_digest_checked_after_its_grace_period_is_raised_once():
    """The arrival check and the late check both compare the files of a replayed old digest (issue 20
    item 5): the verdict names the altered file once."""
    trail, book = Trail(), Book()
    digests = trail.hours(2)
    logs = [key for key in trail.objects if "/CloudTrail/" in key]
    process(trail, book, *logs)
    book.seen[logs[-1]] = "0" * 64  # what the function read differs from what CloudTrail delivered
    verdict = watch(trail, book, START + timedelta(days=3)).arrived(ObjectRef(trail.bucket, digests[-1]))
    assert rules(verdict) == [("tampered-log", logs[-1])]
