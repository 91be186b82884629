"""E-mail open and click tracking switches under ``/clarion/v1/apps/{application-id}/
email-tracking``: both on until an app turns one off, as Pinpoint tracked the e-mails it sent
without set-up; Pinpoint had no switch of its own, so this one is Clarion's."""

from __future__ import annotations

from typing import Any

import orjson

from clarion.api.context import Context
from clarion.api.native import NativeRequest
from clarion.errors import BadRequest


def get_email_tracking(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    return ctx.clarion.engagement.settings(request.path_params["application-id"])


def put_email_tracking(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    try:
        body = orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or set(body) - {"Opens", "Clicks"}:
        raise BadRequest('The body must be a JSON object with "Opens" and/or "Clicks"')
    current = ctx.clarion.engagement.settings(request.path_params["application-id"])
    for member in ("Opens", "Clicks"):
        if member in body and not isinstance(body[member], bool):
            raise BadRequest(f"{member} must be true or false")
    opens = body.get("Opens", current["Opens"])
    clicks = body.get("Clicks", current["Clicks"])
    return ctx.clarion.engagement.update(request.path_params["application-id"], opens, clicks)
