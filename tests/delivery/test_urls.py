"""Choosing adapters from configuration URLs, and refusing the ones that cannot work."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from clarion.delivery import Adapter, email_adapter, sms_adapter
from clarion.delivery.outbox import Outbox
from clarion.delivery.ses import SesAdapter
from clarion.delivery.sms_voice import SmsVoiceAdapter
from clarion.delivery.smtp import SmtpAdapter
from clarion.delivery.twilio import TwilioAdapter

DATA = Path("/unused")
SECRET = "hunter2"


def test_smtp_settings_come_from_the_url() -> None:
    adapter = email_adapter(
        f"smtp://mailer%40example.com:{SECRET}%2F1@mail.example.com:587"
        "?starttls=require&max_connections=2&timeout=5",
        data_dir=DATA,
    )
    assert isinstance(adapter, SmtpAdapter)
    settings = adapter.settings
    assert (settings.host, settings.port) == ("mail.example.com", 587)
    assert (settings.username, settings.password) == ("mailer@example.com", f"{SECRET}/1")
    assert (settings.start_tls, settings.implicit_tls) == (True, False)
    assert (settings.max_connections, settings.timeout) == (2, 5.0)


def test_default_ports_and_tls_modes() -> None:
    plain = email_adapter("smtp://mail.example.com", data_dir=DATA)
    implicit = email_adapter("smtps://mail.example.com", data_dir=DATA)
    never = email_adapter("smtp://mail.example.com?starttls=off", data_dir=DATA)
    assert isinstance(plain, SmtpAdapter)
    assert isinstance(implicit, SmtpAdapter)
    assert isinstance(never, SmtpAdapter)
    assert (plain.settings.port, plain.settings.start_tls) == (25, None)
    assert (implicit.settings.port, implicit.settings.implicit_tls) == (465, True)
    assert implicit.settings.start_tls is False
    assert never.settings.start_tls is False


def test_each_scheme_picks_its_adapter() -> None:
    async def scenario() -> None:
        chosen: list[Adapter[Any]] = [
            email_adapter("outbox:", data_dir=DATA),
            email_adapter("ses://us-east-1", data_dir=DATA),
            sms_adapter("outbox:", data_dir=DATA),
            sms_adapter("sms-voice://ap-southeast-2", data_dir=DATA),
            sms_adapter(f"twilio://AC1:{SECRET}@api.twilio.com", data_dir=DATA),
        ]
        kinds = [Outbox, SesAdapter, Outbox, SmsVoiceAdapter, TwilioAdapter]
        for adapter, kind in zip(chosen, kinds, strict=True):
            assert isinstance(adapter, kind)
            await adapter.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "is not supported; use smtp://"),
        ("http://mail.example.com", "is not supported; use smtp://"),
        ("twilio://AC1:x@api.twilio.com", "is not supported; use smtp://"),
        ("smtp://", "has no host"),
        ("smtp://mail.example.com:99999", "port must be a number from 1 to 65535"),
        ("smtp://mail.example.com:abc", "port must be a number from 1 to 65535"),
        ("smtp://mail.example.com/inbox", "must not have a path"),
        ("smtp://mail.example.com#x", "must not have a #fragment"),
        ("smtp://[::1", "is malformed"),
        ("smtp://user@mail.example.com", "both a user and a password"),
        ("smtp://mail.example.com?starttls=maybe", "starttls must be one of auto, require, off"),
        ("smtps://mail.example.com?starttls=require", "unknown option 'starttls'"),
        ("smtp://mail.example.com?pool=3", "unknown option 'pool'"),
        ("smtp://mail.example.com?timeout=1&timeout=2", "'timeout' is given more than once"),
        ("smtp://mail.example.com?max_connections=0", "from 1 to 100"),
        ("smtp://mail.example.com?timeout=-1", "number of seconds"),
        ("smtp://mail.example.com?tls_ca=/nonexistent/ca.pem", "is not a readable file"),
        ("ses://", "must name an AWS region"),
        ("ses://mars", "must name an AWS region"),
        ("ses://us-east-1/x", "must name an AWS region"),
        ("outbox:/var/mail", "write the outbox as just 'outbox:'"),
    ],
)
def test_a_bad_email_url_is_refused_precisely(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        email_adapter(url, data_dir=DATA)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://mail.example.com", "is not supported; use twilio://"),
        ("twilio://api.twilio.com", "ACCOUNT_SID:AUTH_TOKEN@HOST"),
        ("twilio://AC1@api.twilio.com", "ACCOUNT_SID:AUTH_TOKEN@HOST"),
        ("twilio://AC1:t@", "has no host"),
        ("twilio://AC1:t@api.twilio.com?scheme=http", "only for loopback hosts"),
        ("twilio://AC1:t@api.twilio.com?scheme=ftp", "scheme must be one of https, http"),
        ("twilio://AC1:t@api.twilio.com?from=+1555", "unknown option 'from'"),
        ("sms-voice://", "must name an AWS region"),
        ("outbox:sms", "write the outbox as just 'outbox:'"),
    ],
)
def test_a_bad_sms_url_is_refused_precisely(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        sms_adapter(url, data_dir=DATA)


@pytest.mark.parametrize(
    "url",
    [
        f"smtp://user:{SECRET}@mail.example.com:bad",
        f"smtp://user:{SECRET}@mail.example.com/path",
        f"smtp://user:{SECRET}/x@mail.example.com?nope=1",
        f"smtps://user:{SECRET}@mail.example.com?tls_ca=/missing",
        f"ses://key:{SECRET}@us-east-1",
        f"imap://user:{SECRET}@mail.example.com",
    ],
)
def test_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        email_adapter(url, data_dir=DATA)
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


def test_twilio_errors_never_show_the_token() -> None:
    with pytest.raises(ValueError) as caught:
        sms_adapter(f"twilio://AC1:{SECRET}@api.twilio.com?scheme=http", data_dir=DATA)
    assert SECRET not in str(caught.value)
