"""Log entries -> Support Recommendations events (contract section 1), with a tally of malformed entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from supportwatch import SUPPORT_EVENT_SOURCE
from supportwatch.decoding.identity import identify, nonempty_text
from supportwatch.decoding.instants import parse_event_time
from supportwatch.models import SupportEvent


@dataclass(slots=True)
class Extraction:
    """What one log's entries hold: the support events, how many entries there were, and how many of
    them name the support source without being a support record (contract section 1)."""

    events: list[SupportEvent] = field(default_factory=list)
    entries: int = 0
    skipped: int = 0


def event_id(record: dict[str, Any]) -> str:
    """`eventID`, or for a record without one a hash of its canonical JSON."""
    if isinstance(found := record.get("eventID"), str) and found:
        return found
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def is_well_formed(entry: Any) -> bool:
    """An object with a string `eventSource`, a non-empty string `eventName` and a string `eventTime`."""
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("eventSource"), str)
        and nonempty_text(entry.get("eventName")) is not None
        and isinstance(entry.get("eventTime"), str)
    )


def names_source(entry: Any) -> bool:
    """Whether the support source appears anywhere in an entry (a key or a string value)."""
    return SUPPORT_EVENT_SOURCE in json.dumps(entry, ensure_ascii=False)


def to_support_event(record: dict[str, Any]) -> SupportEvent | None:
    """The event a well-formed support record stands for; None when its `eventTime` is no instant."""
    moment = parse_event_time(record["eventTime"])
    if moment is None:
        return None
    user_identity = record.get("userIdentity")
    who = identify(user_identity)
    account = nonempty_text(user_identity.get("accountId")) if isinstance(user_identity, dict) else None
    return SupportEvent(
        event_id=event_id(record),
        event_name=record["eventName"],
        event_time=record["eventTime"],
        instant=moment.instant,
        day=moment.day,
        identity=who.key,
        identity_type=who.identity_type,
        principal=who.principal,
        account_id=account or nonempty_text(record.get("recipientAccountId")),
        source_ip=nonempty_text(record.get("sourceIPAddress")),
        region=nonempty_text(record.get("awsRegion")),
        error_code=nonempty_text(record.get("errorCode")),
    )


def extract(entries: Iterable[Any]) -> Extraction:
    """Keep the support events of a log's entries; count the malformed entries that name the source."""
    result = Extraction()
    for entry in entries:
        result.entries += 1
        if not is_well_formed(entry):
            result.skipped += names_source(entry)
        elif entry["eventSource"] == SUPPORT_EVENT_SOURCE:
            if (event := to_support_event(entry)) is None:
                result.skipped += 1
            else:
                result.events.append(event)
    return result
