"""`eventTime` -> an instant and its UTC day (contract sections 1 and 3), without `datetime`'s range traps.

An eventTime is an ISO 8601 date and time of day with its UTC offset:
- extended `2023-09-11T16:34:13Z` (CloudTrail's own form) or basic `20230911T163413Z`;
- seconds may be left out (`16:34Z`), a fraction of them (`.` or `,`, any number of digits) added;
- the offset is `Z` or `±hh:mm`, `±hhmm`, `±hh` (at most 23:59); `T` and `Z` in either case.

A local time without an offset names no instant: it is not a well-formed record. Nor is a
space instead of `T` (RFC 3339's option, not ISO 8601's), a leap second `:60`, hour 24, or an
instant whose UTC day falls outside years 0001-9999. Instants are kept as integer microseconds
since the Unix epoch (digits beyond the microsecond are dropped for ordering) and written as
CloudTrail writes them, `YYYY-MM-DDTHH:MM:SSZ`: the UTC instant to the second, whatever form the
input took (`normal_time`).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

_FRACTION = r"(?:[.,](?P<fraction>[0-9]+))?"
_ZONE = r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)"
_EXTENDED = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[Tt]"
    r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})" + _FRACTION + ")?" + _ZONE,
    re.ASCII,
)
_BASIC = re.compile(
    r"(?P<y>[0-9]{4})(?P<mo>[0-9]{2})(?P<d>[0-9]{2})[Tt]"
    r"(?P<h>[0-9]{2})(?P<mi>[0-9]{2})(?:(?P<s>[0-9]{2})" + _FRACTION + ")?" + _ZONE,
    re.ASCII,
)
_CANONICAL_MINUTE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2})", re.ASCII)
_EPOCH = date(1970, 1, 1).toordinal()
_DAY_US = 86_400_000_000
_FIRST_DAY, _LAST_DAY = date.min.toordinal(), date.max.toordinal()


class Moment(NamedTuple):
    """An eventTime as an instant (UTC epoch microseconds), the UTC day it falls on, and its text in
    CloudTrail's own form (`2023-09-11T16:34:13Z`, the instant to the second)."""

    instant: int
    day: str
    text: str = ""


def parse_event_time(text: str) -> Moment | None:
    """The instant and UTC day of an eventTime, or None when it is not an ISO 8601 date-time with an offset."""
    if len(text) == 20 and text[16] == ":" and text[19] == "Z" and (start := _minute(text[:16])) is not None:
        seconds = text[17:19]  # CloudTrail's own form, `2023-09-11T16:34:13Z`: the fast way
        if seconds.isascii() and seconds.isdigit() and seconds <= "59":
            return Moment(start.instant + int(seconds) * 1_000_000, start.day, text)  # already in that form
    found = _EXTENDED.fullmatch(text) or _BASIC.fullmatch(text)
    if found is None:
        return None
    part = found.groupdict()
    hour, minute, second = int(part["h"]), int(part["mi"]), int(part["s"] or 0)
    offset_hours, offset_minutes = int(part["oh"] or 0), int(part["om"] or 0)
    if hour > 23 or minute > 59 or second > 59 or offset_hours > 23 or offset_minutes > 59:
        return None
    try:
        local_day = date(int(part["y"]), int(part["mo"]), int(part["d"])).toordinal()
    except ValueError:
        return None
    offset = (offset_hours * 60 + offset_minutes) * 60 * (-1 if part["sign"] == "-" else 1)
    seconds = (local_day - _EPOCH) * 86_400 + hour * 3600 + minute * 60 + second - offset
    instant = seconds * 1_000_000 + int((part["fraction"] or "")[:6].ljust(6, "0"))
    if not _FIRST_DAY <= _EPOCH + instant // _DAY_US <= _LAST_DAY:
        return None
    return Moment(instant, utc_day(instant), written(instant))


@lru_cache(maxsize=4096)
def _minute(text: str) -> Moment | None:
    """The first instant of a UTC minute written `YYYY-MM-DDTHH:MM`, and its day (events share their minutes)."""
    if (found := _CANONICAL_MINUTE.fullmatch(text)) is None:
        return None
    day, hour, minute = found.groups()
    try:
        ordinal = date.fromisoformat(day).toordinal()
    except ValueError:
        return None
    if hour > "23" or minute > "59":
        return None
    return Moment(((ordinal - _EPOCH) * 1440 + int(hour) * 60 + int(minute)) * 60_000_000, day)


def written(instant: int) -> str:
    """An instant in CloudTrail's form, `YYYY-MM-DDTHH:MM:SSZ` (the UTC second it falls in)."""
    seconds = instant // 1_000_000 % 86_400
    return f"{utc_day(instant)}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def normal_time(text: str) -> str:
    """`text` written as CloudTrail writes an instant, or as it is when it names none (a table written
    before times were normalised holds them as the records wrote them)."""
    moment = parse_event_time(text)
    return moment.text if moment else text


def utc_day(instant: int) -> str:
    """The UTC day (`YYYY-MM-DD`) of an instant in years 0001-9999."""
    return date.fromordinal(_EPOCH + instant // _DAY_US).isoformat()
