"""Signed GetEndpoint and UpdateEndpoint over HTTP: requests/s and p50/p99 latency.

Beside each, a bare endpoint on the same ASGI stack (Starlette under uvicorn, same settings)
answers the same JSON with no signature check, no parsing and no storage; the ratio between
the two is the figure to quote. Servers run as separate processes on loopback; the load
generator replays pre-signed requests, so the server verifies a real signature every time.

    .venv/bin/python bench/api.py [--seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import Result, hammer

HOST = "127.0.0.1"
ENDPOINT_REQUEST = {
    "ChannelType": "EMAIL",
    "Address": "bench@example.com",
    "Attributes": {"Plan": ["pro"], "Interests": ["a", "b", "c"]},
    "Demographic": {"Platform": "ios", "AppVersion": "1.2.3", "Timezone": "Europe/Paris"},
    "Location": {"Country": "FR", "City": "Paris"},
    "Metrics": {"score": 7.0},
    "User": {"UserId": "bench-user", "UserAttributes": {"FirstName": ["Ada"]}},
}


def free_port() -> int:
    import socket

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
    request = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/json"}
    )
    if credentials is not None:
        SigV4Auth(credentials, "mobiletargeting", "us-east-1").add_auth(request)
    prepared = request.prepare()
    target = prepared.url.split("//", 1)[1]
    host, _, path = target.partition("/")
    lines = [f"{method} /{path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [
        f"{k}: {v}"
        for k, v in prepared.headers.items()
        if k.lower() not in {"host", "content-length"}
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def serve_bare(port: int, get_body: bytes, put_body: bytes) -> None:
    """The baseline: same server stack, fixed answers."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def get_endpoint(_request: Request) -> Response:
        return Response(get_body, media_type="application/json")

    async def update_endpoint(request: Request) -> Response:
        await request.body()
        return Response(put_body, status_code=202, media_type="application/json")

    app = Starlette(
        routes=[
            Route("/v1/apps/{app}/endpoints/{endpoint}", get_endpoint, methods=["GET"]),
            Route("/v1/apps/{app}/endpoints/{endpoint}", update_endpoint, methods=["PUT"]),
        ]
    )
    uvicorn.run(app, host=HOST, port=port, log_config=None, access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--bare", nargs=3, metavar=("PORT", "GET_BODY", "PUT_BODY"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.bare:
        serve_bare(
            int(args.bare[0]), Path(args.bare[1]).read_bytes(), Path(args.bare[2]).read_bytes()
        )
        return

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "CLARION_DATA_DIR": tmp,
            "CLARION_PORT": str(port),
            "CLARION_HOST": HOST,
        }
        created = subprocess.run(
            [sys.executable, "-m", "clarion", "keys", "create", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = json.loads(created.stdout)
        clarion = subprocess.Popen(
            [sys.executable, "-m", "clarion", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare = None
        try:
            url = f"http://{HOST}:{port}"
            wait_until_up(f"{url}/healthz", clarion)
            client = boto3.client(
                "pinpoint",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"],
            )
            app_id = client.create_app(CreateApplicationRequest={"Name": "bench"})[
                "ApplicationResponse"
            ]["Id"]
            client.update_endpoint(
                ApplicationId=app_id, EndpointId="bench-1", EndpointRequest=ENDPOINT_REQUEST
            )
            path = f"/v1/apps/{app_id}/endpoints/bench-1"
            credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
            body = json.dumps(ENDPOINT_REQUEST).encode()
            get_signed = raw_request("GET", url + path, b"", credentials)
            put_signed = raw_request("PUT", url + path, body, credentials)

            get_answer = httpx.get(url + path, headers=_headers_of(get_signed)).content
            put_answer = (
                b'{"Message":"Accepted","RequestID":"00000000-0000-0000-0000-000000000000"}'
            )
            (Path(tmp) / "get.json").write_bytes(get_answer)
            (Path(tmp) / "put.json").write_bytes(put_answer)
            bare_port = free_port()
            bare = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--bare",
                    str(bare_port),
                    str(Path(tmp) / "get.json"),
                    str(Path(tmp) / "put.json"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            bare_url = f"http://{HOST}:{bare_port}"
            wait_until_up(bare_url + path, bare)
            get_bare = raw_request("GET", bare_url + path, b"", None)
            put_bare = raw_request("PUT", bare_url + path, body, None)

            options = {"concurrency": args.concurrency, "seconds": args.seconds}
            print(
                f"bench/api.py: {args.concurrency} connections, {args.seconds:.0f} s each, "
                "SQLite store, 1 server process, logging at info"
            )
            pairs: list[tuple[Result, Result]] = [
                (
                    hammer("GetEndpoint (signed, Clarion)", HOST, port, get_signed, **options),
                    hammer("GetEndpoint (bare baseline)", HOST, bare_port, get_bare, **options),
                ),
                (
                    hammer("UpdateEndpoint (signed, Clarion)", HOST, port, put_signed, **options),
                    hammer("UpdateEndpoint (bare baseline)", HOST, bare_port, put_bare, **options),
                ),
            ]
            for clarion_result, bare_result in pairs:
                print(clarion_result.line())
                print(bare_result.line())
                print(f"{'':<34} ratio Clarion/bare: {clarion_result.rate / bare_result.rate:.2f}")
        finally:
            for process in (clarion, bare):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)


def _headers_of(raw: bytes) -> dict[str, str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return dict(line.split(": ", 1) for line in head)


if __name__ == "__main__":
    main()
