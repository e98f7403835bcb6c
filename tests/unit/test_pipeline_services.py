"""The per-service metrics (contract section 12): an object's events per service and its alerts' services
reach the handler's metrics only when more than `support` is watched."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from supportwatch import handler
from supportwatch.aggregate import Ledger
from supportwatch.alerting import Alerting, CollectingPublisher, MemoryClaims
from supportwatch.config import AlertSettings
from supportwatch.models import ObjectRef, SupportEvent
from supportwatch.pipeline import ObjectReport, Processor, per_service
from tests.helpers import CANARY, bedrock_record, q_record, support_record
from tests.unit.test_pipeline import BUCKET, CAP, KEY, document, fetcher

EVERY = ("support", "q", "bedrock")


def event_of(service: str, number: int = 0) -> SupportEvent:
    return SupportEvent(
        event_id=f"{service}-{number}",
        event_name="SendMessage",
        event_time="2023-09-11T10:00:00Z",
        instant=1_694_426_400_000_000,
        day="2023-09-11",
        identity="arn:aws:iam::111122223333:user/alice",
        identity_type="IAMUser",
        principal="arn:aws:iam::111122223333:user/alice",
        account_id="111122223333",
        source_ip=None,
        region="us-east-1",
        error_code=None,
        service=service,
    )


def emf_documents(capsys) -> list[dict]:
    return [document for line in capsys.readouterr().out.splitlines() if "_aws" in (document := json.loads(line))]


def test_events_per_service_only_when_more_than_support_is_watched():
    events = [event_of("q", 1), event_of("bedrock", 1), event_of("q", 2)]
    assert per_service(events, EVERY) == (("bedrock", 1), ("q", 2))
    assert per_service(events, ("q",)) == (("bedrock", 1), ("q", 2))
    assert per_service([event_of("support")], ("support", "bedrock")) == (("support", 1),)
    assert per_service([event_of("support")], ("support",)) == ()
    assert per_service([], EVERY) == ()


@pytest.mark.parametrize(
    ("watched", "events", "expected"),
    [(EVERY, 4, (("bedrock", 2), ("q", 1), ("support", 1))), (("support",), 1, ())],
)
def test_a_processed_object_reports_its_events_per_service(watched, events, expected):
    body = document(
        support_record(event_id="s"),
        q_record(event_id="q"),
        bedrock_record(event_id="b1"),
        bedrock_record(event_id="b2", model_id=None),
        bedrock_record(event_id="b3", name="ListFoundationModels"),  # control plane: never counted
    )
    alerting = Alerting(MemoryClaims(), CollectingPublisher())
    processor = Processor(fetcher({KEY: body}), Ledger(), alerting, AlertSettings(rules=frozenset()), CAP)
    report = replace(processor, services=watched).process(ObjectRef(BUCKET, KEY), owner="test")
    assert report.service_events == expected
    assert report.support_events == events
    assert "serviceEvents" not in report.fields() and CANARY not in json.dumps(report.fields())


def test_one_document_per_service_with_its_events_and_alerts(capsys):
    capsys.readouterr()
    report = ObjectReport(
        ObjectRef("b", "k"),
        "counted",
        support_events=3,
        alerts=2,
        alert_rules=("new-identity", "new-identity"),
        service_events=(("bedrock", 1), ("q", 2)),
        alert_services=("q", "support"),
    )
    handler.log_service_metrics(report)
    found = {
        document["watched"]: {metric["Name"]: document[metric["Name"]] for metric in directive["Metrics"]}
        for document in emf_documents(capsys)
        for directive in document["_aws"]["CloudWatchMetrics"]
    }
    assert found == {
        "bedrock": {"ServiceEvents": [1.0]},
        "q": {"ServiceEvents": [2.0], "ServiceAlerts": [1.0]},
        "support": {"ServiceAlerts": [1.0]},
    }


def test_support_alone_emits_no_per_service_metric(capsys):
    capsys.readouterr()
    handler.log_service_metrics(ObjectReport(ObjectRef("b", "k"), "counted", support_events=4, alerts=1))
    assert emf_documents(capsys) == []
