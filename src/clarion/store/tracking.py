"""Per-app e-mail tracking switches and the installation's signing secrets."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from clarion.store.database import Database
from clarion.store.schema import email_tracking, server_secrets


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

    def secret(self, name: str) -> bytes:
        """A random secret made the first time any node asks, the same for all of them after."""
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
            ).scalar()
        if found is not None:
            return bytes(found)
        with self.db.write() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(server_secrets)
                .values(name=name, value=secrets.token_bytes(32))
                .on_conflict_do_nothing()
            )
            value = conn.execute(
                sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
            ).scalar_one()
        return bytes(value)
