"""Journeys through boto3 against a server on a clock the test moves (see campaign_harness):
each activity kind, each entry kind, waits, splits on events and on e-mail opens, holdout and
random split proportions, caps and re-entry, quiet time and open hours, pause/resume/cancel,
EndTime, and metrics equal to what the SMTP sink and the web hooks received, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.campaign_harness import Harness, person, running, stamp
from tests.delivery.conftest import Answer, HttpPeer

START = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
"""A Monday morning: every test's clock starts here."""


@pytest.fixture
def h(tmp_path: Path, database_url: str | None) -> Iterator[Harness]:
    with running(tmp_path, database_url, START) as harness:
        yield harness


def template(h: Harness, name: str, subject: str) -> str:
    h.pinpoint.create_email_template(
        TemplateName=name,
        EmailTemplateRequest={"Subject": subject, "HtmlPart": f"<p>{subject}</p>"},
    )
    return name


def send_email(name: str, following: str | None = None) -> dict[str, Any]:
    return {"EMAIL": {"TemplateName": name, **({"NextActivity": following} if following else {})}}


def one_wait_two(wait: str) -> dict[str, Any]:
    """Activities: e-mail template "one", a wait of ``wait``, e-mail template "two"."""
    return {
        "one": send_email("one", "wait"),
        "wait": {"Wait": {"WaitTime": {"WaitFor": wait}, "NextActivity": "two"}},
        "two": send_email("two"),
    }


def journey(
    h: Harness, app_id: str, segment_id: str, activities: dict[str, Any], start: str, **members: Any
) -> str:
    request = {
        "Name": "journey",
        "Activities": activities,
        "StartActivity": start,
        "StartCondition": {"SegmentStartCondition": {"SegmentId": segment_id}},
        "State": "ACTIVE",
        **members,
    }
    created = h.pinpoint.create_journey(ApplicationId=app_id, WriteJourneyRequest=request)
    journey_id: str = created["JourneyResponse"]["Id"]
    return journey_id


def subjects(h: Harness) -> dict[str, list[str]]:
    """Who got which subjects, in order."""
    found: dict[str, list[str]] = {}
    for mail in h.mails():
        found.setdefault(mail.recipient, []).append(mail.subject)
    return found


def activity_metrics(h: Harness, app_id: str, journey_id: str, activity_id: str) -> dict[str, str]:
    found = h.pinpoint.get_journey_execution_activity_metrics(
        ApplicationId=app_id, JourneyId=journey_id, JourneyActivityId=activity_id
    )["JourneyExecutionActivityMetricsResponse"]
    metrics: dict[str, str] = found["Metrics"]
    return metrics


def journey_metrics(h: Harness, app_id: str, journey_id: str) -> dict[str, str]:
    found = h.pinpoint.get_journey_execution_metrics(ApplicationId=app_id, JourneyId=journey_id)
    metrics: dict[str, str] = found["JourneyExecutionMetricsResponse"]["Metrics"]
    return metrics


def state(h: Harness, app_id: str, journey_id: str) -> str:
    found = h.pinpoint.get_journey(ApplicationId=app_id, JourneyId=journey_id)
    value: str = found["JourneyResponse"]["State"]
    return value


def open_mail(h: Harness, recipient: str) -> None:
    """The recipient opens the e-mail it got: its tracking pixel is fetched."""
    for received in h.sink.received:
        if received.rcpt_tos == [recipient]:
            html = received.message().get_body(("html",)).get_content()  # type: ignore[union-attr]
            token = re.search(r"/t/o/([^\"]+)", html)
            assert token, html
            h.core.engagement.opened(token.group(1))
            return
    raise AssertionError(f"no mail for {recipient}")


# --- the whole path ----------------------------------------------------------------------


def test_email_wait_split_on_open_then_email(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 5)])
    template(h, "welcome", "Welcome")
    template(h, "thanks", "Thanks for reading")
    template(h, "nudge", "Did you miss us?")
    opened = {
        "Conditions": [
            {
                "EventCondition": {
                    "Dimensions": {
                        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["_email.open"]}
                    },
                    "MessageActivity": "welcome",
                }
            }
        ]
    }
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "welcome": send_email("welcome", "pause"),
            "pause": {"Wait": {"WaitTime": {"WaitFor": "PT1H"}, "NextActivity": "split"}},
            "split": {
                "ConditionalSplit": {
                    "Condition": opened,
                    "TrueActivity": "thanks",
                    "FalseActivity": "nudge",
                }
            },
            "thanks": send_email("thanks"),
            "nudge": send_email("nudge"),
        },
        "welcome",
    )
    h.tick()
    assert subjects(h) == {f"e{n}@example.org": ["Welcome"] for n in range(1, 5)}
    open_mail(h, "e1@example.org")
    open_mail(h, "e3@example.org")
    h.advance(minutes=59)
    assert len(h.mails()) == 4
    assert activity_metrics(h, app_id, journey_id, "pause") == {"STARTED": "4", "WAITING": "4"}
    h.advance(minutes=1)
    got = subjects(h)
    assert got["e1@example.org"] == got["e3@example.org"] == ["Welcome", "Thanks for reading"]
    assert got["e2@example.org"] == got["e4@example.org"] == ["Welcome", "Did you miss us?"]
    assert activity_metrics(h, app_id, journey_id, "welcome") == {"SUCCESS": "4"}
    assert activity_metrics(h, app_id, journey_id, "split") == {"Branch_1": "2", "Branch_2": "2"}
    assert activity_metrics(h, app_id, journey_id, "thanks") == {"SUCCESS": "2"}
    assert activity_metrics(h, app_id, journey_id, "nudge") == {"SUCCESS": "2"}
    metrics = journey_metrics(h, app_id, journey_id)
    assert metrics["ENDPOINT_ENTERED"] == "4" and metrics["ENDPOINT_LEFT"] == "4"
    assert "ENDPOINT_ACTIVE" not in metrics
    h.tick()
    assert state(h, app_id, journey_id) == "COMPLETED"
    runs = h.pinpoint.get_journey_runs(ApplicationId=app_id, JourneyId=journey_id)
    [run] = runs["JourneyRunsResponse"]["Item"]
    assert run["Status"] == "COMPLETED"
    by_run = h.pinpoint.get_journey_run_execution_metrics(
        ApplicationId=app_id, JourneyId=journey_id, RunId=run["RunId"]
    )["JourneyRunExecutionMetricsResponse"]
    assert by_run["Metrics"]["ENDPOINT_PRODUCED"] == "4"
    ledger = h.ledger_ids(journey_id)
    assert {mail.message_id for mail in h.mails()} == set().union(*ledger.values())


def test_random_split_and_holdout_proportions(h: Harness) -> None:
    people = [person(n) for n in range(1, 401)]
    app_id, segment_id = h.new_app(people)
    template(h, "a", "Path A")
    template(h, "b", "Path B")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "hold": {"Holdout": {"Percentage": 25, "NextActivity": "split"}},
            "split": {
                "RandomSplit": {
                    "Branches": [
                        {"Percentage": 30, "NextActivity": "a"},
                        {"Percentage": 70, "NextActivity": "b"},
                    ]
                }
            },
            "a": send_email("a"),
            "b": send_email("b"),
        },
        "hold",
    )
    h.tick()
    got = [subject for found in subjects(h).values() for subject in found]
    held = 400 - len(got)
    # 25% of 400 held out, sd ~8.7; 30% of the rest down path A, sd ~7.9: 4 sd each way.
    assert 65 <= held <= 135
    a = got.count("Path A")
    assert abs(a - 0.3 * len(got)) <= 4 * (len(got) * 0.3 * 0.7) ** 0.5
    hold = activity_metrics(h, app_id, journey_id, "hold")
    assert hold == {"HOLDOUT": str(held), "CONTINUED": str(400 - held)}
    split = activity_metrics(h, app_id, journey_id, "split")
    assert split["Branch_1"] == str(a) and split["TOTAL"] == str(len(got))


def test_pause_holds_resume_continues_cancel_stops(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 4)])
    template(h, "one", "One")
    template(h, "two", "Two")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        one_wait_two("PT10M"),
        "one",
    )
    h.tick()
    assert len(h.mails()) == 3
    h.pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": "PAUSED"}
    )
    h.advance(minutes=30)
    assert len(h.mails()) == 3
    h.pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": "ACTIVE"}
    )
    h.tick()
    assert len(h.mails()) == 6
    second_id = journey(
        h,
        app_id,
        segment_id,
        one_wait_two("PT10M"),
        "one",
    )
    h.tick()
    assert len(h.mails()) == 9
    h.pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=second_id, JourneyStateRequest={"State": "CANCELLED"}
    )
    h.advance(minutes=30)
    assert len(h.mails()) == 9
    assert state(h, app_id, second_id) == "CANCELLED"
    assert journey_metrics(h, app_id, second_id)["CANCELLED"] == "3"
    with pytest.raises(ClientError) as refused:
        h.pinpoint.update_journey_state(
            ApplicationId=app_id, JourneyId=second_id, JourneyStateRequest={"State": "ACTIVE"}
        )
    assert refused.value.response["Error"]["Code"] == "BadRequestException"


def test_event_start_enters_each_event_and_keeps_to_the_reentry_cap(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 3)])
    template(h, "receipt", "Your receipt")
    request = {
        "Name": "purchases",
        "Activities": {"receipt": send_email("receipt")},
        "StartActivity": "receipt",
        "StartCondition": {
            "EventStartCondition": {
                "EventFilter": {
                    "FilterType": "ENDPOINT",
                    "Dimensions": {
                        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase"]}
                    },
                },
                "SegmentId": segment_id,
            }
        },
        "Limits": {"EndpointReentryCap": 2},
        "State": "ACTIVE",
    }
    journey_id = h.pinpoint.create_journey(ApplicationId=app_id, WriteJourneyRequest=request)[
        "JourneyResponse"
    ]["Id"]
    h.tick()
    for n in range(3):
        h.put_event(app_id, "e1", f"p{n}", "purchase")
        h.tick()
    h.put_event(app_id, "e2", "other", "browse")
    h.tick()
    assert subjects(h) == {"e1@example.org": ["Your receipt", "Your receipt"]}
    metrics = journey_metrics(h, app_id, journey_id)
    assert metrics["ENDPOINT_ENTERED"] == "2"
    assert metrics["REENTRY_CAP_EXCEEDED"] == "1"


def test_custom_activity_posts_to_its_web_hook_and_contact_center_hands_off(
    h: Harness,
) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 3)])
    with HttpPeer(Answer(200, b"{}")) as hook:
        h.core.apps.set_contact_center(app_id, hook.url + "/agents")
        journey_id = journey(
            h,
            app_id,
            segment_id,
            {
                "custom": {
                    "CUSTOM": {
                        "DeliveryUri": hook.url + "/custom",
                        "MessageConfig": {"Data": "hello"},
                        "NextActivity": "agent",
                    }
                },
                "agent": {"ContactCenter": {}},
            },
            "custom",
        )
        h.tick()
        paths = [request.path for request in hook.requests]
        assert paths == ["/custom", "/agents"]
        body = json.loads(hook.requests[0].body)
        assert body["Data"] == "hello" and sorted(body["Endpoints"]) == ["e1", "e2"]
    assert activity_metrics(h, app_id, journey_id, "custom") == {"SUCCESS": "2"}
    assert activity_metrics(h, app_id, journey_id, "agent") == {"SUCCESS": "2"}


def test_quiet_time_waits_when_asked(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1, "Asia/Seoul"), person(2, "Europe/London")])
    template(h, "hello", "Hello")
    # 10:00 UTC is 19:00 in Seoul (quiet from 18:00 through 08:00) and 10:00 in London.
    journey(
        h,
        app_id,
        segment_id,
        {"hello": send_email("hello")},
        "hello",
        QuietTime={"Start": "18:00", "End": "08:00"},
        WaitForQuietTime=True,
    )
    h.tick()
    assert list(subjects(h)) == ["e2@example.org"]
    h.advance(hours=13)
    assert list(subjects(h)) == ["e2@example.org"]
    h.advance(minutes=1)
    assert sorted(subjects(h)) == ["e1@example.org", "e2@example.org"]


def test_end_time_stops_the_journey(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1)])
    template(h, "one", "One")
    template(h, "two", "Two")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        one_wait_two("P1D"),
        "one",
        Schedule={"StartTime": stamp(START), "EndTime": stamp(START + timedelta(hours=2))},
    )
    h.tick()
    h.advance(days=2)
    assert subjects(h) == {"e1@example.org": ["One"]}
    assert state(h, app_id, journey_id) == "COMPLETED"


def test_daily_cap_counts_the_journeys_messages(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1)])
    template(h, "one", "One")
    template(h, "two", "Two")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {"one": send_email("one", "two"), "two": send_email("two")},
        "one",
        Limits={"DailyCap": 1},
    )
    h.tick()
    assert subjects(h) == {"e1@example.org": ["One"]}
    assert activity_metrics(h, app_id, journey_id, "two") == {"DAILY_CAP": "1"}


def test_simulate_reports_the_shape_and_sends_nothing(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 11)])
    template(h, "one", "One")
    request = {
        "Name": "draft",
        "Activities": {
            "one": send_email("one", "wait"),
            "wait": {"Wait": {"WaitTime": {"WaitFor": "PT2H"}, "NextActivity": "split"}},
            "split": {
                "RandomSplit": {
                    "Branches": [{"Percentage": 50, "NextActivity": "one2"}, {"Percentage": 50}]
                }
            },
            "one2": send_email("one"),
        },
        "StartActivity": "one",
        "StartCondition": {"SegmentStartCondition": {"SegmentId": segment_id}},
    }
    journey_id = h.pinpoint.create_journey(ApplicationId=app_id, WriteJourneyRequest=request)[
        "JourneyResponse"
    ]["Id"]
    shape = h.core.journey_simulator.simulate(app_id, journey_id)
    assert shape["Entering"] == 10
    assert shape["Activities"]["one"]["Endpoints"] == 10
    assert shape["Activities"]["split"]["Earliest"] == "2027-01-04T12:00:00.000Z"
    split = shape["Activities"]["split"]["Paths"]
    assert int(split["Branch_1"]) + int(split["Branch_2"]) == 10
    assert shape["Activities"]["one2"]["Endpoints"] == split["Branch_1"]
    h.tick()
    assert h.mails() == []
    assert state(h, app_id, journey_id) == "DRAFT"
