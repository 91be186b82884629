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
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from harness import HOST, baseline_server, clarion_server, raw_request, run_bare
from loadgen import hammer

ENDPOINT_REQUEST = {
    "ChannelType": "EMAIL",
    "Address": "bench@example.com",
    "Attributes": {"Plan": ["pro"], "Interests": ["a", "b", "c"]},
    "Demographic": {"Platform": "ios", "AppVersion": "1.2.3", "Timezone": "Europe/Paris"},
    "Location": {"Country": "FR", "City": "Paris"},
    "Metrics": {"score": 7.0},
    "User": {"UserId": "bench-user", "UserAttributes": {"FirstName": ["Ada"]}},
}
ACCEPTED = b'{"Message":"Accepted","RequestID":"00000000-0000-0000-0000-000000000000"}'


def serve_bare(port: int, get_body: bytes) -> None:
    """The baseline: same server stack, fixed answers."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def get_endpoint(_request: Request) -> Response:
        return Response(get_body, media_type="application/json")

    async def update_endpoint(request: Request) -> Response:
        await request.body()
        return Response(ACCEPTED, status_code=202, media_type="application/json")

    async def root(_request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    path = "/v1/apps/{app}/endpoints/{endpoint}"
    run_bare(
        port,
        Starlette(
            routes=[
                Route("/", root),
                Route(path, get_endpoint, methods=["GET"]),
                Route(path, update_endpoint, methods=["PUT"]),
            ]
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Signed GetEndpoint/UpdateEndpoint throughput")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bare", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        serve_bare(int(args.bare[0]), Path(args.bare[1]).read_bytes())
        return

    with tempfile.TemporaryDirectory() as tmp, clarion_server(Path(tmp)) as clarion:
        app_id = clarion.client.create_app(CreateApplicationRequest={"Name": "bench"})[
            "ApplicationResponse"
        ]["Id"]
        clarion.client.update_endpoint(
            ApplicationId=app_id, EndpointId="bench-1", EndpointRequest=ENDPOINT_REQUEST
        )
        path = f"/v1/apps/{app_id}/endpoints/bench-1"
        body = json.dumps(ENDPOINT_REQUEST).encode()
        get_signed = raw_request("GET", clarion.url + path, b"", clarion.credentials)
        put_signed = raw_request("PUT", clarion.url + path, body, clarion.credentials)
        answer = httpx.get(clarion.url + path, headers=_headers_of(get_signed)).content
        (Path(tmp) / "get.json").write_bytes(answer)

        with baseline_server(__file__, str(Path(tmp) / "get.json")) as bare_port:
            bare_url = f"http://{HOST}:{bare_port}"
            get_bare = raw_request("GET", bare_url + path, b"", None)
            put_bare = raw_request("PUT", bare_url + path, body, None)
            options = {"concurrency": args.concurrency, "seconds": args.seconds}
            print(
                f"bench/api.py: {args.concurrency} connections, {args.seconds:.0f} s each, "
                "SQLite store, 1 server process, logging at info"
            )
            for label, signed, bare in (
                ("GetEndpoint", get_signed, get_bare),
                ("UpdateEndpoint", put_signed, put_bare),
            ):
                ours = hammer(f"{label} (signed, Clarion)", HOST, clarion.port, [signed], **options)
                base = hammer(f"{label} (bare baseline)", HOST, bare_port, [bare], **options)
                print(ours.line())
                print(base.line())
                print(f"{'':<34} ratio Clarion/bare: {ours.rate / base.rate:.2f}")


def _headers_of(raw: bytes) -> dict[str, str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return dict(line.split(": ", 1) for line in head)


if __name__ == "__main__":
    main()
