"""The Clarion core: one object that owns the store and the domain services built on it.

The HTTP layer and the CLI both start from here; nothing here knows about HTTP.
"""

from __future__ import annotations

from clarion.apps import Apps
from clarion.arns import Arns, Resource
from clarion.channels.service import Channels
from clarion.clock import Clock, iso, system_clock
from clarion.config import Settings
from clarion.endpoints.service import Endpoints
from clarion.events.service import Events
from clarion.jobs.locations import Locations
from clarion.jobs.runs import Runs
from clarion.jobs.service import Jobs, JobWorker
from clarion.keys import Keys
from clarion.segments.service import Segments
from clarion.store.apps import AppRepository
from clarion.store.channels import ChannelRepository
from clarion.store.database import Database
from clarion.store.endpoints import EndpointRepository
from clarion.store.jobs import JobRepository
from clarion.store.keys import KeyRepository
from clarion.store.segments import SegmentRepository
from clarion.store.tags import TagRepository
from clarion.streams.destinations import Destinations
from clarion.streams.exporter import Exporter
from clarion.streams.service import EventStreams
from clarion.tags import Tags


class Clarion:
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.sqlalchemy_url)
        self.arns = Arns(settings.region, settings.account_id)
        app_repo = AppRepository(self.db)
        self.tags = Tags(TagRepository(self.db), self.arns, self._resource_exists)
        self.apps = Apps(app_repo, self.tags, self.arns, self.now)
        self.endpoints = Endpoints(self.db, EndpointRepository(self.db), self.now)
        self.segments = Segments(
            SegmentRepository(self.db), self.tags, self.arns, self.now, self.now_ms
        )
        self.events = Events(self.db, self.endpoints, self.now_ms)
        self.channels = Channels(ChannelRepository(self.db), self.now)
        destinations = Destinations(
            aws_endpoint_url=settings.aws_endpoint_url,
            file_roots=settings.file_roots,
            file_max_bytes=settings.stream_file_max_bytes,
        )
        self.streams = EventStreams(self.db, destinations, self.now)
        self.exporter = Exporter(
            self.db, self.arns, destinations, clock, interval=settings.export_interval_seconds
        )
        self.keys = Keys(KeyRepository(self.db), clock)
        locations = Locations(
            file_roots=settings.file_roots,
            aws_endpoint_url=settings.aws_endpoint_url,
            region=settings.region,
        )
        runs = Runs(
            self.db,
            JobRepository(self.db),
            self.endpoints,
            self.segments,
            locations,
            self.now,
            self.now_ms,
        )
        self.jobs = Jobs(runs.repo, runs, self.segments, locations, self.now, self.now_ms)
        self.job_worker = JobWorker(self.jobs)

    def now(self) -> str:
        return iso(self.clock())

    def now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)

    def start(self) -> None:
        self.db.migrate()

    def close(self) -> None:
        self.db.dispose()

    def _resource_exists(self, resource: Resource) -> bool:
        """Apps and segments exist so far; campaigns, journeys and templates come later."""
        if resource.kind == "app":
            return self.apps.repo.exists(resource.resource_id)
        if resource.kind == "segment" and resource.app_id is not None:
            return self.segments.exists(resource.app_id, resource.resource_id)
        return False
