"""How an alert reads on SNS: the subject, the JSON body, an email body and filterable attributes."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from typing import Any

from supportwatch.identities.short import shorten_texts
from supportwatch.models import Alert
from supportwatch.services import SERVICES, SUPPORT

SUBJECT_LIMIT = 99  # SNS: a Subject is fewer than 100 ASCII characters, without control characters
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
ADVICE = {
    "new-identity": "Check that this person or role is expected to use Support Recommendations.",
    "root-usage": "Find out who holds the root credentials and why they were used; root should be locked away.",
    "access-denied": "Someone tried and was refused: check whether a policy is missing or the attempt is unwanted.",
    "volume": "Unusual volume: check whether the identity is automated or its credentials are misused.",
    "not-allowlisted": "Add the identity to the allowlist if expected, otherwise review its credentials.",
    "new-event-name": "The service has a new API call: review what it does and whether the rules should cover it.",
    "unreadable-log": "Inspect the object: a corrupt, truncated or foreign file in the log bucket needs explaining.",
    "tampered-log": "The log file differs from what CloudTrail delivered: find who wrote it (S3 server access or "
    "data events) and count the original, if a version of it is kept.",
    "missing-log": "A log file CloudTrail delivered was never counted: re-read it with the backfill line in the "
    "detail, or find who deleted it.",
    "unlisted-log": "A log file CloudTrail never delivered is in the bucket: find who wrote it; its events may be "
    "forged.",
    "digest-invalid": "A digest file fails its signature or chain: find who changed it; run supportwatch verify.",
    "digest-missing": "A digest file was deleted: find who deleted it; run supportwatch verify over those hours.",
    "unavailable-log": "Restore the function's read access (bucket or KMS key policy) or the object, then redrive it.",
    "identity-revealed": "Check that the reveal was authorised (an investigation, a data subject's request) and "
    "recorded; whoever revealed is named in the alert.",
}


def advice(alert: Alert) -> str:
    """What to do next about an alert; a new user of another service than support is checked against it."""
    if alert.rule == "new-identity" and alert.service not in (None, SUPPORT):
        return f"Check that this person or role is expected to use {SERVICES[alert.service].label}."
    return ADVICE[alert.rule]


def _one_line(text: str) -> str:
    return " ".join(CONTROL.sub(" ", text).encode("ascii", "replace").decode().split())


def subject_line(text: str, arn: str | None = None) -> str:
    """One ASCII line of fewer than 100 characters without control characters, as SNS requires; a long
    `arn` inside it is shortened as every list shortens identities (identities/short.py)."""
    return shorten_texts([_one_line(text)], [_one_line(arn) if arn else None], SUBJECT_LIMIT, "...")[0]


def _raised(alert: Alert) -> str:
    """How often the rule raises this alert."""
    per_service = " and service" if alert.service else ""
    if alert.window == "ever":
        subject = "event name" if alert.rule == "new-event-name" else f"identity{per_service}"
        return f"raised once ever for this {subject}"
    if alert.window == "object":
        return "raised once per log file"
    subject = "pseudonym" if alert.revealed_by else "identity"
    return f"raised once per {subject}{per_service} per UTC day, here {alert.window}"


def service_name(alert: Alert) -> str | None:
    """The service an alert is about, as people call it (`Amazon Q (q)`); None when it names none."""
    return f"{SERVICES[alert.service].label} ({alert.service})" if alert.service else None


def who(alert: Alert) -> str:
    """Whom an alert is about: the identity, its type and principal; a revealed pseudonym and who revealed it."""
    if alert.revealed_by:
        return f"{alert.identity}, revealed by {alert.revealed_by}"
    return f"{alert.identity} ({alert.identity_type}), principal {alert.principal}"


def query_command(table: str, region: str | None, identity: str, service: str | None = None) -> str:
    """The `supportwatch query` line that shows an identity's summary and day-by-day history; about
    another service than support, with its calls per service and models (`--services`)."""
    where = f" --region {shlex.quote(region)}" if region else ""
    services = f" --services {service}" if service not in (None, SUPPORT) else ""
    return f"supportwatch query --table {shlex.quote(table)}{where}{services} --identity {shlex.quote(identity)}"


def email_body(alert: Alert, dig_in: Sequence[str] = ()) -> str:
    """Plain text for a mail client: what, who, from where, when, which file, what next."""
    lines = [
        subject_line(alert.title, alert.identity),
        "",
        f"What happened: {alert.detail}",
        f"Rule: {alert.rule} (severity {alert.severity}; {_raised(alert)})",
    ]
    if service := service_name(alert):
        lines.append(f"Service: {service}")
    if alert.identity:
        lines += [
            f"Who: {who(alert)}",
            f"Account: {alert.account_id or 'unknown'}",
            f"From: {alert.source_ip or 'unknown source IP'}, region {alert.region or 'unknown'}",
            f"User agent: {alert.user_agent or 'unknown'}",
            f"When: {alert.event_time} ({alert.event_name}, event {alert.event_id})",
        ]
    location = f"s3://{alert.bucket}/{alert.key}" if alert.bucket else alert.key
    lines += [f"Log file: {location}", "", "What to do next:", f"- {advice(alert)}"]
    if dig_in:
        lines += ["- Dig in:", *(f"  {command}" for command in dig_in)]
    return "\n".join(lines) + "\n"


def sns_message(alert: Alert, dig_in: Sequence[str] = ()) -> dict[str, Any]:
    """The fields of a Publish (or PublishBatch entry) for one alert."""
    attributes = {"rule": alert.rule, "severity": alert.severity, "accountId": alert.account_id or "unknown"}
    if alert.service:
        attributes["service"] = alert.service  # contract section 12: subscribers filter on it too
    return {
        "Subject": subject_line(alert.title, alert.identity),
        "MessageStructure": "json",
        "Message": json.dumps({"default": json.dumps(alert.to_json()), "email": email_body(alert, dig_in)}),
        "MessageAttributes": {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    }
