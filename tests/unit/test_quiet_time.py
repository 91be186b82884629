"""Quiet time: Pinpoint's inclusive window in the endpoint's own zone, its end, its precedence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.campaigns.quiet import effective_quiet_time, in_quiet_time, quiet_time_ends

NEW_YORK = "America/New_York"
ZONES = [
    NEW_YORK,
    "Europe/London",
    "Asia/Tokyo",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "UTC",
]


def transitions(year: int) -> list[tuple[str, datetime]]:
    """The hours of ``year`` in which each of ``ZONES`` changes its UTC offset."""
    found = []
    for zone in ZONES:
        tz = ZoneInfo(zone)
        hour = datetime(year, 1, 1, tzinfo=UTC)
        while hour.year == year:
            following = hour + timedelta(hours=1)
            if hour.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
                found.append((zone, hour))
            hour = following
    return found


TRANSITIONS = transitions(2026)


def at(
    zone: str, year: int, month: int, day: int, hour: int, minute: int, second: int = 0
) -> datetime:
    """A wall-clock time in ``zone`` (its first occurrence) as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def hh_mm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def test_window_includes_its_start_and_end_minutes() -> None:
    quiet = ("09:00", "17:00")
    assert not in_quiet_time(at(NEW_YORK, 2026, 6, 1, 8, 59, 59), *quiet, NEW_YORK)
    assert in_quiet_time(at(NEW_YORK, 2026, 6, 1, 9, 0), *quiet, NEW_YORK)
    assert in_quiet_time(at(NEW_YORK, 2026, 6, 1, 17, 0, 59), *quiet, NEW_YORK)
    assert not in_quiet_time(at(NEW_YORK, 2026, 6, 1, 17, 1), *quiet, NEW_YORK)


def test_window_across_midnight() -> None:
    quiet = ("22:00", "07:00")
    assert in_quiet_time(at(NEW_YORK, 2026, 6, 1, 23, 30), *quiet, NEW_YORK)
    assert in_quiet_time(at(NEW_YORK, 2026, 6, 2, 3, 0), *quiet, NEW_YORK)
    assert not in_quiet_time(at(NEW_YORK, 2026, 6, 2, 7, 1), *quiet, NEW_YORK)
    assert not in_quiet_time(at(NEW_YORK, 2026, 6, 1, 21, 59), *quiet, NEW_YORK)


def test_equal_start_and_end_is_one_minute() -> None:
    assert in_quiet_time(at("UTC", 2026, 6, 1, 12, 0, 30), "12:00", "12:00", "UTC")
    assert not in_quiet_time(at("UTC", 2026, 6, 1, 12, 1), "12:00", "12:00", "UTC")


def test_the_endpoint_zone_decides() -> None:
    moment = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo, 10:00 in New York
    assert in_quiet_time(moment, "22:00", "07:00", "Asia/Tokyo")
    assert not in_quiet_time(moment, "22:00", "07:00", NEW_YORK)


@pytest.mark.parametrize("zone", [None, "", "Mars/Base", "UTC+09"])
def test_endpoints_without_a_valid_zone_are_never_quiet(zone: str | None) -> None:
    moment = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    assert not in_quiet_time(moment, "00:00", "23:59", zone)
    assert quiet_time_ends(moment, "00:00", "23:59", zone) == moment


def test_bad_input_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        in_quiet_time(datetime(2026, 6, 1, 3), "22:00", "07:00", NEW_YORK)
    with pytest.raises(ValueError, match="HH:MM"):
        in_quiet_time(datetime(2026, 6, 1, 3, tzinfo=UTC), "24:00", "07:00", NEW_YORK)


def test_quiet_time_ends_at_the_minute_after_end() -> None:
    moment = at(NEW_YORK, 2026, 6, 1, 23, 17, 42)
    assert quiet_time_ends(moment, "22:00", "07:00", NEW_YORK) == at(NEW_YORK, 2026, 6, 2, 7, 1)
    outside = at(NEW_YORK, 2026, 6, 1, 12, 0)
    assert quiet_time_ends(outside, "22:00", "07:00", NEW_YORK) == outside


def test_a_whole_day_window_never_ends() -> None:
    moment = at(NEW_YORK, 2026, 6, 1, 12, 0)
    assert quiet_time_ends(moment, "00:00", "23:59", NEW_YORK) is None
    assert quiet_time_ends(moment, "08:00", "07:59", NEW_YORK) is None


def test_spring_forward_jumps_out_of_the_window() -> None:
    # 8 March 2026: New York's clocks go from 01:59:59 EST to 03:00 EDT.
    moment = at(NEW_YORK, 2026, 3, 8, 1, 30)
    assert quiet_time_ends(moment, "22:00", "02:30", NEW_YORK) == datetime(
        2026, 3, 8, 7, 0, tzinfo=UTC
    )


def test_fall_back_ends_at_the_first_pass_of_end() -> None:
    # 1 November 2026: 01:00-01:59 happens twice in New York, first in EDT.
    moment = at(NEW_YORK, 2026, 11, 1, 1, 10)
    ends = quiet_time_ends(moment, "00:00", "01:30", NEW_YORK)
    assert ends == datetime(2026, 11, 1, 5, 31, tzinfo=UTC)
    second_pass = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)  # 01:10 EST
    assert quiet_time_ends(second_pass, "00:00", "01:30", NEW_YORK) == datetime(
        2026, 11, 1, 6, 31, tzinfo=UTC
    )


ANYWHERE = st.tuples(
    st.sampled_from(ZONES),
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
)
NEAR_A_CLOCK_CHANGE = st.tuples(
    st.sampled_from(TRANSITIONS), st.timedeltas(timedelta(hours=-30), timedelta(hours=30))
).map(lambda pair: (pair[0][0], pair[0][1] + pair[1]))


@settings(max_examples=1000)
@given(
    place=st.one_of(ANYWHERE, NEAR_A_CLOCK_CHANGE),
    start=st.integers(0, 24 * 60 - 1),
    end=st.integers(0, 24 * 60 - 1),
    fractions=st.lists(st.floats(0, 1, exclude_max=True), max_size=5),
)
def test_quiet_time_ends_agrees_with_the_predicate(
    place: tuple[str, datetime], start: int, end: int, fractions: list[float]
) -> None:
    zone, moment = place
    window = (hh_mm(start), hh_mm(end))
    ends = quiet_time_ends(moment, *window, zone)
    if not in_quiet_time(moment, *window, zone):
        assert ends == moment
        return
    if ends is None:
        assert (end + 1) % (24 * 60) == start
        return
    assert ends > moment
    assert not in_quiet_time(ends, *window, zone)
    assert in_quiet_time(ends - timedelta(microseconds=1), *window, zone)
    span = (ends - moment) // timedelta(microseconds=1)
    for fraction in fractions:
        inside = moment + timedelta(microseconds=int(span * fraction))
        assert in_quiet_time(inside, *window, zone)


def test_campaign_quiet_time_overrides_the_application() -> None:
    app = {"QuietTime": {"Start": "22:00", "End": "07:00"}}
    own = {"QuietTime": {"Start": "20:00", "End": "08:00"}}
    assert effective_quiet_time(app, own) == ("20:00", "08:00")
    assert effective_quiet_time(app, {"StartTime": "IMMEDIATE"}) == ("22:00", "07:00")
    assert effective_quiet_time(app, None) == ("22:00", "07:00")


def test_an_empty_campaign_quiet_time_turns_it_off() -> None:
    app = {"QuietTime": {"Start": "22:00", "End": "07:00"}}
    assert effective_quiet_time(app, {"QuietTime": {}}) is None
    assert effective_quiet_time(app, {"QuietTime": {"Start": "", "End": ""}}) is None


def test_no_quiet_time_anywhere() -> None:
    assert effective_quiet_time(None, None) is None
    assert effective_quiet_time({"QuietTime": {}}, {}) is None
    assert effective_quiet_time({"Limits": {"Daily": 3}}, {"StartTime": "IMMEDIATE"}) is None
