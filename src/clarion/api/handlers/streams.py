"""PutEventStream, GetEventStream and DeleteEventStream."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output


def put_event_stream(ctx: Context, params: Input) -> Output:
    stream = ctx.clarion.streams.put(
        params["ApplicationId"], params["WriteEventStream"], ctx.access_key_id
    )
    return {"EventStream": stream}


def get_event_stream(ctx: Context, params: Input) -> Output:
    return {"EventStream": ctx.clarion.streams.get(params["ApplicationId"])}


def delete_event_stream(ctx: Context, params: Input) -> Output:
    return {"EventStream": ctx.clarion.streams.delete(params["ApplicationId"])}
