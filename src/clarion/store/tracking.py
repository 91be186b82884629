"""Per-app e-mail tracking switches, and the opens and clicks already counted.

Tracking is on unless an app turned it off: a row exists only for an app that chose, so apps
made before tracking became the default need no migration, and one that turned it off stays
off."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import email_engagements, email_tracking


class TrackingRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, app_id: str) -> tuple[bool, bool]:
        """(opens, clicks) tracked for the app; both for an app that never chose, as Pinpoint
        tracked every e-mail it sent."""
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(email_tracking.c.opens, email_tracking.c.clicks).where(
                    email_tracking.c.app_id == app_id
                )
            ).first()
        return (bool(row.opens), bool(row.clicks)) if row else (True, True)

    def put(self, app_id: str, opens: bool, clicks: bool) -> None:
        with self.db.write() as conn:
            conn.execute(email_tracking.delete().where(email_tracking.c.app_id == app_id))
            conn.execute(email_tracking.insert().values(app_id=app_id, opens=opens, clicks=clicks))

    def counted(self, message_id: str, kind: str, link: str | None) -> bool:
        """Whether the message's open (``link`` None) or its click on ``link`` has been
        counted: one primary-key read, so a repeat costs no write transaction."""
        key = _key(message_id, kind, link)
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(email_engagements.c.kind).where(
                    *(email_engagements.c[name] == value for name, value in key.items())
                )
            ).first()
        return found is not None

    def count(
        self, conn: Connection, app_id: str, message_id: str, kind: str, link: str | None
    ) -> bool:
        """Mark the open or click counted, in the caller's transaction; False when it already
        was, by another request or node that got there first."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        inserted = conn.execute(
            dialect.insert(email_engagements)
            .values(app_id=app_id, **_key(message_id, kind, link))
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )
        return inserted.rowcount == 1


def _key(message_id: str, kind: str, link: str | None) -> dict[str, str]:
    """The row's primary key; a link is kept as its digest, since URLs have no length limit."""
    digest = hashlib.sha256(link.encode()).hexdigest() if link is not None else ""
    return {"message_id": message_id, "kind": kind, "link": digest}
