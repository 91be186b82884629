"""Journeys through the API: create, read, update, list, delete, state changes, runs and
execution metrics.

States move as Pinpoint moves them: a journey is saved as DRAFT or published as ACTIVE;
UpdateJourneyState pauses (PAUSED), resumes (ACTIVE) or cancels (CANCELLED) it; the engine
marks it COMPLETED when it has run its course or passed its EndTime. Cancelling ends every
participant still in the journey, in the same transaction as the state change.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from clarion import paging
from clarion.arns import Arns
from clarion.clock import Clock, iso
from clarion.errors import BadRequest, NotFound
from clarion.journeys import metrics
from clarion.journeys.validation import (
    check_active_update,
    may_update,
    state_change,
    validate_journey,
)
from clarion.outbound import OutboundPolicy
from clarion.segments.service import Segments
from clarion.store.journeys import JourneyRepository, JourneyRun, StoredJourney
from clarion.tags import Tags

REQUEST = "WriteJourneyRequest"
TemplateExists = Callable[[str, str], bool]


class Journeys:
    def __init__(
        self,
        repo: JourneyRepository,
        segments: Segments,
        template_exists: TemplateExists,
        tags: Tags,
        arns: Arns,
        clock: Clock,
        policy: OutboundPolicy,
    ) -> None:
        self.repo = repo
        self.segments = segments
        self.template_exists = template_exists
        self.tags = tags
        self.arns = arns
        self.clock = clock
        self.policy = policy

    def create(self, app_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        definition = self._checked(app_id, request)
        now = iso(self.clock())
        journey = StoredJourney(
            app_id,
            uuid.uuid4().hex,
            now,
            now,
            definition.pop("State", None) or "DRAFT",
            definition,
        )
        self.repo.insert(journey)
        return self._response(journey)

    def update(self, app_id: str, journey_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """A new definition. A published journey keeps its activities and start, as Pinpoint
        freezes them; the rest (name, schedule, limits, quiet time) may change."""
        current = self.found(app_id, journey_id)
        may_update(current.state)
        definition = self._checked(
            app_id, {**request, "State": request.get("State") or current.state}
        )
        if current.state == "ACTIVE":
            check_active_update(current.definition, definition)
        state = definition.pop("State")
        if not self.repo.save(
            app_id,
            journey_id,
            only_from=(current.state,),
            definition=definition,
            state=state,
            last_modified_date=iso(self.clock()),
        ):
            raise BadRequest(f"Journey {journey_id} changed state while it was being updated")
        return self.get(app_id, journey_id)

    def set_state(self, app_id: str, journey_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        current = self.found(app_id, journey_id)
        requested = request.get("State")
        if not isinstance(requested, str):
            raise BadRequest("JourneyStateRequest.State is required: ACTIVE, PAUSED or CANCELLED")
        state = state_change(current.state, requested)
        now = self.clock()
        if state == "CANCELLED":
            self._cancel(current, now)
        if not self.repo.save(
            app_id,
            journey_id,
            only_from=(current.state,),
            state=state,
            last_modified_date=iso(now),
        ):
            raise BadRequest(f"Journey {journey_id} changed state while its state was being set")
        return self.get(app_id, journey_id)

    def _cancel(self, journey: StoredJourney, now: datetime) -> None:
        now_ms = int(now.timestamp() * 1000)
        with self.repo.db.write() as conn:
            stopped = self.repo.stop_active(conn, journey.app_id, journey.id, "CANCELLED")
            counts = Counter(
                {(run_id, "", metrics.CANCELLED): amount for run_id, amount in stopped.items()}
            )
            self.repo.count(conn, journey.app_id, journey.id, counts, now_ms)
            self.repo.close_runs(conn, journey.app_id, journey.id, "CANCELLED", now_ms)

    def get(self, app_id: str, journey_id: str) -> dict[str, Any]:
        return self._response(self.found(app_id, journey_id))

    def delete(self, app_id: str, journey_id: str) -> dict[str, Any]:
        response = self.get(app_id, journey_id)
        self.repo.delete(app_id, journey_id)
        self.tags.repo.put(self.arns.journey(app_id, journey_id), app_id, {})
        return response

    def page(self, app_id: str, size: str | None, token: str | None) -> dict[str, Any]:
        return paging.page(
            f"journeys:{app_id}",
            size,
            token,
            lambda after, limit: self.repo.page(app_id, after, limit),
            lambda row: row[0],
            lambda row: self._response(row[1]),
        )

    def exists(self, app_id: str, journey_id: str) -> bool:
        return self.repo.get(app_id, journey_id) is not None

    def found(self, app_id: str, journey_id: str) -> StoredJourney:
        journey = self.repo.get(app_id, journey_id)
        if journey is None:
            raise NotFound(f"Journey not found: {journey_id}")
        return journey

    # --- runs and metrics ---------------------------------------------------------------

    def runs(
        self, app_id: str, journey_id: str, size: str | None, token: str | None
    ) -> dict[str, Any]:
        self.found(app_id, journey_id)
        return paging.page(
            f"journey-runs:{journey_id}",
            size,
            token,
            lambda after, limit: self.repo.run_page(app_id, journey_id, after, limit),
            lambda row: row[0],
            lambda row: _run_response(row[1]),
        )

    def execution_metrics(self, app_id: str, journey_id: str) -> dict[str, Any]:
        self.found(app_id, journey_id)
        counters, updated = self.repo.counters(app_id, journey_id)
        return metrics.execution_response(app_id, journey_id, counters, self._evaluated(updated))

    def run_metrics(self, app_id: str, journey_id: str, run_id: str) -> dict[str, Any]:
        self._run(app_id, journey_id, run_id)
        counters, updated = self.repo.counters(app_id, journey_id, run_id=run_id)
        return metrics.run_response(app_id, journey_id, run_id, counters, self._evaluated(updated))

    def activity_metrics(
        self, app_id: str, journey_id: str, activity_id: str, run_id: str | None = None
    ) -> dict[str, Any]:
        journey = self.found(app_id, journey_id)
        activity = (journey.definition.get("Activities") or {}).get(activity_id)
        if activity is None:
            raise NotFound(f"Journey {journey_id} has no activity {activity_id}")
        if run_id is not None:
            self._run(app_id, journey_id, run_id)
        counters, updated = self.repo.counters(
            app_id, journey_id, activity_id=activity_id, run_id=run_id
        )
        evaluated = self._evaluated(updated)
        if run_id is None:
            return metrics.activity_response(
                app_id, journey_id, activity_id, activity, counters, evaluated
            )
        return metrics.run_activity_response(
            app_id, journey_id, run_id, activity_id, activity, counters, evaluated
        )

    def _run(self, app_id: str, journey_id: str, run_id: str) -> JourneyRun:
        self.found(app_id, journey_id)
        for run in self.repo.runs(app_id, journey_id):
            if run.run_id == run_id:
                return run
        raise NotFound(f"Journey {journey_id} has no run {run_id}")

    def _evaluated(self, updated_ms: int) -> datetime:
        if not updated_ms:
            return self.clock()
        return datetime.fromtimestamp(updated_ms / 1000, UTC)

    # --- definitions --------------------------------------------------------------------

    def _checked(self, app_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        validate_journey(
            request,
            segment_exists=lambda segment_id: self.segments.exists(app_id, segment_id),
            template_exists=self.template_exists,
        )
        for activity_id, activity in (request.get("Activities") or {}).items():
            uri = (activity.get("CUSTOM") or {}).get("DeliveryUri")
            if uri:
                self.policy.check_url(uri, f"{REQUEST}.Activities.{activity_id}.CUSTOM.DeliveryUri")
        definition = {
            k: v
            for k, v in request.items()
            if k not in ("CreationDate", "LastModifiedDate") and v is not None
        }
        schedule = definition.get("Schedule")
        if schedule:
            definition["Schedule"] = {
                k: iso(v) if isinstance(v, datetime) else v for k, v in schedule.items()
            }
        return definition

    def _response(self, journey: StoredJourney) -> dict[str, Any]:
        arn = self.arns.journey(journey.app_id, journey.id)
        return {
            **journey.definition,
            "ApplicationId": journey.app_id,
            "Id": journey.id,
            "CreationDate": journey.creation_date,
            "LastModifiedDate": journey.last_modified_date,
            "State": journey.state,
            "tags": self.tags.repo.get(arn),
        }


def _run_response(run: JourneyRun) -> dict[str, Any]:
    return {
        "RunId": run.run_id,
        "Status": run.status,
        "CreationTime": iso(datetime.fromtimestamp(run.creation_ms / 1000, UTC)),
        "LastUpdateTime": iso(datetime.fromtimestamp(run.last_update_ms / 1000, UTC)),
    }
