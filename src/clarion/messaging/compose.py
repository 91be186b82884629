"""One recipient's message, composed from a send request, its templates and the recipient.

Pure: no I/O. Content comes, field by field, from the per-recipient overrides (BodyOverride,
TitleOverride, RawContent), then the channel's message in MessageConfiguration, then the
DefaultMessage / DefaultPushNotificationMessage, then the template. Every text is rendered as
a Handlebars template over the recipient's endpoint, with Substitutions merged as Pinpoint
does: per-recipient over per-message over the template's DefaultSubstitutions. The result is
the channel's typed message, as its adapter takes it; the ledger keeps it to send unchanged on
every retry.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from clarion.channels.kinds import APNS_CHANNELS, PUSH_CHANNELS, ChannelType
from clarion.messaging.outgoing import Outgoing, outgoing
from clarion.templates.handlebars import RenderError, Template, TemplateError, compile_template
from clarion.templates.handlebars import recipient_values as _recipient_values

_PUSH_MESSAGE: dict[str, str] = {
    **dict.fromkeys(APNS_CHANNELS, "APNSMessage"),
    ChannelType.GCM: "GCMMessage",
    ChannelType.ADM: "ADMMessage",
    ChannelType.BAIDU: "BaiduMessage",
}
_PUSH_TEMPLATE: dict[str, str] = {
    ChannelType.GCM: "GCM",
    ChannelType.ADM: "ADM",
    ChannelType.BAIDU: "Baidu",
}


class CompositionError(Exception):
    """This recipient's message cannot be made (a template fails on its data, nothing to send):
    the message fails, the others do not."""


@dataclass(frozen=True)
class Recipient:
    address: str
    channel: str
    endpoint: Mapping[str, Any]
    """The EndpointResponse for an endpoint recipient; Address and ChannelType for an address."""
    config: Mapping[str, Any]
    """Its AddressConfiguration or EndpointSendConfiguration."""


@dataclass(frozen=True)
class Sender:
    """What the app's channels say about sending, for fields a request leaves out."""

    email_from: str | None = None
    sms_sender: str | None = None
    voice_origination: str | None = None


def compose(
    recipient: Recipient,
    configuration: Mapping[str, Any],
    templates: Mapping[str, Mapping[str, Any]],
    sender: Sender,
    message_id: str,
) -> Outgoing:
    """The message for one recipient; ``templates`` maps EmailTemplate/SMSTemplate/
    VoiceTemplate/PushTemplate to the template version's stored fields."""
    channel = recipient.channel
    try:
        if channel == ChannelType.EMAIL:
            fields = _email(
                recipient, configuration, templates.get("EmailTemplate"), sender, message_id
            )
        elif channel == ChannelType.SMS:
            fields = _sms(
                recipient, configuration, templates.get("SMSTemplate"), sender, message_id
            )
        elif channel == ChannelType.VOICE:
            fields = _voice(
                recipient, configuration, templates.get("VoiceTemplate"), sender, message_id
            )
        elif channel in PUSH_CHANNELS:
            fields = _push(recipient, configuration, templates.get("PushTemplate"), message_id)
        else:
            raise CompositionError(f"Clarion cannot send to {channel} addresses")
    except RenderError as error:
        raise CompositionError(f"the template failed for this recipient: {error}") from None
    except TemplateError as error:
        raise CompositionError(f"the message is not a valid template: {error}") from None
    return outgoing(channel, fields)


def _values(
    recipient: Recipient, message: Mapping[str, Any], template: Mapping[str, Any] | None
) -> Mapping[str, Any]:
    substitutions = {
        **(message.get("Substitutions") or {}),
        **(recipient.config.get("Substitutions") or {}),
    }
    defaults = (template or {}).get("DefaultSubstitutions")
    return _recipient_values(recipient.endpoint, defaults=defaults, substitutions=substitutions)


def _render(source: str | None, values: Mapping[str, Any], *, escape: bool = False) -> str | None:
    if source is None:
        return None
    return _compiled(source).render(values, escape=escape)


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> Template:
    """Compiled once per distinct text: a campaign renders one template a million times."""
    return compile_template(source)


def _first(*candidates: Any) -> Any:
    return next((c for c in candidates if c not in (None, "")), None)


def _email(
    recipient: Recipient,
    configuration: Mapping[str, Any],
    template: Mapping[str, Any] | None,
    sender: Sender,
    message_id: str,
) -> dict[str, Any]:
    message = configuration.get("EmailMessage") or {}
    simple = message.get("SimpleEmail") or {}
    template = template or {}
    values = _values(recipient, message, template)
    override = recipient.config.get("BodyOverride")
    html = _first((simple.get("HtmlPart") or {}).get("Data"), template.get("HtmlPart"))
    text = _first(
        override,
        (simple.get("TextPart") or {}).get("Data"),
        message.get("Body"),
        (configuration.get("DefaultMessage") or {}).get("Body"),
        template.get("TextPart"),
    )
    subject = _first(
        recipient.config.get("TitleOverride"),
        (simple.get("Subject") or {}).get("Data"),
        template.get("Subject"),
    )
    if override is not None:
        html = None
    if html is None and text is None:
        raise CompositionError("the e-mail has no body: give EmailMessage content or a template")
    from_address = _first(message.get("FromAddress"), sender.email_from)
    if not from_address:
        raise CompositionError("no FromAddress: give one in EmailMessage or the email channel")
    headers = {h["Name"]: h["Value"] for h in simple.get("Headers") or [] if "Name" in h}
    return {
        "message_id": message_id,
        "sender": from_address,
        "recipient": recipient.address,
        "subject": _render(subject or "", values) or "",
        "html": _render(html, values, escape=True),
        "text": _render(text, values),
        "headers": headers,
        "reply_to": list(message.get("ReplyToAddresses") or []),
    }


def _body(
    recipient: Recipient,
    configuration: Mapping[str, Any],
    message: Mapping[str, Any],
    template: Mapping[str, Any],
    member: str,
) -> str:
    """A text channel's body: the override, the channel's message, DefaultMessage, the template."""
    body = _first(
        recipient.config.get("BodyOverride"),
        message.get("Body"),
        (configuration.get("DefaultMessage") or {}).get("Body"),
        template.get("Body"),
    )
    if body is None:
        raise CompositionError(f"the message has no body: give {member}.Body or a template")
    return str(body)


def _sms(
    recipient: Recipient,
    configuration: Mapping[str, Any],
    template: Mapping[str, Any] | None,
    sender: Sender,
    message_id: str,
) -> dict[str, Any]:
    message = configuration.get("SMSMessage") or {}
    template = template or {}
    body = _body(recipient, configuration, message, template, "SMSMessage")
    return {
        "message_id": message_id,
        "sender": _first(
            message.get("OriginationNumber"), message.get("SenderId"), sender.sms_sender
        ),
        "recipient": recipient.address,
        "body": _render(body, _values(recipient, message, template)),
        "message_type": message.get("MessageType") or "TRANSACTIONAL",
        "keyword": message.get("Keyword"),
    }


def _voice(
    recipient: Recipient,
    configuration: Mapping[str, Any],
    template: Mapping[str, Any] | None,
    sender: Sender,
    message_id: str,
) -> dict[str, Any]:
    message = configuration.get("VoiceMessage") or {}
    template = template or {}
    body = _body(recipient, configuration, message, template, "VoiceMessage")
    return {
        "message_id": message_id,
        "sender": _first(message.get("OriginationNumber"), sender.voice_origination),
        "recipient": recipient.address,
        "body": _render(body, _values(recipient, message, template)),
        "language_code": _first(message.get("LanguageCode"), template.get("LanguageCode"), "en-US"),
        "voice_id": _first(message.get("VoiceId"), template.get("VoiceId")),
    }


def _push(
    recipient: Recipient,
    configuration: Mapping[str, Any],
    template: Mapping[str, Any] | None,
    message_id: str,
) -> dict[str, Any]:
    channel = recipient.channel
    specific = configuration.get(_PUSH_MESSAGE.get(channel, "")) or {}
    default = configuration.get("DefaultPushNotificationMessage") or {}
    template = template or {}
    from_template = {
        **(template.get("Default") or {}),
        **(template.get(_PUSH_TEMPLATE.get(channel, "APNS")) or {}),
    }
    values = _values(recipient, {**default, **specific}, template)

    def field(name: str) -> Any:
        return _first(specific.get(name), default.get(name), from_template.get(name))

    raw = _first(
        recipient.config.get("RawContent"),
        specific.get("RawContent"),
        from_template.get("RawContent"),
    )
    if raw is not None:
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CompositionError("RawContent is not JSON") from None
    title = _first(recipient.config.get("TitleOverride"), field("Title"))
    body = _first(recipient.config.get("BodyOverride"), field("Body"))
    silent = bool(field("SilentPush"))
    if raw is None and not silent and title is None and body is None:
        raise CompositionError("the push notification has no Title, Body or RawContent")
    default_priority = "high" if channel in APNS_CHANNELS else "normal"
    priority = str(field("Priority") or default_priority).lower()
    return {
        "message_id": message_id,
        "token": recipient.address,
        "platform": "WEB" if channel == ChannelType.PUSH else channel,
        "title": _render(title, values),
        "body": _render(body, values),
        "data": {k: str(v) for k, v in (field("Data") or {}).items()},
        "action": field("Action") or "OPEN_APP",
        "url": _render(field("Url"), values),
        "silent": silent,
        "priority": "high" if priority in ("high", "10") else "normal",
        "time_to_live": field("TimeToLive"),
        "sound": field("Sound"),
        "image_url": _first(field("ImageUrl"), field("MediaUrl")),
        "raw": _render(raw, values) if raw is not None else None,
    }
