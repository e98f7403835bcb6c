"""Every watched service in the table (contract section 12), through the DynamoDB store on moto: the
same summaries as the offline Ledger (services and models included), each service's calls per day for
the volume rule, events counted once, items of a support-only table as they always were, older items
read as support's, and retention, erasure and the pseudonym migration covering the new items.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportwatch.aggregate import Ledger
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.cli.summary_csv import CSV_FIELDS
from supportwatch.export import export_document
from supportwatch.privacy import Pseudonymizer
from tests.unit.test_aggregate import ADMIN, ev
from tests.unit.test_service_summaries import EVENTS, EVERY, of

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
DAYS = ("2023-09-11", "2023-09-12")
# The attributes a support-only table's summary and day items held before services existed.
SUPPORT_ATTRIBUTES = {
    "pk", "sk", "identity", "identityType", "principal", "rollup", "listed", "day", "periodKey", "periodSort",
    "firstInstant", "firstEventId", "firstSeen", "lastInstant", "lastSeen", "totalCalls", "errorCalls",
    "call:StartSupportTroubleshooting", "call:GetSupportTroubleshootingResponse", "error:AccessDeniedException",
}  # fmt: skip
MEMBER_ATTRIBUTES = {"pk", "sk", "member", "scope", "set"}


@pytest.fixture
def table(empty_table: str) -> str:
    return empty_table


def store(table: str, retention: int = 0, now: int = 1694500000) -> SummaryStore:
    return SummaryStore(boto3.client("dynamodb"), table, clock=lambda: now, sleep=lambda _: None,
                        retention_days=retention)  # fmt: skip


def scan(table: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


def every_day_key(services: tuple[str, ...] = EVERY) -> set[tuple[str, str, str]]:
    return {(ADMIN, day, service) for day in DAYS for service in services}


def test_the_store_holds_what_the_ledger_holds_services_and_models_included(table):
    ledger = Ledger()
    for source, events in (("a.json", EVENTS[:3]), ("b.json", EVENTS[2:])):
        ledger.commit(source, events)
        store(table).commit(source, events)
    reader = store(table)
    assert reader.identities() == ledger.identities()
    summary, days = reader.history(ADMIN)
    assert [summary, *days] == [ledger.summaries[(ADMIN, day)] for day in (None, *DAYS)]
    exported = export_document(reader.identities(), (), EVERY)["summaries"][ADMIN]
    assert exported["services"] == {"bedrock": 3, "q": 1, "support": 1}
    assert exported["models"] == {HAIKU: 2, "unknown": 1}
    assert exported["calls"] == {"StartSupportTroubleshooting": 1, "bedrock:Converse": 2, "bedrock:InvokeModel": 1,
                                 "q:SendMessage": 1}  # fmt: skip
    assert reader.between(*DAYS) == [ledger.summaries[(ADMIN, day)] for day in DAYS]


def test_day_calls_are_per_service_and_equal_the_ledgers(table):
    ledger = Ledger()
    ledger.commit("a.json", EVENTS)
    store(table).commit("a.json", EVENTS)
    found = store(table).day_calls(every_day_key())
    assert found == ledger.day_calls(every_day_key())
    assert {key: calls for key, calls in found.items() if calls} == {
        (ADMIN, "2023-09-11", "support"): 1,
        (ADMIN, "2023-09-11", "q"): 1,
        (ADMIN, "2023-09-12", "bedrock"): 3,
    }
    assert store(table).day_calls({(ADMIN, "2023-09-13", "q")}) == {}  # no item that day


def test_an_event_is_counted_once_whatever_file_brings_it_again(table):
    first = store(table).commit("a.json", EVENTS)
    again = store(table).commit("a.json", EVENTS)  # the same content again
    other = store(table).commit("b.json", [*EVENTS[1:], of("q", ev("6", "2023-09-12T15:00:00Z", name="SendMessage"))])
    assert (first.counted, again.counted, other.counted, other.duplicates) == (5, 0, 1, 4)
    exported = export_document(store(table).identities(), (), EVERY)["summaries"][ADMIN]
    assert (exported["totalCalls"], exported["services"]) == (6, {"bedrock": 3, "q": 2, "support": 1})
    assert exported["models"] == {HAIKU: 2, "unknown": 1}
    assert store(table).day_calls({(ADMIN, "2023-09-12", "q")}) == {(ADMIN, "2023-09-12", "q"): 1}


def test_a_support_only_table_holds_exactly_the_items_it_always_held(table):
    events = [ev("1", "2023-09-11T10:00:00Z", error="AccessDeniedException"),
              ev("2", "2023-09-12T10:00:00Z", name="GetSupportTroubleshootingResponse")]  # fmt: skip
    store(table).commit("a.json", events)
    found = [item for item in scan(table) if item["pk"]["S"].startswith("IDENTITY#")]
    summaries = [item for item in found if not item["sk"]["S"].startswith("SET#")]
    members = [item for item in found if item["sk"]["S"].startswith("SET#")]
    assert len(summaries) == 3 and {name for item in summaries for name in item} == SUPPORT_ATTRIBUTES
    assert {name for item in members for name in item} == MEMBER_ATTRIBUTES
    assert {item["set"]["S"] for item in members} == {"accountIds", "sourceIps", "regions"}
    keys = {(ADMIN, day, "support") for day in DAYS}
    assert store(table).day_calls(keys) == {(ADMIN, "2023-09-11", "support"): 1, (ADMIN, "2023-09-12", "support"): 1}


def test_a_table_written_with_support_alone_goes_on_counting_when_more_is_watched(table):
    store(table).commit("old.json", [ev("old1", "2023-09-11T09:00:00Z"), ev("old2", "2023-09-11T09:30:00Z")])
    store(table).commit("new.json", EVENTS)  # EVENTS' support call is another event, on the same day
    assert store(table).day_calls(every_day_key()) == {
        (ADMIN, "2023-09-11", "support"): 3, (ADMIN, "2023-09-11", "q"): 1, (ADMIN, "2023-09-11", "bedrock"): 0,
        (ADMIN, "2023-09-12", "support"): 0, (ADMIN, "2023-09-12", "q"): 0, (ADMIN, "2023-09-12", "bedrock"): 3,
    }  # fmt: skip
    exported = export_document(store(table).identities(), (), EVERY)["summaries"][ADMIN]
    assert (exported["totalCalls"], exported["services"]) == (7, {"bedrock": 3, "q": 1, "support": 3})


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def test_model_counters_expire_with_their_summary_and_start_afresh_after_it(table):
    day_one = of("bedrock", ev("7", "2023-09-11T12:00:00Z", name="Converse"), HAIKU)
    store(table, retention=30).commit("a.json", [*EVENTS, day_one])
    models = {item["sk"]["S"]: item for item in scan(table) if item.get("set", {}).get("S") == "models"}
    day_two_ends = epoch("2023-10-13T00:00:00+00:00")  # the end of 2023-09-12, the last day, plus 30 days
    assert {sk: int(item["expiresAt"]["N"]) for sk, item in models.items()} == {
        f"SET#2023-09-11#models#{HAIKU}": epoch("2023-10-12T00:00:00+00:00"),
        f"SET#2023-09-12#models#{HAIKU}": day_two_ends, "SET#2023-09-12#models#unknown": day_two_ends,
        f"SET#SUMMARY#models#{HAIKU}": day_two_ends, "SET#SUMMARY#models#unknown": day_two_ends,
    }  # fmt: skip
    later = store(table, retention=30, now=epoch("2023-11-01T00:00:00+00:00"))
    assert later.identities() == []  # expired, still stored (TTL deletes late)
    later.commit("b.json", [of("bedrock", ev("8", "2023-10-31T12:00:00Z", name="Converse"), HAIKU)])
    (summary,) = later.identities()
    assert (summary.models, summary.services, summary.total_calls) == ({HAIKU: 1}, {"bedrock": 1}, 1)


def test_forget_deletes_the_model_counters_with_the_other_members(table):
    store(table).commit("a.json", EVENTS)
    members = [item for item in scan(table) if item["sk"]["S"].startswith("SET#")]
    assert len([item for item in members if item["set"]["S"] == "models"]) == 4
    assert store(table).forget([ADMIN])["set members"] == len(members)
    assert [item for item in scan(table) if item["pk"]["S"].startswith("IDENTITY#")] == []


def test_the_pseudonym_migration_moves_the_service_and_model_counters(table):
    store(table).commit("a.json", EVENTS)
    before = export_document(store(table).identities(), (), EVERY)["summaries"][ADMIN]
    privacy = Pseudonymizer(b"service-ledger-key")
    written = privacy.identity(ADMIN, "IAMUser")
    assert store(table).rewrite_identity(ADMIN, written, privacy.source_ip)
    after = export_document(store(table).identities(), (), EVERY)["summaries"]
    assert list(after) == [written]
    assert {k: v for k, v in after[written].items() if k not in ("principal", "sourceIps")} == {
        k: v for k, v in before.items() if k not in ("principal", "sourceIps")
    }
    assert ADMIN not in json.dumps(scan(table))
    key = {(written, day, service) for day in DAYS for service in EVERY}
    assert sum(store(table).day_calls(key).values()) == 5


def query(capsys, table: str, *args: str) -> str:
    assert main(["query", "--table", table, *args]) == 0
    return capsys.readouterr().out


def test_query_json_and_csv_carry_services_and_models_only_when_more_is_watched(table, capsys):
    store(table).commit("a.json", EVENTS)
    plain = json.loads(query(capsys, table, "--format", "json"))["summaries"][ADMIN]
    assert "services" not in plain and "models" not in plain
    extended = json.loads(query(capsys, table, "--format", "json", "--services", "support,q,bedrock"))
    assert extended["summaries"][ADMIN] == plain | {
        "services": {"bedrock": 3, "q": 1, "support": 1}, "models": {HAIKU: 2, "unknown": 1},
    }  # fmt: skip
    history = json.loads(query(capsys, table, "--identity", ADMIN, "--format", "json", "--services", "q"))
    assert [day.get("services") for day in history["days"]] == [{"q": 1, "support": 1}, {"bedrock": 3}]
    assert [day.get("models") for day in history["days"]] == [None, {HAIKU: 2, "unknown": 1}]
    period = json.loads(query(capsys, table, "--since", DAYS[0], "--until", DAYS[1], "--format", "json"))
    assert not [day for day in period["days"] if "services" in day]
    rows = list(csv.DictReader(io.StringIO(query(capsys, table, "--format", "csv", "--services", "bedrock"))))
    assert (rows[0]["services"], rows[0]["models"]) == ("bedrock=3;q=1;support=1", f"{HAIKU}=2;unknown=1")
    header = query(capsys, table, "--format", "csv").splitlines()[0]
    assert header == ",".join(CSV_FIELDS)


@st.composite
def mixed_deliveries(draw):
    """Events of every service from two identities and two models (the same eventID is the same event),
    files holding them, some delivered twice, in some order; names unique to the example, so that the
    examples share one table."""
    run = uuid.uuid4().hex
    pool = []
    for n in range(draw(st.integers(1, 20))):
        service = draw(st.sampled_from(EVERY))
        event = ev(f"{run}-{n}", f"2023-09-1{draw(st.integers(1, 2))}T10:00:0{n % 10}Z",
                   identity=f"{ADMIN}-{run}-{draw(st.integers(0, 1))}", name="Converse")  # fmt: skip
        pool.append(of(service, event, draw(st.sampled_from([HAIKU, "unknown"])) if service == "bedrock" else None))
    files = [draw(st.lists(st.sampled_from(pool), min_size=1, max_size=10)) for _ in range(draw(st.integers(2, 4)))]
    order = draw(st.permutations(range(len(files)))) + draw(st.lists(st.integers(0, len(files) - 1), max_size=3))
    return run, files, order


@pytest.mark.usefixtures("light_transactions")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mixed_deliveries())
def test_every_service_is_counted_once_whatever_the_files_and_deliveries(table, case):
    run, files, order = case
    events = {event.event_id: event for found in files for event in found}.values()  # each counted once
    services = Counter((e.identity, e.service) for e in events)
    models = Counter((e.identity, e.model_id) for e in events if e.model_id)
    days = Counter((e.identity, e.day, e.service) for e in events)
    for index in order:
        store(table).commit(f"{run}/f{index}.json", files[index])
    found = [summary for summary in store(table).identities() if run in summary.identity]
    assert {(s.identity, service): n for s in found for service, n in s.services.items()} == services
    assert {(s.identity, model): n for s in found for model, n in s.models.items()} == models
    assert store(table).day_calls(days) == days
