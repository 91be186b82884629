"""The contract between the sending pipeline and the channel adapters: messages in, results out.

An adapter makes one attempt per ``send`` call and reports how it went. It never retries, never
sends a message twice on its own and never raises for a failed delivery, so the pipeline alone
decides what to retry and when, from one place: the ``Result``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, TypeVar

_MESSAGE_ID = re.compile(r"^[^\s<>@]+@[^\s<>@]+$")
_FIELD_NAME = re.compile(r"^[!-9;-~]+$")
_SSML = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?<speak[\s>/]", re.IGNORECASE)
_OWN_HEADERS = frozenset(
    {
        "bcc",
        "cc",
        "content-transfer-encoding",
        "content-type",
        "date",
        "from",
        "message-id",
        "mime-version",
        "reply-to",
        "subject",
        "to",
    }
)


@dataclass(frozen=True)
class Email:
    """One e-mail to one recipient. Addresses may carry display names (``Ann <ann@example.com>``)
    and non-ASCII characters; at least one of ``html`` and ``text`` is required."""

    message_id: str
    """``left@right``: written as ``Message-ID: <left@right>``, the same on every attempt, so
    receivers can drop a message that arrives twice."""
    sender: str
    recipient: str
    subject: str
    html: str | None
    text: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra headers (``List-Unsubscribe``, ``X-…``); not the ones the adapter writes itself."""
    reply_to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _MESSAGE_ID.match(self.message_id):
            raise ValueError(
                f"message_id {self.message_id!r} is not of the form left@right "
                "(no angle brackets or spaces)"
            )
        if "\r" in self.subject or "\n" in self.subject:
            raise ValueError(f"e-mail {self.message_id} has a line break in its subject")
        if self.html is None and self.text is None:
            raise ValueError(f"e-mail {self.message_id} has neither an HTML nor a text body")
        for name, value in self.headers.items():
            if not _FIELD_NAME.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in _OWN_HEADERS:
                raise ValueError(f"header {name} is written from the message's own fields")
            if "\r" in value or "\n" in value:
                raise ValueError(f"header {name} has a line break in its value")


@dataclass(frozen=True)
class Sms:
    """One text message to one phone number."""

    message_id: str
    """The pipeline's own id for the message, kept in the outbox."""
    sender: str | None
    """Origination number or sender id; None lets the provider choose."""
    recipient: str
    """E.164, e.g. ``+14155550100``."""
    body: str
    message_type: Literal["TRANSACTIONAL", "PROMOTIONAL"]
    keyword: str | None = None
    """The registered keyword the message answers to, for providers that ask for one."""


@dataclass(frozen=True)
class Voice:
    """One message spoken to one phone number by a text-to-speech voice.

    Pinpoint's voice scripts (``VoiceMessage.Body``, ``VoiceTemplate.Body``) are plain text, so
    an SSML document is refused here rather than read out to someone tag by tag."""

    message_id: str
    """The pipeline's own id for the message, kept in the outbox."""
    sender: str | None
    """Origination number; None lets the provider choose where it can."""
    recipient: str
    """E.164, e.g. ``+14155550100``."""
    body: str
    language_code: str = "en-US"
    voice_id: str | None = None
    """An Amazon Polly voice (``Joanna``); None leaves the choice to the adapter."""

    def __post_init__(self) -> None:
        if not self.body.strip():
            raise ValueError(f"voice message {self.message_id} has an empty script")
        if _SSML.match(self.body):
            raise ValueError(
                f"voice message {self.message_id} is SSML; voice scripts are plain text"
            )


class Outcome(StrEnum):
    DELIVERED = "DELIVERED"
    """The provider accepted the message; what happens next arrives as delivery events."""
    TRANSIENT = "TRANSIENT"
    """Not accepted this time; the same message may succeed later."""
    PERMANENT = "PERMANENT"
    """Refused for good (a hard bounce): sending it again will not help."""
    OPT_OUT = "OPT_OUT"
    """The provider says the recipient has unsubscribed."""


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    status_code: int
    """The SMTP reply code or HTTP status; 0 when no answer came (network failure, bad address)
    or there is no provider (the outbox)."""
    detail: str
    """What the provider said, for the operator; never holds credentials."""
    provider_message_id: str | None = None
    """The id the provider's later delivery reports use: its own id, or for SMTP and the outbox
    the message's Message-ID."""


M_contra = TypeVar("M_contra", contravariant=True)


class Adapter(Protocol[M_contra]):
    """One channel's provider. Safe for many concurrent ``send`` calls on one event loop."""

    async def send(self, message: M_contra) -> Result: ...

    async def close(self) -> None: ...
