"""Raising alerts once per window: claim, publish, then record as published.

A claim is taken before publishing and marked published after (the table keeps the alert as sent).
Every attempt claims as its own owner (a Lambda invocation, an SQS message, one file of a backfill
run); a retry of that attempt resumes its own claim. A publish that fails releases its claim, so the
next attempt, by anyone, publishes at once. A claim left by a crash is taken over by the retry of the
same attempt, or by anyone once its lease has run out, so an alert is never swallowed; a published
one is never published again. The stores of claims are DynamoDB (aws/store.py) and, offline, `MemoryClaims`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from supportwatch.models import Alert


class AlertsNotOut(Exception):
    """Some alerts of an object are not out yet: its attempt must be retried. `counted` is how many of its
    events the attempt counted before (its retry finds them counted and would report them as duplicates)."""

    counted: int = 0


class AlertsUndelivered(AlertsNotOut):
    """Some claimed alerts could not be published: the invocation must be retried."""


class AlertsPending(AlertsNotOut):
    """Some alerts are claimed by another live attempt and not published yet: try again shortly."""


class Claims(Protocol):
    def claim(self, alert: Alert, owner: str) -> bool:
        """True when `owner` may publish `alert` now."""
        ...

    def published(self, alert: Alert, owner: str) -> None:
        """Record `alert` as published (kept for the export)."""
        ...

    def release(self, alert: Alert, owner: str) -> None:
        """Give up `owner`'s claim after a failed publish, so anyone may publish at once."""
        ...

    def pending(self, alert: Alert) -> bool:
        """True when another attempt holds the claim and has not published it yet."""
        ...


class Publisher(Protocol):
    def publish(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        """Publish; returns the alerts that could not be published, with the reason."""
        ...


def once_per_claim(alerts: Sequence[Alert]) -> list[Alert]:
    """The alerts in order, the first of each claim key only: claiming a key twice in one attempt would
    succeed twice (a claim is its owner's to resume) and publish it twice."""
    first: dict[str, Alert] = {}
    for alert in alerts:
        first.setdefault(alert.claim_key, alert)
    return list(first.values())


@dataclass(slots=True)
class MemoryClaims:
    """Claims for one offline run."""

    taken: set[str] = field(default_factory=set)

    def claim(self, alert: Alert, owner: str) -> bool:
        if alert.claim_key in self.taken:
            return False
        self.taken.add(alert.claim_key)
        return True

    def published(self, alert: Alert, owner: str) -> None:
        """Claims in memory are published as they are taken."""

    def release(self, alert: Alert, owner: str) -> None:
        self.taken.discard(alert.claim_key)

    def pending(self, alert: Alert) -> bool:
        return False


@dataclass(slots=True)
class CollectingPublisher:
    """Publishes into a list (the offline `scan`)."""

    alerts: list[Alert] = field(default_factory=list)

    def publish(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        self.alerts.extend(alerts)
        return {}


@dataclass(frozen=True, slots=True)
class Alerting:
    """`wait_for_others`: raise AlertsPending while another attempt holds a window unpublished (the
    CLI, which must not report success before every alert of its files is out; a function's
    invocation leaves it to the holder, whose own retries publish it)."""

    claims: Claims
    publisher: Publisher
    wait_for_others: bool = False

    def raise_alerts(self, alerts: Sequence[Alert], owner: str) -> list[Alert]:
        """Publish the alerts whose window is still open, each claim key once; returns those published."""
        due, held = [], []
        for alert in once_per_claim(alerts):
            if self.claims.claim(alert, owner):
                due.append(alert)
            elif self.wait_for_others and self.claims.pending(alert):
                held.append(alert)
        failed = self.publisher.publish(due) if due else {}
        for alert in due:
            if alert in failed:
                self.claims.release(alert, owner)
            else:
                self.claims.published(alert, owner)
        if failed:
            reason = next(iter(failed.values()))
            raise AlertsUndelivered(f"{len(failed)} of {len(due)} alerts could not be published: {reason}")
        if held:
            raise AlertsPending(f"{len(held)} alerts are claimed by another attempt and not published yet")
        return due
