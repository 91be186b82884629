"""Pinpoint's campaign ``Schedule``: its validation, the nominal start of each run, and the
local-time waves of a run. Pure: the current time is always passed in.

What Pinpoint documents (botocore ``pinpoint`` 2016-12-01 ``Schedule``, the Amazon Pinpoint
User Guide "Step 4: Choose when to send the campaign", and the service's own errors), and what
Clarion chose where it is silent:

* ``StartTime`` is required: ``IMMEDIATE`` or an ISO 8601 time. Pinpoint refuses a start in
  the past with "StartTime must be at least current time", comparing in UTC (the
  BadRequestException reported in aws/aws-sdk-java#2836). It documents no tolerance; Clarion
  accepts a start up to ``START_TIME_SLACK`` (15 minutes, the client clock skew its SigV4
  check already accepts) in the past, so a client whose clock runs behind can still schedule
  "now". The console offers "Immediately" as a one-time choice, so ``IMMEDIATE`` is accepted
  with Frequency ONCE only.
* ``EndTime`` (ISO 8601) must come after ``StartTime``. A recurring campaign (HOURLY, DAILY,
  WEEKLY, MONTHLY) needs one: the User Guide's recurring schedule is "the start and end dates
  for the campaign", the end being "when Amazon Pinpoint should stop sending recurring
  messages", so a run that would start at or after ``EndTime`` does not happen.
* ``Frequency``: ONCE (the default, as in the console), HOURLY, DAILY, WEEKLY, MONTHLY, or
  EVENT / IN_APP_EVENT, which replace the clock by ``EventFilter`` (required for them,
  "the type of event that causes the campaign to be sent"). Triggered campaigns have no run
  times; the User Guide says they send only for events between the start and end dates.
* ``Timezone`` is "the starting UTC offset for the campaign schedule". Pinpoint lists 31
  values (UTC, UTC+01 … UTC+13 with UTC+03:30, +04:30, +05:30, +05:45, +06:30, +09:30, +10:30,
  and UTC-02 … UTC-11); it accepted "UTC-4" as well (aws/aws-sdk-java#2836). Clarion accepts
  UTC, any ``UTC±H[H][:MM]`` up to 14 hours, and tz database names, which keep a recurring
  local time right across daylight saving. Without ``Timezone`` the schedule's zone is
  ``StartTime``'s own UTC offset (UTC for a time without one). A time without an offset is
  read in the schedule's zone.
* Recurrence: HOURLY adds whole hours to the start; DAILY and WEEKLY add calendar days on the
  wall clock of the schedule's zone, so 09:00 stays 09:00 across daylight saving; MONTHLY
  keeps the start's day of the month and clamps it to the month's length (a start on 31 January
  runs on 28 or 29 February, then on 31 March). Pinpoint does not document either choice.
* ``IsLocalTime`` "specifies whether the start and end times for the campaign schedule use each
  recipient's local time": a run's wall-clock time (``Schedule.wall_clock``) is delivered to
  each endpoint when its own time zone (``Demographic.Timezone``, "a tz database name value")
  reaches it. Pinpoint runs such a campaign time zone by time zone (its ``ActivityResponse``
  counts ``TimezonesCompletedCount`` of ``TimezonesTotalCount``); ``waves`` groups the time
  zones due at the same instant. Pinpoint does not say what happens to an endpoint without a
  valid time zone (one report, aws-amplify/amplify-flutter#5185, saw such endpoints receive
  nothing); Clarion delivers to them in the schedule's own zone rather than drop them
  silently. Waves of time zones east of the schedule's may fall before its nominal start;
  ``waves`` reports their true instants and leaves the choice to the scheduler.
* Daylight saving, for recurrences and waves alike: a wall-clock time that happens twice is
  taken at its first occurrence, and one that does not exist (the hour skipped in spring) at
  the instant it would have had under the offset in force before the change, i.e. moved later
  by the length of the gap. These are Python's ``fold=0`` rules (PEP 495), so every instant is
  deterministic.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from clarion.apps.settings import validate_quiet_time
from clarion.campaigns.filters import EventFilterError, EventMatcher, compile_event_filter
from clarion.errors import BadRequest

FREQUENCIES = ("ONCE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "EVENT", "IN_APP_EVENT")
RECURRING = frozenset({"HOURLY", "DAILY", "WEEKLY", "MONTHLY"})
TRIGGERED = frozenset({"EVENT", "IN_APP_EVENT"})
IMMEDIATE = "IMMEDIATE"
START_TIME_SLACK = timedelta(minutes=15)
MAX_OFFSET_MINUTES = 14 * 60

_OFFSET = re.compile(r"UTC(?:([+-])(\d{1,2})(?::(\d{2}))?)?")
_HOUR = timedelta(hours=1)
_CALENDAR_STEPS = {"DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7)}


class ScheduleError(BadRequest, ValueError):
    """A Schedule Pinpoint would refuse; the message names the member."""


@dataclass(frozen=True)
class Schedule:
    """A checked ``Schedule``. ``start`` and ``end`` are aware UTC instants (``start`` is None
    for IMMEDIATE); ``zone`` is the schedule's time zone, the one its wall-clock times and
    recurrences are read in."""

    start: datetime | None
    end: datetime | None
    frequency: str
    is_local_time: bool
    zone: tzinfo
    event_filter: EventMatcher | None = field(default=None, compare=False)

    @property
    def recurring(self) -> bool:
        return self.frequency in RECURRING

    @property
    def triggered(self) -> bool:
        return self.frequency in TRIGGERED

    def wall_clock(self, run: datetime) -> datetime:
        """The naive wall-clock time of a run in the schedule's zone: what each endpoint's own
        time zone must reach when the schedule uses local time."""
        return _aware(run, "run").astimezone(self.zone).replace(tzinfo=None)


def parse_schedule(
    schedule: Any, *, now: datetime | None = None, path: str = "Schedule"
) -> Schedule:
    """Check a ``Schedule`` as a request carries it. With ``now`` (a new or changed campaign)
    the start may not lie in the past; without it (a stored campaign) it may. ``path`` prefixes
    error messages (e.g. ``AdditionalTreatments[0].Schedule``)."""
    if not isinstance(schedule, Mapping):
        raise ScheduleError(f"{path} must be an object")
    frequency = schedule.get("Frequency") or "ONCE"
    if frequency not in FREQUENCIES:
        raise ScheduleError(
            f"{path}.Frequency must be one of {', '.join(FREQUENCIES)}; got {frequency!r}"
        )
    is_local_time = schedule.get("IsLocalTime")
    if is_local_time is not None and not isinstance(is_local_time, bool):
        raise ScheduleError(f"{path}.IsLocalTime must be true or false")

    named = schedule.get("Timezone")
    zone: tzinfo | None = None
    if named is not None:
        zone = schedule_zone(named) if isinstance(named, str) else None
        if zone is None:
            raise ScheduleError(
                f"{path}.Timezone must be UTC, a UTC offset such as UTC+05:30 or UTC-08, or a "
                f"tz database name such as America/Los_Angeles; got {named!r}"
            )

    raw_start = schedule.get("StartTime")
    if not isinstance(raw_start, str) or not raw_start:
        raise ScheduleError(f"{path}.StartTime is required: IMMEDIATE or an ISO 8601 time")
    start: datetime | None = None
    if raw_start == IMMEDIATE:
        if frequency != "ONCE":
            raise ScheduleError(
                f"{path}.StartTime can be IMMEDIATE only when {path}.Frequency is ONCE"
            )
    else:
        written = _parse_time(raw_start, f"{path}.StartTime", "IMMEDIATE or an ISO 8601 time")
        if zone is None:
            zone = _own_zone(written, f"{path}.StartTime")
        start = _read_in(written, zone)
    zone = zone or UTC

    end: datetime | None = None
    raw_end = schedule.get("EndTime")
    if raw_end is not None:
        if not isinstance(raw_end, str):
            raise ScheduleError(f"{path}.EndTime must be an ISO 8601 time")
        end = _read_in(_parse_time(raw_end, f"{path}.EndTime", "an ISO 8601 time"), zone)
    elif frequency in RECURRING:
        raise ScheduleError(f"{path}.EndTime is required when {path}.Frequency is {frequency}")
    if start is not None and end is not None and end <= start:
        raise ScheduleError(f"{path}.EndTime must be after {path}.StartTime")
    if now is not None:
        now = _aware(now, "now")
        if start is not None and start < now - START_TIME_SLACK:
            raise ScheduleError(f"{path}.StartTime must be at least current time")
        if end is not None and end <= now:
            raise ScheduleError(f"{path}.EndTime must be in the future")

    quiet_time = schedule.get("QuietTime")
    if quiet_time is not None:
        if not isinstance(quiet_time, Mapping):
            raise ScheduleError(f"{path}.QuietTime must be an object")
        try:
            validate_quiet_time(quiet_time, f"{path}.QuietTime")
        except BadRequest as error:
            raise ScheduleError(error.message) from error

    matcher = None
    if schedule.get("EventFilter") is not None:
        try:
            matcher = compile_event_filter(schedule["EventFilter"], path=f"{path}.EventFilter")
        except EventFilterError as error:
            raise ScheduleError(error.message) from error
    elif frequency in TRIGGERED:
        raise ScheduleError(f"{path}.EventFilter is required when {path}.Frequency is {frequency}")

    return Schedule(start, end, frequency, bool(is_local_time), zone, matcher)


def run_times(
    schedule: Schedule, *, after: datetime, until: datetime, created: datetime | None = None
) -> Iterator[datetime]:
    """The nominal starts (aware, UTC) of the runs in ``(after, until]``, in order. ONCE has
    one run, EVENT and IN_APP_EVENT none. An IMMEDIATE schedule starts when its campaign is
    created, so it needs ``created``. With local time, a run reaches its endpoints in
    ``waves(schedule.wall_clock(run), their time zones, schedule.zone)``, up to 14 hours
    before or after the nominal start."""
    after, until = _aware(after, "after"), _aware(until, "until")
    if schedule.triggered:
        return
    start = schedule.start
    if start is None:
        if created is None:
            raise ValueError("an IMMEDIATE schedule starts when its campaign is created: pass it")
        start = _aware(created, "created")
    if schedule.frequency == "ONCE":
        if after < start <= until and (schedule.end is None or start < schedule.end):
            yield start
        return
    wall = start.astimezone(schedule.zone).replace(tzinfo=None)
    index = _first_index(schedule, start, wall, after)
    while True:
        moment = _nth_start(schedule, start, wall, index)
        if moment > until or (schedule.end is not None and moment >= schedule.end):
            return
        if moment > after:
            yield moment
        index += 1


def local_send_time(
    run_start_wall: datetime, endpoint_tz: str | None, fallback: tzinfo | str
) -> datetime:
    """When (aware, UTC) an endpoint receives a local-time run whose wall-clock time is
    ``run_start_wall``: when its own time zone reaches that time, or ``fallback`` (the
    schedule's zone) does for an endpoint without a valid time zone."""
    return _instant(_wall(run_start_wall), endpoint_zone(endpoint_tz) or _zone(fallback))


def waves(
    run_start_wall: datetime, timezones: Iterable[str | None], fallback: tzinfo | str
) -> list[tuple[datetime, frozenset[str | None]]]:
    """The endpoints' time zones grouped by the instant (aware, UTC) they receive the run, in
    time order; every time zone given appears in exactly one group."""
    wall, fallback_zone = _wall(run_start_wall), _zone(fallback)
    groups: dict[datetime, set[str | None]] = {}
    for name in set(timezones):
        moment = _instant(wall, endpoint_zone(name) or fallback_zone)
        groups.setdefault(moment, set()).add(name)
    return [(moment, frozenset(groups[moment])) for moment in sorted(groups)]


def endpoint_zone(name: str | None) -> ZoneInfo | None:
    """The time zone an endpoint's ``Demographic.Timezone`` names, None if it names none that
    the tz database knows."""
    return _tz_database_zone(name) if name else None


def schedule_zone(name: str) -> tzinfo | None:
    """The time zone ``Schedule.Timezone`` names: UTC, ``UTC±H[H][:MM]`` up to 14 hours, or a
    tz database name; None for anything else."""
    offset = _OFFSET.fullmatch(name)
    if offset is None:
        return endpoint_zone(name)
    sign, hours, minutes = offset.groups()
    if sign is None:
        return UTC
    total = int(hours) * 60 + int(minutes or 0)
    if int(minutes or 0) >= 60 or total > MAX_OFFSET_MINUTES:
        return None
    return timezone(timedelta(minutes=total if sign == "+" else -total))


@cache
def _tz_database_names() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=4096)
def _tz_database_zone(name: str) -> ZoneInfo | None:
    return ZoneInfo(name) if name in _tz_database_names() else None


def _zone(zone: tzinfo | str) -> tzinfo:
    if isinstance(zone, tzinfo):
        return zone
    resolved = schedule_zone(zone)
    if resolved is None:
        raise ValueError(f"{zone!r} is not a time zone")
    return resolved


def _parse_time(value: str, where: str, expected: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ScheduleError(f"{where} must be {expected}; got {value!r}") from None


def _own_zone(written: datetime, where: str) -> tzinfo:
    offset = written.utcoffset()
    if offset is None or not offset:
        return UTC
    if abs(offset) > timedelta(minutes=MAX_OFFSET_MINUTES):
        raise ScheduleError(f"{where} has a UTC offset beyond 14 hours")
    return timezone(offset)


def _read_in(written: datetime, zone: tzinfo) -> datetime:
    if written.tzinfo is None:
        return _instant(written, zone)
    return written.astimezone(UTC)


def _instant(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a wall-clock time in ``zone`` under the ``fold=0`` rules."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment.astimezone(UTC)


def _wall(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        raise ValueError("run_start_wall is a wall-clock time: pass it without a time zone")
    return moment


def _first_index(schedule: Schedule, start: datetime, wall: datetime, after: datetime) -> int:
    """An index whose run starts no later than the first run after ``after``, so long
    schedules are not walked from their first run."""
    if after < start:
        return 0
    if schedule.frequency == "HOURLY":
        return (after - start) // _HOUR + 1
    if schedule.frequency == "MONTHLY":
        local = after.astimezone(schedule.zone)
        # The month before after's own: safe even if the clocks change as the month turns.
        return max(0, (local.year - wall.year) * 12 + local.month - wall.month - 1)
    # Daylight saving moves a run by hours at most, so the run before this one is before after.
    return (after - start) // _CALENDAR_STEPS[schedule.frequency]


def _nth_start(schedule: Schedule, start: datetime, wall: datetime, index: int) -> datetime:
    if schedule.frequency == "HOURLY":
        return start + index * _HOUR
    if schedule.frequency == "MONTHLY":
        return _instant(_add_months(wall, index), schedule.zone)
    return _instant(wall + index * _CALENDAR_STEPS[schedule.frequency], schedule.zone)


def _add_months(wall: datetime, months: int) -> datetime:
    year, month = divmod(wall.month - 1 + months, 12)
    year += wall.year
    day = min(wall.day, calendar.monthrange(year, month + 1)[1])
    return wall.replace(year=year, month=month + 1, day=day)
