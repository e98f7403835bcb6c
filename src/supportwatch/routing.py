"""Which object keys are CloudTrail logs.

CloudTrail writes `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/...json.gz`, and
beside the logs a few things that are not: digests, Insights events, folder markers and its write
check. Everything else is read and judged by its content.
"""

from __future__ import annotations

_NOT_LOG_FOLDERS = {
    "CloudTrail-Digest": "digest file",
    "CloudTrail-Insight": "Insights event file",
}


def skip_reason(key: str) -> str | None:
    """Why a key is not a log to read, or None when it is one."""
    if not key:
        return "empty key"
    if key.endswith("/"):
        return "folder marker"
    segments = key.split("/")
    if segments[-1] == "ConfigWritabilityCheckFile":
        return "CloudTrail write check"
    for segment in segments[:-1]:
        if reason := _NOT_LOG_FOLDERS.get(segment):
            return reason
    return None
