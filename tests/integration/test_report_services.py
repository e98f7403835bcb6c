"""The HTML report with more than `support` watched: a Services and a Bedrock models section, their data
embedded; with `support` alone, the page of before, byte for byte."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from supportwatch.report.insights import Period
from supportwatch.report.page import Deployment, render_report
from tests.integration.test_report import Page, remote_references
from tests.unit.test_breakdown import CLAUDE, DAYS, EVERY, TITAN

GENERATED = datetime(2023, 9, 15, tzinfo=UTC)
DEPLOYMENT = Deployment("table", "summaries")


def page(period: Period, watched: tuple[str, ...] = ("support",)) -> str:
    return render_report(period, [], DEPLOYMENT, GENERATED, watched)


def test_extended_report_breaks_the_period_down_by_service_and_model():
    period = Period.of(date(2023, 9, 10), date(2023, 9, 14), DAYS, [])
    html = page(period, EVERY)
    parsed = Page(html)
    data = parsed.data()
    assert remote_references(html) == [] and len(parsed.scripts) == 1
    assert [(row["service"], row["calls"], row["activeIdentities"]) for row in data["serviceUse"]] == [
        ("support", 7, 2),
        ("q", 3, 1),
        ("bedrock", 6, 2),
    ]
    assert data["series"]["callsByService"]["q"] == [0, 3, 0, 0, 0]
    assert data["topModels"] == [
        {"model": CLAUDE, "calls": 5, "identities": 2},
        {"model": TITAN, "calls": 1, "identities": 1},
    ]
    assert data["modelUsers"] == [
        {"identity": "alice", "models": {CLAUDE: 3, TITAN: 1}},
        {"identity": "bob", "models": {CLAUDE: 2}},
    ]
    assert data["summaries"]["alice"]["services"] == {"bedrock": 4, "q": 3, "support": 2}  # the export's fields
    assert data["summaries"]["alice"]["models"] == {CLAUDE: 3, TITAN: 1}
    assert data["multiService"] == [{"identity": "alice", "services": {"bedrock": 4, "q": 3, "support": 2}}]
    assert '<section id="services">' in html and '<section id="models">' in html
    text = " ".join(" ".join(parsed.text).split())
    assert "AI assistant usage" in text
    assert "Amazon Bedrock: 4, Amazon Q: 3, AWS Support Recommendations: 2" in text  # alice, the most first
    assert "Calls per day, stacked by service" in html and "Amazon Q" in html
    assert "What people type to an assistant and what a model answers are never read" in text


def test_extended_report_of_a_quiet_period_says_so_in_each_section():
    html = page(Period.of(date(2023, 9, 10), date(2023, 9, 14), [], []), ("support", "q"))
    text = " ".join(" ".join(Page(html).text).split())
    assert "No calls of the watched services between 2023-09-10 and 2023-09-14." in text
    assert "No identity used more than one service in this period." in text
    assert "No Bedrock model was called in this period." in text
    assert "stacked by service" not in html


def test_support_only_report_is_the_page_of_before():
    support_days = [replace(day, services={}, models={}) for day in DAYS[3:4]] + [
        replace(DAYS[0], services={"support": 5}, models={})
    ]
    period = Period.of(date(2023, 9, 10), date(2023, 9, 14), support_days, [])
    html = page(period)
    assert html == render_report(period, [], DEPLOYMENT, GENERATED)  # the default: support alone
    assert 'id="services"' not in html and 'id="models"' not in html and "serviceUse" not in html
    assert "<h1>Support Recommendations usage</h1>" in html
    assert "The text people type into Support\n    Recommendations is never read. The data shown" in html
    assert set(Page(html).data()) == {
        "summaries", "alerts", "period", "generatedAt", "deployment", "series", "topIdentities", "topPrincipals",
        "accounts", "errorCodes", "firstSeen",
    }  # fmt: skip
    assert set(Page(html).data()["series"]) == {"activity", "callsByEvent"}
    assert "services" not in Page(html).data()["summaries"]["alice"]
