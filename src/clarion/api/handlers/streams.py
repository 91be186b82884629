"""PutEventStream, GetEventStream and DeleteEventStream."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output, operation


@operation("PutEventStream")
def put_event_stream(ctx: Context, params: Input) -> Output:
    stream = ctx.clarion.streams.put(
        params["ApplicationId"], params["WriteEventStream"], ctx.access_key_id
    )
    return {"EventStream": stream}


@operation("GetEventStream")
def get_event_stream(ctx: Context, params: Input) -> Output:
    return {"EventStream": ctx.clarion.streams.get(params["ApplicationId"])}


@operation("DeleteEventStream")
def delete_event_stream(ctx: Context, params: Input) -> Output:
    return {"EventStream": ctx.clarion.streams.delete(params["ApplicationId"])}
