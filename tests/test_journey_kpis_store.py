"""Every journey engagement metric from journey events ingested the way PutEvents ingests them,
on SQLite and PostgreSQL.

Two journeys send e-mail and SMS from several activities over ten days; their events carry
``journey_id``, ``journey_activity_id`` and ``journey_run_id`` as Pinpoint's do, beside a
``_journey.send`` per message. A neighbour app uses the same journey ids, and there are events
a day before the range, campaign messages, transactional messages, events without an activity
and resent batches, none of which may count where they don't belong. Expected rows are worked
out here from the list of events sent, straight from the guide's definitions.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from clarion.analytics import journeys, kpis
from clarion.endpoints.service import Endpoints
from clarion.errors import BadRequest
from clarion.events.service import Events
from clarion.store import analytics as rollups
from clarion.store.database import Database
from clarion.store.endpoints import EndpointRepository

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
DAYS = [START.date() + timedelta(days=n) for n in range(10)]
BEFORE = START.date() - timedelta(days=1)
JOURNEYS = {"j1": ["welcome", "reminder", "sms1"], "j2": ["only"]}
ALL_KPIS = sorted({**journeys.JOURNEY_KPIS, **journeys.SMS_KPIS})

Sent = tuple[str, date, str, dict[str, str]]
"""Endpoint, day, event type, attributes."""


def recipient(rng: random.Random, endpoint: str, day: date) -> list[Sent]:
    """One endpoint's day: journey e-mails and SMS with outcomes, and other messages."""
    sent: list[Sent] = []

    def add(event_type: str, **attributes: str) -> None:
        sent.append((endpoint, day, event_type, attributes))

    for journey, activities in JOURNEYS.items():
        for activity in rng.sample(activities, rng.randrange(0, len(activities) + 1)):
            context = {
                "journey_id": journey,
                "journey_activity_id": activity,
                "journey_run_id": f"{journey}-run",
            }
            sms = activity.startswith("sms")
            add("_journey.send", **context, delivery_type="SMS" if sms else "EMAIL")
            if sms:
                add("_SMS.BUFFERED", **context)
                add(rng.choice(["_SMS.SUCCESS", "_SMS.FAILURE"]), **context)
                continue
            add("_email.send", **context)
            outcome = rng.choice(
                ["_email.delivered", "_email.hardbounce", "_email.softbounce", "_email.rejected"]
            )
            add(outcome, **context)
            if outcome == "_email.delivered":
                for extra in ("_email.open", "_email.click", "_email.click", "_email.complaint"):
                    if rng.random() < 0.4:
                        add(extra, **context)
                if rng.random() < 0.2:
                    add("_email.unsubscribe", **context)
    if rng.random() < 0.3:
        add("_email.send", journey_id="j1")
    add("_email.send", campaign_id="c1", treatment_id="0")
    add("_email.send")
    add("level.up", journey_id="j1", journey_activity_id="welcome")
    return sent


def history(seed: int) -> list[list[Sent]]:
    rng = random.Random(seed)
    return [
        recipient(rng, f"ep-{n}", day)
        for day in [BEFORE, *DAYS]
        for n in range(rng.randrange(3, 7))
    ]


def request(events: list[Sent], tag: str) -> dict[str, Any]:
    endpoint, day = events[0][0], events[0][1]
    moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    return {
        endpoint: {
            "Endpoint": {},
            "Events": {
                f"{tag}-{n}": {
                    "EventType": event_type,
                    "Timestamp": moment.isoformat(),
                    "Attributes": attributes,
                }
                for n, (_, _, event_type, attributes) in enumerate(events)
            },
        }
    }


@pytest.fixture(scope="module")
def sent(db: Database) -> tuple[str, list[Sent]]:
    endpoints = Endpoints(db, EndpointRepository(db), lambda: NOW)
    events = Events(db, endpoints, lambda: datetime.fromtimestamp(0, UTC))
    app_id = f"app-{uuid.uuid4().hex}"
    batches = history(20261128)
    for app, these in [(f"other-{app_id}", history(7)), (app_id, batches), (app_id, batches[:5])]:
        for n, batch in enumerate(these):
            result = events.put(app, request(batch, f"{app}-{n}"), f"r{n}", 1000, None)
            for item in result["Results"].values():
                assert {r["StatusCode"] for r in item["EventsItemResponse"].values()} == {202}
    return app_id, [e for batch in batches for e in batch]


def expected(kpi: journeys.JourneyKpi, journey: str, events: list[Sent]) -> list[dict[str, Any]]:
    """The guide's definition, counted from the events sent."""
    counts: dict[str, int] = {}
    for _, day, event_type, attributes in events:
        if day not in DAYS or event_type != kpi.event_type:
            continue
        if attributes.get("journey_id") != journey:
            continue
        activity = attributes.get("journey_activity_id", "")
        if kpi.by_activity and not activity:
            continue
        group = activity if kpi.by_activity else ""
        counts[group] = counts.get(group, 0) + 1
    rows = []
    for group in sorted(counts):
        row: dict[str, Any] = {
            "Values": [{"Key": kpi.key, "Type": "Double", "Value": f"{float(counts[group])}"}]
        }
        if kpi.by_activity:
            row["GroupedBys"] = [{"Key": "JourneyActivityId", "Type": "String", "Value": group}]
        rows.append(row)
    return rows


@pytest.mark.parametrize("name", ALL_KPIS)
@pytest.mark.parametrize("journey", sorted(JOURNEYS))
def test_every_journey_metric(
    db: Database, sent: tuple[str, list[Sent]], name: str, journey: str
) -> None:
    app_id, events = sent
    response = journeys.date_range_kpi(db, app_id, journey, name, START, END, NOW)
    assert response["ApplicationId"] == app_id
    assert response["JourneyId"] == journey
    assert response["KpiName"] == name
    assert (response["StartTime"], response["EndTime"]) == (START, END)
    assert "NextToken" not in response
    assert response["KpiResult"]["Rows"] == expected(journeys.journey_kpi(name), journey, events)


def test_the_metrics_have_data(db: Database, sent: tuple[str, list[Sent]]) -> None:
    """The synthetic history exercises every metric (so equality above is not 0 == 0)."""
    app_id, _ = sent
    for name in ALL_KPIS:
        rows = journeys.date_range_kpi(db, app_id, "j1", name, START, END, NOW)
        assert rows["KpiResult"]["Rows"], name


def test_journey_sends_are_rolled_up_per_activity(
    db: Database, sent: tuple[str, list[Sent]]
) -> None:
    app_id, events = sent
    counts = rollups.journey_messages(db, app_id, "j1", ["_journey.send"], DAYS, by_activity=True)
    want: dict[str, int] = {}
    for _, day, event_type, attributes in events:
        if day in DAYS and event_type == "_journey.send" and attributes["journey_id"] == "j1":
            activity = attributes["journey_activity_id"]
            want[activity] = want.get(activity, 0) + 1
    assert {c.activity_id: c.count for c in counts} == want


def test_application_metrics_still_leave_journey_messages_out(
    db: Database, sent: tuple[str, list[Sent]]
) -> None:
    app_id, events = sent
    response = kpis.date_range_kpi(db, app_id, "txn-emails-sent", START, END, NOW)
    transactional = sum(
        1
        for _, day, event_type, attributes in events
        if day in DAYS and event_type == "_email.send" and not attributes
    )
    assert response["KpiResult"]["Rows"][0]["Values"][0]["Value"] == f"{float(transactional)}"


def test_an_unknown_journey_has_no_rows(db: Database, sent: tuple[str, list[Sent]]) -> None:
    app_id, _ = sent
    response = journeys.date_range_kpi(db, app_id, "nope", "journey-emails-sent", None, None, NOW)
    assert response["KpiResult"] == {"Rows": []}


def test_the_range_is_checked_as_for_campaigns(db: Database, sent: tuple[str, list[Sent]]) -> None:
    app_id, _ = sent
    with pytest.raises(BadRequest, match="at most 31"):
        journeys.date_range_kpi(
            db, app_id, "j1", "journey-emails-sent", START - timedelta(days=40), END, NOW
        )
    with pytest.raises(BadRequest, match="is before StartTime"):
        journeys.date_range_kpi(db, app_id, "j1", "journey-emails-sent", END, START, NOW)
    with pytest.raises(BadRequest, match="is not a journey metric"):
        journeys.date_range_kpi(db, app_id, "j1", "email-open-rate", START, END, NOW)


def test_a_journey_send_is_not_the_endpoints_activity(db: Database) -> None:
    endpoints = Endpoints(db, EndpointRepository(db), lambda: NOW)
    events = Events(db, endpoints, lambda: datetime.fromtimestamp(0, UTC))
    app_id = f"quiet-{uuid.uuid4().hex}"
    context = {"journey_id": "j1", "journey_activity_id": "a1", "journey_run_id": "r1"}
    batch = [
        ("ep-1", DAYS[0], "_journey.send", {**context, "journey_send_status": "SUCCESS"}),
        ("ep-1", DAYS[0], "_email.send", context),
    ]
    events.put(app_id, request(batch, "quiet"), "r", 1000, None)
    assert rollups.active_endpoints(db, app_id, DAYS[0], DAYS[-1]) == {}
    counts = rollups.journey_messages(
        db, app_id, "j1", ["_journey.send", "_email.send"], DAYS, by_activity=False
    )
    assert sorted((c.event_type, c.count) for c in counts) == [
        ("_email.send", 1),
        ("_journey.send", 1),
    ]
