"""In-app messages without a server: who takes them, when a treatment serves, how content,
caps, quiet time and priority make up an InAppMessageCampaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clarion.campaigns.engine import treatments
from clarion.campaigns.inapp import (
    by_priority,
    campaign_item,
    event_filter,
    in_app_message,
    reachable,
    showing,
)
from clarion.campaigns.schedule import parse_schedule

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
FILTER = {
    "FilterType": "ENDPOINT",
    "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE", "Values": ["level_up"]}},
}
CONTENT = [
    {
        "BackgroundColor": "#ffffff",
        "HeaderConfig": {"Alignment": "CENTER", "Header": "Level up", "TextColor": "#000000"},
        "BodyConfig": {"Alignment": "LEFT", "Body": "Well played", "TextColor": "#333333"},
    }
]


def in_app_schedule(**members: Any) -> dict[str, Any]:
    return {
        "StartTime": "2030-05-01T00:00:00Z",
        "EndTime": "2030-06-01T00:00:00Z",
        "Frequency": "IN_APP_EVENT",
        "EventFilter": FILTER,
        **members,
    }


def definition(**members: Any) -> dict[str, Any]:
    return {
        "SegmentId": "s",
        "Schedule": in_app_schedule(),
        "MessageConfiguration": {"InAppMessage": {"Content": CONTENT, "Layout": "TOP_BANNER"}},
        **members,
    }


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"ChannelType": "IN_APP"}, True),
        ({"ChannelType": "IN_APP", "OptOut": "NONE", "EndpointStatus": "ACTIVE"}, True),
        ({"ChannelType": "IN_APP", "OptOut": "ALL"}, True),
        ({"ChannelType": "IN_APP", "EndpointStatus": "INACTIVE"}, False),
        ({"ChannelType": "GCM", "Address": "token"}, False),
        ({}, False),
    ],
)
def test_only_active_in_app_endpoints_take_in_app_messages_opted_out_or_not(
    document: dict[str, Any], expected: bool
) -> None:
    assert reachable(document) is expected


def test_a_treatment_serves_from_its_start_until_its_end() -> None:
    schedule = parse_schedule(in_app_schedule())
    assert schedule.start is not None and schedule.end is not None
    assert not showing(schedule, schedule.start - timedelta(seconds=1))
    assert showing(schedule, schedule.start)
    assert showing(schedule, schedule.end - timedelta(seconds=1))
    assert not showing(schedule, schedule.end)


def test_without_an_end_a_treatment_serves_from_its_start_on() -> None:
    schedule = parse_schedule(in_app_schedule(EndTime=None))
    assert showing(schedule, NOW + timedelta(days=3650))


def test_only_in_app_event_schedules_serve() -> None:
    assert not showing(parse_schedule(in_app_schedule(Frequency="EVENT")), NOW)


def test_the_campaign_message_overrides_the_template_member_by_member() -> None:
    template = {
        "Content": CONTENT,
        "CustomConfig": {"from": "template"},
        "Layout": "MIDDLE_BANNER",
        "TemplateDescription": "not part of the message",
    }
    assert in_app_message({"CustomConfig": {"from": "campaign"}}, template) == {
        "Content": CONTENT,
        "CustomConfig": {"from": "campaign"},
        "Layout": "MIDDLE_BANNER",
    }
    assert in_app_message({"Content": [], "Body": "legacy"}, template)["Content"] == CONTENT
    assert in_app_message(None, None) == {}


def test_event_filter_always_has_attributes_and_metrics() -> None:
    assert event_filter(FILTER) == {
        "FilterType": "ENDPOINT",
        "Dimensions": {
            "EventType": {"DimensionType": "INCLUSIVE", "Values": ["level_up"]},
            "Attributes": {},
            "Metrics": {},
        },
    }
    metric = {"price": {"ComparisonOperator": "GREATER_THAN", "Value": 10.0}}
    kept = event_filter({**FILTER, "Dimensions": {"Metrics": metric}})
    assert kept["Dimensions"] == {"Metrics": metric, "Attributes": {}}


def test_campaign_item_maps_limits_priority_schedule_and_treatment() -> None:
    stored = definition(
        Priority=2,
        Limits={"Daily": 3, "Total": 10, "Session": 1, "MessagesPerSecond": 50},
        Schedule=in_app_schedule(QuietTime={"Start": "22:00", "End": "07:00"}),
    )
    default = treatments(stored)[0]
    message = {"Content": CONTENT}
    assert campaign_item("c1", default, message, {}) == {
        "CampaignId": "c1",
        "TreatmentId": "0",
        "Priority": 2,
        "DailyCap": 3,
        "SessionCap": 1,
        "TotalCap": 10,
        "InAppMessage": {"Content": CONTENT},
        "Schedule": {
            "EndDate": "2030-06-01T00:00:00Z",
            "EventFilter": event_filter(FILTER),
            "QuietTime": {"Start": "22:00", "End": "07:00"},
        },
    }


def test_campaign_item_takes_the_app_defaults_where_the_campaign_sets_none() -> None:
    stored = definition(Limits={"Session": 2})
    app = {"Limits": {"Daily": 5, "Total": 7}, "QuietTime": {"Start": "23:00", "End": "06:00"}}
    item = campaign_item("c1", treatments(stored)[0], {"Content": CONTENT}, app)
    assert (item["DailyCap"], item["SessionCap"], item["TotalCap"]) == (5, 2, 7)
    assert item["Schedule"]["QuietTime"] == {"Start": "23:00", "End": "06:00"}
    assert "Priority" not in item


def test_campaign_item_without_limits_end_or_quiet_time_has_zero_caps() -> None:
    stored = definition(Schedule=in_app_schedule(EndTime=None, QuietTime={}))
    item = campaign_item("c1", treatments(stored)[0], {"Content": CONTENT}, {})
    assert (item["DailyCap"], item["SessionCap"], item["TotalCap"]) == (0, 0, 0)
    assert item["Schedule"] == {"EventFilter": event_filter(FILTER)}


def test_end_date_is_a_utc_instant_whatever_the_schedule_zone() -> None:
    stored = definition(
        Schedule=in_app_schedule(
            StartTime="2030-05-01T09:00:00", EndTime="2030-06-01T09:30:15", Timezone="UTC+09"
        )
    )
    item = campaign_item("c1", treatments(stored)[0], {"Content": CONTENT}, {})
    assert item["Schedule"]["EndDate"] == "2030-06-01T00:30:15Z"


def test_an_additional_treatment_is_served_with_its_own_members() -> None:
    other = {"InAppMessage": {"Content": CONTENT, "Layout": "CAROUSEL"}}
    stored = definition(
        Priority=4,
        AdditionalTreatments=[
            {
                "Id": "1",
                "SizePercent": 50,
                "MessageConfiguration": other,
                "Schedule": in_app_schedule(EndTime="2030-07-01T00:00:00Z"),
            }
        ],
    )
    item = campaign_item("c1", treatments(stored)[1], other["InAppMessage"], {})
    assert item["TreatmentId"] == "1"
    assert item["Priority"] == 4
    assert item["Schedule"]["EndDate"] == "2030-07-01T00:00:00Z"


def test_by_priority_puts_one_first_and_none_last_keeping_ties_in_order() -> None:
    items: list[dict[str, Any]] = [
        {"CampaignId": "a"},
        {"CampaignId": "b", "Priority": 3},
        {"CampaignId": "c", "Priority": 1},
        {"CampaignId": "d", "Priority": 3},
        {"CampaignId": "e"},
    ]
    assert [item["CampaignId"] for item in by_priority(items)] == ["c", "b", "d", "a", "e"]
