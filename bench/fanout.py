"""Campaign fan-out: one e-mail campaign to every endpoint of an app, through a null adapter.

The store is a fresh SQLite file; ``--endpoints`` endpoint documents (default 1,000,000) are
bulk-inserted straight into ``endpoints`` (this bench measures sending, not ingestion). The
campaign (Frequency ONCE, starting now) targets a segment of all of them and personalises the
subject, the HTML and the text by first name. The campaign engine runs it in this process
exactly as a server does (plan, claim, walk the segment 500 at a time, treatment assignment,
opt-out and limit checks, compose and render, the delivery ledger written before and after
each attempt, the _email.send/_email.delivered/_campaign.send events into analytics); only the
adapter is replaced by one that accepts every message at once, so the figure is Clarion's own
cost. Timed from planning to the run's completion; peak RSS growth is VmHWM minus VmRSS before
(the peak reset through /proc/self/clear_refs).

Beside it, the bare limit: a loop that only renders the same three templates per endpoint and
inserts the ledger rows (executemany, 500 a transaction) — the least any ledger-backed sender
must do.

    .venv/bin/python bench/fanout.py [--endpoints 1000000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from clarion.clock import iso
from clarion.config import load_settings
from clarion.core import Clarion
from clarion.delivery.base import Outcome, Result
from clarion.store.schema import campaign_runs, campaign_versions, campaigns, deliveries, endpoints
from clarion.templates.handlebars import compile_template, recipient_values

TARGET_RATE = 25_000
TARGET_RSS_MB = 1024
ROWS_PER_TRANSACTION = 50_000
IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
SUBJECT = "Hello {{User.UserAttributes.FirstName}}, your December offers"
HTML = (
    "<html><body><h1>Hi {{User.UserAttributes.FirstName}}</h1>"
    "<p>Picked for you in {{Location.City}}.</p></body></html>"
)
TEXT = "Hi {{User.UserAttributes.FirstName}}, picked for you in {{Location.City}}."


class NullAdapter:
    """Accepts every message at once and keeps nothing."""

    async def send(self, message: Any) -> Result:
        return Result(Outcome.DELIVERED, 250, "accepted", message.message_id)

    async def close(self) -> None:
        return None


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def document(n: int) -> dict[str, Any]:
    return {
        "Id": f"e{n}",
        "ChannelType": "EMAIL",
        "Address": f"reader{n}@example.org",
        "EndpointStatus": "ACTIVE",
        "OptOut": "NONE",
        "Demographic": {"Platform": "web"},
        "Location": {"City": ("Berlin", "Paris", "Lisbon")[n % 3]},
        "User": {"UserId": f"u{n}", "UserAttributes": {"FirstName": [f"Reader{n}"]}},
        "EffectiveDate": "2026-11-01T00:00:00.000Z",
    }


def load(core: Clarion, app_id: str, count: int) -> None:
    with core.db.write() as conn:
        for start in range(0, count, ROWS_PER_TRANSACTION):
            conn.execute(
                endpoints.insert(),
                [
                    {
                        "app_id": app_id,
                        "endpoint_id": f"e{n}",
                        "user_id": f"u{n}",
                        "channel_type": "EMAIL",
                        "address": f"reader{n}@example.org",
                        "opt_out": "NONE",
                        "endpoint_status": "ACTIVE",
                        "creation_date": "2026-11-01T00:00:00.000Z",
                        "document": document(n),
                    }
                    for n in range(start, min(count, start + ROWS_PER_TRANSACTION))
                ],
            )


def clarion_run(data_dir: Path, count: int) -> tuple[float, float]:
    core = Clarion(load_settings(data_dir=data_dir, email_url="outbox:"))
    core.start()
    core.dispatcher.adapter_for = lambda app_id, channel: NullAdapter()
    app_id = core.apps.create("fanout", {})["Id"]
    core.channels.update(
        app_id, "EMAIL", {"FromAddress": "news@example.com", "Identity": IDENTITY}, "bench"
    )
    load(core, app_id, count)
    segment_id = core.segments.create(
        app_id,
        {"Name": "all", "Dimensions": {"Demographic": {"Platform": {"Values": ["web"]}}}},
    )["Id"]
    campaign_id = uuid.uuid4().hex
    definition = {
        "Name": "fanout",
        "SegmentId": segment_id,
        "Schedule": {"StartTime": iso(core.clock()), "Frequency": "ONCE"},
        "MessageConfiguration": {
            "EmailMessage": {"Title": SUBJECT, "HtmlBody": HTML, "Body": TEXT}
        },
    }
    with core.db.write() as conn:
        conn.execute(
            campaigns.insert().values(
                app_id=app_id,
                id=campaign_id,
                creation_date=iso(core.clock()),
                version=1,
                state="SCHEDULED",
            )
        )
        conn.execute(
            campaign_versions.insert().values(
                app_id=app_id,
                campaign_id=campaign_id,
                version=1,
                last_modified_date=iso(core.clock()),
                definition=definition,
            )
        )
    Path("/proc/self/clear_refs").write_text("5")
    before = status_kb("VmRSS")
    started = time.perf_counter()
    while True:
        core.engine.plan()
        core.engine.work()
        with core.db.read() as conn:
            states = [
                r[0]
                for r in conn.execute(
                    sa.select(campaign_runs.c.state).where(
                        campaign_runs.c.campaign_id == campaign_id
                    )
                )
            ]
        if states and all(s == "COMPLETED" for s in states):
            break
    elapsed = time.perf_counter() - started
    growth = (status_kb("VmHWM") - before) / 1024
    with core.db.read() as conn:
        delivered = conn.execute(
            sa.select(sa.func.count()).where(
                deliveries.c.campaign_id == campaign_id, deliveries.c.status == "SUCCESSFUL"
            )
        ).scalar_one()
    core.dispatcher.stop()
    core.close()
    if delivered != count:
        raise SystemExit(f"only {delivered} of {count} messages were delivered")
    return elapsed, growth


def bare_run(data_dir: Path, count: int) -> float:
    core = Clarion(load_settings(data_dir=data_dir))
    core.start()
    subject, html, text = (compile_template(t) for t in (SUBJECT, HTML, TEXT))
    started = time.perf_counter()
    for start in range(0, count, 500):
        rows = []
        for n in range(start, min(count, start + 500)):
            values = recipient_values(document(n))
            message_id = f"{uuid.uuid4().hex}@bench"
            message = {
                "message_id": message_id,
                "subject": subject.render(values, escape=False),
                "html": html.render(values),
                "text": text.render(values, escape=False),
            }
            rows.append(
                {
                    "app_id": "bare",
                    "message_id": message_id,
                    "source_key": f"bare/{n}",
                    "channel": "EMAIL",
                    "address": f"reader{n}@example.org",
                    "endpoint_key": f"e{n}",
                    "campaign_id": "bare",
                    "message": message,
                    "status": "SUCCESSFUL",
                    "attempts": 1,
                    "status_code": 250,
                    "detail": "",
                    "created_ms": 0,
                    "next_attempt_ms": 0,
                    "lease_until_ms": 0,
                }
            )
        with core.db.write() as conn:
            conn.execute(deliveries.insert(), rows)
    elapsed = time.perf_counter() - started
    core.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=1_000_000)
    args = parser.parse_args()
    count = args.endpoints
    print(f"bench/fanout.py: a campaign to {count:,} endpoints, SQLite, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        bare = bare_run(Path(second), count)
        elapsed, growth = clarion_run(Path(first), count)
    rate, bare_rate = count / elapsed, count / bare
    print(f"  bare limit: render + insert ledger rows     {bare_rate:10,.0f} msg/s")
    print(
        f"  Clarion campaign, end to end               {rate:10,.0f} msg/s  "
        f"target >= {TARGET_RATE:,}  {'OK' if rate >= TARGET_RATE else 'MISSED'}"
    )
    print(f"  ratio Clarion / bare limit {rate / bare_rate:.2f}")
    print(
        f"  peak RSS growth during the run {growth:,.0f} MB  target <= {TARGET_RSS_MB} MB  "
        f"{'OK' if growth <= TARGET_RSS_MB else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
