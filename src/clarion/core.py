"""The Clarion core: one object that owns the store and the domain services built on it.

The HTTP layer and the CLI both start from here; nothing here knows about HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from clarion.apps import Apps
from clarion.arns import Arns, Resource
from clarion.campaigns.engine import CampaignEngine
from clarion.campaigns.service import Campaigns
from clarion.channels.service import Channels
from clarion.clock import Clock, system_clock
from clarion.config import Settings
from clarion.delivery import Adapter
from clarion.delivery.urls import Providers
from clarion.delivery.webpush import Vapid, new_vapid_pem
from clarion.endpoints.service import Endpoints
from clarion.errors import NotFound
from clarion.events.service import Accepted, Events
from clarion.file_roots import FileRoots
from clarion.jobs.locations import Locations
from clarion.jobs.runs import Runs
from clarion.jobs.service import Jobs
from clarion.journeys.delivery import Delivery
from clarion.journeys.engine import JourneyEngine
from clarion.journeys.service import Journeys
from clarion.journeys.simulate import Simulator
from clarion.keys import Keys
from clarion.loops import Loop
from clarion.messaging.dispatch import Dispatcher
from clarion.messaging.engagement import Engagement
from clarion.messaging.otp import Otp
from clarion.messaging.service import Messages, RetryPolicy
from clarion.outbound import OutboundPolicy
from clarion.segments.service import Segments
from clarion.store.apps import AppRepository
from clarion.store.campaigns import CampaignRepository
from clarion.store.channels import ChannelRepository
from clarion.store.database import Database
from clarion.store.deliveries import DeliveryRepository
from clarion.store.endpoints import EndpointRepository
from clarion.store.jobs import JobRepository
from clarion.store.journeys import JourneyRepository
from clarion.store.keys import KeyRepository
from clarion.store.otp import OtpRepository
from clarion.store.runs import RunRepository
from clarion.store.secrets import SecretRepository
from clarion.store.segments import SegmentRepository
from clarion.store.streams import EventStreamRepository, ExportRepository
from clarion.store.tags import TagRepository
from clarion.store.templates import TemplateRepository
from clarion.store.tracking import TrackingRepository
from clarion.streams.destinations import Destinations
from clarion.streams.exporter import Exporter
from clarion.streams.service import EventStreams
from clarion.tags import Tags
from clarion.templates.service import Templates


class Clarion:
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.sqlalchemy_url)
        self.arns = Arns(settings.region, settings.account_id)
        app_repo = AppRepository(self.db)
        policy = OutboundPolicy(settings.outbound_networks)
        self.policy = policy
        file_roots = FileRoots(settings.file_roots)
        self.tags = Tags(TagRepository(self.db), self.arns, self._resource_exists)
        self.apps = Apps(app_repo, self.tags, self.arns, clock, policy)
        self.endpoint_store = EndpointRepository(self.db)
        self.endpoints = Endpoints(self.db, self.endpoint_store, clock)
        self.segments = Segments(SegmentRepository(self.db), self.tags, self.arns, clock)
        self.templates = Templates(TemplateRepository(self.db), self.tags, self.arns, clock)
        self.campaigns = Campaigns(
            CampaignRepository(self.db),
            self.segments,
            self.tags,
            self.arns,
            self._template_for,
            clock,
            policy,
        )
        self.events = Events(self.db, self.endpoints, clock)
        self.channels = Channels(ChannelRepository(self.db), clock, policy)
        destinations = Destinations(
            policy=policy,
            file_roots=file_roots,
            aws_endpoint_url=settings.aws_endpoint_url,
            file_max_bytes=settings.stream_file_max_bytes,
        )
        self.streams = EventStreams(EventStreamRepository(self.db), destinations, clock)
        self.exporter = Exporter(
            ExportRepository(self.db),
            self.arns,
            destinations,
            clock,
            interval=settings.export_interval_seconds,
        )
        self.keys = Keys(KeyRepository(self.db), clock)
        locations = Locations(
            file_roots=file_roots,
            policy=policy,
            aws_endpoint_url=settings.aws_endpoint_url,
            region=settings.region,
        )
        runs = Runs(
            self.db,
            JobRepository(self.db),
            self.endpoints,
            self.endpoint_store,
            self.segments,
            locations,
            clock,
        )
        new_job = threading.Event()
        self.jobs = Jobs(runs.repo, runs, self.segments, locations, clock, new_job.set)
        self.job_worker = Loop("clarion-jobs", self.jobs.work, 2.0, runs.stopping, new_job)
        deliveries = DeliveryRepository(self.db)
        self.secrets = SecretRepository(self.db)
        self.engagement = Engagement(
            self.db,
            TrackingRepository(self.db),
            self.secrets,
            deliveries,
            self.events,
            self.public_url,
            clock,
        )
        self.providers = Providers(
            email_url=settings.email_url,
            sms_url=settings.sms_url,
            voice_url=settings.voice_url,
            data_dir=settings.data_dir,
            aws_endpoint_url=settings.aws_endpoint_url,
            fcm_url=settings.fcm_url,
            apns_url=settings.apns_url,
            apns_sandbox_url=settings.apns_sandbox_url,
            policy=policy,
        )
        self.dispatcher = Dispatcher(
            self._adapter_for, self._channel_revision, timeout=settings.send_timeout_seconds
        )
        self.messages = Messages(
            self.db,
            self.endpoints,
            self.events,
            deliveries,
            self.dispatcher,
            self._template_for,
            self._channel_for,
            clock,
            message_domain=urlsplit(self.public_url).hostname or "clarion",
            retry=RetryPolicy(
                settings.retry_base_seconds,
                settings.retry_max_seconds,
                settings.retry_give_up_hours * 3600,
            ),
            decorator=self.engagement.decorator,
        )
        self.retries = Loop("clarion-retries", self.messages.retry_due, 0.5)
        self.otp = Otp(OtpRepository(self.db), self.messages, clock)
        self.engine = CampaignEngine(
            self.db,
            RunRepository(self.db),
            self.endpoint_store,
            self.campaigns,
            self.segments,
            self.messages,
            deliveries,
            lambda app_id: self.apps.record(app_id).settings,
            clock,
            self.retries.wake,
            policy,
        )
        self.campaign_loop = Loop("clarion-campaigns", self.engine.step, 0.25, self.engine.stopping)
        journey_repo = JourneyRepository(self.db)
        self.journeys = Journeys(
            journey_repo,
            self.segments,
            self.templates.exists,
            self.tags,
            self.arns,
            clock,
            policy,
        )
        self.journey_engine = JourneyEngine(
            self.db,
            journey_repo,
            self.endpoint_store,
            self.segments,
            Delivery(
                self.db,
                self.messages,
                deliveries,
                policy.http_client(timeout=settings.send_timeout_seconds),
                lambda app_id: self.apps.contact_center(app_id).get("WebUrl"),
                clock,
            ),
            lambda app_id: self.apps.record(app_id).settings,
            clock,
        )
        self.journey_loop = Loop(
            "clarion-journeys", self.journey_engine.step, 0.25, self.journey_engine.stopping
        )
        self.journey_simulator = Simulator(self.journeys, self.journey_engine)
        self.triggers = _Triggers(self.engine, self.journey_engine, self.journey_loop)

    @property
    def public_url(self) -> str:
        return self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}"

    def _adapter_for(self, app_id: str, channel: str) -> Adapter[Any]:
        return self.providers.adapter(
            channel, lambda: self._push_credentials(app_id, channel), self.vapid
        )

    def _push_credentials(self, app_id: str, channel: str) -> dict[str, str]:
        """The channel's stored credentials, with its DefaultAuthenticationMethod setting."""
        credentials = self.channels.credentials(app_id, channel)
        method = self.channels.get(app_id, channel).get("DefaultAuthenticationMethod")
        if method:
            credentials["DefaultAuthenticationMethod"] = method
        return credentials

    def vapid(self) -> Vapid:
        """The installation's VAPID key pair, which signs web push (made on first use)."""
        pem = self.secrets.get("vapid-private-key", new_vapid_pem).decode()
        subject = self.settings.vapid_subject or (
            self.public_url
            if self.public_url.startswith("https://")
            else "mailto:postmaster@localhost"
        )
        return Vapid.from_pem(pem, subject)

    def _channel_revision(self, app_id: str, channel: str) -> str:
        found = self._channel_for(app_id, channel)
        return str(found.get("Version")) if found else ""

    def _template_for(
        self, template_type: str, name: str, version: str | None
    ) -> Mapping[str, Any]:
        return self.templates.for_sending(name, template_type, version).fields

    def _channel_for(self, app_id: str, platform: str) -> Mapping[str, Any] | None:
        try:
            return self.channels.get(app_id, platform)
        except (NotFound, KeyError):
            return None

    def start(self) -> None:
        self.db.migrate()
        self.engagement.load_key()

    def release_leases(self) -> None:
        """A server on SQLite owns its store alone, so leases on campaign runs and messages
        left by an earlier process that was killed are void: take the work back at once."""
        if self.db.dialect == "sqlite":
            self.engine.runs.release_all()
            self.messages.ledger.release_all()
            self.journey_engine.repo.release_all()

    def close(self) -> None:
        self.db.dispose()

    def _resource_exists(self, resource: Resource) -> bool:
        """Whether a taggable resource (app, segment, campaign, journey, template) exists."""
        if resource.kind == "app":
            return self.apps.exists(resource.resource_id)
        if resource.kind == "segment" and resource.app_id is not None:
            return self.segments.exists(resource.app_id, resource.resource_id)
        if resource.kind == "campaign" and resource.app_id is not None:
            return self.campaigns.exists(resource.app_id, resource.resource_id)
        if resource.kind == "journey" and resource.app_id is not None:
            return self.journeys.exists(resource.app_id, resource.resource_id)
        if resource.kind == "template":
            name, _, template_type = resource.resource_id.partition("/")
            return self.templates.exists(name, template_type)
        return False


class _Triggers:
    """What PutEvents' events set off, in their own transaction: event-triggered campaign
    messages and journey entries."""

    def __init__(self, campaigns: CampaignEngine, journeys: JourneyEngine, loop: Loop) -> None:
        self.campaigns = campaigns
        self.journeys = journeys
        self.loop = loop

    def queue(self, conn: Any, app_id: str, accepted: Sequence[Accepted]) -> int:
        entered = self.journeys.queue(conn, app_id, accepted)
        return self.campaigns.queue(conn, app_id, accepted) + entered

    def wake(self) -> None:
        """What was queued has committed: send the messages, move the new participants."""
        self.campaigns.wake()
        self.loop.wake()
