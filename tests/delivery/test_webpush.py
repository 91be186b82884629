"""The Web Push adapter against a loopback push service that checks VAPID and decrypts each
message as the subscribed browser would (RFC 8291), served by uvicorn."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from clarion.delivery import Adapter, Outcome, Result
from clarion.delivery.push import Push
from clarion.delivery.urls import push_adapter
from clarion.delivery.webpush import (
    DEFAULT_TTL,
    MAX_PAYLOAD,
    Subscription,
    Vapid,
    WebPushAdapter,
    encrypt,
)
from tests.conftest import free_port
from tests.delivery.conftest import LOOPBACK_PEERS
from tests.delivery.push_servers import (
    MovableClock,
    decrypt_aes128gcm,
    private_pem,
    public_point,
    unb64url,
    uvicorn_server,
    verify_jwt,
)

T = TypeVar("T")
SUBJECT = "mailto:ops@example.com"


@dataclass(frozen=True)
class Browser:
    """A browser's side of one subscription: the keys it made and the JSON it handed out."""

    key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    subscription: str

    @classmethod
    def subscribe(cls, endpoint: str) -> Browser:
        key = ec.generate_private_key(ec.SECP256R1())
        auth_secret = bytes(range(16))
        keys = {"p256dh": _b64url(public_point(key.public_key())), "auth": _b64url(auth_secret)}
        return cls(key, auth_secret, json.dumps({"endpoint": endpoint, "keys": keys}))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Delivered:
    headers: dict[str, str]
    vapid_claims: dict[str, Any]
    vapid_key: str
    plaintext: bytes
    body: bytes


class PushService:
    """Accepts pushes for the browsers it knows, decrypting each with that browser's keys."""

    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.delivered: list[Delivered] = []
        self.answers: list[int] = []
        self.app = Starlette(routes=[Route("/push/{id}", self.push, methods=["POST"])])

    def subscribe(self, base_url: str, name: str) -> Browser:
        browser = Browser.subscribe(f"{base_url}/push/{name}")
        self.browsers[name] = browser
        return browser

    async def push(self, request: Request) -> Response:
        if self.answers:
            return PlainTextResponse("refused", self.answers.pop(0))
        browser = self.browsers[request.path_params["id"]]
        headers = dict(request.headers)
        scheme, _, parameters = headers["authorization"].partition(" ")
        assert scheme == "vapid"
        values = dict(part.strip().split("=", 1) for part in parameters.split(","))
        vapid_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), unb64url(values["k"])
        )
        _, claims = verify_jwt(values["t"], vapid_key)
        body = await request.body()
        plaintext = decrypt_aes128gcm(body, browser.key, browser.auth_secret)
        self.delivered.append(Delivered(headers, claims, values["k"], plaintext, body))
        return Response(status_code=201, headers={"location": f"/message/{len(self.delivered)}"})


@pytest.fixture(scope="module")
def vapid() -> Vapid:
    return Vapid(ec.generate_private_key(ec.SECP256R1()), SUBJECT)


@contextmanager
def push_service() -> Iterator[tuple[PushService, str]]:
    peer = PushService()
    with uvicorn_server(peer.app) as base_url:
        yield peer, base_url


def push(browser: Browser | str, number: int = 1, **fields: Any) -> Push:
    token = browser if isinstance(browser, str) else browser.subscription
    values: dict[str, Any] = {
        "message_id": f"run-9.endpoint-{number}",
        "token": token,
        "platform": "WEB",
        "title": "Sale",
        "body": f"Hello {number}",
    }
    return Push(**(values | fields))


def run(adapter: Adapter[Push], scenario: Callable[[Adapter[Push]], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario(adapter)
        finally:
            await adapter.close()

    return asyncio.run(main())


def send_all(adapter: Adapter[Push], messages: list[Push]) -> list[Result]:
    async def scenario(adapter: Adapter[Push]) -> list[Result]:
        return [await adapter.send(message) for message in messages]

    return run(adapter, scenario)


def test_the_browser_decrypts_what_was_sent(vapid: Vapid) -> None:
    with push_service() as (peer, base_url):
        browser = peer.subscribe(base_url, "ann")
        message = push(
            browser,
            data={"offer": "42"},
            action="URL",
            url="https://example.com/sale",
            image_url="https://example.com/sale.png",
        )
        [result] = send_all(push_adapter("WEB", {}, policy=LOOPBACK_PEERS, vapid=vapid), [message])

    assert result == Result(Outcome.DELIVERED, 201, "accepted", "/message/1")
    [delivered] = peer.delivered
    assert json.loads(delivered.plaintext) == {
        "title": "Sale",
        "body": "Hello 1",
        "image": "https://example.com/sale.png",
        "data": {"offer": "42"},
        "action": "URL",
        "url": "https://example.com/sale",
    }
    headers = delivered.headers
    assert headers["ttl"] == str(DEFAULT_TTL)
    assert headers["urgency"] == "high"
    assert headers["content-encoding"] == "aes128gcm"
    assert delivered.vapid_key == vapid.public_key
    assert delivered.vapid_claims["aud"] == base_url
    assert delivered.vapid_claims["sub"] == SUBJECT


def test_every_message_has_its_own_key_and_salt(vapid: Vapid) -> None:
    with push_service() as (peer, base_url):
        browser = peer.subscribe(base_url, "ann")
        results = send_all(
            WebPushAdapter(vapid, policy=LOOPBACK_PEERS),
            [push(browser, 1, time_to_live=60, priority="normal", silent=True), push(browser, 1)],
        )

    assert [result.outcome for result in results] == [Outcome.DELIVERED] * 2
    first, second = peer.delivered
    assert first.body[:16] != second.body[:16]
    assert first.body[21:86] != second.body[21:86]
    assert (first.headers["ttl"], first.headers["urgency"]) == ("60", "normal")
    assert json.loads(first.plaintext)["silent"] is True


def test_encryption_matches_the_rfc_8291_example() -> None:
    """RFC 8291, appendix A: the same keys and salt give the same bytes."""
    server_key = ec.derive_private_key(
        int.from_bytes(unb64url("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"), "big"),
        ec.SECP256R1(),
    )
    subscription = Subscription.parse(
        json.dumps(
            {
                "endpoint": "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
                "keys": {
                    "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjy"
                    "Pjs7Vd8pZGH6SRpkNtoIAiw4",
                    "auth": "BTBZMqHH6r4Tts7J_aSIgg",
                },
            }
        )
    )

    body = encrypt(
        b"When I grow up, I want to be a watermelon",
        subscription,
        server_key=server_key,
        salt=unb64url("DGv6ra1nlYgDCS1FRnbzlw"),
    )

    assert body == unb64url(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLoc"
        "InmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBW"
        "LVWGNWQexSgSxsj_Qulcy4a-fN"
    )


def test_raw_content_reaches_the_service_worker_as_it_is(vapid: Vapid) -> None:
    raw = '{"kind": "order", "id": 7}'
    with push_service() as (peer, base_url):
        browser = peer.subscribe(base_url, "ann")
        [result] = send_all(WebPushAdapter(vapid, policy=LOOPBACK_PEERS), [push(browser, raw=raw)])

    assert result.outcome is Outcome.DELIVERED
    assert peer.delivered[0].plaintext == raw.encode()


def test_the_vapid_token_is_reused_for_eleven_hours(vapid: Vapid) -> None:
    clock = MovableClock()
    with push_service() as (peer, base_url):
        browsers = [peer.subscribe(base_url, name) for name in ("ann", "bob")]
        adapter = WebPushAdapter(vapid, policy=LOOPBACK_PEERS, clock=clock)

        async def scenario(adapter: Adapter[Push]) -> list[Result]:
            results = [await adapter.send(push(browser)) for browser in browsers]
            clock.advance(11 * 3600 - 1)
            results.append(await adapter.send(push(browsers[0])))
            clock.advance(1)
            results.append(await adapter.send(push(browsers[0])))
            return results

        results = run(adapter, scenario)

    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    expiries = [delivered.vapid_claims["exp"] for delivered in peer.delivered]
    start = int(MovableClock().now.timestamp())
    assert expiries == [start + 12 * 3600] * 3 + [start + 23 * 3600]


@pytest.mark.parametrize(
    ("status", "outcome", "detail"),
    [
        (410, Outcome.PERMANENT, "the subscription is gone (refused)"),
        (404, Outcome.PERMANENT, "the subscription is gone (refused)"),
        (403, Outcome.PERMANENT, "the push service refused VAPID (refused)"),
        (413, Outcome.PERMANENT, "refused"),
        (429, Outcome.TRANSIENT, "refused"),
        (503, Outcome.TRANSIENT, "refused"),
    ],
)
def test_answers_map_to_outcomes(vapid: Vapid, status: int, outcome: Outcome, detail: str) -> None:
    with push_service() as (peer, base_url):
        browser = peer.subscribe(base_url, "ann")
        peer.answers.append(status)
        [result] = send_all(WebPushAdapter(vapid, policy=LOOPBACK_PEERS), [push(browser)])

    assert result == Result(outcome, status, detail)


def test_no_answer_is_transient(vapid: Vapid) -> None:
    browser = Browser.subscribe(f"http://127.0.0.1:{free_port()}/push/ann")
    [result] = send_all(WebPushAdapter(vapid, policy=LOOPBACK_PEERS), [push(browser)])

    assert (result.outcome, result.status_code) == (Outcome.TRANSIENT, 0)


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("not json", "the WEB address is not a PushSubscription in JSON"),
        ('{"endpoint": "https://push.example.net/x"}', "the PushSubscription needs endpoint"),
        (
            Browser.subscribe("http://push.example.net/secret-capability").subscription,
            "the PushSubscription endpoint must be an https URL",
        ),
        (
            '{"endpoint": "https://push.example.net/x", "keys": {"p256dh": "AAAA", "auth": "x"}}',
            "the PushSubscription keys.p256dh must be a P-256 public key",
        ),
    ],
)
def test_a_broken_subscription_is_permanent_without_a_request(
    vapid: Vapid, token: str, detail: str
) -> None:
    [result] = send_all(WebPushAdapter(vapid, policy=LOOPBACK_PEERS), [push(token)])

    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 0)
    assert result.detail.startswith(detail)
    assert "secret-capability" not in result.detail


def test_a_payload_too_big_for_web_push_is_permanent(vapid: Vapid) -> None:
    with push_service() as (peer, base_url):
        browser = peer.subscribe(base_url, "ann")
        fits = json.dumps({"pad": "x" * (MAX_PAYLOAD - 11)})
        results = send_all(
            WebPushAdapter(vapid, policy=LOOPBACK_PEERS),
            [push(browser, raw=fits), push(browser, raw=fits.replace("x", "xx", 1))],
        )

    assert len(fits) == MAX_PAYLOAD
    assert results[0].outcome is Outcome.DELIVERED
    assert len(peer.delivered[0].body) == 4096
    assert results[1] == Result(
        Outcome.PERMANENT, 0, f"the payload is {MAX_PAYLOAD + 1} bytes; Web Push takes 3993"
    )


def test_web_push_needs_a_vapid_key() -> None:
    with pytest.raises(ValueError, match=r"^Web Push needs the server's VAPID key"):
        push_adapter("WEB", {}, policy=LOOPBACK_PEERS)


def test_vapid_keys_and_subjects_are_checked() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    assert Vapid.from_pem(private_pem(key), SUBJECT).public_key == _b64url(
        public_point(key.public_key())
    )
    with pytest.raises(ValueError, match="must be a mailto: or https: URL"):
        Vapid(key, "ops@example.com")
    with pytest.raises(ValueError, match=r"^the VAPID private key is not an unencrypted PEM"):
        Vapid.from_pem("secret", SUBJECT)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError, match="must be an elliptic-curve key on P-256"):
        Vapid.from_pem(private_pem(rsa_key), SUBJECT)
