"""What the campaign engine reads and writes: active campaigns, their runs, and run leases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import campaign_runs, campaign_versions, campaigns

LIVE = ("SCHEDULED", "EXECUTING", "PENDING_NEXT_RUN")
"""Campaign states in which the engine plans and runs."""
OPEN_RUNS = ("PENDING", "EXECUTING")


@dataclass(frozen=True)
class LiveCampaign:
    app_id: str
    id: str
    creation_date: str
    version: int
    state: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class Run:
    seq: int
    app_id: str
    campaign_id: str
    id: str
    treatment_id: str
    campaign_version: int
    scheduled_ms: int
    state: str
    total_endpoint_count: int
    successful_endpoint_count: int
    metrics: dict[str, Any]
    position: dict[str, Any]


def _run(row: sa.Row[Any]) -> Run:
    return Run(
        row.seq,
        row.app_id,
        row.campaign_id,
        row.id,
        row.treatment_id,
        row.campaign_version,
        row.scheduled_ms,
        row.state,
        row.total_endpoint_count,
        row.successful_endpoint_count,
        dict(row.metrics),
        dict(row.position),
    )


_LATEST = sa.select(
    campaigns.c.app_id,
    campaigns.c.id,
    campaigns.c.creation_date,
    campaigns.c.version,
    campaigns.c.state,
    campaign_versions.c.definition,
).select_from(
    campaigns.join(
        campaign_versions,
        (campaign_versions.c.app_id == campaigns.c.app_id)
        & (campaign_versions.c.campaign_id == campaigns.c.id)
        & (campaign_versions.c.version == campaigns.c.version),
    )
)


class RunRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def live(self, app_id: str | None = None) -> list[LiveCampaign]:
        """Campaigns the engine plans for (all apps, or one), at their latest version."""
        query = _LATEST.where(campaigns.c.state.in_(LIVE))
        if app_id is not None:
            query = query.where(campaigns.c.app_id == app_id)
        with self.db.read() as conn:
            return [
                LiveCampaign(
                    r.app_id, r.id, r.creation_date, r.version, r.state, dict(r.definition)
                )
                for r in conn.execute(query.order_by(campaigns.c.seq))
            ]

    def last_scheduled(self, app_id: str, campaign_id: str, treatment_id: str) -> int | None:
        with self.db.read() as conn:
            found: int | None = conn.execute(
                sa.select(sa.func.max(campaign_runs.c.scheduled_ms)).where(
                    campaign_runs.c.app_id == app_id,
                    campaign_runs.c.campaign_id == campaign_id,
                    campaign_runs.c.treatment_id == treatment_id,
                )
            ).scalar()
        return found

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """New PENDING runs; a run planned twice (two nodes, one moment) is stored once."""
        if not rows:
            return
        with self.db.write() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(campaign_runs).on_conflict_do_nothing(),
                [
                    {
                        "state": "PENDING",
                        "total_endpoint_count": 0,
                        "successful_endpoint_count": 0,
                        "timezones_total_count": 0,
                        "timezones_completed_count": 0,
                        "metrics": {},
                        "position": {},
                        "lease_until_ms": 0,
                        **row,
                    }
                    for row in rows
                ],
            )

    def due(self, now_ms: int) -> list[Run]:
        """Open runs whose time has come and that nobody holds."""
        query = (
            sa.select(campaign_runs)
            .where(
                campaign_runs.c.state.in_(OPEN_RUNS),
                campaign_runs.c.due_ms <= now_ms,
                campaign_runs.c.lease_until_ms < now_ms,
            )
            .order_by(campaign_runs.c.due_ms, campaign_runs.c.seq)
        )
        with self.db.read() as conn:
            return [_run(row) for row in conn.execute(query)]

    def claim(self, run: Run, now_ms: int, until_ms: int) -> bool:
        with self.db.write() as conn:
            result = conn.execute(
                campaign_runs.update()
                .where(
                    campaign_runs.c.seq == run.seq,
                    campaign_runs.c.state.in_(OPEN_RUNS),
                    campaign_runs.c.lease_until_ms < now_ms,
                )
                .values(lease_until_ms=until_ms)
            )
        return result.rowcount == 1

    def update(self, conn: Connection | None, run: Run, **values: Any) -> None:
        """Progress or state of a run, in the caller's transaction when one is given."""
        statement = campaign_runs.update().where(campaign_runs.c.seq == run.seq).values(**values)
        if conn is not None:
            conn.execute(statement)
            return
        with self.db.write() as own:
            own.execute(statement)

    def release_all(self) -> None:
        with self.db.write() as conn:
            conn.execute(
                campaign_runs.update()
                .where(campaign_runs.c.state.in_(OPEN_RUNS))
                .values(lease_until_ms=0)
            )

    def open_runs(self, app_id: str, campaign_id: str) -> int:
        with self.db.read() as conn:
            count: int = conn.execute(
                sa.select(sa.func.count()).where(
                    campaign_runs.c.app_id == app_id,
                    campaign_runs.c.campaign_id == campaign_id,
                    campaign_runs.c.state.in_(OPEN_RUNS),
                )
            ).scalar_one()
        return count
