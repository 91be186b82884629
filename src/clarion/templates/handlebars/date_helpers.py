"""The ``dateFormat`` and ``now`` helpers: they read the template's arguments, ``dates`` formats."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

from clarion.templates.handlebars.dates import (
    STYLES,
    DateError,
    format_date,
    input_pattern,
    parse_date,
    split_pattern,
)
from clarion.templates.handlebars.limits import RenderError
from clarion.templates.handlebars.values import (
    DYNAMIC,
    Call,
    blank,
    number_arg,
    optional_arg,
    scalar,
    to_text,
)

_ZONE_NAME = re.compile(r"[A-Za-z][\w+-]*(?:/[A-Za-z][\w+-]*)*")
_ENGLISH = re.compile(r"en(?:[_-]us)?", re.IGNORECASE)


@contextmanager
def _date_faults() -> Iterator[None]:
    """The date code knows nothing of templates; what it refuses fails this message."""
    try:
        yield
    except DateError as error:
        raise RenderError(str(error)) from None


def _style(fmt: Any) -> str:
    text = to_text(scalar(fmt))
    return STYLES.get(text, text)


def _parse_date(value: Any, pattern: Any, zone: tzinfo, today: datetime) -> datetime:
    if pattern is not None:
        return parse_date(to_text(value), _style(pattern), zone, today)
    if not isinstance(value, str):
        return _from_millis(float(number_arg(value, "dateFormat's date")), to_text(value))
    text = value.strip()
    if text.isascii() and text.isdigit():
        return _from_millis(float(text), text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RenderError(f"{text!r} is not an ISO 8601 date; pass inputFormat") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _from_millis(millis: float, shown: str) -> datetime:
    """Milliseconds since 1970, as Java reads a date given as a number."""
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        raise RenderError(
            f"{shown[:40]!r} milliseconds since 1970 is before year 1 or after 9999"
        ) from None


@lru_cache(maxsize=512)
def _zone_named(name: str) -> tzinfo:
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    if not _ZONE_NAME.fullmatch(name):
        raise RenderError(f"{name!r} is not a time zone ID")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RenderError(f"{name!r} is not a time zone ID") from None


def _zone(value: Any) -> tzinfo:
    return UTC if blank(value) else _zone_named(to_text(scalar(value)).strip())


def _check_locale(value: Any) -> None:
    if not blank(value) and not _ENGLISH.fullmatch(to_text(scalar(value)).strip()):
        raise RenderError(
            f"locale {to_text(value)!r} is not supported; dates are in English (en_US)"
        )


def _check_dates(options: Mapping[str, Any], formats: Sequence[Any], reading: Any = None) -> None:
    with _date_faults():
        for fmt in formats:
            if fmt is not None and fmt is not DYNAMIC:
                split_pattern(_style(fmt))
        if reading is not None and reading is not DYNAMIC:
            input_pattern(_style(reading))
    for key, check in (("tz", _zone), ("locale", _check_locale)):
        value = options.get(key)
        if value is not None and value is not DYNAMIC:
            check(value)


def date_format(call: Call) -> str:
    zone = _zone(call.hash.get("tz"))
    _check_locale(call.hash.get("locale"))
    fmt = call.hash.get("outputFormat", optional_arg(call.args, 1, "medium"))
    with _date_faults():
        moment = _parse_date(scalar(call.args[0]), call.hash.get("inputFormat"), zone, call.clock())
        return format_date(moment, _style(fmt), zone)


def check_date_format(args: Sequence[Any], options: Mapping[str, Any]) -> None:
    formats = [options.get("outputFormat"), optional_arg(args, 1)]
    _check_dates(options, formats, options.get("inputFormat"))


def now(call: Call) -> str:
    zone = _zone(call.hash.get("tz"))
    _check_locale(call.hash.get("locale"))
    fmt = call.hash.get("format", optional_arg(call.args, 0, "medium"))
    with _date_faults():
        return format_date(call.clock(), _style(fmt), zone)


def check_now(args: Sequence[Any], options: Mapping[str, Any]) -> None:
    _check_dates(options, [options.get("format"), optional_arg(args, 0)])
