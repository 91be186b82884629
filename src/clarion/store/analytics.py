"""Reads over the per-day analytics rollups and the endpoint documents; never the raw events.

Every query is keyed by app and bounded by days. Tables whose primary key continues past the day
(``daily_events``, ``daily_attributes``, ``daily_metrics``) are read with the days spelled out
(``day IN (…)``) and the remaining key columns pinned, so both SQLite and PostgreSQL seek the
key for each day instead of scanning every event type of a day range.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from pyroaring import BitMap

from clarion.store.database import Database
from clarion.store.schema import (
    daily_active,
    daily_attributes,
    daily_events,
    daily_metrics,
    daily_revenue,
    daily_sessions,
    endpoint_activity,
    endpoints,
)


@dataclass(frozen=True, slots=True)
class SessionDay:
    day: date
    sessions: int
    ended: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class EventCount:
    day: date
    event_type: str
    count: int


@dataclass(frozen=True, slots=True)
class AttributeCount:
    day: date
    event_type: str
    attribute: str
    value: str
    count: int


@dataclass(frozen=True, slots=True)
class AttributedCount:
    """Events of a type on a day that carry an attribute, whatever its value."""

    day: date
    event_type: str
    attribute: str
    count: int


@dataclass(frozen=True, slots=True)
class ValueCount:
    """Events of a type over a range whose attribute has one value."""

    event_type: str
    value: str
    count: int


@dataclass(frozen=True, slots=True)
class MetricDay:
    day: date
    count: int
    total: float
    minimum: float
    maximum: float


@dataclass(frozen=True, slots=True)
class RevenueDay:
    day: date
    currency: str
    purchases: int
    quantity: float
    revenue: float


def _between(day: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    return day.between(sa.bindparam("first"), sa.bindparam("last"))


def _on_days(day: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    return day.in_(sa.bindparam("days", expanding=True))


_ACTIVE = sa.select(daily_active.c.day, daily_active.c.endpoints).where(
    daily_active.c.app_id == sa.bindparam("app_id"), _between(daily_active.c.day)
)
_NEW_ENDPOINTS = (
    sa.select(endpoint_activity.c.first_day, sa.func.count())
    .where(
        endpoint_activity.c.app_id == sa.bindparam("app_id"),
        _between(endpoint_activity.c.first_day),
    )
    .group_by(endpoint_activity.c.first_day)
)
_SESSIONS = sa.select(
    daily_sessions.c.day,
    daily_sessions.c.sessions,
    daily_sessions.c.ended,
    daily_sessions.c.duration_ms,
).where(daily_sessions.c.app_id == sa.bindparam("app_id"), _between(daily_sessions.c.day))
_EVENT_COUNTS = sa.select(
    daily_events.c.day, daily_events.c.event_type, daily_events.c.count
).where(
    daily_events.c.app_id == sa.bindparam("app_id"),
    _on_days(daily_events.c.day),
    daily_events.c.event_type.in_(sa.bindparam("event_types", expanding=True)),
)
_ATTRIBUTE_COUNTS = sa.select(
    daily_attributes.c.day,
    daily_attributes.c.event_type,
    daily_attributes.c.attribute,
    daily_attributes.c.value,
    daily_attributes.c.count,
).where(
    daily_attributes.c.app_id == sa.bindparam("app_id"),
    _on_days(daily_attributes.c.day),
    daily_attributes.c.event_type.in_(sa.bindparam("event_types", expanding=True)),
    daily_attributes.c.attribute.in_(sa.bindparam("attributes", expanding=True)),
)
_ATTRIBUTE_SUM = sa.cast(sa.func.sum(daily_attributes.c.count), sa.BigInteger)
_ATTRIBUTED_COUNTS = (
    sa.select(
        daily_attributes.c.day,
        daily_attributes.c.event_type,
        daily_attributes.c.attribute,
        _ATTRIBUTE_SUM,
    )
    .where(
        daily_attributes.c.app_id == sa.bindparam("app_id"),
        _on_days(daily_attributes.c.day),
        daily_attributes.c.event_type.in_(sa.bindparam("event_types", expanding=True)),
        daily_attributes.c.attribute.in_(sa.bindparam("attributes", expanding=True)),
    )
    .group_by(daily_attributes.c.day, daily_attributes.c.event_type, daily_attributes.c.attribute)
)
_VALUE_COUNTS = (
    sa.select(daily_attributes.c.event_type, daily_attributes.c.value, _ATTRIBUTE_SUM)
    .where(
        daily_attributes.c.app_id == sa.bindparam("app_id"),
        _on_days(daily_attributes.c.day),
        daily_attributes.c.event_type.in_(sa.bindparam("event_types", expanding=True)),
        daily_attributes.c.attribute == sa.bindparam("attribute"),
    )
    .group_by(daily_attributes.c.event_type, daily_attributes.c.value)
)
_METRIC_DAYS = sa.select(
    daily_metrics.c.day,
    daily_metrics.c.count,
    daily_metrics.c.total,
    daily_metrics.c.minimum,
    daily_metrics.c.maximum,
).where(
    daily_metrics.c.app_id == sa.bindparam("app_id"),
    _on_days(daily_metrics.c.day),
    daily_metrics.c.event_type == sa.bindparam("event_type"),
    daily_metrics.c.metric == sa.bindparam("metric"),
)
_REVENUE = (
    sa.select(
        daily_revenue.c.day,
        daily_revenue.c.currency,
        daily_revenue.c.purchases,
        daily_revenue.c.quantity,
        daily_revenue.c.revenue,
    )
    .where(daily_revenue.c.app_id == sa.bindparam("app_id"), _between(daily_revenue.c.day))
    .order_by(daily_revenue.c.day, daily_revenue.c.currency)
)


def _count_by_field(*path: str) -> sa.Select[Any]:
    """Endpoints per value of one string field of the endpoint document. Grouping by the
    output column's position evaluates the JSON extraction once per endpoint."""
    value = endpoints.c.document[path].as_string()
    return (
        sa.select(value, sa.func.count())
        .where(endpoints.c.app_id == sa.bindparam("app_id"))
        .group_by(sa.literal_column("1"))
    )


_COUNT_BY_FIELD = {
    path: _count_by_field(*path)
    for path in (
        ("Demographic", "Platform"),
        ("Demographic", "AppVersion"),
        ("Demographic", "Make"),
        ("Demographic", "Model"),
        ("Demographic", "Locale"),
        ("Location", "Country"),
    )
}


def _count_by_attribute_sqlite() -> sa.Select[Any]:
    """SQLite: the attribute is found by key among ``Attributes`` rather than by a JSON path,
    so any attribute name is safe without quoting rules."""
    attribute = (
        sa.func.json_each(endpoints.c.document, "$.Attributes")
        .table_valued("key", "value")
        .alias("attribute")
    )
    item = sa.func.json_each(attribute.c.value).table_valued("value").alias("item")
    return (
        sa.select(item.c.value, sa.func.count(sa.distinct(endpoints.c.ordinal)))
        .select_from(endpoints)
        .join(attribute, sa.true())
        .join(item, sa.true())
        .where(
            endpoints.c.app_id == sa.bindparam("app_id"), attribute.c.key == sa.bindparam("name")
        )
        .group_by(item.c.value)
    )


def _count_by_attribute_postgresql() -> sa.Select[Any]:
    values = endpoints.c.document["Attributes"][sa.bindparam("name", type_=sa.String())]
    item = sa.func.jsonb_array_elements_text(values).table_valued("value").alias("item")
    return (
        sa.select(item.c.value, sa.func.count(sa.distinct(endpoints.c.ordinal)))
        .select_from(endpoints)
        .join(item, sa.true())
        .where(endpoints.c.app_id == sa.bindparam("app_id"))
        .group_by(item.c.value)
    )


_COUNT_BY_ATTRIBUTE = {
    "sqlite": _count_by_attribute_sqlite(),
    "postgresql": _count_by_attribute_postgresql(),
}


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _range(app_id: str, first: date, last: date) -> dict[str, Any]:
    return {"app_id": app_id, "first": first.isoformat(), "last": last.isoformat()}


def _day_texts(days: Iterable[date]) -> list[str]:
    return [day.isoformat() for day in days]


def active_endpoints(db: Database, app_id: str, first: date, last: date) -> dict[date, BitMap]:
    """The ordinals of the endpoints active on each day that had any activity."""
    with db.read() as conn:
        rows = conn.execute(_ACTIVE, _range(app_id, first, last)).all()
    return {_day(day): BitMap.deserialize(blob) for day, blob in rows}


def new_endpoints(db: Database, app_id: str, first: date, last: date) -> dict[date, int]:
    """How many endpoints were active for the first time on each day."""
    with db.read() as conn:
        rows = conn.execute(_NEW_ENDPOINTS, _range(app_id, first, last)).all()
    return {_day(day): count for day, count in rows}


def session_days(db: Database, app_id: str, first: date, last: date) -> dict[date, SessionDay]:
    with db.read() as conn:
        rows = conn.execute(_SESSIONS, _range(app_id, first, last)).all()
    return {_day(row[0]): SessionDay(_day(row[0]), *row[1:]) for row in rows}


def event_counts(
    db: Database, app_id: str, event_types: Iterable[str], days: Sequence[date]
) -> list[EventCount]:
    params = {"app_id": app_id, "days": _day_texts(days), "event_types": list(event_types)}
    with db.read() as conn:
        rows = conn.execute(_EVENT_COUNTS, params).all()
    return [EventCount(_day(row[0]), *row[1:]) for row in rows]


def attribute_counts(
    db: Database,
    app_id: str,
    event_types: Iterable[str],
    attributes: Iterable[str],
    days: Sequence[date],
) -> list[AttributeCount]:
    """Per day, event type, attribute and value, how many events carried it."""
    params = {
        "app_id": app_id,
        "days": _day_texts(days),
        "event_types": list(event_types),
        "attributes": list(attributes),
    }
    with db.read() as conn:
        rows = conn.execute(_ATTRIBUTE_COUNTS, params).all()
    return [AttributeCount(_day(row[0]), *row[1:]) for row in rows]


def attributed_counts(
    db: Database,
    app_id: str,
    event_types: Iterable[str],
    attributes: Iterable[str],
    days: Sequence[date],
) -> list[AttributedCount]:
    """Per day and event type, how many events carry each of ``attributes``."""
    params = {
        "app_id": app_id,
        "days": _day_texts(days),
        "event_types": list(event_types),
        "attributes": list(attributes),
    }
    with db.read() as conn:
        rows = conn.execute(_ATTRIBUTED_COUNTS, params).all()
    return [AttributedCount(_day(row[0]), *row[1:]) for row in rows]


def value_counts(
    db: Database, app_id: str, event_types: Iterable[str], attribute: str, days: Sequence[date]
) -> list[ValueCount]:
    """Per event type and value of ``attribute``, the events over ``days``."""
    params = {
        "app_id": app_id,
        "days": _day_texts(days),
        "event_types": list(event_types),
        "attribute": attribute,
    }
    with db.read() as conn:
        rows = conn.execute(_VALUE_COUNTS, params).all()
    return [ValueCount(*row) for row in rows]


def metric_days(
    db: Database, app_id: str, event_type: str, metric: str, days: Sequence[date]
) -> list[MetricDay]:
    params = {
        "app_id": app_id,
        "days": _day_texts(days),
        "event_type": event_type,
        "metric": metric,
    }
    with db.read() as conn:
        rows = conn.execute(_METRIC_DAYS, params).all()
    return sorted((MetricDay(_day(row[0]), *row[1:]) for row in rows), key=lambda m: m.day)


def revenue_days(db: Database, app_id: str, first: date, last: date) -> list[RevenueDay]:
    with db.read() as conn:
        rows = conn.execute(_REVENUE, _range(app_id, first, last)).all()
    return [RevenueDay(_day(row[0]), *row[1:]) for row in rows]


def endpoints_by_field(db: Database, app_id: str, path: tuple[str, str]) -> dict[str, int]:
    """Endpoints per value of a document field such as ``("Demographic", "Platform")``;
    endpoints without the field are left out."""
    with db.read() as conn:
        rows = conn.execute(_COUNT_BY_FIELD[path], {"app_id": app_id}).all()
    return {value: count for value, count in rows if value is not None}


def endpoints_by_attribute(db: Database, app_id: str, name: str) -> dict[str, int]:
    """Endpoints per value of the custom attribute ``name``; an endpoint holding several
    values counts once for each."""
    with db.read() as conn:
        rows = conn.execute(_COUNT_BY_ATTRIBUTE[db.dialect], {"app_id": app_id, "name": name})
        return {value: count for value, count in rows}
