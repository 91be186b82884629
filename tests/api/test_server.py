"""The server process: data survives a restart, SIGTERM stops it cleanly, logs are JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import start_server


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_data_persists_across_restart_and_sigterm_is_graceful(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    database_url = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    first = start_server(tmp_path, database_url)
    client = first.client()
    app_id = client.create_app(CreateApplicationRequest={"Name": "durable"})["ApplicationResponse"][
        "Id"
    ]
    client.update_endpoint(
        ApplicationId=app_id,
        EndpointId="e",
        EndpointRequest={"ChannelType": "EMAIL", "Address": "d@example.com"},
    )
    assert first.stop() == 0

    second = start_server(tmp_path, database_url)
    try:
        client = second.client((first.access_key_id, first.secret))
        assert client.get_app(ApplicationId=app_id)["ApplicationResponse"]["Name"] == "durable"
        endpoint = client.get_endpoint(ApplicationId=app_id, EndpointId="e")["EndpointResponse"]
        assert endpoint["Address"] == "d@example.com"
    finally:
        assert second.stop() == 0


def test_logs_are_json_lines_with_request_ids(tmp_path: Path) -> None:
    server = start_server(tmp_path, None)
    try:
        client = server.client()
        response = client.get_apps()
        request_id = response["ResponseMetadata"]["RequestId"]
    finally:
        server.stop()
    entries = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    requests = [e for e in entries if e.get("message") == "request"]
    assert any(
        e.get("request_id") == request_id and e.get("operation") == "GetApps" for e in requests
    )
    assert server.secret not in server.log.read_text()
