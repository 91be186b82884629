"""Channels through boto3: every platform's Get/Update/Delete, GetChannels, and credentials that
are stored for delivery but never answered nor logged."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from clarion.channels.service import Channels
from clarion.clock import system_clock
from clarion.config import load_settings
from clarion.outbound import LOOPBACK, OutboundPolicy
from clarion.store.channels import ChannelRepository
from clarion.store.database import Database
from tests.conftest import Server


def pem(label: str) -> str:
    """PEM text around random bytes: the channel checks its shape, and each value is unique, so
    finding it anywhere means it leaked."""
    body = base64.b64encode(secrets.token_bytes(96)).decode()
    return f"-----BEGIN {label}-----\n{body[:64]}\n{body[64:]}\n-----END {label}-----\n"


def service_json() -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "clarion-test",
            "private_key": pem("PRIVATE KEY"),
            "client_email": "push@clarion-test.iam.gserviceaccount.com",
        }
    )


def apns_request() -> dict[str, Any]:
    return {
        "Certificate": pem("CERTIFICATE"),
        "PrivateKey": pem("RSA PRIVATE KEY"),
        "TokenKey": pem("PRIVATE KEY"),
        "TokenKeyId": "ABC123DEFG",
        "TeamId": "TEAM123456",
        "BundleId": "com.example.app",
        "DefaultAuthenticationMethod": "TOKEN",
    }


EMAIL = {
    "FromAddress": "sender@example.com",
    "Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
    "RoleArn": "arn:aws:iam::123456789012:role/pinpoint-events",
}

# operation name part, request member, response member, Platform, a valid request
CHANNELS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("email", "EmailChannelRequest", "EmailChannelResponse", "EMAIL", EMAIL),
    ("sms", "SMSChannelRequest", "SMSChannelResponse", "SMS", {"SenderId": "Clarion"}),
    ("voice", "VoiceChannelRequest", "VoiceChannelResponse", "VOICE", {"Enabled": True}),
    ("gcm", "GCMChannelRequest", "GCMChannelResponse", "GCM", {"ServiceJson": service_json()}),
    ("apns", "APNSChannelRequest", "APNSChannelResponse", "APNS", apns_request()),
    (
        "apns_sandbox",
        "APNSSandboxChannelRequest",
        "APNSSandboxChannelResponse",
        "APNS_SANDBOX",
        apns_request(),
    ),
    ("apns_voip", "APNSVoipChannelRequest", "APNSVoipChannelResponse", "APNS_VOIP", apns_request()),
    (
        "apns_voip_sandbox",
        "APNSVoipSandboxChannelRequest",
        "APNSVoipSandboxChannelResponse",
        "APNS_VOIP_SANDBOX",
        apns_request(),
    ),
    (
        "adm",
        "ADMChannelRequest",
        "ADMChannelResponse",
        "ADM",
        {"ClientId": f"amzn1.application-oa2-client.{secrets.token_hex(8)}", "ClientSecret": "s3"},
    ),
    (
        "baidu",
        "BaiduChannelRequest",
        "BaiduChannelResponse",
        "BAIDU",
        {"ApiKey": secrets.token_hex(12), "SecretKey": secrets.token_hex(16)},
    ),
]
SECRET_MEMBERS = {
    "Certificate",
    "PrivateKey",
    "TokenKey",
    "ApiKey",
    "ServiceJson",
    "ClientId",
    "ClientSecret",
    "SecretKey",
}


def code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = excinfo.value.response["Error"]["Code"]
    return found


def message(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = excinfo.value.response["Error"]["Message"]
    return found


@pytest.fixture
def raw_bodies(pinpoint: Any) -> list[bytes]:
    """Every response body the client receives, as sent: boto3 drops members the model lacks,
    so only the raw bytes show whether a secret went out."""
    bodies: list[bytes] = []

    def record(http_response: Any, **_: Any) -> None:
        bodies.append(http_response.content)

    pinpoint.meta.events.register("after-call.pinpoint", record)
    return bodies


@pytest.fixture
def channels_store(server: Server) -> Iterator[Channels]:
    """The store the server writes to, opened the way the delivery layer will read it."""
    url = load_settings(
        data_dir=server.env["CLARION_DATA_DIR"],
        database_url=server.env.get("CLARION_DATABASE_URL"),
    ).sqlalchemy_url
    db = Database(url)
    try:
        yield Channels(ChannelRepository(db), system_clock, OutboundPolicy(LOOPBACK))
    finally:
        db.dispose()


def call(pinpoint: Any, verb: str, name: str, app_id: str, **request: Any) -> dict[str, Any]:
    answer: dict[str, Any] = getattr(pinpoint, f"{verb}_{name}_channel")(
        ApplicationId=app_id, **request
    )
    return answer


def test_email_channel_lifecycle(pinpoint: Any, app_id: str, server: Server) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_email_channel(ApplicationId=app_id)
    assert code(excinfo) == "NotFoundException"

    created = pinpoint.update_email_channel(ApplicationId=app_id, EmailChannelRequest=EMAIL)[
        "EmailChannelResponse"
    ]
    assert created == {
        **EMAIL,
        "ApplicationId": app_id,
        "CreationDate": created["CreationDate"],
        "Enabled": True,
        "Id": "email",
        "IsArchived": False,
        "LastModifiedBy": server.access_key_id,
        "LastModifiedDate": created["CreationDate"],
        "MessagesPerSecond": 1,
        "Platform": "EMAIL",
        "Version": 1,
    }
    assert pinpoint.get_email_channel(ApplicationId=app_id)["EmailChannelResponse"] == created

    updated = pinpoint.update_email_channel(
        ApplicationId=app_id,
        EmailChannelRequest={
            "FromAddress": "news@example.com",
            "Identity": EMAIL["Identity"],
            "Enabled": False,
            "ConfigurationSet": "marketing",
        },
    )["EmailChannelResponse"]
    assert (updated["Version"], updated["Enabled"], updated["FromAddress"]) == (
        2,
        False,
        "news@example.com",
    )
    assert updated["CreationDate"] == created["CreationDate"]
    assert updated["RoleArn"] == EMAIL["RoleArn"], "members left out keep their values"
    assert updated["ConfigurationSet"] == "marketing"

    deleted = pinpoint.delete_email_channel(ApplicationId=app_id)["EmailChannelResponse"]
    assert deleted == updated
    for verb in ("get", "delete"):
        with pytest.raises(ClientError) as excinfo:
            call(pinpoint, verb, "email", app_id)
        assert code(excinfo) == "NotFoundException"


def test_every_channel_round_trips_and_get_channels_lists_them(
    pinpoint: Any, app_id: str, raw_bodies: list[bytes]
) -> None:
    assert pinpoint.get_channels(ApplicationId=app_id)["ChannelsResponse"]["Channels"] == {
        "IN_APP": {"Enabled": True, "IsArchived": False, "Version": 0}
    }
    for name, request_member, response_member, platform, request in CHANNELS:
        with pytest.raises(ClientError) as excinfo:
            call(pinpoint, "get", name, app_id)
        assert code(excinfo) == "NotFoundException", name
        answer = call(pinpoint, "update", name, app_id, **{request_member: request})
        channel = answer[response_member]
        assert (channel["Platform"], channel["Id"], channel["Version"]) == (platform, name, 1)
        assert channel["Enabled"] is True
        assert channel["ApplicationId"] == app_id
        got = call(pinpoint, "get", name, app_id)[response_member]
        assert got == channel

    listed = pinpoint.get_channels(ApplicationId=app_id)["ChannelsResponse"]["Channels"]
    assert set(listed) == {platform for *_, platform, _ in CHANNELS} | {"IN_APP"}
    for name, *_, platform, _ in CHANNELS:
        assert (listed[platform]["Id"], listed[platform]["Version"]) == (name, 1)
        assert listed[platform]["IsArchived"] is False
    assert listed["GCM"]["HasCredential"] is True
    assert "HasCredential" not in listed["SMS"]

    for name, _, response_member, platform, _ in CHANNELS:
        deleted = call(pinpoint, "delete", name, app_id)[response_member]
        assert deleted["Platform"] == platform
    assert set(pinpoint.get_channels(ApplicationId=app_id)["ChannelsResponse"]["Channels"]) == {
        "IN_APP"
    }

    sent = b"".join(raw_bodies)
    assert b'"Platform":"APNS_VOIP_SANDBOX"' in sent, "the recorder sees the bodies"
    for *_, request in CHANNELS:
        for member, value in request.items():
            if member in SECRET_MEMBERS:
                assert value.encode() not in sent, f"{member} was answered"


def test_credentials_are_stored_for_delivery_never_answered_nor_logged(
    pinpoint: Any,
    app_id: str,
    server: Server,
    raw_bodies: list[bytes],
    channels_store: Channels,
) -> None:
    apns = apns_request()
    created = pinpoint.update_apns_channel(ApplicationId=app_id, APNSChannelRequest=apns)[
        "APNSChannelResponse"
    ]
    assert (created["DefaultAuthenticationMethod"], created["HasTokenKey"]) == ("TOKEN", True)
    assert created["HasCredential"] is True

    disabled = pinpoint.update_apns_channel(
        ApplicationId=app_id, APNSChannelRequest={"Enabled": False}
    )["APNSChannelResponse"]
    assert (disabled["Enabled"], disabled["Version"]) == (False, 2)
    assert disabled["DefaultAuthenticationMethod"] == "TOKEN"
    assert disabled["HasTokenKey"] is True
    stored = channels_store.credentials(app_id, "APNS")
    assert stored == {k: v for k, v in apns.items() if k != "DefaultAuthenticationMethod"}

    gcm_json = service_json()
    api_key = f"AIza{secrets.token_hex(16)}"
    gcm = pinpoint.update_gcm_channel(
        ApplicationId=app_id, GCMChannelRequest={"ApiKey": api_key, "ServiceJson": gcm_json}
    )["GCMChannelResponse"]
    assert (gcm["DefaultAuthenticationMethod"], gcm["HasFcmServiceCredentials"]) == ("KEY", True)
    assert "Credential" not in gcm
    tokened = pinpoint.update_gcm_channel(
        ApplicationId=app_id, GCMChannelRequest={"DefaultAuthenticationMethod": "TOKEN"}
    )["GCMChannelResponse"]
    assert tokened["DefaultAuthenticationMethod"] == "TOKEN"
    assert channels_store.credentials(app_id, "GCM") == {"ApiKey": api_key, "ServiceJson": gcm_json}

    baidu_key, baidu_secret = secrets.token_hex(12), secrets.token_hex(16)
    baidu = pinpoint.update_baidu_channel(
        ApplicationId=app_id, BaiduChannelRequest={"ApiKey": baidu_key, "SecretKey": baidu_secret}
    )["BaiduChannelResponse"]
    assert baidu["HasCredential"] is True

    bad_key = pem("CERTIFICATE")
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_apns_channel(
            ApplicationId=app_id,
            APNSChannelRequest={"Certificate": apns["Certificate"], "PrivateKey": bad_key},
        )
    assert code(excinfo) == "BadRequestException"
    assert message(excinfo).startswith("APNSChannelRequest.PrivateKey must be unencrypted PEM")

    pinpoint.get_channels(ApplicationId=app_id)
    secrets_sent = [
        *(apns[m] for m in ("Certificate", "PrivateKey", "TokenKey")),
        api_key,
        gcm_json,
        json.loads(gcm_json)["private_key"],
        baidu_key,
        baidu_secret,
        bad_key,
    ]
    sent = b"".join(raw_bodies)
    assert b"APNSChannelRequest.PrivateKey must be" in sent, "the recorder sees errors too"
    log = server.log.read_bytes()
    assert b'"operation":"UpdateApnsChannel"' in log, "the server logs to this file"
    pem_lines = [value.split("\n")[1] for value in secrets_sent if value.startswith("-----")]
    for value in [*secrets_sent, *pem_lines]:
        assert value.encode() not in sent
        assert value.encode() not in log


@pytest.mark.parametrize(
    ("name", "request_member", "body", "expected"),
    [
        (
            "email",
            "EmailChannelRequest",
            {**EMAIL, "FromAddress": "not-an-address"},
            "EmailChannelRequest.FromAddress 'not-an-address' is not a valid email address",
        ),
        (
            "email",
            "EmailChannelRequest",
            {**EMAIL, "Identity": "example.com"},
            "EmailChannelRequest.Identity 'example.com' is not an SES identity ARN",
        ),
        ("apns", "APNSChannelRequest", {"Enabled": True}, "APNSChannelRequest needs a certificate"),
        (
            "apns_voip",
            "APNSVoipChannelRequest",
            {"TokenKey": pem("PRIVATE KEY"), "TeamId": "TEAM123456"},
            "APNSVoipChannelRequest.TokenKeyId is required",
        ),
        ("gcm", "GCMChannelRequest", {"ServiceJson": "{}"}, "GCMChannelRequest.ServiceJson lacks"),
        (
            "gcm",
            "GCMChannelRequest",
            {
                "ServiceJson": json.dumps(
                    {**json.loads(service_json()), "token_uri": "https://169.254.169.254/token"}
                )
            },
            "GCMChannelRequest.ServiceJson token_uri: 169.254.169.254 resolves to "
            "169.254.169.254, a link-local address",
        ),
        ("gcm", "GCMChannelRequest", {}, "GCMChannelRequest needs ApiKey"),
        (
            "sms",
            "SMSChannelRequest",
            {"SenderId": "no spaces allowed"},
            "SMSChannelRequest.SenderId",
        ),
    ],
)
def test_bad_channel_requests_name_the_member(
    pinpoint: Any, app_id: str, name: str, request_member: str, body: Any, expected: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(pinpoint, "update", name, app_id, **{request_member: body})
    assert code(excinfo) == "BadRequestException"
    assert message(excinfo).startswith(expected)
    with pytest.raises(ClientError) as excinfo:
        call(pinpoint, "get", name, app_id)
    assert code(excinfo) == "NotFoundException", "a refused update stores nothing"


def test_a_refused_update_keeps_the_stored_channel(pinpoint: Any, app_id: str) -> None:
    pinpoint.update_sms_channel(ApplicationId=app_id, SMSChannelRequest={"ShortCode": "12345"})
    with pytest.raises(ClientError):
        pinpoint.update_sms_channel(
            ApplicationId=app_id, SMSChannelRequest={"ShortCode": "1", "Enabled": False}
        )
    kept = pinpoint.get_sms_channel(ApplicationId=app_id)["SMSChannelResponse"]
    assert (kept["ShortCode"], kept["Enabled"], kept["Version"]) == ("12345", True, 1)


def test_deleting_the_app_deletes_its_channels(pinpoint: Any, channels_store: Channels) -> None:
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "doomed"})[
        "ApplicationResponse"
    ]["Id"]
    pinpoint.update_voice_channel(ApplicationId=app_id, VoiceChannelRequest={"Enabled": True})
    assert channels_store.repo.get(app_id, "VOICE") is not None
    pinpoint.delete_app(ApplicationId=app_id)
    assert channels_store.repo.get(app_id, "VOICE") is None
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_voice_channel(ApplicationId=app_id)
    assert code(excinfo) == "NotFoundException"
