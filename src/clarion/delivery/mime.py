"""An ``Email`` as the bytes SMTP and SES carry, built with the standard library's email package.

Bodies are quoted-printable UTF-8, so any server takes them; non-ASCII subjects, display names
and header values become RFC 2047 encoded words and non-ASCII domains their IDNA form. Only a
non-ASCII local part needs the server's SMTPUTF8 extension; such a message carries its
addresses as raw UTF-8 (RFC 6532).

The compat32 classes (``email.mime``) are used rather than ``EmailMessage`` because they build
the same standard message several times faster, which matters at campaign volumes; so does
writing short ASCII headers without the folding machinery, and giving multipart messages a
boundary that needs no search through the body: quoted-printable text never contains ``=_``.
"""

from __future__ import annotations

import quopri
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr, getaddresses
from functools import lru_cache

from clarion.delivery.base import Email


class _Policy(Compat32):
    def fold_binary(self, name: str, value: str) -> bytes:
        if value.isascii() and len(name) + len(value) < 77 and not _LINE_BREAK.search(value):
            return f"{name}: {value}\r\n".encode("ascii")
        return super().fold_binary(name, value)


_LINE_BREAK = re.compile(r"[\r\n]")
_POLICY = _Policy(linesep="\r\n")


class InvalidAddress(ValueError):
    """An address no provider could deliver to: the message fails permanently."""


@dataclass(frozen=True)
class Rendered:
    mail_from: str
    """Envelope sender (MAIL FROM): the bare address."""
    rcpt_to: str
    """Envelope recipient (RCPT TO)."""
    data: bytes
    smtputf8: bool
    """An address has a non-ASCII local part, so the message needs SMTPUTF8."""


@dataclass(frozen=True)
class _Mailbox:
    name: str
    addr_spec: str
    smtputf8: bool

    def header(self) -> str:
        if not self.smtputf8:
            return formataddr((self.name, self.addr_spec), charset="utf-8")
        text = f"<{self.addr_spec}>"
        if self.name:
            quoted = self.name.replace("\\", "\\\\").replace('"', '\\"')
            text = f'"{quoted}" {text}'
        return _raw_utf8(text)


def render(email: Email, now: datetime | None = None) -> Rendered:
    """The message with a fresh Date and the stable Message-ID; InvalidAddress for an address
    that is not one mailbox."""
    sender = _mailbox(email.sender, "sender")
    recipient = _mailbox(email.recipient, "recipient")
    reply_to = [_mailbox(address, "reply-to") for address in email.reply_to]
    mime = _body(email.text, email.html)
    mime["Message-ID"] = f"<{email.message_id}>"
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    mime["From"] = sender.header()
    mime["To"] = recipient.header()
    if reply_to:
        mime["Reply-To"] = ", ".join(box.header() for box in reply_to)
    mime["Subject"] = _text("Subject", email.subject)
    for name, value in email.headers.items():
        mime[name] = _text(name, value)
    return Rendered(
        mail_from=sender.addr_spec,
        rcpt_to=recipient.addr_spec,
        data=mime.as_bytes(policy=_POLICY),
        smtputf8=any(box.smtputf8 for box in (sender, recipient, *reply_to)),
    )


def _body(text: str | None, html: str | None) -> Message:
    if text is not None and html is not None:
        mime = MIMEMultipart("alternative", boundary=f"=_{secrets.token_hex(16)}")
        for content, subtype in ((text, "plain"), (html, "html")):
            part = _part(content, subtype)
            del part["MIME-Version"]
            mime.attach(part)
        return mime
    if text is not None:
        return _part(text, "plain")
    assert html is not None, "Email requires a body"
    return _part(html, "html")


def _part(content: str, subtype: str) -> Message:
    """Encoded by ``quopri`` (C code), not the much slower pure-Python ``Charset`` route."""
    part = MIMENonMultipart("text", subtype, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quopri.encodestring(content.encode()).decode("ascii"))
    return part


def _text(name: str, value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8", header_name=name).encode()


def _raw_utf8(text: str) -> str:
    """Text the compat32 generator writes out byte for byte, unencoded."""
    return text.encode().decode("ascii", "surrogateescape")


@lru_cache(maxsize=1024)
def _mailbox(value: str, role: str) -> _Mailbox:
    """Cached: a campaign writes the same sender on every message."""
    if _LINE_BREAK.search(value):
        raise InvalidAddress(f"the {role} {value!r} has a line break in it")
    parsed = getaddresses([value])
    name, addr_spec = parsed[0] if len(parsed) == 1 else ("", "")
    local, _, domain = addr_spec.rpartition("@")
    if (
        not local
        or not domain
        or addr_spec not in value
        or "@" in local
        or any(char.isspace() or char in '<>"\\' for char in addr_spec)
    ):
        raise InvalidAddress(f"the {role} {value!r} is not one e-mail address")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise InvalidAddress(f"the {role} {value!r} has an invalid domain: {error}") from None
    return _Mailbox(name, f"{local}@{ascii_domain}", smtputf8=not local.isascii())
