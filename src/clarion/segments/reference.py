"""The segment semantics of ``clarion.segments.dimensions``, evaluated in plain Python.

One endpoint at a time and no database: the statement of record the SQL compilation is tested
against (see the module docstring of ``dimensions`` for the semantics and their sources).
Parsing and validation are shared, so both evaluate the same criteria; the haversine is
shared too, so both compute the same floating-point operations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from clarion.segments.dimensions import (
    COMPARISONS,
    INSTANT_PATTERN,
    AttributeCriterion,
    Criterion,
    GpsCriterion,
    MetricCriterion,
    RecencyCriterion,
    SetCriterion,
    haversine,
    parse_dimensions,
    value_key,
)


def matches(
    document: Mapping[str, Any],
    activity_last_ms: int | None,
    dimensions: Mapping[str, Any],
    now_ms: int,
) -> bool:
    """Whether the endpoint (its stored document and the time of its last event, None if it
    has none) belongs to the segment the dimensions describe, at ``now_ms``."""
    return all(
        _holds(criterion, document, activity_last_ms)
        for criterion in parse_dimensions(dimensions, now_ms=now_ms)
    )


def _holds(criterion: Criterion, document: Mapping[str, Any], last_ms: int | None) -> bool:
    if isinstance(criterion, AttributeCriterion):
        return _attribute_holds(criterion, document)
    if isinstance(criterion, MetricCriterion):
        metric = _number(_at(document, ("Metrics", criterion.name)))
        return metric is not None and bool(COMPARISONS[criterion.operator](metric, criterion.value))
    if isinstance(criterion, RecencyCriterion):
        active = last_ms is not None and last_ms >= criterion.cutoff_ms
        return active == criterion.active
    if isinstance(criterion, SetCriterion):
        value = _at(document, criterion.path)
        found = isinstance(value, str) and value in criterion.values
        return found == criterion.inclusive
    return _gps_holds(criterion, document)


def _attribute_holds(criterion: AttributeCriterion, document: Mapping[str, Any]) -> bool:
    listed = _at(document, (*criterion.path, criterion.name))
    values = (
        [value for value in listed if isinstance(value, str)] if isinstance(listed, list) else []
    )
    operands = criterion.operands
    if criterion.type == "INCLUSIVE":
        return any(value in operands for value in values)
    if criterion.type == "EXCLUSIVE":
        return not any(value in operands for value in values)
    if criterion.type == "CONTAINS":
        return any(part in value for value in values for part in operands)
    keys = [value_key(value) for value in values if INSTANT_PATTERN.fullmatch(value)]
    if criterion.type == "BEFORE":
        return any(key < operands[0] for key in keys)
    if criterion.type == "AFTER":
        return any(key > operands[0] for key in keys)
    if criterion.type == "ON":
        return any(key[:10] == operands[0] for key in keys)
    return any(operands[0] <= key <= operands[1] for key in keys)


def _gps_holds(gps: GpsCriterion, document: Mapping[str, Any]) -> bool:
    latitude = _number(_at(document, ("Location", "Latitude")))
    longitude = _number(_at(document, ("Location", "Longitude")))
    if latitude is None or longitude is None:
        return False
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return False
    if gps.everywhere:
        return True
    return bool(haversine(latitude, longitude, gps, math.sin, math.cos) <= gps.threshold)


def _at(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = document
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
