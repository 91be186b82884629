"""No request may stall the others (issue 10, finding 5): Pinpoint's dimension quota is
enforced when a segment is written, and heavy work runs off the event loop, so /healthz keeps
answering while one expensive request runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from tests.conftest import Server, signed_request


def contains_dimensions(count: int, values: int) -> dict[str, Any]:
    return {
        "UserAttributes": {
            f"a{d}": {"AttributeType": "CONTAINS", "Values": [f"v{d}-{v}" for v in range(values)]}
            for d in range(count)
        }
    }


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"Dimensions": contains_dimensions(101, 1)}, "101 dimensions; a segment may have at"),
        ({"Dimensions": contains_dimensions(10_000, 1)}, "10000 dimensions"),
        ({"Dimensions": contains_dimensions(1, 101)}, "has 101 values"),
        (
            {
                "SegmentGroups": {
                    "Include": "ALL",
                    "Groups": [
                        {"Dimensions": [contains_dimensions(60, 1), contains_dimensions(41, 1)]}
                    ],
                }
            },
            "101 dimensions",
        ),
    ],
)
def test_segments_past_the_dimension_quota_are_refused(
    pinpoint: Any, app_id: str, request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException, match=message):
        pinpoint.create_segment(
            ApplicationId=app_id, WriteSegmentRequest={"Name": "big", **request_body}
        )


def test_healthz_answers_while_a_heavy_estimate_runs(
    server: Server, pinpoint: Any, app_id: str
) -> None:
    for batch in range(5):
        pinpoint.update_endpoints_batch(
            ApplicationId=app_id,
            EndpointBatchRequest={
                "Item": [
                    {
                        "Id": f"e{batch}-{n}",
                        "ChannelType": "EMAIL",
                        "Address": f"e{batch}-{n}@example.com",
                        "User": {"UserAttributes": {"a0": [f"value {n}"]}},
                    }
                    for n in range(100)
                ]
            },
        )
    segment_id = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={"Name": "heavy", "Dimensions": contains_dimensions(100, 100)},
    )["SegmentResponse"]["Id"]
    estimate_took: list[float] = []

    def estimate() -> None:
        started = time.monotonic()
        response = signed_request(
            server, "GET", f"/clarion/v1/apps/{app_id}/segments/{segment_id}/estimate"
        )
        assert response.status_code == 200, response.text
        estimate_took.append(time.monotonic() - started)

    heavy = threading.Thread(target=estimate)
    heavy.start()
    waits = []
    while heavy.is_alive():
        started = time.monotonic()
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
        waits.append(time.monotonic() - started)
        time.sleep(0.02)
    heavy.join()

    [took] = estimate_took
    assert took > 1, f"the estimate took {took:.2f} s: too light to show anything"
    assert len(waits) >= 3
    assert max(waits) < took / 5, (max(waits), took)
