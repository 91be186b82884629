"""Signature V4 verification, access keys from the CLI, and app-limited keys, over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, signed_request


def assert_forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"].startswith("ForbiddenException")
    assert set(response.json()) == {"Message", "RequestID"}


def test_unsigned_request_is_forbidden(server: Server) -> None:
    assert_forbidden(httpx.get(f"{server.url}/v1/apps"))


def test_unknown_key_is_forbidden(server: Server) -> None:
    response = signed_request(server, "GET", "/v1/apps", key=("AKCLNOSUCHKEY0000000", "x" * 40))
    assert_forbidden(response)
    assert "security token" in response.json()["Message"]


def test_wrong_secret_is_forbidden_and_never_echoed(server: Server) -> None:
    wrong = "wrong-secret-" + "z" * 27
    response = signed_request(server, "GET", "/v1/apps", key=(server.access_key_id, wrong))
    assert_forbidden(response)
    assert wrong not in response.text
    assert server.secret not in response.text
    assert server.secret not in server.log.read_text()


def test_any_region_is_accepted(server: Server) -> None:
    assert signed_request(server, "GET", "/v1/apps", region="ap-northeast-2").status_code == 200
    client = server.client(region="eu-west-3")
    assert "Item" in client.get_apps()["ApplicationsResponse"]


def test_wrong_service_is_forbidden(server: Server) -> None:
    assert_forbidden(signed_request(server, "GET", "/v1/apps", service="s3"))


def test_tampered_body_is_forbidden(server: Server) -> None:
    body = json.dumps({"Name": "tamper"}).encode()
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=f"{server.url}/v1/apps", data=body)
    SigV4Auth(
        Credentials(server.access_key_id, server.secret), "mobiletargeting", "us-east-1"
    ).add_auth(request)
    prepared = request.prepare()
    response = httpx.post(
        prepared.url, headers=dict(prepared.headers), content=body.replace(b"tamper", b"tamped")
    )
    assert_forbidden(response)


@pytest.mark.parametrize("minutes", [-16, 16])
def test_requests_outside_the_clock_skew_are_forbidden(server: Server, minutes: int) -> None:
    moment = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        response = signed_request(server, "GET", "/v1/apps")
    assert_forbidden(response)


def test_requests_inside_the_clock_skew_are_accepted(server: Server) -> None:
    moment = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        response = signed_request(server, "GET", "/v1/apps")
    assert response.status_code == 200


def test_presigned_url_is_accepted(server: Server) -> None:
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=f"{server.url}/v1/apps?page-size=1")
    SigV4QueryAuth(
        Credentials(server.access_key_id, server.secret), "mobiletargeting", "us-east-1", expires=60
    ).add_auth(request)
    response = httpx.get(request.prepare().url)
    assert response.status_code == 200, response.text
    assert "Item" in response.json()


def test_revoked_key_is_forbidden(server: Server) -> None:
    key = server.new_key()
    client = server.client(key)
    client.get_apps()
    done = server.cli("keys", "revoke", key[0])
    assert done.returncode == 0, done.stderr
    with pytest.raises(ClientError) as excinfo:
        client.get_apps()
    assert excinfo.value.response["Error"]["Code"] == "ForbiddenException"


def test_keys_list_never_shows_secrets(server: Server) -> None:
    listed = server.cli("keys", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    keys = json.loads(listed.stdout)
    assert server.access_key_id in {k["AccessKeyId"] for k in keys}
    assert server.secret not in listed.stdout


def test_key_limited_to_apps_sees_only_them(server: Server, pinpoint: Any) -> None:
    mine = pinpoint.create_app(CreateApplicationRequest={"Name": "mine"})["ApplicationResponse"]
    other = pinpoint.create_app(CreateApplicationRequest={"Name": "other"})["ApplicationResponse"]
    limited = server.client(server.new_key(mine["Id"]))

    listed = limited.get_apps()["ApplicationsResponse"]["Item"]
    assert [app["Id"] for app in listed] == [mine["Id"]]
    assert limited.get_app(ApplicationId=mine["Id"])["ApplicationResponse"]["Name"] == "mine"
    limited.update_endpoint(
        ApplicationId=mine["Id"], EndpointId="e", EndpointRequest={"ChannelType": "EMAIL"}
    )

    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_app", {"ApplicationId": other["Id"]}),
        ("get_app", {"ApplicationId": "f" * 32}),
        ("delete_app", {"ApplicationId": other["Id"]}),
        ("get_endpoint", {"ApplicationId": other["Id"], "EndpointId": "e"}),
        ("list_tags_for_resource", {"ResourceArn": other["Arn"]}),
        ("create_app", {"CreateApplicationRequest": {"Name": "sneaky"}}),
    ]
    for method, kwargs in calls:
        with pytest.raises(ClientError) as excinfo:
            getattr(limited, method)(**kwargs)
        assert excinfo.value.response["Error"]["Code"] == "ForbiddenException"
    for app in (mine, other):
        pinpoint.delete_app(ApplicationId=app["Id"])


def test_a_limited_key_reads_and_uses_templates_but_never_changes_them(
    server: Server, pinpoint: Any
) -> None:
    """Issue 10, finding 4: templates are the account's, shared by every app's campaigns."""
    mine = pinpoint.create_app(CreateApplicationRequest={"Name": "mine"})["ApplicationResponse"]
    limited = server.client(server.new_key(mine["Id"]))
    name = f"shared-{mine['Id'][:8]}"
    pinpoint.create_sms_template(
        TemplateName=name, SMSTemplateRequest={"Body": "Hi {{User.UserId}}", "tags": {"a": "1"}}
    )
    arn = pinpoint.get_sms_template(TemplateName=name)["SMSTemplateResponse"]["Arn"]

    assert limited.get_sms_template(TemplateName=name)["SMSTemplateResponse"]["Body"]
    listed = limited.list_templates(Prefix=name)["TemplatesResponse"]["Item"]
    assert [t["TemplateName"] for t in listed] == [name]
    assert limited.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {"a": "1"}
    refused: list[tuple[str, dict[str, Any]]] = [
        ("create_sms_template", {"TemplateName": f"{name}-2", "SMSTemplateRequest": {"Body": "x"}}),
        ("update_sms_template", {"TemplateName": name, "SMSTemplateRequest": {"Body": "x"}}),
        ("delete_sms_template", {"TemplateName": name}),
        (
            "update_template_active_version",
            {
                "TemplateName": name,
                "TemplateType": "SMS",
                "TemplateActiveVersionRequest": {"Version": "1"},
            },
        ),
        ("tag_resource", {"ResourceArn": arn, "TagsModel": {"tags": {"b": "2"}}}),
        ("untag_resource", {"ResourceArn": arn, "TagKeys": ["a"]}),
    ]
    for method, kwargs in refused:
        with pytest.raises(ClientError) as excinfo:
            getattr(limited, method)(**kwargs)
        assert excinfo.value.response["Error"]["Code"] == "ForbiddenException", method
    assert pinpoint.get_sms_template(TemplateName=name)["SMSTemplateResponse"]["Body"] == (
        "Hi {{User.UserId}}"
    )

    pinpoint.tag_resource(ResourceArn=arn, TagsModel={"tags": {"b": "2"}})
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {
        "a": "1",
        "b": "2",
    }
    pinpoint.delete_sms_template(TemplateName=name)
    pinpoint.delete_app(ApplicationId=mine["Id"])
