"""How CreateImportJob and CreateExportJob word an s3:// location that cannot be used (issue
12, point 9), against stand-ins for S3 on loopback: one that refuses every request, and a port
nobody listens on. A missing bucket and missing credentials are in tests/api/test_jobs.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import free_port

from clarion.errors import BadRequest
from clarion.file_roots import FileRoots
from clarion.jobs.locations import Locations
from clarion.outbound import OutboundPolicy

DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))


@pytest.fixture
def denying() -> Iterator[str]:
    """An S3 stand-in that answers every request 403 AccessDenied."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(DENIED)))
            self.end_headers()
            self.wfile.write(DENIED)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def locations(endpoint: str) -> Locations:
    return Locations(
        file_roots=FileRoots([]),
        policy=OutboundPolicy(),
        aws_endpoint_url=endpoint,
        region="us-east-1",
    )


def test_a_bucket_the_credentials_may_not_use_is_refused_with_s3s_reason(denying: str) -> None:
    with pytest.raises(BadRequest) as refused:
        locations(denying).check_source("s3://private/in/", "ImportJobRequest.S3Url", "app")
    assert refused.value.message == (
        "ImportJobRequest.S3Url 's3://private/in/': S3 refuses the server's AWS credentials "
        "access to bucket 'private' (AccessDenied: Access Denied)"
    )


def test_an_s3_nobody_answers_at_is_refused_at_once() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BadRequest) as refused:
        locations(endpoint).check_sink("s3://b/out/", "ExportJobRequest.S3UrlPrefix", "app")
    message = refused.value.message
    assert message.startswith("ExportJobRequest.S3UrlPrefix 's3://b/out/': S3 cannot be reached")
    assert endpoint in message
