"""Support events -> summaries per identity and per identity per UTC day (pure, no AWS).

`Ledger` is the in-memory, exactly-once sink the offline `scan` uses; the DynamoDB store gives the
same result with the same deltas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from supportwatch.models import Summary, SupportEvent
from supportwatch.services import call_key

SummaryKey = tuple[str, str | None]
DayKey = tuple[str, str, str]  # (identity, UTC day, service): one service's calls of an identity on a day


@dataclass(frozen=True, slots=True)
class CommitResult:
    """How many of an object's events were counted now and how many before; `ours` are the events
    this object counted, now or in an earlier attempt (what its alerts are raised from)."""

    counted: int
    duplicates: int
    ours: tuple[SupportEvent, ...] = ()


def first_by_id(events: Iterable[SupportEvent]) -> list[SupportEvent]:
    """One event per eventID: the first delivered one wins (as it does across files)."""
    unique: dict[str, SupportEvent] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    return list(unique.values())


def summary_of(event: SupportEvent, day: str | None) -> Summary:
    """The summary of a single event, for the identity (`day` None) or its UTC day."""
    return Summary(
        identity=event.identity,
        day=day,
        identity_type=event.identity_type,
        principal=event.principal,
        first_seen=event.event_time,
        first_instant=event.instant,
        first_event_id=event.event_id,
        last_seen=event.event_time,
        last_instant=event.instant,
        total_calls=1,
        calls={call_key(event.service, event.event_name): 1},
        error_calls=1 if event.error_code else 0,
        errors={event.error_code: 1} if event.error_code else {},
        account_ids={event.account_id} if event.account_id else set(),
        source_ips={event.source_ip} if event.source_ip else set(),
        regions={event.region} if event.region else set(),
        services={event.service: 1},
        models={event.model_id: 1} if event.model_id is not None else {},
    )


def _add_counts(into: dict[str, int], counts: dict[str, int]) -> None:
    for name, count in counts.items():
        into[name] = into.get(name, 0) + count


def merge(into: Summary, delta: Summary) -> None:
    """Add `delta` to `into`: counters add, sets unite, the earliest event decides type and principal.

    Events are ordered by instant; the first event's id, and the last event's text, break ties.
    """
    into.total_calls += delta.total_calls
    into.error_calls += delta.error_calls
    _add_counts(into.calls, delta.calls)
    _add_counts(into.errors, delta.errors)
    _add_counts(into.services, delta.services)
    _add_counts(into.models, delta.models)
    into.account_ids |= delta.account_ids
    into.source_ips |= delta.source_ips
    into.regions |= delta.regions
    if (delta.first_instant, delta.first_event_id) < (into.first_instant, into.first_event_id):
        into.first_seen, into.first_instant = delta.first_seen, delta.first_instant
        into.first_event_id = delta.first_event_id
        into.identity_type, into.principal = delta.identity_type, delta.principal
    if (delta.last_instant, delta.last_seen) > (into.last_instant, into.last_seen):
        into.last_seen, into.last_instant = delta.last_seen, delta.last_instant


def summarize(events: Iterable[SupportEvent]) -> dict[SummaryKey, Summary]:
    """Deltas for every identity and identity-day the events touch."""
    deltas: dict[SummaryKey, Summary] = {}
    for event in events:
        for day in (None, event.day):
            single = summary_of(event, day)
            if (found := deltas.get((event.identity, day))) is None:
                deltas[(event.identity, day)] = single
            else:
                merge(found, single)
    return deltas


class Ledger:
    """In-memory summaries with exactly-once counting by eventID (the offline sink)."""

    def __init__(self) -> None:
        self.counted_by: dict[str, str] = {}
        self.summaries: dict[SummaryKey, Summary] = {}

    def commit(self, source: str, events: Sequence[SupportEvent]) -> CommitResult:
        """Count the events of one log object that no earlier object counted."""
        unique = first_by_id(events)
        fresh = [event for event in unique if event.event_id not in self.counted_by]
        self.counted_by.update((event.event_id, source) for event in fresh)
        for key, delta in summarize(fresh).items():
            if (found := self.summaries.get(key)) is None:
                self.summaries[key] = delta
            else:
                merge(found, delta)
        ours = tuple(event for event in unique if self.counted_by[event.event_id] == source)
        return CommitResult(counted=len(fresh), duplicates=len(events) - len(fresh), ours=ours)

    def day_calls(self, keys: Iterable[DayKey]) -> dict[DayKey, int]:
        """Calls of each (identity, day, service) counted so far."""
        return {
            (identity, day, service): found.services.get(service, 0)
            for identity, day, service in keys
            if (found := self.summaries.get((identity, day)))
        }

    def identities(self) -> list[Summary]:
        """The per-identity summaries (day None)."""
        return [summary for (_, day), summary in self.summaries.items() if day is None]
