"""eventTime -> instant and UTC day (CONTRACT sections 1 and 3): what is an ISO 8601 date-time, and what is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportwatch.decoding.instants import normal_time, parse_event_time

BASE = int(datetime(2023, 9, 11, 16, 34, 13, tzinfo=UTC).timestamp()) * 1_000_000


@pytest.mark.parametrize(
    ("text", "instant", "day"),
    [
        ("2023-09-11T16:34:13Z", BASE, "2023-09-11"),
        ("1970-01-01T00:00:00Z", 0, "1970-01-01"),  # its day starts at instant 0 (a falsy cached start)
        ("2023-09-11t16:34:13z", BASE, "2023-09-11"),
        ("20230911T163413Z", BASE, "2023-09-11"),
        ("2023-09-11T16:34:13.5Z", BASE + 500_000, "2023-09-11"),
        ("2023-09-11T16:34:13,25Z", BASE + 250_000, "2023-09-11"),
        ("2023-09-11T16:34:13.123456789Z", BASE + 123_456, "2023-09-11"),
        ("2023-09-11T16:34:13." + "9" * 5000 + "Z", BASE + 999_999, "2023-09-11"),
        ("2023-09-11T16:34Z", BASE - 13_000_000, "2023-09-11"),
        ("2023-09-11T18:34:13+02:00", BASE, "2023-09-11"),
        ("2023-09-11T18:34:13+0200", BASE, "2023-09-11"),
        ("2023-09-11T18:34:13+02", BASE, "2023-09-11"),
        ("2023-09-12T01:30:00+09:00", BASE - 253_000_000, "2023-09-11"),
        ("2023-09-11T23:30:00-02:00", None, "2023-09-12"),
        ("2023-09-11T16:34:13-00:00", BASE, "2023-09-11"),
        ("0001-01-01T00:30:00-01:00", None, "0001-01-01"),
        ("9999-12-31T23:30:00+01:00", None, "9999-12-31"),
    ],
)
def test_accepted_forms(text, instant, day):
    moment = parse_event_time(text)
    assert moment is not None
    assert moment.day == day
    if instant is not None:
        assert moment.instant == instant
    assert parse_event_time(text) == moment  # a second time, from what was remembered


@pytest.mark.parametrize(
    "text",
    [
        "2023-09-11T16:34:13",  # a local time names no instant
        "2023-09-11T16:34:13.5",
        "2023-09-11 16:34:13Z",  # RFC 3339's space, not ISO 8601
        "2023-09-11",
        "2023-09-11TZ",
        "2023-09-11T16Z",
        "2023-09-1116:34:13Z",
        "2023-09-11T1634:13Z",  # basic and extended mixed
        "20230911T16:34:13Z",
        "2023-13-45T99:99:99Z",
        "2023-02-29T00:00:00Z",
        "2023-09-11T24:00:00Z",
        "2023-09-11T23:59:60Z",
        "2023-02-29T10:00:00Z",  # CloudTrail's form with no such day
        "0000-01-01T00:00:00Z",
        "2023-09-11T24:00:00Z",
        "2023-09-11T16:60:00Z",
        "2023-09-11T16:34:13+24:00",
        "2023-09-11T16:34:13+01:60",
        "2023-09-11T16:34:13.Z",
        "0001-01-01T00:30:00+01:00",  # year 0 in UTC: datetime's OverflowError
        "9999-12-31T23:30:00-01:00",  # year 10000 in UTC
        "\uff12\uff10\uff12\uff13-09-11T16:34:13Z",  # fullwidth digits are digits to `\d`, not to ISO 8601
        "2023-09-11T16:34:\u0661\u0663Z",  # CloudTrail's length and shape, seconds in Arabic-Indic digits
        "2023-09-11T16:34:+3Z",
        "2023-09-11T16:34: 3Z",
        "2023-9-011T16:34:13Z",  # CloudTrail's length, T and colons, the day's digits out of place
        "2023-09-11T16:34:13+",
        "2023-09-11T16:34:13Z\ud800",
        "2023-09-11T16:34:13Z\n",
        " 2023-09-11T16:34:13Z",
        "yesterday",
        "",
    ],
)
def test_rejected_forms(text):
    assert parse_event_time(text) is None


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
)
def test_instant_and_day_agree_with_datetime(moment, offset_minutes):
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    found = parse_event_time(aware.isoformat())
    utc = aware.astimezone(UTC)
    assert found is not None
    assert found.day == utc.date().isoformat()
    assert found.instant == (utc - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert found.text == utc.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")  # the UTC second, CloudTrail's form


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_cloudtrails_own_form_agrees_with_datetime(moment):
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")  # strftime may not pad years below 1000
    found = parse_event_time(text)
    utc = moment.replace(microsecond=0, tzinfo=UTC)
    instant = (utc - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert found == (instant, utc.date().isoformat(), text)


@given(st.lists(st.datetimes(min_value=datetime(2013, 1, 1), max_value=datetime(2030, 1, 1)), min_size=2))
def test_instants_order_as_times_do_whatever_the_offset(moments):
    zones = [timezone(timedelta(hours=h)) for h in (-8, 0, 5, 9)]
    texts = [m.replace(tzinfo=UTC).astimezone(zones[i % 4]).isoformat() for i, m in enumerate(moments)]
    instants = [parse_event_time(text).instant for text in texts]
    assert sorted(range(len(texts)), key=instants.__getitem__) == sorted(range(len(texts)), key=moments.__getitem__)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("2023-09-11T16:34:13Z", "2023-09-11T16:34:13Z"),
        ("2023-09-11T18:00:00+02:00", "2023-09-11T16:00:00Z"),
        ("2023-09-12T01:00:00+05:00", "2023-09-11T20:00:00Z"),  # crosses the UTC day
        ("2023-09-11T23:30:00-02:00", "2023-09-12T01:30:00Z"),
        ("2023-09-11T16:34:13.500Z", "2023-09-11T16:34:13Z"),  # to the second
        ("2023-09-11T16:34:13.999999999Z", "2023-09-11T16:34:13Z"),
        ("20230911T163413Z", "2023-09-11T16:34:13Z"),
        ("2023-09-11t16:34z", "2023-09-11T16:34:00Z"),
        ("0001-01-01T00:30:00-01:00", "0001-01-01T01:30:00Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59Z"),  # before the epoch: still the second it falls in
    ],
)
def test_every_form_is_written_as_cloudtrail_writes_an_instant(text, written):
    assert parse_event_time(text).text == normal_time(text) == written


def test_text_naming_no_instant_is_kept_as_it_is():
    assert normal_time("2023-09-11T20:00:00") == "2023-09-11T20:00:00"
