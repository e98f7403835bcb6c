"""One log object through routing, decoding, filtering, the exactly-once sink and the alert rules.

Shared by the Lambda handler and the CLI: the sink and claims are DynamoDB there, memory offline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from supportwatch import rules
from supportwatch.aggregate import CommitResult, DayKey
from supportwatch.alerting import Alerting, AlertsNotOut
from supportwatch.config import AlertSettings
from supportwatch.decoding import UnreadableLog, read_events
from supportwatch.decoding.inflate import GZIP_MAGIC, ContentHash
from supportwatch.decoding.records import Extraction
from supportwatch.integrity.digest import is_digest_key, stream_of
from supportwatch.integrity.watch import Verdict
from supportwatch.models import Alert, ObjectRef, SupportEvent
from supportwatch.privacy import Pseudonymizer
from supportwatch.routing import skip_reason
from supportwatch.services import DEFAULT_SERVICES, extended

Outcome = Literal["counted", "skipped", "unreadable", "unavailable", "digest"]


class ObjectUnavailable(Exception):
    """The object could not be read at all (gone, access denied): a permanent condition."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sink(Protocol):
    def commit(self, source: str, events: Sequence[SupportEvent]) -> CommitResult: ...

    def day_calls(self, keys: Iterable[DayKey]) -> dict[DayKey, int]: ...


class LogRecorder(Protocol):
    def record(self, ref: ObjectRef, sha256: str | None, size: int, outcome: str) -> None:
        """Keep what was processed of a log file, for the digest that will list it."""
        ...


class Sealer(Protocol):
    def seal(self, events: Sequence[SupportEvent]) -> int:
        """Seal the identities of `events` that are not sealed yet (contract section 10)."""
        ...


class DigestChecker(Protocol):
    def arrived(self, ref: ObjectRef) -> Verdict | None:
        """Check a digest file as it arrives; None when it is gone."""
        ...


Fetch = Callable[[ObjectRef], bytes]


@dataclass(frozen=True, slots=True)
class Limits:
    """How far a log object may inflate: in all, and on the exact path (None: as far as `max_bytes`);
    whether the reveals of sealed identities are looked for too (pseudonymous mode); and whose events are
    read: the watched services (contract section 12)."""

    max_bytes: int
    exact_max_bytes: int | None = None
    reveals: bool = False
    services: tuple[str, ...] = DEFAULT_SERVICES


@dataclass(frozen=True, slots=True)
class Read:
    """One log object fetched and decoded, before anything is committed: plain data that msgspec encodes, so
    that worker processes can decode while one process commits (`supportwatch scan --jobs`, cli/jobs.py)."""

    extraction: Extraction | None = None
    size: int = 0  # bytes fetched
    sha256: str | None = None  # of the uncompressed content, when asked for and read to its end
    unreadable: str | None = None  # why it cannot be decoded (contract section 6)
    unavailable: str | None = None  # why it cannot be fetched at all


def decode_log(key: str, data: bytes, limits: Limits, hashed: bool) -> Read:
    """A log object's bytes -> the events of the watched services, or why they cannot be read; pure."""
    content = ContentHash() if hashed else None
    try:
        extraction = read_events(
            data, limits.max_bytes, limits.exact_max_bytes, content, limits.reveals, limits.services
        )
    except UnreadableLog as error:
        reason = error.reason
        if key.endswith(".gz") and not data.startswith(GZIP_MAGIC) and reason.startswith("not JSON"):
            reason = "not gzip and not JSON: the name ends in .gz but the content has no gzip header"
        return Read(size=len(data), sha256=_hexdigest(content), unreadable=reason)
    return Read(extraction, len(data), _hexdigest(content))


def _hexdigest(content: ContentHash | None) -> str | None:
    return content.hexdigest() if content is not None and content.complete else None


Decode = Callable[[str, bytes, Limits, bool], Read]


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
    alerts: int = 0
    alert_rules: tuple[str, ...] = ()  # the rule of each alert published (for the per-rule metric)
    skip_reasons: tuple[tuple[str, int], ...] = ()  # (reason, count) of the skipped entries
    # Contract section 12, for the per-service metrics only (never in `fields`): (service, events read) of
    # the services the object holds events of, when more than support is watched; each alert's service.
    service_events: tuple[tuple[str, int], ...] = ()
    alert_services: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        """Structured fields for a log line (never any record content)."""
        found = {
            "bucket": self.ref.bucket or None,
            "key": self.ref.key,
            "outcome": self.outcome,
            "reason": self.reason,
            "entries": self.entries,
            "skippedEntries": self.skipped_entries,
            "skipReasons": dict(self.skip_reasons) or None,
            "supportEvents": self.support_events,
            "counted": self.counted,
            "duplicates": self.duplicates,
            "alerts": self.alerts,
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
            skip_reasons=tuple(fields.get("skipReasons", {}).items()),
            support_events=fields["supportEvents"],
            counted=fields["counted"],
            duplicates=fields["duplicates"],
            alerts=fields["alerts"],
        )


@dataclass(frozen=True, slots=True)
class Processor:
    """Processes log objects into a sink and raises their alerts."""

    fetch: Fetch
    sink: Sink
    alerting: Alerting
    alert_settings: AlertSettings
    max_bytes: int
    exact_max_bytes: int | None = None
    log_book: LogRecorder | None = None  # integrity (contract section 7): what each processed log hashed to
    digests: DigestChecker | None = None  # integrity: digest files are checked, not skipped
    # Contract section 10: the sink, the claims and the alerts hold pseudonyms; the rules see real values.
    privacy: Pseudonymizer | None = None
    sealer: Sealer | None = None  # pseudonymous mode: each identity sealed before its pseudonym is stored
    reveal_home: tuple[str, str] | None = None  # the reveal key's (account, region): only its logs hold reveals
    decode: Decode = decode_log  # or a pool of processes decoding several objects at once
    services: tuple[str, ...] = DEFAULT_SERVICES  # the watched services (contract section 12)

    def process(self, ref: ObjectRef, owner: str, read: Read | None = None) -> ObjectReport:
        """Read one object, commit its support events and raise its alerts; transient failures propagate.

        `owner` names the attempt (Lambda's request id, the same across its retries) for alert claims.
        `read` is what `prefetch` gave for the object (maybe decoded in another process meanwhile).
        """
        if self.digests is not None and is_digest_key(ref.key):
            return self._digest(self.digests, ref, owner)
        if reason := skip_reason(ref.key):
            return ObjectReport(ref, "skipped", reason)
        read = read or self._read(ref)
        if read.unavailable is not None:
            raised = self.alerting.raise_alerts(rules.unavailable(ref, read.unavailable, self.alert_settings), owner)
            return ObjectReport(ref, "unavailable", read.unavailable, **_alerts(raised))
        if read.extraction is None:
            self._record(ref, read, "unreadable")
            reason = read.unreadable or "unreadable"
            raised = self.alerting.raise_alerts(rules.unreadable(ref, reason, self.alert_settings), owner)
            return ObjectReport(ref, "unreadable", reason, **_alerts(raised))
        extraction = read.extraction
        events, show = extraction.events, rules.as_is
        if self.privacy is not None:
            events, show = [self.privacy.event(event) for event in extraction.events], self.privacy.event
        if self.sealer is not None and extraction.events:
            self.sealer.seal(extraction.events)
        result = self.sink.commit(ref.uri, events)
        self._record(ref, read, "counted")
        days = {(event.identity, event.day, event.service) for event in result.ours}
        calls = self.sink.day_calls(days) if "volume" in self.alert_settings.rules else {}
        ours = result.ours if self.privacy is None else _real(result.ours, extraction.events)
        alerts = rules.evaluate(ref, ours, calls, self.alert_settings, show, self.services)
        if self.privacy is not None and extraction.reveals:
            alerts += rules.revealed(ref, extraction.reveals, self.alert_settings, self.privacy.source_ip)
        try:
            raised = self.alerting.raise_alerts(alerts, owner)
        except AlertsNotOut as error:
            error.counted = result.counted
            raise
        return ObjectReport(
            ref,
            "counted",
            entries=extraction.entries,
            skipped_entries=extraction.skipped,
            skip_reasons=tuple(sorted(extraction.reasons.items())),
            support_events=len(extraction.events),
            service_events=per_service(extraction.events, self.limits.services),
            counted=result.counted,
            duplicates=result.duplicates,
            **_alerts(raised),
        )

    def prefetch(self, ref: ObjectRef) -> Read | None:
        """What `process` will read of the object, read now with no side effect (None: it reads nothing),
        so that several objects are fetched and decoded at once while they are processed one by one."""
        if (self.digests is not None and is_digest_key(ref.key)) or skip_reason(ref.key):
            return None
        return self._read(ref)

    def _read(self, ref: ObjectRef) -> Read:
        try:
            data = self.fetch(ref)
        except ObjectUnavailable as error:
            return Read(unavailable=error.reason)
        limits = self.limits
        if limits.reveals and not may_reveal(ref.key, self.reveal_home):
            limits = replace(limits, reveals=False)
        return self.decode(ref.key, data, limits, self.log_book is not None)

    @property
    def limits(self) -> Limits:
        # only a pseudonymous deployment seals identities, so only it looks for their reveals
        return Limits(self.max_bytes, self.exact_max_bytes, reveals=self.privacy is not None, services=self.services)

    def _record(self, ref: ObjectRef, read: Read, outcome: str) -> None:
        if self.log_book is not None:
            self.log_book.record(ref, read.sha256, read.size, outcome)

    def _digest(self, digests: DigestChecker, ref: ObjectRef, owner: str) -> ObjectReport:
        verdict = digests.arrived(ref)
        if verdict is None:
            return ObjectReport(ref, "unavailable", "digest file no longer exists")
        raised = self.alerting.raise_alerts(verdict.alerts, owner)
        return ObjectReport(ref, "digest", verdict.summary, **_alerts(raised))


def may_reveal(key: str, home: tuple[str, str] | None) -> bool:
    """Whether a log object can hold a reveal of the key of `home` (account, region): CloudTrail logs a KMS
    call in the key's region, in the key owner's account (and the caller's), so a log CloudTrail named for
    another account or region cannot; any other name (offline files, no known key) may."""
    if home is None or (stream := stream_of(key)) is None:
        return True
    return (stream.account_folder.rstrip("/").rsplit("/", 1)[-1], stream.region) == home


def _real(stored: Sequence[SupportEvent], real: Sequence[SupportEvent]) -> list[SupportEvent]:
    """The real events behind the stored (pseudonymous) ones, by eventID (the first delivered wins)."""
    by_id: dict[str, SupportEvent] = {}
    for event in real:
        by_id.setdefault(event.event_id, event)
    return [by_id[event.event_id] for event in stored]


def per_service(events: Sequence[SupportEvent], watched: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """(service, events) of each service the events belong to, when more than `support` is watched."""
    return tuple(sorted(Counter(event.service for event in events).items())) if extended(watched) else ()


def _alerts(raised: list[Alert]) -> dict[str, Any]:
    """An ObjectReport's alert fields: how many were published, their rules and services."""
    return {
        "alerts": len(raised),
        "alert_rules": tuple(alert.rule for alert in raised),
        "alert_services": tuple(alert.service for alert in raised if alert.service),
    }
