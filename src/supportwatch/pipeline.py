"""One log object through routing, decoding, filtering and the exactly-once sink.

Shared by the Lambda handler and the CLI; the sink is DynamoDB there and a Ledger offline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from supportwatch.aggregate import CommitResult
from supportwatch.decoding import UnreadableLog, read_events
from supportwatch.models import ObjectRef, SupportEvent
from supportwatch.routing import skip_reason

Outcome = Literal["counted", "skipped", "unreadable", "unavailable"]


class ObjectUnavailable(Exception):
    """The object could not be read at all (gone, access denied): a permanent condition."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sink(Protocol):
    def commit(self, source: str, events: Sequence[SupportEvent]) -> CommitResult: ...


Fetch = Callable[[ObjectRef], bytes]


@dataclass(frozen=True, slots=True)
class ObjectReport:
    """What happened to one object; `reason` explains skipped, unreadable and unavailable ones."""

    ref: ObjectRef
    outcome: Outcome
    reason: str | None = None
    entries: int = 0
    skipped_entries: int = 0
    support_events: int = 0
    counted: int = 0
    duplicates: int = 0

    def fields(self) -> dict[str, Any]:
        """Structured fields for a log line (never any record content)."""
        found = {
            "bucket": self.ref.bucket or None,
            "key": self.ref.key,
            "outcome": self.outcome,
            "reason": self.reason,
            "entries": self.entries,
            "skippedEntries": self.skipped_entries,
            "supportEvents": self.support_events,
            "counted": self.counted,
            "duplicates": self.duplicates,
        }
        return {name: value for name, value in found.items() if value is not None}

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> ObjectReport:
        """The report back from `fields()` (what the handler returns)."""
        return cls(
            ObjectRef(fields.get("bucket", ""), fields["key"]),
            fields["outcome"],
            fields.get("reason"),
            entries=fields["entries"],
            skipped_entries=fields["skippedEntries"],
            support_events=fields["supportEvents"],
            counted=fields["counted"],
            duplicates=fields["duplicates"],
        )


def process_object(ref: ObjectRef, fetch: Fetch, sink: Sink, max_bytes: int) -> ObjectReport:
    """Read one object and commit its support events; transient failures propagate."""
    if reason := skip_reason(ref.key):
        return ObjectReport(ref, "skipped", reason)
    try:
        extraction = read_events(fetch(ref), max_bytes)
    except UnreadableLog as error:
        return ObjectReport(ref, "unreadable", error.reason)
    except ObjectUnavailable as error:
        return ObjectReport(ref, "unavailable", error.reason)
    result = sink.commit(ref.uri, extraction.events)
    return ObjectReport(
        ref,
        "counted",
        entries=extraction.entries,
        skipped_entries=extraction.skipped,
        support_events=len(extraction.events),
        counted=result.counted,
        duplicates=result.duplicates,
    )
