"""Pinpoint's ``CampaignEventFilter``, compiled once into a matcher that tests ingested events.

An event-triggered campaign (``Schedule.Frequency`` EVENT) is sent when an event matching its
filter arrives, so the matcher runs on every ingested event: compiling turns the filter into
frozensets, precomputed operands and one small test per attribute and metric, and ``matches``
does no parsing except of the event's own date values.

The semantics, with their sources (botocore ``pinpoint`` 2016-12-01 documentation of
``CampaignEventFilter``, ``EventDimensions``, ``SetDimension``, ``AttributeDimension`` and
``MetricDimension``, and the Amazon Pinpoint User Guide, "Step 4: Choose when to send the
campaign"):

* ``FilterType`` (required): SYSTEM, "when a system event occurs", or ENDPOINT, "when an
  endpoint event (Events resource) occurs". Matching is the same for both; the matcher keeps
  the type so the caller feeds it the right events.
* ``Dimensions`` (required) are all required to hold (AND): the event type, every attribute
  named and every metric named. Within one dimension the ``Values`` are alternatives: the User
  Guide says that when "the same attribute [is used] multiple times with different values,
  Amazon Pinpoint processes the campaign attributes using 'or' between the values".
* ``EventType`` (a ``SetDimension``; ``DimensionType`` INCLUSIVE when absent): INCLUSIVE
  matches events whose ``EventType`` is one of the values, EXCLUSIVE those whose type is none
  of them. Pinpoint leaves the member optional; without it every event type matches.
* ``Attributes`` (``AttributeDimension`` per attribute name; ``AttributeType`` INCLUSIVE when
  absent), against the event's ``Attributes`` (one string per name):

  - INCLUSIVE: the attribute equals one of the values (exactly, case-sensitive);
  - EXCLUSIVE: "attributes matching the values are excluded", so the attribute equals none
    of them; an event without the attribute matches;
  - CONTAINS: the attribute contains one of the values as a (case-sensitive) substring;
  - BEFORE / AFTER: the attribute, "read as ISO_INSTANT datetimes", is strictly before /
    after the one value; ON: it falls on the value's UTC date ("Time is ignored in this
    comparison"); BETWEEN: it lies between the two values, earlier first, both included.
    Dates on either side are what ``datetime.fromisoformat`` reads (ISO 8601, ``Z``
    included); a time without an offset is UTC. An event value that is not such a date never
    matches.

  Without the attribute, only EXCLUSIVE matches. These are the rules Clarion's segments use
  for the same ``AttributeDimension`` (``clarion.segments.dimensions``), except that segments
  read endpoint dates only in ISO_INSTANT form, which SQL can compare as text.
* ``Metrics`` (``MetricDimension``): the event's metric compared with ``Value`` by
  GREATER_THAN, LESS_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN_OR_EQUAL or EQUAL; an event
  without the metric does not match.

A filter Pinpoint's model would refuse, or whose values cannot be read, raises
``EventFilterError`` naming the member.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from clarion.errors import BadRequest

FILTER_TYPES = ("ENDPOINT", "SYSTEM")
DIMENSION_TYPES = ("INCLUSIVE", "EXCLUSIVE")
ATTRIBUTE_TYPES = ("INCLUSIVE", "EXCLUSIVE", "CONTAINS", "BEFORE", "AFTER", "ON", "BETWEEN")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GREATER_THAN": operator.gt,
    "LESS_THAN": operator.lt,
    "GREATER_THAN_OR_EQUAL": operator.ge,
    "LESS_THAN_OR_EQUAL": operator.le,
    "EQUAL": operator.eq,
}

AttributeTest = Callable[[str | None], bool]


class EventFilterError(BadRequest, ValueError):
    """A CampaignEventFilter Pinpoint would refuse; the message names the member."""


class EventMatcher:
    """A compiled ``CampaignEventFilter``: ``matches`` tells whether a PutEvents event (a
    mapping with ``EventType``, ``Attributes`` and ``Metrics``) triggers the campaign."""

    __slots__ = ("_attributes", "_event_types", "_exclude_types", "_metrics", "filter_type")

    def __init__(
        self,
        filter_type: str,
        event_types: frozenset[str] | None,
        exclude_types: bool,
        attributes: tuple[tuple[str, AttributeTest], ...],
        metrics: tuple[tuple[str, Callable[[float, float], bool], float], ...],
    ) -> None:
        self.filter_type = filter_type
        self._event_types = event_types
        self._exclude_types = exclude_types
        self._attributes = attributes
        self._metrics = metrics

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self._event_types is not None and (
            (event.get("EventType") in self._event_types) == self._exclude_types
        ):
            return False
        if self._attributes:
            attributes = event.get("Attributes") or {}
            for name, test in self._attributes:
                value = attributes.get(name)
                if not test(value if isinstance(value, str) else None):
                    return False
        if self._metrics:
            metrics = event.get("Metrics") or {}
            for name, compare, operand in self._metrics:
                value = metrics.get(name)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    return False
                if not compare(float(value), operand):
                    return False
        return True


def compile_event_filter(event_filter: Any, *, path: str = "EventFilter") -> EventMatcher:
    """Check a ``CampaignEventFilter`` and compile it; ``path`` prefixes error messages (e.g.
    ``Schedule.EventFilter``)."""
    filter_map = _mapping(event_filter, path)
    filter_type = filter_map.get("FilterType")
    if filter_type not in FILTER_TYPES:
        raise EventFilterError(
            f"{path}.FilterType must be one of {', '.join(FILTER_TYPES)}; got {filter_type!r}"
        )
    if filter_map.get("Dimensions") is None:
        raise EventFilterError(f"{path}.Dimensions is required")
    dimensions = _mapping(filter_map["Dimensions"], f"{path}.Dimensions")
    where = f"{path}.Dimensions"

    event_types: frozenset[str] | None = None
    exclude_types = False
    if dimensions.get("EventType") is not None:
        event_type = _mapping(dimensions["EventType"], f"{where}.EventType")
        kind = event_type.get("DimensionType") or "INCLUSIVE"
        if kind not in DIMENSION_TYPES:
            raise EventFilterError(
                f"{where}.EventType.DimensionType must be INCLUSIVE or EXCLUSIVE; got {kind!r}"
            )
        event_types = frozenset(_values(event_type, f"{where}.EventType"))
        exclude_types = kind == "EXCLUSIVE"

    attributes = tuple(
        (name, _attribute_test(dimension, f"{where}.Attributes.{name}"))
        for name, dimension in _named(dimensions, "Attributes", where).items()
    )
    metrics = tuple(
        (name, *_metric(dimension, f"{where}.Metrics.{name}"))
        for name, dimension in _named(dimensions, "Metrics", where).items()
    )
    return EventMatcher(filter_type, event_types, exclude_types, attributes, metrics)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise EventFilterError(f"{where} must be an object")
    return value


def _named(dimensions: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = dimensions.get(key)
    return {} if value is None else _mapping(value, f"{where}.{key}")


def _values(dimension: Mapping[str, Any], where: str) -> tuple[str, ...]:
    values = dimension.get("Values")
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise EventFilterError(f"{where}.Values must be a list of strings")
    return tuple(values)


def _attribute_test(dimension: Any, where: str) -> AttributeTest:
    kind = _mapping(dimension, where).get("AttributeType") or "INCLUSIVE"
    if kind not in ATTRIBUTE_TYPES:
        raise EventFilterError(
            f"{where}.AttributeType must be one of {', '.join(ATTRIBUTE_TYPES)}; got {kind!r}"
        )
    values = _values(dimension, where)
    if kind == "INCLUSIVE":
        allowed = frozenset(values)
        return lambda value: value in allowed
    if kind == "EXCLUSIVE":
        refused = frozenset(values)
        return lambda value: value not in refused
    if kind == "CONTAINS":
        return lambda value: value is not None and any(part in value for part in values)
    return _date_test(kind, values, where)


def _date_test(kind: str, values: tuple[str, ...], where: str) -> AttributeTest:
    wanted = 2 if kind == "BETWEEN" else 1
    if len(values) != wanted:
        raise EventFilterError(
            f"{where}.Values: {kind} takes exactly {wanted} ISO 8601 "
            f"date{'s' if wanted > 1 else ''}, not {len(values)}"
        )
    bounds = []
    for value in values:
        instant = _instant(value)
        if instant is None:
            raise EventFilterError(f"{where}.Values: {value!r} is not an ISO 8601 date or time")
        bounds.append(instant)
    first = bounds[0]
    if kind == "BEFORE":
        return lambda value: _compare(value, lambda moment: moment < first)
    if kind == "AFTER":
        return lambda value: _compare(value, lambda moment: moment > first)
    if kind == "ON":
        day = first.date()
        return lambda value: _compare(value, lambda moment: moment.date() == day)
    last = bounds[1]
    if first > last:
        raise EventFilterError(f"{where}.Values: BETWEEN takes the earlier date first")
    return lambda value: _compare(value, lambda moment: first <= moment <= last)


def _compare(value: str | None, test: Callable[[datetime], bool]) -> bool:
    moment = None if value is None else _instant(value)
    return moment is not None and test(moment)


def _instant(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _metric(dimension: Any, where: str) -> tuple[Callable[[float, float], bool], float]:
    metric = _mapping(dimension, where)
    name = metric.get("ComparisonOperator")
    if name not in COMPARISONS:
        raise EventFilterError(
            f"{where}.ComparisonOperator must be one of {', '.join(COMPARISONS)}; got {name!r}"
        )
    value = metric.get("Value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventFilterError(f"{where}.Value must be a number; got {value!r}")
    return COMPARISONS[name], float(value)
