"""Journeys: the 12 Pinpoint operations, the simulate route, and the app's contact-center
web hook that ContactCenter activities hand participants off to.

NextToken and PageSize of the metrics operations are accepted and ignored: Pinpoint documents
them as "not supported for application, campaign, and journey metrics".
"""

from __future__ import annotations

from typing import Any

import orjson

from clarion.analytics import journeys as journey_kpis
from clarion.api.context import Context
from clarion.api.handlers import Input, Output
from clarion.api.native import NativeRequest
from clarion.errors import BadRequest


def create_journey(ctx: Context, params: Input) -> Output:
    journey = ctx.clarion.journeys.create(params["ApplicationId"], params["WriteJourneyRequest"])
    ctx.clarion.journey_loop.wake()
    return {"JourneyResponse": journey}


def update_journey(ctx: Context, params: Input) -> Output:
    journey = ctx.clarion.journeys.update(
        params["ApplicationId"], params["JourneyId"], params["WriteJourneyRequest"]
    )
    ctx.clarion.journey_loop.wake()
    return {"JourneyResponse": journey}


def update_journey_state(ctx: Context, params: Input) -> Output:
    journey = ctx.clarion.journeys.set_state(
        params["ApplicationId"], params["JourneyId"], params.get("JourneyStateRequest") or {}
    )
    ctx.clarion.journey_loop.wake()
    return {"JourneyResponse": journey}


def get_journey(ctx: Context, params: Input) -> Output:
    return {
        "JourneyResponse": ctx.clarion.journeys.get(params["ApplicationId"], params["JourneyId"])
    }


def delete_journey(ctx: Context, params: Input) -> Output:
    journey = ctx.clarion.journeys.delete(params["ApplicationId"], params["JourneyId"])
    return {"JourneyResponse": journey}


def list_journeys(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.journeys.page(
        params["ApplicationId"], params.get("PageSize"), params.get("Token")
    )
    return {"JourneysResponse": page}


def get_journey_runs(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.journeys.runs(
        params["ApplicationId"], params["JourneyId"], params.get("PageSize"), params.get("Token")
    )
    return {"JourneyRunsResponse": page}


def get_journey_execution_metrics(ctx: Context, params: Input) -> Output:
    found = ctx.clarion.journeys.execution_metrics(params["ApplicationId"], params["JourneyId"])
    return {"JourneyExecutionMetricsResponse": found}


def get_journey_execution_activity_metrics(ctx: Context, params: Input) -> Output:
    found = ctx.clarion.journeys.activity_metrics(
        params["ApplicationId"], params["JourneyId"], params["JourneyActivityId"]
    )
    return {"JourneyExecutionActivityMetricsResponse": found}


def get_journey_run_execution_metrics(ctx: Context, params: Input) -> Output:
    found = ctx.clarion.journeys.run_metrics(
        params["ApplicationId"], params["JourneyId"], params["RunId"]
    )
    return {"JourneyRunExecutionMetricsResponse": found}


def get_journey_run_execution_activity_metrics(ctx: Context, params: Input) -> Output:
    found = ctx.clarion.journeys.activity_metrics(
        params["ApplicationId"],
        params["JourneyId"],
        params["JourneyActivityId"],
        params["RunId"],
    )
    return {"JourneyRunExecutionActivityMetricsResponse": found}


def get_journey_date_range_kpi(ctx: Context, params: Input) -> Output:
    app_id, journey_id = params["ApplicationId"], params["JourneyId"]
    ctx.clarion.journeys.found(app_id, journey_id)
    response = journey_kpis.date_range_kpi(
        ctx.clarion.db,
        app_id,
        journey_id,
        params["KpiName"],
        params.get("StartTime"),
        params.get("EndTime"),
        ctx.clarion.clock(),
    )
    return {"JourneyDateRangeKpiResponse": response}


def simulate_journey(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    return ctx.clarion.journey_simulator.simulate(
        request.path_params["application-id"], request.path_params["journey-id"]
    )


def get_contact_center(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    return ctx.clarion.apps.contact_center(request.path_params["application-id"])


def put_contact_center(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    try:
        body = orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or set(body) - {"WebUrl"}:
        raise BadRequest('The body must be a JSON object with "WebUrl" (a string, or null)')
    url = body.get("WebUrl")
    if url is not None and not isinstance(url, str):
        raise BadRequest("WebUrl must be a string, or null to remove the hand-off")
    return ctx.clarion.apps.set_contact_center(request.path_params["application-id"], url or None)
