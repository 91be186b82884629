"""The APNs adapter against a loopback APNs served by hypercorn over HTTP/2: h2c with prior
knowledge for token authentication, TLS with a client certificate for certificate
authentication."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clarion.delivery import Adapter, Outcome, Result
from clarion.delivery.apns import (
    APNS_ID_NAMESPACE,
    PRODUCTION_URL,
    SANDBOX_URL,
    ApnsAdapter,
    ProviderToken,
    apns_adapter,
    client_certificate_context,
)
from clarion.delivery.push import Push
from clarion.delivery.urls import push_adapter
from tests.conftest import free_port
from tests.delivery.conftest import LOOPBACK_PEERS, Tls
from tests.delivery.push_servers import (
    MovableClock,
    apns_client_certificate,
    hypercorn_server,
    private_pem,
    verify_jwt,
)

T = TypeVar("T")
BUNDLE = "com.example.shop"
KEY_ID = "ABC123DEFG"
TEAM_ID = "TEAM123456"
DEVICE = "a" * 64


def push(number: int = 1, **fields: Any) -> Push:
    values: dict[str, Any] = {
        "message_id": f"run-5.endpoint-{number}",
        "token": DEVICE,
        "platform": "APNS",
        "title": "Sale",
        "body": f"Hello {number}",
    }
    return Push(**(values | fields))


@dataclass(frozen=True)
class Received:
    http_version: str
    device: str
    headers: dict[str, str]
    payload: dict[str, Any]


class Apple:
    """APNs' send method: checks the provider token when it has a key, records each request,
    and answers with the queued answers, then 200."""

    def __init__(self, public_key: ec.EllipticCurvePublicKey | None = None) -> None:
        self.public_key = public_key
        self.received: list[Received] = []
        self.answers: list[tuple[int, str]] = []
        self.app = Starlette(routes=[Route("/3/device/{device}", self.push, methods=["POST"])])

    async def push(self, request: Request) -> Response:
        headers = dict(request.headers)
        self.received.append(
            Received(
                request.scope["http_version"],
                request.path_params["device"],
                headers,
                json.loads(await request.body()),
            )
        )
        if self.public_key is not None:
            try:
                verify_jwt(headers["authorization"].removeprefix("bearer "), self.public_key)
            except Exception:
                return JSONResponse({"reason": "InvalidProviderToken"}, 403)
        if self.answers:
            status, reason = self.answers.pop(0)
            return JSONResponse({"reason": reason}, status, headers={"apns-id": headers["apns-id"]})
        return Response(status_code=200, headers={"apns-id": headers["apns-id"]})

    def tokens(self) -> list[str]:
        return [item.headers["authorization"] for item in self.received]


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def token_credentials(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    return {
        "TokenKey": private_pem(key),
        "TokenKeyId": KEY_ID,
        "TeamId": TEAM_ID,
        "BundleId": BUNDLE,
    }


@contextmanager
def apple(public_key: ec.EllipticCurvePublicKey | None) -> Iterator[tuple[Apple, str]]:
    peer = Apple(public_key)
    with hypercorn_server(peer.app) as port:
        yield peer, f"http://127.0.0.1:{port}"


def run(adapter: Adapter[Push], scenario: Callable[[Adapter[Push]], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario(adapter)
        finally:
            await adapter.close()

    return asyncio.run(main())


def send_one(adapter: Adapter[Push], message: Push) -> Result:
    return run(adapter, lambda adapter: adapter.send(message))


def send_all(adapter: Adapter[Push], messages: list[Push]) -> list[Result]:
    async def scenario(adapter: Adapter[Push]) -> list[Result]:
        return [await adapter.send(message) for message in messages]

    return run(adapter, scenario)


def test_an_alert_goes_out_over_http2_with_pinpoint_layout(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    clock = MovableClock()
    message = push(
        data={"offer": "42"},
        action="URL",
        url="https://example.com/sale",
        time_to_live=3600,
        sound="chime",
        image_url="https://example.com/sale.png",
    )
    with apple(key.public_key()) as (peer, base_url):
        token = ProviderToken(key, KEY_ID, TEAM_ID, clock=clock)
        adapter = ApnsAdapter(base_url, BUNDLE, token=token, clock=clock)
        result = send_one(adapter, message)

    apns_id = str(uuid.uuid5(APNS_ID_NAMESPACE, "run-5.endpoint-1"))
    assert result == Result(Outcome.DELIVERED, 200, "accepted", apns_id)
    [received] = peer.received
    assert received.http_version == "2"
    assert received.device == DEVICE
    headers = received.headers
    assert headers["apns-topic"] == BUNDLE
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-priority"] == "10"
    assert headers["apns-id"] == apns_id
    assert headers["apns-expiration"] == str(int(clock.now.timestamp()) + 3600)
    jwt_header, claims = verify_jwt(
        headers["authorization"].removeprefix("bearer "), key.public_key()
    )
    assert jwt_header["kid"] == KEY_ID
    assert claims == {"iss": TEAM_ID, "iat": int(clock.now.timestamp())}
    assert received.payload == {
        "aps": {
            "alert": {"title": "Sale", "body": "Hello 1"},
            "sound": "chime",
            "mutable-content": 1,
        },
        "data": {
            "pinpoint": {"deeplink": "https://example.com/sale"},
            "jsonBody": {"offer": "42"},
            "media-url": "https://example.com/sale.png",
        },
    }


def test_the_apns_id_is_the_same_on_every_attempt(key: ec.EllipticCurvePrivateKey) -> None:
    with apple(key.public_key()) as (peer, base_url):
        adapter = push_adapter(
            "APNS", policy=LOOPBACK_PEERS, credentials=token_credentials(key), base_url=base_url
        )
        results = send_all(adapter, [push(1), push(1), push(2)])

    ids = [item.headers["apns-id"] for item in peer.received]
    assert ids[0] == ids[1] != ids[2]
    assert [result.provider_message_id for result in results] == ids


def test_a_silent_push_is_a_background_push_at_priority_5(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    message = push(title=None, body=None, silent=True, data={"sync": "now"}, time_to_live=0)
    with apple(key.public_key()) as (peer, base_url):
        result = send_one(
            push_adapter(
                "APNS", policy=LOOPBACK_PEERS, credentials=token_credentials(key), base_url=base_url
            ),
            message,
        )

    assert result.outcome is Outcome.DELIVERED
    [received] = peer.received
    assert received.headers["apns-push-type"] == "background"
    assert received.headers["apns-priority"] == "5"
    assert received.headers["apns-expiration"] == "0"
    assert received.payload == {
        "aps": {"content-available": 1},
        "data": {"jsonBody": {"sync": "now"}},
    }


def test_normal_priority_is_5_and_voip_goes_to_the_voip_topic(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    with apple(key.public_key()) as (peer, base_url):
        normal = push_adapter(
            "APNS", policy=LOOPBACK_PEERS, credentials=token_credentials(key), base_url=base_url
        )
        voip = push_adapter(
            "APNS_VOIP",
            policy=LOOPBACK_PEERS,
            credentials=token_credentials(key),
            base_url=base_url,
        )
        send_one(normal, push(1, priority="normal"))
        send_one(voip, push(2, platform="APNS_VOIP"))

    first, second = (item.headers for item in peer.received)
    assert (first["apns-topic"], first["apns-push-type"], first["apns-priority"]) == (
        BUNDLE,
        "alert",
        "5",
    )
    assert (second["apns-topic"], second["apns-push-type"], second["apns-priority"]) == (
        f"{BUNDLE}.voip",
        "voip",
        "10",
    )
    assert "apns-expiration" not in first


def test_the_provider_token_is_reused_for_50_minutes(key: ec.EllipticCurvePrivateKey) -> None:
    clock = MovableClock()
    with apple(key.public_key()) as (peer, base_url):
        adapter = ApnsAdapter(base_url, BUNDLE, token=ProviderToken(key, KEY_ID, TEAM_ID, clock))

        async def scenario(adapter: Adapter[Push]) -> list[Result]:
            results = list(await asyncio.gather(*(adapter.send(push(n)) for n in range(5))))
            clock.advance(50 * 60 - 1)
            results.append(await adapter.send(push(5)))
            clock.advance(1)
            results.append(await adapter.send(push(6)))
            return results

        results = run(adapter, scenario)

    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    tokens = peer.tokens()
    assert len(set(tokens[:6])) == 1
    assert tokens[6] != tokens[0]


@pytest.mark.parametrize(
    ("status", "reason", "outcome", "detail"),
    [
        (410, "Unregistered", Outcome.PERMANENT, "Unregistered"),
        (400, "BadDeviceToken", Outcome.PERMANENT, "BadDeviceToken"),
        (413, "PayloadTooLarge", Outcome.PERMANENT, "PayloadTooLarge"),
        (
            403,
            "InvalidProviderToken",
            Outcome.PERMANENT,
            "APNs refused the credentials (InvalidProviderToken)",
        ),
        (429, "TooManyRequests", Outcome.TRANSIENT, "TooManyRequests"),
        (500, "InternalServerError", Outcome.TRANSIENT, "InternalServerError"),
        (503, "ServiceUnavailable", Outcome.TRANSIENT, "ServiceUnavailable"),
    ],
)
def test_answers_map_to_outcomes(
    key: ec.EllipticCurvePrivateKey, status: int, reason: str, outcome: Outcome, detail: str
) -> None:
    with apple(key.public_key()) as (peer, base_url):
        peer.answers.append((status, reason))
        result = send_one(
            push_adapter(
                "APNS", policy=LOOPBACK_PEERS, credentials=token_credentials(key), base_url=base_url
            ),
            push(),
        )

    assert result == Result(outcome, status, detail)


def test_a_key_apple_does_not_know_is_refused_credentials(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    with apple(key.public_key()) as (_, base_url):
        result = send_one(
            push_adapter(
                "APNS",
                policy=LOOPBACK_PEERS,
                credentials=token_credentials(stranger),
                base_url=base_url,
            ),
            push(),
        )

    assert result == Result(
        Outcome.PERMANENT, 403, "APNs refused the credentials (InvalidProviderToken)"
    )


def test_an_expired_provider_token_is_transient_and_replaced(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    with apple(key.public_key()) as (peer, base_url):
        peer.answers.append((403, "ExpiredProviderToken"))
        results = send_all(
            push_adapter(
                "APNS", policy=LOOPBACK_PEERS, credentials=token_credentials(key), base_url=base_url
            ),
            [push(1), push(1)],
        )

    assert [(result.outcome, result.status_code) for result in results] == [
        (Outcome.TRANSIENT, 403),
        (Outcome.DELIVERED, 200),
    ]
    first, second = peer.tokens()
    assert first != second


def test_no_answer_is_transient(key: ec.EllipticCurvePrivateKey) -> None:
    adapter = push_adapter(
        "APNS",
        policy=LOOPBACK_PEERS,
        credentials=token_credentials(key),
        base_url=f"http://127.0.0.1:{free_port()}",
    )
    result = send_one(adapter, push())

    assert (result.outcome, result.status_code) == (Outcome.TRANSIENT, 0)


def test_raw_content_is_sent_as_it_is(key: ec.EllipticCurvePrivateKey) -> None:
    raw = '{"aps":{"content-available":1},"order":{"id":7}}'
    with apple(key.public_key()) as (peer, base_url):
        result = send_one(
            push_adapter(
                "APNS", policy=LOOPBACK_PEERS, credentials=token_credentials(key), base_url=base_url
            ),
            push(title=None, body=None, raw=raw),
        )

    assert result.outcome is Outcome.DELIVERED
    [received] = peer.received
    assert received.payload == json.loads(raw)
    assert received.headers["apns-push-type"] == "background"
    assert received.headers["apns-priority"] == "5"


def test_certificate_authentication_presents_the_client_certificate(
    tls: Tls, tmp_path: Path
) -> None:
    client = apns_client_certificate(tmp_path, BUNDLE)
    peer = Apple()
    with hypercorn_server(
        peer.app, certificate=tls.cert_file, key=tls.key_file, client_ca=client.ca_file
    ) as port:
        base_url = f"https://127.0.0.1:{port}"
        with_certificate = client_certificate_context(
            client.certificate, client.private_key, "APNS", ca_file=str(tls.ca_file)
        )
        delivered = send_one(ApnsAdapter(base_url, BUNDLE, tls=with_certificate), push(1))
        without = ssl.create_default_context(cafile=tls.ca_file)
        refused = send_one(ApnsAdapter(base_url, BUNDLE, tls=without), push(2))

    assert delivered.outcome is Outcome.DELIVERED
    assert (refused.outcome, refused.status_code) == (Outcome.TRANSIENT, 0)
    [received] = peer.received
    assert received.http_version == "2"
    assert "authorization" not in received.headers
    assert received.headers["apns-topic"] == BUNDLE


def test_the_certificate_names_the_topic_when_bundle_id_is_missing(tmp_path: Path) -> None:
    client = apns_client_certificate(tmp_path, BUNDLE)
    credentials = {"Certificate": client.certificate, "PrivateKey": client.private_key}

    adapter = apns_adapter("APNS_VOIP_SANDBOX", credentials)

    assert adapter.topic == f"{BUNDLE}.voip"
    assert adapter.base_url == SANDBOX_URL
    assert adapter.token is None
    asyncio.run(adapter.close())


def test_the_default_method_chooses_between_stored_credentials(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    client = apns_client_certificate(tmp_path, BUNDLE)
    both = token_credentials(key) | {
        "Certificate": client.certificate,
        "PrivateKey": client.private_key,
    }

    by_token = apns_adapter("APNS", both)
    by_certificate = apns_adapter("APNS", both | {"DefaultAuthenticationMethod": "CERTIFICATE"})

    assert by_token.token is not None and by_token.base_url == PRODUCTION_URL
    assert by_certificate.token is None
    asyncio.run(by_token.close())
    asyncio.run(by_certificate.close())


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({}, "APNS certificate authentication needs Certificate, PrivateKey"),
        ({"TokenKey": "secret"}, "APNS token authentication needs TokenKeyId, TeamId, BundleId"),
        ({"DefaultAuthenticationMethod": "TOKEN"}, "APNS token authentication needs TokenKey"),
        (
            {"TokenKey": "secret", "TokenKeyId": KEY_ID, "TeamId": TEAM_ID, "BundleId": BUNDLE},
            "APNS TokenKey is not an unencrypted PEM private key",
        ),
        (
            {"Certificate": "secret", "PrivateKey": "secret", "BundleId": BUNDLE},
            "APNS Certificate and PrivateKey are not a matching PEM certificate",
        ),
    ],
)
def test_incomplete_credentials_are_named_without_secrets(
    credentials: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)) as caught:
        push_adapter("APNS", policy=LOOPBACK_PEERS, credentials=credentials)
    assert "secret" not in str(caught.value)


def test_an_rsa_token_key_is_refused() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    credentials = token_credentials(ec.generate_private_key(ec.SECP256R1()))
    credentials["TokenKey"] = private_pem(rsa_key)
    with pytest.raises(ValueError, match=r"^APNS TokenKey must be the P-256 key"):
        push_adapter("APNS", policy=LOOPBACK_PEERS, credentials=credentials)


def test_a_base_url_with_credentials_is_refused_without_quoting_them(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    with pytest.raises(ValueError, match=r"^APNs base URL must not carry a user or password$"):
        push_adapter(
            "APNS",
            policy=LOOPBACK_PEERS,
            credentials=token_credentials(key),
            base_url="https://ops:secret@apns.example",
        )
    with pytest.raises(ValueError, match="may use http only on a loopback host"):
        push_adapter(
            "APNS",
            policy=LOOPBACK_PEERS,
            credentials=token_credentials(key),
            base_url="http://apns.example",
        )
