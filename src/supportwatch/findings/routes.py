"""The publisher that sends each alert the topic took on to the other routes (Security Hub,
EventBridge, chat), inside the same claim, so once per window there too.

The topic stays the primary path: an alert counts as published when the topic took it, and a route
that refuses it (after its retries) is reported, never a reason to publish the alert again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from supportwatch.alerting import Publisher
from supportwatch.models import Alert

ATTEMPTS = 3


class Route(Protocol):
    name: str

    def send(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        """One attempt: the alerts the route refused, with the reason."""
        ...


def send_with_retries(
    route: Route, alerts: Sequence[Alert], attempts: int = ATTEMPTS, sleep: Callable[[float], None] = time.sleep
) -> dict[Alert, str]:
    """Send, then send again what was refused (throttled, failed entries), backing off; what is still
    refused after `attempts` is returned."""
    refused = route.send(alerts)
    for attempt in range(1, attempts):
        if not refused:
            break
        sleep(0.2 * 2**attempt)
        refused = route.send(list(refused))
    return refused


@dataclass(slots=True)
class RoutedPublisher:
    """`primary` (the SNS topic) first; then every route, for the alerts the primary took."""

    primary: Publisher
    routes: Sequence[Route]
    refused: Callable[[str, dict[Alert, str]], None] = lambda route, refused: None
    sleep: Callable[[float], None] = field(default=time.sleep)

    def publish(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        failed = self.primary.publish(alerts)
        taken = [alert for alert in alerts if alert not in failed]
        for route in self.routes:
            if taken and (refused := send_with_retries(route, taken, sleep=self.sleep)):
                self.refused(route.name, refused)
        return failed
