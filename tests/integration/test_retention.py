"""Retention (contract section 10): with `RetentionDays`, a day's summary and its members expire that
many days after the day, an identity summary (and its members) that many days after its lastSeen,
through the table's TTL attribute; an expired item is never read back, even before DynamoDB deletes
it. moto keeps expired items as DynamoDB does for days, so every read here sees them still stored.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.decoding.records import to_support_event
from tests.helpers import support_record

ADMIN = "arn:aws:iam::111122223333:user/Admin"
OTHER = "arn:aws:iam::111122223333:user/Other"
DAYS = 30
DAY = 86400


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp())


@pytest.fixture
def table(empty_table: str) -> str:
    return empty_table


def store(table: str, now: str, retention: int = DAYS) -> SummaryStore:
    client = boto3.client("dynamodb")
    return SummaryStore(client, table, clock=lambda: epoch(now), sleep=lambda _: None, retention_days=retention)


def commit(table: str, now: str, source: str, *records: dict[str, Any], retention: int = DAYS) -> None:
    store(table, now, retention).commit(source, [to_support_event(record) for record in records])


def record(arn: str, time: str, ip: str = "192.0.2.1") -> dict[str, Any]:
    return support_record(arn=arn, time=time, event_id=f"{arn}@{time}", ip=ip)


def scan(table: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


def expiry(table: str, pk_suffix: str, sk: str) -> int | None:
    for item in scan(table):
        if item["pk"]["S"] == f"IDENTITY#{pk_suffix}" and item["sk"]["S"] == sk:
            return int(item["expiresAt"]["N"]) if "expiresAt" in item else None
    raise AssertionError(f"no item {pk_suffix} {sk}")


def test_without_retention_no_item_expires(table):
    commit(table, "2023-09-11T17:00:00Z", "a.json.gz", record(ADMIN, "2023-09-11T16:34:13Z"), retention=0)
    summaries = [item for item in scan(table) if item["pk"]["S"].startswith("IDENTITY#")]
    assert summaries and not any("expiresAt" in item for item in summaries)


def test_every_summary_day_and_member_item_carries_its_expiry(table):
    commit(table, "2023-09-11T17:00:00Z", "a.json.gz", record(ADMIN, "2023-09-11T16:34:13Z"))
    end_of_day = epoch("2023-09-12T00:00:00Z") + DAYS * DAY
    assert expiry(table, ADMIN, "SUMMARY") == epoch("2023-09-11T16:34:13Z") + DAYS * DAY
    assert expiry(table, ADMIN, "DAY#2023-09-11") == end_of_day
    members = [item for item in scan(table) if item["sk"]["S"].startswith("SET#")]
    assert len(members) == 6  # account, address and region of the summary and of its day
    assert {int(item["expiresAt"]["N"]) for item in members} == {end_of_day}


def test_a_later_event_moves_the_summary_and_its_members_and_an_older_file_never_lowers_them(table):
    commit(table, "2023-09-11T17:00:00Z", "a.json.gz", record(ADMIN, "2023-09-11T16:34:13Z"))
    commit(table, "2023-10-01T09:00:00Z", "b.json.gz", record(ADMIN, "2023-10-01T08:00:00Z", ip="192.0.2.2"))
    commit(table, "2023-10-01T10:00:00Z", "c.json.gz", record(ADMIN, "2023-09-12T08:00:00Z"))  # late, older
    assert expiry(table, ADMIN, "SUMMARY") == epoch("2023-10-01T08:00:00Z") + DAYS * DAY
    later = epoch("2023-10-02T00:00:00Z") + DAYS * DAY
    whole = [item for item in scan(table) if item["sk"]["S"].startswith("SET#SUMMARY#")]
    assert len(whole) == 4  # account, region, two addresses
    assert {int(item["expiresAt"]["N"]) for item in whole} == {later}
    assert expiry(table, ADMIN, "DAY#2023-09-12") == epoch("2023-09-13T00:00:00Z") + DAYS * DAY


def test_expired_items_are_never_read_back_though_still_stored(table):
    commit(table, "2023-09-11T17:00:00Z", "a.json.gz", record(ADMIN, "2023-09-11T16:34:13Z"))
    commit(table, "2023-10-01T17:00:00Z", "b.json.gz", record(OTHER, "2023-10-01T10:00:00Z"))
    commit(table, "2023-10-25T17:00:00Z", "c.json.gz", record(OTHER, "2023-10-25T10:00:00Z", ip="192.0.2.9"))
    reader = store(table, "2023-11-05T00:00:00Z")  # Admin's summary and day, Other's first day: expired
    assert len(scan(table)) > 0 and any(item["pk"]["S"] == f"IDENTITY#{ADMIN}" for item in scan(table))
    assert [s.identity for s in reader.identities()] == [OTHER]
    assert reader.history(ADMIN) == (None, [])
    summary, days = reader.history(OTHER)
    assert summary is not None and summary.total_calls == 2 and summary.source_ips == {"192.0.2.1", "192.0.2.9"}
    assert [day.day for day in days] == ["2023-10-25"]
    assert [(s.identity, s.day) for s in reader.between("2023-09-01", "2023-11-30")] == [(OTHER, "2023-10-25")]
    assert [s.identity for s in reader.summaries_of([ADMIN, OTHER])] == [OTHER]
    assert reader.sessions(ADMIN) == []


def test_an_expired_summary_not_yet_deleted_starts_afresh(table):
    commit(table, "2023-09-11T17:00:00Z", "a.json.gz", record(ADMIN, "2023-09-11T16:34:13Z", ip="192.0.2.1"))
    commit(table, "2023-12-01T10:00:00Z", "b.json.gz", record(ADMIN, "2023-12-01T09:00:00Z", ip="192.0.2.7"))
    summary, days = store(table, "2023-12-01T11:00:00Z").history(ADMIN)
    assert summary is not None
    assert (summary.total_calls, summary.first_seen, summary.source_ips) == (1, "2023-12-01T09:00:00Z", {"192.0.2.7"})
    assert [day.day for day in days] == ["2023-12-01"]
    # the expired summary's own members went with it; the expired day's stay until TTL deletes them
    whole = {item["member"]["S"] for item in scan(table) if item["sk"]["S"].startswith("SET#SUMMARY#sourceIps")}
    assert whole == {"192.0.2.7"}


def test_query_and_its_export_hide_what_expired(table, capsys):
    # written with a clock in 2023: in the command's real present these items expired long ago
    commit(table, "2023-09-11T17:00:00Z", "a.json.gz", record(ADMIN, "2023-09-11T16:34:13Z"))
    commit(table, "2023-09-11T17:00:00Z", "b.json.gz", record(OTHER, "2023-09-11T16:00:00Z"), retention=0)
    assert main(["query", "--table", table, "--format", "json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["summaries"]) == [OTHER]
    assert main(["query", "--table", table, "--since", "2023-09-01", "--until", "2023-09-30", "--format", "json"]) == 0
    assert [row["identity"] for row in json.loads(capsys.readouterr().out)["days"]] == [OTHER]


def test_the_report_hides_what_expired(table, tmp_path):
    commit(table, "2023-09-11T17:00:00Z", "a.json.gz", record(ADMIN, "2023-09-11T16:34:13Z"))
    commit(table, "2023-09-11T17:00:00Z", "b.json.gz", record(OTHER, "2023-09-11T16:00:00Z"), retention=0)
    page = tmp_path / "report.html"
    argv = ["report", "--table", table, "--since", "2023-09-01", "--until", "2023-09-30", "-o", str(page)]
    assert main(argv) == 0
    html = page.read_text(encoding="utf-8")
    data = json.loads(html.split('id="supportwatch-data">', 1)[1].split("</script>", 1)[0])
    assert list(data["summaries"]) == [OTHER] and ADMIN not in html
