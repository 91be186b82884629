"""Event streams: each app's ``event_streams`` row, and what the exporter reads and writes.

:class:`EventStreamRepository` serves PutEventStream, GetEventStream and DeleteEventStream.
:class:`ExportRepository` serves the exporter: the streams and their cursors, the events after
a cursor, the cursor's advance and last error, and on PostgreSQL the advisory lock that makes
one exporter per store the leader and the readings the exporter's commit horizon is made of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.endpoints import StoredEndpoint
from clarion.store.schema import endpoints, event_streams, events


@dataclass(frozen=True)
class EventStream:
    """An app's stream as GetEventStream answers it."""

    app_id: str
    destination_stream_arn: str
    role_arn: str
    last_modified_date: str
    last_updated_by: str | None


@dataclass(frozen=True)
class StreamCursor:
    """A stream's destination and the ``seq`` of the last event exported to it."""

    app_id: str
    target: str
    exported_seq: int


@dataclass(frozen=True)
class PendingEvent:
    """An event after a stream's cursor, with its endpoint as stored now (None when there is
    none)."""

    seq: int
    endpoint_key: str
    event_type: str
    timestamp_ms: int
    arrival_ms: int
    event: dict[str, Any]
    endpoint: StoredEndpoint | None


@dataclass(frozen=True)
class CommitReadings:
    """Taken together on PostgreSQL: the ``events`` sequence's last value, the time, and when
    the oldest transaction of another session still running began (None when none is)."""

    last_seq: int
    taken_at: datetime
    oldest_running: datetime | None


_ONE_STREAM = sa.select(event_streams).where(event_streams.c.app_id == sa.bindparam("app_id"))


def _stream(row: sa.Row[Any]) -> EventStream:
    return EventStream(
        row.app_id,
        row.destination_stream_arn,
        row.role_arn,
        row.last_modified_date,
        row.last_updated_by,
    )


class EventStreamRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, app_id: str, target: str, role_arn: str, now: str, updated_by: str) -> None:
        """Store the app's stream under the row lock. The same destination keeps its cursor; a
        new one starts at the app's newest stored event."""
        values = {
            "destination_stream_arn": target,
            "role_arn": role_arn,
            "last_modified_date": now,
            "last_updated_by": updated_by,
        }
        with self.db.write() as conn:
            current = conn.execute(_ONE_STREAM.with_for_update(), {"app_id": app_id}).first()
            if current is not None and current.destination_stream_arn == target:
                conn.execute(
                    event_streams.update().where(event_streams.c.app_id == app_id).values(**values)
                )
            else:
                newest = sa.select(sa.func.max(events.c.seq)).where(events.c.app_id == app_id)
                start = conn.execute(newest).scalar() or 0
                conn.execute(event_streams.delete().where(event_streams.c.app_id == app_id))
                conn.execute(
                    event_streams.insert().values(
                        app_id=app_id, exported_seq=start, last_error=None, **values
                    )
                )

    def get(self, app_id: str) -> EventStream | None:
        with self.db.read() as conn:
            row = conn.execute(_ONE_STREAM, {"app_id": app_id}).first()
        return _stream(row) if row is not None else None

    def delete(self, app_id: str) -> EventStream | None:
        """The stream as it was, deleted under the row lock; None when there is none."""
        with self.db.write() as conn:
            row = conn.execute(_ONE_STREAM.with_for_update(), {"app_id": app_id}).first()
            if row is None:
                return None
            conn.execute(event_streams.delete().where(event_streams.c.app_id == app_id))
        return _stream(row)


_CURSORS = sa.select(
    event_streams.c.app_id, event_streams.c.destination_stream_arn, event_streams.c.exported_seq
).order_by(event_streams.c.app_id)
_PENDING = (
    sa.select(
        events.c.seq,
        events.c.endpoint_key,
        events.c.event_type,
        events.c.timestamp_ms,
        events.c.arrival_ms,
        events.c.event,
        endpoints.c.creation_date,
        endpoints.c.document,
    )
    .select_from(
        events.outerjoin(
            endpoints,
            sa.and_(
                endpoints.c.app_id == events.c.app_id,
                endpoints.c.endpoint_id == events.c.endpoint_key,
            ),
        )
    )
    .where(events.c.app_id == sa.bindparam("app_id"), events.c.seq > sa.bindparam("after"))
    .order_by(events.c.seq)
)
_THIS_STREAM = sa.and_(
    event_streams.c.app_id == sa.bindparam("b_app_id"),
    event_streams.c.destination_stream_arn == sa.bindparam("b_target"),
)
_ADVANCE = (
    event_streams.update()
    .where(_THIS_STREAM, event_streams.c.exported_seq == sa.bindparam("b_from"))
    .values(exported_seq=sa.bindparam("b_to"), last_error=None)
)
_RECORD_ERROR = (
    event_streams.update().where(_THIS_STREAM).values(last_error=sa.bindparam("b_error"))
)
_LAST_SEQ = sa.text(
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')::regclass), 0)"
)
_NOW = sa.text("SELECT clock_timestamp()")
_OLDEST_RUNNING = sa.text(
    "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
    "AND xact_start IS NOT NULL"
)
_LEADER_KEY = 7202605


def _pending(row: sa.Row[Any]) -> PendingEvent:
    endpoint = (
        StoredEndpoint(row.endpoint_key, row.creation_date, row.document)
        if row.document is not None
        else None
    )
    return PendingEvent(
        row.seq,
        row.endpoint_key,
        row.event_type,
        row.timestamp_ms,
        row.arrival_ms,
        row.event,
        endpoint,
    )


class ExportRepository:
    """The exporter's store. It writes only its own ``event_streams`` columns, each in a short
    transaction, so ingestion never waits on it.

    Leading: only one exporter per store sends, so nodes sharing a PostgreSQL store don't
    deliver the same batch twice. The leader holds a session advisory lock on a connection of
    its own, kept here, and another node takes over when that connection ends. A SQLite store
    has one server, which always leads.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.leader_conn: sa.Connection | None = None

    def cursors(self) -> list[StreamCursor]:
        """Every stream, by app."""
        with self.db.read() as conn:
            return [StreamCursor(*row) for row in conn.execute(_CURSORS)]

    def pending(self, cursor: StreamCursor, limit: int, horizon: int | None) -> list[PendingEvent]:
        """Up to ``limit`` of the app's events after the cursor, in ``seq`` order, none past
        ``horizon`` when there is one."""
        query = _PENDING.limit(limit)
        if horizon is not None:
            query = query.where(events.c.seq <= horizon)
        with self.db.read() as conn:
            rows = conn.execute(query, {"app_id": cursor.app_id, "after": cursor.exported_seq})
            return [_pending(row) for row in rows]

    def advance(self, cursor: StreamCursor, to_seq: int) -> None:
        """Move the cursor to ``to_seq`` and clear the last error, unless the stream has moved
        to another destination or its cursor moved meanwhile."""
        with self.db.write() as conn:
            conn.execute(
                _ADVANCE,
                {
                    "b_app_id": cursor.app_id,
                    "b_target": cursor.target,
                    "b_from": cursor.exported_seq,
                    "b_to": to_seq,
                },
            )

    def record_error(self, cursor: StreamCursor, error: str) -> None:
        """Note the delivery error on the stream, unless it has moved to another destination."""
        with self.db.write() as conn:
            conn.execute(
                _RECORD_ERROR,
                {"b_app_id": cursor.app_id, "b_target": cursor.target, "b_error": error},
            )

    def commit_readings(self) -> CommitReadings | None:
        """The readings a commit horizon is made of; None on SQLite, where writers take turns
        and so events commit in ``seq`` order."""
        if self.db.dialect != "postgresql":
            return None
        with self.db.read() as conn:
            last_seq = conn.execute(_LAST_SEQ).scalar_one()
            taken_at = conn.execute(_NOW).scalar_one()
            oldest = conn.execute(_OLDEST_RUNNING).scalar()
        return CommitReadings(last_seq, taken_at, oldest)

    def lead(self) -> bool:
        """Whether this exporter leads: it still holds the lock, or has just taken it."""
        if self.db.dialect != "postgresql":
            return True
        if self.leader_conn is not None:
            try:
                self.leader_conn.execute(sa.text("SELECT 1"))
                self.leader_conn.commit()
                return True
            except sa.exc.DBAPIError:
                self._drop_leader_conn()
        conn = self.db.engine.connect()
        won = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _LEADER_KEY})
        if won.scalar():
            conn.commit()
            self.leader_conn = conn
            return True
        conn.close()
        return False

    def resign(self) -> None:
        """Let go of the lead, so another exporter takes it."""
        if self.leader_conn is not None:
            try:
                self.leader_conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _LEADER_KEY}
                )
                self.leader_conn.commit()
            finally:
                self._drop_leader_conn()

    def _drop_leader_conn(self) -> None:
        if self.leader_conn is not None:
            self.leader_conn.invalidate()
            self.leader_conn.close()
            self.leader_conn = None
