"""The export document of contract section 4."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from supportwatch.config import SEVERITIES
from supportwatch.decoding.instants import parse_event_time
from supportwatch.integrity.digest import digest_key_time, is_digest_key, log_key_time
from supportwatch.models import Summary
from supportwatch.services import DEFAULT_SERVICES, extended


def alert_order(alert: dict[str, Any]) -> tuple[Any, ...]:
    """Most severe first, then by the event's instant (alerts without one last), then a stable tie-break."""
    severity = alert.get("severity")
    rank = SEVERITIES.index(severity) if severity in SEVERITIES else -1
    moment = parse_event_time(alert["eventTime"]) if isinstance(alert.get("eventTime"), str) else None
    when = (0, moment.instant) if moment else (1, 0)
    rest = tuple(str(alert.get(name) or "") for name in ("window", "rule", "identity", "eventName", "key"))
    return (-rank, *when, *rest)


def alert_day(alert: dict[str, Any], raised: str | None = None) -> str | None:
    """The UTC day an alert belongs to: its window; else the day of the event that raised it; else the
    time in the name of its log or digest file; else `raised`, the day it was raised (None: unknown)."""
    window = alert.get("window")
    if window not in ("ever", "object"):
        return str(window)[:10] if window else None
    moment = parse_event_time(alert["eventTime"]) if isinstance(alert.get("eventTime"), str) else None
    if moment:
        return moment.day
    key = alert.get("key")
    named = (digest_key_time(key) if is_digest_key(key) else log_key_time(key)) if isinstance(key, str) else None
    return named.date().isoformat() if named else raised


def export_document(
    summaries: Iterable[Summary], alerts: Iterable[dict[str, Any]] = (), watched: tuple[str, ...] = DEFAULT_SERVICES
) -> dict[str, Any]:
    """`{"summaries": {identity: fields}, "alerts": [...]}`, identities and alerts sorted; each summary
    with its `services` and `models` when more than `support` is `watched` (contract section 12)."""
    ordered = sorted(summaries, key=lambda summary: summary.identity)
    asked = extended(watched)
    return {
        "summaries": {summary.identity: summary.to_export(asked) for summary in ordered},
        "alerts": sorted(alerts, key=alert_order),
    }


def to_json(document: dict[str, Any] | list[Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)
