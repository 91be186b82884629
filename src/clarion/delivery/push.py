"""Mobile and web push: the message the pipeline hands to a push adapter, the factory that builds
the adapter for a channel from its stored credentials, and what the three adapters share.

``Push`` carries what Pinpoint's GCMMessage, APNSMessage and DefaultPushNotificationMessage have
in common, already merged and rendered for one endpoint. Each adapter lays it out the way
Pinpoint did for its platform, so apps built on the AWS Amplify push libraries keep working;
``raw`` (Pinpoint's RawContent) replaces that layout with the caller's own JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import httpx

from clarion.delivery.base import Outcome, Result
from clarion.outbound import is_loopback

PushPlatform = Literal["GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "WEB"]
"""The push services an adapter speaks to: a ChannelType for mobile push, WEB for the PUSH
channel. Not ``channels.rules.PLATFORMS``, which lists the channels an app sets up (web push
needs none, and ADM and Baidu are set up but cannot be sent to)."""
Action = Literal["OPEN_APP", "DEEP_LINK", "URL"]
Priority = Literal["normal", "high"]

PUSH_PLATFORMS: tuple[str, ...] = get_args(PushPlatform)
_ACTIONS: tuple[str, ...] = get_args(Action)
_PRIORITIES: tuple[str, ...] = get_args(Priority)


@dataclass(frozen=True)
class Push:
    """One push notification to one device or browser."""

    message_id: str
    """The pipeline's id for the message; APNs gets a UUID derived from it as ``apns-id``."""
    token: str
    """The endpoint's Address: an FCM registration token, an APNs device token, or for WEB the
    browser's PushSubscription as JSON (``endpoint``, ``keys.p256dh``, ``keys.auth``)."""
    platform: PushPlatform
    title: str | None = None
    body: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)
    """Pinpoint's Data: delivered to the app as ``jsonBody``, for silent pushes above all."""
    action: Action = "OPEN_APP"
    url: str | None = None
    """Where DEEP_LINK and URL lead."""
    silent: bool = False
    """A background push: no alert, no sound; the app wakes and reads ``data``."""
    priority: Priority = "high"
    """Pinpoint's default for APNs (10); ``normal`` is APNs priority 5."""
    time_to_live: int | None = None
    """Seconds the provider may hold the message for an offline device; None leaves it to the
    provider's default, 0 means now or never."""
    sound: str | None = None
    image_url: str | None = None
    raw: str | None = None
    """Pinpoint's RawContent: a JSON object that replaces the payload the adapter would build."""

    def __post_init__(self) -> None:
        if self.platform not in PUSH_PLATFORMS:
            raise ValueError(
                f"platform {self.platform!r} must be one of {', '.join(PUSH_PLATFORMS)}"
            )
        if not self.token.strip():
            raise ValueError(f"push {self.message_id} has an empty token")
        if self.action not in _ACTIONS:
            raise ValueError(f"action {self.action!r} must be one of {', '.join(_ACTIONS)}")
        if self.action != "OPEN_APP" and not self.url:
            raise ValueError(f"push {self.message_id} has action {self.action} but no url")
        if self.priority not in _PRIORITIES:
            raise ValueError(f"priority {self.priority!r} must be normal or high")
        if self.time_to_live is not None and self.time_to_live < 0:
            raise ValueError(f"push {self.message_id} has a negative time_to_live")
        if self.raw is not None:
            self.raw_object()
        elif not self.silent and self.title is None and self.body is None:
            raise ValueError(
                f"push {self.message_id} shows nothing: give a title or a body, or make it silent"
            )

    def raw_object(self) -> dict[str, Any]:
        """``raw`` parsed; it must be a JSON object."""
        try:
            document = json.loads(self.raw or "")
        except ValueError:
            raise ValueError(f"push {self.message_id}: raw content is not JSON") from None
        if not isinstance(document, dict):
            raise ValueError(f"push {self.message_id}: raw content must be a JSON object")
        return document


def checked_base_url(url: str, what: str) -> str:
    """``url`` without a trailing slash, if it is https or http on a loopback host. Errors quote
    it only once it is known to hold no credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"{what} is not a URL") from None
    if "@" in parts.netloc:
        raise ValueError(f"{what} must not carry a user or password")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{what} {url!r} must be an https:// URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"{what} {url!r} may use http only on a loopback host")
    if parts.query or parts.fragment:
        raise ValueError(f"{what} {url!r} must not have a query or a fragment")
    return url.rstrip("/")


def network_failure(error: httpx.TransportError, doing: str = "") -> Result:
    """No answer came: the same message may go through later."""
    described = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return Result(Outcome.TRANSIENT, 0, f"{doing}{described}")


def answer_json(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or an empty one when the body is something else."""
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
