"""Server-side verification of AWS Signature Version 4 requests.

The canonicalisation mirrors what ``botocore.auth.SigV4Auth`` and ``SigV4QueryAuth`` compute
for a non-S3 service, so requests from boto3, the AWS CLI and botocore-presigned URLs verify.
The module is pure: it reads no clock, logs nothing and does no I/O; the caller supplies the
current time and a function that looks up the secret for an access key id.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from hashlib import sha256
from urllib.parse import quote, unquote_to_bytes

from clarion.errors import Forbidden

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "Credential",
    "SignatureError",
    "SignedRequest",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
TERMINATOR = "aws4_request"
MAX_PRESIGN_EXPIRES = 604800

_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_TIMESTAMP_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_EXPIRES_RE = re.compile(r"[0-9]{1,10}")
_QUERY_SAFE = "-_.~"
_PATH_SAFE = "/~"

_MISSING_TOKEN = "Missing Authentication Token"
_INVALID_TOKEN = "The security token included in the request is invalid."
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)


@dataclass(frozen=True)
class SignedRequest:
    """An HTTP request as the server received it, before any decoding of path or query."""

    method: str
    raw_path: str
    query_string: str
    headers: Sequence[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Credential:
    """Who signed a verified request, and for which scope."""

    access_key_id: str
    region: str
    service: str


class SignatureError(Forbidden):
    """A request failed authentication: 403 ForbiddenException, as Pinpoint answers.

    The message is shown to the client, so it never includes the secret key.
    """


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: str
    signature: str
    timestamp: str
    expires: int | None


def verify(
    request: SignedRequest,
    lookup_secret: Callable[[str], str | None],
    *,
    now: datetime,
    service: str = "mobiletargeting",
    max_skew: timedelta = timedelta(minutes=15),
) -> Credential:
    """Check a SigV4-signed request (Authorization header or presigned query) and say who sent it.

    Raises SignatureError for anything short of a valid, current signature by a known key.
    """
    headers = _header_map(request.headers)
    query = _parse_query(request.query_string)
    authorization = _joined(headers, "authorization")
    presigned = any(key in (b"X-Amz-Signature", b"X-Amz-Algorithm") for key, _ in query)

    if authorization is not None and presigned:
        raise SignatureError(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified"
        )
    if authorization is not None:
        auth = _from_authorization_header(authorization, headers)
    elif presigned:
        auth = _from_query(query)
    else:
        raise SignatureError(_MISSING_TOKEN)

    signed_at = _parse_timestamp(auth.timestamp)
    _check_scope(auth, service)
    _check_time(auth, signed_at, _as_utc(now), max_skew)

    signed_names = auth.signed_headers.split(";")
    if "host" not in signed_names:
        raise SignatureError(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )

    payload_hashes = _payload_hashes(headers, request.body, presigned=presigned)
    canonical_headers = _canonical_headers(headers, signed_names)
    signing_key = _derive_signing_key(lookup_secret, auth)
    if canonical_headers is None:
        raise SignatureError(_MISMATCH)

    prefix = "\n".join(
        (
            request.method.upper(),
            _canonical_uri(request.raw_path),
            _canonical_query(query, presigned=presigned),
            canonical_headers,
            auth.signed_headers,
        )
    )
    scope = f"{auth.scope_date}/{auth.region}/{auth.service}/{auth.terminator}"
    provided = auth.signature.encode("utf-8", "surrogatepass")
    for payload_hash in payload_hashes:
        canonical_request = f"{prefix}\n{payload_hash}"
        digest = sha256(canonical_request.encode("utf-8", "surrogatepass")).hexdigest()
        string_to_sign = f"{ALGORITHM}\n{auth.timestamp}\n{scope}\n{digest}"
        expected = hmac.new(signing_key, string_to_sign.encode("utf-8", "surrogatepass"), sha256)
        if hmac.compare_digest(expected.hexdigest().encode("ascii"), provided):
            return Credential(auth.access_key_id, auth.region, auth.service)
    raise SignatureError(_MISMATCH)


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    mapping: dict[str, list[str]] = {}
    for name, value in headers:
        mapping.setdefault(name.lower(), []).append(value)
    return mapping


def _joined(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return None if values is None else ",".join(values)


def _wire_bytes(text: str) -> bytes:
    """Recover the bytes of a path or query that an ASGI server decoded as latin-1."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _parse_query(query_string: str) -> list[tuple[bytes, bytes]]:
    """Decode each pair once, so canonicalisation does not depend on how the client escaped it.

    '+' means space, as in botocore's own form encoding of ``params`` and in Starlette's parsing,
    so the signature covers the values the application will see.
    """
    pairs: list[tuple[bytes, bytes]] = []
    for part in _wire_bytes(query_string).split(b"&"):
        if not part:
            continue
        key, _, value = part.partition(b"=")
        pairs.append(
            (unquote_to_bytes(key.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" ")))
        )
    return pairs


def _from_authorization_header(value: str, headers: dict[str, list[str]]) -> _Authorization:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError(
            "The authorization mechanism you have provided is not supported. "
            f"Please use {ALGORITHM}."
        )
    params: dict[str, str] = {}
    for part in rest.split(","):
        if not part.strip():
            continue
        key, sep, param = part.strip().partition("=")
        if not sep:
            raise SignatureError(
                "Invalid key=value pair (missing equal-sign) in Authorization header."
            )
        if key in params:
            raise SignatureError("Authorization header has a duplicated parameter.")
        params[key] = param.strip()

    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    timestamp = _header_timestamp(headers)
    if timestamp is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems or timestamp is None:
        raise SignatureError(" ".join(problems))

    access_key_id, scope_date, region, service, terminator = _parse_credential(params["Credential"])
    return _Authorization(
        access_key_id=access_key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=params["SignedHeaders"],
        signature=params["Signature"],
        timestamp=timestamp,
        expires=None,
    )


def _header_timestamp(headers: dict[str, list[str]]) -> str | None:
    """botocore signs with X-Amz-Date, or with the Date header when the caller set one."""
    amz_date = _joined(headers, "x-amz-date")
    if amz_date is not None:
        return amz_date.strip()
    date = _joined(headers, "date")
    if date is None:
        return None
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise SignatureError("Date must be in the RFC 1123 format.") from None
    return _format(_as_utc(parsed))


def _from_query(query: list[tuple[bytes, bytes]]) -> _Authorization:
    found: dict[str, str] = {}
    for raw_key, raw_value in query:
        key = raw_key.decode("utf-8", "replace")
        if key in _PRESIGN_PARAMS:
            if key in found:
                raise SignatureError(f"Query-string parameter '{key}' may only be given once.")
            found[key] = raw_value.decode("utf-8", "replace")
    if any(not found.get(name) for name in _PRESIGN_PARAMS):
        raise SignatureError(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
            "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. "
            "Re-examine the query-string parameters."
        )
    if found["X-Amz-Algorithm"] != ALGORITHM:
        raise SignatureError(f'X-Amz-Algorithm only supports "{ALGORITHM}"')

    expires_text = found["X-Amz-Expires"]
    if not _EXPIRES_RE.fullmatch(expires_text):
        raise SignatureError("X-Amz-Expires should be a number")
    expires = int(expires_text)
    if expires < 1:
        raise SignatureError("X-Amz-Expires must be at least 1 second")
    if expires > MAX_PRESIGN_EXPIRES:
        raise SignatureError(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}"
        )

    access_key_id, scope_date, region, service, terminator = _parse_credential(
        found["X-Amz-Credential"]
    )
    return _Authorization(
        access_key_id=access_key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=found["X-Amz-SignedHeaders"],
        signature=found["X-Amz-Signature"],
        timestamp=found["X-Amz-Date"],
        expires=expires,
    )


def _parse_credential(credential: str) -> tuple[str, str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or not parts[0]:
        raise SignatureError(
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got {len(parts)}."
        )
    return parts[0], parts[1], parts[2], parts[3], parts[4]


def _shown(text: str) -> str:
    """Echo client input in messages the way AWS does, but bounded."""
    return text if len(text) <= 64 else text[:64] + "..."


def _check_scope(auth: _Authorization, service: str) -> None:
    if not auth.region:
        raise SignatureError("Credential should be scoped to a valid region.")
    if auth.service != service:
        raise SignatureError(f"Credential should be scoped to correct service: '{service}'.")
    if auth.terminator != TERMINATOR:
        raise SignatureError(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{_shown(auth.terminator)}'."
        )
    if auth.scope_date != auth.timestamp[:8]:
        raise SignatureError(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{_shown(auth.scope_date)}' != '{_shown(auth.timestamp[:8])}', "
            f"from '{_shown(auth.timestamp)}'."
        )


def _parse_timestamp(timestamp: str) -> datetime:
    error = SignatureError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    if not _TIMESTAMP_RE.fullmatch(timestamp):
        raise error
    try:
        return datetime.strptime(timestamp, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise error from None


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC, as botocore's clock produces them."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _format(moment: datetime) -> str:
    return moment.strftime(_TIMESTAMP_FORMAT)


def _describe(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."


def _check_time(
    auth: _Authorization, signed_at: datetime, now: datetime, max_skew: timedelta
) -> None:
    if signed_at > now + max_skew:
        raise SignatureError(
            f"Signature not yet current: {auth.timestamp} is still later than "
            f"{_format(now + max_skew)} ({_format(now)} + {_describe(max_skew)})"
        )
    if auth.expires is None:
        if signed_at < now - max_skew:
            raise SignatureError(
                f"Signature expired: {auth.timestamp} is now earlier than "
                f"{_format(now - max_skew)} ({_format(now)} - {_describe(max_skew)})"
            )
        return
    expires_at = signed_at + timedelta(seconds=auth.expires)
    if now > expires_at:
        raise SignatureError(
            f"Signature expired: {_format(expires_at)} is now earlier than {_format(now)} "
            f"({auth.timestamp} + {auth.expires} sec.)"
        )


def _payload_hashes(headers: dict[str, list[str]], body: bytes, *, presigned: bool) -> list[str]:
    """The payload hashes the client may have signed with, most likely first.

    botocore's SigV4QueryAuth hashes the body (empty for presigned URLs) unless payload signing
    is disabled over HTTPS, when it signs UNSIGNED-PAYLOAD without sending a header; other SDKs
    always presign with UNSIGNED-PAYLOAD. Either way the string is covered by the signature.
    """
    declared = _joined(headers, "x-amz-content-sha256")
    if declared is not None:
        if declared != UNSIGNED_PAYLOAD and declared != sha256(body).hexdigest():
            raise SignatureError(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        return [declared]
    computed = sha256(body).hexdigest()
    return [computed, UNSIGNED_PAYLOAD] if presigned else [computed]


def _canonical_uri(raw_path: str) -> str:
    """botocore normalises the already-escaped path and escapes it again (all non-S3 services)."""
    return quote(_wire_bytes(_remove_dot_segments(raw_path)), safe=_PATH_SAFE)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal plus collapsing of empty segments, as botocore does."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    leading = "/" if path.startswith("/") else ""
    trailing = "/" if path.endswith("/") and segments else ""
    return leading + "/".join(segments) + trailing


def _canonical_query(query: list[tuple[bytes, bytes]], *, presigned: bool) -> str:
    pairs = sorted(
        (quote(key, safe=_QUERY_SAFE), quote(value, safe=_QUERY_SAFE))
        for key, value in query
        if not (presigned and key == b"X-Amz-Signature")
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


def _canonical_headers(headers: dict[str, list[str]], signed_names: list[str]) -> str | None:
    """Canonical header block, or None when a signed header is absent from the request."""
    lines: list[str] = []
    for name in signed_names:
        values = headers.get(name)
        if values is None:
            return None
        lines.append(f"{name}:{','.join(' '.join(value.split()) for value in values)}\n")
    return "".join(lines)


def _derive_signing_key(lookup_secret: Callable[[str], str | None], auth: _Authorization) -> bytes:
    """Kept apart so the secret never lives in the frame that raises the client-facing errors."""
    secret = lookup_secret(auth.access_key_id)
    if secret is None:
        raise SignatureError(_INVALID_TOKEN)
    return _signing_key(secret, auth.scope_date, auth.region, auth.service)


@lru_cache(maxsize=256)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Encoding with surrogatepass cannot fail, so no UnicodeError can carry the secret."""
    key = f"AWS4{secret}".encode("utf-8", "surrogatepass")
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8", "surrogatepass"), sha256).digest()
    return key
