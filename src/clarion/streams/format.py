"""Pinpoint's event-stream record for one stored event: pure, no I/O.

Field names and nesting follow the records Pinpoint writes to Kinesis and Firehose (developer
guide, "App events", "Email events", "SMS events", "Campaign events"). Values come only from the
event as the client sent it and the endpoint; what neither says is left out, never guessed.

Events that Clarion itself records about a message it sent (e-mail, SMS, campaign or journey
deliveries) carry a ``Delivery`` object in their stored event: its ``client_context`` and
``facets`` are copied into the record as they are, and such records have no ``endpoint`` object,
an empty ``session`` and an empty ``device.platform``, as Pinpoint's delivery records do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

EVENT_VERSION = "3.1"
DELIVERY_FIELDS = ("client_context", "facets")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_LOCALE_PARTS = re.compile(r"[_-]")


@dataclass(frozen=True)
class StoredEvent:
    """One row of the ``events`` table, as far as the record needs it."""

    app_id: str
    endpoint_key: str
    event_type: str
    timestamp_ms: int
    arrival_ms: int
    event: Mapping[str, Any]
    """The Pinpoint ``Event`` input object as the client sent it."""


def client_id(event: StoredEvent, endpoint: Mapping[str, Any] | None) -> str:
    """The endpoint id as the client first wrote it; the stored key is lower-cased."""
    if endpoint and isinstance(endpoint.get("Id"), str):
        return str(endpoint["Id"])
    return event.endpoint_key


def build_record(
    event: StoredEvent, endpoint: Mapping[str, Any] | None, account_id: str
) -> dict[str, Any]:
    """The record for ``event``; ``endpoint`` is the endpoint as GetEndpoint answers it, if any."""
    source = event.event
    delivery = source.get("Delivery")
    body = (
        _delivery_body(event, endpoint, delivery)
        if isinstance(delivery, Mapping)
        else _app_event_body(event, endpoint)
    )
    return {
        "event_type": event.event_type,
        "event_timestamp": event.timestamp_ms,
        "arrival_timestamp": event.arrival_ms,
        "event_version": EVENT_VERSION,
        **body,
        "awsAccountId": account_id,
    }


def encode(record: Mapping[str, Any]) -> bytes:
    """Compact JSON, keys in the order Pinpoint writes them, no trailing newline."""
    return orjson.dumps(record)


def epoch_ms(value: Any) -> int | None:
    """Milliseconds since the epoch for an ISO 8601 timestamp; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def _app_event_body(event: StoredEvent, endpoint: Mapping[str, Any] | None) -> dict[str, Any]:
    source = event.event
    demographic = _demographic(endpoint)
    body: dict[str, Any] = {
        "application": {
            "app_id": event.app_id,
            **_present({"package_name": source.get("AppPackageName")}),
            "sdk": _sdk(source),
            **_present(
                {
                    "title": source.get("AppTitle"),
                    "version_name": demographic.get("AppVersion"),
                    "version_code": source.get("AppVersionCode"),
                }
            ),
        },
        "client": {"client_id": client_id(event, endpoint)},
        "device": _device(demographic),
        "session": _session(source.get("Session")),
        "attributes": dict(source.get("Attributes") or {}),
        "metrics": dict(source.get("Metrics") or {}),
    }
    if endpoint:
        body["endpoint"] = dict(endpoint)
    return body


def _delivery_body(
    event: StoredEvent, endpoint: Mapping[str, Any] | None, delivery: Mapping[str, Any]
) -> dict[str, Any]:
    source = event.event
    body: dict[str, Any] = {
        "application": {"app_id": event.app_id, "sdk": _sdk(source)},
        "client": {"client_id": client_id(event, endpoint)},
        "device": {"platform": {}},
        "session": {},
        "attributes": dict(source.get("Attributes") or {}),
    }
    if "Metrics" in source:
        body["metrics"] = dict(source.get("Metrics") or {})
    body.update({name: delivery[name] for name in DELIVERY_FIELDS if name in delivery})
    return body


def _sdk(source: Mapping[str, Any]) -> dict[str, Any]:
    return _present({"name": source.get("SdkName"), "version": source.get("ClientSdkVersion")})


def _device(demographic: Mapping[str, Any]) -> dict[str, Any]:
    device: dict[str, Any] = {}
    locale = demographic.get("Locale")
    if isinstance(locale, str) and locale:
        parts = _LOCALE_PARTS.split(locale, maxsplit=1)
        country = parts[1] if len(parts) == 2 and parts[1] else None
        device["locale"] = _present({"code": locale, "country": country, "language": parts[0]})
    device.update(_present({"make": demographic.get("Make"), "model": demographic.get("Model")}))
    device["platform"] = _present(
        {"name": demographic.get("Platform"), "version": demographic.get("PlatformVersion")}
    )
    return device


def _session(session: Any) -> dict[str, Any]:
    if not isinstance(session, Mapping):
        return {}
    return _present(
        {
            "session_id": session.get("Id"),
            "start_timestamp": epoch_ms(session.get("StartTimestamp")),
            "stop_timestamp": epoch_ms(session.get("StopTimestamp")),
        }
    )


def _demographic(endpoint: Mapping[str, Any] | None) -> Mapping[str, Any]:
    demographic = (endpoint or {}).get("Demographic")
    return demographic if isinstance(demographic, Mapping) else {}


def _present(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None and value != ""}
