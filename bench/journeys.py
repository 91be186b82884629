"""Journeys: endpoints through a four-step journey (e-mail → wait → split on an event → e-mail).

One process runs a Clarion core on a fresh store (SQLite in a temporary directory, or a
PostgreSQL database of its own, created for the run and dropped afterwards), its e-mail
channel pointing at an aiosmtpd sink on loopback (its own process, counting what it accepts;
``--adapter null`` puts fanout.py's adapter, which accepts every message at once, in its
place, leaving Clarion's own cost). ``--endpoints`` endpoint documents (default 100,000) are
bulk-inserted straight into ``endpoints`` (this bench measures journeys, not ingestion), each
with a first name and a city. The journey, created through the journeys service as
CreateJourney creates it and published ACTIVE, starts on a segment of all of them
(SegmentStartCondition):

    welcome (EMAIL, template "welcome")
      → pause (Wait, WaitFor PT1H)
      → bought (ConditionalSplit: an EventCondition on a "purchase" event since entry)
      → thanks (EMAIL, template "thanks") or nudge (EMAIL, template "nudge")

Every template greets by first name and city and carries a link, and the app tracks opens
and clicks (Pinpoint's default), so each e-mail is rendered and decorated as any Clarion
e-mail is.

1. Throughput. The journey engine is driven in this process as its loop drives it
   (``JourneyEngine.step`` until it has nothing to do, with ``Messages.retry_due`` beside it)
   on a clock that is the real time plus an offset: every endpoint enters, gets "welcome"
   (delivery ledger, the attempt, _email.* and _journey.send events into analytics) and
   reaches the wait; then a third of the endpoints report a "purchase" event through
   ``Events.record`` (PutEvents' path; not timed), the clock is moved on by the WaitFor, and
   the engine takes everyone through the wait, the split and the last e-mail. Each
   participant passes four activities: four endpoint-steps. The figure is endpoint-steps per
   second of the engine's own time (both halves, not the skipped hour). Every activity's
   counters must add up to the endpoints, the split must send exactly the buyers to "thanks",
   the ledger must hold two delivered e-mails per endpoint, and the sink must have them.
2. The bare limit, on a fresh store of the same backend, before the journey runs: a loop that
   only renders the same two e-mails per endpoint as Clarion renders them (``compose`` with
   the stored templates, then the app's tracking decorator) and inserts their ledger rows
   (``DeliveryRepository.add``, one transaction per 500 endpoints) — the least any
   ledger-backed journey sender must do; no SMTP. Counted in the same endpoint-steps (four
   per endpoint), so ratio = journey rate / bare rate (target >= 0.3).
3. Timer firing lag, on the real clock: a second journey, the same four steps with WaitFor
   ``--lag-wait`` (PT10S), for ``--lag-endpoints`` endpoints of another app (default 2,000,
   at most ``--endpoints``), run by the server's own journey loop thread
   (``core.journey_loop``: a step, then a 0.25 s pause when there was nothing to do). Its
   buyers report their purchase once all have entered. A ``JourneyRepository`` subclass put
   in the engine's hands (the engine is not changed) notes, for each participant at the
   wait, when its wait was over (arrival + WaitFor: its timer's due time), when the engine
   claimed it after that, and when a position past the wait was written for it. The lag is
   written minus due, and the figure its p99 (target < 1 s); due to claimed is shown too.
   The engine moves participants 500 a transaction, so a participant's lag includes its
   whole batch's split and e-mail. The count is smaller than the throughput run's on
   purpose: 100,000 endpoints entering at once keep the engine busy for minutes, and their
   timers would then wait behind that backlog, which is the throughput figure again
   (``--lag-endpoints 100000`` shows it).
4. Peak RSS of this process (``getrusage`` ``ru_maxrss``: loading, the bare loop and both
   journeys; the sink is its own process), target <= 1 GB.

    .venv/bin/python bench/journeys.py [--endpoints 100000] [--database sqlite|postgresql]
    .venv/bin/python bench/journeys.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/journeys.py --adapter null          # Clarion's own cost only
    .venv/bin/python bench/journeys.py --quick                 # 2,000 endpoints: a smoke test
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.clock import epoch_ms, iso
from clarion.config import load_settings
from clarion.core import Clarion
from clarion.delivery.base import Email
from clarion.events.service import Accepted
from clarion.journeys import metrics
from clarion.journeys.times import parse_duration
from clarion.messaging.compose import Recipient, Sender, compose
from clarion.messaging.outgoing import stored
from clarion.store.database import Database
from clarion.store.journeys import ACTIVE, JourneyRepository, Participant
from clarion.store.schema import deliveries, endpoints, journey_participants

sys.path.insert(0, str(Path(__file__).parent))
from fanout import NullAdapter
from harness import DEFAULT_POSTGRES, postgres_database, smtp_sink

TARGET_RATIO = 0.3
TARGET_LAG_S = 1.0
TARGET_RSS_MB = 1024
STEPS = 4
"""Activities each participant passes: welcome, pause, bought, thanks or nudge."""
ROWS_PER_TRANSACTION = 20_000
FLOOR_BATCH = 500
EVENTS_PER_TRANSACTION = 1_000
THROUGHPUT_WAIT = "PT1H"
SENDER = "news@example.com"
IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
CITIES = ("Berlin", "Paris", "Lisbon")
TEMPLATES = {
    "welcome": "Welcome, {{User.UserAttributes.FirstName}}",
    "thanks": "Thank you for your order, {{User.UserAttributes.FirstName}}",
    "nudge": "Still thinking it over, {{User.UserAttributes.FirstName}}?",
}
HTML = (
    "<html><body><h1>{subject}</h1>"
    "<p>Picked for you in {{{{Location.City}}}}.</p>"
    '<p><a href="https://example.com/offers">See the offers</a></p></body></html>'
)
TEXT = "{subject}\n\nPicked for you in {{{{Location.City}}}}: https://example.com/offers\n"


def bought(n: int) -> bool:
    """Whether endpoint ``n`` reports a purchase while it waits (a third of them)."""
    return n % 3 == 0


def document(n: int, prefix: str) -> dict[str, Any]:
    return {
        "Id": f"{prefix}{n}",
        "ChannelType": "EMAIL",
        "Address": f"{prefix}{n}@example.org",
        "EndpointStatus": "ACTIVE",
        "OptOut": "NONE",
        "Demographic": {"Platform": "web"},
        "Location": {"City": CITIES[n % len(CITIES)]},
        "User": {"UserId": f"u-{prefix}{n}", "UserAttributes": {"FirstName": [f"Reader{n}"]}},
        "EffectiveDate": "2026-11-01T00:00:00.000Z",
    }


class OffsetClock:
    """The real time plus an offset the bench moves forward (past a wait, at once)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


# --- stores and apps -------------------------------------------------------------------------


@contextmanager
def store(backend: str, admin_url: str) -> Iterator[tuple[Path, str | None]]:
    """A fresh store: a data directory, and a new PostgreSQL database for ``postgresql``."""
    with tempfile.TemporaryDirectory(prefix="clarion-journeys-") as data:
        if backend == "sqlite":
            yield Path(data), None
        else:
            with postgres_database(admin_url) as url:
                yield Path(data), url


class Mailbox:
    """Where the journeys' e-mail goes: the SMTP sink (counting what it accepted), or nowhere
    (``--adapter null``: fanout.py's adapter, which accepts every message at once)."""

    def __init__(self, port: int | None, count: Synchronized[int] | None) -> None:
        self.port = port
        self.count = count

    def received(self) -> int:
        return self.count.value if self.count is not None else 0

    def wait_for(self, before: int, wanted: int) -> int | None:
        """How many arrived since ``before`` (None without a sink), waiting up to 10 s for
        ``wanted``."""
        if self.count is None:
            return None
        deadline = time.monotonic() + 10
        while self.received() - before < wanted and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.received() - before


@contextmanager
def mailbox(adapter: str) -> Iterator[Mailbox]:
    if adapter == "null":
        yield Mailbox(None, None)
        return
    with smtp_sink() as (port, count):
        yield Mailbox(port, count)


@contextmanager
def running_core(
    data_dir: Path, database_url: str | None, clock: OffsetClock, mail: Mailbox
) -> Iterator[Clarion]:
    email_url = f"smtp://127.0.0.1:{mail.port}?max_connections=8" if mail.port else "outbox:"
    core = Clarion(
        load_settings(data_dir=data_dir, database_url=database_url, email_url=email_url),
        clock=clock,
    )
    core.start()
    if mail.port is None:
        core.dispatcher.adapter_for = lambda app_id, channel: NullAdapter()
    try:
        yield core
    finally:
        core.journey_loop.stop()
        core.dispatcher.stop()
        core.close()


def new_app(core: Clarion, name: str, prefix: str, count: int) -> tuple[str, str]:
    """An app with an e-mail channel, ``count`` endpoints and a segment of all of them."""
    app_id: str = core.apps.create(name, {})["Id"]
    core.channels.update(
        app_id, "EMAIL", {"FromAddress": SENDER, "Identity": IDENTITY, "Enabled": True}, "bench"
    )
    with core.db.write() as conn:
        for start in range(0, count, ROWS_PER_TRANSACTION):
            conn.execute(
                endpoints.insert(),
                [
                    {
                        "app_id": app_id,
                        "endpoint_id": f"{prefix}{n}",
                        "user_id": f"u-{prefix}{n}",
                        "channel_type": "EMAIL",
                        "address": f"{prefix}{n}@example.org",
                        "opt_out": "NONE",
                        "endpoint_status": "ACTIVE",
                        "creation_date": "2026-11-01T00:00:00.000Z",
                        "document": document(n, prefix),
                    }
                    for n in range(start, min(count, start + ROWS_PER_TRANSACTION))
                ],
            )
    segment_id: str = core.segments.create(
        app_id,
        {"Name": "all", "Dimensions": {"Demographic": {"Platform": {"Values": ["web"]}}}},
    )["Id"]
    return app_id, segment_id


def create_templates(core: Clarion) -> None:
    for name, subject in TEMPLATES.items():
        core.templates.create(
            "EMAIL",
            name,
            {
                "Subject": subject,
                "HtmlPart": HTML.format(subject=subject),
                "TextPart": TEXT.format(subject=subject),
            },
        )


def create_journey(core: Clarion, app_id: str, segment_id: str, wait: str) -> str:
    purchase = {
        "EventCondition": {
            "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase"]}}
        }
    }
    request = {
        "Name": f"four steps, {wait}",
        "Activities": {
            "welcome": {"EMAIL": {"TemplateName": "welcome", "NextActivity": "pause"}},
            "pause": {"Wait": {"WaitTime": {"WaitFor": wait}, "NextActivity": "bought"}},
            "bought": {
                "ConditionalSplit": {
                    "Condition": {"Conditions": [purchase]},
                    "TrueActivity": "thanks",
                    "FalseActivity": "nudge",
                }
            },
            "thanks": {"EMAIL": {"TemplateName": "thanks"}},
            "nudge": {"EMAIL": {"TemplateName": "nudge"}},
        },
        "StartActivity": "welcome",
        "StartCondition": {"SegmentStartCondition": {"SegmentId": segment_id}},
        "State": "ACTIVE",
    }
    journey_id: str = core.journeys.create(app_id, request)["Id"]
    return journey_id


# --- the bare limit --------------------------------------------------------------------------


def bare_run(core: Clarion, app_id: str, count: int) -> float:
    """Seconds to render both e-mails of ``count`` endpoints and insert their ledger rows."""
    fields = {name: core.templates.for_sending(name, "EMAIL", None).fields for name in TEMPLATES}
    decorate = core.engagement.decorator(app_id)
    sender = Sender(email_from=SENDER)
    domain = core.messages.message_domain
    ledger = core.messages.ledger
    started = time.perf_counter()
    for start in range(0, count, FLOOR_BATCH):
        rows = []
        now = epoch_ms(core.clock())
        for n in range(start, min(count, start + FLOOR_BATCH)):
            endpoint = document(n, "e")
            recipient = Recipient(endpoint["Address"], "EMAIL", endpoint, {})
            for activity in ("welcome", "thanks" if bought(n) else "nudge"):
                message_id = f"{uuid.uuid4().hex}@{domain}"
                message = compose(
                    recipient, {}, {"EmailTemplate": fields[activity]}, sender, message_id
                )
                if isinstance(message, Email):
                    message = decorate(message)
                context = {"journey_id": "bare", "journey_activity_id": activity}
                rows.append(
                    {
                        "app_id": app_id,
                        "message_id": message_id,
                        "source_key": f"journey/bare/1/{activity}/e{n}",
                        "channel": "EMAIL",
                        "address": endpoint["Address"],
                        "endpoint_key": f"e{n}",
                        "campaign_id": "bare",
                        "message": stored(message, context, False),
                        "status": "SUCCESSFUL",
                        "attempts": 1,
                        "status_code": 250,
                        "detail": "",
                        "created_ms": now,
                        "next_attempt_ms": 0,
                        "lease_until_ms": 0,
                    }
                )
        with core.db.write() as conn:
            ledger.add(conn, rows)
    return time.perf_counter() - started


def floor(backend: str, admin_url: str, count: int, mail: Mailbox) -> float:
    with (
        store(backend, admin_url) as (data_dir, url),
        running_core(data_dir, url, OffsetClock(), mail) as core,
    ):
        app_id = core.apps.create("bare", {})["Id"]
        core.channels.update(
            app_id, "EMAIL", {"FromAddress": SENDER, "Identity": IDENTITY}, "bench"
        )
        create_templates(core)
        return bare_run(core, app_id, count)


# --- the journey -----------------------------------------------------------------------------


def drive(core: Clarion) -> None:
    """What the journey and retry loops would do, until there is nothing left to do now."""
    while core.messages.retry_due() + core.journey_engine.step():
        pass


def purchases(core: Clarion, app_id: str, count: int, prefix: str) -> int:
    """A "purchase" event from a third of the endpoints, through the ingestion path."""
    events = []
    for n in range(count):
        if bought(n):
            now = core.clock()
            event = {
                "EventType": "purchase",
                "Timestamp": iso(now),
                "Attributes": {},
                "Metrics": {"price": 42.0},
            }
            key = f"{prefix}{n}"
            events.append(Accepted(key, key, f"purchase-{n}", event, epoch_ms(now)))
    for start in range(0, len(events), EVENTS_PER_TRANSACTION):
        with core.db.write() as conn:
            core.events.record(conn, app_id, events[start : start + EVENTS_PER_TRANSACTION])
    return len(events)


def activity_counts(core: Clarion, app_id: str, journey_id: str) -> dict[str, int]:
    """Participants each activity was done with, from the journey's own counters."""
    found = {}
    for activity in ("welcome", "bought", "thanks", "nudge"):
        counters, _ = core.journey_engine.repo.counters(app_id, journey_id, activity_id=activity)
        found[activity] = sum(counters.values())
    counters, _ = core.journey_engine.repo.counters(app_id, journey_id, activity_id="pause")
    found["pause"] = counters.get(metrics.wait_metrics().completed, 0)
    return found


def check(
    core: Clarion, app_id: str, journey_id: str, count: int, arrived: int | None
) -> dict[str, int]:
    """Every activity was done with every participant, the split took the buyers to "thanks",
    the ledger holds two delivered e-mails per participant and the sink (if any) got them."""
    found = activity_counts(core, app_id, journey_id)
    steps = {
        "welcome": found["welcome"],
        "pause": found["pause"],
        "bought": found["bought"],
        "thanks or nudge": found["thanks"] + found["nudge"],
    }
    wrong = {name: done for name, done in steps.items() if done != count}
    thanked = sum(1 for n in range(count) if bought(n))
    if found["thanks"] != thanked:
        wrong["thanks"] = found["thanks"]
    if wrong:
        raise SystemExit(f"journey {journey_id}: of {count} participants, activities did {wrong}")
    with core.db.read() as conn:
        delivered = conn.execute(
            sa.select(sa.func.count()).where(
                deliveries.c.campaign_id == journey_id, deliveries.c.status == "SUCCESSFUL"
            )
        ).scalar_one()
    if delivered != 2 * count:
        raise SystemExit(f"journey {journey_id}: {delivered} of {2 * count} e-mails delivered")
    if arrived is not None and arrived != 2 * count:
        raise SystemExit(f"the SMTP sink accepted {arrived} of {2 * count} e-mails")
    return found


@dataclass
class Throughput:
    entering_s: float
    after_wait_s: float
    counts: dict[str, int]

    @property
    def seconds(self) -> float:
        return self.entering_s + self.after_wait_s


def throughput(core: Clarion, count: int, mail: Mailbox) -> Throughput:
    app_id, segment_id = new_app(core, "journeys", "e", count)
    journey_id = create_journey(core, app_id, segment_id, THROUGHPUT_WAIT)
    before = mail.received()
    started = time.perf_counter()
    drive(core)
    entering = time.perf_counter() - started
    waiting, _ = core.journey_engine.repo.counters(app_id, journey_id, activity_id="pause")
    if waiting.get(metrics.wait_metrics().started) != count:
        raise SystemExit(f"only {waiting} of {count} participants reached the wait")
    purchases(core, app_id, count, "e")
    assert isinstance(core.clock, OffsetClock)
    core.clock.offset += parse_duration(THROUGHPUT_WAIT, "WaitFor") + timedelta(seconds=1)
    started = time.perf_counter()
    drive(core)
    after_wait = time.perf_counter() - started
    counts = check(core, app_id, journey_id, count, mail.wait_for(before, 2 * count))
    return Throughput(entering, after_wait, counts)


# --- timer lag -------------------------------------------------------------------------------


class TimedRepository(JourneyRepository):
    """The engine's repository, noting for each participant at the wait ``activity_id`` when
    its wait was over (arrival + ``wait_ms``), when it was claimed after that, and when a
    position past the wait was written for it (clock milliseconds).

    A participant the engine reaches only after its wait is over passes the wait without a
    timer row: its lag counts the same way, from when the wait was over."""

    def __init__(self, db: Database, clock: OffsetClock, activity_id: str, wait_ms: int) -> None:
        super().__init__(db)
        self.clock = clock
        self.activity_id = activity_id
        self.wait_ms = wait_ms
        self.due: dict[int, int] = {}
        self.claimed: dict[int, int] = {}
        self.moved: dict[int, int] = {}
        self.lock = threading.Lock()

    def claim_due(self, now_ms: int, until_ms: int, limit: int) -> list[Participant]:
        found = super().claim_due(now_ms, until_ms, limit)
        at = epoch_ms(self.clock())
        with self.lock:
            for p in found:
                if p.activity_id != self.activity_id or p.seq in self.claimed:
                    continue
                due = p.due_ms if p.waiting else p.arrived_ms + self.wait_ms
                if due <= at:
                    self.due[p.seq] = due
                    self.claimed[p.seq] = at
        return found

    def move(self, conn: Connection, moves: Sequence[Mapping[str, Any]]) -> None:
        super().move(conn, moves)
        at = epoch_ms(self.clock())
        with self.lock:
            for m in moves:
                seq = m["seq"]
                onwards = m["state"] != ACTIVE or m["activity_id"] != self.activity_id
                if onwards and seq in self.claimed and seq not in self.moved:
                    self.moved[seq] = at


@dataclass
class Lag:
    endpoints: int
    moved_ms: list[int]
    claimed_ms: list[int]
    seconds: float


def percentile(values: Sequence[int], share: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def timer_lag(core: Clarion, count: int, wait: str, mail: Mailbox) -> Lag:
    assert isinstance(core.clock, OffsetClock)
    wait_ms = int(parse_duration(wait, "WaitFor").total_seconds() * 1000)
    timed = TimedRepository(core.db, core.clock, "pause", wait_ms)
    core.journey_engine.repo = timed
    app_id, segment_id = new_app(core, "lag", "l", count)
    before = mail.received()
    started = time.perf_counter()
    journey_id = create_journey(core, app_id, segment_id, wait)
    core.journey_loop.start()
    core.journey_loop.wake()
    p = journey_participants
    mine = (p.c.app_id == app_id, p.c.journey_id == journey_id)
    entered = sa.select(sa.func.count()).where(*mine)
    left = sa.select(sa.func.count()).where(*mine, p.c.state == "LEFT")
    deadline = time.monotonic() + 120 + count / 50
    purchased = False
    while True:
        with core.db.read() as conn:
            done = conn.execute(left).scalar_one()
            all_in = purchased or conn.execute(entered).scalar_one() >= count
        if done >= count:
            break
        if all_in and not purchased:
            purchases(core, app_id, count, "l")
            purchased = True
        if time.monotonic() > deadline:
            raise SystemExit(f"the timer-lag journey moved only {done} of {count} in time")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    core.journey_loop.stop()
    check(core, app_id, journey_id, count, mail.wait_for(before, 2 * count))
    if len(timed.moved) != count:
        raise SystemExit(f"{len(timed.moved)} of {count} participants were seen past the wait")
    lags = [timed.moved[seq] - due for seq, due in timed.due.items()]
    claims = [timed.claimed[seq] - due for seq, due in timed.due.items()]
    return Lag(count, lags, claims, elapsed)


# --- the report ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CLARION_TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL URL to create the run's own database from (implies postgresql)",
    )
    parser.add_argument(
        "--adapter",
        choices=("smtp", "null"),
        default="smtp",
        help="e-mail to an aiosmtpd sink (default), or to fanout.py's null adapter",
    )
    parser.add_argument("--lag-endpoints", type=int, default=2_000)
    parser.add_argument("--lag-wait", default="PT10S", help="the timer-lag journey's WaitFor")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 endpoints, 500 for the lag: a smoke test"
    )
    args = parser.parse_args()
    if args.quick:
        args.endpoints, args.lag_endpoints, args.lag_wait = 2_000, 500, "PT3S"
    backend = args.database
    if any(arg.startswith("--postgres") for arg in sys.argv[1:]):
        backend = "postgresql"
    count = args.endpoints
    lag_count = min(args.lag_endpoints, count)
    name = "SQLite" if backend == "sqlite" else "PostgreSQL"
    where = "an aiosmtpd sink (own process)" if args.adapter == "smtp" else "a null adapter"
    print(
        f"bench/journeys.py: {count:,} endpoints through e-mail -> wait -> split on an event -> "
        f"e-mail, {name}, e-mail to {where}, {os.cpu_count()} CPUs"
    )
    with mailbox(args.adapter) as mail:
        bare = floor(backend, args.postgres, count, mail)
        with (
            store(backend, args.postgres) as (data_dir, url),
            running_core(data_dir, url, OffsetClock(), mail) as core,
        ):
            create_templates(core)
            run = throughput(core, count, mail)
            lag = timer_lag(core, lag_count, args.lag_wait, mail)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps = STEPS * count
    bare_rate, rate = steps / bare, steps / run.seconds
    ratio = rate / bare_rate
    print(
        f"  bare limit: render 2 e-mails + insert ledger rows {bare_rate:10,.0f} "
        f"endpoint-steps/s  ({bare:.1f} s)"
    )
    print(
        f"  Clarion journey engine, enter + advance           {rate:10,.0f} endpoint-steps/s  "
        f"({run.seconds:.1f} s)"
    )
    print(
        f"    {run.entering_s:.1f} s to enter, send 'welcome' and reach the wait; "
        f"{run.after_wait_s:.1f} s for wait, split, 'thanks'/'nudge'"
    )
    print(
        f"    {steps:,} endpoint-steps, {2 * count:,} e-mails delivered"
        + (" (all at the sink)" if args.adapter == "smtp" else "")
        + f", split: {run.counts['thanks']:,} thanks, {run.counts['nudge']:,} nudge"
    )
    print(
        f"  ratio Clarion / bare limit {ratio:.2f}  target >= {TARGET_RATIO}  "
        f"{verdict(ratio >= TARGET_RATIO)}"
    )
    p99 = percentile(lag.moved_ms, 0.99)
    print(
        f"  timer firing lag: {lag.endpoints:,} endpoints, WaitFor {args.lag_wait}, real clock, "
        f"journey loop thread ({lag.seconds:.1f} s)"
    )
    print(
        f"    due -> claimed          p50 {percentile(lag.claimed_ms, 0.5):,} ms, "
        f"p99 {percentile(lag.claimed_ms, 0.99):,} ms, max {max(lag.claimed_ms):,} ms"
    )
    print(
        f"    due -> moved past wait  p50 {percentile(lag.moved_ms, 0.5):,} ms, p99 {p99:,} ms, "
        f"max {max(lag.moved_ms):,} ms  target p99 < {TARGET_LAG_S * 1000:.0f} ms  "
        f"{verdict(p99 < TARGET_LAG_S * 1000)}"
    )
    print(
        f"  peak RSS {rss_mb:,.0f} MB  target <= {TARGET_RSS_MB:,} MB  "
        f"{verdict(rss_mb <= TARGET_RSS_MB)}"
    )


if __name__ == "__main__":
    main()
