"""Import and export jobs: their definitions, progress and leases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import jobs

FINISHED = ("COMPLETED", "FAILED")


@dataclass(frozen=True)
class JobRecord:
    seq: int
    app_id: str
    id: str
    job_type: str
    segment_id: str | None
    status: str
    creation_date: str
    completion_date: str | None
    definition: dict[str, Any]
    total_pieces: int
    completed_pieces: int
    failed_pieces: int
    total_processed: int
    total_failures: int
    failures: list[str]
    position: dict[str, Any]


def _record(row: sa.Row[Any]) -> JobRecord:
    return JobRecord(
        row.seq,
        row.app_id,
        row.id,
        row.job_type,
        row.segment_id,
        row.status,
        row.creation_date,
        row.completion_date,
        dict(row.definition),
        row.total_pieces,
        row.completed_pieces,
        row.failed_pieces,
        row.total_processed,
        row.total_failures,
        list(row.failures),
        dict(row.position),
    )


def _one(app_id: str, job_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(jobs.c.app_id == app_id, jobs.c.id == job_id)


class JobRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(
        self,
        app_id: str,
        job_id: str,
        job_type: str,
        segment_id: str | None,
        creation_date: str,
        definition: Mapping[str, Any],
        lease_until_ms: int = 0,
    ) -> None:
        """A new job, CREATED; a lease in the future keeps the workers off it (the CLI runs its
        own jobs in its own process)."""
        with self.db.write() as conn:
            conn.execute(
                jobs.insert().values(
                    app_id=app_id,
                    id=job_id,
                    job_type=job_type,
                    segment_id=segment_id,
                    status="CREATED",
                    creation_date=creation_date,
                    definition=dict(definition),
                    total_pieces=0,
                    completed_pieces=0,
                    failed_pieces=0,
                    total_processed=0,
                    total_failures=0,
                    failures=[],
                    position={},
                    lease_until_ms=lease_until_ms,
                )
            )

    def get(self, app_id: str, job_id: str, job_type: str | None = None) -> JobRecord | None:
        query = sa.select(jobs).where(_one(app_id, job_id))
        if job_type is not None:
            query = query.where(jobs.c.job_type == job_type)
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return _record(row) if row else None

    def page(
        self, app_id: str, job_type: str, segment_id: str | None, before_seq: int, limit: int
    ) -> list[JobRecord]:
        """Newest first, older than ``before_seq`` (0: from the newest)."""
        query = sa.select(jobs).where(jobs.c.app_id == app_id, jobs.c.job_type == job_type)
        if segment_id is not None:
            query = query.where(jobs.c.segment_id == segment_id)
        if before_seq:
            query = query.where(jobs.c.seq < before_seq)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(jobs.c.seq.desc()).limit(limit))
            return [_record(row) for row in rows]

    def unfinished(self, now_ms: int) -> list[tuple[str, str]]:
        """(app id, job id) of the jobs nobody holds a lease on, oldest first."""
        query = (
            sa.select(jobs.c.app_id, jobs.c.id)
            .where(jobs.c.status.not_in(FINISHED), jobs.c.lease_until_ms < now_ms)
            .order_by(jobs.c.seq)
        )
        with self.db.read() as conn:
            return [(row.app_id, row.id) for row in conn.execute(query)]

    def claim(self, app_id: str, job_id: str, now_ms: int, until_ms: int) -> bool:
        """Take the lease on an unfinished job unless someone else holds it."""
        with self.db.write() as conn:
            result = conn.execute(
                jobs.update()
                .where(
                    _one(app_id, job_id),
                    jobs.c.status.not_in(FINISHED),
                    jobs.c.lease_until_ms < now_ms,
                )
                .values(lease_until_ms=until_ms)
            )
        return result.rowcount == 1

    def update(self, conn: Connection, app_id: str, job_id: str, **values: Any) -> None:
        """Progress, status or lease, in the caller's transaction so that progress and the
        work it counts commit together."""
        conn.execute(jobs.update().where(_one(app_id, job_id)).values(**values))
