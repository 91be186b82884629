"""Who is in a segment: its Dimensions and SegmentGroups composed into one SQL condition.

Pinpoint's SegmentGroups: each group takes its base segments (SourceSegments, combined by
SourceType ALL or ANY; every endpoint when it names none) and keeps the endpoints that match
its Dimensions list combined by Type (ALL, ANY or NONE); the groups are then combined by
Include (ALL, ANY or NONE). Base segments are expanded in place, at the version they name or
their latest, so the whole segment is still one query. An IMPORT segment (its definition has an
ImportDefinition) holds the endpoints its import jobs listed, and those of the users they listed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from clarion.errors import BadRequest
from clarion.segments.dimensions import compile_dimensions
from clarion.store.segments import imported_members

MAX_DEPTH = 5

Definition = Mapping[str, Any]
Resolve = Callable[[str, int | None], Definition | None]
"""The definition of a segment of the same app at a version (None: latest); None if absent."""


@dataclass(frozen=True)
class Scope:
    """What evaluating a segment needs beyond its definition."""

    app_id: str
    resolve: Resolve
    now_ms: int
    dialect: str


def condition(
    segment_id: str, definition: Definition, scope: Scope, depth: int = 0
) -> ColumnElement[bool]:
    if depth > MAX_DEPTH:
        raise BadRequest(f"Segments nest base segments at most {MAX_DEPTH} deep")
    parts: list[ColumnElement[bool]] = []
    if "ImportDefinition" in definition:
        parts.append(imported_members(scope.app_id, segment_id))
    if definition.get("Dimensions"):
        parts.append(_dimensions(definition["Dimensions"], scope))
    groups = definition.get("SegmentGroups") or {}
    if groups.get("Groups"):
        compiled = [_group(group, scope, depth) for group in groups["Groups"]]
        parts.append(_combine(groups.get("Include") or "ALL", compiled))
    return sa.and_(sa.true(), *parts)


def _dimensions(dimensions: Mapping[str, Any], scope: Scope) -> ColumnElement[bool]:
    return compile_dimensions(dimensions, now_ms=scope.now_ms, dialect=scope.dialect)


def _group(group: Mapping[str, Any], scope: Scope, depth: int) -> ColumnElement[bool]:
    bases = []
    for source in group.get("SourceSegments") or []:
        found = scope.resolve(source["Id"], source.get("Version"))
        if found is None:
            raise BadRequest(f"Base segment {source['Id']} no longer exists")
        bases.append(condition(source["Id"], found, scope, depth + 1))
    base = _combine(group.get("SourceType") or "ANY", bases) if bases else sa.true()
    filters = [_dimensions(dimensions, scope) for dimensions in group.get("Dimensions") or []]
    return sa.and_(base, _combine(group.get("Type") or "ALL", filters)) if filters else base


def _combine(how: str, parts: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    if not parts:
        return sa.true()
    if how == "ALL":
        return sa.and_(*parts)
    if how == "ANY":
        return sa.or_(*parts)
    return sa.not_(sa.or_(*parts))
