"""`query`'s tables with more than `support` watched: a calls column per service, an identity's services
and models, a period's breakdown by service and model; with `support` alone, the tables of before."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from supportwatch.cli import query
from supportwatch.report.insights import Period
from tests.unit.test_breakdown import CLAUDE, DAYS, EVERY, TITAN

SUPPORT = ("support",)
PERIOD = Period.of(date(2023, 9, 10), date(2023, 9, 14), DAYS, [])


@pytest.fixture(autouse=True)
def columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def printed(capsys) -> list[str]:
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    return [" ".join(line.split()) for line in lines]


def test_identities_get_a_calls_column_per_service(capsys):
    summaries = PERIOD.summaries()
    query._identity_table(summaries, False, EVERY)
    lines = printed(capsys)
    assert lines[0] == "IDENTITY CALLS SUPPORT Q BEDROCK ERRORS FIRST SEEN LAST SEEN"
    assert lines[1:4] == [
        "alice 9 2 3 4 0 2023-09-11 2023-09-12",
        "bob 2 0 0 2 0 2023-09-11 2023-09-11",
        "carol 5 5 0 0 0 2023-09-12 2023-09-12",
    ]
    query._identity_table(summaries, False, ("support", "q"), ranked=True)  # bedrock: held by the table
    assert printed(capsys)[0] == "# IDENTITY CALLS SUPPORT Q BEDROCK ERRORS FIRST SEEN LAST SEEN"


def test_days_get_a_calls_column_per_service(capsys):
    query._days(PERIOD.days, PERIOD.since, PERIOD.until, "table", False, EVERY)
    lines = printed(capsys)
    assert lines[0] == "DAY IDENTITY CALLS SUPPORT Q BEDROCK ERRORS FIRST LAST"
    assert "2023-09-11 alice 5 2 3 0 0 10:00 10:00" in lines


def test_the_active_table_then_the_period_by_service_and_by_model(capsys):
    query._active(PERIOD, "day", "table", False, EVERY)
    lines = printed(capsys)
    at = lines.index("SERVICE CALLS IDENTITIES DAYS")
    assert lines[at + 1 : at + 4] == [
        "AWS Support Recommendations 7 2 2",
        "Amazon Q 3 1 1",
        "Amazon Bedrock 6 2 2",
    ]
    at = lines.index("BEDROCK MODEL CALLS IDENTITIES")
    assert lines[at + 1 : at + 3] == [f"{CLAUDE} 5 2", f"{TITAN} 1 1"]


def test_the_top_of_a_period_ends_with_its_top_models(capsys):
    query._top_of_period(PERIOD, 1, "table", False, EVERY)
    lines = printed(capsys)
    assert lines[lines.index("BEDROCK MODEL CALLS IDENTITIES") + 1 :] == [f"{CLAUDE} 5 2"]


def test_an_identity_with_its_services_and_models(capsys):
    (alice,) = Period.of(PERIOD.since, PERIOD.until, DAYS[:2], []).summaries()

    class Store:
        table_name = "t"

        def history(self, identity):
            return alice, DAYS[:2]

    query._identity(Store(), "alice", "table", False, EVERY)
    lines = printed(capsys)
    assert lines[5] == "services bedrock=4, q=3, support=2"
    assert " ".join(lines[6:8]) == f"models {TITAN}=1, {CLAUDE}=3"  # by name, folded at 80 columns
    assert "2023-09-12 4 0 0 4 0 10:00 10:00" in lines


def test_support_alone_prints_the_tables_of_before(capsys):
    support_only = [replace(day, services={}, models={}) for day in DAYS]
    period = Period.of(PERIOD.since, PERIOD.until, support_only, [])
    query._identity_table(period.summaries(), False, SUPPORT)
    assert printed(capsys)[0] == "IDENTITY CALLS ERRORS FIRST SEEN LAST SEEN"
    query._active(period, "day", "table", False, SUPPORT)
    assert not any(line.startswith(("SERVICE", "BEDROCK")) for line in printed(capsys))
    query._top_of_period(period, 3, "table", False, SUPPORT)
    assert printed(capsys)[-1].startswith("from 2023-09-10 to 2023-09-14; CHATS")
