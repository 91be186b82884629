"""The exporter: copies each app's new events to its event stream's destination.

Every round reads, per stream, the events after its cursor (``exported_seq``) in ``seq`` order,
at most one batch, sends them, and only then moves the cursor past them. A crash or a lost
acknowledgement therefore sends a batch again (at least once) and never skips one. The exporter
only reads ``events`` and ``endpoints`` and writes its own ``event_streams`` row, in a short
transaction of its own, so ingestion never waits on a destination.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from clarion.arns import Arns
from clarion.clock import Clock, system_clock
from clarion.endpoints.service import response as endpoint_response
from clarion.store.database import Database
from clarion.store.endpoints import StoredEndpoint
from clarion.store.schema import endpoints, event_streams, events
from clarion.streams.destinations import Destinations
from clarion.streams.format import StoredEvent, build_record, client_id, encode
from clarion.streams.records import Destination, Record

log = logging.getLogger("clarion.streams")

BATCH_SIZE = 500
MAX_ERROR_LENGTH = 2000

_STREAMS = sa.select(
    event_streams.c.app_id, event_streams.c.destination_stream_arn, event_streams.c.exported_seq
).order_by(event_streams.c.app_id)
_NEW_EVENTS = (
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


@dataclass(frozen=True)
class _Stream:
    app_id: str
    target: str
    exported_seq: int


@dataclass
class _Delivery:
    """What the exporter keeps in memory for one stream: its open destination and backoff."""

    target: str
    destination: Destination | None = None
    failures: int = 0
    retry_at: datetime | None = None
    last_error: str | None = None


class Exporter:
    """Runs export rounds on one background thread.

    A thread rather than an asyncio task: the store and most destination clients (botocore,
    httpx, files) block, and on a thread of its own a slow or unreachable destination can hold
    up nothing but its own deliveries, never the server's event loop or its request workers.
    """

    def __init__(
        self,
        db: Database,
        arns: Arns,
        destinations: Destinations,
        clock: Clock = system_clock,
        *,
        interval: float = 1.0,
        batch_size: int = BATCH_SIZE,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.db = db
        self.account_id = arns.account_id
        self.destinations = destinations
        self.clock = clock
        self.interval = interval
        self.batch_size = batch_size
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.horizon = _Horizon(db)
        self.leadership = _Leadership(db)
        self._deliveries: dict[str, _Delivery] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="clarion-exporter", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in flight, then close every destination."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the event exporter did not stop within %s s", timeout)
                return
            self._thread = None
        for delivery in self._deliveries.values():
            _close(delivery)
        self._deliveries.clear()
        self.leadership.release()

    def run_once(self) -> int:
        """One round over every stream; the number of events delivered."""
        if not self.leadership.held():
            return 0
        with self.db.read() as conn:
            streams = [_Stream(*row) for row in conn.execute(_STREAMS)]
        self._forget_streams_not_in(streams)
        if not streams:
            return 0
        horizon = self.horizon.current()
        return sum(self._export(stream, horizon) for stream in streams)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                delivered = self.run_once()
            except Exception:
                log.exception("event export round failed")
                delivered = 0
            if not delivered:
                self._stopping.wait(self.interval)

    def _forget_streams_not_in(self, streams: Sequence[_Stream]) -> None:
        current = {stream.app_id: stream.target for stream in streams}
        for app_id, delivery in list(self._deliveries.items()):
            if current.get(app_id) != delivery.target:
                _close(delivery)
                del self._deliveries[app_id]

    def _export(self, stream: _Stream, horizon: int | None) -> int:
        delivery = self._deliveries.setdefault(stream.app_id, _Delivery(stream.target))
        if delivery.retry_at is not None and self.clock() < delivery.retry_at:
            return 0
        rows = self._new_events(stream, horizon)
        if not rows:
            return 0
        try:
            if delivery.destination is None:
                delivery.destination = self.destinations.open(stream.target, stream.app_id)
            delivery.destination.send([self._record(stream.app_id, row) for row in rows])
        except Exception as failure:
            self._failed(stream, delivery, failure)
            return 0
        with self.db.write() as conn:
            conn.execute(
                _ADVANCE,
                {
                    "b_app_id": stream.app_id,
                    "b_target": stream.target,
                    "b_from": stream.exported_seq,
                    "b_to": rows[-1].seq,
                },
            )
        delivery.failures, delivery.retry_at, delivery.last_error = 0, None, None
        return len(rows)

    def _new_events(self, stream: _Stream, horizon: int | None) -> list[sa.Row[Any]]:
        query = _NEW_EVENTS.limit(self.batch_size)
        if horizon is not None:
            query = query.where(events.c.seq <= horizon)
        with self.db.read() as conn:
            return list(
                conn.execute(query, {"app_id": stream.app_id, "after": stream.exported_seq})
            )

    def _record(self, app_id: str, row: sa.Row[Any]) -> Record:
        event = StoredEvent(
            app_id, row.endpoint_key, row.event_type, row.timestamp_ms, row.arrival_ms, row.event
        )
        endpoint = (
            endpoint_response(
                app_id, StoredEndpoint(row.endpoint_key, row.creation_date, row.document)
            )
            if row.document is not None
            else None
        )
        return Record(
            f"{app_id}:{row.seq}",
            client_id(event, endpoint),
            encode(build_record(event, endpoint, self.account_id)),
        )

    def _failed(self, stream: _Stream, delivery: _Delivery, failure: Exception) -> None:
        """Keep the cursor, close the destination (it may be broken) and retry later, waiting
        twice as long after each failure in a row."""
        _close(delivery)
        delivery.failures += 1
        delay = min(self.max_backoff, self.first_backoff * 2 ** (delivery.failures - 1))
        delivery.retry_at = self.clock() + timedelta(seconds=delay)
        error = (str(failure) or type(failure).__name__)[:MAX_ERROR_LENGTH]
        log.warning(
            "event stream delivery failed",
            extra={"facts": {"app_id": stream.app_id, "error": error, "retry_in_s": delay}},
        )
        if error != delivery.last_error:
            with self.db.write() as conn:
                conn.execute(
                    _RECORD_ERROR,
                    {"b_app_id": stream.app_id, "b_target": stream.target, "b_error": error},
                )
            delivery.last_error = error


def _close(delivery: _Delivery) -> None:
    destination, delivery.destination = delivery.destination, None
    if destination is not None:
        try:
            destination.close()
        except Exception:
            log.exception("closing an event stream destination failed")


@dataclass(frozen=True)
class _Checkpoint:
    last_seq: int
    taken_at: datetime


class _Leadership:
    """Only one exporter per store sends, so nodes sharing a PostgreSQL store don't deliver the
    same batch twice: the leader holds a session advisory lock on a connection of its own, and
    another node takes over when that connection ends. A SQLite store has one server."""

    KEY = 7202605

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn: sa.Connection | None = None

    def held(self) -> bool:
        if self.db.dialect != "postgresql":
            return True
        if self.conn is not None:
            try:
                self.conn.execute(sa.text("SELECT 1"))
                self.conn.commit()
                return True
            except sa.exc.DBAPIError:
                self._drop()
        conn = self.db.engine.connect()
        won = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.KEY})
        if won.scalar():
            conn.commit()
            self.conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.KEY})
                self.conn.commit()
            finally:
                self._drop()

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.invalidate()
            self.conn.close()
            self.conn = None


class _Horizon:
    """The highest ``seq`` up to which every event that will ever be committed already is.

    On SQLite writers take turns, so events commit in ``seq`` order and there is no horizon
    (None). On PostgreSQL a transaction can commit ``seq`` 11 while another still holds 10; a
    cursor moved past 11 would skip 10 for good. So each round notes the sequence's last value
    and the time, and that value becomes the horizon once every transaction that was running
    at that time has ended: any event numbered up to it is then committed or rolled back.
    A transaction left open holds exports back, never loses them.
    """

    _LAST_SEQ = sa.text(
        "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')"
        "::regclass), 0)"
    )
    _NOW = sa.text("SELECT clock_timestamp()")
    _OLDEST_RUNNING = sa.text(
        "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
        "AND xact_start IS NOT NULL"
    )

    def __init__(self, db: Database) -> None:
        self.db = db
        self.settled = 0
        self.pending: _Checkpoint | None = None

    def current(self) -> int | None:
        if self.db.dialect != "postgresql":
            return None
        with self.db.read() as conn:
            last_seq = conn.execute(self._LAST_SEQ).scalar_one()
            latest = _Checkpoint(last_seq, conn.execute(self._NOW).scalar_one())
            oldest = conn.execute(self._OLDEST_RUNNING).scalar()
        unsettled = []
        for checkpoint in (self.pending, latest):
            if checkpoint is None:
                continue
            if oldest is None or oldest > checkpoint.taken_at:
                self.settled = max(self.settled, checkpoint.last_seq)
            else:
                unsettled.append(checkpoint)
        self.pending = unsettled[0] if unsettled else None
        return self.settled
