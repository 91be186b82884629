"""Pinpoint's PageSize/Token paging: sizes checked one way everywhere, tokens opaque to clients
but tied to what they page through, so a token from one listing is refused by another."""

from __future__ import annotations

import base64
import binascii

from clarion.errors import BadRequest

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
