"""Channel rules without a server: what each platform accepts, how updates merge, what shows."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from clarion.channels.rules import PLATFORMS, ChannelState, apply_update, shown
from clarion.errors import BadRequest


def _private_key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _certificate_pair() -> tuple[str, str]:
    """A self-signed certificate and its RSA key, as openssl writes them from a .p12 file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple Push Services: com.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return "Bag Attributes\n    friendlyName: Apple Push\n" + pem, _private_key_pem(key)


CERTIFICATE, PRIVATE_KEY = _certificate_pair()
TOKEN_KEY = _private_key_pem(ec.generate_private_key(ec.SECP256R1()))
TOKEN = {
    "TokenKey": TOKEN_KEY,
    "TokenKeyId": "ABC123DEFG",
    "TeamId": "TEAM123456",
    "BundleId": "com.example.app",
}
SERVICE_JSON = json.dumps(
    {
        "type": "service_account",
        "project_id": "example",
        "private_key_id": "1",
        "private_key": TOKEN_KEY,
        "client_email": "push@example.iam.gserviceaccount.com",
    }
)
EMAIL = {
    "FromAddress": "news@mail.example.com",
    "Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
}


def update(platform: str, request: dict[str, Any], current: ChannelState | None = None) -> Any:
    return apply_update(PLATFORMS[platform], current, request)


def refused(platform: str, request: dict[str, Any], current: ChannelState | None = None) -> str:
    with pytest.raises(BadRequest) as excinfo:
        update(platform, request, current)
    return excinfo.value.message


def test_ids_are_the_platform_in_lower_case() -> None:
    assert [p.id for p in PLATFORMS.values()] == [
        "email",
        "sms",
        "voice",
        "gcm",
        "apns",
        "apns_sandbox",
        "apns_voip",
        "apns_voip_sandbox",
        "adm",
        "baidu",
    ]


def test_email_channel_answers_pinpoint_defaults_and_is_enabled_when_created() -> None:
    state = update("EMAIL", {**EMAIL, "RoleArn": "arn:aws:iam::123456789012:role/events"})
    assert state.enabled is True
    assert shown(PLATFORMS["EMAIL"], state) == {
        **EMAIL,
        "RoleArn": "arn:aws:iam::123456789012:role/events",
        "MessagesPerSecond": 1,
    }
    assert state.credentials == {}


@pytest.mark.parametrize(
    ("request_", "member"),
    [
        ({**EMAIL, "FromAddress": "not an address"}, "EmailChannelRequest.FromAddress"),
        ({**EMAIL, "FromAddress": ""}, "EmailChannelRequest.FromAddress is required"),
        ({**EMAIL, "Identity": "example.com"}, "EmailChannelRequest.Identity"),
        (
            {**EMAIL, "FromAddress": "a@example.org"},
            "is not covered by EmailChannelRequest.Identity",
        ),
        ({**EMAIL, "FromAddress": "a@notexample.com"}, "is not covered by"),
        ({**EMAIL, "RoleArn": "role"}, "EmailChannelRequest.RoleArn"),
        ({**EMAIL, "OrchestrationSendingRoleArn": "x"}, "OrchestrationSendingRoleArn"),
        ({**EMAIL, "ConfigurationSet": "has space"}, "EmailChannelRequest.ConfigurationSet"),
    ],
)
def test_email_channel_checks_each_member(request_: dict[str, Any], member: str) -> None:
    assert member in refused("EMAIL", request_)


def test_an_address_identity_covers_only_that_address() -> None:
    identity = "arn:aws:ses:us-east-1:123456789012:identity/Sender@Example.com"
    assert update("EMAIL", {"FromAddress": "sender@example.com", "Identity": identity})
    assert "not covered" in refused(
        "EMAIL", {"FromAddress": "other@example.com", "Identity": identity}
    )


def test_sms_channel_defaults_rates_and_checks_sender_id_and_short_code() -> None:
    state = update("SMS", {"SenderId": "Clarion", "ShortCode": "12345"})
    assert shown(PLATFORMS["SMS"], state) == {
        "SenderId": "Clarion",
        "ShortCode": "12345",
        "PromotionalMessagesPerSecond": 20,
        "TransactionalMessagesPerSecond": 20,
    }
    assert "SMSChannelRequest.SenderId" in refused("SMS", {"SenderId": "123456"})
    assert "SMSChannelRequest.SenderId" in refused("SMS", {"SenderId": "TwelveChars1"})
    assert "SMSChannelRequest.ShortCode" in refused("SMS", {"ShortCode": "12-34"})


def test_updates_keep_members_left_out_and_empty_strings_clear_them() -> None:
    created = update("SMS", {"SenderId": "Clarion", "ShortCode": "12345"})
    disabled = update("SMS", {"Enabled": False}, created)
    assert (disabled.enabled, disabled.settings) == (False, created.settings)
    cleared = update("SMS", {"SenderId": ""}, disabled)
    assert "SenderId" not in cleared.settings
    assert cleared.enabled is False, "Enabled left out keeps its value"


def test_apns_certificate_channel_keeps_credentials_when_only_enabled_changes() -> None:
    created = update("APNS", {"Certificate": CERTIFICATE, "PrivateKey": PRIVATE_KEY})
    assert created.settings == {"DefaultAuthenticationMethod": "CERTIFICATE"}
    assert shown(PLATFORMS["APNS"], created) == {
        "DefaultAuthenticationMethod": "CERTIFICATE",
        "HasCredential": True,
        "HasTokenKey": False,
    }
    disabled = update("APNS", {"Enabled": False}, created)
    assert disabled.credentials == {"Certificate": CERTIFICATE, "PrivateKey": PRIVATE_KEY}
    assert disabled.enabled is False


def test_apns_token_channel_and_switching_between_methods() -> None:
    token = update("APNS_SANDBOX", TOKEN)
    assert token.settings["DefaultAuthenticationMethod"] == "TOKEN"
    assert shown(PLATFORMS["APNS_SANDBOX"], token)["HasTokenKey"] is True
    both = update(
        "APNS_SANDBOX",
        {
            "Certificate": CERTIFICATE,
            "PrivateKey": PRIVATE_KEY,
            "DefaultAuthenticationMethod": "certificate",
        },
        token,
    )
    assert both.settings["DefaultAuthenticationMethod"] == "CERTIFICATE"
    assert set(both.credentials) == {"Certificate", "PrivateKey", *TOKEN}
    keyed = update("APNS_SANDBOX", {"DefaultAuthenticationMethod": "Key"}, both)
    assert keyed.settings["DefaultAuthenticationMethod"] == "TOKEN", "Amplify's 'Key' means token"
    token_only = update("APNS_SANDBOX", {"Certificate": "", "PrivateKey": ""}, keyed)
    assert token_only.settings["DefaultAuthenticationMethod"] == "TOKEN"
    assert set(token_only.credentials) == set(TOKEN)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({}, "APNSChannelRequest needs a certificate"),
        ({"Enabled": True}, "APNSChannelRequest needs a certificate"),
        ({"Certificate": CERTIFICATE}, "Certificate and APNSChannelRequest.PrivateKey belong"),
        ({"Certificate": "MIIB", "PrivateKey": PRIVATE_KEY}, "APNSChannelRequest.Certificate must"),
        ({"Certificate": PRIVATE_KEY, "PrivateKey": PRIVATE_KEY}, "Certificate must be"),
        ({"Certificate": CERTIFICATE, "PrivateKey": CERTIFICATE}, "PrivateKey must be"),
        (
            {
                "Certificate": CERTIFICATE,
                "PrivateKey": "-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----",
            },
            "PrivateKey must be",
        ),
        ({**TOKEN, "BundleId": ""}, "APNSChannelRequest.BundleId is required"),
        ({"TokenKey": TOKEN_KEY}, "APNSChannelRequest.TokenKeyId is required"),
        ({**TOKEN, "TokenKey": "a key"}, "APNSChannelRequest.TokenKey must be"),
        ({**TOKEN, "TeamId": "team"}, "APNSChannelRequest.TeamId 'team' must be"),
        ({**TOKEN, "TokenKeyId": "ABC"}, "APNSChannelRequest.TokenKeyId"),
        ({**TOKEN, "BundleId": "com example"}, "APNSChannelRequest.BundleId"),
        ({**TOKEN, "DefaultAuthenticationMethod": "CERTIFICATE"}, "holds no CERTIFICATE"),
        ({**TOKEN, "DefaultAuthenticationMethod": "PASSWORD"}, "must be CERTIFICATE or TOKEN"),
    ],
)
def test_apns_refusals_name_the_member(request_: dict[str, Any], expected: str) -> None:
    assert expected in refused("APNS", request_)


def test_apns_refuses_a_new_certificate_without_its_key_or_clearing_half_a_pair() -> None:
    created = update("APNS_VOIP", {"Certificate": CERTIFICATE, "PrivateKey": PRIVATE_KEY})
    assert "belong together" in refused("APNS_VOIP", {"Certificate": CERTIFICATE}, created)
    assert "clear both" in refused("APNS_VOIP", {"Certificate": "", **TOKEN}, created)


def test_gcm_accepts_an_api_key_or_a_service_account_file() -> None:
    keyed = update("GCM", {"ApiKey": "AIzaSyExample"})
    assert shown(PLATFORMS["GCM"], keyed) == {
        "DefaultAuthenticationMethod": "KEY",
        "HasCredential": True,
        "HasFcmServiceCredentials": False,
    }
    tokened = update("GCM", {"ServiceJson": SERVICE_JSON})
    assert tokened.settings["DefaultAuthenticationMethod"] == "TOKEN"
    both = update(
        "GCM", {"ServiceJson": SERVICE_JSON, "DefaultAuthenticationMethod": "TOKEN"}, keyed
    )
    assert set(both.credentials) == {"ApiKey", "ServiceJson"}
    assert shown(PLATFORMS["GCM"], both)["HasFcmServiceCredentials"] is True
    assert (
        update("GCM", {"Enabled": False}, both).settings["DefaultAuthenticationMethod"] == "TOKEN"
    )


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({}, "GCMChannelRequest needs ApiKey"),
        ({"ServiceJson": "{"}, "GCMChannelRequest.ServiceJson is not JSON"),
        ({"ServiceJson": "[]"}, "must be a JSON object"),
        ({"ServiceJson": json.dumps({"type": "service_account"})}, "lacks 'project_id'"),
        (
            {"ServiceJson": SERVICE_JSON.replace('"service_account"', '"authorized_user"')},
            "it must be 'service_account'",
        ),
        (
            {"ServiceJson": json.dumps({**json.loads(SERVICE_JSON), "private_key": "k"})},
            "ServiceJson private_key must be",
        ),
        ({"ApiKey": "k", "DefaultAuthenticationMethod": "TOKEN"}, "holds no TOKEN"),
        ({"ApiKey": "k", "DefaultAuthenticationMethod": "CERTIFICATE"}, "must be KEY or TOKEN"),
    ],
)
def test_gcm_refusals_name_the_member(request_: dict[str, Any], expected: str) -> None:
    assert expected in refused("GCM", request_)


@pytest.mark.parametrize(
    ("platform", "request_", "missing"),
    [
        (
            "ADM",
            {"ClientId": "amzn1.application-oa2-client.x", "ClientSecret": " "},
            "ClientSecret",
        ),
        ("BAIDU", {"ApiKey": "", "SecretKey": "s"}, "ApiKey"),
    ],
)
def test_adm_and_baidu_need_both_secrets(
    platform: str, request_: dict[str, Any], missing: str
) -> None:
    assert refused(platform, request_) == f"{PLATFORMS[platform].request}.{missing} is required"


def test_no_refusal_quotes_a_secret() -> None:
    secret_requests = [
        ("APNS", {"Certificate": "sekrit-cert", "PrivateKey": "sekrit-key"}),
        ("APNS", {**TOKEN, "TokenKey": "sekrit-token"}),
        ("GCM", {"ServiceJson": "sekrit-json"}),
        ("GCM", {"ServiceJson": json.dumps({**json.loads(SERVICE_JSON), "private_key": "sekrit"})}),
    ]
    for platform, request_ in secret_requests:
        assert "sekrit" not in refused(platform, request_)


def test_secrets_never_show_and_stay_out_of_repr() -> None:
    for platform, request_ in [
        ("APNS", {"Certificate": CERTIFICATE, "PrivateKey": PRIVATE_KEY, **TOKEN}),
        ("GCM", {"ApiKey": "AIzaSyExample", "ServiceJson": SERVICE_JSON}),
        ("ADM", {"ClientId": "client", "ClientSecret": "secret"}),
        ("BAIDU", {"ApiKey": "api", "SecretKey": "secret"}),
    ]:
        state = update(platform, request_)
        assert set(state.credentials) == set(request_)
        visible = json.dumps(shown(PLATFORMS[platform], state)) + repr(state)
        for value in request_.values():
            assert value not in visible
