"""Delivery events in Pinpoint's event-stream shape go in through signed PutEvents; the
application KPIs that need distinct endpoints or paired attributes come back with the values
worked out here by hand. An app without delivery events answers empty rows for every
documented kpi-name: none answers 501."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clarion.analytics import kpis

NOW = datetime.now(UTC)
D1 = (NOW - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)

Event = tuple[datetime, str, dict[str, str], dict[str, float]]

DELIVERY: dict[str, list[Event]] = {
    # c1 email: delivered to ep-a (opened twice), hard-bounced at ep-b.
    "ep-a": [
        (D1, "_campaign.send", {"campaign_id": "c1", "delivery_type": "EMAIL"}, {}),
        (D1, "_email.delivered", {"campaign_id": "c1"}, {}),
        (D1, "_email.open", {"campaign_id": "c1"}, {}),
        (D1, "_email.open", {"campaign_id": "c1"}, {}),
        (D1, "_email.open", {"feedback": "opened"}, {}),
        (D1, "_email.open", {"feedback": "opened"}, {}),
        (D2, "_email.open", {"feedback": "opened"}, {}),
    ],
    "ep-b": [
        (D1, "_campaign.send", {"campaign_id": "c1", "delivery_type": "EMAIL"}, {}),
        (D1, "_email.hardbounce", {"campaign_id": "c1"}, {}),
    ],
    # c2 push: two successful sends, one opened.
    "ep-c": [
        (
            D2,
            "_campaign.send",
            {"campaign_id": "c2", "delivery_type": "GCM", "campaign_send_status": "SUCCESS"},
            {},
        ),
        (D2, "_campaign.opened_notification", {"campaign_id": "c2"}, {}),
    ],
    "ep-d": [
        (
            D2,
            "_campaign.send",
            {"campaign_id": "c2", "delivery_type": "APNS", "campaign_send_status": "SUCCESS"},
            {},
        ),
    ],
    # Transactional SMS to the US (2 parts, delivered) and France (1 part, blocked).
    "ep-e": [
        (D1, "_SMS.BUFFERED", {"iso_country_code": "US", "number_of_message_parts": "2"}, {}),
        (
            D1,
            "_SMS.SUCCESS",
            {
                "iso_country_code": "US",
                "number_of_message_parts": "2",
                "record_status": "DELIVERED",
            },
            {"price_in_millicents_usd": 1290.0},
        ),
    ],
    "ep-f": [
        (D2, "_SMS.BUFFERED", {"iso_country_code": "FR", "number_of_message_parts": "1"}, {}),
        (
            D2,
            "_SMS.FAILURE",
            {"iso_country_code": "FR", "number_of_message_parts": "1", "record_status": "BLOCKED"},
            {"price_in_millicents_usd": 645.0},
        ),
    ],
    # A campaign SMS: spend, not transactional.
    "ep-g": [
        (
            D1,
            "_SMS.SUCCESS",
            {"campaign_id": "c1", "iso_country_code": "US", "number_of_message_parts": "1"},
            {"price_in_millicents_usd": 900.0},
        ),
    ],
}


def batch_item(events: list[Event]) -> dict[str, Any]:
    return {
        "Endpoint": {},
        "Events": {
            f"e{n}": {
                "EventType": event_type,
                "Timestamp": at.isoformat(),
                "Attributes": attributes,
                "Metrics": metrics,
            }
            for n, (at, event_type, attributes, metrics) in enumerate(events)
        },
    }


def kpi_rows(pinpoint: Any, app_id: str, name: str) -> list[dict[str, Any]]:
    answer = pinpoint.get_application_date_range_kpi(
        ApplicationId=app_id, KpiName=name, StartTime=NOW - timedelta(days=10), EndTime=NOW
    )["ApplicationDateRangeKpiResponse"]
    assert answer["KpiName"] == name
    rows: list[dict[str, Any]] = answer["KpiResult"]["Rows"]
    return rows


def values(rows: list[dict[str, Any]]) -> list[tuple[str | None, str, str]]:
    return [
        (
            row["GroupedBys"][0]["Value"] if "GroupedBys" in row else None,
            row["Values"][0]["Key"],
            row["Values"][0]["Value"],
        )
        for row in rows
    ]


@pytest.fixture
def delivered(pinpoint: Any, app_id: str) -> str:
    request = {"BatchItem": {ep: batch_item(events) for ep, events in DELIVERY.items()}}
    response = pinpoint.put_events(ApplicationId=app_id, EventsRequest=request)
    for item in response["EventsResponse"]["Results"].values():
        assert {r["StatusCode"] for r in item["EventsItemResponse"].values()} == {202}
    return app_id


def test_distinct_endpoints_from_delivery_events(pinpoint: Any, delivered: str) -> None:
    day1, day2 = D1.date().isoformat(), D2.date().isoformat()
    assert values(kpi_rows(pinpoint, delivered, "unique-deliveries")) == [
        (None, "UniqueDeliveries", "3.0")
    ]
    by_campaign = kpi_rows(pinpoint, delivered, "unique-deliveries-grouped-by-campaign")
    assert by_campaign[0]["GroupedBys"] == [{"Key": "CampaignId", "Type": "String", "Value": "c1"}]
    assert values(by_campaign) == [
        ("c1", "UniqueDeliveries", "1.0"),
        ("c2", "UniqueDeliveries", "2.0"),
    ]
    assert values(kpi_rows(pinpoint, delivered, "txn-emails-opened")) == [
        (None, "TxnEmailsOpened", "3.0")
    ]
    assert values(kpi_rows(pinpoint, delivered, "txn-emails-unique-opens-grouped-by-date")) == [
        (day1, "TxnEmailsUniqueOpens", "1.0"),
        (day2, "TxnEmailsUniqueOpens", "1.0"),
    ]


def test_paired_attributes_from_delivery_events(pinpoint: Any, delivered: str) -> None:
    assert values(kpi_rows(pinpoint, delivered, "push-open-rate-grouped-by-campaign")) == [
        ("c2", "PushOpenRate", "0.5")
    ]
    by_country = kpi_rows(pinpoint, delivered, "txn-sms-total-price-grouped-by-country")
    assert by_country[0]["GroupedBys"] == [{"Key": "Country", "Type": "String", "Value": "FR"}]
    assert values(by_country) == [
        ("FR", "TxnSmsTotalPrice", "0.00645"),
        ("US", "TxnSmsTotalPrice", "0.0129"),
    ]
    assert values(kpi_rows(pinpoint, delivered, "txn-sms-sent-by-parts")) == [
        (None, "TxnSmsSentByParts", "3.0")
    ]
    assert values(kpi_rows(pinpoint, delivered, "txn-sms-error-distribution")) == [
        ("BLOCKED", "TxnSmsErrorDistribution", "1.0")
    ]
    assert values(kpi_rows(pinpoint, delivered, "sms-spend")) == [(None, "SmsSpend", "0.009")]


def test_an_app_without_delivery_events_answers_every_kpi_with_no_rows(
    pinpoint: Any, app_id: str
) -> None:
    """``kpis.APPLICATION_KPIS`` is pinned to the guide's list by tests/unit/test_analytics.py."""
    app_event = {"EventType": "level.up", "Timestamp": D1.isoformat()}
    pinpoint.put_events(
        ApplicationId=app_id,
        EventsRequest={"BatchItem": {"ep-1": {"Endpoint": {}, "Events": {"e": app_event}}}},
    )
    for name in sorted(kpis.APPLICATION_KPIS):
        assert kpi_rows(pinpoint, app_id, name) == [], name
