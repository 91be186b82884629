"""Crash safety: a 20,000-endpoint e-mail campaign keeps going through SIGKILLs of the server.

Every endpoint is reached; the only repeats are messages that were in flight at a kill, and a
repeat carries the Message-ID of the first copy, so a receiver can drop it."""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, start_server
from tests.delivery.conftest import Recorder, smtp_server

ENDPOINTS = 20_000
KILLS = 3
IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"


@pytest.fixture
def sink() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        yield recorder, port


def started(data_dir: Path, port: int) -> Server:
    return start_server(
        data_dir,
        None,
        CLARION_EMAIL_URL=f"smtp://127.0.0.1:{port}",
        CLARION_SEND_TIMEOUT_SECONDS="3",
        CLARION_RETRY_BASE_SECONDS="0.2",
        CLARION_RETRY_MAX_SECONDS="1",
    )


def prepare(pinpoint: Any) -> str:
    app_id: str = pinpoint.create_app(CreateApplicationRequest={"Name": "chaos"})[
        "ApplicationResponse"
    ]["Id"]
    pinpoint.update_email_channel(
        ApplicationId=app_id,
        EmailChannelRequest={"FromAddress": "news@example.com", "Identity": IDENTITY},
    )
    for start in range(0, ENDPOINTS, 100):
        items = [
            {
                "Id": f"r{n}",
                "ChannelType": "EMAIL",
                "Address": f"r{n}@example.org",
                "Attributes": {"Cohort": ["chaos"]},
            }
            for n in range(start, start + 100)
        ]
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    segment_id = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "everyone",
            "Dimensions": {"Attributes": {"Cohort": {"Values": ["chaos"]}}},
        },
    )["SegmentResponse"]["Id"]
    pinpoint.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest={
            "Name": "chaos",
            "SegmentId": segment_id,
            "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
            "MessageConfiguration": {
                "EmailMessage": {"Title": "Hello {{Address}}", "Body": "A message for you."}
            },
        },
    )
    return app_id


def test_a_campaign_survives_sigkills(tmp_path: Path, sink: tuple[Recorder, int]) -> None:
    recorder, port = sink
    data_dir = tmp_path / "data"
    server = started(data_dir, port)
    try:
        prepare(server.client())
        for kill in range(1, KILLS + 1):
            deadline = time.monotonic() + 120
            while len(recorder.received) < kill * ENDPOINTS // (KILLS + 1):
                assert time.monotonic() < deadline, len(recorder.received)
                time.sleep(0.05)
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
            server = started(data_dir, port)
        deadline = time.monotonic() + 180
        while len({r.rcpt_tos[0] for r in recorder.received}) < ENDPOINTS:
            assert time.monotonic() < deadline, len(recorder.received)
            time.sleep(0.2)
        time.sleep(2)
    finally:
        server.stop()

    ids_by_recipient: dict[str, set[str]] = defaultdict(set)
    copies: dict[str, int] = defaultdict(int)
    for received in recorder.received:
        [recipient] = received.rcpt_tos
        ids_by_recipient[recipient].add(received.message()["Message-ID"])
        copies[recipient] += 1
    assert set(ids_by_recipient) == {f"r{n}@example.org" for n in range(ENDPOINTS)}
    assert all(len(ids) == 1 for ids in ids_by_recipient.values()), "a repeat had a new ID"
    repeats = sum(count - 1 for count in copies.values())
    assert repeats <= KILLS * 1000, f"{repeats} repeats: more than the messages in flight"
