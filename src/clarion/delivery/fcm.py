"""Android push through Firebase Cloud Messaging's HTTP v1 API.

Google's service-account flow: an RS256 assertion signed with the ServiceJson's private key is
exchanged at its token URI for an access token, which is reused until five minutes before it
expires; then POST {base}/v1/projects/{project_id}/messages:send. A 401 means Google no longer
takes that access token: it is replaced once, however many sends saw it refused, and each of
those sends goes out once more with the new token (FCM took nothing the first time, so nothing
can arrive twice).

The message is laid out as Pinpoint did, a data message with ``pinpoint.*`` keys that the
Amplify libraries turn into the notification; RawContent may be FCM v1's own message
(``{"message": …}``, or SNS-style ``{"fcmV1Message": {"message": …}}``) or the legacy FCM
payload Pinpoint took before, which is translated.

200 is DELIVERED with FCM's message name; 429, 5xx and network failures TRANSIENT; anything else
PERMANENT: UNREGISTERED and INVALID_ARGUMENT mean the token is gone or the message can never be
sent, and refused credentials stay refused until the channel is fixed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from clarion.clock import Clock, system_clock
from clarion.delivery.base import Adapter, Outcome, Result
from clarion.delivery.jwt import load_signing_key, sign
from clarion.delivery.push import Push, answer_json, checked_base_url, network_failure
from clarion.outbound import OutboundPolicy

DEFAULT_BASE_URL = "https://fcm.googleapis.com"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LEGACY_KEY_REFUSED = "legacy FCM API keys are no longer accepted by Google; configure ServiceJson"
_ASSERTION_SECONDS = 3600
_RENEW_EARLY_SECONDS = 300
_LEGACY_NOTIFICATION_NAMES = {"android_channel_id": "channel_id"}
_LEGACY_ANDROID_MEMBERS = ("collapse_key", "restricted_package_name")


@dataclass(frozen=True)
class ServiceAccount:
    """The members of a Google service-account key file that the token flow uses."""

    project_id: str
    client_email: str
    private_key: rsa.RSAPrivateKey = field(repr=False)
    private_key_id: str | None
    token_uri: str

    @classmethod
    def from_json(cls, text: str) -> ServiceAccount:
        try:
            document = json.loads(text)
        except ValueError:
            raise ValueError("GCM ServiceJson is not JSON") from None
        if not isinstance(document, dict):
            raise ValueError("GCM ServiceJson must be a JSON object (a service-account key file)")
        for name in ("project_id", "client_email", "private_key"):
            if not isinstance(document.get(name), str) or not document[name].strip():
                raise ValueError(f"GCM ServiceJson lacks {name!r}")
        key = load_signing_key(document["private_key"], "GCM ServiceJson private_key")
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("GCM ServiceJson private_key must be an RSA key")
        key_id = document.get("private_key_id")
        token_uri = document.get("token_uri") or DEFAULT_TOKEN_URI
        return cls(
            project_id=document["project_id"],
            client_email=document["client_email"],
            private_key=key,
            private_key_id=key_id if isinstance(key_id, str) and key_id else None,
            token_uri=checked_base_url(str(token_uri), "GCM ServiceJson token_uri"),
        )


def fcm_adapter(
    credentials: Mapping[str, str], *, policy: OutboundPolicy, base_url: str | None = None
) -> Adapter[Push]:
    """The HTTP v1 adapter whenever the channel holds a ServiceJson, even with KEY as its
    default method: the legacy API that KEY names no longer exists."""
    if credentials.get("ServiceJson"):
        return FcmAdapter(
            ServiceAccount.from_json(credentials["ServiceJson"]),
            policy=policy,
            base_url=base_url or DEFAULT_BASE_URL,
        )
    if credentials.get("ApiKey"):
        return LegacyKeyRefused()
    raise ValueError("GCM credentials need ServiceJson (an FCM service-account key file)")


class LegacyKeyRefused:
    """A channel with only a legacy server key: Google shut that API down in 2024, so every
    message is refused without a request."""

    async def send(self, message: Push) -> Result:
        return Result(Outcome.PERMANENT, 0, LEGACY_KEY_REFUSED)

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class _AccessToken:
    value: str = field(repr=False)
    renew_at: float


class FcmAdapter:
    def __init__(
        self,
        account: ServiceAccount,
        *,
        policy: OutboundPolicy,
        base_url: str = DEFAULT_BASE_URL,
        token_uri: str | None = None,
        clock: Clock = system_clock,
        timeout: float = 30.0,
        max_connections: int = 100,
    ) -> None:
        self.account = account
        base = checked_base_url(base_url, "FCM base URL")
        self.send_url = f"{base}/v1/projects/{quote(account.project_id, safe='')}/messages:send"
        self.token_uri = checked_base_url(token_uri or account.token_uri, "FCM token URI")
        self._clock = clock
        self._token: _AccessToken | None = None
        self._token_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            http2=True,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        self._token_http = policy.async_http_client(timeout=timeout)
        """The token URI comes from the user's service account, so it obeys the policy."""

    async def send(self, message: Push) -> Result:
        try:
            request = {"message": fcm_message(message)}
        except ValueError as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        token = await self._access_token()
        if isinstance(token, Result):
            return token
        response = await self._post(request, token)
        if isinstance(response, httpx.Response) and _bearer_refused(response):
            token = await self._access_token(refused=token)
            if isinstance(token, Result):
                return token
            response = await self._post(request, token)
        if isinstance(response, Result):
            return response
        return _outcome(response)

    async def close(self) -> None:
        await self._http.aclose()
        await self._token_http.aclose()

    async def _post(self, request: dict[str, Any], token: str) -> httpx.Response | Result:
        try:
            return await self._http.post(
                self.send_url, json=request, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TransportError as error:
            return network_failure(error)

    async def _access_token(self, refused: str | None = None) -> str | Result:
        """The cached access token, or a new one when it is due or is the one just refused.
        Concurrent callers wait for a single token request."""
        current = self._current(refused)
        if current is not None:
            return current
        async with self._token_lock:
            current = self._current(refused)
            if current is not None:
                return current
            fetched = await self._fetch_token()
            if isinstance(fetched, Result):
                return fetched
            self._token = fetched
            return fetched.value

    def _current(self, refused: str | None) -> str | None:
        token = self._token
        if token is None or token.value == refused or self._clock().timestamp() >= token.renew_at:
            return None
        return token.value

    async def _fetch_token(self) -> _AccessToken | Result:
        now = int(self._clock().timestamp())
        account = self.account
        assertion = sign(
            {
                "iss": account.client_email,
                "scope": SCOPE,
                "aud": self.token_uri,
                "iat": now,
                "exp": now + _ASSERTION_SECONDS,
            },
            account.private_key,
            key_id=account.private_key_id,
        )
        try:
            response = await self._token_http.post(
                self.token_uri, data={"grant_type": GRANT_TYPE, "assertion": assertion}
            )
        except httpx.TransportError as error:
            return network_failure(error, "fetching an FCM access token: ")
        answer = answer_json(response)
        status = response.status_code
        value, lifetime = answer.get("access_token"), answer.get("expires_in", 3600)
        if response.is_success and isinstance(value, str) and isinstance(lifetime, int):
            return _AccessToken(value, now + lifetime - min(_RENEW_EARLY_SECONDS, lifetime // 2))
        said = (
            f"{answer.get('error', response.reason_phrase)}: {answer.get('error_description', '')}"
        )
        if status == 429 or status >= 500 or response.is_success:
            return Result(Outcome.TRANSIENT, status, f"fetching an FCM access token: {said}")
        return Result(
            Outcome.PERMANENT,
            status,
            f"Google refused the service account credentials ({said.rstrip(': ')})",
        )


def _bearer_refused(response: httpx.Response) -> bool:
    """A 401 about our access token, not about the APNs or Web Push credentials that FCM keeps
    for the app (THIRD_PARTY_AUTH_ERROR), which a new token cannot fix."""
    return response.status_code == 401 and _error(response)[0] != "THIRD_PARTY_AUTH_ERROR"


def _outcome(response: httpx.Response) -> Result:
    status = response.status_code
    if response.is_success:
        name = answer_json(response).get("name")
        return Result(
            Outcome.DELIVERED, status, "accepted", name if isinstance(name, str) else None
        )
    code, said = _error(response)
    detail = f"{code}: {said}" if said else code
    if status == 429 or status >= 500:
        return Result(Outcome.TRANSIENT, status, detail)
    if status in (401, 403) and code not in ("SENDER_ID_MISMATCH", "THIRD_PARTY_AUTH_ERROR"):
        return Result(Outcome.PERMANENT, status, f"FCM refused the credentials ({detail})")
    return Result(Outcome.PERMANENT, status, detail)


def _error(response: httpx.Response) -> tuple[str, str]:
    """FCM's own error code (UNREGISTERED…) when the answer has one, else the RPC status."""
    error = answer_json(response).get("error")
    if not isinstance(error, dict):
        return response.reason_phrase, ""
    code = str(error.get("status") or response.reason_phrase)
    for detail in error.get("details") or ():
        if isinstance(detail, dict) and detail.get("errorCode"):
            code = str(detail["errorCode"])
    return code, str(error.get("message", ""))


def fcm_message(push: Push) -> dict[str, Any]:
    """The v1 ``message`` for one push; ValueError when its raw content cannot be sent."""
    if push.raw is not None:
        return _raw_message(push)
    data: dict[str, str | None] = {
        "pinpoint.notification.title": push.title,
        "pinpoint.notification.body": push.body,
        "pinpoint.notification.silentPush": "1" if push.silent else "0",
        "pinpoint.notification.imageUrl": push.image_url,
        "pinpoint.notification.sound": push.sound,
        "pinpoint.jsonBody": json.dumps(dict(push.data)) if push.data else None,
    }
    if push.action == "OPEN_APP":
        data["pinpoint.openApp"] = "true"
    elif push.action == "URL":
        data["pinpoint.url"] = push.url
    else:
        data["pinpoint.deeplink"] = push.url
    return {
        "token": push.token,
        "data": {name: value for name, value in data.items() if value is not None},
        "android": _android_options(push.priority, push.time_to_live),
    }


def _android_options(priority: str, time_to_live: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {"priority": priority.upper()}
    if time_to_live is not None:
        options["ttl"] = f"{time_to_live}s"
    return options


def _raw_message(push: Push) -> dict[str, Any]:
    document = push.raw_object()
    document = document.get("fcmV1Message", document)
    if not isinstance(document, dict):
        raise ValueError(f"push {push.message_id}: raw content fcmV1Message must be an object")
    if "message" in document:
        message = document["message"]
        if not isinstance(message, dict):
            raise ValueError(f"push {push.message_id}: raw content message must be an object")
        targets = ("token", "topic", "condition")
        return {name: value for name, value in message.items() if name not in targets} | {
            "token": push.token
        }
    return _translated_legacy(push, document)


def _translated_legacy(push: Push, legacy: dict[str, Any]) -> dict[str, Any]:
    """The legacy HTTP payload (data, notification, priority, time_to_live…) as a v1 message."""
    message: dict[str, Any] = {"token": push.token}
    priority = str(legacy.pop("priority", push.priority)).lower()
    time_to_live = legacy.pop("time_to_live", push.time_to_live)
    if priority not in ("normal", "high") or not isinstance(time_to_live, int | None):
        raise ValueError(f"push {push.message_id}: raw priority or time_to_live is not valid")
    android = _android_options(priority, time_to_live)
    for name in _LEGACY_ANDROID_MEMBERS:
        if name in legacy:
            android[name] = legacy.pop(name)
    data = legacy.pop("data", None)
    if isinstance(data, dict):
        message["data"] = {
            str(name): value if isinstance(value, str) else json.dumps(value)
            for name, value in data.items()
        }
    notification = legacy.pop("notification", None)
    if isinstance(notification, dict):
        android["notification"] = {
            _LEGACY_NOTIFICATION_NAMES.get(name, name): value
            for name, value in notification.items()
        }
    if legacy:
        raise ValueError(
            f"push {push.message_id}: raw content member {sorted(legacy)[0]!r} has no "
            "FCM HTTP v1 equivalent"
        )
    message["android"] = android
    return message
