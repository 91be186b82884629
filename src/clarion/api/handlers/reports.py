"""Engagement reports under ``/clarion/v1/apps/{application-id}/reports/{report}``: what
Pinpoint's console showed, signed and scoped like every Pinpoint call."""

from __future__ import annotations

from typing import Any

from clarion.analytics import reports
from clarion.api.context import Context
from clarion.api.native import NativeRequest


def engagement_report(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    rows = reports.run(
        ctx.clarion.db,
        request.path_params["application-id"],
        request.path_params["report"],
        request.query,
        ctx.clarion.clock().date(),
    )
    return {"Rows": rows}


def funnel_report(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    """A POST because its steps are a list in a JSON body, not query parameters."""
    rows = reports.run_funnel(
        ctx.clarion.db,
        request.path_params["application-id"],
        request.query,
        request.body,
        ctx.clarion.clock().date(),
    )
    return {"Rows": rows}
