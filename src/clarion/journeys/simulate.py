"""``POST /clarion/v1/apps/{id}/journeys/{journey-id}/simulate``: a journey's shape before it is
published — how many endpoints would reach each activity, and when.

A dry run over the segment and data as they are now; nothing is sent and nothing written. It
starts every endpoint that would enter (the start condition's segment; for an event-started
journey, every endpoint of its segment or app, as if each reported the event now) at the
journey's StartTime or now (in a LocalTime journey, at StartTime on its own clock), and
follows it through the activities with the engine's own rules: the same random draws,
segment conditions judged on the endpoint as it is, waits added to its clock. Event
conditions are judged on events that would have to arrive after it entered, which a dry run
has none of: they take their false (or default) path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from clarion.clock import epoch_ms, iso
from clarion.journeys import entry, metrics, steps
from clarion.journeys.engine import MAX_HOPS, JourneyEngine
from clarion.journeys.plan import Plan
from clarion.journeys.service import Journeys
from clarion.store.endpoints import StoredEndpoint, members_among

BATCH = 1000


@dataclass
class _Reached:
    endpoints: int = 0
    earliest: datetime | None = None
    latest: datetime | None = None
    paths: Counter[str] = field(default_factory=Counter)

    def add(self, at: datetime) -> None:
        self.endpoints += 1
        self.earliest = at if self.earliest is None else min(self.earliest, at)
        self.latest = at if self.latest is None else max(self.latest, at)


class Simulator:
    def __init__(self, journeys: Journeys, engine: JourneyEngine) -> None:
        self.journeys = journeys
        self.engine = engine

    def simulate(self, app_id: str, journey_id: str) -> dict[str, Any]:
        plan = self.engine.plan(self.journeys.found(app_id, journey_id))
        now = self.engine.clock()
        start = max(now, plan.start) if plan.start else now
        reached: dict[str, _Reached] = {aid: _Reached() for aid in plan.activities}
        kept_out: Counter[str] = Counter()
        entering = 0
        where = (
            self.engine.segments.condition(app_id, plan.segment_id)
            if plan.segment_id
            else sa.true()
        )
        after = -1
        while True:
            batch = self.engine.members.members_after(app_id, where, after, BATCH)
            if not batch:
                break
            after = batch[-1][0]
            with self.engine.db.read() as conn:
                history = self.engine.repo.entries(conn, app_id, plan.id, [s.key for _, s in batch])
            for _, stored in batch:
                before = history.get(stored.key)
                reason = entry.kept_out(plan, stored.key, stored.document, before, epoch_ms(now))
                if reason is not None:
                    kept_out[reason] += 1
                    continue
                entering += 1
                due_ms = entry.first_due(plan, stored.document, start)
                number = before.count + 1 if before else 1
                self._follow(plan, stored, number, _instant(due_ms), reached)
        return {
            "ApplicationId": app_id,
            "JourneyId": journey_id,
            "SimulatedAt": iso(now),
            "Start": iso(start),
            "Entering": entering,
            "KeptOut": dict(sorted(kept_out.items())),
            "Activities": {
                activity_id: self._activity(plan.activities[activity_id], found)
                for activity_id, found in reached.items()
            },
        }

    def _follow(
        self,
        plan: Plan,
        stored: StoredEndpoint,
        number: int,
        at: datetime,
        reached: dict[str, _Reached],
    ) -> None:
        activity_id: str | None = plan.start_activity
        facts = steps.Facts(
            [], lambda c: self._in_segment(plan, stored.key, c), lambda _, __: False
        )
        for _ in range(MAX_HOPS):
            if activity_id is None or activity_id not in plan.activities:
                return
            activity = plan.activities[activity_id]
            kind = steps.kind(activity)
            reached[activity_id].add(at)
            path: int | None = 0
            if kind == "Wait":
                at = steps.wait_end(activity["Wait"].get("WaitTime") or {}, at)
            elif kind in ("ConditionalSplit", "MultiCondition"):
                at = steps.evaluation_end(activity, at) or at
                path = steps.split(activity, facts)
            elif kind in ("RandomSplit", "Holdout"):
                drawn = steps.draw(plan.id, stored.key, number, activity_id)
                if kind == "RandomSplit":
                    path = steps.random_branch(activity[kind].get("Branches") or [], drawn)
                else:
                    path = (
                        0
                        if steps.held_out(int(activity[kind].get("Percentage") or 0), drawn)
                        else 1
                    )
            elif kind in steps.MESSAGE_KINDS:
                channel = stored.document.get("ChannelType") or ""
                types = activity[kind].get("EndpointTypes") or []
                reached[activity_id].paths[
                    "WouldSend"
                    if steps.channel_matches(kind, types, channel)
                    else metrics.CHANNEL_MISMATCH
                ] += 1
            if kind in ("ConditionalSplit", "MultiCondition", "RandomSplit", "Holdout"):
                reached[activity_id].paths[metrics.branch(activity, path)] += 1
                if kind == "Holdout":
                    if path == 0:
                        return
                    path = 0
            activity_id = steps.next_activity(activity, path)

    def _in_segment(self, plan: Plan, key: str, condition: Mapping[str, Any]) -> bool:
        segments = self.engine.segments
        if condition.get("SegmentId"):
            where = segments.condition(plan.app_id, condition["SegmentId"])
        else:
            where = segments.dimensions_condition(plan.app_id, condition["Dimensions"])
        with self.engine.db.read() as conn:
            return key in members_among(conn, plan.app_id, where, [key])

    def _activity(self, activity: Mapping[str, Any], found: _Reached) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ActivityType": metrics.activity_type(activity),
            "Endpoints": found.endpoints,
        }
        if found.earliest is not None and found.latest is not None:
            answer["Earliest"] = iso(found.earliest)
            answer["Latest"] = iso(found.latest)
        if found.paths:
            answer["Paths"] = dict(sorted(found.paths.items()))
        return answer


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
