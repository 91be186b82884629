"""Journey conditions: a yes/no split's ``Condition`` and each multivariate branch's
``SimpleCondition``, checked as Pinpoint's model and guides define them.

* ``Condition``: ``Conditions`` (at least one; a split with nothing to test has no meaning)
  joined by ``Operator`` ALL or ANY. Pinpoint does not say what a missing Operator means; the
  engine reads it as ALL (``clarion.journeys.steps.holds``), the reading that never lets a
  participant through on half of what was asked.
* ``SimpleCondition``: exactly one of ``EventCondition``, ``SegmentCondition`` or
  ``SegmentDimensions``, since each alone is a whole test.
* ``EventCondition``: ``Dimensions`` (an ``EventDimensions``) is required and is checked by
  the campaign event filter's rules (``clarion.campaigns.filters``), which the engine also
  matches with. ``MessageActivity`` optionally narrows the events to those about the messages
  of an earlier activity of the journey (the console's "Send", "Open", "Click" … of a message
  activity); whether that activity exists, sends messages and comes earlier is a graph
  question, so the reference is handed back to the caller.
* ``SegmentCondition.SegmentId`` must name a segment of the application.
* ``SegmentDimensions`` are checked by the segment compiler's own parser
  (``clarion.segments.dimensions.parse_dimensions``) and bounded by Pinpoint's segment quota
  of 100 dimensions (Amazon Pinpoint Developer Guide, "Segment quotas").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from clarion.campaigns.filters import compile_event_filter
from clarion.errors import BadRequest
from clarion.journeys.fields import choice, listing, mapping, one_of, optional_string, string
from clarion.segments.dimensions import MAX_DIMENSIONS, parse_dimensions

OPERATORS = ("ALL", "ANY")
SIMPLE_CONDITIONS = ("EventCondition", "SegmentCondition", "SegmentDimensions")

SegmentExists = Callable[[str], bool]


@dataclass(frozen=True)
class MessageReference:
    """An ``EventCondition.MessageActivity``: the activity it names and the member's path."""

    activity_id: str
    path: str


def check_condition(value: Any, path: str, segment_exists: SegmentExists) -> list[MessageReference]:
    """A ``Condition``; returns the message activities its event conditions name."""
    condition = mapping(value, path)
    if condition.get("Operator") is not None:
        choice(condition["Operator"], f"{path}.Operator", OPERATORS)
    if condition.get("Conditions") is None:
        raise BadRequest(f"{path}.Conditions is required: the conditions the split tests")
    conditions = listing(condition["Conditions"], f"{path}.Conditions")
    if not conditions:
        raise BadRequest(f"{path}.Conditions needs at least one condition")
    found = []
    for index, simple in enumerate(conditions):
        reference = check_simple_condition(simple, f"{path}.Conditions[{index}]", segment_exists)
        if reference is not None:
            found.append(reference)
    return found


def check_simple_condition(
    value: Any, path: str, segment_exists: SegmentExists
) -> MessageReference | None:
    """A ``SimpleCondition``; returns the message activity its event condition names."""
    simple = mapping(value, path)
    kind = one_of(simple, SIMPLE_CONDITIONS, path)
    if kind is None:
        raise BadRequest(f"{path} needs one of {', '.join(SIMPLE_CONDITIONS)}")
    where = f"{path}.{kind}"
    if kind == "SegmentCondition":
        check_segment(simple[kind], where, segment_exists)
        return None
    if kind == "SegmentDimensions":
        _segment_dimensions(simple[kind], where)
        return None
    return _event_condition(simple[kind], where)


def check_segment(value: Any, path: str, segment_exists: SegmentExists) -> None:
    """A ``SegmentCondition``: its required ``SegmentId`` names a segment of the app."""
    check_segment_id(mapping(value, path), path, segment_exists, required=True)


def check_segment_id(
    parent: Mapping[str, Any], path: str, segment_exists: SegmentExists, *, required: bool
) -> None:
    segment_id = optional_string(parent, "SegmentId", path)
    if not segment_id:
        if required:
            raise BadRequest(f"{path}.SegmentId is required: the segment of the condition")
        return
    if not segment_exists(segment_id):
        raise BadRequest(f"{path}.SegmentId: there is no segment {segment_id!r} in this app")


def _segment_dimensions(value: Any, path: str) -> None:
    try:
        criteria = parse_dimensions(mapping(value, path), now_ms=0)
    except BadRequest as error:
        if error.message.startswith(path):
            raise
        raise BadRequest(f"{path}.{error.message}") from None
    if len(criteria) > MAX_DIMENSIONS:
        raise BadRequest(
            f"{path} has {len(criteria)} dimensions; a segment may have at most {MAX_DIMENSIONS}"
        )


def _event_condition(value: Any, path: str) -> MessageReference | None:
    event = mapping(value, path)
    if event.get("Dimensions") is None:
        raise BadRequest(f"{path}.Dimensions is required: the events the condition looks for")
    compile_event_filter({"FilterType": "ENDPOINT", "Dimensions": event["Dimensions"]}, path=path)
    activity_id = event.get("MessageActivity")
    if activity_id is None or string(activity_id, f"{path}.MessageActivity") == "":
        return None
    return MessageReference(activity_id, f"{path}.MessageActivity")
