"""Numbers in request strings (page sizes, paging tokens, versions) that are not ASCII digits
or do not fit what they feed are a 400 BadRequestException naming the parameter, never a 500.

Requests are signed by hand: boto3 would send these values too, but the raw query string
keeps the percent-encoded forms the probe sent."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import pytest

from tests.conftest import Server, signed_request

INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1

# listing path, its token parameter, the listing a token names, the largest position it holds
LISTINGS = [
    ("/v1/apps", "token", "apps", INT32_MAX),
    ("/v1/apps/{app}/segments", "token", "segments", INT64_MAX),
    ("/v1/apps/{app}/campaigns", "token", "campaigns", INT64_MAX),
    ("/v1/templates", "next-token", "templates", INT64_MAX),
    (
        "/v1/apps/{app}/segments/{segment}/versions",
        "token",
        "segment-versions:{segment}",
        INT32_MAX,
    ),
    (
        "/v1/apps/{app}/campaigns/{campaign}/versions",
        "token",
        "campaign-versions:{campaign}",
        INT32_MAX,
    ),
    (
        "/v1/apps/{app}/campaigns/{campaign}/activities",
        "token",
        "campaign-activities:{campaign}",
        INT64_MAX,
    ),
    (
        "/v1/templates/{template}/SMS/versions",
        "next-token",
        "template-versions:{template}/SMS",
        INT32_MAX,
    ),
    ("/v1/apps/{app}/jobs/import", "token", "jobs:IMPORT:", INT64_MAX),
]
BAD_PAGE_SIZES = ["%C2%B2", "%D9%A3", "0", "-1", "1001", "1000000", "9223372036854775808"]
BAD_POSITIONS = ["9999999999999999999", "-1", "²", "٣", "1 "]
BAD_VERSIONS = [
    "%C2%B2",
    "%D9%A3",
    "%D9%A1",
    "%EF%BC%91",
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999",
]


@pytest.fixture(scope="module")
def names(server: Server) -> Iterator[dict[str, str]]:
    """An app with a segment and a campaign, and an SMS template, made once per backend."""
    pinpoint = server.client()
    app = pinpoint.create_app(CreateApplicationRequest={"Name": "bad-numbers"})
    app_id = app["ApplicationResponse"]["Id"]
    segment = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "ios",
            "Dimensions": {
                "Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}}
            },
        },
    )["SegmentResponse"]["Id"]
    start = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest={
            "Name": "spring",
            "SegmentId": segment,
            "Schedule": {"StartTime": start, "Frequency": "ONCE"},
            "MessageConfiguration": {"SMSMessage": {"Body": "Spring sale"}},
        },
    )["CampaignResponse"]["Id"]
    template = f"n-{uuid.uuid4().hex[:16]}"
    pinpoint.create_sms_template(TemplateName=template, SMSTemplateRequest={"Body": "Hi"})
    try:
        yield {"app": app_id, "segment": segment, "campaign": campaign, "template": template}
    finally:
        pinpoint.delete_sms_template(TemplateName=template)
        with contextlib.suppress(pinpoint.exceptions.NotFoundException):
            pinpoint.delete_app(ApplicationId=app_id)


def assert_bad_request(response: Any, parameter: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["x-amzn-ErrorType"].startswith("BadRequestException")
    assert parameter in response.json()["Message"]


def token(listing: str, position: str) -> str:
    return quote(base64.urlsafe_b64encode(f"{listing}:{position}".encode()).decode())


@pytest.mark.parametrize("size", BAD_PAGE_SIZES)
@pytest.mark.parametrize(("path", "param", "listing", "largest"), LISTINGS)
def test_bad_page_sizes(
    server: Server,
    names: dict[str, str],
    path: str,
    param: str,
    listing: str,
    largest: int,
    size: str,
) -> None:
    response = signed_request(server, "GET", f"{path.format(**names)}?page-size={size}")
    assert_bad_request(response, "PageSize")


@pytest.mark.parametrize("position", BAD_POSITIONS)
@pytest.mark.parametrize(("path", "param", "listing", "largest"), LISTINGS)
def test_tokens_past_what_a_listing_holds(
    server: Server,
    names: dict[str, str],
    path: str,
    param: str,
    listing: str,
    largest: int,
    position: str,
) -> None:
    for text in (position, str(largest + 1)):
        query = f"{param}={token(listing.format(**names), text)}"
        response = signed_request(server, "GET", f"{path.format(**names)}?{query}")
        assert_bad_request(response, "Token")


@pytest.mark.parametrize(("path", "param", "listing", "largest"), LISTINGS)
def test_the_largest_sizes_and_positions_are_an_empty_page(
    server: Server, names: dict[str, str], path: str, param: str, listing: str, largest: int
) -> None:
    query = f"page-size=1000&{param}={token(listing.format(**names), str(largest))}"
    response = signed_request(server, "GET", f"{path.format(**names)}?{query}")
    assert response.status_code == 200, response.text
    assert "NextToken" not in json.dumps(response.json())


# method, path with the version in it, body, the parameter's name in the message
VERSIONED = [
    ("GET", "/v1/templates/{template}/sms?version={version}", None, "version"),
    ("PUT", "/v1/templates/{template}/sms?version={version}", {"Body": "x"}, "version"),
    ("DELETE", "/v1/templates/{template}/sms?version={version}", None, "version"),
    ("GET", "/v1/apps/{app}/segments/{segment}/versions/{version}", None, "Version"),
    ("GET", "/v1/apps/{app}/campaigns/{campaign}/versions/{version}", None, "Version"),
]


@pytest.mark.parametrize("version", BAD_VERSIONS)
@pytest.mark.parametrize(("method", "path", "body", "parameter"), VERSIONED)
def test_bad_versions(
    server: Server,
    names: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    parameter: str,
    version: str,
) -> None:
    content = json.dumps(body).encode() if body else b""
    response = signed_request(server, method, path.format(version=version, **names), content)
    assert_bad_request(response, parameter)


@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_bad_active_versions(server: Server, names: dict[str, str], version: str) -> None:
    body = json.dumps({"Version": unquote(version)}).encode()
    path = f"/v1/templates/{names['template']}/SMS/active-version"
    assert_bad_request(signed_request(server, "PUT", path, body), "Version")


@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_bad_template_versions_in_a_campaign(
    server: Server, names: dict[str, str], version: str
) -> None:
    request = {
        "TemplateConfiguration": {
            "SMSTemplate": {"Name": names["template"], "Version": unquote(version)}
        }
    }
    path = f"/v1/apps/{names['app']}/campaigns/{names['campaign']}"
    response = signed_request(server, "PUT", path, json.dumps(request).encode())
    assert_bad_request(response, "TemplateConfiguration.SMSTemplate")
