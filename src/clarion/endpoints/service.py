"""Endpoint operations. Each write is one transaction that locks, merges and writes back, so
concurrent updates to one endpoint never lose each other's fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clarion.clock import Clock, iso
from clarion.endpoints import rules
from clarion.errors import BadRequest, NotFound
from clarion.store.database import Database
from clarion.store.endpoints import EndpointRepository, EndpointWriter, StoredEndpoint


@dataclass(frozen=True)
class Update:
    endpoint_id: str
    request: Mapping[str, Any]
    path: str
    """Where the request sits in the input, for error messages."""
    kept: Mapping[str, str] = field(default_factory=dict)
    """CreationDate, CohortId and RequestId that an import carries over from a Pinpoint export,
    so an exported project loads back unchanged."""


def response(app_id: str, stored: StoredEndpoint) -> dict[str, Any]:
    """An EndpointResponse: the stored document plus the fields Pinpoint fills in."""
    endpoint_id = stored.document.get("Id", stored.key)
    return {
        **stored.document,
        "ApplicationId": app_id,
        "Id": endpoint_id,
        "CohortId": stored.document.get("CohortId")
        or rules.cohort_id(rules.endpoint_id_key(endpoint_id)),
        "CreationDate": stored.creation_date,
    }


class Endpoints:
    def __init__(self, db: Database, repo: EndpointRepository, clock: Clock) -> None:
        self.db = db
        self.repo = repo
        self.clock = clock

    def update(
        self, app_id: str, endpoint_id: str, request: Mapping[str, Any], request_id: str
    ) -> None:
        rules.validate_endpoint_id(endpoint_id)
        self._write(app_id, [Update(endpoint_id, request, "EndpointRequest")], request_id)

    def update_batch(
        self, app_id: str, items: Sequence[Mapping[str, Any]], request_id: str
    ) -> None:
        """All items or none: a bad item is named in the error and nothing is written."""
        if len(items) > rules.MAX_BATCH_ITEMS:
            raise BadRequest(
                f"EndpointBatchRequest.Item has {len(items)} items; at most "
                f"{rules.MAX_BATCH_ITEMS} endpoints can be updated in one request"
            )
        if not items:
            raise BadRequest("EndpointBatchRequest.Item must contain at least one endpoint")
        updates: dict[str, Update] = {}
        for index, item in enumerate(items):
            path = f"EndpointBatchRequest.Item[{index}]"
            endpoint_id = item.get("Id")
            if not endpoint_id:
                raise BadRequest(f"{path}.Id is required")
            rules.validate_endpoint_id(endpoint_id, path=f"{path}.Id")
            key = rules.endpoint_id_key(endpoint_id)
            if key in updates:
                raise BadRequest(f"{path}.Id {endpoint_id!r} appears more than once in the batch")
            updates[key] = Update(endpoint_id, item, path)
        self._write(app_id, list(updates.values()), request_id)

    def get(self, app_id: str, endpoint_id: str) -> dict[str, Any]:
        stored = self.repo.get(app_id, rules.endpoint_id_key(endpoint_id))
        if stored is None:
            raise NotFound(f"Endpoint not found: {endpoint_id}")
        return response(app_id, stored)

    def delete(self, app_id: str, endpoint_id: str) -> dict[str, Any]:
        with self.db.write() as conn:
            stored = EndpointWriter(conn, app_id).delete(rules.endpoint_id_key(endpoint_id))
        if stored is None:
            raise NotFound(f"Endpoint not found: {endpoint_id}")
        return response(app_id, stored)

    def for_user(self, app_id: str, user_id: str) -> list[dict[str, Any]]:
        found = self.repo.for_user(app_id, user_id)
        if not found:
            raise NotFound(f"No endpoints found for user {user_id}")
        return [response(app_id, stored) for stored in found]

    def delete_for_user(self, app_id: str, user_id: str) -> list[dict[str, Any]]:
        with self.db.write() as conn:
            found = EndpointWriter(conn, app_id).delete_user(user_id)
        if not found:
            raise NotFound(f"No endpoints found for user {user_id}")
        return [response(app_id, stored) for stored in found]

    def remove_attributes(
        self, app_id: str, attribute_type: str, blacklist: Sequence[str] | None
    ) -> dict[str, Any]:
        """RemoveAttributes: the names (exact or glob) leave the app and all its endpoints."""
        kind = rules.attribute_kind(attribute_type)
        with self.db.write() as conn:
            writer = EndpointWriter(conn, app_id)
            removed = sorted(
                rules.matching_attribute_names(writer.attribute_names().get(kind, set()), blacklist)
            )
            if removed:
                writer.remove_attribute_names(kind, removed)
                for batch in writer.batches():
                    with writer.summed_facets():
                        for stored in batch:
                            stripped = rules.remove_attributes(stored.document, kind, removed)
                            if stripped != stored.document:
                                writer.replace(stored.key, stored.document, stripped)
        return {"ApplicationId": app_id, "AttributeType": attribute_type, "Attributes": removed}

    def _write(self, app_id: str, updates: Sequence[Update], request_id: str) -> None:
        with self.db.write() as conn:
            self.apply(EndpointWriter(conn, app_id), updates, request_id)

    def apply(self, writer: EndpointWriter, updates: Sequence[Update], request_id: str) -> None:
        """Merge and store updates inside the caller's transaction (PutEvents uses this too)."""
        now = iso(self.clock())
        existing = writer.lock(rules.endpoint_id_key(u.endpoint_id) for u in updates)
        known = writer.attribute_names()
        added: dict[str, set[str]] = {}
        with writer.summed_facets():
            for update in updates:
                key = rules.endpoint_id_key(update.endpoint_id)
                before = existing.get(key)
                previous = before.document if before else None
                rules.validate_endpoint_request(update.request, path=update.path, existing=previous)
                document = rules.merge_endpoint(previous, update.request, now=now)
                document["Id"] = previous["Id"] if previous else update.endpoint_id
                document["RequestId"] = request_id
                document.update(update.kept)
                rules.validate_endpoint_document(document, path=update.path)
                self._make_room_for_user(writer, key, document)
                self._deactivate_same_address(writer, key, document)
                new_names = rules.count_new_attribute_keys(_union(known, added), document)
                for kind, names in new_names.items():
                    added.setdefault(kind, set()).update(names)
                if before is None:
                    writer.insert(key, update.kept.get("CreationDate", now), document)
                else:
                    writer.replace(key, before.document, document)
        rules.check_application_attribute_quota(known, added)
        writer.add_attribute_names(added)

    def apply_each(
        self, writer: EndpointWriter, updates: Sequence[Update], request_id: str
    ) -> list[tuple[Update, BadRequest]]:
        """Like ``apply``, but a bad update fails alone: all at once when all are valid (the
        usual case), else one by one under savepoints. Returns the refused updates."""
        try:
            with writer.conn.begin_nested():
                self.apply(writer, updates, request_id)
            return []
        except BadRequest:
            pass
        refused = []
        for update in updates:
            try:
                with writer.conn.begin_nested():
                    self.apply(writer, [update], request_id)
            except BadRequest as error:
                refused.append((update, error))
        return refused

    def _make_room_for_user(
        self, writer: EndpointWriter, key: str, document: Mapping[str, Any]
    ) -> None:
        """Pinpoint's 15-endpoints-per-user cap: refuse, or retire the oldest device token."""
        user_id = (document.get("User") or {}).get("UserId")
        if not user_id:
            return
        current = {stored.key: stored.document for stored in writer.for_user(user_id)}
        for evicted in rules.check_user_endpoint_quota(current, key, document):
            writer.replace(evicted, current[evicted], rules.detach_from_user(current[evicted]))

    def _deactivate_same_address(
        self, writer: EndpointWriter, key: str, document: Mapping[str, Any]
    ) -> None:
        """Pinpoint sets INACTIVE any other endpoint with the address just written."""
        address = document.get("Address")
        if not address:
            return
        for other in writer.sharing_address(address, key):
            writer.replace(
                other.key, other.document, {**other.document, "EndpointStatus": "INACTIVE"}
            )


def _union(first: Mapping[str, set[str]], second: Mapping[str, set[str]]) -> dict[str, set[str]]:
    return {kind: first.get(kind, set()) | second.get(kind, set()) for kind in {*first, *second}}
