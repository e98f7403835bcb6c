"""Well-formed records -> SupportEvent (CONTRACT sections 1 and 3)."""

from __future__ import annotations

import json

import msgspec

from supportwatch.decoding import read_events
from supportwatch.decoding.records import event_id, extract, is_well_formed, to_support_event
from supportwatch.models import SupportEvent
from tests.helpers import CANARY, support_record


def without(record: dict, name: str) -> dict:
    return {k: v for k, v in record.items() if k != name}


def test_extract_tallies_malformed_entries_that_name_the_source_and_ignores_other_sources():
    good = support_record(event_id="good")
    other = {**support_record(event_id="other"), "eventSource": "s3.amazonaws.com"}
    entries = [
        None,
        7,
        "x",
        [],
        {"eventSource": good["eventSource"]},
        without(good, "eventName"),
        {**good, "eventName": ""},
        {**good, "eventName": 5},
        {**good, "eventTime": 1694449653},
        {**good, "eventTime": None},
        {**good, "eventTime": "yesterday"},
        other,
        without(other, "eventName"),  # malformed, but cannot change a count: not tallied (contract section 1)
        [good],  # names the source inside a list
        good,
    ]
    result = extract(entries)
    assert [event.event_id for event in result.events] == ["good"]
    assert (result.entries, result.skipped) == (15, 8)
    assert result.reasons == {
        "eventName missing": 2,
        "eventName empty or not a string": 2,
        "eventTime not a string": 1,
        "eventTime missing": 1,
        "eventTime not ISO 8601": 1,
        "not a JSON object": 1,
    }


def test_skip_reasons_name_the_field_never_its_value():
    good = support_record(event_id="lone")
    entries = [
        {**good, "eventSource": [good["eventSource"]]},
        {**good, "eventTime": CANARY},
        {**good, "eventName": "\ud800"},
    ]
    result = extract(entries)
    assert result.reasons == {
        "eventSource not a string": 1,
        "eventTime not ISO 8601": 1,
        "text not Unicode (a lone surrogate)": 1,
    }
    assert CANARY not in repr(result.reasons)


def test_other_source_is_well_formed_but_not_counted():
    other = {**support_record(), "eventSource": "supportrecommendations.amazonaws.com.evil"}
    assert is_well_formed(other)
    assert (len(extract([other]).events), extract([other]).skipped) == (0, 0)


def test_fallback_event_id_is_stable_across_key_order():
    record = without(support_record(), "eventID")
    reordered = dict(reversed(list(record.items())))
    assert list(record) != list(reordered)
    assert event_id(record) == event_id(reordered)
    assert event_id(record).startswith("sha256:") and len(event_id(record)) == 7 + 64


def test_fallback_event_id_differs_for_different_records():
    record = without(support_record(time="2023-09-11T16:34:13Z"), "eventID")
    later = {**record, "eventTime": "2023-09-11T16:34:14Z"}
    assert event_id(record) != event_id(later)
    assert event_id({**record, "eventID": ""}).startswith("sha256:")
    assert event_id({**record, "eventID": "abc"}) == "abc"


def test_support_event_fields():
    record = support_record(
        arn="arn:aws:sts::111122223333:assumed-role/Ci/build",
        issuer="arn:aws:iam::111122223333:role/Ci",
        time="2023-09-12T01:30:00+02:00",
        event_id="e-1",
        region="eu-west-1",
        error="AccessDeniedException",
    )
    assert to_support_event(record) == SupportEvent(
        event_id="e-1",
        event_name="StartSupportTroubleshooting",
        event_time="2023-09-11T23:30:00Z",  # the UTC instant, written as CloudTrail writes it
        instant=1_694_475_000_000_000,
        day="2023-09-11",
        identity="arn:aws:sts::111122223333:assumed-role/Ci/build",
        identity_type="AssumedRole",
        principal="arn:aws:iam::111122223333:role/Ci",
        account_id="111122223333",
        source_ip="72.21.198.67",
        region="eu-west-1",
        error_code="AccessDeniedException",
        user_agent="signin.amazonaws.com",
    )


def test_account_falls_back_to_recipient_account_and_ip_may_be_absent():
    record = without(support_record(), "sourceIPAddress")
    record["userIdentity"] = {"type": "AWSService", "invokedBy": "support.amazonaws.com"}
    record["recipientAccountId"] = "444455556666"
    event = to_support_event(record)
    assert (event.account_id, event.source_ip, event.error_code) == ("444455556666", None, None)


def test_typed_message_never_reaches_the_event():
    record = support_record()
    assert record["requestParameters"]["message"] == CANARY
    (event,) = extract([record]).events
    assert not any(CANARY in str(value) for value in msgspec.structs.astuple(event))
    assert CANARY not in repr(event)


def test_only_the_values_an_event_keeps_must_be_unicode_and_an_empty_string_is_no_value():
    record = {**support_record(), "recipientAccountId": "\ud800", "awsRegion": "", "errorCode": ""}
    event = to_support_event(record)  # the account comes from userIdentity: the recipient is not kept
    assert (event.account_id, event.region, event.error_code) == ("111122223333", None, None)
    record["userIdentity"] = {"type": "AWSService", "invokedBy": "support.amazonaws.com"}
    assert to_support_event(record) is None  # now the recipient is the account: not Unicode text
    for document in (
        json.dumps({"Records": [record]}).encode(),
        json.dumps({"Records": [{**record, "recipientAccountId": ""}]}).encode(),
    ):
        assert read_events(document, 1 << 20).events == extract(json.loads(document)["Records"]).events
