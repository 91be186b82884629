"""Pinpoint's PageSize/Token paging: sizes checked one way everywhere, tokens opaque to clients
but tied to what they page through, so a token from one listing is refused by another."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from clarion.errors import BadRequest

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise BadRequest(
            f"PageSize must be a whole number from 1 to {MAX_PAGE_SIZE}; got {value!r}"
        )
    return int(value)


def encode_token(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_token(kind: str, token: str | None) -> int:
    """The position after which the next page starts; 0 without a token."""
    if not token:
        return 0
    try:
        found, _, position = base64.urlsafe_b64decode(token.encode()).decode().rpartition(":")
        if found == kind and position.isdigit():
            return int(position)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise BadRequest(f"Token is not a token this listing issued: {token!r}")


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
