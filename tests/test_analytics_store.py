"""Reports and KPIs read from real rollup tables, on SQLite and PostgreSQL.

Rollup rows are written directly, as ingestion would leave them, for the app under test and for
a neighbour app that must never leak in; every expected number is worked out here from the same
raw activity with plain sets and sums.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import botocore.session
import pytest
import sqlalchemy as sa
from botocore.awsrequest import HeadersDict
from botocore.parsers import RestJSONParser
from pyroaring import BitMap

from clarion.analytics import kpis, reports
from clarion.api.protocol import Protocol
from clarion.errors import BadRequest, NotFound
from clarion.store.database import Database
from clarion.store.endpoints import EndpointWriter
from clarion.store.schema import (
    daily_active,
    daily_attributes,
    daily_events,
    daily_metrics,
    daily_revenue,
    daily_sessions,
    endpoint_activity,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
HISTORY = [TODAY - timedelta(days=n) for n in range(59, -1, -1)]

Activity = dict[date, set[int]]


@pytest.fixture
def app_id(db: Database) -> str:
    """A fresh app id, with a neighbour app's rollups on the same days that must not count."""
    noise = random_activity(random.Random(99), ordinals=range(1, 30))
    write_activity(db, f"other-{uuid.uuid4().hex}", noise)
    return f"app-{uuid.uuid4().hex}"


def insert(db: Database, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        with db.write() as conn:
            conn.execute(table.insert(), rows)


def random_activity(rnd: random.Random, ordinals: range) -> Activity:
    """Each endpoint starts on a random day and then comes back on some later days."""
    activity: Activity = {}
    for ordinal in ordinals:
        start = rnd.randrange(len(HISTORY))
        for day in HISTORY[start:]:
            if day == HISTORY[start] or rnd.random() < 0.3:
                activity.setdefault(day, set()).add(ordinal)
    return activity


def write_activity(db: Database, app_id: str, activity: Activity) -> None:
    insert(
        db,
        daily_active,
        [
            {"app_id": app_id, "day": day.isoformat(), "endpoints": BitMap(ordinals).serialize()}
            for day, ordinals in activity.items()
        ],
    )
    insert(
        db,
        endpoint_activity,
        [
            {"app_id": app_id, "ordinal": o, "first_day": day.isoformat(), "last_event_ms": 0}
            for o, day in first_days(activity).items()
        ],
    )


def first_days(activity: Activity) -> dict[int, date]:
    first: dict[int, date] = {}
    for day in sorted(activity):
        for ordinal in activity[day]:
            first.setdefault(ordinal, day)
    return first


def active_between(activity: Activity, first: date, last: date) -> set[int]:
    return {o for day, ordinals in activity.items() if first <= day <= last for o in ordinals}


@pytest.fixture
def activity(db: Database, app_id: str) -> Activity:
    recorded = random_activity(random.Random(7), ordinals=range(1000, 1080))
    write_activity(db, app_id, recorded)
    return recorded


# --- Active users, sessions, retention ------------------------------------------------------


def test_active_users(db: Database, app_id: str, activity: Activity) -> None:
    start, end = TODAY - timedelta(days=20), TODAY
    firsts = first_days(activity)
    expected = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        daily = len(activity.get(day, set()))
        monthly = len(active_between(activity, day - timedelta(days=29), day))
        expected.append(
            {
                "Date": day.isoformat(),
                "DailyActiveUsers": daily,
                "WeeklyActiveUsers": len(active_between(activity, day - timedelta(days=6), day)),
                "MonthlyActiveUsers": monthly,
                "NewUsers": sum(1 for f in firsts.values() if f == day),
                "StickyFactor": daily / monthly if monthly else 0.0,
            }
        )
    assert reports.active_users(db, app_id, start, end) == expected


def test_sessions(db: Database, app_id: str, activity: Activity) -> None:
    days = HISTORY[-3:]
    insert(
        db,
        daily_sessions,
        [
            {
                "app_id": app_id,
                "day": days[0].isoformat(),
                "sessions": 9,
                "ended": 0,
                "duration_ms": 0,
            },
            {
                "app_id": app_id,
                "day": days[2].isoformat(),
                "sessions": 7,
                "ended": 4,
                "duration_ms": 72_000,
            },
        ],
    )
    rows = reports.sessions(db, app_id, days[0], days[2])
    daily_active = [len(activity.get(day, set())) for day in days]
    assert rows == [
        {
            "Date": day.isoformat(),
            "Sessions": sessions,
            "SessionsPerDailyActiveUser": sessions / active if active else 0.0,
            "AverageSessionSeconds": seconds,
        }
        for day, sessions, active, seconds in zip(
            days, [9, 0, 7], daily_active, [0.0, 0.0, 18.0], strict=True
        )
    ]


def test_retention(db: Database, app_id: str, activity: Activity) -> None:
    start, end = HISTORY[20], HISTORY[50]
    firsts = first_days(activity)
    rows = reports.retention(db, app_id, start, end, TODAY)
    assert [row["CohortDate"] for row in rows] == [
        (start + timedelta(days=n)).isoformat() for n in range(31)
    ]
    for row in rows:
        day = date.fromisoformat(row["CohortDate"])
        cohort = {o for o, f in firsts.items() if f == day}
        assert row["NewUsers"] == len(cohort)
        for window in (7, 14, 30):
            back = cohort & active_between(
                activity, day + timedelta(days=1), day + timedelta(days=window)
            )
            complete = day + timedelta(days=window) <= TODAY
            assert row[f"Retained{window}"] == (len(back) if complete else None)
        horizon = min(30, (TODAY - day).days)
        assert row["Days"] == [
            len(cohort & activity.get(day + timedelta(days=k), set()))
            for k in range(1, horizon + 1)
        ]


# --- Events and revenue ---------------------------------------------------------------------


def test_event_counts_attributes_and_metrics(db: Database, app_id: str) -> None:
    d1, d2, d3 = HISTORY[-3:]
    insert(
        db,
        daily_events,
        [
            {"app_id": app_id, "day": d1.isoformat(), "event_type": "buy", "count": 5},
            {"app_id": app_id, "day": d3.isoformat(), "event_type": "buy", "count": 2},
            {"app_id": app_id, "day": d2.isoformat(), "event_type": "view", "count": 50},
        ],
    )
    insert(
        db,
        daily_attributes,
        [
            {
                "app_id": app_id,
                "day": day.isoformat(),
                "event_type": event_type,
                "attribute": attribute,
                "value": value,
                "count": count,
            }
            for day, event_type, attribute, value, count in [
                (d1, "buy", "color", "red", 2),
                (d1, "buy", "color", "blue", 3),
                (d3, "buy", "color", "red", 2),
                (d1, "buy", "size", "xl", 5),
                (d1, "view", "color", "red", 9),
            ]
        ],
    )
    insert(
        db,
        daily_metrics,
        [
            {
                "app_id": app_id,
                "day": d1.isoformat(),
                "event_type": "buy",
                "metric": "price",
                "count": 5,
                "total": 50.0,
                "minimum": 2.0,
                "maximum": 20.0,
            },
            {
                "app_id": app_id,
                "day": d3.isoformat(),
                "event_type": "buy",
                "metric": "price",
                "count": 2,
                "total": 3.0,
                "minimum": 1.0,
                "maximum": 2.0,
            },
        ],
    )
    insert(
        db,
        daily_sessions,
        [{"app_id": app_id, "day": d1.isoformat(), "sessions": 4, "ended": 0, "duration_ms": 0}],
    )
    assert reports.events(db, app_id, d1, d3, "buy") == [
        {"Date": d1.isoformat(), "Count": 5},
        {"Date": d2.isoformat(), "Count": 0},
        {"Date": d3.isoformat(), "Count": 2},
    ]
    assert reports.events(db, app_id, d1, d3, "buy", attribute="color") == [
        {"Date": d1.isoformat(), "Value": "blue", "Count": 3},
        {"Date": d1.isoformat(), "Value": "red", "Count": 2},
        {"Date": d3.isoformat(), "Value": "red", "Count": 2},
    ]
    assert reports.events(db, app_id, d1, d3, "buy", metric="price") == [
        {
            "Date": d1.isoformat(),
            "Count": 5,
            "Min": 2.0,
            "Max": 20.0,
            "Average": 10.0,
            "SessionWeightedAverage": 12.5,
        },
        {
            "Date": d3.isoformat(),
            "Count": 2,
            "Min": 1.0,
            "Max": 2.0,
            "Average": 1.5,
            "SessionWeightedAverage": None,
        },
    ]


def test_revenue(db: Database, app_id: str) -> None:
    d1, d2 = HISTORY[-2:]
    insert(
        db,
        daily_revenue,
        [
            {
                "app_id": app_id,
                "day": day.isoformat(),
                "currency": currency,
                "purchases": purchases,
                "quantity": quantity,
                "revenue": revenue,
            }
            for day, currency, purchases, quantity, revenue in [
                (d2, "USD", 2, 3.0, 29.97),
                (d1, "USD", 1, 1.0, 9.99),
                (d1, "EUR", 4, 4.0, 20.0),
                (HISTORY[0], "USD", 1, 1.0, 1.0),
            ]
        ],
    )
    assert reports.revenue(db, app_id, d1, d2) == [
        {
            "Date": d1.isoformat(),
            "Currency": "EUR",
            "Purchases": 4,
            "Quantity": 4.0,
            "Revenue": 20.0,
        },
        {
            "Date": d1.isoformat(),
            "Currency": "USD",
            "Purchases": 1,
            "Quantity": 1.0,
            "Revenue": 9.99,
        },
        {
            "Date": d2.isoformat(),
            "Currency": "USD",
            "Purchases": 2,
            "Quantity": 3.0,
            "Revenue": 29.97,
        },
    ]


# --- Demographics ---------------------------------------------------------------------------

ODD_NAME = 'fav."color".$x'


def write_endpoints(db: Database, app_id: str, documents: list[dict[str, Any]]) -> None:
    """Through the endpoint writer, which keeps the facet counts demographics reads."""
    with db.write() as conn:
        writer = EndpointWriter(conn, app_id)
        for n, document in enumerate(documents):
            writer.insert(f"e{n}", "2026-01-01T00:00:00.000Z", document)


def test_demographics(db: Database, app_id: str) -> None:
    documents: list[dict[str, Any]] = [
        {
            "Demographic": {"Platform": "ios", "AppVersion": "1.2", "Locale": "en_US"},
            "Location": {"Country": "US"},
            "Attributes": {"team": ["red", "blue"], ODD_NAME: ["x"]},
        },
        {
            "Demographic": {"Platform": "android", "Make": "Google"},
            "Location": {"Country": "FR"},
            "Attributes": {"team": ["red", "red"]},
        },
        {"Demographic": {"Platform": "ios"}, "Attributes": {"team": []}},
        {"Attributes": {"other": ["red"]}},
    ]
    write_endpoints(db, app_id, documents)
    write_endpoints(db, f"other-{app_id}", documents)
    assert reports.demographics(db, app_id, "Platform") == [
        {"Value": "ios", "Endpoints": 2},
        {"Value": "android", "Endpoints": 1},
    ]
    assert reports.demographics(db, app_id, "Country") == [
        {"Value": "FR", "Endpoints": 1},
        {"Value": "US", "Endpoints": 1},
    ]
    assert reports.demographics(db, app_id, "Make") == [{"Value": "Google", "Endpoints": 1}]
    assert reports.demographics(db, app_id, "Model") == []
    assert reports.demographics(db, app_id, "Attributes.team") == [
        {"Value": "red", "Endpoints": 2},
        {"Value": "blue", "Endpoints": 1},
    ]
    assert reports.demographics(db, app_id, f"Attributes.{ODD_NAME}") == [
        {"Value": "x", "Endpoints": 1}
    ]
    assert reports.demographics(db, app_id, "Attributes.missing") == []


@pytest.mark.parametrize("dimension", ["platform", "Attributes.", "Demographic.Platform", ""])
def test_unknown_dimensions_are_bad_requests(db: Database, app_id: str, dimension: str) -> None:
    with pytest.raises(BadRequest, match="dimension must be one of Platform, AppVersion"):
        reports.demographics(db, app_id, dimension)


# --- The report dispatcher ------------------------------------------------------------------


def test_run_dispatches_with_parsed_parameters(db: Database, app_id: str) -> None:
    insert(
        db,
        daily_events,
        [{"app_id": app_id, "day": TODAY.isoformat(), "event_type": "buy", "count": 3}],
    )
    query = {"event-type": "buy", "start-time": TODAY.isoformat()}
    assert reports.run(db, app_id, "events", query, TODAY) == [
        {"Date": TODAY.isoformat(), "Count": 3}
    ]
    assert len(reports.run(db, app_id, "active-users", {}, TODAY)) == 31
    assert reports.run(db, app_id, "revenue", {}, TODAY) == []
    assert reports.run(db, app_id, "demographics", {"dimension": "Platform"}, TODAY) == []


@pytest.mark.parametrize(
    ("name", "query", "error", "message"),
    [
        ("events", {}, BadRequest, "The events report needs the event-type parameter"),
        ("demographics", {}, BadRequest, "needs the dimension parameter"),
        (
            "events",
            {"event-type": "buy", "attribute": "a", "metric": "m"},
            BadRequest,
            "one of attribute or metric, not both",
        ),
        ("sessions", {"start-time": "soon"}, BadRequest, "start-time must be an ISO 8601"),
        ("funnels", {}, NotFound, "There is no report named funnels"),
    ],
)
def test_run_refuses_bad_parameters(
    db: Database,
    app_id: str,
    name: str,
    query: Mapping[str, str],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        reports.run(db, app_id, name, query, TODAY)


# --- GetApplicationDateRangeKpi -------------------------------------------------------------

SERVICE = botocore.session.get_session().get_service_model("pinpoint")
PROTOCOL = Protocol(SERVICE)


def kpi(db: Database, app_id: str, name: str, **times: datetime) -> dict[str, Any]:
    """Answer the query, serialise it as the operation's response and read it back the way
    boto3 does."""
    output = {
        "ApplicationDateRangeKpiResponse": kpis.date_range_kpi(
            db, app_id, name, times.get("StartTime"), times.get("EndTime"), NOW
        )
    }
    response = PROTOCOL.serialize("GetApplicationDateRangeKpi", output)
    raw: dict[str, Any] = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": response.body,
    }
    shape = SERVICE.operation_model("GetApplicationDateRangeKpi").output_shape
    parsed: dict[str, Any] = RestJSONParser().parse(raw, shape)
    answer: dict[str, Any] = parsed["ApplicationDateRangeKpiResponse"]
    return answer


def message_events(db: Database, app_id: str, day: date, counts: Mapping[str, int]) -> None:
    insert(
        db,
        daily_events,
        [
            {"app_id": app_id, "day": day.isoformat(), "event_type": t, "count": n}
            for t, n in counts.items()
        ],
    )


def message_attributes(
    db: Database, app_id: str, day: date, counts: Mapping[tuple[str, str, str], int]
) -> None:
    insert(
        db,
        daily_attributes,
        [
            {
                "app_id": app_id,
                "day": day.isoformat(),
                "event_type": event_type,
                "attribute": attribute,
                "value": value,
                "count": n,
            }
            for (event_type, attribute, value), n in counts.items()
        ],
    )


@pytest.fixture
def messages(db: Database, app_id: str) -> tuple[date, date]:
    """Two days of email and SMS, transactional, from campaigns and from a journey."""
    d1, d2 = TODAY - timedelta(days=3), TODAY - timedelta(days=1)
    message_events(
        db,
        app_id,
        d1,
        {
            "_email.send": 20,
            "_email.delivered": 16,
            "_email.open": 9,
            "_email.complaint": 1,
            "_campaign.send": 12,
            "_email.hardbounce": 2,
            "_SMS.BUFFERED": 5,
            "_SMS.SUCCESS": 4,
        },
    )
    message_attributes(
        db,
        app_id,
        d1,
        {
            ("_email.send", "campaign_id", "c1"): 8,
            ("_email.send", "campaign_id", "c2"): 4,
            ("_email.send", "journey_id", "j1"): 3,
            ("_email.delivered", "campaign_id", "c1"): 8,
            ("_email.delivered", "campaign_id", "c2"): 2,
            ("_email.delivered", "journey_id", "j1"): 3,
            ("_email.open", "campaign_id", "c1"): 2,
            ("_email.open", "campaign_id", "c2"): 1,
            ("_email.open", "feedback", "opened"): 9,
            ("_campaign.send", "campaign_id", "c1"): 8,
            ("_campaign.send", "campaign_id", "c2"): 4,
            ("_email.hardbounce", "campaign_id", "c2"): 2,
            ("_SMS.BUFFERED", "campaign_id", "c3"): 1,
        },
    )
    message_events(db, app_id, d2, {"_email.send": 4, "_email.delivered": 1})
    message_events(db, app_id, TODAY - timedelta(days=40), {"_email.send": 1000})
    return d1, d2


def values(answer: Mapping[str, Any]) -> list[tuple[str | None, str, str]]:
    """(group value, key, value) of each result row."""
    return [
        (
            row["GroupedBys"][0]["Value"] if "GroupedBys" in row else None,
            row["Values"][0]["Key"],
            row["Values"][0]["Value"],
        )
        for row in answer["KpiResult"]["Rows"]
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("txn-emails-sent", [(None, "TxnEmailsSent", "9.0")]),
        ("txn-emails-delivered", [(None, "TxnEmailsDelivered", "4.0")]),
        ("txn-emails-opened", [(None, "TxnEmailsOpened", "6.0")]),
        ("txn-emails-with-complaints", [(None, "TxnEmailsWithComplaints", "1.0")]),
        ("txn-emails-clicked", []),
        ("txn-emails-delivery-rate", [(None, "TxnEmailsDeliveryRate", repr(4 / 9))]),
        ("txn-emails-complaint-rate", [(None, "TxnEmailsComplaintRate", repr(1 / 9))]),
        ("txn-sms-sent", [(None, "TxnSmsSent", "4.0")]),
        ("txn-sms-delivered", [(None, "TxnSmsDelivered", "4.0")]),
        ("txn-sms-delivery-rate", [(None, "TxnSmsDeliveryRate", "1.0")]),
        ("successful-delivery-rate", [(None, "SuccessfulDeliveryRate", repr(10 / 12))]),
        ("email-open-rate", [(None, "EmailOpenRate", "0.3")]),
    ],
)
def test_single_value_kpis(
    db: Database, app_id: str, messages: tuple[date, date], name: str, expected: Any
) -> None:
    answer = kpi(db, app_id, name)
    assert answer["KpiName"] == name
    assert answer["ApplicationId"] == app_id
    assert values(answer) == expected


def test_kpis_grouped_by_date(db: Database, app_id: str, messages: tuple[date, date]) -> None:
    d1, d2 = (day.isoformat() for day in messages)
    sent = kpi(db, app_id, "txn-emails-sent-grouped-by-date")
    assert values(sent) == [(d1, "TxnEmailsSent", "5.0"), (d2, "TxnEmailsSent", "4.0")]
    assert sent["KpiResult"]["Rows"][0]["GroupedBys"] == [
        {"Key": "Date", "Type": "String", "Value": d1}
    ]
    rate = kpi(db, app_id, "txn-emails-delivery-rate-grouped-by-date")
    assert values(rate) == [
        (d1, "TxnEmailsDeliveryRate", "0.6"),
        (d2, "TxnEmailsDeliveryRate", "0.25"),
    ]


def test_kpis_grouped_by_campaign(db: Database, app_id: str, messages: tuple[date, date]) -> None:
    assert values(kpi(db, app_id, "email-open-rate-grouped-by-campaign")) == [
        ("c1", "EmailOpenRate", "0.25"),
        ("c2", "EmailOpenRate", "0.5"),
    ]
    assert values(kpi(db, app_id, "successful-deliveries-grouped-by-campaign")) == [
        ("c1", "SuccessfulDeliveries", "8.0"),
        ("c2", "SuccessfulDeliveries", "2.0"),
    ]


def test_kpi_echoes_its_range_and_counts_only_its_days(
    db: Database, app_id: str, messages: tuple[date, date]
) -> None:
    day = messages[1]
    start = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    end = start + timedelta(hours=30)
    answer = kpi(db, app_id, "txn-emails-sent", StartTime=start, EndTime=end)
    assert (answer["StartTime"], answer["EndTime"]) == (start, end)
    assert values(answer) == [(None, "TxnEmailsSent", "4.0")]
    default = kpi(db, app_id, "txn-sms-sent")
    assert default["StartTime"] == datetime(2026, 10, 29, tzinfo=UTC)
    assert default["EndTime"] == NOW


def test_kpis_without_data_have_no_rows(db: Database, app_id: str) -> None:
    for name in ("txn-emails-sent", "email-open-rate-grouped-by-campaign", "txn-sms-delivery-rate"):
        assert kpi(db, app_id, name)["KpiResult"]["Rows"] == []


@pytest.mark.parametrize(
    ("name", "times", "error", "message"),
    [
        ("bounce-rate", {}, BadRequest, "bounce-rate is not an application metric"),
        (
            "txn-sms-sent",
            {"StartTime": NOW - timedelta(days=90), "EndTime": NOW - timedelta(days=85)},
            BadRequest,
            "fewer than 90 days",
        ),
        (
            "txn-sms-sent",
            {"StartTime": NOW - timedelta(days=40), "EndTime": NOW - timedelta(days=5)},
            BadRequest,
            "at most 31",
        ),
        ("txn-sms-sent", {"StartTime": NOW + timedelta(days=1)}, BadRequest, "is before"),
    ],
)
def test_kpi_refusals(
    db: Database,
    app_id: str,
    name: str,
    times: dict[str, datetime],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        kpi(db, app_id, name, **times)
