"""Reads cost what they print (issue 11 item 6, issue 14): a period is read through index byPeriod
with a Query per kind and year, whatever its days without events; the export and the report read
only listed items. Every request botocore sends is counted (a `before-call` event hook), pages
included; moto evaluates key conditions and filters as DynamoDB documents them.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3
import pytest

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.decoding.records import to_support_event
from supportwatch.layout import today
from supportwatch.models import Alert
from tests.helpers import support_record

ADMIN = "arn:aws:iam::111122223333:user/Admin"
OTHER = "arn:aws:iam::111122223333:user/Other"


@pytest.fixture
def table(empty_table: str) -> str:
    return empty_table


class Counted:
    """A DynamoDB client whose requests are counted by operation and whose items read are summed."""

    def __init__(self) -> None:
        self.client = boto3.client("dynamodb")
        self.requests: Counter[str] = Counter()
        self.items_read = 0
        self.client.meta.events.register("before-call.dynamodb.*", self._before)
        self.client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.items_read += int(parsed.get("ScannedCount", parsed.get("Count", 0)))


def commit(table: str, *records: dict[str, Any]) -> None:
    store = SummaryStore(boto3.client("dynamodb"), table, sleep=lambda seconds: None)
    store.commit("file.json.gz", [to_support_event(record) for record in records])


def record(arn: str, time: str, error: str | None = None) -> dict[str, Any]:
    return support_record(arn=arn, time=time, event_id=f"{arn}@{time}", error=error)


def test_three_years_with_few_active_days_cost_a_query_per_kind_and_year(table):
    commit(
        table,
        record(ADMIN, "2022-03-01T10:00:00Z"),
        record(ADMIN, "2023-07-04T10:00:00Z", error="AccessDeniedException"),
        record(OTHER, "2024-12-31T23:59:59Z"),
        record(OTHER, "2025-01-01T00:00:00Z"),  # after the period: not read
    )
    counted = Counted()
    found = SummaryStore(counted.client, table).between("2022-01-01", "2024-12-31")
    assert sorted((s.day, s.identity) for s in found) == [
        ("2022-03-01", ADMIN),
        ("2023-07-04", ADMIN),
        ("2024-12-31", OTHER),
    ]
    # 1,096 days: a Query per kind (plain, with errors) and year, where a Query a day made 1,096; then
    # one Query per identity for the set members of its days (account, address, region: 3 a day).
    assert counted.requests == {"Query": 6 + 2}
    assert counted.items_read == 3 + 3 * 3


def test_errors_read_only_the_days_with_failed_calls(table):
    commit(
        table,
        record(ADMIN, "2024-05-01T10:00:00Z"),
        record(ADMIN, "2024-05-02T10:00:00Z", error="AccessDeniedException"),
        record(ADMIN, "2024-05-02T11:00:00Z"),
        record(OTHER, "2024-05-03T10:00:00Z"),
        record(OTHER, "2024-05-03T11:00:00Z", error="ThrottlingException"),  # after a good call: moved
    )
    counted = Counted()
    found = SummaryStore(counted.client, table).between("2024-05-01", "2024-05-07", errors_only=True)
    assert sorted((s.day, s.identity, s.error_calls) for s in found) == [
        ("2024-05-02", ADMIN, 1),
        ("2024-05-03", OTHER, 1),
    ]
    assert counted.requests == {"Query": 1 + 2}  # and one per identity for its days' set members
    assert counted.items_read == 2 + 2 * 3  # the day without a failed call is never read
    # a good call after a failed one leaves the day in the error partition
    commit(table, record(OTHER, "2024-05-03T12:00:00Z"))
    assert len(SummaryStore(boto3.client("dynamodb"), table).between("2024-05-03", "2024-05-03", True)) == 1


def alert(window: str, identity: str, event_time: str | None = None) -> Alert:
    return Alert(
        rule="root-usage", severity="high", window=window, title="t", detail="d", identity=identity,
        event_time=event_time,
    )  # fmt: skip


def publish(store: SummaryStore, found: Alert) -> None:
    assert store.claim(found, "owner")
    store.published(found, "owner")


def test_the_alerts_of_a_period_are_read_by_a_period_bounded_key(table):
    store = SummaryStore(boto3.client("dynamodb"), table)
    for found in (
        alert("2023-01-31", ADMIN),
        alert("2023-02-01", ADMIN),
        alert("ever", OTHER, event_time="2023-02-10T08:00:00+02:00"),
        alert("2023-03-01", OTHER),
    ):
        publish(store, found)
    store.claim(alert("2023-02-02", OTHER), "owner")  # claimed, never published: not an alert
    counted = Counted()
    found = SummaryStore(counted.client, table).alerts_between("2023-02-01", "2023-02-28")
    assert sorted((a["window"], a["identity"]) for a in found) == [("2023-02-01", ADMIN), ("ever", OTHER)]
    assert counted.requests == {"Query": 1}
    assert counted.items_read == 2
    assert len(store.alerts()) == 4  # the export still lists every published alert


def test_the_export_reads_only_listed_items(table):
    commit(table, *(record(ADMIN, f"2024-05-{day:02d}T10:00:00Z") for day in range(1, 29)))
    counted = Counted()
    store = SummaryStore(counted.client, table)
    assert [s.identity for s in store.identities()] == [ADMIN]
    assert store.alerts() == []
    assert counted.requests == {"Query": 2 + 1}  # and one for the summary's set members
    assert counted.items_read == 1 + 3  # neither the 28 day items (nor their members) nor the 28 event markers


def test_migrate_indexes_what_an_earlier_release_wrote(table, capsys):
    client = boto3.client("dynamodb")
    commit(
        table,
        record(ADMIN, "2023-05-01T10:00:00Z"),
        record(OTHER, "2023-05-02T10:00:00Z", error="AccessDeniedException"),
    )
    store = SummaryStore(client, table)
    publish(store, alert("2023-05-02", OTHER))
    publish(
        store, Alert(rule="unavailable", severity="high", window="object", title="t", detail="d", bucket="b", key="k")
    )
    # as an earlier release left them: no periodKey, no periodSort
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if "periodKey" in item:
                client.update_item(
                    TableName=table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="REMOVE periodKey, periodSort",
                )
    assert store.between("2023-01-01", "2023-12-31") == [] and store.alerts_between("2023-01-01", "2023-12-31") == []
    assert main(["migrate", "--table", table]) == 0  # two days, the alert of a day and the object's alert
    assert capsys.readouterr().out == f"4 items added to index byPeriod in {table}\n"
    days = {(s.day, s.identity) for s in store.between("2023-01-01", "2023-12-31")}
    assert days == {("2023-05-01", ADMIN), ("2023-05-02", OTHER)}
    assert [s.identity for s in store.between("2023-05-01", "2023-05-31", errors_only=True)] == [OTHER]
    assert [a["window"] for a in store.alerts_between("2023-05-01", "2023-05-31")] == ["2023-05-02"]
    now = today().isoformat()  # an object named with no time is placed on the day it was published
    assert [a["key"] for a in store.alerts_between(now, now)] == ["k"]
    assert store.index_periods() == 0  # once is enough


def test_a_range_over_millennia_costs_what_the_table_holds(table, monkeypatch, capsys):
    """Issue 20 item 7: 0001-01-01..9999-12-31 was 20,000 Queries (a kind and a year each)."""
    commit(table, record(ADMIN, "2023-07-04T10:00:00Z"), record(OTHER, "2024-01-02T10:00:00Z", error="AccessDenied"))
    publish(SummaryStore(boto3.client("dynamodb"), table), alert("2024-01-02", OTHER))
    counted = Counted()
    store = SummaryStore(counted.client, table)
    found = store.between("0001-01-01", "9999-12-31")
    assert sorted((s.day, s.identity) for s in found) == [("2023-07-04", ADMIN), ("2024-01-02", OTHER)]
    # the listing's summaries and alerts (their first and last days), a Query per kind for 2023 and
    # 2024, one per identity for its days' set members
    assert counted.requests == {"Query": 2 + 2 * 2 + 2}
    assert [a["window"] for a in store.alerts_between("0001-01-01", "9999-12-31")] == ["2024-01-02"]
    assert counted.requests == {"Query": 8 + 2}  # the days held are read once: a Query per year
    assert store.between("2025-01-01", "9999-12-31") == [] and counted.requests == {"Query": 10}

    counted = Counted()
    monkeypatch.setattr("supportwatch.cli.query.client", lambda *args, **kwargs: counted.client)
    assert main(["query", "--table", table, "--since", "0001-01-01", "--until", "9999-12-31", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["days"]) == 2
    assert main(["query", "--table", table, "--top", "5", "--since", "0001-01-01", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["top"]) == 2
    # the days: as above (8); the top: the days held (2), each year's two kinds and its identity's set
    # members (6), the identities' summaries (a BatchGetItem) and their set members (2)
    assert counted.requests == {"Query": 8 + 10, "BatchGetItem": 1}
