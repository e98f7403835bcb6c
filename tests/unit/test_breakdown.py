"""A period by service and by Bedrock model (pure): hand-derived figures over day summaries built here."""

from __future__ import annotations

from datetime import date, datetime

from supportwatch.models import Summary
from supportwatch.report.breakdown import (
    Mix,
    ModelUse,
    ServiceUse,
    calls_by_service,
    model_users,
    multi_service,
    service_use,
    services_of,
    top_models,
)
from supportwatch.report.insights import Period

EVERY = ("support", "q", "bedrock")
CLAUDE, TITAN, LLAMA = "anthropic.claude-3-5-sonnet-20240620-v1:0", "amazon.titan-text-express-v1", "meta.llama3"


def day_summary(identity: str, day: str, services: dict[str, int], models: dict[str, int] | None = None) -> Summary:
    """A day summary as the table holds it; `services` empty: an item written before services were counted
    (5 support calls)."""
    instant = int(datetime.fromisoformat(f"{day}T10:00:00+00:00").timestamp() * 1_000_000)
    total = sum(services.values()) or 5
    return Summary(
        identity=identity,
        day=day,
        identity_type="IAMUser",
        principal=identity,
        first_seen=f"{day}T10:00:00Z",
        first_instant=instant,
        first_event_id=f"{identity}-{day}",
        last_seen=f"{day}T10:00:00Z",
        last_instant=instant,
        total_calls=total,
        calls={"StartSupportTroubleshooting": total},
        services=dict(services),
        models=dict(models or {}),
    )


DAYS = [
    day_summary("alice", "2023-09-11", {"support": 2, "q": 3}),
    day_summary("alice", "2023-09-12", {"bedrock": 4}, {CLAUDE: 3, TITAN: 1}),
    day_summary("bob", "2023-09-11", {"bedrock": 2}, {CLAUDE: 2}),
    day_summary("carol", "2023-09-12", {}),  # written before: support only
    day_summary("dave", "2023-09-20", {"bedrock": 9}, {LLAMA: 9}),  # after the period
]
PERIOD = Period.of(date(2023, 9, 10), date(2023, 9, 14), DAYS, [])


def test_an_item_without_service_counters_holds_support_calls():
    assert services_of(DAYS[3]) == {"support": 5}
    assert services_of(DAYS[0]) == {"support": 2, "q": 3}


def test_per_service_calls_identities_and_days():
    assert service_use(PERIOD, EVERY) == [
        ServiceUse("support", 7, 2, 2),
        ServiceUse("q", 3, 1, 1),
        ServiceUse("bedrock", 6, 2, 2),
    ]
    assert [row.to_json() for row in service_use(PERIOD, EVERY)][1] == {
        "service": "q",
        "label": "Amazon Q",
        "calls": 3,
        "activeIdentities": 1,
        "activeDays": 1,
    }


def test_a_quiet_watched_service_has_its_row_and_an_unwatched_one_held_by_the_table_too():
    only_support = Period.of(date(2023, 9, 10), date(2023, 9, 14), [DAYS[3]], [])
    assert service_use(only_support, ("support", "bedrock")) == [
        ServiceUse("support", 5, 1, 1),
        ServiceUse("bedrock", 0, 0, 0),
    ]
    assert [row.service for row in service_use(PERIOD, ("q",))] == ["support", "q", "bedrock"]


def test_calls_per_day_by_service_in_the_catalogue_order():
    assert calls_by_service(PERIOD, "day") == {
        "support": [0, 2, 5, 0, 0],
        "q": [0, 3, 0, 0, 0],
        "bedrock": [0, 2, 4, 0, 0],
    }
    weekly = calls_by_service(PERIOD, "week")  # 2023-09-10 is a Sunday: the weeks of 09-04 and 09-11
    assert list(weekly.items()) == [("support", [0, 7]), ("q", [0, 3]), ("bedrock", [0, 6])]


def test_top_models_and_who_uses_which():
    assert top_models(PERIOD) == [ModelUse(CLAUDE, 5, 2), ModelUse(TITAN, 1, 1)]
    assert top_models(PERIOD, 1) == [ModelUse(CLAUDE, 5, 2)]
    assert model_users(PERIOD) == [Mix("alice", {CLAUDE: 3, TITAN: 1}), Mix("bob", {CLAUDE: 2})]


def test_identities_using_more_than_one_service():
    assert multi_service(PERIOD) == [Mix("alice", {"bedrock": 4, "q": 3, "support": 2})]
    assert multi_service(Period.of(date(2023, 9, 10), date(2023, 9, 14), DAYS[2:4], [])) == []


def test_the_period_summaries_do_not_share_the_days_counters():
    period = Period.of(date(2023, 9, 10), date(2023, 9, 14), DAYS[:2], [])
    (alice,) = period.summaries()
    alice.services["q"] += 100
    alice.models[LLAMA] = 100
    assert DAYS[0].services == {"support": 2, "q": 3} and DAYS[0].models == {}


def test_nothing_of_a_period_without_calls():
    empty = Period.of(date(2023, 9, 10), date(2023, 9, 14), [], [])
    assert service_use(empty, EVERY) == [ServiceUse(name, 0, 0, 0) for name in EVERY]
    assert calls_by_service(empty, "day") == {}
    assert top_models(empty) == model_users(empty) == multi_service(empty) == []
