"""The server process: data survives a restart, SIGTERM stops it cleanly, logs are JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def test_serve_with_new_key_prints_a_working_quickstart(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    import httpx

    from tests.conftest import free_port

    port = free_port()
    env = {
        **__import__("os").environ,
        "CLARION_DATA_DIR": str(tmp_path),
        "CLARION_HOST": "127.0.0.1",
        "CLARION_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion", "serve", "--new-key"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(6)]
        assert f"http://127.0.0.1:{port}" in banner[0]
        key_line = banner[1].split()
        access_key_id, secret = key_line[3], key_line[5]
        example = [line.strip() for line in banner[3:6]]
        assert example[0] == "import boto3"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
        namespace: dict[str, object] = {}
        exec("\n".join(example[:2]), namespace)  # the printed example, run as a user would
        client: Any = namespace["pinpoint"]
        assert "Item" in client.get_apps()["ApplicationsResponse"]
        credentials = client._request_signer._credentials
        assert (access_key_id, secret) == (credentials.access_key, credentials.secret_key)
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
