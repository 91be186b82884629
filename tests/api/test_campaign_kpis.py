"""A campaign created through boto3, then the events its two runs (one per treatment) would
record, sent with signed PutEvents: every campaign KPI comes back through
GetCampaignDateRangeKpi, and per treatment through Clarion's native route, with the values
worked out here by hand. The campaign is scheduled weeks ahead, so the server's own scheduler
sends nothing while the test runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from clarion.analytics import campaigns
from tests.conftest import Server, signed_request

NOW = datetime.now(UTC)
D1 = (NOW - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
D2 = D1 + timedelta(days=1)
DAY1, DAY2 = D1.date().isoformat(), D2.date().isoformat()
RUN_A, RUN_B = "run-a", "run-b"

Event = tuple[datetime, str, dict[str, str]]


def context(campaign_id: str, run: str, treatment: str) -> dict[str, str]:
    return {"campaign_id": campaign_id, "campaign_activity_id": run, "treatment_id": treatment}


def history(campaign_id: str) -> dict[str, list[Event]]:
    """Run A (treatment 0) e-mails ep-a, who opens twice and clicks, and ep-b, who hard-bounces.
    Run B (treatment 1) pushes to ep-c, who opens the notification, so the SDK credits the
    session and purchase that follow, and to ep-d. ep-e's app use and another campaign's send
    are nobody's business here."""
    a = context(campaign_id, RUN_A, "0")
    b = context(campaign_id, RUN_B, "1")
    email = {"delivery_type": "EMAIL", "campaign_send_status": "SUCCESS"}
    return {
        "ep-a": [
            (D1, "_campaign.send", {**a, **email}),
            (D1, "_email.send", a),
            (D1, "_email.delivered", a),
            (D1, "_email.open", a),
            (D1, "_email.open", a),
            (D1, "_email.click", a),
        ],
        "ep-b": [
            (D1, "_campaign.send", {**a, **email}),
            (D1, "_email.send", a),
            (D1, "_email.hardbounce", a),
        ],
        "ep-c": [
            (
                D2,
                "_campaign.send",
                {**b, "delivery_type": "GCM", "campaign_send_status": "SUCCESS"},
            ),
            (D2, "_campaign.opened_notification", b),
            (D2, "_session.start", b),
            (D2, "_monetization.purchase", {**b, "_currency": "USD"}),
        ],
        "ep-d": [
            (
                D2,
                "_campaign.send",
                {**b, "delivery_type": "APNS", "campaign_send_status": "SUCCESS"},
            ),
        ],
        "ep-e": [
            (D2, "_session.start", {}),
            (D2, "_monetization.purchase", {"_currency": "USD"}),
            (D2, "_campaign.send", {**context("another", "run-z", "0"), **email}),
        ],
    }


EXPECTED: dict[str, list[tuple[str | None, str]]] = {
    "attempted-deliveries-grouped-by-campaign-activity": [(RUN_A, "2.0"), (RUN_B, "2.0")],
    "successful-deliveries-grouped-by-campaign-activity": [(RUN_A, "1.0"), (RUN_B, "2.0")],
    "successful-delivery-rate": [(None, "0.75")],
    "successful-delivery-rate-grouped-by-date": [(DAY1, "0.5"), (DAY2, "1.0")],
    "successful-delivery-rate-grouped-by-campaign-activity": [(RUN_A, "0.5"), (RUN_B, "1.0")],
    "hard-bounce-rate": [(None, "0.5")],
    "hard-bounce-rate-grouped-by-campaign-activity": [(RUN_A, "0.5")],
    "email-open-rate": [(None, "2.0")],
    "email-open-rate-grouped-by-campaign-activity": [(RUN_A, "2.0")],
    "direct-email-opens-grouped-by-campaign-activity": [(RUN_A, "2.0")],
    "clicks-grouped-by-campaign-activity": [(RUN_A, "1.0")],
    "unique-deliveries": [(None, "3.0")],
    "unique-deliveries-grouped-by-date": [(DAY1, "1.0"), (DAY2, "2.0")],
    "unique-deliveries-grouped-by-campaign-activity": [(RUN_A, "1.0"), (RUN_B, "2.0")],
    "push-open-rate": [(None, "0.5")],
    "push-open-rate-grouped-by-campaign-activity": [(RUN_B, "0.5")],
    "direct-push-opens-grouped-by-campaign-activity": [(RUN_B, "1.0")],
    "sessions": [(None, "1.0")],
    "sessions-grouped-by-date": [(DAY2, "1.0")],
    "purchases": [(None, "1.0")],
    "purchases-grouped-by-date": [(DAY2, "1.0")],
}


def later(days: int) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def campaign_id(pinpoint: Any, app_id: str) -> str:
    segment = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "ios",
            "Dimensions": {
                "Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}}
            },
        },
    )["SegmentResponse"]["Id"]
    created = pinpoint.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest={
            "Name": "spring",
            "SegmentId": segment,
            "Schedule": {"StartTime": later(30), "Frequency": "ONCE"},
            "MessageConfiguration": {
                "SMSMessage": {"Body": "Spring sale", "MessageType": "PROMOTIONAL"}
            },
        },
    )
    found: str = created["CampaignResponse"]["Id"]
    return found


@pytest.fixture
def sent(pinpoint: Any, app_id: str, campaign_id: str) -> str:
    batch = {
        endpoint: {
            "Endpoint": {},
            "Events": {
                f"e{n}": {
                    "EventType": event_type,
                    "Timestamp": at.isoformat(),
                    "Attributes": attributes,
                }
                for n, (at, event_type, attributes) in enumerate(events)
            },
        }
        for endpoint, events in history(campaign_id).items()
    }
    response = pinpoint.put_events(ApplicationId=app_id, EventsRequest={"BatchItem": batch})
    for item in response["EventsResponse"]["Results"].values():
        assert {r["StatusCode"] for r in item["EventsItemResponse"].values()} == {202}
    return campaign_id


def values(rows: list[dict[str, Any]], group_key: str | None) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for row in rows:
        [value] = row["Values"]
        assert value["Type"] == "Double"
        if group_key is None:
            assert "GroupedBys" not in row
            found.append((None, value["Value"]))
        else:
            [group] = row["GroupedBys"]
            assert (group["Key"], group["Type"]) == (group_key, "String")
            found.append((group["Value"], value["Value"]))
    return found


def group_key(name: str) -> str | None:
    if name.endswith("-grouped-by-date"):
        return "Date"
    return "CampaignActivityId" if name.endswith("-grouped-by-campaign-activity") else None


def campaign_rows(pinpoint: Any, app_id: str, campaign_id: str, name: str) -> list[Any]:
    start, end = NOW - timedelta(days=10), NOW
    answer = pinpoint.get_campaign_date_range_kpi(
        ApplicationId=app_id, CampaignId=campaign_id, KpiName=name, StartTime=start, EndTime=end
    )["CampaignDateRangeKpiResponse"]
    assert (answer["ApplicationId"], answer["CampaignId"], answer["KpiName"]) == (
        app_id,
        campaign_id,
        name,
    )
    assert abs(answer["StartTime"] - start) < timedelta(seconds=1)
    assert abs(answer["EndTime"] - end) < timedelta(seconds=1)
    rows: list[Any] = answer["KpiResult"]["Rows"]
    return rows


START = (NOW - timedelta(days=10)).replace(microsecond=0)


def treatment_answer(
    server: Server, app_id: str, campaign_id: str, treatment: str, name: str
) -> Any:
    start = quote(START.strftime("%Y-%m-%dT%H:%M:%SZ"))
    path = (
        f"/clarion/v1/apps/{app_id}/campaigns/{campaign_id}/treatments/{treatment}/kpis/{name}"
        f"?start-time={start}"
    )
    return signed_request(server, "GET", path)


def test_every_campaign_kpi_through_boto3(pinpoint: Any, app_id: str, sent: str) -> None:
    assert set(EXPECTED) == {*campaigns.CAMPAIGN_KPIS, *campaigns.CREDITED_KPIS}
    for name, want in EXPECTED.items():
        rows = campaign_rows(pinpoint, app_id, sent, name)
        assert values(rows, group_key(name)) == want, name
        key = "".join(word.capitalize() for word in name.split("-grouped-by-")[0].split("-"))
        assert {row["Values"][0]["Key"] for row in rows} == {key}


def test_each_treatment_through_the_native_route(server: Server, app_id: str, sent: str) -> None:
    """Treatment 0 is run A's e-mail, treatment 1 run B's push and what it was credited with."""
    first: dict[str, list[tuple[str | None, str]]] = {
        "unique-deliveries": [(None, "1.0")],
        "successful-delivery-rate": [(None, "0.5")],
        "email-open-rate-grouped-by-campaign-activity": [(RUN_A, "2.0")],
        "push-open-rate": [],
        "sessions": [],
    }
    second: dict[str, list[tuple[str | None, str]]] = {
        "unique-deliveries": [(None, "2.0")],
        "successful-delivery-rate": [(None, "1.0")],
        "email-open-rate-grouped-by-campaign-activity": [],
        "push-open-rate": [(None, "0.5")],
        "sessions": [(None, "1.0")],
    }
    for treatment, expected in [("0", first), ("1", second)]:
        for name, want in expected.items():
            response = treatment_answer(server, app_id, sent, treatment, name)
            assert response.status_code == 200, response.text
            answer = response.json()
            assert (answer["CampaignId"], answer["TreatmentId"], answer["KpiName"]) == (
                sent,
                treatment,
                name,
            )
            assert answer["StartTime"] == START.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            end = datetime.fromisoformat(answer["EndTime"])
            assert abs(end - datetime.now(UTC)) < timedelta(minutes=5)
            assert values(answer["KpiResult"]["Rows"], group_key(name)) == want, (treatment, name)


def test_campaign_without_events_and_default_range(
    pinpoint: Any, app_id: str, campaign_id: str
) -> None:
    """Without StartTime and EndTime the range is the 31 days ending now."""
    answer = pinpoint.get_campaign_date_range_kpi(
        ApplicationId=app_id, CampaignId=campaign_id, KpiName="unique-deliveries"
    )["CampaignDateRangeKpiResponse"]
    assert answer["KpiResult"]["Rows"] == []
    assert answer["EndTime"] - answer["StartTime"] > timedelta(days=30)
    assert answer["StartTime"].time() == datetime.min.time()


def test_refusals(server: Server, pinpoint: Any, app_id: str, campaign_id: str) -> None:
    cases = [
        ("0" * 32, "unique-deliveries", "NotFoundException"),
        (campaign_id, "txn-emails-sent", "BadRequestException"),
        (campaign_id, "unique-deliveries-grouped-by-campaign", "BadRequestException"),
    ]
    for campaign, name, error in cases:
        with pytest.raises(ClientError) as excinfo:
            pinpoint.get_campaign_date_range_kpi(
                ApplicationId=app_id, CampaignId=campaign, KpiName=name
            )
        assert excinfo.value.response["Error"]["Code"] == error, (campaign, name)
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.get_campaign_date_range_kpi(
            ApplicationId=app_id,
            CampaignId=campaign_id,
            KpiName="unique-deliveries",
            StartTime=NOW - timedelta(days=40),
            EndTime=NOW,
        )
    assert treatment_answer(server, app_id, "0" * 32, "0", "sessions").status_code == 404
    refused = treatment_answer(server, app_id, campaign_id, "0", "txn-sms-sent")
    assert refused.status_code == 400
    assert set(refused.json()) == {"Message", "RequestID"}
    bad_time = signed_request(
        server,
        "GET",
        f"/clarion/v1/apps/{app_id}/campaigns/{campaign_id}/treatments/0/kpis/sessions"
        "?end-time=soon",
    )
    assert bad_time.status_code == 400
    assert "end-time" in bad_time.json()["Message"]
