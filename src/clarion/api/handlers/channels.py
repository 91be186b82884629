"""Get, Update and Delete of every channel (Email, Sms, Voice, Gcm, the four APNs, Adm, Baidu),
and GetChannels. The thirty per-channel operations differ only in their platform and member
names, so they are made from one table."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Handler, Input, Output
from clarion.channels.rules import PLATFORMS

_OPERATION_NAMES = {
    "Email": "EMAIL",
    "Sms": "SMS",
    "Voice": "VOICE",
    "Gcm": "GCM",
    "Apns": "APNS",
    "ApnsSandbox": "APNS_SANDBOX",
    "ApnsVoip": "APNS_VOIP",
    "ApnsVoipSandbox": "APNS_VOIP_SANDBOX",
    "Adm": "ADM",
    "Baidu": "BAIDU",
}


def _handlers(platform: str) -> tuple[Handler, Handler, Handler]:
    request_member = PLATFORMS[platform].request
    response_member = request_member.removesuffix("Request") + "Response"

    def get(ctx: Context, params: Input) -> Output:
        return {response_member: ctx.clarion.channels.get(params["ApplicationId"], platform)}

    def update(ctx: Context, params: Input) -> Output:
        channel = ctx.clarion.channels.update(
            params["ApplicationId"], platform, params[request_member], ctx.access_key_id
        )
        return {response_member: channel}

    def delete(ctx: Context, params: Input) -> Output:
        return {response_member: ctx.clarion.channels.delete(params["ApplicationId"], platform)}

    return get, update, delete


def _family(name: str, platform: str) -> dict[str, Handler]:
    get, update, delete = _handlers(platform)
    return {
        f"Get{name}Channel": get,
        f"Update{name}Channel": update,
        f"Delete{name}Channel": delete,
    }


FAMILY_OPERATIONS = {
    operation: handler
    for name, platform in _OPERATION_NAMES.items()
    for operation, handler in _family(name, platform).items()
}
"""Get, Update and Delete of each of the ten channels."""


def get_channels(ctx: Context, params: Input) -> Output:
    return {"ChannelsResponse": {"Channels": ctx.clarion.channels.all(params["ApplicationId"])}}
