"""Usage insights of a period from the table's summaries (pure: no AWS, no log scans).

A period is read as its per-day summaries plus the all-time summaries of the identities active in
it (for when each was first seen, and the type and principal their earliest event decides). Every
figure here is computed from those two lists alone, so a report costs what its period holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Protocol

from supportwatch.aggregate import merge
from supportwatch.decoding.instants import utc_day
from supportwatch.models import Summary
from supportwatch.rules import DENIED_MARKERS

CONVERSATION_START = "StartSupportTroubleshooting"  # each call starts one conversation
GRANULARITIES = ("day", "week", "month")


def bucket(day: date, by: str) -> date:
    """The first day of the day's week (Monday) or month, or the day itself."""
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    return day


def buckets(since: date, until: date, by: str) -> list[date]:
    """Every bucket that overlaps since..until, oldest first (empty ones included)."""
    found: list[date] = []
    start: date | None = bucket(since, by)
    while start is not None and start <= until:
        found.append(start)
        start = _after(start, by)
    return found


def _after(start: date, by: str) -> date | None:
    """The first day of the bucket after the one that starts on `start`; None after year 9999."""
    try:
        if by == "month":
            return date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return start + timedelta(days=7 if by == "week" else 1)
    except (OverflowError, ValueError):
        return None


def auto_granularity(since: date, until: date) -> str:
    """Days for up to two months, weeks for up to a year, months beyond."""
    span = (until - since).days + 1
    return "day" if span <= 62 else "week" if span <= 366 else "month"


def denied(summary: Summary) -> int:
    """Calls refused for lack of permission (the `access-denied` rule's error codes)."""
    return sum(count for code, count in summary.errors.items() if any(m in code for m in DENIED_MARKERS))


@dataclass(frozen=True, slots=True)
class Activity:
    """One day, week or month of a period."""

    start: date
    identities: int
    principals: int
    calls: int
    conversations: int
    error_calls: int
    access_denied: int
    first_time: int  # identities whose very first call fell in this bucket

    def to_json(self) -> dict[str, int | str]:
        return {
            "start": self.start.isoformat(),
            "activeIdentities": self.identities,
            "activePrincipals": self.principals,
            "calls": self.calls,
            "conversations": self.conversations,
            "errorCalls": self.error_calls,
            "accessDenied": self.access_denied,
            "firstTimeIdentities": self.first_time,
        }


@dataclass(frozen=True, slots=True)
class Ranked:
    """An identity, or a principal with its sessions, and what it did in the period."""

    name: str
    calls: int
    conversations: int
    error_calls: int
    active_days: int
    identities: int = 1

    def to_json(self) -> dict[str, int | str]:
        return {
            "name": self.name,
            "calls": self.calls,
            "conversations": self.conversations,
            "errorCalls": self.error_calls,
            "activeDays": self.active_days,
            "identities": self.identities,
        }


@dataclass(slots=True)
class Period:
    """A period's per-day summaries and the all-time summaries of the identities active in it."""

    since: date
    until: date
    days: list[Summary]
    overall: dict[str, Summary] = field(default_factory=dict)

    @classmethod
    def of(cls, since: date, until: date, days: Iterable[Summary], overall: Iterable[Summary]) -> Period:
        inside = [day for day in days if day.day and since.isoformat() <= day.day <= until.isoformat()]
        return cls(since, until, inside, {summary.identity: summary for summary in overall})

    def _principal(self, summary: Summary) -> str:
        found = self.overall.get(summary.identity)
        return found.principal if found else summary.principal

    def summaries(self) -> list[Summary]:
        """Each active identity's summary over the period alone (its day summaries merged), as in the
        export document; type and principal are the ones its earliest event ever decided."""
        merged: dict[str, Summary] = {}
        for day in sorted(self.days, key=lambda s: (s.identity, s.day or "")):
            if (found := merged.get(day.identity)) is None:
                merged[day.identity] = replace(
                    day, day=None, calls=dict(day.calls), errors=dict(day.errors),
                    account_ids=set(day.account_ids), source_ips=set(day.source_ips), regions=set(day.regions),
                    services=dict(day.services), models=dict(day.models),
                )  # fmt: skip
            else:
                merge(found, day)
        for identity, summary in merged.items():
            if (ever := self.overall.get(identity)) is not None:
                summary.identity_type, summary.principal = ever.identity_type, ever.principal
        return sorted(merged.values(), key=lambda s: s.identity)

    def first_seen(self) -> list[Summary]:
        """The all-time summaries of identities whose first call ever lies in the period, earliest first."""
        since, until = self.since.isoformat(), self.until.isoformat()
        found = [s for s in self.overall.values() if since <= utc_day(s.first_instant) <= until]
        return sorted(found, key=lambda s: (s.first_instant, s.identity))

    def activity(self, by: str) -> list[Activity]:
        """Active identities and principals, calls, conversations, refusals and newcomers per bucket."""
        grouped: dict[date, list[Summary]] = defaultdict(list)
        for day in self.days:
            grouped[bucket(date.fromisoformat(day.day or ""), by)].append(day)
        newcomers = Counter(bucket(date.fromisoformat(utc_day(s.first_instant)), by) for s in self.first_seen())
        rows = []
        for start in buckets(self.since, self.until, by):
            days = grouped.get(start, [])
            rows.append(
                Activity(
                    start=start,
                    identities=len({day.identity for day in days}),
                    principals=len({self._principal(day) for day in days}),
                    calls=sum(day.total_calls for day in days),
                    conversations=sum(day.calls.get(CONVERSATION_START, 0) for day in days),
                    error_calls=sum(day.error_calls for day in days),
                    access_denied=sum(denied(day) for day in days),
                    first_time=newcomers.get(start, 0),
                )
            )
        return rows

    def calls_by_event(self, by: str) -> dict[str, list[int]]:
        """Calls per bucket of each event name (one list per name, aligned with `buckets`)."""
        starts = buckets(self.since, self.until, by)
        index = {start: position for position, start in enumerate(starts)}
        series: dict[str, list[int]] = {}
        for day in self.days:
            position = index[bucket(date.fromisoformat(day.day or ""), by)]
            for name, count in day.calls.items():
                series.setdefault(name, [0] * len(starts))[position] += count
        return dict(sorted(series.items()))

    def active_days(self) -> dict[str, int]:
        """On how many UTC days of the period each identity called the service."""
        return dict(Counter(day.identity for day in self.days))

    def top_identities(self, limit: int | None = None) -> list[Ranked]:
        days = self.active_days()
        ranked = [
            Ranked(s.identity, s.total_calls, s.calls.get(CONVERSATION_START, 0), s.error_calls, days[s.identity])
            for s in self.summaries()
        ]
        return _rank(ranked, limit)

    def top_principals(self, limit: int | None = None) -> list[Ranked]:
        """Sessions rolled up to their principal (a role counts once); active days of any session."""
        return _rank(self._grouped(lambda summary: {self._principal(summary)}), limit)

    def accounts(self) -> list[Ranked]:
        """Per account: its identities' calls (an identity seen in several accounts counts in each)."""
        return _rank(self._grouped(lambda summary: summary.account_ids or {"unknown"}), None)

    def _grouped(self, groups: Callable[[Summary], Iterable[str]]) -> list[Ranked]:
        """The period's identities added up per group (`groups` names those of a summary)."""
        members: dict[str, list[Summary]] = defaultdict(list)
        for summary in self.summaries():
            for name in groups(summary):
                members[name].append(summary)
        days_of: dict[str, set[str | None]] = defaultdict(set)
        for day in self.days:
            for name in groups(day):
                days_of[name].add(day.day)
        return [
            Ranked(
                name=name,
                calls=sum(s.total_calls for s in group),
                conversations=sum(s.calls.get(CONVERSATION_START, 0) for s in group),
                error_calls=sum(s.error_calls for s in group),
                active_days=len(days_of[name]),
                identities=len(group),
            )
            for name, group in members.items()
        ]

    def error_codes(self) -> dict[str, int]:
        """Failed calls of the period per error code, the most frequent first."""
        counts: Counter[str] = Counter()
        for day in self.days:
            counts.update(day.errors)
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class PeriodReader(Protocol):
    """The store's reads a period needs (each costs in proportion to the period)."""

    def narrow(self, since: date, until: date) -> tuple[date, date] | None: ...

    def between(self, since: str, until: str) -> list[Summary]: ...

    def summaries_of(self, identities: Iterable[str]) -> list[Summary]: ...


def read_period(
    store: PeriodReader, since: date, until: date, progress: Callable[[int, int], None] | None = None
) -> Period:
    """The period's day summaries, a calendar year at a time (the store's index partitions them by
    year), then the all-time summaries of the identities in them; `progress(days, summaries)` hears
    of each year read, and of the days outside what the store `narrow`s the period to at once."""
    days: list[Summary] = []
    unread = (until - since).days + 1
    if held := store.narrow(since, until):
        first, last = held
        for year in range(first.year, last.year + 1):
            start, end = max(first, date(year, 1, 1)), min(last, date(year, 12, 31))
            found = store.between(start.isoformat(), end.isoformat())
            days += found
            unread -= (end - start).days + 1
            if progress:
                progress((end - start).days + 1, len(found))
    if progress and unread:
        progress(unread, 0)
    return Period.of(since, until, days, store.summaries_of({day.identity for day in days}))


def _rank(ranked: Sequence[Ranked], limit: int | None) -> list[Ranked]:
    ordered = sorted(ranked, key=lambda r: (-r.calls, r.name))
    return ordered if limit is None else ordered[:limit]
