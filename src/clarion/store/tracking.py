"""Per-app e-mail tracking switches."""

from __future__ import annotations

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.schema import email_tracking


class TrackingRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, app_id: str) -> tuple[bool, bool]:
        """(opens, clicks) tracked for the app."""
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(email_tracking.c.opens, email_tracking.c.clicks).where(
                    email_tracking.c.app_id == app_id
                )
            ).first()
        return (bool(row.opens), bool(row.clicks)) if row else (False, False)

    def put(self, app_id: str, opens: bool, clicks: bool) -> None:
        with self.db.write() as conn:
            conn.execute(email_tracking.delete().where(email_tracking.c.app_id == app_id))
            conn.execute(email_tracking.insert().values(app_id=app_id, opens=opens, clicks=clicks))
