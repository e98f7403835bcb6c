"""An alert as a custom notification of AWS's chat integration (Amazon Q Developer in chat
applications, formerly AWS Chatbot) for Slack, Microsoft Teams and Amazon Chime: a `version` 1.0,
`source` `custom` message whose `content` has a title, a short markdown description and next steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from supportwatch.findings.asff import finding_id
from supportwatch.messages import advice, service_name
from supportwatch.models import Alert

EMOJI = {
    "critical": ":rotating_light:",
    "high": ":warning:",
    "medium": ":large_orange_diamond:",
    "low": ":information_source:",
}


def _description(alert: Alert) -> str:
    lines = [alert.detail, f"*Rule:* `{alert.rule}` · *Severity:* {alert.severity} · *Window:* {alert.window}"]
    if service := service_name(alert):
        lines.append(f"*Service:* {service}")
    if alert.identity:
        lines += [
            f"*Who:* `{alert.identity}` "
            + (f"revealed by `{alert.revealed_by}`" if alert.revealed_by else f"({alert.identity_type})")
            + f" · *Account:* {alert.account_id or 'unknown'}",
            f"*From:* {alert.source_ip or 'unknown'} in {alert.region or 'unknown'} · *When:* {alert.event_time}"
            f" ({alert.event_name})",
        ]
    if alert.key:
        lines.append(f"*Log file:* `{f's3://{alert.bucket}/{alert.key}' if alert.bucket else alert.key}`")
    return "\n".join(lines)


def chat_notification(alert: Alert, dig_in: Sequence[str] = ()) -> dict[str, Any]:
    """The notification; `id` and `threadId` are the finding's, so updates of one alert thread together."""
    return {
        "version": "1.0",
        "source": "custom",
        "id": finding_id(alert),
        "content": {
            "textType": "client-markdown",
            "title": f"{EMOJI[alert.severity]} {alert.title}",
            "description": _description(alert),
            "nextSteps": [advice(alert), *(f"`{command}`" for command in dig_in)],
            "keywords": [
                alert.rule,
                alert.severity,
                *([alert.account_id] if alert.account_id else []),
                *([alert.service] if alert.service else []),
            ],
        },
        "metadata": {"threadId": finding_id(alert), "summary": alert.title},
    }
