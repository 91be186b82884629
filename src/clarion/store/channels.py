"""Rows of the channels table: one per configured channel of an app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.schema import channels


@dataclass(frozen=True)
class ChannelRecord:
    app_id: str
    channel_type: str
    enabled: bool
    version: int
    creation_date: str
    last_modified_date: str
    last_modified_by: str
    settings: dict[str, Any]
    credentials: dict[str, str] = field(repr=False)
    """Secrets; kept out of ``repr`` so a logged record never shows them."""


def _record(row: sa.Row[Any]) -> ChannelRecord:
    return ChannelRecord(
        row.app_id,
        row.channel_type,
        row.enabled,
        row.version,
        row.creation_date,
        row.last_modified_date,
        row.last_modified_by,
        dict(row.settings),
        dict(row.credentials),
    )


def _one(app_id: str, channel_type: str) -> sa.Select[Any]:
    return sa.select(channels).where(
        channels.c.app_id == app_id, channels.c.channel_type == channel_type
    )


class ChannelRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, app_id: str, channel_type: str) -> ChannelRecord | None:
        with self.db.read() as conn:
            row = conn.execute(_one(app_id, channel_type)).first()
        return _record(row) if row else None

    def all(self, app_id: str) -> list[ChannelRecord]:
        query = sa.select(channels).where(channels.c.app_id == app_id)
        with self.db.read() as conn:
            return [_record(row) for row in conn.execute(query.order_by(channels.c.channel_type))]

    def put(
        self,
        app_id: str,
        channel_type: str,
        change: Callable[[ChannelRecord | None], ChannelRecord],
    ) -> ChannelRecord:
        """Store ``change(current)``, read and written under one lock, so two updates of the
        same channel never lose each other's members."""
        with self.db.write() as conn:
            row = conn.execute(_one(app_id, channel_type).with_for_update()).first()
            current = _record(row) if row else None
            updated = change(current)
            values = {
                "enabled": updated.enabled,
                "version": updated.version,
                "creation_date": updated.creation_date,
                "last_modified_date": updated.last_modified_date,
                "last_modified_by": updated.last_modified_by,
                "settings": updated.settings,
                "credentials": updated.credentials,
            }
            if current is None:
                conn.execute(
                    channels.insert().values(app_id=app_id, channel_type=channel_type, **values)
                )
            else:
                conn.execute(
                    channels.update()
                    .where(channels.c.app_id == app_id, channels.c.channel_type == channel_type)
                    .values(**values)
                )
        return updated

    def delete(self, app_id: str, channel_type: str) -> ChannelRecord | None:
        """Remove the channel and answer it as it was; None when there was none."""
        with self.db.write() as conn:
            row = conn.execute(_one(app_id, channel_type).with_for_update()).first()
            if row is None:
                return None
            conn.execute(
                channels.delete().where(
                    channels.c.app_id == app_id, channels.c.channel_type == channel_type
                )
            )
        return _record(row)
