"""Campaign schedules: Pinpoint's validation rules, run times, and local-time waves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.campaigns.schedule import (
    START_TIME_SLACK,
    Schedule,
    ScheduleError,
    local_send_time,
    parse_schedule,
    run_times,
    schedule_zone,
    waves,
)
from clarion.errors import BadRequest

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
# Pinpoint's documented Schedule.Timezone values.
PINPOINT_TIMEZONES = [
    "UTC",
    "UTC+01",
    "UTC+02",
    "UTC+03",
    "UTC+03:30",
    "UTC+04",
    "UTC+04:30",
    "UTC+05",
    "UTC+05:30",
    "UTC+05:45",
    "UTC+06",
    "UTC+06:30",
    "UTC+07",
    "UTC+08",
    "UTC+09",
    "UTC+09:30",
    "UTC+10",
    "UTC+10:30",
    "UTC+11",
    "UTC+12",
    "UTC+13",
    "UTC-02",
    "UTC-03",
    "UTC-04",
    "UTC-05",
    "UTC-06",
    "UTC-07",
    "UTC-08",
    "UTC-09",
    "UTC-10",
    "UTC-11",
]
ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "UTC",
    "Not/AZone",
    "",
    None,
]


def parse(**members: Any) -> Schedule:
    return parse_schedule(members)


def refused(message: str, **members: Any) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(members, now=NOW)
    assert str(caught.value) == message


def times(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    return list(run_times(schedule, after=after, until=until))


# --- parse_schedule ---------------------------------------------------------------------------


def test_immediate_is_a_one_time_run_in_utc() -> None:
    schedule = parse(StartTime="IMMEDIATE")
    assert (schedule.start, schedule.end, schedule.frequency) == (None, None, "ONCE")
    assert schedule.zone == UTC
    assert not schedule.is_local_time


def test_start_time_keeps_its_offset_as_the_schedule_zone() -> None:
    schedule = parse(StartTime="2026-03-02T09:00:00-05:00")
    assert schedule.start == datetime(2026, 3, 2, 14, tzinfo=UTC)
    assert schedule.wall_clock(datetime(2026, 3, 2, 14, tzinfo=UTC)) == datetime(2026, 3, 2, 9)


def test_time_without_offset_is_read_in_the_timezone() -> None:
    schedule = parse(StartTime="2026-03-02T09:00:00", Timezone="UTC+05:30", IsLocalTime=True)
    assert schedule.start == datetime(2026, 3, 2, 3, 30, tzinfo=UTC)
    assert schedule.is_local_time


@pytest.mark.parametrize("name", [*PINPOINT_TIMEZONES, "UTC-4", "UTC+14", "Asia/Kolkata"])
def test_pinpoint_offsets_and_tz_names_are_accepted(name: str) -> None:
    parse(StartTime="2026-03-02T09:00:00Z", Timezone=name)


def test_offset_timezones_mean_their_offset() -> None:
    assert schedule_zone("UTC+05:45") == timezone(timedelta(hours=5, minutes=45))
    assert schedule_zone("UTC-11") == timezone(timedelta(hours=-11))
    assert schedule_zone("UTC") == UTC


@pytest.mark.parametrize("name", ["UTC+15", "UTC+05:60", "utc+01", "Mars/Base", "", 5])
def test_unknown_timezones_are_refused(name: object) -> None:
    with pytest.raises(ScheduleError, match=r"^Schedule\.Timezone must be UTC"):
        parse(StartTime="2026-03-02T09:00:00Z", Timezone=name)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({}, "Schedule.StartTime is required: IMMEDIATE or an ISO 8601 time"),
        (
            {"StartTime": "tomorrow"},
            "Schedule.StartTime must be IMMEDIATE or an ISO 8601 time; got 'tomorrow'",
        ),
        (
            {"StartTime": "2026-03-02T09:00:00Z", "Frequency": "YEARLY"},
            "Schedule.Frequency must be one of ONCE, HOURLY, DAILY, WEEKLY, MONTHLY, EVENT, "
            "IN_APP_EVENT; got 'YEARLY'",
        ),
        (
            {"StartTime": "2026-03-02T09:00:00Z", "Frequency": "DAILY"},
            "Schedule.EndTime is required when Schedule.Frequency is DAILY",
        ),
        (
            {"StartTime": "2026-03-02T09:00:00Z", "EndTime": "2026-03-02T09:00:00Z"},
            "Schedule.EndTime must be after Schedule.StartTime",
        ),
        (
            {"StartTime": "2026-03-02T09:00:00Z", "EndTime": "soon"},
            "Schedule.EndTime must be an ISO 8601 time; got 'soon'",
        ),
        (
            {"StartTime": "IMMEDIATE", "Frequency": "WEEKLY", "EndTime": "2026-04-01T00:00Z"},
            "Schedule.StartTime can be IMMEDIATE only when Schedule.Frequency is ONCE",
        ),
        (
            {"StartTime": "IMMEDIATE", "IsLocalTime": "yes"},
            "Schedule.IsLocalTime must be true or false",
        ),
        (
            {"StartTime": "2026-03-01T11:44:59Z"},
            "Schedule.StartTime must be at least current time",
        ),
        (
            {"StartTime": "IMMEDIATE", "EndTime": "2026-03-01T11:00:00Z"},
            "Schedule.EndTime must be in the future",
        ),
        (
            {"StartTime": "2026-03-02T09:00:00Z", "Frequency": "EVENT"},
            "Schedule.EventFilter is required when Schedule.Frequency is EVENT",
        ),
        (
            {"StartTime": "2026-03-02T09:00:00Z", "QuietTime": {"Start": "22:00"}},
            "Schedule.QuietTime needs both Start and End, or neither",
        ),
        (
            {"StartTime": "2026-03-02T09:00:00Z", "QuietTime": {"Start": "9pm", "End": "07:00"}},
            "Schedule.QuietTime.Start must be a 24-hour time in HH:MM format; got '9pm'",
        ),
        (
            {
                "StartTime": "2026-03-02T09:00:00Z",
                "Frequency": "IN_APP_EVENT",
                "EventFilter": {"FilterType": "CUSTOM", "Dimensions": {}},
            },
            "Schedule.EventFilter.FilterType must be one of ENDPOINT, SYSTEM; got 'CUSTOM'",
        ),
    ],
)
def test_invalid_schedules_name_the_member(members: dict[str, Any], message: str) -> None:
    refused(message, **members)


def test_errors_are_bad_requests_and_value_errors() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("daily")
    assert isinstance(caught.value, BadRequest)
    assert isinstance(caught.value, ValueError)
    assert caught.value.message == "Schedule must be an object"


def test_path_prefixes_the_member() -> None:
    with pytest.raises(ScheduleError, match=r"^AdditionalTreatments\[0\]\.Schedule\.EndTime is"):
        parse_schedule(
            {"StartTime": "2026-03-02T09:00:00Z", "Frequency": "HOURLY"},
            path="AdditionalTreatments[0].Schedule",
        )


def test_start_may_lag_now_by_the_slack_only() -> None:
    within = (NOW - START_TIME_SLACK).isoformat()
    assert parse_schedule({"StartTime": within}, now=NOW).start == NOW - START_TIME_SLACK
    assert parse_schedule({"StartTime": "2020-01-01T00:00:00Z"}).start is not None


def test_event_schedules_carry_their_matcher() -> None:
    schedule = parse_schedule(
        {
            "StartTime": "2026-03-02T09:00:00Z",
            "EndTime": "2026-04-02T09:00:00Z",
            "Frequency": "EVENT",
            "EventFilter": {
                "FilterType": "ENDPOINT",
                "Dimensions": {"EventType": {"Values": ["signup"]}},
            },
        },
        now=NOW,
    )
    assert schedule.triggered and schedule.event_filter is not None
    assert schedule.event_filter.matches({"EventType": "signup"})
    assert times(schedule, NOW, NOW + timedelta(days=365)) == []


# --- run_times --------------------------------------------------------------------------------


def test_once_runs_once_in_a_half_open_window() -> None:
    schedule = parse(StartTime="2026-03-02T09:00:00Z")
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert times(schedule, NOW, start) == [start]
    assert times(schedule, start, start + timedelta(days=1)) == []
    assert times(schedule, NOW, start - timedelta(seconds=1)) == []


def test_immediate_runs_at_creation() -> None:
    schedule = parse(StartTime="IMMEDIATE")
    assert list(run_times(schedule, after=NOW - timedelta(1), until=NOW, created=NOW)) == [NOW]
    with pytest.raises(ValueError, match="IMMEDIATE"):
        times(schedule, NOW, NOW)


def test_hourly_stops_before_end_time() -> None:
    schedule = parse(
        StartTime="2026-03-02T09:30:00Z", EndTime="2026-03-02T12:30:00Z", Frequency="HOURLY"
    )
    expected = [datetime(2026, 3, 2, hour, 30, tzinfo=UTC) for hour in (9, 10, 11)]
    assert times(schedule, NOW, NOW + timedelta(days=2)) == expected
    assert times(schedule, expected[0], expected[1]) == expected[1:2]


def test_daily_keeps_the_wall_clock_across_daylight_saving() -> None:
    schedule = parse(
        StartTime="2026-03-06T09:00:00",
        EndTime="2026-03-10T09:00:00",
        Timezone="America/New_York",
        Frequency="DAILY",
    )
    runs = times(schedule, NOW, NOW + timedelta(days=30))
    assert [run.astimezone(NEW_YORK).hour for run in runs] == [9, 9, 9, 9]
    assert [run.hour for run in runs] == [14, 14, 13, 13]


def test_skipped_and_repeated_wall_times_resolve_deterministically() -> None:
    spring = parse(
        StartTime="2026-03-07T02:30:00",
        EndTime="2026-03-09T00:00:00",
        Timezone="America/New_York",
        Frequency="DAILY",
    )
    # 02:30 does not exist on 8 March: it runs at 03:30 EDT, the gap later.
    assert times(spring, NOW, NOW + timedelta(days=30))[1] == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )
    autumn = parse(
        StartTime="2026-10-31T01:30:00",
        EndTime="2026-11-02T00:00:00",
        Timezone="America/New_York",
        Frequency="DAILY",
    )
    # 01:30 happens twice on 1 November: the first (EDT) one is taken.
    assert times(autumn, NOW, NOW + timedelta(days=300))[1] == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


def test_weekly_adds_seven_days() -> None:
    schedule = parse(
        StartTime="2026-03-02T08:00:00Z", EndTime="2026-03-20T00:00:00Z", Frequency="WEEKLY"
    )
    assert [run.day for run in times(schedule, NOW, NOW + timedelta(days=60))] == [2, 9, 16]


def test_monthly_clamps_to_the_month_and_keeps_the_day() -> None:
    schedule = parse(
        StartTime="2028-01-31T10:00:00Z", EndTime="2028-06-01T00:00:00Z", Frequency="MONTHLY"
    )
    runs = times(schedule, NOW, datetime(2029, 1, 1, tzinfo=UTC))
    assert [(run.month, run.day) for run in runs] == [(1, 31), (2, 29), (3, 31), (4, 30), (5, 31)]


STARTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(
    start=STARTS,
    frequency=st.sampled_from(["ONCE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY"]),
    zone=st.sampled_from(["UTC", "America/New_York", "Australia/Lord_Howe", "UTC-03:30"]),
    skip=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)),
)
def test_a_window_sees_exactly_the_runs_a_full_walk_finds_there(
    start: datetime, frequency: str, zone: str, skip: timedelta, span: timedelta
) -> None:
    schedule = parse(
        StartTime=start.isoformat(),
        EndTime=(start + timedelta(days=500)).isoformat(),
        Timezone=zone,
        Frequency=frequency,
    )
    after = start + skip - timedelta(hours=1)
    until = after + span
    every = times(schedule, start - timedelta(seconds=1), until)
    assert every == sorted(set(every))
    assert times(schedule, after, until) == [run for run in every if run > after]


# --- local time -------------------------------------------------------------------------------


def test_each_endpoint_gets_the_run_at_its_own_wall_clock() -> None:
    wall = datetime(2026, 6, 1, 9, 0)
    assert local_send_time(wall, "Asia/Tokyo", UTC) == datetime(2026, 6, 1, 0, tzinfo=UTC)
    assert local_send_time(wall, "America/New_York", UTC) == datetime(2026, 6, 1, 13, tzinfo=UTC)


def test_endpoints_without_a_valid_zone_use_the_schedule_zone() -> None:
    wall = datetime(2026, 6, 1, 9, 0)
    expected = datetime(2026, 6, 1, 14, tzinfo=UTC)
    assert local_send_time(wall, None, "UTC-05") == expected
    assert local_send_time(wall, "Mars/Base", timezone(timedelta(hours=-5))) == expected
    assert local_send_time(wall, "UTC+01", "UTC-05") == expected  # not a tz database name


def test_local_time_takes_a_naive_wall_clock_and_a_real_fallback() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        local_send_time(datetime(2026, 6, 1, 9, tzinfo=UTC), "Asia/Tokyo", UTC)
    with pytest.raises(ValueError, match="not a time zone"):
        local_send_time(datetime(2026, 6, 1, 9), None, "Mars/Base")


def test_waves_group_zones_due_together_in_time_order() -> None:
    wall = datetime(2026, 6, 1, 9, 0)
    result = waves(wall, ["Europe/Berlin", "Asia/Tokyo", None, "Europe/Paris", "Asia/Tokyo"], UTC)
    assert result == [
        (datetime(2026, 6, 1, 0, tzinfo=UTC), frozenset({"Asia/Tokyo"})),
        (datetime(2026, 6, 1, 7, tzinfo=UTC), frozenset({"Europe/Berlin", "Europe/Paris"})),
        (datetime(2026, 6, 1, 9, tzinfo=UTC), frozenset({None})),
    ]


@given(
    wall=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31)),
    zones=st.lists(st.sampled_from(ZONES), max_size=20),
    fallback=st.sampled_from(["UTC", "UTC-05", "Europe/Paris"]),
)
def test_waves_cover_every_zone_exactly_once(
    wall: datetime, zones: list[str | None], fallback: str
) -> None:
    result = waves(wall, zones, fallback)
    members = [zone for _, group in result for zone in group]
    assert sorted(members, key=str) == sorted(set(zones), key=str)
    assert [moment for moment, _ in result] == sorted({moment for moment, _ in result})
    for moment, group in result:
        assert all(local_send_time(wall, zone, fallback) == moment for zone in group)


def test_wall_clock_of_a_local_time_run_is_its_start_time() -> None:
    schedule = parse(
        StartTime="2026-03-02T09:00:00+09:00",
        EndTime="2026-03-09T00:00:00+09:00",
        Frequency="DAILY",
        IsLocalTime=True,
    )
    runs = times(schedule, NOW, NOW + timedelta(days=30))
    assert {schedule.wall_clock(run).time().isoformat() for run in runs} == {"09:00:00"}
