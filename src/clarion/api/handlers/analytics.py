"""GetApplicationDateRangeKpi: Pinpoint's application metrics, from the per-day rollups.

NextToken and PageSize are accepted and ignored: Pinpoint documents them as "not supported for
application, campaign, and journey metrics", which answer in one page.
"""

from __future__ import annotations

from clarion.analytics import kpis
from clarion.api.context import Context
from clarion.api.handlers import Input, Output


def get_application_date_range_kpi(ctx: Context, params: Input) -> Output:
    response = kpis.date_range_kpi(
        ctx.clarion.db,
        params["ApplicationId"],
        params["KpiName"],
        params.get("StartTime"),
        params.get("EndTime"),
        ctx.clarion.clock(),
    )
    return {"ApplicationDateRangeKpiResponse": response}
