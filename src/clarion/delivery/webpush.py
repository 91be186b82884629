"""Browser push: Web Push delivery (RFC 8030), message encryption (RFC 8291) and VAPID (RFC 8292).

A WEB endpoint's address is the browser's PushSubscription as JSON. Each message is encrypted
for that subscription alone (aes128gcm: a fresh P-256 key and salt per message, ECDH with the
browser's key, HKDF with its auth secret, AES-128-GCM), so the push service relays what it
cannot read, and is POSTed to the subscription's endpoint with a VAPID token that proves it
comes from the server the browser subscribed to. Tokens are signed per push service and reused
for up to eleven hours.

The service worker receives a JSON object (title, body, image, data, action, url, silent), or
the message's raw content as it is.

2xx is DELIVERED with the message's Location; 404 and 410 mean the subscription is gone and 413
that the message is too big, PERMANENT like every other refusal; 429, 5xx and network failures
are TRANSIENT.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clarion.clock import Clock, system_clock
from clarion.delivery.base import Outcome, Result
from clarion.delivery.jwt import b64url, b64url_decode, load_signing_key, sign
from clarion.delivery.push import Push, network_failure
from clarion.outbound import OutboundPolicy, is_loopback

DEFAULT_TTL = 28 * 24 * 3600
"""FCM's longest, which Pinpoint also applied when a message set none."""
RECORD_SIZE = 4096
MAX_PAYLOAD = RECORD_SIZE - 86 - 16 - 1
"""What fits in the 4096-byte body push services must accept: less the header (salt, record
size, key), the GCM tag and the padding delimiter."""
VAPID_SECONDS = 12 * 3600
_VAPID_RENEW_BEFORE = 3600


@dataclass(frozen=True)
class Vapid:
    """The server's VAPID key pair and the contact push services may write to."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    subject: str
    """``mailto:ops@example.com`` or an https URL."""

    def __post_init__(self) -> None:
        if not isinstance(self.private_key.curve, ec.SECP256R1):
            raise ValueError("the VAPID key must be an elliptic-curve key on P-256")
        if not self.subject.startswith(("mailto:", "https://")):
            raise ValueError(f"VAPID subject {self.subject!r} must be a mailto: or https: URL")

    @classmethod
    def from_pem(cls, pem: str, subject: str) -> Vapid:
        key = load_signing_key(pem, "the VAPID private key")
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the VAPID key must be an elliptic-curve key on P-256")
        return cls(key, subject)

    @property
    def public_key(self) -> str:
        """The applicationServerKey browsers subscribe with, as base64url."""
        return b64url(_point(self.private_key.public_key()))


def new_vapid_pem() -> bytes:
    """A fresh P-256 key pair for VAPID, as PKCS#8 PEM."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class Subscription:
    endpoint: str = field(repr=False)
    """A capability URL: whoever holds it may push, so it is never quoted in a message."""
    browser_key: ec.EllipticCurvePublicKey
    auth_secret: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> Subscription:
        try:
            document = json.loads(text)
        except ValueError:
            raise ValueError("the WEB address is not a PushSubscription in JSON") from None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, dict) or not isinstance(document.get("endpoint"), str):
            raise ValueError("the PushSubscription needs endpoint, keys.p256dh and keys.auth")
        endpoint = document["endpoint"]
        parts = urlsplit(endpoint)
        secure = parts.scheme == "https" or (
            parts.scheme == "http" and is_loopback(parts.hostname or "")
        )
        if not secure or not parts.hostname or parts.username is not None:
            raise ValueError("the PushSubscription endpoint must be an https URL")
        try:
            browser_key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b64url_decode(str(keys.get("p256dh", "")))
            )
            auth_secret = b64url_decode(str(keys.get("auth", "")))
        except ValueError:
            raise ValueError(
                "the PushSubscription keys.p256dh must be a P-256 public key and keys.auth "
                "a secret, both in base64url"
            ) from None
        if len(auth_secret) != 16:
            raise ValueError("the PushSubscription keys.auth must be 16 bytes")
        return cls(endpoint, browser_key, auth_secret)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{parts.netloc}"


def encrypt(
    plaintext: bytes,
    subscription: Subscription,
    *,
    server_key: ec.EllipticCurvePrivateKey | None = None,
    salt: bytes | None = None,
) -> bytes:
    """The aes128gcm body of RFC 8291 for one subscription, in a single record."""
    if len(plaintext) > MAX_PAYLOAD:
        raise ValueError(f"the payload is {len(plaintext)} bytes; Web Push takes {MAX_PAYLOAD}")
    server_key = server_key or ec.generate_private_key(ec.SECP256R1())
    salt = salt or os.urandom(16)
    server_point = _point(server_key.public_key())
    shared = server_key.exchange(ec.ECDH(), subscription.browser_key)
    key_info = b"WebPush: info\x00" + _point(subscription.browser_key) + server_point
    input_key = _hkdf(shared, subscription.auth_secret, key_info, 32)
    content_key = _hkdf(input_key, salt, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(input_key, salt, b"Content-Encoding: nonce\x00", 12)
    ciphertext = AESGCM(content_key).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(server_point)) + server_point
    return header + ciphertext


def _hkdf(secret: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SHA256(), length, salt, info).derive(secret)


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


class WebPushAdapter:
    def __init__(
        self,
        vapid: Vapid,
        *,
        policy: OutboundPolicy,
        clock: Clock = system_clock,
        timeout: float = 30.0,
        max_connections: int = 100,
    ) -> None:
        self.vapid = vapid
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._http = policy.async_http_client(
            http2=True,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def send(self, message: Push) -> Result:
        try:
            subscription = Subscription.parse(message.token)
            body = encrypt(web_payload(message), subscription)
        except ValueError as error:
            return Result(Outcome.PERMANENT, 0, str(error))
        time_to_live = DEFAULT_TTL if message.time_to_live is None else message.time_to_live
        headers = {
            "TTL": str(time_to_live),
            "Urgency": message.priority,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": self._authorization(subscription.origin),
        }
        try:
            response = await self._http.post(subscription.endpoint, content=body, headers=headers)
        except httpx.TransportError as error:
            return network_failure(error)
        return _outcome(response)

    async def close(self) -> None:
        await self._http.aclose()

    def _authorization(self, audience: str) -> str:
        now = int(self._clock().timestamp())
        cached = self._tokens.get(audience)
        if cached is None or now >= cached[1]:
            expires = now + VAPID_SECONDS
            claims = {"aud": audience, "exp": expires, "sub": self.vapid.subject}
            cached = (sign(claims, self.vapid.private_key), expires - _VAPID_RENEW_BEFORE)
            self._tokens[audience] = cached
        return f"vapid t={cached[0]}, k={self.vapid.public_key}"


def web_payload(push: Push) -> bytes:
    if push.raw is not None:
        return push.raw.encode()
    fields: dict[str, Any] = {
        "title": push.title,
        "body": push.body,
        "image": push.image_url,
        "data": dict(push.data) or None,
        "action": push.action,
        "url": push.url,
        "silent": push.silent or None,
    }
    document = {name: value for name, value in fields.items() if value is not None}
    return json.dumps(document, separators=(",", ":")).encode()


def _outcome(response: httpx.Response) -> Result:
    status = response.status_code
    if response.is_success:
        return Result(Outcome.DELIVERED, status, "accepted", response.headers.get("location"))
    said = response.text.strip()[:200] or response.reason_phrase
    if status == 429 or status >= 500:
        return Result(Outcome.TRANSIENT, status, said)
    if status in (404, 410):
        return Result(Outcome.PERMANENT, status, f"the subscription is gone ({said})")
    if status in (401, 403):
        return Result(Outcome.PERMANENT, status, f"the push service refused VAPID ({said})")
    return Result(Outcome.PERMANENT, status, said)
