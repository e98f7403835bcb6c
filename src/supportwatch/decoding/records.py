"""Log entries -> Support Recommendations events (contract section 1), with a tally of malformed entries."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from operator import attrgetter
from typing import Any

from supportwatch import SUPPORT_EVENT_SOURCE
from supportwatch.decoding.identity import identify, nonempty_text
from supportwatch.decoding.instants import parse_event_time
from supportwatch.models import SupportEvent

# The values that become DynamoDB keys or parts of them (summary and day items, the byPrincipal and
# byDay index keys, event markers, alert claims; the address for per-address items, issue 11 item 4)
# or attribute names (`call:`, `error:`), with their longest form in UTF-8 bytes: DynamoDB refuses a
# sort key (an index's too) over 1024 bytes and a partition key over 2048. No value CloudTrail writes
# comes near them; a longer one is not dropped but kept as its first bytes and a SHA-256 of the whole
# (`key_safe`), so the record still counts, apart from every other value. Other values (account,
# region, type) are never keys and are kept whole.
KEY_BYTES = {
    "event_id": 1024,
    "identity": 1024,
    "principal": 1024,
    "event_name": 1024,
    "error_code": 1024,
    "source_ip": 512,
}


@dataclass(slots=True)
class Extraction:
    """What one log's entries hold: the support events, how many entries there were, and how many of
    them name the support source without being a support record (contract section 1), by reason."""

    events: list[SupportEvent] = field(default_factory=list)
    entries: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # the skipped entries by `skip_reason`

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.reasons[reason] += 1


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
    """Whether the support source appears anywhere in an entry (a key or a string value); an entry
    nested too deep for json.dumps here is taken to name it (tallied rather than failing its file)."""
    try:
        return SUPPORT_EVENT_SOURCE in json.dumps(entry, ensure_ascii=False)
    except RecursionError:
        return True


def key_safe(text: str, limit: int) -> str:
    """`text`, or when longer than `limit` UTF-8 bytes its first bytes and a SHA-256 of the whole, `limit` long."""
    data = text.encode()
    if len(data) <= limit:
        return text
    suffix = "...sha256:" + hashlib.sha256(data).hexdigest()
    return data[: limit - len(suffix)].decode(errors="ignore") + suffix


_texts = attrgetter(*(item.name for item in fields(SupportEvent) if item.name != "instant"))
_keys = attrgetter(*KEY_BYTES)
_SHORTEST_KEY = min(KEY_BYTES.values())


def _bounded(event: SupportEvent) -> SupportEvent:
    """`event` with its key values bounded (KEY_BYTES)."""
    if max(map(len, filter(None, _keys(event)))) * 4 <= _SHORTEST_KEY:
        return event  # no character takes more than 4 UTF-8 bytes: nothing to encode
    return replace(
        event, **{name: key_safe(value, limit) for name, limit in KEY_BYTES.items() if (value := getattr(event, name))}
    )


def _unicode(texts: str) -> bool:
    """Whether `texts` is Unicode text (JSON lets a string hold a lone surrogate; UTF-8 does not)."""
    if texts.isascii():
        return True
    try:
        texts.encode()
    except UnicodeEncodeError:
        return False
    return True


def to_support_event(record: dict[str, Any]) -> SupportEvent | None:
    """The event a well-formed support record stands for, its key values bounded (KEY_BYTES); None when
    its `eventTime` names no instant or a value it keeps is not Unicode text (a lone surrogate)."""
    moment = parse_event_time(record["eventTime"])
    if moment is None:
        return None
    try:
        identifier = event_id(record)
    except RecursionError:  # no eventID, and nested too deep for json.dumps here: no identity to count it by
        return None
    user_identity = record.get("userIdentity")
    who = identify(user_identity)
    account = nonempty_text(user_identity.get("accountId")) if isinstance(user_identity, dict) else None
    event = SupportEvent(
        event_id=identifier,
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
        user_agent=nonempty_text(record.get("userAgent")),
    )
    return _bounded(event) if _unicode("".join(filter(None, _texts(event)))) else None


def skip_reason(entry: Any) -> str:
    """Why an entry that names the support source is skipped: a fixed phrase, never any of its values."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    for name, valid, wrong in (
        ("eventSource", isinstance(entry.get("eventSource"), str), "not a string"),
        ("eventName", nonempty_text(entry.get("eventName")) is not None, "empty or not a string"),
        ("eventTime", isinstance(entry.get("eventTime"), str), "not a string"),
    ):
        if not valid:
            return f"{name} missing" if entry.get(name) is None else f"{name} {wrong}"
    if parse_event_time(entry["eventTime"]) is None:
        return "eventTime not ISO 8601"
    try:
        event_id(entry)
    except RecursionError:
        return "no eventID and nested too deep to hash"
    return "text not Unicode (a lone surrogate)"


def extract(entries: Iterable[Any]) -> Extraction:
    """Keep the support events of a log's entries; count the malformed entries that name the source."""
    result = Extraction()
    for entry in entries:
        result.entries += 1
        if not is_well_formed(entry):
            if names_source(entry):
                result.skip(skip_reason(entry))
        elif entry["eventSource"] == SUPPORT_EVENT_SOURCE:
            if (event := to_support_event(entry)) is None:
                result.skip(skip_reason(entry))
            else:
                result.events.append(event)
    return result
