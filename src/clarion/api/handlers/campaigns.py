"""Campaigns: create, update (new version), read, list, versions, delete, activities."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output


def create_campaign(ctx: Context, params: Input) -> Output:
    campaign = ctx.clarion.campaigns.create(params["ApplicationId"], params["WriteCampaignRequest"])
    return {"CampaignResponse": campaign}


def update_campaign(ctx: Context, params: Input) -> Output:
    campaign = ctx.clarion.campaigns.update(
        params["ApplicationId"], params["CampaignId"], params["WriteCampaignRequest"]
    )
    return {"CampaignResponse": campaign}


def get_campaign(ctx: Context, params: Input) -> Output:
    return {
        "CampaignResponse": ctx.clarion.campaigns.get(params["ApplicationId"], params["CampaignId"])
    }


def get_campaign_version(ctx: Context, params: Input) -> Output:
    campaign = ctx.clarion.campaigns.version(
        params["ApplicationId"], params["CampaignId"], params["Version"]
    )
    return {"CampaignResponse": campaign}


def get_campaigns(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.campaigns.page(
        params["ApplicationId"], params.get("PageSize"), params.get("Token")
    )
    return {"CampaignsResponse": page}


def get_campaign_versions(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.campaigns.versions(
        params["ApplicationId"], params["CampaignId"], params.get("PageSize"), params.get("Token")
    )
    return {"CampaignsResponse": page}


def delete_campaign(ctx: Context, params: Input) -> Output:
    campaign = ctx.clarion.campaigns.delete(params["ApplicationId"], params["CampaignId"])
    return {"CampaignResponse": campaign}


def get_campaign_activities(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.campaigns.activities(
        params["ApplicationId"], params["CampaignId"], params.get("PageSize"), params.get("Token")
    )
    return {"ActivitiesResponse": page}
