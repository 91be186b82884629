"""Pinpoint's rules for incoming events: quotas, timestamps and the reserved event types.

Quotas, from the Amazon Pinpoint Developer Guide, "Amazon Pinpoint quotas" > "Event ingestion
quotas" (https://docs.aws.amazon.com/pinpoint/latest/developerguide/quotas.html#quotas-events):
100 events per PutEvents request, 4 MB per request, 1,000 KB per event, 1,500 custom event
types per project, 40 attributes and metrics (together) per event, attribute and metric names of
at most 50 characters, attribute values of at most 200 characters.

Undocumented, chosen here: an event type name is 1 to 50 characters, like attribute names.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import orjson

MAX_EVENTS_PER_REQUEST: Final = 100
MAX_REQUEST_BYTES: Final = 4 * 1024 * 1024
MAX_EVENT_BYTES: Final = 1000 * 1024
MAX_EVENT_TYPES_PER_APP: Final = 1500
MAX_ATTRIBUTES_AND_METRICS: Final = 40
MAX_NAME_LENGTH: Final = 50
MAX_ATTRIBUTE_VALUE_LENGTH: Final = 200
MAX_EVENT_TYPE_LENGTH: Final = 50

SESSION_BEGINS: Final = frozenset({"_session.start", "_session.resume"})
SESSION_ENDS: Final = frozenset({"_session.stop", "_session.pause"})
PURCHASE: Final = "_monetization.purchase"
RESERVED_PREFIXES: Final = (
    "_session.",
    "_monetization.",
    "_userauth.",
    "_campaign.",
    "_journey.",
    "_email.",
    "_SMS.",
    "_push.",
    "_voice.",
    "_inapp.",
    "_custom.",
)
"""Types Pinpoint and its SDKs write themselves; they don't count toward the custom-type quota."""


_EPOCH = date(1970, 1, 1)


class InvalidEvent(ValueError):
    """One event broke a rule; its message goes back in that event's 400 result only."""


@dataclass(frozen=True)
class Purchase:
    currency: str
    quantity: float
    revenue: float


def is_custom(event_type: str) -> bool:
    return not event_type.startswith(RESERVED_PREFIXES)


def parse_timestamp(value: str, field: str) -> int:
    """Milliseconds since the epoch for an ISO 8601 timestamp (UTC when no offset is given)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidEvent(f"{field} is not an ISO 8601 timestamp: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return int(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        raise InvalidEvent(f"{field} is out of range: {value!r}") from None


def day_of(timestamp_ms: int) -> str:
    """The UTC day ("YYYY-MM-DD") a timestamp falls on."""
    return _day(timestamp_ms // 86_400_000)


@functools.lru_cache(maxsize=4096)
def _day(days_since_epoch: int) -> str:
    return (_EPOCH + timedelta(days=days_since_epoch)).isoformat()


def check_event(event: Mapping[str, Any]) -> int:
    """Check one event against the per-event quotas; return its timestamp in milliseconds."""
    event_type = event["EventType"]
    if not 1 <= len(event_type) <= MAX_EVENT_TYPE_LENGTH:
        raise InvalidEvent(f"EventType must be 1 to {MAX_EVENT_TYPE_LENGTH} characters")
    attributes: Mapping[str, str] = event.get("Attributes") or {}
    metrics: Mapping[str, float] = event.get("Metrics") or {}
    if len(attributes) + len(metrics) > MAX_ATTRIBUTES_AND_METRICS:
        raise InvalidEvent(
            f"An event can have at most {MAX_ATTRIBUTES_AND_METRICS} attributes and metrics "
            f"together; this one has {len(attributes) + len(metrics)}"
        )
    for name, value in attributes.items():
        _check_name(name, "Attributes")
        if len(value) > MAX_ATTRIBUTE_VALUE_LENGTH:
            raise InvalidEvent(
                f"Attributes.{name}: a value is at most {MAX_ATTRIBUTE_VALUE_LENGTH} characters"
            )
    for name, number in metrics.items():
        _check_name(name, "Metrics")
        if not math.isfinite(number):
            raise InvalidEvent(f"Metrics.{name} must be a finite number")
    if len(orjson.dumps(event)) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"An event is at most {MAX_EVENT_BYTES // 1024} KB")
    session = event.get("Session")
    if session is not None:
        parse_timestamp(session["StartTimestamp"], "Session.StartTimestamp")
        if session.get("StopTimestamp"):
            parse_timestamp(session["StopTimestamp"], "Session.StopTimestamp")
    return parse_timestamp(event["Timestamp"], "Timestamp")


def _check_name(name: str, field: str) -> None:
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidEvent(
            f"{field}: the name {name[:60]!r} must be 1 to {MAX_NAME_LENGTH} characters"
        )


def purchase(event: Mapping[str, Any]) -> Purchase | None:
    """What a ``_monetization.purchase`` event bought, in its currency (quantity defaults to 1)."""
    if event["EventType"] != PURCHASE:
        return None
    attributes = event.get("Attributes") or {}
    metrics = event.get("Metrics") or {}
    quantity = float(metrics.get("_quantity", 1.0))
    price = float(metrics.get("_item_price", 0.0))
    return Purchase(attributes.get("_currency", "UNKNOWN"), quantity, price * quantity)
