"""Every application KPI from delivery events ingested the way PutEvents ingests them, on SQLite
and PostgreSQL.

Synthetic email, SMS, push and campaign events in Pinpoint's event-stream shape go through
``Events.put`` for the app under test, with a neighbour app's events on the same days, events a
day before the range, journey messages and app events, none of which may count. Every expected
row is worked out here from the list of events sent, with plain sets and sums, straight from the
definitions in the Developer Guide as docs/reports.md reads them.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from clarion.analytics import kpis
from clarion.endpoints.service import Endpoints
from clarion.events.service import Events
from clarion.store.apps import AppRepository
from clarion.store.database import Database
from clarion.store.endpoints import EndpointRepository
from clarion.store.schema import daily_message_endpoints, daily_message_facts

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
DAYS = [START.date() + timedelta(days=n) for n in range(10)]
BEFORE = START.date() - timedelta(days=1)
CAMPAIGNS = ["c1", "c2", "c3"]
COUNTRIES = ["US", "FR", "DE", None]
PUSH = ["GCM", "APNS", "APNS_SANDBOX", "BAIDU"]


@dataclass(frozen=True)
class Sent:
    """One event as sent, with the day it lands on."""

    endpoint: str
    day: date
    event_type: str
    attributes: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def campaign(self) -> str | None:
        return self.attributes.get("campaign_id")

    @property
    def transactional(self) -> bool:
        return "campaign_id" not in self.attributes and "journey_id" not in self.attributes


# --- Synthetic delivery ---------------------------------------------------------------------


class Sender:
    """What Pinpoint's delivery would record for one endpoint on one day."""

    def __init__(self, rng: random.Random, endpoint: str, day: date) -> None:
        self.rng = rng
        self.endpoint = endpoint
        self.day = day
        self.events: list[Sent] = []

    def add(
        self, event_type: str, *, metrics: dict[str, float] | None = None, **attrs: str
    ) -> None:
        self.emit(event_type, attrs, metrics or {})

    def emit(self, event_type: str, attrs: dict[str, str], metrics: dict[str, float]) -> None:
        self.events.append(Sent(self.endpoint, self.day, event_type, attrs, metrics))

    def campaign_email(self, campaign: str) -> None:
        self.add(
            "_campaign.send",
            campaign_id=campaign,
            delivery_type="EMAIL",
            campaign_send_status="SUCCESS",
        )
        self.add("_email.send", campaign_id=campaign, feedback="received")
        outcome = self.rng.choice(["_email.delivered"] * 3 + ["_email.hardbounce"])
        self.add(outcome, campaign_id=campaign)
        if outcome == "_email.delivered":
            for _ in range(self.rng.randrange(3)):
                self.add("_email.open", campaign_id=campaign, feedback="opened")

    def campaign_push(self, campaign: str) -> None:
        channel = self.rng.choice(PUSH)
        status = self.rng.choice(["SUCCESS", "SUCCESS", "QUIET_TIME"])
        self.add(
            "_campaign.send",
            campaign_id=campaign,
            delivery_type=channel,
            campaign_send_status=status,
        )
        if status == "SUCCESS" and self.rng.random() < 0.5:
            self.add("_campaign.opened_notification", campaign_id=campaign)

    def sms(self, **sender: str) -> None:
        """An SMS handed to the carrier, then its outcome with its price, mostly."""
        country = self.rng.choice(COUNTRIES)
        where = {"iso_country_code": country} if country else {}
        parts = {"number_of_message_parts": str(self.rng.randrange(1, 4))}
        self.emit("_SMS.BUFFERED", {**sender, **where, **parts}, {})
        failed = self.rng.random() < 0.3
        status = self.rng.choice(["BLOCKED", "UNREACHABLE", ""]) if failed else "DELIVERED"
        outcome = {"record_status": status} if status else {}
        price = 645.0 * int(parts["number_of_message_parts"])
        priced = {"price_in_millicents_usd": price} if self.rng.random() < 0.8 else {}
        event_type = "_SMS.FAILURE" if failed else "_SMS.SUCCESS"
        self.emit(event_type, {**sender, **where, **outcome, **parts}, priced)

    def transactional_email(self) -> None:
        self.add("_email.send", feedback="received")
        outcome = self.rng.choice(
            ["_email.delivered"] * 4 + ["_email.hardbounce", "_email.softbounce"]
        )
        self.add(outcome)
        if outcome == "_email.delivered":
            for _ in range(self.rng.randrange(3)):
                self.add("_email.open", feedback="opened")
            for _ in range(self.rng.randrange(2)):
                self.add("_email.click", feedback="https://example.com/")
            if self.rng.random() < 0.1:
                self.add("_email.complaint")

    def journey_messages(self) -> None:
        self.add("_email.open", journey_id="j1", journey_activity_id="a1", feedback="opened")
        self.add(
            "_SMS.BUFFERED", journey_id="j1", iso_country_code="US", number_of_message_parts="1"
        )
        self.add(
            "_campaign.send", journey_id="j1", delivery_type="GCM", campaign_send_status="SUCCESS"
        )

    def app_events(self) -> None:
        self.add("_session.start")
        self.add("level.up", metrics={"score": 3.0}, campaign_id="not-a-message")


def deliver(rng: random.Random, endpoint: str, day: date) -> list[Sent]:
    sender = Sender(rng, endpoint, day)
    for campaign in rng.sample(CAMPAIGNS, rng.randrange(3)):
        rng.choice([sender.campaign_email, sender.campaign_push])(campaign)
    if rng.random() < 0.4:
        sender.sms(campaign_id=rng.choice(CAMPAIGNS))
    for _ in range(rng.randrange(3)):
        sender.sms()
    if rng.random() < 0.7:
        sender.transactional_email()
    if rng.random() < 0.2:
        sender.journey_messages()
    sender.app_events()
    return sender.events


def history(seed: int) -> list[list[Sent]]:
    """One list of events per endpoint and day: 25 endpoints, the range and the day before."""
    rng = random.Random(seed)
    return [
        deliver(rng, f"ep-{n}", day)
        for n in range(25)
        for day in [BEFORE, *DAYS]
        if rng.random() < 0.45
    ]


def request(events: list[Sent], tag: str) -> dict[str, Any]:
    """One endpoint's events of one day as a PutEvents BatchItem, timestamped at one moment:
    Pinpoint timestamps a message's outcomes with the send time."""
    moment = datetime.combine(events[0].day, datetime.min.time(), UTC) + timedelta(hours=13)
    return {
        events[0].endpoint: {
            "Endpoint": {},
            "Events": {
                f"{tag}-{n}": {
                    "EventType": e.event_type,
                    "Timestamp": moment.isoformat(),
                    "Attributes": e.attributes,
                    "Metrics": e.metrics,
                }
                for n, e in enumerate(events)
            },
        }
    }


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def events(db: Database) -> Events:
    endpoints = Endpoints(db, EndpointRepository(db), lambda: NOW)
    return Events(db, endpoints, lambda: NOW)


def put_all(events: Events, app_id: str, batches: list[list[Sent]]) -> None:
    for n, batch in enumerate(batches):
        result = events.put(app_id, request(batch, f"{app_id}-{n}"), f"r{n}", 1000, None)
        for item in result["Results"].values():
            assert {r["StatusCode"] for r in item["EventsItemResponse"].values()} == {202}


@pytest.fixture(scope="module")
def delivered(events: Events) -> tuple[str, list[Sent]]:
    """An app with delivery history, a neighbour app with another, and a resent batch."""
    app_id = f"app-{uuid.uuid4().hex}"
    batches = history(20261128)
    put_all(events, f"other-{app_id}", history(7))
    put_all(events, app_id, batches)
    put_all(events, app_id, batches[:5])
    return app_id, [e for batch in batches for e in batch]


def rows(db: Database, app_id: str, name: str) -> list[dict[str, Any]]:
    answer = kpis.date_range_kpi(db, app_id, name, START, END, NOW)
    assert (answer["KpiName"], answer["StartTime"], answer["EndTime"]) == (name, START, END)
    result: list[dict[str, Any]] = answer["KpiResult"]["Rows"]
    return result


# --- The definitions, worked out from the events sent ---------------------------------------

Group = str | None
Select = Callable[[Sent], bool]


def of(*types: str, sender: str = "transactional", **where: set[str]) -> Select:
    """Events of these types from transactional messages or from campaigns, optionally only
    those whose attributes take some values."""

    def select(e: Sent) -> bool:
        return (
            e.event_type in types
            and (e.transactional if sender == "transactional" else e.campaign is not None)
            and all(e.attributes.get(name) in values for name, values in where.items())
        )

    return select


def group_of(name: str, e: Sent) -> Group:
    if name.endswith("-grouped-by-date"):
        return e.day.isoformat()
    if name.endswith("-grouped-by-campaign"):
        return e.campaign
    if name.endswith("-grouped-by-country"):
        return e.attributes.get("iso_country_code")
    if name == "txn-sms-error-distribution":
        return e.attributes.get("record_status")
    return None


class Oracle:
    """Per KPI, the expected value of each group with data."""

    def __init__(self, name: str, sent: list[Sent]) -> None:
        self.name = name
        self.sent = [e for e in sent if e.day in DAYS]

    def groups(self, select: Select) -> dict[Group, list[Sent]]:
        """The selected events per group; those without the attribute grouped by are left
        out."""
        found: dict[Group, list[Sent]] = defaultdict(list)
        grouped = group_key(self.name) is not None
        for e in self.sent:
            group = group_of(self.name, e)
            if select(e) and (group or not grouped):
                found[group].append(e)
        return found

    def count(self, select: Select) -> dict[Group, float]:
        return {g: float(len(es)) for g, es in self.groups(select).items()}

    def rate(
        self, numerator: dict[Group, float], denominator: dict[Group, float]
    ) -> dict[Group, float]:
        return {g: numerator.get(g, 0.0) / d for g, d in denominator.items() if d > 0}

    def parts(self, select: Select) -> dict[Group, float]:
        return {
            g: float(sum(int(e.attributes["number_of_message_parts"]) for e in es))
            for g, es in self.groups(select).items()
        }

    def priced(self, select: Select) -> dict[Group, list[float]]:
        found: dict[Group, list[float]] = defaultdict(list)
        for g, es in self.groups(select).items():
            for e in es:
                if "price_in_millicents_usd" in e.metrics:
                    found[g].append(e.metrics["price_in_millicents_usd"])
        return found

    def spend(self, select: Select) -> dict[Group, float]:
        return {g: sum(prices) / 100_000 for g, prices in self.priced(select).items()}

    def distinct(self, select: Select, less: Select | None = None) -> dict[Group, float]:
        """Endpoints reached, less per day and campaign those matching ``less``."""
        taken_out = {(e.day, e.campaign, e.endpoint) for e in self.sent if less and less(e)}
        found: dict[Group, set[str]] = defaultdict(set)
        for g, es in self.groups(select).items():
            found[g] |= {e.endpoint for e in es if (e.day, e.campaign, e.endpoint) not in taken_out}
        return {g: float(len(endpoints)) for g, endpoints in found.items() if endpoints}


def expected(name: str, sent: list[Sent]) -> dict[Group, float]:
    o = Oracle(name, sent)
    base = name.removesuffix("-grouped-by-date").removesuffix("-grouped-by-campaign")
    base = base.removesuffix("-grouped-by-country")
    txn_counts = {
        "txn-emails-sent": "_email.send",
        "txn-emails-delivered": "_email.delivered",
        "txn-emails-opened": "_email.open",
        "txn-emails-clicked": "_email.click",
        "txn-emails-hard-bounced": "_email.hardbounce",
        "txn-emails-soft-bounced": "_email.softbounce",
        "txn-emails-with-complaints": "_email.complaint",
        "txn-sms-sent": "_SMS.BUFFERED",
        "txn-sms-delivered": "_SMS.SUCCESS",
        "txn-sms-error-distribution": "_SMS.FAILURE",
    }
    outcomes = ("_SMS.SUCCESS", "_SMS.FAILURE")
    sends = o.count(of("_campaign.send", sender="campaign"))
    bounces = o.count(of("_email.hardbounce", sender="campaign"))
    campaign_deliveries = {
        g: n - bounces.get(g, 0) for g, n in sends.items() if n > bounces.get(g, 0)
    }
    match base:
        case _ if base in txn_counts:
            return o.count(of(txn_counts[base]))
        case "txn-emails-delivery-rate":
            return o.rate(o.count(of("_email.delivered")), o.count(of("_email.send")))
        case "txn-emails-complaint-rate":
            return o.rate(o.count(of("_email.complaint")), o.count(of("_email.send")))
        case "txn-sms-delivery-rate":
            return o.rate(o.count(of("_SMS.SUCCESS")), o.count(of("_SMS.BUFFERED")))
        case "successful-delivery-rate":
            return o.rate(campaign_deliveries, sends)
        case "successful-deliveries":
            return campaign_deliveries
        case "email-open-rate":
            opens = o.count(of("_email.open", sender="campaign"))
            return o.rate(opens, o.count(of("_email.delivered", sender="campaign")))
        case "unique-deliveries":
            hard_bounces = of("_email.hardbounce", sender="campaign")
            return o.distinct(of("_campaign.send", sender="campaign"), less=hard_bounces)
        case "txn-emails-unique-opens":
            return o.distinct(of("_email.open"))
        case "txn-emails-unique-clicks":
            return o.distinct(of("_email.click"))
        case "push-open-rate":
            opened = o.count(of("_campaign.opened_notification", sender="campaign"))
            pushed = of(
                "_campaign.send",
                sender="campaign",
                campaign_send_status={"SUCCESS"},
                delivery_type=set(PUSH),
            )
            return o.rate(opened, o.count(pushed))
        case "sms-spend":
            return o.spend(of(*outcomes, sender="campaign"))
        case "txn-sms-sent-by-parts":
            return o.parts(of("_SMS.BUFFERED"))
        case "txn-sms-delivered-by-parts":
            return o.parts(of("_SMS.SUCCESS"))
        case "txn-sms-total-price":
            return o.spend(of(*outcomes))
        case "txn-sms-average-price":
            priced = {g: float(len(p)) for g, p in o.priced(of(*outcomes)).items()}
            return o.rate(o.spend(of(*outcomes)), priced)
        case "txn-sms-average-price-by-parts":
            return o.rate(o.spend(of(*outcomes)), o.parts(of(*outcomes)))
    raise AssertionError(f"no definition for {name}")


def value_key(name: str) -> str:
    return "".join(word.capitalize() for word in name.split("-grouped-by-")[0].split("-"))


def group_key(name: str) -> str | None:
    for suffix, key in [("date", "Date"), ("campaign", "CampaignId"), ("country", "Country")]:
        if name.endswith(f"-grouped-by-{suffix}"):
            return key
    return "ErrorCode" if name == "txn-sms-error-distribution" else None


# --- Tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(kpis.APPLICATION_KPIS))
def test_every_application_kpi_from_ingested_delivery_events(
    db: Database, delivered: tuple[str, list[Sent]], name: str
) -> None:
    app_id, sent = delivered
    want = expected(name, sent)
    assert want, f"the synthetic history should give {name} some data"
    got = rows(db, app_id, name)
    assert [row.get("GroupedBys") for row in got] == [
        [{"Key": group_key(name), "Type": "String", "Value": group}] if group else None
        for group in sorted(want, key=lambda g: g or "")
    ]
    assert [row["Values"][0]["Key"] for row in got] == [value_key(name)] * len(want)
    assert {row["Values"][0]["Type"] for row in got} == {"Double"}
    values = [float(row["Values"][0]["Value"]) for row in got]
    assert values == pytest.approx([want[g] for g in sorted(want, key=lambda g: g or "")])


@pytest.mark.parametrize("name", sorted(kpis.APPLICATION_KPIS))
def test_an_app_without_delivery_events_has_no_rows(
    db: Database, events: Events, name: str
) -> None:
    app_id = f"quiet-{uuid.uuid4().hex}"
    quiet = [Sent("ep-1", DAYS[2], "_session.start"), Sent("ep-1", DAYS[2], "level.up")]
    put_all(events, app_id, [quiet])
    assert rows(db, app_id, name) == []


def test_concurrent_batches_lose_no_endpoints(db: Database, events: Events) -> None:
    """Batches for different endpoints that start the same day's bitmap at the same time."""
    app_id = f"busy-{uuid.uuid4().hex}"
    sends = [
        [Sent(f"ep-{n}", DAYS[-1], "_campaign.send", {"campaign_id": "c1"})] for n in range(48)
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda batch: put_all(events, app_id, [batch]), sends))
    assert rows(db, app_id, "unique-deliveries")[0]["Values"][0]["Value"] == "48.0"


def test_deleting_an_app_deletes_its_message_rollups(db: Database, events: Events) -> None:
    app_id = f"gone-{uuid.uuid4().hex}"
    put_all(events, app_id, [[Sent("ep-1", DAYS[0], "_email.open", {"campaign_id": "c1"})]])
    AppRepository(db).delete(app_id)
    with db.read() as conn:
        for table in (daily_message_endpoints, daily_message_facts):
            count = sa.select(sa.func.count()).where(table.c.app_id == app_id)
            assert conn.execute(count).scalar() == 0
