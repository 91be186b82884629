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
HOLDOUT = "HOLDOUT"
NOT_SENT = (HOLDOUT, "OPT_OUT")
"""Ledger states of messages that never went out: they count against no limit."""

_OUTCOME = {
    "status": sa.bindparam("status"),
    "status_code": sa.bindparam("status_code"),
    "detail": sa.bindparam("detail"),
    "next_attempt_ms": sa.bindparam("next_attempt_ms"),
    "attempts": deliveries.c.attempts + 1,
    "lease_until_ms": 0,
}
_ONE = deliveries.c.message_id == sa.bindparam("key")
_RECORD = deliveries.update().where(_ONE).values(**_OUTCOME)
_RECORD_AND_REPLACE = (
    deliveries.update().where(_ONE).values(**_OUTCOME, message=sa.bindparam("message"))
)


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

    def record_many(self, conn: Connection, outcomes: Sequence[Mapping[str, Any]]) -> None:
        """Attempts' outcomes (message_id, status, status_code, detail, next_attempt_ms, and
        message: None to keep the stored one), in the caller's transaction; leases are let go
        so due retries can be claimed."""
        fields = ("status", "status_code", "next_attempt_ms")
        keep: list[dict[str, Any]] = []
        replace: list[dict[str, Any]] = []
        for outcome in outcomes:
            row = {name: outcome[name] for name in fields}
            row |= {"detail": outcome["detail"][:2000], "key": outcome["message_id"]}
            if outcome.get("message") is None:
                keep.append(row)
            else:
                replace.append({**row, "message": dict(outcome["message"])})
        for rows, statement in ((keep, _RECORD), (replace, _RECORD_AND_REPLACE)):
            if rows:
                conn.execute(statement, rows)

    def known_sources(self, conn: Connection, keys: Sequence[str]) -> set[str]:
        """Which of these source keys the ledger already holds (a resumed campaign run)."""
        return set(self.source_statuses(conn, keys))

    def source_statuses(self, conn: Connection, keys: Sequence[str]) -> dict[str, str]:
        """The status of each message the ledger holds under one of these source keys."""
        if not keys:
            return {}
        rows = conn.execute(
            sa.select(deliveries.c.source_key, deliveries.c.status).where(
                deliveries.c.source_key.in_(list(keys))
            )
        )
        return {row[0]: row[1] for row in rows}

    def counts(
        self,
        conn: Connection,
        app_id: str,
        keys: Sequence[str],
        *,
        since_ms: int = 0,
        campaign_id: str | None = None,
    ) -> dict[str, int]:
        """Campaign messages made for each endpoint (of one campaign, or of every campaign),
        since a moment: what the Daily and Total limits count. Direct sends never count."""
        if not keys:
            return {}
        query = (
            sa.select(deliveries.c.endpoint_key, sa.func.count())
            .where(
                deliveries.c.app_id == app_id,
                deliveries.c.endpoint_key.in_(list(keys)),
                deliveries.c.created_ms >= since_ms,
                deliveries.c.status.not_in(NOT_SENT),
            )
            .group_by(deliveries.c.endpoint_key)
        )
        query = query.where(
            deliveries.c.campaign_id.is_not(None)
            if campaign_id is None
            else deliveries.c.campaign_id == campaign_id
        )
        return {row[0]: row[1] for row in conn.execute(query)}

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

    def release_all(self) -> None:
        with self.db.write() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.status == PENDING, deliveries.c.lease_until_ms > 0)
                .values(lease_until_ms=0)
            )

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
