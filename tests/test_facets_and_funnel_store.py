"""Endpoint facet counts and the funnel's reads of raw events, on SQLite and PostgreSQL.

The facet table must always equal a recount of the stored endpoint documents, whatever the
endpoint writes (including the migration's backfill of endpoints stored before it); the funnel
must read exactly the events that decide it, through the (app, event type, time) index.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from clarion.analytics import reports
from clarion.config import load_settings
from clarion.endpoints.service import Endpoints
from clarion.errors import BadRequest, NotFound
from clarion.store import analytics
from clarion.store.apps import AppRepository
from clarion.store.database import MIGRATIONS, Database
from clarion.store.endpoints import EndpointRepository, EndpointWriter
from clarion.store.facets import facets_of
from clarion.store.schema import endpoint_facets, endpoints, events
from tests.conftest import DEFAULT_PG

CREATED = "2026-01-01T00:00:00.000Z"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")
    return str(request.param)


@pytest.fixture
def empty_db(backend: str, tmp_path: Any) -> Iterator[Database]:
    """A database of its own, not yet migrated."""
    if backend == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'clarion.db'}")
        yield database
        database.dispose()
        return
    admin_url = os.environ.get("CLARION_TEST_DATABASE_URL", DEFAULT_PG)
    name = f"clarion_facets_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    database = Database(load_settings(database_url=f"{base}/{name}").sqlalchemy_url)
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(empty_db: Database) -> Database:
    empty_db.migrate()
    return empty_db


def migrate_to(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def stored_facets(db: Database, app_id: str) -> Counter[tuple[str, str]]:
    with db.read() as conn:
        return facets_seen_by(conn, app_id)


def facets_seen_by(conn: Connection, app_id: str) -> Counter[tuple[str, str]]:
    query = sa.select(
        endpoint_facets.c.dimension, endpoint_facets.c.value, endpoint_facets.c.endpoints
    ).where(endpoint_facets.c.app_id == app_id)
    rows = conn.execute(query).all()
    assert all(count > 0 for _, _, count in rows), "a facet no endpoint holds is kept"
    return Counter({(dimension, value): count for dimension, value, count in rows})


def recount(db: Database, app_id: str) -> Counter[tuple[str, str]]:
    with db.read() as conn:
        documents = conn.execute(
            sa.select(endpoints.c.document).where(endpoints.c.app_id == app_id)
        ).scalars()
        return Counter(facet for document in documents for facet in facets_of(document))


# --- Facets ---------------------------------------------------------------------------------


def random_request(rng: random.Random) -> dict[str, Any]:
    """A partial endpoint update: some demographics, a location, attributes, maybe a user (a
    user's 16th push endpoint evicts the oldest) and a shared address (which deactivates the
    others that have it)."""
    request: dict[str, Any] = {}
    if rng.random() < 0.7:
        request["Demographic"] = {
            field: rng.choice(values)
            for field, values in (
                ("Platform", ["ios", "android"]),
                ("AppVersion", ["1.0", "2.0"]),
                ("Model", ["a", "b", "c"]),
            )
            if rng.random() < 0.6
        }
    if rng.random() < 0.4:
        request["Location"] = {"Country": rng.choice(["FR", "US"])}
    if rng.random() < 0.6:
        request["Attributes"] = {
            name: rng.sample(["red", "blue", "green"], rng.randrange(0, 3))
            for name in rng.sample(["team", "tier"], rng.randrange(1, 3))
        }
    if rng.random() < 0.5:
        request["User"] = {"UserId": rng.choice(["u1", "u2"])}
    if rng.random() < 0.5:
        channel, address = rng.choice([("EMAIL", "a@x.com"), ("GCM", "t1"), ("GCM", "t2")])
        request.update(ChannelType=channel, Address=address)
    return request


def write_randomly(service: Endpoints, app_id: str, rng: random.Random, step: int) -> None:
    """One endpoint write of any kind; a write the rules refuse must leave the counts alone."""
    endpoint_id = f"Device-{rng.randrange(40)}"
    roll = rng.random()
    try:
        if roll < 0.55:
            service.update(app_id, endpoint_id, random_request(rng), f"r{step}")
        elif roll < 0.7:
            items = [{"Id": f"device-{n}", **random_request(rng)} for n in rng.sample(range(40), 5)]
            service.update_batch(app_id, items, f"r{step}")
        elif roll < 0.85:
            service.delete(app_id, endpoint_id)
        elif roll < 0.93:
            service.delete_for_user(app_id, rng.choice(["u1", "u2"]))
        else:
            service.remove_attributes(app_id, "endpoint-custom-attributes", ["tier"])
    except (BadRequest, NotFound):
        pass


def test_facets_follow_every_endpoint_write(db: Database) -> None:
    app_id, neighbour = f"app-{uuid.uuid4().hex}", f"app-{uuid.uuid4().hex}"
    service = Endpoints(db, EndpointRepository(db), lambda: datetime.fromisoformat(CREATED))
    rng = random.Random(5)
    for step in range(400):
        write_randomly(service, app_id, rng, step)
        if step % 20 == 0:
            write_randomly(service, neighbour, rng, step)
            assert stored_facets(db, app_id) == recount(db, app_id), step
    assert stored_facets(db, app_id) == recount(db, app_id)
    assert stored_facets(db, neighbour) == recount(db, neighbour)
    models = reports.demographics(db, app_id, "Model")
    assert {row["Value"]: row["Endpoints"] for row in models} == {
        value: n for (dimension, value), n in recount(db, app_id).items() if dimension == "Model"
    }


def test_summed_changes_are_written_once_at_the_end_or_dropped_with_an_error(
    db: Database,
) -> None:
    app_id = f"app-{uuid.uuid4().hex}"
    ios, android = {"Demographic": {"Platform": "ios"}}, {"Demographic": {"Platform": "android"}}
    with db.write() as conn:
        writer = EndpointWriter(conn, app_id)
        with writer.summed_facets():
            writer.insert("a", CREATED, ios)
            with writer.summed_facets():
                writer.insert("b", CREATED, ios)
            assert facets_seen_by(conn, app_id) == Counter()
        assert facets_seen_by(conn, app_id) == {("Platform", "ios"): 2}
        with pytest.raises(BadRequest), conn.begin_nested(), writer.summed_facets():
            writer.insert("c", CREATED, android)
            raise BadRequest("refused")
        writer.replace("b", ios, android)
    assert stored_facets(db, app_id) == {("Platform", "ios"): 1, ("Platform", "android"): 1}
    assert stored_facets(db, app_id) == recount(db, app_id)


def test_deleting_the_app_deletes_its_facets(db: Database) -> None:
    app_id = f"app-{uuid.uuid4().hex}"
    Endpoints(db, EndpointRepository(db), lambda: datetime.fromisoformat(CREATED)).update(
        app_id, "e1", {"Demographic": {"Platform": "ios"}}, "r"
    )
    assert stored_facets(db, app_id) == {("Platform", "ios"): 1}
    AppRepository(db).delete(app_id)
    assert stored_facets(db, app_id) == Counter()


def test_the_migration_counts_the_endpoints_stored_before_it(empty_db: Database) -> None:
    migrate_to(empty_db, "0002")
    rng = random.Random(11)
    apps = [f"app-{n}" for n in range(3)]
    rows = [
        {
            "app_id": rng.choice(apps),
            "endpoint_id": f"e{n}",
            "creation_date": CREATED,
            "document": random_request(rng),
        }
        for n in range(5_200)
    ]
    with empty_db.write() as conn:
        conn.execute(endpoints.insert(), rows)
    migrate_to(empty_db, "0003")
    for app_id in apps:
        assert stored_facets(empty_db, app_id) == recount(empty_db, app_id)
    assert recount(empty_db, apps[0])


# --- Funnel ---------------------------------------------------------------------------------

START = date(2026, 11, 1)
END = date(2026, 11, 7)
STEPS = ("view", "cart", "buy")
WINDOW_SECONDS = 6 * 3600


def random_events(rng: random.Random, app_id: str) -> list[dict[str, Any]]:
    """Events from two days before the range to two days after, some at the same second."""
    first = datetime.combine(START - timedelta(days=2), datetime.min.time(), UTC)
    rows = []
    for n in range(1500):
        endpoint = f"e{rng.randrange(25)}"
        moment = first + timedelta(seconds=rng.randrange(11 * 86_400) // 7 * 7)
        rows.append(
            {
                "app_id": app_id,
                "endpoint_key": endpoint,
                "event_id": f"{n}",
                "event_type": rng.choice([*STEPS, "other"]),
                "timestamp_ms": int(moment.timestamp() * 1000),
                "arrival_ms": 0,
                "day": moment.date().isoformat(),
                "session_id": None,
                "event": {},
            }
        )
    return rows


def test_funnel_reads_the_events_that_decide_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's answer equals the pure count over every event of the app: events before the
    range or past the window, and other types, change nothing, so reading fewer is exact."""
    monkeypatch.setattr(analytics, "STEP_EVENTS_CHUNK", 7)
    app_id = f"app-{uuid.uuid4().hex}"
    rng = random.Random(3)
    recorded = random_events(rng, app_id)
    with db.write() as conn:
        conn.execute(events.insert(), recorded + random_events(rng, f"other-{app_id}"))
    everything = sorted(
        ((r["endpoint_key"], r["event_type"], r["timestamp_ms"]) for r in recorded),
        key=lambda event: (event[0], event[2]),
    )
    start_ms = int(datetime.combine(START, datetime.min.time(), UTC).timestamp() * 1000)
    plan = reports.Funnel(STEPS, start_ms, start_ms + 7 * 86_400_000, WINDOW_SECONDS * 1000)
    expected = reports.funnel_rows(STEPS, plan.reached(everything))
    assert expected[1]["Endpoints"] > 0
    assert reports.funnel(db, app_id, START, END, STEPS, WINDOW_SECONDS) == expected


def test_funnel_query_uses_the_event_type_and_time_index(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL's plan depends on table statistics; SQLite's does not")
    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if "events.timestamp_ms" in statement:
            sent.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        reports.funnel(db, "app", START, END, STEPS, WINDOW_SECONDS)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    [(statement, parameters)] = sent
    with db.read() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert "ix_events_app_type_time" in " ".join(row[-1] for row in plan)
