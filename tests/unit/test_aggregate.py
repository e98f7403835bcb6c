"""Summaries, merge and the exactly-once Ledger (CONTRACT section 3)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from supportwatch.aggregate import CommitResult, Ledger, merge, summarize, summary_of
from supportwatch.decoding import decode
from supportwatch.decoding.instants import parse_event_time
from supportwatch.decoding.records import extract
from supportwatch.models import SupportEvent
from tests.helpers import REPO

ADMIN = "arn:aws:iam::111122223333:user/Admin"


def ev(
    event_id: str,
    time: str = "2023-09-11T16:34:13Z",
    *,
    identity: str = ADMIN,
    name: str = "StartSupportTroubleshooting",
    kind: str = "IAMUser",
    principal: str = ADMIN,
    account: str | None = "111122223333",
    ip: str | None = "72.21.198.67",
    region: str | None = "us-east-1",
    error: str | None = None,
) -> SupportEvent:
    moment = parse_event_time(time)
    assert moment is not None
    return SupportEvent(
        event_id, name, time, moment.instant, moment.day, identity, kind, principal, account, ip, region, error
    )


def test_summarize_per_identity_and_per_day():
    events = [
        ev("1", "2023-09-11T23:59:59Z"),
        ev("2", "2023-09-12T00:00:01Z", name="GetSupportTroubleshootingResponse", ip=None, region="eu-west-1"),
        ev("3", "2023-09-12T08:00:00Z", error="AccessDeniedException", account=None),
        ev("4", "2023-09-12T09:00:00Z", identity="service:x", kind="AWSService", principal="service:x"),
    ]
    summaries = summarize(events)
    assert sorted(summaries, key=str) == sorted(
        [
            (ADMIN, None),
            (ADMIN, "2023-09-11"),
            (ADMIN, "2023-09-12"),
            ("service:x", None),
            ("service:x", "2023-09-12"),
        ],
        key=str,
    )
    assert summaries[(ADMIN, None)].to_export() == {
        "identityType": "IAMUser",
        "principal": ADMIN,
        "accountIds": ["111122223333"],
        "totalCalls": 3,
        "calls": {"GetSupportTroubleshootingResponse": 1, "StartSupportTroubleshooting": 2},
        "errorCalls": 1,
        "errors": {"AccessDeniedException": 1},
        "firstSeen": "2023-09-11T23:59:59Z",
        "lastSeen": "2023-09-12T08:00:00Z",
        "sourceIps": ["72.21.198.67"],
        "regions": ["eu-west-1", "us-east-1"],
    }
    day = summaries[(ADMIN, "2023-09-12")].to_export()
    assert (day["totalCalls"], day["firstSeen"], day["lastSeen"], day["regions"]) == (
        2,
        "2023-09-12T00:00:01Z",
        "2023-09-12T08:00:00Z",
        ["eu-west-1", "us-east-1"],
    )
    assert summaries[(ADMIN, "2023-09-11")].total_calls == 1


def test_merge_adds_counters_unites_sets_and_earliest_event_decides():
    into = summary_of(ev("b", "2023-09-11T10:00:00Z", kind="IAMUser", principal="p-late", ip="1.1.1.1"), None)
    merge(into, summary_of(ev("z", "2023-09-12T10:00:00Z", error="Throttling", region="eu-west-1"), None))
    merge(
        into,
        summary_of(ev("a", "2023-09-11T10:00:00Z", kind="AssumedRole", principal="p-early", ip=None), None),
    )
    merge(into, summary_of(ev("c", "2023-09-11T09:59:59Z", name="X", kind="Root", principal="p-first"), None))
    assert (into.identity_type, into.principal, into.first_seen, into.first_event_id) == (
        "Root",
        "p-first",
        "2023-09-11T09:59:59Z",
        "c",
    )
    assert into.last_seen == "2023-09-12T10:00:00Z"
    assert (into.total_calls, into.calls) == (4, {"StartSupportTroubleshooting": 3, "X": 1})
    assert (into.error_calls, into.errors) == (1, {"Throttling": 1})
    assert (into.source_ips, into.regions) == ({"1.1.1.1", "72.21.198.67"}, {"us-east-1", "eu-west-1"})


def test_merge_tie_on_time_is_broken_by_event_id():
    into = summary_of(ev("b", kind="IAMUser", principal="p-b"), None)
    merge(into, summary_of(ev("a", kind="AssumedRole", principal="p-a"), None))
    assert (into.identity_type, into.principal) == ("AssumedRole", "p-a")
    later_id = summary_of(ev("a", kind="AssumedRole", principal="p-a"), None)
    merge(later_id, summary_of(ev("b", kind="IAMUser", principal="p-b"), None))
    assert (later_id.identity_type, later_id.principal) == ("AssumedRole", "p-a")


def test_ledger_counts_an_event_in_two_commits_once():
    ledger = Ledger()
    one, two, three = ev("1"), ev("2"), ev("3")
    assert ledger.commit("a", [one, two]) == CommitResult(counted=2, duplicates=0, ours=(one, two))
    assert ledger.commit("b", [two, three]) == CommitResult(counted=1, duplicates=1, ours=(three,))
    # a retry of "a" counts nothing again, but its events are still its own (its alerts are re-raised)
    assert ledger.commit("a", [one, two]) == CommitResult(counted=0, duplicates=2, ours=(one, two))
    assert [s.total_calls for s in ledger.identities()] == [3]
    assert ledger.summaries[(ADMIN, "2023-09-11")].total_calls == 3


def test_aws_sample_pair_sharing_one_event_id_counts_once():
    data = (REPO / "events" / "sample-events.json").read_bytes()
    events = extract(decode(data, 1 << 20)).events
    assert [e.event_id for e in events] == ["2f4630ac-5c27-4f0d-b93f-63742d6fc85e"] * 2
    ledger = Ledger()
    assert ledger.commit("sample-events.json", events) == CommitResult(counted=1, duplicates=1, ours=tuple(events[:1]))
    (admin,) = ledger.identities()
    assert (admin.identity, admin.total_calls, admin.calls) == (ADMIN, 1, {"StartSupportTroubleshooting": 1})


times = st.datetimes(datetime(2023, 9, 10), datetime(2023, 9, 13)).map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))
contents = st.fixed_dictionaries(
    {
        "time": times,
        "identity": st.sampled_from(["u1", "u2", "u3"]),
        "name": st.sampled_from(["StartSupportTroubleshooting", "GetSupportTroubleshootingResponse", "New"]),
        "kind": st.sampled_from(["IAMUser", "AssumedRole"]),
        "principal": st.sampled_from(["p1", "p2"]),
        "account": st.sampled_from([None, "111122223333", "444455556666"]),
        "ip": st.sampled_from([None, "192.0.2.1", "192.0.2.2"]),
        "region": st.sampled_from([None, "us-east-1", "eu-west-1"]),
        "error": st.sampled_from([None, None, "AccessDenied", "Throttling"]),
    }
)


def straightforward(events: list[SupportEvent]) -> dict[str, dict]:
    """An independent count over distinct eventIDs, per identity."""
    distinct = {e.event_id: e for e in events}.values()
    found: dict[str, dict] = {}
    for identity in {e.identity for e in distinct}:
        mine = [e for e in distinct if e.identity == identity]
        first = min(mine, key=lambda e: (e.event_time, e.event_id))
        found[identity] = {
            "identityType": first.identity_type,
            "principal": first.principal,
            "accountIds": sorted({e.account_id for e in mine if e.account_id}),
            "totalCalls": len(mine),
            "calls": dict(sorted(Counter(e.event_name for e in mine).items())),
            "errorCalls": sum(1 for e in mine if e.error_code),
            "errors": dict(sorted(Counter(e.error_code for e in mine if e.error_code).items())),
            "firstSeen": first.event_time,
            "lastSeen": max(e.event_time for e in mine),
            "sourceIps": sorted({e.source_ip for e in mine if e.source_ip}),
            "regions": sorted({e.region for e in mine if e.region}),
            "days": dict(sorted(Counter(e.day for e in mine).items())),
        }
    return found


@settings(max_examples=150, deadline=None)
@given(pool=st.lists(contents, min_size=1, max_size=15), data=st.data())
def test_ledger_equals_a_count_over_distinct_event_ids(pool, data):
    events = [ev(f"id-{n}", **content) for n, content in enumerate(pool)]
    files = data.draw(st.lists(st.lists(st.sampled_from(events), max_size=8), min_size=1, max_size=6))
    retries = data.draw(st.lists(st.sampled_from(range(len(files))), max_size=4))
    order = data.draw(st.permutations([*range(len(files)), *retries]))
    ledger = Ledger()
    results = [ledger.commit(f"file-{n}", files[n]) for n in order]
    delivered = [e for n in order for e in files[n]]
    assert sum(r.counted for r in results) == len({e.event_id for e in delivered})
    assert sum(r.counted + r.duplicates for r in results) == len(delivered)
    found = {}
    for summary in ledger.identities():
        days = {day: s.total_calls for (who, day), s in ledger.summaries.items() if who == summary.identity and day}
        assert sum(days.values()) == summary.total_calls
        found[summary.identity] = {**summary.to_export(), "days": dict(sorted(days.items()))}
    assert found == straightforward(delivered)
