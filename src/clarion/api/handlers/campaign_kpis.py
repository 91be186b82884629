"""GetCampaignDateRangeKpi, Pinpoint's campaign metrics, and the same metrics for one treatment
of a campaign under ``/clarion/v1/apps/{application-id}/campaigns/{campaign-id}/treatments/
{treatment-id}/kpis/{kpi-name}``: Pinpoint's console compared A/B treatments, its API did not.

NextToken and PageSize are accepted and ignored: Pinpoint documents them as "not supported for
application, campaign, and journey metrics", which answer in one page.
"""

from __future__ import annotations

from typing import Any

from clarion.analytics import campaigns as metrics
from clarion.api.context import Context
from clarion.api.handlers import Input, Output
from clarion.api.native import NativeRequest
from clarion.errors import NotFound


def _existing(ctx: Context, app_id: str, campaign_id: str) -> None:
    if not ctx.clarion.campaigns.exists(app_id, campaign_id):
        raise NotFound(f"Campaign not found: {campaign_id}")


def get_campaign_date_range_kpi(ctx: Context, params: Input) -> Output:
    app_id, campaign_id = params["ApplicationId"], params["CampaignId"]
    _existing(ctx, app_id, campaign_id)
    response = metrics.date_range_kpi(
        ctx.clarion.db,
        app_id,
        campaign_id,
        params["KpiName"],
        params.get("StartTime"),
        params.get("EndTime"),
        ctx.clarion.clock(),
    )
    return {"CampaignDateRangeKpiResponse": response}


def treatment_kpi(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    app_id, campaign_id = request.path_params["application-id"], request.path_params["campaign-id"]
    _existing(ctx, app_id, campaign_id)
    return metrics.treatment_kpi(
        ctx.clarion.db,
        app_id,
        campaign_id,
        request.path_params["treatment-id"],
        request.path_params["kpi-name"],
        request.query,
        ctx.clarion.clock(),
    )
