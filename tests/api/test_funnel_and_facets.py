"""The funnel report and demographics over signed HTTP, on SQLite and PostgreSQL: events and
endpoint writes go in through boto3, and the answers must equal what this test works out from
what it sent."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.conftest import Server, signed_request

FIRST = date(2026, 3, 2)
LAST = FIRST + timedelta(days=2)
STEPS = ["view", "cart", "buy"]
WINDOW_SECONDS = 3 * 3600


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def funnel(server: Server, app_id: str, body: bytes, start: date = FIRST, end: date = LAST) -> Any:
    path = f"/clarion/v1/apps/{app_id}/reports/funnel?start-time={start}&end-time={end}"
    return signed_request(server, "POST", path, body)


def visits(rng: random.Random) -> list[tuple[datetime, str]]:
    """A few bursts of events, from the day before the range to two days after it."""
    opened = datetime.combine(FIRST - timedelta(days=1), datetime.min.time(), UTC)
    events = []
    for _ in range(3):
        start = opened + timedelta(seconds=rng.randrange(5 * 86_400))
        for _ in range(rng.randrange(2, 7)):
            moment = start + timedelta(seconds=rng.randrange(5 * 3600))
            events.append((moment, rng.choice([*STEPS, "other"])))
    return events


def expected_funnel(sent: dict[str, list[tuple[datetime, str]]]) -> list[int]:
    """For each step-1 event in the range, the earliest event of each next step that is after
    the previous one and within the window; an endpoint counts with its best start."""
    start = datetime.combine(FIRST, datetime.min.time(), UTC)
    end = datetime.combine(LAST + timedelta(days=1), datetime.min.time(), UTC)
    window = timedelta(seconds=WINDOW_SECONDS)
    reached = [0] * len(STEPS)
    for events in sent.values():
        best = 0
        for first, kind in events:
            if kind != STEPS[0] or not start <= first < end:
                continue
            depth, previous = 1, first
            for step in STEPS[1:]:
                later = [t for t, k in events if k == step and previous < t <= first + window]
                if not later:
                    break
                depth, previous = depth + 1, min(later)
            best = max(best, depth)
        for k in range(best):
            reached[k] += 1
    return reached


def test_funnel_counts_endpoints_through_the_steps_in_order(
    server: Server, pinpoint: Any, app_id: str
) -> None:
    rng = random.Random(42)
    sent = {f"shopper-{n}": visits(rng) for n in range(15)}
    for endpoint, events in sent.items():
        batch = {
            f"{endpoint}-{i}": {"EventType": kind, "Timestamp": iso(moment)}
            for i, (moment, kind) in enumerate(events)
        }
        pinpoint.put_events(
            ApplicationId=app_id,
            EventsRequest={"BatchItem": {endpoint: {"Endpoint": {}, "Events": batch}}},
        )
    reached = expected_funnel(sent)
    assert reached[-1] > 0, "the data should reach the last step"

    response = funnel(
        server, app_id, json.dumps({"Steps": STEPS, "WindowSeconds": WINDOW_SECONDS}).encode()
    )
    assert response.status_code == 200, response.text
    assert response.json()["Rows"] == [
        {
            "Step": n + 1,
            "EventType": step,
            "Endpoints": reached[n],
            "ConversionFromPrevious": reached[n] / reached[max(n - 1, 0)],
            "ConversionFromFirst": reached[n] / reached[0],
        }
        for n, step in enumerate(STEPS)
    ]


def test_funnel_refuses_bad_requests(server: Server, app_id: str) -> None:
    for body, fragment in [
        (b"steps", "must be JSON"),
        (b'{"Steps": ["view"], "WindowSeconds": 60}', "a funnel has 2 to 10 event types"),
        (b'{"Steps": ["view", "buy"], "WindowSeconds": 2592001}', "WindowSeconds is 2592001"),
    ]:
        response = funnel(server, app_id, body)
        assert response.status_code == 400, response.text
        assert response.headers["x-amzn-ErrorType"] == "BadRequestException"
        assert fragment in response.json()["Message"]
    good = json.dumps({"Steps": STEPS, "WindowSeconds": 60}).encode()
    backwards = funnel(server, app_id, good, start=LAST, end=FIRST)
    assert backwards.status_code == 400
    assert "before start-time" in backwards.json()["Message"]
    assert funnel(server, "0" * 32, good).status_code == 404
    get = signed_request(server, "GET", f"/clarion/v1/apps/{app_id}/reports/funnel")
    assert get.status_code == 405
    assert "POST" in get.json()["Message"]


# --- Demographics ---------------------------------------------------------------------------


class Model:
    """The endpoints as this test wrote them: platform, country, custom attributes and user."""

    def __init__(self) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}

    def write(self, endpoint: str, request: dict[str, Any]) -> None:
        current = self.endpoints.setdefault(endpoint, {"Attributes": {}})
        current.update(request.get("Demographic", {}))
        current.update(request.get("Location", {}))
        current["Attributes"].update(request.get("Attributes", {}))
        if "User" in request:
            current["User"] = request["User"]["UserId"]

    def counts(self, dimension: str) -> dict[str, int]:
        found: Counter[str] = Counter()
        for endpoint in self.endpoints.values():
            if dimension.startswith("Attributes."):
                name = dimension.removeprefix("Attributes.")
                found.update(set(endpoint["Attributes"].get(name, [])))
            elif dimension in endpoint:
                found[endpoint[dimension]] += 1
        return dict(found)


def random_update(rng: random.Random) -> dict[str, Any]:
    request: dict[str, Any] = {"Demographic": {"Platform": rng.choice(["ios", "android", "web"])}}
    if rng.random() < 0.5:
        request["Location"] = {"Country": rng.choice(["FR", "US", "DE"])}
    if rng.random() < 0.7:
        request["Attributes"] = {
            "team": rng.sample(["red", "blue", "green"], rng.randrange(0, 3)),
            "tier": [rng.choice(["gold", "free"])],
        }
    if rng.random() < 0.3:
        request["User"] = {"UserId": rng.choice(["user-a", "user-b"])}
    return request


def demographics(server: Server, app_id: str, dimension: str) -> dict[str, int]:
    path = f"/clarion/v1/apps/{app_id}/reports/demographics?dimension={dimension}"
    response = signed_request(server, "GET", path)
    assert response.status_code == 200, response.text
    rows = response.json()["Rows"]
    ordered = sorted(rows, key=lambda row: (-row["Endpoints"], row["Value"]))
    assert rows == ordered
    return {row["Value"]: row["Endpoints"] for row in rows}


def assert_demographics(server: Server, app_id: str, model: Model) -> None:
    for dimension in ("Platform", "Country", "Attributes.team", "Attributes.tier"):
        assert demographics(server, app_id, dimension) == model.counts(dimension), dimension


def test_demographics_follow_endpoint_writes(server: Server, pinpoint: Any, app_id: str) -> None:
    rng = random.Random(7)
    model = Model()
    for n in range(20):
        request = random_update(rng)
        pinpoint.update_endpoint(
            ApplicationId=app_id, EndpointId=f"device-{n}", EndpointRequest=request
        )
        model.write(f"device-{n}", request)
    assert_demographics(server, app_id, model)

    for n in rng.sample(range(20), 8):
        request = random_update(rng)
        pinpoint.update_endpoint(
            ApplicationId=app_id, EndpointId=f"device-{n}", EndpointRequest=request
        )
        model.write(f"device-{n}", request)
    items = [{"Id": f"device-{n}", **random_update(rng)} for n in range(15, 25)]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    for item in items:
        model.write(item["Id"], item)
    moved = {"Demographic": {"Platform": "tv"}, "Attributes": {"team": ["purple"]}}
    pinpoint.put_events(
        ApplicationId=app_id,
        EventsRequest={
            "BatchItem": {
                endpoint: {
                    "Endpoint": moved,
                    "Events": {"e": {"EventType": "view", "Timestamp": iso(datetime.now(UTC))}},
                }
                for endpoint in ("device-3", "device-30")
            }
        },
    )
    model.write("device-3", moved)
    model.write("device-30", moved)
    assert_demographics(server, app_id, model)

    for endpoint in ("device-1", "device-16"):
        pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId=endpoint)
        model.endpoints.pop(endpoint)
    user_endpoints = [e for e, state in model.endpoints.items() if state.get("User") == "user-a"]
    assert user_endpoints, "the random data should give user-a endpoints"
    pinpoint.delete_user_endpoints(ApplicationId=app_id, UserId="user-a")
    for endpoint in user_endpoints:
        model.endpoints.pop(endpoint)
    pinpoint.remove_attributes(
        ApplicationId=app_id,
        AttributeType="endpoint-custom-attributes",
        UpdateAttributesRequest={"Blacklist": ["tier"]},
    )
    for state in model.endpoints.values():
        state["Attributes"].pop("tier", None)
    assert_demographics(server, app_id, model)
    assert demographics(server, app_id, "Attributes.tier") == {}
