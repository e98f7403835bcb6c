"""Alert rules (contract sections 5 and 12) over the events one object counted and the day totals after it.

Pure: which alerts are due. Whether each one is new in its window is decided by the claims.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from supportwatch import KNOWN_EVENT_NAMES
from supportwatch.aggregate import DayKey
from supportwatch.config import AlertSettings
from supportwatch.messages import subject_line
from supportwatch.models import Alert, ObjectRef, Reveal, SupportEvent
from supportwatch.services import DEFAULT_SERVICES, SERVICES, SUPPORT, extended

SEVERITY = {
    "new-identity": "low",
    "root-usage": "critical",
    "access-denied": "medium",
    "volume": "medium",
    "not-allowlisted": "high",
    "new-event-name": "low",
    "unreadable-log": "medium",
    "tampered-log": "critical",  # contract section 7
    "missing-log": "high",
    "unlisted-log": "high",
    "digest-invalid": "critical",
    "digest-missing": "high",
    "unavailable-log": "high",
    "identity-revealed": "medium",  # contract section 10
}
DENIED_MARKERS = ("AccessDenied", "Unauthorized")
Show = Callable[[SupportEvent], SupportEvent]  # an event as it may be written (contract section 10)


def as_is(event: SupportEvent) -> SupportEvent:
    return event


def _alert(rule: str, window: str, event: SupportEvent, title: str, detail: str, ref: ObjectRef, tagged: bool) -> Alert:
    """The alert about `event`; `tagged` (more than `support` watched): it names the event's service."""
    return Alert(
        rule=rule,
        severity=SEVERITY[rule],
        window=window,
        title=subject_line(title, event.identity),
        detail=detail,
        identity=event.identity,
        identity_type=event.identity_type,
        principal=event.principal,
        account_id=event.account_id,
        event_name=event.event_name,
        event_time=event.event_time,
        event_id=event.event_id,
        source_ip=event.source_ip,
        region=event.region,
        user_agent=event.user_agent,
        bucket=ref.bucket or None,
        key=ref.key,
        service=event.service if tagged else None,
    )


def label(service: str) -> str:
    """How an alert names a service: support as its alerts always have, the others by their label."""
    return "Support Recommendations" if service == SUPPORT else SERVICES[service].label


def _article(name: str) -> str:
    """`a` or `an` before a service's name (`an Amazon Q call`)."""
    return "an" if name[0] in "AEIOU" else "a"


def _first(events: Iterable[SupportEvent]) -> SupportEvent:
    return min(events, key=lambda event: (event.instant, event.event_id))


def _groups(events: Iterable[SupportEvent], key: Callable[[SupportEvent], Hashable]) -> dict[Any, list[SupportEvent]]:
    grouped: dict[Any, list[SupportEvent]] = {}
    for event in events:
        grouped.setdefault(key(event), []).append(event)
    return grouped


def is_root(event: SupportEvent) -> bool:
    return event.identity_type == "Root" or event.identity.endswith(":root")


def is_denied(event: SupportEvent) -> bool:
    return event.error_code is not None and any(marker in event.error_code for marker in DENIED_MARKERS)


def allowlisted(event: SupportEvent, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(event.identity, p) or fnmatchcase(event.principal, p) for p in patterns)


def _day_alerts(
    day: str, events: list[SupportEvent], calls: int, settings: AlertSettings, ref: ObjectRef, show: Show, tagged: bool
) -> Iterable[Alert]:
    """The alerts once per identity (and service) and UTC day of one identity's events of one service."""
    first = _first(events)
    seen = show(first)
    who, service = seen.identity, label(first.service)
    if root := [event for event in events if is_root(event)]:
        yield _alert(
            "root-usage",
            day,
            show(_first(root)),
            f"Root user of {first.account_id} used {service}",
            f"The root user of account {first.account_id} called {service} on {day}.",
            ref,
            tagged,
        )
    if denied := [event for event in events if is_denied(event)]:
        event = _first(denied)
        yield _alert(
            "access-denied",
            day,
            show(event),
            f"{service} denied: {who}",
            f"{who} was refused {_article(service)} {service} call ({event.error_code}) on {day}.",
            ref,
            tagged,
        )
    if calls > settings.volume_threshold:
        yield _alert(
            "volume",
            day,
            show(max(events, key=lambda event: (event.instant, event.event_id))),
            f"{calls} {service} calls on {day}: {who}",
            f"{who} made {calls} {service} calls on {day}, above the threshold of {settings.volume_threshold}.",
            ref,
            tagged,
        )
    if settings.allowlist and not allowlisted(first, settings.allowlist):
        yield _alert(
            "not-allowlisted",
            day,
            seen,
            f"{service} used by non-allowlisted {who}",
            f"{who} (principal {seen.principal}) matches none of the allowlist patterns "
            f"{', '.join(settings.allowlist)}.",
            ref,
            tagged,
        )


def _first_seen(first: SupportEvent, service: str) -> str:
    """A new-identity alert's detail: a user new to another service than support may be known already."""
    who, when = f"{first.identity} ({first.identity_type})", first.event_time
    if first.service == SUPPORT:
        return f"{who} was first seen by supportwatch, calling {service} at {when}."
    return f"{who} was seen calling {service} for the first time at {when}."


def evaluate(
    ref: ObjectRef,
    events: Sequence[SupportEvent],
    day_calls: Mapping[DayKey, int],
    settings: AlertSettings,
    show: Show = as_is,
    watched: tuple[str, ...] = DEFAULT_SERVICES,
) -> list[Alert]:
    """The alerts `events` (counted from `ref`) raise, given each identity's calls of each service on each
    day (`day_calls`, keyed by identity, day and service).

    The rules see the real events; what an alert names is `show`'s view of them (pseudonyms, contract
    section 10), as are the identities `day_calls` is keyed by. The identity rules hold per service
    (contract section 12); only when more than `support` is `watched` does an alert name its service."""
    tagged = extended(watched)
    alerts: list[Alert] = []
    for found in _groups(events, lambda event: (event.identity, event.service)).values():
        first = show(_first(found))
        service = label(first.service)
        alerts.append(
            _alert(
                "new-identity",
                "ever",
                first,
                f"New {service} user: {first.identity}",
                _first_seen(first, service),
                ref,
                tagged,
            )
        )
    for (_, day, service), found in _groups(events, lambda event: (event.identity, event.day, event.service)).items():
        calls = day_calls.get((show(found[0]).identity, day, service), 0)
        alerts.extend(_day_alerts(day, found, calls, settings, ref, show, tagged))
    support = [event for event in events if event.service == SUPPORT]  # the only service with known names
    for name, found in _groups(support, lambda event: event.event_name).items():
        if name not in KNOWN_EVENT_NAMES:
            first = show(_first(found))
            alerts.append(
                _alert(
                    "new-event-name",
                    "ever",
                    first,
                    f"New Support Recommendations API call: {name}",
                    f"{first.identity} called {name}, an event name supportwatch has not seen from this service.",
                    ref,
                    tagged,
                )
            )
    return [alert for alert in alerts if settings.publishes(alert.rule, alert.severity)]


def revealed(
    ref: ObjectRef, reveals: Iterable[Reveal], settings: AlertSettings, address: Callable[[str], str]
) -> list[Alert]:
    """`identity-revealed` (contract section 10) for the first reveal of each pseudonym and UTC day in a log:
    whom (the pseudonym) and who revealed it (`revealedBy`, in clear: whoever reveals is accountable); the
    caller's address is written as every address is (`address`)."""
    first: dict[tuple[str, str], Reveal] = {}
    for reveal in sorted(reveals, key=lambda found: (found.call.instant, found.call.event_id)):
        first.setdefault((reveal.pseudonym, reveal.call.day), reveal)
    alerts = []
    for (pseudonym, day), reveal in sorted(first.items()):
        call = reveal.call
        alerts.append(
            Alert(
                rule="identity-revealed",
                severity=SEVERITY["identity-revealed"],
                window=day,
                title=subject_line(f"Identity {pseudonym} revealed by {call.identity}", call.identity),
                detail=f"{call.identity} decrypted the identity sealed under {pseudonym} (KMS Decrypt at "
                f"{call.event_time}).",
                identity=pseudonym,
                account_id=call.account_id,
                event_name=call.event_name,
                event_time=call.event_time,
                event_id=call.event_id,
                source_ip=None if call.source_ip is None else address(call.source_ip),
                region=call.region,
                user_agent=call.user_agent,
                bucket=ref.bucket or None,
                key=ref.key,
                revealed_by=call.identity,
            )
        )
    return [alert for alert in alerts if settings.publishes(alert.rule, alert.severity)]


def object_alert(rule: str, ref: ObjectRef, title: str, detail: str) -> Alert:
    """An alert about one object (log or digest file), raised once per key."""
    return Alert(
        rule=rule,
        severity=SEVERITY[rule],
        window="object",
        title=subject_line(title),
        detail=detail,
        bucket=ref.bucket or None,
        key=ref.key,
    )


def _log_alert(rule: str, ref: ObjectRef, title: str, detail: str, settings: AlertSettings) -> list[Alert]:
    alert = object_alert(rule, ref, f"{title}: {ref.key}", detail)
    return [alert] if settings.publishes(alert.rule, alert.severity) else []


def unavailable(ref: ObjectRef, reason: str, settings: AlertSettings) -> list[Alert]:
    """The `unavailable-log` alert of an object that could not be fetched at all (gone, access denied)."""
    detail = f"The log object could not be fetched, so none of it was counted and it is not retried: {reason}."
    return _log_alert("unavailable-log", ref, "Unavailable CloudTrail log", detail, settings)


def unreadable(ref: ObjectRef, reason: str, settings: AlertSettings) -> list[Alert]:
    """The `unreadable-log` alert of an object that could not be decoded."""
    detail = f"The log object could not be read and none of it was counted: {reason}."
    return _log_alert("unreadable-log", ref, "Unreadable CloudTrail log", detail, settings)
