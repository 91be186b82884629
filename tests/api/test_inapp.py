"""GetInAppMessages through boto3 on SQLite and PostgreSQL: the in-app campaigns an endpoint is
entitled to — segment members only, active IN_APP endpoints only (opted out or not), live
campaigns inside their schedule window, the endpoint's own treatment or nothing when held out,
template content, caps, quiet time, and priority order."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from clarion.campaigns.treatments import assign

EVENT_FILTER: dict[str, Any] = {
    "FilterType": "ENDPOINT",
    "Dimensions": {
        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase"]},
        "Attributes": {"item": {"AttributeType": "INCLUSIVE", "Values": ["gloves"]}},
        "Metrics": {"price": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 10.0}},
    },
}
SESSION_START: dict[str, Any] = {
    "FilterType": "SYSTEM",
    "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE", "Values": ["_session.start"]}},
}
SESSION_START_SERVED: dict[str, Any] = {
    "FilterType": "SYSTEM",
    "Dimensions": {**SESSION_START["Dimensions"], "Attributes": {}, "Metrics": {}},
}


def modal(header: str) -> dict[str, Any]:
    return {
        "BackgroundColor": "#f8e71c",
        "HeaderConfig": {"Alignment": "CENTER", "Header": header, "TextColor": "#d0021b"},
        "BodyConfig": {"Alignment": "LEFT", "Body": f"{header}, in detail", "TextColor": "#000000"},
    }


CONTENT = [
    {
        **modal("Gardening gloves"),
        "ImageUrl": "https://example.com/gloves.png",
        "PrimaryBtn": {
            "DefaultConfig": {
                "BackgroundColor": "#d0021b",
                "BorderRadius": 50,
                "ButtonAction": "LINK",
                "Link": "https://example.com/shop",
                "Text": "Shop",
                "TextColor": "#ffffff",
            },
            "IOS": {"ButtonAction": "DEEP_LINK", "Link": "shop://gloves"},
        },
        "SecondaryBtn": {"DefaultConfig": {"ButtonAction": "CLOSE", "Text": "Later"}},
    },
    modal("Second page"),
]


def moment(**delta: float) -> str:
    """An ISO 8601 UTC instant in whole seconds, ``delta`` from now."""
    return (datetime.now(UTC) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_app_schedule(**members: Any) -> dict[str, Any]:
    """Started a minute ago (Pinpoint allows 15 minutes of slack), ending in 30 days."""
    return {
        "StartTime": moment(minutes=-1),
        "EndTime": moment(days=30),
        "Frequency": "IN_APP_EVENT",
        "EventFilter": SESSION_START,
        **members,
    }


def load(pinpoint: Any, app_id: str, *items: dict[str, Any]) -> None:
    pinpoint.update_endpoints_batch(
        ApplicationId=app_id, EndpointBatchRequest={"Item": list(items)}
    )


def device(endpoint_id: str, plan: str = "gold", **members: Any) -> dict[str, Any]:
    return {
        "Id": endpoint_id,
        "ChannelType": "IN_APP",
        "Attributes": {"Plan": [plan]},
        **members,
    }


def gold_segment(pinpoint: Any, app_id: str) -> str:
    created = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "gold",
            "Dimensions": {
                "Attributes": {"Plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}
            },
        },
    )
    segment_id: str = created["SegmentResponse"]["Id"]
    return segment_id


def campaign(pinpoint: Any, app_id: str, segment_id: str, **members: Any) -> str:
    request = {
        "Name": "in-app",
        "SegmentId": segment_id,
        "Schedule": in_app_schedule(),
        "MessageConfiguration": {"InAppMessage": {"Content": [modal("Hello")]}},
        **members,
    }
    created = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=request)
    campaign_id: str = created["CampaignResponse"]["Id"]
    return campaign_id


def messages(pinpoint: Any, app_id: str, endpoint_id: str) -> list[dict[str, Any]]:
    response = pinpoint.get_in_app_messages(ApplicationId=app_id, EndpointId=endpoint_id)
    found: list[dict[str, Any]] = response["InAppMessagesResponse"]["InAppMessageCampaigns"]
    return found


def served(pinpoint: Any, app_id: str, endpoint_id: str) -> list[str]:
    return [item["CampaignId"] for item in messages(pinpoint, app_id, endpoint_id)]


def test_a_member_gets_the_campaign_exactly_and_others_get_nothing(
    pinpoint: Any, app_id: str
) -> None:
    load(
        pinpoint,
        app_id,
        device("Ann"),
        device("bob", plan="silver"),
        device("olly", OptOut="ALL"),
        device("ivy", EndpointStatus="INACTIVE"),
        {"Id": "gus", "ChannelType": "GCM", "Address": "token-1", "Attributes": {"Plan": ["gold"]}},
    )
    segment_id = gold_segment(pinpoint, app_id)
    end = moment(days=20)
    campaign_id = campaign(
        pinpoint,
        app_id,
        segment_id,
        Priority=2,
        Limits={"Daily": 3, "Total": 10, "Session": 1, "MessagesPerSecond": 50},
        Schedule=in_app_schedule(
            EndTime=end,
            EventFilter=EVENT_FILTER,
            QuietTime={"Start": "22:00", "End": "07:00"},
        ),
        MessageConfiguration={
            "InAppMessage": {
                "Content": CONTENT,
                "CustomConfig": {"promo": "spring"},
                "Layout": "MIDDLE_BANNER",
            }
        },
    )
    expected = {
        "CampaignId": campaign_id,
        "TreatmentId": "0",
        "Priority": 2,
        "DailyCap": 3,
        "SessionCap": 1,
        "TotalCap": 10,
        "InAppMessage": {
            "Content": CONTENT,
            "CustomConfig": {"promo": "spring"},
            "Layout": "MIDDLE_BANNER",
        },
        "Schedule": {
            "EndDate": end,
            "EventFilter": EVENT_FILTER,
            "QuietTime": {"Start": "22:00", "End": "07:00"},
        },
    }
    assert (
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="Ann")["EndpointResponse"]["OptOut"]
        == "ALL"
    ), "an endpoint created without an Address is opted out of ALL"
    for member in ("Ann", "ANN", "olly"):
        assert messages(pinpoint, app_id, member) == [expected], member
    for outsider in ("bob", "ivy", "gus"):
        assert messages(pinpoint, app_id, outsider) == [], outsider


def test_an_unknown_endpoint_or_app_is_not_found(pinpoint: Any, app_id: str) -> None:
    with pytest.raises(ClientError) as missing:
        pinpoint.get_in_app_messages(ApplicationId=app_id, EndpointId="nobody")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "nobody" in missing.value.response["Error"]["Message"]
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_in_app_messages(ApplicationId=uuid.uuid4().hex, EndpointId="nobody")


def test_an_endpoint_without_campaigns_gets_an_empty_list(pinpoint: Any, app_id: str) -> None:
    load(pinpoint, app_id, device("ann"))
    assert messages(pinpoint, app_id, "ann") == []


def test_only_live_campaigns_inside_their_schedule_are_served(pinpoint: Any, app_id: str) -> None:
    load(pinpoint, app_id, device("ann"))
    segment_id = gold_segment(pinpoint, app_id)
    running = campaign(pinpoint, app_id, segment_id, Name="running")
    paused = campaign(pinpoint, app_id, segment_id, Name="paused")
    deleted = campaign(pinpoint, app_id, segment_id, Name="deleted")
    campaign(
        pinpoint,
        app_id,
        segment_id,
        Name="tomorrow",
        Schedule=in_app_schedule(StartTime=moment(days=1), EndTime=moment(days=2)),
    )
    created_paused = campaign(pinpoint, app_id, segment_id, Name="born paused", IsPaused=True)
    assert set(served(pinpoint, app_id, "ann")) == {running, paused, deleted}

    pinpoint.update_campaign(
        ApplicationId=app_id, CampaignId=paused, WriteCampaignRequest={"IsPaused": True}
    )
    pinpoint.delete_campaign(ApplicationId=app_id, CampaignId=deleted)
    assert served(pinpoint, app_id, "ann") == [running]

    for resumed in (paused, created_paused):
        pinpoint.update_campaign(
            ApplicationId=app_id, CampaignId=resumed, WriteCampaignRequest={"IsPaused": False}
        )
    assert set(served(pinpoint, app_id, "ann")) == {running, paused, created_paused}


def test_a_campaign_is_no_longer_served_once_it_ends(pinpoint: Any, app_id: str) -> None:
    load(pinpoint, app_id, device("ann"))
    segment_id = gold_segment(pinpoint, app_id)
    lasting = campaign(pinpoint, app_id, segment_id, Name="lasting")
    ending_at = datetime.now(UTC) + timedelta(seconds=6)
    ending = campaign(
        pinpoint,
        app_id,
        segment_id,
        Name="ending",
        Schedule=in_app_schedule(EndTime=ending_at.isoformat()),
    )
    assert set(served(pinpoint, app_id, "ann")) == {lasting, ending}
    time.sleep(max(0.0, (ending_at - datetime.now(UTC)).total_seconds()) + 0.5)
    assert served(pinpoint, app_id, "ann") == [lasting]


def test_template_content_is_read_when_messages_are_fetched(pinpoint: Any, app_id: str) -> None:
    load(pinpoint, app_id, device("ann"))
    segment_id = gold_segment(pinpoint, app_id)
    name = f"inapp-{uuid.uuid4().hex[:16]}"
    pinpoint.create_in_app_template(
        TemplateName=name,
        InAppTemplateRequest={
            "Content": [modal("From the template")],
            "CustomConfig": {"source": "template"},
            "Layout": "BOTTOM_BANNER",
            "TemplateDescription": "not part of the message",
        },
    )
    templated = campaign(
        pinpoint,
        app_id,
        segment_id,
        Priority=1,
        MessageConfiguration={},
        TemplateConfiguration={"InAppTemplate": {"Name": name}},
    )
    merged = campaign(
        pinpoint,
        app_id,
        segment_id,
        Priority=2,
        MessageConfiguration={"InAppMessage": {"CustomConfig": {"source": "campaign"}}},
        TemplateConfiguration={"InAppTemplate": {"Name": name, "Version": "1"}},
    )
    direct = campaign(pinpoint, app_id, segment_id, Priority=3)
    found = messages(pinpoint, app_id, "ann")
    assert [item["CampaignId"] for item in found] == [templated, merged, direct]
    assert found[0]["InAppMessage"] == {
        "Content": [modal("From the template")],
        "CustomConfig": {"source": "template"},
        "Layout": "BOTTOM_BANNER",
    }
    assert found[1]["InAppMessage"] == {
        "Content": [modal("From the template")],
        "CustomConfig": {"source": "campaign"},
        "Layout": "BOTTOM_BANNER",
    }

    pinpoint.update_in_app_template(
        TemplateName=name,
        CreateNewVersion=True,
        InAppTemplateRequest={"Content": [modal("Version two")], "Layout": "TOP_BANNER"},
    )
    pinpoint.update_template_active_version(
        TemplateName=name, TemplateType="INAPP", TemplateActiveVersionRequest={"Version": "2"}
    )
    found = messages(pinpoint, app_id, "ann")
    assert found[0]["InAppMessage"] == {"Content": [modal("Version two")], "Layout": "TOP_BANNER"}
    assert found[1]["InAppMessage"]["Content"] == [modal("From the template")]

    pinpoint.delete_in_app_template(TemplateName=name)
    assert served(pinpoint, app_id, "ann") == [direct]


def test_campaigns_come_highest_priority_first(pinpoint: Any, app_id: str) -> None:
    load(pinpoint, app_id, device("ann"))
    segment_id = gold_segment(pinpoint, app_id)
    third = campaign(pinpoint, app_id, segment_id, Priority=3)
    unranked = campaign(pinpoint, app_id, segment_id)
    first = campaign(pinpoint, app_id, segment_id, Priority=1)
    second = campaign(pinpoint, app_id, segment_id, Priority=2)
    assert served(pinpoint, app_id, "ann") == [first, second, third, unranked]


def test_held_out_endpoints_get_nothing_and_others_their_treatment(
    pinpoint: Any, app_id: str
) -> None:
    ids = [f"device-{number:02d}" for number in range(40)]
    load(pinpoint, app_id, *(device(endpoint_id) for endpoint_id in ids))
    segment_id = gold_segment(pinpoint, app_id)
    variant = {"Content": [modal("Variant")], "Layout": "CAROUSEL"}
    variant_end = moment(days=10)
    campaign_id = campaign(
        pinpoint,
        app_id,
        segment_id,
        Priority=4,
        HoldoutPercent=40,
        AdditionalTreatments=[
            {
                "SizePercent": 30,
                "MessageConfiguration": {"InAppMessage": variant},
                "Schedule": in_app_schedule(EndTime=variant_end, EventFilter=SESSION_START),
            }
        ],
    )
    seen: set[str | None] = set()
    for endpoint_id in ids:
        share = assign(endpoint_id, campaign_id, 40, (30, 30))
        found = messages(pinpoint, app_id, endpoint_id)
        if share.held_out:
            assert found == [], endpoint_id
            seen.add(None)
            continue
        (item,) = found
        treatment = str(share.treatment)
        seen.add(treatment)
        assert item["TreatmentId"] == treatment
        assert item["Priority"] == 4
        if treatment == "1":
            assert item["InAppMessage"] == variant
            assert item["Schedule"] == {"EndDate": variant_end, "EventFilter": SESSION_START_SERVED}
        else:
            assert item["InAppMessage"] == {"Content": [modal("Hello")]}
    assert seen == {None, "0", "1"}


def test_app_settings_supply_caps_and_quiet_time_the_campaign_leaves_out(
    pinpoint: Any, app_id: str
) -> None:
    load(pinpoint, app_id, device("ann"))
    segment_id = gold_segment(pinpoint, app_id)
    pinpoint.update_application_settings(
        ApplicationId=app_id,
        WriteApplicationSettingsRequest={
            "Limits": {"Daily": 4, "Total": 9},
            "QuietTime": {"Start": "23:00", "End": "06:30"},
        },
    )
    defaults = campaign(pinpoint, app_id, segment_id, Priority=1)
    own = campaign(
        pinpoint,
        app_id,
        segment_id,
        Priority=2,
        Limits={"Daily": 2, "Session": 1},
        Schedule=in_app_schedule(QuietTime={"Start": "21:00", "End": "08:00"}),
    )
    first, second = messages(pinpoint, app_id, "ann")
    assert first["CampaignId"] == defaults
    assert (first["DailyCap"], first["SessionCap"], first["TotalCap"]) == (4, 0, 9)
    assert first["Schedule"]["QuietTime"] == {"Start": "23:00", "End": "06:30"}
    assert second["CampaignId"] == own
    assert (second["DailyCap"], second["SessionCap"], second["TotalCap"]) == (2, 1, 9)
    assert second["Schedule"]["QuietTime"] == {"Start": "21:00", "End": "08:00"}


def test_a_campaign_whose_segment_is_gone_is_left_out(pinpoint: Any, app_id: str) -> None:
    load(pinpoint, app_id, device("ann"))
    kept = campaign(pinpoint, app_id, gold_segment(pinpoint, app_id))
    doomed_segment = gold_segment(pinpoint, app_id)
    campaign(pinpoint, app_id, doomed_segment)
    pinpoint.delete_segment(ApplicationId=app_id, SegmentId=doomed_segment)
    assert served(pinpoint, app_id, "ann") == [kept]
