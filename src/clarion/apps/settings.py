"""Application settings: Pinpoint's documented bounds and how an update combines with what is
stored. Pure, so the rules are tested without a server."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from clarion.errors import BadRequest

_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_WRITABLE = (
    "CampaignHook",
    "CloudWatchMetricsEnabled",
    "EventTaggingEnabled",
    "Limits",
    "QuietTime",
    "JourneyLimits",
)


def _bounded(value: int | None, path: str, low: int, high: int | None = None) -> None:
    if value is None:
        return
    if value < low or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise BadRequest(f"{path} must be at least {low}{upper}; got {value}")


def validate_limits(limits: Mapping[str, Any], path: str) -> None:
    """CampaignLimits bounds as the Pinpoint API reference states them."""
    _bounded(limits.get("Daily"), f"{path}.Daily", 0, 100)
    _bounded(limits.get("Total"), f"{path}.Total", 0, 100)
    _bounded(limits.get("MessagesPerSecond"), f"{path}.MessagesPerSecond", 1, 20000)
    _bounded(limits.get("MaximumDuration"), f"{path}.MaximumDuration", 60)
    _bounded(limits.get("Session"), f"{path}.Session", 0)


def validate_quiet_time(quiet_time: Mapping[str, Any], path: str) -> None:
    start, end = quiet_time.get("Start"), quiet_time.get("End")
    for name, value in (("Start", start), ("End", end)):
        if value is not None and not _HH_MM.match(value):
            raise BadRequest(f"{path}.{name} must be a 24-hour time in HH:MM format; got {value!r}")
    if (start is None) != (end is None):
        raise BadRequest(f"{path} needs both Start and End, or neither")


def validate_hook(hook: Mapping[str, Any], path: str) -> None:
    url = hook.get("WebUrl")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise BadRequest(f"{path}.WebUrl must be an http(s) URL; got {url!r}")


def validate_journey_limits(limits: Mapping[str, Any], path: str) -> None:
    _bounded(limits.get("DailyCap"), f"{path}.DailyCap", 0, 100)
    _bounded(limits.get("TotalCap"), f"{path}.TotalCap", 0, 100)
    cap = limits.get("TimeframeCap") or {}
    _bounded(cap.get("Cap"), f"{path}.TimeframeCap.Cap", 0, 100)
    _bounded(cap.get("Days"), f"{path}.TimeframeCap.Days", 0, 30)


def apply_settings_update(
    current: Mapping[str, Any], request: Mapping[str, Any], now: str
) -> dict[str, Any]:
    """Members present in the request replace the stored ones; members left out keep theirs."""
    path = "WriteApplicationSettingsRequest"
    if "Limits" in request:
        validate_limits(request["Limits"], f"{path}.Limits")
    if "QuietTime" in request:
        validate_quiet_time(request["QuietTime"], f"{path}.QuietTime")
    if "CampaignHook" in request:
        validate_hook(request["CampaignHook"], f"{path}.CampaignHook")
    if "JourneyLimits" in request:
        validate_journey_limits(request["JourneyLimits"], f"{path}.JourneyLimits")
    updated = dict(current)
    updated.update({key: request[key] for key in _WRITABLE if key in request})
    updated["LastModifiedDate"] = now
    return updated
