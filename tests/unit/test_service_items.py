"""The table's layout for every watched service (pure): `service:` counters on summary and day items,
a counter item per Bedrock model, support-only items exactly as they were, older items read as support's."""

from __future__ import annotations

import random

from supportwatch.aggregate import summarize
from supportwatch.ledger import items
from supportwatch.ledger.commits import MAX_TRANSACTION_ITEMS, chunks
from supportwatch.models import Summary
from tests.unit.test_aggregate import ADMIN, ev
from tests.unit.test_service_summaries import EVENTS, of

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def names(request: dict) -> list[str]:
    return list(request["ExpressionAttributeNames"].values())


def test_a_support_only_delta_writes_exactly_the_attributes_it_always_wrote():
    events = [ev("1", "2023-09-11T10:00:00Z", error="AccessDeniedException"), ev("2", "2023-09-11T11:00:00Z")]
    deltas = summarize(events)
    day = items.count_update(deltas[(ADMIN, "2023-09-11")])
    assert names(day) == [
        "totalCalls", "errorCalls", "call:StartSupportTroubleshooting", "error:AccessDeniedException", "identity",
        "day", "periodKey", "periodSort", "firstInstant", "firstEventId", "firstSeen", "identityType", "principal",
        "lastInstant", "lastSeen",
    ]  # fmt: skip
    assert day["UpdateExpression"].startswith("ADD #n0 :v0, #n1 :v1, #n2 :v2, #n3 :v3 SET #n4 = :v4, ")
    assert all(not items.model_updates(delta, 30) for delta in deltas.values())


def test_other_services_add_their_counters_and_support_keeps_none():
    deltas = summarize(EVENTS)
    first_day = names(items.count_update(deltas[(ADMIN, "2023-09-11")]))
    assert "service:q" in first_day and not [name for name in first_day if name.startswith("service:support")]
    whole = items.count_update(deltas[(ADMIN, None)])
    added = dict(zip(names(whole), whole["ExpressionAttributeValues"].values(), strict=True))
    assert (added["service:q"], added["service:bedrock"], added["totalCalls"]) == ({"N": "1"}, {"N": "3"}, {"N": "5"})
    assert not [name for name in names(whole) if name.startswith("model:")]


def summary_item(**counters: int) -> dict:
    item = {"pk": {"S": "IDENTITY#u"}, "sk": {"S": "DAY#2023-09-11"}, "identity": {"S": "u"}}
    return item | {name: {"N": str(count)} for name, count in counters.items()}


def test_support_is_what_no_service_counter_holds():
    assert items.summary_from_item(summary_item(totalCalls=4)).services == {"support": 4}  # before services existed
    mixed = summary_item(totalCalls=7, **{"service:q": 2, "service:bedrock": 1})  # support-only days, then more
    assert items.summary_from_item(mixed).services == {"support": 4, "q": 2, "bedrock": 1}
    assert items.summary_from_item(summary_item(totalCalls=2, **{"service:q": 2})).services == {"q": 2}
    assert [items.calls_of(mixed, service) for service in ("support", "q", "bedrock")] == [4, 2, 1]
    assert items.calls_of(summary_item(totalCalls=3), "q") == 0


def test_day_calls_reads_the_total_and_every_service_counter():
    request = items.day_calls_request("u", "2023-09-11")
    assert request["ProjectionExpression"] == "totalCalls, #s0, #s1"
    assert sorted(request["ExpressionAttributeNames"].values()) == ["service:bedrock", "service:q"]


def test_model_counters_are_member_items_of_their_summary_and_read_back():
    deltas = summarize(EVENTS)
    updates = [update for delta in deltas.values() for update in items.model_updates(delta)]
    assert sorted(update["Key"]["sk"]["S"] for update in updates) == [
        f"SET#2023-09-12#models#{HAIKU}", "SET#2023-09-12#models#unknown",
        f"SET#SUMMARY#models#{HAIKU}", "SET#SUMMARY#models#unknown",
    ]  # fmt: skip
    query = items.members_query(ADMIN, ["2023-09-12", None])["ExpressionAttributeValues"]
    assert all(query[":low"]["S"] <= update["Key"]["sk"]["S"] <= query[":high"]["S"] for update in updates)
    written = [stored(update) for update in updates]
    empty = [Summary(ADMIN, day, "IAMUser", ADMIN, "", 0, "", "", 0) for day in (None, "2023-09-12")]
    found = items.with_members(empty, written)
    assert [summary.models for summary in found] == [{HAIKU: 2, "unknown": 1}] * 2


def stored(update: dict) -> dict:
    """The item a model counter's update writes into an empty table."""
    values = dict(zip(names(update), update["ExpressionAttributeValues"].values(), strict=True))
    return update["Key"] | values


def test_a_long_model_id_keeps_its_sort_key_within_1024_bytes():
    model = "arn:aws:bedrock:us-east-1:111122223333:inference-profile/" + "x" * 2000
    (delta,) = [d for d in summarize([of("bedrock", ev("1"), model)]).values() if d.day is None]
    (update,) = items.model_updates(delta)
    assert len(update["Key"]["sk"]["S"].encode()) <= 1024
    (summary,) = items.with_members([Summary(ADMIN, None, "IAMUser", ADMIN, "", 0, "", "", 0)], [stored(update)])
    assert summary.models == {model: 1}


def test_transactions_with_model_counters_hold_at_most_100_actions():
    rng = random.Random(11)
    events = [
        of("bedrock", ev(f"{n:05d}", f"2023-09-1{rng.randrange(3)}T10:00:00Z", ip=f"2001:db8::{n:x}"), f"model-{n}")
        for n in range(600)
    ]
    found = list(chunks(events))
    assert sorted(e.event_id for chunk in found for e in chunk) == sorted(e.event_id for e in events)
    for chunk in found:
        deltas = summarize(chunk).values()
        written = [items.member_puts(delta) + items.model_updates(delta) for delta in deltas]
        assert len(chunk) + len(deltas) + sum(map(len, written)) <= MAX_TRANSACTION_ITEMS
    assert min(len(chunk) for chunk in found[:-1]) >= 9  # 11 items an event at most
