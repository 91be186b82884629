"""Running import and export jobs: a loop over pieces, committing work and progress together.

Each chunk of rows (or each export file) commits in one transaction with the job's counters,
its resume position and a renewed lease, so a job killed at any point resumes exactly where
its last commit left it, and GetImportJob/GetExportJob show progress while it runs.
"""

from __future__ import annotations

import gzip
import math
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from clarion.clock import Clock, epoch_ms, iso
from clarion.endpoints import rules
from clarion.endpoints.service import Endpoints, Update, response
from clarion.errors import ClarionError
from clarion.jobs import formats
from clarion.jobs.locations import LocationError, Locations
from clarion.segments.service import Segments
from clarion.store.database import Database
from clarion.store.endpoints import EndpointRepository, EndpointWriter, StoredEndpoint
from clarion.store.jobs import JobRecord, JobRepository
from clarion.store.segments import ENDPOINT, USER, add_members

ROWS_PER_COMMIT = 500
ENDPOINTS_PER_FILE = 50_000
LISTED_FAILURES = 100
LEASE_MS = 15_000

Progress = Callable[[int], None]
"""Told the number of rows or endpoints processed so far, after each commit."""


class Stopped(Exception):
    """The server is stopping; the job keeps its position and resumes later."""


@dataclass
class _Tally:
    total_pieces: int
    completed_pieces: int
    failed_pieces: int
    total_processed: int
    total_failures: int
    failures: list[str]
    position: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, job: JobRecord) -> _Tally:
        return cls(
            job.total_pieces,
            job.completed_pieces,
            job.failed_pieces,
            job.total_processed,
            job.total_failures,
            list(job.failures),
            dict(job.position),
        )

    def fail(self, message: str) -> None:
        self.total_failures += 1
        if len(self.failures) < LISTED_FAILURES:
            self.failures.append(message)

    def piece_failed(self) -> None:
        """The piece being worked on failed: it counts in FailedPieces, not CompletedPieces
        (Pinpoint's "processed successfully"). A job that fails before it knows its pieces
        (an unreadable location) counts that location as its one piece."""
        self.failed_pieces += 1
        self.total_pieces = max(self.total_pieces, self.completed_pieces + self.failed_pieces)

    def values(self) -> dict[str, Any]:
        return {
            "total_pieces": self.total_pieces,
            "completed_pieces": self.completed_pieces,
            "failed_pieces": self.failed_pieces,
            "total_processed": self.total_processed,
            "total_failures": self.total_failures,
            "failures": self.failures,
            "position": self.position,
        }


class Runs:
    def __init__(
        self,
        db: Database,
        repo: JobRepository,
        endpoints: Endpoints,
        members: EndpointRepository,
        segments: Segments,
        locations: Locations,
        clock: Clock,
    ) -> None:
        self.db = db
        self.repo = repo
        self.endpoints = endpoints
        self.members = members
        self.segments = segments
        self.locations = locations
        self.clock = clock
        self.stopping = threading.Event()

    def run(
        self, job: JobRecord, *, trusted: bool = False, progress: Progress | None = None
    ) -> None:
        """Run a job its caller holds the lease on, to COMPLETED or FAILED, or until stopping."""
        tally = _Tally.of(job)
        self._save(job, tally, status="PROCESSING")
        try:
            if job.job_type == "IMPORT":
                self._import(job, tally, trusted, progress)
            else:
                self._export(job, tally, progress)
        except Stopped:
            self._save(job, tally, lease_until_ms=0)
            return
        except (LocationError, ClarionError) as error:
            tally.piece_failed()
            tally.failures.append(error.message if isinstance(error, ClarionError) else str(error))
            self._save(job, tally, status="FAILED", completion_date=iso(self.clock()))
            return
        failed = tally.total_pieces > 0 and tally.failed_pieces == tally.total_pieces
        self._save(
            job,
            tally,
            status="FAILED" if failed else "COMPLETED",
            completion_date=iso(self.clock()),
        )
        if job.job_type == "IMPORT" and job.segment_id:
            self.segments.set_import_size(job.app_id, job.segment_id)

    # --- import -------------------------------------------------------------------------

    def _import(
        self, job: JobRecord, tally: _Tally, trusted: bool, progress: Progress | None
    ) -> None:
        definition = job.definition
        sources = self.locations.sources(definition["S3Url"], job.app_id, trusted=trusted)
        tally.total_pieces = len(sources)
        piece, done_rows = tally.position.get("piece", 0), tally.position.get("row", 0)
        for index in range(piece, len(sources)):
            source = sources[index]
            try:
                with source.open() as stream:
                    rows = formats.rows(stream, definition["Format"])
                    for chunk in _chunks(rows, ROWS_PER_COMMIT):
                        if chunk[-1][0] <= done_rows:
                            continue
                        fresh = [(n, row) for n, row in chunk if n > done_rows]
                        self._import_rows(job, tally, index, source.url, fresh)
                        if progress:
                            progress(tally.total_processed)
                        if self.stopping.is_set():
                            raise Stopped
            except (formats.PieceError, LocationError) as error:
                tally.piece_failed()
                tally.failures.append(f"{source.url}: {error}")
            else:
                tally.completed_pieces += 1
            tally.position = {"piece": index + 1, "row": 0}
            done_rows = 0
            self._save(job, tally)

    def _import_rows(
        self,
        job: JobRecord,
        tally: _Tally,
        piece: int,
        url: str,
        chunk: list[tuple[int, formats.Imported | formats.RowError]],
    ) -> None:
        definition = job.definition
        register = definition.get("RegisterEndpoints", True)
        word = "row" if definition["Format"] == "CSV" else "line"
        rounds: list[dict[str, tuple[int, Update]]] = [{}]
        listed: dict[str, set[str]] = {ENDPOINT: set(), USER: set()}
        for number, row in chunk:
            if isinstance(row, formats.RowError):
                tally.fail(f"{url}: {row}")
                continue
            if row.lists_user_only:
                listed[USER].add(row.user_id or "")
                continue
            endpoint_id = row.endpoint_id or _new_endpoint_id(job.id, piece, number)
            key = rules.endpoint_id_key(endpoint_id)
            if not register:
                listed[ENDPOINT].add(key)
                continue
            if key in rounds[-1]:
                rounds.append({})
            rounds[-1][key] = (number, Update(endpoint_id, row.request, "Endpoint", row.kept))
        with self.db.write() as conn:
            writer = EndpointWriter(conn, job.app_id)
            for updates in rounds:
                numbers = {id(update): number for number, update in updates.values()}
                refused = self.endpoints.apply_each(
                    writer, [update for _, update in updates.values()], job.id
                )
                for update, error in refused:
                    tally.fail(f"{url}: {word} {numbers[id(update)]}: {error.message}")
                failed = {rules.endpoint_id_key(update.endpoint_id) for update, _ in refused}
                listed[ENDPOINT] |= set(updates) - failed
            if job.segment_id:
                for kind, values in listed.items():
                    add_members(conn, job.app_id, job.segment_id, kind, values)
            tally.total_processed += len(chunk)
            tally.position = {"piece": piece, "row": chunk[-1][0]}
            self.repo.update(
                conn, job.app_id, job.id, **tally.values(), lease_until_ms=self._lease()
            )

    # --- export -------------------------------------------------------------------------

    def _export(self, job: JobRecord, tally: _Tally, progress: Progress | None) -> None:
        definition = job.definition
        where = self.where(
            job.app_id, definition.get("SegmentId"), definition.get("SegmentVersion")
        )
        sink = self.locations.sink(definition["S3UrlPrefix"], job.id, job.app_id)
        if not tally.total_pieces:
            tally.total_pieces = max(
                1, math.ceil(self.members.count_members(job.app_id, where) / ENDPOINTS_PER_FILE)
            )
        part, after = tally.position.get("part", 0), tally.position.get("after", -1)
        while True:
            batch = self.members.members_after(job.app_id, where, after, ENDPOINTS_PER_FILE)
            if not batch and part:
                return
            part += 1
            sink.put(
                f"part-{part:05d}.gz",
                gzip.compress(b"".join(export_lines(job.app_id, (s for _, s in batch))), 6),
            )
            after = batch[-1][0] if batch else after
            tally.completed_pieces = part
            tally.total_pieces = max(tally.total_pieces, part)
            tally.total_processed += len(batch)
            tally.position = {"part": part, "after": after}
            self._save(job, tally)
            if progress:
                progress(tally.total_processed)
            if self.stopping.is_set():
                raise Stopped
            if len(batch) < ENDPOINTS_PER_FILE:
                return

    def where(
        self, app_id: str, segment_id: str | None, version: int | None
    ) -> sa.ColumnElement[bool]:
        """All of the app's endpoints, or a segment's members at a version."""
        return self.segments.condition(app_id, segment_id, version) if segment_id else sa.true()

    # --- shared -------------------------------------------------------------------------

    def _lease(self) -> int:
        return epoch_ms(self.clock()) + LEASE_MS

    def _save(self, job: JobRecord, tally: _Tally, **values: Any) -> None:
        values.setdefault("lease_until_ms", self._lease())
        with self.db.write() as conn:
            self.repo.update(conn, job.app_id, job.id, **tally.values(), **values)


def export_lines(app_id: str, stored: Iterable[StoredEndpoint]) -> Iterator[bytes]:
    """Pinpoint's export format: one EndpointResponse JSON object per line."""
    for endpoint in stored:
        yield orjson.dumps(response(app_id, endpoint)) + b"\n"


def _new_endpoint_id(job_id: str, piece: int, row: int) -> str:
    """Rows without an Id make new endpoints; the same row gets the same id if it is run again
    after a restart, so a resumed job never duplicates an endpoint."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clarion:{job_id}/{piece}/{row}").hex


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
