"""One object through routing, decoding, filtering and the Ledger."""

from __future__ import annotations

import gzip
import json

import pytest

from supportwatch.aggregate import Ledger
from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.cli import target
from supportwatch.config import AlertSettings
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport, ObjectUnavailable, Processor, may_reveal
from supportwatch.privacy.seals import key_home
from tests.helpers import CANARY, support_record

BUCKET = "trail-bucket"
KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_x.json.gz"
CAP = 1 << 20


def process_object(ref: ObjectRef, fetch, ledger: Ledger, cap: int) -> ObjectReport:
    """Counting only: every alert rule off."""
    alerting = Alerting(MemoryClaims(), CollectingPublisher())
    return Processor(fetch, ledger, alerting, AlertSettings(rules=frozenset()), cap).process(ref, owner="test")


def fetcher(objects: dict[str, bytes]):
    def fetch(ref: ObjectRef) -> bytes:
        if ref.key not in objects:
            raise ObjectUnavailable(f"NoSuchKey: {ref.key}")
        return objects[ref.key]

    return fetch


def document(*entries) -> bytes:
    return gzip.compress(json.dumps({"Records": list(entries)}).encode())


def test_counted_object_with_malformed_entries():
    other = {**support_record(event_id="s3"), "eventSource": "s3.amazonaws.com"}
    named = {"eventSource": "supportrecommendations.amazonaws.com", "eventName": ""}
    body = document(support_record(event_id="a"), None, {"eventName": ""}, named, other, support_record(event_id="a"))
    ledger = Ledger()
    report = process_object(ObjectRef(BUCKET, KEY), fetcher({KEY: body}), ledger, CAP)
    assert report == ObjectReport(
        ObjectRef(BUCKET, KEY),
        "counted",
        entries=6,
        skipped_entries=1,  # only the entry that names the source (contract section 1)
        support_events=2,
        counted=1,
        duplicates=1,
        skip_reasons=(("eventName empty or not a string", 1),),
    )
    assert report.fields()["skipReasons"] == {"eventName empty or not a string": 1}
    assert [s.total_calls for s in ledger.identities()] == [1]
    assert CANARY not in json.dumps(report.fields())


def test_second_delivery_counts_nothing():
    ledger = Ledger()
    fetch = fetcher({KEY: document(support_record(event_id="a"))})
    process_object(ObjectRef(BUCKET, KEY), fetch, ledger, CAP)
    again = process_object(ObjectRef(BUCKET, KEY), fetch, ledger, CAP)
    assert (again.outcome, again.counted, again.duplicates) == ("counted", 0, 1)


def test_skipped_key_is_never_fetched():
    def fetch(ref: ObjectRef) -> bytes:
        raise AssertionError("fetched a skipped key")

    ref = ObjectRef(BUCKET, "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/d.json.gz")
    assert process_object(ref, fetch, Ledger(), CAP) == ObjectReport(ref, "skipped", "digest file")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (document(support_record())[:40], "truncated gzip: the stream ends before its end-of-stream marker"),
        (b"", "empty object"),
        (b'{"Records": {}}', "`Records` is not a list"),
        (gzip.compress(b" " * (CAP + 1)), f"decompressed size exceeds the cap of {CAP} bytes"),
    ],
    ids=["truncated", "empty", "records-not-list", "cap"],
)
def test_unreadable_object_counts_nothing(body, reason):
    ledger = Ledger()
    report = process_object(ObjectRef(BUCKET, KEY), fetcher({KEY: body}), ledger, CAP)
    assert report == ObjectReport(ObjectRef(BUCKET, KEY), "unreadable", reason)
    assert (ledger.summaries, ledger.counted_by) == ({}, {})


def test_unavailable_object():
    ledger = Ledger()
    report = process_object(ObjectRef(BUCKET, KEY), fetcher({}), ledger, CAP)
    assert report == ObjectReport(ObjectRef(BUCKET, KEY), "unavailable", f"NoSuchKey: {KEY}")
    assert ledger.summaries == {}
    published = CollectingPublisher()
    alerting = Alerting(MemoryClaims(), published)
    processor = Processor(fetcher({}), ledger, alerting, AlertSettings(), CAP)
    for _ in range(2):
        processor.process(ObjectRef(BUCKET, KEY), owner="test")
    assert [(alert.rule, alert.key) for alert in published.alerts] == [("unavailable-log", KEY)]


@pytest.mark.parametrize(
    "report",
    [
        ObjectReport(ObjectRef(BUCKET, KEY), "counted", None, 5, 2, 2, 1, 1),
        ObjectReport(ObjectRef(BUCKET, KEY), "unreadable", "empty object"),
        ObjectReport(ObjectRef("", "logs/local.json"), "skipped", "folder marker"),
    ],
    ids=["counted", "unreadable", "local-path"],
)
def test_report_fields_round_trip(report):
    fields = report.fields()
    assert json.loads(json.dumps(fields)) == fields
    assert ObjectReport.from_fields(fields) == report


def test_report_fields_names():
    report = ObjectReport(ObjectRef("", "local.json"), "counted", None, 5, 2, 2, 1, 1)
    assert report.fields() == {
        "key": "local.json",
        "outcome": "counted",
        "entries": 5,
        "skippedEntries": 2,
        "supportEvents": 2,
        "counted": 1,
        "duplicates": 1,
        "alerts": 0,
    }


def test_only_the_reveal_keys_account_and_region_can_hold_a_reveal():
    home = key_home("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert home == ("111122223333", "eu-west-1") and key_home("alias/x") is None
    assert may_reveal("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/12/06/f.json.gz", home)
    assert may_reveal("p/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/12/06/f.json.gz", home)
    assert not may_reveal("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/06/f.json.gz", home)
    assert not may_reveal("AWSLogs/444455556666/CloudTrail/eu-west-1/2026/12/06/f.json.gz", home)
    assert may_reveal("downloads/trail.json", home) and may_reveal("AWSLogs/1/CloudTrail/x/f.json.gz", None)


class HeldAtFirst(MemoryClaims):
    """Another attempt holds every window unpublished at first, and has published them by the next try."""

    def __init__(self) -> None:
        super().__init__()
        self.held = True

    def claim(self, alert, owner) -> bool:
        return not self.held and super().claim(alert, owner)

    def pending(self, alert) -> bool:
        held, self.held = self.held, False
        return held


def test_a_file_retried_for_alerts_held_elsewhere_reports_what_it_counted(monkeypatch):
    """backfill's retry of a file whose first attempt counted its events and then found its alerts held by
    another worker: the retry finds them counted; the file still counted them, none was a duplicate."""
    monkeypatch.setattr(target.time, "sleep", lambda seconds: None)
    records = [support_record(event_id=f"e{n}", arn=f"arn:aws:iam::111122223333:user/u{n}") for n in range(3)]
    alerting = Alerting(HeldAtFirst(), CollectingPublisher(), wait_for_others=True)
    processor = Processor(fetcher({KEY: document(*records)}), Ledger(), alerting, AlertSettings(), CAP)
    report, failure = target.with_retries(processor, ObjectRef(BUCKET, KEY), "backfill:file")
    assert failure == "" and report is not None
    assert (report.support_events, report.counted, report.duplicates) == (3, 3, 0)
