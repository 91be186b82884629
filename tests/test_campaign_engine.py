"""The campaign engine in process, under a clock the test moves: runs on time, A/B and holdout,
local-time waves, quiet time, limits, pause and resume. E-mail goes to the outbox."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clarion.clock import iso
from clarion.config import load_settings
from clarion.core import Clarion
from clarion.delivery import read_outbox
from clarion.store.schema import campaign_runs, campaign_versions, campaigns

IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def core(tmp_path: Path, clock: Clock) -> Iterator[Clarion]:
    clarion = Clarion(load_settings(data_dir=tmp_path, email_url="outbox:"), clock=clock)
    clarion.start()
    try:
        yield clarion
    finally:
        clarion.dispatcher.stop()
        clarion.close()


def app_with(core: Clarion, people: list[dict[str, Any]], **settings: Any) -> tuple[str, str]:
    """An app with an e-mail channel, these endpoints, and a segment of all of them."""
    app_id = core.apps.create("campaigns", {})["Id"]
    if settings:
        core.apps.update_settings(app_id, settings)
    core.channels.update(
        app_id, "EMAIL", {"FromAddress": "news@example.com", "Identity": IDENTITY}, "test"
    )
    for start in range(0, len(people), 100):
        core.endpoints.update_batch(app_id, people[start : start + 100], "load")
    segment = core.segments.create(
        app_id,
        {"Name": "all", "Dimensions": {"Demographic": {"Platform": {"Values": ["web"]}}}},
    )
    return app_id, segment["Id"]


def person(n: int, timezone: str | None = None) -> dict[str, Any]:
    demographic = {"Platform": "web", **({"Timezone": timezone} if timezone else {})}
    return {
        "Id": f"p{n}",
        "ChannelType": "EMAIL",
        "Address": f"p{n}@example.org",
        "Demographic": demographic,
        "User": {"UserAttributes": {"FirstName": [f"P{n}"]}},
    }


def add_campaign(
    core: Clarion, app_id: str, definition: dict[str, Any], state: str = "SCHEDULED"
) -> str:
    campaign_id = uuid.uuid4().hex
    with core.db.write() as conn:
        conn.execute(
            campaigns.insert().values(
                app_id=app_id,
                id=campaign_id,
                creation_date=iso(core.clock()),
                version=1,
                state=state,
            )
        )
        conn.execute(
            campaign_versions.insert().values(
                app_id=app_id,
                campaign_id=campaign_id,
                version=1,
                last_modified_date=iso(core.clock()),
                definition=definition,
            )
        )
    return campaign_id


def email(subject: str = "Hi {{User.UserAttributes.FirstName}}") -> dict[str, Any]:
    return {
        "EmailMessage": {"Title": subject, "Body": "Offers for {{User.UserAttributes.FirstName}}"}
    }


def state(core: Clarion, app_id: str, campaign_id: str) -> str | None:
    return core.campaigns.definition(app_id, campaign_id).state


def runs(core: Clarion, campaign_id: str) -> list[Any]:
    with core.db.read() as conn:
        return list(
            conn.execute(
                campaign_runs.select()
                .where(campaign_runs.c.campaign_id == campaign_id)
                .order_by(campaign_runs.c.scheduled_ms, campaign_runs.c.treatment_id)
            )
        )


def tick(core: Clarion) -> None:
    core.engine.plan()
    core.engine.work()


def sent(core: Clarion, tmp_path: Path) -> list[dict[str, Any]]:
    return read_outbox(tmp_path, "email")


def test_a_once_campaign_runs_at_its_start_time(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    app_id, segment_id = app_with(core, [person(n) for n in range(30)])
    campaign_id = add_campaign(
        core,
        app_id,
        {
            "Name": "launch",
            "SegmentId": segment_id,
            "Schedule": {
                "StartTime": (START + timedelta(hours=1)).isoformat(),
                "Frequency": "ONCE",
            },
            "MessageConfiguration": email(),
        },
    )
    tick(core)
    assert runs(core, campaign_id) == [] and sent(core, tmp_path) == []
    clock.advance(hours=1)
    tick(core)
    mails = sent(core, tmp_path)
    assert sorted(m["recipient"] for m in mails) == sorted(f"p{n}@example.org" for n in range(30))
    assert {m["subject"] for m in mails if m["recipient"] == "p7@example.org"} == {"Hi P7"}
    [run] = runs(core, campaign_id)
    assert (run.state, run.result, run.total_endpoint_count, run.successful_endpoint_count) == (
        "COMPLETED",
        "SUCCESS",
        30,
        30,
    )
    assert state(core, app_id, campaign_id) == "COMPLETED"
    clock.advance(hours=2)
    tick(core)
    assert len(sent(core, tmp_path)) == 30


def test_an_hourly_campaign_runs_every_hour_until_its_end(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    app_id, segment_id = app_with(core, [person(n) for n in range(5)])
    campaign_id = add_campaign(
        core,
        app_id,
        {
            "SegmentId": segment_id,
            "Schedule": {
                "StartTime": START.isoformat(),
                "EndTime": (START + timedelta(hours=3)).isoformat(),
                "Frequency": "HOURLY",
            },
            "MessageConfiguration": email(),
        },
    )
    tick(core)
    assert len(sent(core, tmp_path)) == 5
    assert state(core, app_id, campaign_id) == "PENDING_NEXT_RUN"
    for _ in range(4):
        clock.advance(hours=1)
        tick(core)
    assert len(sent(core, tmp_path)) == 15
    assert [r.state for r in runs(core, campaign_id)] == ["COMPLETED"] * 3
    assert state(core, app_id, campaign_id) == "COMPLETED"


def test_treatments_and_holdout_split_the_segment_stably(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    app_id, segment_id = app_with(core, [person(n) for n in range(2000)])
    campaign_id = add_campaign(
        core,
        app_id,
        {
            "SegmentId": segment_id,
            "Schedule": {"StartTime": START.isoformat(), "Frequency": "ONCE"},
            "MessageConfiguration": email("A {{User.UserAttributes.FirstName}}"),
            "HoldoutPercent": 10,
            "AdditionalTreatments": [
                {
                    "SizePercent": 40,
                    "MessageConfiguration": email("B {{User.UserAttributes.FirstName}}"),
                }
            ],
        },
    )
    tick(core)
    tick(core)
    mails = sent(core, tmp_path)
    by_subject = Counter(m["subject"][0] for m in mails)
    assert len({m["recipient"] for m in mails}) == len(mails)
    assert abs(by_subject["A"] - 1000) < 3 * (2000 * 0.5 * 0.5) ** 0.5
    assert abs(by_subject["B"] - 800) < 3 * (2000 * 0.4 * 0.6) ** 0.5
    held = 2000 - len(mails)
    assert abs(held - 200) < 3 * (2000 * 0.1 * 0.9) ** 0.5
    metrics = {r.treatment_id: r.metrics for r in runs(core, campaign_id)}
    assert metrics["0"]["HoldoutCount"] == held
    assert [r.treatment_id for r in runs(core, campaign_id)] == ["0", "1"]


def test_a_local_time_campaign_goes_out_in_waves(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    zones = ["Asia/Tokyo", "Europe/Berlin", "America/New_York"]
    app_id, segment_id = app_with(core, [person(n, zones[n % 3]) for n in range(9)])
    nine_am = datetime(2026, 12, 2, 9, 0)
    campaign_id = add_campaign(
        core,
        app_id,
        {
            "SegmentId": segment_id,
            "Schedule": {
                "StartTime": nine_am.isoformat(),
                "Timezone": "UTC",
                "IsLocalTime": True,
                "Frequency": "ONCE",
            },
            "MessageConfiguration": email(),
        },
    )

    def reached() -> set[str]:
        return {zones[int(m["recipient"][1]) % 3] for m in sent(core, tmp_path)}

    clock.now = datetime(2026, 12, 2, 0, 0, 30, tzinfo=UTC)  # 09:00:30 in Tokyo
    tick(core)
    assert reached() == {"Asia/Tokyo"}
    clock.now = datetime(2026, 12, 2, 8, 0, 30, tzinfo=UTC)  # 09:00:30 in Berlin
    tick(core)
    assert reached() == {"Asia/Tokyo", "Europe/Berlin"}
    assert state(core, app_id, campaign_id) == "EXECUTING"
    clock.now = datetime(2026, 12, 2, 14, 0, 30, tzinfo=UTC)  # 09:00:30 in New York
    tick(core)
    assert reached() == set(zones)
    assert len(sent(core, tmp_path)) == 9
    assert state(core, app_id, campaign_id) == "COMPLETED"


def test_quiet_time_leaves_out_endpoints_in_their_night(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    people = [person(0, "Asia/Tokyo"), person(1, "Europe/London"), person(2)]
    app_id, segment_id = app_with(core, people, QuietTime={"Start": "20:00", "End": "08:00"})
    campaign_id = add_campaign(
        core,
        app_id,
        {
            "SegmentId": segment_id,
            "Schedule": {"StartTime": START.isoformat(), "Frequency": "ONCE"},
            "MessageConfiguration": email(),
        },
    )
    tick(core)  # 12:00 UTC is 21:00 in Tokyo, noon in London
    assert sorted(m["recipient"] for m in sent(core, tmp_path)) == [
        "p1@example.org",
        "p2@example.org",
    ]
    [run] = runs(core, campaign_id)
    assert run.metrics["QuietTimeCount"] == 1


def test_the_daily_limit_caps_messages_per_endpoint(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    app_id, segment_id = app_with(core, [person(n) for n in range(4)])
    add_campaign(
        core,
        app_id,
        {
            "SegmentId": segment_id,
            "Schedule": {
                "StartTime": START.isoformat(),
                "EndTime": (START + timedelta(days=2)).isoformat(),
                "Frequency": "HOURLY",
            },
            "Limits": {"Daily": 2},
            "MessageConfiguration": email(),
        },
    )
    for _ in range(5):
        tick(core)
        clock.advance(hours=1)
    assert len(sent(core, tmp_path)) == 8


def test_a_paused_campaign_sends_nothing_until_it_resumes(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    app_id, segment_id = app_with(core, [person(n) for n in range(3)])
    campaign_id = add_campaign(
        core,
        app_id,
        {
            "SegmentId": segment_id,
            "Schedule": {"StartTime": START.isoformat(), "Frequency": "ONCE"},
            "MessageConfiguration": email(),
        },
    )
    core.engine.plan()
    core.campaigns.set_state(app_id, campaign_id, "PAUSED")
    core.engine.work()
    assert sent(core, tmp_path) == []
    core.campaigns.set_state(app_id, campaign_id, "EXECUTING")
    clock.advance(seconds=2)
    tick(core)
    assert len(sent(core, tmp_path)) == 3


def put_event(core: Clarion, app_id: str, endpoint_id: str, event_id: str, event_type: str) -> None:
    batch = {
        endpoint_id: {
            "Endpoint": {},
            "Events": {
                event_id: {
                    "EventType": event_type,
                    "Timestamp": iso(core.clock()),
                    "Attributes": {"item": "shoes"},
                    "Metrics": {"price": 42.0},
                }
            },
        }
    }
    core.events.put(app_id, batch, "req", 100, core.engine)


def test_an_event_triggers_one_message_per_matching_event(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    app_id, segment_id = app_with(core, [person(n) for n in range(3)])
    campaign_id = add_campaign(
        core,
        app_id,
        {
            "SegmentId": segment_id,
            "Schedule": {
                "StartTime": START.isoformat(),
                "EndTime": (START + timedelta(days=1)).isoformat(),
                "Frequency": "EVENT",
                "EventFilter": {
                    "FilterType": "ENDPOINT",
                    "Dimensions": {
                        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase"]},
                        "Metrics": {"price": {"ComparisonOperator": "GREATER_THAN", "Value": 10}},
                    },
                },
            },
            "MessageConfiguration": email("Thanks {{User.UserAttributes.FirstName}}"),
        },
    )
    put_event(core, app_id, "p1", "e1", "purchase")
    put_event(core, app_id, "p1", "e1", "purchase")
    put_event(core, app_id, "p2", "e2", "browse")
    put_event(core, app_id, "stranger", "e3", "purchase")
    core.messages.retry_due()
    mails = sent(core, tmp_path)
    assert [(m["recipient"], m["subject"]) for m in mails] == [("p1@example.org", "Thanks P1")]
    put_event(core, app_id, "p1", "e4", "purchase")
    core.messages.retry_due()
    assert len(sent(core, tmp_path)) == 2
    core.engine.plan()
    assert runs(core, campaign_id) == []
    clock.advance(days=2)
    put_event(core, app_id, "p1", "e5", "purchase")
    core.messages.retry_due()
    assert len(sent(core, tmp_path)) == 2


class WebHook:
    """A loopback web hook that records what it gets and answers with ``answer(payload)``."""

    def __init__(self, answer: Any) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.received.append(payload)
                body = json.dumps(answer(payload)).encode()
                self.send_response(hook.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def stop(self) -> None:
        self.server.shutdown()


def test_a_filter_hook_chooses_and_personalises_the_recipients(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    def keep_even(payload: dict[str, Any]) -> dict[str, Any]:
        return {
            i: {**doc, "User": {"UserAttributes": {"FirstName": ["Hooked"]}}}
            for i, doc in payload["Endpoints"].items()
            if int(i[1:]) % 2 == 0
        }

    hook = WebHook(keep_even)
    try:
        app_id, segment_id = app_with(core, [person(n) for n in range(6)])
        add_campaign(
            core,
            app_id,
            {
                "SegmentId": segment_id,
                "Schedule": {"StartTime": START.isoformat(), "Frequency": "ONCE"},
                "Hook": {"Mode": "FILTER", "WebUrl": hook.url},
                "MessageConfiguration": email(),
            },
        )
        hook.status = 503
        tick(core)
        assert sent(core, tmp_path) == [] and len(hook.received) == 1
        hook.status = 200
        clock.advance(seconds=6)
        tick(core)
        mails = sent(core, tmp_path)
        assert sorted(m["recipient"] for m in mails) == [f"p{n}@example.org" for n in (0, 2, 4)]
        assert {m["subject"] for m in mails} == {"Hi Hooked"}
        assert hook.received[-1]["CampaignId"] and len(hook.received[-1]["Endpoints"]) == 6
    finally:
        hook.stop()


def test_custom_delivery_posts_custom_endpoints_to_the_web_hook(
    core: Clarion, clock: Clock, tmp_path: Path
) -> None:
    hook = WebHook(lambda payload: {})
    try:
        app_id, segment_id = app_with(core, [person(0)])
        core.endpoints.update_batch(
            app_id,
            [
                {
                    "Id": "device-1",
                    "ChannelType": "CUSTOM",
                    "Address": "device-1",
                    "Demographic": {"Platform": "web"},
                }
            ],
            "load",
        )
        add_campaign(
            core,
            app_id,
            {
                "SegmentId": segment_id,
                "Schedule": {"StartTime": START.isoformat(), "Frequency": "ONCE"},
                "CustomDeliveryConfiguration": {"DeliveryUri": hook.url},
                "MessageConfiguration": {**email(), "CustomMessage": {"Data": "ping"}},
            },
        )
        tick(core)
        [payload] = hook.received
        assert list(payload["Endpoints"]) == ["device-1"] and payload["Data"] == "ping"
        assert [m["recipient"] for m in sent(core, tmp_path)] == ["p0@example.org"]
    finally:
        hook.stop()
