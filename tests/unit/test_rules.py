"""Alert rules, their messages and once-per-window raising, without AWS."""

from __future__ import annotations

import json

import pytest

from supportwatch.alerting import Alerting, AlertsUndelivered, CollectingPublisher, MemoryClaims
from supportwatch.config import AlertSettings, ConfigError
from supportwatch.decoding.records import extract
from supportwatch.messages import email_body, sns_message
from supportwatch.models import Alert, ObjectRef
from supportwatch.rules import evaluate, revealed, unavailable, unreadable
from tests.helpers import CANARY, reveal_record, support_record

REF = ObjectRef("trail", "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/f.json.gz")
ADMIN = "arn:aws:iam::111122223333:user/Admin"
ROOT = "arn:aws:iam::111122223333:root"


def alerts_for(records, settings=None, day_calls=None):
    events = extract(records).events
    calls = day_calls if day_calls is not None else {(e.identity, e.day, e.service): 1 for e in events}
    return evaluate(REF, events, calls, settings or AlertSettings())


def rules_of(alerts) -> list[tuple[str, str]]:
    return sorted((alert.rule, alert.window) for alert in alerts)


def test_an_ordinary_known_identity_raises_only_new_identity():
    assert rules_of(alerts_for([support_record(), support_record(name="GetSupportTroubleshootingResponse")])) == [
        ("new-identity", "ever")
    ]


def test_root_usage_once_per_day():
    records = [
        support_record(arn=ROOT, time="2023-09-11T10:00:00Z"),
        support_record(arn=ROOT, time="2023-09-11T11:00:00Z"),
        support_record(arn=ROOT, time="2023-09-12T09:00:00Z"),
    ]
    root = [alert for alert in alerts_for(records) if alert.rule == "root-usage"]
    assert [(alert.window, alert.event_time, alert.severity) for alert in root] == [
        ("2023-09-11", "2023-09-11T10:00:00Z", "critical"),
        ("2023-09-12", "2023-09-12T09:00:00Z", "critical"),
    ]


@pytest.mark.parametrize(
    ("code", "fires"),
    [("AccessDeniedException", True), ("Client.UnauthorizedOperation", True), ("ThrottlingException", False)],
)
def test_access_denied_on_denied_error_codes_only(code, fires):
    alerts = alerts_for([support_record(error=code)])
    denied = [alert for alert in alerts if alert.rule == "access-denied"]
    assert len(denied) == int(fires)
    if fires:
        assert "(" + code + ")" in denied[0].detail


def test_volume_fires_above_the_threshold_not_at_it():
    records = [support_record(time=f"2023-09-11T10:00:{n:02d}Z") for n in range(3)]
    settings = AlertSettings(volume_threshold=3)
    assert "volume" not in dict(rules_of(alerts_for(records, settings, {(ADMIN, "2023-09-11", "support"): 3})))
    (volume,) = [a for a in alerts_for(records, settings, {(ADMIN, "2023-09-11", "support"): 4}) if a.rule == "volume"]
    assert (volume.window, volume.event_time) == ("2023-09-11", "2023-09-11T10:00:02Z")
    assert "4 Support Recommendations calls" in volume.title


def test_not_allowlisted_matches_identity_or_principal_globs():
    role = "arn:aws:iam::111122223333:role/Oncall"
    session = support_record(arn="arn:aws:sts::111122223333:assumed-role/Oncall/alice", issuer=role)
    settings = AlertSettings(allowlist=("arn:aws:iam::*:role/Oncall",))
    assert "not-allowlisted" not in dict(rules_of(alerts_for([session], settings)))
    assert "not-allowlisted" in dict(rules_of(alerts_for([support_record()], settings)))
    assert "not-allowlisted" not in dict(rules_of(alerts_for([support_record()], AlertSettings())))  # no list: off


def test_new_event_name_once_per_name_with_that_name():
    records = [support_record(name="ListSupportTroubleshootingHistory"), support_record(name="DeleteThing")]
    names = sorted(a.event_name for a in alerts_for(records) if a.rule == "new-event-name")
    assert names == ["DeleteThing", "ListSupportTroubleshootingHistory"]


def test_rules_off_and_minimum_severity_silence_alerts():
    records = [support_record(arn=ROOT, error="AccessDenied")]
    assert rules_of(alerts_for(records, AlertSettings(rules=frozenset({"root-usage"})))) == [
        ("root-usage", "2023-09-11")
    ]
    assert rules_of(alerts_for(records, AlertSettings(min_severity="high"))) == [("root-usage", "2023-09-11")]
    assert alerts_for(records, AlertSettings(rules=frozenset())) == []


def test_unreadable_log_alert_names_the_object():
    (alert,) = unreadable(REF, "truncated gzip", AlertSettings())
    assert (alert.rule, alert.window, alert.bucket, alert.key) == ("unreadable-log", "object", "trail", REF.key)
    assert alert.claim_key == f"unreadable-log#object#trail/{REF.key}"
    assert unreadable(REF, "x", AlertSettings(rules=frozenset({"volume"}))) == []


def test_unavailable_log_alert_names_the_object_and_the_reason():
    (alert,) = unavailable(REF, "access denied on the object (AccessDenied)", AlertSettings())
    assert (alert.rule, alert.severity, alert.window, alert.bucket, alert.key) == (
        "unavailable-log",
        "high",
        "object",
        "trail",
        REF.key,
    )
    assert "AccessDenied" in alert.detail and alert.title.startswith("Unavailable CloudTrail log: ")
    assert alert.title.endswith("/f.json.gz")
    assert alert.claim_key == f"unavailable-log#object#trail/{REF.key}"  # apart from the object's unreadable-log
    assert "Restore the function's read access" in email_body(alert, "query")
    assert unavailable(REF, "x", AlertSettings.from_env({"ALERT_RULES": "unreadable-log"})) == []
    assert unavailable(REF, "x", AlertSettings(min_severity="critical")) == []


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="unknown alert rules nope"):
        AlertSettings(rules=frozenset({"nope"}))
    with pytest.raises(ConfigError, match="minimum severity"):
        AlertSettings(min_severity="urgent")
    settings = AlertSettings.from_env(
        {"ALERT_RULES": "volume, root-usage", "ALLOWLIST": "a*, b", "VOLUME_THRESHOLD": "7"}
    )
    assert (settings.rules, settings.allowlist, settings.volume_threshold) == (
        frozenset({"volume", "root-usage"}),
        ("a*", "b"),
        7,
    )
    assert AlertSettings.from_env({"ALERT_RULES": ""}).rules == frozenset()


def test_titles_are_one_ascii_line_under_100_characters():
    long_arn = "arn:aws:sts::111122223333:assumed-role/" + "R" * 80 + "/sessión\nname"
    for alert in alerts_for([support_record(arn=long_arn, error="AccessDenied")]):
        assert len(alert.title) < 100 and alert.title.isascii() and "\n" not in alert.title
        assert alert.title.startswith(("New Support", "Support Recommendations denied"))


def test_sns_message_shape_and_email_body():
    records = [support_record(arn=ROOT, error="AccessDeniedException")]
    alert = next(a for a in alerts_for(records) if a.rule == "root-usage")
    message = sns_message(alert, ["aws dynamodb query --table-name T ..."])
    assert message["Subject"] == alert.title and message["MessageStructure"] == "json"
    bodies = json.loads(message["Message"])
    assert json.loads(bodies["default"]) == alert.to_json()
    assert {name: value["StringValue"] for name, value in message["MessageAttributes"].items()} == {
        "rule": "root-usage",
        "severity": "critical",
        "accountId": "111122223333",
    }
    email = bodies["email"]
    for expected in (
        ROOT,
        "72.21.198.67",
        "2023-09-11T16:34:13Z",
        f"s3://trail/{REF.key}",
        "What to do next",
        "aws dynamodb query --table-name T",
    ):
        assert expected in email
    assert CANARY not in json.dumps(message) and CANARY not in email_body(alert, "")


def test_alert_json_has_the_contract_fields():
    (alert,) = alerts_for([support_record()])
    assert {
        "rule",
        "severity",
        "identity",
        "identityType",
        "accountId",
        "eventName",
        "eventTime",
        "eventId",
        "sourceIp",
        "window",
        "bucket",
        "key",
        "title",
    } <= set(alert.to_json())


class FlakyPublisher(CollectingPublisher):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def publish(self, alerts):
        if self.failures:
            self.failures -= 1
            return dict.fromkeys(alerts, "Throttled")
        return super().publish(alerts)


def test_once_per_window_and_a_failed_publish_is_not_swallowed():
    alerts = alerts_for([support_record()])
    claims, publisher = MemoryClaims(), CollectingPublisher()
    alerting = Alerting(claims, publisher)
    assert alerting.raise_alerts(alerts, "a") == alerts and len(alerts) == 1
    assert alerting.raise_alerts(alerts, "b") == []
    assert publisher.alerts == alerts
    flaky = FlakyPublisher(failures=1)
    with pytest.raises(AlertsUndelivered, match="1 of 1 alerts could not be published: Throttled"):
        Alerting(MemoryClaims(), flaky).raise_alerts(alerts, "a")


P_ALICE, P_CAROL = "p-" + "a" * 26, "p-" + "c" * 26
BOB = "arn:aws:sts::111122223333:assumed-role/Security/bob@example.com"


def reveal_alerts(records, settings=None):
    return revealed(REF, extract(records, reveals=True).reveals, settings or AlertSettings(), lambda ip: f"P({ip})")


def test_identity_revealed_once_per_pseudonym_and_day_naming_who_revealed():
    records = [
        reveal_record(P_ALICE, time="2026-12-06T10:00:00Z", event_id="r1"),
        reveal_record(P_ALICE, time="2026-12-06T09:00:00Z", event_id="r2"),  # the day's first: it is the alert
        reveal_record(P_ALICE, time="2026-12-07T09:00:00Z", event_id="r3"),
        reveal_record(P_CAROL, time="2026-12-06T11:00:00Z", event_id="r4"),
        reveal_record(P_CAROL, event_id="denied", error="AccessDenied"),  # refused: revealed nothing
        reveal_record(P_CAROL, event_id="sealed", name="Encrypt"),  # the function sealing, not a reveal
        support_record(),
    ]
    alerts = reveal_alerts(records)
    assert [(a.identity, a.window, a.event_id) for a in alerts] == [
        (P_ALICE, "2026-12-06", "r2"),
        (P_ALICE, "2026-12-07", "r3"),
        (P_CAROL, "2026-12-06", "r4"),
    ]
    alert = alerts[0]
    assert (alert.rule, alert.severity, alert.revealed_by, alert.source_ip) == (
        "identity-revealed",
        "medium",
        BOB,
        "P(203.0.113.50)",  # the caller's address is written as every address is
    )
    # the whole ARN would make the Subject 102 characters: shortened as every title shortens identities
    assert alert.title == f"Identity {P_ALICE} revealed by 111122223333:Security/bob@example.com"
    assert alert.to_json()["revealedBy"] == BOB and Alert.from_json(alert.to_json()) == alert
    assert alert.claim_key == f"identity-revealed#2026-12-06#{P_ALICE}"
    assert f"Who: {P_ALICE}, revealed by {BOB}" in email_body(alert)
    assert "once per pseudonym per UTC day" in email_body(alert)
    assert reveal_alerts(records, AlertSettings(rules=frozenset({"new-identity"}))) == []


def test_other_alerts_carry_no_revealed_by():
    (alert,) = alerts_for([support_record()])
    assert "revealedBy" not in alert.to_json() and Alert.from_json(alert.to_json()) == alert
