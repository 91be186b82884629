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

from clarion.arns import Arns
from clarion.clock import Clock, system_clock
from clarion.endpoints.service import response as endpoint_response
from clarion.store.streams import CommitReadings, ExportRepository, PendingEvent, StreamCursor
from clarion.streams.destinations import Destinations
from clarion.streams.format import StoredEvent, build_record, client_id, encode
from clarion.streams.records import Destination, Record

log = logging.getLogger("clarion.streams")

BATCH_SIZE = 500
MAX_ERROR_LENGTH = 2000


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
        store: ExportRepository,
        arns: Arns,
        destinations: Destinations,
        clock: Clock = system_clock,
        *,
        interval: float = 1.0,
        batch_size: int = BATCH_SIZE,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.store = store
        self.account_id = arns.account_id
        self.destinations = destinations
        self.clock = clock
        self.interval = interval
        self.batch_size = batch_size
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.horizon = _Horizon(store)
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
        self.store.resign()

    def run_once(self) -> int:
        """One round over every stream; the number of events delivered."""
        if not self.store.lead():
            return 0
        streams = self.store.cursors()
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

    def _forget_streams_not_in(self, streams: Sequence[StreamCursor]) -> None:
        current = {stream.app_id: stream.target for stream in streams}
        for app_id, delivery in list(self._deliveries.items()):
            if current.get(app_id) != delivery.target:
                _close(delivery)
                del self._deliveries[app_id]

    def _export(self, stream: StreamCursor, horizon: int | None) -> int:
        delivery = self._deliveries.setdefault(stream.app_id, _Delivery(stream.target))
        if delivery.retry_at is not None and self.clock() < delivery.retry_at:
            return 0
        rows = self.store.pending(stream, self.batch_size, horizon)
        if not rows:
            return 0
        try:
            if delivery.destination is None:
                delivery.destination = self.destinations.open(stream.target, stream.app_id)
            delivery.destination.send([self._record(stream.app_id, row) for row in rows])
        except Exception as failure:
            self._failed(stream, delivery, failure)
            return 0
        self.store.advance(stream, rows[-1].seq)
        delivery.failures, delivery.retry_at, delivery.last_error = 0, None, None
        return len(rows)

    def _record(self, app_id: str, row: PendingEvent) -> Record:
        event = StoredEvent(
            app_id, row.endpoint_key, row.event_type, row.timestamp_ms, row.arrival_ms, row.event
        )
        endpoint = endpoint_response(app_id, row.endpoint) if row.endpoint is not None else None
        return Record(
            f"{app_id}:{row.seq}",
            client_id(event, endpoint),
            encode(build_record(event, endpoint, self.account_id)),
        )

    def _failed(self, stream: StreamCursor, delivery: _Delivery, failure: Exception) -> None:
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
            self.store.record_error(stream, error)
            delivery.last_error = error


def _close(delivery: _Delivery) -> None:
    destination, delivery.destination = delivery.destination, None
    if destination is not None:
        try:
            destination.close()
        except Exception:
            log.exception("closing an event stream destination failed")


class _Horizon:
    """The highest ``seq`` up to which every event that will ever be committed already is.

    On SQLite writers take turns, so events commit in ``seq`` order and there is no horizon
    (None). On PostgreSQL a transaction can commit ``seq`` 11 while another still holds 10; a
    cursor moved past 11 would skip 10 for good. So each round notes the sequence's last value
    and the time, and that value becomes the horizon once every transaction that was running
    at that time has ended: any event numbered up to it is then committed or rolled back.
    A transaction left open holds exports back, never loses them.
    """

    def __init__(self, store: ExportRepository) -> None:
        self.store = store
        self.settled = 0
        self.pending: CommitReadings | None = None

    def current(self) -> int | None:
        latest = self.store.commit_readings()
        if latest is None:
            return None
        oldest = latest.oldest_running
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
