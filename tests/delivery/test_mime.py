"""How an Email becomes MIME, read back with the standard library's parser."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from clarion.delivery import Email
from clarion.delivery.mime import InvalidAddress, render


def message(**fields: Any) -> Email:
    values: dict[str, Any] = {
        "message_id": "m-1@clarion.test",
        "sender": "news@example.com",
        "recipient": "ann@example.com",
        "subject": "Hi",
        "html": None,
        "text": "Hello",
    }
    return Email(**(values | fields))


def parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=default_policy)


def test_text_alone_is_a_single_text_part() -> None:
    mime = parsed(render(message(text="Hello ☃")).data)
    assert mime.get_content_type() == "text/plain"
    assert mime.get_content_charset() == "utf-8"
    assert mime.get_content() == "Hello ☃"


def test_html_alone_is_a_single_html_part() -> None:
    mime = parsed(render(message(text=None, html="<b>Hej ☃</b>")).data)
    assert mime.get_content_type() == "text/html"
    assert mime.get_content() == "<b>Hej ☃</b>"


def test_both_bodies_make_multipart_alternative_text_first() -> None:
    mime = parsed(render(message(text="plain", html="<p>rich</p>")).data)
    assert mime.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mime.iter_parts()] == ["text/plain", "text/html"]
    assert "MIME-Version" not in next(iter(mime.iter_parts()))


def test_the_wire_form_is_seven_bit_with_short_crlf_lines() -> None:
    long_html = "<p>" + "Grüße, " * 300 + "</p>\n" + "=_ looks like a boundary\n"
    data = render(message(subject="Ärger " * 30, html=long_html, text="x " * 200)).data
    assert data.isascii()
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert b"\n" not in data.replace(b"\r\n", b"")
    mime = parsed(data)
    assert mime["Subject"] == "Ärger " * 30
    assert mime.get_body(("html",)) is not None


def test_date_and_message_id() -> None:
    now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    mime = parsed(render(message(), now).data)
    assert mime["Date"] == "Fri, 20 Nov 2026 10:00:00 +0000"
    assert mime["Message-ID"] == "<m-1@clarion.test>"


def test_display_names_and_international_domains() -> None:
    rendered = render(
        message(
            sender='"Müller, Anna" <anna@bücher.de>',
            recipient="Bob <bob@example.com>",
            reply_to=("Zoë <zoe@example.com>",),
        )
    )
    assert rendered.mail_from == "anna@xn--bcher-kva.de"
    assert rendered.rcpt_to == "bob@example.com"
    assert not rendered.smtputf8
    assert b"=?utf-8?" in rendered.data
    mime = parsed(rendered.data)
    assert mime["From"].addresses[0].display_name == "Müller, Anna"
    assert mime["Reply-To"].addresses[0].display_name == "Zoë"
    assert mime["To"].addresses[0].display_name == "Bob"


def test_non_ascii_headers_are_encoded_words() -> None:
    data = render(message(headers={"X-Campaign": "Frühling"})).data
    assert b"X-Campaign: =?utf-8?" in data
    assert parsed(data)["X-Campaign"] == "Frühling"


@pytest.mark.parametrize(
    "address",
    [
        "",
        "no-at-sign",
        "@example.com",
        "ann@",
        "ann@exa mple.com",
        "ann@example.com, bob@example.com",
        "Ann <ann@example.com>\r\nBcc: eve@example.com",
        "ann@" + "x" * 64 + ".com",
    ],
)
def test_an_address_that_is_not_one_mailbox_is_refused(address: str) -> None:
    with pytest.raises(InvalidAddress):
        render(message(recipient=address))


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"message_id": "<m-1@clarion.test>"}, "left@right"),
        ({"message_id": "no-domain"}, "left@right"),
        ({"html": None, "text": None}, "neither"),
        ({"subject": "Hi\r\nBcc: eve@example.com"}, "line break"),
        ({"headers": {"X-Bad": "a\nb"}}, "line break"),
        ({"headers": {"Message-ID": "<x@y>"}}, "own fields"),
        ({"headers": {"Bad Name": "x"}}, "not a header name"),
    ],
)
def test_an_email_that_cannot_be_written_is_refused(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        message(**fields)
