"""A period broken down by service and by Bedrock model (contract section 12), when more than `support`
is watched (pure: computed from the period's day summaries alone, like every figure of insights.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from supportwatch.models import Summary
from supportwatch.report.insights import Period, bucket, buckets
from supportwatch.services import SERVICES, SUPPORT


def services_of(summary: Summary) -> dict[str, int]:
    """A summary's calls per service; one written before services were counted holds support calls only."""
    return summary.services or ({SUPPORT: summary.total_calls} if summary.total_calls else {})


@dataclass(frozen=True, slots=True)
class ServiceUse:
    """One service in a period: its calls, the identities that called it and on how many UTC days."""

    service: str
    calls: int
    identities: int
    active_days: int

    @property
    def label(self) -> str:
        return SERVICES[self.service].label if self.service in SERVICES else self.service

    def to_json(self) -> dict[str, int | str]:
        return {
            "service": self.service,
            "label": self.label,
            "calls": self.calls,
            "activeIdentities": self.identities,
            "activeDays": self.active_days,
        }


@dataclass(frozen=True, slots=True)
class ModelUse:
    """One Bedrock model in a period: its calls and how many identities called it."""

    model: str
    calls: int
    identities: int

    def to_json(self) -> dict[str, int | str]:
        return {"model": self.model, "calls": self.calls, "identities": self.identities}


@dataclass(frozen=True, slots=True)
class Mix:
    """An identity and its calls per service, or per model, in a period (the most called first)."""

    identity: str
    counts: dict[str, int]

    @property
    def calls(self) -> int:
        return sum(self.counts.values())


def listed(watched: tuple[str, ...], held: Iterable[str]) -> list[str]:
    """The services to show: every watched one, and any other `held` (by summaries written while more was
    watched), in the catalogue's order."""
    held = set(held)
    return [name for name in SERVICES if name in watched or name in held] + sorted(held - SERVICES.keys())


def service_use(period: Period, watched: tuple[str, ...]) -> list[ServiceUse]:
    """Every watched service (a quiet one with zeros), and any other the period's summaries hold."""
    calls: Counter[str] = Counter()
    identities: dict[str, set[str]] = defaultdict(set)
    days: dict[str, set[str | None]] = defaultdict(set)
    for day in period.days:
        for service, count in services_of(day).items():
            calls[service] += count
            identities[service].add(day.identity)
            days[service].add(day.day)
    return [ServiceUse(name, calls[name], len(identities[name]), len(days[name])) for name in listed(watched, calls)]


def calls_by_service(period: Period, by: str) -> dict[str, list[int]]:
    """Calls per bucket of each service the period holds (aligned with `buckets`), in the catalogue's order."""
    starts = buckets(period.since, period.until, by)
    index = {start: position for position, start in enumerate(starts)}
    series: dict[str, list[int]] = {}
    for day in period.days:
        position = index[bucket(date.fromisoformat(day.day or ""), by)]
        for service, count in services_of(day).items():
            series.setdefault(service, [0] * len(starts))[position] += count
    return {name: series[name] for name in listed((), series)}


def top_models(period: Period, limit: int | None = None) -> list[ModelUse]:
    """The Bedrock models of the period by calls (then by id), with how many identities called each."""
    mixes = _mixes(period, lambda summary: summary.models)
    calls: Counter[str] = Counter()
    for mix in mixes:
        calls.update(mix.counts)
    users = Counter(model for mix in mixes for model in mix.counts)
    ranked = sorted(
        (ModelUse(model, count, users[model]) for model, count in calls.items()), key=lambda m: (-m.calls, m.model)
    )
    return ranked if limit is None else ranked[:limit]


def model_users(period: Period) -> list[Mix]:
    """Who called which Bedrock models: each identity that called one, its calls per model."""
    return _mixes(period, lambda summary: summary.models)


def multi_service(period: Period) -> list[Mix]:
    """The identities that used more than one service in the period, with their calls per service."""
    return [mix for mix in _mixes(period, services_of) if len(mix.counts) > 1]


def _mixes(period: Period, counts: Callable[[Summary], dict[str, int]]) -> list[Mix]:
    """Each identity's `counts` added up over the period's days, the most calls first (then by identity);
    identities without any left out."""
    added: dict[str, Counter[str]] = defaultdict(Counter)
    for day in period.days:
        if found := counts(day):
            added[day.identity].update(found)
    mixes = [
        Mix(identity, dict(sorted(found.items(), key=lambda item: (-item[1], item[0]))))
        for identity, found in added.items()
    ]
    return sorted(mixes, key=lambda mix: (-mix.calls, mix.identity))
