"""PutEvents: validate each event on its own, upsert endpoints, store events durably and fold
them into the rollups — all in one transaction, committed before the 202 goes out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from clarion.clock import Clock, epoch_ms
from clarion.endpoints import rules as endpoint_rules
from clarion.endpoints.service import Endpoints, Update
from clarion.errors import BadRequest, PayloadTooLarge
from clarion.events import messages, rules
from clarion.events.sessions import track
from clarion.store import analytics
from clarion.store.database import Database
from clarion.store.endpoints import EndpointWriter
from clarion.store.events import Activity, EventWriter
from clarion.store.rollups import Rollup, SessionState

ACCEPTED = {"Message": "Accepted", "StatusCode": 202}


def _refused(message: str) -> dict[str, Any]:
    return {"Message": message, "StatusCode": 400}


@dataclass(frozen=True)
class Accepted:
    endpoint_id: str
    endpoint_key: str
    event_id: str
    event: Mapping[str, Any]
    timestamp_ms: int


class Triggers(Protocol):
    """What PutEvents tells about the events it stored (event-triggered campaigns)."""

    def queue(self, conn: Any, app_id: str, accepted: Sequence[Accepted]) -> int:
        """Queue the messages these events trigger, in the events' transaction; how many."""

    def wake(self) -> None:
        """Queued messages have committed: send them now."""


class Events:
    def __init__(self, db: Database, endpoints: Endpoints, clock: Clock) -> None:
        self.db = db
        self.endpoints = endpoints
        self.clock = clock

    def put(
        self,
        app_id: str,
        batch: Mapping[str, Mapping[str, Any]],
        request_id: str,
        size: int,
        triggers: Triggers | None,
    ) -> dict[str, Any]:
        """Record a PutEvents request; the answer has a result for every endpoint and event.
        ``triggers`` (the campaign engine) queues what the events trigger in the same
        transaction; it is passed per call because the engine itself records its delivery
        events through this service."""
        if size > rules.MAX_REQUEST_BYTES:
            raise PayloadTooLarge(
                f"A PutEvents request is at most {rules.MAX_REQUEST_BYTES // (1024 * 1024)} MB"
            )
        total = sum(len(item["Events"]) for item in batch.values())
        if total > rules.MAX_EVENTS_PER_REQUEST:
            raise BadRequest(
                f"EventsRequest.BatchItem holds {total} events; a request can carry at most "
                f"{rules.MAX_EVENTS_PER_REQUEST}"
            )
        results: dict[str, dict[str, Any]] = {}
        candidates: list[Accepted] = []
        for endpoint_id, item in batch.items():
            event_results: dict[str, Any] = {}
            results[endpoint_id] = {
                "EndpointItemResponse": ACCEPTED,
                "EventsItemResponse": event_results,
            }
            try:
                endpoint_rules.validate_endpoint_id(endpoint_id, path="BatchItem")
            except BadRequest as error:
                results[endpoint_id]["EndpointItemResponse"] = _refused(error.message)
                for event_id in item["Events"]:
                    event_results[event_id] = _refused("The endpoint id is not valid")
                continue
            key = endpoint_rules.endpoint_id_key(endpoint_id)
            for event_id, event in item["Events"].items():
                try:
                    timestamp = rules.check_event(event)
                except rules.InvalidEvent as error:
                    event_results[event_id] = _refused(str(error))
                    continue
                candidates.append(Accepted(endpoint_id, key, event_id, event, timestamp))
                event_results[event_id] = ACCEPTED
        queued = 0
        with self.db.write() as conn:
            self._upsert_endpoints(conn, app_id, batch, results, request_id)
            refused = self.record(conn, app_id, candidates)
            if triggers is not None:
                kept = {id(c) for c in refused}
                queued = triggers.queue(conn, app_id, [c for c in candidates if id(c) not in kept])
        if queued and triggers is not None:
            triggers.wake()
        for c in refused:
            results[c.endpoint_id]["EventsItemResponse"][c.event_id] = _refused(
                f"The app already has {rules.MAX_EVENT_TYPES_PER_APP} custom event types"
            )
        return {"Results": results}

    def _upsert_endpoints(
        self,
        conn: Any,
        app_id: str,
        batch: Mapping[str, Mapping[str, Any]],
        results: dict[str, dict[str, Any]],
        request_id: str,
    ) -> None:
        """Merge the batch's endpoint data, all at once when it is all valid (the usual case),
        otherwise item by item so a bad one is reported without failing the others. Events for
        an endpoint never seen before create it."""
        writer = EndpointWriter(conn, app_id)
        valid = [e for e in batch if results[e]["EndpointItemResponse"] is ACCEPTED]
        known = set(writer.lock(endpoint_rules.endpoint_id_key(e) for e in valid))
        updates = [
            Update(endpoint_id, batch[endpoint_id]["Endpoint"], f"BatchItem.{endpoint_id}.Endpoint")
            for endpoint_id in valid
            if batch[endpoint_id]["Endpoint"]
            or endpoint_rules.endpoint_id_key(endpoint_id) not in known
        ]
        if not updates:
            return
        for update, error in self.endpoints.apply_each(writer, updates, request_id):
            results[update.endpoint_id]["EndpointItemResponse"] = _refused(error.message)
            if endpoint_rules.endpoint_id_key(update.endpoint_id) not in known:
                self.endpoints.apply(writer, [Update(update.endpoint_id, {}, "")], request_id)

    def record(self, conn: Any, app_id: str, candidates: list[Accepted]) -> list[Accepted]:
        """Store checked events and fold them into the rollups, in the caller's transaction;
        returns the events refused for the custom-event-type quota. Message events and
        ``_journey.send`` (what Clarion sent and how it went) say nothing of the endpoint's own
        use of the app: they count in the message rollups (a journey's in its own), not as
        activity, sessions or recency. Events of an
        address that is no endpoint count in the per-day totals only."""
        writer = EventWriter(conn, app_id)
        ordinals = writer.ordinals({c.endpoint_key for c in candidates})
        accepted, refused = self._within_type_quota(writer, candidates)
        arrival = epoch_ms(self.clock())
        inserted = writer.insert_events(
            [
                {
                    "app_id": app_id,
                    "endpoint_key": c.endpoint_key,
                    "event_id": c.event_id,
                    "event_type": c.event["EventType"],
                    "timestamp_ms": c.timestamp_ms,
                    "arrival_ms": arrival,
                    "day": rules.day_of(c.timestamp_ms),
                    "session_id": (c.event.get("Session") or {}).get("Id"),
                    "event": c.event,
                }
                for c in accepted
            ]
        )
        fresh = [c for c in accepted if (c.endpoint_key, c.event_id) in inserted]
        rollup = Rollup()
        per_endpoint: dict[int, list[Accepted]] = defaultdict(list)
        for c in fresh:
            ordinal = ordinals.get(c.endpoint_key)
            if ordinal is not None and not messages.is_sent(c.event["EventType"]):
                per_endpoint[ordinal].append(c)
            _count(rollup, ordinal, c)
        activity = writer.activity(per_endpoint)
        changed: dict[int, Activity] = {}
        for ordinal, items in per_endpoint.items():
            items.sort(key=lambda c: c.timestamp_ms)
            before = activity.get(ordinal)
            first_day = rules.day_of(items[0].timestamp_ms)
            state = track(
                before.session if before else SessionState(),
                [
                    (c.timestamp_ms, c.event["EventType"], (c.event.get("Session") or {}).get("Id"))
                    for c in items
                ],
                rollup,
            )
            if before is not None:
                first_day = min(first_day, before.first_day)
            changed[ordinal] = Activity(first_day, state)
        writer.save_activity(changed)
        writer.apply(rollup)
        journeys = messages.journey_counts((rules.day_of(c.timestamp_ms), c.event) for c in fresh)
        analytics.add_journey_messages(conn, app_id, journeys)
        return refused

    def _within_type_quota(
        self, writer: EventWriter, candidates: list[Accepted]
    ) -> tuple[list[Accepted], list[Accepted]]:
        """Split off events that would take the app past its custom-event-type quota."""
        known = writer.event_types()
        custom = sum(1 for t in known if rules.is_custom(t))
        new: set[str] = set()
        kept: list[Accepted] = []
        refused: list[Accepted] = []
        for c in candidates:
            event_type = c.event["EventType"]
            if event_type not in known and event_type not in new:
                if rules.is_custom(event_type) and custom >= rules.MAX_EVENT_TYPES_PER_APP:
                    refused.append(c)
                    continue
                new.add(event_type)
                custom += rules.is_custom(event_type)
            kept.append(c)
        writer.add_event_types(new)
        return kept, refused


def _count(rollup: Rollup, ordinal: int | None, accepted: Accepted) -> None:
    event = accepted.event
    event_type = event["EventType"]
    day = rules.day_of(accepted.timestamp_ms)
    message = messages.is_sent(event_type)
    if ordinal is not None and not message:
        rollup.active[day].add(ordinal)
    rollup.events[(day, event_type)] += 1
    for name, value in (event.get("Attributes") or {}).items():
        if not message or name in messages.ROLLED_UP:
            rollup.attributes[(day, event_type, name, value)] += 1
    for name, number in (event.get("Metrics") or {}).items():
        rollup.metrics[(day, event_type, name)].add(float(number))
    bought = rules.purchase(event)
    if bought is not None:
        totals = rollup.revenue[(day, bought.currency)]
        totals.purchases += 1
        totals.quantity += bought.quantity
        totals.revenue += bought.revenue
    if messages.is_message(event_type):
        _count_message(rollup, ordinal, day, event)


def _count_message(rollup: Rollup, ordinal: int | None, day: str, event: Mapping[str, Any]) -> None:
    """Fold a message event into the message rollups, unless a journey sent it."""
    attributes = event.get("Attributes") or {}
    campaign = messages.sender(attributes)
    if campaign is None:
        return
    event_type = event["EventType"]
    if ordinal is not None:
        rollup.message_endpoints[(day, event_type, campaign)].add(ordinal)
    key = messages.fact_key(day, event_type, campaign, attributes)
    rollup.message_facts[key].add(messages.fact(attributes, event.get("Metrics") or {}))
