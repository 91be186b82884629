"""Every campaign KPI, for a whole campaign and for each of its treatments, from campaign events
ingested the way PutEvents ingests them, on SQLite and PostgreSQL.

Two campaigns run several times a day in two treatments and send e-mail, push and SMS. Their
messages' events carry ``campaign_id``, ``treatment_id`` and ``campaign_activity_id`` as
Pinpoint's do; app sessions and purchases carry them when the SDK credits them to the campaign.
A neighbour app sends under the same campaign ids, and there are events a day before the range,
journey messages, transactional messages and uncredited app events, none of which may count.
Every expected row is worked out here from the list of events sent, with plain sets and sums,
straight from the definitions in the Developer Guide as docs/reports.md reads them.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from clarion.analytics import campaigns, kpis
from clarion.analytics.kpis import EndpointKpi, FactKpi, Grouping, Kpi, Quantity
from clarion.endpoints.service import Endpoints
from clarion.errors import BadRequest
from clarion.events.service import Events
from clarion.store.database import Database
from clarion.store.endpoints import EndpointRepository

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
DAYS = [START.date() + timedelta(days=n) for n in range(10)]
BEFORE = START.date() - timedelta(days=1)
CAMPAIGNS = ["c1", "c2"]
TREATMENTS = ["0", "1"]
PUSH = ["GCM", "APNS", "APNS_SANDBOX"]
ALL_KPIS = sorted({**campaigns.CAMPAIGN_KPIS, **campaigns.CREDITED_KPIS})


@dataclass(frozen=True)
class Sent:
    endpoint: str
    day: date
    event_type: str
    attributes: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def attribute(self, name: str) -> str | None:
        return self.attributes.get(name)


# --- Synthetic campaigns --------------------------------------------------------------------


def run_id(campaign: str, treatment: str, day: date, run: int) -> str:
    return f"{campaign}-t{treatment}-{day:%m%d}-r{run}"


class Recipient:
    """What one endpoint did on one day: campaign messages and their outcomes, app use."""

    def __init__(self, rng: random.Random, endpoint: str, day: date) -> None:
        self.rng = rng
        self.endpoint = endpoint
        self.day = day
        self.events: list[Sent] = []

    def add(self, event_type: str, attributes: dict[str, str], **metrics: float) -> None:
        self.events.append(Sent(self.endpoint, self.day, event_type, attributes, metrics))

    def campaign(self, campaign: str) -> None:
        treatment = self.rng.choice(TREATMENTS)
        context = {
            "campaign_id": campaign,
            "treatment_id": treatment,
            "campaign_activity_id": run_id(campaign, treatment, self.day, self.rng.randrange(2)),
        }
        self.rng.choice([self.email, self.push, self.sms])(context)

    def email(self, context: dict[str, str]) -> None:
        status = self.rng.choice(["SUCCESS"] * 4 + ["QUIET_TIME"])
        self.add(
            "_campaign.send",
            {**context, "delivery_type": "EMAIL", "campaign_send_status": status},
        )
        if status != "SUCCESS":
            return
        self.add("_email.send", context)
        outcome = self.rng.choice(["_email.delivered"] * 3 + ["_email.hardbounce"])
        self.add(outcome, context)
        if outcome == "_email.delivered":
            for _ in range(self.rng.randrange(3)):
                self.add("_email.open", context)
            for _ in range(self.rng.randrange(3)):
                self.add("_email.click", context)

    def push(self, context: dict[str, str]) -> None:
        status = self.rng.choice(["SUCCESS", "SUCCESS", "THROTTLED"])
        channel = self.rng.choice(PUSH)
        self.add(
            "_campaign.send",
            {**context, "delivery_type": channel, "campaign_send_status": status},
        )
        if status == "SUCCESS" and self.rng.random() < 0.6:
            self.opened(context)

    def opened(self, context: dict[str, str]) -> None:
        """After a push open the SDK adds the campaign's attributes to the session's events. A
        client may report only the campaign and treatment: such events count for the campaign
        and the treatment, but for no run."""
        credit = (
            context
            if self.rng.random() < 0.8
            else {name: value for name, value in context.items() if name != "campaign_activity_id"}
        )
        self.add("_campaign.opened_notification", credit)
        self.add("_session.start", credit)
        if self.rng.random() < 0.5:
            self.add(
                "_monetization.purchase",
                {**credit, "_currency": "USD", "_product_id": "p1"},
                _quantity=1.0,
                _item_price=2.5,
            )

    def sms(self, context: dict[str, str]) -> None:
        self.add(
            "_campaign.send",
            {**context, "delivery_type": "SMS", "campaign_send_status": "SUCCESS"},
        )
        parts = {"iso_country_code": "US", "number_of_message_parts": "1"}
        self.add("_SMS.BUFFERED", {**context, **parts})
        self.add("_SMS.SUCCESS", {**context, **parts}, price_in_millicents_usd=645.0)

    def background(self) -> None:
        """Transactional mail, journey messages and app use credited to no campaign."""
        self.add("_email.send", {})
        self.add("_email.open", {})
        self.add("_campaign.send", {"journey_id": "j1", "delivery_type": "GCM"})
        self.add("_email.open", {"journey_id": "j1", "treatment_id": "0"})
        self.add("_session.start", {})
        if self.rng.random() < 0.3:
            self.add("_monetization.purchase", {"_currency": "USD"}, _item_price=1.0)


def history(seed: int) -> list[list[Sent]]:
    """One list of events per endpoint and day: 30 endpoints, the range and the day before."""
    rng = random.Random(seed)
    batches = []
    for n in range(30):
        for day in [BEFORE, *DAYS]:
            if rng.random() < 0.5:
                continue
            recipient = Recipient(rng, f"ep-{n}", day)
            for campaign in rng.sample(CAMPAIGNS, rng.randrange(1, 3)):
                recipient.campaign(campaign)
            recipient.background()
            batches.append(recipient.events)
    return batches


def request(events: list[Sent], tag: str) -> dict[str, Any]:
    """A PutEvents BatchItem, timestamped at one moment: Pinpoint timestamps a message's
    outcomes with the send time."""
    moment = datetime.combine(events[0].day, datetime.min.time(), UTC) + timedelta(hours=9)
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
def sent(db: Database) -> tuple[str, list[Sent]]:
    """An app with campaign history, a neighbour app with another under the same campaign ids,
    and some batches sent twice (offline SDKs resend)."""
    endpoints = Endpoints(db, EndpointRepository(db), lambda: NOW)
    events = Events(db, endpoints, lambda: datetime.fromtimestamp(0, UTC))
    app_id = f"app-{uuid.uuid4().hex}"
    batches = history(20261128)
    for app, these in [(f"other-{app_id}", history(5)), (app_id, batches), (app_id, batches[:6])]:
        for n, batch in enumerate(these):
            result = events.put(app, request(batch, f"{app}-{n}"), f"r{n}", 1000, None)
            for item in result["Results"].values():
                assert {r["StatusCode"] for r in item["EventsItemResponse"].values()} == {202}
    return app_id, [e for batch in batches for e in batch]


# --- The definitions, worked out from the events sent ---------------------------------------

Group = str | None
Select = Callable[[Sent], bool]


def of(*types: str, **where: set[str]) -> Select:
    def select(e: Sent) -> bool:
        return e.event_type in types and all(
            e.attribute(name) in values for name, values in where.items()
        )

    return select


def group_of(name: str, e: Sent) -> Group:
    if name.endswith("-grouped-by-date"):
        return e.day.isoformat()
    if name.endswith("-grouped-by-campaign-activity"):
        return e.attribute("campaign_activity_id")
    return None


class Oracle:
    """Per KPI, the expected value of each group with data, over one campaign's (or one
    treatment's) events in the range."""

    def __init__(self, name: str, sent: list[Sent], campaign: str, treatment: str | None) -> None:
        self.name = name
        self.sent = [
            e
            for e in sent
            if e.day in DAYS
            and e.attribute("campaign_id") == campaign
            and (treatment is None or e.attribute("treatment_id") == treatment)
        ]

    def groups(self, select: Select) -> dict[Group, list[Sent]]:
        found: dict[Group, list[Sent]] = defaultdict(list)
        grouped = "-grouped-by-" in self.name
        for e in self.sent:
            group = group_of(self.name, e)
            if select(e) and (group or not grouped):
                found[group].append(e)
        return found

    def count(self, select: Select) -> dict[Group, float]:
        return {g: float(len(es)) for g, es in self.groups(select).items()}

    @staticmethod
    def rate(numerator: dict[Group, float], denominator: dict[Group, float]) -> dict[Group, float]:
        return {g: numerator.get(g, 0.0) / d for g, d in denominator.items() if d > 0}

    def distinct(self, select: Select, less: Select) -> dict[Group, float]:
        """Endpoints reached, less per day and sender (the run, when grouped by run) those
        matching ``less``."""
        by_run = self.name.endswith("-grouped-by-campaign-activity")

        def sender(e: Sent) -> str | None:
            return e.attribute("campaign_activity_id") if by_run else None

        taken_out = {(e.day, sender(e), e.endpoint) for e in self.sent if less(e)}
        found: dict[Group, set[str]] = defaultdict(set)
        for g, es in self.groups(select).items():
            found[g] |= {e.endpoint for e in es if (e.day, sender(e), e.endpoint) not in taken_out}
        return {g: float(len(endpoints)) for g, endpoints in found.items() if endpoints}


def expected(
    name: str, sent: list[Sent], campaign: str, treatment: str | None
) -> dict[Group, float]:
    o = Oracle(name, sent, campaign, treatment)
    sends = o.count(of("_campaign.send"))
    bounces = o.count(of("_email.hardbounce"))
    delivered = {g: n - bounces.get(g, 0) for g, n in sends.items() if n > bounces.get(g, 0)}
    counts = {
        "direct-email-opens": "_email.open",
        "clicks": "_email.click",
        "attempted-deliveries": "_campaign.send",
        "direct-push-opens": "_campaign.opened_notification",
        "sessions": "_session.start",
        "purchases": "_monetization.purchase",
    }
    base = name.split("-grouped-by-")[0]
    match base:
        case _ if base in counts:
            return o.count(of(counts[base]))
        case "hard-bounce-rate":
            return o.rate(bounces, o.count(of("_email.send")))
        case "successful-delivery-rate":
            return o.rate(delivered, sends)
        case "successful-deliveries":
            return delivered
        case "email-open-rate":
            return o.rate(o.count(of("_email.open")), o.count(of("_email.delivered")))
        case "unique-deliveries":
            return o.distinct(of("_campaign.send"), less=of("_email.hardbounce"))
        case "push-open-rate":
            pushed = of("_campaign.send", campaign_send_status={"SUCCESS"}, delivery_type=set(PUSH))
            return o.rate(o.count(of("_campaign.opened_notification")), o.count(pushed))
    raise AssertionError(f"no definition for {name}")


def group_key(name: str) -> str | None:
    if name.endswith("-grouped-by-date"):
        return "Date"
    if name.endswith("-grouped-by-campaign-activity"):
        return "CampaignActivityId"
    return None


def assert_rows(name: str, got: list[dict[str, Any]], want: dict[Group, float]) -> None:
    order = sorted(want, key=lambda g: g or "")
    assert [row.get("GroupedBys") for row in got] == [
        [{"Key": group_key(name), "Type": "String", "Value": group}] if group else None
        for group in order
    ]
    key = "".join(word.capitalize() for word in name.split("-grouped-by-")[0].split("-"))
    assert [row["Values"][0]["Key"] for row in got] == [key] * len(want)
    assert {row["Values"][0]["Type"] for row in got} <= {"Double"}
    values = [float(row["Values"][0]["Value"]) for row in got]
    assert values == pytest.approx([want[g] for g in order])


# --- Tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("campaign", CAMPAIGNS)
@pytest.mark.parametrize("name", ALL_KPIS)
def test_every_campaign_kpi_from_ingested_events(
    db: Database, sent: tuple[str, list[Sent]], name: str, campaign: str
) -> None:
    app_id, events = sent
    want = expected(name, events, campaign, None)
    assert want, f"the synthetic history should give {name} some data"
    answer = campaigns.date_range_kpi(db, app_id, campaign, name, START, END, NOW)
    assert {k: answer[k] for k in ("ApplicationId", "CampaignId", "KpiName")} == {
        "ApplicationId": app_id,
        "CampaignId": campaign,
        "KpiName": name,
    }
    assert (answer["StartTime"], answer["EndTime"]) == (START, END)
    assert_rows(name, answer["KpiResult"]["Rows"], want)


@pytest.mark.parametrize("treatment", TREATMENTS)
@pytest.mark.parametrize("name", ALL_KPIS)
def test_every_campaign_kpi_for_one_treatment(
    db: Database, sent: tuple[str, list[Sent]], name: str, treatment: str
) -> None:
    app_id, events = sent
    want = expected(name, events, "c1", treatment)
    assert want, f"the synthetic history should give {name} some data"
    query = {"start-time": "2026-11-18T00:00:00Z", "end-time": "2026-11-27T23:59:59Z"}
    answer = campaigns.treatment_kpi(db, app_id, "c1", treatment, name, query, NOW)
    assert answer["TreatmentId"] == treatment
    assert (answer["StartTime"], answer["EndTime"]) == (
        "2026-11-18T00:00:00.000Z",
        "2026-11-27T23:59:59.000Z",
    )
    assert_rows(name, answer["KpiResult"]["Rows"], want)


def test_a_treatment_that_sent_nothing_has_no_rows(
    db: Database, sent: tuple[str, list[Sent]]
) -> None:
    app_id, _ = sent
    for name in ALL_KPIS:
        answer = campaigns.treatment_kpi(db, app_id, "c1", "7", name, {}, NOW)
        assert answer["KpiResult"]["Rows"] == [], name


def test_a_campaign_that_sent_nothing_has_no_rows(
    db: Database, sent: tuple[str, list[Sent]]
) -> None:
    app_id, _ = sent
    for name in ALL_KPIS:
        answer = campaigns.date_range_kpi(db, app_id, "c-quiet", name, START, END, NOW)
        assert answer["KpiResult"]["Rows"] == [], name


def test_names_and_ranges_are_checked(db: Database) -> None:
    for name in ["txn-emails-sent", "unique-deliveries-grouped-by-campaign", "sms-spend", "x"]:
        with pytest.raises(BadRequest, match="not a campaign metric"):
            campaigns.campaign_kpi(name)
    for query, error in [
        ({"start-time": "2026-10-01T00:00:00Z"}, "at most 31"),
        (
            {"start-time": "2026-08-01T00:00:00Z", "end-time": "2026-08-02T00:00:00"},
            "fewer than 90",
        ),
        ({"start-time": "2026-11-20T00:00:00Z", "end-time": "2026-11-19T00:00:00Z"}, "before"),
        ({"start-time": "yesterday"}, "start-time must be an ISO 8601"),
    ]:
        with pytest.raises(BadRequest, match=error):
            campaigns.treatment_kpi(db, "a", "c", "0", "sessions", query, NOW)


def test_documented_names_and_what_they_read() -> None:
    """The Developer Guide's campaign metrics, exactly; campaign-wide terms only; and message
    counts only where a metric reads raw events, which carry no SMS parts or prices."""
    assert set(campaigns.CAMPAIGN_KPIS) == {
        "attempted-deliveries-grouped-by-campaign-activity",
        "clicks-grouped-by-campaign-activity",
        "direct-email-opens-grouped-by-campaign-activity",
        "direct-push-opens-grouped-by-campaign-activity",
        "email-open-rate",
        "email-open-rate-grouped-by-campaign-activity",
        "hard-bounce-rate",
        "hard-bounce-rate-grouped-by-campaign-activity",
        "push-open-rate",
        "push-open-rate-grouped-by-campaign-activity",
        "successful-deliveries-grouped-by-campaign-activity",
        "successful-delivery-rate",
        "successful-delivery-rate-grouped-by-campaign-activity",
        "successful-delivery-rate-grouped-by-date",
        "unique-deliveries",
        "unique-deliveries-grouped-by-campaign-activity",
        "unique-deliveries-grouped-by-date",
    }
    for kpi in [*campaigns.CAMPAIGN_KPIS.values(), *campaigns.CREDITED_KPIS.values()]:
        if isinstance(kpi, Kpi):
            assert {term.attribute for term in kpi.terms} == {kpis.CAMPAIGN_ID}, kpi.name
        if isinstance(kpi, FactKpi):
            sums = [kpi.numerator, *([kpi.denominator] if kpi.denominator else [])]
            assert {s.quantity for s in sums} == {Quantity.MESSAGES}, kpi.name
        assert isinstance(kpi, Kpi | FactKpi | EndpointKpi)
        if kpi.name.endswith("-grouped-by-campaign-activity"):
            assert kpi.grouping is Grouping.CAMPAIGN_ACTIVITY


def test_raw_campaign_events_are_read_through_the_type_and_time_index(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL's plan depends on table statistics; SQLite's does not")
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        if "events.timestamp_ms" in args[2]:
            seen.append((args[2], args[3]))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        campaigns.treatment_kpi(db, "app", "c1", "0", "unique-deliveries", {}, NOW)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    [(statement, parameters)] = seen
    with db.read() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert "ix_events_app_type_time" in " ".join(row[-1] for row in plan)
