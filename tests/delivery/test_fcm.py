"""The FCM HTTP v1 adapter against a loopback Google: a token endpoint that checks the signed
assertion and a messages:send that checks the access token, served by uvicorn."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clarion.delivery import Adapter, Outcome, Result
from clarion.delivery.fcm import GRANT_TYPE, SCOPE, FcmAdapter, ServiceAccount
from clarion.delivery.push import Push
from clarion.delivery.urls import push_adapter
from tests.conftest import free_port
from tests.delivery.conftest import LOOPBACK_PEERS
from tests.delivery.push_servers import MovableClock, private_pem, uvicorn_server, verify_jwt

T = TypeVar("T")
PROJECT = "clarion-test"


def push(number: int = 1, **fields: Any) -> Push:
    values: dict[str, Any] = {
        "message_id": f"run-3.endpoint-{number}",
        "token": f"fcm-token-{number}",
        "platform": "GCM",
        "title": "Sale",
        "body": f"Hello {number}",
    }
    return Push(**(values | fields))


class Google:
    """Google's OAuth token endpoint and FCM's send method, as far as the adapter uses them.
    Answers queued in ``answers`` replace the next sends' success."""

    def __init__(self, public_key: rsa.RSAPublicKey) -> None:
        self.public_key = public_key
        self.assertions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.refuse_every_token = False
        self.expires_in = 3600
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self.send, methods=["POST"]),
            ]
        )

    async def token(self, request: Request) -> JSONResponse:
        form = parse_qs((await request.body()).decode())
        assert form["grant_type"] == [GRANT_TYPE]
        try:
            header, claims = verify_jwt(form["assertion"][0], self.public_key)
        except Exception:
            return JSONResponse({"error": "invalid_grant", "error_description": "bad"}, 400)
        self.assertions.append((header, claims))
        token = f"ya29.token-{len(self.issued)}"
        self.issued.append(token)
        return JSONResponse(
            {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        )

    async def send(self, request: Request) -> JSONResponse:
        token = request.headers["authorization"].removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked or self.refuse_every_token:
            return JSONResponse(_error(401, "UNAUTHENTICATED"), 401)
        body = await request.json()
        if self.answers:
            status, answer = self.answers.pop(0)
            return JSONResponse(answer, status)
        self.sent.append(body)
        project = request.path_params["project"]
        return JSONResponse({"name": f"projects/{project}/messages/{len(self.sent)}"})


def _error(status: int, rpc_status: str, fcm_code: str | None = None) -> dict[str, Any]:
    details = [] if fcm_code is None else [{"@type": "FcmError", "errorCode": fcm_code}]
    return {
        "error": {"code": status, "message": "refused", "status": rpc_status, "details": details}
    }


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def service_json(key: rsa.RSAPrivateKey, token_uri: str) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "key-1",
            "private_key": private_pem(key),
            "client_email": f"sender@{PROJECT}.iam.gserviceaccount.com",
            "token_uri": token_uri,
        }
    )


@contextmanager
def google(key: rsa.RSAPrivateKey) -> Iterator[tuple[Google, str]]:
    peer = Google(key.public_key())
    with uvicorn_server(peer.app) as base_url:
        yield peer, base_url


def run(adapter: Adapter[Push], scenario: Callable[[Adapter[Push]], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario(adapter)
        finally:
            await adapter.close()

    return asyncio.run(main())


def adapter_for(key: rsa.RSAPrivateKey, base_url: str, **options: Any) -> FcmAdapter:
    account = ServiceAccount.from_json(service_json(key, f"{base_url}/token"))
    return FcmAdapter(account, policy=LOOPBACK_PEERS, base_url=base_url, **options)


def send_one(adapter: Adapter[Push], message: Push) -> Result:
    return run(adapter, lambda adapter: adapter.send(message))


def test_a_push_goes_out_as_pinpoint_laid_it_out(key: rsa.RSAPrivateKey) -> None:
    message = push(
        data={"offer": "42", "kind": "spring"},
        action="URL",
        url="https://example.com/sale",
        priority="normal",
        time_to_live=600,
        sound="chime",
        image_url="https://example.com/sale.png",
    )
    with google(key) as (peer, base_url):
        result = send_one(
            push_adapter(
                "GCM",
                policy=LOOPBACK_PEERS,
                credentials={"ServiceJson": service_json(key, f"{base_url}/token")},
                base_url=base_url,
            ),
            message,
        )

    assert result == Result(Outcome.DELIVERED, 200, "accepted", f"projects/{PROJECT}/messages/1")
    assert peer.sent == [
        {
            "message": {
                "token": "fcm-token-1",
                "data": {
                    "pinpoint.notification.title": "Sale",
                    "pinpoint.notification.body": "Hello 1",
                    "pinpoint.notification.silentPush": "0",
                    "pinpoint.notification.imageUrl": "https://example.com/sale.png",
                    "pinpoint.notification.sound": "chime",
                    "pinpoint.jsonBody": '{"offer": "42", "kind": "spring"}',
                    "pinpoint.url": "https://example.com/sale",
                },
                "android": {"priority": "NORMAL", "ttl": "600s"},
            }
        }
    ]
    [(header, claims)] = peer.assertions
    assert header["kid"] == "key-1"
    assert claims["iss"] == f"sender@{PROJECT}.iam.gserviceaccount.com"
    assert claims["scope"] == SCOPE
    assert claims["aud"] == f"{base_url}/token"
    assert claims["exp"] - claims["iat"] == 3600


def test_silent_push_and_deep_link_open_the_app_quietly(key: rsa.RSAPrivateKey) -> None:
    silent = push(1, title=None, body=None, silent=True, data={"sync": "now"})
    deep = push(2, action="DEEP_LINK", url="myapp://orders/7")
    with google(key) as (peer, base_url):
        adapter = adapter_for(key, base_url)
        results = run(adapter, lambda a: asyncio.gather(a.send(silent), a.send(deep)))

    assert [result.outcome for result in results] == [Outcome.DELIVERED] * 2
    by_token = {body["message"]["token"]: body["message"] for body in peer.sent}
    assert by_token["fcm-token-1"]["data"] == {
        "pinpoint.notification.silentPush": "1",
        "pinpoint.jsonBody": '{"sync": "now"}',
        "pinpoint.openApp": "true",
    }
    assert by_token["fcm-token-1"]["android"] == {"priority": "HIGH"}
    assert by_token["fcm-token-2"]["data"]["pinpoint.deeplink"] == "myapp://orders/7"


def test_one_access_token_serves_a_hundred_sends(key: rsa.RSAPrivateKey) -> None:
    with google(key) as (peer, base_url):
        adapter = adapter_for(key, base_url)
        results = run(adapter, lambda a: asyncio.gather(*(a.send(push(n)) for n in range(100))))

    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    assert len(peer.assertions) == 1
    assert sorted(body["message"]["token"] for body in peer.sent) == sorted(
        f"fcm-token-{n}" for n in range(100)
    )


def test_a_refused_access_token_is_replaced_once_for_every_send_that_saw_it(
    key: rsa.RSAPrivateKey,
) -> None:
    with google(key) as (peer, base_url):
        adapter = adapter_for(key, base_url)

        async def scenario(adapter: Adapter[Push]) -> list[Result]:
            first = await adapter.send(push(0))
            peer.revoked.add(peer.issued[0])
            return [first, *await asyncio.gather(*(adapter.send(push(n)) for n in range(1, 11)))]

        results = run(adapter, scenario)

    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    assert len(peer.assertions) == 2
    assert len(peer.sent) == 11


def test_credentials_refused_after_a_fresh_token_are_permanent(key: rsa.RSAPrivateKey) -> None:
    with google(key) as (peer, base_url):
        peer.refuse_every_token = True
        result = send_one(adapter_for(key, base_url), push())

    assert result.outcome is Outcome.PERMANENT
    assert result.status_code == 401
    assert result.detail.startswith("FCM refused the credentials (UNAUTHENTICATED")
    assert len(peer.assertions) == 2


def test_the_access_token_is_renewed_five_minutes_before_it_expires(
    key: rsa.RSAPrivateKey,
) -> None:
    clock = MovableClock()
    with google(key) as (peer, base_url):
        adapter = adapter_for(key, base_url, clock=clock)

        async def scenario(adapter: Adapter[Push]) -> list[Result]:
            results = [await adapter.send(push(1))]
            clock.advance(3600 - 301)
            results.append(await adapter.send(push(2)))
            requests_before_renewal = len(peer.assertions)
            clock.advance(1)
            results.append(await adapter.send(push(3)))
            assert requests_before_renewal == 1
            return results

        results = run(adapter, scenario)

    assert {result.outcome for result in results} == {Outcome.DELIVERED}
    assert len(peer.assertions) == 2
    assert peer.assertions[1][1]["iat"] == peer.assertions[0][1]["iat"] + 3300


@pytest.mark.parametrize(
    ("status", "answer", "outcome", "detail"),
    [
        (404, _error(404, "NOT_FOUND", "UNREGISTERED"), Outcome.PERMANENT, "UNREGISTERED"),
        (400, _error(400, "INVALID_ARGUMENT"), Outcome.PERMANENT, "INVALID_ARGUMENT"),
        (
            403,
            _error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"),
            Outcome.PERMANENT,
            "SENDER_ID_MISMATCH",
        ),
        (503, _error(503, "UNAVAILABLE"), Outcome.TRANSIENT, "UNAVAILABLE"),
        (
            429,
            _error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
            Outcome.TRANSIENT,
            "QUOTA_EXCEEDED",
        ),
        (500, {}, Outcome.TRANSIENT, "Internal Server Error"),
    ],
)
def test_answers_map_to_outcomes(
    key: rsa.RSAPrivateKey, status: int, answer: dict[str, Any], outcome: Outcome, detail: str
) -> None:
    with google(key) as (peer, base_url):
        peer.answers.append((status, answer))
        result = send_one(adapter_for(key, base_url), push())

    assert (result.outcome, result.status_code) == (outcome, status)
    assert result.detail.startswith(detail)
    assert result.provider_message_id is None


def test_no_answer_is_transient(key: rsa.RSAPrivateKey) -> None:
    with google(key) as (peer, base_url):
        closed = f"http://127.0.0.1:{free_port()}"
        account = ServiceAccount.from_json(service_json(key, f"{base_url}/token"))
        result = send_one(FcmAdapter(account, policy=LOOPBACK_PEERS, base_url=closed), push())

    assert (result.outcome, result.status_code) == (Outcome.TRANSIENT, 0)
    assert len(peer.assertions) == 1


def test_a_key_google_does_not_know_is_refused_at_the_token_endpoint(
    key: rsa.RSAPrivateKey,
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with google(key) as (peer, base_url):
        result = send_one(adapter_for(stranger, base_url), push())

    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 400)
    assert result.detail == "Google refused the service account credentials (invalid_grant: bad)"
    assert peer.sent == []


@pytest.mark.parametrize(
    "raw",
    [
        {"message": {"token": "someone-else", "data": {"a": "1"}, "android": {"priority": "HIGH"}}},
        {"fcmV1Message": {"message": {"data": {"a": "1"}, "android": {"priority": "HIGH"}}}},
        {"data": {"a": "1"}, "priority": "high"},
    ],
    ids=["v1", "sns-style", "legacy"],
)
def test_raw_content_replaces_the_message(key: rsa.RSAPrivateKey, raw: dict[str, Any]) -> None:
    with google(key) as (peer, base_url):
        result = send_one(adapter_for(key, base_url), push(raw=json.dumps(raw)))

    assert result.outcome is Outcome.DELIVERED
    assert peer.sent == [
        {"message": {"token": "fcm-token-1", "data": {"a": "1"}, "android": {"priority": "HIGH"}}}
    ]


def test_legacy_raw_content_is_translated_to_v1(key: rsa.RSAPrivateKey) -> None:
    raw = {
        "notification": {"title": "Hi", "android_channel_id": "news", "sound": "default"},
        "data": {"count": 3, "name": "x"},
        "time_to_live": 60,
        "collapse_key": "news",
    }
    with google(key) as (peer, base_url):
        adapter = adapter_for(key, base_url)
        results = run(
            adapter,
            lambda a: asyncio.gather(
                a.send(push(1, raw=json.dumps(raw))),
                a.send(push(2, raw=json.dumps({"dry_run": True}))),
            ),
        )

    assert results[0].outcome is Outcome.DELIVERED
    assert results[1] == Result(
        Outcome.PERMANENT,
        0,
        "push run-3.endpoint-2: raw content member 'dry_run' has no FCM HTTP v1 equivalent",
    )
    assert peer.sent == [
        {
            "message": {
                "token": "fcm-token-1",
                "data": {"count": "3", "name": "x"},
                "android": {
                    "priority": "HIGH",
                    "ttl": "60s",
                    "collapse_key": "news",
                    "notification": {"title": "Hi", "channel_id": "news", "sound": "default"},
                },
            }
        }
    ]


def test_a_legacy_api_key_alone_is_refused_without_a_request() -> None:
    adapter = push_adapter(
        "GCM",
        policy=LOOPBACK_PEERS,
        credentials={"ApiKey": "AIzaSy-secret", "DefaultAuthenticationMethod": "KEY"},
    )
    result = send_one(adapter, push())

    assert result == Result(
        Outcome.PERMANENT,
        0,
        "legacy FCM API keys are no longer accepted by Google; configure ServiceJson",
    )


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({}, "GCM credentials need ServiceJson (an FCM service-account key file)"),
        ({"ServiceJson": "{not json"}, "GCM ServiceJson is not JSON"),
        ({"ServiceJson": "[]"}, "GCM ServiceJson must be a JSON object"),
        (
            {"ServiceJson": '{"project_id": "p", "client_email": "e"}'},
            "GCM ServiceJson lacks 'private_key'",
        ),
        (
            {
                "ServiceJson": json.dumps(
                    {"project_id": "p", "client_email": "e", "private_key": "secret-not-pem"}
                )
            },
            "GCM ServiceJson private_key is not an unencrypted PEM private key",
        ),
    ],
)
def test_incomplete_credentials_are_named_without_secrets(
    credentials: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)) as caught:
        push_adapter("GCM", policy=LOOPBACK_PEERS, credentials=credentials)
    assert "secret" not in str(caught.value)


def test_a_token_uri_over_plain_http_is_refused_off_loopback(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="may use http only on a loopback host"):
        push_adapter(
            "GCM",
            policy=LOOPBACK_PEERS,
            credentials={"ServiceJson": service_json(key, "http://oauth.example.com/token")},
        )
