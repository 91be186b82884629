"""Pinpoint's ``SegmentDimensions`` as one SQL boolean expression over ``endpoints``.

``parse_dimensions`` checks a dimension set and turns it into criteria; ``compile_dimensions``
turns the criteria into SQL (SQLite or PostgreSQL) and ``clarion.segments.reference`` evaluates
the same criteria in Python. The semantics, with their sources:

* Every dimension of a set must hold (AND), across Attributes, UserAttributes, Metrics,
  Behavior, Demographic and Location and across the names within Attributes, UserAttributes
  and Metrics; within one dimension, the ``Values`` are alternatives (any of them). The
  Amazon Pinpoint User Guide ("Building segments") reads criteria that way: "customers who use
  version 2.0 of your app on an Android device and who have used your app within the past 30
  days". Combining several dimension sets (SegmentGroups' Type ALL/ANY/NONE) is not done here.
* ``AttributeDimension`` (``Attributes`` over the endpoint's ``Attributes``, ``UserAttributes``
  over ``User.UserAttributes``; botocore pinpoint 2016-12-01 ``AttributeType`` documentation):

  - INCLUSIVE (also when ``AttributeType`` is absent, the API's default): the attribute has at
    least one of the values, compared exactly (case-sensitive).
  - EXCLUSIVE: "endpoints that have attributes matching the values are excluded", so the
    attribute has none of the values; an endpoint without the attribute is kept.
  - CONTAINS: "attributes' substrings match the values": one of the attribute's values
    contains one of the given values as a (case-sensitive) substring.
  - BEFORE / AFTER / ON / BETWEEN: "attributes read as ISO_INSTANT datetimes". BEFORE and
    AFTER take one value and compare strictly; BETWEEN takes two, earlier first, and includes
    both ends; ON takes one and compares the UTC calendar date only ("Time is ignored in this
    comparison"). The given values are any ISO 8601 date or date-time Python's
    ``datetime.fromisoformat`` reads, a time without offset being UTC. An endpoint's attribute
    value takes part only in ISO_INSTANT form (``YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z``, the form
    Java's ``Instant.toString`` writes) or as a bare ``YYYY-MM-DD`` (midnight UTC); anything
    else never matches. Such values are compared as fixed-width UTC strings, which both
    databases can do without parsing (a cast of a malformed value would abort a PostgreSQL
    query), so the digits are not checked against the calendar.
  - An endpoint matches when any one of its values for the attribute satisfies the condition
    (except EXCLUSIVE, where none may); an endpoint without the attribute matches nothing but
    EXCLUSIVE.

* ``MetricDimension``: the endpoint's ``Metrics`` value compared with ``Value`` by
  GREATER_THAN, LESS_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN_OR_EQUAL or EQUAL (the five
  operators of the ``ComparisonOperator`` documentation); without the metric, no match.
* ``Behavior.Recency`` (``RecencyDimension`` documentation: ACTIVE, "endpoints that were
  active within the specified duration"; INACTIVE, those that "weren't"): the endpoint's last
  event (``endpoint_activity.last_event_ms``) is at or after ``now_ms`` minus the duration
  (HR_24, DAY_7, DAY_14, DAY_30) for ACTIVE; INACTIVE is exactly the other endpoints,
  including those with no event at all. ``now_ms`` is passed in, so a segment is evaluated
  at one instant and tests are deterministic.
* ``SetDimension`` (INCLUSIVE, the default, or EXCLUSIVE; ``SetDimension`` documentation):
  INCLUSIVE keeps endpoints whose field equals one of the values, EXCLUSIVE those whose field
  equals none of them (an endpoint without the field is kept). The fields:
  ``Demographic.AppVersion``, ``Make``, ``Model`` and ``Platform`` are the endpoint's
  ``Demographic`` fields of those names; ``Channel`` is the endpoint's ``ChannelType``.
  ``DeviceType`` ("The device type criteria for the segment") has no field of its own in
  ``EndpointDemographic``; the device type Pinpoint's SDKs record is the platform (``ios``,
  ``android``), so ``DeviceType`` is matched against ``Demographic.Platform`` too.
  ``Location.Country`` is the endpoint's ``Location.Country``.
* ``Location.GPSPoint``: the great-circle (haversine, Earth radius 6371.0088 km) distance from
  ``Coordinates`` to the endpoint's ``Location`` ``Latitude``/``Longitude`` is at most
  ``RangeInKilometers``, which is required here (the model leaves it optional and documents no
  default). Endpoints without coordinates, or with coordinates outside [-90, 90] x
  [-180, 180], never match. SQL first filters on a latitude/longitude bounding box, which
  never excludes an endpoint in range, then computes the exact haversine with ``sin`` and
  ``cos`` only: ``hav(d/R) <= sin^2(range / 2R)`` is the same test as ``d <= range`` without
  ``asin``/``sqrt``, whose domain errors PostgreSQL raises.

Semantically invalid dimensions (a date that does not parse, BETWEEN without exactly two
values, a negative range, an unknown operator, …) raise ``BadRequest`` naming the member.
"""

from __future__ import annotations

import math
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from clarion.errors import BadRequest
from clarion.store.schema import endpoint_activity, endpoints

EARTH_RADIUS_KM = 6371.0088
RADIANS = math.pi / 180

DURATIONS_MS = {
    "HR_24": 24 * 3600 * 1000,
    "DAY_7": 7 * 24 * 3600 * 1000,
    "DAY_14": 14 * 24 * 3600 * 1000,
    "DAY_30": 30 * 24 * 3600 * 1000,
}

# The document path each SetDimension is matched against.
DEMOGRAPHIC_FIELDS: dict[str, tuple[str, ...]] = {
    "AppVersion": ("Demographic", "AppVersion"),
    "Channel": ("ChannelType",),
    "DeviceType": ("Demographic", "Platform"),
    "Make": ("Demographic", "Make"),
    "Model": ("Demographic", "Model"),
    "Platform": ("Demographic", "Platform"),
}
COUNTRY_FIELD = ("Location", "Country")

# Where each kind of AttributeDimension looks in the endpoint document.
ATTRIBUTE_KINDS: dict[str, tuple[str, ...]] = {
    "Attributes": ("Attributes",),
    "UserAttributes": ("User", "UserAttributes"),
}

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "GREATER_THAN": operator.gt,
    "LESS_THAN": operator.lt,
    "GREATER_THAN_OR_EQUAL": operator.ge,
    "LESS_THAN_OR_EQUAL": operator.le,
    "EQUAL": operator.eq,
}

VALUE_TYPES = ("INCLUSIVE", "EXCLUSIVE", "CONTAINS")
DATE_TYPES = ("BEFORE", "AFTER", "ON", "BETWEEN")

# An endpoint attribute value that date dimensions read: ISO_INSTANT or a bare date.
INSTANT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z)?"
INSTANT_PATTERN = re.compile(INSTANT)
_GLOB_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_GLOB_TIME = "T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]"

# Box margins in degrees: wider than any rounding, far narrower than any useful range.
_BOX_MARGIN = 1e-6


@dataclass(frozen=True)
class AttributeCriterion:
    """One attribute name of ``Attributes`` or ``UserAttributes``.

    ``operands`` are the values for INCLUSIVE/EXCLUSIVE/CONTAINS, the instant key (see
    ``instant_key``) for BEFORE/AFTER, the UTC date for ON and two keys for BETWEEN.
    """

    path: tuple[str, ...]
    name: str
    type: str
    operands: tuple[str, ...]


@dataclass(frozen=True)
class MetricCriterion:
    name: str
    operator: str
    value: float


@dataclass(frozen=True)
class RecencyCriterion:
    active: bool
    cutoff_ms: int


@dataclass(frozen=True)
class SetCriterion:
    path: tuple[str, ...]
    inclusive: bool
    values: tuple[str, ...]


@dataclass(frozen=True)
class GpsCriterion:
    latitude: float
    longitude: float
    range_km: float

    @property
    def everywhere(self) -> bool:
        """A range of half the Earth's circumference or more reaches every point."""
        return self.range_km >= math.pi * EARTH_RADIUS_KM

    @property
    def threshold(self) -> float:
        """The haversine of the range's central angle: the bound for ``haversine``."""
        return math.sin(self.range_km / (2 * EARTH_RADIUS_KM)) ** 2


Criterion = AttributeCriterion | MetricCriterion | RecencyCriterion | SetCriterion | GpsCriterion


# --- Parsing ----------------------------------------------------------------------------------


MAX_DIMENSIONS = 100
"""Pinpoint's quota: dimensions in one segment, counted over all its groups."""
MAX_VALUES = 100
"""Values of one dimension. Each becomes a term of the segment's one SQL condition, and the
bound keeps that condition within what both databases parse."""


def count_dimensions(definition: Mapping[str, Any], *, now_ms: int) -> int:
    """The criteria of a segment definition's Dimensions and every group's, each checked;
    BadRequest past MAX_DIMENSIONS."""
    sets = [definition["Dimensions"]] if definition.get("Dimensions") else []
    for group in (definition.get("SegmentGroups") or {}).get("Groups") or []:
        sets.extend(group.get("Dimensions") or [])
    total = sum(len(parse_dimensions(dimensions, now_ms=now_ms)) for dimensions in sets)
    if total > MAX_DIMENSIONS:
        raise BadRequest(
            f"WriteSegmentRequest has {total} dimensions; a segment may have at most "
            f"{MAX_DIMENSIONS}, counting every group's"
        )
    return total


def parse_dimensions(dimensions: Mapping[str, Any], *, now_ms: int) -> list[Criterion]:
    """Check a ``SegmentDimensions`` value and list the criteria that must all hold."""
    criteria: list[Criterion] = []
    for kind, path in ATTRIBUTE_KINDS.items():
        for name, dimension in _mapping(dimensions, kind, kind).items():
            criteria.append(_attribute(path, name, dimension, f"{kind}.{name}"))
    for name, dimension in _mapping(dimensions, "Metrics", "Metrics").items():
        criteria.append(_metric(name, dimension, f"Metrics.{name}"))
    recency = _mapping(_mapping(dimensions, "Behavior", "Behavior"), "Recency", "Behavior.Recency")
    if recency:
        criteria.append(_recency(recency, now_ms))
    demographic = _mapping(dimensions, "Demographic", "Demographic")
    for field, path in DEMOGRAPHIC_FIELDS.items():
        if demographic.get(field) is not None:
            criteria.append(_set(path, demographic[field], f"Demographic.{field}"))
    location = _mapping(dimensions, "Location", "Location")
    if location.get("Country") is not None:
        criteria.append(_set(COUNTRY_FIELD, location["Country"], "Location.Country"))
    if location.get("GPSPoint") is not None:
        criteria.append(_gps(location["GPSPoint"]))
    return criteria


def _mapping(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadRequest(f"{where} must be an object")
    return value


def _values(dimension: Mapping[str, Any], where: str) -> tuple[str, ...]:
    values = dimension.get("Values")
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise BadRequest(f"{where}.Values must be a list of strings")
    if len(values) > MAX_VALUES:
        raise BadRequest(
            f"{where}.Values has {len(values)} values; a dimension may have at most {MAX_VALUES}"
        )
    return tuple(values)


def _attribute(path: tuple[str, ...], name: str, dimension: Any, where: str) -> AttributeCriterion:
    if not isinstance(dimension, Mapping):
        raise BadRequest(f"{where} must be an object")
    kind = dimension.get("AttributeType") or "INCLUSIVE"
    values = _values(dimension, where)
    if kind in VALUE_TYPES:
        return AttributeCriterion(path, name, kind, values)
    if kind not in DATE_TYPES:
        raise BadRequest(
            f"{where}.AttributeType: {kind!r} is not one of {', '.join(VALUE_TYPES + DATE_TYPES)}"
        )
    wanted = 2 if kind == "BETWEEN" else 1
    if len(values) != wanted:
        raise BadRequest(
            f"{where}.Values: {kind} takes exactly {wanted} ISO 8601 date"
            f"{'s' if wanted > 1 else ''}, not {len(values)}"
        )
    instants = [_instant(value, f"{where}.Values") for value in values]
    if kind == "ON":
        return AttributeCriterion(path, name, kind, (instant_key(instants[0])[:10],))
    if kind == "BETWEEN" and instants[0] > instants[1]:
        raise BadRequest(f"{where}.Values: BETWEEN takes the earlier date first")
    return AttributeCriterion(path, name, kind, tuple(instant_key(i) for i in instants))


def _instant(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"{where}: {value!r} is not an ISO 8601 date or date-time") from None


def instant_key(instant: datetime) -> str:
    """The fixed-width UTC string that orders like the instant: the form ``value_key`` gives
    endpoint values, so the two compare as strings."""
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T{instant.hour:02d}:"
        f"{instant.minute:02d}:{instant.second:02d}.{instant.microsecond:06d}000"
    )


def _metric(name: str, dimension: Any, where: str) -> MetricCriterion:
    if not isinstance(dimension, Mapping):
        raise BadRequest(f"{where} must be an object")
    comparison = dimension.get("ComparisonOperator")
    if comparison not in COMPARISONS:
        raise BadRequest(
            f"{where}.ComparisonOperator: {comparison!r} is not one of {', '.join(COMPARISONS)}"
        )
    value = dimension.get("Value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"{where}.Value must be a finite number")
    return MetricCriterion(name, comparison, float(value))


def _recency(recency: Mapping[str, Any], now_ms: int) -> RecencyCriterion:
    duration, kind = recency.get("Duration"), recency.get("RecencyType")
    if duration not in DURATIONS_MS:
        raise BadRequest(
            f"Behavior.Recency.Duration: {duration!r} is not one of {', '.join(DURATIONS_MS)}"
        )
    if kind not in ("ACTIVE", "INACTIVE"):
        raise BadRequest(f"Behavior.Recency.RecencyType: {kind!r} is not ACTIVE or INACTIVE")
    return RecencyCriterion(kind == "ACTIVE", now_ms - DURATIONS_MS[duration])


def _set(path: tuple[str, ...], dimension: Any, where: str) -> SetCriterion:
    if not isinstance(dimension, Mapping):
        raise BadRequest(f"{where} must be an object")
    kind = dimension.get("DimensionType") or "INCLUSIVE"
    if kind not in ("INCLUSIVE", "EXCLUSIVE"):
        raise BadRequest(f"{where}.DimensionType: {kind!r} is not INCLUSIVE or EXCLUSIVE")
    return SetCriterion(path, kind == "INCLUSIVE", _values(dimension, where))


def _gps(point: Any) -> GpsCriterion:
    if not isinstance(point, Mapping) or not isinstance(point.get("Coordinates"), Mapping):
        raise BadRequest("Location.GPSPoint.Coordinates is required")
    coordinates = point["Coordinates"]
    latitude = _number(coordinates.get("Latitude"), "Location.GPSPoint.Coordinates.Latitude")
    longitude = _number(coordinates.get("Longitude"), "Location.GPSPoint.Coordinates.Longitude")
    if not -90 <= latitude <= 90:
        raise BadRequest("Location.GPSPoint.Coordinates.Latitude must be between -90 and 90")
    if not -180 <= longitude <= 180:
        raise BadRequest("Location.GPSPoint.Coordinates.Longitude must be between -180 and 180")
    range_km = _number(point.get("RangeInKilometers"), "Location.GPSPoint.RangeInKilometers")
    if range_km < 0:
        raise BadRequest("Location.GPSPoint.RangeInKilometers must not be negative")
    return GpsCriterion(latitude, longitude, range_km)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"{where} is required and must be a finite number")
    return float(value)


# --- Shared arithmetic --------------------------------------------------------------------------


def haversine(
    latitude: Any,
    longitude: Any,
    gps: GpsCriterion,
    sin: Callable[[Any], Any],
    cos: Callable[[Any], Any],
) -> Any:
    """The haversine of the central angle between the endpoint and ``gps``, written once for
    floats (``math.sin``) and SQL expressions (``sa.func.sin``), so both evaluate the very same
    operations in the same order and agree to the last bit."""
    half_dlat = (latitude - gps.latitude) * (RADIANS * 0.5)
    half_dlon = (longitude - gps.longitude) * (RADIANS * 0.5)
    cos_product = cos(latitude * RADIANS) * math.cos(gps.latitude * RADIANS)
    return sin(half_dlat) * sin(half_dlat) + cos_product * sin(half_dlon) * sin(half_dlon)


def longitude_ranges(gps: GpsCriterion) -> list[tuple[float, float]] | None:
    """Longitude intervals holding every point within range, or None when the range reaches a
    pole or wraps the globe (then longitude does not narrow anything)."""
    angle = gps.range_km / EARTH_RADIUS_KM
    latitude = gps.latitude * RADIANS
    if abs(latitude) + angle >= math.pi / 2:
        return None
    spread = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(latitude))))
    spread += _BOX_MARGIN
    low, high = gps.longitude - spread, gps.longitude + spread
    if high - low >= 360:
        return None
    if low < -180:
        return [(low + 360, 180.0), (-180.0, high)]
    if high > 180:
        return [(low, 180.0), (-180.0, high - 360)]
    return [(low, high)]


def latitude_range(gps: GpsCriterion) -> tuple[float, float]:
    """Latitudes of every point within range: a great circle is never shorter than the
    difference in latitude."""
    spread = math.degrees(gps.range_km / EARTH_RADIUS_KM) + _BOX_MARGIN
    return gps.latitude - spread, gps.latitude + spread


# --- SQL ----------------------------------------------------------------------------------------


def compile_dimensions(
    dimensions: Mapping[str, Any], *, now_ms: int, dialect: str
) -> ColumnElement[bool]:
    """One boolean expression over ``endpoints``: true exactly for the endpoints in the segment.

    Recency is an IN over ``endpoint_activity`` ordinals, so the expression needs no join:
    ``SELECT … FROM endpoints WHERE app_id = :app AND <expression>``. Every part is two-valued
    (never NULL), so the expression may also be negated or OR-ed by callers.
    """
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"segments are compiled for sqlite and postgresql, not {dialect}")
    json: _Json = _SqliteJson() if dialect == "sqlite" else _PostgresJson()
    conditions = [
        _condition(criterion, json) for criterion in parse_dimensions(dimensions, now_ms=now_ms)
    ]
    return sa.and_(sa.true(), *conditions)


def _condition(criterion: Criterion, json: _Json) -> ColumnElement[bool]:
    if isinstance(criterion, AttributeCriterion):
        return _attribute_condition(criterion, json)
    if isinstance(criterion, MetricCriterion):
        metric = json.metric(criterion.name)
        compare = COMPARISONS[criterion.operator]
        return sa.and_(metric.is_not(None), compare(metric, criterion.value))
    if isinstance(criterion, RecencyCriterion):
        # Ordinals are unique across apps, so the subquery needs no correlation, and as an
        # uncorrelated IN on the rowid it lets SQLite look up only the recent endpoints instead
        # of parsing every endpoint's document (10x faster at 1,000,000 endpoints).
        recent = sa.select(endpoint_activity.c.ordinal).where(
            endpoint_activity.c.last_event_ms >= criterion.cutoff_ms
        )
        active = endpoints.c.ordinal.in_(recent)
        return active if criterion.active else ~active
    if isinstance(criterion, SetCriterion):
        field = (
            endpoints.c.channel_type
            if criterion.path == ("ChannelType",)
            else json.text(criterion.path)
        )
        if criterion.inclusive:
            return sa.and_(field.is_not(None), field.in_(criterion.values))
        return sa.or_(field.is_(None), field.not_in(criterion.values))
    return _gps_condition(criterion, json)


def _attribute_condition(criterion: AttributeCriterion, json: _Json) -> ColumnElement[bool]:
    elements = json.strings(criterion.path, criterion.name)
    value = elements.value
    match: ColumnElement[bool]
    if criterion.type in ("INCLUSIVE", "EXCLUSIVE"):
        match = value.in_(criterion.operands)
    elif criterion.type == "CONTAINS":
        match = sa.or_(sa.false(), *(json.contains(value, part) for part in criterion.operands))
    else:
        key = sa.case((json.is_instant(value), _value_key(value)))
        if criterion.type == "BEFORE":
            match = key < criterion.operands[0]
        elif criterion.type == "AFTER":
            match = key > criterion.operands[0]
        elif criterion.type == "ON":
            match = sa.func.substr(key, 1, 10) == criterion.operands[0]
        else:
            match = key.between(criterion.operands[0], criterion.operands[1])
    found = sa.exists().select_from(elements.source).where(*elements.conditions, match)
    return ~found if criterion.type == "EXCLUSIVE" else found


def _value_key(value: ColumnElement[str]) -> ColumnElement[str]:
    """SQL twin of ``value_key`` for values already known to match ``INSTANT``."""
    length = sa.func.length(value)
    fraction = _concat(sa.func.substr(value, 21, length - 21), "000000000")
    return sa.case(
        (length == 10, _concat(value, "T00:00:00.000000000")),
        (length == 20, _concat(sa.func.substr(value, 1, 19), ".000000000")),
        else_=_concat(sa.func.substr(value, 1, 20), sa.func.substr(fraction, 1, 9)),
    )


def _concat(left: ColumnElement[Any], right: ColumnElement[Any] | str) -> ColumnElement[str]:
    """``||`` on both databases, whatever SQLAlchemy infers the operands' types to be."""
    return sa.type_coerce(left.op("||")(right), sa.String)


def value_key(value: str) -> str:
    """The ``instant_key`` form of an endpoint value matching ``INSTANT``: a bare date is
    midnight, the fraction is padded to nanoseconds."""
    if len(value) == 10:
        return value + "T00:00:00.000000000"
    if len(value) == 20:
        return value[:19] + ".000000000"
    return value[:20] + (value[20:-1] + "000000000")[:9]


def _gps_condition(gps: GpsCriterion, json: _Json) -> ColumnElement[bool]:
    latitude = json.number(("Location", "Latitude"))
    longitude = json.number(("Location", "Longitude"))
    conditions: list[ColumnElement[bool]] = [
        latitude.between(-90.0, 90.0),
        longitude.between(-180.0, 180.0),
    ]
    if not gps.everywhere:
        south, north = latitude_range(gps)
        conditions.append(latitude.between(south, north))
        ranges = longitude_ranges(gps)
        if ranges is not None:
            conditions.append(sa.or_(*(longitude.between(low, high) for low, high in ranges)))
        conditions.append(
            haversine(latitude, longitude, gps, sa.func.sin, sa.func.cos) <= gps.threshold
        )
    # Coordinates that are NULL make the comparisons NULL; the IS NOT NULL terms make it false.
    return sa.and_(latitude.is_not(None), longitude.is_not(None), *conditions)


@dataclass(frozen=True)
class _Elements:
    """The string elements of one attribute list: FROM ``source`` WHERE ``conditions``, each
    row's string being ``value``."""

    source: FromClause
    value: ColumnElement[str]
    conditions: tuple[ColumnElement[bool], ...]


class _Json(ABC):
    """Reading the endpoint document, per database: scalars only of the expected JSON type
    (else NULL), and attribute lists as a FROM clause of their string elements."""

    @abstractmethod
    def text(self, path: Sequence[str]) -> ColumnElement[str]: ...

    @abstractmethod
    def number(self, path: Sequence[str]) -> ColumnElement[float]: ...

    @abstractmethod
    def metric(self, name: str) -> ColumnElement[float]: ...

    @abstractmethod
    def strings(self, path: Sequence[str], name: str) -> _Elements:
        """One row per string element of the attribute ``name`` under ``path``; no row when
        the attribute is absent or not a list."""

    @abstractmethod
    def contains(self, value: ColumnElement[str], part: str) -> ColumnElement[bool]: ...

    @abstractmethod
    def is_instant(self, value: ColumnElement[str]) -> ColumnElement[bool]: ...


class _SqliteJson(_Json):
    """``json_extract`` for fixed paths; names chosen by clients are never spliced into a JSON
    path (SQLite's path syntax has no escape for quotes), but compared as ``json_each`` keys."""

    def _path(self, path: Sequence[str]) -> str:
        return "$." + ".".join(path)

    def text(self, path: Sequence[str]) -> ColumnElement[str]:
        # Stored documents passed the endpoint rules, so these fields hold strings and
        # numbers as their shapes say; no per-row type check is needed.
        return sa.func.json_extract(endpoints.c.document, self._path(path))

    def number(self, path: Sequence[str]) -> ColumnElement[float]:
        return sa.func.json_extract(endpoints.c.document, self._path(path))

    def metric(self, name: str) -> ColumnElement[float]:
        metrics = sa.func.json_each(endpoints.c.document, "$.Metrics").table_valued(
            "key", "value", "type"
        )
        return (
            sa.select(metrics.c.value)
            .where(metrics.c.key == name, metrics.c.type.in_(("integer", "real")))
            .scalar_subquery()
        )

    def strings(self, path: Sequence[str], name: str) -> _Elements:
        names = (
            sa.func.json_each(endpoints.c.document, self._path(path))
            .table_valued("key", "value", "type")
            .alias("attribute_names")
        )
        elements = (
            sa.func.json_each(sa.case((names.c.type == "array", names.c.value), else_="[]"))
            .table_valued(sa.column("value", sa.String), "type")
            .alias("attribute_values")
        )
        return _Elements(
            names.join(elements, sa.true()),
            elements.c.value,
            (names.c.key == name, elements.c.type == "text"),
        )

    def contains(self, value: ColumnElement[str], part: str) -> ColumnElement[bool]:
        return sa.func.instr(value, part) > 0

    def is_instant(self, value: ColumnElement[str]) -> ColumnElement[bool]:
        length = sa.func.length(value)
        fraction = sa.func.substr(value, 21, length - 21)
        return sa.or_(
            sa.and_(length == 10, value.op("GLOB")(_GLOB_DATE)),
            sa.and_(length == 20, value.op("GLOB")(_GLOB_DATE + _GLOB_TIME + "Z")),
            sa.and_(
                length.between(22, 30),
                sa.func.substr(value, 1, 20).op("GLOB")(_GLOB_DATE + _GLOB_TIME + "."),
                sa.func.substr(value, length, 1) == "Z",
                sa.func.trim(fraction, "0123456789") == "",
            ),
        )


class _PostgresJson(_Json):
    """``jsonb`` operators with every key a bound parameter."""

    def __init__(self) -> None:
        self.document = sa.type_coerce(endpoints.c.document, postgresql.JSONB)

    def _at(self, path: Sequence[str]) -> Any:
        node: Any = self.document
        for key in path:
            node = node[key]
        return node

    def _typed(self, node: Any, json_type: str, value: Any) -> Any:
        return sa.case((sa.func.jsonb_typeof(node) == json_type, value))

    def text(self, path: Sequence[str]) -> ColumnElement[str]:
        node = self._at(path)
        result: ColumnElement[str] = self._typed(node, "string", node.astext)
        return result

    def number(self, path: Sequence[str]) -> ColumnElement[float]:
        node = self._at(path)
        result: ColumnElement[float] = self._typed(node, "number", sa.cast(node.astext, sa.Float))
        return result

    def metric(self, name: str) -> ColumnElement[float]:
        return self.number(("Metrics", name))

    def strings(self, path: Sequence[str], name: str) -> _Elements:
        node = self._at((*path, name))
        array = sa.case(
            (sa.func.jsonb_typeof(node) == "array", node),
            else_=sa.cast(sa.literal("[]"), postgresql.JSONB),
        )
        elements = (
            sa.func.jsonb_array_elements(array)
            .table_valued(sa.column("value", postgresql.JSONB))
            .alias("attribute_values")
        )
        element = elements.c.value
        return _Elements(
            elements,
            sa.type_coerce(element.op("#>>")(sa.literal_column("'{}'")), sa.String),
            (sa.func.jsonb_typeof(element) == "string",),
        )

    def contains(self, value: ColumnElement[str], part: str) -> ColumnElement[bool]:
        return sa.func.strpos(value, part) > 0

    def is_instant(self, value: ColumnElement[str]) -> ColumnElement[bool]:
        return value.op("~")(f"^{INSTANT}$")
