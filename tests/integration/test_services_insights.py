"""`query`'s tables and `report` by service and by model, from a table of every service on moto
(contract section 12): the breakdown with `--services`, the output of before without it."""

from __future__ import annotations

import boto3
import pytest

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from tests.integration.test_report import Page
from tests.unit.test_aggregate import ADMIN, ev
from tests.unit.test_service_summaries import EVENTS, of

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
DEV = "arn:aws:iam::111122223333:user/Dev"
PERIOD = ("--since", "2023-09-11", "--until", "2023-09-12")


@pytest.fixture
def table(empty_table: str, monkeypatch) -> str:
    dev = [
        of("bedrock", ev("d1", "2023-09-12T09:00:00Z", identity=DEV, principal=DEV, name="Converse"), HAIKU),
        of("bedrock", ev("d2", "2023-09-12T09:05:00Z", identity=DEV, principal=DEV, name="Converse"), HAIKU),
    ]
    SummaryStore(boto3.client("dynamodb"), empty_table).commit("a.json", [*EVENTS, *dev])
    monkeypatch.setenv("COLUMNS", "80")
    return empty_table


def printed(capsys, *args: str) -> list[str]:
    assert main(["query", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    return [" ".join(line.split()) for line in lines]


def test_query_tables_by_service_only_with_more_than_support(table, capsys):
    everyone = printed(capsys, "--table", table, "--services", "support,q,bedrock")
    assert everyone[:3] == [
        "IDENTITY CALLS SUPPORT Q BEDROCK ERRORS",  # the dates make way for the services at 80 columns
        f"{ADMIN} 5 1 1 3 1",
        f"{DEV} 2 0 0 2 0",
    ]
    assert printed(capsys, "--table", table)[0] == "IDENTITY CALLS ERRORS FIRST SEEN LAST SEEN"
    active = printed(capsys, "--table", table, "--active", *PERIOD, "--services", "q")
    at = active.index("SERVICE CALLS IDENTITIES DAYS")
    assert active[at + 1 : at + 4] == [
        "AWS Support Recommendations 1 1 1",
        "Amazon Q 1 1 1",
        "Amazon Bedrock 5 2 1",  # not watched now, but held by the table
    ]
    at = active.index("BEDROCK MODEL CALLS IDENTITIES")
    assert active[at + 1 :] == [f"{HAIKU} 4 2", "unknown 1 1"]
    assert not [line for line in printed(capsys, "--table", table, "--active", *PERIOD) if "SERVICE" in line]


def test_report_by_service_and_model_only_with_more_than_support(table, tmp_path, capsys):
    extended, plain = tmp_path / "extended.html", tmp_path / "plain.html"
    assert main(["report", "--table", table, *PERIOD, "--services", "support,q,bedrock", "-o", str(extended)]) == 0
    assert main(["report", "--table", table, *PERIOD, "-o", str(plain)]) == 0
    data = Page(extended.read_text()).data()
    assert [(row["service"], row["calls"], row["activeIdentities"]) for row in data["serviceUse"]] == [
        ("support", 1, 1),
        ("q", 1, 1),
        ("bedrock", 5, 2),
    ]
    assert data["topModels"] == [{"model": HAIKU, "calls": 4, "identities": 2}, {"model": "unknown", "calls": 1,
                                 "identities": 1}]  # fmt: skip
    assert data["modelUsers"][0] == {"identity": ADMIN, "models": {HAIKU: 2, "unknown": 1}}
    assert data["multiService"] == [{"identity": ADMIN, "services": {"bedrock": 3, "q": 1, "support": 1}}]
    assert data["summaries"][DEV]["services"] == {"bedrock": 2}
    html = plain.read_text()
    assert 'id="services"' not in html and "serviceUse" not in html and "services" not in Page(html).data()[
        "summaries"][DEV]  # fmt: skip


def test_identity_view_cuts_long_model_ids_to_the_line_unless_wide(empty_table, capsys, monkeypatch):
    """A model ID is the caller's text: two of 1,000 characters sharing their start stay two entries, each cut
    to fit 80 columns (`printed` checks every line); --wide prints them whole."""
    long_a, long_b = "m" * 999 + "a", "m" * 999 + "b"
    events = [of("bedrock", ev(f"l{n}", identity=DEV, principal=DEV, name="Converse"), model)
              for n, model in enumerate((long_a, long_b, long_b, HAIKU))]  # fmt: skip
    SummaryStore(boto3.client("dynamodb"), empty_table).commit("a.json", events)
    monkeypatch.setenv("COLUMNS", "80")
    lines = printed(capsys, "--table", empty_table, "--services", "bedrock", "--identity", DEV)
    models = " ".join(lines[lines.index(next(line for line in lines if line.startswith("models"))) :][:4])
    assert f"{HAIKU}=1" in models and models.count("…=") == 2 and "…=1" in models and "…=2" in models
    assert main(["query", "--table", empty_table, "--services", "bedrock", "--identity", DEV, "--wide"]) == 0
    wide = capsys.readouterr().out
    assert f"{long_a}=1" in wide and f"{long_b}=2" in wide


def test_query_finding_nothing_names_the_watched_services_events(table, capsys):
    assert main(["query", "--table", table, "--since", "2020-01-01", "--until", "2020-01-02"]) == 0
    assert capsys.readouterr().out == "no Support Recommendations events from 2020-01-01 to 2020-01-02\n"
    assert main(["query", "--table", table, "--services", "q", "--since", "2020-01-01", "--until", "2020-01-02"]) == 0
    assert capsys.readouterr().out == "no events of the watched services from 2020-01-01 to 2020-01-02\n"
    assert main(["query", "--table", table, "--services", "bedrock", "--identity", "user/Nobody"]) != 0
    assert "no events of the watched services of user/Nobody in table" in capsys.readouterr().err
