"""A journey's own settings, the ``WriteJourneyRequest`` members around its activities: its
name and state, whom it admits and when, how much and how fast it may send, and when it may
not.

What Pinpoint documents (botocore ``pinpoint`` 2016-12-01 model; Amazon Pinpoint API
Reference, "Journey"; User Guide, "Create a journey"), and Clarion's choices where it is
silent:

* ``Name`` is required, at most 150 characters. The model adds that a name "can't contain
  any spaces"; Clarion accepts spaces, since nothing here depends on their absence and a name
  saved in Pinpoint must not be refused on the way over.
* ``State`` in a create or update is DRAFT or ACTIVE only: "PAUSED, CANCELLED, COMPLETED, and
  CLOSED states are not supported in requests to create or update a journey".
* ``Schedule``: ``StartTime`` and ``EndTime`` are ISO 8601 (either may be left out: the
  console then starts five minutes after publishing and runs without end); ``EndTime`` must
  come after ``StartTime``. ``Timezone`` is one of Pinpoint's UTC offsets, any
  ``UTC±H[H][:MM]`` up to 14 hours, or a tz database name
  (``clarion.campaigns.schedule.schedule_zone``, as for campaigns).
* ``Limits``: ``DailyCap``, ``TotalCap``, ``EndpointReentryCap`` and ``TimeframeCap.Cap`` are
  0 to 100 and ``TimeframeCap.Days`` 0 to 30, 0 meaning no limit (JourneyLimits and
  JourneyTimeframeCap documentation; the application's JourneyLimits use the same
  validator). ``MessagesPerSecond`` has no documented journey bound; Clarion takes the
  campaigns' 20,000 as the ceiling and 0 as no limit. ``EndpointReentryInterval`` is an ISO
  8601 duration.
* ``QuietTime``: ``Start`` and ``End`` as 24-hour ``HH:MM``, both or neither (the
  application's QuietTime validator). ``RefreshFrequency`` is a duration longer than zero
  (zero would re-read the segment without pause).
* ``SendingSchedule`` "should be set to true in order to allow using OpenHours and
  ClosedDays": Clarion refuses OpenHours or ClosedDays without it rather than ignore them.
  The same sentence says QuietTime "should be configured first"; the engine applies open
  hours on their own, so that is not required. ``OpenHours`` maps a channel (EMAIL, SMS,
  PUSH, VOICE, CUSTOM) and a day (MONDAY … SUNDAY) to at most 4 ``{StartTime, EndTime}``
  ranges of ``HH:MM``, start before end; ``ClosedDays`` maps a channel to at most 20
  ``{Name, StartDateTime, EndDateTime}`` rules, end after start (User Guide: "You can add up
  to four time ranges per day", "You can add up to 20 exceptions"). That open hours must
  "respect the quiet time hours" is a console rule: the engine simply sends only when both
  allow it, so it is not checked.
* ``StartCondition``: at most one of ``SegmentStartCondition`` and ``EventStartCondition``
  (whose ``EventFilter``, FilterType ENDPOINT or SYSTEM, is checked by the campaign event
  filter's rules, and whose optional ``SegmentId`` must exist); exactly one to publish.
* ``TimezoneEstimationMethods`` are PHONE_NUMBER or POSTAL_CODE; ``LocalTime``,
  ``WaitForQuietTime``, ``RefreshOnSegmentUpdate`` and ``SendingSchedule`` are booleans;
  ``JourneyChannelSettings`` holds strings, its role an IAM role ARN; ``CreationDate`` and
  ``LastModifiedDate`` are strings the service sets itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clarion.apps.settings import validate_journey_limits, validate_quiet_time
from clarion.arns import check_role_arn
from clarion.campaigns.filters import compile_event_filter
from clarion.campaigns.schedule import schedule_zone
from clarion.errors import BadRequest
from clarion.journeys.conditions import SegmentExists, check_segment, check_segment_id
from clarion.journeys.fields import (
    boolean,
    choice,
    listing,
    mapping,
    one_of,
    optional_integer,
    optional_mapping,
    optional_string,
    required_string,
    string,
)
from clarion.journeys.times import clock_minutes, parse_duration, parse_timestamp

MAX_NAME = 150
WRITABLE_STATES = ("DRAFT", "ACTIVE")
MAX_MESSAGES_PER_SECOND = 20_000
SENDING_CHANNELS = ("EMAIL", "SMS", "PUSH", "VOICE", "CUSTOM")
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
MAX_OPEN_HOURS_PER_DAY = 4
MAX_CLOSED_DAYS = 20
TIMEZONE_ESTIMATION_METHODS = ("PHONE_NUMBER", "POSTAL_CODE")
START_CONDITIONS = ("SegmentStartCondition", "EventStartCondition")
FLAGS = ("LocalTime", "WaitForQuietTime", "RefreshOnSegmentUpdate", "SendingSchedule")


def check_settings(
    request: Mapping[str, Any], path: str, segment_exists: SegmentExists, *, publishing: bool
) -> None:
    """Every member of ``request`` but Activities and StartActivity."""
    name = required_string(request, "Name", path, "the journey's name")
    if len(name) > MAX_NAME:
        raise BadRequest(f"{path}.Name has {len(name)} characters; at most {MAX_NAME} are allowed")
    _state(request, path)
    for member in ("CreationDate", "LastModifiedDate"):
        optional_string(request, member, path)
    for member in FLAGS:
        boolean(request, member, path)
    _schedule(request, path)
    _limits(request, path)
    quiet_time = optional_mapping(request, "QuietTime", path)
    if quiet_time is not None:
        for member in ("Start", "End"):
            optional_string(quiet_time, member, f"{path}.QuietTime")
        validate_quiet_time(quiet_time, f"{path}.QuietTime")
    if request.get("RefreshFrequency") is not None:
        where = f"{path}.RefreshFrequency"
        if not parse_duration(request["RefreshFrequency"], where):
            raise BadRequest(f"{where} must be longer than zero")
    methods = request.get("TimezoneEstimationMethods")
    if methods is not None:
        where = f"{path}.TimezoneEstimationMethods"
        for index, method in enumerate(listing(methods, where)):
            choice(method, f"{where}[{index}]", TIMEZONE_ESTIMATION_METHODS)
    _sending_schedule(request, path)
    _start_condition(request, path, segment_exists, publishing=publishing)
    channel = optional_mapping(request, "JourneyChannelSettings", path)
    if channel is not None:
        where = f"{path}.JourneyChannelSettings"
        optional_string(channel, "ConnectCampaignArn", where)
        role = optional_string(channel, "ConnectCampaignExecutionRoleArn", where)
        if role:
            check_role_arn(role, f"{where}.ConnectCampaignExecutionRoleArn")


def _state(request: Mapping[str, Any], path: str) -> None:
    state = request.get("State")
    if state is None or state in WRITABLE_STATES:
        return
    where = f"{path}.State"
    hint = {
        "PAUSED": "; UpdateJourneyState pauses, resumes and cancels a journey",
        "CANCELLED": "; UpdateJourneyState pauses, resumes and cancels a journey",
        "COMPLETED": "; a journey becomes COMPLETED or CLOSED as its schedule runs out",
        "CLOSED": "; a journey becomes COMPLETED or CLOSED as its schedule runs out",
    }.get(string(state, where), "")
    raise BadRequest(
        f"{where} must be DRAFT or ACTIVE in a create or update request; got {state[:100]!r}{hint}"
    )


def _schedule(request: Mapping[str, Any], path: str) -> None:
    schedule = optional_mapping(request, "Schedule", path)
    if schedule is None:
        return
    where = f"{path}.Schedule"
    start = end = None
    if schedule.get("StartTime") is not None:
        start = parse_timestamp(schedule["StartTime"], f"{where}.StartTime")
    if schedule.get("EndTime") is not None:
        end = parse_timestamp(schedule["EndTime"], f"{where}.EndTime")
    if start is not None and end is not None and end <= start:
        raise BadRequest(f"{where}.EndTime must be after {where}.StartTime")
    zone = optional_string(schedule, "Timezone", where)
    if zone is not None and schedule_zone(zone) is None:
        raise BadRequest(
            f"{where}.Timezone must be UTC, a UTC offset such as UTC+05:30 or UTC-08, or a "
            f"tz database name such as America/Los_Angeles; got {zone[:100]!r}"
        )


def _limits(request: Mapping[str, Any], path: str) -> None:
    limits = optional_mapping(request, "Limits", path)
    if limits is None:
        return
    where = f"{path}.Limits"
    for member in ("DailyCap", "TotalCap"):
        optional_integer(limits, member, where)
    optional_integer(limits, "EndpointReentryCap", where, 0, 100)
    optional_integer(limits, "MessagesPerSecond", where, 0, MAX_MESSAGES_PER_SECOND)
    timeframe = optional_mapping(limits, "TimeframeCap", where)
    for member in ("Days", "Cap"):
        optional_integer(timeframe or {}, member, f"{where}.TimeframeCap")
    validate_journey_limits(limits, where)
    if limits.get("EndpointReentryInterval") is not None:
        parse_duration(limits["EndpointReentryInterval"], f"{where}.EndpointReentryInterval")


def _sending_schedule(request: Mapping[str, Any], path: str) -> None:
    open_hours = optional_mapping(request, "OpenHours", path)
    closed_days = optional_mapping(request, "ClosedDays", path)
    if (open_hours or closed_days) and request.get("SendingSchedule") is not True:
        member = "OpenHours" if open_hours else "ClosedDays"
        raise BadRequest(
            f"{path}.{member} is used only when {path}.SendingSchedule is true; set it, or "
            f"leave {member} out"
        )
    for channel, days in _channels(open_hours, f"{path}.OpenHours"):
        for day, rules in mapping(days, channel).items():
            where = f"{channel}.{choice(day, f'{channel} key', DAYS)}"
            ranges = listing(rules, where)
            if len(ranges) > MAX_OPEN_HOURS_PER_DAY:
                raise BadRequest(
                    f"{where} has {len(ranges)} time ranges; a day may have at most "
                    f"{MAX_OPEN_HOURS_PER_DAY}"
                )
            for index, rule in enumerate(ranges):
                _open_hours_rule(rule, f"{where}[{index}]")
    for channel, rules in _channels(closed_days, f"{path}.ClosedDays"):
        closed = listing(rules, channel)
        if len(closed) > MAX_CLOSED_DAYS:
            raise BadRequest(
                f"{channel} has {len(closed)} rules; a channel may have at most {MAX_CLOSED_DAYS}"
            )
        for index, rule in enumerate(closed):
            _closed_days_rule(rule, f"{channel}[{index}]")


def _channels(channels: Mapping[str, Any] | None, path: str) -> list[tuple[str, Any]]:
    """(path of the channel's member, its value) for each channel given."""
    found = []
    for channel, value in (channels or {}).items():
        choice(channel, f"{path} key", SENDING_CHANNELS)
        if value is not None:
            found.append((f"{path}.{channel}", value))
    return found


def _open_hours_rule(value: Any, path: str) -> None:
    rule = mapping(value, path)
    bounds = []
    for member in ("StartTime", "EndTime"):
        if rule.get(member) is None:
            raise BadRequest(f"{path}.{member} is required: a 24-hour time in HH:MM format")
        bounds.append(clock_minutes(rule[member], f"{path}.{member}"))
    if bounds[0] >= bounds[1]:
        raise BadRequest(f"{path}.EndTime must be after {path}.StartTime on the same day")


def _closed_days_rule(value: Any, path: str) -> None:
    rule = mapping(value, path)
    required_string(rule, "Name", path, "the name of the closed period")
    bounds = []
    for member in ("StartDateTime", "EndDateTime"):
        where = f"{path}.{member}"
        if rule.get(member) is None:
            raise BadRequest(f"{where} is required: an ISO 8601 date and time")
        bounds.append(parse_timestamp(string(rule[member], where), where))
    if bounds[0] >= bounds[1]:
        raise BadRequest(f"{path}.EndDateTime must be after {path}.StartDateTime")


def _start_condition(
    request: Mapping[str, Any], path: str, segment_exists: SegmentExists, *, publishing: bool
) -> None:
    where = f"{path}.StartCondition"
    start = optional_mapping(request, "StartCondition", path) or {}
    optional_string(start, "Description", where)
    kind = one_of(start, START_CONDITIONS, where)
    if kind is None:
        if publishing:
            raise BadRequest(
                f"{where} needs SegmentStartCondition or EventStartCondition to publish the "
                "journey: they say who enters it"
            )
        return
    if kind == "SegmentStartCondition":
        check_segment(start[kind], f"{where}.{kind}", segment_exists)
        return
    event = mapping(start[kind], f"{where}.{kind}")
    if event.get("EventFilter") is None:
        raise BadRequest(
            f"{where}.{kind}.EventFilter is required: the event that brings an endpoint in"
        )
    compile_event_filter(event["EventFilter"], path=f"{where}.{kind}.EventFilter")
    check_segment_id(event, f"{where}.{kind}", segment_exists, required=False)
