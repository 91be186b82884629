"""Shared fixtures: a real Clarion server per backend, driven over HTTP by signed boto3 clients.

PostgreSQL tests use a fresh database per run. Without a reachable PostgreSQL they are skipped,
except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from botocore.config import Config

from clarion.config import load_settings
from clarion.store.database import Database

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


# The test peers (hooks, streams, provider stand-ins) listen on loopback, which the
# outbound-address policy refuses unless the operator allows it; tests of the refusal set it
# to "" for their own server.
os.environ.setdefault("CLARION_OUTBOUND_ALLOW", "127.0.0.0/8,::1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running ``clarion serve`` subprocess and what it takes to talk to it."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    access_key_id: str
    secret: str
    log: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def new_key(self, *apps: str) -> tuple[str, str]:
        app_args = [arg for app in apps for arg in ("--app", app)]
        done = self.cli("keys", "create", "--json", "--name", "test", *app_args)
        assert done.returncode == 0, done.stderr
        created = json.loads(done.stdout)
        return created["AccessKeyId"], created["SecretAccessKey"]

    def client(self, key: tuple[str, str] | None = None, region: str = "us-east-1") -> Any:
        access_key_id, secret = key or (self.access_key_id, self.secret)
        return boto3.client(
            "pinpoint",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def start_server(data_dir: Path, database_url: str | None, **settings: str) -> Server:
    port = free_port()
    # Servers may write bytecode even where the test run may not: each would otherwise compile
    # every module (phonenumbers' data above all) again at start.
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "CLARION_DATA_DIR": str(data_dir),
        "CLARION_HOST": "127.0.0.1",
        "CLARION_PORT": str(port),
        **settings,
    }
    if database_url:
        env["CLARION_DATABASE_URL"] = database_url
    log = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion", "serve"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start:\n{log.read_text()}")
        time.sleep(0.1)
    server = Server(url, env, process, "", "", log)
    server.access_key_id, server.secret = server.new_key()
    return server


@contextlib.contextmanager
def new_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (a skip, or in CI a failure, when
    PostgreSQL is unreachable)."""
    admin_url = os.environ.get("CLARION_TEST_DATABASE_URL", DEFAULT_PG)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is not reachable at {admin_url}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"clarion_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The test run's PostgreSQL database, shared by the servers started with the default
    settings. A server configured otherwise (where messages go, file roots) needs a database of
    its own, from ``new_postgres_database``: every server's workers take any job, run or
    message in their database, and would handle another's with their own settings."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated store for repository-level tests, on each backend (the session's PostgreSQL
    database, which other tests share: tests keep to apps of their own)."""
    url = (
        load_settings(database_url=request.getfixturevalue("postgres_url")).sqlalchemy_url
        if request.param == "postgresql"
        else f"sqlite:///{tmp_path_factory.mktemp('store') / 'clarion.db'}"
    )
    database = Database(url)
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    database_url = (
        request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    )
    running = start_server(tmp_path_factory.mktemp(f"clarion-{request.param}"), database_url)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


@pytest.fixture
def pinpoint(server: Server) -> Any:
    return server.client()


@pytest.fixture
def app_id(pinpoint: Any) -> Iterator[str]:
    created = pinpoint.create_app(CreateApplicationRequest={"Name": "test-app"})
    app_id: str = created["ApplicationResponse"]["Id"]
    yield app_id
    with contextlib.suppress(pinpoint.exceptions.NotFoundException):
        pinpoint.delete_app(ApplicationId=app_id)


def signed_request(
    server: Server,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    key: tuple[str, str] | None = None,
    region: str = "us-east-1",
    service: str = "mobiletargeting",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request signed the way botocore signs, for what boto3 itself refuses to send."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    access_key_id, secret = key or (server.access_key_id, server.secret)
    request = AWSRequest(
        method=method,
        url=server.url + path,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    SigV4Auth(Credentials(access_key_id, secret), service, region).add_auth(request)
    prepared = request.prepare()
    return httpx.request(
        method, prepared.url, headers=dict(prepared.headers), content=body, timeout=30
    )
