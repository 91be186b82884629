"""What each channel platform accepts, how an update combines with what is stored, and what a
response may show. Pure, so the rules are tested without a server.

Credentials (keys, certificates, secrets) are kept apart from settings. They are never answered
and never quoted in an error message: a message names the member, not its value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

from clarion.arns import check_role_arn
from clarion.channels.kinds import ChannelType
from clarion.errors import BadRequest

Check = Callable[["Platform", Mapping[str, Any], dict[str, Any], dict[str, str]], None]
Shown = Callable[[Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class ChannelState:
    enabled: bool
    settings: dict[str, Any]
    credentials: dict[str, str] = field(repr=False)


def _nothing_to_check(
    _platform: Platform,
    _request: Mapping[str, Any],
    _settings: dict[str, Any],
    _credentials: dict[str, str],
) -> None:
    return None


def _nothing_shown(_credentials: Mapping[str, str]) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Platform:
    name: ChannelType
    """Pinpoint's Platform value, also the key of GetChannels."""
    request: str
    """The request shape's name, which error messages use as the member path."""
    settings: tuple[str, ...] = ()
    """Request members stored and answered."""
    secrets: tuple[str, ...] = ()
    """Request members stored for delivery and never answered."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Settings Pinpoint answers that no request sets."""
    check: Check = _nothing_to_check
    shown: Shown = _nothing_shown
    """Response members derived from the credentials, such as HasTokenKey."""

    @property
    def id(self) -> str:
        """The deprecated Id Pinpoint still answers: the platform in lower case ("apns_voip")."""
        return self.name.lower()


def apply_update(
    platform: Platform, current: ChannelState | None, request: Mapping[str, Any]
) -> ChannelState:
    """Members present in the request replace the stored ones; members left out keep theirs, so
    a request that only flips Enabled keeps the credentials. An empty string clears a member."""
    settings = dict(current.settings) if current else dict(platform.defaults)
    credentials = dict(current.credentials) if current else {}
    for name in platform.settings:
        _assign(settings, name, request)
    for name in platform.secrets:
        _assign(credentials, name, request)
    platform.check(platform, request, settings, credentials)
    enabled = request.get("Enabled", current.enabled if current else True)
    return ChannelState(bool(enabled), settings, credentials)


def shown(platform: Platform, state: ChannelState) -> dict[str, Any]:
    """The platform's own response members: its settings and what the credentials imply."""
    return {**state.settings, **platform.shown(state.credentials)}


def _assign(target: dict[str, Any], name: str, request: Mapping[str, Any]) -> None:
    if name not in request:
        return
    value = request[name]
    if isinstance(value, str) and not value.strip():
        target.pop(name, None)
    else:
        target[name] = value


def _given(request: Mapping[str, Any], name: str) -> bool:
    value = request.get(name)
    return isinstance(value, str) and bool(value.strip())


# --- Email ----------------------------------------------------------------------------------

_SES_IDENTITY = re.compile(
    r"^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity/(?P<name>[^/\s]+)$", re.IGNORECASE
)
_CONFIGURATION_SET = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _check_email(
    platform: Platform,
    _request: Mapping[str, Any],
    settings: dict[str, Any],
    _credentials: dict[str, str],
) -> None:
    path = platform.request
    address = _required(settings, "FromAddress", path)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadRequest(
            f"{path}.FromAddress {address!r} is not a valid email address: {exc}"
        ) from exc
    identity = _required(settings, "Identity", path)
    matched = _SES_IDENTITY.match(identity)
    if matched is None:
        raise BadRequest(
            f"{path}.Identity {identity!r} is not an SES identity ARN "
            "(arn:aws:ses:REGION:ACCOUNT:identity/ADDRESS-OR-DOMAIN)"
        )
    if not _identity_covers(matched["name"].lower(), address.lower()):
        raise BadRequest(
            f"{path}.FromAddress {address!r} is not covered by {path}.Identity: the identity "
            f"{matched['name']!r} must be that address, its domain or a parent domain"
        )
    configuration_set = settings.get("ConfigurationSet")
    if configuration_set is not None and not _CONFIGURATION_SET.match(configuration_set):
        raise BadRequest(
            f"{path}.ConfigurationSet {configuration_set!r} is not a configuration set name "
            "(1 to 64 letters, digits, underscores and hyphens)"
        )
    for member in ("RoleArn", "OrchestrationSendingRoleArn"):
        if member in settings:
            check_role_arn(settings[member], f"{path}.{member}")


def _identity_covers(identity: str, address: str) -> bool:
    """SES sends from a verified address, or from any address of a verified domain and of its
    subdomains."""
    if "@" in identity:
        return identity == address
    domain = address.rpartition("@")[2]
    return domain == identity or domain.endswith(f".{identity}")


def _required(settings: Mapping[str, Any], name: str, path: str) -> str:
    value: str | None = settings.get(name)
    if value is None:
        raise BadRequest(f"{path}.{name} is required")
    return value


# --- SMS ------------------------------------------------------------------------------------

_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]{1,11}$")
_SHORT_CODE = re.compile(r"^\+?\d{3,15}$")


def _check_sms(
    platform: Platform,
    _request: Mapping[str, Any],
    settings: dict[str, Any],
    _credentials: dict[str, str],
) -> None:
    path = platform.request
    sender_id = settings.get("SenderId")
    if sender_id is not None and not _SENDER_ID.match(sender_id):
        raise BadRequest(
            f"{path}.SenderId {sender_id!r} must be 1 to 11 letters, digits or hyphens, "
            "with at least one letter"
        )
    short_code = settings.get("ShortCode")
    if short_code is not None and not _SHORT_CODE.match(short_code):
        raise BadRequest(
            f"{path}.ShortCode {short_code!r} must be a short code or long code: "
            "3 to 15 digits, optionally after a '+'"
        )


# --- Push: PEM text -------------------------------------------------------------------------

_PEM = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<body>[A-Za-z0-9+/=\s]+)-----END (?P=label)-----"
)
_CERTIFICATE = ("CERTIFICATE",)
_PRIVATE_KEY = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")


def _check_pem(value: str, labels: tuple[str, ...], path: str) -> None:
    """A PEM block with one of ``labels`` and a base64 body. Encrypted keys are refused: no
    request member carries their passphrase."""
    for block in _PEM.finditer(value):
        if block["label"] not in labels:
            continue
        try:
            if base64.b64decode("".join(block["body"].split()), validate=True):
                return
        except (binascii.Error, ValueError):
            break
    raise BadRequest(
        f"{path} must be unencrypted PEM text (-----BEGIN {labels[0]}----- … "
        f"-----END {labels[0]}-----); the value given is not"
    )


# --- APNs -----------------------------------------------------------------------------------

_APPLE_ID = re.compile(r"^[A-Z0-9]{10}$")
_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
_TOKEN_KEY = ("TokenKey", "TokenKeyId", "TeamId")
_TOKEN_SET = (*_TOKEN_KEY, "BundleId")
_APNS_METHODS = {"CERTIFICATE": "CERTIFICATE", "TOKEN": "TOKEN", "KEY": "TOKEN"}


def _check_apns(
    platform: Platform,
    request: Mapping[str, Any],
    settings: dict[str, Any],
    credentials: dict[str, str],
) -> None:
    path = platform.request
    if _given(request, "Certificate") != _given(request, "PrivateKey"):
        raise BadRequest(
            f"{path}.Certificate and {path}.PrivateKey belong together: send both, or neither"
        )
    if _given(request, "Certificate"):
        _check_pem(request["Certificate"], _CERTIFICATE, f"{path}.Certificate")
        _check_pem(request["PrivateKey"], _PRIVATE_KEY, f"{path}.PrivateKey")
    if ("Certificate" in credentials) != ("PrivateKey" in credentials):
        raise BadRequest(f"{path} clears only one of Certificate and PrivateKey; clear both")
    if _given(request, "TokenKey"):
        _check_pem(request["TokenKey"], ("PRIVATE KEY",), f"{path}.TokenKey")
    for member in ("TokenKeyId", "TeamId"):
        if _given(request, member) and not _APPLE_ID.match(request[member]):
            raise BadRequest(
                f"{path}.{member} {request[member]!r} must be the 10-character identifier "
                "Apple assigned (capital letters and digits)"
            )
    if _given(request, "BundleId") and not _BUNDLE_ID.match(request["BundleId"]):
        raise BadRequest(f"{path}.BundleId {request['BundleId']!r} is not a bundle identifier")

    has_certificate = "Certificate" in credentials
    has_token = any(member in credentials for member in _TOKEN_KEY)
    if has_token:
        for member in _TOKEN_SET:
            if member not in credentials:
                raise BadRequest(
                    f"{path}.{member} is required: token authentication needs TokenKey, "
                    "TokenKeyId, TeamId and BundleId"
                )
    if not has_certificate and not has_token:
        raise BadRequest(
            f"{path} needs a certificate (Certificate and PrivateKey) or a token key "
            "(TokenKey, TokenKeyId, TeamId and BundleId)"
        )
    available = {"CERTIFICATE": has_certificate, "TOKEN": has_token}
    _settle_method(
        path, request, settings, available, _APNS_METHODS, "TOKEN" if has_token else "CERTIFICATE"
    )


def _settle_method(
    path: str,
    request: Mapping[str, Any],
    settings: dict[str, Any],
    available: Mapping[str, bool],
    names: Mapping[str, str],
    fallback: str,
) -> None:
    """DefaultAuthenticationMethod must name credentials the channel holds. One the request
    names is checked; a stored one is kept while it still fits; otherwise ``fallback``."""
    member = "DefaultAuthenticationMethod"
    if _given(request, member):
        method = names.get(request[member].strip().upper())
        if method is None:
            accepted = " or ".join(sorted(set(names.values())))
            raise BadRequest(f"{path}.{member} {request[member]!r} must be {accepted}")
        if not available[method]:
            raise BadRequest(
                f"{path}.{member} is {method}, but the channel holds no {method} credentials"
            )
        settings[member] = method
    elif not available.get(settings.get(member, ""), False):
        settings[member] = fallback


def _apns_shown(credentials: Mapping[str, str]) -> dict[str, Any]:
    return {"HasCredential": True, "HasTokenKey": "TokenKey" in credentials}


# --- GCM (Firebase Cloud Messaging) ---------------------------------------------------------

_SERVICE_ACCOUNT_FIELDS = ("type", "project_id", "private_key", "client_email")


def _check_gcm(
    platform: Platform,
    request: Mapping[str, Any],
    settings: dict[str, Any],
    credentials: dict[str, str],
) -> None:
    path = platform.request
    if _given(request, "ServiceJson"):
        _check_service_json(request["ServiceJson"], f"{path}.ServiceJson")
    has_key, has_json = "ApiKey" in credentials, "ServiceJson" in credentials
    if not has_key and not has_json:
        raise BadRequest(
            f"{path} needs ApiKey (legacy server key) or ServiceJson (service-account key file)"
        )
    available = {"KEY": has_key, "TOKEN": has_json}
    _settle_method(
        path,
        request,
        settings,
        available,
        {"KEY": "KEY", "TOKEN": "TOKEN"},
        "KEY" if has_key else "TOKEN",
    )


def _check_service_json(value: str, path: str) -> None:
    """The service-account key file FCM's HTTP v1 API signs its access tokens with."""
    try:
        document = json.loads(value)
    except ValueError:
        raise BadRequest(f"{path} is not JSON") from None
    if not isinstance(document, dict):
        raise BadRequest(f"{path} must be a JSON object (a service-account key file)")
    for name in _SERVICE_ACCOUNT_FIELDS:
        if not isinstance(document.get(name), str) or not document[name].strip():
            raise BadRequest(f"{path} lacks {name!r}, which a service-account key file has")
    if document["type"] != "service_account":
        raise BadRequest(f"{path} has type {document['type']!r}; it must be 'service_account'")
    _check_pem(document["private_key"], ("PRIVATE KEY",), f"{path} private_key")


def _gcm_shown(credentials: Mapping[str, str]) -> dict[str, Any]:
    return {"HasCredential": True, "HasFcmServiceCredentials": "ServiceJson" in credentials}


# --- ADM and Baidu --------------------------------------------------------------------------


def _check_secrets_present(
    platform: Platform,
    _request: Mapping[str, Any],
    _settings: dict[str, Any],
    credentials: dict[str, str],
) -> None:
    for name in platform.secrets:
        if name not in credentials:
            raise BadRequest(f"{platform.request}.{name} is required")


def _push_shown(_credentials: Mapping[str, str]) -> dict[str, Any]:
    return {"HasCredential": True}


# --- The platforms --------------------------------------------------------------------------

_APNS_SECRETS = ("Certificate", "PrivateKey", *_TOKEN_SET)


def _apns(name: ChannelType, request: str) -> Platform:
    return Platform(
        name,
        request,
        settings=("DefaultAuthenticationMethod",),
        secrets=_APNS_SECRETS,
        check=_check_apns,
        shown=_apns_shown,
    )


PLATFORMS: dict[str, Platform] = {
    platform.name: platform
    for platform in (
        Platform(
            ChannelType.EMAIL,
            "EmailChannelRequest",
            settings=(
                "FromAddress",
                "Identity",
                "ConfigurationSet",
                "RoleArn",
                "OrchestrationSendingRoleArn",
            ),
            # Pinpoint answers the SES account's sending rate: 1 for an account in the sandbox.
            defaults={"MessagesPerSecond": 1},
            check=_check_email,
        ),
        Platform(
            ChannelType.SMS,
            "SMSChannelRequest",
            settings=("SenderId", "ShortCode"),
            defaults={"PromotionalMessagesPerSecond": 20, "TransactionalMessagesPerSecond": 20},
            check=_check_sms,
        ),
        Platform(ChannelType.VOICE, "VoiceChannelRequest"),
        Platform(
            ChannelType.GCM,
            "GCMChannelRequest",
            settings=("DefaultAuthenticationMethod",),
            secrets=("ApiKey", "ServiceJson"),
            check=_check_gcm,
            shown=_gcm_shown,
        ),
        _apns(ChannelType.APNS, "APNSChannelRequest"),
        _apns(ChannelType.APNS_SANDBOX, "APNSSandboxChannelRequest"),
        _apns(ChannelType.APNS_VOIP, "APNSVoipChannelRequest"),
        _apns(ChannelType.APNS_VOIP_SANDBOX, "APNSVoipSandboxChannelRequest"),
        Platform(
            ChannelType.ADM,
            "ADMChannelRequest",
            secrets=("ClientId", "ClientSecret"),
            check=_check_secrets_present,
            shown=_push_shown,
        ),
        Platform(
            ChannelType.BAIDU,
            "BaiduChannelRequest",
            secrets=("ApiKey", "SecretKey"),
            check=_check_secrets_present,
            shown=_push_shown,
        ),
    )
}
