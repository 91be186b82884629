"""Pinpoint's PageSize/Token paging: sizes checked one way everywhere, tokens opaque to clients
but tied to what they page through, so a token from one listing is refused by another."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from clarion.errors import BadRequest
from clarion.numbers import INT32_MAX, INT64_MAX, MAX_VERSION, integer, whole_number
from clarion.store.versioned import VersionedRepository


class _Numbered(Protocol):
    @property
    def version(self) -> int: ...


T = TypeVar("T")
N = TypeVar("N", bound=_Numbered)

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


class VersionListings(Generic[N]):
    """The two listings of resources kept in versions (campaigns, segments): the app's
    resources in creation order, each at its latest version, and one resource's versions,
    oldest first, its tokens tied to that resource."""

    def __init__(
        self,
        listing: str,
        versions_listing: str,
        repo: VersionedRepository[N],
        item: Callable[[str, N], dict[str, Any]],
    ) -> None:
        self._listing = listing
        self._versions_listing = versions_listing
        self._repo = repo
        self._item = item

    def latest(self, app_id: str, size: str | None, token: str | None) -> dict[str, Any]:
        return page(
            self._listing,
            size,
            token,
            lambda after, limit: self._repo.page(app_id, after, limit),
            lambda row: row[0],
            lambda row: self._item(app_id, row[1]),
        )

    def versions(
        self, app_id: str, owner_id: str, size: str | None, token: str | None
    ) -> dict[str, Any]:
        return page(
            f"{self._versions_listing}:{owner_id}",
            size,
            token,
            lambda after, limit: self._repo.versions(app_id, owner_id, after, limit),
            lambda found: found.version,
            lambda found: self._item(app_id, found),
        )
