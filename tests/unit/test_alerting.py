"""Raising alerts (alerting.py): claim, publish, record; pure, with claims that follow the table's rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from supportwatch.alerting import Alerting, CollectingPublisher
from supportwatch.models import Alert


@dataclass
class OwnedClaims:
    """Claims as the table keeps them: an unpublished claim may be taken again by its own owner (a retry
    resumes it), a published one by nobody."""

    owners: dict[str, str] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)

    def claim(self, alert: Alert, owner: str) -> bool:
        return alert.claim_key not in self.sent and self.owners.setdefault(alert.claim_key, owner) == owner

    def published(self, alert: Alert, owner: str) -> None:
        self.sent.add(alert.claim_key)

    def release(self, alert: Alert, owner: str) -> None:
        self.owners.pop(alert.claim_key, None)

    def pending(self, alert: Alert) -> bool:
        return alert.claim_key in self.owners and alert.claim_key not in self.sent


def tampered(detail: str) -> Alert:
    return Alert(
        rule="tampered-log",
        severity="critical",
        title="CloudTrail log altered: k",
        detail=detail,
        window="object",
        bucket="b",
        key="k",
    )


def test_an_alert_raised_twice_in_one_attempt_is_published_once():
    publisher = CollectingPublisher()
    alerting = Alerting(OwnedClaims(), publisher)
    raised = alerting.raise_alerts([tampered("on arrival"), tampered("late check")], "attempt-1")
    assert [alert.detail for alert in publisher.alerts] == ["on arrival"] and raised == publisher.alerts
    assert alerting.raise_alerts([tampered("again")], "attempt-1") == []
