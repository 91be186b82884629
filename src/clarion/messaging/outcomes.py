"""What an attempt's result means: the DeliveryStatus SendMessages answers, whether to try
again, and the delivery events Pinpoint's event stream would carry. Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from clarion.channels.kinds import ChannelType
from clarion.delivery.base import Outcome, Result

SUCCESSFUL = "SUCCESSFUL"
TEMPORARY_FAILURE = "TEMPORARY_FAILURE"
PERMANENT_FAILURE = "PERMANENT_FAILURE"
OPT_OUT = "OPT_OUT"
DUPLICATE = "DUPLICATE"
UNKNOWN_FAILURE = "UNKNOWN_FAILURE"
PENDING = "PENDING"
"""Ledger state of a message that will be tried again (answered as TEMPORARY_FAILURE)."""

_LONGEST_VALUE = 200


@dataclass(frozen=True)
class Status:
    delivery_status: str
    status_code: int
    message: str


@dataclass(frozen=True)
class DeliveryEvent:
    event_type: str
    attributes: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)


def status(result: Result) -> Status:
    """The per-recipient answer for an attempt's result."""
    code = result.status_code
    if result.outcome is Outcome.DELIVERED:
        return Status(SUCCESSFUL, 200, result.detail or "Accepted for delivery")
    if result.outcome is Outcome.TRANSIENT:
        return Status(
            TEMPORARY_FAILURE,
            code if 400 <= code < 600 else 503,
            f"{result.detail}; Clarion will try again" if result.detail else "Will try again",
        )
    if result.outcome is Outcome.OPT_OUT:
        return Status(OPT_OUT, code if 400 <= code < 600 else 400, result.detail)
    return Status(PERMANENT_FAILURE, code if 400 <= code < 600 else 400, result.detail)


def backoff_ms(attempts: int, base_s: float, most_s: float) -> int:
    """Doubling pauses between tries, from ``base_s`` up to ``most_s``."""
    return int(min(most_s, base_s * 2 ** max(0, attempts - 1)) * 1000)


def events(
    channel: str,
    message: Mapping[str, Any],
    outcome: str,
    detail: str = "",
    extra: Mapping[str, str] | None = None,
) -> list[DeliveryEvent]:
    """Delivery events for a message's final outcome (``outcome`` one of SUCCESSFUL,
    PERMANENT_FAILURE, OPT_OUT, "GAVE_UP" after retries ran out, "RENDERING_FAILURE")."""
    extra = dict(extra or {})
    found = _channel_events(channel, message, outcome, detail, extra)
    if "campaign_id" in extra:
        found.append(campaign_send(channel, extra, _SEND_STATUS.get(outcome, "FAILURE")))
    elif "journey_id" in extra:
        found.append(journey_send(channel, extra, _SEND_STATUS.get(outcome, "FAILURE")))
    return found


def campaign_send(channel: str, context: Mapping[str, str], send_status: str) -> DeliveryEvent:
    """``_campaign.send``: one per message a campaign sent, with how it went
    (``campaign_send_status`` SUCCESS, FAILURE, OPT_OUT or TIMEOUT)."""
    return DeliveryEvent(
        "_campaign.send",
        {**context, "delivery_type": channel, "campaign_send_status": send_status},
    )


def journey_send(channel: str, context: Mapping[str, str], send_status: str) -> DeliveryEvent:
    """``_journey.send``: one per message a journey activity sent, carrying the journey,
    activity and run ids of ``context``, the activity's type (EMAIL, SMS, PUSH or CUSTOM) and
    ``journey_send_status`` (SUCCESS, FAILURE, OPT_OUT or TIMEOUT)."""
    return DeliveryEvent(
        "_journey.send",
        {**context, "delivery_type": channel, "journey_send_status": send_status},
    )


_SEND_STATUS = {
    SUCCESSFUL: "SUCCESS",
    PERMANENT_FAILURE: "FAILURE",
    OPT_OUT: "OPT_OUT",
    "GAVE_UP": "TIMEOUT",
    "RENDERING_FAILURE": "FAILURE",
}


def _channel_events(
    channel: str, message: Mapping[str, Any], outcome: str, detail: str, extra: dict[str, str]
) -> list[DeliveryEvent]:
    if channel == ChannelType.EMAIL:
        return _email_events(message, outcome, detail, extra)
    if channel == ChannelType.SMS:
        return _sms_events(message, outcome, detail, extra)
    prefix = "_voice" if channel == ChannelType.VOICE else "_push"
    attributes = {"message_id": message.get("message_id", ""), "channel_type": channel, **extra}
    if outcome == SUCCESSFUL:
        return [DeliveryEvent(f"{prefix}.send", attributes)]
    return [DeliveryEvent(f"{prefix}.failure", {**attributes, "feedback": _cut(detail)})]


def engagement(kind: str, message: Mapping[str, Any], link: str | None = None) -> DeliveryEvent:
    """``_email.open`` or ``_email.click`` (``kind`` "open" or "click") for a sent e-mail."""
    attributes = {
        "message_id": message.get("message_id", ""),
        "from_address": _cut(message.get("sender") or ""),
        "destination": _cut(message.get("recipient") or ""),
        "subject": _cut(message.get("subject") or ""),
        **(message.get("context") or {}),
    }
    if link is not None:
        attributes["link"] = _cut(link)
    return DeliveryEvent(f"_email.{kind}", attributes)


def _email_events(
    message: Mapping[str, Any], outcome: str, detail: str, extra: dict[str, str]
) -> list[DeliveryEvent]:
    attributes = {
        "message_id": message.get("message_id", ""),
        "from_address": _cut(message.get("sender") or ""),
        "destination": _cut(message.get("recipient") or ""),
        "subject": _cut(message.get("subject") or ""),
        **extra,
    }
    feedback = {**attributes, "feedback": _cut(detail)}
    if outcome == "RENDERING_FAILURE":
        return [DeliveryEvent("_email.rendering_failure", feedback)]
    send = DeliveryEvent("_email.send", attributes)
    if outcome == SUCCESSFUL:
        return [send, DeliveryEvent("_email.delivered", attributes)]
    if outcome == "GAVE_UP":
        return [send, DeliveryEvent("_email.softbounce", feedback)]
    if outcome == PERMANENT_FAILURE:
        return [send, DeliveryEvent("_email.hardbounce", feedback)]
    return []


def _sms_events(
    message: Mapping[str, Any], outcome: str, detail: str, extra: dict[str, str]
) -> list[DeliveryEvent]:
    recipient = message.get("recipient") or ""
    attributes = {
        "message_id": message.get("message_id", ""),
        "destination_phone_number": recipient,
        "message_type": message.get("message_type") or "TRANSACTIONAL",
        "iso_country_code": _country(recipient),
        **extra,
    }
    if message.get("sender"):
        attributes["origination_phone_number"] = _cut(message["sender"])
    metrics = {"number_of_message_parts": float(sms_parts(message.get("body") or ""))}
    if outcome == SUCCESSFUL:
        return [
            DeliveryEvent("_SMS.BUFFERED", {**attributes, "record_status": "PENDING"}, metrics),
            DeliveryEvent("_SMS.SUCCESS", {**attributes, "record_status": "DELIVERED"}, metrics),
        ]
    if outcome == OPT_OUT:
        return [DeliveryEvent("_SMS.OPTOUT", {**attributes, "record_status": "OPTED_OUT"})]
    record_status = "UNREACHABLE" if outcome == "GAVE_UP" else "INVALID"
    if outcome == "RENDERING_FAILURE":
        record_status = "INVALID_MESSAGE"
    return [
        DeliveryEvent(
            "_SMS.FAILURE",
            {**attributes, "record_status": record_status, "feedback": _cut(detail)},
            metrics,
        )
    ]


def sms_parts(body: str) -> int:
    """Message parts: 160 GSM-7 characters in one part, 153 per part beyond; 70 and 67 for
    text that needs UCS-2."""
    if all(char in _GSM7 for char in body):
        length = sum(2 if char in _GSM7_EXTENDED else 1 for char in body)
        return 1 if length <= 160 else math.ceil(length / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def _cut(value: str) -> str:
    return value[:_LONGEST_VALUE]


_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
_GSM7 = (
    frozenset(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    | _GSM7_EXTENDED
)
