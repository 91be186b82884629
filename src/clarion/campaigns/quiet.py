"""Quiet time: whether an endpoint is inside it, when it ends, and which one applies.

Pinpoint's rule (botocore ``pinpoint`` 2016-12-01, ``Schedule.QuietTime`` and
``WriteApplicationSettingsRequest.QuietTime``): a message is not sent to an endpoint when

* the endpoint's ``Demographic.Timezone`` is set to a valid value (a tz database name),
* the current time in that time zone is later than or equal to ``QuietTime.Start``, and
* earlier than or equal to ``QuietTime.End``;

"if any of the preceding conditions isn't met, the endpoint will receive messages". So an
endpoint without a valid time zone is never in quiet time, whatever the schedule's zone.
Start and End are 24-hour ``HH:MM`` values. Clarion compares at minute resolution, both ends
included: with End 07:00 the whole minute 07:00 is quiet and sending resumes at 07:01:00.
A Start later than End is a window across midnight (22:00 to 07:00 is quiet from 22:00 through
07:00 the next morning); Start equal to End is quiet for that one minute.

A campaign does not hold messages back: the User Guide ("General settings") says that if a
message would be sent between the start and end times "Amazon Pinpoint doesn't attempt to send
the message to that endpoint", and such an endpoint still counts as targeted for the
campaign's Total limit. Journeys may instead wait: ``WriteJourneyRequest.WaitForQuietTime``
"specifies whether endpoints in quiet hours should enter a wait till the end of their quiet
hours" — ``quiet_time_ends`` gives that moment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from clarion.campaigns.schedule import endpoint_zone

MINUTES_PER_DAY = 24 * 60

_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_PROBE = timedelta(hours=1)


def in_quiet_time(
    at_utc: datetime, quiet_start: str, quiet_end: str, endpoint_tz: str | None
) -> bool:
    """Whether an endpoint whose ``Demographic.Timezone`` is ``endpoint_tz`` is in the quiet
    time from ``quiet_start`` to ``quiet_end`` at the instant ``at_utc``."""
    moment, window = _aware(at_utc), _window(quiet_start, quiet_end)
    zone = endpoint_zone(endpoint_tz)
    return zone is not None and _quiet(_minute_of_day(moment, zone), *window)


def quiet_time_ends(
    at_utc: datetime, quiet_start: str, quiet_end: str, endpoint_tz: str | None
) -> datetime | None:
    """The first instant at or after ``at_utc`` at which the endpoint is out of quiet time:
    ``at_utc`` itself when it is not in quiet time, None when the window covers the whole
    day. Daylight-saving changes are followed exactly: a clock that jumps out of the window
    ends the quiet time at the jump."""
    moment = _aware(at_utc)
    zone = endpoint_zone(endpoint_tz)
    start, end = _window(quiet_start, quiet_end)
    if zone is None or not _quiet(_minute_of_day(moment, zone), start, end):
        return moment
    if (end + 1) % MINUTES_PER_DAY == start:
        return None
    while True:
        local = moment.astimezone(zone)
        minute = local.hour * 60 + local.minute
        if not _quiet(minute, start, end):
            return moment
        # Under the offset in force now, the window is left at the start of minute End + 1.
        leaves = moment + timedelta(
            minutes=(end + 1 - minute) % MINUTES_PER_DAY,
            seconds=-local.second,
            microseconds=-local.microsecond,
        )
        change = _next_offset_change(zone, moment, leaves)
        if change is None:
            return leaves
        moment = change


def effective_quiet_time(
    app_settings: Mapping[str, Any] | None, campaign_schedule: Mapping[str, Any] | None
) -> tuple[str, str] | None:
    """The quiet time (Start, End) a campaign observes, None for none.

    The application's ``QuietTime`` is "the default quiet time for campaigns in the
    application"; a campaign overrides it with its own ``Schedule.QuietTime``
    (``WriteApplicationSettingsRequest.QuietTime``: "to override the default quiet time
    settings for a specific campaign … define a custom quiet time for the campaign"). So a
    campaign without ``QuietTime`` follows the application. Pinpoint says nothing of a campaign
    ``QuietTime`` without Start and End; Clarion reads it as the campaign's own setting — no
    quiet time — since it is the only way the API shape lets a campaign opt out.
    """
    campaign = (campaign_schedule or {}).get("QuietTime")
    if campaign is not None:
        return _pair(campaign)
    return _pair((app_settings or {}).get("QuietTime") or {})


def _pair(quiet_time: Mapping[str, Any]) -> tuple[str, str] | None:
    start, end = quiet_time.get("Start"), quiet_time.get("End")
    return (start, end) if start and end else None


@lru_cache(maxsize=256)
def _window(quiet_start: str, quiet_end: str) -> tuple[int, int]:
    return _minutes(quiet_start), _minutes(quiet_end)


def _minutes(value: str) -> int:
    match = _HH_MM.fullmatch(value)
    if match is None:
        raise ValueError(f"quiet time {value!r} is not a 24-hour HH:MM time")
    return int(match[1]) * 60 + int(match[2])


def _quiet(minute: int, start: int, end: int) -> bool:
    if start <= end:
        return start <= minute <= end
    return minute >= start or minute <= end


def _minute_of_day(moment: datetime, zone: tzinfo) -> int:
    local = moment.astimezone(zone)
    return local.hour * 60 + local.minute


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("at_utc must be an aware datetime")
    return moment.astimezone(UTC)


def _next_offset_change(zone: tzinfo, after: datetime, until: datetime) -> datetime | None:
    """The first instant in ``(after, until]`` at which ``zone``'s UTC offset differs from its
    offset at ``after``, None if there is none. Offsets change on whole seconds (tz database
    transitions), so the change is found by hourly probes, then bisection over seconds."""
    offset = after.astimezone(zone).utcoffset()
    probe = after
    while probe < until:
        step = min(probe + _PROBE, until)
        if step.astimezone(zone).utcoffset() != offset:
            low, high = math.floor(probe.timestamp()), math.ceil(step.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            return datetime.fromtimestamp(high, UTC)
        probe = step
    return None
