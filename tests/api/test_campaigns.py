"""Campaign definitions through boto3: create, version on update, pause, read, list, delete,
activities, tags, and every refusal, on SQLite and PostgreSQL.

Schedules start weeks ahead, so the server's own scheduler leaves these campaigns SCHEDULED.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from clarion.config import load_settings
from clarion.store.campaigns import CampaignRepository
from clarion.store.database import Database
from clarion.store.schema import campaign_runs, campaign_versions
from tests.conftest import Server

DIMENSIONS: dict[str, Any] = {
    "Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}},
}
META = {
    "ApplicationId",
    "Arn",
    "Id",
    "CreationDate",
    "LastModifiedDate",
    "Version",
    "State",
    "DefaultState",
    "tags",
}


def later(days: int) -> str:
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = excinfo.value.response["Error"]["Code"]
    return found


def message(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = excinfo.value.response["Error"]["Message"]
    return found


@pytest.fixture
def segment_id(pinpoint: Any, app_id: str) -> str:
    created = pinpoint.create_segment(
        ApplicationId=app_id, WriteSegmentRequest={"Name": "ios", "Dimensions": DIMENSIONS}
    )
    found: str = created["SegmentResponse"]["Id"]
    return found


@pytest.fixture
def template(pinpoint: Any) -> str:
    """Templates are account-wide and the server is shared, so every test names its own."""
    name = f"c-{uuid.uuid4().hex[:16]}"
    pinpoint.create_email_template(
        TemplateName=name,
        EmailTemplateRequest={"Subject": "Hello", "HtmlPart": "<p>Hi {{User.UserId}}</p>"},
    )
    return name


@pytest.fixture
def store(server: Server) -> Iterator[CampaignRepository]:
    """The server's own store, for what only the scheduler writes: states and runs."""
    url = load_settings(
        data_dir=server.env["CLARION_DATA_DIR"],
        database_url=server.env.get("CLARION_DATABASE_URL"),
    ).sqlalchemy_url
    db = Database(url)
    try:
        yield CampaignRepository(db)
    finally:
        db.dispose()


def simple(segment_id: str, **members: Any) -> dict[str, Any]:
    return {
        "Name": "spring",
        "SegmentId": segment_id,
        "Schedule": {"StartTime": later(30), "Frequency": "ONCE"},
        "MessageConfiguration": {
            "SMSMessage": {"Body": "Spring sale", "MessageType": "PROMOTIONAL"}
        },
        **members,
    }


def full(segment_id: str, template: str) -> dict[str, Any]:
    """Every member of WriteCampaignRequest, each with a value Clarion accepts."""
    return {
        "Name": "spring sale",
        "Description": "the spring push",
        "SegmentId": segment_id,
        "SegmentVersion": 1,
        "Schedule": {
            "StartTime": later(30),
            "EndTime": later(60),
            "Frequency": "WEEKLY",
            "IsLocalTime": True,
            "Timezone": "UTC+02",
            "QuietTime": {"Start": "22:00", "End": "07:00"},
        },
        "MessageConfiguration": {
            "EmailMessage": {"FromAddress": "shop@example.com", "Title": "Spring"},
            "SMSMessage": {"Body": "Spring sale", "MessageType": "PROMOTIONAL"},
            "DefaultMessage": {"Body": "Spring sale", "Title": "Spring"},
            "GCMMessage": {"Action": "OPEN_APP", "Body": "Spring", "SilentPush": False},
            "CustomMessage": {"Data": '{"sale": "spring"}'},
        },
        "TemplateConfiguration": {"EmailTemplate": {"Name": template, "Version": "1"}},
        "AdditionalTreatments": [
            {
                "SizePercent": 30,
                "TreatmentName": "short",
                "TreatmentDescription": "a shorter text",
                "MessageConfiguration": {"SMSMessage": {"Body": "Sale!"}},
                "Schedule": {"StartTime": later(31), "EndTime": later(60), "Frequency": "DAILY"},
            },
            {
                "SizePercent": 20,
                "TreatmentName": "custom",
                "MessageConfiguration": {"CustomMessage": {"Data": "{}"}},
                "CustomDeliveryConfiguration": {
                    "DeliveryUri": "http://127.0.0.1:9/hook",
                    "EndpointTypes": ["CUSTOM"],
                },
            },
        ],
        "HoldoutPercent": 10,
        "TreatmentName": "long",
        "TreatmentDescription": "the full text",
        "Limits": {
            "Daily": 2,
            "Total": 10,
            "MessagesPerSecond": 100,
            "MaximumDuration": 600,
            "Session": 1,
        },
        "Hook": {"Mode": "FILTER", "WebUrl": "https://hooks.example.com/filter"},
        "CustomDeliveryConfiguration": {
            "DeliveryUri": "https://hooks.example.com/deliver",
            "EndpointTypes": ["CUSTOM", "EMAIL"],
        },
        "IsPaused": False,
        "Priority": 2,
        "tags": {"team": "growth"},
    }


def test_create_with_every_member_reads_back_exactly(
    pinpoint: Any, app_id: str, segment_id: str, template: str
) -> None:
    request = full(segment_id, template)
    created = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=request)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    campaign = created["CampaignResponse"]
    scheduled = {"CampaignStatus": "SCHEDULED"}
    expected = {
        **request,
        "AdditionalTreatments": [
            {**treatment, "Id": str(number), "State": scheduled}
            for number, treatment in enumerate(request["AdditionalTreatments"], 1)
        ],
    }
    assert {k: v for k, v in campaign.items() if k not in META} == {
        k: v for k, v in expected.items() if k != "tags"
    }
    assert campaign["ApplicationId"] == app_id
    assert campaign["Arn"].endswith(f":apps/{app_id}/campaigns/{campaign['Id']}")
    assert (campaign["Version"], campaign["State"], campaign["DefaultState"]) == (
        1,
        scheduled,
        scheduled,
    )
    assert campaign["tags"] == {"team": "growth"}
    assert campaign["CreationDate"] == campaign["LastModifiedDate"]
    got = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])
    assert got["CampaignResponse"] == campaign


def test_update_makes_a_version_and_keeps_what_it_leaves_out(
    pinpoint: Any, app_id: str, segment_id: str
) -> None:
    pinpoint.update_segment(
        ApplicationId=app_id, SegmentId=segment_id, WriteSegmentRequest={"Name": "ios v2"}
    )
    first = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id, tags={"a": "1"})
    )["CampaignResponse"]
    assert first["SegmentVersion"] == 2, "the segment's latest version when none is named"
    assert (first["IsPaused"], first["HoldoutPercent"]) == (False, 0)

    second = pinpoint.update_campaign(
        ApplicationId=app_id,
        CampaignId=first["Id"],
        WriteCampaignRequest={"Name": "summer", "tags": {"b": "2"}},
    )["CampaignResponse"]
    assert (second["Version"], second["Name"]) == (2, "summer")
    for member in ("SegmentId", "SegmentVersion", "Schedule", "MessageConfiguration"):
        assert second[member] == first[member], member
    assert second["CreationDate"] == first["CreationDate"]
    assert second["LastModifiedDate"] >= first["LastModifiedDate"]
    assert second["tags"] == {"a": "1"}, "tags in an update are not processed, as in Pinpoint"

    third = pinpoint.update_campaign(
        ApplicationId=app_id,
        CampaignId=first["Id"],
        WriteCampaignRequest={"SegmentVersion": 1, "HoldoutPercent": 5},
    )["CampaignResponse"]
    assert (third["Version"], third["SegmentVersion"], third["HoldoutPercent"]) == (3, 1, 5)
    assert third["Name"] == "summer"

    old = pinpoint.get_campaign_version(ApplicationId=app_id, CampaignId=first["Id"], Version="1")
    assert {k: v for k, v in old["CampaignResponse"].items() if k != "tags"} == {
        k: v for k, v in first.items() if k != "tags"
    }
    page = pinpoint.get_campaign_versions(
        ApplicationId=app_id, CampaignId=first["Id"], PageSize="2"
    )["CampaignsResponse"]
    assert [v["Version"] for v in page["Item"]] == [1, 2]
    rest = pinpoint.get_campaign_versions(
        ApplicationId=app_id, CampaignId=first["Id"], Token=page["NextToken"]
    )["CampaignsResponse"]
    assert [(v["Version"], v["Name"]) for v in rest["Item"]] == [(3, "summer")]
    assert "NextToken" not in rest
    latest = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=first["Id"])
    assert latest["CampaignResponse"] == third


def test_updated_treatments_are_numbered_again(pinpoint: Any, app_id: str, segment_id: str) -> None:
    treatment = {"SizePercent": 20, "MessageConfiguration": {"SMSMessage": {"Body": "B"}}}
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest=simple(segment_id, AdditionalTreatments=[treatment]),
    )["CampaignResponse"]
    assert [t["Id"] for t in campaign["AdditionalTreatments"]] == ["1"]
    updated = pinpoint.update_campaign(
        ApplicationId=app_id,
        CampaignId=campaign["Id"],
        WriteCampaignRequest={
            "AdditionalTreatments": [treatment, {**treatment, "TreatmentName": "c"}]
        },
    )["CampaignResponse"]
    assert [(t["Id"], t.get("TreatmentName")) for t in updated["AdditionalTreatments"]] == [
        ("1", None),
        ("2", "c"),
    ]


def test_pause_and_resume(pinpoint: Any, app_id: str, segment_id: str) -> None:
    def status(response: dict[str, Any]) -> tuple[bool, str, str]:
        campaign = response["CampaignResponse"]
        return (
            campaign["IsPaused"],
            campaign["State"]["CampaignStatus"],
            campaign["DefaultState"]["CampaignStatus"],
        )

    created = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id, IsPaused=True)
    )
    assert status(created) == (True, "PAUSED", "PAUSED")
    campaign_id = created["CampaignResponse"]["Id"]

    def update(**members: Any) -> dict[str, Any]:
        found: dict[str, Any] = pinpoint.update_campaign(
            ApplicationId=app_id, CampaignId=campaign_id, WriteCampaignRequest=members
        )
        return found

    assert status(update(Name="still paused")) == (True, "PAUSED", "PAUSED")
    assert status(update(IsPaused=False)) == (False, "SCHEDULED", "SCHEDULED")
    assert status(update(IsPaused=True)) == (True, "PAUSED", "PAUSED")
    assert status(pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign_id)) == (
        True,
        "PAUSED",
        "PAUSED",
    )


def test_resuming_keeps_a_state_the_scheduler_set(
    pinpoint: Any, app_id: str, segment_id: str, store: CampaignRepository
) -> None:
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id)
    )["CampaignResponse"]
    assert store.set_state(app_id, campaign["Id"], "PENDING_NEXT_RUN", only_from=["SCHEDULED"])
    updated = pinpoint.update_campaign(
        ApplicationId=app_id, CampaignId=campaign["Id"], WriteCampaignRequest={"IsPaused": False}
    )["CampaignResponse"]
    assert updated["State"] == {"CampaignStatus": "PENDING_NEXT_RUN"}


@pytest.mark.parametrize("finished", ["COMPLETED", "DELETED"])
def test_a_finished_campaign_refuses_updates(
    pinpoint: Any, app_id: str, segment_id: str, store: CampaignRepository, finished: str
) -> None:
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id)
    )["CampaignResponse"]
    assert store.set_state(app_id, campaign["Id"], finished, only_from=None)
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_campaign(
            ApplicationId=app_id, CampaignId=campaign["Id"], WriteCampaignRequest={"Name": "x"}
        )
    assert code(excinfo) == "BadRequestException"
    assert finished in message(excinfo)
    got = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])
    assert (got["CampaignResponse"]["Version"], got["CampaignResponse"]["Name"]) == (1, "spring")


def test_delete_removes_the_campaign_its_versions_runs_and_tags(
    pinpoint: Any, app_id: str, segment_id: str, store: CampaignRepository
) -> None:
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id, tags={"team": "a"})
    )["CampaignResponse"]
    pinpoint.update_campaign(
        ApplicationId=app_id, CampaignId=campaign["Id"], WriteCampaignRequest={"Name": "b"}
    )
    add_runs(store, app_id, campaign["Id"], 1)
    deleted = pinpoint.delete_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])
    assert deleted["CampaignResponse"]["Id"] == campaign["Id"]
    assert (deleted["CampaignResponse"]["Version"], deleted["CampaignResponse"]["Name"]) == (2, "b")
    assert store.runs(app_id, campaign["Id"], 0, 10) == []
    assert store.versions(app_id, campaign["Id"], 0, 10) == []
    for call in (
        "get_campaign",
        "delete_campaign",
        "get_campaign_versions",
        "get_campaign_activities",
    ):
        with pytest.raises(ClientError) as excinfo:
            getattr(pinpoint, call)(ApplicationId=app_id, CampaignId=campaign["Id"])
        assert code(excinfo) == "NotFoundException", call
    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_tags_for_resource(ResourceArn=campaign["Arn"])
    assert code(excinfo) == "NotFoundException"
    assert pinpoint.get_campaigns(ApplicationId=app_id)["CampaignsResponse"]["Item"] == []


def test_campaigns_are_listed_in_pages(pinpoint: Any, app_id: str, segment_id: str) -> None:
    ids = [
        pinpoint.create_campaign(
            ApplicationId=app_id, WriteCampaignRequest=simple(segment_id, Name=f"c{n}")
        )["CampaignResponse"]["Id"]
        for n in range(3)
    ]
    first = pinpoint.get_campaigns(ApplicationId=app_id, PageSize="2")["CampaignsResponse"]
    assert [c["Id"] for c in first["Item"]] == ids[:2]
    rest = pinpoint.get_campaigns(ApplicationId=app_id, PageSize="2", Token=first["NextToken"])
    assert [c["Id"] for c in rest["CampaignsResponse"]["Item"]] == ids[2:]
    assert "NextToken" not in rest["CampaignsResponse"]
    for size, token in (("0", None), ("2", "bm9wZTox")):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.get_campaigns(
                ApplicationId=app_id, PageSize=size, **({"Token": token} if token else {})
            )
        assert code(excinfo) == "BadRequestException"


def test_tags_on_a_campaign_arn(pinpoint: Any, app_id: str, segment_id: str) -> None:
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id, tags={"team": "a"})
    )["CampaignResponse"]
    arn = campaign["Arn"]
    pinpoint.tag_resource(ResourceArn=arn, TagsModel={"tags": {"env": "prod"}})
    pinpoint.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {"env": "prod"}
    got = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])
    assert got["CampaignResponse"]["tags"] == {"env": "prod"}


def add_runs(store: CampaignRepository, app_id: str, campaign_id: str, count: int) -> list[str]:
    """Runs as the scheduler leaves them: one finished, the others waiting."""
    ids = [uuid.uuid4().hex for _ in range(count)]
    base_ms = 1_900_000_000_000
    rows = [
        {
            "app_id": app_id,
            "campaign_id": campaign_id,
            "id": run_id,
            "treatment_id": str(n % 2),
            "campaign_version": 1,
            "scheduled_ms": base_ms + n * 3_600_000,
            "due_ms": base_ms + n * 3_600_000,
            "state": "COMPLETED" if n == 0 else "PENDING",
            "result": "SUCCESS" if n == 0 else None,
            "start": "2030-03-17T17:46:40.000Z" if n == 0 else None,
            "end": "2030-03-17T17:47:00.000Z" if n == 0 else None,
            "total_endpoint_count": 5 if n == 0 else 0,
            "successful_endpoint_count": 4 if n == 0 else 0,
            "timezones_total_count": 2 if n == 0 else 0,
            "timezones_completed_count": 2 if n == 0 else 0,
            "metrics": {"SUCCESSFUL_ENDPOINT_COUNT": 4, "RATE": 0.8} if n == 0 else {},
            "position": {},
            "lease_until_ms": 0,
        }
        for n, run_id in enumerate(ids)
    ]
    with store.db.write() as conn:
        conn.execute(campaign_runs.insert(), rows)
    return ids


def test_activities_are_the_runs_the_scheduler_left(
    pinpoint: Any, app_id: str, segment_id: str, store: CampaignRepository
) -> None:
    campaign_id = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id)
    )["CampaignResponse"]["Id"]
    empty = pinpoint.get_campaign_activities(ApplicationId=app_id, CampaignId=campaign_id)
    assert empty["ActivitiesResponse"] == {"Item": []}

    ids = add_runs(store, app_id, campaign_id, 3)
    first = pinpoint.get_campaign_activities(
        ApplicationId=app_id, CampaignId=campaign_id, PageSize="2"
    )["ActivitiesResponse"]
    assert first["Item"][0] == {
        "Id": ids[0],
        "ApplicationId": app_id,
        "CampaignId": campaign_id,
        "TreatmentId": "0",
        "ScheduledStart": "2030-03-17T17:46:40.000Z",
        "Start": "2030-03-17T17:46:40.000Z",
        "End": "2030-03-17T17:47:00.000Z",
        "State": "COMPLETED",
        "Result": "SUCCESS",
        "TotalEndpointCount": 5,
        "SuccessfulEndpointCount": 4,
        "TimezonesTotalCount": 2,
        "TimezonesCompletedCount": 2,
        "ExecutionMetrics": {"SUCCESSFUL_ENDPOINT_COUNT": "4", "RATE": "0.8"},
    }
    assert [(a["Id"], a["TreatmentId"], a["State"]) for a in first["Item"][1:]] == [
        (ids[1], "1", "PENDING")
    ]
    rest = pinpoint.get_campaign_activities(
        ApplicationId=app_id, CampaignId=campaign_id, Token=first["NextToken"]
    )["ActivitiesResponse"]
    assert [a["Id"] for a in rest["Item"]] == [ids[2]]
    assert rest["Item"][0]["ScheduledStart"] == "2030-03-17T19:46:40.000Z"
    assert "NextToken" not in rest


def test_missing_campaign_and_version(pinpoint: Any, app_id: str, segment_id: str) -> None:
    for call, extra in (
        ("get_campaign", {}),
        ("update_campaign", {"WriteCampaignRequest": {"Name": "x"}}),
        ("get_campaign_version", {"Version": "1"}),
        ("get_campaign_activities", {}),
    ):
        with pytest.raises(ClientError) as excinfo:
            getattr(pinpoint, call)(ApplicationId=app_id, CampaignId="0" * 32, **extra)
        assert code(excinfo) == "NotFoundException", call
    campaign_id = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id)
    )["CampaignResponse"]["Id"]
    for version, expected in (("2", "NotFoundException"), ("zero", "BadRequestException")):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.get_campaign_version(
                ApplicationId=app_id, CampaignId=campaign_id, Version=version
            )
        assert code(excinfo) == expected


IN_APP = {
    "InAppMessage": {
        "Layout": "TOP_BANNER",
        "Content": [{"BodyConfig": {"Alignment": "LEFT", "Body": "Hi", "TextColor": "#000000"}}],
    }
}
EVENT_FILTER = {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"Values": ["open"]}}}

# (members to change in a valid request (None deletes one), words the message must hold)
REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"SegmentId": None}, "WriteCampaignRequest.SegmentId is required"),
    ({"SegmentId": "f" * 32}, "WriteCampaignRequest.SegmentId: there is no segment"),
    ({"SegmentVersion": 9}, "WriteCampaignRequest.SegmentVersion: segment"),
    ({"Schedule": None}, "WriteCampaignRequest.Schedule is required"),
    ({"Schedule": {"StartTime": "2020-01-01T00:00:00Z"}}, "at least current time"),
    ({"Schedule": {"StartTime": later(3), "Frequency": "DAILY"}}, "Schedule.EndTime is required"),
    ({"Schedule": {"StartTime": "soon"}}, "WriteCampaignRequest.Schedule.StartTime"),
    ({"MessageConfiguration": None}, "WriteCampaignRequest has nothing to send"),
    (
        {"MessageConfiguration": {"EmailMessage": {"Title": "no body"}}},
        "MessageConfiguration.EmailMessage needs HtmlBody or Body",
    ),
    (
        {"MessageConfiguration": {"GCMMessage": {"Action": "OPEN_APP"}}},
        "MessageConfiguration.GCMMessage needs Body",
    ),
    (
        {"TemplateConfiguration": {"EmailTemplate": {"Name": "no-such-template"}}},
        "TemplateConfiguration.EmailTemplate: Template not found",
    ),
    (
        {"MessageConfiguration": {"CustomMessage": {"Data": "{}"}}},
        "WriteCampaignRequest.CustomDeliveryConfiguration is required",
    ),
    (
        {
            "CustomDeliveryConfiguration": {
                "DeliveryUri": "arn:aws:lambda:us-east-1:123456789012:function:send"
            }
        },
        "CustomDeliveryConfiguration.DeliveryUri must be an https URL",
    ),
    (
        {"CustomDeliveryConfiguration": {"DeliveryUri": "http://hooks.example.com/x"}},
        "plain http is allowed only to hosts in the networks the operator allowed",
    ),
    (
        {"CustomDeliveryConfiguration": {"DeliveryUri": "https://169.254.169.254/latest"}},
        "DeliveryUri: 169.254.169.254 resolves to 169.254.169.254, a link-local address",
    ),
    (
        {"Hook": {"Mode": "FILTER", "WebUrl": "https://[fd00:ec2::254]/f"}},
        "Hook.WebUrl: fd00:ec2::254 resolves to fd00:ec2::254, a private address",
    ),
    ({"Hook": {"Mode": "FILTER", "LambdaFunctionName": "filter"}}, "Hook.LambdaFunctionName"),
    ({"Hook": {"Mode": "FILTER", "WebUrl": "http://example.com/f"}}, "Hook.WebUrl"),
    ({"Hook": {"Mode": "DELIVERY"}}, "Hook.Mode DELIVERY needs WriteCampaignRequest.Hook.WebUrl"),
    (
        {
            "HoldoutPercent": 60,
            "AdditionalTreatments": [
                {"SizePercent": 50, "MessageConfiguration": {"SMSMessage": {"Body": "B"}}}
            ],
        },
        "WriteCampaignRequest.HoldoutPercent and AdditionalTreatments[].SizePercent add up to 110",
    ),
    ({"HoldoutPercent": 101}, "WriteCampaignRequest.HoldoutPercent must be an integer"),
    (
        {
            "AdditionalTreatments": [
                {"SizePercent": 10, "Schedule": {"StartTime": "2020-01-01T00:00:00Z"}}
            ]
        },
        "WriteCampaignRequest.AdditionalTreatments[0].Schedule.StartTime",
    ),
    (
        {"AdditionalTreatments": [{"SizePercent": 10, "MessageConfiguration": IN_APP}]},
        "WriteCampaignRequest.AdditionalTreatments[0]: an in-app message",
    ),
    ({"Limits": {"Daily": 101}}, "WriteCampaignRequest.Limits.Daily"),
    ({"Limits": {"MaximumDuration": 10}}, "WriteCampaignRequest.Limits.MaximumDuration"),
    ({"Priority": 9}, "WriteCampaignRequest.Priority must be from 1"),
    ({"MessageConfiguration": IN_APP}, "Schedule.Frequency IN_APP_EVENT"),
    (
        {
            "Schedule": {
                "StartTime": later(3),
                "EndTime": later(9),
                "Frequency": "IN_APP_EVENT",
                "EventFilter": EVENT_FILTER,
            }
        },
        "Schedule.Frequency IN_APP_EVENT",
    ),
    ({"tags": {"aws:team": "a"}}, "reserved prefix aws:"),
]


def changed(request: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(request)
    for key, value in members.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


@pytest.mark.parametrize(("members", "words"), REFUSED)
def test_bad_campaigns_are_refused(
    pinpoint: Any, app_id: str, segment_id: str, members: dict[str, Any], words: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.create_campaign(
            ApplicationId=app_id, WriteCampaignRequest=changed(simple(segment_id), members)
        )
    assert code(excinfo) == "BadRequestException"
    assert words in message(excinfo)
    assert pinpoint.get_campaigns(ApplicationId=app_id)["CampaignsResponse"]["Item"] == []


def test_bad_updates_are_refused_and_change_nothing(
    pinpoint: Any, app_id: str, segment_id: str, template: str
) -> None:
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id, WriteCampaignRequest=simple(segment_id)
    )["CampaignResponse"]
    for members, words in (
        ({"SegmentVersion": 7}, "has no version 7"),
        ({"Priority": 0}, "Priority"),
        ({"HoldoutPercent": 100, "AdditionalTreatments": [{"SizePercent": 1}]}, "add up to 101"),
        ({"MessageConfiguration": {}}, "nothing to send"),
        (
            {"TemplateConfiguration": {"EmailTemplate": {"Name": template, "Version": "9"}}},
            "TemplateConfiguration.EmailTemplate: Template",
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.update_campaign(
                ApplicationId=app_id, CampaignId=campaign["Id"], WriteCampaignRequest=members
            )
        assert code(excinfo) == "BadRequestException"
        assert words in message(excinfo)
    got = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])
    assert got["CampaignResponse"] == campaign


def test_an_update_may_send_back_the_schedule_it_has(
    pinpoint: Any, app_id: str, segment_id: str, store: CampaignRepository
) -> None:
    """A start accepted in the future is not refused later for lying in the past."""
    request = simple(segment_id, IsPaused=True)
    campaign = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=request)
    campaign_id = campaign["CampaignResponse"]["Id"]
    found = store.latest(app_id, campaign_id)
    assert found is not None
    started = {"StartTime": "2020-01-01T00:00:00.000Z", "EndTime": later(9)}
    with store.db.write() as conn:
        conn.execute(
            campaign_versions.update()
            .where(campaign_versions.c.campaign_id == campaign_id)
            .values(definition={**found.definition, "Schedule": started})
        )
    stored = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign_id)
    resent = {k: v for k, v in stored["CampaignResponse"].items() if k in request}
    updated = pinpoint.update_campaign(
        ApplicationId=app_id, CampaignId=campaign_id, WriteCampaignRequest=resent
    )
    assert updated["CampaignResponse"]["Version"] == 2
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_campaign(
            ApplicationId=app_id,
            CampaignId=campaign_id,
            WriteCampaignRequest={"Schedule": {"StartTime": "2020-01-02T00:00:00.000Z"}},
        )
    assert "at least current time" in message(excinfo)
