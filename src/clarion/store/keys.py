"""Access keys and the apps each one is limited to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.schema import access_key_apps, access_keys

_ACTIVE_KEY = (
    sa.select(access_keys.c.secret, access_key_apps.c.app_id)
    .select_from(access_keys.outerjoin(access_key_apps))
    .where(
        access_keys.c.access_key_id == sa.bindparam("access_key_id"),
        access_keys.c.revoked_at.is_(None),
    )
)


@dataclass(frozen=True)
class KeyRecord:
    access_key_id: str
    name: str
    created_at: str
    revoked_at: str | None
    app_ids: tuple[str, ...]


@dataclass(frozen=True)
class ActiveKey:
    """What a request needs to verify a signature and enforce scope."""

    secret: str
    app_ids: frozenset[str] | None


class KeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(
        self, access_key_id: str, secret: str, name: str, created_at: str, app_ids: Sequence[str]
    ) -> None:
        with self.db.write() as conn:
            conn.execute(
                access_keys.insert().values(
                    access_key_id=access_key_id, secret=secret, name=name, created_at=created_at
                )
            )
            if app_ids:
                conn.execute(
                    access_key_apps.insert(),
                    [{"access_key_id": access_key_id, "app_id": a} for a in dict.fromkeys(app_ids)],
                )

    def active(self, access_key_id: str) -> ActiveKey | None:
        """The secret and scope of a key that is not revoked, in one query: it runs per request."""
        with self.db.read() as conn:
            rows = conn.execute(_ACTIVE_KEY, {"access_key_id": access_key_id}).all()
        if not rows:
            return None
        app_ids = frozenset(row.app_id for row in rows if row.app_id is not None)
        return ActiveKey(rows[0].secret, app_ids or None)

    def all(self) -> list[KeyRecord]:
        with self.db.read() as conn:
            scopes: dict[str, list[str]] = {}
            for row in conn.execute(sa.select(access_key_apps).order_by(access_key_apps.c.app_id)):
                scopes.setdefault(row.access_key_id, []).append(row.app_id)
            rows = conn.execute(sa.select(access_keys).order_by(access_keys.c.created_at))
            return [
                KeyRecord(
                    row.access_key_id,
                    row.name,
                    row.created_at,
                    row.revoked_at,
                    tuple(scopes.get(row.access_key_id, ())),
                )
                for row in rows
            ]

    def revoke(self, access_key_id: str, when: str) -> bool:
        with self.db.write() as conn:
            result = conn.execute(
                access_keys.update()
                .where(
                    access_keys.c.access_key_id == access_key_id, access_keys.c.revoked_at.is_(None)
                )
                .values(revoked_at=when)
            )
        return result.rowcount == 1
