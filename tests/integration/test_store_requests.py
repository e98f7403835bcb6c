"""DynamoDB requests per log file (issue 16): no request that changes nothing, totals unchanged.

moto applies each request whole, as DynamoDB does; the counts are those botocore sends.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from supportwatch.aws.local import deploy
from supportwatch.aws.store import SummaryStore
from supportwatch.decoding.records import to_support_event
from supportwatch.export import export_document
from tests.helpers import CountingClient, MotoAccount, support_record

ADMIN = "arn:aws:iam::111122223333:user/Admin"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch):
    credentials = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield deploy(MotoAccount(), Path(__file__).resolve().parents[2] / "template.yaml").table


def events(*times: str, arn: str = ADMIN) -> list:
    return [to_support_event(support_record(arn=arn, time=time, event_id=f"{arn}@{time}")) for time in times]


def commit(table: str, source: str, found: list) -> dict[str, int]:
    client = CountingClient(boto3.client("dynamodb"))
    SummaryStore(client, table, 400, sleep=lambda seconds: None).commit(source, found)
    return dict(client.requests)


def summary(table: str) -> dict:
    return export_document(SummaryStore(boto3.client("dynamodb"), table).identities())["summaries"][ADMIN]


def test_a_file_without_support_events_makes_no_request(table):
    assert commit(table, "empty.json.gz", []) == {}


def test_a_new_identity_day_is_one_transaction_and_one_read(table):
    # The transaction writes first/last seen of new items itself; the read proves nothing is left.
    assert commit(table, "a.json.gz", events("2024-05-01T10:00:00Z", "2024-05-01T09:00:00Z")) == {
        "get_item": 1,
        "transact_write_items": 1,
        "batch_get_item": 1,
        "put_item": 1,
    }
    found = summary(table)
    assert (found["firstSeen"], found["lastSeen"], found["totalCalls"]) == (
        "2024-05-01T09:00:00Z",
        "2024-05-01T10:00:00Z",
        2,
    )


def test_a_later_file_moves_only_last_seen(table):
    commit(table, "a.json.gz", events("2024-05-01T10:00:00Z"))
    # Identity and identity-day items exist with an earlier first seen: only their last seen moves.
    assert commit(table, "b.json.gz", events("2024-05-01T11:00:00Z")) == {
        "get_item": 1,
        "transact_write_items": 1,
        "batch_get_item": 1,
        "put_item": 1,
        "update_item": 2,
    }
    found = summary(table)
    assert (found["firstSeen"], found["lastSeen"]) == ("2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z")


def test_an_earlier_file_moves_first_seen_and_the_first_event_decides(table):
    commit(table, "b.json.gz", events("2024-05-01T11:00:00Z"))
    commit(table, "a.json.gz", events("2024-05-01T10:00:00Z"))
    found = summary(table)
    assert (found["firstSeen"], found["lastSeen"], found["totalCalls"]) == (
        "2024-05-01T10:00:00Z",
        "2024-05-01T11:00:00Z",
        2,
    )


def test_a_redelivered_file_changes_nothing_and_writes_nothing_more(table):
    found = events("2024-05-01T10:00:00Z", "2024-05-02T10:00:00Z")
    commit(table, "a.json.gz", found)
    before = summary(table)
    assert commit(table, "a.json.gz", found) == {"get_item": 1}  # this content counted whole before
    assert summary(table) == before
