"""A campaign's MessageConfiguration in the shape direct sends use. Pure.

Campaign messages have their own shapes (CampaignEmailMessage has Title, HtmlBody and Body; a
push channel has Pinpoint's Message); the composer reads DirectMessageConfiguration, so each is
translated once per run. DefaultMessage applies to every channel the campaign has no message of
its own for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clarion.channels.kinds import PUSH_CHANNELS, ChannelType

_PUSH_MEMBERS = {"ADMMessage", "APNSMessage", "BaiduMessage", "GCMMessage"}
_BY_CHANNEL: dict[str, tuple[str, str]] = {
    ChannelType.EMAIL: ("EmailMessage", "EmailTemplate"),
    ChannelType.SMS: ("SMSMessage", "SMSTemplate"),
    ChannelType.VOICE: ("VoiceMessage", "VoiceTemplate"),
}


def direct_configuration(campaign: Mapping[str, Any]) -> dict[str, Any]:
    direct: dict[str, Any] = {}
    email = campaign.get("EmailMessage")
    if email:
        simple: dict[str, Any] = {}
        for member, part in (("Title", "Subject"), ("HtmlBody", "HtmlPart"), ("Body", "TextPart")):
            if email.get(member) is not None:
                simple[part] = {"Data": email[member]}
        if email.get("Headers"):
            simple["Headers"] = email["Headers"]
        direct["EmailMessage"] = {
            **({"FromAddress": email["FromAddress"]} if email.get("FromAddress") else {}),
            "SimpleEmail": simple,
        }
    if campaign.get("SMSMessage"):
        direct["SMSMessage"] = dict(campaign["SMSMessage"])
    for member in _PUSH_MEMBERS:
        if campaign.get(member):
            direct[member] = _push(campaign[member])
    default = campaign.get("DefaultMessage")
    if default:
        direct["DefaultMessage"] = {"Body": default.get("Body")}
        direct["DefaultPushNotificationMessage"] = _push(default)
    return direct


def targets(channel: str, campaign: Mapping[str, Any], templates: Mapping[str, Any]) -> bool:
    """Whether the campaign has something to send to an endpoint of this channel."""
    if campaign.get("DefaultMessage"):
        return True
    if channel in PUSH_CHANNELS:
        return bool(
            templates.get("PushTemplate") or any(campaign.get(member) for member in _PUSH_MEMBERS)
        )
    message, template = _BY_CHANNEL.get(channel, ("", ""))
    return bool(message and (campaign.get(message) or templates.get(template)))


def _push(message: Mapping[str, Any]) -> dict[str, Any]:
    pushed = {
        k: message[k]
        for k in (
            "Action",
            "Body",
            "ImageUrl",
            "MediaUrl",
            "RawContent",
            "SilentPush",
            "TimeToLive",
            "Title",
            "Url",
        )
        if message.get(k) is not None
    }
    if message.get("JsonBody"):
        pushed["Data"] = {"jsonBody": message["JsonBody"]}
    return pushed
