"""Well-formed records -> SupportEvent (CONTRACT sections 1 and 3)."""

from __future__ import annotations

import json

import msgspec
import pytest

from supportwatch.decoding import read_events
from supportwatch.decoding.records import MODEL_BYTES, event_id, extract, is_well_formed, key_safe, to_support_event
from supportwatch.models import SupportEvent
from supportwatch.services import SERVICES
from tests.helpers import CANARY, bedrock_record, q_record, support_record


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


ALL = ("support", "q", "bedrock")


def test_each_watched_service_gives_events_named_for_it():
    entries = [support_record(event_id="s"), q_record(event_id="q"), bedrock_record(event_id="b")]
    found = extract(entries, services=ALL)
    assert [(e.event_id, e.service, e.model_id) for e in found.events] == [
        ("s", "support", None),
        ("q", "q", None),
        ("b", "bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ]
    assert (found.entries, found.skipped) == (3, 0)
    assert CANARY not in repr(found)  # what was typed and answered is read into nothing
    only_q = extract(entries, services=("q",))
    assert [e.event_id for e in only_q.events] == ["q"]


def test_support_alone_reads_the_other_services_as_noise():
    entries = [
        q_record(),
        bedrock_record(),
        {"eventSource": "q.amazonaws.com"},
        {"eventSource": "bedrock.amazonaws.com"},
    ]
    found = extract(entries)
    assert (found.events, found.entries, found.skipped) == ([], 4, 0)


def test_what_q_and_bedrock_never_count_is_neither_counted_nor_tallied():
    entries = [
        q_record(event_id="check", dry_run=True),
        q_record(event_id="on-behalf", invoked_by="q.amazonaws.com"),
        q_record(event_id="check-late", dry_run=True, time="yesterday"),  # never counted before it is read
        q_record(event_id="asked", dry_run=False),
        q_record(event_id="not-json-true", dry_run="true"),  # type: ignore[arg-type]
        q_record(event_id="other-caller", invoked_by="console.amazonaws.com"),
        bedrock_record(event_id="plane", name="ListFoundationModels", model_id=None),
        bedrock_record(event_id="job", name="CreateModelCustomizationJob"),
        bedrock_record(event_id="lower", name="converse"),
        *(bedrock_record(event_id=name, name=name) for name in sorted(SERVICES["bedrock"].counted_names)),
    ]
    found = extract(entries, services=ALL)
    assert [e.event_id for e in found.events] == [
        "asked",
        "not-json-true",
        "other-caller",
        *sorted(SERVICES["bedrock"].counted_names),
    ]
    assert (found.entries, found.skipped) == (len(entries), 0)


@pytest.mark.parametrize(
    ("written", "model"),
    [
        ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        ("arn:aws:bedrock:us-east-1::foundation-model/x", "arn:aws:bedrock:us-east-1::foundation-model/x"),
        (" spaced ", " spaced "),  # as written
        (None, "unknown"),
        ("", "unknown"),
        (7, "unknown"),
        ({"id": "x"}, "unknown"),
    ],
)
def test_a_bedrock_call_keeps_its_model_id_as_written_or_unknown(written, model):
    (event,) = extract([bedrock_record(model_id=written)], services=ALL).events
    assert event.model_id == model


def test_a_model_id_is_bounded_like_a_key_and_one_not_unicode_is_skipped():
    long = "m" * 3000
    (event,) = extract([bedrock_record(model_id=long)], services=ALL).events
    assert event.model_id == key_safe(long, MODEL_BYTES) and len(event.model_id.encode()) <= MODEL_BYTES
    found = extract([bedrock_record(model_id="\ud800")], services=ALL)
    assert (found.events, dict(found.reasons)) == ([], {"text not Unicode (a lone surrogate)": 1})


def test_malformed_entries_naming_any_watched_source_are_tallied():
    entries = [
        {**q_record(), "eventTime": None},
        {**bedrock_record(), "eventName": ""},
        {**q_record(), "eventTime": "yesterday"},
        ["bedrock.amazonaws.com"],
        {"eventSource": "mq.amazonaws.com"},  # names q.amazonaws.com in its text
        {**bedrock_record(), "eventSource": "kafka.amazonaws.com", "eventName": 3},  # names none
        {**q_record(), "eventSource": "mq.amazonaws.com"},  # Amazon MQ, well-formed: not a watched record
    ]
    found = extract(entries, services=ALL)
    assert (found.events, found.entries, found.skipped) == ([], 7, 5)
    assert found.reasons == {
        "eventTime missing": 1,
        "eventName empty or not a string": 1,
        "eventTime not ISO 8601": 1,
        "not a JSON object": 1,
        "eventName missing": 1,
    }
    assert extract(entries).skipped == 0  # support alone: they cannot change a count
    assert extract(entries[:1], services=("bedrock",)).skipped == 0
