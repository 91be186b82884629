"""Pinpoint's PageSize/Token paging: sizes checked one way everywhere, tokens opaque to clients
but tied to what they page through, so a token from one listing is refused by another."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from clarion.errors import BadRequest
from clarion.numbers import INT32_MAX, INT64_MAX, MAX_VERSION, integer, whole_number

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_LARGEST_POSITIONS = {
    "apps": INT32_MAX,
    "campaign-versions": MAX_VERSION,
    "segment-versions": MAX_VERSION,
    "template-versions": MAX_VERSION,
}
"""Listings whose positions are INTEGER columns (apps.seq, versions), by the part of the listing
name before any ':'; the others page over BIGINT row numbers. A token's position must fit the
column, or the query comparing with it fails on PostgreSQL."""


def page_size(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    return whole_number(value, "PageSize", maximum=MAX_PAGE_SIZE)


def encode_token(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_token(kind: str, token: str | None) -> int:
    """The position after which the next page starts; 0 without a token."""
    if not token:
        return 0
    try:
        found, _, text = base64.urlsafe_b64decode(token.encode()).decode().rpartition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        found, text = "", ""
    largest = _LARGEST_POSITIONS.get(kind.partition(":")[0], INT64_MAX)
    position = integer(text, 0, largest) if found == kind else None
    if position is None:
        raise BadRequest(f"Token is not a token this listing issued: {token[:200]!r}")
    return position


def page(
    listing: str,
    size: str | None,
    token: str | None,
    fetch: Callable[[int, int], Sequence[T]],
    position: Callable[[T], int],
    item: Callable[[T], dict[str, Any]],
) -> dict[str, Any]:
    """One page of a listing: ``fetch(after, limit)`` reads one row more than the page holds,
    so a NextToken (the last row's ``position``) is given only when more rows follow."""
    limit = page_size(size)
    rows = fetch(decode_token(listing, token), limit + 1)
    result: dict[str, Any] = {"Item": [item(row) for row in rows[:limit]]}
    if len(rows) > limit:
        result["NextToken"] = encode_token(listing, position(rows[limit - 1]))
    return result
