"""The dashboard preview (`make dashboard-preview`): the template's widgets, filled from a real local run."""

import json

import pytest
from tools.dashboard_preview import dashboard_widgets, emitted_documents, preview_panels

from tests.integration.test_template import ROOT, TEMPLATE, resolve, translate

DEMO = ROOT / "demo" / "trails"


@pytest.fixture(scope="module")
def panels():
    return preview_panels(dashboard_widgets(TEMPLATE), emitted_documents([DEMO]))


def test_the_panels_are_the_deployed_dashboards_widgets_in_its_grid(panels):
    deployed = json.loads(resolve(translate({}), {})["Dashboard"]["Properties"]["DashboardBody"])["widgets"]
    assert [panel.title for panel in panels] == [widget["properties"]["title"] for widget in deployed]
    assert [[line.label for line in panel.lines] for panel in panels] == [
        [metric[-1]["label"] for metric in widget["properties"]["metrics"]] for widget in deployed
    ]
    # no x/y in the body: CloudWatch fills rows of 24 columns left to right, two 12-wide widgets a row
    assert [(panel.x, panel.y) for panel in panels] == [(12 * (i % 2), 6 * (i // 2)) for i in range(len(panels))]


def test_our_metrics_have_the_runs_values_and_aws_metrics_none(panels):
    by_title = {panel.title: {line.label: line for line in panel.lines} for panel in panels}
    files = by_title["Log files per hour"]
    delivered = len(list(DEMO.rglob("*.json.gz")))
    outcomes = ("processed", "skipped (not logs)", "unreadable", "unavailable")
    assert sum(sum((files[label].values or {}).values()) for label in outcomes) == delivered
    assert files["processed"].values
    alerts = by_title["Alerts published per hour, by rule"]
    by_rule = sum(sum(line.values.values()) for label, line in alerts.items() if label != "all rules")
    assert sum(alerts["all rules"].values.values()) == by_rule > 0
    for panel in panels:
        aws = [line for line in panel.lines if line.namespace.startswith("AWS/")]
        assert all(line.values is None for line in aws)
        assert (panel.offline_note is not None) == bool(aws)


@pytest.mark.parametrize("watched", ["support,q,bedrock", "bedrock", "support"])
def test_the_preview_has_the_deployed_panel_per_watched_service(watched):
    parameters = {"WatchedServices": watched}
    deployed = json.loads(resolve(translate(parameters), parameters)["Dashboard"]["Properties"]["DashboardBody"])
    titles = [widget["properties"]["title"] for widget in deployed["widgets"]]
    assert [widget["properties"]["title"] for widget in dashboard_widgets(TEMPLATE, parameters)] == titles
    assert ("Amazon Bedrock: calls and alerts per hour" in titles) == ("bedrock" in watched)


def test_the_per_service_panels_add_up_to_the_functions_totals():
    """A local run of the mixed corpus watching every service: each service's calls read and alerts, summed
    over the services, are the events read and the alerts published (every one about a call, here)."""
    watched = "support,q,bedrock"
    panels = preview_panels(
        dashboard_widgets(TEMPLATE, {"WatchedServices": watched}),
        emitted_documents([ROOT / "tests" / "fixtures" / "services" / "trail"], watched),
    )
    by_title = {
        panel.title: {line.label: sum((line.values or {}).values()) for line in panel.lines} for panel in panels
    }
    services = [
        by_title[f"{label}: calls and alerts per hour"]
        for label in ("AWS Support Recommendations", "Amazon Q", "Amazon Bedrock")
    ]
    assert all(service["calls read"] > 0 for service in services)
    assert (
        sum(service["calls read"] for service in services) == by_title["Support events per hour"]["support events read"]
    )
    assert (
        sum(service["alerts published"] for service in services)
        == by_title["Alerts published per hour, by rule"]["all rules"]
    )
