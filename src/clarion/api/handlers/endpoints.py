"""Endpoints and users: UpdateEndpoint(sBatch), GetEndpoint, DeleteEndpoint, the user calls
and RemoveAttributes."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output


def _accepted(ctx: Context) -> Output:
    return {"MessageBody": {"Message": "Accepted", "RequestID": ctx.request_id}}


def update_endpoint(ctx: Context, params: Input) -> Output:
    ctx.clarion.endpoints.update(
        params["ApplicationId"], params["EndpointId"], params["EndpointRequest"], ctx.request_id
    )
    return _accepted(ctx)


def update_endpoints_batch(ctx: Context, params: Input) -> Output:
    items = params["EndpointBatchRequest"]["Item"]
    ctx.clarion.endpoints.update_batch(params["ApplicationId"], items, ctx.request_id)
    return _accepted(ctx)


def get_endpoint(ctx: Context, params: Input) -> Output:
    endpoint = ctx.clarion.endpoints.get(params["ApplicationId"], params["EndpointId"])
    return {"EndpointResponse": endpoint}


def delete_endpoint(ctx: Context, params: Input) -> Output:
    endpoint = ctx.clarion.endpoints.delete(params["ApplicationId"], params["EndpointId"])
    return {"EndpointResponse": endpoint}


def get_user_endpoints(ctx: Context, params: Input) -> Output:
    found = ctx.clarion.endpoints.for_user(params["ApplicationId"], params["UserId"])
    return {"EndpointsResponse": {"Item": found}}


def delete_user_endpoints(ctx: Context, params: Input) -> Output:
    found = ctx.clarion.endpoints.delete_for_user(params["ApplicationId"], params["UserId"])
    return {"EndpointsResponse": {"Item": found}}


def remove_attributes(ctx: Context, params: Input) -> Output:
    request = params.get("UpdateAttributesRequest") or {}
    removed = ctx.clarion.endpoints.remove_attributes(
        params["ApplicationId"], params["AttributeType"], request.get("Blacklist")
    )
    return {"AttributesResource": removed}
