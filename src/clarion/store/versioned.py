"""Resources kept as a head row per app and id plus one row per version (campaigns, segments):
the reads and writes they share, so each repository keeps only what is its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.store.database import Database

V = TypeVar("V")


class VersionedRepository(Generic[V]):
    """The head table has ``seq`` (creation order), ``app_id``, ``id``, ``creation_date`` and
    ``version``, the latest; the versions table ``app_id``, ``owner`` (the head's id),
    ``version``, ``last_modified_date`` and ``definition``. Reads select ``columns`` of the two
    joined and make each row a value with ``value``."""

    def __init__(
        self,
        db: Database,
        head: sa.Table,
        versions: sa.Table,
        owner: str,
        columns: Sequence[sa.Column[Any]],
        value: Callable[[sa.Row[Any]], V],
    ) -> None:
        self.db = db
        self._head = head
        self._versions = versions
        self._owner = versions.c[owner]
        self._columns = columns
        self._value = value
        self._joined = head.join(
            versions, (versions.c.app_id == head.c.app_id) & (self._owner == head.c.id)
        )
        self._latest = (
            sa.select(*columns, head.c.seq)
            .select_from(self._joined)
            .where(versions.c.version == head.c.version)
        )

    def latest(self, app_id: str, owner_id: str) -> V | None:
        query = self._latest.where(*self._one(app_id, owner_id))
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return self._value(row) if row else None

    def version(self, app_id: str, owner_id: str, version: int) -> V | None:
        query = (
            sa.select(*self._columns)
            .select_from(self._joined)
            .where(*self._one(app_id, owner_id), self._versions.c.version == version)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return self._value(row) if row else None

    def at(self, app_id: str, owner_id: str, version: int | None) -> V | None:
        """The given version, or the latest when ``version`` is None."""
        if version is None:
            return self.latest(app_id, owner_id)
        return self.version(app_id, owner_id, version)

    def page(self, app_id: str, after_seq: int, limit: int) -> list[tuple[int, V]]:
        """Latest versions in creation order after ``after_seq``."""
        query = (
            self._latest.where(self._head.c.app_id == app_id, self._head.c.seq > after_seq)
            .order_by(self._head.c.seq)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [(row.seq, self._value(row)) for row in conn.execute(query)]

    def versions(self, app_id: str, owner_id: str, after_version: int, limit: int) -> list[V]:
        query = (
            sa.select(*self._columns)
            .select_from(self._joined)
            .where(*self._one(app_id, owner_id), self._versions.c.version > after_version)
            .order_by(self._versions.c.version)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [self._value(row) for row in conn.execute(query)]

    def _insert(
        self,
        app_id: str,
        owner_id: str,
        now: str,
        definition: Mapping[str, Any],
        **head: Any,
    ) -> None:
        """The head row, with ``head`` for the resource's own columns, and version 1."""
        with self.db.write() as conn:
            conn.execute(
                self._head.insert().values(
                    app_id=app_id, id=owner_id, creation_date=now, version=1, **head
                )
            )
            conn.execute(self._version_row(app_id, owner_id, 1, now, definition))

    def _add_version(
        self,
        app_id: str,
        owner_id: str,
        now: str,
        definition: Mapping[str, Any],
        head: Callable[[sa.Row[Any]], Mapping[str, Any]],
    ) -> int | None:
        """Store the next version and set on the head row what ``head`` makes of it, read under
        the row lock so concurrent writers take turns; None when the resource is gone.
        Whatever ``head`` raises leaves everything as it was."""
        with self.db.write() as conn:
            query = sa.select(self._head).where(*self._one(app_id, owner_id))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            current = conn.execute(query).first()
            if current is None:
                return None
            version: int = current.version + 1
            changes = head(current)
            conn.execute(self._version_row(app_id, owner_id, version, now, definition))
            conn.execute(
                self._head.update()
                .where(*self._one(app_id, owner_id))
                .values(version=version, **changes)
            )
        return version

    def _delete(self, conn: Connection, app_id: str, owner_id: str) -> None:
        """Every version and the head row, in the caller's transaction so the resource's own
        rows (a campaign's runs) go at once."""
        conn.execute(
            self._versions.delete().where(
                self._versions.c.app_id == app_id, self._owner == owner_id
            )
        )
        conn.execute(self._head.delete().where(*self._one(app_id, owner_id)))

    def _one(self, app_id: str, owner_id: str) -> tuple[sa.ColumnElement[bool], ...]:
        return (self._head.c.app_id == app_id, self._head.c.id == owner_id)

    def _version_row(
        self, app_id: str, owner_id: str, version: int, now: str, definition: Mapping[str, Any]
    ) -> sa.Insert:
        return self._versions.insert().values(
            {
                "app_id": app_id,
                self._owner.key: owner_id,
                "version": version,
                "last_modified_date": now,
                "definition": dict(definition),
            }
        )
