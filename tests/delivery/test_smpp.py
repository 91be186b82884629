"""The SMPP adapter against a loopback SMSC speaking SMPP 3.4."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest

from clarion.delivery import Outcome, Result, Sms, sms_adapter
from clarion.delivery.smpp import SmppAdapter
from tests.conftest import free_port
from tests.delivery.conftest import Tls
from tests.delivery.smpp_server import (
    DELIVER_SM,
    ENQUIRE_LINK,
    ESME_RINVCMDID,
    ESME_RINVPASWD,
    ESME_ROK,
    GENERIC_NACK,
    RESPONSE,
    UDHI,
    Bind,
    Smsc,
    Submit,
    wait_for,
)

PASSWORD = "s3cret"
DATA = Path("/nonexistent")
LONG_GSM = "".join(f"Line {n}: your code is {{{n:04d}}} and costs £{n}. " for n in range(12))
LONG_UCS2 = "Ваш код подтверждения 4321. 👋 " * 8


def text(
    number: int = 1, body: str = "Your code is 1234", sender: str | None = "+14155550100"
) -> Sms:
    return Sms(f"sms-{number}", sender, f"+1415555{number:04d}", body, "TRANSACTIONAL")


def url(smsc: Smsc, options: str = "") -> str:
    return f"smpp://clarion:{PASSWORD}@127.0.0.1:{smsc.port}" + (f"?{options}" if options else "")


def send(address: str, messages: list[Sms]) -> list[Result]:
    async def scenario() -> list[Result]:
        adapter = sms_adapter(address, data_dir=DATA)
        try:
            return [await adapter.send(message) for message in messages]
        finally:
            await adapter.close()

    return asyncio.run(scenario())


def reassemble(parts: list[Submit]) -> str:
    concatenations = [part.concatenation() for part in parts]
    assert {reference for reference, _, _ in concatenations} == {concatenations[0][0]}
    assert [(total, number) for _, total, number in concatenations] == [
        (len(parts), number) for number in range(1, len(parts) + 1)
    ]
    return "".join(part.text() for part in parts)


def test_a_gsm_message_is_one_submit_sm_in_the_default_alphabet() -> None:
    with Smsc() as smsc:
        [result] = send(url(smsc), [text(body="Hi @ £5 {ok}")])
    assert result == Result(Outcome.DELIVERED, ESME_ROK, "accepted", "msg-1")
    assert smsc.binds == [Bind("clarion", PASSWORD, "", 0x34)]
    [submit] = smsc.submits
    assert submit.source == (1, 1, "14155550100")
    assert submit.destination == (1, 1, "14155550001")
    assert (submit.esm_class, submit.registered_delivery, submit.data_coding) == (0, 0, 0)
    assert submit.short_message == b"Hi \x00 \x015 \x1b\x28ok\x1b\x29"
    assert smsc.unbinds == 1


@pytest.mark.parametrize(
    ("sender", "source"),
    [
        ("+447700900123", (1, 1, "447700900123")),
        ("Clarion", (5, 0, "Clarion")),
        ("12345", (3, 0, "12345")),
        ("4155550100", (0, 1, "4155550100")),
        (None, (0, 0, "")),
    ],
)
def test_each_kind_of_sender_gets_its_type_of_number(
    sender: str | None, source: tuple[int, int, str]
) -> None:
    with Smsc() as smsc:
        [result] = send(url(smsc), [text(sender=sender)])
    assert result.outcome is Outcome.DELIVERED
    assert smsc.submits[0].source == source


@pytest.mark.parametrize("body", ["Привет, Анна 👋", "Use the `code` below"])
def test_text_outside_the_gsm_alphabet_goes_as_ucs2(body: str) -> None:
    with Smsc() as smsc:
        [result] = send(url(smsc), [text(body=body)])
    assert result.outcome is Outcome.DELIVERED
    [submit] = smsc.submits
    assert (submit.data_coding, submit.esm_class) == (8, 0)
    assert submit.short_message == body.encode("utf-16-be")


@pytest.mark.parametrize(("body", "limit"), [(LONG_GSM, 153), (LONG_UCS2, 134)])
def test_a_long_message_goes_as_concatenated_parts(body: str, limit: int) -> None:
    with Smsc() as smsc:
        first, second = send(url(smsc), [text(1, body), text(2, body)])
    assert (first.outcome, first.provider_message_id) == (Outcome.DELIVERED, "msg-1")
    count = len(smsc.submits) // 2
    assert count >= 3
    assert first.detail == f"accepted in {count} parts"
    assert second.provider_message_id == f"msg-{count + 1}"
    parts = smsc.submits[:count]
    assert {part.esm_class for part in parts} == {UDHI}
    assert all(len(part.payload) <= limit for part in parts)
    assert reassemble(parts) == body
    assert reassemble(smsc.submits[count:]) == body
    assert parts[0].concatenation()[0] != smsc.submits[count].concatenation()[0]


@pytest.mark.parametrize(
    ("body", "cut"),
    [("a" * 152 + "{" + "b" * 20, 152), ("ж" * 66 + "👋" + "b" * 10, 66)],
    ids=["gsm-escape", "surrogate-pair"],
)
def test_parts_never_split_a_character(body: str, cut: int) -> None:
    with Smsc() as smsc:
        [result] = send(url(smsc), [text(body=body)])
    assert result.outcome is Outcome.DELIVERED
    assert [part.text() for part in smsc.submits] == [body[:cut], body[cut:]]


def test_a_refused_bind_is_transient_and_tried_once_for_sends_waiting_on_it() -> None:
    async def scenario(address: str) -> list[Result]:
        adapter = sms_adapter(address, data_dir=DATA)
        try:
            return await asyncio.gather(*(adapter.send(text(n)) for n in range(5)))
        finally:
            await adapter.close()

    with Smsc(password="other") as smsc:
        results = asyncio.run(scenario(url(smsc)))
    assert {(r.outcome, r.status_code) for r in results} == {(Outcome.TRANSIENT, ESME_RINVPASWD)}
    assert "refused the bind: ESME_RINVPASWD (0x0000000E)" in results[0].detail
    assert all(PASSWORD not in result.detail for result in results)
    assert len(smsc.binds) == 1
    assert smsc.submits == []


@pytest.mark.parametrize(
    ("status", "name", "outcome"),
    [
        (0x58, "ESME_RTHROTTLED", Outcome.TRANSIENT),
        (0x14, "ESME_RMSGQFUL", Outcome.TRANSIENT),
        (0x08, "ESME_RSYSERR", Outcome.TRANSIENT),
        (0x0B, "ESME_RINVDSTADR", Outcome.PERMANENT),
        (0x0A, "ESME_RINVSRCADR", Outcome.PERMANENT),
        (0x0401, "command_status", Outcome.PERMANENT),
    ],
)
def test_command_status_maps_to_an_outcome(status: int, name: str, outcome: Outcome) -> None:
    with Smsc(answers=[status]) as smsc:
        failed, recovered = send(url(smsc), [text(1), text(2)])
    assert (failed.outcome, failed.status_code, failed.provider_message_id) == (
        outcome,
        status,
        None,
    )
    assert f"{name} (0x{status:08X})" in failed.detail
    assert recovered.outcome is Outcome.DELIVERED
    assert len(smsc.binds) == 1


def test_a_refused_part_ends_the_send_and_no_part_goes_twice() -> None:
    with Smsc(answers=[ESME_ROK, 0x58]) as smsc:
        [result] = send(url(smsc), [text(body=LONG_GSM)])
    assert (result.outcome, result.status_code) == (Outcome.TRANSIENT, 0x58)
    assert "part 2 of " in result.detail
    assert "(1 accepted before it)" in result.detail
    assert len(smsc.submits) == 2
    assert [part.concatenation()[2] for part in smsc.submits] == [1, 2]


def test_an_smsc_that_goes_away_is_transient_until_it_comes_back() -> None:
    port = free_port()

    async def scenario() -> list[Result]:
        adapter = sms_adapter(f"smpp://clarion:{PASSWORD}@127.0.0.1:{port}", data_dir=DATA)
        try:
            with Smsc(port=port):
                results = [await adapter.send(text(1))]
            results.append(await adapter.send(text(2)))
            results.append(await adapter.send(text(3)))
            with Smsc(port=port) as back:
                results.append(await adapter.send(text(4)))
                assert len(back.binds) == 1
            return results
        finally:
            await adapter.close()

    results = asyncio.run(scenario())
    assert [result.outcome for result in results] == [
        Outcome.DELIVERED,
        Outcome.TRANSIENT,
        Outcome.TRANSIENT,
        Outcome.DELIVERED,
    ]
    assert "cannot connect to the SMSC at 127.0.0.1" in results[2].detail


def test_a_connection_dropped_mid_submit_is_transient_and_the_next_send_rebinds() -> None:
    with Smsc(hang_ups=1) as smsc:
        dropped, recovered = send(url(smsc), [text(1), text(2)])
    assert (dropped.outcome, dropped.status_code) == (Outcome.TRANSIENT, 0)
    assert "the SMSC closed the connection" in dropped.detail
    assert recovered.outcome is Outcome.DELIVERED
    assert len(smsc.binds) == 2
    assert [submit.connection for submit in smsc.submits] == [1, 2]


def test_silence_past_the_timeout_is_transient_and_the_next_send_rebinds() -> None:
    with Smsc(silences=1) as smsc:
        silent, recovered = send(url(smsc, "timeout=0.3"), [text(1), text(2)])
    assert (silent.outcome, silent.status_code) == (Outcome.TRANSIENT, 0)
    assert "no answer to submit_sm within 0.3 s" in silent.detail
    assert recovered.outcome is Outcome.DELIVERED
    assert len(smsc.binds) == 2


def test_an_unreachable_smsc_is_transient() -> None:
    [result] = send(f"smpp://clarion:{PASSWORD}@127.0.0.1:{free_port()}?timeout=2", [text()])
    assert (result.outcome, result.status_code) == (Outcome.TRANSIENT, 0)
    assert PASSWORD not in result.detail


def test_fifty_concurrent_sends_share_one_bound_session() -> None:
    async def scenario(address: str) -> list[Result]:
        adapter = sms_adapter(address, data_dir=DATA)
        try:
            return await asyncio.gather(*(adapter.send(text(n)) for n in range(50)))
        finally:
            await adapter.close()

    with Smsc() as smsc:
        results = asyncio.run(scenario(url(smsc, "window=4")))
    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    assert len({result.provider_message_id for result in results}) == 50
    assert len(smsc.binds) == 1
    assert len(smsc.submits) == 50
    assert {submit.connection for submit in smsc.submits} == {1}
    assert sorted(submit.destination[2] for submit in smsc.submits) == sorted(
        f"1415555{n:04d}" for n in range(50)
    )


def test_enquire_link_keeps_an_idle_session_alive() -> None:
    async def scenario(smsc: Smsc) -> None:
        adapter = SmppAdapter(
            "127.0.0.1",
            smsc.port,
            "clarion",
            PASSWORD,
            window=1,
            timeout=5,
            enquire_link_interval=0.1,
        )
        try:
            assert (await adapter.send(text(1))).outcome is Outcome.DELIVERED
            await asyncio.to_thread(wait_for, lambda: smsc.enquire_links >= 3)
            assert (await adapter.send(text(2))).outcome is Outcome.DELIVERED
        finally:
            await adapter.close()

    with Smsc() as smsc:
        asyncio.run(scenario(smsc))
    assert smsc.enquire_links >= 3
    assert (len(smsc.binds), smsc.unbinds) == (1, 1)


def test_the_smscs_own_requests_are_answered() -> None:
    stop_from_a_subscriber = b"".join(
        [b"\0", b"\x01\x01", b"14155550100\0", b"\x03\x00", b"12345\0", b"\0" * 9, b"\x04STOP"]
    )

    async def scenario(smsc: Smsc) -> list[int]:
        adapter = sms_adapter(url(smsc), data_dir=DATA)
        try:
            assert (await adapter.send(text(1))).outcome is Outcome.DELIVERED
            sequences = [
                smsc.request(ENQUIRE_LINK),
                smsc.request(DELIVER_SM, stop_from_a_subscriber),
                smsc.request(0x00000099),
            ]
            await asyncio.to_thread(wait_for, lambda: len(smsc.replies) == 3)
            assert (await adapter.send(text(2))).outcome is Outcome.DELIVERED
            return sequences
        finally:
            await adapter.close()

    with Smsc() as smsc:
        enquire, deliver, unknown = asyncio.run(scenario(smsc))
    assert sorted(smsc.replies, key=lambda reply: reply[2]) == [
        (ENQUIRE_LINK | RESPONSE, ESME_ROK, enquire),
        (DELIVER_SM | RESPONSE, 0x64, deliver),
        (GENERIC_NACK, ESME_RINVCMDID, unknown),
    ]
    assert len(smsc.binds) == 1


def test_smpps_checks_the_smscs_certificate(tls: Tls) -> None:
    with Smsc(tls=tls.server_context()) as smsc:
        address = f"smpps://clarion:{PASSWORD}@127.0.0.1:{smsc.port}"
        [trusted] = send(f"{address}?tls_ca={tls.ca_file}", [text(1)])
        [untrusted] = send(address, [text(2)])
    assert trusted.outcome is Outcome.DELIVERED
    assert untrusted.outcome is Outcome.TRANSIENT
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.detail
    assert len(smsc.submits) == 1


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (Sms("sms-1", "+14155550100", "0415555000", "Hi", "TRANSACTIONAL"), "not an E.164"),
        (text(sender="A sender id too long"), "neither a phone number nor a sender id"),
        (text(body="x" * 40_000), "needs 262 parts; an SMS has at most 255"),
    ],
)
def test_a_message_smpp_cannot_carry_is_permanent_without_a_bind(
    message: Sms, problem: str
) -> None:
    with Smsc() as smsc:
        [result] = send(url(smsc), [message])
    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 0)
    assert problem in result.detail
    assert smsc.binds == []


def test_settings_come_from_the_url(tls: Tls) -> None:
    async def scenario() -> tuple[SmppAdapter, SmppAdapter]:
        plain = sms_adapter(
            "smpp://sys%40id:pa%2Fss@smsc.example.com:2775?system_type=VMA&window=3&timeout=7",
            data_dir=DATA,
        )
        secure = sms_adapter(f"smpps://sysid:pass@[::1]:3550?tls_ca={tls.ca_file}", data_dir=DATA)
        assert isinstance(plain, SmppAdapter)
        assert isinstance(secure, SmppAdapter)
        await plain.close()
        await secure.close()
        return plain, secure

    plain, secure = asyncio.run(scenario())
    assert (plain.host, plain.port, plain.system_id, plain.password) == (
        "smsc.example.com",
        2775,
        "sys@id",
        "pa/ss",
    )
    assert (plain.system_type, plain.window, plain.timeout, plain.tls) == ("VMA", 3, 7.0, None)
    assert (secure.host, secure.port, secure.window, secure.timeout) == ("::1", 3550, 10, 30.0)
    assert isinstance(secure.tls, ssl.SSLContext)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("smpp://smsc.example.com:2775", "SYSTEM_ID:PASSWORD@HOST:PORT"),
        ("smpp://clarion@smsc.example.com:2775", "SYSTEM_ID:PASSWORD@HOST:PORT"),
        (f"smpp://clarion:{PASSWORD}@smsc.example.com", "must give the SMSC's port"),
        (f"smpp://clarion:{PASSWORD}@:2775", "has no host"),
        (f"smpp://clarion:{PASSWORD}@smsc.example.com:99999", "from 1 to 65535"),
        (f"smpp://clarion:{PASSWORD}@smsc.example.com:2775/x", "must not have a path"),
        (f"smpp://clarion:{PASSWORD}@smsc.example.com:2775?tls_ca=/ca.pem", "unknown option"),
        (f"smpps://clarion:{PASSWORD}@smsc.example.com:1?tls_ca=/nonexistent", "not a readable"),
        (f"smpp://clarion:{PASSWORD}@smsc.example.com:2775?window=0", "from 1 to 100"),
        (f"smpp://clarion:{PASSWORD}@smsc.example.com:2775?timeout=x", "number of seconds"),
        (f"smpp://clarion:{PASSWORD}9999@smsc.example.com:2775", "the password must be at most 8"),
        (f"smpp://{'s' * 16}:{PASSWORD}@smsc.example.com:2775", "the system_id must be at most 15"),
        (
            f"smpp://clarion:{PASSWORD}@smsc.example.com:2775?system_type=%C3%A9",
            "the system_type must be at most 12 printable ASCII",
        ),
    ],
)
def test_a_bad_smpp_url_is_refused_without_showing_the_password(address: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        sms_adapter(address, data_dir=DATA)
    assert PASSWORD not in str(caught.value)


def test_other_sms_schemes_name_smpp_among_the_choices() -> None:
    with pytest.raises(ValueError, match=r"smpp://SYSTEM_ID:PASSWORD@HOST:PORT, smpps://"):
        sms_adapter("sms://example.com", data_dir=DATA)
