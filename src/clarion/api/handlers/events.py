"""PutEvents."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output


def put_events(ctx: Context, params: Input) -> Output:
    results = ctx.clarion.events.put(
        params["ApplicationId"],
        params["EventsRequest"]["BatchItem"],
        ctx.request_id,
        ctx.body_size,
        ctx.clarion.triggers,
    )
    return {"EventsResponse": results}
