"""PutEvents over HTTP: per-event results, quotas, idempotence and durability."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from clarion.config import load_settings
from clarion.store.database import Database
from clarion.store.schema import daily_events, events
from tests.conftest import Server, signed_request, start_server


def event(event_type: str, timestamp: str, **extra: Any) -> dict[str, Any]:
    return {"EventType": event_type, "Timestamp": timestamp, **extra}


def test_one_bad_event_never_loses_its_batch_mates(pinpoint: Any, app_id: str) -> None:
    response = pinpoint.put_events(
        ApplicationId=app_id,
        EventsRequest={
            "BatchItem": {
                "phone-1": {
                    "Endpoint": {"ChannelType": "EMAIL", "Address": "p1@example.com"},
                    "Events": {
                        "good": event("level.up", "2026-11-20T10:00:00Z", Attributes={"l": "2"}),
                        "bad-time": event("level.up", "yesterday"),
                        "too-long": event(
                            "level.up", "2026-11-20T10:00:00Z", Attributes={"k": "v" * 201}
                        ),
                        "too-many": event(
                            "level.up",
                            "2026-11-20T10:00:00Z",
                            Attributes={f"a{i}": "v" for i in range(21)},
                            Metrics={f"m{i}": 1.0 for i in range(20)},
                        ),
                    },
                },
                "phone-2": {
                    "Endpoint": {"ChannelType": "SMS", "Address": "not a number"},
                    "Events": {"ok": event("level.up", "2026-11-20T11:00:00Z")},
                },
            }
        },
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    results = response["EventsResponse"]["Results"]
    first = results["phone-1"]["EventsItemResponse"]
    assert first["good"] == {"Message": "Accepted", "StatusCode": 202}
    assert first["bad-time"]["StatusCode"] == 400 and "Timestamp" in first["bad-time"]["Message"]
    assert first["too-long"]["StatusCode"] == 400 and "200" in first["too-long"]["Message"]
    assert first["too-many"]["StatusCode"] == 400 and "40" in first["too-many"]["Message"]
    second = results["phone-2"]
    assert second["EndpointItemResponse"]["StatusCode"] == 400
    assert "Address" in second["EndpointItemResponse"]["Message"]
    assert second["EventsItemResponse"]["ok"]["StatusCode"] == 202
    assert (
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="phone-1")["EndpointResponse"][
            "Address"
        ]
        == "p1@example.com"
    )


def test_more_than_100_events_is_refused_whole(pinpoint: Any, app_id: str) -> None:
    events_ = {f"e{i}": event("tap", "2026-11-20T10:00:00Z") for i in range(101)}
    with pytest.raises(ClientError) as excinfo:
        pinpoint.put_events(
            ApplicationId=app_id,
            EventsRequest={"BatchItem": {"x": {"Endpoint": {}, "Events": events_}}},
        )
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"
    assert "100" in excinfo.value.response["Error"]["Message"]


def test_request_over_four_megabytes_is_too_large(server: Server, app_id: str) -> None:
    big = {
        f"e{i}": event("tap", "2026-11-20T10:00:00Z", Attributes={"pad": "x" * 200})
        for i in range(90)
    }
    body = {"BatchItem": {f"ep{j}": {"Endpoint": {}, "Events": big} for j in range(1)}}
    payload = json.dumps(body).encode() + b" " * (4 * 1024 * 1024)
    response = signed_request(server, "POST", f"/v1/apps/{app_id}/events", payload)
    assert response.status_code == 413
    assert response.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"


def test_events_without_endpoint_data_create_the_endpoint(pinpoint: Any, app_id: str) -> None:
    pinpoint.put_events(
        ApplicationId=app_id,
        EventsRequest={
            "BatchItem": {
                "fresh": {"Endpoint": {}, "Events": {"1": event("tap", "2026-11-20T10:00:00Z")}}
            }
        },
    )
    endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="fresh")["EndpointResponse"]
    assert endpoint["EndpointStatus"] == "ACTIVE"


def acknowledged(server: Server, app_id: str, count: int, prefix: str) -> set[str]:
    client = server.client()
    ids: set[str] = set()
    for batch in range(count):
        batch_events = {
            f"{prefix}-{batch}-{i}": event("tap", "2026-11-20T10:00:00Z") for i in range(50)
        }
        response = client.put_events(
            ApplicationId=app_id,
            EventsRequest={
                "BatchItem": {f"device-{batch}": {"Endpoint": {}, "Events": batch_events}}
            },
        )
        results = response["EventsResponse"]["Results"][f"device-{batch}"]["EventsItemResponse"]
        ids |= {eid for eid, r in results.items() if r["StatusCode"] == 202}
    return ids


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_acknowledged_events_survive_kill_9(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    database_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    first = start_server(tmp_path, database_url)
    app_id = first.client().create_app(CreateApplicationRequest={"Name": "durable"})[
        "ApplicationResponse"
    ]["Id"]
    sent = acknowledged(first, app_id, 6, "before")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)

    second = start_server(tmp_path, database_url)
    try:
        sent |= acknowledged(second, app_id, 2, "after")
    finally:
        second.stop()
    url = load_settings(data_dir=tmp_path, database_url=database_url or "").sqlalchemy_url
    db = Database(url)
    try:
        with db.read() as conn:
            stored = set(
                conn.execute(
                    sa.select(events.c.event_id).where(events.c.app_id == app_id)
                ).scalars()
            )
            counted = conn.execute(
                sa.select(sa.func.sum(daily_events.c.count)).where(daily_events.c.app_id == app_id)
            ).scalar()
    finally:
        db.dispose()
    assert sent <= stored
    assert counted == len(stored) == 400


def test_resending_a_batch_counts_nothing_twice(server: Server, pinpoint: Any, app_id: str) -> None:
    request = {
        "BatchItem": {
            "d": {
                "Endpoint": {},
                "Events": {
                    "same-1": event("tap", "2026-11-20T10:00:00Z"),
                    "same-2": event("tap", "2026-11-20T10:00:01Z"),
                },
            }
        }
    }
    for _ in range(3):
        response = pinpoint.put_events(ApplicationId=app_id, EventsRequest=request)
        statuses = response["EventsResponse"]["Results"]["d"]["EventsItemResponse"]
        assert {r["StatusCode"] for r in statuses.values()} == {202}
    url = (
        server.env.get("CLARION_DATABASE_URL")
        or f"sqlite:///{server.env['CLARION_DATA_DIR']}/clarion.db"
    )
    db = Database(load_settings(database_url=url).sqlalchemy_url)
    try:
        with db.read() as conn:
            counted = conn.execute(
                sa.select(daily_events.c.count).where(
                    daily_events.c.app_id == app_id, daily_events.c.event_type == "tap"
                )
            ).scalar()
    finally:
        db.dispose()
    assert counted == 2


def test_custom_event_types_are_capped_at_1500_per_app(pinpoint: Any, app_id: str) -> None:
    for start in range(0, 1500, 100):
        batch_events = {
            f"t{i}": event(f"type.{i}", "2026-11-20T10:00:00Z") for i in range(start, start + 100)
        }
        pinpoint.put_events(
            ApplicationId=app_id,
            EventsRequest={"BatchItem": {"d": {"Endpoint": {}, "Events": batch_events}}},
        )
    response = pinpoint.put_events(
        ApplicationId=app_id,
        EventsRequest={
            "BatchItem": {
                "d": {
                    "Endpoint": {},
                    "Events": {
                        "new-type": event("type.1500", "2026-11-20T10:00:00Z"),
                        "known-type": event("type.7", "2026-11-20T10:00:00Z"),
                        "reserved": event("_session.start", "2026-11-20T10:00:00Z"),
                    },
                }
            }
        },
    )
    results = response["EventsResponse"]["Results"]["d"]["EventsItemResponse"]
    assert results["new-type"]["StatusCode"] == 400
    assert "1500" in results["new-type"]["Message"]
    assert results["known-type"]["StatusCode"] == 202
    assert results["reserved"]["StatusCode"] == 202
