"""Overlapping endpoint write transactions, on SQLite and PostgreSQL: a writer that starts while
another has an uncommitted first write of the same endpoint (or of the same attribute name)
waits for it and then builds on it, rather than failing on the unique key or missing it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

from clarion.store.database import Database
from clarion.store.endpoints import EndpointWriter, StoredEndpoint
from clarion.store.schema import attribute_names

CREATED = "2026-01-01T00:00:00.000Z"
KIND = "endpoint-custom-attributes"
SETTLE_SECONDS = 0.3
"""Long enough for the second writer to reach the point where it must wait."""

T = TypeVar("T")


def while_uncommitted(
    db: Database, app_id: str, first: Callable[[EndpointWriter], None], second: Callable[[], T]
) -> T:
    """Run ``first`` in a write transaction, then ``second`` on another thread, and commit the
    first only once the second has had time to start; ``second``'s result."""
    started = threading.Event()

    def run_second() -> T:
        started.set()
        return second()

    with ThreadPoolExecutor(1) as pool:
        with db.write() as conn:
            first(EndpointWriter(conn, app_id))
            later = pool.submit(run_second)
            started.wait()
            time.sleep(SETTLE_SECONDS)
        return later.result(timeout=30)


def test_locking_a_new_endpoint_waits_for_its_creation(db: Database) -> None:
    app_id = f"app-{uuid.uuid4().hex}"

    def create(writer: EndpointWriter) -> None:
        assert writer.lock(["racer"]) == {}
        writer.insert("racer", CREATED, {"Id": "Racer"})

    def lock_again() -> StoredEndpoint | None:
        with db.write() as conn:
            return EndpointWriter(conn, app_id).lock(["racer"]).get("racer")

    found = while_uncommitted(db, app_id, create, lock_again)
    assert found is not None
    assert found.document == {"Id": "Racer"}


def test_two_writers_may_add_the_same_attribute_name(db: Database) -> None:
    app_id = f"app-{uuid.uuid4().hex}"

    def add_if_new(writer: EndpointWriter) -> None:
        """As endpoint writes do: add the names the app does not hold yet."""
        if "team" not in writer.attribute_names().get(KIND, set()):
            writer.add_attribute_names({KIND: ["team"]})

    def add_again() -> None:
        with db.write() as conn:
            add_if_new(EndpointWriter(conn, app_id))

    while_uncommitted(db, app_id, add_if_new, add_again)
    with db.read() as conn:
        stored = conn.execute(
            sa.select(attribute_names.c.kind, attribute_names.c.name).where(
                attribute_names.c.app_id == app_id
            )
        ).all()
    assert [tuple(row) for row in stored] == [(KIND, "team")]
