"""Pinpoint's endpoint file formats, read row by row: pure, no I/O beyond the stream given.

CSV: a header of dotted names (``Location.Country``, ``User.UserAttributes.FirstName``); a name
repeated in the header gives a custom attribute several values. JSON: one endpoint object per
line. Either may be gzip-compressed, as the files Pinpoint's export jobs wrote are; those files
carry ApplicationId, CohortId, CreationDate and RequestId too, and an import keeps the last three
so an exported project loads back unchanged.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import orjson

from clarion.channels.kinds import ChannelType

CHANNEL_TYPES = frozenset(ChannelType)
_STRINGS = ("Address", "ChannelType", "EffectiveDate", "EndpointStatus", "Id", "OptOut")
KEPT = ("CohortId", "CreationDate", "RequestId")
"""Fields the server fills in that an import of an export file carries over."""
_IGNORED = ("ApplicationId",)
_DEMOGRAPHIC = (
    "AppVersion",
    "Locale",
    "Make",
    "Model",
    "ModelVersion",
    "Platform",
    "PlatformVersion",
    "Timezone",
)
_LOCATION_TEXT = ("City", "Country", "PostalCode", "Region")
_LOCATION_NUMBERS = ("Latitude", "Longitude")
_GZIP_MAGIC = b"\x1f\x8b"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class PieceError(Exception):
    """The whole file is unusable (bad header, not text); none of its rows are read."""


class RowError(Exception):
    """One row is unusable; the rows around it are not affected."""


@dataclass(frozen=True)
class Imported:
    """One row as an endpoint update: ``endpoint_id`` None for a new endpoint (the importer
    names it) or for a row that lists a user only."""

    endpoint_id: str | None
    request: dict[str, Any]
    kept: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> str | None:
        user_id = (self.request.get("User") or {}).get("UserId")
        return user_id if isinstance(user_id, str) and user_id else None

    @property
    def lists_user_only(self) -> bool:
        """A row naming just a user: the segment gets every endpoint of that user."""
        return self.endpoint_id is None and set(self.request) <= {"User"} and bool(self.user_id)


def rows(stream: Readable, file_format: str) -> Iterator[tuple[int, Imported | RowError]]:
    """(row number from 1, the row or why it was refused) for each row of a file."""
    text = _text(stream)
    if file_format == "CSV":
        yield from _csv_rows(text)
    else:
        yield from _json_rows(text)


def _text(stream: Readable) -> IO[str]:
    buffered = io.BufferedReader(_Raw(stream), 1 << 20)
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        buffered = io.BufferedReader(_Raw(gzip.GzipFile(fileobj=buffered)), 1 << 20)
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="strict", newline="")


class _Raw(io.RawIOBase):
    """Any object with ``read(n)`` (an S3 body, an HTTP stream, a file) as a raw stream."""

    def __init__(self, stream: Readable) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _lines(text: IO[str]) -> Iterator[str]:
    try:
        yield from text
    except UnicodeDecodeError as error:
        raise PieceError(f"the file is not UTF-8 text ({error.reason})") from None
    except (OSError, EOFError) as error:
        raise PieceError(f"the file could not be read: {error}") from None


def _json_rows(text: IO[str]) -> Iterator[tuple[int, Imported | RowError]]:
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield number, RowError(f"line {number} is not JSON: {error}")
            continue
        yield number, _imported_or_error(record, f"line {number}")


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, Imported | RowError]]:
    reader = csv.reader(_lines(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise PieceError(f"the CSV header cannot be read: {error}") from None
    columns = [_column(name.strip()) for name in header]
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            number += 1
            yield number, RowError(f"row {number} is not valid CSV: {error}")
            continue
        number += 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            yield (
                number,
                RowError(f"row {number} has {len(cells)} fields; the header has {len(columns)}"),
            )
            continue
        try:
            record = _record(columns, cells)
        except RowError as error:
            yield number, RowError(f"row {number}: {error}")
            continue
        yield number, _imported_or_error(record, f"row {number}")


def _column(name: str) -> tuple[str, ...]:
    path = tuple(name.split("."))
    top = path[0]
    if len(path) == 1 and top in (*_STRINGS, *KEPT, *_IGNORED):
        return path
    if len(path) == 2 and (
        top in ("Attributes", "Metrics")
        or (top == "Demographic" and path[1] in _DEMOGRAPHIC)
        or (top == "Location" and path[1] in (*_LOCATION_TEXT, *_LOCATION_NUMBERS))
        or path == ("User", "UserId")
    ):
        return path
    if len(path) == 3 and path[:2] == ("User", "UserAttributes"):
        return path
    raise PieceError(f"the CSV header names {name!r}, which is not an endpoint field")


def _record(columns: list[tuple[str, ...]], cells: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for path, cell in zip(columns, cells, strict=True):
        if cell == "":
            continue
        name = ".".join(path)
        if path[0] == "Metrics" or path[-1] in _LOCATION_NUMBERS:
            value: Any = _number(cell, name)
        else:
            value = cell
        parent = record
        for key in path[:-1]:
            parent = parent.setdefault(key, {})
        if path[0] == "Attributes" or path[:2] == ("User", "UserAttributes"):
            parent.setdefault(path[-1], []).append(value)
        elif path[-1] in parent:
            raise RowError(f"{name} is given twice")
        else:
            parent[path[-1]] = value
    return record


def _number(cell: str, name: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise RowError(f"{name} must be a number; got {cell!r}") from None
    if not math.isfinite(value):
        raise RowError(f"{name} must be a finite number; got {cell!r}")
    return value


def _imported_or_error(record: Any, where: str) -> Imported | RowError:
    try:
        return imported(record)
    except RowError as error:
        return RowError(f"{where}: {error}")


def imported(record: Any) -> Imported:
    """Check a record's fields and types (the endpoint rules proper come later, on write)."""
    if not isinstance(record, Mapping):
        raise RowError("an endpoint must be a JSON object")
    request: dict[str, Any] = {}
    kept: dict[str, str] = {}
    for name, value in record.items():
        if value is None or name in _IGNORED:
            continue
        if name in _STRINGS or name in KEPT:
            _check_string(value, name)
            (kept if name in KEPT else request)[name] = value
        elif name in ("Attributes", "Metrics", "Demographic", "Location", "User"):
            request[name] = _CHECKS[name](value, name)
        else:
            raise RowError(f"{name!r} is not an endpoint field")
    channel = request.get("ChannelType")
    if channel is not None and channel not in CHANNEL_TYPES:
        raise RowError(f"ChannelType {channel!r} is not one of {', '.join(sorted(CHANNEL_TYPES))}")
    endpoint_id = request.pop("Id", None)
    result = Imported(endpoint_id, request, kept)
    if (
        endpoint_id is None
        and not result.lists_user_only
        and not (request.get("Address") and channel)
    ):
        raise RowError("a new endpoint needs ChannelType and Address (or give its Id)")
    return result


def _check_string(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise RowError(f"{name} must be a string")


def _check_object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RowError(f"{name} must be an object")
    return value


def _string_lists(value: Any, name: str) -> dict[str, list[str]]:
    checked: dict[str, list[str]] = {}
    for key, values in _check_object(value, name).items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise RowError(f"{name}.{key} must be a list of strings")
        checked[key] = values
    return checked


def _metrics(value: Any, name: str) -> dict[str, float]:
    checked: dict[str, float] = {}
    for key, number in _check_object(value, name).items():
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise RowError(f"{name}.{key} must be a number")
        checked[key] = number
    return checked


def _fields(
    value: Any, name: str, text: tuple[str, ...], numbers: tuple[str, ...] = ()
) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, item in _check_object(value, name).items():
        if item is None:
            continue
        if key in text:
            _check_string(item, f"{name}.{key}")
        elif key in numbers:
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise RowError(f"{name}.{key} must be a number")
        else:
            raise RowError(f"{name}.{key} is not an endpoint field")
        checked[key] = item
    return checked


def _demographic(value: Any, name: str) -> dict[str, Any]:
    return _fields(value, name, _DEMOGRAPHIC)


def _location(value: Any, name: str) -> dict[str, Any]:
    return _fields(value, name, _LOCATION_TEXT, _LOCATION_NUMBERS)


def _user(value: Any, name: str) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, item in _check_object(value, name).items():
        if item is None:
            continue
        if key == "UserId":
            _check_string(item, f"{name}.UserId")
            checked[key] = item
        elif key == "UserAttributes":
            checked[key] = _string_lists(item, f"{name}.UserAttributes")
        else:
            raise RowError(f"{name}.{key} is not an endpoint field")
    return checked


_CHECKS = {
    "Attributes": _string_lists,
    "Metrics": _metrics,
    "Demographic": _demographic,
    "Location": _location,
    "User": _user,
}
