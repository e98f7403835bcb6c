"""The routes of contract section 11 on AWS: Security Hub's BatchImportFindings, EventBridge's PutEvents
on the default bus and the chat topic; each takes the alerts the alert topic took (findings/routes.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from supportwatch.aws.clients import AWS_ERRORS, explain
from supportwatch.aws.notify import SnsPublisher
from supportwatch.config import Settings
from supportwatch.findings import asff, events
from supportwatch.findings.chat import chat_notification
from supportwatch.findings.routes import Route
from supportwatch.messages import sns_message
from supportwatch.models import Alert

FINDING_BYTES = 240 * 1024  # Security Hub refuses a larger finding


class SecurityHubRoute:
    """Every alert as one finding of the account's own product (`product_arn`), 100 per request."""

    name = "securityhub"

    def __init__(self, securityhub: Any, product_arn: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._securityhub = securityhub
        _, _, _, self._region, self._account, _ = product_arn.split(":", 5)
        self._clock = clock

    def send(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        now = self._clock()
        refused: dict[Alert, str] = {}
        batch: dict[str, tuple[Alert, dict[str, Any]]] = {}
        for alert in alerts:
            found = asff.finding(alert, self._account, self._region, now)
            if len(json.dumps(found).encode()) > FINDING_BYTES:
                refused[alert] = "the finding is over Security Hub's 240 KB"
            else:
                batch[found["Id"]] = (alert, found)
        pending = list(batch.values())
        for start in range(0, len(pending), asff.BATCH):
            part = pending[start : start + asff.BATCH]
            try:
                response = self._securityhub.batch_import_findings(Findings=[found for _, found in part])
            except AWS_ERRORS as error:
                refused |= {alert: explain(error) for alert, _ in part}
                continue
            for failure in response.get("FailedFindings", []):
                alert = batch[failure["Id"]][0]
                refused[alert] = f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage', '')}"
        return refused


class EventBridgeRoute:
    """Every alert as one event on the account's default bus, 10 per PutEvents."""

    name = "eventbridge"

    def __init__(self, eventbridge: Any) -> None:
        self._eventbridge = eventbridge

    def send(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        refused: dict[Alert, str] = {}
        for start in range(0, len(alerts), events.BATCH):
            part = alerts[start : start + events.BATCH]
            try:
                response = self._eventbridge.put_events(Entries=[events.event_entry(alert) for alert in part])
            except AWS_ERRORS as error:
                refused |= {alert: explain(error) for alert in part}
                continue
            for alert, entry in zip(part, response.get("Entries", []), strict=False):
                if entry.get("ErrorCode"):
                    refused[alert] = f"{entry['ErrorCode']}: {entry.get('ErrorMessage', '')}"
        return refused


class ChatRoute(SnsPublisher):
    """Every alert as one custom notification of AWS's chat integration on the chat topic."""

    name = "chat"

    def _message(self, alert: Alert) -> dict[str, Any]:
        attributes = sns_message(alert)["MessageAttributes"]  # the alert topic's, for filter policies
        return {"Message": json.dumps(chat_notification(alert, self.dig_in(alert))), "MessageAttributes": attributes}

    def send(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        return self.publish(alerts)


def alert_routes(settings: Settings, client: Callable[[str], Any], table: Any) -> list[Route]:
    """The routes the settings switch on (none by default)."""
    routes: list[Route] = []
    if settings.security_hub_product_arn:
        routes.append(SecurityHubRoute(client("securityhub"), settings.security_hub_product_arn))
    if settings.eventbridge_alerts:
        routes.append(EventBridgeRoute(client("events")))
    if settings.chat_topic_arn:
        routes.append(ChatRoute(client("sns"), settings.chat_topic_arn, table))
    return routes
