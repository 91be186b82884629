"""One outgoing message, typed from composition to its adapter, and its form in the delivery
ledger, which is plain JSON: what the ledger holds is read back into the same type for every
retry. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clarion.channels.kinds import PUSH_CHANNELS, ChannelType
from clarion.delivery.base import Email, Sms, Voice
from clarion.delivery.push import Push

_KINDS: dict[str, type[Email | Sms | Voice | Push]] = {
    ChannelType.EMAIL: Email,
    ChannelType.SMS: Sms,
    ChannelType.VOICE: Voice,
    **dict.fromkeys(PUSH_CHANNELS, Push),
}
_LEDGER_ONLY = ("context", "sensitive")


@dataclass(frozen=True)
class Unsendable:
    """A message its adapter's rules refuse (an SSML voice script, a line break in a subject).
    It is written to the ledger like any other and fails at its attempt, so its recipient is
    answered, and its events recorded, as for a message the provider refused."""

    message_id: str
    fields: Mapping[str, Any]
    reason: str


Outgoing = Email | Sms | Voice | Push | Unsendable


def outgoing(channel: str, fields: Mapping[str, Any]) -> Outgoing:
    """The message a channel's adapter takes, from its fields as composed or as the ledger
    holds them."""
    sendable = {k: v for k, v in fields.items() if k not in _LEDGER_ONLY}
    try:
        kind = _KINDS.get(channel)
        if kind is None:
            raise ValueError(f"Clarion cannot deliver {channel} messages")
        if kind is Email:
            sendable["reply_to"] = tuple(sendable.get("reply_to") or ())
        return kind(**sendable)
    except (ValueError, TypeError) as error:
        return Unsendable(str(sendable.get("message_id", "")), sendable, str(error))


def stored(message: Outgoing, context: Mapping[str, str], sensitive: bool) -> dict[str, Any]:
    """The ledger's copy of a message, with the campaign context its events carry and whether
    its text is dropped once it is settled."""
    if isinstance(message, Unsendable):
        fields = dict(message.fields)
    else:
        fields = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
    return {**fields, "context": context, "sensitive": sensitive}
