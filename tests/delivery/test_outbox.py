"""The outbox: what would have been sent, as JSON lines under DATA_DIR/outbox/."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from clarion.delivery import Email, Outcome, Sms, email_adapter, read_outbox, sms_adapter


def test_e_mail_and_sms_round_trip(tmp_path: Path) -> None:
    mail = Email(
        "m-1@clarion.test",
        "news@example.com",
        "Zoë <zoe@example.com>",
        "Grüße",
        "<p>Hi</p>",
        "Hi",
        {"X-Campaign": "c-1"},
        ("help@example.com",),
    )
    text = Sms("sms-1", "+14155550100", "+14155550199", "Your code is 1234", "TRANSACTIONAL")

    async def scenario() -> None:
        emails = email_adapter("outbox:", data_dir=tmp_path)
        texts = sms_adapter("outbox:", data_dir=tmp_path)
        results = [await emails.send(mail), await texts.send(text), await emails.send(mail)]
        assert [result.outcome for result in results] == [Outcome.DELIVERED] * 3
        assert results[0].provider_message_id == "m-1@clarion.test"
        await emails.close()
        await texts.close()

    asyncio.run(scenario())
    written = read_outbox(tmp_path, "email")
    assert len(written) == 2
    first = written[0]
    assert first.pop("written_at")
    assert first == {
        "message_id": "m-1@clarion.test",
        "sender": "news@example.com",
        "recipient": "Zoë <zoe@example.com>",
        "subject": "Grüße",
        "html": "<p>Hi</p>",
        "text": "Hi",
        "headers": {"X-Campaign": "c-1"},
        "reply_to": ["help@example.com"],
    }
    [sms] = read_outbox(tmp_path, "sms")
    assert sms["recipient"] == "+14155550199"
    assert sms["message_type"] == "TRANSACTIONAL"
    assert sms["keyword"] is None
    assert (tmp_path / "outbox" / "sms.jsonl").read_bytes().count(b"\n") == 1


def test_concurrent_sends_write_whole_lines(tmp_path: Path) -> None:
    async def scenario() -> None:
        adapter = sms_adapter("outbox:", data_dir=tmp_path)
        messages = [
            Sms(f"sms-{n}", None, "+14155550199", "x" * n, "PROMOTIONAL") for n in range(300)
        ]
        await asyncio.gather(*(adapter.send(message) for message in messages))
        await adapter.close()

    asyncio.run(scenario())
    assert sorted(len(record["body"]) for record in read_outbox(tmp_path, "sms")) == list(
        range(300)
    )


def test_a_cut_line_is_left_out(tmp_path: Path) -> None:
    assert read_outbox(tmp_path, "email") == []
    path = tmp_path / "outbox" / "email.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"message_id": "a"}\n{"message_id": "b", "sub\n{"message_id": "c"}\n')
    assert [record["message_id"] for record in read_outbox(tmp_path, "email")] == ["a", "c"]


def test_an_unwritable_outbox_is_transient(tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("a file where the folder should be")

    async def scenario() -> Outcome:
        adapter = email_adapter("outbox:", data_dir=tmp_path)
        result = await adapter.send(
            Email("m@clarion.test", "a@example.com", "b@example.com", "s", None, "t")
        )
        await adapter.close()
        return result.outcome

    assert asyncio.run(scenario()) is Outcome.TRANSIENT
    assert os.path.isfile(tmp_path / "outbox")
