"""How endpoints enter journeys: segment reads (at StartTime, then each RefreshFrequency or
segment update), and events that meet an EventStartCondition.

Entering is one transaction per batch: the participants' rows, the counters that count them
and the run's place in the segment walk commit together, so a walk cut short by a crash
resumes after the last batch it committed and never enters anyone twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clarion.campaigns.eligibility import Skip
from clarion.campaigns.schedule import local_send_time
from clarion.clock import epoch_ms
from clarion.journeys import metrics
from clarion.journeys.plan import Plan
from clarion.journeys.zones import participant_zone
from clarion.store.journeys import Entries, JourneyRepository, JourneyRun

Counts = Counter[tuple[str, str, str]]
"""Counter increments keyed (run id, activity id or "", metric name)."""


def run_id(journey_id: str, number: int) -> str:
    """Run ids are derived from the journey and the run's number, so two nodes that start the
    same run at once store it once."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clarion:journey:{journey_id}:{number}").hex


def admit(
    repo: JourneyRepository,
    conn: Connection,
    plan: Plan,
    run: str,
    candidates: Sequence[tuple[str, Mapping[str, Any]]],
    now: datetime,
    counts: Counts,
    *,
    report_rejections: bool,
) -> int:
    """Enter those of ``candidates`` (endpoint key, document) the journey's rules let in, at
    its first activity. Rejections (already in the journey, re-entry cap or interval) are
    counted when ``report_rejections``: an event start reports them, a segment re-read, which
    meets every earlier participant again, does not. Returns how many entered."""
    if not candidates:
        return 0
    now_ms = epoch_ms(now)
    history = repo.entries(conn, plan.app_id, plan.id, [key for key, _ in candidates])
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for key, document in candidates:
        counts[(run, "", metrics.PRODUCED)] += 1
        if key in seen:
            counts[(run, "", metrics.DUPLICATE_ENDPOINT)] += 1
            continue
        seen.add(key)
        before = history.get(key)
        reason = kept_out(plan, key, document, before, now_ms)
        if reason is not None:
            if report_rejections or reason not in REJECTIONS:
                counts[(run, "", reason)] += 1
            continue
        rows.append(
            {
                "app_id": plan.app_id,
                "journey_id": plan.id,
                "endpoint_key": key,
                "entry": (before.count if before else 0) + 1,
                "run_id": run,
                "activity_id": plan.start_activity,
                "entered_ms": now_ms,
                "due_ms": first_due(plan, document, now),
            }
        )
        counts[(run, "", metrics.ENTERED)] += 1
    repo.enter(conn, rows)
    return len(rows)


REJECTIONS = (metrics.ACTIVE_ENDPOINT_REJECTED, metrics.REENTRY_CAP_EXCEEDED)
"""Reasons that concern an endpoint's earlier entries, not the endpoint itself."""


def kept_out(
    plan: Plan, key: str, document: Mapping[str, Any], before: Entries | None, now_ms: int
) -> str | None:
    """Why the endpoint may not enter now (the metric that counts it), or None: it opted
    out, is inactive, is in the journey already, or re-entry does not allow it yet."""
    skip = plan.eligibility.reach(document, key, None).skip
    if skip is Skip.OPT_OUT:
        return metrics.ENDPOINT_OPT_OUT
    if skip is Skip.INACTIVE:
        return metrics.ENDPOINT_INACTIVE
    if before is None:
        return None
    if before.active:
        return metrics.ACTIVE_ENDPOINT_REJECTED
    if plan.reentry_cap is not None and before.count >= plan.reentry_cap:
        return metrics.REENTRY_CAP_EXCEEDED
    if now_ms - before.last_entered_ms < plan.reentry_interval_ms:
        return metrics.REENTRY_CAP_EXCEEDED
    return None


def first_due(plan: Plan, document: Mapping[str, Any], now: datetime) -> int:
    """When a new participant takes its first step: at once, or, for a LocalTime journey,
    when its own clock reaches the journey's StartTime (the wall-clock time StartTime is in
    Schedule.Timezone)."""
    if not plan.local_time or plan.start is None:
        return epoch_ms(now)
    zone = participant_zone(document, plan.zone_methods)
    wall = plan.start.astimezone(plan.zone).replace(tzinfo=None)
    return max(epoch_ms(now), epoch_ms(local_send_time(wall, zone, plan.zone)))


def new_run(
    repo: JourneyRepository, conn: Connection, plan: Plan, number: int, now_ms: int, **position: Any
) -> JourneyRun:
    """Start run ``number`` of the journey (stored once however many nodes start it)."""
    run = JourneyRun(
        plan.app_id,
        plan.id,
        run_id(plan.id, number),
        "RUNNING",
        now_ms,
        now_ms,
        {"number": number, **position},
    )
    repo.add_run(conn, run)
    return run


def event_candidates(plan: Plan, accepted: Iterable[Any]) -> list[Any]:
    """The events (``events.service.Accepted``) that meet the journey's EventStartCondition;
    a SYSTEM filter looks only at Pinpoint's own events (types starting with "_")."""
    matcher = plan.event_filter
    if matcher is None:
        return []
    return [
        a
        for a in accepted
        if (matcher.filter_type != "SYSTEM" or a.event["EventType"].startswith("_"))
        and matcher.matches(a.event)
    ]


def segment_filter(segment: sa.ColumnElement[bool] | None) -> sa.ColumnElement[bool]:
    return sa.true() if segment is None else segment
