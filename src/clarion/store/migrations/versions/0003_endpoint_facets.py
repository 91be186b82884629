"""Endpoint facets for the demographics report, and the events index the funnel report reads.

Revision ID: 0003
Revises: 0002

The backfill counts the facets of the endpoints already stored. It spells the facet rules out
as they stand at this revision (``clarion.store.facets``) rather than importing them, so
this migration keeps doing what it did when those rules change.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 5000
FIELDS = {
    "Platform": ("Demographic", "Platform"),
    "AppVersion": ("Demographic", "AppVersion"),
    "Make": ("Demographic", "Make"),
    "Model": ("Demographic", "Model"),
    "Locale": ("Demographic", "Locale"),
    "Country": ("Location", "Country"),
}
MAX_VALUE_LENGTH = 256

endpoints = sa.table(
    "endpoints",
    sa.column("ordinal", sa.BigInteger()),
    sa.column("app_id", sa.String()),
    sa.column("document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def upgrade() -> None:
    facets = op.create_table(
        "endpoint_facets",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("endpoints", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "dimension", "value", name=op.f("pk_endpoint_facets")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_app_type_time", ["app_id", "event_type", "timestamp_ms"], unique=False
        )
    _backfill(op.get_bind(), facets)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_app_type_time")
    op.drop_table("endpoint_facets")


def _backfill(conn: Connection, facets: sa.Table) -> None:
    """Add each batch's counts to the table, so memory stays flat however many endpoints."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(facets)
    add = insert.on_conflict_do_update(
        index_elements=["app_id", "dimension", "value"],
        set_={"endpoints": facets.c.endpoints + insert.excluded.endpoints},
    )
    for batch in _batches(conn):
        counts: Counter[tuple[str, str, str]] = Counter()
        for app_id, document in batch:
            counts.update((app_id, *facet) for facet in _facets(document))
        rows = [
            {"app_id": app_id, "dimension": dimension, "value": value, "endpoints": n}
            for (app_id, dimension, value), n in counts.items()
        ]
        if rows:
            conn.execute(add, rows)


def _batches(conn: Connection) -> Iterator[list[tuple[str, Any]]]:
    last = -1
    while True:
        rows = conn.execute(
            sa.select(endpoints.c.ordinal, endpoints.c.app_id, endpoints.c.document)
            .where(endpoints.c.ordinal > last)
            .order_by(endpoints.c.ordinal)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].ordinal
        yield [(row.app_id, row.document) for row in rows]


def _facets(document: Mapping[str, Any]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for dimension, (section, field) in FIELDS.items():
        value = (document.get(section) or {}).get(field)
        if isinstance(value, str) and len(value) <= MAX_VALUE_LENGTH:
            found.add((dimension, value))
    for name, values in (document.get("Attributes") or {}).items():
        found.update(
            (f"Attributes.{name}", value) for value in values if len(value) <= MAX_VALUE_LENGTH
        )
    return found
