"""Where CloudTrail puts its log files, and which listings find the ones of a date range (pure).

CloudTrail writes `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/<file>`. A
backfill finds the accounts (and organization ids) and regions with delimiter listings, then lists
only the date folders of the days asked for: whole years or months when the range covers them,
single days at its edges. Nothing here talks to AWS: the walk takes a `Lister`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from urllib.parse import quote

AWSLOGS = "AWSLogs"
CLOUDTRAIL = "CloudTrail"
DIGESTS = "CloudTrail-Digest"
FIRST_DAY = date(2013, 11, 1)  # CloudTrail's launch: no log is older
_ACCOUNT = re.compile(r"\d{12}")
_ORG = re.compile(r"o-[a-z0-9]{10,32}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


class LayoutError(ValueError):
    """The location is not (inside) a CloudTrail log folder; the message says what to pass."""


@dataclass(frozen=True, slots=True)
class LogKey:
    """The parts of a CloudTrail log key."""

    prefix: str  # what comes before AWSLogs/ ("" or ending in "/")
    org_id: str | None
    account: str
    region: str
    day: date
    name: str


def parse_log_key(key: str) -> LogKey | None:
    """The parts of `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/NAME`, or None."""
    segments = key.split("/")
    for start in range(len(segments) - 1, -1, -1):  # the last AWSLogs segment that fits
        if segments[start] != AWSLOGS:
            continue
        rest = segments[start + 1 :]
        org_id = rest.pop(0) if rest and _ORG.fullmatch(rest[0]) else None
        if len(rest) != 7 or not _ACCOUNT.fullmatch(rest[0]) or rest[1] != CLOUDTRAIL or not rest[6]:
            continue
        try:
            day = date(int(rest[3]), int(rest[4]), int(rest[5]))
        except ValueError:
            continue
        if not (len(rest[3]) == 4 and len(rest[4]) == 2 and len(rest[5]) == 2):
            continue
        prefix = "/".join(segments[:start]) + "/" if start else ""
        return LogKey(prefix, org_id, rest[0], rest[2], day, rest[6])
    return None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, prefix); the prefix is "" or ends in "/"."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise LayoutError(f"expected s3://BUCKET[/PREFIX], got {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    prefix = prefix.strip("/")
    return bucket, prefix + "/" if prefix else ""


def parse_day(text: str) -> date:
    """A `YYYY-MM-DD` option value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise LayoutError(f"{text} is not a real date") from None
        raise LayoutError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def today() -> date:
    return datetime.now(UTC).date()


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def day_after(day: date) -> date | None:
    """The next UTC day; None after 9999-12-31, the last day a date holds."""
    return None if day == date.max else day + timedelta(days=1)


def days_before(day: date, count: int) -> date:
    """The day `count` days earlier, or 0001-01-01 when that comes first."""
    return date.fromordinal(max(1, day.toordinal() - count))


def month_end(day: date) -> date:
    """The last day of the day's month."""
    return date(day.year, 12, 31) if day.month == 12 else date(day.year, day.month + 1, 1) - timedelta(days=1)


def date_folders(since: date, until: date) -> list[str]:
    """The fewest `YYYY/`, `YYYY/MM/` and `YYYY/MM/DD/` folders that hold exactly the days since..until."""
    folders: list[str] = []
    day: date | None = since
    while day is not None and day <= until:
        if day.month == 1 and day.day == 1 and (end := date(day.year, 12, 31)) <= until:
            folders.append(f"{day.year:04d}/")
        elif day.day == 1 and (end := month_end(day)) <= until:
            folders.append(f"{day.year:04d}/{day.month:02d}/")
        else:
            folders.append(f"{day.year:04d}/{day.month:02d}/{day.day:02d}/")
            end = day
        day = day_after(end)
    return folders


def _folder_range(parts: list[str]) -> tuple[date, date]:
    """The days a `YYYY[/MM[/DD]]` folder holds."""
    try:
        numbers = [int(part) for part in parts]
        if len(numbers) == 3:
            day = date(*numbers)
            return day, day
        if len(numbers) == 2:
            first = date(numbers[0], numbers[1], 1)
            return first, month_end(first)
        return date(numbers[0], 1, 1), date(numbers[0], 12, 31)
    except ValueError:
        raise LayoutError(f"{'/'.join(parts)} is not a CloudTrail date folder (YYYY/MM/DD)") from None


class Lister(Protocol):
    def folders(self, bucket: str, prefix: str) -> list[str]:
        """The `prefix...X/` common prefixes directly under `prefix` (a delimiter listing)."""
        ...


@dataclass(frozen=True, slots=True)
class Plan:
    """The region folders found and the date folders to list under each."""

    bucket: str
    regions: tuple[str, ...]  # `...CloudTrail/REGION/` prefixes
    since: date
    until: date
    name: str = ""  # a file name (prefix) inside the one date folder, when the location names one

    def prefixes(self) -> list[str]:
        """The prefixes whose every key is a log of a day in the range (the region folders for all time)."""
        if self.since <= FIRST_DAY and self.until >= today():
            return list(self.regions)
        folders = date_folders(self.since, self.until)
        return [region + folder + self.name for region in self.regions for folder in folders]


def plan(
    lister: Lister, bucket: str, prefix: str, since: date | None, until: date | None, service: str = CLOUDTRAIL
) -> Plan:
    """Find the region folders under `prefix` with delimiter listings; dates narrow the range.

    `service` is the folder walked: the logs' (`CloudTrail`) or the digests' (`CloudTrail-Digest`),
    whichever of the two `prefix` names."""
    since = since or FIRST_DAY
    until = until or today()
    segments = prefix.strip("/").split("/") if prefix.strip("/") else []
    if AWSLOGS not in segments:
        base = prefix + AWSLOGS + "/"
        if base not in lister.folders(bucket, prefix):
            raise LayoutError(
                f"no {AWSLOGS}/ folder directly under s3://{bucket}/{prefix}: pass the trail's key prefix, "
                f"e.g. s3://{bucket}/PREFIX/ for logs under PREFIX/{AWSLOGS}/"
            )
        segments.append(AWSLOGS)
    start = len(segments) - 1 - segments[::-1].index(AWSLOGS)
    root = "/".join(segments[: start + 1]) + "/"
    rest = segments[start + 1 :]
    org = [rest.pop(0)] if rest and _ORG.fullmatch(rest[0]) else []
    if rest and not _ACCOUNT.fullmatch(rest[0]):
        raise LayoutError(f"{rest[0]!r} is not an account id (12 digits) or organization id (o-...)")
    if len(rest) > 1 and rest[1] not in (CLOUDTRAIL, DIGESTS):
        raise LayoutError(f"only {CLOUDTRAIL}/ folders hold logs, not {rest[1]}/")
    if len(rest) > 3:  # a date folder: narrow the range to it
        first, last = _folder_range(rest[3:6])
        since, until = max(since, first), min(until, last)
    if since > until:
        raise LayoutError(f"empty date range: {since} is after {until}")
    accounts = _accounts(lister, bucket, root + "".join(f"{o}/" for o in org), rest[:1], bool(org))
    regions: list[str] = []
    for account in accounts:
        trail = account + service + "/"
        regions += [trail + rest[2] + "/"] if len(rest) > 2 else lister.folders(bucket, trail)
    return Plan(bucket, tuple(regions), since, until, rest[6] if len(rest) > 6 else "")


def _accounts(lister: Lister, bucket: str, base: str, account: list[str], in_org: bool) -> list[str]:
    """The `...ACCOUNT/` folders under AWSLogs/ (or one organization's folder)."""
    if account:
        return [base + account[0] + "/"]
    found: list[str] = []
    for folder in lister.folders(bucket, base):
        name = folder[len(base) :].rstrip("/")
        if _ACCOUNT.fullmatch(name):
            found.append(folder)
        elif _ORG.fullmatch(name) and not in_org:
            found += _accounts(lister, bucket, folder, [], True)
    return found


def manifest_line(bucket: str, key: str) -> str:
    """One row of an S3 Batch Operations CSV manifest: `bucket,key` with the key URL-encoded."""
    return f"{bucket},{quote(key, safe='/')}"
