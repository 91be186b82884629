"""Rows of the apps table and everything stored under an app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import (
    apps,
    attribute_names,
    campaign_runs,
    campaign_versions,
    campaigns,
    channels,
    daily_active,
    daily_attributes,
    daily_events,
    daily_message_endpoints,
    daily_message_facts,
    daily_metrics,
    daily_revenue,
    daily_sessions,
    deliveries,
    email_engagements,
    email_tracking,
    endpoint_activity,
    endpoint_facets,
    endpoints,
    event_streams,
    event_types,
    events,
    jobs,
    journey_counters,
    journey_participants,
    journey_runs,
    journeys,
    otp_codes,
    segment_members,
    segment_versions,
    segments,
    tags,
)

_APP_TABLES = (
    campaigns,
    campaign_versions,
    campaign_runs,
    segments,
    segment_versions,
    segment_members,
    jobs,
    endpoints,
    endpoint_facets,
    attribute_names,
    tags,
    events,
    event_types,
    endpoint_activity,
    daily_active,
    daily_sessions,
    daily_events,
    daily_attributes,
    daily_metrics,
    daily_revenue,
    daily_message_endpoints,
    daily_message_facts,
    event_streams,
    channels,
    deliveries,
    otp_codes,
    email_tracking,
    email_engagements,
    journeys,
    journey_runs,
    journey_participants,
    journey_counters,
)

_APP_EXISTS = sa.select(apps.c.seq).where(apps.c.id == sa.bindparam("app_id"))


@dataclass(frozen=True)
class AppRecord:
    seq: int
    id: str
    name: str
    creation_date: str
    settings: dict[str, Any]


def _record(row: sa.Row[Any]) -> AppRecord:
    return AppRecord(row.seq, row.id, row.name, row.creation_date, dict(row.settings))


class AppRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, app_id: str, name: str, creation_date: str, settings: dict[str, Any]) -> None:
        with self.db.write() as conn:
            conn.execute(
                apps.insert().values(
                    id=app_id, name=name, creation_date=creation_date, settings=settings
                )
            )

    def get(self, app_id: str) -> AppRecord | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(apps).where(apps.c.id == app_id)).first()
        return _record(row) if row else None

    def exists(self, app_id: str) -> bool:
        with self.db.read() as conn:
            return conn.execute(_APP_EXISTS, {"app_id": app_id}).first() is not None

    def page(self, after_seq: int, limit: int, only: frozenset[str] | None) -> list[AppRecord]:
        """Apps in creation order after ``after_seq``; ``only`` limits them to a key's scope."""
        query = sa.select(apps).where(apps.c.seq > after_seq).order_by(apps.c.seq).limit(limit)
        if only is not None:
            query = query.where(apps.c.id.in_(sorted(only)))
        with self.db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def update_settings(self, app_id: str, settings: dict[str, Any]) -> None:
        with self.db.write() as conn:
            conn.execute(apps.update().where(apps.c.id == app_id).values(settings=settings))

    def delete(self, app_id: str) -> None:
        """Remove the app and every row stored under it, in one transaction."""
        with self.db.write() as conn:
            _delete_app_rows(conn, app_id)


def _delete_app_rows(conn: Connection, app_id: str) -> None:
    for table in _APP_TABLES:
        conn.execute(table.delete().where(table.c.app_id == app_id))
    conn.execute(apps.delete().where(apps.c.id == app_id))
