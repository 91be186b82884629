"""What journeys keep: the journeys, their runs, every participant's position, and the
execution counters, which move in the same transaction as the participants they count."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from clarion.store.database import Database
from clarion.store.schema import (
    events,
    journey_counters,
    journey_participants,
    journey_runs,
    journeys,
)

ACTIVE = "ACTIVE"
"""A participant still moving through the journey (also the state of a running journey)."""
OPEN_RUNS = ("SCHEDULED", "RUNNING")


@dataclass(frozen=True)
class StoredJourney:
    app_id: str
    id: str
    creation_date: str
    last_modified_date: str
    state: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class JourneyRun:
    app_id: str
    journey_id: str
    run_id: str
    status: str
    creation_ms: int
    last_update_ms: int
    position: dict[str, Any]


@dataclass(frozen=True)
class Participant:
    seq: int
    app_id: str
    journey_id: str
    endpoint_key: str
    entry: int
    run_id: str
    activity_id: str
    entered_ms: int
    arrived_ms: int
    due_ms: int
    waiting: bool


@dataclass(frozen=True)
class Entries:
    """An endpoint's history in one journey: how often it entered, when it last did, and
    whether it is in the journey now."""

    count: int
    last_entered_ms: int
    active: bool


def _journey(row: sa.Row[Any]) -> StoredJourney:
    return StoredJourney(
        row.app_id,
        row.id,
        row.creation_date,
        row.last_modified_date,
        row.state,
        dict(row.definition),
    )


def _run(row: sa.Row[Any]) -> JourneyRun:
    return JourneyRun(
        row.app_id,
        row.journey_id,
        row.run_id,
        row.status,
        row.creation_ms,
        row.last_update_ms,
        dict(row.position),
    )


def _participant(row: sa.Row[Any]) -> Participant:
    return Participant(
        row.seq,
        row.app_id,
        row.journey_id,
        row.endpoint_key,
        row.entry,
        row.run_id,
        row.activity_id,
        row.entered_ms,
        row.arrived_ms,
        row.due_ms,
        bool(row.waiting),
    )


def _insert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT that can be told what to do on a conflict, in the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class JourneyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- journeys -----------------------------------------------------------------------

    def insert(self, journey: StoredJourney) -> None:
        with self.db.write() as conn:
            conn.execute(
                journeys.insert().values(
                    app_id=journey.app_id,
                    id=journey.id,
                    creation_date=journey.creation_date,
                    last_modified_date=journey.last_modified_date,
                    state=journey.state,
                    definition=journey.definition,
                )
            )

    def get(self, app_id: str, journey_id: str) -> StoredJourney | None:
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(journeys).where(journeys.c.app_id == app_id, journeys.c.id == journey_id)
            ).first()
        return _journey(row) if row else None

    def page(self, app_id: str, after: int, limit: int) -> list[tuple[int, StoredJourney]]:
        """The app's journeys in creation order, after the one at ``after``."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(journeys)
                .where(journeys.c.app_id == app_id, journeys.c.seq > after)
                .order_by(journeys.c.seq)
                .limit(limit)
            )
            return [(row.seq, _journey(row)) for row in rows]

    def live(
        self, app_id: str | None = None, states: Sequence[str] = (ACTIVE,)
    ) -> list[StoredJourney]:
        """Journeys in ``states`` (of every app, or one): by default those the engine enters
        participants into and moves them through."""
        query = sa.select(journeys).where(journeys.c.state.in_(list(states)))
        if app_id is not None:
            query = query.where(journeys.c.app_id == app_id)
        with self.db.read() as conn:
            return [_journey(row) for row in conn.execute(query.order_by(journeys.c.seq))]

    def save(
        self,
        app_id: str,
        journey_id: str,
        *,
        only_from: Sequence[str] | None = None,
        **values: Any,
    ) -> bool:
        """Change a journey's members (definition, state, last_modified_date); when
        ``only_from`` is given, only a journey in one of those states changes."""
        statement = (
            journeys.update()
            .where(journeys.c.app_id == app_id, journeys.c.id == journey_id)
            .values(**values)
        )
        if only_from is not None:
            statement = statement.where(journeys.c.state.in_(list(only_from)))
        with self.db.write() as conn:
            return conn.execute(statement).rowcount == 1

    def delete(self, app_id: str, journey_id: str) -> None:
        """The journey and everything it kept: runs, participants, counters."""
        with self.db.write() as conn:
            for table, column in (
                (journey_counters, journey_counters.c.journey_id),
                (journey_participants, journey_participants.c.journey_id),
                (journey_runs, journey_runs.c.journey_id),
                (journeys, journeys.c.id),
            ):
                conn.execute(table.delete().where(table.c.app_id == app_id, column == journey_id))

    # --- runs ---------------------------------------------------------------------------

    def add_run(self, conn: Connection, run: JourneyRun) -> None:
        """A new run; one another node stored first is kept as it is."""
        conn.execute(
            _insert(conn, journey_runs)
            .on_conflict_do_nothing()
            .values(
                app_id=run.app_id,
                journey_id=run.journey_id,
                run_id=run.run_id,
                status=run.status,
                creation_ms=run.creation_ms,
                last_update_ms=run.last_update_ms,
                position=run.position,
                lease_until_ms=0,
            )
        )

    def runs(self, app_id: str, journey_id: str) -> list[JourneyRun]:
        """The journey's runs, newest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(journey_runs)
                .where(journey_runs.c.app_id == app_id, journey_runs.c.journey_id == journey_id)
                .order_by(journey_runs.c.seq.desc())
            )
            return [_run(row) for row in rows]

    def run_page(
        self, app_id: str, journey_id: str, after: int, limit: int
    ) -> list[tuple[int, JourneyRun]]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(journey_runs)
                .where(
                    journey_runs.c.app_id == app_id,
                    journey_runs.c.journey_id == journey_id,
                    journey_runs.c.seq > after,
                )
                .order_by(journey_runs.c.seq)
                .limit(limit)
            )
            return [(row.seq, _run(row)) for row in rows]

    def claim_run(self, run: JourneyRun, now_ms: int, until_ms: int) -> bool:
        """Take a run's segment walk for a while; False when another node holds it."""
        with self.db.write() as conn:
            result = conn.execute(
                journey_runs.update()
                .where(
                    journey_runs.c.app_id == run.app_id,
                    journey_runs.c.journey_id == run.journey_id,
                    journey_runs.c.run_id == run.run_id,
                    journey_runs.c.lease_until_ms < now_ms,
                )
                .values(lease_until_ms=until_ms)
            )
        return result.rowcount == 1

    def update_run(self, conn: Connection | None, run: JourneyRun, **values: Any) -> None:
        statement = (
            journey_runs.update()
            .where(
                journey_runs.c.app_id == run.app_id,
                journey_runs.c.journey_id == run.journey_id,
                journey_runs.c.run_id == run.run_id,
            )
            .values(**values)
        )
        if conn is not None:
            conn.execute(statement)
            return
        with self.db.write() as own:
            own.execute(statement)

    def close_runs(
        self, conn: Connection, app_id: str, journey_id: str, status: str, now_ms: int
    ) -> None:
        conn.execute(
            journey_runs.update()
            .where(
                journey_runs.c.app_id == app_id,
                journey_runs.c.journey_id == journey_id,
                journey_runs.c.status.in_(OPEN_RUNS),
            )
            .values(status=status, last_update_ms=now_ms, lease_until_ms=0)
        )

    # --- participants -------------------------------------------------------------------

    def entries(
        self, conn: Connection, app_id: str, journey_id: str, keys: Iterable[str]
    ) -> dict[str, Entries]:
        """Each endpoint's entries so far, for the re-entry rules."""
        p = journey_participants
        rows = conn.execute(
            sa.select(
                p.c.endpoint_key,
                sa.func.max(p.c.entry),
                sa.func.max(p.c.entered_ms),
                sa.func.max(sa.case((p.c.state == ACTIVE, 1), else_=0)),
            )
            .where(
                p.c.app_id == app_id, p.c.journey_id == journey_id, p.c.endpoint_key.in_(set(keys))
            )
            .group_by(p.c.endpoint_key)
        )
        return {row[0]: Entries(row[1], row[2], bool(row[3])) for row in rows}

    def enter(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """New participants (app_id, journey_id, endpoint_key, entry, run_id, activity_id,
        entered_ms, due_ms), at their first activity and due at once."""
        if rows:
            conn.execute(
                _insert(conn, journey_participants).on_conflict_do_nothing(),
                [
                    {
                        "state": ACTIVE,
                        "arrived_ms": row["entered_ms"],
                        "lease_until_ms": 0,
                        "waiting": False,
                        **row,
                    }
                    for row in rows
                ],
            )

    def claim_due(self, now_ms: int, until_ms: int, limit: int) -> list[Participant]:
        """Participants of running journeys whose time to move has come and whom nobody
        holds, leased to the caller, earliest first."""
        p = journey_participants
        with self.db.write() as conn:
            query = (
                sa.select(p)
                .where(
                    p.c.state == ACTIVE,
                    p.c.due_ms <= now_ms,
                    p.c.lease_until_ms < now_ms,
                    sa.exists().where(
                        journeys.c.app_id == p.c.app_id,
                        journeys.c.id == p.c.journey_id,
                        journeys.c.state == ACTIVE,
                    ),
                )
                .order_by(p.c.due_ms)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(of=p, skip_locked=True)
            found = [_participant(row) for row in conn.execute(query)]
            if found:
                conn.execute(
                    p.update()
                    .where(p.c.seq.in_([f.seq for f in found]))
                    .values(lease_until_ms=until_ms)
                )
        return found

    def move(self, conn: Connection, moves: Sequence[Mapping[str, Any]]) -> None:
        """Where participants stand now: each move names ``seq`` and sets ``activity_id``,
        ``state``, ``arrived_ms``, ``due_ms`` and ``waiting``; leases are let go."""
        if moves:
            p = journey_participants
            conn.execute(
                p.update()
                .where(p.c.seq == sa.bindparam("key"))
                .values(
                    activity_id=sa.bindparam("activity_id"),
                    state=sa.bindparam("state"),
                    arrived_ms=sa.bindparam("arrived_ms"),
                    due_ms=sa.bindparam("due_ms"),
                    waiting=sa.bindparam("waiting"),
                    lease_until_ms=0,
                ),
                [
                    {**{k: v for k, v in move.items() if k != "seq"}, "key": move["seq"]}
                    for move in moves
                ],
            )

    def stop_active(
        self, conn: Connection, app_id: str, journey_id: str, state: str
    ) -> dict[str, int]:
        """End every participant still in the journey (cancel, end time) with ``state``; how
        many each run had."""
        p = journey_participants
        where = (p.c.app_id == app_id, p.c.journey_id == journey_id, p.c.state == ACTIVE)
        counts = {
            row[0]: row[1]
            for row in conn.execute(
                sa.select(p.c.run_id, sa.func.count()).where(*where).group_by(p.c.run_id)
            )
        }
        conn.execute(p.update().where(*where).values(state=state, lease_until_ms=0))
        return counts

    def active_count(self, app_id: str, journey_id: str, run_id: str | None = None) -> int:
        p = journey_participants
        query = sa.select(sa.func.count()).where(
            p.c.app_id == app_id, p.c.journey_id == journey_id, p.c.state == ACTIVE
        )
        if run_id is not None:
            query = query.where(p.c.run_id == run_id)
        with self.db.read() as conn:
            found: int = conn.execute(query).scalar_one()
        return found

    def release_all(self) -> None:
        """Let go of every lease (a SQLite server that restarted owns its store alone)."""
        with self.db.write() as conn:
            p = journey_participants
            conn.execute(
                p.update()
                .where(p.c.state == ACTIVE, p.c.lease_until_ms > 0)
                .values(lease_until_ms=0)
            )
            conn.execute(
                journey_runs.update()
                .where(journey_runs.c.status.in_(OPEN_RUNS))
                .values(lease_until_ms=0)
            )

    # --- counters -----------------------------------------------------------------------

    def count(
        self,
        conn: Connection,
        app_id: str,
        journey_id: str,
        amounts: Mapping[tuple[str, str, str], int],
        now_ms: int,
    ) -> None:
        """Add to counters keyed (run id, activity id or "", name), in the caller's
        transaction, so a counter moves exactly when what it counts does."""
        rows = [
            {
                "app_id": app_id,
                "journey_id": journey_id,
                "run_id": run_id,
                "activity_id": activity_id,
                "name": name,
                "value": amount,
                "updated_ms": now_ms,
            }
            for (run_id, activity_id, name), amount in sorted(amounts.items())
            if amount
        ]
        if not rows:
            return
        statement = _insert(conn, journey_counters)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["app_id", "journey_id", "run_id", "activity_id", "name"],
                set_={
                    "value": journey_counters.c.value + statement.excluded.value,
                    "updated_ms": statement.excluded.updated_ms,
                },
            ),
            rows,
        )

    def counters(
        self,
        app_id: str,
        journey_id: str,
        *,
        activity_id: str = "",
        run_id: str | None = None,
    ) -> tuple[dict[str, int], int]:
        """The counters of the journey (``activity_id`` "") or one activity, over all runs or
        one, and when the last of them changed (ms, 0 if none)."""
        c = journey_counters
        query = (
            sa.select(c.c.name, sa.func.sum(c.c.value), sa.func.max(c.c.updated_ms))
            .where(
                c.c.app_id == app_id, c.c.journey_id == journey_id, c.c.activity_id == activity_id
            )
            .group_by(c.c.name)
        )
        if run_id is not None:
            query = query.where(c.c.run_id == run_id)
        with self.db.read() as conn:
            rows = list(conn.execute(query))
        return {row[0]: int(row[1]) for row in rows}, max((row[2] for row in rows), default=0)


def events_since(
    conn: Connection, app_id: str, keys: Iterable[str], since_ms: int
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """The events each endpoint reported (or Clarion recorded about its messages) that
    arrived at or after ``since_ms``, as (arrival ms, event), oldest first: what a journey's
    split conditions are judged on."""
    rows = conn.execute(
        sa.select(events.c.endpoint_key, events.c.arrival_ms, events.c.event)
        .where(
            events.c.app_id == app_id,
            events.c.endpoint_key.in_(set(keys)),
            events.c.arrival_ms >= since_ms,
        )
        .order_by(events.c.arrival_ms)
    )
    found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for row in rows:
        found.setdefault(row.endpoint_key, []).append((row.arrival_ms, dict(row.event)))
    return found
