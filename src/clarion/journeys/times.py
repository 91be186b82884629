"""The times a journey request writes: ISO 8601 durations, moments, clock times and WaitTime.

Pinpoint names the forms (``WaitFor`` and ``RefreshFrequency`` "as a duration in ISO 8601
format", ``EndpointReentryInterval`` "such as PT1H", ``WaitUntil`` "in ISO 8601 format") but
not the subset it reads, so Clarion chose:

* Durations: ``PnW``, or ``P[nD][T[nH][nM][n[.f]S]]`` with at least one part, digits ASCII,
  designators in either case (as Java's ``Duration.parse`` reads them), a fraction on seconds
  only. Years and months are refused: they have no fixed length, and a wait must mean the
  same span whenever a participant arrives; the message asks for days instead. Zero is
  allowed (``PT0S`` is "evaluate at once"); a sign is not. Anything up to ``MAX_DURATION``
  (100 years, past any journey's life; it keeps sums within ``datetime``) is honoured to the
  second: the console's 1 hour to 365 days for a wait is a console limit, not the API's.
* Moments: what ``datetime.fromisoformat`` reads (a trailing ``Z`` included); a moment
  without a UTC offset is UTC. Aware UTC datetimes are returned.
* Clock times (OpenHours): 24-hour ``HH:MM``, as Pinpoint's QuietTime documents them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from clarion.errors import BadRequest
from clarion.journeys.fields import describe, mapping, one_of, string

MAX_DURATION = timedelta(days=36_525)

_DURATION = re.compile(
    r"P(?:(?P<weeks>[0-9]+)W|(?:(?P<years>[0-9]+)Y)?(?:(?P<months>[0-9]+)M)?(?:(?P<days>[0-9]+)D)?"
    r"(?P<time>T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?"
    r"(?:(?P<seconds>[0-9]+)(?:[.,](?P<fraction>[0-9]{1,9}))?S)?)?)",
    re.IGNORECASE,
)
_UNITS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}
_MAX_DIGITS = 18
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
WAIT_MEMBERS = ("WaitFor", "WaitUntil")


def parse_duration(value: Any, path: str) -> timedelta:
    """An ISO 8601 duration such as ``PT1H``, ``P1D``, ``PT30S`` or ``P2W``, read as described
    above; BadRequest naming ``path`` otherwise."""
    if not isinstance(value, str):
        raise BadRequest(f"{path} must be an ISO 8601 duration such as PT1H; got {describe(value)}")
    found = _DURATION.fullmatch(value)
    parts = {} if found is None else {k: v for k, v in found.groupdict().items() if v is not None}
    if found is None or set(parts) <= {"time"} or parts.get("time", "").upper() == "T":
        raise BadRequest(
            f"{path} must be an ISO 8601 duration such as PT1H, P1D or PT30S; got {value[:100]!r}"
        )
    if "years" in parts or "months" in parts:
        raise BadRequest(
            f"{path}: {value[:100]!r} counts years or months, which have no fixed length; "
            "give the duration in weeks, days, hours, minutes or seconds (e.g. P30D)"
        )
    too_long = BadRequest(f"{path}: {value[:100]!r} is longer than {MAX_DURATION.days} days")
    if any(len(parts.get(unit, "")) > _MAX_DIGITS for unit in _UNITS):
        raise too_long
    seconds = sum(int(parts.get(unit, "0")) * size for unit, size in _UNITS.items())
    if seconds > MAX_DURATION.total_seconds():
        raise too_long
    duration = timedelta(
        seconds=seconds, microseconds=int(parts.get("fraction", "").ljust(6, "0")[:6])
    )
    if duration > MAX_DURATION:
        raise too_long
    return duration


def parse_timestamp(value: Any, path: str) -> datetime:
    """An ISO 8601 moment (or a ``datetime``, as the API layer reads timestamp members) as an
    aware UTC datetime; a moment without an offset is UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = string(value, path)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadRequest(
                f"{path} must be an ISO 8601 date and time such as 2026-05-01T09:00:00Z; "
                f"got {text[:100]!r}"
            ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadRequest(f"{path}: {value!s} is out of range") from None


def clock_minutes(value: Any, path: str) -> int:
    """A 24-hour ``HH:MM`` time as minutes after midnight."""
    found = _CLOCK.fullmatch(string(value, path))
    if found is None:
        raise BadRequest(f"{path} must be a 24-hour time in HH:MM format; got {value[:100]!r}")
    return int(found[1]) * 60 + int(found[2])


def check_wait_time(value: Any, path: str) -> None:
    """A ``WaitTime``: exactly one of WaitFor (a duration from arrival) or WaitUntil (a
    moment), since each alone says when the wait ends."""
    wait_time: Mapping[str, Any] = mapping(value, path)
    given = one_of(wait_time, WAIT_MEMBERS, path)
    if given is None:
        raise BadRequest(
            f"{path} needs WaitFor (an ISO 8601 duration such as PT1H) or WaitUntil "
            "(an ISO 8601 date and time)"
        )
    if given == "WaitFor":
        parse_duration(wait_time["WaitFor"], f"{path}.WaitFor")
    else:
        parse_timestamp(string(wait_time["WaitUntil"], f"{path}.WaitUntil"), f"{path}.WaitUntil")
