"""One bad record never fails its file (issue 11 items 9 and 11): poison records are skipped entries,
long values are counted, and nothing raises whatever a record holds."""

from __future__ import annotations

import gzip
import json
import sys

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportwatch.aggregate import Ledger
from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.cli.main import main
from supportwatch.config import AlertSettings
from supportwatch.decoding import read_events, read_events_exactly
from supportwatch.decoding.records import KEY_BYTES, bounded, extract, key_safe, to_support_event
from supportwatch.messages import sns_message
from supportwatch.models import ObjectRef
from supportwatch.pipeline import Processor
from tests.helpers import CANARY, support_record

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_x.json.gz"
ADMIN = "arn:aws:iam::111122223333:user/Admin"
POISON = [
    support_record(event_id="year-0", time="0001-01-01T00:30:00+01:00"),
    support_record(event_id="year-10000", time="9999-12-31T23:30:00-01:00"),
    support_record(event_id="surrogate-arn", arn=ADMIN + "\ud800"),
    support_record(event_id="surrogate-address", ip="198.51.100.7\udfff"),
    support_record(event_id="surrogate-region", region="us-east-1\ud800"),
    support_record(event_id="surrogate-error", error="AccessDenied\udc00"),
    support_record(event_id="surrogate-id-\ud800"),
    {**support_record(event_id="surrogate-name"), "eventName": "Start\ud800"},
]


def document(records: list) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


def test_poison_records_are_skipped_entries_on_both_decoding_paths():
    good = support_record(event_id="good")
    data = document([*POISON[:4], good, *POISON[4:]])
    for found in (read_events(data, 1 << 20), read_events_exactly(data, 1 << 20)):
        assert [event.event_id for event in found.events] == ["good"]
        assert (found.entries, found.skipped) == (len(POISON) + 1, len(POISON))


def test_raw_utf8_surrogates_are_skipped_too():
    # The bytes ED A0 80 (a surrogate encoded as UTF-8): json.loads(bytes) lets them through as "\ud800".
    text = json.dumps({"Records": [support_record(event_id="raw", ip="SURROGATE"), support_record(event_id="ok")]})
    data = text.encode().replace(b"SURROGATE", b"\xed\xa0\x80")
    for found in (read_events(data, 1 << 20), read_events_exactly(data, 1 << 20)):
        assert ([event.event_id for event in found.events], found.skipped) == (["ok"], 1)


def test_a_record_nested_too_deep_to_hash_is_skipped():
    record = {key: value for key, value in support_record().items() if key != "eventID"}
    record["requestParameters"] = {"deep": json.loads("[" * 200 + "]" * 200)}
    assert to_support_event(record) is not None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)  # as if the record were parsed just under the limit, deeper in the stack
    try:
        found = to_support_event(record)
    finally:
        sys.setrecursionlimit(limit)
    assert found is None


def test_long_values_that_are_never_keys_are_counted_whole():
    long_ip, long_region, long_account = "2001:db8::" + "1" * 300, "r" * 300, "1" * 300
    record = support_record(event_id="long", ip=long_ip, region=long_region)
    record["userIdentity"] = {"arn": ADMIN, "accountId": long_account, "type": "T" * 300}
    event = to_support_event(record)
    assert event is not None
    assert (event.source_ip, event.region, event.account_id, event.identity_type) == (
        long_ip,
        long_region,
        long_account,
        "T" * 300,
    )


@pytest.mark.parametrize("name", sorted(KEY_BYTES))
def test_key_values_longer_than_a_key_are_counted_as_prefix_and_hash(name):
    long = "é" * 3000  # two bytes each: the cut falls inside no character
    record = support_record(event_id="k", error="x")
    field = {
        "event_id": "eventID",
        "identity": "userIdentity",
        "principal": "userIdentity",
        "event_name": "eventName",
        "error_code": "errorCode",
        "source_ip": "sourceIPAddress",
    }[name]
    if field == "userIdentity":
        record[field] = {"type": "AssumedRole", "arn": long, "sessionContext": {"sessionIssuer": {"arn": long}}}
    else:
        record[field] = long
    event = to_support_event(record)
    assert event is not None
    value = getattr(event, name)
    assert len(value.encode()) <= KEY_BYTES[name]
    assert value == key_safe(long, KEY_BYTES[name]) and value.startswith("éé") and "...sha256:" in value
    assert key_safe(long + "x", KEY_BYTES[name]) != value  # a different value stays different


@pytest.mark.parametrize("name", sorted(KEY_BYTES))
def test_the_quick_length_check_reads_every_key_value(name):
    event = to_support_event(support_record(event_id="k", error="x"))
    assert event is not None and bounded(event) is event
    long = msgspec.structs.replace(event, **{name: "é" * 3000})
    assert len(getattr(bounded(long), name).encode()) <= KEY_BYTES[name]


def test_key_safe_keeps_short_values():
    assert key_safe("arn:aws:iam::1:user/a", 1024) == "arn:aws:iam::1:user/a"
    assert len(key_safe("€" * 1000, 1024).encode()) <= 1024


def process(data: bytes, rules: frozenset[str] | None = None) -> tuple[Ledger, CollectingPublisher, object]:
    ledger, published = Ledger(), CollectingPublisher()
    settings = AlertSettings() if rules is None else AlertSettings(rules=rules)
    processor = Processor(lambda ref: data, ledger, Alerting(MemoryClaims(), published), settings, 1 << 20)
    return ledger, published, processor.process(ObjectRef("bucket", KEY), owner="test")


def test_poison_beside_good_records_through_the_pipeline():
    good = [support_record(event_id="g1"), support_record(event_id="g2", error="AccessDeniedException")]
    ledger, published, report = process(document([*POISON, *good]))
    assert (report.outcome, report.counted, report.skipped_entries) == ("counted", 2, len(POISON))
    assert [summary.total_calls for summary in ledger.identities()] == [2]
    assert {alert.rule for alert in published.alerts} == {"new-identity", "access-denied"}


def test_scan_prints_the_good_files_beside_a_poisoned_one(tmp_path, capsys):
    (tmp_path / "poison.json.gz").write_bytes(document([*POISON, support_record(event_id="a")]))
    (tmp_path / "good.json.gz").write_bytes(document([support_record(event_id="b")]))
    assert main(["scan", str(tmp_path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["summaries"][ADMIN]["totalCalls"] == 2
    assert f"skipped {len(POISON)} of {len(POISON) + 1} entries" in captured.err


def not_utf8(records: list) -> bytes:
    """A Records document in which the typed message of the first record holds the byte FF."""
    text = json.dumps({"Records": records}).encode()
    return text.replace(CANARY.encode(), b"\xff" + CANARY.encode(), 1)


def test_scan_skips_a_record_whose_bytes_are_not_utf8_and_counts_the_rest(tmp_path, capsys):
    """Issue 20: one byte that is not UTF-8 in `requestParameters.message` skips its record (tallied),
    not its file; the typed text reaches no output."""
    records = [support_record(event_id=f"e{number}") for number in range(3)]
    (tmp_path / "one.json").write_bytes(not_utf8(records))
    (tmp_path / "two.json.gz").write_bytes(gzip.compress(not_utf8(records[1:])))
    assert main(["scan", str(tmp_path), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["summaries"][ADMIN]["totalCalls"] == 2  # e1 and e2: e0 is skipped
    assert captured.err.count("skipped 1 of ") == 2 and captured.err.count(": 1 bytes not UTF-8") == 2
    assert CANARY not in captured.out + captured.err


TEXT = st.text(st.characters(codec=None), max_size=20) | st.sampled_from(["\ud800", "x" * 3000, "", "0001-01-01"])
VALUE = st.none() | st.booleans() | st.integers() | TEXT | st.lists(TEXT, max_size=2) | st.dictionaries(TEXT, TEXT)
FIELDS = ["eventID", "eventName", "eventTime", "sourceIPAddress", "awsRegion", "errorCode", "recipientAccountId"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(FIELDS), VALUE),
    st.dictionaries(st.sampled_from(["type", "arn", "accountId", "principalId", "invokedBy"]), VALUE) | VALUE,
    st.sampled_from(["2023-09-11T16:34:13Z", "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59.999999Z"]),
)
def test_no_record_raises_and_every_kept_event_can_be_stored_and_sent(overrides, user_identity, time):
    record = {**support_record(time=time), **overrides, "userIdentity": user_identity}
    found = extract([record, support_record(event_id="beside")])
    assert found.events[-1].event_id == "beside" and found.entries == 2
    _, published, report = process(document([record, support_record(event_id="beside")]))
    assert report.outcome == "counted" and report.counted + report.duplicates + report.skipped_entries == 2
    for alert in published.alerts:
        json.dumps(sns_message(alert, "query"), ensure_ascii=False).encode()  # what boto3 sends: UTF-8
