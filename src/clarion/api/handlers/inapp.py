"""In-app messaging: GetInAppMessages, the in-app campaigns an endpoint is entitled to."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output
from clarion.campaigns.inapp import InAppMessages
from clarion.store.inapp import InAppRepository


def get_in_app_messages(ctx: Context, params: Input) -> Output:
    clarion = ctx.clarion
    messages = InAppMessages(
        InAppRepository(clarion.db),
        clarion.engine.runs.live,
        clarion.segments,
        clarion.templates,
        lambda app_id: clarion.apps.record(app_id).settings,
        clarion.clock,
    )
    found = messages.for_endpoint(params["ApplicationId"], params["EndpointId"])
    return {"InAppMessagesResponse": {"InAppMessageCampaigns": found}}
