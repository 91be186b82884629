"""The journey engine: enters endpoints into running journeys and moves participants on.

One loop, every node. ``enter`` starts each running journey's runs when they come due (the
segment read at StartTime, again every RefreshFrequency or when an imported segment changes)
and walks their segments, ``BATCH`` endpoints a transaction. ``advance`` claims due
participants by lease — the same rows on every node of a shared PostgreSQL — and takes each
as far as it can go now: through splits and holdouts at once, to a timer (a wait, an
evaluation window, a quiet-time hold) as a due time on its row, or through a message
activity, whose message goes into the delivery ledger keyed by (journey, endpoint, entry,
activity) so that a step done again after a crash finds it there and never makes it twice.
A participant's new position and the counters it moves commit in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from clarion.campaigns.filters import EventMatcher, compile_event_filter
from clarion.clock import Clock, epoch_ms, iso
from clarion.errors import ClarionError
from clarion.events.service import Accepted
from clarion.journeys import entry, metrics, steps
from clarion.journeys.delivery import Delivery
from clarion.journeys.plan import Plan, plan
from clarion.segments.service import Segments
from clarion.store.database import Database
from clarion.store.endpoints import EndpointRepository, members_among
from clarion.store.journeys import (
    ACTIVE,
    JourneyRepository,
    JourneyRun,
    Participant,
    StoredJourney,
    events_since,
)

log = logging.getLogger("clarion.journeys")

BATCH = 500
LEASE_MS = 30_000
WALK_BATCHES = 20
"""Segment batches one step enters before it moves participants on."""
MAX_HOPS = 200
"""More activities than a journey may have: a participant never visits one twice."""


@dataclass
class Move:
    """Where a participant goes: ``activity_id`` None when it leaves the journey."""

    participant: Participant
    activity_id: str | None
    due_ms: int
    arrived_ms: int
    waiting: bool


class JourneyEngine:
    def __init__(
        self,
        db: Database,
        repo: JourneyRepository,
        members: EndpointRepository,
        segments: Segments,
        delivery: Delivery,
        app_settings: Callable[[str], Mapping[str, Any]],
        clock: Clock,
    ) -> None:
        self.db = db
        self.repo = repo
        self.members = members
        self.segments = segments
        self.delivery = delivery
        self.app_settings = app_settings
        self.clock = clock
        self.stopping = threading.Event()

    def plan(self, journey: StoredJourney) -> Plan:
        return plan(journey, self.app_settings(journey.app_id))

    def step(self) -> int:
        """One round of the loop: start and walk due runs, move due participants."""
        return self.enter() + self.advance()

    # --- entering -----------------------------------------------------------------------

    def enter(self) -> int:
        entered = 0
        for journey in self.repo.live():
            if self.stopping.is_set():
                break
            try:
                entered += self._enter(self.plan(journey))
            except (ClarionError, ValueError) as error:
                log.warning("journey %s cannot run: %s", journey.id, error)
        return entered

    def _enter(self, plan: Plan) -> int:
        now = self.clock()
        if plan.end is not None and now >= plan.end:
            self._finish(plan, "COMPLETED")
            return 0
        if plan.start is not None and now < plan.start and not plan.local_time:
            return 0
        runs = self.repo.runs(plan.app_id, plan.id)
        if plan.event_filter is not None:
            if not runs:
                with self.db.write() as conn:
                    entry.new_run(self.repo, conn, plan, 1, epoch_ms(now))
            return 0
        if plan.local_time and plan.start is not None and now < plan.start - timedelta(hours=14):
            return 0
        entered = 0
        for run in runs:
            if run.status == "RUNNING" and run.position.get("reading"):
                entered += self._walk(plan, run)
        self._close_runs(plan, self.repo.runs(plan.app_id, plan.id))
        latest = runs[0] if runs else None
        if latest is None or self._refresh_due(plan, latest, now):
            version = self._segment_version(plan)
            with self.db.write() as conn:
                fresh = entry.new_run(
                    self.repo,
                    conn,
                    plan,
                    (latest.position.get("number", 0) if latest else 0) + 1,
                    epoch_ms(now),
                    reading=True,
                    after=-1,
                    segment_version=version,
                )
            entered += self._walk(plan, fresh)
        return entered

    def _refresh_due(self, plan: Plan, latest: JourneyRun, now: datetime) -> bool:
        if latest.position.get("reading"):
            return False
        if plan.refresh_ms is not None and epoch_ms(now) >= latest.creation_ms + plan.refresh_ms:
            return True
        return plan.refresh_on_segment_update and self._segment_version(
            plan
        ) != latest.position.get("segment_version")

    def _segment_version(self, plan: Plan) -> str:
        return self.segments.revision(plan.app_id, plan.segment_id) if plan.segment_id else ""

    def _walk(self, plan: Plan, run: JourneyRun) -> int:
        """Enter the run's segment members from where its walk stopped, a batch a
        transaction, at most ``WALK_BATCHES`` of them before participants get their turn
        (the next step carries on); nothing when another node holds the walk."""
        now_ms = epoch_ms(self.clock())
        if not self.repo.claim_run(run, now_ms, now_ms + LEASE_MS):
            return 0
        where = entry.segment_filter(
            self.segments.condition(plan.app_id, plan.segment_id) if plan.segment_id else None
        )
        after = int(run.position.get("after", -1))
        entered = 0
        for _ in range(WALK_BATCHES):
            if self.stopping.is_set():
                break
            batch = self.members.members_after(plan.app_id, where, after, BATCH)
            now = self.clock()
            counts: entry.Counts = Counter()
            with self.db.write() as conn:
                entered += entry.admit(
                    self.repo,
                    conn,
                    plan,
                    run.run_id,
                    [(stored.key, stored.document) for _, stored in batch],
                    now,
                    counts,
                    report_rejections=False,
                )
                self.repo.count(conn, plan.app_id, plan.id, counts, epoch_ms(now))
                after = batch[-1][0] if batch else after
                self.repo.update_run(
                    conn,
                    run,
                    position={**run.position, "after": after, "reading": bool(batch)},
                    last_update_ms=epoch_ms(now),
                    lease_until_ms=epoch_ms(now) + LEASE_MS if batch else 0,
                )
            if not batch:
                return entered
        self.repo.update_run(None, run, lease_until_ms=0)
        return entered

    def _close_runs(self, plan: Plan, runs: Sequence[JourneyRun]) -> None:
        """A run whose walk is done and whose participants have all left is COMPLETED; a
        journey that will read its segment no more and has no open run is too."""
        now_ms = epoch_ms(self.clock())
        still_open = False
        for run in runs:
            if run.status != "RUNNING":
                continue
            if run.position.get("reading") or self.repo.active_count(
                plan.app_id, plan.id, run.run_id
            ):
                still_open = True
                continue
            self.repo.update_run(None, run, status="COMPLETED", last_update_ms=now_ms)
        rereads = plan.refresh_ms is not None or plan.refresh_on_segment_update
        if runs and not still_open and not rereads:
            self._finish(plan, "COMPLETED")

    def _finish(self, plan: Plan, state: str) -> None:
        """The journey is over (its EndTime passed, or it ran its course): participants
        still in it leave, its runs close."""
        now_ms = epoch_ms(self.clock())
        with self.db.write() as conn:
            stopped = self.repo.stop_active(conn, plan.app_id, plan.id, "LEFT")
            counts: entry.Counts = Counter(
                {(run_id, "", metrics.LEFT): amount for run_id, amount in stopped.items()}
            )
            self.repo.count(conn, plan.app_id, plan.id, counts, now_ms)
            self.repo.close_runs(conn, plan.app_id, plan.id, "COMPLETED", now_ms)
        self.repo.save(
            plan.app_id,
            plan.id,
            only_from=(ACTIVE,),
            state=state,
            last_modified_date=iso(self.clock()),
        )

    def queue(self, conn: Any, app_id: str, accepted: Sequence[Accepted]) -> int:
        """Enter the endpoints whose events meet a running journey's EventStartCondition, in
        the events' own transaction (PutEvents). A paused journey counts them PAUSED."""
        if not accepted:
            return 0
        entered = 0
        now = self.clock()
        for journey in self.repo.live(app_id, ("ACTIVE", "PAUSED")):
            try:
                plan = self.plan(journey)
            except (ClarionError, ValueError):
                continue
            hits = entry.event_candidates(plan, accepted)
            if not hits or (plan.start and now < plan.start) or (plan.end and now >= plan.end):
                continue
            runs = self.repo.runs(app_id, plan.id)
            run = runs[0] if runs else entry.new_run(self.repo, conn, plan, 1, epoch_ms(now))
            counts: entry.Counts = Counter()
            keys = {hit.endpoint_key for hit in hits}
            condition = (
                self.segments.condition(app_id, plan.segment_id) if plan.segment_id else sa.true()
            )
            documents = members_among(conn, app_id, condition, keys)
            candidates = []
            for hit in hits:
                # Produced before any filtering, as ``admit`` counts the candidates it gets.
                if journey.state == "PAUSED":
                    counts[(run.run_id, "", metrics.PRODUCED)] += 1
                    counts[(run.run_id, "", metrics.PAUSED)] += 1
                elif hit.endpoint_key not in documents:
                    counts[(run.run_id, "", metrics.PRODUCED)] += 1
                    counts[(run.run_id, "", metrics.FILTERED_OUT_BY_SEGMENT)] += 1
                else:
                    candidates.append((hit.endpoint_key, documents[hit.endpoint_key]))
            entered += entry.admit(
                self.repo, conn, plan, run.run_id, candidates, now, counts, report_rejections=True
            )
            self.repo.count(conn, app_id, plan.id, counts, epoch_ms(now))
        return entered

    # --- moving on ----------------------------------------------------------------------

    def advance(self) -> int:
        """Claim due participants and take each as far as it goes now; how many moved."""
        moved = 0
        while not self.stopping.is_set():
            now_ms = epoch_ms(self.clock())
            claimed = self.repo.claim_due(now_ms, now_ms + LEASE_MS, BATCH)
            if not claimed:
                break
            by_journey: dict[tuple[str, str], list[Participant]] = {}
            for participant in claimed:
                by_journey.setdefault((participant.app_id, participant.journey_id), []).append(
                    participant
                )
            for (app_id, journey_id), participants in by_journey.items():
                try:
                    self._advance(app_id, journey_id, participants)
                except Exception:
                    log.exception("journey %s: participants wait for the next step", journey_id)
            moved += len(claimed)
            if len(claimed) < BATCH:
                break
        return moved

    def _advance(self, app_id: str, journey_id: str, participants: list[Participant]) -> None:
        journey = self.repo.get(app_id, journey_id)
        if journey is None:
            return
        plan = self.plan(journey)
        with self.db.read() as conn:
            documents = members_among(
                conn, app_id, sa.true(), {p.endpoint_key for p in participants}
            )
        walk = _Walk(self, plan, documents, min(p.entered_ms for p in participants))
        for participant in participants:
            walk.go(participant)
        stays = self.delivery.send(plan, walk.sending, documents, walk.counts)
        for participant, activity_id in walk.sending:
            until_ms = stays.get(participant.seq)
            if until_ms is not None:
                arrived = (
                    participant.arrived_ms
                    if activity_id == participant.activity_id
                    else walk.now_ms
                )
                walk.hold(participant, activity_id, until_ms, arrived)
            else:
                walk.leave_activity(participant, activity_id)
        now_ms = epoch_ms(self.clock())
        with self.db.write() as conn:
            self.repo.move(
                conn,
                [
                    {
                        "seq": m.participant.seq,
                        "activity_id": m.activity_id or m.participant.activity_id,
                        "state": ACTIVE if m.activity_id else "LEFT",
                        "arrived_ms": m.arrived_ms,
                        "due_ms": m.due_ms,
                        "waiting": m.waiting,
                    }
                    for m in walk.moves
                ],
            )
            self.repo.count(conn, app_id, journey_id, walk.counts, now_ms)


class _Walk:
    """Participants of one journey taken through the activities that need no message."""

    def __init__(
        self, engine: JourneyEngine, plan: Plan, documents: Mapping[str, Any], since_ms: int
    ) -> None:
        self.engine = engine
        self.plan = plan
        self.documents = documents
        self.since_ms = since_ms
        self.now = engine.clock()
        self.now_ms = epoch_ms(self.now)
        self.counts: entry.Counts = Counter()
        self.moves: list[Move] = []
        self.sending: list[tuple[Participant, str]] = []
        self._facts: _Facts | None = None

    def go(self, participant: Participant) -> None:
        if participant.endpoint_key not in self.documents:
            self.counts[(participant.run_id, "", metrics.LEFT)] += 1
            self.moves.append(Move(participant, None, 0, self.now_ms, False))
            return
        activity_id: str | None = participant.activity_id
        arrived, waiting = participant.arrived_ms, participant.waiting
        for _ in range(MAX_HOPS):
            if activity_id is None or activity_id not in self.plan.activities:
                self._leave(participant)
                return
            activity = self.plan.activities[activity_id]
            kind = steps.kind(activity)
            if kind in steps.MESSAGE_KINDS:
                self.sending.append((participant, activity_id))
                return
            timer = self._timer(activity, kind, arrived) if not waiting else None
            if timer is not None and timer > self.now_ms:
                self.hold(participant, activity_id, timer, arrived)
                if kind == "Wait":
                    self.counts[
                        (participant.run_id, activity_id, metrics.wait_metrics().started)
                    ] += 1
                return
            if kind == "Wait":
                names = metrics.wait_metrics()
                if not waiting:
                    self.counts[(participant.run_id, activity_id, names.started)] += 1
                self.counts[(participant.run_id, activity_id, names.completed)] += 1
                path: int | None = 0
            else:
                path = self._path(participant, activity_id, activity, kind)
                self.counts[(participant.run_id, activity_id, metrics.branch(activity, path))] += 1
                if kind == "Holdout" and path == 0:
                    self._leave(participant)
                    return
                if kind == "Holdout":
                    path = 0
            activity_id = steps.next_activity(activity, path)
            arrived, waiting = self.now_ms, False
        self._leave(participant)

    def _timer(self, activity: Mapping[str, Any], kind: str, arrived_ms: int) -> int | None:
        arrived = datetime.fromtimestamp(arrived_ms / 1000, self.now.tzinfo)
        if kind == "Wait":
            return epoch_ms(steps.wait_end(activity["Wait"].get("WaitTime") or {}, arrived))
        if kind in ("ConditionalSplit", "MultiCondition"):
            end = steps.evaluation_end(activity, arrived)
            return epoch_ms(end) if end is not None else None
        return None

    def _path(
        self, participant: Participant, activity_id: str, activity: Mapping[str, Any], kind: str
    ) -> int | None:
        drawn = steps.draw(self.plan.id, participant.endpoint_key, participant.entry, activity_id)
        if kind == "RandomSplit":
            return steps.random_branch(activity["RandomSplit"].get("Branches") or [], drawn)
        if kind == "Holdout":
            return (
                0 if steps.held_out(int(activity["Holdout"].get("Percentage") or 0), drawn) else 1
            )
        return steps.split(activity, self.facts().of(participant))

    def facts(self) -> _Facts:
        if self._facts is None:
            self._facts = _Facts(self.engine, self.plan, self.documents, self.since_ms)
        return self._facts

    def hold(
        self, participant: Participant, activity_id: str, until_ms: int, arrived_ms: int
    ) -> None:
        """The participant stays at ``activity_id`` (reached at ``arrived_ms``) until
        ``until_ms``: a timer it started there, or a message that may not go yet."""
        self.moves.append(Move(participant, activity_id, until_ms, arrived_ms, True))

    def leave_activity(self, participant: Participant, activity_id: str) -> None:
        """A message activity is done with the participant: on to the next activity, due at
        once (the next step takes it further)."""
        following = steps.next_activity(self.plan.activities[activity_id])
        if following is None or following not in self.plan.activities:
            self._leave(participant)
            return
        self.moves.append(Move(participant, following, self.now_ms, self.now_ms, False))

    def _leave(self, participant: Participant) -> None:
        self.counts[(participant.run_id, "", metrics.LEFT)] += 1
        self.moves.append(Move(participant, None, 0, self.now_ms, False))


class _Facts:
    """What split conditions are judged on, read once for all of a step's participants."""

    def __init__(
        self, engine: JourneyEngine, plan: Plan, documents: Mapping[str, Any], since_ms: int
    ) -> None:
        self.engine = engine
        self.plan = plan
        self.documents = documents
        self.since_ms = since_ms
        """The earliest entry among the step's participants: no condition looks further back."""
        self._events: dict[str, list[tuple[int, dict[str, Any]]]] | None = None
        self._segments: dict[str, set[str]] = {}
        self._matchers: dict[str, EventMatcher] = {}

    def of(self, participant: Participant) -> steps.Facts:
        if self._events is None:
            with self.engine.db.read() as conn:
                self._events = events_since(conn, self.plan.app_id, self.documents, self.since_ms)
        mine = [
            event
            for arrived, event in self._events.get(participant.endpoint_key, [])
            if arrived >= participant.entered_ms
        ]
        return steps.Facts(
            mine,
            lambda condition: participant.endpoint_key in self._members(condition),
            self._event_matches,
        )

    def _members(self, condition: Mapping[str, Any]) -> set[str]:
        key = repr(sorted(condition.items()))
        if key not in self._segments:
            app_id = self.plan.app_id
            if condition.get("SegmentId"):
                where = self.engine.segments.condition(app_id, condition["SegmentId"])
            else:
                where = self.engine.segments.dimensions_condition(app_id, condition["Dimensions"])
            with self.engine.db.read() as conn:
                self._segments[key] = set(members_among(conn, app_id, where, self.documents))
        return self._segments[key]

    def _event_matches(self, condition: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
        key = repr(condition)
        if key not in self._matchers:
            self._matchers[key] = compile_event_filter(
                {"FilterType": "ENDPOINT", "Dimensions": condition.get("Dimensions") or {}}
            )
        wanted = condition.get("MessageActivity")
        if wanted and not steps.message_events([event], self.plan.id, wanted):
            return False
        return self._matchers[key].matches(event)
