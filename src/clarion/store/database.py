"""Opening the store: engine set-up per backend, read and write transactions, migrations."""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).with_name("migrations")


class Database:
    """One engine per process.

    On SQLite, writes take the write lock up front (BEGIN IMMEDIATE), so a read-modify-write
    such as an endpoint merge never interleaves with another writer, and writers of this process
    queue on a thread lock first: SQLite's own busy wait sleeps in steps of up to 100 ms. Reads
    run without a transaction, each statement seeing the last commit.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self.dialect = self.engine.dialect.name
        self._writer = self.engine.execution_options(clarion_write=True)
        self._reader: ContextVar[Connection | None] = ContextVar("clarion_reader", default=None)
        self._write_lock = (
            threading.Lock() if self.dialect == "sqlite" else contextlib.nullcontext()
        )

    @property
    def max_connections(self) -> int:
        """How many connections the pool opens at most (its size plus its overflow)."""
        return 2 * _POOL_SIZE[self.dialect == "sqlite"]

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads; inside an outer ``read()`` the same one is reused, so a
        request that reads several times checks out one connection."""
        current = self._reader.get()
        if current is not None:
            yield current
            return
        with self.engine.connect() as conn:
            token = self._reader.set(conn)
            try:
                yield conn
            finally:
                self._reader.reset(token)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._write_lock, self._writer.begin() as conn:
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest revision; safe to run from several processes."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.write() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7202604)"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


_POOL_SIZE = {True: 8, False: 10}
"""Connections kept open (and as many again on demand), by whether the store is SQLite."""


def _create_engine(url: str) -> Engine:
    json_codec: dict[str, Any] = {"json_serializer": _json, "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=_POOL_SIZE[True],
            max_overflow=_POOL_SIZE[True],
            **json_codec,
        )
        sa.event.listen(engine, "connect", _tune_sqlite)
        sa.event.listen(engine, "begin", _begin_sqlite)
        return engine
    return sa.create_engine(
        url,
        pool_size=_POOL_SIZE[False],
        max_overflow=_POOL_SIZE[False],
        pool_pre_ping=True,
        **json_codec,
    )


def _ensure_sqlite_dir(url: str) -> None:
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()
    install_sqlite_math(dbapi_connection)


def _begin_sqlite(conn: Connection) -> None:
    if conn.get_execution_options().get("clarion_write", False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def install_sqlite_math(connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the ``sin`` and ``cos`` GPS segment dimensions use, when its SQLite
    was built without math functions (they are optional before and since 3.35)."""
    try:
        connection.execute("SELECT sin(0), cos(0)")
    except sqlite3.OperationalError:
        connection.create_function("sin", 1, _nullable(math.sin), deterministic=True)
        connection.create_function("cos", 1, _nullable(math.cos), deterministic=True)


def _nullable(function: Callable[[float], float]) -> Callable[[float | None], float | None]:
    def call(value: float | None) -> float | None:
        return None if value is None else function(value)

    return call
