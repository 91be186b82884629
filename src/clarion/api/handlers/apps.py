"""CreateApp, GetApp, GetApps, DeleteApp and the application settings."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output
from clarion.errors import Forbidden


def create_app(ctx: Context, params: Input) -> Output:
    if ctx.app_scope is not None:
        raise Forbidden("This access key is limited to specific apps and cannot create apps")
    request = params["CreateApplicationRequest"]
    app = ctx.clarion.apps.create(request["Name"], request.get("tags") or {})
    return {"ApplicationResponse": app}


def get_app(ctx: Context, params: Input) -> Output:
    return {"ApplicationResponse": ctx.clarion.apps.get(params["ApplicationId"])}


def get_apps(ctx: Context, params: Input) -> Output:
    page = ctx.clarion.apps.page(params.get("PageSize"), params.get("Token"), ctx.app_scope)
    return {"ApplicationsResponse": page}


def delete_app(ctx: Context, params: Input) -> Output:
    return {"ApplicationResponse": ctx.clarion.apps.delete(params["ApplicationId"])}


def get_application_settings(ctx: Context, params: Input) -> Output:
    return {"ApplicationSettingsResource": ctx.clarion.apps.settings(params["ApplicationId"])}


def update_application_settings(ctx: Context, params: Input) -> Output:
    settings = ctx.clarion.apps.update_settings(
        params["ApplicationId"], params["WriteApplicationSettingsRequest"]
    )
    return {"ApplicationSettingsResource": settings}
