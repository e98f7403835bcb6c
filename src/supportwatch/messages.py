"""How an alert reads on SNS: the subject, the JSON body, an email body and filterable attributes."""

from __future__ import annotations

import json
from typing import Any

from supportwatch.models import Alert

WINDOWS = {"ever": "ever", "object": "log file"}
ADVICE = {
    "new-identity": "Check that this person or role is expected to use Support Recommendations.",
    "root-usage": "Find out who holds the root credentials and why they were used; root should be locked away.",
    "access-denied": "Someone tried and was refused: check whether a policy is missing or the attempt is unwanted.",
    "volume": "Unusual volume: check whether the identity is automated or its credentials are misused.",
    "not-allowlisted": "Add the identity to the allowlist if expected, otherwise review its credentials.",
    "new-event-name": "The service has a new API call: review what it does and whether the rules should cover it.",
    "unreadable-log": "Inspect the object: a corrupt, truncated or foreign file in the log bucket needs explaining.",
}


def email_body(alert: Alert, dig_in: str) -> str:
    """Plain text for a mail client: what, who, from where, when, which file, what next."""
    window = WINDOWS.get(alert.window, f"UTC day {alert.window}")
    lines = [
        alert.title,
        "",
        f"What happened: {alert.detail}",
        f"Rule: {alert.rule} (severity {alert.severity}; raised once per {window})",
    ]
    if alert.identity:
        lines += [
            f"Who: {alert.identity} ({alert.identity_type}), principal {alert.principal}",
            f"Account: {alert.account_id or 'unknown'}",
            f"From: {alert.source_ip or 'unknown source IP'}",
            f"When: {alert.event_time} ({alert.event_name}, event {alert.event_id})",
        ]
    location = f"s3://{alert.bucket}/{alert.key}" if alert.bucket else alert.key
    lines += [f"Log file: {location}", "", "What to do next:", f"- {ADVICE[alert.rule]}"]
    if dig_in:
        lines += ["- Dig in:", f"  {dig_in}"]
    return "\n".join(lines) + "\n"


def sns_message(alert: Alert, dig_in: str) -> dict[str, Any]:
    """The fields of a Publish (or PublishBatch entry) for one alert."""
    attributes = {"rule": alert.rule, "severity": alert.severity, "accountId": alert.account_id or "unknown"}
    return {
        "Subject": alert.title,
        "MessageStructure": "json",
        "Message": json.dumps({"default": json.dumps(alert.to_json()), "email": email_body(alert, dig_in)}),
        "MessageAttributes": {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    }
