"""The installation's own secrets (the key that signs tracking links, the VAPID key pair),
made once by whichever node needs one first and shared by all of them through the store."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from clarion.store.database import Database
from clarion.store.schema import server_secrets


class SecretRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, name: str, make: Callable[[], bytes] = lambda: secrets.token_bytes(32)) -> bytes:
        """The secret called ``name``, made with ``make`` the first time any node asks."""
        found = self._read(name)
        if found is not None:
            return found
        with self.db.write() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(server_secrets)
                .values(name=name, value=make())
                .on_conflict_do_nothing()
            )
        made = self._read(name)
        assert made is not None
        return made

    def _read(self, name: str) -> bytes | None:
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
            ).scalar()
        return bytes(found) if found is not None else None
