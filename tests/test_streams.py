"""Event streams end to end: the service's configuration rules and the exporter delivering to real
loopback peers (a Kinesis/Firehose/HTTP receiver, files, Redis and NATS), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import sqlalchemy as sa

from clarion.arns import Arns
from clarion.config import load_settings
from clarion.errors import BadRequest, NotFound
from clarion.file_roots import FileRoots
from clarion.outbound import LOOPBACK, OutboundPolicy
from clarion.store.database import Database
from clarion.store.schema import endpoints, event_streams, events
from clarion.store.streams import EventStreamRepository, ExportRepository
from clarion.streams.destinations import (
    Destinations,
    FileDestination,
    FirehoseDestination,
    KinesisDestination,
    WebDestination,
)
from clarion.streams.exporter import Exporter
from clarion.streams.records import DeliveryError, Record
from clarion.streams.service import EventStreams

ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/pinpoint-events"
NOW = "2026-11-20T10:00:00.000Z"
KINESIS = "arn:aws:kinesis:us-east-1:123456789012:stream/pinpoint-events"
FIREHOSE = "arn:aws:firehose:us-east-1:123456789012:deliverystream/pinpoint-events"


# --- Loopback peers -------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, payload = self.server.receiver.answer(self.headers.get("X-Amz-Target"), body)
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: failures show in the assertions."""


class Receiver:
    """One loopback server speaking Kinesis PutRecords, Firehose PutRecordBatch and a plain
    newline-delimited JSON POST, with switches to fail the ways destinations fail."""

    def __init__(self, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.records: list[bytes] = []
        self.keys: list[str] = []
        self.batches: list[int] = []
        self.requests = 0
        self.down = False
        self.acks_to_lose = 0
        self.refusals: list[set[int]] = []
        """Per AWS call, in turn: the indexes of the records to refuse."""
        self.delay = 0.0
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.receiver = self
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        port: int = self.server.server_address[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def parsed(self) -> list[dict[str, Any]]:
        with self.lock:
            return [orjson.loads(record) for record in self.records]

    def answer(self, target: str | None, body: bytes) -> tuple[int, bytes]:
        time.sleep(self.delay)
        with self.lock:
            self.requests += 1
            if self.down:
                return 503, b'{"__type":"ServiceUnavailableException","message":"down"}'
            if target == "Kinesis_20131202.PutRecords":
                answer = self._put_records(json.loads(body))
            elif target == "Firehose_20150804.PutRecordBatch":
                answer = self._put_record_batch(json.loads(body))
            else:
                lines = body.splitlines()
                self.records.extend(lines)
                self.batches.append(len(lines))
                answer = {}
            if self.acks_to_lose:
                self.acks_to_lose -= 1
                return 500, b'{"__type":"InternalFailure","message":"ack lost"}'
            return 200, json.dumps(answer).encode()

    def _put_records(self, request: dict[str, Any]) -> dict[str, Any]:
        results = []
        refused = self.refusals.pop(0) if self.refusals else set()
        for index, entry in enumerate(request["Records"]):
            if index in refused:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
                continue
            self.records.append(base64.b64decode(entry["Data"]))
            self.keys.append(entry["PartitionKey"])
            results.append({"SequenceNumber": str(len(self.records)), "ShardId": "shardId-0"})
        self.batches.append(len(results))
        failed = sum("ErrorCode" in result for result in results)
        return {"FailedRecordCount": failed, "Records": results}

    def _put_record_batch(self, request: dict[str, Any]) -> dict[str, Any]:
        responses = []
        refused = self.refusals.pop(0) if self.refusals else set()
        for index, entry in enumerate(request["Records"]):
            if index in refused:
                responses.append({"ErrorCode": "ServiceUnavailableException"})
                continue
            self.records.append(base64.b64decode(entry["Data"]))
            responses.append({"RecordId": str(len(self.records))})
        self.batches.append(len(responses))
        failed = sum("ErrorCode" in response for response in responses)
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# --- Fixtures -------------------------------------------------------------------------------


LOOPBACK_PEERS = OutboundPolicy(LOOPBACK)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store of this module's own, so no other test's streams are exported here."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('streams') / 'clarion.db'}"
        return
    server_url: str = request.getfixturevalue("postgres_url")
    name = f"clarion_streams_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield load_settings(database_url=f"{server_url.rpartition('/')[0]}/{name}").sqlalchemy_url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = Database(store_url)
    database.migrate()
    with database.write() as conn:
        conn.execute(event_streams.delete())
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials from the environment only: botocore must not look anywhere off this host."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setattr(WebDestination, "pause", 0.01)
    monkeypatch.setattr(KinesisDestination, "pause", 0.01)
    monkeypatch.setattr(FirehoseDestination, "pause", 0.01)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def file_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def destinations(receiver: Receiver, file_root: Path) -> Destinations:
    return Destinations(
        policy=LOOPBACK_PEERS,
        file_roots=FileRoots([file_root]),
        aws_endpoint_url=receiver.url,
        file_max_bytes=4000,
    )


@pytest.fixture
def streams(db: Database, destinations: Destinations) -> EventStreams:
    return EventStreams(
        EventStreamRepository(db), destinations, lambda: datetime.fromisoformat(NOW)
    )


@pytest.fixture
def exporter(db: Database, destinations: Destinations, clock: Clock) -> Iterator[Exporter]:
    running = Exporter(
        ExportRepository(db), Arns("us-east-1", ACCOUNT), destinations, clock, batch_size=100
    )
    try:
        yield running
    finally:
        running.stop()


# --- Helpers --------------------------------------------------------------------------------


def new_app() -> str:
    return uuid.uuid4().hex


def add_endpoint(db: Database, app_id: str, endpoint_id: str) -> None:
    document = {
        "Id": endpoint_id,
        "ChannelType": "GCM",
        "Address": f"token-{endpoint_id}",
        "Demographic": {"Platform": "android", "Locale": "en_US", "AppVersion": "2.0"},
    }
    with db.write() as conn:
        conn.execute(
            endpoints.insert().values(
                app_id=app_id,
                endpoint_id=endpoint_id.lower(),
                creation_date=NOW,
                document=document,
            )
        )


def add_events(db: Database, app_id: str, names: list[str], endpoint_id: str = "Phone-1") -> None:
    """One event per name, committed together; the name is the event's ``n`` attribute."""
    rows = [
        {
            "app_id": app_id,
            "endpoint_key": endpoint_id.lower(),
            "event_id": uuid.uuid4().hex,
            "event_type": "purchase",
            "timestamp_ms": 1_700_000_000_000,
            "arrival_ms": 1_700_000_000_500,
            "day": "2023-11-14",
            "session_id": None,
            "event": {
                "EventType": "purchase",
                "Timestamp": "2023-11-14T22:13:20.000Z",
                "Attributes": {"n": name},
            },
        }
        for name in names
    ]
    with db.write() as conn:
        conn.execute(events.insert(), rows)


def labels(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{index}" for index in range(count)]


def received_labels(receiver: Receiver) -> list[str]:
    return [record["attributes"]["n"] for record in receiver.parsed()]


def drain(exporter: Exporter) -> int:
    """Rounds until three in a row deliver nothing (a PostgreSQL round may wait for a
    transaction still open elsewhere); the number of events delivered."""
    delivered, idle = 0, 0
    while idle < 3:
        count = exporter.run_once()
        delivered += count
        idle = 0 if count else idle + 1
    return delivered


def newest_seq(db: Database, app_id: str) -> int:
    with db.read() as conn:
        newest: int = conn.execute(
            sa.select(sa.func.max(events.c.seq)).where(events.c.app_id == app_id)
        ).scalar_one()
        return newest


def stream_row(db: Database, app_id: str) -> Any:
    with db.read() as conn:
        return conn.execute(sa.select(event_streams).where(event_streams.c.app_id == app_id)).one()


# --- PutEventStream, GetEventStream, DeleteEventStream --------------------------------------


def test_put_get_and_delete_a_stream(streams: EventStreams, receiver: Receiver) -> None:
    app_id = new_app()
    target = f"{receiver.url}/events"
    put = streams.put(app_id, {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")

    assert put == {
        "ApplicationId": app_id,
        "DestinationStreamArn": target,
        "RoleArn": ROLE,
        "LastModifiedDate": NOW,
        "LastUpdatedBy": "AKID1",
    }
    assert streams.get(app_id) == put
    assert streams.delete(app_id) == put
    with pytest.raises(NotFound):
        streams.get(app_id)
    with pytest.raises(NotFound):
        streams.delete(app_id)


def test_a_new_stream_starts_after_the_events_already_stored(
    db: Database, streams: EventStreams, exporter: Exporter, receiver: Receiver
) -> None:
    app_id = new_app()
    add_events(db, app_id, labels("old", 5))
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("new", 3))

    assert drain(exporter) == 3
    assert received_labels(receiver) == labels("new", 3)


def test_putting_the_same_destination_keeps_the_cursor_and_a_new_one_moves_it(
    db: Database, streams: EventStreams, receiver: Receiver
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    start = stream_row(db, app_id).exported_seq
    add_events(db, app_id, labels("waiting", 2))

    other_role = "arn:aws:iam::123456789012:role/service-role/other"
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": other_role}, "AKID2")
    kept = stream_row(db, app_id)
    assert (kept.exported_seq, kept.role_arn, kept.last_updated_by) == (start, other_role, "AKID2")

    streams.put(app_id, {"DestinationStreamArn": f"{receiver.url}/v2", "RoleArn": ROLE}, "AKID2")
    assert stream_row(db, app_id).exported_seq > start


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("arn:aws:sqs:us-east-1:123456789012:queue", "is not a Kinesis stream ARN"),
        ("arn:aws:kinesis:us-east-1:123456789012:deliverystream/x", "names a stream/NAME"),
        ("arn:aws:firehose:us-east-1:123456789012:stream/x", "names a deliverystream/NAME"),
        ("arn:aws:kinesis:us-east-1:1234:stream/x", "is not a Kinesis stream ARN"),
        ("arn:aws:firehose:us-east-1:123456789012:deliverystream/" + "x" * 65, "maximum is 64"),
        ("http://example.com/events", "plain http is allowed only to hosts in the networks"),
        ("https://169.254.169.254/latest", "a link-local address"),
        ("https://[fd00:ec2::254]/latest", "a private address"),
        ("https://10.1.2.3/events", "a private address"),
        ("https://[::ffff:169.254.169.254]/", "a link-local address"),
        ("https://0.0.0.0/", "an unspecified address"),
        ("redis://169.254.169.254:6379/0?stream=s", "a link-local address"),
        ("nats://192.168.1.1:4222/events", "a private address"),
        ("https:///events", "has no host"),
        ("kafka://127.0.0.1:9092/events", "not a supported destination"),
        ("ftp://127.0.0.1/x", "not a supported destination"),
        ("file://server/share/x.jsonl", "file:///ABSOLUTE/PATH"),
        ("nats://127.0.0.1:4222", "nats://HOST:PORT/SUBJECT"),
        ("nats://127.0.0.1:4222/events.*", "is not a NATS subject"),
        ("redis://127.0.0.1:6379/0", "stream=NAME"),
        ("redis://127.0.0.1:6379/0?stream=s&maxlen=0", "maxlen must be one positive integer"),
    ],
)
def test_put_refuses_destinations_it_cannot_write_to(
    streams: EventStreams, target: str, message: str
) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        streams.put(new_app(), {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")


def test_put_accepts_every_supported_aws_destination(destinations: Destinations) -> None:
    app_id = new_app()
    destinations.check("arn:aws:kinesis:eu-west-1:123456789012:stream/pinpoint.events-1", app_id)
    destinations.check("arn:aws-cn:firehose:cn-north-1:123456789012:deliverystream/to_s3", app_id)
    destinations.check("https://collector.example.com/pinpoint", app_id)
    destinations.check("http://[::1]:8080/events", app_id)


@pytest.mark.parametrize(
    "role",
    ["", "role", "arn:aws:iam::123456789012:user/someone", "arn:aws:iam::12:role/x"],
)
def test_put_refuses_a_role_arn_that_is_not_an_iam_role(
    streams: EventStreams, receiver: Receiver, role: str
) -> None:
    with pytest.raises(BadRequest, match="is not an IAM role ARN"):
        streams.put(new_app(), {"DestinationStreamArn": receiver.url, "RoleArn": role}, "AKID1")


# --- Delivery -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["kinesis", "firehose", "web"])
def test_every_event_is_delivered_once_in_order(
    db: Database,
    streams: EventStreams,
    exporter: Exporter,
    receiver: Receiver,
    kind: str,
) -> None:
    target = {"kinesis": KINESIS, "firehose": FIREHOSE, "web": f"{receiver.url}/pinpoint"}[kind]
    app_id = new_app()
    add_endpoint(db, app_id, "Phone-1")
    streams.put(app_id, {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("a", 150), "Phone-1")
    add_events(db, app_id, labels("b", 60), "Tablet-2")
    add_events(db, app_id, labels("c", 40), "Phone-1")

    assert drain(exporter) == 250
    assert received_labels(receiver) == labels("a", 150) + labels("b", 60) + labels("c", 40)
    assert receiver.batches == [100, 100, 50]
    row = stream_row(db, app_id)
    assert row.last_error is None
    assert row.exported_seq == newest_seq(db, app_id)

    first = receiver.parsed()[0]
    assert first["client"] == {"client_id": "Phone-1"}
    assert first["endpoint"]["Id"] == "Phone-1"
    assert first["endpoint"]["ApplicationId"] == app_id
    assert first["device"]["platform"] == {"name": "android"}
    assert first["application"]["version_name"] == "2.0"
    assert first["awsAccountId"] == ACCOUNT
    assert receiver.parsed()[150]["client"] == {"client_id": "tablet-2"}
    assert "endpoint" not in receiver.parsed()[150]
    if kind == "kinesis":
        assert receiver.keys == ["Phone-1"] * 150 + ["tablet-2"] * 60 + ["Phone-1"] * 40
    if kind == "firehose":
        assert all(record.endswith(b"\n") for record in receiver.records)


def test_kinesis_retries_only_the_records_it_refused(
    db: Database, streams: EventStreams, exporter: Exporter, receiver: Receiver
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": KINESIS, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("k", 5))
    receiver.refusals = [{1, 3}]

    assert drain(exporter) == 5
    assert receiver.batches == [5, 2]
    assert sorted(received_labels(receiver)) == labels("k", 5)
    assert received_labels(receiver)[-2:] == ["k1", "k3"]


def test_firehose_records_refused_every_time_fail_the_batch(
    destinations: Destinations, receiver: Receiver
) -> None:
    destination = destinations.open(FIREHOSE, new_app())
    receiver.refusals = [{0, 2}, {0}, {0}]
    try:
        with pytest.raises(DeliveryError, match="refused 1 of 3 records after 3 attempts"):
            destination.send([Record(f"a:{n}", "e", b'{"n":%d}' % n) for n in range(3)])
    finally:
        destination.close()
    assert receiver.batches == [3, 2, 1]
    assert receiver.records == [b'{"n":1}\n', b'{"n":2}\n']


def test_a_destination_that_is_down_loses_nothing_and_catches_up(
    db: Database,
    streams: EventStreams,
    exporter: Exporter,
    receiver: Receiver,
    clock: Clock,
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    start = stream_row(db, app_id).exported_seq
    receiver.down = True
    add_events(db, app_id, labels("down", 30))

    for round_number in range(5):
        assert exporter.run_once() == 0
        clock.advance(60)
        add_events(db, app_id, labels(f"more{round_number}-", 10))
    row = stream_row(db, app_id)
    assert row.exported_seq == start
    assert row.last_error == f"POST {receiver.url} failed: HTTP 503"
    assert receiver.records == []

    receiver.down = False
    clock.advance(60)
    assert drain(exporter) == 80
    expected = labels("down", 30) + [
        label for round_number in range(5) for label in labels(f"more{round_number}-", 10)
    ]
    assert received_labels(receiver) == expected
    assert stream_row(db, app_id).last_error is None


def test_a_failing_destination_is_retried_after_a_pause_that_doubles_up_to_30_s(
    db: Database,
    streams: EventStreams,
    exporter: Exporter,
    receiver: Receiver,
    clock: Clock,
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    receiver.down = True
    add_events(db, app_id, labels("x", 3))

    assert exporter.run_once() == 0
    for pause in [0.5, 1, 2, 4, 8, 16, 30, 30, 30]:
        tried = receiver.requests
        clock.advance(pause - 0.001)
        assert exporter.run_once() == 0
        assert receiver.requests == tried, f"retried before {pause} s"
        clock.advance(0.001)
        assert exporter.run_once() == 0
        assert receiver.requests > tried, f"not retried after {pause} s"


def test_a_lost_acknowledgement_duplicates_only_that_batch(
    db: Database,
    streams: EventStreams,
    exporter: Exporter,
    receiver: Receiver,
    clock: Clock,
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("e", 250))
    receiver.acks_to_lose = 4

    assert exporter.run_once() == 0, "three attempts in one round, all unacknowledged"
    clock.advance(1)
    assert drain(exporter) == 250

    assert received_labels(receiver) == labels("e", 100) * 5 + labels("e", 250)[100:]
    assert receiver.batches == [100] * 5 + [100, 50]


def test_a_refused_connection_is_retried_once_the_destination_is_back(
    db: Database,
    streams: EventStreams,
    exporter: Exporter,
    receiver: Receiver,
    clock: Clock,
) -> None:
    port = receiver.port
    receiver.stop()
    app_id = new_app()
    target = f"http://127.0.0.1:{port}/events"
    streams.put(app_id, {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("r", 4))

    assert exporter.run_once() == 0
    assert "ConnectError" in stream_row(db, app_id).last_error

    back = Receiver(port)
    try:
        clock.advance(1)
        assert drain(exporter) == 4
        assert received_labels(back) == labels("r", 4)
    finally:
        back.stop()


def test_moving_a_stream_sends_new_events_to_the_new_destination_only(
    db: Database, streams: EventStreams, exporter: Exporter, receiver: Receiver
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("first", 2))
    drain(exporter)

    other = Receiver()
    try:
        streams.put(app_id, {"DestinationStreamArn": other.url, "RoleArn": ROLE}, "AKID1")
        add_events(db, app_id, labels("second", 2))
        assert drain(exporter) == 2
        assert received_labels(receiver) == labels("first", 2)
        assert received_labels(other) == labels("second", 2)
    finally:
        other.stop()


def test_a_deleted_stream_exports_nothing_more(
    db: Database, streams: EventStreams, exporter: Exporter, receiver: Receiver
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, ["kept"])
    drain(exporter)
    streams.delete(app_id)
    add_events(db, app_id, ["dropped"])

    assert drain(exporter) == 0
    assert received_labels(receiver) == ["kept"]


def test_ingestion_does_not_wait_for_a_slow_destination(
    db: Database, streams: EventStreams, exporter: Exporter, receiver: Receiver
) -> None:
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("slow", 10))
    receiver.delay = 1.0
    exporter.start()
    deadline = time.monotonic() + 10
    while not receiver.batches and time.monotonic() < deadline:
        started = time.monotonic()
        add_events(db, app_id, ["meanwhile"])
        assert time.monotonic() - started < 1.0
        time.sleep(0.1)
    receiver.delay = 0.0
    deadline = time.monotonic() + 15
    while (
        stream_row(db, app_id).exported_seq < newest_seq(db, app_id) and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    exporter.stop()
    got = received_labels(receiver)
    assert got[:10] == labels("slow", 10)
    assert set(got[10:]) == {"meanwhile"}


def test_an_event_committed_late_on_postgresql_is_not_skipped(
    db: Database, streams: EventStreams, exporter: Exporter, receiver: Receiver
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("only PostgreSQL commits events out of seq order")
    app_id = new_app()
    streams.put(app_id, {"DestinationStreamArn": receiver.url, "RoleArn": ROLE}, "AKID1")
    url = db.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as held:
        held.execute(
            "INSERT INTO events (app_id, endpoint_key, event_id, event_type, timestamp_ms, "
            "arrival_ms, day, event) VALUES (%s, 'phone-1', %s, 'purchase', 1, 2, "
            "'1970-01-01', %s::jsonb)",
            (app_id, uuid.uuid4().hex, json.dumps({"Attributes": {"n": "late"}})),
        )
        add_events(db, app_id, ["early"])
        assert drain(exporter) == 0
        held.commit()
    assert drain(exporter) == 2
    assert received_labels(receiver) == ["late", "early"]


# --- Files ----------------------------------------------------------------------------------


def test_files_are_appended_and_numbered_by_size(
    db: Database, streams: EventStreams, exporter: Exporter, file_root: Path
) -> None:
    app_id = new_app()
    target = f"file://{file_root}/{app_id}/exports/events.jsonl"
    streams.put(app_id, {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("f", 40))

    assert drain(exporter) == 40
    files = sorted((file_root / app_id / "exports").iterdir())
    assert [path.name for path in files[:2]] == ["events.000001.jsonl", "events.000002.jsonl"]
    assert len(files) > 2
    assert all(path.stat().st_size <= 4000 for path in files)
    lines = [line for path in files for line in path.read_bytes().splitlines()]
    assert [orjson.loads(line)["attributes"]["n"] for line in lines] == labels("f", 40)


def test_file_destination_continues_the_last_file_and_closes_a_cut_line(file_root: Path) -> None:
    directory = file_root / "out"
    directory.mkdir()
    (directory / "events.000003.jsonl").write_bytes(b'{"whole":1}\n{"cut')
    destination = FileDestination(directory / "events.jsonl", max_bytes=1000)

    destination.send([Record("a:1", "e", b'{"n":1}'), Record("a:2", "e", b'{"n":2}')])

    assert (directory / "events.000003.jsonl").read_bytes() == (
        b'{"whole":1}\n{"cut\n{"n":1}\n{"n":2}\n'
    )


def test_file_destination_refuses_to_follow_a_symbolic_link(
    file_root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.write_bytes(b"")
    (file_root / "events.000001.jsonl").symlink_to(outside)
    destination = FileDestination(file_root / "events.jsonl", max_bytes=1000)

    with pytest.raises(DeliveryError):
        destination.send([Record("a:1", "e", b"{}")])
    assert outside.read_bytes() == b""


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("{outside}/x.jsonl", "outside this application's file folders"),
        ("{root}/../outside/x.jsonl", "outside this application's file folders"),
        ("{root}/link/x.jsonl", "outside this application's file folders"),
        ("{root}/x.jsonl", "outside this application's file folders"),
        ("{root}/{other}/x.jsonl", "outside this application's file folders"),
        ("{root}/{app}/link/x.jsonl", "outside this application's file folders"),
        ("{root}/{app}/nul%00.jsonl", "NUL character"),
        ("{root}/{app}", "names a directory"),
        ("{root}/{app}/", "names a directory"),
        ("/", "does not name a file"),
    ],
)
def test_files_outside_the_allowed_roots_are_refused(
    file_root: Path, tmp_path: Path, path: str, message: str
) -> None:
    (tmp_path / "outside").mkdir()
    app, other = new_app(), new_app()
    (file_root / app).mkdir()
    (file_root / "link").symlink_to(tmp_path / "outside")
    (file_root / other).mkdir()
    (file_root / app / "link").symlink_to(file_root / other)
    destinations = Destinations(policy=LOOPBACK_PEERS, file_roots=FileRoots([file_root]))
    target = "file://" + path.format(
        root=file_root, outside=tmp_path / "outside", app=app, other=other
    )

    with pytest.raises(BadRequest, match=message):
        destinations.check(target, app)


def test_an_app_folder_that_links_to_another_apps_folder_is_refused(file_root: Path) -> None:
    app, other = new_app(), new_app()
    (file_root / other).mkdir()
    (file_root / app).symlink_to(file_root / other)
    destinations = Destinations(policy=LOOPBACK_PEERS, file_roots=FileRoots([file_root]))

    with pytest.raises(BadRequest, match="outside this application's file folders"):
        destinations.check(f"file://{file_root}/{app}/x.jsonl", app)


def test_file_destinations_are_off_without_roots(file_root: Path) -> None:
    with pytest.raises(BadRequest, match="CLARION_FILE_ROOTS"):
        Destinations(policy=LOOPBACK_PEERS, file_roots=FileRoots([])).check(
            f"file://{file_root}/x.jsonl", new_app()
        )


def test_loopback_is_refused_unless_the_operator_allows_it(file_root: Path) -> None:
    strict = Destinations(policy=OutboundPolicy(), file_roots=FileRoots([file_root]))
    for target in (
        "https://127.0.0.1:8443/events",
        "https://localhost/events",
        "redis://127.0.0.1:6379/0?stream=s",
        "nats://[::1]:4222/events",
    ):
        with pytest.raises(BadRequest, match="a loopback address"):
            strict.check(target, new_app())


# --- Redis and NATS -------------------------------------------------------------------------


def test_redis_stream_receives_every_event(
    db: Database, streams: EventStreams, exporter: Exporter
) -> None:
    redis = pytest.importorskip(
        "redis", reason="the redis package is not installed: the Redis destination is untested"
    )
    name = f"clarion-test-{uuid.uuid4().hex}"
    app_id = new_app()
    target = f"redis://127.0.0.1:6379/0?stream={name}&maxlen=10000"
    streams.put(app_id, {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("r", 120))
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        assert drain(exporter) == 120
        entries = client.xrange(name)
        assert [orjson.loads(fields[b"data"])["attributes"]["n"] for _, fields in entries] == (
            labels("r", 120)
        )
        assert {fields[b"key"] for _, fields in entries} == {b"phone-1"}
    finally:
        client.delete(name)
        client.close()


def test_nats_jetstream_receives_every_event_once(
    db: Database, streams: EventStreams, exporter: Exporter, receiver: Receiver, clock: Clock
) -> None:
    nats = pytest.importorskip(
        "nats", reason="the nats-py package is not installed: the NATS destination is untested"
    )
    name = f"CLARION_TEST_{uuid.uuid4().hex}"
    subject = f"clarion.test.{uuid.uuid4().hex}"

    async def create() -> None:
        client = await nats.connect("nats://127.0.0.1:4222")
        await client.jetstream().add_stream(name=name, subjects=[subject])
        await client.close()

    async def read_and_delete() -> list[bytes]:
        client = await nats.connect("nats://127.0.0.1:4222")
        stream = client.jetstream()
        info = await stream.stream_info(name)
        messages = [
            (await stream.get_msg(name, seq)).data for seq in range(1, info.state.messages + 1)
        ]
        await stream.delete_stream(name)
        await client.close()
        return messages

    asyncio.run(create())
    app_id = new_app()
    target = f"nats://127.0.0.1:4222/{subject}"
    streams.put(app_id, {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")
    add_events(db, app_id, labels("n", 30))
    assert drain(exporter) == 30
    data = asyncio.run(read_and_delete())
    assert [orjson.loads(message)["attributes"]["n"] for message in data] == labels("n", 30)


def test_nats_without_a_jetstream_stream_fails_and_keeps_the_events(
    db: Database, streams: EventStreams, exporter: Exporter
) -> None:
    pytest.importorskip(
        "nats", reason="the nats-py package is not installed: the NATS destination is untested"
    )
    app_id = new_app()
    target = f"nats://127.0.0.1:4222/clarion.nobody.{uuid.uuid4().hex}"
    streams.put(app_id, {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")
    start = stream_row(db, app_id).exported_seq
    add_events(db, app_id, labels("n", 2))

    assert exporter.run_once() == 0
    row = stream_row(db, app_id)
    assert row.exported_seq == start
    assert "NATS JetStream did not acknowledge" in row.last_error


@pytest.mark.parametrize(
    ("module", "target"),
    [("nats", "nats://127.0.0.1:4222/s"), ("redis", "redis://127.0.0.1:6379/0?stream=s")],
)
def test_a_missing_client_library_is_named(streams: EventStreams, module: str, target: str) -> None:
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed")
    with pytest.raises(BadRequest, match="does not have installed"):
        streams.put(new_app(), {"DestinationStreamArn": target, "RoleArn": ROLE}, "AKID1")


def test_only_one_exporter_per_store_leads(db: Database) -> None:
    first, second = ExportRepository(db), ExportRepository(db)
    try:
        assert first.lead()
        if db.dialect != "postgresql":
            assert second.lead(), "a SQLite store has one server, which always leads"
            return
        assert not second.lead(), "a second exporter must wait"
        assert first.lead(), "the leader keeps leading"
        first.resign()
        assert second.lead(), "another takes over when the leader lets go"
    finally:
        first.resign()
        second.resign()
