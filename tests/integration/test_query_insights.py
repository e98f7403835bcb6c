"""`supportwatch query --active` and `--top N --since D` on a table built from known events."""

from __future__ import annotations

import json

from tests.integration.test_query import ADMIN, ALICE, LONG, LONG_ROLE, ROLE, csv_rows, run, table, table_lines

__all__ = ["table"]  # the fixture


def test_active_per_day_in_every_format(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--active", "--since", "2023-09-09", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert (document["since"], document["until"], document["by"]) == ("2023-09-09", "2023-09-12", "day")
    by_day = {row["start"]: row for row in document["activity"]}
    assert list(by_day) == ["2023-09-09", "2023-09-10", "2023-09-11", "2023-09-12"]  # empty days included
    assert by_day["2023-09-09"]["calls"] == 0
    assert by_day["2023-09-10"] == {
        "start": "2023-09-10",
        "activeIdentities": 1,
        "activePrincipals": 1,
        "calls": 3,
        "conversations": 2,
        "errorCalls": 1,
        "accessDenied": 1,
        "firstTimeIdentities": 1,
    }
    assert by_day["2023-09-11"]["activeIdentities"] == 2 and by_day["2023-09-11"]["firstTimeIdentities"] == 1
    assert by_day["2023-09-12"]["accessDenied"] == 1  # UnauthorizedOperation
    code, out, _ = run(capsys, "--table", table, "--active", "--since", "2023-09-09", "--format", "csv")
    rows = csv_rows(out)
    assert [row["calls"] for row in rows] == ["0", "3", "3", "3"]
    code, out, _ = run(capsys, "--table", table, "--active", "--since", "2023-09-09")
    lines = table_lines(out)
    assert lines[0].split() == ["DAY", "IDENTITIES", "PRINCIPALS", "CALLS", "CHATS", "DENIED", "NEW"]
    assert lines[2].split() == ["2023-09-10", "1", "1", "3", "2", "1", "1"]


def test_active_by_week_and_month_default_period(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--active", "--by", "week", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["since"] == "2023-08-14"  # the last 30 days up to today (2023-09-12)
    rows = {row["start"]: row for row in document["activity"]}
    assert rows["2023-09-04"]["calls"] == 3  # Sunday 2023-09-10 is in the week of Monday 2023-09-04
    assert (rows["2023-09-11"]["activeIdentities"], rows["2023-09-11"]["firstTimeIdentities"]) == (3, 2)
    _, out, _ = run(capsys, "--table", table, "--active", "--by", "month", "--since", "2023-09-01", "--format", "json")
    (month,) = json.loads(out)["activity"]
    assert (month["start"], month["calls"], month["activeIdentities"], month["activePrincipals"]) == (
        "2023-09-01",
        9,
        3,
        3,
    )


def test_top_of_a_period(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--top", "2", "--since", "2023-09-11", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert [(row["identity"], row["totalCalls"], row["activeDays"]) for row in document["top"]] == [
        (LONG, 3, 1),
        (ALICE, 2, 1),
    ]
    assert document["top"][1]["principal"] == ROLE
    assert [(p["name"], p["calls"], p["identities"]) for p in document["principals"]] == [
        (LONG_ROLE, 3, 1),
        (ROLE, 2, 1),
    ]
    code, out, _ = run(capsys, "--table", table, "--top", "5", "--since", "2023-09-11")
    lines = table_lines(out)
    assert lines[0].split() == ["#", "IDENTITY", "CALLS", "CHATS", "ERRORS", "DAYS"]
    assert ADMIN.split(":")[-1] in out and "PRINCIPAL" in out
    code, out, _ = run(capsys, "--table", table, "--top", "5", "--since", "2023-09-11", "--format", "csv")
    assert [row["identity"] for row in csv_rows(out)] == [LONG, ALICE, ADMIN]
    assert csv_rows(out)[2]["totalCalls"] == "1"  # Admin's calls of 2023-09-11 only


def test_top_of_an_empty_period(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--top", "5", "--since", "2024-01-01", "--until", "2024-01-02")
    assert (code, out) == (0, "no Support Recommendations events from 2024-01-01 to 2024-01-02\n")
