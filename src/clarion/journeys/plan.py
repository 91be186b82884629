"""A stored journey read once into what the engine needs at every step. Pure.

Journeys answer to the same eligibility rules as campaigns (``campaigns.eligibility``): an
opted-out or inactive endpoint gets no message; quiet time and the caps hold messages back.
A journey's limits come from its own ``Limits`` (``DailyCap``, ``TotalCap``,
``MessagesPerSecond``, ``TimeframeCap``) and, for members it leaves unset, from the
application's ``JourneyLimits``; its quiet time is its own ``QuietTime``, else the
application's. ``EndpointReentryCap`` unset means one entry (the console's default: no
re-entry); 0 means no limit, as Pinpoint documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from clarion.campaigns import limits as campaign_limits
from clarion.campaigns.eligibility import Eligibility
from clarion.campaigns.filters import EventMatcher, compile_event_filter
from clarion.campaigns.quiet import effective_quiet_time
from clarion.campaigns.schedule import schedule_zone
from clarion.journeys.times import parse_duration, parse_timestamp
from clarion.store.journeys import StoredJourney


@dataclass(frozen=True)
class Plan:
    journey: StoredJourney
    activities: Mapping[str, Mapping[str, Any]]
    start_activity: str
    start: datetime | None
    end: datetime | None
    eligibility: Eligibility
    limits: campaign_limits.Limits
    wait_for_quiet_time: bool
    reentry_cap: int | None
    """None: no limit."""
    reentry_interval_ms: int
    refresh_ms: int | None
    refresh_on_segment_update: bool
    segment_id: str | None
    """The start condition's segment (SegmentStartCondition, or EventStartCondition's)."""
    event_filter: EventMatcher | None
    """EventStartCondition's filter; None for a segment-started journey."""
    local_time: bool
    zone: tzinfo
    """Schedule.Timezone: the zone of endpoints whose own zone is unknown."""
    zone_methods: tuple[str, ...]
    open_hours: Mapping[str, Any] | None
    closed_days: Mapping[str, Any] | None

    @property
    def app_id(self) -> str:
        return self.journey.app_id

    @property
    def id(self) -> str:
        return self.journey.id


def plan(journey: StoredJourney, app_settings: Mapping[str, Any]) -> Plan:
    definition = journey.definition
    own = definition.get("Limits") or {}
    app = app_settings.get("JourneyLimits") or {}

    def chosen(member: str) -> Any:
        return own.get(member) if own.get(member) is not None else app.get(member)

    timeframe = chosen("TimeframeCap") or {}
    limits = campaign_limits.Limits(
        daily=chosen("DailyCap") or None,
        total=chosen("TotalCap") or None,
        messages_per_second=chosen("MessagesPerSecond") or None,
        timeframe_days=timeframe.get("Days") or None,
        timeframe_cap=(timeframe.get("Cap") or None) if timeframe.get("Days") else None,
    )
    quiet = effective_quiet_time(app_settings, {"QuietTime": definition.get("QuietTime")})
    schedule = definition.get("Schedule") or {}
    start = definition.get("StartCondition") or {}
    event_start = start.get("EventStartCondition")
    segment_id = (start.get("SegmentStartCondition") or {}).get("SegmentId") or (
        (event_start or {}).get("SegmentId")
    )
    reentry = own.get("EndpointReentryCap")
    sending = bool(definition.get("SendingSchedule"))
    return Plan(
        journey=journey,
        activities=definition.get("Activities") or {},
        start_activity=definition.get("StartActivity") or "",
        start=parse_timestamp(schedule["StartTime"], "StartTime")
        if schedule.get("StartTime")
        else None,
        end=parse_timestamp(schedule["EndTime"], "EndTime") if schedule.get("EndTime") else None,
        eligibility=Eligibility(journey.id, 0, (100,), quiet, limits, lambda _, __: True),
        limits=limits,
        wait_for_quiet_time=bool(definition.get("WaitForQuietTime")),
        reentry_cap=1 if reentry is None else (reentry or None),
        reentry_interval_ms=_duration_ms(own.get("EndpointReentryInterval")) or 0,
        refresh_ms=_duration_ms(definition.get("RefreshFrequency")),
        refresh_on_segment_update=bool(definition.get("RefreshOnSegmentUpdate")),
        segment_id=segment_id,
        event_filter=(
            compile_event_filter(event_start["EventFilter"])
            if event_start and event_start.get("EventFilter")
            else None
        ),
        local_time=bool(definition.get("LocalTime")),
        zone=schedule_zone(schedule.get("Timezone") or "UTC") or UTC,
        zone_methods=tuple(definition.get("TimezoneEstimationMethods") or ()),
        open_hours=definition.get("OpenHours") if sending else None,
        closed_days=definition.get("ClosedDays") if sending else None,
    )


def _duration_ms(value: str | None) -> int | None:
    if not value:
        return None
    return int(parse_duration(value, "duration").total_seconds() * 1000) or None
