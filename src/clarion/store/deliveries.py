"""The delivery ledger: outgoing messages, their state, and which are due for another try."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import deliveries

PENDING = "PENDING"


@dataclass(frozen=True)
class Delivery:
    seq: int
    app_id: str
    message_id: str
    channel: str
    address: str
    endpoint_key: str | None
    campaign_id: str | None
    message: dict[str, Any]
    status: str
    attempts: int
    created_ms: int


def _delivery(row: sa.Row[Any]) -> Delivery:
    return Delivery(
        row.seq,
        row.app_id,
        row.message_id,
        row.channel,
        row.address,
        row.endpoint_key,
        row.campaign_id,
        dict(row.message),
        row.status,
        row.attempts,
        row.created_ms,
    )


class DeliveryRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """New PENDING messages, in the caller's transaction."""
        if rows:
            conn.execute(deliveries.insert(), [dict(row) for row in rows])

    def record(
        self,
        conn: Connection,
        message_id: str,
        *,
        status: str,
        status_code: int,
        detail: str,
        next_attempt_ms: int = 0,
        message: Mapping[str, Any] | None = None,
    ) -> None:
        """The outcome of an attempt; the lease is let go so a due retry can be claimed.
        ``message``, when given, replaces the stored message."""
        values: dict[str, Any] = {
            "status": status,
            "status_code": status_code,
            "detail": detail[:2000],
            "attempts": deliveries.c.attempts + 1,
            "next_attempt_ms": next_attempt_ms,
            "lease_until_ms": 0,
        }
        if message is not None:
            values["message"] = dict(message)
        conn.execute(
            deliveries.update().where(deliveries.c.message_id == message_id).values(**values)
        )

    def claim_due(self, now_ms: int, until_ms: int, limit: int) -> list[Delivery]:
        """PENDING messages whose next try is due and that nobody holds, leased to the caller."""
        with self.db.write() as conn:
            query = (
                sa.select(deliveries)
                .where(
                    deliveries.c.status == PENDING,
                    deliveries.c.next_attempt_ms <= now_ms,
                    deliveries.c.lease_until_ms < now_ms,
                )
                .order_by(deliveries.c.next_attempt_ms)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            found = [_delivery(row) for row in conn.execute(query)]
            if found:
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.seq.in_([d.seq for d in found]))
                    .values(lease_until_ms=until_ms)
                )
        return found

    def get(self, message_id: str) -> Delivery | None:
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(deliveries).where(deliveries.c.message_id == message_id)
            ).first()
        return _delivery(row) if row else None

    def statuses(self, app_id: str) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(deliveries.c.status, sa.func.count())
                .where(deliveries.c.app_id == app_id)
                .group_by(deliveries.c.status)
            )
            return {row[0]: row[1] for row in rows}
