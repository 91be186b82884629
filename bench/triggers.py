"""Event-triggered campaigns: time from PutEvents to the e-mail arriving at an SMTP sink.

A Clarion server (``clarion serve``, SQLite, one process) with an e-mail channel pointing at an
aiosmtpd sink on loopback (its own process, which notes when each message arrives), ``--endpoints``
endpoints in a segment, and one campaign with Frequency EVENT whose EventFilter matches
``purchase`` events with a price over 10. Then ``--events`` PutEvents requests, one matching
event each for a different endpoint, at ``--rate`` per second from one client. The latency of
an event is from just before its PutEvents request was sent to the moment the sink accepted the
message it triggered; the figure is its distribution (target p99 under 1 s).

    .venv/bin/python bench/triggers.py [--events 600] [--rate 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from harness import HOST, clarion_server, free_port

IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
TARGET_P99_S = 1.0


def run_sink(port: int, log: str, ready: Any) -> None:
    from aiosmtpd.controller import Controller

    with Path(log).open("a", buffering=1) as out:

        class Stamp:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                out.write(f"{time.time()} {envelope.rcpt_tos[0]}\n")
                return "250 OK"

        Controller(Stamp(), hostname=HOST, port=port).start()
        ready.set()
        threading.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--endpoints", type=int, default=1000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        log = Path(data) / "arrivals.txt"
        ready = multiprocessing.Event()
        sink = multiprocessing.Process(target=run_sink, args=(port, str(log), ready), daemon=True)
        sink.start()
        ready.wait(30)
        try:
            with clarion_server(
                Path(data) / "clarion",
                CLARION_EMAIL_URL=f"smtp://{HOST}:{port}",
                CLARION_LOG_LEVEL="warning",
            ) as server:
                sent = run(server.client, args)
        finally:
            sink.terminate()
        arrivals: dict[str, float] = {}
        for line in log.read_text().splitlines():
            stamp, recipient = line.split()
            arrivals.setdefault(recipient, float(stamp))
    latencies = sorted(arrivals[r] - t for r, t in sent.items() if r in arrivals)
    missing = len(sent) - len(latencies)
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"bench/triggers.py: {len(sent)} matching events at {args.rate:g}/s, one server "
        f"(SQLite), {args.endpoints} endpoints in the segment"
    )
    print(
        f"  arrived {len(latencies)} of {len(sent)}" + (f"  ({missing} MISSING)" if missing else "")
    )
    print(
        f"  event -> e-mail at the sink: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms  target p99 < {TARGET_P99_S * 1000:.0f} ms  "
        f"{'OK' if p99 < TARGET_P99_S and not missing else 'MISSED'}"
    )


def run(pinpoint: Any, args: argparse.Namespace) -> dict[str, float]:
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "triggers"})[
        "ApplicationResponse"
    ]["Id"]
    pinpoint.update_email_channel(
        ApplicationId=app_id,
        EmailChannelRequest={"FromAddress": "news@example.com", "Identity": IDENTITY},
    )
    for start in range(0, args.endpoints, 100):
        items = [
            {
                "Id": f"b{n}",
                "ChannelType": "EMAIL",
                "Address": f"b{n}@example.org",
                "Attributes": {"Group": ["bench"]},
            }
            for n in range(start, min(args.endpoints, start + 100))
        ]
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    segment_id = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "buyers",
            "Dimensions": {"Attributes": {"Group": {"Values": ["bench"]}}},
        },
    )["SegmentResponse"]["Id"]
    now = datetime.now(UTC)
    pinpoint.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest={
            "Name": "thanks",
            "SegmentId": segment_id,
            "Schedule": {
                "StartTime": now.isoformat(),
                "EndTime": now.replace(year=now.year + 1).isoformat(),
                "Frequency": "EVENT",
                "EventFilter": {
                    "FilterType": "ENDPOINT",
                    "Dimensions": {
                        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase"]},
                        "Metrics": {"price": {"ComparisonOperator": "GREATER_THAN", "Value": 10}},
                    },
                },
            },
            "MessageConfiguration": {"EmailMessage": {"Title": "Thanks", "Body": "Thank you."}},
        },
    )
    sent: dict[str, float] = {}
    interval = 1 / args.rate
    started = time.perf_counter()
    for n in range(args.events):
        target = started + n * interval
        pause = target - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        endpoint = f"b{n % args.endpoints}"
        sent[f"{endpoint}@example.org"] = time.time()
        pinpoint.put_events(
            ApplicationId=app_id,
            EventsRequest={
                "BatchItem": {
                    endpoint: {
                        "Endpoint": {},
                        "Events": {
                            f"e{n}": {
                                "EventType": "purchase",
                                "Timestamp": datetime.now(UTC).isoformat(),
                                "Metrics": {"price": 42.0},
                            }
                        },
                    }
                }
            },
        )
    time.sleep(5)
    return sent


if __name__ == "__main__":
    main()
