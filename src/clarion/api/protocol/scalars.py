"""Values of single model shapes: the spec base class, its error, and the scalar types.

A spec turns untrusted JSON (or a path/query/header string) into validated Python data and
turns handler output back into JSON that botocore's rest-json parser accepts. Container specs
and the compiler that builds specs from a botocore model live in ``shapes``.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from clarion.numbers import integer

_DECIMAL_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}


def json_type_name(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


class InvalidValue(Exception):
    """A value that breaks its shape; containers add their path segment as it propagates.

    Building the path only on failure keeps the happy path free of string work.
    """

    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(problem, detail)
        self.problem = problem
        self.detail = detail
        self._segments: list[str] = []

    @classmethod
    def missing(cls) -> InvalidValue:
        return cls("Missing required parameter")

    @classmethod
    def wrong_type(cls, expected: str, value: object) -> InvalidValue:
        got = json_type_name(value)
        return cls("Invalid type for parameter", f"expected {expected}, got {got}")

    @classmethod
    def bad_text(cls, expected: str, text: str) -> InvalidValue:
        return cls("Invalid value for parameter", f"expected {expected}, got {text[:100]!r}")

    def at(self, segment: str) -> InvalidValue:
        """Record one more enclosing path segment (innermost first)."""
        self._segments.append(segment)
        return self

    def describe(self) -> str:
        path = "".join(reversed(self._segments)).lstrip(".")
        return f"{self.problem} {path}: {self.detail}" if self.detail else f"{self.problem} {path}"


class ValueSpec:
    """How one model shape is read from requests and written to responses."""

    type_label = "value"
    passthrough = False
    """True when ``write`` returns its argument unchanged, so callers may skip the call."""

    def read_json(self, value: object) -> Any:
        raise NotImplementedError

    def read_text(self, text: str) -> Any:
        """Read a value that arrived as a string (path label, query parameter or header)."""
        raise InvalidValue.bad_text(self.type_label, text)

    def write(self, value: Any) -> Any:
        return value

    def write_text(self, value: Any) -> str:
        return str(value)


def check_bounds(size: float, minimum: float | None, maximum: float | None, what: str) -> None:
    if minimum is not None and size < minimum:
        raise InvalidValue("Invalid value for parameter", f"{what} {size} is below {minimum}")
    if maximum is not None and size > maximum:
        raise InvalidValue("Invalid value for parameter", f"{what} {size} is above {maximum}")


class StringSpec(ValueSpec):
    type_label = "string"
    passthrough = True

    def __init__(self, enum: Iterable[str] | None, minimum: int | None, maximum: int | None):
        self.enum = frozenset(enum) if enum else None
        self.allowed = ", ".join(enum) if enum else ""
        self.minimum = minimum
        self.maximum = maximum

    def read_json(self, value: object) -> str:
        if not isinstance(value, str):
            raise InvalidValue.wrong_type("string", value)
        return self.read_text(value)

    def read_text(self, text: str) -> str:
        if self.enum is not None and text not in self.enum:
            detail = f"{text[:100]!r} is not one of: {self.allowed}"
            raise InvalidValue("Invalid value for parameter", detail)
        if self.minimum is not None or self.maximum is not None:
            check_bounds(len(text), self.minimum, self.maximum, "length")
        return text


class IntegerSpec(ValueSpec):
    passthrough = True

    def __init__(self, type_label: str, bits: int, minimum: int | None, maximum: int | None):
        self.type_label = type_label
        self.minimum = -(2 ** (bits - 1)) if minimum is None else minimum
        self.maximum = 2 ** (bits - 1) - 1 if maximum is None else maximum

    def read_json(self, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidValue.wrong_type(self.type_label, value)
        check_bounds(value, self.minimum, self.maximum, "value")
        return value

    def read_text(self, text: str) -> int:
        value = integer(text, self.minimum, self.maximum)
        if value is None:
            expected = f"{self.type_label} from {self.minimum} to {self.maximum}"
            raise InvalidValue.bad_text(expected, text)
        return value


class FloatSpec(ValueSpec):
    passthrough = True

    def __init__(self, type_label: str, minimum: float | None, maximum: float | None):
        self.type_label = type_label
        self.minimum = minimum
        self.maximum = maximum

    def read_json(self, value: object) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidValue.wrong_type(self.type_label, value)
        try:
            number = float(value)
        except OverflowError:
            raise InvalidValue.bad_text(self.type_label, str(value)) from None
        if not math.isfinite(number):
            raise InvalidValue.bad_text(self.type_label, str(value))
        check_bounds(number, self.minimum, self.maximum, "value")
        return number

    def read_text(self, text: str) -> float:
        if not _DECIMAL_TEXT.fullmatch(text):
            raise InvalidValue.bad_text(self.type_label, text)
        return self.read_json(float(text))


class BooleanSpec(ValueSpec):
    type_label = "boolean"
    passthrough = True

    def read_json(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise InvalidValue.wrong_type("boolean", value)
        return value

    def read_text(self, text: str) -> bool:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise InvalidValue.bad_text("true or false", text)
        return lowered == "true"

    def write_text(self, value: Any) -> str:
        return "true" if value else "false"


class TimestampSpec(ValueSpec):
    """Timestamps are read leniently (ISO 8601, epoch seconds, RFC 822) into aware UTC datetimes.

    They are written in the shape's ``timestampFormat``, defaulting to what rest-json uses for
    the location: epoch seconds in bodies, RFC 822 in headers.
    """

    type_label = "timestamp"

    def __init__(self, timestamp_format: str | None) -> None:
        self.timestamp_format = timestamp_format.lower() if timestamp_format else None

    def read_json(self, value: object) -> datetime:
        if isinstance(value, str):
            return self.read_text(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _from_epoch(value, str(value))
        raise InvalidValue.wrong_type("timestamp (ISO 8601 string or epoch seconds)", value)

    def read_text(self, text: str) -> datetime:
        for parse in (datetime.fromisoformat, _parse_epoch_text, email.utils.parsedate_to_datetime):
            try:
                return _as_utc(parse(text))
            except (ValueError, TypeError, IndexError, OverflowError, OSError):
                continue
        raise InvalidValue.bad_text("an ISO 8601 timestamp", text)

    def write(self, value: Any) -> Any:
        return _format_timestamp(_to_datetime(value), self.timestamp_format or "unixtimestamp")

    def write_text(self, value: Any) -> str:
        return str(_format_timestamp(_to_datetime(value), self.timestamp_format or "rfc822"))


def _parse_epoch_text(text: str) -> datetime:
    if not _DECIMAL_TEXT.fullmatch(text):
        raise ValueError(text)
    return datetime.fromtimestamp(float(text), UTC)


def _from_epoch(seconds: float, original: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidValue.bad_text("a timestamp", original) from None


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return _as_utc(datetime.fromisoformat(value))
    raise TypeError(f"cannot write {type(value).__name__} as a timestamp")


def _format_timestamp(moment: datetime, timestamp_format: str) -> float | int | str:
    if timestamp_format == "iso8601":
        return _iso8601(moment)
    if timestamp_format == "rfc822":
        return email.utils.format_datetime(moment, usegmt=True)
    return moment.timestamp() if moment.microsecond else int(moment.timestamp())


def _iso8601(moment: datetime) -> str:
    whole_seconds = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micros = moment.microsecond
    if not micros:
        return whole_seconds + "Z"
    if micros % 1000 == 0:
        return f"{whole_seconds}.{micros // 1000:03d}Z"
    return f"{whole_seconds}.{micros:06d}Z"


class BlobSpec(ValueSpec):
    """Blobs travel as base64 text in JSON and are handed to handlers as bytes."""

    type_label = "blob"

    def read_json(self, value: object) -> bytes:
        if not isinstance(value, str):
            raise InvalidValue.wrong_type("base64 string", value)
        return self.read_text(value)

    def read_text(self, text: str) -> bytes:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidValue.bad_text("base64 data", text) from None

    def write(self, value: Any) -> str:
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")

    def write_text(self, value: Any) -> str:
        return self.write(value)
