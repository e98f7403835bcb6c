"""The Lambda handler on S3 notifications, against moto: table contents and exactly-once counting."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest

from supportwatch import handler
from supportwatch.aws.store import SummaryStore
from supportwatch.export import export_document
from supportwatch.triggers import UnknownEnvelope
from tests.helpers import (
    CANARY,
    comparable,
    expected_totals,
    random_support_records,
    support_record,
)

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_20230911T1635Z_a.json.gz"


def table_export(stack) -> dict:
    return export_document(SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities())


def test_handler_writes_summaries_for_an_s3_put(stack):
    records = random_support_records(40, seed=1)
    stack.put_records(KEY, records)
    response = stack.invoke(KEY)
    assert response["reports"][0]["counted"] == 40
    assert comparable(table_export(stack)) == expected_totals(records)


def test_same_notification_twice_keeps_totals(stack):
    records = random_support_records(30, seed=2)
    stack.put_records(KEY, records)
    stack.invoke(KEY)
    first = table_export(stack)
    second_report = stack.invoke(KEY)["reports"][0]
    assert second_report["counted"] == 0 and second_report["duplicates"] == 30
    assert table_export(stack) == first


def test_event_delivered_in_two_files_is_counted_once(stack):
    shared = support_record(event_id="11111111-2222-3333-4444-555555555555")
    stack.put_records(KEY, [shared, support_record(time="2023-09-11T17:00:00Z")])
    other = KEY.replace("_a.json.gz", "_b.json.gz")
    stack.put_records(other, [shared])
    stack.invoke(KEY, other)
    summary = table_export(stack)["summaries"]["arn:aws:iam::111122223333:user/Admin"]
    assert summary["totalCalls"] == 2
    assert summary["lastSeen"] == "2023-09-11T17:00:00Z"


def test_keys_are_decoded_record_by_record(stack):
    first = "my logs/AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2023/09/11/a b.json.gz"
    second = "my logs/AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2023/09/11/c+d=e.json.gz"
    stack.put_records(first, [support_record()])
    stack.put_records(second, [support_record(time="2023-09-11T18:00:00Z")])
    reports = stack.invoke(first, second)["reports"]
    assert [report["key"] for report in reports] == [first, second]
    assert table_export(stack)["summaries"]["arn:aws:iam::111122223333:user/Admin"]["totalCalls"] == 2


def test_day_items_and_role_rollup(stack):
    role = "arn:aws:iam::111122223333:role/Oncall"
    records = [
        support_record(arn="arn:aws:sts::111122223333:assumed-role/Oncall/a", issuer=role),
        support_record(arn="arn:aws:sts::111122223333:assumed-role/Oncall/b", issuer=role, time="2023-09-12T01:00:00Z"),
        support_record(
            arn="arn:aws:sts::111122223333:assumed-role/Oncall/b",
            issuer=role,
            time="2023-09-12T02:00:00Z",
            error="AccessDeniedException",
        ),
    ]
    stack.put_records(KEY, records)
    stack.invoke(KEY)
    store = handler.processor().sink
    days = {
        (summary.identity.rsplit("/", 1)[1], summary.day): summary
        for summary in store.between("2013-01-01", "2030-12-31")
    }
    assert sorted(days) == [("a", "2023-09-11"), ("b", "2023-09-12")]
    assert days[("b", "2023-09-12")].total_calls == 2
    assert days[("b", "2023-09-12")].errors == {"AccessDeniedException": 1}
    assert {summary.principal for summary in store.identities()} == {role}


def test_unreadable_and_missing_objects_are_reported_not_raised(stack, handler_logs):
    stack.put("AWSLogs/1/CloudTrail/us-east-1/2023/09/11/broken.json.gz", b"\x1f\x8bnot really gzip")
    reports = stack.invoke(
        "AWSLogs/1/CloudTrail/us-east-1/2023/09/11/broken.json.gz",
        "AWSLogs/1/CloudTrail/us-east-1/2023/09/11/gone.json.gz",
        "AWSLogs/1/CloudTrail-Digest/us-east-1/2023/09/11/digest.json.gz",
    )["reports"]
    assert [report["outcome"] for report in reports] == ["unreadable", "unavailable", "unavailable"]
    errors = {line["key"].rsplit("/", 1)[1]: line["reason"] for line in handler_logs() if line["level"] == "ERROR"}
    assert errors == {
        "broken.json.gz": reports[0]["reason"],
        "gone.json.gz": "object no longer exists (NoSuchKey)",
        "digest.json.gz": "digest file no longer exists",  # digests are checked, not skipped (section 7)
    }
    claims = sorted(item["pk"]["S"].split("#")[1] for item in stack.items())
    assert claims == ["unavailable-log", "unreadable-log"]  # one alert each, nothing counted


def test_malformed_entries_are_skipped_and_named(stack, handler_logs):
    stack.put_records(KEY, [support_record(), None, 7, {"eventSource": "supportrecommendations.amazonaws.com"}])
    (report,) = stack.invoke(KEY)["reports"]
    # Only the entry that names the source is tallied (contract section 1): null and 7 cannot change a count.
    assert (report["counted"], report["skippedEntries"]) == (1, 1)
    (warning,) = [line for line in handler_logs() if line["level"] == "WARNING"]
    assert (warning["key"], warning["skippedEntries"], warning["skipReasons"]) == (KEY, 1, {"eventName missing": 1})


def test_a_record_whose_bytes_are_not_utf8_is_one_skipped_entry(stack, handler_logs):
    """Issue 20: the byte FF in one record's typed message skips that record, not the file."""
    records = [support_record(event_id=f"e{number}") for number in range(3)]
    text = json.dumps({"Records": records}).encode().replace(CANARY.encode(), b"\xff" + CANARY.encode(), 1)
    stack.put(KEY, gzip.compress(text))
    (report,) = stack.invoke(KEY)["reports"]
    assert (report["outcome"], report["counted"], report["skippedEntries"]) == ("counted", 2, 1)
    (warning,) = [line for line in handler_logs() if line["level"] == "WARNING"]
    assert warning["skipReasons"] == {"bytes not UTF-8": 1} and CANARY not in json.dumps(handler_logs())
    assert table_export(stack)["summaries"][records[0]["userIdentity"]["arn"]]["totalCalls"] == 2


def test_test_event_is_a_no_op_and_unknown_envelopes_fail(stack):
    assert handler.lambda_handler({"Service": "Amazon S3", "Event": "s3:TestEvent"}, _context())["reports"] == []
    with pytest.raises(UnknownEnvelope, match="keys"):
        handler.lambda_handler({"detail-type": "Object Created"}, _context())


def test_typed_text_never_reaches_logs_or_items(stack, handler_logs, capsys):
    handler.logger.setLevel("DEBUG")
    try:
        stack.put_records(KEY, random_support_records(20, seed=3))
        stack.invoke(KEY)
    finally:
        handler.logger.setLevel("INFO")
    logs = json.dumps(handler_logs())
    assert "log object counted" in logs and CANARY not in logs
    assert CANARY not in capsys.readouterr().out
    assert CANARY not in json.dumps(stack.items())


def _context():
    from tests.integration.conftest import LambdaContext

    return LambdaContext()
