"""Concurrent first writes to endpoints, on SQLite and PostgreSQL: every request succeeds, and
the endpoints, facets and rollups end as a sequential run of the same requests would leave them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from tests.conftest import Server, signed_request

WRITERS = 24
"""More than the server's 20 PostgreSQL connections: each request holds a read connection while
it waits for a write one, so the server must keep a burst from taking them all."""
DAY = "2026-11-20"

T = TypeVar("T")


def unretried_client(server: Server) -> Any:
    """A client that reports a failed request rather than retrying it (``Server.client``
    retries once, which would hide the errors this test looks for)."""
    return boto3.client(
        "pinpoint",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret,
        config=Config(retries={"total_max_attempts": 1}),
    )


def all_at_once(server: Server, app_id: str, call: Callable[[Any, int], T]) -> list[T]:
    """``call(client, n)`` for n in 0..WRITERS-1, each on its own thread and boto3 client,
    released together so their transactions overlap. Each client makes a first call before,
    so what botocore loads on first use does not spread the calls out."""
    clients = [unretried_client(server) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)

    def run(n: int) -> T:
        clients[n].get_app(ApplicationId=app_id)
        start.wait()
        return call(clients[n], n)

    with ThreadPoolExecutor(WRITERS) as pool:
        return list(pool.map(run, range(WRITERS)))


def report(server: Server, app_id: str, path: str) -> list[dict[str, Any]]:
    response = signed_request(server, "GET", f"/clarion/v1/apps/{app_id}/reports/{path}")
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["Rows"]
    return rows


def demographics(server: Server, app_id: str, dimension: str) -> dict[str, int]:
    rows = report(server, app_id, f"demographics?dimension={dimension}")
    return {row["Value"]: row["Endpoints"] for row in rows}


def test_concurrent_updates_of_a_new_endpoint_all_merge(server: Server, app_id: str) -> None:
    def update(client: Any, n: int) -> int:
        answer = client.update_endpoint(
            ApplicationId=app_id,
            EndpointId="Racer",
            EndpointRequest={"Attributes": {f"a{n}": [str(n)]}, "Demographic": {"Platform": "ios"}},
        )
        status: int = answer["ResponseMetadata"]["HTTPStatusCode"]
        return status

    assert all_at_once(server, app_id, update) == [202] * WRITERS
    pinpoint = server.client()
    endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="racer")["EndpointResponse"]
    assert endpoint["Id"] == "Racer"
    assert endpoint["Attributes"] == {f"a{n}": [str(n)] for n in range(WRITERS)}
    assert demographics(server, app_id, "Platform") == {"ios": 1}
    assert demographics(server, app_id, "Attributes.a7") == {"7": 1}


def test_concurrent_batches_over_shared_new_endpoints_all_merge(
    server: Server, app_id: str
) -> None:
    """Batches naming the same new endpoints in different orders neither fail nor deadlock."""
    ids = [f"shared-{k}" for k in range(5)]

    def update(client: Any, n: int) -> int:
        order = ids[n % len(ids) :] + ids[: n % len(ids)]
        if n % 2:
            order.reverse()
        items = [{"Id": i, "Attributes": {f"b{n}": ["x"], "common": [i]}} for i in order]
        answer = client.update_endpoints_batch(
            ApplicationId=app_id, EndpointBatchRequest={"Item": items}
        )
        status: int = answer["ResponseMetadata"]["HTTPStatusCode"]
        return status

    assert all_at_once(server, app_id, update) == [202] * WRITERS
    pinpoint = server.client()
    for i in ids:
        endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId=i)["EndpointResponse"]
        assert endpoint["Attributes"] == {"common": [i]} | {f"b{n}": ["x"] for n in range(WRITERS)}
    assert demographics(server, app_id, "Attributes.common") == {i: 1 for i in ids}
    assert demographics(server, app_id, "Attributes.b3") == {"x": len(ids)}


def test_concurrent_events_for_a_new_endpoint_all_count_once(server: Server, app_id: str) -> None:
    def put(client: Any, n: int) -> dict[str, Any]:
        answer = client.put_events(
            ApplicationId=app_id,
            EventsRequest={
                "BatchItem": {
                    "Newcomer": {
                        "Endpoint": {
                            "Attributes": {f"p{n}": [str(n)]},
                            "Demographic": {"Platform": "android"},
                        },
                        "Events": {
                            f"event-{n}": {"EventType": "tap", "Timestamp": f"{DAY}T10:00:{n:02}Z"}
                        },
                    }
                }
            },
        )
        result: dict[str, Any] = answer["EventsResponse"]["Results"]["Newcomer"]
        return result

    accepted = {"Message": "Accepted", "StatusCode": 202}
    for n, result in enumerate(all_at_once(server, app_id, put)):
        assert result == {
            "EndpointItemResponse": accepted,
            "EventsItemResponse": {f"event-{n}": accepted},
        }
    pinpoint = server.client()
    endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="Newcomer")
    assert endpoint["EndpointResponse"]["Attributes"] == {f"p{n}": [str(n)] for n in range(WRITERS)}
    assert demographics(server, app_id, "Platform") == {"android": 1}
    days = f"start-time={DAY}&end-time={DAY}"
    [active] = report(server, app_id, f"active-users?{days}")
    assert (active["DailyActiveUsers"], active["NewUsers"]) == (1, 1)
    [taps] = report(server, app_id, f"events?event-type=tap&{days}")
    assert taps["Count"] == WRITERS
