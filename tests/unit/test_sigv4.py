"""SigV4 verification against requests signed by botocore itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.session
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

from clarion.api.sigv4 import Credential, SignatureError, SignedRequest, verify

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SIGNED_AT = datetime(2026, 11, 28, 10, 0, 0)
NOW = SIGNED_AT.replace(tzinfo=UTC) + timedelta(seconds=3)
ENDPOINT = "https://pinpoint.us-east-1.amazonaws.com"
ARN = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/abc"
MISMATCH = "The request signature we calculated does not match"

Lookup = Callable[[str], str | None]


def lookup(access_key_id: str) -> str | None:
    return SECRET if access_key_id == AKID else None


@pytest.fixture(autouse=True)
def frozen_botocore_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    def fixed(remove_tzinfo: bool = True) -> datetime:
        return SIGNED_AT if remove_tzinfo else SIGNED_AT.replace(tzinfo=UTC)

    monkeypatch.setattr(botocore.auth, "get_current_datetime", fixed)


def on_the_wire(
    method: str,
    url: str,
    headers: Sequence[tuple[str, str | bytes]],
    body: bytes | str | None,
) -> SignedRequest:
    """What an ASGI server hands us: raw path and query, lower-cased headers, Host added."""
    parts = urlsplit(url)
    wire_headers = [
        (name.lower(), value.decode("latin-1") if isinstance(value, bytes) else value)
        for name, value in headers
    ]
    if not any(name == "host" for name, _ in wire_headers):
        wire_headers.append(("host", parts.netloc))
    if isinstance(body, str):
        body = body.encode("utf-8")
    return SignedRequest(
        method=method,
        raw_path=parts.path or "/",
        query_string=parts.query,
        headers=wire_headers,
        body=body or b"",
    )


def sign(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    params: Sequence[tuple[str, str]] | None = None,
    region: str = "us-east-1",
    service: str = "mobiletargeting",
    secret: str = SECRET,
    token: str | None = None,
    presign_expires: int | None = None,
    context: Mapping[str, Any] | None = None,
) -> SignedRequest:
    request = AWSRequest(
        method=method, url=url, data=body, headers=dict(headers or {}), params=list(params or [])
    )
    request.context.update(context or {})
    credentials = Credentials(AKID, secret, token)
    if presign_expires is None:
        SigV4Auth(credentials, service, region).add_auth(request)
    else:
        SigV4QueryAuth(credentials, service, region, expires=presign_expires).add_auth(request)
    prepared: AWSPreparedRequest = request.prepare()
    return on_the_wire(prepared.method, prepared.url, list(request.headers.items()), prepared.body)


def check(request: SignedRequest, *, now: datetime = NOW, secrets: Lookup = lookup) -> Credential:
    return verify(request, secrets, now=now)


def rejected(
    request: SignedRequest, *, now: datetime = NOW, secrets: Lookup = lookup
) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        check(request, now=now, secrets=secrets)
    assert SECRET not in str(caught.value)
    assert all(SECRET not in str(arg) for arg in caught.value.args)
    return caught.value


def replace_header(request: SignedRequest, name: str, value: str) -> SignedRequest:
    headers = [(key, value if key == name else old) for key, old in request.headers]
    return replace(request, headers=headers)


def test_get_with_repeated_and_empty_query_parameters() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps?token=b&page-size=10&token=a&flag=&x=%2F%20~")
    assert request.query_string == "token=b&page-size=10&token=a&flag=&x=%2F%20~"
    assert check(request) == Credential(AKID, "us-east-1", "mobiletargeting")


def test_get_with_params_encoded_by_the_preparer() -> None:
    params = [("b", "x y+z"), ("a", ""), ("a", "é/~"), ("a-b", "1"), ("c d", "2")]
    request = sign("GET", f"{ENDPOINT}/v1/apps", params=params)
    assert "+" in request.query_string
    assert check(request).access_key_id == AKID


def test_put_with_json_body() -> None:
    body = json.dumps({"WriteApplicationSettingsRequest": {"CloudWatchMetricsEnabled": True}})
    request = sign(
        "PUT",
        f"{ENDPOINT}/v1/apps/abc/settings",
        body=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert check(request).service == "mobiletargeting"


def test_path_with_percent_encoded_arn() -> None:
    request = sign(
        "POST",
        f"{ENDPOINT}/v1/tags/{percent_encode(ARN)}",
        body=b'{"tags": {"env": "prod"}}',
        headers={"Content-Type": "application/json"},
    )
    assert request.raw_path == (
        "/v1/tags/arn%3Aaws%3Amobiletargeting%3Aus-east-1%3A123456789012%3Aapps%2Fabc"
    )
    assert check(request).access_key_id == AKID


def test_path_with_dot_segments_and_double_slashes() -> None:
    request = sign("GET", f"{ENDPOINT}/v1//apps/./x/../abc/")
    assert request.raw_path == "/v1//apps/./x/../abc/"
    assert check(request).access_key_id == AKID


def test_any_region_and_a_non_default_port() -> None:
    request = sign("GET", "http://localhost:8080/v1/apps/abc", region="eu-west-3")
    assert ("host", "localhost:8080") in request.headers
    assert check(request) == Credential(AKID, "eu-west-3", "mobiletargeting")


def test_security_token_and_repeated_headers_are_signed() -> None:
    request = AWSRequest(method="GET", url=f"{ENDPOINT}/v1/apps")
    request.headers["X-Custom"] = "a"
    request.headers["X-Custom"] = "  b    c  "
    SigV4Auth(Credentials(AKID, SECRET, "session-token"), "mobiletargeting", "us-east-1").add_auth(
        request
    )
    assert "x-custom" in request.headers["Authorization"]
    wire = on_the_wire("GET", request.url, list(request.headers.items()), b"")
    assert ("x-amz-security-token", "session-token") in wire.headers
    assert check(wire).access_key_id == AKID
    assert (
        rejected(replace_header(wire, "x-amz-security-token", "other")).args[0].startswith(MISMATCH)
    )


def test_date_header_instead_of_x_amz_date() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", headers={"Date": "whatever"})
    assert not any(name == "x-amz-date" for name, _ in request.headers)
    assert check(request).access_key_id == AKID


def test_presigned_url() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps?page-size=5&token=", presign_expires=300)
    assert "X-Amz-Signature=" in request.query_string
    assert not any(name == "authorization" for name, _ in request.headers)
    assert check(request) == Credential(AKID, "us-east-1", "mobiletargeting")
    assert check(request, now=NOW + timedelta(seconds=290)).access_key_id == AKID


def test_presigned_url_with_security_token_and_unsigned_payload() -> None:
    request = sign(
        "GET",
        f"{ENDPOINT}/v1/apps",
        presign_expires=60,
        token="session-token",
        context={"payload_signing_enabled": False},
    )
    assert "X-Amz-Security-Token=session-token" in request.query_string
    assert check(request).access_key_id == AKID


def test_presigned_url_expired() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", presign_expires=300)
    error = rejected(request, now=SIGNED_AT.replace(tzinfo=UTC) + timedelta(seconds=301))
    assert error.args[0].startswith("Signature expired")
    assert error.code == "ForbiddenException"


def test_presigned_url_dated_in_the_future() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", presign_expires=3600)
    error = rejected(request, now=NOW - timedelta(minutes=16))
    assert error.args[0].startswith("Signature not yet current")


@pytest.mark.parametrize(
    ("expires", "message"),
    [("0", "at least 1"), ("604801", "less than a week"), ("soon", "should be a number")],
)
def test_presigned_expires_out_of_range(expires: str, message: str) -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", presign_expires=300)
    tampered = replace(
        request,
        query_string=request.query_string.replace("X-Amz-Expires=300", f"X-Amz-Expires={expires}"),
    )
    error = rejected(tampered)
    assert message in error.args[0]
    assert error.status == 403


def test_presigned_url_tampered_query() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps?page-size=5", presign_expires=300)
    tampered = replace(
        request, query_string=request.query_string.replace("page-size=5", "page-size=6")
    )
    assert rejected(tampered).args[0].startswith(MISMATCH)


def test_presigned_with_missing_parameters() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", presign_expires=300)
    stripped = "&".join(
        part for part in request.query_string.split("&") if not part.startswith("X-Amz-Date=")
    )
    error = rejected(replace(request, query_string=stripped))
    assert "must include" in error.args[0]
    assert error.code == "ForbiddenException"


def test_secret_is_not_kept_in_the_failing_frames() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", secret="not-the-right-secret")
    with pytest.raises(SignatureError) as caught:
        check(request)
    tb: TracebackType | None = caught.tb
    library_frames = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith("sigv4.py"):
            library_frames += 1
            assert all(value != SECRET for value in tb.tb_frame.f_locals.values())
        tb = tb.tb_next
    assert library_frames
    assert SECRET not in repr(caught.value)


def test_unknown_access_key() -> None:
    error = rejected(sign("GET", f"{ENDPOINT}/v1/apps"), secrets=lambda _: None)
    assert error.args[0] == "The security token included in the request is invalid."
    assert error.code == "ForbiddenException"
    assert error.status == 403


def test_wrong_secret() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", secret="not-the-right-secret")
    error = rejected(request)
    assert error.args[0].startswith(MISMATCH)
    assert error.code == "ForbiddenException"


def test_tampered_body() -> None:
    request = sign("PUT", f"{ENDPOINT}/v1/apps/abc/settings", body=b'{"a": 1}')
    assert rejected(replace(request, body=b'{"a": 2}')).args[0].startswith(MISMATCH)


def test_tampered_query() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps?page-size=10&token=a")
    tampered = replace(request, query_string="page-size=10&token=b")
    assert rejected(tampered).args[0].startswith(MISMATCH)
    added = replace(request, query_string=request.query_string + "&extra=1")
    assert rejected(added).args[0].startswith(MISMATCH)


def test_tampered_path() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps/abc")
    assert rejected(replace(request, raw_path="/v1/apps/abd")).args[0].startswith(MISMATCH)
    assert rejected(replace(request, raw_path="/v1/apps/ab%63")).args[0].startswith(MISMATCH)


def test_tampered_method_and_host() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps/abc")
    assert rejected(replace(request, method="DELETE")).args[0].startswith(MISMATCH)
    moved = replace_header(request, "host", "evil.example.com")
    assert rejected(moved).args[0].startswith(MISMATCH)


def test_signed_header_missing_from_request() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps", headers={"X-Extra": ""})
    stripped = replace(request, headers=[h for h in request.headers if h[0] != "x-extra"])
    assert check(request).access_key_id == AKID
    assert rejected(stripped).args[0].startswith(MISMATCH)


def test_expired_header_signature() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps")
    error = rejected(request, now=SIGNED_AT.replace(tzinfo=UTC) + timedelta(minutes=16))
    assert error.args[0] == (
        "Signature expired: 20261128T100000Z is now earlier than 20261128T100100Z "
        "(20261128T101600Z - 15 min.)"
    )
    assert error.code == "ForbiddenException"


def test_header_signature_within_skew_either_way() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps")
    at = SIGNED_AT.replace(tzinfo=UTC)
    assert check(request, now=at + timedelta(minutes=15)).access_key_id == AKID
    assert check(request, now=at - timedelta(minutes=15)).access_key_id == AKID
    assert check(request, now=SIGNED_AT).access_key_id == AKID


def test_future_dated_header_signature() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps")
    error = rejected(request, now=SIGNED_AT.replace(tzinfo=UTC) - timedelta(minutes=16))
    assert error.args[0].startswith("Signature not yet current: 20261128T100000Z")


def test_wrong_service_in_scope() -> None:
    error = rejected(sign("GET", f"{ENDPOINT}/v1/apps", service="ses"))
    assert error.args[0] == "Credential should be scoped to correct service: 'mobiletargeting'."


def test_scope_date_must_match_x_amz_date() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps")
    moved = replace_header(request, "x-amz-date", "20261127T235959Z")
    error = rejected(moved, now=datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC))
    assert "Date in Credential scope does not match" in error.args[0]


def test_missing_authentication() -> None:
    request = on_the_wire("GET", f"{ENDPOINT}/v1/apps?page-size=1", [], b"")
    error = rejected(request)
    assert error.args[0] == "Missing Authentication Token"
    assert error.code == "ForbiddenException"


def test_header_and_query_signing_together() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps")
    both = replace(request, query_string="X-Amz-Signature=abc")
    assert "Only one auth mechanism" in rejected(both).args[0]


def test_unsigned_payload_header() -> None:
    request = sign(
        "PUT",
        f"{ENDPOINT}/v1/apps/abc/settings",
        body=b"{}",
        context={"payload_signing_enabled": False},
    )
    assert ("x-amz-content-sha256", "UNSIGNED-PAYLOAD") in request.headers
    assert check(request).access_key_id == AKID
    assert check(replace(request, body=b'{"other": 1}')).access_key_id == AKID


def test_content_sha256_header_must_match_body() -> None:
    body = b'{"a": 1}'
    request = sign(
        "PUT",
        f"{ENDPOINT}/v1/apps/abc/settings",
        body=body,
        headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
    )
    assert check(request).access_key_id == AKID
    error = rejected(replace(request, body=b'{"a": 2}'))
    assert "x-amz-content-sha256" in error.args[0]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("", "not supported"),
        ("AWS AKIDEXAMPLE:c2lnbmF0dXJl", "not supported"),
        ("AWS4-HMAC-SHA256", "requires 'Credential' parameter"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/mobiletargeting/"
            "aws4_request, Signature=abc",
            "requires 'SignedHeaders' parameter",
        ),
        ("AWS4-HMAC-SHA256 Credential", "missing equal-sign"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1, SignedHeaders=host"
            ", Signature=abc",
            "exactly 5 slash-delimited elements",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/mobiletargeting/aws4"
            ", SignedHeaders=host;x-amz-date, Signature=abc",
            "valid terminator",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128//mobiletargeting/aws4_request"
            ", SignedHeaders=host;x-amz-date, Signature=abc",
            "valid region",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/mobiletargeting/"
            "aws4_request, SignedHeaders=x-amz-date, Signature=abc",
            "'Host' or ':authority' must be a 'SignedHeader'",
        ),
    ],
)
def test_malformed_authorization(authorization: str, message: str) -> None:
    request = replace_header(sign("GET", f"{ENDPOINT}/v1/apps"), "authorization", authorization)
    assert message in rejected(request).args[0]


def test_malformed_x_amz_date() -> None:
    request = replace_header(sign("GET", f"{ENDPOINT}/v1/apps"), "x-amz-date", "2026-11-28")
    assert "ISO8601 Long Format" in rejected(request).args[0]


def test_missing_date() -> None:
    request = sign("GET", f"{ENDPOINT}/v1/apps")
    undated = replace(request, headers=[h for h in request.headers if h[0] != "x-amz-date"])
    assert "'X-Amz-Date' or a 'Date' header" in rejected(undated).args[0]


class Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


@pytest.fixture
def pinpoint() -> Iterator[Any]:
    client = botocore.session.get_session().create_client(
        "pinpoint",
        region_name="eu-west-3",
        endpoint_url="http://localhost:8080",
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
    )

    def capture(request: AWSPreparedRequest, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send.pinpoint", capture)
    yield client
    client.close()


def sent_by(call: Callable[[], object]) -> SignedRequest:
    with pytest.raises(Captured) as caught:
        call()
    prepared = caught.value.request
    return on_the_wire(prepared.method, prepared.url, list(prepared.headers.items()), prepared.body)


def test_real_client_requests(pinpoint: Any) -> None:
    tag = sent_by(lambda: pinpoint.tag_resource(ResourceArn=ARN, TagsModel={"tags": {"k": "v"}}))
    listing = sent_by(lambda: pinpoint.get_apps(PageSize="10", Token="a b/c~é"))
    for request in (tag, listing):
        assert check(request) == Credential(AKID, "eu-west-3", "mobiletargeting")
    assert tag.raw_path.startswith("/v1/tags/arn%3Aaws%3A")


def test_real_client_presigned_url(pinpoint: Any) -> None:
    url = pinpoint.generate_presigned_url(
        "get_apps", Params={"PageSize": "10", "Token": "x y"}, ExpiresIn=120
    )
    request = on_the_wire("GET", url, [], b"")
    assert check(request) == Credential(AKID, "eu-west-3", "mobiletargeting")
    assert (
        rejected(request, now=NOW + timedelta(seconds=121)).args[0].startswith("Signature expired")
    )
