"""Event streams through the real server: configure with boto3, events flow to the file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, start_server


@pytest.fixture
def streaming_server(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    roots = tmp_path / "exports"
    roots.mkdir()
    server = start_server(
        tmp_path / "data",
        None,
        CLARION_FILE_ROOTS=json.dumps([str(roots)]),
        CLARION_EXPORT_INTERVAL_SECONDS="0.1",
    )
    yield server, roots
    server.stop()


def exported(directory: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(directory.glob("clicks*"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def test_events_reach_a_file_stream(streaming_server: tuple[Server, Path]) -> None:
    server, roots = streaming_server
    client = server.client()
    app_id = client.create_app(CreateApplicationRequest={"Name": "streamed"})[
        "ApplicationResponse"
    ]["Id"]
    destination = f"file://{roots}/{app_id}/clicks"
    stream = client.put_event_stream(
        ApplicationId=app_id,
        WriteEventStream={
            "DestinationStreamArn": destination,
            "RoleArn": "arn:aws:iam::000000000000:role/streams",
        },
    )["EventStream"]
    assert stream["DestinationStreamArn"] == destination
    assert client.get_event_stream(ApplicationId=app_id)["EventStream"]["ApplicationId"] == app_id

    client.put_events(
        ApplicationId=app_id,
        EventsRequest={
            "BatchItem": {
                "phone": {
                    "Endpoint": {"Demographic": {"Platform": "ios"}},
                    "Events": {
                        f"e{i}": {
                            "EventType": "tap",
                            "Timestamp": "2026-11-20T10:00:00Z",
                            "Attributes": {"n": str(i)},
                        }
                        for i in range(5)
                    },
                }
            }
        },
    )
    deadline = time.monotonic() + 20
    while len(exported(roots / app_id)) < 5:
        assert time.monotonic() < deadline, "events did not reach the stream"
        time.sleep(0.1)
    records = exported(roots / app_id)
    assert sorted(r["attributes"]["n"] for r in records) == [str(i) for i in range(5)]
    assert {r["event_type"] for r in records} == {"tap"}
    assert {r["application"]["app_id"] for r in records} == {app_id}
    assert {r["client"]["client_id"] for r in records} == {"phone"}

    deleted = client.delete_event_stream(ApplicationId=app_id)["EventStream"]
    assert deleted["DestinationStreamArn"] == destination
    with pytest.raises(ClientError) as excinfo:
        client.get_event_stream(ApplicationId=app_id)
    assert excinfo.value.response["Error"]["Code"] == "NotFoundException"


@pytest.mark.parametrize(
    "destination",
    [
        "file:///etc/clarion-stream",
        "ftp://example.com/x",
        "arn:aws:sqs:us-east-1:1:q",
        "kafka://h/t",
    ],
)
def test_destinations_outside_the_rules_are_refused(
    streaming_server: tuple[Server, Path], destination: str
) -> None:
    server, _ = streaming_server
    client = server.client()
    app_id = client.create_app(CreateApplicationRequest={"Name": "refused"})["ApplicationResponse"][
        "Id"
    ]
    with pytest.raises(ClientError) as excinfo:
        client.put_event_stream(
            ApplicationId=app_id,
            WriteEventStream={
                "DestinationStreamArn": destination,
                "RoleArn": "arn:aws:iam::000000000000:role/streams",
            },
        )
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"
