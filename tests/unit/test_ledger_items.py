"""The set-member layout (pure): transactions within DynamoDB's 100 actions, one key range per read,
legacy sets still read."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from supportwatch.aggregate import summarize
from supportwatch.ledger import items
from supportwatch.ledger.commits import MAX_TRANSACTION_ITEMS, chunks
from supportwatch.models import Alert, Summary, SupportEvent

LOGS = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/10"
DIGESTS = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/09/09"


def event(
    number: int, identity: str, day: str, ip: str | None, account: str | None, region: str | None
) -> SupportEvent:
    return SupportEvent(
        event_id=f"e{number:06d}",
        event_name="StartSupportTroubleshooting",
        event_time=f"{day}T00:00:00Z",
        instant=number,
        day=day,
        identity=identity,
        identity_type="IAMUser",
        principal=identity,
        account_id=account,
        source_ip=ip,
        region=region,
        error_code=None,
    )


def actions(chunk: list[SupportEvent]) -> int:
    """What the store's transaction for `chunk` holds: a marker per event, an update per summary, a put per member."""
    deltas = summarize(chunk).values()
    return len(chunk) + len(deltas) + sum(len(items.member_puts(delta)) for delta in deltas)


def test_every_transaction_holds_at_most_100_actions_and_each_event_once():
    rng = random.Random(7)
    events = [
        event(
            n,
            f"user{rng.randrange(3)}",
            f"2023-09-{10 + rng.randrange(3)}",
            f"2001:db8::{n:x}" if rng.random() < 0.9 else None,
            f"{rng.randrange(10**12):012d}",
            rng.choice(["us-east-1", "eu-west-1", None]),
        )
        for n in range(3000)
    ]
    found = list(chunks(events))
    assert sorted(e.event_id for chunk in found for e in chunk) == sorted(e.event_id for e in events)
    assert max(actions(chunk) for chunk in found) <= MAX_TRANSACTION_ITEMS
    assert min(len(chunk) for chunk in found[:-1]) >= 11  # 9 items an event at most


def test_members_of_a_summary_and_its_days_are_one_key_range():
    puts = [
        put["sk"]["S"]
        for delta in summarize(
            [event(1, "u", "2023-09-10", "1.1.1.1", "1", "r"), event(2, "u", "2023-09-12", "2.2.2.2", "1", "r")]
        ).values()
        for put in items.member_puts(delta)
    ]
    request = items.members_query("u", ["2023-09-10", None])
    values = request["ExpressionAttributeValues"]
    low, high = values[":low"]["S"], values[":high"]["S"]
    assert all(low <= sk <= high for sk in puts) and len(puts) == 10
    only_days = items.members_query("u", ["2023-09-12", "2023-09-10"])["ExpressionAttributeValues"]
    assert [sk for sk in puts if only_days[":low"]["S"] <= sk <= only_days[":high"]["S"]] == [
        sk for sk in puts if not sk.startswith("SET#SUMMARY#")
    ]


def test_a_long_value_keeps_its_sort_key_within_1024_bytes_and_reads_back_whole():
    long_ip = "x" * 3000
    (delta,) = [d for d in summarize([event(1, "u", "2023-09-10", long_ip, None, None)]).values() if d.day is None]
    (put,) = items.member_puts(delta)
    assert len(put["sk"]["S"].encode()) <= 1024
    (summary,) = items.with_members([Summary("u", None, "IAMUser", "u", "", 0, "", "", 0)], [put])
    assert summary.source_ips == {long_ip}


def test_legacy_sets_are_merged_with_members():
    legacy = {
        "pk": {"S": "IDENTITY#u"},
        "sk": {"S": "SUMMARY"},
        "identity": {"S": "u"},
        "sourceIps": {"SS": ["1.1.1.1"]},
        "regions": {"SS": ["us-east-1"]},
    }
    member = {"scope": {"S": "SUMMARY"}, "set": {"S": "sourceIps"}, "member": {"S": "2.2.2.2"}}
    day_member = {"scope": {"S": "2023-09-10"}, "set": {"S": "sourceIps"}, "member": {"S": "3.3.3.3"}}
    (summary,) = items.with_members([items.summary_from_item(legacy)], [member, day_member])
    assert summary.source_ips == {"1.1.1.1", "2.2.2.2"} and summary.regions == {"us-east-1"}


@pytest.mark.parametrize(
    ("window", "event_time", "key", "day"),
    [
        ("2023-09-11", None, None, "2023-09-11"),
        ("ever", "2023-09-12T01:00:00+05:00", None, "2023-09-11"),  # the event's UTC day
        ("object", None, f"{LOGS}/111122223333_CloudTrail_us-east-1_20230910T2355Z_a.json.gz", "2023-09-10"),
        ("object", None, f"{DIGESTS}/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230909T000000Z.json.gz",
         "2023-09-09"),
        ("object", None, f"{LOGS}/garbage.json.gz", "2023-09-08"),  # no time in its name: the day it was published
        ("object", None, "local/file.json", "2023-09-08"),
    ],
)  # fmt: skip
def test_every_published_alert_is_filed_under_a_day(window, event_time, key, day):
    alert = Alert(rule="r", severity="high", window=window, title="t", detail="d", event_time=event_time, key=key)
    published = int(datetime(2023, 9, 8, 23, 59, tzinfo=UTC).timestamp())
    values = items.published_update(alert, "owner", published)["ExpressionAttributeValues"]
    assert (values[":period"]["S"], values[":sort"]["S"][:11]) == (f"alert#{day[:4]}", f"{day}#")
