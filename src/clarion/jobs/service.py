"""Import and export jobs through the Pinpoint API.

CreateImportJob and CreateExportJob check the request and store a CREATED job; a loop in each
server (``Jobs.work``) claims unfinished jobs nobody holds a lease on and runs them, so jobs
survive restarts and, on PostgreSQL, are shared among servers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from clarion import paging
from clarion.arns import check_role_arn
from clarion.clock import Clock, epoch_ms, iso
from clarion.errors import BadRequest, NotFound
from clarion.jobs.locations import Locations
from clarion.jobs.runs import LEASE_MS, Progress, Runs
from clarion.segments.service import Segments
from clarion.store.jobs import JobRecord, JobRepository

log = logging.getLogger("clarion.jobs")

_REQUESTS = {"IMPORT": "ImportJobRequest", "EXPORT": "ExportJobRequest"}


class Jobs:
    def __init__(
        self,
        repo: JobRepository,
        runs: Runs,
        segments: Segments,
        locations: Locations,
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self.repo = repo
        self.runs = runs
        self.segments = segments
        self.locations = locations
        self.clock = clock
        self.wake = wake
        """Tells the job worker a job was created."""

    def create_import(
        self, app_id: str, request: Mapping[str, Any], *, trusted: bool = False
    ) -> tuple[dict[str, Any], JobRecord]:
        """Store a new import job. ``trusted`` (the CLI) lifts the file-roots rule and keeps
        the job for the caller to run, instead of a worker. The location is checked after the
        rest of the request, since for s3:// that means asking S3."""
        check_role_arn(request["RoleArn"], "ImportJobRequest.RoleArn")
        definition = dict(request)
        segment_id = request.get("SegmentId")
        name: str = request.get("SegmentName") or ""
        if segment_id:
            found = self.segments.repo.latest(app_id, segment_id)
            if found is None:
                raise BadRequest(f"ImportJobRequest.SegmentId: there is no segment {segment_id}")
            if found.segment_type != "IMPORT":
                raise BadRequest(
                    f"ImportJobRequest.SegmentId: segment {segment_id} is {found.segment_type}; "
                    "import jobs add endpoints to IMPORT segments only"
                )
        elif request.get("DefineSegment") and not name:
            raise BadRequest("ImportJobRequest.SegmentName is required when DefineSegment is true")
        if not trusted:
            self.locations.check_source(request["S3Url"], "ImportJobRequest.S3Url", app_id)
        if not segment_id and request.get("DefineSegment"):
            segment_id = self.segments.create_import(
                app_id,
                name,
                {
                    "ExternalId": request.get("ExternalId") or "",
                    "Format": request["Format"],
                    "RoleArn": request["RoleArn"],
                    "S3Url": request["S3Url"],
                    "Size": 0,
                },
            )
            definition["SegmentId"] = segment_id
        record = self._insert(app_id, "IMPORT", segment_id, definition, held=trusted)
        return self.response(record), record

    def create_export(self, app_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """Store a new export job; the location is checked last, as for an import."""
        check_role_arn(request["RoleArn"], "ExportJobRequest.RoleArn")
        segment_id = request.get("SegmentId")
        if segment_id:
            version = request.get("SegmentVersion")
            found = (
                self.segments.repo.latest(app_id, segment_id)
                if version is None
                else self.segments.repo.version(app_id, segment_id, version)
            )
            if found is None:
                named = segment_id if version is None else f"{segment_id} version {version}"
                raise BadRequest(f"ExportJobRequest.SegmentId: there is no segment {named}")
        elif request.get("SegmentVersion") is not None:
            raise BadRequest("ExportJobRequest.SegmentVersion needs a SegmentId")
        self.locations.check_sink(request["S3UrlPrefix"], "ExportJobRequest.S3UrlPrefix", app_id)
        return self.response(self._insert(app_id, "EXPORT", segment_id, dict(request)))

    def get(self, app_id: str, job_id: str, job_type: str) -> dict[str, Any]:
        found = self.repo.get(app_id, job_id, job_type)
        if found is None:
            raise NotFound(f"{job_type.capitalize()} job not found: {job_id}")
        return self.response(found)

    def page(
        self,
        app_id: str,
        job_type: str,
        size: str | None,
        token: str | None,
        segment_id: str | None = None,
    ) -> dict[str, Any]:
        if segment_id is not None and not self.segments.exists(app_id, segment_id):
            raise NotFound(f"Segment not found: {segment_id}")
        return paging.page(
            f"jobs:{job_type}:{segment_id or ''}",
            size,
            token,
            lambda before, limit: self.repo.page(app_id, job_type, segment_id, before, limit),
            lambda job: job.seq,
            self.response,
        )

    def run(
        self, job: JobRecord, *, trusted: bool = False, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Run a job this process holds (the CLI) and answer how it ended."""
        self.runs.run(job, trusted=trusted, progress=progress)
        return self.get(job.app_id, job.id, job.job_type)

    def work(self) -> int:
        """Claim and run every unfinished job nobody holds; how many were run."""
        ran = 0
        for app_id, job_id in self.repo.unfinished(epoch_ms(self.clock())):
            if self.runs.stopping.is_set():
                break
            now_ms = epoch_ms(self.clock())
            if not self.repo.claim(app_id, job_id, now_ms, now_ms + LEASE_MS):
                continue
            job = self.repo.get(app_id, job_id)
            if job is None:
                continue
            try:
                self.runs.run(job)
            except Exception:
                log.exception("job %s of app %s stopped on an unexpected error", job_id, app_id)
            ran += 1
        return ran

    def response(self, job: JobRecord) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ApplicationId": job.app_id,
            "Id": job.id,
            "JobStatus": job.status,
            "Type": job.job_type,
            "CreationDate": job.creation_date,
            "Definition": job.definition,
            "CompletedPieces": job.completed_pieces,
            "FailedPieces": job.failed_pieces,
            "TotalPieces": job.total_pieces,
            "TotalProcessed": job.total_processed,
            "TotalFailures": job.total_failures,
            "Failures": job.failures,
        }
        if job.completion_date:
            result["CompletionDate"] = job.completion_date
        return result

    def _insert(
        self,
        app_id: str,
        job_type: str,
        segment_id: str | None,
        definition: Mapping[str, Any],
        *,
        held: bool = False,
    ) -> JobRecord:
        job_id = uuid.uuid4().hex
        lease = epoch_ms(self.clock()) + LEASE_MS if held else 0
        self.repo.insert(app_id, job_id, job_type, segment_id, iso(self.clock()), definition, lease)
        self.wake()
        found = self.repo.get(app_id, job_id)
        assert found is not None
        return found
