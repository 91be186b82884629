"""Engagement reports and application KPIs on a large store: 100,000 endpoints x 90 days.

The store is loaded in this process through Clarion's own code: ``Endpoints.apply`` for the
endpoints and ``Events.record`` for about 10 million events, so the rollups are exactly what
ingestion leaves. Then ``clarion serve`` runs on it and every engagement report and application
KPI is timed over signed HTTP: the median of ``--runs`` requests after one warm-up, against the
issue's target of 50 ms each.

Beside each, a naive SQL query over the raw ``events`` table answers the same question (for
demographics, which describe endpoints, over the ``endpoints`` table), run in this process on
its own SQLite connection while the server is idle; the table shows its time, the ratio, and
whether the two answers agree.

Ninety days of activity ending yesterday: each day about a fifth of the endpoints are active,
new ones joining (many at launch, then steadily) and earlier ones coming back according to
their habits, so retention means something. An active endpoint has a session or two of custom
events with attributes and metrics, an occasional purchase, and some get an email, a campaign
message or an SMS, so the messaging KPIs have something to count.

    .venv/bin/python bench/reports.py [--endpoints 100000] [--days 90] [--runs 5]
    .venv/bin/python bench/reports.py --endpoints 10000 --days 20      # a quick run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from clarion.config import load_settings
from clarion.core import Clarion as Core
from clarion.endpoints.rules import endpoint_id_key
from clarion.endpoints.service import Update
from clarion.events import rules
from clarion.events.service import Accepted
from clarion.store.endpoints import EndpointWriter

sys.path.insert(0, str(Path(__file__).parent))
from harness import Clarion, clarion_server

TARGET_MS = 50.0
ENDPOINTS_PER_TRANSACTION = 5_000
ENDPOINTS_PER_RECORD = 4_000
"""Events.record is called for this many endpoints' events of a day (about 22,000 events);
a day's calls share one transaction."""
SLOW_BUDGET_S = 20.0
"""A request is repeated fewer than --runs times once its timed runs add up to this."""
ACTIVE_SHARE = 5
"""About one endpoint in five is active on a day (20,000 of 100,000)."""

T = TypeVar("T")
Row = dict[str, Any]
Answer = list[tuple[Any, ...]]


# --- The endpoints ---------------------------------------------------------------------------

PLATFORMS: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    # platform: (channel, SDK name, (make, model) choices)
    "ios": ("APNS", "aws-amplify-swift", (("Apple", "iPhone15,2"), ("Apple", "iPhone14,5"))),
    "android": (
        "GCM",
        "aws-sdk-android",
        (("Samsung", "SM-S911B"), ("Google", "Pixel 8"), ("Xiaomi", "2201116SG")),
    ),
    "web": ("EMAIL", "aws-amplify-js", (("Mozilla", "Firefox"), ("Google", "Chrome"))),
}
PLATFORM_WEIGHTS = {"ios": 45, "android": 48, "web": 7}
APP_VERSIONS = ("3.2.1", "3.2.0", "3.1.4", "3.0.9", "2.9.0")
APP_VERSION_WEIGHTS = (40, 25, 18, 12, 5)
LOCALES = (
    ("en_US", "US", "America/New_York", "New York"),
    ("en_GB", "GB", "Europe/London", "London"),
    ("de_DE", "DE", "Europe/Berlin", "Berlin"),
    ("fr_FR", "FR", "Europe/Paris", "Paris"),
    ("es_MX", "MX", "America/Mexico_City", "Mexico City"),
    ("pt_BR", "BR", "America/Sao_Paulo", "Sao Paulo"),
    ("ja_JP", "JP", "Asia/Tokyo", "Tokyo"),
    ("en_IN", "IN", "Asia/Kolkata", "Mumbai"),
)
LOCALE_WEIGHTS = (30, 10, 10, 8, 8, 10, 9, 15)
PLANS = ("free", "plus", "pro")
PLAN_WEIGHTS = (70, 20, 10)
INTERESTS = ("sports", "music", "travel", "food", "games", "tech", "fashion", "movies")
DEMOGRAPHIC_ATTRIBUTE = "Interests"


@dataclass(frozen=True)
class Device:
    """What an endpoint's events say about it: the app that sent them, the channel and
    country its messages go to."""

    sdk_name: str
    app_version: str
    channel: str
    country: str


def endpoint_id(number: int) -> str:
    return f"device-{number:06d}"


def endpoint_request(number: int, rng: random.Random) -> tuple[dict[str, Any], Device]:
    platform = rng.choices(list(PLATFORM_WEIGHTS), list(PLATFORM_WEIGHTS.values()))[0]
    channel, sdk_name, devices = PLATFORMS[platform]
    make, model = rng.choice(devices)
    version = rng.choices(APP_VERSIONS, APP_VERSION_WEIGHTS)[0]
    locale, country, timezone, city = rng.choices(LOCALES, LOCALE_WEIGHTS)[0]
    address = f"user{number}@example.com" if channel == "EMAIL" else f"{rng.getrandbits(256):064x}"
    request = {
        "ChannelType": channel,
        "Address": address,
        "Attributes": {
            "Plan": [rng.choices(PLANS, PLAN_WEIGHTS)[0]],
            DEMOGRAPHIC_ATTRIBUTE: rng.sample(INTERESTS, rng.randint(1, 3)),
        },
        "Demographic": {
            "Platform": platform,
            "AppVersion": version,
            "Make": make,
            "Model": model,
            "Locale": locale,
            "Timezone": timezone,
        },
        "Location": {"Country": country, "City": city},
        "Metrics": {"lifetime_purchases": float(rng.randrange(20))},
        "User": {"UserId": f"user-{number}"},
    }
    return request, Device(sdk_name, version, channel, country)


def load_endpoints(core: Core, app_id: str, count: int, rng: random.Random) -> list[Device]:
    """Create the endpoints with ``Endpoints.apply``, a few thousand per transaction."""
    devices: list[Device] = []
    for numbers in batched(range(count), ENDPOINTS_PER_TRANSACTION):
        updates = []
        for number in numbers:
            request, device = endpoint_request(number, rng)
            updates.append(Update(endpoint_id(number), request, f"Item[{number}]"))
            devices.append(device)
        with core.db.write() as conn:
            core.endpoints.apply(EndpointWriter(conn, app_id), updates, f"bench-{numbers[0]}")
    return devices


# --- Who is active when ----------------------------------------------------------------------

HABITS = (0.0, 0.08, 0.35, 0.9)
"""How readily an endpoint comes back: never, now and then, often, nearly daily."""
HABIT_WEIGHTS = (30, 40, 20, 10)
LAUNCH_SHARE = 0.35
"""The share of endpoints that arrive in the first days (mean three days after the start)."""


@dataclass(frozen=True)
class Population:
    join_day: list[int]
    """The day each endpoint is first active, by endpoint number: non-decreasing, as ordinals
    are handed out in order of arrival."""
    habit: list[float]


def population(endpoints: int, days: int, rng: random.Random) -> Population:
    def join_day() -> int:
        if rng.random() < LAUNCH_SHARE:
            return min(days - 1, int(rng.expovariate(1 / 3)))
        return rng.randrange(days)

    joins = sorted(join_day() for _ in range(endpoints))
    habits = rng.choices(HABITS, HABIT_WEIGHTS, k=endpoints)
    return Population(joins, habits)


def active_by_day(people: Population, days: int, rng: random.Random) -> Iterator[list[int]]:
    """For each day, the endpoints active on it, in endpoint order: that day's newcomers, and
    earlier ones drawn by habit, scaled so the day has about a fifth of all endpoints."""
    target = len(people.join_day) // ACTIVE_SHARE
    returning: list[int] = []
    habits = 0.0
    arrived = 0
    for day in range(days):
        start = arrived
        while arrived < len(people.join_day) and people.join_day[arrived] == day:
            arrived += 1
        new = range(start, arrived)
        scale = max(0, target - len(new)) / habits if habits else 0.0
        back = [e for e in returning if rng.random() < people.habit[e] * scale]
        yield back + list(new)
        returning.extend(e for e in new if people.habit[e] > 0)
        habits += sum(people.habit[e] for e in new)


# --- One endpoint's day of events ------------------------------------------------------------

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SCREENS = ("home", "shop", "game", "settings", "profile", "inbox", "search", "cart")
CATEGORIES = ("shoes", "books", "games", "music", "garden", "toys")
BUTTONS = ("play", "buy", "share", "like", "close", "next")
CAMPAIGNS = tuple(f"campaign-{n}" for n in range(1, 6))
JOURNEYS = ("journey-onboarding", "journey-winback")
SMS_FAILURES = ("UNREACHABLE", "CARRIER_BLOCKED", "INVALID", "TTL_EXPIRED")
CURRENCIES = ("USD", "EUR")
CURRENCY_WEIGHTS = (70, 30)
METRIC_REPORT = ("screen.view", "duration_ms")
ATTRIBUTE_REPORT = ("screen.view", "screen")

Event = dict[str, Any]


def stamp(day: str, ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{day}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def custom_event(rng: random.Random) -> tuple[str, dict[str, str], dict[str, float]]:
    kind = rng.random()
    if kind < 0.4:
        attributes = {"screen": rng.choice(SCREENS), "ab": rng.choice("ab")}
        return "screen.view", attributes, {"duration_ms": float(rng.randrange(200, 60_000))}
    if kind < 0.65:
        attributes = {"category": rng.choice(CATEGORIES), "ab": rng.choice("ab")}
        return "item.view", attributes, {"price": round(rng.uniform(1, 200), 2)}
    if kind < 0.85:
        return "button.tap", {"button": rng.choice(BUTTONS), "screen": rng.choice(SCREENS)}, {}
    metrics = {"score": float(rng.randrange(10_000)), "duration_ms": float(rng.randrange(90_000))}
    return "level.up", {"level": f"L{rng.randrange(1, 60)}"}, metrics


def session_events(
    rng: random.Random, day: str, session_id: str, start: int
) -> tuple[list[Event], int]:
    """A session: start, one to five custom events, maybe a purchase, stop; and when it
    stopped (ms into the day)."""
    session = {"Id": session_id, "StartTimestamp": stamp(day, start)}
    found: list[Event] = [{"EventType": "_session.start", "Timestamp": stamp(day, start)}]
    moment = start
    for _ in range(rng.randint(1, 5)):
        moment += rng.randrange(5_000, 120_000)
        event_type, attributes, metrics = custom_event(rng)
        event: Event = {"EventType": event_type, "Timestamp": stamp(day, moment)}
        event |= {"Attributes": attributes} if attributes else {}
        event |= {"Metrics": metrics} if metrics else {}
        found.append(event)
    if rng.random() < 0.04:
        moment += rng.randrange(5_000, 60_000)
        found.append(
            {
                "EventType": rules.PURCHASE,
                "Timestamp": stamp(day, moment),
                "Attributes": {
                    "_currency": rng.choices(CURRENCIES, CURRENCY_WEIGHTS)[0],
                    "_product_id": f"product-{rng.randrange(40)}",
                },
                "Metrics": {"_item_price": rng.choice((0.99, 1.99, 4.99, 9.99)), "_quantity": 1.0},
            }
        )
    stop = moment + rng.randrange(1_000, 60_000)
    found.append({"EventType": "_session.stop", "Timestamp": stamp(day, stop)})
    for event in found:
        event["Session"] = session
    found[-1]["Session"] = {
        **session,
        "StopTimestamp": stamp(day, stop),
        "Duration": stop - start,
    }
    return found, stop


Sent = list[tuple[str, dict[str, str], float | None]]
"""Message events: type, its own attributes, and a price for SMS outcomes."""


def email_events(rng: random.Random) -> list[str]:
    """What Pinpoint records about one email: send, then a bounce or delivery, opens, clicks."""
    outcome = rng.random()
    if outcome < 0.03:
        return ["_email.send", "_email.hardbounce"]
    if outcome < 0.05:
        return ["_email.send", "_email.softbounce"]
    found = ["_email.send", "_email.delivered"]
    if rng.random() < 0.3:
        found.append("_email.open")
        if rng.random() < 0.35:
            found.append("_email.click")
    if rng.random() < 0.005:
        found.append("_email.complaint")
    return found


def sms_events(rng: random.Random, country: str) -> Sent:
    """An SMS as Pinpoint's event stream has it: buffered, then delivered or failed with a
    record status; the outcome carries the price in millicents of a US dollar."""
    parts = rng.choices((1, 2, 3), (80, 15, 5))[0]
    common = {"iso_country_code": country, "number_of_message_parts": str(parts)}
    price = 645.0 * parts
    buffered = ("_SMS.BUFFERED", {**common, "record_status": "SUCCESSFUL"}, None)
    if rng.random() < 0.92:
        return [buffered, ("_SMS.SUCCESS", {**common, "record_status": "DELIVERED"}, price)]
    status = rng.choice(SMS_FAILURES)
    return [buffered, ("_SMS.FAILURE", {**common, "record_status": status}, price)]


def campaign_send(rng: random.Random, channel: str, opened: float) -> Sent:
    """A campaign's message handed to a channel, and for push sometimes the tap on it."""
    status = "SUCCESS" if rng.random() < 0.97 else "TEMPORARY_FAILURE"
    sent: Sent = [
        ("_campaign.send", {"delivery_type": channel, "campaign_send_status": status}, None)
    ]
    if status == "SUCCESS" and rng.random() < opened:
        sent.append(("_campaign.opened_notification", {}, None))
    return sent


def message_events(rng: random.Random, day: str, device: Device) -> list[Event]:
    """Some active endpoints get a message: a transactional email (8%), a campaign email (3%)
    or push notification (3%, devices only), a transactional (3%) or campaign (1%) SMS, or a
    journey's email (1%)."""
    campaign = {"campaign_id": rng.choice(CAMPAIGNS), "treatment_id": "0"}
    kind = rng.random()
    sender: dict[str, str] = {}
    sent: Sent
    if kind < 0.08:
        sent = [(t, {}, None) for t in email_events(rng)]
    elif kind < 0.11:
        sender = campaign
        sent = campaign_send(rng, "EMAIL", 0) + [(t, {}, None) for t in email_events(rng)]
    elif kind < 0.14:
        if device.channel == "EMAIL":
            return []
        sender = campaign
        sent = campaign_send(rng, device.channel, 0.1)
    elif kind < 0.17:
        sender = {"message_type": "TRANSACTIONAL"}
        sent = sms_events(rng, device.country)
    elif kind < 0.18:
        sender = campaign
        sent = sms_events(rng, device.country)
    elif kind < 0.19:
        sender = {"journey_id": rng.choice(JOURNEYS)}
        sent = [(t, {}, None) for t in email_events(rng)]
    else:
        return []
    moment = rng.randrange(DAY_MS - 12 * HOUR_MS)
    found: list[Event] = []
    for event_type, attributes, price in sent:
        event: Event = {"EventType": event_type, "Timestamp": stamp(day, moment)}
        if sender or attributes:
            event["Attributes"] = {**sender, **attributes}
        if price is not None:
            event["Metrics"] = {"price_in_millicents_usd": price}
        found.append(event)
        moment += rng.randrange(1_000, HOUR_MS)
    return found


def endpoint_day(
    rng: random.Random, number: int, day_index: int, day: str, device: Device
) -> list[tuple[str, Event]]:
    """One endpoint's events of a day, with ids unique for the endpoint: a session, sometimes
    a second one an hour or more later, and perhaps a message."""
    events, stop = session_events(
        rng, day, f"{number:x}-{day_index}-0", rng.randrange(DAY_MS - 6 * HOUR_MS)
    )
    if rng.random() < 0.15 and stop + HOUR_MS < DAY_MS - HOUR_MS:
        start = rng.randrange(stop + HOUR_MS, DAY_MS - HOUR_MS)
        events += session_events(rng, day, f"{number:x}-{day_index}-1", start)[0]
    envelope = {
        "AppPackageName": "com.example.clarion",
        "AppTitle": "Clarion Bench",
        "AppVersionCode": device.app_version,
        "ClientSdkVersion": "2.17.0",
        "SdkName": device.sdk_name,
    }
    events = [{**envelope, **e} for e in events] + message_events(rng, day, device)
    return [(f"{day_index}.{n}", event) for n, event in enumerate(events)]


# --- Loading the events ----------------------------------------------------------------------


@dataclass
class Load:
    events: int = 0
    daily_active: list[int] = field(default_factory=list)
    generating_s: float = 0.0
    """Building the events and checking them with rules.check_event."""
    storing_s: float = 0.0
    """Events.record and the commit."""


def load_events(
    core: Core,
    app_id: str,
    devices: Sequence[Device],
    first_day: date,
    days: int,
    rng: random.Random,
) -> Load:
    """Feed each day's events through ``Events.record``, one transaction a day."""
    load = Load()
    people = population(len(devices), days, rng)
    keys = [endpoint_id_key(endpoint_id(n)) for n in range(len(devices))]
    for day_index, active in enumerate(active_by_day(people, days, rng)):
        day = (first_day + timedelta(days=day_index)).isoformat()
        load.daily_active.append(len(active))
        started = time.perf_counter()
        with core.db.write() as conn:
            for numbers in batched(active, ENDPOINTS_PER_RECORD):
                generated = time.perf_counter()
                candidates = [
                    Accepted(endpoint_id(n), keys[n], event_id, event, rules.check_event(event))
                    for n in numbers
                    for event_id, event in endpoint_day(rng, n, day_index, day, devices[n])
                ]
                load.generating_s += time.perf_counter() - generated
                refused = core.events.record(conn, app_id, candidates)
                assert not refused, "no event type should be over the quota"
                load.events += len(candidates)
        load.storing_s += time.perf_counter() - started
    load.storing_s -= load.generating_s
    return load


# --- Signed HTTP -----------------------------------------------------------------------------


def signed_headers(method: str, url: str, body: bytes, credentials: Credentials) -> dict[str, str]:
    request = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/json"}
    )
    SigV4Auth(credentials, "mobiletargeting", "us-east-1").add_auth(request)
    return dict(request.prepare().headers.items())


@dataclass(frozen=True)
class Reply:
    status: int
    error: str
    body: Any
    seconds: float


def send(http: httpx.Client, server: Clarion, method: str, url: str, body: bytes = b"") -> Reply:
    """One signed request, timed from sending to the parsed answer (signing not included)."""
    headers = signed_headers(method, url, body, server.credentials)
    started = time.perf_counter()
    response = http.request(method, url, content=body, headers=headers)
    answer = response.json()
    seconds = time.perf_counter() - started
    return Reply(
        response.status_code, response.headers.get("x-amzn-errortype", ""), answer, seconds
    )


# --- Cases: a report or KPI, and its naive query ---------------------------------------------


@dataclass(frozen=True)
class Naive:
    """A query over raw events answering what a report answers, and both answers put in one
    shape: a list of tuples, compared with a float tolerance."""

    sql: str
    params: Mapping[str, Any]
    reshape: Callable[[list[tuple[Any, ...]]], Answer]
    clarion: Callable[[Any], Answer]


@dataclass(frozen=True)
class Outcome:
    label: str
    rows: int | None = None
    clarion_ms: float | None = None
    runs: int = 0
    naive_ms: float | None = None
    agrees: bool | None = None
    note: str = ""
    """Why there is no time (an error), or where the answers differ."""


Timed = tuple[Outcome, Naive | None, Any]
"""A timed request, the naive query to compare with, and Clarion's answer (None on error)."""


def rows_of(answer: Any) -> list[Row]:
    rows: list[Row] = answer["Rows"]
    return rows


def as_is(rows: list[tuple[Any, ...]]) -> Answer:
    return rows


def difference(clarion: Answer, naive: Answer) -> str | None:
    """None when the answers agree (floats to nine significant digits), otherwise the first
    row where they part."""

    def equal(a: Any, b: Any) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)
        return bool(a == b)

    ours, theirs = sorted(clarion, key=repr), sorted(naive, key=repr)
    for x, y in zip(ours, theirs, strict=False):
        if len(x) != len(y) or not all(equal(a, b) for a, b in zip(x, y, strict=True)):
            return f"Clarion {x} / naive {y}"
    if len(ours) != len(theirs):
        return f"Clarion has {len(ours)} rows, naive {len(theirs)}"
    return None


def run_naive(db_path: Path, naive: Naive, runs: int) -> tuple[float, Answer]:
    timings = []
    answer: Answer = []
    for _ in range(runs):
        with closing(sqlite3.connect(db_path)) as conn:
            conn.execute("PRAGMA query_only = 1")
            started = time.perf_counter()
            answer = naive.reshape(conn.execute(naive.sql, dict(naive.params)).fetchall())
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000, answer


# The naive queries. Days are 'YYYY-MM-DD' text, so they compare and sort as dates.

ACTIVE_USERS_SQL = """
WITH active AS MATERIALIZED (
    SELECT DISTINCT day, endpoint_key FROM events
    WHERE app_id = :app AND day BETWEEN date(:first, '-29 days') AND :last
),
first_days AS MATERIALIZED (
    SELECT MIN(day) AS day FROM events WHERE app_id = :app GROUP BY endpoint_key
),
new_users AS (
    SELECT day, COUNT(*) AS endpoints FROM first_days
    WHERE day BETWEEN :first AND :last GROUP BY day
)
SELECT d.day,
       COUNT(DISTINCT CASE WHEN a.day = d.day THEN a.endpoint_key END),
       COUNT(DISTINCT CASE WHEN a.day > date(d.day, '-7 days') THEN a.endpoint_key END),
       COUNT(DISTINCT a.endpoint_key),
       COALESCE(MAX(n.endpoints), 0)
FROM (SELECT DISTINCT day FROM active WHERE day BETWEEN :first AND :last) AS d
JOIN active AS a ON a.day BETWEEN date(d.day, '-29 days') AND d.day
LEFT JOIN new_users AS n ON n.day = d.day
GROUP BY d.day
"""

SESSIONS_SQL = """
WITH per_day AS MATERIALIZED (
    SELECT day, SUM(event_type = '_session.start') AS sessions,
           COUNT(DISTINCT endpoint_key) AS users
    FROM events WHERE app_id = :app AND day BETWEEN :first AND :last
    GROUP BY day
),
lengths AS MATERIALIZED (
    SELECT MIN(day) AS day, MAX(timestamp_ms) - MIN(timestamp_ms) AS ms
    FROM events
    WHERE app_id = :app AND day BETWEEN :first AND :last
      AND event_type IN ('_session.start', '_session.stop')
    GROUP BY endpoint_key, session_id HAVING COUNT(*) = 2
)
SELECT p.day, p.sessions, p.sessions * 1.0 / p.users, COALESCE(AVG(l.ms), 0) / 1000.0
FROM per_day AS p LEFT JOIN lengths AS l ON l.day = p.day
WHERE p.sessions > 0
GROUP BY p.day
"""

RETENTION_SQL = """
WITH active AS MATERIALIZED (
    SELECT DISTINCT endpoint_key, day FROM events
    WHERE app_id = :app AND day <= date(:last, '+30 days')
),
cohorts AS MATERIALIZED (
    SELECT endpoint_key, MIN(day) AS cohort FROM active GROUP BY endpoint_key
)
SELECT c.cohort,
       COUNT(DISTINCT c.endpoint_key),
       COUNT(DISTINCT CASE WHEN a.day > c.cohort AND a.day <= date(c.cohort, '+7 days')
                           THEN a.endpoint_key END),
       COUNT(DISTINCT CASE WHEN a.day > c.cohort AND a.day <= date(c.cohort, '+14 days')
                           THEN a.endpoint_key END),
       COUNT(DISTINCT CASE WHEN a.day > c.cohort AND a.day <= date(c.cohort, '+30 days')
                           THEN a.endpoint_key END)
FROM cohorts AS c JOIN active AS a ON a.endpoint_key = c.endpoint_key
WHERE c.cohort BETWEEN :first AND :last
GROUP BY c.cohort
"""

FIELD_SQL = """
SELECT json_extract(document, :path) AS value, COUNT(*) FROM endpoints
WHERE app_id = :app AND value IS NOT NULL GROUP BY value
"""

ATTRIBUTE_SQL = """
SELECT item.value, COUNT(DISTINCT e.ordinal)
FROM endpoints AS e, json_each(e.document, :path) AS item
WHERE e.app_id = :app GROUP BY item.value
"""

EVENT_COUNT_SQL = """
SELECT day, COUNT(*) FROM events
WHERE app_id = :app AND event_type = :type AND day BETWEEN :first AND :last
GROUP BY day
"""

EVENT_ATTRIBUTE_SQL = """
SELECT day, json_extract(event, :path) AS value, COUNT(*) FROM events
WHERE app_id = :app AND event_type = :type AND day BETWEEN :first AND :last
  AND value IS NOT NULL
GROUP BY day, value
"""

EVENT_METRIC_SQL = """
SELECT day, COUNT(value), MIN(value), MAX(value), AVG(value),
       SUM(value) / NULLIF(SUM(event_type = '_session.start'), 0)
FROM (
    SELECT day, event_type,
           CASE WHEN event_type = :type THEN json_extract(event, :path) END AS value
    FROM events
    WHERE app_id = :app AND day BETWEEN :first AND :last
      AND event_type IN (:type, '_session.start')
)
GROUP BY day HAVING COUNT(value) > 0
"""

REVENUE_SQL = """
SELECT day, currency, COUNT(*), SUM(quantity), SUM(price * quantity)
FROM (
    SELECT day,
           COALESCE(json_extract(event, '$.Attributes._currency'), 'UNKNOWN') AS currency,
           COALESCE(json_extract(event, '$.Metrics._quantity'), 1.0) AS quantity,
           COALESCE(json_extract(event, '$.Metrics._item_price'), 0.0) AS price
    FROM events
    WHERE app_id = :app AND event_type = '_monetization.purchase'
      AND day BETWEEN :first AND :last
)
GROUP BY day, currency
"""


def funnel_sql(steps: int) -> str:
    """Endpoints reaching each step. A chain starts at every step-1 event in the range and
    takes the earliest event of the next step strictly after its last one (the earliest
    leaves the most room for the steps after), as long as it stays within the window of its
    step-1 event. The next step's time comes from a running MIN over the endpoint's chain
    points and step events, in reverse time order."""
    ctes = [
        "chain1 AS MATERIALIZED (SELECT endpoint_key, timestamp_ms AS t1, timestamp_ms AS t"
        " FROM events WHERE app_id = :app AND event_type = :step1"
        " AND timestamp_ms >= :start_ms AND timestamp_ms < :end_ms)"
    ]
    for k in range(2, steps + 1):
        ctes.append(
            f"chain{k} AS MATERIALIZED (SELECT endpoint_key, t1, next AS t FROM ("
            " SELECT endpoint_key, t1, is_step, MIN(CASE WHEN is_step THEN t END) OVER ("
            "  PARTITION BY endpoint_key ORDER BY t DESC, is_step"
            "  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS next"
            f" FROM (SELECT endpoint_key, t1, t, 0 AS is_step FROM chain{k - 1}"
            "  UNION ALL SELECT endpoint_key, NULL, timestamp_ms, 1 FROM events"
            f"  WHERE app_id = :app AND event_type = :step{k}"
            "  AND timestamp_ms > :start_ms AND timestamp_ms < :end_ms + :window_ms))"
            " WHERE NOT is_step AND next <= t1 + :window_ms)"
        )
    counts = ", ".join(
        f"(SELECT COUNT(DISTINCT endpoint_key) FROM chain{k})" for k in range(1, steps + 1)
    )
    return f"WITH {', '.join(ctes)} SELECT {counts}"


@dataclass(frozen=True)
class Case:
    """One report request, and the naive query that answers the same."""

    label: str
    report: str
    query: Mapping[str, str]
    naive: Naive
    body: bytes | None = None
    """The funnel is a POST with a body; the other reports are GETs."""


def active_user_rows(answer: Any) -> Answer:
    return [
        (
            r["Date"],
            r["DailyActiveUsers"],
            r["WeeklyActiveUsers"],
            r["MonthlyActiveUsers"],
            r["NewUsers"],
        )
        for r in rows_of(answer)
        if r["DailyActiveUsers"]
    ]


def session_rows(answer: Any) -> Answer:
    return [
        (r["Date"], r["Sessions"], r["SessionsPerDailyActiveUser"], r["AverageSessionSeconds"])
        for r in rows_of(answer)
        if r["Sessions"]
    ]


def retention_rows(answer: Any) -> Answer:
    return [
        (r["CohortDate"], r["NewUsers"], r["Retained7"], r["Retained14"], r["Retained30"])
        for r in rows_of(answer)
        if r["NewUsers"]
    ]


def retention_masked(today: date) -> Callable[[list[tuple[Any, ...]]], Answer]:
    """RetainedN is null in the report until the cohort's N days have begun."""

    def reshape(rows: list[tuple[Any, ...]]) -> Answer:
        def masked(cohort: str, window: int, count: int) -> int | None:
            return None if date.fromisoformat(cohort) + timedelta(days=window) > today else count

        return [
            (cohort, new, masked(cohort, 7, r7), masked(cohort, 14, r14), masked(cohort, 30, r30))
            for cohort, new, r7, r14, r30 in rows
        ]

    return reshape


def event_count_rows(answer: Any) -> Answer:
    return [(r["Date"], r["Count"]) for r in rows_of(answer) if r["Count"]]


def attribute_rows(answer: Any) -> Answer:
    return [(r["Date"], r["Value"], r["Count"]) for r in rows_of(answer)]


def metric_rows(answer: Any) -> Answer:
    return [
        (r["Date"], r["Count"], r["Min"], r["Max"], r["Average"], r["SessionWeightedAverage"])
        for r in rows_of(answer)
    ]


def revenue_rows(answer: Any) -> Answer:
    return [
        (r["Date"], r["Currency"], r["Purchases"], r["Quantity"], r["Revenue"])
        for r in rows_of(answer)
    ]


def demographic_rows(answer: Any) -> Answer:
    return [(r["Value"], r["Endpoints"]) for r in rows_of(answer)]


def funnel_rows(answer: Any) -> Answer:
    return [(r["Step"], r["EventType"], r["Endpoints"]) for r in rows_of(answer)]


def funnel_steps(rows: list[tuple[Any, ...]]) -> Answer:
    return [(k, step, n) for k, (step, n) in enumerate(zip(FUNNEL, rows[0], strict=True), 1)]


FUNNEL = ("item.view", "button.tap", rules.PURCHASE)
FUNNEL_WINDOW_SECONDS = 3600


def report_cases(app: str, today: date, first_day: date, last_day: date) -> list[Case]:
    """Every report over the last 31 days and, where dates apply, the whole history."""
    ranges = [("31 days", last_day - timedelta(days=30), last_day)]
    days = (last_day - first_day).days + 1
    if days > 31:
        ranges.append((f"{days} days", first_day, last_day))
    metric_type, metric = METRIC_REPORT
    attribute_type, attribute_name = ATTRIBUTE_REPORT
    cases: list[Case] = []
    for span, first, last in ranges:
        dates = {"start-time": first.isoformat(), "end-time": last.isoformat()}
        params = {"app": app, "first": first.isoformat(), "last": last.isoformat()}
        start_ms = (first - date(1970, 1, 1)).days * DAY_MS
        funnel_params = {
            "app": app,
            "start_ms": start_ms,
            "end_ms": start_ms + ((last - first).days + 1) * DAY_MS,
            "window_ms": FUNNEL_WINDOW_SECONDS * 1000,
        } | {f"step{k}": step for k, step in enumerate(FUNNEL, 1)}
        funnel_body = {"Steps": FUNNEL, "WindowSeconds": FUNNEL_WINDOW_SECONDS}
        cases += [
            Case(
                f"active-users, {span}",
                "active-users",
                dates,
                Naive(ACTIVE_USERS_SQL, params, as_is, active_user_rows),
            ),
            Case(
                f"sessions, {span}",
                "sessions",
                dates,
                Naive(SESSIONS_SQL, params, as_is, session_rows),
            ),
            Case(
                f"retention, {span}",
                "retention",
                dates,
                Naive(RETENTION_SQL, params, retention_masked(today), retention_rows),
            ),
            Case(
                f"events {metric_type}, {span}",
                "events",
                {**dates, "event-type": metric_type},
                Naive(EVENT_COUNT_SQL, {**params, "type": metric_type}, as_is, event_count_rows),
            ),
            Case(
                f"events {attribute_type} by {attribute_name}, {span}",
                "events",
                {**dates, "event-type": attribute_type, "attribute": attribute_name},
                Naive(
                    EVENT_ATTRIBUTE_SQL,
                    {**params, "type": attribute_type, "path": f"$.Attributes.{attribute_name}"},
                    as_is,
                    attribute_rows,
                ),
            ),
            Case(
                f"events {metric_type} metric {metric}, {span}",
                "events",
                {**dates, "event-type": metric_type, "metric": metric},
                Naive(
                    EVENT_METRIC_SQL,
                    {**params, "type": metric_type, "path": f"$.Metrics.{metric}"},
                    as_is,
                    metric_rows,
                ),
            ),
            Case(
                f"revenue, {span}",
                "revenue",
                dates,
                Naive(REVENUE_SQL, params, as_is, revenue_rows),
            ),
            Case(
                f"funnel {' > '.join(FUNNEL)} (1 h), {span}",
                "funnel",
                dates,
                Naive(funnel_sql(len(FUNNEL)), funnel_params, funnel_steps, funnel_rows),
                json.dumps(funnel_body).encode(),
            ),
        ]
    for dimension, sql, path in (
        ("Platform", FIELD_SQL, "$.Demographic.Platform"),
        (
            f"Attributes.{DEMOGRAPHIC_ATTRIBUTE}",
            ATTRIBUTE_SQL,
            f"$.Attributes.{DEMOGRAPHIC_ATTRIBUTE}",
        ),
    ):
        cases.append(
            Case(
                f"demographics {dimension}",
                "demographics",
                {"dimension": dimension},
                Naive(sql, {"app": app, "path": path}, as_is, demographic_rows),
            )
        )
    return cases


# Application metrics: every kpi-name the Pinpoint Developer Guide documents for
# GetApplicationDateRangeKpi, each with a naive query written from docs/reports.md, so the
# check does not lean on Clarion's own KPI code.


def attribute(name: str) -> str:
    return f"json_extract(event, '$.Attributes.{name}')"


def count(event_type: str) -> str:
    return f"SUM(event_type = '{event_type}')"


TRANSACTIONAL = (
    f"COALESCE({attribute('campaign_id')}, '') = ''"
    f" AND COALESCE({attribute('journey_id')}, '') = ''"
)
FROM_CAMPAIGNS = f"COALESCE({attribute('campaign_id')}, '') != ''"
GROUPS = {
    "": "''",
    "date": "day",
    "campaign": attribute("campaign_id"),
    "country": attribute("iso_country_code"),
    "error": attribute("record_status"),
}
PUSH_CHANNELS = ("APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "ADM", "GCM", "BAIDU")
PRICE = "json_extract(event, '$.Metrics.price_in_millicents_usd')"
SPEND = f"TOTAL({PRICE}) / 100000.0"
PRICED = f"COUNT({PRICE})"
PARTS = f"TOTAL(CAST({attribute('number_of_message_parts')} AS INTEGER))"
SMS_OUTCOMES = ("_SMS.SUCCESS", "_SMS.FAILURE")


@dataclass(frozen=True)
class KpiQuery:
    """A metric over the range's events of some types from one kind of sender, per group: a
    numerator, perhaps a denominator (a rate, no row when it is 0), and the evidence that
    there is a value at all (no row when it is 0; by default the numerator). With
    ``distinct``, the numerator counts endpoints: per day and campaign, those with the first
    event type less those with the second, then their union per group."""

    sender: str
    event_types: tuple[str, ...]
    numerator: str = ""
    denominator: str | None = None
    evidence: str | None = None
    distinct: tuple[str, str | None] | None = None

    def sql(self, group: str) -> str:
        types = ", ".join(f"'{t}'" for t in self.event_types)
        where = (
            f"app_id = :app AND day BETWEEN :first AND :last AND event_type IN ({types})"
            f" AND {self.sender}"
        )
        if group in ("country", "error"):
            where += f" AND COALESCE({GROUPS[group]}, '') != ''"
        if self.distinct is not None:
            reached, less = self.distinct
            return (
                f"SELECT {'campaign' if group == 'campaign' else GROUPS[group]},"
                " COUNT(DISTINCT endpoint_key), NULL, COUNT(DISTINCT endpoint_key) FROM ("
                f" SELECT day, {GROUPS['campaign']} AS campaign, endpoint_key,"
                f" MAX(event_type = '{reached}') AS reached,"
                f" MAX(event_type = '{less or ''}') AS less"
                f" FROM events WHERE {where} GROUP BY day, campaign, endpoint_key)"
                " WHERE reached AND NOT less GROUP BY 1"
            )
        denominator = self.denominator or "NULL"
        evidence = self.evidence or self.numerator
        return (
            f"SELECT {GROUPS[group]}, MAX(0, {self.numerator}), {denominator}, {evidence}"
            f" FROM events WHERE {where} GROUP BY 1"
        )


def kpi_queries() -> dict[str, KpiQuery]:
    """The metrics by kpi-name without ``-grouped-by-…``."""
    queries = {
        name: KpiQuery(TRANSACTIONAL, (event_type,), count(event_type))
        for name, event_type in (
            ("txn-emails-sent", "_email.send"),
            ("txn-emails-delivered", "_email.delivered"),
            ("txn-emails-opened", "_email.open"),
            ("txn-emails-clicked", "_email.click"),
            ("txn-emails-hard-bounced", "_email.hardbounce"),
            ("txn-emails-soft-bounced", "_email.softbounce"),
            ("txn-emails-with-complaints", "_email.complaint"),
            ("txn-sms-sent", "_SMS.BUFFERED"),
            ("txn-sms-delivered", "_SMS.SUCCESS"),
            ("txn-sms-error-distribution", "_SMS.FAILURE"),
        )
    }
    for name, part, whole in (
        ("txn-emails-delivery-rate", "_email.delivered", "_email.send"),
        ("txn-emails-complaint-rate", "_email.complaint", "_email.send"),
        ("txn-sms-delivery-rate", "_SMS.SUCCESS", "_SMS.BUFFERED"),
    ):
        queries[name] = KpiQuery(TRANSACTIONAL, (part, whole), count(part), count(whole))
    delivered = f"{count('_campaign.send')} - {count('_email.hardbounce')}"
    sends = ("_campaign.send", "_email.hardbounce")
    push = (
        f"SUM(event_type = '_campaign.send' AND {attribute('delivery_type')} IN "
        f"({', '.join(repr(c) for c in PUSH_CHANNELS)})"
        f" AND {attribute('campaign_send_status')} = 'SUCCESS')"
    )
    opens = ("_email.open", "_email.delivered")
    queries |= {
        "successful-delivery-rate": KpiQuery(
            FROM_CAMPAIGNS, sends, delivered, count("_campaign.send")
        ),
        "successful-deliveries": KpiQuery(FROM_CAMPAIGNS, sends, delivered),
        "email-open-rate": KpiQuery(FROM_CAMPAIGNS, opens, count(opens[0]), count(opens[1])),
        "unique-deliveries": KpiQuery(FROM_CAMPAIGNS, sends, distinct=sends),
        "txn-emails-unique-opens": KpiQuery(
            TRANSACTIONAL, ("_email.open",), distinct=("_email.open", None)
        ),
        "txn-emails-unique-clicks": KpiQuery(
            TRANSACTIONAL, ("_email.click",), distinct=("_email.click", None)
        ),
        "push-open-rate": KpiQuery(
            FROM_CAMPAIGNS,
            ("_campaign.opened_notification", "_campaign.send"),
            count("_campaign.opened_notification"),
            push,
        ),
        "sms-spend": KpiQuery(FROM_CAMPAIGNS, SMS_OUTCOMES, SPEND, evidence=PRICED),
        "txn-sms-sent-by-parts": KpiQuery(TRANSACTIONAL, ("_SMS.BUFFERED",), PARTS),
        "txn-sms-delivered-by-parts": KpiQuery(TRANSACTIONAL, ("_SMS.SUCCESS",), PARTS),
        "txn-sms-total-price": KpiQuery(TRANSACTIONAL, SMS_OUTCOMES, SPEND, evidence=PRICED),
        "txn-sms-average-price": KpiQuery(TRANSACTIONAL, SMS_OUTCOMES, SPEND, PRICED),
        "txn-sms-average-price-by-parts": KpiQuery(TRANSACTIONAL, SMS_OUTCOMES, SPEND, PARTS),
    }
    return queries


KPI_QUERIES = kpi_queries()
KPI_NAMES = (
    *(
        f"{base}{suffix}"
        for base in (
            "txn-emails-sent",
            "txn-emails-delivered",
            "txn-emails-opened",
            "txn-emails-clicked",
            "txn-emails-hard-bounced",
            "txn-emails-soft-bounced",
            "txn-emails-with-complaints",
            "txn-emails-delivery-rate",
            "txn-emails-complaint-rate",
            "txn-emails-unique-opens",
            "txn-emails-unique-clicks",
            "txn-sms-sent",
            "txn-sms-delivered",
            "txn-sms-delivery-rate",
            "successful-delivery-rate",
            "unique-deliveries",
        )
        for suffix in ("", "-grouped-by-date")
    ),
    "unique-deliveries-grouped-by-campaign",
    "successful-deliveries-grouped-by-campaign",
    "email-open-rate",
    "email-open-rate-grouped-by-campaign",
    "push-open-rate",
    "push-open-rate-grouped-by-campaign",
    "sms-spend",
    "txn-sms-sent-grouped-by-country",
    "txn-sms-delivered-grouped-by-country",
    "txn-sms-sent-by-parts",
    "txn-sms-sent-by-parts-grouped-by-country",
    "txn-sms-delivered-by-parts",
    "txn-sms-delivered-by-parts-grouped-by-country",
    "txn-sms-total-price-grouped-by-country",
    "txn-sms-average-price-grouped-by-country",
    "txn-sms-average-price-by-parts-grouped-by-country",
    "txn-sms-error-distribution",
)
"""Every application metric of the Developer Guide ("Standard Amazon Pinpoint analytics
metrics"), as docs/reports.md lists them."""


def kpi_naive(app: str, name: str, first: date, last: date) -> Naive:
    base, _, group = name.partition("-grouped-by-")
    if base == "txn-sms-error-distribution":
        group = "error"
    query = KPI_QUERIES[base]

    def reshape(rows: list[tuple[Any, ...]]) -> Answer:
        found = []
        for key, numerator, denominator, evidence in rows:
            if query.denominator is not None:
                if denominator:
                    found.append((key, numerator / denominator))
            elif evidence:
                found.append((key, float(numerator)))
        return found

    def clarion(answer: Any) -> Answer:
        found = []
        for row in answer["KpiResult"]["Rows"]:
            groups = row.get("GroupedBys") or [{"Value": ""}]
            found.append((groups[0]["Value"], float(row["Values"][0]["Value"])))
        return found

    params = {"app": app, "first": first.isoformat(), "last": last.isoformat()}
    return Naive(query.sql(group), params, reshape, clarion)


# --- Timing ----------------------------------------------------------------------------------


def median_ms(timings: Sequence[float]) -> float:
    return statistics.median(timings) * 1000


def time_reports(server: Clarion, app: str, cases: Sequence[Case], runs: int) -> list[Timed]:
    timed: list[Timed] = []
    with httpx.Client(timeout=600) as http:
        for case in cases:
            url = f"{server.url}/clarion/v1/apps/{app}/reports/{case.report}"
            url += f"?{urlencode(case.query)}"
            method = "GET" if case.body is None else "POST"
            replies = [send(http, server, method, url, case.body or b"")]
            while len(replies) <= runs and sum(r.seconds for r in replies[1:]) < SLOW_BUDGET_S:
                replies.append(send(http, server, method, url, case.body or b""))
            failed = next((reply for reply in replies if reply.status != 200), None)
            if failed is not None:
                message = failed.body.get("Message", failed.body)
                note = f"{method} answers HTTP {failed.status} {failed.error}: {message}"
                timed.append((Outcome(case.label, note=note), case.naive, None))
                continue
            answer = replies[-1].body
            timings = [reply.seconds for reply in replies[1:]]
            outcome = Outcome(case.label, len(rows_of(answer)), median_ms(timings), len(timings))
            timed.append((outcome, case.naive, answer))
    return timed


def time_kpis(server: Clarion, app: str, first: date, last: date, runs: int) -> list[Timed]:
    """Every documented application metric through boto3; the 501s are reported as such."""
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(last, datetime.max.time().replace(microsecond=0), UTC)
    timed: list[Timed] = []
    for name in KPI_NAMES:
        label = f"kpi {name}"
        timings = []
        try:
            for _ in range(runs + 1):
                started = time.perf_counter()
                answer = server.client.get_application_date_range_kpi(
                    ApplicationId=app, KpiName=name, StartTime=start, EndTime=end
                )["ApplicationDateRangeKpiResponse"]
                timings.append(time.perf_counter() - started)
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            message = error.response["Error"].get("Message", "")
            note = "not implemented (501)" if status == 501 else f"HTTP {status}: {message}"
            timed.append((Outcome(label, note=note), None, None))
            continue
        rows = len(answer["KpiResult"]["Rows"])
        naive = kpi_naive(app, name, first, last)
        timed.append((Outcome(label, rows, median_ms(timings[1:]), runs), naive, answer))
    return timed


def with_naive(db_path: Path, timed: Sequence[Timed], runs: int) -> list[Outcome]:
    finished = []
    for outcome, naive, answer in timed:
        if naive is None or answer is None or runs == 0:
            finished.append(outcome)
            continue
        ms, naive_answer = run_naive(db_path, naive, runs)
        differs = difference(naive.clarion(answer), naive_answer)
        finished.append(replace(outcome, naive_ms=ms, agrees=differs is None, note=differs or ""))
    return finished


# --- Output ----------------------------------------------------------------------------------


def table(outcomes: Sequence[Outcome], runs: int) -> None:
    width = max(len(o.label) for o in outcomes) + 2
    print(
        f"  {'':<{width}}{'rows':>5} {'Clarion ms':>11}  {'target':<8}{'naive ms':>12} "
        f"{'naive/Clarion':>14}  same answer"
    )
    for o in outcomes:
        if o.clarion_ms is None:
            print(f"  {o.label:<{width}}{o.note}")
            continue
        verdict = "ok" if o.clarion_ms <= TARGET_MS else "OVER"
        naive = ""
        if o.naive_ms is not None:
            ratio = o.naive_ms / o.clarion_ms
            naive = f"{o.naive_ms:>12,.1f} {ratio:>13,.{0 if ratio >= 10 else 1}f}x"
        agrees = {True: "yes", False: "NO", None: ""}[o.agrees]
        fewer = f" (median of {o.runs})" if o.runs < runs else ""
        print(
            f"  {o.label:<{width}}{o.rows:>5} {o.clarion_ms:>11.1f}  {verdict:<8}{naive:<27}  "
            f"{agrees}{fewer}"
        )
    for o in outcomes:
        if o.agrees is False:
            print(f"  {o.label} differs: {o.note}")


def describe(timed: Sequence[Timed]) -> str:
    """The data as the 31-day reports see it, so the timings can be read against it."""
    answers = {outcome.label: answer for outcome, _, answer in timed}
    users = answers.get("active-users, 31 days")
    cohorts = answers.get("retention, 31 days")
    if users is None or cohorts is None:
        return "  (the 31-day active-users or retention report did not answer)"
    last = rows_of(users)[-1]
    complete = [r for r in rows_of(cohorts) if r["Retained7"] is not None and r["NewUsers"]]
    next_day = [r["Days"][0] / r["NewUsers"] for r in rows_of(cohorts) if r["NewUsers"]]
    week = [r["Retained7"] / r["NewUsers"] for r in complete]
    new = statistics.fmean(r["NewUsers"] for r in rows_of(cohorts))
    return (
        f"  {last['Date']}: DAU {last['DailyActiveUsers']:,}, WAU {last['WeeklyActiveUsers']:,}, "
        f"MAU {last['MonthlyActiveUsers']:,}, sticky factor {last['StickyFactor']:.2f}; "
        f"cohorts of the last 31 days: {new:,.0f} new users a day, "
        f"{statistics.fmean(next_day or [0]):.0%} back the next day, "
        f"{statistics.fmean(week or [0]):.0%} within 7 days"
    )


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_average() -> str:
    """Other work on the machine shows up in the timings; this says how much there was."""
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def megabytes(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def load(core: Core, endpoints: int, first_day: date, days: int, rng: random.Random) -> str:
    """Create the app and fill the store; returns the app id."""
    core.start()
    app: str = core.apps.create("reports-bench", {})["Id"]
    started = time.perf_counter()
    devices = load_endpoints(core, app, endpoints, rng)
    endpoint_s = time.perf_counter() - started
    print(
        f"  endpoints {endpoints:>11,} in {endpoint_s:7.1f} s ({endpoints / endpoint_s:,.0f}/s) "
        f"through Endpoints.apply, {ENDPOINTS_PER_TRANSACTION:,} a transaction"
    )
    started = time.perf_counter()
    loaded = load_events(core, app, devices, first_day, days, rng)
    event_s = time.perf_counter() - started
    with core.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    print(
        f"  events    {loaded.events:>11,} in {event_s:7.1f} s "
        f"({loaded.events / event_s:,.0f}/s) through Events.record, one transaction a day: "
        f"{loaded.generating_s:.0f} s generating and rules.check_event, "
        f"{loaded.storing_s:.0f} s Events.record and commit"
    )
    print(
        f"  per day   {loaded.events / days:>11,.0f} events, active endpoints "
        f"{min(loaded.daily_active):,} to {max(loaded.daily_active):,} "
        f"(mean {statistics.fmean(loaded.daily_active):,.0f}); loader peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Reports and KPIs on a large store")
    parser.add_argument("--endpoints", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90, help="days of events, ending yesterday")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per report")
    parser.add_argument(
        "--naive-runs", type=int, default=1, help="runs of each naive query (0: none)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir", type=Path, help="load the store here and keep it (default: a temporary one)"
    )
    args = parser.parse_args()
    if not 1 <= args.days <= 90:
        parser.error("--days is 1 to 90: KPI ranges must start within the last 90 days")

    began = time.perf_counter()
    rng = random.Random(args.seed)
    today = datetime.now(UTC).date()
    last_day = today - timedelta(days=1)
    first_day = today - timedelta(days=args.days)
    kpi_first = max(first_day, last_day - timedelta(days=30))
    print(
        f"bench/reports.py: {args.endpoints:,} endpoints x {args.days} days of events "
        f"({first_day} to {last_day}), SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs (load average {load_average()}), 1 server process"
    )
    with tempfile.TemporaryDirectory(prefix="clarion-reports-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if data_dir.exists() and any(data_dir.iterdir()):
            parser.error(f"{data_dir} is not empty: the store must be fresh")
        db_path = data_dir / "clarion.db"
        core = Core(load_settings(data_dir=data_dir))
        try:
            app = load(core, args.endpoints, first_day, args.days, rng)
        finally:
            core.close()
        print(f"  store     {megabytes(db_path):>11,.0f} MB ({db_path.name}, WAL checkpointed)")

        with clarion_server(data_dir) as server:
            print(f"  load average when timing starts: {load_average()}")
            cases = report_cases(app, today, first_day, last_day)
            reports = time_reports(server, app, cases, args.runs)
            measured_kpis = time_kpis(server, app, kpi_first, last_day, args.runs)
            report_outcomes = with_naive(db_path, reports, args.naive_runs)
            kpi_outcomes = with_naive(db_path, measured_kpis, args.naive_runs)

    print(describe(reports))
    print(
        f"\nEngagement reports: signed GET (funnel: POST) over HTTP, median of {args.runs} after "
        f"a warm-up (fewer when they pass {SLOW_BUDGET_S:.0f} s); "
        f"target <= {TARGET_MS:.0f} ms.\nNaive: one SQL query over the raw events table "
        f"(demographics: the endpoints table), {args.naive_runs} run(s), same SQLite file."
    )
    table(report_outcomes, args.runs)
    print(
        f"\nApplication KPIs: boto3 get_application_date_range_kpi, {kpi_first} to "
        f"{last_day}, median of {args.runs} after a warm-up (boto3's own work included)."
    )
    table(kpi_outcomes, args.runs)
    print(f"\nWhole run: {(time.perf_counter() - began) / 60:.1f} minutes")


if __name__ == "__main__":
    main()
