"""What each journey activity does with a participant, apart from any I/O. Pure.

An activity is the ``WriteJourneyRequest.Activities[id]`` object; its one kind member (EMAIL,
SMS, PUSH, CUSTOM, Wait, ConditionalSplit, MultiCondition, RandomSplit, Holdout,
ContactCenter) says what it does. Random choices (RandomSplit, Holdout) hash the journey,
the endpoint, its entry and the activity, so a participant whose step is done again after a
crash takes the same path, and two entries of one endpoint are drawn independently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from clarion.channels.kinds import PUSH_CHANNELS, ChannelType
from clarion.journeys.times import parse_duration, parse_timestamp

KINDS = (
    "EMAIL",
    "SMS",
    "PUSH",
    "CUSTOM",
    "Wait",
    "ConditionalSplit",
    "MultiCondition",
    "RandomSplit",
    "Holdout",
    "ContactCenter",
)
"""An Activity's kind members; validation allows exactly one per activity."""
MESSAGE_KINDS = frozenset({"EMAIL", "SMS", "PUSH", "CUSTOM", "ContactCenter"})
"""Activities that send something (a ContactCenter hand-off is a web hook call)."""
_SCALE = 10_000


def kind(activity: Mapping[str, Any]) -> str:
    """The activity's kind member (the first present, validation allows one)."""
    return next(member for member in KINDS if activity.get(member) is not None)


def body(activity: Mapping[str, Any]) -> Mapping[str, Any]:
    found: Mapping[str, Any] = activity[kind(activity)]
    return found


def channel_matches(activity_kind: str, custom_types: Sequence[str], channel: str) -> bool:
    """Whether a message activity has something for an endpoint of this channel: e-mail to
    EMAIL, SMS to SMS, push to every push channel, a custom activity to its EndpointTypes
    (every channel when it names none)."""
    if activity_kind == "EMAIL":
        return channel == ChannelType.EMAIL
    if activity_kind == "SMS":
        return channel == ChannelType.SMS
    if activity_kind == "PUSH":
        return channel in PUSH_CHANNELS
    return not custom_types or channel in custom_types


def draw(journey_id: str, endpoint_key: str, entry: int, activity_id: str) -> int:
    """The participant's stable draw in [0, 10000) at one activity of one entry."""
    seed = f"{journey_id}\x00{endpoint_key}\x00{entry}\x00{activity_id}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % _SCALE


def random_branch(branches: Sequence[Mapping[str, Any]], drawn: int) -> int:
    """The RandomSplit branch a draw falls in: branch i takes Percentage[i] of the draws."""
    upper = 0
    for index, branch in enumerate(branches):
        upper += int(branch.get("Percentage") or 0) * (_SCALE // 100)
        if drawn < upper:
            return index
    return len(branches) - 1


def held_out(percentage: int, drawn: int) -> bool:
    return drawn < percentage * (_SCALE // 100)


def wait_end(wait_time: Mapping[str, Any], arrived: datetime) -> datetime:
    """When a WaitTime (WaitFor, a duration from arrival; or WaitUntil, a moment) is over."""
    if wait_time.get("WaitUntil"):
        return parse_timestamp(wait_time["WaitUntil"], "WaitUntil")
    return arrived + parse_duration(wait_time.get("WaitFor") or "PT0S", "WaitFor")


@dataclass(frozen=True)
class Facts:
    """What a condition is judged on for one participant: the events its endpoint reported
    since it entered the journey, and which segment conditions it meets."""

    events: Sequence[Mapping[str, Any]]
    in_segment: Callable[[Mapping[str, Any]], bool]
    """(SegmentCondition or SegmentDimensions object) → whether the endpoint is in it."""
    event_matches: Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
    """(EventCondition, event) → whether the event meets the condition."""


def holds(condition: Mapping[str, Any], facts: Facts) -> bool:
    """A ``Condition`` (Conditions joined by Operator ALL or ANY) or a ``SimpleCondition``."""
    if "Conditions" in condition:
        results = (holds(simple, facts) for simple in condition.get("Conditions") or [])
        return any(results) if condition.get("Operator") == "ANY" else all(results)
    if condition.get("EventCondition") is not None:
        wanted = condition["EventCondition"]
        return any(facts.event_matches(wanted, event) for event in facts.events)
    if condition.get("SegmentCondition") is not None:
        return facts.in_segment(condition["SegmentCondition"])
    if condition.get("SegmentDimensions") is not None:
        return facts.in_segment({"Dimensions": condition["SegmentDimensions"]})
    return False


def split(activity: Mapping[str, Any], facts: Facts) -> int | None:
    """The path a split takes: ConditionalSplit 0 (true) or 1 (false); MultiCondition the
    first branch whose condition holds, None for the default path."""
    found = kind(activity)
    if found == "ConditionalSplit":
        return 0 if holds(activity[found].get("Condition") or {}, facts) else 1
    for index, branch in enumerate(activity[found].get("Branches") or []):
        if holds(branch.get("Condition") or {}, facts):
            return index
    return None


def next_activity(activity: Mapping[str, Any], path: int | None = 0) -> str | None:
    """The activity a participant goes to next (None: it leaves the journey) from an
    activity, on ``path`` for splits."""
    found = kind(activity)
    member = activity[found]
    if found == "ConditionalSplit":
        chosen = member.get("TrueActivity") if path == 0 else member.get("FalseActivity")
        return str(chosen) if chosen else None
    if found in ("MultiCondition", "RandomSplit"):
        branches = member.get("Branches") or []
        if path is None or path >= len(branches):
            chosen = member.get("DefaultActivity")
        else:
            chosen = branches[path].get("NextActivity")
        return str(chosen) if chosen else None
    chosen = member.get("NextActivity")
    return str(chosen) if chosen else None


def evaluation_end(activity: Mapping[str, Any], arrived: datetime) -> datetime | None:
    """When a split judges its conditions: after its EvaluationWaitTime, else at once."""
    wait_time = body(activity).get("EvaluationWaitTime")
    return wait_end(wait_time, arrived) if wait_time else None


def message_events(
    events: Sequence[Mapping[str, Any]], journey_id: str, activity_id: str | None
) -> Sequence[Mapping[str, Any]]:
    """The events an EventCondition with MessageActivity looks at: those about the messages
    that activity of this journey sent."""
    if activity_id is None:
        return events
    return [
        event
        for event in events
        if (event.get("Attributes") or {}).get("journey_id") == journey_id
        and (event.get("Attributes") or {}).get("journey_activity_id") == activity_id
    ]


def next_open(
    at: datetime,
    channel_key: str,
    open_hours: Mapping[str, Any] | None,
    closed_days: Mapping[str, Any] | None,
    zone: Any,
) -> datetime | None:
    """The first moment at or after ``at`` when the journey may send on a channel
    (``channel_key`` EMAIL, SMS, PUSH, VOICE or CUSTOM) under its OpenHours and ClosedDays,
    read in the endpoint's zone; None when no moment in the next 366 days is open."""
    hours = (open_hours or {}).get(channel_key) or {}
    closed = (closed_days or {}).get(channel_key) or []
    if not hours and not closed:
        return at
    moment = at.astimezone(zone)
    for _ in range(366 * 24 * 4):
        if _open(moment, hours) and not _closed(moment, closed):
            return moment.astimezone(UTC)
        moment = (moment + timedelta(minutes=15)).replace(second=0, microsecond=0)
        moment = moment.replace(minute=moment.minute - moment.minute % 15)
    return None


_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _open(local: datetime, hours: Mapping[str, Any]) -> bool:
    if not hours:
        return True
    minute = local.hour * 60 + local.minute
    for rule in hours.get(_DAYS[local.weekday()]) or []:
        if _minutes(rule["StartTime"]) <= minute < _minutes(rule["EndTime"]):
            return True
    return False


def _closed(local: datetime, rules: Sequence[Mapping[str, Any]]) -> bool:
    for rule in rules:
        start = parse_timestamp(rule["StartDateTime"], "StartDateTime")
        end = parse_timestamp(rule["EndDateTime"], "EndDateTime")
        if start <= local <= end:
            return True
    return False


def _minutes(value: str) -> int:
    hours, _, minutes = value.partition(":")
    return int(hours) * 60 + int(minutes)
