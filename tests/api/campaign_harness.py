"""A whole Clarion server in the test's own process, on a clock the test moves, for boto3
tests of campaigns.

The server is the real ASGI app under uvicorn, but without its lifespan: the campaign engine's
and the retry worker's threads never start. A test moves the clock and then turns the engine
itself (``Harness.tick``: plan, work, send what is queued), so a run happens exactly when the
test says and every API read afterwards sees it finished; with the threads running, a run could
be half done when the test looks. botocore signs with the same clock, because the server checks
a signature's time against its own clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, Envelope, Session
from botocore.config import Config

from clarion.app import build_app
from clarion.clock import iso
from clarion.config import load_settings
from clarion.core import Clarion
from clarion.store.schema import deliveries
from tests.delivery.conftest import Recorder, smtp_server
from tests.delivery.push_servers import uvicorn_server

IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
SENDER = "news@example.com"
MEMBERS = "members"


class Clock:
    """The time every part of the server reads; it moves only when the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class TimedRecorder(Recorder):
    """The SMTP sink, also noting when (monotonic seconds) each message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            self.arrivals.append(time.monotonic())
        return reply


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    message_id: str


def person(
    n: int,
    timezone: str | None = None,
    *,
    group: str = MEMBERS,
    channel: str = "EMAIL",
    **extra: Any,
) -> dict[str, Any]:
    """Endpoint e<n> of user u<n>, first name N<n>, e-mail e<n>@example.org."""
    return {
        "Id": f"e{n}",
        "ChannelType": channel,
        "Address": f"e{n}@example.org" if channel == "EMAIL" else f"device-{n}",
        "Attributes": {"Group": [group]},
        "Demographic": {"Timezone": timezone} if timezone else {},
        "User": {"UserId": f"u{n}", "UserAttributes": {"FirstName": [f"N{n}"]}},
        **extra,
    }


def email(subject: str = "Hello {{User.UserAttributes.FirstName}}") -> dict[str, Any]:
    return {"EmailMessage": {"Title": subject, "HtmlBody": "<p>News for you.</p>"}}


def stamp(moment: datetime) -> str:
    """A Schedule time as a client writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(response: dict[str, Any], key: str) -> dict[str | None, str]:
    """A DateRangeKpiResponse's rows as {group value (None when ungrouped): value}."""
    found: dict[str | None, str] = {}
    for row in response[key]["KpiResult"]["Rows"]:
        groups = row.get("GroupedBys") or []
        found[groups[0]["Value"] if groups else None] = row["Values"][0]["Value"]
    return found


@dataclass
class Harness:
    core: Clarion
    clock: Clock
    pinpoint: Any
    sink: TimedRecorder
    url: str = ""
    """The server's base URL, for requests boto3 cannot make (Clarion's own routes)."""
    key: tuple[str, str] = ("", "")
    """The access key id and secret the boto3 client signs with."""

    def tick(self) -> None:
        """What the engine's threads would do now: plan due runs, work them, send the
        messages event triggers queued, and move journey participants as far as they go."""
        self.core.engine.plan()
        self.core.engine.work()
        while self.core.messages.retry_due() + self.core.journey_engine.step():
            pass

    def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        self.tick()

    def at(self, moment: datetime) -> None:
        self.clock.now = moment
        self.tick()

    def mails(self) -> list[Mail]:
        found = []
        for received in self.sink.received:
            message = received.message()
            [recipient] = received.rcpt_tos
            found.append(Mail(recipient, str(message["Subject"]), str(message["Message-ID"])))
        return found

    def recipients(self) -> list[str]:
        return sorted(mail.recipient for mail in self.mails())

    def ledger_ids(self, campaign_id: str) -> dict[str, set[str]]:
        """The Message-IDs the delivery ledger holds for the campaign's sent messages, per
        address, as the Message-ID header writes them."""
        query = sa.select(deliveries.c.address, deliveries.c.message_id).where(
            deliveries.c.campaign_id == campaign_id, deliveries.c.status == "SUCCESSFUL"
        )
        found: dict[str, set[str]] = {}
        with self.core.db.read() as conn:
            for address, message_id in conn.execute(query):
                found.setdefault(address, set()).add(f"<{message_id}>")
        return found

    def new_app(self, people: list[dict[str, Any]], **settings: Any) -> tuple[str, str]:
        """An app with an e-mail channel and these endpoints; the segment of Group members."""
        pinpoint = self.pinpoint
        app_id: str = pinpoint.create_app(CreateApplicationRequest={"Name": "campaigns"})[
            "ApplicationResponse"
        ]["Id"]
        if settings:
            pinpoint.update_application_settings(
                ApplicationId=app_id, WriteApplicationSettingsRequest=settings
            )
        pinpoint.update_email_channel(
            ApplicationId=app_id,
            EmailChannelRequest={"FromAddress": SENDER, "Identity": IDENTITY, "Enabled": True},
        )
        for start in range(0, len(people), 100):
            pinpoint.update_endpoints_batch(
                ApplicationId=app_id, EndpointBatchRequest={"Item": people[start : start + 100]}
            )
        segment_id: str = pinpoint.create_segment(
            ApplicationId=app_id,
            WriteSegmentRequest={
                "Name": MEMBERS,
                "Dimensions": {"Attributes": {"Group": {"Values": [MEMBERS]}}},
            },
        )["SegmentResponse"]["Id"]
        return app_id, segment_id

    def create_campaign(self, app_id: str, request: dict[str, Any]) -> str:
        created = self.pinpoint.create_campaign(
            ApplicationId=app_id, WriteCampaignRequest={"Name": "campaign", **request}
        )["CampaignResponse"]
        campaign_id: str = created["Id"]
        return campaign_id

    def update_campaign(self, app_id: str, campaign_id: str, request: dict[str, Any]) -> str:
        updated = self.pinpoint.update_campaign(
            ApplicationId=app_id, CampaignId=campaign_id, WriteCampaignRequest=request
        )["CampaignResponse"]
        state: str = updated["State"]["CampaignStatus"]
        return state

    def state(self, app_id: str, campaign_id: str) -> str:
        found = self.pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign_id)
        state: str = found["CampaignResponse"]["State"]["CampaignStatus"]
        return state

    def activities(self, app_id: str, campaign_id: str) -> list[dict[str, Any]]:
        """Every activity (run), in order of scheduled start and treatment."""
        items: list[dict[str, Any]] = []
        token: dict[str, str] = {}
        while True:
            page = self.pinpoint.get_campaign_activities(
                ApplicationId=app_id, CampaignId=campaign_id, **token
            )["ActivitiesResponse"]
            items.extend(page["Item"])
            if "NextToken" not in page:
                return sorted(items, key=lambda a: (a["ScheduledStart"], a["TreatmentId"]))
            token = {"Token": page["NextToken"]}

    def campaign_kpi(
        self, app_id: str, campaign_id: str, name: str, since: datetime
    ) -> dict[str | None, str]:
        response = self.pinpoint.get_campaign_date_range_kpi(
            ApplicationId=app_id,
            CampaignId=campaign_id,
            KpiName=name,
            StartTime=since,
            EndTime=self.clock(),
        )
        return rows(response, "CampaignDateRangeKpiResponse")

    def app_kpi(self, app_id: str, name: str, since: datetime) -> dict[str | None, str]:
        response = self.pinpoint.get_application_date_range_kpi(
            ApplicationId=app_id, KpiName=name, StartTime=since, EndTime=self.clock()
        )
        return rows(response, "ApplicationDateRangeKpiResponse")

    def put_event(
        self,
        app_id: str,
        endpoint_id: str,
        event_id: str,
        event_type: str,
        attributes: dict[str, str] | None = None,
        metrics: dict[str, float] | None = None,
        session: str | None = None,
    ) -> None:
        event: dict[str, Any] = {
            "EventType": event_type,
            "Timestamp": iso(self.clock()),
            "Attributes": attributes or {},
            "Metrics": metrics or {},
        }
        if session is not None:
            event["Session"] = {"Id": session, "StartTimestamp": iso(self.clock())}
        response = self.pinpoint.put_events(
            ApplicationId=app_id,
            EventsRequest={
                "BatchItem": {
                    endpoint_id: {
                        "Endpoint": {},
                        "Events": {event_id: event},
                    }
                }
            },
        )["EventsResponse"]
        result = response["Results"][endpoint_id]["EventsItemResponse"][event_id]
        assert result["StatusCode"] == 202, result


@contextmanager
def running(
    data_dir: Path, database_url: str | None, start: datetime, **settings: Any
) -> Iterator[Harness]:
    """A Clarion server on ``start``'s clock, sending e-mail to an SMTP sink; a boto3 client
    signed on that clock. ``settings`` are further Settings (e.g. ``sms_url``, ``fcm_url``)."""
    clock = Clock(start)
    sink = TimedRecorder()
    with smtp_server(sink) as smtp_port:
        core = Clarion(
            load_settings(
                data_dir=data_dir,
                database_url=database_url,
                email_url=f"smtp://127.0.0.1:{smtp_port}",
                retry_base_seconds=0.1,
                retry_max_seconds=0.5,
                **settings,
            ),
            clock=clock,
        )
        core.start()
        try:
            access_key_id, secret = core.keys.create("test")
            with (
                uvicorn_server(build_app(core)) as url,
                mock.patch(
                    "botocore.auth.get_current_datetime",
                    lambda: clock().astimezone(UTC).replace(tzinfo=None),
                ),
            ):
                pinpoint = boto3.client(
                    "pinpoint",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id=access_key_id,
                    aws_secret_access_key=secret,
                    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
                )
                yield Harness(core, clock, pinpoint, sink, url, (access_key_id, secret))
        finally:
            core.dispatcher.stop()
            core.close()
