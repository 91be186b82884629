"""Reads over the per-day analytics rollups and the endpoint facet counts, and for the funnel
and the campaign metrics the rollups cannot answer the raw events of the types they read,
through the ``(app_id, event_type, timestamp_ms)`` index. Also the journey message rollup, both
its write (in the ingesting transaction) and its read, since nothing else uses it.

Every query is keyed by app and bounded by days. Tables whose primary key continues past the day
(``daily_events``, ``daily_attributes``, ``daily_metrics``, ``daily_message_endpoints``,
``daily_message_facts``) are read with the days spelled out (``day IN (…)``) and the event types
pinned, so both SQLite and PostgreSQL seek the key for each day instead of scanning every event
type of a day range.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from pyroaring import BitMap
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.events import _adding_upsert
from clarion.store.schema import (
    daily_active,
    daily_attributes,
    daily_events,
    daily_journey_messages,
    daily_message_endpoints,
    daily_message_facts,
    daily_metrics,
    daily_revenue,
    daily_sessions,
    endpoint_activity,
    endpoint_facets,
    events,
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


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Message events of a type over a group (a day, campaign id, country or record status, or
    "" for the whole range), per channel and campaign send status: how many, their message
    parts, how many reported a price and the price in millicents of a US dollar."""

    group: str
    event_type: str
    delivery_type: str
    campaign_send_status: str
    count: int
    parts: int
    priced: int
    price: float


@dataclass(frozen=True, slots=True)
class MessageEndpoints:
    """The endpoints that had a message event of a type from a campaign ("" for transactional
    messages) on a day."""

    day: date
    event_type: str
    campaign_id: str
    endpoints: BitMap


@dataclass(frozen=True, slots=True)
class EventTally:
    """How many events of a type on a day from one endpoint had the same values of the
    attributes asked for ("" for one an event lacks)."""

    day: date
    event_type: str
    values: tuple[str, ...]
    endpoint: str
    count: int


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
_ONE_VALUE_COUNTS = _ATTRIBUTE_COUNTS.where(daily_attributes.c.value == sa.bindparam("value"))
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


def _from_sender(
    campaign_id: sa.Column[str], campaigns: bool, one_campaign: bool
) -> sa.ColumnElement[bool]:
    """Campaign messages carry a campaign id; transactional ones are stored under ""."""
    if one_campaign:
        return campaign_id == sa.bindparam("campaign_id")
    return campaign_id != "" if campaigns else campaign_id == ""


def _sum(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    return sa.cast(sa.func.sum(column), column.type)


@functools.cache
def _message_facts(group: str | None, campaigns: bool, one_campaign: bool) -> sa.Select[Any]:
    """Fact totals per group, event type, channel and send status, summed in the database:
    one day can hold a row per country and status."""
    facts = daily_message_facts.c
    kinds = (facts.event_type, facts.delivery_type, facts.campaign_send_status)
    grouped = (facts[group],) if group is not None else ()
    return (
        sa.select(
            *(grouped or (sa.literal_column("''"),)),
            *kinds,
            _sum(facts.count),
            _sum(facts.parts),
            _sum(facts.priced),
            _sum(facts.price),
        )
        .where(
            facts.app_id == sa.bindparam("app_id"),
            _on_days(facts.day),
            facts.event_type.in_(sa.bindparam("event_types", expanding=True)),
            _from_sender(facts.campaign_id, campaigns, one_campaign),
        )
        .group_by(*grouped, *kinds)
    )


@functools.cache
def _message_endpoints(campaigns: bool, one_campaign: bool) -> sa.Select[Any]:
    sets = daily_message_endpoints.c
    return sa.select(sets.day, sets.event_type, sets.campaign_id, sets.endpoints).where(
        sets.app_id == sa.bindparam("app_id"),
        _on_days(sets.day),
        sets.event_type.in_(sa.bindparam("event_types", expanding=True)),
        _from_sender(sets.campaign_id, campaigns, one_campaign),
    )


_FACET_COUNTS = sa.select(endpoint_facets.c.value, endpoint_facets.c.endpoints).where(
    endpoint_facets.c.app_id == sa.bindparam("app_id"),
    endpoint_facets.c.dimension == sa.bindparam("dimension"),
)
_RAW_EVENTS = (
    events.c.app_id == sa.bindparam("app_id"),
    events.c.event_type.in_(sa.bindparam("event_types", expanding=True)),
    events.c.timestamp_ms.between(sa.bindparam("first_ms"), sa.bindparam("last_ms")),
)
"""An app's events of some types timestamped in a range, as ``_raw_params`` binds them."""
_STEP_EVENTS = (
    sa.select(events.c.endpoint_key, events.c.event_type, events.c.timestamp_ms)
    .where(*_RAW_EVENTS)
    .order_by(events.c.endpoint_key.concat(""), events.c.timestamp_ms)
)
"""Ordered by endpoint, but through an expression: ordered by the column itself, SQLite's
planner prefers the (app_id, endpoint_key, event_id) unique index, which reads every event of
the app, to ix_events_app_type_time, which reads only the step types in the range."""
STEP_EVENTS_CHUNK = 10_000


def _attribute(name: str) -> sa.ColumnElement[str]:
    """An attribute of the stored event, as text; NULL when the event lacks it."""
    text: sa.ColumnElement[str] = events.c.event[("Attributes", name)].as_string()
    return text


@functools.cache
def _event_tallies(matching: tuple[str, ...], by: tuple[str, ...]) -> sa.Select[Any]:
    conditions = [
        *_RAW_EVENTS,
        *(
            _attribute(name) == sa.bindparam(f"match_{index}")
            for index, name in enumerate(matching)
        ),
    ]
    tallied = (
        sa.select(
            events.c.day,
            events.c.event_type,
            *(
                sa.func.coalesce(_attribute(name), "").label(f"by_{index}")
                for index, name in enumerate(by)
            ),
            events.c.endpoint_key,
        )
        .where(*conditions)
        .subquery()
    )
    kinds = list(tallied.c)
    return sa.select(*kinds, sa.func.count()).group_by(*kinds)


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _range(app_id: str, first: date, last: date) -> dict[str, Any]:
    return {"app_id": app_id, "first": first.isoformat(), "last": last.isoformat()}


def _raw_params(
    app_id: str, event_types: Iterable[str], first_ms: int, last_ms: int
) -> dict[str, Any]:
    return {
        "app_id": app_id,
        "event_types": sorted(event_types),
        "first_ms": first_ms,
        "last_ms": last_ms,
    }


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


def _over_days(
    db: Database, statement: Any, app_id: str, days: Sequence[date], **filters: Any
) -> list[sa.Row[Any]]:
    """Run a per-day rollup read for ``days`` with the given filters bound."""
    params = {"app_id": app_id, "days": _day_texts(days), **filters}
    with db.read() as conn:
        return list(conn.execute(statement, params).all())


def event_counts(
    db: Database, app_id: str, event_types: Iterable[str], days: Sequence[date]
) -> list[EventCount]:
    rows = _over_days(db, _EVENT_COUNTS, app_id, days, event_types=list(event_types))
    return [EventCount(_day(row[0]), *row[1:]) for row in rows]


def attribute_counts(
    db: Database,
    app_id: str,
    event_types: Iterable[str],
    attributes: Iterable[str],
    days: Sequence[date],
    *,
    value: str | None = None,
) -> list[AttributeCount]:
    """Per day, event type, attribute and value, how many events carried it; only ``value``
    when given (with ``campaign_id``, one campaign's events), still a primary-key seek."""
    filters: dict[str, Any] = {"event_types": list(event_types), "attributes": list(attributes)}
    if value is not None:
        filters["value"] = value
    statement = _ATTRIBUTE_COUNTS if value is None else _ONE_VALUE_COUNTS
    rows = _over_days(db, statement, app_id, days, **filters)
    return [AttributeCount(_day(row[0]), *row[1:]) for row in rows]


def attributed_counts(
    db: Database,
    app_id: str,
    event_types: Iterable[str],
    attributes: Iterable[str],
    days: Sequence[date],
) -> list[AttributedCount]:
    """Per day and event type, how many events carry each of ``attributes``."""
    rows = _over_days(
        db,
        _ATTRIBUTED_COUNTS,
        app_id,
        days,
        event_types=list(event_types),
        attributes=list(attributes),
    )
    return [AttributedCount(_day(row[0]), *row[1:]) for row in rows]


def value_counts(
    db: Database, app_id: str, event_types: Iterable[str], attribute: str, days: Sequence[date]
) -> list[ValueCount]:
    """Per event type and value of ``attribute``, the events over ``days``."""
    rows = _over_days(
        db, _VALUE_COUNTS, app_id, days, event_types=list(event_types), attribute=attribute
    )
    return [ValueCount(*row) for row in rows]


def metric_days(
    db: Database, app_id: str, event_type: str, metric: str, days: Sequence[date]
) -> list[MetricDay]:
    rows = _over_days(db, _METRIC_DAYS, app_id, days, event_type=event_type, metric=metric)
    return sorted((MetricDay(_day(row[0]), *row[1:]) for row in rows), key=lambda m: m.day)


def _message_params(
    app_id: str, event_types: Iterable[str], days: Sequence[date], campaign_id: str | None
) -> dict[str, Any]:
    params = {"app_id": app_id, "days": _day_texts(days), "event_types": list(event_types)}
    return params if campaign_id is None else {**params, "campaign_id": campaign_id}


def message_facts(
    db: Database,
    app_id: str,
    event_types: Iterable[str],
    days: Sequence[date],
    *,
    campaigns: bool,
    group: str | None,
    campaign_id: str | None = None,
) -> list[MessageFacts]:
    """Campaign (or transactional) message facts over ``days``, summed per value of the
    ``group`` column (``day``, ``campaign_id``, ``iso_country_code`` or ``record_status``), or
    over the whole range when it is None; only ``campaign_id``'s messages when given."""
    params = _message_params(app_id, event_types, days, campaign_id)
    statement = _message_facts(group, campaigns, campaign_id is not None)
    with db.read() as conn:
        rows = conn.execute(statement, params).all()
    return [MessageFacts(*row) for row in rows]


def message_endpoints(
    db: Database,
    app_id: str,
    event_types: Iterable[str],
    days: Sequence[date],
    *,
    campaigns: bool,
    campaign_id: str | None = None,
) -> list[MessageEndpoints]:
    """Per day, event type and campaign (or for transactional messages), the endpoints; only
    ``campaign_id``'s when given."""
    params = _message_params(app_id, event_types, days, campaign_id)
    statement = _message_endpoints(campaigns, campaign_id is not None)
    with db.read() as conn:
        rows = conn.execute(statement, params).all()
    return [
        MessageEndpoints(_day(day), event_type, campaign, BitMap.deserialize(blob))
        for day, event_type, campaign, blob in rows
    ]


def revenue_days(db: Database, app_id: str, first: date, last: date) -> list[RevenueDay]:
    with db.read() as conn:
        rows = conn.execute(_REVENUE, _range(app_id, first, last)).all()
    return [RevenueDay(_day(row[0]), *row[1:]) for row in rows]


def endpoints_by_facet(db: Database, app_id: str, dimension: str) -> dict[str, int]:
    """Endpoints per value of a demographics dimension such as ``Platform`` or
    ``Attributes.team``, from the counts endpoint writes keep in ``endpoint_facets``."""
    with db.read() as conn:
        rows = conn.execute(_FACET_COUNTS, {"app_id": app_id, "dimension": dimension}).all()
    return {value: count for value, count in rows}


@contextmanager
def step_events(
    db: Database, app_id: str, event_types: Iterable[str], first_ms: int, last_ms: int
) -> Iterator[Iterator[tuple[str, str, int]]]:
    """The raw events of ``event_types`` timestamped from ``first_ms`` to ``last_ms``, as
    (endpoint key, event type, timestamp) by endpoint then time, fetched in chunks while the
    caller iterates. The ``(app_id, event_type, timestamp_ms)`` index finds them."""
    params = _raw_params(app_id, event_types, first_ms, last_ms)
    with db.read() as conn:
        chunked = {"yield_per": STEP_EVENTS_CHUNK}
        yield iter(conn.execute(_STEP_EVENTS, params, execution_options=chunked).tuples())


def event_tallies(
    db: Database,
    app_id: str,
    event_types: Iterable[str],
    first_ms: int,
    last_ms: int,
    *,
    matching: Mapping[str, str],
    by: Sequence[str],
) -> list[EventTally]:
    """The raw events of ``event_types`` timestamped from ``first_ms`` to ``last_ms`` whose
    attributes have the values ``matching`` gives, counted in the database per day, type,
    values of the attributes named ``by`` and endpoint. The ``(app_id, event_type,
    timestamp_ms)`` index finds the events; the attributes are conditions on each one's JSON."""
    params = {
        **_raw_params(app_id, event_types, first_ms, last_ms),
        **{f"match_{index}": value for index, value in enumerate(matching.values())},
    }
    with db.read() as conn:
        rows = conn.execute(_event_tallies(tuple(matching), tuple(by)), params).all()
    width = len(by)
    return [
        EventTally(_day(row[0]), row[1], tuple(row[2 : 2 + width]), row[2 + width], row[-1])
        for row in rows
    ]


# --- Journey messages -------------------------------------------------------------------------


class JourneyMessageKey(NamedTuple):
    """The key of one ``daily_journey_messages`` row; an event without
    ``journey_activity_id`` is counted under activity ""."""

    journey_id: str
    day: str
    event_type: str
    activity_id: str


@dataclass(frozen=True, slots=True)
class JourneyMessageCount:
    """A journey's message events of a type over a range, for one activity or ("") all."""

    activity_id: str
    event_type: str
    count: int


def add_journey_messages(
    conn: Connection, app_id: str, counts: Mapping[JourneyMessageKey, int]
) -> None:
    """Add a batch's journey message counts to the stored ones, in the caller's transaction;
    in key order, so concurrent batches on PostgreSQL lock shared rows in the same order."""
    if not counts:
        return
    postgres = conn.dialect.name == "postgresql"
    statement = _adding_upsert(
        postgres, daily_journey_messages, JourneyMessageKey._fields, ("count",), (), ()
    )
    rows = [{"app_id": app_id, **key._asdict(), "count": counts[key]} for key in sorted(counts)]
    conn.execute(statement, rows)


@functools.cache
def _journey_messages(by_activity: bool) -> sa.Select[Any]:
    rows = daily_journey_messages.c
    grouped = (rows.activity_id,) if by_activity else ()
    return (
        sa.select(*(grouped or (sa.literal_column("''"),)), rows.event_type, _sum(rows.count))
        .where(
            rows.app_id == sa.bindparam("app_id"),
            rows.journey_id == sa.bindparam("journey_id"),
            _on_days(rows.day),
            rows.event_type.in_(sa.bindparam("event_types", expanding=True)),
        )
        .group_by(*grouped, rows.event_type)
    )


def journey_messages(
    db: Database,
    app_id: str,
    journey_id: str,
    event_types: Iterable[str],
    days: Sequence[date],
    *,
    by_activity: bool,
) -> list[JourneyMessageCount]:
    """The journey's message events of ``event_types`` over ``days``, summed in the database
    per activity when ``by_activity``, else over the whole journey (activity "")."""
    params = {
        "app_id": app_id,
        "journey_id": journey_id,
        "days": _day_texts(days),
        "event_types": sorted(event_types),
    }
    with db.read() as conn:
        rows = conn.execute(_journey_messages(by_activity), params).all()
    return [JourneyMessageCount(*row) for row in rows]
