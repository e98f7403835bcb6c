"""How events are grouped into DynamoDB transactions and what a cancelled one says (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from supportwatch.aggregate import SummaryKey
from supportwatch.ledger.items import member_keys
from supportwatch.models import SupportEvent

MAX_TRANSACTION_ITEMS = 100
RETRYABLE_REASONS = {None, "None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


class CommitFailed(Exception):
    """Transactions kept conflicting or were refused; raising lets Lambda retry the whole object."""


def chunks(events: Sequence[SupportEvent]) -> Iterator[list[SupportEvent]]:
    """Groups of events whose markers, summary items, set members and model counters fit in one
    transaction (an event writes at most 1 + 2 + 6 + 2 items, so a group holds at least 9 events)."""
    chunk: list[SupportEvent] = []
    items: set[tuple[str | None, ...]] = set()
    for event in sorted(events, key=lambda e: (e.identity, e.day, e.event_id)):
        touched = {(event.identity, None), (event.identity, event.day), *member_keys(event)}
        if chunk and len(chunk) + 1 + len(items | touched) > MAX_TRANSACTION_ITEMS:
            yield chunk
            chunk, items = [], set()
        chunk.append(event)
        items |= touched
    if chunk:
        yield chunk


def existing_markers(
    pending: list[SupportEvent], reasons: list[dict[str, Any]], updates: Sequence[SummaryKey] = ()
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """eventId -> the marker item that already existed (markers lead the transaction, in order), and the
    identities whose expired summary refused its update (`updates`, the summary keys that follow the
    markers: only an identity summary's update has a condition, under a retention)."""
    found, expired = {}, []
    for index, reason in enumerate(reasons):
        code = reason.get("Code")
        if code == "ConditionalCheckFailed" and index < len(pending):
            found[pending[index].event_id] = reason.get("Item", {})
        elif code == "ConditionalCheckFailed" and index - len(pending) < len(updates):
            expired.append(updates[index - len(pending)][0])
        elif code not in RETRYABLE_REASONS:
            raise CommitFailed(f"transaction refused: {code}: {reason.get('Message', '')}")
    return found, expired
