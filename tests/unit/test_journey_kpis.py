"""Journey engagement metrics without a database: the catalogue, the rows from rollup counts,
and which events the journey message rollup takes."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.analytics import journeys
from clarion.errors import BadRequest
from clarion.events import messages
from clarion.store.analytics import JourneyMessageCount, JourneyMessageKey

DOCUMENTED = {
    f"journey-emails-{m}"
    for m in (
        "sent",
        "delivered",
        "opened",
        "clicked",
        "hardbounced",
        "softbounced",
        "complained",
        "rejected",
        "unsubscribed",
    )
} | {
    f"emails-{m}-grouped-by-journey-activity"
    for m in (
        "sent",
        "delivered",
        "opened",
        "clicked",
        "hardbounced",
        "softbounced",
        "complained",
        "rejected",
        "unsubscribed",
    )
}


def test_every_documented_name_is_a_journey_metric() -> None:
    assert set(journeys.JOURNEY_KPIS) == DOCUMENTED
    assert set(journeys.SMS_KPIS) == {
        "journey-sms-sent",
        "journey-sms-delivered",
        "journey-sms-failed",
        "sms-sent-grouped-by-journey-activity",
        "sms-delivered-grouped-by-journey-activity",
        "sms-failed-grouped-by-journey-activity",
    }


@pytest.mark.parametrize("name", ["email-open-rate", "journey-emails", "unique-deliveries", ""])
def test_other_names_are_refused(name: str) -> None:
    with pytest.raises(BadRequest, match="is not a journey metric"):
        journeys.journey_kpi(name)


def test_keys_follow_the_kpi_name() -> None:
    assert journeys.journey_kpi("journey-emails-sent").key == "JourneyEmailsSent"
    assert journeys.journey_kpi("emails-opened-grouped-by-journey-activity").key == "EmailsOpened"


COUNTS = [
    JourneyMessageCount("", "_email.send", 4),
    JourneyMessageCount("a1", "_email.send", 3),
    JourneyMessageCount("a2", "_email.send", 2),
    JourneyMessageCount("a2", "_email.open", 1),
    JourneyMessageCount("a3", "_email.send", 0),
]


def test_a_whole_journey_count_is_one_row() -> None:
    rows = journeys.journey_kpi("journey-emails-sent").rows(COUNTS)
    assert rows == [{"Values": [{"Key": "JourneyEmailsSent", "Type": "Double", "Value": "9.0"}]}]


def test_grouped_rows_are_per_activity_with_data() -> None:
    rows = journeys.journey_kpi("emails-sent-grouped-by-journey-activity").rows(COUNTS)
    assert rows == [
        {
            "Values": [{"Key": "EmailsSent", "Type": "Double", "Value": value}],
            "GroupedBys": [{"Key": "JourneyActivityId", "Type": "String", "Value": activity}],
        }
        for activity, value in [("a1", "3.0"), ("a2", "2.0")]
    ]


def test_nothing_counted_is_no_row() -> None:
    assert journeys.journey_kpi("journey-emails-clicked").rows(COUNTS) == []
    assert journeys.journey_kpi("emails-clicked-grouped-by-journey-activity").rows([]) == []


def event(event_type: str, **attributes: str) -> dict[str, Any]:
    return {"EventType": event_type, "Attributes": attributes}


def test_the_rollup_takes_journey_messages_only() -> None:
    day = "2026-11-20"
    counts = messages.journey_counts(
        [
            (day, event("_email.send", journey_id="j1", journey_activity_id="a1")),
            (day, event("_email.send", journey_id="j1", journey_activity_id="a1")),
            (day, event("_journey.send", journey_id="j1", journey_activity_id="a1")),
            (day, event("_SMS.SUCCESS", journey_id="j2")),
            (day, event("_email.send", campaign_id="c1")),
            (day, event("_email.send")),
            (day, event("level.up", journey_id="j1", journey_activity_id="a1")),
            (day, event("_session.start", journey_id="j1")),
            (day, event("_email.open", journey_id="", journey_activity_id="a1")),
        ]
    )
    assert counts == {
        JourneyMessageKey("j1", day, "_email.send", "a1"): 2,
        JourneyMessageKey("j1", day, "_journey.send", "a1"): 1,
        JourneyMessageKey("j2", day, "_SMS.SUCCESS", ""): 1,
    }


@pytest.mark.parametrize(
    ("event_type", "sent"),
    [
        ("_journey.send", True),
        ("_email.send", True),
        ("_campaign.send", True),
        ("_session.start", False),
        ("level.up", False),
    ],
)
def test_what_clarion_sent_is_not_the_endpoints_own_activity(event_type: str, sent: bool) -> None:
    assert messages.is_sent(event_type) is sent
