"""Whole numbers written as strings in requests: page sizes, paging tokens, versions.

``str.isdigit()`` and ``int()`` take other scripts' digits (Arabic-Indic '٣', fullwidth ones),
``isdigit()`` even superscripts ('²') that ``int()`` then refuses; ``int()`` also takes spaces,
'+' and '_', and numbers of any size, which overflow the database column they are compared with.
So every numeric string a request carries is read here: ASCII digits only, within the range of
what it feeds.
"""

from __future__ import annotations

import re

from clarion.errors import BadRequest

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_VERSION = INT32_MAX
"""Template, segment and campaign versions are INTEGER columns."""

_INTEGER = re.compile(r"-?[0-9]+")


def integer(text: str, minimum: int, maximum: int) -> int | None:
    """The integer ``text`` spells in ASCII digits, optionally after '-', or None when it spells
    none or one outside ``minimum``..``maximum``; too many digits are refused unconverted."""
    if not _INTEGER.fullmatch(text):
        return None
    significant = len(text.lstrip("-").lstrip("0"))
    if significant > len(str(max(abs(minimum), abs(maximum)))):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def whole_number(text: str, name: str, *, minimum: int = 1, maximum: int = INT64_MAX) -> int:
    """``integer``, refused as a BadRequest that names the parameter and its range."""
    value = integer(text, minimum, maximum)
    if value is None:
        raise BadRequest(
            f"{name} must be a whole number from {minimum} to {maximum}; got {text[:100]!r}"
        )
    return value


def version_number(text: str, name: str) -> int:
    return whole_number(text, name, maximum=MAX_VERSION)
