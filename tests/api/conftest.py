"""Fixtures of the tests that run a server on a clock they move (see campaign_harness)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite; for PostgreSQL a schema of its own in the session's test database, so
    that no other test's server, whose engines run on the real clock, plans or moves what this
    test made."""
    if request.param == "sqlite":
        yield None
        return
    base: str = request.getfixturevalue("postgres_url")
    schema = f"clock_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
