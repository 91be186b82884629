"""What a message event adds to the message rollups, read the way Pinpoint's event stream
writes message events (Amazon Pinpoint Developer Guide, "Email events", "SMS events",
"Campaign events": event-streams-data-email.html, -sms.html, -campaign.html).

Application metrics need two things per-day event counts cannot give: the distinct endpoints
behind an event type, and an attribute counted together with another attribute or a metric of
the same event (an SMS's country with its price, a campaign send's channel with its status).
So each message event is also folded into

* a set of endpoint ordinals per day, event type and sender (``daily_message_endpoints``), and
* one row per day, event type, sender and the attributes below (``daily_message_facts``),
  holding how many events there were, their message parts and their price.

The sender is the event's ``campaign_id``, or ``""`` for a transactional message: one without
``campaign_id`` and ``journey_id``. Events carrying only a ``journey_id`` are left out: no
application metric counts journey messages (journey metrics are a separate operation), and
their rows would only be written, never read.

Only message event types are examined at all (see :data:`MESSAGE_PREFIXES`), so app events pay
one string-prefix check each.

Journey messages have a rollup of their own (``daily_journey_messages``): per journey, day,
event type and activity, how many message events (and ``_journey.send`` events) carried the
journey's ``journey_id`` and ``journey_activity_id`` (Developer Guide, "Journey events",
event-streams-data-journey.html, and the journey attributes of "Email events"). The journey
engagement metrics read it; the application and campaign metrics never do. Like a campaign's
``_campaign.send``, a ``_journey.send`` is not the endpoint's own activity (:func:`is_sent`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

from clarion.store.analytics import JourneyMessageKey
from clarion.store.rollups import Fact, FactKey

MESSAGE_PREFIXES: Final = ("_email.", "_SMS.", "_push.", "_campaign.")
"""Event types Pinpoint writes when it sends a message or learns its outcome."""

JOURNEY_PREFIXES: Final = (*MESSAGE_PREFIXES, "_journey.")
"""Message event types and ``_journey.send`` (see :func:`is_sent`)."""

CAMPAIGN_ID: Final = "campaign_id"
JOURNEY_ID: Final = "journey_id"
JOURNEY_ACTIVITY_ID: Final = "journey_activity_id"
COUNTRY: Final = "iso_country_code"
RECORD_STATUS: Final = "record_status"
DELIVERY_TYPE: Final = "delivery_type"
SEND_STATUS: Final = "campaign_send_status"
MESSAGE_PARTS: Final = "number_of_message_parts"
PRICE: Final = "price_in_millicents_usd"

ROLLED_UP: Final = frozenset(
    {
        CAMPAIGN_ID,
        JOURNEY_ID,
        COUNTRY,
        RECORD_STATUS,
        DELIVERY_TYPE,
        SEND_STATUS,
        "treatment_id",
        "campaign_activity_id",
        "message_type",
        "channel_type",
    }
)
"""The attributes of message events counted per value in ``daily_attributes``: the ones metrics
break down by. The rest (message ids, addresses, subjects, links) differ per message, so
counting them would add rows per message sent; they stay in the stored event."""

MAX_CODE_LENGTH: Final = 64
"""Country codes, statuses and channel names are short codes. Longer values are cut, so the
facts table's key stays within PostgreSQL's index row limit whatever a client sends."""


def is_message(event_type: str) -> bool:
    return event_type.startswith(MESSAGE_PREFIXES)


def is_sent(event_type: str) -> bool:
    """A message event or ``_journey.send``: what Clarion sent and how it went, which says
    nothing of the endpoint's own use of the app (no activity, session or recency)."""
    return event_type.startswith(JOURNEY_PREFIXES)


def sender(attributes: Mapping[str, str]) -> str | None:
    """The campaign that sent the message, ``""`` for a transactional message, or None for a
    journey's message, which the message rollups leave out."""
    campaign = attributes.get(CAMPAIGN_ID)
    if campaign:
        return campaign
    return None if attributes.get(JOURNEY_ID) else ""


def fact_key(day: str, event_type: str, campaign: str, attributes: Mapping[str, str]) -> FactKey:
    return FactKey(
        day,
        event_type,
        campaign,
        _code(attributes, COUNTRY),
        _code(attributes, RECORD_STATUS),
        _code(attributes, DELIVERY_TYPE),
        _code(attributes, SEND_STATUS),
    )


def fact(attributes: Mapping[str, str], metrics: Mapping[str, float]) -> Fact:
    """An SMS's message parts (0 when not reported) and price in millicents of a US dollar
    (Pinpoint reports it on an SMS's outcome, never on ``_SMS.BUFFERED``)."""
    price = metrics.get(PRICE)
    return Fact(
        _whole_number(attributes.get(MESSAGE_PARTS, "")),
        0 if price is None else 1,
        0.0 if price is None else float(price),
    )


def _code(attributes: Mapping[str, str], name: str) -> str:
    return attributes.get(name, "")[:MAX_CODE_LENGTH]


def _whole_number(text: str) -> int:
    """Attribute values are strings; ``number_of_message_parts`` is written like ``"2"``."""
    return int(text) if text.isascii() and text.isdigit() else 0


def journey_counts(events: Iterable[tuple[str, Mapping[str, Any]]]) -> Counter[JourneyMessageKey]:
    """What (day, event) pairs add to the journey message rollup: one per message event or
    ``_journey.send`` carrying a ``journey_id``, under its ``journey_activity_id`` ("" if
    none). Campaign events never carry a ``journey_id``; any other event is left out."""
    counts: Counter[JourneyMessageKey] = Counter()
    for day, event in events:
        event_type = event["EventType"]
        if not is_sent(event_type):
            continue
        attributes = event.get("Attributes") or {}
        journey = attributes.get(JOURNEY_ID)
        if journey:
            activity = attributes.get(JOURNEY_ACTIVITY_ID, "")
            counts[JourneyMessageKey(journey, day, event_type, activity)] += 1
    return counts
