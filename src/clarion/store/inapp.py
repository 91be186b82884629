"""The read behind GetInAppMessages: an endpoint, and which of several segments hold it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.schema import endpoints


@dataclass(frozen=True)
class SegmentedEndpoint:
    document: dict[str, Any]
    within: list[bool]
    """Per segment condition asked about, in order, whether it holds the endpoint."""


class InAppRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def segmented_endpoint(
        self, app_id: str, key: str, conditions: Sequence[sa.ColumnElement[bool]]
    ) -> SegmentedEndpoint | None:
        """The endpoint stored under ``key`` and whether each segment condition (as the
        segment compiler makes them) holds it, in one query; None when there is no such
        endpoint."""
        flags = [
            sa.case((condition, 1), else_=0).label(f"member_{index}")
            for index, condition in enumerate(conditions)
        ]
        query = sa.select(endpoints.c.document, *flags).where(
            endpoints.c.app_id == app_id, endpoints.c.endpoint_id == key
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return SegmentedEndpoint(dict(row.document), [bool(flag) for flag in row[1:]])
