"""Small typed models shared by every stage (no AWS, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from supportwatch.services import SUPPORT


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One log object to read: S3 coordinates (key already URL-decoded) or a local path."""

    bucket: str
    key: str
    size: int | None = None
    version_id: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.bucket else self.key


class SupportEvent(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The fields of one Support Recommendations record that the summaries use.

    The typed text (`requestParameters.message`) is deliberately not one of them. `event_time` is
    the record's time written as CloudTrail writes it (`2023-09-11T16:34:13Z`, whatever form the
    record used); `instant` is that time in UTC epoch microseconds (what orders events, to the
    microsecond) and `day` its UTC day. A msgspec Struct: a file can hold tens of thousands of them, and a
    Struct is built several times faster than a frozen dataclass; encoded as an array (`array_like`), without
    its field names, as a decoding worker sends them (cli/jobs.py).
    """

    event_id: str
    event_name: str
    event_time: str
    instant: int
    day: str
    identity: str
    identity_type: str
    principal: str
    account_id: str | None
    source_ip: str | None
    region: str | None
    error_code: str | None
    user_agent: str | None = None  # for alerts only; not stored in the table
    service: str = "support"  # which watched service (supportwatch.services); "support" unless more are watched
    model_id: str | None = None  # bedrock: `requestParameters.modelId` as written, "unknown" when absent


class Reveal(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A KMS Decrypt that revealed the identity sealed under `pseudonym` (contract section 10); `call`
    holds the Decrypt record's fields as a SupportEvent holds a support record's: who called, when, from where."""

    pseudonym: str
    call: SupportEvent


@dataclass(slots=True)
class Summary:
    """Contract section 3 for one identity (`day` None) or one identity on one UTC day.

    Also the unit of change: a summary built from a few events is the delta that is
    merged into the stored or in-memory one. First and last seen are ordered by their instants
    (UTC epoch microseconds), and written as CloudTrail writes them (the UTC instant to the second).
    """

    identity: str
    day: str | None
    identity_type: str
    principal: str
    first_seen: str
    first_instant: int
    first_event_id: str
    last_seen: str
    last_instant: int
    total_calls: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    error_calls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    account_ids: set[str] = field(default_factory=set)
    source_ips: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    services: dict[str, int] = field(default_factory=dict)  # {service: calls} (contract section 12)
    models: dict[str, int] = field(default_factory=dict)  # {modelId: calls} of bedrock events

    def to_export(self, services: bool = False) -> dict[str, Any]:
        """The contract's export fields (section 4), identity excluded; with `services` (more than
        `support` watched, section 12) also `services` and, when it used Bedrock, `models`."""
        fields = {
            "identityType": self.identity_type,
            "principal": self.principal,
            "accountIds": sorted(self.account_ids),
            "totalCalls": self.total_calls,
            "calls": dict(sorted(self.calls.items())),
            "errorCalls": self.error_calls,
            "errors": dict(sorted(self.errors.items())),
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "sourceIps": sorted(self.source_ips),
            "regions": sorted(self.regions),
        }
        if services:
            fields["services"] = dict(sorted(self.services.items()))
            if self.models:
                fields["models"] = dict(sorted(self.models.items()))
        return fields


def identity_subject(identity: str, service: str | None) -> str:
    """What an alert about an identity's calls of `service` is once per (contract section 12): the identity
    for support (as before services existed, so its claims still hold), `<service>:<identity>` otherwise."""
    return identity if service in (None, SUPPORT) else f"{service}:{identity}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert (contract section 5). `window` is a UTC day, `ever` or `object`."""

    rule: str
    severity: str
    window: str
    title: str
    detail: str
    identity: str | None = None
    identity_type: str | None = None
    principal: str | None = None
    account_id: str | None = None
    event_name: str | None = None
    event_time: str | None = None
    event_id: str | None = None
    source_ip: str | None = None
    region: str | None = None
    user_agent: str | None = None
    bucket: str | None = None
    key: str | None = None
    service: str | None = None  # the watched service, set only when more than `support` is watched
    revealed_by: str | None = None  # identity-revealed: the identity key of who revealed `identity`, in clear

    @property
    def subject(self) -> str:
        """What the alert is once per: its identity, its event name, or its object (`bucket/key`); an alert
        about another service than `support` is once per identity and service (`identity_subject`)."""
        if self.rule == "new-event-name":
            return str(self.event_name)
        if self.window == "object":
            return f"{self.bucket}/{self.key}" if self.bucket else str(self.key)
        return identity_subject(str(self.identity), self.service)

    @property
    def claim_key(self) -> str:
        """What "once per window" is counted over: the rule, its subject and the window."""
        return f"{self.rule}#{self.window}#{self.subject}"

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Alert:
        """The alert of its JSON (`to_json`), e.g. as a subscriber received it."""
        return cls(
            **{name: document.get(key) for key, name in ALERT_FIELDS.items()},
            service=document.get(SERVICE),
            revealed_by=document.get(REVEALED_BY),
        )

    def to_json(self) -> dict[str, Any]:
        """The alert JSON; `service` only when more than `support` is watched and `revealedBy` only on
        identity-revealed alerts (every other alert reads as before)."""
        found = {key: getattr(self, name) for key, name in ALERT_FIELDS.items()}
        if self.service is not None:
            found[SERVICE] = self.service
        if self.revealed_by is not None:
            found[REVEALED_BY] = self.revealed_by
        return found


ALERT_FIELDS = {  # the alert JSON's keys (contract section 5), in the order they are written
    "rule": "rule",
    "severity": "severity",
    "title": "title",
    "detail": "detail",
    "identity": "identity",
    "identityType": "identity_type",
    "principal": "principal",
    "accountId": "account_id",
    "eventName": "event_name",
    "eventTime": "event_time",
    "eventId": "event_id",
    "sourceIp": "source_ip",
    "region": "region",
    "userAgent": "user_agent",
    "window": "window",
    "bucket": "bucket",
    "key": "key",
}
SERVICE = "service"  # contract section 12: the watched service an alert is about, when more than support is watched
REVEALED_BY = "revealedBy"  # identity-revealed only: who revealed the pseudonym (contract section 10)
