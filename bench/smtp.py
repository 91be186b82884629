"""E-mail throughput: personalised e-mails through Clarion to an SMTP sink, beside a bare loop.

1. The sink: aiosmtpd on loopback in its own process, accepting and counting every message.
2. Clarion (``clarion serve``, SQLite, one process) with ``CLARION_EMAIL_URL=smtp://…`` and an
   e-mail channel; ``--messages`` endpoints (default 10,000) are loaded with a first name each.
   Then SendMessages with 100 endpoints a request and an e-mail whose subject, HTML and text
   parts greet each recipient by name, from ``--clients`` concurrent client threads. Timed from
   the first request to the last answer; every answer must be SUCCESSFUL, and the sink's count
   must reach the number sent. This is the whole path: signed HTTP, recipients read, templates
   rendered, the delivery ledger written before and after the attempt, SMTP, and the
   ``_email.send``/``_email.delivered`` events recorded into analytics.
3. The bare limit: one aiosmtplib connection in a loop sending the same number of messages,
   each pre-rendered to the same MIME bytes Clarion sends (built once, before timing).

    .venv/bin/python bench/smtp.py [--messages 10000] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import aiosmtplib

from clarion.delivery.base import Email
from clarion.delivery.mime import render

sys.path.insert(0, str(Path(__file__).parent))
from harness import HOST, clarion_server, free_port

BATCH = 100
TARGET_RATIO = 0.7
IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
SUBJECT = "Hello {{User.UserAttributes.FirstName}}, your October offers"
HTML = (
    "<html><body><h1>Hi {{User.UserAttributes.FirstName}}</h1>"
    "<p>Here are this month's offers, picked for you.</p>"
    + "<p>Offer details.</p>" * 10
    + "</body></html>"
)
TEXT = "Hi {{User.UserAttributes.FirstName}}\n\nHere are this month's offers, picked for you.\n"


def run_sink(port: int, count: Synchronized[int], ready: Any) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname=HOST, port=port)
    controller.start()
    ready.set()
    threading.Event().wait()


def clarion_run(messages: int, clients: int, sink_port: int, count: Synchronized[int]) -> float:
    with (
        tempfile.TemporaryDirectory() as data,
        clarion_server(
            Path(data),
            CLARION_EMAIL_URL=f"smtp://{HOST}:{sink_port}?max_connections=8",
            CLARION_LOG_LEVEL="warning",
        ) as server,
    ):
        pinpoint = server.client
        app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "bench"})[
            "ApplicationResponse"
        ]["Id"]
        pinpoint.update_email_channel(
            ApplicationId=app_id,
            EmailChannelRequest={"FromAddress": "news@example.com", "Identity": IDENTITY},
        )
        ids = [f"reader-{n}" for n in range(messages)]
        for start in range(0, messages, BATCH):
            items = [
                {
                    "Id": endpoint_id,
                    "ChannelType": "EMAIL",
                    "Address": f"{endpoint_id}@example.org",
                    "User": {"UserAttributes": {"FirstName": [f"Reader{endpoint_id[7:]}"]}},
                }
                for endpoint_id in ids[start : start + BATCH]
            ]
            pinpoint.update_endpoints_batch(
                ApplicationId=app_id, EndpointBatchRequest={"Item": items}
            )
        batches = [ids[start : start + BATCH] for start in range(0, messages, BATCH)]
        request = {
            "MessageConfiguration": {
                "EmailMessage": {
                    "SimpleEmail": {
                        "Subject": {"Data": SUBJECT},
                        "HtmlPart": {"Data": HTML},
                        "TextPart": {"Data": TEXT},
                    }
                }
            }
        }
        failures: list[str] = []
        lock = threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    if not batches:
                        return
                    batch = batches.pop()
                answer = pinpoint.send_messages(
                    ApplicationId=app_id,
                    MessageRequest={**request, "Endpoints": {i: {} for i in batch}},
                )["MessageResponse"]["EndpointResult"]
                failures.extend(
                    f"{i}: {r['DeliveryStatus']} {r.get('StatusMessage', '')}"
                    for i, r in answer.items()
                    if r["DeliveryStatus"] != "SUCCESSFUL"
                )

        before = count.value
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise SystemExit(f"{len(failures)} messages failed, e.g. {failures[:3]}")
        if count.value - before != messages:
            raise SystemExit(f"the sink received {count.value - before} of {messages}")
        return elapsed


def bare_run(messages: int, sink_port: int) -> float:
    payloads = [
        render(
            Email(
                message_id=f"bare-{n}@bench.example",
                sender="news@example.com",
                recipient=f"reader-{n}@example.org",
                subject=f"Hello Reader{n}, your October offers",
                html=HTML.replace("{{User.UserAttributes.FirstName}}", f"Reader{n}"),
                text=TEXT.replace("{{User.UserAttributes.FirstName}}", f"Reader{n}"),
            )
        ).data
        for n in range(messages)
    ]

    async def main() -> float:
        smtp = aiosmtplib.SMTP(hostname=HOST, port=sink_port, start_tls=False)
        await smtp.connect()
        started = time.perf_counter()
        for n, payload in enumerate(payloads):
            await smtp.sendmail("news@example.com", [f"reader-{n}@example.org"], payload)
        elapsed = time.perf_counter() - started
        await smtp.quit()
        return elapsed

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    count: Synchronized[int] = multiprocessing.Value("q", 0)
    ready = multiprocessing.Event()
    port = free_port()
    sink = multiprocessing.Process(target=run_sink, args=(port, count, ready), daemon=True)
    sink.start()
    ready.wait(30)
    try:
        print(
            f"bench/smtp.py: {args.messages:,} personalised e-mails to an aiosmtpd sink on "
            f"loopback (its own process), {os.cpu_count()} CPUs"
        )
        bare = statistics.median(bare_run(args.messages, port) for _ in range(args.runs))
        clarion = statistics.median(
            clarion_run(args.messages, args.clients, port, count) for _ in range(args.runs)
        )
        bare_rate, clarion_rate = args.messages / bare, args.messages / clarion
        ratio = clarion_rate / bare_rate
        verdict = "OK" if ratio >= TARGET_RATIO else "MISSED"
        print(f"  bare aiosmtplib loop, one connection, pre-rendered   {bare_rate:8,.0f} msg/s")
        print(
            f"  Clarion SendMessages ({BATCH}/request, {args.clients} clients), end to end "
            f"{clarion_rate:8,.0f} msg/s"
        )
        print(f"  ratio Clarion / bare {ratio:.2f}  target >= {TARGET_RATIO}  {verdict}")
    finally:
        sink.terminate()


if __name__ == "__main__":
    main()
