"""The SMTP adapter against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from clarion.delivery import Adapter, Email, Outcome, Result, email_adapter
from tests.conftest import free_port
from tests.delivery.conftest import Recorder, Tls, smtp_server

T = TypeVar("T")


def email(number: int = 1, **fields: Any) -> Email:
    values: dict[str, Any] = {
        "message_id": f"run-7.endpoint-{number}@clarion.test",
        "sender": "Clarion News <news@example.com>",
        "recipient": f"user{number}@example.com",
        "subject": f"Hello {number}",
        "html": f"<p>Hello {number}</p>",
        "text": f"Hello {number}",
    }
    return Email(**(values | fields))


def run(url: str, scenario: Callable[[Adapter[Email]], Awaitable[T]]) -> T:
    """Runs the scenario with an adapter for ``url``, closing it afterwards."""

    async def main() -> T:
        adapter = email_adapter(url, data_dir=Path("/nonexistent"))
        try:
            return await scenario(adapter)
        finally:
            await adapter.close()

    return asyncio.run(main())


def send_one(url: str, message: Email) -> Result:
    return run(url, lambda adapter: adapter.send(message))


def test_the_message_arrives_with_its_headers_and_both_parts() -> None:
    recorder = Recorder()
    message = email(
        sender="Zoë Ünïcode <news@example.com>",
        subject="Grüße aus Köln, 你好, " + "a long subject that needs folding " * 3,
        html="<p>Hallo Zoë ☃</p>\n.\n<p>a line that is only a dot, above</p>",
        text="Hallo Zoë ☃\n" + "lang " * 40,
        headers={"List-Unsubscribe": "<https://example.com/u/1>", "X-Campaign": "c-1"},
        reply_to=("Support <help@example.com>", "Ops <ops@example.com>"),
    )
    with smtp_server(recorder) as port:
        result = send_one(f"smtp://127.0.0.1:{port}", message)

    assert result.outcome is Outcome.DELIVERED
    assert result.status_code == 250
    assert result.provider_message_id == message.message_id
    [received] = recorder.received
    assert received.mail_from == "news@example.com"
    assert received.rcpt_tos == ["user1@example.com"]
    assert received.data.isascii()
    mime = received.message()
    assert mime["Message-ID"] == "<run-7.endpoint-1@clarion.test>"
    assert mime["Subject"] == message.subject
    assert mime["From"].addresses[0].display_name == "Zoë Ünïcode"
    assert mime["From"].addresses[0].addr_spec == "news@example.com"
    assert mime["To"] == "user1@example.com"
    assert [a.addr_spec for a in mime["Reply-To"].addresses] == [
        "help@example.com",
        "ops@example.com",
    ]
    assert mime["List-Unsubscribe"] == "<https://example.com/u/1>"
    assert mime["X-Campaign"] == "c-1"
    sent_at = parsedate_to_datetime(mime["Date"])
    assert abs(time.time() - sent_at.timestamp()) < 60
    assert mime.get_content_type() == "multipart/alternative"
    plain, html = mime.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert isinstance(plain, type(mime)) and isinstance(html, type(mime))
    assert plain.get_content().replace("\r\n", "\n") == message.text
    assert html.get_content().replace("\r\n", "\n") == message.html


def test_a_retry_carries_the_same_message_id() -> None:
    recorder = Recorder()
    message = email()
    with smtp_server(recorder) as port:
        run(f"smtp://127.0.0.1:{port}", lambda a: _send_all(a, [message, message]))
    first, second = (item.message() for item in recorder.received)
    assert first["Message-ID"] == second["Message-ID"] == f"<{message.message_id}>"


def test_451_is_transient_and_the_next_attempt_is_delivered() -> None:
    recorder = Recorder(data_replies=["451 4.3.0 Mailbox busy, try later"])
    message = email()
    with smtp_server(recorder) as port:
        first, second = run(f"smtp://127.0.0.1:{port}", lambda a: _send_all(a, [message] * 2))
    assert (first.outcome, first.status_code) == (Outcome.TRANSIENT, 451)
    assert "try later" in first.detail
    assert second.outcome is Outcome.DELIVERED
    assert len(recorder.received) == 1
    assert recorder.connections == 1


def test_a_refused_recipient_is_a_permanent_failure() -> None:
    recorder = Recorder(rcpt_replies=["550 5.1.1 No such user"])
    with smtp_server(recorder) as port:
        result, after = run(
            f"smtp://127.0.0.1:{port}", lambda a: _send_all(a, [email(1), email(2)])
        )
    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 550)
    assert "No such user" in result.detail
    assert after.outcome is Outcome.DELIVERED
    assert [item.rcpt_tos for item in recorder.received] == [["user2@example.com"]]


def test_a_refused_message_body_is_a_permanent_failure() -> None:
    recorder = Recorder(data_replies=["554 5.6.0 Message rejected as spam"])
    with smtp_server(recorder) as port:
        result = send_one(f"smtp://127.0.0.1:{port}", email())
    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 554)


def test_an_address_that_is_not_one_mailbox_fails_without_a_connection() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        result = send_one(f"smtp://127.0.0.1:{port}", email(recipient="a@example.com, b@x.com"))
    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 0)
    assert "not one e-mail address" in result.detail
    assert recorder.received == []


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    assert isinstance(auth_data, LoginPassword)
    accepted = auth_data.login == b"mailer@example.com" and auth_data.password == b"p@ss/w:rd?"
    return AuthResult(success=accepted, handled=False, auth_data=auth_data.login)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_auth_with_the_credentials_in_the_url() -> None:
    recorder = Recorder()
    user, password = quote("mailer@example.com", safe=""), quote("p@ss/w:rd?", safe="")
    options: dict[str, Any] = {
        "authenticator": _authenticator,
        "auth_required": True,
        "auth_require_tls": False,
    }
    with smtp_server(recorder, **options) as port:
        good = send_one(f"smtp://{user}:{password}@127.0.0.1:{port}", email(1))
        wrong = send_one(f"smtp://{user}:nope@127.0.0.1:{port}", email(2))
        anonymous = send_one(f"smtp://127.0.0.1:{port}", email(3))
    assert good.outcome is Outcome.DELIVERED
    assert [item.session.auth_data for item in recorder.received] == [b"mailer@example.com"]
    assert (wrong.outcome, wrong.status_code) == (Outcome.TRANSIENT, 535)
    assert "nope" not in wrong.detail
    assert (anonymous.outcome, anonymous.status_code) == (Outcome.TRANSIENT, 530)


def test_starttls_with_a_private_ca(tls: Tls) -> None:
    recorder = Recorder()
    with smtp_server(recorder, tls_context=tls.server_context(), require_starttls=True) as port:
        trusted = send_one(f"smtp://127.0.0.1:{port}?tls_ca={tls.ca_file}", email(1))
        required = send_one(
            f"smtp://127.0.0.1:{port}?tls_ca={tls.ca_file}&starttls=require", email(2)
        )
        untrusted = send_one(f"smtp://127.0.0.1:{port}", email(3))
        refused = send_one(f"smtp://127.0.0.1:{port}?starttls=off", email(4))
    assert trusted.outcome is Outcome.DELIVERED
    assert required.outcome is Outcome.DELIVERED
    assert [item.tls for item in recorder.received] == [True, True]
    assert untrusted.outcome is Outcome.TRANSIENT
    assert "certificate verify failed" in untrusted.detail
    assert (refused.outcome, refused.status_code) == (Outcome.TRANSIENT, 530)


def test_starttls_require_refuses_a_server_without_it() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        result = send_one(f"smtp://127.0.0.1:{port}?starttls=require", email())
    assert result.outcome is Outcome.TRANSIENT
    assert "STARTTLS" in result.detail
    assert recorder.received == []


def test_implicit_tls(tls: Tls) -> None:
    recorder = Recorder()
    with smtp_server(recorder, ssl_context=tls.server_context()) as port:
        result = send_one(f"smtps://127.0.0.1:{port}?tls_ca={tls.ca_file}", email())
    assert result.outcome is Outcome.DELIVERED
    assert [item.tls for item in recorder.received] == [True]


def test_many_concurrent_sends_share_the_pool_of_connections() -> None:
    recorder = Recorder()
    messages = [email(number) for number in range(200)]
    with smtp_server(recorder) as port:
        url = f"smtp://127.0.0.1:{port}?max_connections=3"
        results = run(url, lambda a: asyncio.gather(*(a.send(m) for m in messages)))
    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    assert len(recorder.received) == 200
    assert 1 <= recorder.connections <= 3


def test_sequential_sends_reuse_one_connection() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        results = run(
            f"smtp://127.0.0.1:{port}", lambda a: _send_all(a, [email(n) for n in range(20)])
        )
    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    assert recorder.connections == 1


def test_a_restarted_server_is_reconnected_to() -> None:
    recorder = Recorder()
    port = free_port()

    async def scenario(adapter: Adapter[Email]) -> list[Result]:
        results = []
        with smtp_server(recorder, port):
            results.append(await adapter.send(email(1)))
        results.append(await adapter.send(email(2)))
        results.append(await adapter.send(email(3)))
        with smtp_server(recorder, port):
            results.append(await adapter.send(email(4)))
            results.append(await adapter.send(email(5)))
        return results

    results = run(f"smtp://127.0.0.1:{port}", scenario)
    assert [result.outcome for result in results] == [
        Outcome.DELIVERED,
        Outcome.TRANSIENT,
        Outcome.TRANSIENT,
        Outcome.DELIVERED,
        Outcome.DELIVERED,
    ]
    assert [item.rcpt_tos for item in recorder.received] == [
        ["user1@example.com"],
        ["user4@example.com"],
        ["user5@example.com"],
    ]
    assert recorder.connections == 2


def test_a_server_that_never_answers_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = send_one(f"smtp://127.0.0.1:{port}?timeout=0.5", email())
    assert result.outcome is Outcome.TRANSIENT
    assert time.monotonic() - started < 5


def test_a_non_ascii_local_part_goes_out_with_smtputf8() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:
        result = send_one(f"smtp://127.0.0.1:{port}", email(recipient="Jörg <jörg@bücher.de>"))
    assert result.outcome is Outcome.DELIVERED
    [received] = recorder.received
    assert received.smtputf8
    assert received.rcpt_tos == ["jörg@xn--bcher-kva.de"]
    assert b'To: "J\xc3\xb6rg" <j\xc3\xb6rg@xn--bcher-kva.de>' in received.data


def test_smtputf8_is_permanent_failure_where_the_server_lacks_it() -> None:
    recorder = Recorder()
    with smtp_server(recorder, enable_SMTPUTF8=False) as port:
        result = send_one(f"smtp://127.0.0.1:{port}", email(recipient="jörg@example.com"))
    assert result.outcome is Outcome.PERMANENT
    assert "SMTPUTF8" in result.detail


def test_a_closed_adapter_refuses_to_send() -> None:
    recorder = Recorder()
    with smtp_server(recorder) as port:

        async def scenario() -> None:
            adapter = email_adapter(f"smtp://127.0.0.1:{port}", data_dir=Path("/nonexistent"))
            assert (await adapter.send(email())).outcome is Outcome.DELIVERED
            await adapter.close()
            try:
                await adapter.send(email())
            except RuntimeError as error:
                assert "closed" in str(error)
            else:
                raise AssertionError("a closed adapter sent a message")

        asyncio.run(scenario())
    assert len(recorder.received) == 1


async def _send_all(adapter: Adapter[Email], messages: list[Email]) -> list[Result]:
    return [await adapter.send(message) for message in messages]
