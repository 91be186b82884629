"""iOS push through the Apple Push Notification service's HTTP/2 API.

POST {base}/3/device/{token} over HTTP/2 only (APNs speaks nothing else), authenticated either by
a provider token, an ES256 JWT made from the TokenKey (.p8) and reused for 50 minutes (Apple
refuses tokens older than an hour and throttles ones renewed more often than every 20 minutes),
or by the channel's client certificate in the TLS handshake.

The payload is laid out as Pinpoint did: ``aps`` for the system, ``data.pinpoint.deeplink`` for
URL and DEEP_LINK, ``data.jsonBody`` for Data, ``data.media-url`` for the image. RawContent is
sent as it is.

200 is DELIVERED with the apns-id; 429 and 5xx and network failures TRANSIENT, and so is
ExpiredProviderToken, after which the next send signs a new token; 403 otherwise means Apple
refused the credentials, PERMANENT like every other refusal (410 Unregistered and 400
BadDeviceToken are the token gone for good).
"""

from __future__ import annotations

import json
import ssl
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clarion.clock import Clock, system_clock
from clarion.delivery.base import Outcome, Result
from clarion.delivery.jwt import load_signing_key, sign
from clarion.delivery.push import Push, answer_json, checked_base_url, network_failure

PRODUCTION_URL = "https://api.push.apple.com"
SANDBOX_URL = "https://api.sandbox.push.apple.com"
TOKEN_SECONDS = 50 * 60
APNS_ID_NAMESPACE = uuid.UUID("0b7e1c62-6f0e-5bd4-9a57-6f1c0d2a4e31")
"""``apns-id`` is uuid5 of this namespace and the message id: the same on every attempt."""
_TOKEN_MEMBERS = ("TokenKey", "TokenKeyId", "TeamId", "BundleId")
_CERTIFICATE_MEMBERS = ("Certificate", "PrivateKey")
_TOKEN_EXPIRED = "ExpiredProviderToken"


@dataclass
class ProviderToken:
    """Token authentication: the JWT APNs expects in ``authorization: bearer``."""

    key: ec.EllipticCurvePrivateKey = field(repr=False)
    key_id: str
    team_id: str
    clock: Clock = system_clock
    _current: tuple[str, float] | None = field(default=None, init=False, repr=False)

    def bearer(self) -> str:
        now = self.clock().timestamp()
        if self._current is None or now - self._current[1] >= TOKEN_SECONDS:
            issued = int(now)
            token = sign({"iss": self.team_id, "iat": issued}, self.key, key_id=self.key_id)
            self._current = (token, issued)
        return self._current[0]

    def forget(self, token: str) -> None:
        """APNs called ``token`` expired: the next send signs a new one."""
        if self._current is not None and self._current[0] == token:
            self._current = None


def apns_adapter(
    platform: str, credentials: Mapping[str, str], *, base_url: str | None = None
) -> ApnsAdapter:
    """Token authentication when DefaultAuthenticationMethod says TOKEN, or says nothing and a
    TokenKey is stored; the certificate otherwise."""
    method = credentials.get("DefaultAuthenticationMethod", "").upper()
    sandbox = platform.endswith("SANDBOX")
    default_url = SANDBOX_URL if sandbox else PRODUCTION_URL
    voip = "VOIP" in platform
    if method == "TOKEN" or (method != "CERTIFICATE" and credentials.get("TokenKey")):
        _require(platform, credentials, _TOKEN_MEMBERS, "token authentication")
        key = load_signing_key(credentials["TokenKey"], f"{platform} TokenKey")
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{platform} TokenKey must be the P-256 key of an APNs auth key")
        return ApnsAdapter(
            base_url or default_url,
            credentials["BundleId"],
            voip=voip,
            token=ProviderToken(key, credentials["TokenKeyId"], credentials["TeamId"]),
        )
    _require(platform, credentials, _CERTIFICATE_MEMBERS, "certificate authentication")
    bundle_id = credentials.get("BundleId") or certificate_topic(credentials["Certificate"])
    if bundle_id is None:
        raise ValueError(
            f"{platform} needs BundleId: its certificate does not name the app's bundle"
        )
    return ApnsAdapter(
        base_url or default_url,
        bundle_id,
        voip=voip,
        tls=client_certificate_context(
            credentials["Certificate"], credentials["PrivateKey"], platform
        ),
    )


def _require(
    platform: str, credentials: Mapping[str, str], members: tuple[str, ...], purpose: str
) -> None:
    missing = [name for name in members if not credentials.get(name)]
    if missing:
        raise ValueError(f"{platform} {purpose} needs {', '.join(missing)}")


def certificate_topic(certificate_pem: str) -> str | None:
    """The bundle id an APNs certificate was issued for: its subject's UID."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError:
        return None
    names = certificate.subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(names[0].value) if names else None


def client_certificate_context(
    certificate_pem: str, private_key_pem: str, platform: str, *, ca_file: str | None = None
) -> ssl.SSLContext:
    """A TLS context that verifies APNs (or ``ca_file``'s servers) and presents the channel's
    certificate. ``ssl`` loads certificates only from files, so they pass through a private
    temporary folder that is removed at once."""
    context = ssl.create_default_context(cafile=ca_file)
    with tempfile.TemporaryDirectory(prefix="clarion-apns-") as folder:
        certificate_file = Path(folder) / "certificate.pem"
        key_file = Path(folder) / "key.pem"
        certificate_file.write_text(certificate_pem)
        key_file.touch(mode=0o600)
        key_file.write_text(private_key_pem)
        try:
            context.load_cert_chain(certificate_file, key_file)
        except ssl.SSLError:
            raise ValueError(
                f"{platform} Certificate and PrivateKey are not a matching PEM certificate "
                "and unencrypted key"
            ) from None
    return context


class ApnsAdapter:
    def __init__(
        self,
        base_url: str,
        topic: str,
        *,
        voip: bool = False,
        token: ProviderToken | None = None,
        tls: ssl.SSLContext | None = None,
        clock: Clock = system_clock,
        timeout: float = 30.0,
        max_connections: int = 10,
    ) -> None:
        if (token is None) == (tls is None):
            raise ValueError("APNs needs exactly one of a provider token and a TLS certificate")
        self.base_url = checked_base_url(base_url, "APNs base URL")
        self.topic = f"{topic}.voip" if voip else topic
        self.voip = voip
        self.token = token
        self._clock = clock
        self._http = httpx.AsyncClient(
            http1=False,
            http2=True,
            verify=tls if tls is not None else True,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def send(self, message: Push) -> Result:
        apns_id = str(uuid.uuid5(APNS_ID_NAMESPACE, message.message_id))
        try:
            payload, push_type = apns_payload(message, voip=self.voip)
        except ValueError as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        headers = {
            "apns-topic": self.topic,
            "apns-push-type": push_type,
            "apns-priority": _priority(message, push_type),
            "apns-id": apns_id,
        }
        if message.time_to_live is not None:
            expires = 0 if message.time_to_live == 0 else self._now() + message.time_to_live
            headers["apns-expiration"] = str(expires)
        bearer = None
        if self.token is not None:
            bearer = self.token.bearer()
            headers["authorization"] = f"bearer {bearer}"
        try:
            response = await self._http.post(
                f"{self.base_url}/3/device/{quote(message.token, safe='')}",
                content=payload,
                headers=headers,
            )
        except httpx.TransportError as error:
            return network_failure(error)
        if response.status_code == 200:
            return Result(
                Outcome.DELIVERED, 200, "accepted", response.headers.get("apns-id", apns_id)
            )
        reason = str(answer_json(response).get("reason") or response.reason_phrase)
        if reason == _TOKEN_EXPIRED and self.token is not None and bearer is not None:
            self.token.forget(bearer)
        return _failure(response.status_code, reason)

    async def close(self) -> None:
        await self._http.aclose()

    def _now(self) -> int:
        return int(self._clock().timestamp())


def _priority(push: Push, push_type: str) -> str:
    """10 sends at once; Apple accepts only 5 for background pushes."""
    return "10" if push.priority == "high" and push_type != "background" else "5"


def _failure(status: int, reason: str) -> Result:
    if status == 429 or status >= 500 or reason == _TOKEN_EXPIRED:
        return Result(Outcome.TRANSIENT, status, reason)
    if status == 403:
        return Result(Outcome.PERMANENT, status, f"APNs refused the credentials ({reason})")
    return Result(Outcome.PERMANENT, status, reason)


def apns_payload(push: Push, *, voip: bool = False) -> tuple[bytes, str]:
    """The JSON body and the ``apns-push-type`` it calls for."""
    if push.raw is not None:
        document = push.raw_object()
        raw_aps = document.get("aps")
        background = push.silent or (
            isinstance(raw_aps, dict)
            and raw_aps.get("content-available") == 1
            and not {"alert", "badge", "sound"} & raw_aps.keys()
        )
        return push.raw.encode(), "voip" if voip else "background" if background else "alert"
    aps: dict[str, Any] = {}
    if push.silent:
        aps["content-available"] = 1
    else:
        aps["alert"] = {
            name: value
            for name, value in (("title", push.title), ("body", push.body))
            if value is not None
        }
        if push.sound is not None:
            aps["sound"] = push.sound
        if push.image_url is not None:
            aps["mutable-content"] = 1
    data: dict[str, Any] = {}
    if push.action != "OPEN_APP":
        data["pinpoint"] = {"deeplink": push.url}
    if push.data:
        data["jsonBody"] = dict(push.data)
    if push.image_url is not None:
        data["media-url"] = push.image_url
    document = {"aps": aps, "data": data} if data else {"aps": aps}
    push_type = "voip" if voip else "background" if push.silent else "alert"
    return json.dumps(document, separators=(",", ":")).encode(), push_type
