"""The Twilio adapter against a loopback server speaking Twilio's Messages API."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from clarion.delivery import Outcome, Result, Sms, sms_adapter
from tests.conftest import free_port
from tests.delivery.conftest import Answer, HttpPeer

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "secret-token"
CREATED = Answer(201, json.dumps({"sid": "SM42", "status": "queued"}).encode())


def text(number: int = 1, sender: str | None = "+14155550100") -> Sms:
    return Sms(f"sms-{number}", sender, f"+1415555{number:04d}", f"Code {number}", "TRANSACTIONAL")


def send(url: str, messages: list[Sms]) -> list[Result]:
    async def scenario() -> list[Result]:
        adapter = sms_adapter(url, data_dir=Path("/nonexistent"))
        try:
            return [await adapter.send(message) for message in messages]
        finally:
            await adapter.close()

    return asyncio.run(scenario())


def test_a_message_is_posted_as_a_form_with_basic_auth() -> None:
    with HttpPeer(CREATED) as peer:
        url = f"twilio://{SID}:{TOKEN}@127.0.0.1:{peer.port}?scheme=http"
        results = send(url, [text(1), text(2, sender=None), text(3)])
    assert [(r.outcome, r.status_code, r.provider_message_id) for r in results] == [
        (Outcome.DELIVERED, 201, "SM42")
    ] * 3
    first = peer.requests[0]
    assert first.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    credentials = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert first.headers["Authorization"] == f"Basic {credentials}"
    assert parse_qs(first.body.decode()) == {
        "To": ["+14155550001"],
        "From": ["+14155550100"],
        "Body": ["Code 1"],
    }
    assert "From" not in parse_qs(peer.requests[1].body.decode())
    assert len({request.client_port for request in peer.requests}) == 1


def test_a_messaging_service_is_named_when_configured() -> None:
    with HttpPeer(CREATED) as peer:
        url = f"twilio://{SID}:{TOKEN}@localhost:{peer.port}?scheme=http&messaging_service_sid=MG1"
        [result] = send(url, [text(sender=None)])
    assert result.outcome is Outcome.DELIVERED
    assert parse_qs(peer.requests[0].body.decode())["MessagingServiceSid"] == ["MG1"]


def error(status: int, code: int, message: str) -> Answer:
    return Answer(status, json.dumps({"code": code, "message": message, "status": status}).encode())


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (error(400, 21610, "Attempt to send to unsubscribed recipient"), Outcome.OPT_OUT),
        (error(400, 21211, "Invalid 'To' Phone Number"), Outcome.PERMANENT),
        (error(404, 20404, "The requested resource was not found"), Outcome.PERMANENT),
        (error(429, 20429, "Too Many Requests"), Outcome.TRANSIENT),
        (error(401, 20003, "Authenticate"), Outcome.TRANSIENT),
        (Answer(500, b"<html>oops</html>", "text/html"), Outcome.TRANSIENT),
        (Answer(503, b"", "text/plain"), Outcome.TRANSIENT),
    ],
)
def test_answers_map_to_outcomes(answer: Answer, outcome: Outcome) -> None:
    with HttpPeer(CREATED) as peer:
        peer.answers.append(answer)
        url = f"twilio://{SID}:{TOKEN}@127.0.0.1:{peer.port}?scheme=http"
        failed, recovered = send(url, [text(1), text(2)])
    assert (failed.outcome, failed.status_code) == (outcome, answer.status)
    assert failed.provider_message_id is None
    assert recovered.outcome is Outcome.DELIVERED
    if answer.content_type == "application/json":
        assert str(json.loads(answer.body)["code"]) in failed.detail


def test_an_unreachable_server_is_transient() -> None:
    port = free_port()
    [result] = send(f"twilio://{SID}:{TOKEN}@127.0.0.1:{port}?scheme=http&timeout=2", [text()])
    assert (result.outcome, result.status_code) == (Outcome.TRANSIENT, 0)
    assert TOKEN not in result.detail


def test_concurrent_sends_share_a_few_connections() -> None:
    async def scenario(url: str) -> list[Result]:
        adapter = sms_adapter(url, data_dir=Path("/nonexistent"))
        try:
            return await asyncio.gather(*(adapter.send(text(n)) for n in range(40)))
        finally:
            await adapter.close()

    with HttpPeer(CREATED) as peer:
        url = f"twilio://{SID}:{TOKEN}@127.0.0.1:{peer.port}?scheme=http&max_connections=2"
        results = asyncio.run(scenario(url))
    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    assert len(peer.requests) == 40
    assert len({request.client_port for request in peer.requests}) <= 2
