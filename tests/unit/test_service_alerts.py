"""Alerts per watched service (contract section 12): with `support` alone every alert, SNS message,
claim and finding is byte for byte what it was before services existed; with more, every alert about an
event names its service and the identity rules hold per service."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import msgspec

from supportwatch.aggregate import Ledger
from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.aws.notify import SnsPublisher
from supportwatch.config import AlertSettings
from supportwatch.decoding.records import Extraction, extract
from supportwatch.findings.asff import finding, finding_id, findings
from supportwatch.findings.chat import chat_notification
from supportwatch.findings.events import event_entry
from supportwatch.ledger import items
from supportwatch.messages import email_body, sns_message
from supportwatch.models import Alert, ObjectRef
from supportwatch.pipeline import Processor, Read
from supportwatch.privacy import Pseudonymizer
from supportwatch.privacy.migration import alert_as
from supportwatch.rules import evaluate, unreadable
from tests.asff_model import invalid
from tests.helpers import CANARY, FIXTURES, gzip_document, support_record

DAY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
ADMIN = "arn:aws:iam::111122223333:user/Admin"
ROOT = "arn:aws:iam::111122223333:root"
ONCALL = "arn:aws:iam::111122223333:role/Oncall"
BOB = "arn:aws:sts::111122223333:assumed-role/Oncall/bob"
SETTINGS = AlertSettings(volume_threshold=2, allowlist=("arn:aws:iam::*:role/Oncall",))
DIG_IN = ("supportwatch query --table T --identity X",)
NOW = datetime(2023, 9, 12, 8, 0, tzinfo=UTC)
GOLDEN = FIXTURES / "alerts" / "support-only.json"
BOTH, ALL = ("support", "q"), ("support", "q", "bedrock")


def support_files() -> dict[str, list[dict]]:
    """Two log files raising every rule about events, with fixed event IDs."""
    return {
        "a.json.gz": [
            support_record(event_id="a1"),
            support_record(event_id="a2", error="AccessDeniedException", time="2023-09-11T17:00:00Z"),
            support_record(event_id="a3", arn=ROOT),
            support_record(event_id="a4", arn=BOB, issuer=ONCALL),
            support_record(event_id="a5", name="ListSupportTroubleshootingHistory"),
        ],
        "b.json.gz": [
            support_record(event_id="b1", time="2023-09-11T18:00:00Z"),  # Admin's third call: volume
            support_record(event_id="b2", arn=ROOT, time="2023-09-12T09:00:00Z"),
            support_record(event_id="b3", arn="arn:aws:iam::111122223333:user/" + "long-name-" * 9),
        ],
    }


def processed(files: dict[str, list[dict]], claims: MemoryClaims | None = None, **options) -> list[Alert]:
    """The alerts published when `files` go through the pipeline in order (options: Processor's)."""
    publisher = CollectingPublisher()
    processor = Processor(
        fetch=lambda ref: gzip_document(files[ref.key.removeprefix(DAY)]),
        sink=options.pop("sink", Ledger()),
        alerting=Alerting(claims or MemoryClaims(), publisher),
        alert_settings=SETTINGS,
        max_bytes=1 << 20,
        **options,
    )
    for name in files:
        processor.process(ObjectRef("trail", DAY + name), owner=name)
    return publisher.alerts


def outputs(alerts: list[Alert]) -> list[dict]:
    """Everything an alert becomes: its claim, SNS message, finding, chat notification, EventBridge entry."""
    return [
        {
            "claim": alert.claim_key,
            "subject": alert.subject,
            "sns": sns_message(alert, DIG_IN),
            "asff": finding(alert, "111122223333", "us-east-1", NOW),
            "chat": chat_notification(alert, DIG_IN),
            "eventbridge": event_entry(alert),
        }
        for alert in alerts
    ]


def support_only_outputs() -> str:
    alerts = processed(support_files()) + unreadable(ObjectRef("trail", DAY + "c.json.gz"), "truncated", SETTINGS)
    return json.dumps(outputs(alerts), indent=1, ensure_ascii=False) + "\n"


def test_support_only_alerts_are_byte_identical_to_before_services():
    """The fixture was written by the code before services existed (commit 5cfa07c), with this module's
    `support_only_outputs`."""
    assert support_only_outputs() == GOLDEN.read_text()
    assert CANARY not in GOLDEN.read_text()
    assert {alert["sns"]["Subject"].split(" ")[0] for alert in json.loads(GOLDEN.read_text())} >= {"New", "Root"}


def as_service(service: str, records: list[dict]) -> list:
    """The events of `records` as if they were `service`'s (the decoder's part, tested on its own)."""
    return [msgspec.structs.replace(event, service=service) for event in extract(records).events]


def rules_of(alerts: list[Alert]) -> list[tuple]:
    return sorted((alert.rule, alert.window, alert.service or "", alert.identity or "") for alert in alerts)


def test_extended_support_alerts_are_todays_with_their_service():
    before = processed(support_files())
    after = processed(support_files(), services=BOTH)
    assert after == [dataclasses.replace(alert, service="support") for alert in before]
    for old, new in zip(before, after, strict=True):
        assert (new.claim_key, new.subject, finding_id(new)) == (old.claim_key, old.subject, finding_id(old))
        assert new.to_json() == {**old.to_json(), "service": "support"}


def test_new_identity_once_per_identity_and_service():
    records = [support_record(event_id=f"e{n}", time=f"2023-09-11T1{n}:00:00Z") for n in range(3)]
    support, q, bedrock = records[:1], as_service("q", records[1:2]), as_service("bedrock", records[2:])
    events = extract(support).events + q + bedrock
    alerts = evaluate(ObjectRef("trail", DAY + "a"), events, {}, AlertSettings(), watched=ALL)
    assert [(a.rule, a.window, a.service, a.event_id, a.title) for a in alerts] == [
        ("new-identity", "ever", "support", "e0", f"New Support Recommendations user: {ADMIN}"),
        ("new-identity", "ever", "q", "e1", f"New Amazon Q user: {ADMIN}"),
        ("new-identity", "ever", "bedrock", "e2", f"New Amazon Bedrock user: {ADMIN}"),
    ]
    assert [a.claim_key for a in alerts] == [
        f"new-identity#ever#{ADMIN}",  # as claimed before services existed
        f"new-identity#ever#q:{ADMIN}",
        f"new-identity#ever#bedrock:{ADMIN}",
    ]
    assert "calling Amazon Q for the first time at 2023-09-11T11:00:00Z" in alerts[1].detail


def test_day_rules_once_per_identity_service_and_day():
    root = [support_record(arn=ROOT, event_id=f"r{n}", error="AccessDenied") for n in range(2)]
    events = extract(root[:1]).events + as_service("q", root[1:])
    calls = {(ROOT, "2023-09-11", "support"): 1, (ROOT, "2023-09-11", "q"): 3}
    settings = AlertSettings(volume_threshold=2, allowlist=("nobody",))
    alerts = evaluate(ObjectRef("trail", DAY + "a"), events, calls, settings, watched=BOTH)
    day = [(a.rule, a.service, a.title) for a in alerts if a.window == "2023-09-11"]
    assert day == [
        ("root-usage", "support", "Root user of 111122223333 used Support Recommendations"),
        ("access-denied", "support", f"Support Recommendations denied: {ROOT}"),
        ("not-allowlisted", "support", f"Support Recommendations used by non-allowlisted {ROOT}"),
        ("root-usage", "q", "Root user of 111122223333 used Amazon Q"),
        ("access-denied", "q", f"Amazon Q denied: {ROOT}"),
        ("volume", "q", f"3 Amazon Q calls on 2023-09-11: {ROOT}"),  # support's 1 call is below the threshold
        ("not-allowlisted", "q", f"Amazon Q used by non-allowlisted {ROOT}"),
    ]
    assert len({a.claim_key for a in alerts}) == len(alerts)
    volume = next(a for a in alerts if a.rule == "volume")
    assert volume.claim_key == f"volume#2023-09-11#q:{ROOT}"
    assert volume.detail == f"{ROOT} made 3 Amazon Q calls on 2023-09-11, above the threshold of 2."


def test_volume_counts_one_service_of_the_day_through_the_pipeline():
    """Offline (the Ledger), a day's calls are counted per service: 2 support and 2 q calls are each at
    the threshold of 2, not above it; a third q call is."""
    records = [support_record(event_id=f"v{n}", time=f"2023-09-11T1{n}:00:00Z") for n in range(5)]
    events = {"a": extract(records[:2]).events + as_service("q", records[2:4]), "b": as_service("q", records[4:])}
    ledger = Ledger()
    publisher = CollectingPublisher()
    processor = Processor(
        fetch=lambda ref: b"",
        sink=ledger,
        alerting=Alerting(MemoryClaims(), publisher),
        alert_settings=AlertSettings(volume_threshold=2),
        max_bytes=1 << 20,
        decode=lambda key, data, limits, hashed: Read(Extraction(events[key.removeprefix(DAY)])),
        services=BOTH,
    )
    processor.process(ObjectRef("trail", DAY + "a"), owner="a")
    assert not [a for a in publisher.alerts if a.rule == "volume"]
    processor.process(ObjectRef("trail", DAY + "b"), owner="b")
    (volume,) = [a for a in publisher.alerts if a.rule == "volume"]
    assert (volume.service, volume.event_id, volume.title) == ("q", "v4", f"3 Amazon Q calls on 2023-09-11: {ADMIN}")


def test_new_event_name_concerns_support_only():
    names = [support_record(event_id="n1", name="SendMessage"), support_record(event_id="n2", name="Converse")]
    events = as_service("q", names[:1]) + as_service("bedrock", names[1:])
    events += extract([support_record(event_id="n3", name="ListThings")]).events
    alerts = evaluate(ObjectRef("trail", DAY + "a"), events, {}, AlertSettings(), watched=ALL)
    (new,) = [a for a in alerts if a.rule == "new-event-name"]
    assert (new.event_name, new.service, new.claim_key) == ("ListThings", "support", "new-event-name#ever#ListThings")


def test_switching_more_services_on_later_raises_only_the_new_services_alerts():
    """A deployment that watched support alone, then support and q: support's windows claimed before stay
    claimed (their keys never changed), q's are new."""
    claims = MemoryClaims()
    first = processed(support_files(), claims)
    assert first and all(alert.service is None for alert in first)
    later = support_files()
    q_records = [
        support_record(event_id="q1"),
        support_record(event_id="q2", error="AccessDeniedException"),
        support_record(event_id="q3", arn=ROOT),
    ]
    q_events = as_service("q", q_records)
    publisher = CollectingPublisher()
    processor = Processor(
        fetch=lambda ref: gzip_document(later[ref.key.removeprefix(DAY)]),
        sink=Ledger(),
        alerting=Alerting(claims, publisher),
        alert_settings=SETTINGS,
        max_bytes=1 << 20,
        decode=lambda key, data, limits, hashed: Read(
            Extraction(extract(later[key.removeprefix(DAY)]).events + (q_events if key.endswith("a.json.gz") else []))
        ),
        services=BOTH,
    )
    for name in later:
        processor.process(ObjectRef("trail", DAY + name), owner="later-" + name)
    assert {alert.service for alert in publisher.alerts} == {"q"}
    assert rules_of(publisher.alerts) == [
        ("access-denied", "2023-09-11", "q", ADMIN),
        ("new-identity", "ever", "q", ROOT),
        ("new-identity", "ever", "q", ADMIN),
        ("not-allowlisted", "2023-09-11", "q", ROOT),
        ("not-allowlisted", "2023-09-11", "q", ADMIN),
        ("root-usage", "2023-09-11", "q", ROOT),
    ]


def q_alert(**fields) -> Alert:
    (alert,) = evaluate(
        ObjectRef("trail", DAY + "a"),
        as_service(fields.pop("service", "q"), [support_record(**fields)]),
        {},
        AlertSettings(rules=frozenset({"new-identity"})),
        watched=ALL,
    )
    return alert


def test_sns_message_of_a_service_alert():
    alert = q_alert(service="bedrock", arn="arn:aws:sts::111122223333:assumed-role/" + "R" * 80 + "/session")
    message = sns_message(alert, DIG_IN)
    assert len(message["Subject"]) < 100 and message["Subject"].startswith("New Amazon Bedrock user: ")
    assert {name: value["StringValue"] for name, value in message["MessageAttributes"].items()} == {
        "rule": "new-identity",
        "severity": "low",
        "accountId": "111122223333",
        "service": "bedrock",
    }
    bodies = json.loads(message["Message"])
    assert json.loads(bodies["default"])["service"] == "bedrock"
    assert "Service: Amazon Bedrock (bedrock)" in bodies["email"]
    assert "raised once ever for this identity and service" in bodies["email"]
    assert CANARY not in json.dumps(message)
    assert Alert.from_json(alert.to_json()) == alert


def test_day_alert_email_says_once_per_identity_and_service():
    (alert,) = evaluate(
        ObjectRef("trail", DAY + "a"),
        as_service("q", [support_record(arn=ROOT)]),
        {},
        AlertSettings(rules=frozenset({"root-usage"})),
        watched=BOTH,
    )
    assert "raised once per identity and service per UTC day, here 2023-09-11" in email_body(alert)


def test_findings_carry_the_service():
    q, support = q_alert(), q_alert(service="support")
    assert finding(q, "111122223333", "us-east-1", NOW)["ProductFields"] == {
        "supportwatch/rule": "new-identity",
        "supportwatch/window": "ever",
        "supportwatch/subject": f"q:{ADMIN}",
        "supportwatch/accountId": "111122223333",
        "supportwatch/service": "q",
    }
    assert finding_id(q) != finding_id(support)  # two alerts, two findings
    assert invalid(findings([q, support], NOW, "111122223333", "us-east-1")) == []
    assert json.loads(event_entry(q)["Detail"])["service"] == "q"
    chat = chat_notification(q)
    assert "*Service:* Amazon Q (q)" in chat["content"]["description"]
    assert chat["content"]["keywords"] == ["new-identity", "low", "111122223333", "q"]


def test_pseudonymous_service_alerts_name_the_pseudonym_and_the_service():
    privacy = Pseudonymizer(b"key")
    events = as_service("q", [support_record(error="AccessDenied")])
    alerts = evaluate(ObjectRef("trail", DAY + "a"), events, {}, AlertSettings(), privacy.event, watched=BOTH)
    pseudonym = privacy.identity(ADMIN, "IAMUser")
    assert [(a.rule, a.service, a.identity) for a in alerts] == [
        ("new-identity", "q", pseudonym),
        ("access-denied", "q", pseudonym),
    ]
    assert all(ADMIN not in json.dumps(a.to_json()) and a.subject == f"q:{pseudonym}" for a in alerts)


def test_migrating_to_pseudonyms_keeps_a_service_alerts_service_and_claim_per_service():
    """`migrate --pseudonymize-key` rewrites published alerts: a q alert stays q's, under q's claim of the
    pseudonym."""
    privacy = Pseudonymizer(b"key")
    alert = q_alert()
    sent = alert_as(privacy, alert.to_json())
    pseudonym = privacy.identity(ADMIN, "IAMUser")
    assert (sent["identity"], sent["service"], sent["title"]) == (pseudonym, "q", f"New Amazon Q user: {pseudonym}")
    item = {**items.claim_key(alert), "alert": {"S": json.dumps(alert.to_json())}, "title": {"S": alert.title}}
    assert items.rewritten_alert(item, sent)["pk"] == {"S": f"ALERT#new-identity#ever#q:{pseudonym}"}


def test_a_service_alert_reads_for_its_service_in_detail_advice_and_dig_in():
    """A known support user new to Q is 'seen calling Amazon Q for the first time' (not first seen by
    supportwatch), is refused 'an Amazon Q call', is checked against Q in the email's and chat's advice,
    and the email's query line asks for the calls per service (support alone: as before, the golden file)."""
    records = [support_record(event_id="d1", error="AccessDeniedException")]
    new, denied = evaluate(ObjectRef("trail", DAY + "a"), as_service("q", records), {}, AlertSettings(), watched=BOTH)
    assert new.detail == f"{ADMIN} (IAMUser) was seen calling Amazon Q for the first time at 2023-09-11T16:34:13Z."
    assert denied.detail == f"{ADMIN} was refused an Amazon Q call (AccessDeniedException) on 2023-09-11."
    assert "- Check that this person or role is expected to use Amazon Q.\n" in email_body(new)
    assert (
        chat_notification(new)["content"]["nextSteps"][0]
        == "Check that this person or role is expected to use Amazon Q."
    )
    assert "Support Recommendations" not in email_body(new) + json.dumps(chat_notification(new))
    table = type("Table", (), {"table_name": "T", "lookup_command": lambda self, identity: "aws ..."})()
    sns = type("Sns", (), {"meta": type("Meta", (), {"region_name": "eu-west-1"})()})()
    dig_in = SnsPublisher(sns, "arn:aws:sns:eu-west-1:111122223333:t", table).dig_in
    assert dig_in(new)[0] == f"supportwatch query --table T --region eu-west-1 --services q --identity {ADMIN}"
    support = dataclasses.replace(new, service="support")
    assert dig_in(support)[0] == f"supportwatch query --table T --region eu-west-1 --identity {ADMIN}"
