"""Crash safety of journeys: 10,000 endpoints move through e-mail → wait → random split →
e-mail while the server is SIGKILLed several times, and two servers on one PostgreSQL share a
journey, one of them killed mid-way.

Every endpoint ends on its own path (the split's draw is stable, so the test knows it); the
only repeats are messages that were in flight at a kill, each with its first copy's
Message-ID."""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clarion.journeys import steps
from tests.conftest import Server, new_postgres_database, start_server
from tests.delivery.conftest import Recorder, smtp_server

IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
BRANCHES = [{"Percentage": 50, "NextActivity": "left"}, {"Percentage": 50, "NextActivity": "right"}]


@pytest.fixture
def sink() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        yield recorder, port


def started(data_dir: Path, port: int, database_url: str | None = None) -> Server:
    return start_server(
        data_dir,
        database_url,
        CLARION_EMAIL_URL=f"smtp://127.0.0.1:{port}",
        CLARION_SEND_TIMEOUT_SECONDS="3",
        CLARION_RETRY_BASE_SECONDS="0.2",
        CLARION_RETRY_MAX_SECONDS="1",
    )


def prepare(pinpoint: Any, endpoints: int) -> str:
    """An app of ``endpoints`` e-mail endpoints and the journey they all enter; its id."""
    app_id: str = pinpoint.create_app(CreateApplicationRequest={"Name": "chaos"})[
        "ApplicationResponse"
    ]["Id"]
    pinpoint.update_email_channel(
        ApplicationId=app_id,
        EmailChannelRequest={"FromAddress": "news@example.com", "Identity": IDENTITY},
    )
    for start in range(0, endpoints, 100):
        items = [
            {
                "Id": f"r{n}",
                "ChannelType": "EMAIL",
                "Address": f"r{n}@example.org",
                "Attributes": {"Cohort": ["chaos"]},
            }
            for n in range(start, min(start + 100, endpoints))
        ]
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    segment_id = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "everyone",
            "Dimensions": {"Attributes": {"Cohort": {"Values": ["chaos"]}}},
        },
    )["SegmentResponse"]["Id"]
    for name in ("first", "left", "right"):
        pinpoint.create_email_template(
            TemplateName=f"chaos-{name}-{app_id}",
            EmailTemplateRequest={"Subject": name, "HtmlPart": f"<p>{name}</p>"},
        )
    journey_id: str = pinpoint.create_journey(
        ApplicationId=app_id,
        WriteJourneyRequest={
            "Name": "chaos",
            "StartActivity": "first",
            "StartCondition": {"SegmentStartCondition": {"SegmentId": segment_id}},
            "Activities": {
                "first": {
                    "EMAIL": {"TemplateName": f"chaos-first-{app_id}", "NextActivity": "wait"}
                },
                "wait": {"Wait": {"WaitTime": {"WaitFor": "PT2S"}, "NextActivity": "split"}},
                "split": {"RandomSplit": {"Branches": BRANCHES}},
                "left": {"EMAIL": {"TemplateName": f"chaos-left-{app_id}"}},
                "right": {"EMAIL": {"TemplateName": f"chaos-right-{app_id}"}},
            },
            "State": "ACTIVE",
        },
    )["JourneyResponse"]["Id"]
    return journey_id


def expected_paths(journey_id: str, endpoints: int) -> dict[str, set[str]]:
    """What each address must get: the first e-mail and the one of its drawn path."""
    paths = ("left", "right")
    return {
        f"r{n}@example.org": {
            "first",
            paths[steps.random_branch(BRANCHES, steps.draw(journey_id, f"r{n}", 1, "split"))],
        }
        for n in range(endpoints)
    }


def wait_for(recorder: Recorder, count: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while len(recorder.received) < count:
        assert time.monotonic() < deadline, f"{len(recorder.received)} of {count} mails"
        time.sleep(0.05)


def check(recorder: Recorder, expected: dict[str, set[str]], in_flight: int) -> None:
    """Each address got exactly its path; repeats are few and keep their Message-ID."""
    subjects: dict[str, set[str]] = defaultdict(set)
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    copies = 0
    for received in recorder.received:
        [recipient] = received.rcpt_tos
        message = received.message()
        subject = str(message["Subject"])
        subjects[recipient].add(subject)
        ids[(recipient, subject)].add(str(message["Message-ID"]))
        copies += 1
    assert subjects == expected
    assert all(len(found) == 1 for found in ids.values()), "a repeat had a new Message-ID"
    repeats = copies - sum(len(found) for found in expected.values())
    assert repeats <= in_flight, f"{repeats} repeats: more than the messages in flight"


def test_a_journey_survives_sigkills(tmp_path: Path, sink: tuple[Recorder, int]) -> None:
    endpoints, kills = 10_000, 3
    recorder, port = sink
    data_dir = tmp_path / "data"
    server = started(data_dir, port)
    try:
        journey_id = prepare(server.client(), endpoints)
        total = 2 * endpoints
        for kill in range(1, kills + 1):
            wait_for(recorder, kill * total // (kills + 1), 180)
            os.kill(server.process.pid, signal.SIGKILL)
            server.process.wait()
            server = started(data_dir, port)
        expected = expected_paths(journey_id, endpoints)
        deadline = time.monotonic() + 240
        while len({(r.rcpt_tos[0], r.message()["Subject"]) for r in recorder.received}) < total:
            assert time.monotonic() < deadline, len(recorder.received)
            time.sleep(0.5)
        time.sleep(2)
    finally:
        server.stop()
    check(recorder, expected, kills * 500)


def test_two_servers_share_a_journey_and_one_finishes_what_the_other_left(
    tmp_path: Path, sink: tuple[Recorder, int]
) -> None:
    endpoints = 2_000
    recorder, port = sink
    with new_postgres_database() as url:
        first = started(tmp_path / "first", port, url)
        second = started(tmp_path / "second", port, url)
        try:
            journey_id = prepare(first.client(), endpoints)
            wait_for(recorder, endpoints // 2, 120)
            os.kill(first.process.pid, signal.SIGKILL)
            first.process.wait()
            expected = expected_paths(journey_id, endpoints)
            deadline = time.monotonic() + 180
            while (
                len({(r.rcpt_tos[0], r.message()["Subject"]) for r in recorder.received})
                < 2 * endpoints
            ):
                assert time.monotonic() < deadline, len(recorder.received)
                time.sleep(0.5)
            time.sleep(2)
        finally:
            second.stop()
    check(recorder, expected, 500)
