"""Endpoint documents, with the columns later queries select on pulled out beside them.

``endpoint_id`` holds the lower-cased id (Pinpoint's endpoint ids are case-insensitive); the
document keeps the id as the client first wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import attribute_names, endpoints

# Statements are built once: building them per call costs more than SQLite running them.
_IN_APP = endpoints.c.app_id == sa.bindparam("app_id")
_ONE_ENDPOINT = sa.select(endpoints).where(_IN_APP, endpoints.c.endpoint_id == sa.bindparam("key"))
_SOME_ENDPOINTS = sa.select(endpoints).where(
    _IN_APP, endpoints.c.endpoint_id.in_(sa.bindparam("keys", expanding=True))
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

    def for_user(self, app_id: str, user_id: str) -> list[StoredEndpoint]:
        with self.db.read() as conn:
            return _for_user(conn, app_id, user_id)


class EndpointWriter:
    """One write transaction over an app's endpoints: lock, read, merge, write back."""

    def __init__(self, conn: Connection, app_id: str) -> None:
        self.conn = conn
        self.app_id = app_id

    def lock(self, keys: Iterable[str]) -> dict[str, StoredEndpoint]:
        query = _SOME_ENDPOINTS
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = self.conn.execute(query, {"app_id": self.app_id, "keys": list(keys)})
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
        rows = [
            {"app_id": self.app_id, "kind": kind, "name": name}
            for kind, kind_names in names.items()
            for name in kind_names
        ]
        if rows:
            self.conn.execute(attribute_names.insert(), rows)

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

    def replace(self, key: str, document: Mapping[str, Any]) -> None:
        self.conn.execute(_REPLACE, {"b_app_id": self.app_id, "b_key": key, **_columns(document)})

    def delete(self, key: str) -> StoredEndpoint | None:
        found = self.lock([key]).get(key)
        if found:
            self.conn.execute(
                endpoints.delete().where(
                    endpoints.c.app_id == self.app_id, endpoints.c.endpoint_id == key
                )
            )
        return found

    def delete_user(self, user_id: str) -> list[StoredEndpoint]:
        found = _for_user(self.conn, self.app_id, user_id)
        if found:
            self.conn.execute(
                endpoints.delete().where(
                    endpoints.c.app_id == self.app_id, endpoints.c.user_id == user_id
                )
            )
        return found


def _for_user(conn: Connection, app_id: str, user_id: str) -> list[StoredEndpoint]:
    params = {"app_id": app_id, "user_id": user_id}
    return [_stored(row) for row in conn.execute(_USER_ENDPOINTS, params)]
