"""Pinpoint's ChannelType values and the groups that share an address form or a sender.

The one list of channels: sending, endpoint rules, channel settings and endpoint imports all
read it, so a channel cannot be known to one of them and missing from another. Imports nothing.
"""

from __future__ import annotations

from enum import StrEnum


class ChannelType(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    VOICE = "VOICE"
    GCM = "GCM"
    APNS = "APNS"
    APNS_SANDBOX = "APNS_SANDBOX"
    APNS_VOIP = "APNS_VOIP"
    APNS_VOIP_SANDBOX = "APNS_VOIP_SANDBOX"
    ADM = "ADM"
    BAIDU = "BAIDU"
    PUSH = "PUSH"
    """Web push: the endpoint's Address is the browser's PushSubscription (JSON) and the
    server's own VAPID key signs, so there is no per-app channel to set up."""
    CUSTOM = "CUSTOM"
    IN_APP = "IN_APP"


APNS_CHANNELS = frozenset(
    {
        ChannelType.APNS,
        ChannelType.APNS_SANDBOX,
        ChannelType.APNS_VOIP,
        ChannelType.APNS_VOIP_SANDBOX,
    }
)
DEVICE_TOKEN_CHANNELS = APNS_CHANNELS | {ChannelType.GCM, ChannelType.ADM, ChannelType.BAIDU}
"""Push channels whose Address is a device token."""
PUSH_CHANNELS = DEVICE_TOKEN_CHANNELS | {ChannelType.PUSH}
PHONE_CHANNELS = frozenset({ChannelType.SMS, ChannelType.VOICE})
