"""The demographic facets of an endpoint document, and how a write changes them.

A facet is a ``(dimension, value)`` pair the demographics report counts endpoints by: a
document field such as ``("Platform", "ios")``, or ``("Attributes.team", "red")`` once for each
distinct value of a custom attribute. The store keeps a count per facet current on every
endpoint write, so the report reads a few rows instead of every endpoint's document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

DOCUMENT_FIELDS: Final[Mapping[str, tuple[str, str]]] = {
    "Platform": ("Demographic", "Platform"),
    "AppVersion": ("Demographic", "AppVersion"),
    "Make": ("Demographic", "Make"),
    "Model": ("Demographic", "Model"),
    "Locale": ("Demographic", "Locale"),
    "Country": ("Location", "Country"),
}
ATTRIBUTE_PREFIX: Final = "Attributes."
MAX_VALUE_LENGTH: Final = 256
"""Longer values are left out: the facet key must stay within an index entry on PostgreSQL,
and only ``Locale`` is not already capped below this by the endpoint rules."""

Facet = tuple[str, str]


def facets_of(document: Mapping[str, Any] | None) -> set[Facet]:
    """Every facet ``document`` holds; none for a missing document."""
    if not document:
        return set()
    found: set[Facet] = set()
    for dimension, (section, field) in DOCUMENT_FIELDS.items():
        value = (document.get(section) or {}).get(field)
        if isinstance(value, str) and len(value) <= MAX_VALUE_LENGTH:
            found.add((dimension, value))
    for name, values in (document.get("Attributes") or {}).items():
        dimension = ATTRIBUTE_PREFIX + name
        found.update((dimension, value) for value in values if len(value) <= MAX_VALUE_LENGTH)
    return found


def facet_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[Facet, int]:
    """+1 for each facet ``after`` gains, -1 for each it loses; ``None`` is no endpoint, so an
    insert is ``(None, document)`` and a delete ``(document, None)``."""
    old, new = facets_of(before), facets_of(after)
    changes = dict.fromkeys(new - old, 1)
    changes.update(dict.fromkeys(old - new, -1))
    return changes
