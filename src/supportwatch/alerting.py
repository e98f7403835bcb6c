"""Raising alerts once per window: claim, publish, then record as published.

A claim is taken before publishing and marked published after. A claim that was taken but never
marked (a crash, or a failed publish) is taken over by the retry of the same invocation, or by
anyone once its lease has run out, so an alert is never swallowed; a published one is never
published again. The stores of claims are DynamoDB (aws/store.py) and, offline, `MemoryClaims`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from supportwatch.models import Alert


class AlertsUndelivered(Exception):
    """Some claimed alerts could not be published: the invocation must be retried."""


class Claims(Protocol):
    def claim(self, alert: Alert, owner: str) -> bool:
        """True when `owner` may publish `alert` now."""
        ...

    def published(self, alert: Alert, owner: str) -> None: ...


class Publisher(Protocol):
    def publish(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        """Publish; returns the alerts that could not be published, with the reason."""
        ...


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


@dataclass(slots=True)
class CollectingPublisher:
    """Publishes into a list (the offline `scan`)."""

    alerts: list[Alert] = field(default_factory=list)

    def publish(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        self.alerts.extend(alerts)
        return {}


@dataclass(frozen=True, slots=True)
class Alerting:
    claims: Claims
    publisher: Publisher

    def raise_alerts(self, alerts: Sequence[Alert], owner: str) -> list[Alert]:
        """Publish the alerts whose window is still open; returns those published."""
        due = [alert for alert in alerts if self.claims.claim(alert, owner)]
        failed = self.publisher.publish(due) if due else {}
        for alert in due:
            if alert not in failed:
                self.claims.published(alert, owner)
        if failed:
            reason = next(iter(failed.values()))
            raise AlertsUndelivered(f"{len(failed)} of {len(due)} alerts could not be published: {reason}")
        return due
