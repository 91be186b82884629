"""Apps and application settings through signed boto3 calls, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = excinfo.value.response["Error"]["Code"]
    return code


def test_create_get_delete_app(pinpoint: Any) -> None:
    created = pinpoint.create_app(
        CreateApplicationRequest={"Name": "shop", "tags": {"team": "growth"}}
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    app = created["ApplicationResponse"]
    assert len(app["Id"]) == 32
    assert app["Name"] == "shop"
    assert app["Arn"] == f"arn:aws:mobiletargeting:us-east-1:000000000000:apps/{app['Id']}"
    assert app["tags"] == {"team": "growth"}
    assert app["CreationDate"].endswith("Z")

    fetched = pinpoint.get_app(ApplicationId=app["Id"])["ApplicationResponse"]
    assert fetched == app

    deleted = pinpoint.delete_app(ApplicationId=app["Id"])["ApplicationResponse"]
    assert deleted["Id"] == app["Id"]
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_app(ApplicationId=app["Id"])
    assert error_code(excinfo) == "NotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_create_app_requires_a_name(pinpoint: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.create_app(CreateApplicationRequest={"Name": ""})
    assert error_code(excinfo) == "BadRequestException"
    assert "Name" in excinfo.value.response["Error"]["Message"]


def test_create_app_rejects_reserved_tag_prefix(pinpoint: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.create_app(CreateApplicationRequest={"Name": "x", "tags": {"aws:owner": "me"}})
    assert error_code(excinfo) == "BadRequestException"


def test_get_apps_pages_through_every_app(pinpoint: Any) -> None:
    made = {
        pinpoint.create_app(CreateApplicationRequest={"Name": f"page-{i}"})["ApplicationResponse"][
            "Id"
        ]
        for i in range(5)
    }
    seen: list[str] = []
    token = None
    while True:
        kwargs = {"PageSize": "2"} | ({"Token": token} if token else {})
        page = pinpoint.get_apps(**kwargs)["ApplicationsResponse"]
        assert len(page["Item"]) <= 2
        seen.extend(item["Id"] for item in page["Item"])
        token = page.get("NextToken")
        if not token:
            break
    assert made <= set(seen)
    assert len(seen) == len(set(seen))
    for app_id in made:
        pinpoint.delete_app(ApplicationId=app_id)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"PageSize": "0"}, "PageSize"),
        ({"PageSize": "abc"}, "PageSize"),
        ({"Token": "nope"}, "Token"),
    ],
)
def test_get_apps_rejects_bad_paging(pinpoint: Any, kwargs: dict[str, str], fragment: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_apps(**kwargs)
    assert error_code(excinfo) == "BadRequestException"
    assert fragment in excinfo.value.response["Error"]["Message"]


def test_delete_app_removes_everything_under_it(pinpoint: Any, app_id: str) -> None:
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="e1",
        EndpointRequest={
            "ChannelType": "EMAIL",
            "Address": "a@example.com",
            "User": {"UserId": "u1"},
        },
    )
    pinpoint.delete_app(ApplicationId=app_id)
    calls: list[tuple[str, dict[str, str]]] = [
        ("get_endpoint", {"ApplicationId": app_id, "EndpointId": "e1"}),
        ("get_user_endpoints", {"ApplicationId": app_id, "UserId": "u1"}),
        ("get_application_settings", {"ApplicationId": app_id}),
    ]
    for method, kwargs in calls:
        with pytest.raises(ClientError) as excinfo:
            getattr(pinpoint, method)(**kwargs)
        assert error_code(excinfo) == "NotFoundException"


def test_settings_default_then_update_merges(pinpoint: Any, app_id: str) -> None:
    settings = pinpoint.get_application_settings(ApplicationId=app_id)[
        "ApplicationSettingsResource"
    ]
    assert settings["ApplicationId"] == app_id
    assert "Limits" not in settings

    updated = pinpoint.update_application_settings(
        ApplicationId=app_id,
        WriteApplicationSettingsRequest={
            "Limits": {"Daily": 5, "Total": 20, "MessagesPerSecond": 100, "MaximumDuration": 600},
            "QuietTime": {"Start": "22:00", "End": "07:30"},
            "CampaignHook": {"Mode": "FILTER", "WebUrl": "https://hooks.example.com/filter"},
            "JourneyLimits": {"DailyCap": 3, "TotalCap": 10, "TimeframeCap": {"Cap": 2, "Days": 7}},
            "CloudWatchMetricsEnabled": True,
            "EventTaggingEnabled": False,
        },
    )["ApplicationSettingsResource"]
    assert updated["Limits"] == {
        "Daily": 5,
        "Total": 20,
        "MessagesPerSecond": 100,
        "MaximumDuration": 600,
    }
    assert updated["QuietTime"] == {"Start": "22:00", "End": "07:30"}
    assert updated["LastModifiedDate"].endswith("Z")

    again = pinpoint.update_application_settings(
        ApplicationId=app_id,
        WriteApplicationSettingsRequest={"QuietTime": {"Start": "23:00", "End": "06:00"}},
    )["ApplicationSettingsResource"]
    assert again["QuietTime"] == {"Start": "23:00", "End": "06:00"}
    assert again["Limits"]["Daily"] == 5, "members left out keep their values"
    assert again["CampaignHook"] == {"Mode": "FILTER", "WebUrl": "https://hooks.example.com/filter"}
    stored = pinpoint.get_application_settings(ApplicationId=app_id)["ApplicationSettingsResource"]
    assert stored["JourneyLimits"]["TimeframeCap"] == {"Cap": 2, "Days": 7}


@pytest.mark.parametrize(
    ("request_body", "fragment"),
    [
        ({"Limits": {"Daily": 101}}, "Limits.Daily"),
        ({"Limits": {"MessagesPerSecond": 0}}, "Limits.MessagesPerSecond"),
        ({"Limits": {"MaximumDuration": 59}}, "Limits.MaximumDuration"),
        ({"QuietTime": {"Start": "25:00", "End": "07:00"}}, "QuietTime.Start"),
        ({"QuietTime": {"Start": "22:00"}}, "QuietTime"),
        ({"CampaignHook": {"Mode": "SOMETIMES"}}, "Mode"),
        ({"CampaignHook": {"WebUrl": "ftp://x"}}, "WebUrl"),
        ({"CampaignHook": {"WebUrl": "http://169.254.169.254/"}}, "a link-local address"),
        ({"CampaignHook": {"WebUrl": "https://10.0.0.1/hook"}}, "a private address"),
        ({"JourneyLimits": {"DailyCap": 500}}, "JourneyLimits.DailyCap"),
    ],
)
def test_settings_reject_out_of_bounds(
    pinpoint: Any, app_id: str, request_body: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_application_settings(
            ApplicationId=app_id, WriteApplicationSettingsRequest=request_body
        )
    assert error_code(excinfo) == "BadRequestException"
    assert fragment in excinfo.value.response["Error"]["Message"]
