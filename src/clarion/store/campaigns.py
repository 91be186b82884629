"""Campaigns, their versions, and the read side of their runs (Pinpoint's activities).

The scheduler writes ``campaign_runs``; this repository only lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.schema import campaign_runs, campaign_versions, campaigns
from clarion.store.versioned import VersionedRepository


@dataclass(frozen=True)
class CampaignVersion:
    """One version of a campaign's definition, with the campaign's state now."""

    campaign_id: str
    creation_date: str
    state: str
    version: int
    last_modified_date: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class CampaignRun:
    id: str
    treatment_id: str
    scheduled_ms: int
    state: str
    result: str | None
    start: str | None
    end: str | None
    total_endpoint_count: int
    successful_endpoint_count: int
    timezones_total_count: int
    timezones_completed_count: int
    metrics: dict[str, Any]


_COLUMNS = (
    campaigns.c.id,
    campaigns.c.creation_date,
    campaigns.c.state,
    campaign_versions.c.version,
    campaign_versions.c.last_modified_date,
    campaign_versions.c.definition,
)


def _version(row: sa.Row[Any]) -> CampaignVersion:
    return CampaignVersion(
        row.id,
        row.creation_date,
        row.state,
        row.version,
        row.last_modified_date,
        dict(row.definition),
    )


def _run(row: sa.Row[Any]) -> CampaignRun:
    return CampaignRun(
        row.id,
        row.treatment_id,
        row.scheduled_ms,
        row.state,
        row.result,
        row.start,
        row.end,
        row.total_endpoint_count,
        row.successful_endpoint_count,
        row.timezones_total_count,
        row.timezones_completed_count,
        dict(row.metrics),
    )


class CampaignRepository(VersionedRepository[CampaignVersion]):
    def __init__(self, db: Database) -> None:
        super().__init__(db, campaigns, campaign_versions, "campaign_id", _COLUMNS, _version)

    def insert(
        self, app_id: str, campaign_id: str, now: str, state: str, definition: Mapping[str, Any]
    ) -> None:
        self._insert(app_id, campaign_id, now, definition, state=state)

    def add_version(
        self,
        app_id: str,
        campaign_id: str,
        now: str,
        definition: Mapping[str, Any],
        next_state: Callable[[str], str],
    ) -> int | None:
        """Store the next version and the state ``next_state`` makes of the current one, read
        under the row lock so a state the scheduler wrote meanwhile is seen; None when the
        campaign is gone. Whatever ``next_state`` raises leaves everything as it was."""
        return self._add_version(
            app_id, campaign_id, now, definition, lambda head: {"state": next_state(head.state)}
        )

    def set_state(
        self, app_id: str, campaign_id: str, state: str, only_from: Collection[str] | None
    ) -> bool:
        """Whether the campaign is there and (when ``only_from`` names states) was in one of
        them, so its state is now ``state``."""
        where = [campaigns.c.app_id == app_id, campaigns.c.id == campaign_id]
        if only_from is not None:
            where.append(campaigns.c.state.in_(list(only_from)))
        with self.db.write() as conn:
            changed = conn.execute(campaigns.update().where(*where).values(state=state))
        return changed.rowcount > 0

    def runs(
        self, app_id: str, campaign_id: str, after_seq: int, limit: int
    ) -> list[tuple[int, CampaignRun]]:
        """The campaign's runs in the order they were created, after ``after_seq``."""
        query = (
            sa.select(campaign_runs)
            .where(
                campaign_runs.c.app_id == app_id,
                campaign_runs.c.campaign_id == campaign_id,
                campaign_runs.c.seq > after_seq,
            )
            .order_by(campaign_runs.c.seq)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [(row.seq, _run(row)) for row in conn.execute(query)]

    def delete(self, app_id: str, campaign_id: str) -> None:
        """The campaign, every version and every run, at once."""
        with self.db.write() as conn:
            conn.execute(
                campaign_runs.delete().where(
                    campaign_runs.c.app_id == app_id, campaign_runs.c.campaign_id == campaign_id
                )
            )
            self._delete(conn, app_id, campaign_id)
