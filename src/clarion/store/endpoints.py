"""Endpoint documents, with the columns later queries select on pulled out beside them.

``endpoint_id`` holds the lower-cased id (Pinpoint's endpoint ids are case-insensitive); the
document keeps the id as the client first wrote it.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.facets import Facet, facet_changes
from clarion.store.schema import attribute_names, endpoint_facets, endpoints

# Statements are built once: building them per call costs more than SQLite running them.
_IN_APP = endpoints.c.app_id == sa.bindparam("app_id")
_ONE_ENDPOINT = sa.select(endpoints).where(_IN_APP, endpoints.c.endpoint_id == sa.bindparam("key"))
_SOME_ENDPOINTS = sa.select(endpoints).where(
    _IN_APP, endpoints.c.endpoint_id.in_(sa.bindparam("keys", expanding=True))
)
_SOME_ENDPOINTS_LOCKED = _SOME_ENDPOINTS.with_for_update()
# unnest yields the array in order, so the locks are taken in the order given.
_ADVISORY_LOCKS = sa.text(
    "SELECT pg_advisory_xact_lock(lock_id) FROM unnest(CAST(:lock_ids AS bigint[])) AS lock_id"
)
_USER_ENDPOINTS = (
    sa.select(endpoints)
    .where(_IN_APP, endpoints.c.user_id == sa.bindparam("user_id"))
    .order_by(endpoints.c.ordinal)
)
_SHARING_ADDRESS = sa.select(endpoints).where(
    _IN_APP,
    endpoints.c.address == sa.bindparam("address"),
    endpoints.c.endpoint_id != sa.bindparam("key"),
    endpoints.c.endpoint_status != "INACTIVE",
)
_INSERT = endpoints.insert()
_REPLACE = endpoints.update().where(
    endpoints.c.app_id == sa.bindparam("b_app_id"),
    endpoints.c.endpoint_id == sa.bindparam("b_key"),
)
_ATTRIBUTE_NAMES = sa.select(attribute_names.c.kind, attribute_names.c.name).where(
    attribute_names.c.app_id == sa.bindparam("app_id")
)
_EMPTY_FACET = endpoint_facets.delete().where(
    endpoint_facets.c.app_id == sa.bindparam("app_id"),
    endpoint_facets.c.dimension == sa.bindparam("dimension"),
    endpoint_facets.c.value == sa.bindparam("value"),
    endpoint_facets.c.endpoints <= sa.literal_column("0"),
)


@dataclass(frozen=True)
class StoredEndpoint:
    key: str
    creation_date: str
    document: dict[str, Any]


def _stored(row: sa.Row[Any]) -> StoredEndpoint:
    return StoredEndpoint(row.endpoint_id, row.creation_date, dict(row.document))


def _columns(document: Mapping[str, Any]) -> dict[str, Any]:
    user = document.get("User") or {}
    return {
        "user_id": user.get("UserId") or None,
        "channel_type": document.get("ChannelType"),
        "address": document.get("Address"),
        "opt_out": document.get("OptOut"),
        "endpoint_status": document.get("EndpointStatus"),
        "document": dict(document),
    }


class EndpointRepository:
    """Reads outside a write transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, app_id: str, key: str) -> StoredEndpoint | None:
        with self.db.read() as conn:
            row = conn.execute(_ONE_ENDPOINT, {"app_id": app_id, "key": key}).first()
        return _stored(row) if row else None

    def get_many(self, app_id: str, keys: Iterable[str]) -> dict[str, StoredEndpoint]:
        """The endpoints among ``keys`` that exist, by key, in one query."""
        with self.db.read() as conn:
            rows = conn.execute(_SOME_ENDPOINTS, {"app_id": app_id, "keys": list(keys)})
            return {row.endpoint_id: _stored(row) for row in rows}

    def for_user(self, app_id: str, user_id: str) -> list[StoredEndpoint]:
        with self.db.read() as conn:
            return _for_user(conn, app_id, user_id)

    def members_after(
        self, app_id: str, condition: sa.ColumnElement[bool], after: int, limit: int
    ) -> list[tuple[int, StoredEndpoint]]:
        """The next ``limit`` endpoints of the app that meet ``condition`` (a segment's
        membership, ``sa.true()`` for all), by ordinal after ``after``: one range scan of the
        (app, ordinal) index. Campaign runs and exports walk a segment with it, resuming from
        the last ordinal they finished."""
        query = (
            sa.select(
                endpoints.c.ordinal,
                endpoints.c.endpoint_id,
                endpoints.c.creation_date,
                endpoints.c.document,
            )
            .where(endpoints.c.app_id == app_id, condition, endpoints.c.ordinal > after)
            .order_by(endpoints.c.ordinal)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [
                (
                    row.ordinal,
                    StoredEndpoint(row.endpoint_id, row.creation_date, dict(row.document)),
                )
                for row in conn.execute(query)
            ]

    def count_members(self, app_id: str, condition: sa.ColumnElement[bool]) -> int:
        with self.db.read() as conn:
            total: int = conn.execute(
                sa.select(sa.func.count())
                .select_from(endpoints)
                .where(endpoints.c.app_id == app_id, condition)
            ).scalar_one()
        return total


def members_among(
    conn: Connection,
    app_id: str,
    condition: sa.ColumnElement[bool],
    keys: Iterable[str],
) -> dict[str, dict[str, Any]]:
    """The documents of the endpoints among ``keys`` that meet ``condition``, by key, in the
    caller's transaction (event triggers decide inside PutEvents' own)."""
    query = sa.select(endpoints.c.endpoint_id, endpoints.c.document).where(
        endpoints.c.app_id == app_id, condition, endpoints.c.endpoint_id.in_(set(keys))
    )
    return {row.endpoint_id: dict(row.document) for row in conn.execute(query)}


class EndpointWriter:
    """One write transaction over an app's endpoints: lock, read, merge, write back."""

    def __init__(self, conn: Connection, app_id: str) -> None:
        self.conn = conn
        self.app_id = app_id
        self._summed: Counter[Facet] | None = None

    def lock(self, keys: Iterable[str]) -> dict[str, StoredEndpoint]:
        """The stored endpoints among ``keys``, each key locked until the transaction ends
        whether its endpoint exists yet or not.

        SQLite's write transactions run one at a time already. On PostgreSQL ``FOR UPDATE``
        cannot lock a row not inserted yet, so each key's advisory lock comes first: two first
        writes of one endpoint then queue, and the second merges into what the first stored
        instead of inserting it again. Every writer takes them in the same (sorted) order, so
        batches sharing endpoints cannot deadlock; the read follows in its own statement, so
        it sees what a writer it waited for committed.
        """
        wanted = list(keys)
        query = _SOME_ENDPOINTS
        if self.conn.dialect.name == "postgresql":
            lock_ids = sorted({_lock_id(self.app_id, key) for key in wanted})
            self.conn.execute(_ADVISORY_LOCKS, {"lock_ids": lock_ids})
            query = _SOME_ENDPOINTS_LOCKED
        rows = self.conn.execute(query, {"app_id": self.app_id, "keys": wanted})
        return {row.endpoint_id: _stored(row) for row in rows}

    def for_user(self, user_id: str) -> list[StoredEndpoint]:
        return _for_user(self.conn, self.app_id, user_id)

    def sharing_address(self, address: str, key: str) -> list[StoredEndpoint]:
        params = {"app_id": self.app_id, "address": address, "key": key}
        return [_stored(row) for row in self.conn.execute(_SHARING_ADDRESS, params)]

    def batches(self, size: int = 1000) -> Iterator[list[StoredEndpoint]]:
        """Every endpoint of the app, a batch at a time, so memory stays flat."""
        last = -1
        while True:
            query = (
                sa.select(endpoints)
                .where(endpoints.c.app_id == self.app_id, endpoints.c.ordinal > last)
                .order_by(endpoints.c.ordinal)
                .limit(size)
            )
            rows = list(self.conn.execute(query))
            if not rows:
                return
            last = rows[-1].ordinal
            yield [_stored(row) for row in rows]

    def attribute_names(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for kind, name in self.conn.execute(_ATTRIBUTE_NAMES, {"app_id": self.app_id}):
            found.setdefault(kind, set()).add(name)
        return found

    def add_attribute_names(self, names: Mapping[str, Iterable[str]]) -> None:
        rows: list[dict[str, Any]] = [
            {"app_id": self.app_id, "kind": kind, "name": name}
            for kind, kind_names in names.items()
            for name in kind_names
        ]
        if rows:
            self.conn.execute(_insert_new_names(self.conn.dialect.name == "postgresql"), rows)

    def remove_attribute_names(self, kind: str, names: Sequence[str]) -> None:
        self.conn.execute(
            attribute_names.delete().where(
                attribute_names.c.app_id == self.app_id,
                attribute_names.c.kind == kind,
                attribute_names.c.name.in_(names),
            )
        )

    def insert(self, key: str, creation_date: str, document: Mapping[str, Any]) -> None:
        self.conn.execute(
            _INSERT,
            {
                "app_id": self.app_id,
                "endpoint_id": key,
                "creation_date": creation_date,
                **_columns(document),
            },
        )
        self._count_facets(facet_changes(None, document))

    def replace(self, key: str, previous: Mapping[str, Any], document: Mapping[str, Any]) -> None:
        """Overwrite the endpoint stored as ``previous`` (the facet counts move by the
        difference between the two documents)."""
        self.conn.execute(_REPLACE, {"b_app_id": self.app_id, "b_key": key, **_columns(document)})
        self._count_facets(facet_changes(previous, document))

    def delete(self, key: str) -> StoredEndpoint | None:
        found = self.lock([key]).get(key)
        if found:
            self.conn.execute(
                endpoints.delete().where(
                    endpoints.c.app_id == self.app_id, endpoints.c.endpoint_id == key
                )
            )
            self._count_facets(facet_changes(found.document, None))
        return found

    def delete_user(self, user_id: str) -> list[StoredEndpoint]:
        found = _for_user(self.conn, self.app_id, user_id)
        if found:
            self.conn.execute(
                endpoints.delete().where(
                    endpoints.c.app_id == self.app_id, endpoints.c.user_id == user_id
                )
            )
            with self.summed_facets():
                for stored in found:
                    self._count_facets(facet_changes(stored.document, None))
        return found

    @contextmanager
    def summed_facets(self) -> Iterator[None]:
        """Sum the facet changes of the writes inside and apply them once, on the way out.

        A batch of endpoints then moves each facet row once rather than once per endpoint: on
        PostgreSQL every move of a row leaves a row version behind until the transaction ends,
        and a big batch would walk ever longer chains of them. On an error the sum is dropped,
        as the caller's transaction or savepoint drops the writes it described. Inside another
        such block, the sum goes into that block's.
        """
        outer, self._summed = self._summed, Counter()
        try:
            yield
            summed = self._summed
        finally:
            self._summed = outer
        self._count_facets(summed)

    def _count_facets(self, changes: Mapping[Facet, int]) -> None:
        if self._summed is None:
            self._write_facets(changes)
        else:
            self._summed.update(changes)

    def _write_facets(self, changes: Mapping[Facet, int]) -> None:
        """Move the facet counts by ``changes`` and drop the facets no endpoint holds any more.
        Rows go in key order, so concurrent writers on PostgreSQL lock them in the same order."""
        rows: list[dict[str, Any]] = [
            {"app_id": self.app_id, "dimension": dimension, "value": value, "endpoints": n}
            for (dimension, value), n in sorted(changes.items())
            if n
        ]
        if not rows:
            return
        add, prune = _facet_statements(self.conn.dialect.name == "postgresql")
        self.conn.exec_driver_sql(add, rows)
        emptied = [row for row in rows if row["endpoints"] < 0]
        if emptied:
            self.conn.exec_driver_sql(prune, emptied)


def _for_user(conn: Connection, app_id: str, user_id: str) -> list[StoredEndpoint]:
    params = {"app_id": app_id, "user_id": user_id}
    return [_stored(row) for row in conn.execute(_USER_ENDPOINTS, params)]


def _lock_id(app_id: str, key: str) -> int:
    """The endpoint's 64-bit advisory lock id; two endpoints sharing one only queue for each
    other."""
    digest = hashlib.blake2b(f"{app_id}/{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@functools.cache
def _insert_new_names(postgres: bool) -> Any:
    """INSERT of attribute names that skips the names stored already: writers of different
    endpoints may both find a name new, and on PostgreSQL run at the same time."""
    insert = postgresql.insert(attribute_names) if postgres else sqlite.insert(attribute_names)
    return insert.on_conflict_do_nothing()


@functools.cache
def _facet_statements(postgres: bool) -> tuple[str, str]:
    """(add to the counts, delete the emptied facets) as driver SQL with named parameters,
    built once per backend: endpoint writes run them straight through the driver, because
    SQLAlchemy's per-row parameter processing would cost more than the statements."""
    dialect: Any = postgresql.psycopg.dialect() if postgres else sqlite.dialect(paramstyle="named")  # type: ignore[no-untyped-call]
    insert = (postgresql.insert if postgres else sqlite.insert)(endpoint_facets)
    add = insert.on_conflict_do_update(
        index_elements=["app_id", "dimension", "value"],
        set_={"endpoints": endpoint_facets.c.endpoints + insert.excluded.endpoints},
    )
    return str(add.compile(dialect=dialect)), str(_EMPTY_FACET.compile(dialect=dialect))
