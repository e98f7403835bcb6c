"""The export document of contract section 4."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from supportwatch.models import Summary


def export_document(summaries: Iterable[Summary], alerts: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """`{"summaries": {identity: fields}, "alerts": [...]}`, identities sorted."""
    ordered = sorted(summaries, key=lambda summary: summary.identity)
    return {
        "summaries": {summary.identity: summary.to_export() for summary in ordered},
        "alerts": list(alerts),
    }


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)
