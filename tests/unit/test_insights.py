"""Insights of a period (pure): the figures equal an independent count of the same events."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta

import pytest

from supportwatch.aggregate import Ledger
from supportwatch.decoding.records import extract
from supportwatch.export import export_document
from supportwatch.models import Summary
from supportwatch.report.insights import Period, auto_granularity, bucket, buckets, read_period
from tests.helpers import comparable, expected_totals, random_support_records

START = date(2023, 1, 1)


class LedgerReader:
    """The store's period reads over an in-memory Ledger (what `scan` counts)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def narrow(self, since: date, until: date) -> tuple[date, date]:
        return since, until

    def between(self, since: str, until: str) -> list[Summary]:
        return [s for (_, day), s in self.ledger.summaries.items() if day and since <= day <= until]

    def summaries_of(self, identities: Iterable[str]) -> list[Summary]:
        wanted = set(identities)
        return [s for s in self.ledger.identities() if s.identity in wanted]


def multi_month(count: int, seed: int, days: int = 180) -> list[dict]:
    """Random support records spread over `days` days from 2023-01-01."""
    rng = random.Random(seed)
    records = random_support_records(count, seed, identities=9)
    for record in records:
        day = START + timedelta(days=rng.randrange(days))
        record["eventTime"] = day.isoformat() + record["eventTime"][10:]
    return records


def ledger_of(records: list[dict]) -> Ledger:
    ledger = Ledger()
    ledger.commit("corpus", extract(records).events)
    return ledger


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whole_span_equals_the_all_time_summaries(seed):
    records = multi_month(400, seed)
    ledger = ledger_of(records)
    period = read_period(LedgerReader(ledger), START, START + timedelta(days=179))
    assert export_document(period.summaries()) == export_document(ledger.identities())
    assert comparable(export_document(period.summaries())) == expected_totals(records)
    assert len(period.first_seen()) == len(ledger.identities())


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_a_sub_period_counts_only_its_days(by):
    records = multi_month(500, 7)
    since, until = date(2023, 2, 10), date(2023, 4, 20)
    period = read_period(LedgerReader(ledger_of(records)), since, until)
    inside = [r for r in records if since.isoformat() <= r["eventTime"][:10] <= until.isoformat()]
    assert comparable(export_document(period.summaries())) == expected_totals(inside)
    rows = period.activity(by)
    assert [row.start for row in rows] == buckets(since, until, by)
    assert sum(row.calls for row in rows) == len(inside)
    starts = [r for r in inside if r["eventName"] == "StartSupportTroubleshooting"]
    assert sum(row.conversations for row in rows) == len(starts)
    assert sum(row.access_denied for row in rows) == sum("errorCode" in r for r in inside)
    for row in rows:
        active = {
            r["userIdentity"]["arn"] for r in inside if bucket(date.fromisoformat(r["eventTime"][:10]), by) == row.start
        }
        assert row.identities == len(active)
    series = period.calls_by_event(by)
    assert sum(map(sum, series.values())) == len(inside)
    assert all(len(values) == len(rows) for values in series.values())


def test_principals_roll_sessions_up_and_first_time_users_are_counted_once():
    records = multi_month(300, 11, days=60)
    ledger = ledger_of(records)
    period = read_period(LedgerReader(ledger), START, START + timedelta(days=59))
    principals = period.top_principals()
    assert sum(p.calls for p in principals) == len(records)
    assert sum(p.identities for p in principals) == len(ledger.identities())
    roles = [p for p in principals if ":role/" in p.name]
    assert roles and all(p.identities >= 1 for p in roles)
    assert sum(row.first_time for row in period.activity("week")) == len(ledger.identities())
    days = period.active_days()
    for identity, count in days.items():
        assert count == len({r["eventTime"][:10] for r in records if r["userIdentity"]["arn"] == identity})
    assert sum(a.calls for a in period.accounts()) == len(records)  # one account in this corpus
    assert sum(period.error_codes().values()) == sum("errorCode" in r for r in records)


def test_later_period_knows_who_is_new():
    records = multi_month(300, 5)
    ledger = ledger_of(records)
    late = read_period(LedgerReader(ledger), date(2023, 6, 1), date(2023, 6, 29))
    firsts = {s.identity: s.first_seen for s in ledger.identities()}
    assert [s.identity for s in late.first_seen()] == sorted(
        (i for i, seen in firsts.items() if "2023-06-01" <= seen[:10] <= "2023-06-29"), key=lambda i: firsts[i]
    )


def test_empty_period():
    period = Period.of(date(2024, 1, 1), date(2024, 1, 3), [], [])
    assert period.summaries() == [] and period.top_identities() == [] and period.error_codes() == {}
    assert [row.calls for row in period.activity("day")] == [0, 0, 0]


def test_buckets_and_granularity():
    assert bucket(date(2023, 9, 10), "week") == date(2023, 9, 4)  # a Sunday: the week of Monday the 4th
    assert bucket(date(2023, 9, 10), "month") == date(2023, 9, 1)
    months = [date(2023, 1, 1), date(2023, 2, 1), date(2023, 3, 1)]
    assert buckets(date(2023, 1, 30), date(2023, 3, 1), "month") == months
    assert auto_granularity(date(2023, 1, 1), date(2023, 3, 3)) == "day"
    assert auto_granularity(date(2023, 1, 1), date(2023, 12, 31)) == "week"
    assert auto_granularity(date(2023, 1, 1), date(2024, 1, 2)) == "month"


def test_a_period_is_read_a_calendar_year_at_a_time_with_progress():
    reader = LedgerReader(ledger_of(multi_month(200, 4, days=100)))
    asked: list[tuple[str, str]] = []
    between = reader.between
    reader.between = lambda since, until: asked.append((since, until)) or between(since, until)
    steps: list[tuple[int, int]] = []
    since = date(2022, 12, 1)
    period = read_period(reader, since, START + timedelta(days=99), lambda days, found: steps.append((days, found)))
    assert asked == [("2022-12-01", "2022-12-31"), ("2023-01-01", "2023-04-10")]
    assert [days for days, _ in steps] == [31, 100]
    assert sum(found for _, found in steps) == len(period.days)
