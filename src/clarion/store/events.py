"""Writing events and their rollups inside one transaction, so an acknowledged event and its
counts are stored together or not at all."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from pyroaring import BitMap
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from clarion.store.rollups import FactKey, Rollup, SessionState
from clarion.store.schema import (
    daily_active,
    daily_attributes,
    daily_events,
    daily_message_endpoints,
    daily_message_facts,
    daily_metrics,
    daily_revenue,
    daily_sessions,
    endpoint_activity,
    endpoints,
    event_types,
    events,
)


@dataclass(frozen=True)
class Activity:
    first_day: str
    session: SessionState


_ORDINALS = sa.select(endpoints.c.endpoint_id, endpoints.c.ordinal).where(
    endpoints.c.app_id == sa.bindparam("app_id"),
    endpoints.c.endpoint_id.in_(sa.bindparam("keys", expanding=True)),
)
_EVENT_TYPES = sa.select(event_types.c.event_type).where(
    event_types.c.app_id == sa.bindparam("app_id")
)
_ACTIVITY = sa.select(endpoint_activity).where(
    endpoint_activity.c.app_id == sa.bindparam("app_id"),
    endpoint_activity.c.ordinal.in_(sa.bindparam("ordinals", expanding=True)),
)
_BITMAPS = sa.select(daily_active.c.day, daily_active.c.endpoints).where(
    daily_active.c.app_id == sa.bindparam("app_id"),
    daily_active.c.day.in_(sa.bindparam("days", expanding=True)),
)
_MESSAGE_BITMAPS = sa.select(
    daily_message_endpoints.c.day,
    daily_message_endpoints.c.event_type,
    daily_message_endpoints.c.campaign_id,
    daily_message_endpoints.c.endpoints,
).where(
    daily_message_endpoints.c.app_id == sa.bindparam("app_id"),
    daily_message_endpoints.c.day.in_(sa.bindparam("days", expanding=True)),
    daily_message_endpoints.c.event_type.in_(sa.bindparam("event_types", expanding=True)),
    daily_message_endpoints.c.campaign_id.in_(sa.bindparam("campaigns", expanding=True)),
)
_MESSAGE_BITMAPS_LOCKED = _MESSAGE_BITMAPS.with_for_update()
_EMPTY_BITMAP = BitMap().serialize()


class EventWriter:
    def __init__(self, conn: Connection, app_id: str) -> None:
        self.conn = conn
        self.app_id = app_id
        self.postgres = conn.dialect.name == "postgresql"

    def ordinals(self, keys: Iterable[str]) -> dict[str, int]:
        rows = self.conn.execute(_ORDINALS, {"app_id": self.app_id, "keys": list(keys)})
        return {row.endpoint_id: row.ordinal for row in rows}

    def event_types(self) -> set[str]:
        return set(self.conn.execute(_EVENT_TYPES, {"app_id": self.app_id}).scalars())

    def add_event_types(self, types: Iterable[str]) -> None:
        rows = [{"app_id": self.app_id, "event_type": t} for t in types]
        self._many(_insert_new(self.postgres, event_types), rows)

    def insert_events(self, rows: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
        """Insert the events not stored before; return (endpoint key, event id) of those
        inserted, so a client re-sending a batch is not counted twice."""
        if not rows:
            return set()
        seen = self._stored({(row["endpoint_key"], row["event_id"]) for row in rows})
        fresh = [
            {**row, "event": orjson.dumps(row["event"]).decode()}
            for row in rows
            if (row["endpoint_key"], row["event_id"]) not in seen
        ]
        self._many(_insert_new(self.postgres, events), fresh)
        return {(row["endpoint_key"], row["event_id"]) for row in fresh}

    def _stored(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (endpoint key, event id) pairs are stored already: one probe of the unique
        index per pair (a row-value IN would scan all the app's events on SQLite), with the
        SQL written here, as building it through SQLAlchemy costs more than running it."""
        mark = "%s" if self.postgres else "?"
        values = ", ".join([f"({mark}, {mark})"] * len(pairs))
        sql = (
            f"SELECT e.endpoint_key, e.event_id FROM (VALUES {values}) AS v "
            f"JOIN events AS e ON e.app_id = {mark} "
            "AND e.endpoint_key = v.column1 AND e.event_id = v.column2"
        )
        flat = [value for pair in pairs for value in pair]
        return {(row[0], row[1]) for row in self.conn.exec_driver_sql(sql, (*flat, self.app_id))}

    def activity(self, ordinals: Iterable[int]) -> dict[int, Activity]:
        query = _ACTIVITY.with_for_update() if self.postgres else _ACTIVITY
        rows = self.conn.execute(query, {"app_id": self.app_id, "ordinals": list(ordinals)})
        return {
            row.ordinal: Activity(
                row.first_day,
                SessionState(
                    row.session_id, row.session_start_ms, row.session_stop_ms, row.last_event_ms
                ),
            )
            for row in rows
        }

    def save_activity(self, activity: Mapping[int, Activity]) -> None:
        rows = [
            {
                "app_id": self.app_id,
                "ordinal": ordinal,
                "first_day": a.first_day,
                "last_event_ms": a.session.last_ms or 0,
                "session_id": a.session.session_id,
                "session_start_ms": a.session.start_ms,
                "session_stop_ms": a.session.stop_ms,
            }
            for ordinal, a in sorted(activity.items())
        ]
        self._many(_replacing_upsert(self.postgres, endpoint_activity), rows)

    def apply(self, rollup: Rollup) -> None:
        """Add a batch's rollup to the stored one."""
        self._merge_bitmaps(rollup.active)
        app = self.app_id
        self._add(
            daily_sessions,
            ["day"],
            [
                {
                    "app_id": app,
                    "day": d,
                    "sessions": s.started,
                    "ended": s.ended,
                    "duration_ms": s.duration_ms,
                }
                for d, s in rollup.sessions.items()
            ],
            sums=("sessions", "ended", "duration_ms"),
        )
        self._add(
            daily_events,
            ["day", "event_type"],
            [
                {"app_id": app, "day": d, "event_type": t, "count": n}
                for (d, t), n in rollup.events.items()
            ],
            sums=("count",),
        )
        self._add(
            daily_attributes,
            ["day", "event_type", "attribute", "value"],
            [
                {"app_id": app, "day": d, "event_type": t, "attribute": a, "value": v, "count": n}
                for (d, t, a, v), n in rollup.attributes.items()
            ],
            sums=("count",),
        )
        self._add(
            daily_metrics,
            ["day", "event_type", "metric"],
            [
                {
                    "app_id": app,
                    "day": d,
                    "event_type": t,
                    "metric": m,
                    "count": x.count,
                    "total": x.total,
                    "minimum": x.minimum,
                    "maximum": x.maximum,
                }
                for (d, t, m), x in rollup.metrics.items()
            ],
            sums=("count", "total"),
            least=("minimum",),
            greatest=("maximum",),
        )
        self._add(
            daily_revenue,
            ["day", "currency"],
            [
                {
                    "app_id": app,
                    "day": d,
                    "currency": c,
                    "purchases": r.purchases,
                    "quantity": r.quantity,
                    "revenue": r.revenue,
                }
                for (d, c), r in rollup.revenue.items()
            ],
            sums=("purchases", "quantity", "revenue"),
        )
        self.apply_messages(rollup)

    def apply_messages(self, rollup: Rollup) -> None:
        """Add the batch's message events to the message rollups; a batch without message
        events (the usual case) writes nothing. Rows are written in key order, so concurrent
        batches on PostgreSQL lock shared rows in the same order and cannot deadlock."""
        if not rollup.message_facts:
            return
        endpoints = rollup.message_endpoints
        self._merge_message_bitmaps({key: endpoints[key] for key in sorted(endpoints)})
        facts = rollup.message_facts
        self._add(
            daily_message_facts,
            list(FactKey._fields),
            [
                {"app_id": self.app_id, **key._asdict(), **dataclasses.asdict(facts[key])}
                for key in sorted(facts)
            ],
            sums=("count", "parts", "priced", "price"),
        )

    def _merge_message_bitmaps(self, batch: Mapping[tuple[str, str, str], set[int]]) -> None:
        """Union the batch's endpoints into the stored bitmaps. On PostgreSQL, missing rows are
        created empty first, so ``FOR UPDATE`` locks every row merged and two concurrent
        batches for a new day cannot overwrite each other's endpoints."""
        keys = [
            {"app_id": self.app_id, "day": day, "event_type": event_type, "campaign_id": campaign}
            for day, event_type, campaign in batch
        ]
        if self.postgres:
            empty = [{**key, "endpoints": _EMPTY_BITMAP} for key in keys]
            self._many(_insert_new(self.postgres, daily_message_endpoints), empty)
        stored = self._message_bitmaps(batch)
        rows = []
        for key, (batch_key, ordinals) in zip(keys, batch.items(), strict=True):
            bitmap = stored.get(batch_key, BitMap())
            before = len(bitmap)
            bitmap.update(ordinals)
            if len(bitmap) != before:
                rows.append({**key, "endpoints": bitmap.serialize()})
        self._many(_replacing_upsert(self.postgres, daily_message_endpoints), rows)

    def _message_bitmaps(
        self, batch: Mapping[tuple[str, str, str], set[int]]
    ) -> dict[tuple[str, str, str], BitMap]:
        """The stored bitmaps of the batch's keys (locked on PostgreSQL), read with one query
        over the days, event types and campaigns the batch names."""
        query = _MESSAGE_BITMAPS_LOCKED if self.postgres else _MESSAGE_BITMAPS
        params = {
            "app_id": self.app_id,
            "days": list({day for day, _, _ in batch}),
            "event_types": list({event_type for _, event_type, _ in batch}),
            "campaigns": list({campaign for _, _, campaign in batch}),
        }
        return {
            (row.day, row.event_type, row.campaign_id): BitMap.deserialize(row.endpoints)
            for row in self.conn.execute(query, params)
        }

    def _merge_bitmaps(self, active: Mapping[str, set[int]]) -> None:
        """Union the batch's endpoints into each day's bitmap. On PostgreSQL, missing rows are
        created empty first, so ``FOR UPDATE`` locks every row merged and two concurrent
        batches starting the same day cannot overwrite each other's endpoints."""
        if not active:
            return
        days = sorted(active)
        if self.postgres:
            empty = [{"app_id": self.app_id, "day": d, "endpoints": _EMPTY_BITMAP} for d in days]
            self._many(_insert_new(self.postgres, daily_active), empty)
        query = _BITMAPS.with_for_update() if self.postgres else _BITMAPS
        stored = {
            row.day: BitMap.deserialize(row.endpoints)
            for row in self.conn.execute(query, {"app_id": self.app_id, "days": days})
        }
        rows = []
        for day in days:
            bitmap = stored.get(day, BitMap())
            before = len(bitmap)
            bitmap.update(active[day])
            if day not in stored or len(bitmap) != before:
                rows.append({"app_id": self.app_id, "day": day, "endpoints": bitmap.serialize()})
        self._many(_replacing_upsert(self.postgres, daily_active), rows)

    def _add(
        self,
        table: sa.Table,
        keys: list[str],
        rows: list[dict[str, Any]],
        *,
        sums: Sequence[str],
        least: Sequence[str] = (),
        greatest: Sequence[str] = (),
    ) -> None:
        statement = _adding_upsert(
            self.postgres, table, tuple(keys), tuple(sums), tuple(least), tuple(greatest)
        )
        rows.sort(key=lambda row: tuple(row[k] for k in keys))
        self._many(statement, rows)

    def _many(self, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement over many rows straight through the driver: SQLAlchemy's per-row
        parameter processing costs more than SQLite's work at ingestion rates."""
        if rows:
            sql = _driver_sql(self.postgres, statement, tuple(rows[0]))
            self.conn.exec_driver_sql(sql, list(rows))


# Statements are built once per backend: building an INSERT … ON CONFLICT costs more than
# running it.


@functools.cache
def _driver_sql(postgres: bool, statement: Any, columns: tuple[str, ...]) -> str:
    """The statement as SQL with named parameters, for ``exec_driver_sql`` with dict rows."""
    dialect = postgresql.psycopg.dialect() if postgres else sqlite.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
    return str(statement.compile(dialect=dialect, column_keys=list(columns)))


def _insert_into(postgres: bool, table: sa.Table) -> Any:
    return (postgresql.insert if postgres else sqlite.insert)(table)


@functools.cache
def _insert_new(postgres: bool, table: sa.Table) -> Any:
    """INSERT that skips rows whose key is stored already."""
    return _insert_into(postgres, table).on_conflict_do_nothing()


@functools.cache
def _replacing_upsert(postgres: bool, table: sa.Table) -> Any:
    """INSERT … ON CONFLICT that overwrites every non-key column."""
    insert = _insert_into(postgres, table)
    keys = [c.name for c in table.primary_key.columns]
    values = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
    return insert.on_conflict_do_update(index_elements=keys, set_=values)


@functools.cache
def _adding_upsert(
    postgres: bool,
    table: sa.Table,
    keys: tuple[str, ...],
    sums: tuple[str, ...],
    least: tuple[str, ...],
    greatest: tuple[str, ...],
) -> Any:
    """INSERT … ON CONFLICT that adds to the stored counters."""
    insert = _insert_into(postgres, table)
    smaller = sa.func.least if postgres else sa.func.min
    larger = sa.func.greatest if postgres else sa.func.max
    updates: dict[str, Any] = {c: table.c[c] + insert.excluded[c] for c in sums}
    updates |= {c: smaller(table.c[c], insert.excluded[c]) for c in least}
    updates |= {c: larger(table.c[c], insert.excluded[c]) for c in greatest}
    return insert.on_conflict_do_update(index_elements=["app_id", *keys], set_=updates)
