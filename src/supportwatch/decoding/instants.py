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
_CANONICAL_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
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
    if len(text) == 20 and text[19] == "Z" and text[10] == "T" and text[16] == ":":
        # CloudTrail's own form, `2023-09-11T16:34:13Z`: the fast way, each part looked up
        if (start := _DAYS.get(day := text[:10])) is None:
            start = _day(day)
        clock, second = _CLOCK.get(text[11:16]), _SECONDS.get(text[17:19])
        if start is not None and clock is not None and second is not None:
            return _moment(Moment, (start + clock + second, day, text))  # already in that form
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


_DAY_CACHE = 4096  # days whose first instant is remembered (a log's events fall on a few)
_DAYS: dict[str, int] = {}
_CLOCK = {f"{hour:02d}:{minute:02d}": (hour * 60 + minute) * 60_000_000 for hour in range(24) for minute in range(60)}
_SECONDS = {f"{count:02d}": count * 1_000_000 for count in range(60)}  # `HH:MM`, `SS` -> microseconds
_moment = tuple.__new__  # a Moment without NamedTuple's Python-level constructor


def _day(text: str) -> int | None:
    """The first instant (UTC epoch microseconds) of a day written `YYYY-MM-DD`, or None when it is not one."""
    if _CANONICAL_DAY.fullmatch(text) is None:
        return None
    try:
        start = (date.fromisoformat(text).toordinal() - _EPOCH) * _DAY_US
    except ValueError:
        return None
    if len(_DAYS) < _DAY_CACHE:
        _DAYS[text] = start
    return start


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
