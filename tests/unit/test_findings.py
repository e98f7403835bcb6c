"""Alerts as Security Hub findings, EventBridge entries and chat notifications (contract section 11),
without AWS: every finding checked against botocore's own Security Hub model."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.config import AlertSettings
from supportwatch.decoding.records import extract
from supportwatch.findings.asff import TYPES, finding, finding_id, findings, offline_origin, product_arn
from supportwatch.findings.chat import chat_notification
from supportwatch.findings.events import event_entry
from supportwatch.findings.routes import RoutedPublisher, send_with_retries
from supportwatch.models import Alert, ObjectRef
from supportwatch.rules import SEVERITY, object_alert
from tests.asff_model import invalid, problems
from tests.helpers import CANARY, REPO, reveal_record, support_record
from tests.unit.test_rules import ADMIN, REF, ROOT, alerts_for, reveal_alerts

NOW = datetime(2026, 12, 3, 19, 0, 0, 123000, tzinfo=UTC)
ROLE = "arn:aws:sts::111122223333:assumed-role/Oncall/dana@example.com"
NAMESPACES = (
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
)


def every_kind_of_alert() -> list[Alert]:
    """Identity alerts of each kind, from records that carry typed text, and one alert per object rule."""
    records = [
        support_record(),
        support_record(arn=ROOT),
        support_record(error="AccessDenied"),
        support_record(name="StartSomethingNew"),
        support_record(
            arn=ROLE,
            issuer="arn:aws:iam::111122223333:role/Oncall",
        ),
    ]
    calls = {(event.identity, event.day, event.service): 5 for event in extract(records).events}
    alerts = alerts_for(records, AlertSettings(volume_threshold=1, allowlist=("nobody",)), calls)
    objects = [
        object_alert(rule, REF, f"{rule}: {REF.key}", "what happened to the file")
        for rule in SEVERITY
        if rule.endswith("-log") or rule.startswith("digest-")
    ]
    revealed = reveal_alerts([reveal_record("p-" + "a" * 26)])  # pseudonymous mode
    return alerts + objects + revealed


def test_every_rule_has_types_in_asff_namespaces():
    assert set(TYPES) == set(SEVERITY)
    for types in TYPES.values():
        assert types and all(kind.split("/")[0] in NAMESPACES and kind.count("/") in (1, 2) for kind in types)


def test_every_kind_of_alert_is_a_valid_finding_by_botocores_model():
    alerts = every_kind_of_alert()
    assert {alert.rule for alert in alerts} == set(SEVERITY)
    made = findings(alerts, NOW, "999988887777", "eu-west-1")
    assert invalid(made) == []
    for alert, found in zip(alerts, made, strict=True):
        assert found["SchemaVersion"] == "2018-10-08"
        assert found["ProductArn"] == "arn:aws:securityhub:eu-west-1:999988887777:product/999988887777/default"
        assert found["AwsAccountId"] == "999988887777"
        assert found["Severity"]["Label"] == alert.severity.upper()
        assert found["Title"] == alert.title and found["Description"] == alert.detail
        assert found["UpdatedAt"] == "2026-12-03T19:00:00.123Z"
        assert found["ProductFields"]["supportwatch/rule"] == alert.rule
        assert found["ProductFields"]["supportwatch/window"] == alert.window
        assert found["ProductFields"]["supportwatch/subject"] == alert.subject
        assert "Workflow" not in found and "Note" not in found  # the analyst's, never reset by a re-import


def test_the_model_check_can_fail():
    good = finding(every_kind_of_alert()[0], "111122223333", "us-east-1", NOW)
    assert problems({**good, "Severity": {"Label": "SEVERE"}})
    assert problems({key: value for key, value in good.items() if key != "Resources"})
    assert problems({**good, "Title": " "})
    assert problems({**good, "Colour": "red"})
    assert invalid([{**good, "Types": "Unusual Behaviors/User"}])


def test_resources_name_the_identity_by_its_type_or_the_log_object():
    by_rule = {
        (alert.rule, alert.identity): finding(alert, "1", "us-east-1", NOW)["Resources"]
        for alert in every_kind_of_alert()
    }
    assert by_rule[("root-usage", ROOT)] == [{"Type": "Other", "Id": ROOT, "Partition": "aws", "Region": "us-east-1"}]
    assert by_rule[("new-identity", ADMIN)][0]["Type"] == "AwsIamUser"
    assert by_rule[("new-identity", ROLE)][0]["Type"] == "AwsIamRole"
    assert by_rule[("tampered-log", None)] == [
        {"Type": "AwsS3Object", "Id": f"arn:aws:s3:::trail/{REF.key}", "Partition": "aws", "Region": "us-east-1"}
    ]


def test_id_depends_only_on_rule_window_and_subject():
    (alert,) = [a for a in every_kind_of_alert() if a.rule == "root-usage"]
    again = Alert.from_json({**alert.to_json(), "eventId": "another", "detail": "another", "sourceIp": "1.2.3.4"})
    assert finding_id(again) == finding_id(alert) == finding(alert, "1", "us-west-2", NOW)["Id"]
    assert finding_id(Alert.from_json({**alert.to_json(), "window": "2023-09-12"})) != finding_id(alert)
    assert finding_id(Alert.from_json({**alert.to_json(), "rule": "volume"})) != finding_id(alert)
    assert finding_id(Alert.from_json({**alert.to_json(), "identity": ROOT + "x"})) != finding_id(alert)
    assert len({finding_id(a) for a in every_kind_of_alert()}) == len(every_kind_of_alert())


def test_long_titles_and_descriptions_are_cut_to_asffs_limits():
    alert = object_alert("unreadable-log", ObjectRef("b", "k" * 3000), "t" * 400, "d" * 5000)
    found = finding(alert, "1", "us-east-1", NOW)
    assert len(found["Title"]) <= 256 and len(found["Description"]) == 1024
    assert invalid([found]) == []


def test_offline_origin_is_the_alerts_then_the_log_keys():
    root, *_ = alerts_for([support_record(arn=ROOT, region="eu-central-1")])
    assert offline_origin(root) == ("111122223333", "eu-central-1")
    unreadable = object_alert("unreadable-log", REF, "t", "d")
    assert offline_origin(unreadable) == ("111122223333", "us-east-1")
    assert offline_origin(object_alert("unreadable-log", ObjectRef("", "/tmp/x.json"), "t", "d")) == (
        "000000000000",
        "us-east-1",
    )
    assert product_arn("1", "cn-north-1").startswith("arn:aws-cn:securityhub:cn-north-1:")


def test_no_typed_text_in_findings_events_or_chat():
    alerts = every_kind_of_alert()
    sent = json.dumps(
        [findings(alerts, NOW), [event_entry(a) for a in alerts], [chat_notification(a, ("cmd",)) for a in alerts]]
    )
    assert CANARY.split(":")[0] not in sent and "hunter2" not in sent


def test_event_entry_is_the_alert_json_on_the_default_bus():
    alert = every_kind_of_alert()[0]
    entry = event_entry(alert)
    assert entry == {
        "Source": "supportwatch",
        "DetailType": "Support Recommendations alert",
        "Detail": json.dumps(alert.to_json()),
        "EventBusName": "default",
    }


def test_chat_notification_is_a_custom_notification():
    alert = next(a for a in every_kind_of_alert() if a.rule == "root-usage")
    message = chat_notification(alert, ("supportwatch query --table T --identity X",))
    assert message["version"] == "1.0" and message["source"] == "custom"
    content = message["content"]
    assert content["textType"] == "client-markdown"
    assert alert.title in content["title"] and alert.detail in content["description"]
    assert content["nextSteps"][-1] == "`supportwatch query --table T --identity X`"
    assert message["metadata"]["threadId"] == finding_id(alert)
    assert len(json.dumps(message)) < 4000  # short: a chat message, not the email


class FlakyRoute:
    """Refuses each alert `refusals` times, then takes it."""

    name = "flaky"

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls: list[list[Alert]] = []

    def send(self, alerts):
        self.calls.append(list(alerts))
        return dict.fromkeys(alerts, "Throttled") if len(self.calls) <= self.refusals else {}


@pytest.mark.parametrize(("refusals", "refused"), [(0, 0), (2, 0), (3, 2)])
def test_routes_retry_refused_alerts_then_report_them(refusals, refused):
    alerts = every_kind_of_alert()[:2]
    route = FlakyRoute(refusals)
    assert len(send_with_retries(route, alerts, sleep=lambda _: None)) == refused
    assert len(route.calls) == min(refusals + 1, 3)


def test_routed_publisher_sends_what_the_topic_took_once_and_never_fails_the_alert():
    alerts = every_kind_of_alert()

    class HalfTopic(CollectingPublisher):
        def publish(self, sent):
            super().publish(sent[1:])
            return {sent[0]: "topic down"}

    reports: list[tuple[str, int]] = []
    route = FlakyRoute(refusals=5)
    publisher = RoutedPublisher(HalfTopic(), [route], lambda name, refused: reports.append((name, len(refused))))
    publisher.sleep = lambda _: None
    failed = Alerting(MemoryClaims(), publisher).publisher.publish(alerts)
    assert list(failed) == [alerts[0]]  # the topic's failure only: a route's refusal never fails an alert
    assert route.calls[0] == alerts[1:]
    assert reports == [("flaky", len(alerts) - 1)]


def test_scan_format_asff_prints_one_finding_per_alert_of_the_demo(capsys):
    from supportwatch.cli.main import main

    main(["scan", str(REPO / "demo" / "trails"), "--format", "json"])
    exported = json.loads(capsys.readouterr().out)["alerts"]
    main(["scan", str(REPO / "demo" / "trails"), "--format", "asff"])
    made = json.loads(capsys.readouterr().out)
    assert len(made) == len(exported) > 0
    assert [f["Id"] for f in made] == [finding_id(Alert.from_json(a)) for a in exported]
    assert [f["Title"] for f in made] == [a["title"] for a in exported]
    assert invalid(made) == []
    main(["scan", str(REPO / "demo" / "trails"), "--format", "asff"])
    assert [f["Id"] for f in json.loads(capsys.readouterr().out)] == [f["Id"] for f in made]
