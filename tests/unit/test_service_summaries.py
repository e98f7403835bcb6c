"""Summaries and exports of every watched service (contract section 12): `calls` keyed by service, the
`services` and `models` counters, and the export that shows them only when more than `support` is watched."""

from __future__ import annotations

import csv
import io
from datetime import date

import msgspec

from supportwatch.aggregate import Ledger, summarize
from supportwatch.cli.summary_csv import CSV_FIELDS, write_csv
from supportwatch.export import export_document
from supportwatch.models import SupportEvent
from supportwatch.privacy import Pseudonymizer
from supportwatch.report.insights import Period
from tests.unit.test_aggregate import ADMIN, ev

EVERY = ("support", "q", "bedrock")


def of(service: str, event: SupportEvent, model: str | None = None) -> SupportEvent:
    return msgspec.structs.replace(event, service=service, model_id=model)


EVENTS = [
    ev("1", "2023-09-11T10:00:00Z"),
    of("q", ev("2", "2023-09-11T11:00:00Z", name="SendMessage")),
    of("bedrock", ev("3", "2023-09-12T12:00:00Z", name="Converse"), "anthropic.claude-3-haiku-20240307-v1:0"),
    of("bedrock", ev("4", "2023-09-12T13:00:00Z", name="InvokeModel", error="ThrottlingException"), "unknown"),
    of("bedrock", ev("5", "2023-09-12T14:00:00Z", name="Converse"), "anthropic.claude-3-haiku-20240307-v1:0"),
]


def test_calls_are_keyed_by_service_and_each_summary_counts_its_services_and_models() -> None:
    summaries = summarize(EVENTS)
    whole = summaries[(ADMIN, None)]
    assert whole.calls == {"StartSupportTroubleshooting": 1, "q:SendMessage": 1, "bedrock:Converse": 2,
                           "bedrock:InvokeModel": 1}  # fmt: skip
    assert whole.services == {"support": 1, "q": 1, "bedrock": 3}
    assert whole.models == {"anthropic.claude-3-haiku-20240307-v1:0": 2, "unknown": 1}
    assert whole.total_calls == 5 and whole.errors == {"ThrottlingException": 1}
    first_day, second_day = summaries[(ADMIN, "2023-09-11")], summaries[(ADMIN, "2023-09-12")]
    assert (first_day.services, first_day.models) == ({"support": 1, "q": 1}, {})
    assert second_day.services == {"bedrock": 3}


def test_the_export_shows_services_and_models_only_when_asked() -> None:
    ledger = Ledger()
    ledger.commit("a.json", EVENTS)
    plain = export_document(ledger.identities())["summaries"][ADMIN]
    assert "services" not in plain and "models" not in plain
    extended = export_document(ledger.identities(), (), EVERY)["summaries"][ADMIN]
    assert extended == plain | {
        "services": {"bedrock": 3, "q": 1, "support": 1},
        "models": {"anthropic.claude-3-haiku-20240307-v1:0": 2, "unknown": 1},
    }
    assert list(extended)[-2:] == ["services", "models"] and list(extended["services"]) == ["bedrock", "q", "support"]


def test_models_are_left_out_of_a_summary_that_never_used_bedrock() -> None:
    ledger = Ledger()
    ledger.commit("a.json", EVENTS[:2])
    exported = export_document(ledger.identities(), (), ("support", "q"))["summaries"][ADMIN]
    assert exported["services"] == {"q": 1, "support": 1} and "models" not in exported


def test_support_only_export_and_csv_are_as_before(capsys) -> None:
    ledger = Ledger()
    ledger.commit("a.json", [ev("1"), ev("2", name="GetSupportTroubleshootingResponse")])
    assert export_document(ledger.identities()) == export_document(ledger.identities(), (), ("support",))
    assert list(export_document(ledger.identities())["summaries"][ADMIN]) == [
        "identityType", "principal", "accountIds", "totalCalls", "calls", "errorCalls", "errors", "firstSeen",
        "lastSeen", "sourceIps", "regions",
    ]  # fmt: skip
    write_csv(ledger.identities(), ("support",))
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows[1]) == len(CSV_FIELDS)


def test_csv_has_services_and_models_columns_when_more_is_watched(capsys) -> None:
    ledger = Ledger()
    ledger.commit("a.json", EVENTS)
    write_csv(ledger.identities(), EVERY)
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["services"] == "bedrock=3;q=1;support=1"
    assert rows[0]["models"] == "anthropic.claude-3-haiku-20240307-v1:0=2;unknown=1"
    assert rows[0]["calls"] == "StartSupportTroubleshooting=1;bedrock:Converse=2;bedrock:InvokeModel=1;q:SendMessage=1"


def test_pseudonymized_and_period_summaries_keep_their_own_service_counters() -> None:
    summaries = summarize(EVENTS)
    whole = summaries[(ADMIN, None)]
    shown = Pseudonymizer(b"key").summary(whole)
    assert (shown.services, shown.models) == (whole.services, whole.models)
    assert shown.services is not whole.services and shown.models is not whole.models
    days = [summaries[(ADMIN, "2023-09-11")], summaries[(ADMIN, "2023-09-12")]]
    period = Period.of(date(2023, 9, 11), date(2023, 9, 12), days, [whole])
    merged = [(s.services, s.models) for s in period.summaries()]
    assert merged == [(whole.services, whole.models)] == [(s.services, s.models) for s in period.summaries()]
    assert days[0].services == {"support": 1, "q": 1}  # the days themselves unchanged
