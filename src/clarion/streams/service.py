"""PutEventStream, GetEventStream and DeleteEventStream: one stream per app, in ``event_streams``.

A new stream, or one moved to another destination, exports the events that arrive after it was
put: its cursor starts at the app's newest stored event. Putting the same destination again (to
change the RoleArn, say) keeps the cursor, so events still waiting for it are not skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from clarion.arns import check_role_arn
from clarion.errors import NotFound
from clarion.store.database import Database
from clarion.store.schema import event_streams, events
from clarion.streams.destinations import Destinations

_ONE_STREAM = sa.select(event_streams).where(event_streams.c.app_id == sa.bindparam("app_id"))


class EventStreams:
    def __init__(self, db: Database, destinations: Destinations, now: Callable[[], str]) -> None:
        self.db = db
        self.destinations = destinations
        self.now = now

    def put(self, app_id: str, request: Mapping[str, Any], updated_by: str) -> dict[str, Any]:
        target: str = request["DestinationStreamArn"]
        role_arn: str = request["RoleArn"]
        check_role_arn(role_arn, "WriteEventStream.RoleArn")
        self.destinations.check(target, app_id)
        values = {
            "destination_stream_arn": target,
            "role_arn": role_arn,
            "last_modified_date": self.now(),
            "last_updated_by": updated_by,
        }
        with self.db.write() as conn:
            current = conn.execute(_ONE_STREAM.with_for_update(), {"app_id": app_id}).first()
            if current is not None and current.destination_stream_arn == target:
                conn.execute(
                    event_streams.update().where(event_streams.c.app_id == app_id).values(**values)
                )
            else:
                newest = sa.select(sa.func.max(events.c.seq)).where(events.c.app_id == app_id)
                start = conn.execute(newest).scalar() or 0
                conn.execute(event_streams.delete().where(event_streams.c.app_id == app_id))
                conn.execute(
                    event_streams.insert().values(
                        app_id=app_id, exported_seq=start, last_error=None, **values
                    )
                )
        return self.get(app_id)

    def get(self, app_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute(_ONE_STREAM, {"app_id": app_id}).first()
        if row is None:
            raise NotFound(f"No event stream is configured for application {app_id}")
        return _response(row)

    def delete(self, app_id: str) -> dict[str, Any]:
        with self.db.write() as conn:
            row = conn.execute(_ONE_STREAM.with_for_update(), {"app_id": app_id}).first()
            if row is None:
                raise NotFound(f"No event stream is configured for application {app_id}")
            conn.execute(event_streams.delete().where(event_streams.c.app_id == app_id))
        return _response(row)


def _response(row: sa.Row[Any]) -> dict[str, Any]:
    """The EventStream shape; Pinpoint's deprecated ExternalId is never set."""
    stream = {
        "ApplicationId": row.app_id,
        "DestinationStreamArn": row.destination_stream_arn,
        "RoleArn": row.role_arn,
        "LastModifiedDate": row.last_modified_date,
    }
    if row.last_updated_by:
        stream["LastUpdatedBy"] = row.last_updated_by
    return stream
