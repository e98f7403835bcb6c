"""Which object keys are CloudTrail logs.

CloudTrail writes `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/...json.gz`, and
beside the logs a few things that are not: digests, Insights events, folder markers and its write
check. A shared log-archive bucket also holds other services' files under `AWSLogs/ACCOUNT/`
(Config, VPC flow logs, ...). Everything else is read and judged by its content.
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
    if (service := _service_folder(segments[:-1])) not in (None, "CloudTrail"):
        return f"{service} file, not a CloudTrail log"
    return None


def _service_folder(folders: list[str]) -> str | None:
    """The service folder after `AWSLogs/[o-org/]ACCOUNT/`, when the key follows that layout."""
    if "AWSLogs" not in folders:
        return None
    after = folders[folders.index("AWSLogs") + 1 :]
    if after and after[0].startswith("o-"):
        after = after[1:]
    return after[1] if len(after) > 1 and after[0].isdigit() else None
