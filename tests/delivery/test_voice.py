"""Voice messages: the outbox, End User Messaging SendVoiceMessage against a loopback server
speaking its JSON protocol, and the URLs that choose between them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from clarion.delivery import Outcome, Voice, read_outbox, voice_adapter
from clarion.delivery.outbox import Outbox
from clarion.delivery.sms_voice import VoiceMessageAdapter
from tests.delivery.conftest import Answer, HttpPeer
from tests.delivery.test_aws import REGION, aws_error, send

DATA = Path("/unused")


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def call(number: int = 1, **fields: Any) -> Voice:
    values: dict[str, Any] = {
        "message_id": f"voice-{number}",
        "sender": "+14155550100",
        "recipient": f"+1415555{number:04d}",
        "body": f"Your code is {number}",
    }
    return Voice(**(values | fields))


def test_the_outbox_keeps_every_field(tmp_path: Path) -> None:
    async def scenario() -> None:
        adapter = voice_adapter("outbox:", data_dir=tmp_path)
        results = [
            await adapter.send(call(1, language_code="de-DE", voice_id="Vicki")),
            await adapter.send(call(2, sender=None)),
        ]
        await adapter.close()
        assert [(r.outcome, r.provider_message_id) for r in results] == [
            (Outcome.DELIVERED, "voice-1"),
            (Outcome.DELIVERED, "voice-2"),
        ]

    asyncio.run(scenario())
    first, second = read_outbox(tmp_path, "voice")
    assert first.pop("written_at")
    assert first == {
        "message_id": "voice-1",
        "sender": "+14155550100",
        "recipient": "+14155550001",
        "body": "Your code is 1",
        "language_code": "de-DE",
        "voice_id": "Vicki",
    }
    assert (second["sender"], second["language_code"], second["voice_id"]) == (None, "en-US", None)
    assert (tmp_path / "outbox" / "voice.jsonl").read_bytes().count(b"\n") == 2


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (" \n\t", "has an empty script"),
        ("<speak>Hello</speak>", "is SSML"),
        ('  <?xml version="1.0"?>\n<SPEAK version="1.1">Hi</SPEAK>', "is SSML"),
    ],
)
def test_a_script_must_be_plain_text(body: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        call(body=body)


def test_angle_brackets_in_plain_text_are_fine() -> None:
    assert call(body="Press 1 if <speaker> is you").body == "Press 1 if <speaker> is you"


def sms_voice(peer: HttpPeer) -> VoiceMessageAdapter:
    adapter = voice_adapter(f"sms-voice://{REGION}", data_dir=DATA, aws_endpoint_url=peer.url)
    assert isinstance(adapter, VoiceMessageAdapter)
    return adapter


def test_end_user_messaging_speaks_the_script() -> None:
    with HttpPeer(Answer(200, b'{"MessageId": "eum-voice-1"}')) as peer:
        results = send(
            sms_voice(peer),
            [
                call(1, voice_id="Joanna"),
                call(2, language_code="DE-de"),
                call(3),
            ],
        )
    assert [(r.outcome, r.status_code, r.provider_message_id) for r in results] == [
        (Outcome.DELIVERED, 200, "eum-voice-1")
    ] * 3
    first, second, third = peer.requests
    assert first.headers["X-Amz-Target"] == "PinpointSMSVoiceV2.SendVoiceMessage"
    assert f"/{REGION}/sms-voice/aws4_request" in first.headers["Authorization"]
    assert json.loads(first.body) == {
        "DestinationPhoneNumber": "+14155550001",
        "OriginationIdentity": "+14155550100",
        "MessageBody": "Your code is 1",
        "MessageBodyTextType": "TEXT",
        "VoiceId": "JOANNA",
    }
    assert json.loads(second.body)["VoiceId"] == "MARLENE"
    assert json.loads(third.body)["VoiceId"] == "MATTHEW"


def test_what_end_user_messaging_cannot_speak_fails_without_a_call() -> None:
    with HttpPeer(Answer(200, b'{"MessageId": "x"}')) as peer:
        unknown_language, no_origination = send(
            sms_voice(peer), [call(1, language_code="xx-XX"), call(2, sender=None)]
        )
    assert (unknown_language.outcome, unknown_language.status_code) == (Outcome.PERMANENT, 0)
    assert "no voice for language 'xx-XX'" in unknown_language.detail
    assert no_origination.outcome is Outcome.PERMANENT
    assert "OriginationIdentity" in no_origination.detail
    assert peer.requests == []


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (
            aws_error(400, "ConflictException", Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT"),
            Outcome.OPT_OUT,
        ),
        (aws_error(400, "ValidationException", Reason="INVALID_ARN"), Outcome.PERMANENT),
        (aws_error(404, "ResourceNotFoundException"), Outcome.PERMANENT),
        (aws_error(400, "ThrottlingException"), Outcome.TRANSIENT),
        (aws_error(402, "ServiceQuotaExceededException"), Outcome.TRANSIENT),
        (aws_error(500, "InternalServerException"), Outcome.TRANSIENT),
    ],
)
def test_end_user_messaging_errors_map_to_outcomes(answer: Answer, outcome: Outcome) -> None:
    with HttpPeer(answer) as peer:
        [result] = send(sms_voice(peer), [call()])
    assert (result.outcome, result.status_code) == (outcome, answer.status)
    assert "said so" in result.detail
    assert len(peer.requests) == 1, "the adapter must not retry"


def test_each_scheme_picks_its_adapter() -> None:
    async def scenario() -> None:
        outbox = voice_adapter("outbox:", data_dir=DATA)
        aws = voice_adapter("sms-voice://ap-southeast-2?max_connections=3&timeout=5", data_dir=DATA)
        assert isinstance(outbox, Outbox)
        assert isinstance(aws, VoiceMessageAdapter)
        config = aws.aws.client.meta.config
        assert (config.region_name, config.max_pool_connections, config.read_timeout) == (
            "ap-southeast-2",
            3,
            5.0,
        )
        await outbox.close()
        await aws.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "is not supported; use sms-voice://REGION or outbox:"),
        ("twilio://AC1:secret@api.twilio.com", "is not supported; use sms-voice://"),
        ("ses://us-east-1", "is not supported; use sms-voice://"),
        ("sms-voice://", "must name an AWS region"),
        ("sms-voice://moon", "must name an AWS region"),
        ("sms-voice://us-east-1/calls", "must name an AWS region"),
        ("sms-voice://us-east-1?pool=2", "unknown option 'pool'"),
        ("sms-voice://us-east-1?timeout=0", "number of seconds"),
        ("sms-voice://us-east-1#x", "must not have a #fragment"),
        ("outbox:voice", "write the outbox as just 'outbox:'"),
    ],
)
def test_a_bad_voice_url_is_refused_precisely(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^voice URL .*{problem}"):
        voice_adapter(url, data_dir=DATA)
