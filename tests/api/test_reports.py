"""Events spanning weeks go in through signed PutEvents; every engagement report and the
application KPIs come back with exactly the values this test computes on its own."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, signed_request

TODAY = datetime.now(UTC).date()
FIRST = TODAY - timedelta(days=45)
DAYS = 30
ENDPOINTS = 30


@dataclass
class Truth:
    """What the test sent, and the report values that follow from it by definition."""

    active: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))
    sessions: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    seconds: dict[date, list[float]] = field(default_factory=lambda: defaultdict(list))
    taps: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    levels: dict[tuple[date, str], int] = field(default_factory=lambda: defaultdict(int))
    scores: dict[date, list[float]] = field(default_factory=lambda: defaultdict(list))
    revenue: dict[date, tuple[int, float, float]] = field(default_factory=dict)

    def first_day(self) -> dict[str, date]:
        first: dict[str, date] = {}
        for day in sorted(self.active):
            for endpoint in self.active[day]:
                first.setdefault(endpoint, day)
        return first


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def build(rng: random.Random) -> tuple[list[tuple[str, dict[str, Any]]], Truth]:
    """One request per endpoint-day: a session (sometimes restarted within 5 s, which must not
    count twice, sometimes after 30 s, which must), taps with a level and a score, purchases."""
    truth = Truth()
    requests: list[tuple[str, dict[str, Any]]] = []
    for n in range(ENDPOINTS):
        endpoint = f"device-{n}"
        platform = "ios" if n % 3 else "android"
        for offset in sorted(rng.sample(range(DAYS), rng.randrange(1, 12))):
            day = FIRST + timedelta(days=offset)
            start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                seconds=rng.randrange(3600, 70_000)
            )
            events: dict[str, Any] = {}

            def add(
                kind: str,
                at: datetime,
                session: str,
                events: dict[str, Any] = events,
                endpoint: str = endpoint,
                offset: int = offset,
                start: datetime = start,
                **extra: Any,
            ) -> None:
                events[f"{endpoint}-{offset}-{len(events)}"] = {
                    "EventType": kind,
                    "Timestamp": iso(at),
                    "Session": {"Id": session, "StartTimestamp": iso(start)},
                    **extra,
                }

            length = rng.randrange(20, 600)
            add("_session.start", start, "a")
            for t in range(rng.randrange(0, 4)):
                level = rng.choice(["1", "2", "3"])
                score = float(rng.randrange(0, 1000))
                add(
                    "tap",
                    start + timedelta(seconds=1 + t),
                    "a",
                    Attributes={"level": level},
                    Metrics={"score": score},
                )
                truth.taps[day] += 1
                truth.levels[(day, level)] += 1
                truth.scores[day].append(score)
            stop = start + timedelta(seconds=length)
            add("_session.stop", stop, "a")
            truth.active[day].add(endpoint)
            truth.sessions[day] += 1
            gap = rng.choice([3, 30, None])
            if gap is None:
                truth.seconds[day].append(length)
            else:
                again = stop + timedelta(seconds=gap)
                add("_session.start", again, "b")
                add("_session.stop", again + timedelta(seconds=40), "b")
                if gap == 3:
                    truth.seconds[day].append(length + gap + 40)
                else:
                    truth.sessions[day] += 1
                    truth.seconds[day] += [length, 40]
            if rng.random() < 0.3:
                quantity = rng.randrange(1, 3)
                add(
                    "_monetization.purchase",
                    start + timedelta(seconds=5),
                    "a",
                    Attributes={"_currency": "USD", "_product_id": "gems"},
                    Metrics={"_item_price": 0.99, "_quantity": quantity},
                )
                count, units, money = truth.revenue.get(day, (0, 0.0, 0.0))
                truth.revenue[day] = (count + 1, units + quantity, money + 0.99 * quantity)
            body = {
                "BatchItem": {
                    endpoint: {
                        "Endpoint": {"Demographic": {"Platform": platform}},
                        "Events": events,
                    }
                }
            }
            requests.append((endpoint, body))
    return requests, truth


@pytest.fixture(scope="module")
def loaded(server: Server) -> tuple[str, Truth]:
    rng = random.Random(20261128)
    requests, truth = build(rng)
    client = server.client()
    app_id: str = client.create_app(CreateApplicationRequest={"Name": "analytics"})[
        "ApplicationResponse"
    ]["Id"]
    # Most endpoints upload in order; a few upload late, newest first, as offline SDKs do.
    late = {f"device-{n}" for n in range(0, ENDPOINTS, 7)}
    ordered = [r for r in requests if r[0] not in late] + sorted(
        (r for r in requests if r[0] in late), key=lambda r: str(r[1]), reverse=True
    )
    for _, body in ordered:
        response = client.put_events(ApplicationId=app_id, EventsRequest=body)
        for item in response["EventsResponse"]["Results"].values():
            assert {r["StatusCode"] for r in item["EventsItemResponse"].values()} == {202}
    return app_id, truth


def report(server: Server, app_id: str, name: str, **query: str) -> list[dict[str, Any]]:
    parameters = {
        "start-time": FIRST.isoformat(),
        "end-time": (FIRST + timedelta(days=DAYS - 1)).isoformat(),
        **query,
    }
    path = f"/clarion/v1/apps/{app_id}/reports/{name}?" + "&".join(
        f"{k}={v}" for k, v in parameters.items()
    )
    response = signed_request(server, "GET", path)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["Rows"]
    return rows


def days() -> list[date]:
    return [FIRST + timedelta(days=n) for n in range(DAYS)]


def test_active_users(server: Server, loaded: tuple[str, Truth]) -> None:
    app_id, truth = loaded
    first = truth.first_day()
    rows = {row["Date"]: row for row in report(server, app_id, "active-users")}
    for day in days():

        def over(n: int, last: date = day) -> int:
            return len(set().union(*(truth.active[last - timedelta(days=k)] for k in range(n))))

        row = rows[day.isoformat()]
        assert row["DailyActiveUsers"] == len(truth.active[day])
        assert row["WeeklyActiveUsers"] == over(7)
        assert row["MonthlyActiveUsers"] == over(30)
        assert row["NewUsers"] == sum(1 for d in first.values() if d == day)
        assert row["StickyFactor"] == pytest.approx(
            len(truth.active[day]) / over(30) if over(30) else 0
        )


def test_sessions_follow_the_five_second_rule(server: Server, loaded: tuple[str, Truth]) -> None:
    app_id, truth = loaded
    rows = {row["Date"]: row for row in report(server, app_id, "sessions")}
    for day in days():
        row = rows[day.isoformat()]
        assert row["Sessions"] == truth.sessions[day], day
        active = len(truth.active[day])
        assert row["SessionsPerDailyActiveUser"] == pytest.approx(
            truth.sessions[day] / active if active else 0
        )
        lengths = truth.seconds[day]
        assert row["AverageSessionSeconds"] == pytest.approx(
            sum(lengths) / len(lengths) if lengths else 0
        )


def test_retention(server: Server, loaded: tuple[str, Truth]) -> None:
    app_id, truth = loaded
    first = truth.first_day()
    rows = {row["CohortDate"]: row for row in report(server, app_id, "retention")}
    for day in days():
        cohort = {e for e, d in first.items() if d == day}
        row = rows[day.isoformat()]
        assert row["NewUsers"] == len(cohort)
        for window in (7, 14, 30):
            came_back = set().union(
                *(truth.active[day + timedelta(days=k)] for k in range(1, window + 1))
            )
            expected = len(cohort & came_back) if (TODAY - day).days >= window else None
            assert row[f"Retained{window}"] == expected, (day, window)


def test_demographics(server: Server, loaded: tuple[str, Truth]) -> None:
    app_id, _ = loaded
    rows = report(server, app_id, "demographics", dimension="Platform")
    ios = sum(1 for n in range(ENDPOINTS) if n % 3)
    assert rows == [
        {"Value": "ios", "Endpoints": ios},
        {"Value": "android", "Endpoints": ENDPOINTS - ios},
    ]


def test_custom_event_counts_attributes_and_metrics(
    server: Server, loaded: tuple[str, Truth]
) -> None:
    app_id, truth = loaded
    counts = {
        row["Date"]: row["Count"]
        for row in report(server, app_id, "events", **{"event-type": "tap"})
    }
    assert counts == {day.isoformat(): truth.taps[day] for day in days()}

    by_value = report(server, app_id, "events", **{"event-type": "tap", "attribute": "level"})
    assert {(r["Date"], r["Value"]): r["Count"] for r in by_value} == {
        (day.isoformat(), level): n for (day, level), n in truth.levels.items()
    }

    metrics = report(server, app_id, "events", **{"event-type": "tap", "metric": "score"})
    assert {r["Date"] for r in metrics} == {d.isoformat() for d, s in truth.scores.items() if s}
    for row in metrics:
        scores = truth.scores[date.fromisoformat(row["Date"])]
        assert (row["Count"], row["Min"], row["Max"]) == (len(scores), min(scores), max(scores))
        assert row["Average"] == pytest.approx(sum(scores) / len(scores))
        assert row["SessionWeightedAverage"] == pytest.approx(
            sum(scores) / truth.sessions[date.fromisoformat(row["Date"])]
        )


def test_revenue(server: Server, loaded: tuple[str, Truth]) -> None:
    app_id, truth = loaded
    rows = report(server, app_id, "revenue")
    assert {r["Date"]: (r["Currency"], r["Purchases"]) for r in rows} == {
        day.isoformat(): ("USD", purchases) for day, (purchases, _, _) in truth.revenue.items()
    }
    for row in rows:
        _, quantity, money = truth.revenue[date.fromisoformat(row["Date"])]
        assert row["Quantity"] == pytest.approx(quantity)
        assert row["Revenue"] == pytest.approx(money)


def test_reports_refuse_bad_parameters(server: Server, loaded: tuple[str, Truth]) -> None:
    app_id, _ = loaded
    for path, status in [
        ("reports/nonsense", 404),
        ("reports/events", 400),
        ("reports/demographics?dimension=Shoe", 400),
        ("reports/sessions?start-time=yesterday", 400),
        ("reports/sessions?start-time=2026-02-02&end-time=2026-01-01", 400),
    ]:
        response = signed_request(server, "GET", f"/clarion/v1/apps/{app_id}/{path}")
        assert response.status_code == status, (path, response.text)
        assert set(response.json()) == {"Message", "RequestID"}
    assert (
        signed_request(server, "POST", f"/clarion/v1/apps/{app_id}/reports/sessions").status_code
        == 405
    )
    other = signed_request(server, "GET", f"/clarion/v1/apps/{'0' * 32}/reports/sessions")
    assert other.status_code == 404


def test_reports_respect_key_scope(server: Server, loaded: tuple[str, Truth]) -> None:
    app_id, _ = loaded
    key = server.new_key("f" * 32)
    response = signed_request(server, "GET", f"/clarion/v1/apps/{app_id}/reports/sessions", key=key)
    assert response.status_code == 403


def test_application_kpis_answer_zero_rows_before_any_delivery(
    pinpoint: Any, loaded: tuple[str, Truth]
) -> None:
    app_id, _ = loaded
    end = datetime.now(UTC)
    for name in ("txn-emails-sent", "txn-sms-delivered-grouped-by-date", "email-open-rate"):
        kpi = pinpoint.get_application_date_range_kpi(
            ApplicationId=app_id, KpiName=name, StartTime=end - timedelta(days=10), EndTime=end
        )["ApplicationDateRangeKpiResponse"]
        assert kpi["KpiName"] == name
        assert kpi["KpiResult"]["Rows"] == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"KpiName": "no-such-kpi"}, "no-such-kpi"),
        (
            {
                "KpiName": "txn-emails-sent",
                "StartTime": datetime.now(UTC) - timedelta(days=100),
                "EndTime": datetime.now(UTC) - timedelta(days=95),
            },
            "90",
        ),
        (
            {
                "KpiName": "txn-emails-sent",
                "StartTime": datetime.now(UTC) - timedelta(days=40),
                "EndTime": datetime.now(UTC),
            },
            "31",
        ),
    ],
)
def test_kpi_rules(pinpoint: Any, app_id: str, kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_application_date_range_kpi(ApplicationId=app_id, **kwargs)
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"
    assert fragment in excinfo.value.response["Error"]["Message"]
