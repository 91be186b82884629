"""SendMessages and SendUsersMessages end to end: a real SMTP server (aiosmtpd) on loopback
receives the e-mail, SMS goes to the outbox, and the outcomes come back per recipient and as
delivery events in the application KPIs."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Server, free_port, new_postgres_database, signed_request, start_server
from tests.delivery.conftest import Recorder, smtp_server
from tests.delivery.push_servers import uvicorn_server
from tests.delivery.test_fcm import Google, google, service_json
from tests.delivery.test_webpush import PushService

IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def smtp_port(recorder: Recorder) -> Iterator[int]:
    with smtp_server(recorder) as port:
        yield port


@pytest.fixture(scope="module")
def fcm_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def fcm(fcm_key: rsa.RSAPrivateKey) -> Iterator[tuple[Google, str]]:
    with google(fcm_key) as running:
        yield running


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_port: int,
    fcm: tuple[Google, str],
) -> Iterator[Server]:
    stack = contextlib.ExitStack()
    database_url = (
        stack.enter_context(new_postgres_database()) if request.param == "postgresql" else None
    )
    running = start_server(
        tmp_path_factory.mktemp(f"send-{request.param}"),
        database_url,
        CLARION_EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        CLARION_RETRY_BASE_SECONDS="0.2",
        CLARION_RETRY_MAX_SECONDS="0.5",
        CLARION_PUBLIC_URL="https://clarion.example.com",
        CLARION_FCM_URL=fcm[1],
    )
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
        stack.close()


@pytest.fixture
def app(pinpoint: Any, app_id: str, recorder: Recorder) -> str:
    recorder.received.clear()
    pinpoint.update_email_channel(
        ApplicationId=app_id,
        EmailChannelRequest={
            "FromAddress": "news@example.com",
            "Identity": IDENTITY,
            "Enabled": True,
        },
    )
    pinpoint.update_sms_channel(ApplicationId=app_id, SMSChannelRequest={"Enabled": True})
    people = [
        ("ann", "EMAIL", "ann@example.org", {"FirstName": ["Ann"]}, {}),
        ("bob", "EMAIL", "bob@example.org", {"FirstName": ["Bob"]}, {"OptOut": "ALL"}),
        ("cy", "EMAIL", "cy@example.org", {}, {"EndpointStatus": "INACTIVE"}),
        ("dee-phone", "SMS", "+14155550101", {"FirstName": ["Dee"]}, {}),
    ]
    items = [
        {
            "Id": endpoint_id,
            "ChannelType": channel,
            "Address": address,
            "User": {"UserId": endpoint_id.split("-")[0], "UserAttributes": attributes},
            **extra,
        }
        for endpoint_id, channel, address, attributes, extra in people
    ]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    return app_id


def email_request(**extra: Any) -> dict[str, Any]:
    return {
        "MessageConfiguration": {
            "EmailMessage": {
                "SimpleEmail": {
                    "Subject": {"Data": "Hello {{User.UserAttributes.FirstName}}"},
                    "HtmlPart": {"Data": "<p>Hi {{User.UserAttributes.FirstName}} & co</p>"},
                    "TextPart": {"Data": "Hi {{User.UserAttributes.FirstName}}"},
                }
            }
        },
        **extra,
    }


def received_by(recorder: Recorder, address: str) -> list[EmailMessage]:
    return [r.message() for r in recorder.received if address in r.rcpt_tos]


def kpi(pinpoint: Any, app_id: str, name: str) -> float:
    today = datetime.now(UTC)
    answer = pinpoint.get_application_date_range_kpi(
        ApplicationId=app_id,
        KpiName=name,
        StartTime=today - timedelta(days=1),
        EndTime=today + timedelta(days=1),
    )
    rows = answer["ApplicationDateRangeKpiResponse"]["KpiResult"]["Rows"]
    return sum(float(row["Values"][0]["Value"]) for row in rows)


def test_personalised_email_to_endpoints_with_opt_out_and_inactive(
    server: Server, pinpoint: Any, app: str, recorder: Recorder
) -> None:
    request = email_request(
        Endpoints={"ann": {}, "bob": {}, "cy": {}, "nobody": {}},
        Addresses={
            "guest@example.org": {
                "ChannelType": "EMAIL",
                "Substitutions": {"User.UserAttributes.FirstName": ["<Eve>"]},
            }
        },
    )
    answer = pinpoint.send_messages(ApplicationId=app, MessageRequest=request)["MessageResponse"]
    results = answer["EndpointResult"]
    assert results["ann"]["DeliveryStatus"] == "SUCCESSFUL"
    assert results["ann"]["StatusCode"] == 200
    assert results["ann"]["Address"] == "ann@example.org"
    assert results["bob"]["DeliveryStatus"] == "OPT_OUT"
    assert results["cy"]["DeliveryStatus"] == "PERMANENT_FAILURE"
    assert results["nobody"]["StatusCode"] == 404
    assert answer["Result"]["guest@example.org"]["DeliveryStatus"] == "SUCCESSFUL"

    [mail] = received_by(recorder, "ann@example.org")
    assert mail["Subject"] == "Hello Ann"
    assert mail["From"] == "news@example.com"
    assert mail["Message-ID"] == f"<{results['ann']['MessageId']}>"
    assert results["ann"]["MessageId"].endswith("@clarion.example.com")
    html = mail.get_body(("html",))
    text = mail.get_body(("plain",))
    assert html is not None and text is not None
    assert "<p>Hi Ann & co</p>" in html.get_content()
    assert text.get_content().strip() == "Hi Ann"
    [guest] = received_by(recorder, "guest@example.org")
    assert guest["Subject"] == "Hello <Eve>"
    guest_html = guest.get_body(("html",))
    assert guest_html is not None
    assert "<p>Hi &lt;Eve&gt; & co</p>" in guest_html.get_content()
    assert not received_by(recorder, "bob@example.org")
    assert not received_by(recorder, "cy@example.org")

    assert kpi(pinpoint, app, "txn-emails-sent") == 2
    assert kpi(pinpoint, app, "txn-emails-delivered") == 2


def test_a_template_with_default_substitutions_and_overrides(
    server: Server, pinpoint: Any, app: str, recorder: Recorder
) -> None:
    name = f"welcome-{app[:8]}"
    pinpoint.create_email_template(
        TemplateName=name,
        EmailTemplateRequest={
            "Subject": "Welcome {{User.UserAttributes.FirstName}}",
            "TextPart": "Your code is {{Attributes.Code}}.",
            "DefaultSubstitutions": json.dumps(
                {"User.UserAttributes.FirstName": "friend", "Attributes.Code": "none"}
            ),
        },
    )
    answer = pinpoint.send_messages(
        ApplicationId=app,
        MessageRequest={
            "MessageConfiguration": {},
            "TemplateConfiguration": {"EmailTemplate": {"Name": name}},
            "Addresses": {
                "x@example.org": {
                    "ChannelType": "EMAIL",
                    "Substitutions": {"Attributes.Code": ["42"]},
                },
                "y@example.org": {"ChannelType": "EMAIL", "BodyOverride": "Plain {{Address}}"},
            },
        },
    )["MessageResponse"]["Result"]
    assert {r["DeliveryStatus"] for r in answer.values()} == {"SUCCESSFUL"}
    [x] = received_by(recorder, "x@example.org")
    assert x["Subject"] == "Welcome friend"
    assert x.get_content().strip() == "Your code is 42."
    [y] = received_by(recorder, "y@example.org")
    assert y.get_content().strip() == "Plain y@example.org"

    with pytest.raises(
        pinpoint.exceptions.BadRequestException, match=r"not found|NotFound|no template"
    ):
        pinpoint.send_messages(
            ApplicationId=app,
            MessageRequest={
                "MessageConfiguration": {},
                "TemplateConfiguration": {"EmailTemplate": {"Name": "missing-template"}},
                "Addresses": {"z@example.org": {"ChannelType": "EMAIL"}},
            },
        )


def test_a_rendering_failure_fails_only_its_message(
    server: Server, pinpoint: Any, app: str, recorder: Recorder
) -> None:
    request = {
        "MessageConfiguration": {
            "EmailMessage": {
                "SimpleEmail": {
                    "Subject": {"Data": "On {{dateFormat Attributes.When 'yyyy-MM-dd'}}"},
                    "TextPart": {"Data": "x"},
                }
            }
        },
        "Addresses": {
            "good@example.org": {
                "ChannelType": "EMAIL",
                "Substitutions": {"Attributes.When": ["2026-01-02T03:04:05Z"]},
            },
            "bad@example.org": {
                "ChannelType": "EMAIL",
                "Substitutions": {"Attributes.When": ["not a date"]},
            },
        },
    }
    result = pinpoint.send_messages(ApplicationId=app, MessageRequest=request)["MessageResponse"][
        "Result"
    ]
    assert result["good@example.org"]["DeliveryStatus"] == "SUCCESSFUL"
    assert result["bad@example.org"]["DeliveryStatus"] == "PERMANENT_FAILURE"
    assert "template failed" in result["bad@example.org"]["StatusMessage"]
    assert received_by(recorder, "good@example.org")[0]["Subject"] == "On 2026-01-02"
    assert not received_by(recorder, "bad@example.org")


def test_a_4xx_is_retried_until_exactly_one_copy_arrives(
    server: Server, pinpoint: Any, app: str, recorder: Recorder
) -> None:
    recorder.data_replies.extend(["451 4.3.0 try later"] * 3)
    result = pinpoint.send_messages(
        ApplicationId=app,
        MessageRequest=email_request(Addresses={"later@example.org": {"ChannelType": "EMAIL"}}),
    )["MessageResponse"]["Result"]["later@example.org"]
    assert result["DeliveryStatus"] == "TEMPORARY_FAILURE"
    assert result["StatusCode"] == 451
    deadline = time.monotonic() + 60
    while not received_by(recorder, "later@example.org"):
        log = server.log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"the retried message never arrived:\n{log}"
        time.sleep(0.1)
    time.sleep(1.5)
    [mail] = received_by(recorder, "later@example.org")
    assert mail["Message-ID"] == f"<{result['MessageId']}>"
    assert not recorder.data_replies


def test_a_5xx_is_a_hard_bounce(
    server: Server, pinpoint: Any, app: str, recorder: Recorder
) -> None:
    recorder.rcpt_replies.append("550 5.1.1 no such user")
    result = pinpoint.send_messages(
        ApplicationId=app,
        MessageRequest=email_request(Addresses={"gone@example.org": {"ChannelType": "EMAIL"}}),
    )["MessageResponse"]["Result"]["gone@example.org"]
    assert (result["DeliveryStatus"], result["StatusCode"]) == ("PERMANENT_FAILURE", 550)
    assert kpi(pinpoint, app, "txn-emails-hard-bounced") == 1
    time.sleep(1)
    assert not received_by(recorder, "gone@example.org")


def test_sms_to_the_outbox_duplicates_and_missing_channels(
    server: Server, pinpoint: Any, app: str
) -> None:
    answer = pinpoint.send_messages(
        ApplicationId=app,
        MessageRequest={
            "MessageConfiguration": {
                "SMSMessage": {
                    "Body": "Hi {{User.UserAttributes.FirstName}}",
                    "MessageType": "TRANSACTIONAL",
                }
            },
            "Endpoints": {"dee-phone": {}},
            "Addresses": {
                "+14155550101": {"ChannelType": "SMS"},
                "+14155550102": {"ChannelType": "VOICE"},
            },
        },
    )["MessageResponse"]
    assert answer["EndpointResult"]["dee-phone"]["DeliveryStatus"] == "SUCCESSFUL"
    assert answer["Result"]["+14155550101"]["DeliveryStatus"] == "DUPLICATE"
    assert answer["Result"]["+14155550102"]["DeliveryStatus"] == "PERMANENT_FAILURE"
    assert "VOICE channel is not set up" in answer["Result"]["+14155550102"]["StatusMessage"]
    outbox = Path(server.env["CLARION_DATA_DIR"]) / "outbox" / "sms.jsonl"
    sent = [json.loads(line) for line in outbox.read_text().splitlines()]
    mine = [
        s for s in sent if s["message_id"] == answer["EndpointResult"]["dee-phone"]["MessageId"]
    ]
    assert [(s["recipient"], s["body"]) for s in mine] == [("+14155550101", "Hi Dee")]
    assert kpi(pinpoint, app, "txn-sms-sent") == 1
    assert kpi(pinpoint, app, "txn-sms-delivered") == 1


def test_send_users_messages_reaches_every_endpoint_of_each_user(
    server: Server, pinpoint: Any, app: str, recorder: Recorder
) -> None:
    pinpoint.update_endpoint(
        ApplicationId=app,
        EndpointId="ann-work",
        EndpointRequest={
            "ChannelType": "EMAIL",
            "Address": "ann@work.example",
            "User": {"UserId": "ann"},
        },
    )
    answer = pinpoint.send_users_messages(
        ApplicationId=app,
        SendUsersMessageRequest={**email_request(), "Users": {"ann": {}, "bob": {}}},
    )["SendUsersMessageResponse"]["Result"]
    assert {k: v["DeliveryStatus"] for k, v in answer["ann"].items()} == {
        "ann": "SUCCESSFUL",
        "ann-work": "SUCCESSFUL",
    }
    assert answer["bob"]["bob"]["DeliveryStatus"] == "OPT_OUT"
    assert received_by(recorder, "ann@work.example")


def test_requests_without_recipients_are_refused(server: Server, pinpoint: Any, app: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="Addresses or Endpoints"):
        pinpoint.send_messages(ApplicationId=app, MessageRequest=email_request())
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="ChannelType is required"):
        pinpoint.send_messages(
            ApplicationId=app, MessageRequest=email_request(Addresses={"a@example.org": {}})
        )


def sent_sms(server: Server, message_id: str) -> dict[str, Any]:
    outbox = Path(server.env["CLARION_DATA_DIR"]) / "outbox" / "sms.jsonl"
    lines: list[dict[str, Any]] = [json.loads(line) for line in outbox.read_text().splitlines()]
    [found] = [line for line in lines if line["message_id"] == message_id]
    return found


def test_one_time_passwords(server: Server, pinpoint: Any, app: str) -> None:
    def send(**extra: Any) -> str:
        answer = pinpoint.send_otp_message(
            ApplicationId=app,
            SendOTPMessageRequestParameters={
                "BrandName": "Acme",
                "Channel": "SMS",
                "DestinationIdentity": "+14155550199",
                "OriginationIdentity": "+14155550000",
                "ReferenceId": "login-1",
                **extra,
            },
        )["MessageResponse"]["Result"]["+14155550199"]
        assert answer["DeliveryStatus"] == "SUCCESSFUL", answer
        body: str = sent_sms(server, answer["MessageId"])["body"]
        return body

    def verify(code: str, reference: str = "login-1") -> bool:
        answer = pinpoint.verify_otp_message(
            ApplicationId=app,
            VerifyOTPMessageRequestParameters={
                "DestinationIdentity": "+14155550199",
                "Otp": code,
                "ReferenceId": reference,
            },
        )
        valid: bool = answer["VerificationResponse"]["Valid"]
        return valid

    body = send(CodeLength=8, Language="de-DE")
    assert body.startswith("Ihr Einmalpasswort für Acme: ")
    code = body.rsplit(" ", 1)[1]
    assert len(code) == 8 and code.isdigit()
    assert not verify(code, reference="other")
    assert verify(code)
    assert not verify(code), "a code is used up by its first right answer"

    code = send(AllowedAttempts=2).rsplit(" ", 1)[1]
    wrong = "0" * 6 if code != "0" * 6 else "1" * 6
    assert not verify(wrong)
    assert not verify(wrong)
    assert not verify(code), "the attempts ran out"

    first = send().rsplit(" ", 1)[1]
    second = send().rsplit(" ", 1)[1]
    assert verify(second)
    assert first == second or not verify(first)

    with pytest.raises(pinpoint.exceptions.BadRequestException, match="CodeLength"):
        send(CodeLength=12)
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="Language"):
        send(Language="xx-XX")
    database = Path(server.env["CLARION_DATA_DIR"]) / "clarion.db"
    if database.exists():
        assert code.encode() not in database.read_bytes()


def test_push_through_fcm_with_the_apps_service_account(
    server: Server,
    pinpoint: Any,
    app: str,
    fcm: tuple[Google, str],
    fcm_key: rsa.RSAPrivateKey,
) -> None:
    peer, base_url = fcm
    pinpoint.update_gcm_channel(
        ApplicationId=app,
        GCMChannelRequest={
            "ServiceJson": service_json(fcm_key, f"{base_url}/token"),
            "DefaultAuthenticationMethod": "TOKEN",
            "Enabled": True,
        },
    )
    pinpoint.update_endpoint(
        ApplicationId=app,
        EndpointId="ann-phone",
        EndpointRequest={
            "ChannelType": "GCM",
            "Address": "fcm-registration-token-1",
            "User": {"UserId": "ann", "UserAttributes": {"FirstName": ["Ann"]}},
        },
    )
    peer.answers.append(
        (
            404,
            {
                "error": {
                    "code": 404,
                    "status": "NOT_FOUND",
                    "details": [{"@type": "FcmError", "errorCode": "UNREGISTERED"}],
                }
            },
        )
    )
    message = {"GCMMessage": {"Title": "Hi {{User.UserAttributes.FirstName}}", "Body": "Sale"}}
    stale = pinpoint.send_messages(
        ApplicationId=app,
        MessageRequest={
            "MessageConfiguration": message,
            "Addresses": {"stale-token": {"ChannelType": "GCM"}},
        },
    )["MessageResponse"]["Result"]["stale-token"]
    assert (stale["DeliveryStatus"], stale["StatusCode"]) == ("PERMANENT_FAILURE", 404)
    answer = pinpoint.send_messages(
        ApplicationId=app,
        MessageRequest={"MessageConfiguration": message, "Endpoints": {"ann-phone": {}}},
    )["MessageResponse"]
    assert answer["EndpointResult"]["ann-phone"]["DeliveryStatus"] == "SUCCESSFUL"
    sent = [m["message"] for m in peer.sent if m["message"]["token"] == "fcm-registration-token-1"]
    assert sent and json.dumps(sent[-1]).count("Hi Ann") >= 1


def test_open_and_click_tracking(
    server: Server, pinpoint: Any, app: str, recorder: Recorder
) -> None:
    """On by default, as in Pinpoint: the app has never touched its switches."""
    path = f"/clarion/v1/apps/{app}/email-tracking"
    assert signed_request(server, "GET", path).json() == {"Opens": True, "Clicks": True}
    assert signed_request(server, "PUT", path, b'{"Opens": 1}').status_code == 400
    html = '<html><body><a href="https://shop.example.com/sale?x=1&amp;y=2">Sale</a></body></html>'
    request = {
        "MessageConfiguration": {
            "EmailMessage": {
                "SimpleEmail": {"Subject": {"Data": "Sale"}, "HtmlPart": {"Data": html}}
            }
        },
        "Endpoints": {"ann": {}},
    }
    pinpoint.send_messages(ApplicationId=app, MessageRequest=request)
    [mail] = received_by(recorder, "ann@example.org")
    body = mail.get_body(("html",))
    assert body is not None
    received = body.get_content()
    links = re.findall(r'href="https://clarion\.example\.com(/t/c/[^"]+)"', received)
    pixels = re.findall(r'src="https://clarion\.example\.com(/t/o/[^"]+)"', received)
    assert len(links) == 1 and len(pixels) == 1
    assert "shop.example.com" not in received

    pixel = httpx.get(server.url + pixels[0])
    assert (pixel.status_code, pixel.headers["content-type"]) == (200, "image/gif")
    click = httpx.get(server.url + links[0], follow_redirects=False)
    assert click.status_code == 302
    assert click.headers["location"] == "https://shop.example.com/sale?x=1&y=2"
    forged = links[0][:-3] + ("AAA" if not links[0].endswith("AAA") else "BBB")
    assert httpx.get(server.url + forged, follow_redirects=False).status_code == 404

    assert kpi(pinpoint, app, "txn-emails-opened") == 1
    assert kpi(pinpoint, app, "txn-emails-clicked") == 1


def test_a_mail_server_that_is_down_delays_messages_and_loses_none(tmp_path: Path) -> None:
    """Nothing listens on the SMTP port at first: every message is a temporary failure, waits
    in the ledger, and arrives once (and only once) after the server comes up."""
    port = free_port()
    server = start_server(
        tmp_path / "data",
        None,
        CLARION_EMAIL_URL=f"smtp://127.0.0.1:{port}",
        CLARION_RETRY_BASE_SECONDS="0.2",
        CLARION_RETRY_MAX_SECONDS="1",
    )
    try:
        pinpoint = server.client()
        app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "down"})[
            "ApplicationResponse"
        ]["Id"]
        pinpoint.update_email_channel(
            ApplicationId=app_id,
            EmailChannelRequest={"FromAddress": "news@example.com", "Identity": IDENTITY},
        )
        addresses = {f"r{n}@example.org": {"ChannelType": "EMAIL"} for n in range(20)}
        result = pinpoint.send_messages(
            ApplicationId=app_id, MessageRequest=email_request(Addresses=addresses)
        )["MessageResponse"]["Result"]
        assert {r["DeliveryStatus"] for r in result.values()} == {"TEMPORARY_FAILURE"}
        time.sleep(3)
        recorder = Recorder()
        with smtp_server(recorder, port):
            deadline = time.monotonic() + 30
            while len(recorder.received) < len(addresses):
                assert time.monotonic() < deadline, len(recorder.received)
                time.sleep(0.1)
            time.sleep(2)
        ids = sorted(r.message()["Message-ID"] for r in recorder.received)
        assert ids == sorted(f"<{r['MessageId']}>" for r in result.values())
        assert kpi(pinpoint, app_id, "txn-emails-delivered") == len(addresses)
    finally:
        server.stop()


def test_web_push_to_a_browser_subscription(server: Server, pinpoint: Any, app: str) -> None:
    key = signed_request(server, "GET", "/clarion/v1/web-push/public-key").json()["PublicKey"]
    service = PushService()
    with uvicorn_server(service.app) as base_url:
        browser = service.subscribe(base_url, "tab-1")
        pinpoint.update_endpoint(
            ApplicationId=app,
            EndpointId="ann-browser",
            EndpointRequest={
                "ChannelType": "PUSH",
                "Address": browser.subscription,
                "User": {"UserId": "ann", "UserAttributes": {"FirstName": ["Ann"]}},
            },
        )
        result = pinpoint.send_messages(
            ApplicationId=app,
            MessageRequest={
                "MessageConfiguration": {
                    "DefaultPushNotificationMessage": {
                        "Title": "Hi {{User.UserAttributes.FirstName}}",
                        "Body": "Back in stock",
                    }
                },
                "Endpoints": {"ann-browser": {}},
            },
        )["MessageResponse"]["EndpointResult"]["ann-browser"]
    assert result["DeliveryStatus"] == "SUCCESSFUL", result
    [delivered] = service.delivered
    assert delivered.vapid_key == key
    assert b"Hi Ann" in delivered.plaintext
