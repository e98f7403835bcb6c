"""The export document of contract section 4."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from supportwatch.models import Summary


def alert_order(alert: dict[str, Any]) -> tuple[str, ...]:
    """A stable order for alerts, whatever order they were raised in."""
    return tuple(str(alert.get(name) or "") for name in ("window", "rule", "identity", "eventName", "key"))


def export_document(summaries: Iterable[Summary], alerts: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """`{"summaries": {identity: fields}, "alerts": [...]}`, identities and alerts sorted."""
    ordered = sorted(summaries, key=lambda summary: summary.identity)
    return {
        "summaries": {summary.identity: summary.to_export() for summary in ordered},
        "alerts": sorted(alerts, key=alert_order),
    }


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)
