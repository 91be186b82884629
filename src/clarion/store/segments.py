"""Segments and their versions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import endpoints, segment_members, segment_versions, segments
from clarion.store.versioned import VersionedRepository

ENDPOINT, USER = "E", "U"
"""Kinds of segment_members rows: an endpoint by lower-cased id, or a user by id."""


@dataclass(frozen=True)
class SegmentVersion:
    segment_id: str
    segment_type: str
    creation_date: str
    version: int
    last_modified_date: str
    definition: dict[str, Any]


_COLUMNS = (
    segments.c.id,
    segments.c.segment_type,
    segments.c.creation_date,
    segment_versions.c.version,
    segment_versions.c.last_modified_date,
    segment_versions.c.definition,
)


def _version(row: sa.Row[Any]) -> SegmentVersion:
    return SegmentVersion(
        row.id,
        row.segment_type,
        row.creation_date,
        row.version,
        row.last_modified_date,
        dict(row.definition),
    )


class SegmentRepository(VersionedRepository[SegmentVersion]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, segments, segment_versions, "segment_id", _COLUMNS, _version)

    def insert(
        self,
        app_id: str,
        segment_id: str,
        segment_type: str,
        now: str,
        definition: Mapping[str, Any],
    ) -> None:
        self._insert(app_id, segment_id, now, definition, segment_type=segment_type)

    def add_version(
        self, app_id: str, segment_id: str, now: str, definition: Mapping[str, Any]
    ) -> int | None:
        """Store the next version; None when the segment is gone."""
        return self._add_version(app_id, segment_id, now, definition, lambda head: {})

    def estimate(
        self, app_id: str, condition: sa.ColumnElement[bool], sample: int
    ) -> tuple[int, list[str]]:
        """How many endpoints match, and the ids of a few of them, in two indexed queries."""
        where = sa.and_(endpoints.c.app_id == app_id, condition)
        with self.db.read() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(endpoints).where(where))
            total: int = count.scalar_one()
            rows = conn.execute(
                sa.select(endpoints.c.document)
                .where(where)
                .order_by(endpoints.c.ordinal)
                .limit(sample)
            )
            ids = [row.document["Id"] for row in rows]
        return total, ids

    def import_channel_counts(self, app_id: str, segment_id: str) -> dict[str, int]:
        """Endpoints per ChannelType among what an IMPORT segment lists."""
        query = (
            sa.select(endpoints.c.channel_type, sa.func.count())
            .where(endpoints.c.app_id == app_id, imported_members(app_id, segment_id))
            .group_by(endpoints.c.channel_type)
        )
        with self.db.read() as conn:
            return {row[0] or "UNKNOWN": row[1] for row in conn.execute(query)}

    def amend_import_definition(
        self, app_id: str, segment_id: str, changes: Mapping[str, Any]
    ) -> None:
        """Size and channel counts belong to the segment, not a version: set them in place."""
        with self.db.write() as conn:
            rows = conn.execute(
                sa.select(segment_versions.c.version, segment_versions.c.definition).where(
                    segment_versions.c.app_id == app_id,
                    segment_versions.c.segment_id == segment_id,
                )
            ).all()
            for version, definition in rows:
                if "ImportDefinition" not in definition:
                    continue
                amended = {
                    **definition,
                    "ImportDefinition": {**definition["ImportDefinition"], **changes},
                }
                conn.execute(
                    segment_versions.update()
                    .where(
                        segment_versions.c.app_id == app_id,
                        segment_versions.c.segment_id == segment_id,
                        segment_versions.c.version == version,
                    )
                    .values(definition=amended)
                )

    def delete_members(self, app_id: str, segment_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                segment_members.delete().where(
                    segment_members.c.app_id == app_id,
                    segment_members.c.segment_id == segment_id,
                )
            )

    def delete(self, app_id: str, segment_id: str) -> None:
        with self.db.write() as conn:
            self._delete(conn, app_id, segment_id)


def add_members(
    conn: Connection, app_id: str, segment_id: str, kind: str, values: Iterable[str]
) -> None:
    """List endpoints or users in an IMPORT segment, in the caller's transaction."""
    rows = [
        {"app_id": app_id, "segment_id": segment_id, "kind": kind, "value": value}
        for value in set(values)
    ]
    if not rows:
        return
    insert = (
        postgresql.insert(segment_members).on_conflict_do_nothing()
        if conn.dialect.name == "postgresql"
        else sqlite.insert(segment_members).on_conflict_do_nothing()
    )
    conn.execute(insert, rows)


def imported_members(app_id: str, segment_id: str) -> sa.ColumnElement[bool]:
    """Endpoints an IMPORT segment lists, by id or through a listed user."""

    def listed(kind: str) -> sa.Select[Any]:
        return sa.select(segment_members.c.value).where(
            segment_members.c.app_id == app_id,
            segment_members.c.segment_id == segment_id,
            segment_members.c.kind == kind,
        )

    return sa.or_(
        endpoints.c.endpoint_id.in_(listed(ENDPOINT)), endpoints.c.user_id.in_(listed(USER))
    )
