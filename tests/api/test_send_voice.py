"""SendMessages to VOICE addresses end to end: through boto3 and the server to the voice outbox,
with a plain-text script delivered and an SSML one refused for its recipient alone."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, new_postgres_database, start_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    stack = contextlib.ExitStack()
    database_url = (
        stack.enter_context(new_postgres_database()) if request.param == "postgresql" else None
    )
    running = start_server(
        tmp_path_factory.mktemp(f"voice-{request.param}"),
        database_url,
        CLARION_VOICE_URL="outbox:",
    )
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
        stack.close()


def test_a_voice_message_reaches_the_outbox(server: Server, pinpoint: Any, app_id: str) -> None:
    pinpoint.update_voice_channel(ApplicationId=app_id, VoiceChannelRequest={"Enabled": True})
    answer = pinpoint.send_messages(
        ApplicationId=app_id,
        MessageRequest={
            "MessageConfiguration": {
                "VoiceMessage": {
                    "Body": "Ihr Code lautet {{code}}",
                    "LanguageCode": "de-DE",
                    "VoiceId": "Hans",
                    "OriginationNumber": "+14155550100",
                    "Substitutions": {"code": ["4321"]},
                }
            },
            "Addresses": {
                "+14155550199": {"ChannelType": "VOICE"},
                "+14155550198": {
                    "ChannelType": "VOICE",
                    "BodyOverride": "<speak>Ihr Code</speak>",
                },
            },
        },
    )["MessageResponse"]
    spoken = answer["Result"]["+14155550199"]
    assert (spoken["DeliveryStatus"], spoken["StatusCode"]) == ("SUCCESSFUL", 200)
    refused = answer["Result"]["+14155550198"]
    assert refused["DeliveryStatus"] == "PERMANENT_FAILURE"
    assert "is SSML" in refused["StatusMessage"]

    outbox = Path(server.env["CLARION_DATA_DIR"]) / "outbox" / "voice.jsonl"
    written = [json.loads(line) for line in outbox.read_text().splitlines()]
    [line] = [item for item in written if item["message_id"] == spoken["MessageId"]]
    assert line.pop("written_at")
    assert line == {
        "message_id": spoken["MessageId"],
        "sender": "+14155550100",
        "recipient": "+14155550199",
        "body": "Ihr Code lautet 4321",
        "language_code": "de-DE",
        "voice_id": "Hans",
    }
    assert not any(item["recipient"] == "+14155550198" for item in written)
