"""PutEventStream, GetEventStream and DeleteEventStream: one stream per app, in ``event_streams``.

A new stream, or one moved to another destination, exports the events that arrive after it was
put: its cursor starts at the app's newest stored event. Putting the same destination again (to
change the RoleArn, say) keeps the cursor, so events still waiting for it are not skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clarion.arns import check_role_arn
from clarion.clock import Clock, iso
from clarion.errors import NotFound
from clarion.store.streams import EventStream, EventStreamRepository
from clarion.streams.destinations import Destinations


class EventStreams:
    def __init__(
        self, repo: EventStreamRepository, destinations: Destinations, clock: Clock
    ) -> None:
        self.repo = repo
        self.destinations = destinations
        self.clock = clock

    def put(self, app_id: str, request: Mapping[str, Any], updated_by: str) -> dict[str, Any]:
        target: str = request["DestinationStreamArn"]
        role_arn: str = request["RoleArn"]
        check_role_arn(role_arn, "WriteEventStream.RoleArn")
        self.destinations.check(target, app_id)
        self.repo.put(app_id, target, role_arn, iso(self.clock()), updated_by)
        return self.get(app_id)

    def get(self, app_id: str) -> dict[str, Any]:
        return _response(app_id, self.repo.get(app_id))

    def delete(self, app_id: str) -> dict[str, Any]:
        return _response(app_id, self.repo.delete(app_id))


def _response(app_id: str, stream: EventStream | None) -> dict[str, Any]:
    """The EventStream shape (Pinpoint's deprecated ExternalId is never set); NotFound when the
    app has no stream."""
    if stream is None:
        raise NotFound(f"No event stream is configured for application {app_id}")
    answer = {
        "ApplicationId": stream.app_id,
        "DestinationStreamArn": stream.destination_stream_arn,
        "RoleArn": stream.role_arn,
        "LastModifiedDate": stream.last_modified_date,
    }
    if stream.last_updated_by:
        answer["LastUpdatedBy"] = stream.last_updated_by
    return answer
