"""The AWS adapters: SES v2 against moto's server, End User Messaging SMS against a loopback
server speaking its JSON protocol, and both against AWS-style error answers."""

from __future__ import annotations

import asyncio
import email
import json
from collections.abc import Iterator
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends

from clarion.delivery import Adapter, Email, Outcome, Result, Sms, email_adapter, sms_adapter
from tests.conftest import free_port
from tests.delivery.conftest import Answer, HttpPeer

M = TypeVar("M")
REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def send(adapter: Adapter[M], messages: list[M]) -> list[Result]:
    async def scenario() -> list[Result]:
        try:
            return [await adapter.send(message) for message in messages]
        finally:
            await adapter.close()

    return asyncio.run(scenario())


def mail(number: int = 1, **fields: Any) -> Email:
    values: dict[str, Any] = {
        "message_id": f"m-{number}@clarion.test",
        "sender": "Clarion <news@example.com>",
        "recipient": f"Reader <reader{number}@example.com>",
        "subject": "Grüße",
        "html": "<p>Hallo</p>",
        "text": "Hallo",
    }
    return Email(**(values | fields))


def test_ses_sends_the_raw_mime(moto_url: str) -> None:
    boto3.client("sesv2", region_name=REGION, endpoint_url=moto_url).create_email_identity(
        EmailIdentity="news@example.com"
    )
    adapter = email_adapter(f"ses://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=moto_url)
    [result] = send(adapter, [mail(1)])
    assert result.outcome is Outcome.DELIVERED
    assert result.status_code == 200
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    [raw] = [item for item in sent if "<m-1@clarion.test>" in getattr(item, "raw_data", "")]
    assert raw.id == result.provider_message_id
    assert raw.source == "news@example.com"
    assert "reader1@example.com" in raw.destinations
    mime = email.message_from_string(raw.raw_data, policy=default_policy)
    assert mime["Subject"] == "Grüße"
    assert mime["Message-ID"] == "<m-1@clarion.test>"
    assert [part.get_content_type() for part in mime.iter_parts()] == ["text/plain", "text/html"]


def test_ses_rejects_an_unverified_sender_permanently(moto_url: str) -> None:
    adapter = email_adapter(f"ses://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=moto_url)
    [result] = send(adapter, [mail(2, sender="stranger@example.org")])
    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 400)
    assert result.detail.startswith("MessageRejected:")


def test_ses_refuses_a_non_ascii_local_part_without_a_request() -> None:
    with HttpPeer(Answer(200, b"{}")) as peer:
        adapter = email_adapter(
            f"ses://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=peer.url
        )
        [result] = send(adapter, [mail(recipient="jörg@example.com")])
    assert result.outcome is Outcome.PERMANENT
    assert peer.requests == []


def aws_error(status: int, code: str, **members: str) -> Answer:
    return Answer(status, json.dumps({"__type": code, "message": "said so", **members}).encode())


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (aws_error(429, "TooManyRequestsException"), Outcome.TRANSIENT),
        (aws_error(400, "SendingPausedException"), Outcome.TRANSIENT),
        (aws_error(400, "LimitExceededException"), Outcome.TRANSIENT),
        (aws_error(500, "InternalFailure"), Outcome.TRANSIENT),
        (aws_error(400, "MessageRejected"), Outcome.PERMANENT),
        (aws_error(400, "MailFromDomainNotVerifiedException"), Outcome.PERMANENT),
    ],
)
def test_ses_errors_map_to_outcomes(answer: Answer, outcome: Outcome) -> None:
    with HttpPeer(answer) as peer:
        adapter = email_adapter(
            f"ses://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=peer.url
        )
        [result] = send(adapter, [mail()])
    assert (result.outcome, result.status_code) == (outcome, answer.status)
    assert len(peer.requests) == 1, "the adapter must not retry"


def sms(number: int = 1, **fields: Any) -> Sms:
    values: dict[str, Any] = {
        "message_id": f"sms-{number}",
        "sender": "+14155550100",
        "recipient": f"+1415555{number:04d}",
        "body": f"Code {number}",
        "message_type": "TRANSACTIONAL",
        "keyword": "JOIN",
    }
    return Sms(**(values | fields))


def test_end_user_messaging_sends_a_text() -> None:
    with HttpPeer(Answer(200, b'{"MessageId": "eum-1"}')) as peer:
        adapter = sms_adapter(
            f"sms-voice://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=peer.url
        )
        results = send(adapter, [sms(1), sms(2, sender=None, keyword=None)])
    assert [(r.outcome, r.provider_message_id) for r in results] == [
        (Outcome.DELIVERED, "eum-1")
    ] * 2
    first, second = peer.requests
    assert first.headers["X-Amz-Target"] == "PinpointSMSVoiceV2.SendTextMessage"
    assert f"/{REGION}/sms-voice/aws4_request" in first.headers["Authorization"]
    assert json.loads(first.body) == {
        "DestinationPhoneNumber": "+14155550001",
        "MessageBody": "Code 1",
        "MessageType": "TRANSACTIONAL",
        "OriginationIdentity": "+14155550100",
        "Keyword": "JOIN",
    }
    assert json.loads(second.body) == {
        "DestinationPhoneNumber": "+14155550002",
        "MessageBody": "Code 2",
        "MessageType": "TRANSACTIONAL",
    }


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (
            aws_error(400, "ConflictException", Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT"),
            Outcome.OPT_OUT,
        ),
        (aws_error(400, "ConflictException", Reason="KEYWORD_MISMATCH"), Outcome.PERMANENT),
        (aws_error(400, "ValidationException", Reason="CANNOT_PARSE"), Outcome.PERMANENT),
        (aws_error(400, "ThrottlingException"), Outcome.TRANSIENT),
        (aws_error(402, "ServiceQuotaExceededException"), Outcome.TRANSIENT),
        (aws_error(500, "InternalServerException"), Outcome.TRANSIENT),
    ],
)
def test_end_user_messaging_errors_map_to_outcomes(answer: Answer, outcome: Outcome) -> None:
    with HttpPeer(answer) as peer:
        adapter = sms_adapter(
            f"sms-voice://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=peer.url
        )
        [result] = send(adapter, [sms()])
    assert (result.outcome, result.status_code) == (outcome, answer.status)
    assert "said so" in result.detail
    assert len(peer.requests) == 1, "the adapter must not retry"


def test_an_unreachable_endpoint_is_transient() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    email_result = send(
        email_adapter(f"ses://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=endpoint),
        [mail()],
    )
    sms_result = send(
        sms_adapter(f"sms-voice://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=endpoint),
        [sms()],
    )
    for [result] in (email_result, sms_result):
        assert (result.outcome, result.status_code) == (Outcome.TRANSIENT, 0)
        assert "EndpointConnectionError" in result.detail


def test_missing_credentials_are_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with HttpPeer(Answer(200, b'{"MessageId": "x"}')) as peer:
        adapter = sms_adapter(
            f"sms-voice://{REGION}", data_dir=Path("/unused"), aws_endpoint_url=peer.url
        )
        [result] = send(adapter, [sms()])
    assert result.outcome is Outcome.TRANSIENT
    assert "NoCredentialsError" in result.detail
    assert peer.requests == []
