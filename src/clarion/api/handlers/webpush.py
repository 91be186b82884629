"""Web push: the key browsers subscribe with, under ``/clarion/v1/web-push/public-key``.

Endpoints with ChannelType PUSH hold a browser's PushSubscription (JSON) as their Address;
Clarion signs their pushes with its own VAPID key pair, whose public half a web app passes to
``pushManager.subscribe`` as the applicationServerKey."""

from __future__ import annotations

from typing import Any

from clarion.api.context import Context
from clarion.api.native import NativeRequest


def web_push_public_key(ctx: Context, request: NativeRequest) -> dict[str, Any]:
    del request
    return {"PublicKey": ctx.clarion.vapid().public_key}
