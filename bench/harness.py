"""What every benchmark needs: a Clarion server in its own process on a fresh store, a baseline
server on the same ASGI stack, raw signed HTTP requests to replay, an SMTP sink in its own
process, and a throw-away PostgreSQL database."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOST = "127.0.0.1"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def raw_request(method: str, url: str, body: bytes, credentials: Credentials | None) -> bytes:
    """The bytes of one HTTP/1.1 request, signed with SigV4 when credentials are given."""
    request = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/json"}
    )
    if credentials is not None:
        SigV4Auth(credentials, "mobiletargeting", "us-east-1").add_auth(request)
    prepared = request.prepare()
    host, _, path = prepared.url.split("//", 1)[1].partition("/")
    lines = [f"{method} /{path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [
        f"{k}: {v}"
        for k, v in prepared.headers.items()
        if k.lower() not in {"host", "content-length"}
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Clarion:
    url: str
    port: int
    credentials: Credentials
    client: Any
    data_dir: Path


@contextmanager
def clarion_server(data_dir: Path, **env: str) -> Iterator[Clarion]:
    """``clarion serve`` on a fresh SQLite store in ``data_dir``, with a new access key."""
    port = free_port()
    environment = {
        **os.environ,
        "CLARION_DATA_DIR": str(data_dir),
        "CLARION_PORT": str(port),
        "CLARION_HOST": HOST,
        **env,
    }
    created = subprocess.run(
        [sys.executable, "-m", "clarion", "keys", "create", "--json"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(created.stdout)
    process = subprocess.Popen(
        [sys.executable, "-m", "clarion", "serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://{HOST}:{port}"
        wait_until_up(f"{url}/healthz", process)
        client = boto3.client(
            "pinpoint",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        yield Clarion(
            url, port, Credentials(key["AccessKeyId"], key["SecretAccessKey"]), client, data_dir
        )
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextmanager
def baseline_server(script: str, *args: str) -> Iterator[int]:
    """Run ``script --bare PORT ARGS…``: the script's own baseline app under uvicorn."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, script, "--bare", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://{HOST}:{port}/", process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def run_bare(port: int, app: Any) -> None:
    import uvicorn

    uvicorn.run(app, host=HOST, port=port, log_config=None, access_log=False)


def _count_mail(port: int, count: Synchronized[int], ready: Any) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    Controller(Counter(), hostname=HOST, port=port).start()
    ready.set()
    threading.Event().wait()


@contextmanager
def smtp_sink() -> Iterator[tuple[int, Synchronized[int]]]:
    """An aiosmtpd sink on loopback in its own process, accepting every message: its port and
    the count of messages it has accepted."""
    port = free_port()
    count: Synchronized[int] = multiprocessing.Value("q", 0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_count_mail, args=(port, count, ready), daemon=True)
    sink.start()
    if not ready.wait(30):
        sink.terminate()
        raise RuntimeError("the SMTP sink did not start")
    try:
        yield port, count
    finally:
        sink.terminate()
        sink.join(10)


@contextmanager
def postgres_database(admin_url: str = DEFAULT_POSTGRES) -> Iterator[str]:
    """A new, empty PostgreSQL database next to ``admin_url``'s, dropped afterwards."""
    import psycopg

    name = f"clarion_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
