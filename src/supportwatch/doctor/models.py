"""What doctor read from AWS, and what it concludes (typed, no AWS, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from supportwatch.services import DEFAULT_SERVICES

Status = Literal["pass", "fail", "warn"]


@dataclass(frozen=True, slots=True)
class Check:
    """One verdict: a short name, its status, one line of detail and the exact fix (empty on pass)."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def document(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class Unread:
    """A read doctor could not make: the IAM action, what it was about, and AWS's error code."""

    action: str
    target: str
    code: str

    @property
    def denied(self) -> bool:
        return "denied" in self.code.lower() or "unauthorized" in self.code.lower()


@dataclass(frozen=True, slots=True)
class BasicSelector:
    """A trail's basic event selector (management part only; data resources are kept for the fix)."""

    read_write: str = "All"  # All | ReadOnly | WriteOnly
    management: bool = True
    excluded_sources: tuple[str, ...] = ()
    raw: dict[str, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """One condition of an advanced event selector, with AWS's operators."""

    field: str
    equals: tuple[str, ...] = ()
    starts_with: tuple[str, ...] = ()
    ends_with: tuple[str, ...] = ()
    not_equals: tuple[str, ...] = ()
    not_starts_with: tuple[str, ...] = ()
    not_ends_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AdvancedSelector:
    name: str
    fields: tuple[FieldSelector, ...]


@dataclass(frozen=True, slots=True)
class Selectors:
    basic: tuple[BasicSelector, ...] = ()
    advanced: tuple[AdvancedSelector, ...] = ()


@dataclass(frozen=True, slots=True)
class TrailStatus:
    logging: bool
    delivery_error: str = ""
    latest_delivery: datetime | None = None


@dataclass(frozen=True, slots=True)
class Trail:
    """A trail as DescribeTrails shows it, with its status and selectors when they could be read."""

    name: str
    arn: str
    home_region: str
    multi_region: bool
    organization: bool
    bucket: str
    prefix: str  # S3KeyPrefix, "" when none
    validation: bool
    status: TrailStatus | None = None
    selectors: Selectors | None = None

    @property
    def key_root(self) -> str:
        """What the trail's keys start with: `[prefix/]AWSLogs/`."""
        return f"{self.prefix.strip('/')}/AWSLogs/" if self.prefix.strip("/") else "AWSLogs/"


@dataclass(frozen=True, slots=True)
class Notification:
    """One S3 event notification of the bucket: its target (function, queue or topic ARN) and filter."""

    target: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """The EventBridge rule of existing-bucket mode."""

    name: str
    enabled: bool
    buckets: tuple[str, ...]
    key_patterns: tuple[str, ...]  # the rule's `wildcard`/`prefix` key filters, as `*` patterns
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Newest:
    """The newest object found in one account's and region's folder, or None when none in the lookback."""

    account: str
    region: str
    time: datetime | None
    key: str = ""


@dataclass(frozen=True, slots=True)
class Deployment:
    """A supportwatch stack and what it is wired to, as read with `--stack`."""

    stack: str
    trigger: str  # S3 (TrailBucketMode=create) | EventBridge | SQS (TrailBucketMode=existing)
    bucket: str
    prefix: str  # the LogKeyPrefix parameter ("" or without slashes at the ends)
    function: str
    function_arn: str = ""
    ingest_queue_arn: str = ""
    queues: tuple[tuple[str, str], ...] = ()  # (name, URL) of every dead-letter queue, named as in the template
    notifications: tuple[Notification, ...] | None = None  # None: could not be read
    notification_document: dict[str, object] = field(default_factory=dict)  # as read, for the fix
    eventbridge_on: bool | None = None
    rule: Rule | None = None
    errors: float | None = None
    throttles: float | None = None
    depths: tuple[tuple[str, str, int], ...] = ()  # (name, URL, messages) of the queues that could be read
    logs: tuple[Newest, ...] | None = None
    digests: tuple[Newest, ...] | None = None
    services: tuple[str, ...] = DEFAULT_SERVICES  # the WatchedServices parameter

    @property
    def key_root(self) -> str:
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"


@dataclass(frozen=True, slots=True)
class Observed:
    """Everything doctor read: the account, its regions, trails, the stack, and what it could not read; and the
    services whose calls the trails must deliver."""

    account: str
    regions: tuple[str, ...]
    trails: tuple[Trail, ...]
    now: datetime
    deployment: Deployment | None = None
    unread: tuple[Unread, ...] = ()
    trails_read: bool = True  # False: DescribeTrails failed in every region
    services: tuple[str, ...] = DEFAULT_SERVICES
