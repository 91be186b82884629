"""Signed PutEvents, 100 events a request, through the full server: events/s.

Beside it, a bare endpoint on the same ASGI stack that only parses the same JSON and answers
202; the ratio between the two is the figure to quote. Every request carries new event ids
(a replayed batch would be recognised as a resend and cost almost nothing), spread over
endpoints, sessions, custom events with attributes and metrics, and purchases.

    .venv/bin/python bench/ingest.py [--requests 1500] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from harness import HOST, baseline_server, clarion_server, raw_request, run_bare
from loadgen import hammer

EVENTS_PER_REQUEST = 100
ENDPOINTS_PER_REQUEST = 10


def batch(number: int, rng: random.Random) -> dict[str, Any]:
    """One PutEvents body: 10 endpoints x 10 events, sessions, custom events, a purchase."""
    items: dict[str, Any] = {}
    for e in range(ENDPOINTS_PER_REQUEST):
        endpoint = f"device-{rng.randrange(20_000)}"
        start = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(
            days=rng.randrange(25), seconds=rng.randrange(86_000)
        )
        session = {"Id": f"s-{number}-{e}", "StartTimestamp": start.isoformat()}
        events: dict[str, Any] = {}
        for i in range(EVENTS_PER_REQUEST // ENDPOINTS_PER_REQUEST):
            moment = (start + timedelta(seconds=10 * i)).isoformat()
            event: dict[str, Any]
            if i == 0:
                event = {"EventType": "_session.start"}
            elif i == 9:
                event = {"EventType": "_session.stop"}
            elif i == 5:
                event = {
                    "EventType": "_monetization.purchase",
                    "Attributes": {"_currency": "USD", "_product_id": f"p{rng.randrange(50)}"},
                    "Metrics": {"_item_price": 1.99, "_quantity": 1},
                }
            else:
                event = {
                    "EventType": rng.choice(["level.up", "button.tap", "item.view"]),
                    "Attributes": {"screen": rng.choice(["home", "shop", "game"]), "ab": "b"},
                    "Metrics": {"score": rng.random() * 100, "ms": float(rng.randrange(900))},
                }
            events[f"{number}-{e}-{i}"] = {**event, "Timestamp": moment, "Session": session}
        items[endpoint] = {
            "Endpoint": {"Demographic": {"Platform": "android", "AppVersion": "3.2.1"}},
            "Events": events,
        }
    return {"BatchItem": items}


def serve_bare(port: int) -> None:
    """The baseline: parse the JSON, answer 202."""
    import orjson
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def put_events(request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(b'{"Results":{}}', status_code=202, media_type="application/json")

    async def root(_request: Request) -> Response:
        return Response(b"{}")

    run_bare(
        port,
        Starlette(
            routes=[Route("/", root), Route("/v1/apps/{app}/events", put_events, methods=["POST"])]
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="PutEvents throughput")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bare", nargs=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        serve_bare(int(args.bare[0]))
        return

    rng = random.Random(7)
    bodies = [json.dumps(batch(n, rng)).encode() for n in range(args.requests)]
    with tempfile.TemporaryDirectory() as tmp, clarion_server(Path(tmp)) as clarion:
        app_id = clarion.client.create_app(CreateApplicationRequest={"Name": "bench"})[
            "ApplicationResponse"
        ]["Id"]
        path = f"/v1/apps/{app_id}/events"
        signed = [raw_request("POST", clarion.url + path, b, clarion.credentials) for b in bodies]
        print(
            f"bench/ingest.py: {args.requests} requests x {EVENTS_PER_REQUEST} events, "
            f"{args.concurrency} connections, SQLite store, 1 server process"
        )
        ours = hammer(
            "PutEvents (signed, Clarion)",
            HOST,
            clarion.port,
            signed,
            concurrency=args.concurrency,
            seconds=600,
            warmup=0,
            repeat=False,
        )
        with baseline_server(__file__) as bare_port:
            bare = [
                raw_request("POST", f"http://{HOST}:{bare_port}{path}", b, None) for b in bodies
            ]
            base = hammer(
                "PutEvents (bare: parse only)",
                HOST,
                bare_port,
                bare,
                concurrency=args.concurrency,
                seconds=600,
                warmup=0,
                repeat=False,
            )
        for result in (ours, base):
            print(result.line())
            print(f"{'':<34} {result.rate * EVENTS_PER_REQUEST:>9.0f} events/s")
        print(f"{'':<34} ratio Clarion/bare: {ours.rate / base.rate:.2f}")


if __name__ == "__main__":
    main()
