"""One AWS Security Finding Format finding per alert (contract section 11).

The `Id` depends only on the alert's rule, window and subject, so a re-import (a retry, a redrive, a
re-run) updates the same finding. `Workflow`, `Note`, `UserDefinedFields` and `VerificationState` are
never sent: Security Hub keeps what the analyst set on them (BatchImportFindings ignores them on an
existing finding, and new findings start as `NEW`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from supportwatch.models import Alert

SCHEMA_VERSION = "2018-10-08"
# ASFF's documented limits (botocore's model carries no lengths for them)
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 1024
BATCH = 100  # BatchImportFindings: up to 100 findings a request

USER = "Unusual Behaviors/User"
BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"
DEFENSE_EVASION = "TTPs/Defense Evasion"
TYPES: dict[str, tuple[str, ...]] = {
    "new-identity": (USER,),
    "root-usage": (USER, BEST_PRACTICES),
    "access-denied": (USER, "TTPs/Discovery"),
    "volume": (USER, "Effects/Resource Consumption"),
    "not-allowlisted": (USER, BEST_PRACTICES),
    "new-event-name": ("Unusual Behaviors/Application",),
    "unreadable-log": (BEST_PRACTICES,),
    "tampered-log": (DEFENSE_EVASION, "Effects/Data Destruction"),
    "missing-log": (DEFENSE_EVASION, "Effects/Data Destruction"),
    "unlisted-log": (DEFENSE_EVASION,),
    "digest-invalid": (DEFENSE_EVASION, "Effects/Data Destruction"),
    "digest-missing": (DEFENSE_EVASION, "Effects/Data Destruction"),
    "unavailable-log": (BEST_PRACTICES,),
    "identity-revealed": ("Sensitive Data Identifications/PII", "Effects/Data Exposure"),
}
LOG_KEY = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail(?:-Digest)?/([a-z0-9-]+)/")
OFFLINE_ACCOUNT = "000000000000"
OFFLINE_REGION = "us-east-1"
RESOURCE_TYPES = {"IAMUser": "AwsIamUser", "AssumedRole": "AwsIamRole", "Role": "AwsIamRole"}


def finding_id(alert: Alert) -> str:
    """`supportwatch/<rule>/<window>/<SHA-256 of the subject>`: the same for the same alert, always."""
    digest = hashlib.sha256(alert.subject.encode()).hexdigest()
    return f"supportwatch/{alert.rule}/{alert.window}/{digest}"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def product_arn(account: str, region: str) -> str:
    """The account's own (default) product, which takes findings of that account."""
    return f"arn:{partition(region)}:securityhub:{region}:{account}:product/{account}/default"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _resources(alert: Alert, region: str) -> list[dict[str, Any]]:
    where = {"Partition": partition(region), "Region": alert.region or region}
    if alert.identity:
        named = alert.identity.startswith("arn:") and not alert.identity.endswith(":root")  # not root, a pseudonym
        kind = RESOURCE_TYPES.get(alert.identity_type or "", "Other") if named else "Other"
        return [{"Type": kind, "Id": alert.identity, **where}]
    if alert.bucket:
        return [{"Type": "AwsS3Object", "Id": f"arn:{partition(region)}:s3:::{alert.bucket}/{alert.key}", **where}]
    return [{"Type": "Other", "Id": alert.subject, **where}]


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def finding(alert: Alert, account: str, region: str, now: datetime) -> dict[str, Any]:
    """The finding `account` imports in `region` for `alert` at `now` (UTC)."""
    updated = _stamp(now)
    observed = {"FirstObservedAt": alert.event_time, "LastObservedAt": alert.event_time} if alert.event_time else {}
    fields = {
        "supportwatch/rule": alert.rule,
        "supportwatch/window": alert.window,
        "supportwatch/subject": alert.subject,
    }
    if alert.account_id:
        fields["supportwatch/accountId"] = alert.account_id
    if alert.service:
        fields["supportwatch/service"] = alert.service  # contract section 12
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(alert),
        "ProductArn": product_arn(account, region),
        "ProductName": "supportwatch",
        "CompanyName": "supportwatch",
        "GeneratorId": f"supportwatch/{alert.rule}",
        "AwsAccountId": account,
        "Types": list(TYPES[alert.rule]),
        "CreatedAt": alert.event_time or updated,
        "UpdatedAt": updated,
        **observed,
        "Severity": {"Label": alert.severity.upper(), "Original": alert.severity},
        "Title": _cut(alert.title, TITLE_LIMIT),
        "Description": _cut(alert.detail, DESCRIPTION_LIMIT),
        "Resources": _resources(alert, region),
        "ProductFields": fields,
        "RecordState": "ACTIVE",
    }


def offline_origin(alert: Alert) -> tuple[str, str]:
    """Offline (`scan`), the account and region that would import the finding: the alert's own, else the
    ones its log key names (`AWSLogs/<account>/CloudTrail/<region>/`), else 000000000000 and us-east-1."""
    named = LOG_KEY.search(alert.key or "")
    account = alert.account_id or (named.group(1) if named else OFFLINE_ACCOUNT)
    region = alert.region or (named.group(2) if named else OFFLINE_REGION)
    return account, region


def findings(alerts: Iterable[Alert], now: datetime, account: str = "", region: str = "") -> list[dict[str, Any]]:
    """One finding per alert, imported by `account` in `region` (offline: `offline_origin` of each)."""
    return [finding(alert, *((account, region) if account else offline_origin(alert)), now) for alert in alerts]
