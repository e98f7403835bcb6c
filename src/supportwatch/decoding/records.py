"""Log entries -> the events of the watched services (contract sections 1 and 12), with a tally of malformed
entries."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Annotated, Any, NamedTuple

import msgspec

from supportwatch.decoding.identity import Identity, identify, nonempty_text
from supportwatch.decoding.instants import Moment, parse_event_time
from supportwatch.models import Reveal, SupportEvent
from supportwatch.privacy.seals import CONTEXT_KEY
from supportwatch.services import BEDROCK, DEFAULT_SERVICES, SERVICES, SUPPORT, Q

KMS_SOURCE = "kms.amazonaws.com"
REVEAL_EVENT = "Decrypt"

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
MODEL_BYTES = 1024  # a Bedrock model id is part of a sort key (its counter items), bounded as `call:` names are
UNKNOWN_MODEL = "unknown"  # the model of a Bedrock call that names none


def sources_of(services: tuple[str, ...]) -> dict[str, str]:
    """The eventSource of each watched service -> its name."""
    return {SERVICES[name].source: name for name in services}


SUPPORT_ONLY = sources_of(DEFAULT_SERVICES)


@dataclass(slots=True)
class Extraction:
    """What one log's entries hold: the events of the watched services, how many entries there were, and
    how many of them name a watched source without being a record of it (contract section 1), by reason."""

    events: list[SupportEvent] = field(default_factory=list)
    entries: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # the skipped entries by `skip_reason`
    reveals: list[Reveal] = field(default_factory=list)  # pseudonymous mode: the sealed identities revealed

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.reasons[reason] += 1


NOT_UTF8 = "bytes not UTF-8"


@dataclass(frozen=True, slots=True)
class NotUtf8:
    """An entry whose bytes are not UTF-8 (as `json.loads(bytes)` reads it: encoded surrogates pass):
    never counted, tallied when it names a watched source."""

    text: bytes

    def names_source(self, sources: Iterable[str] = SUPPORT_ONLY) -> bool:
        """Whether it names one of `sources`, its undecodable bytes read as lone surrogates; an entry json
        cannot read even so (nested too deep) is taken to name it."""
        try:
            return names_source(json.loads(self.text.decode("utf-8", "surrogateescape")), sources)
        except (ValueError, RecursionError):
            return True


def is_utf8(text: bytes) -> bool:
    """Whether `json.loads(text)` can decode `text` (UTF-8, encoded surrogates included)."""
    if text.isascii():
        return True
    try:
        text.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


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


def names_source(entry: Any, sources: Iterable[str] = SUPPORT_ONLY) -> bool:
    """Whether one of `sources` appears anywhere in an entry (a key or a string value); an entry nested
    too deep for json.dumps here is taken to name it (tallied rather than failing its file)."""
    try:
        text = json.dumps(entry, ensure_ascii=False)
    except RecursionError:
        return True
    return any(source in text for source in sources)


def key_safe(text: str, limit: int) -> str:
    """`text`, or when longer than `limit` UTF-8 bytes its first bytes and a SHA-256 of the whole, `limit` long."""
    data = text.encode()
    if len(data) <= limit:
        return text
    suffix = "...sha256:" + hashlib.sha256(data).hexdigest()
    return data[: limit - len(suffix)].decode(errors="ignore") + suffix


_texts = attrgetter(*(name for name in SupportEvent.__struct_fields__ if name != "instant"))
_SHORT = min(KEY_BYTES.values()) // 4  # characters: no character takes more than 4 UTF-8 bytes


def bounded(event: SupportEvent) -> SupportEvent:
    """`event` with its key values bounded (KEY_BYTES, read one by one below: the fastest check)."""
    if (
        len(event.event_id) <= _SHORT
        and len(event.identity) <= _SHORT
        and len(event.principal) <= _SHORT
        and len(event.event_name) <= _SHORT
        and len(event.error_code or "") <= _SHORT
        and len(event.source_ip or "") <= _SHORT
    ):
        return event  # nothing to encode
    return msgspec.structs.replace(
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


class Who(NamedTuple):
    """What a `userIdentity` value gives an event: its identity, its account, and whether all of that is Unicode."""

    identity: Identity
    account: str | None
    unicode: bool


def who(user_identity: Any) -> Who:
    """The identity and account of a record's `userIdentity` value (contract section 2)."""
    found = identify(user_identity)
    account = nonempty_text(user_identity.get("accountId")) if isinstance(user_identity, dict) else None
    return Who(found, account, _unicode("".join((*found, account or ""))))


class Texts(msgspec.Struct, kw_only=True, gc=False):
    """The strings of a well-formed support record that its event keeps, under their CloudTrail names."""

    event_name: Annotated[str, msgspec.Meta(min_length=1)] = msgspec.field(name="eventName")
    event_time: str = msgspec.field(name="eventTime")
    recipient: str | None = msgspec.field(name="recipientAccountId", default=None)
    source_ip: str | None = msgspec.field(name="sourceIPAddress", default=None)
    region: str | None = msgspec.field(name="awsRegion", default=None)
    error_code: str | None = msgspec.field(name="errorCode", default=None)
    user_agent: str | None = msgspec.field(name="userAgent", default=None)


_OPTIONAL_TEXTS = [(item.name, item.encode_name) for item in msgspec.structs.fields(Texts) if item.default is None]


def support_event(
    event_id: str, texts: Texts, moment: Moment, user: Who, service: str = SUPPORT, model_id: str | None = None
) -> SupportEvent:
    """The event of a record of a watched service, its key values not yet bounded; an empty string is no value."""
    identity = user.identity
    return SupportEvent(  # by position: a Struct is built faster so (the order of its fields)
        event_id,
        texts.event_name,
        moment.text,
        moment.instant,
        moment.day,
        identity.key,
        identity.identity_type,
        identity.principal,
        user.account or texts.recipient or None,
        texts.source_ip or None,
        texts.region or None,
        texts.error_code or None,
        texts.user_agent or None,
        service,
        model_id,
    )


def counts(record: dict[str, Any], service: str) -> bool:
    """Whether a well-formed record of a watched service counts (contract section 12): never Q's permission
    checks (`requestParameters.dryRun` true) nor Q calling on the user's behalf, never Bedrock's control plane."""
    if service == Q:
        parameters, user = record.get("requestParameters"), record.get("userIdentity")
        return not (
            (isinstance(parameters, dict) and parameters.get("dryRun") is True)
            or (isinstance(user, dict) and user.get("invokedBy") == SERVICES[Q].source)
        )
    return SERVICES[service].counts_name(record["eventName"])


def model_of(record: dict[str, Any]) -> str:
    """A Bedrock call's `requestParameters.modelId` as written (nothing else of it is read), or "unknown"."""
    parameters = record.get("requestParameters")
    return (nonempty_text(parameters.get("modelId")) if isinstance(parameters, dict) else None) or UNKNOWN_MODEL


def to_support_event(record: dict[str, Any], service: str = SUPPORT) -> SupportEvent | None:
    """The event a well-formed record of `service` stands for, its key values bounded (KEY_BYTES, MODEL_BYTES);
    None when its `eventTime` names no instant or a value it keeps is not Unicode text (a lone surrogate)."""
    moment = parse_event_time(record["eventTime"])
    if moment is None:
        return None
    try:
        identifier = event_id(record)
    except RecursionError:  # no eventID, and nested too deep for json.dumps here: no identity to count it by
        return None
    texts = Texts(
        event_name=record["eventName"],
        event_time=record["eventTime"],
        **{name: nonempty_text(record.get(key)) for name, key in _OPTIONAL_TEXTS},
    )
    model = model_of(record) if service == BEDROCK else None
    event = support_event(identifier, texts, moment, who(record.get("userIdentity")), service, model)
    if not _unicode("".join(filter(None, _texts(event)))):
        return None
    if model is not None and len(model) * 4 > MODEL_BYTES:
        event = msgspec.structs.replace(event, model_id=key_safe(model, MODEL_BYTES))
    return bounded(event)


def skip_reason(entry: Any) -> str:
    """Why an entry that names a watched source is skipped: a fixed phrase, never any of its values."""
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


def to_reveal(record: dict[str, Any]) -> Reveal | None:
    """The reveal a well-formed record stands for: a KMS Decrypt that succeeded (no `errorCode`: a refused
    one revealed nothing) whose encryption context names a pseudonym (contract section 10); else None."""
    if record["eventSource"] != KMS_SOURCE or record["eventName"] != REVEAL_EVENT or record.get("errorCode"):
        return None
    parameters = record.get("requestParameters")
    context = parameters.get("encryptionContext") if isinstance(parameters, dict) else None
    pseudonym = nonempty_text(context.get(CONTEXT_KEY)) if isinstance(context, dict) else None
    if pseudonym is None or not _unicode(pseudonym) or (call := to_support_event(record)) is None:
        return None
    return Reveal(key_safe(pseudonym, KEY_BYTES["identity"]), call)


def add_event(record: dict[str, Any], service: str, found: Extraction) -> None:
    """The event of a well-formed record of a watched service into `found`, or the record tallied as skipped;
    a record its service never counts (`counts`) is neither."""
    if not counts(record, service):
        return
    if (event := to_support_event(record, service)) is None:
        found.skip(skip_reason(record))
    else:
        found.events.append(event)


def extract(entries: Iterable[Any], reveals: bool = False, services: tuple[str, ...] = DEFAULT_SERVICES) -> Extraction:
    """Keep the events of the watched services among a log's entries (and with `reveals` the reveals,
    `to_reveal`); count the malformed entries that name a watched source."""
    result = Extraction()
    sources = sources_of(services)
    for entry in entries:
        result.entries += 1
        if isinstance(entry, NotUtf8):
            if entry.names_source(sources):
                result.skip(NOT_UTF8)
        elif not is_well_formed(entry):
            if names_source(entry, sources):
                result.skip(skip_reason(entry))
        elif (service := sources.get(entry["eventSource"])) is not None:
            add_event(entry, service, result)
        elif reveals and (reveal := to_reveal(entry)) is not None:
            result.reveals.append(reveal)
    return result
