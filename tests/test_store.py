"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from clarion.config import load_settings
from clarion.store.database import Database
from clarion.store.schema import metadata


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_schema(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    url = (
        load_settings(database_url=request.getfixturevalue("postgres_url")).sqlalchemy_url
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'clarion.db'}"
    )
    db = Database(url)
    try:
        db.migrate()
        db.migrate()
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        db.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'clarion.db'}")
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        db.dispose()
