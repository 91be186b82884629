"""Journeys through boto3, the rules test_journeys.py leaves out: SMS and push activities and
endpoints of another channel, multivariate splits and splits on events, clicks and segments,
evaluation windows, WaitUntil and waits to the second, every entry rule, every cap, quiet
time, open hours and local time, metrics against what the sinks received, the operations
around them, bad input, and Clarion's own routes (simulate, contact center), on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import sqlalchemy as sa
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from clarion.store.schema import journey_counters, journey_participants, journey_runs
from tests.api.campaign_harness import MEMBERS, Harness, person, rows, running, stamp
from tests.api.test_journeys import (
    START,
    activity_metrics,
    journey,
    journey_metrics,
    one_wait_two,
    open_mail,
    send_email,
    state,
    subjects,
    template,
)
from tests.delivery.conftest import Answer, HttpPeer
from tests.delivery.test_fcm import Google, google, service_json

"""The same fixture as test_journeys.py's: SQLite, and PostgreSQL in a schema of its own."""

ROLE = "arn:aws:iam::123456789012:role/pinpoint-import"
SID = "AC0123456789abcdef0123456789abcdef"
QUEUED = Answer(201, json.dumps({"sid": "SM1", "status": "queued"}).encode())


@pytest.fixture(scope="module")
def fcm_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def fcm(fcm_key: rsa.RSAPrivateKey) -> Iterator[tuple[Google, str]]:
    with google(fcm_key) as running_google:
        yield running_google


@pytest.fixture
def carrier() -> Iterator[HttpPeer]:
    """Twilio's Messages API, as far as the SMS adapter uses it."""
    with HttpPeer(QUEUED) as peer:
        yield peer


@pytest.fixture
def h(
    tmp_path: Path, database_url: str | None, carrier: HttpPeer, fcm: tuple[Google, str]
) -> Iterator[Harness]:
    fcm[0].sent.clear()
    with running(
        tmp_path,
        database_url,
        START,
        sms_url=f"twilio://{SID}:secret@127.0.0.1:{carrier.port}?scheme=http",
        fcm_url=fcm[1],
        file_roots=[tmp_path / "roots"],
    ) as harness:
        yield harness


# --- helpers ------------------------------------------------------------------------------


def texts(carrier: HttpPeer) -> list[tuple[str, str]]:
    """(number, body) of each SMS the carrier was given, in order."""
    found = []
    for request in carrier.requests:
        form = parse_qs(request.body.decode())
        found.append((form["To"][0], form["Body"][0]))
    return found


def pushes(fcm: tuple[Google, str]) -> list[tuple[str, str]]:
    """(token, title) of each push FCM was given."""
    found = []
    for sent in fcm[0].sent:
        message = sent["message"]
        found.append((message["token"], message["data"]["pinpoint.notification.title"]))
    return found


def phone(n: int, number: str | None = None) -> dict[str, Any]:
    return person(n, channel="SMS", Address=number or f"+1415555{n:04d}")


def device(n: int) -> dict[str, Any]:
    return person(n, channel="GCM", Address=f"fcm-token-{n}")


def sms_template(h: Harness, name: str, body: str) -> str:
    h.pinpoint.create_sms_template(TemplateName=name, SMSTemplateRequest={"Body": body})
    return name


def push_template(h: Harness, name: str, title: str) -> str:
    h.pinpoint.create_push_template(
        TemplateName=name,
        PushNotificationTemplateRequest={"Default": {"Title": title, "Body": "Open the app"}},
    )
    return name


def message(kind: str, name: str, following: str | None = None) -> dict[str, Any]:
    return {kind: {"TemplateName": name, **({"NextActivity": following} if following else {})}}


# --- SMS and push -------------------------------------------------------------------------


def test_sms_and_push_reach_their_channels_and_others_move_on(
    h: Harness,
    carrier: HttpPeer,
    fcm: tuple[Google, str],
    fcm_key: rsa.RSAPrivateKey,
) -> None:
    app_id, segment_id = h.new_app([person(1), phone(2), device(3)])
    h.pinpoint.update_sms_channel(ApplicationId=app_id, SMSChannelRequest={"Enabled": True})
    h.pinpoint.update_gcm_channel(
        ApplicationId=app_id,
        GCMChannelRequest={
            "ServiceJson": service_json(fcm_key, f"{fcm[1]}/token"),
            "DefaultAuthenticationMethod": "TOKEN",
            "Enabled": True,
        },
    )
    sms_template(h, "code", "Hi {{User.UserAttributes.FirstName}}, your code")
    push_template(h, "sale", "Sale for {{User.UserAttributes.FirstName}}")
    template(h, "bye", "Bye")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "text": message("SMS", "code", "push"),
            "push": message("PUSH", "sale", "mail"),
            "mail": send_email("bye"),
        },
        "text",
    )
    h.tick()
    assert texts(carrier) == [("+14155550002", "Hi N2, your code")]
    assert pushes(fcm) == [("fcm-token-3", "Sale for N3")]
    # Every endpoint went on after an activity that had nothing for its channel.
    assert subjects(h) == {"e1@example.org": ["Bye"]}
    mismatch = {"SUCCESS": "1", "ENDPOINT_CHANNEL_MISMATCH": "2"}
    assert activity_metrics(h, app_id, journey_id, "text") == mismatch
    assert activity_metrics(h, app_id, journey_id, "push") == mismatch
    assert activity_metrics(h, app_id, journey_id, "mail") == mismatch
    assert journey_metrics(h, app_id, journey_id)["ENDPOINT_LEFT"] == "3"


# --- splits -------------------------------------------------------------------------------


def test_multi_condition_takes_each_branch_and_the_else_path(h: Harness) -> None:
    app_id, segment_id = h.new_app(
        [
            person(1, Attributes={"Group": [MEMBERS], "Plan": ["gold"]}),
            person(2, Attributes={"Group": [MEMBERS], "Plan": ["silver"]}),
            person(3, Attributes={"Group": [MEMBERS], "Vip": ["yes"]}),
            person(4),
        ]
    )
    vip = h.pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "vip",
            "Dimensions": {"Attributes": {"Vip": {"Values": ["yes"]}}},
        },
    )["SegmentResponse"]["Id"]
    for name in ("gold", "silver", "vip", "other"):
        template(h, name, name.capitalize())

    def plan_is(value: str) -> dict[str, Any]:
        return {"SegmentDimensions": {"Attributes": {"Plan": {"Values": [value]}}}}

    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "split": {
                "MultiCondition": {
                    "Branches": [
                        {"Condition": plan_is("gold"), "NextActivity": "gold"},
                        {"Condition": plan_is("silver"), "NextActivity": "silver"},
                        {
                            "Condition": {"SegmentCondition": {"SegmentId": vip}},
                            "NextActivity": "vip",
                        },
                    ],
                    "DefaultActivity": "other",
                }
            },
            "gold": send_email("gold"),
            "silver": send_email("silver"),
            "vip": send_email("vip"),
            "other": send_email("other"),
        },
        "split",
    )
    h.tick()
    assert subjects(h) == {
        "e1@example.org": ["Gold"],
        "e2@example.org": ["Silver"],
        "e3@example.org": ["Vip"],
        "e4@example.org": ["Other"],
    }
    assert activity_metrics(h, app_id, journey_id, "split") == {
        "Branch_1": "1",
        "Branch_2": "1",
        "Branch_3": "1",
        "Branch_4": "1",
    }


def event_type(*names: str) -> dict[str, Any]:
    return {"EventType": {"DimensionType": "INCLUSIVE", "Values": list(names)}}


def test_conditional_split_on_a_reported_event_judged_at_the_windows_end(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1), person(2)])
    template(h, "bought", "Thanks for buying")
    template(h, "looking", "Still looking?")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "split": {
                "ConditionalSplit": {
                    "Condition": {
                        "Conditions": [{"EventCondition": {"Dimensions": event_type("purchase")}}]
                    },
                    "EvaluationWaitTime": {"WaitFor": "PT1H"},
                    "TrueActivity": "bought",
                    "FalseActivity": "looking",
                }
            },
            "bought": send_email("bought"),
            "looking": send_email("looking"),
        },
        "split",
    )
    h.tick()
    h.advance(minutes=30)
    h.put_event(app_id, "e1", "p1", "purchase")
    h.put_event(app_id, "e2", "b1", "browse")
    h.advance(minutes=29, seconds=59)
    assert h.mails() == []
    h.advance(seconds=1)
    assert subjects(h) == {
        "e1@example.org": ["Thanks for buying"],
        "e2@example.org": ["Still looking?"],
    }
    assert activity_metrics(h, app_id, journey_id, "split") == {"Branch_1": "1", "Branch_2": "1"}


def click_mail(h: Harness, recipient: str) -> None:
    """The recipient follows the link in the e-mail it got."""
    for received in h.sink.received:
        if received.rcpt_tos == [recipient]:
            html = received.message().get_body(("html",)).get_content()  # type: ignore[union-attr]
            token = re.search(r"/t/c/([^\"'?&]+)", html)
            assert token, html
            assert h.core.engagement.clicked(token.group(1)) == "https://shop.example.com/sale"
            return
    raise AssertionError(f"no mail for {recipient}")


def test_split_on_an_email_click(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 4)])
    h.pinpoint.create_email_template(
        TemplateName="offer",
        EmailTemplateRequest={
            "Subject": "Offer",
            "HtmlPart": '<p><a href="https://shop.example.com/sale">Sale</a></p>',
        },
    )
    template(h, "clicked", "You clicked")
    template(h, "ignored", "You did not click")
    clicked = {
        "Conditions": [
            {
                "EventCondition": {
                    "Dimensions": event_type("_email.click"),
                    "MessageActivity": "offer",
                }
            }
        ]
    }
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "offer": send_email("offer", "split"),
            "split": {
                "ConditionalSplit": {
                    "Condition": clicked,
                    "EvaluationWaitTime": {"WaitFor": "PT2H"},
                    "TrueActivity": "clicked",
                    "FalseActivity": "ignored",
                }
            },
            "clicked": send_email("clicked"),
            "ignored": send_email("ignored"),
        },
        "offer",
    )
    h.tick()
    click_mail(h, "e2@example.org")
    h.advance(hours=2)
    got = subjects(h)
    assert got["e2@example.org"] == ["Offer", "You clicked"]
    assert got["e1@example.org"] == got["e3@example.org"] == ["Offer", "You did not click"]
    assert activity_metrics(h, app_id, journey_id, "split") == {"Branch_1": "1", "Branch_2": "2"}


# --- waits --------------------------------------------------------------------------------


def test_wait_until_a_moment_and_a_wait_to_the_second(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1)])
    template(h, "one", "One")
    template(h, "two", "Two")
    template(h, "three", "Three")
    until = START + timedelta(hours=2)
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "one": send_email("one", "short"),
            "short": {"Wait": {"WaitTime": {"WaitFor": "PT90S"}, "NextActivity": "two"}},
            "two": send_email("two", "until"),
            "until": {"Wait": {"WaitTime": {"WaitUntil": stamp(until)}, "NextActivity": "three"}},
            "three": send_email("three"),
        },
        "one",
    )
    h.tick()
    h.advance(seconds=89)
    assert subjects(h) == {"e1@example.org": ["One"]}
    h.advance(seconds=1)
    assert subjects(h) == {"e1@example.org": ["One", "Two"]}
    h.at(until - timedelta(seconds=1))
    assert subjects(h) == {"e1@example.org": ["One", "Two"]}
    assert activity_metrics(h, app_id, journey_id, "until") == {"STARTED": "1", "WAITING": "1"}
    h.at(until)
    assert subjects(h) == {"e1@example.org": ["One", "Two", "Three"]}
    assert activity_metrics(h, app_id, journey_id, "until") == {"STARTED": "1", "COMPLETED": "1"}


# --- entry --------------------------------------------------------------------------------


def runs(h: Harness, app_id: str, journey_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = h.pinpoint.get_journey_runs(
        ApplicationId=app_id, JourneyId=journey_id
    )["JourneyRunsResponse"]["Item"]
    return found


def test_refresh_frequency_enters_new_members_and_not_earlier_ones(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1), person(2)])
    template(h, "hello", "Hello")
    journey_id = journey(
        h, app_id, segment_id, {"hello": send_email("hello")}, "hello", RefreshFrequency="PT1H"
    )
    h.tick()
    assert h.recipients() == ["e1@example.org", "e2@example.org"]
    h.pinpoint.update_endpoints_batch(
        ApplicationId=app_id, EndpointBatchRequest={"Item": [person(3), person(4, group="other")]}
    )
    h.advance(minutes=59)
    assert len(h.mails()) == 2
    h.advance(minutes=1)
    assert h.recipients() == ["e1@example.org", "e2@example.org", "e3@example.org"]
    h.advance(hours=1)
    assert len(h.mails()) == 3
    h.tick()  # a run that found nobody new is closed at the engine's next step
    assert [run["Status"] for run in runs(h, app_id, journey_id)] == ["COMPLETED"] * 3
    assert journey_metrics(h, app_id, journey_id)["ENDPOINT_ENTERED"] == "3"
    assert state(h, app_id, journey_id) == "ACTIVE"


def import_endpoints(h: Harness, app_id: str, name: str, numbers: range, **request: Any) -> str:
    """Import e-mail endpoints e<n> from a CSV file; the import's segment id."""
    folder = h.core.settings.file_roots[0] / app_id
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["Id,ChannelType,Address,User.UserId"]
    lines += [f"e{n},EMAIL,e{n}@example.org,u{n}" for n in numbers]
    path = folder / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n")
    job = h.pinpoint.create_import_job(
        ApplicationId=app_id,
        ImportJobRequest={"Format": "CSV", "S3Url": path.as_uri(), "RoleArn": ROLE, **request},
    )["ImportJobResponse"]
    assert h.core.jobs.work() == 1
    done = h.pinpoint.get_import_job(ApplicationId=app_id, JobId=job["Id"])["ImportJobResponse"]
    assert done["JobStatus"] == "COMPLETED", done
    segment: str = done["Definition"]["SegmentId"]
    return segment


def test_refresh_on_segment_update_enters_what_an_import_adds(h: Harness) -> None:
    app_id, _ = h.new_app([])
    template(h, "hello", "Hello")
    imported = import_endpoints(
        h, app_id, "first", range(1, 3), DefineSegment=True, SegmentName="imported"
    )
    journey_id = journey(
        h, app_id, imported, {"hello": send_email("hello")}, "hello", RefreshOnSegmentUpdate=True
    )
    h.tick()
    assert h.recipients() == ["e1@example.org", "e2@example.org"]
    h.advance(hours=1)
    assert len(h.mails()) == 2
    import_endpoints(h, app_id, "second", range(2, 5), SegmentId=imported)
    h.tick()
    assert h.recipients() == [f"e{n}@example.org" for n in (1, 2, 3, 4)]
    assert len(runs(h, app_id, journey_id)) == 2
    assert journey_metrics(h, app_id, journey_id)["ENDPOINT_ENTERED"] == "4"


def test_nobody_enters_before_a_future_start_time(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1), person(2)])
    template(h, "hello", "Hello")
    start = START + timedelta(hours=3)
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {"hello": send_email("hello")},
        "hello",
        Schedule={"StartTime": stamp(start)},
    )
    h.tick()
    h.at(start - timedelta(seconds=1))
    assert h.mails() == []
    assert runs(h, app_id, journey_id) == []
    assert "ENDPOINT_ENTERED" not in journey_metrics(h, app_id, journey_id)
    h.at(start)
    assert h.recipients() == ["e1@example.org", "e2@example.org"]


def event_journey(
    h: Harness,
    app_id: str,
    activities: dict[str, Any],
    start: str,
    event_filter: dict[str, Any],
    segment_id: str | None = None,
    **members: Any,
) -> str:
    condition = {"EventFilter": event_filter, **({"SegmentId": segment_id} if segment_id else {})}
    request = {
        "Name": "events",
        "Activities": activities,
        "StartActivity": start,
        "StartCondition": {"EventStartCondition": condition},
        "State": "ACTIVE",
        **members,
    }
    created = h.pinpoint.create_journey(ApplicationId=app_id, WriteJourneyRequest=request)
    journey_id: str = created["JourneyResponse"]["Id"]
    return journey_id


def on(*types: str, filter_type: str = "ENDPOINT") -> dict[str, Any]:
    return {"FilterType": filter_type, "Dimensions": event_type(*types)}


def test_endpoint_reentry_interval(h: Harness) -> None:
    app_id, _ = h.new_app([person(1)])
    template(h, "receipt", "Receipt")
    journey_id = event_journey(
        h,
        app_id,
        {"receipt": send_email("receipt")},
        "receipt",
        on("purchase"),
        Limits={"EndpointReentryCap": 0, "EndpointReentryInterval": "PT1H"},
    )
    h.tick()
    h.put_event(app_id, "e1", "p1", "purchase")
    h.tick()
    h.advance(minutes=59, seconds=59)
    h.put_event(app_id, "e1", "p2", "purchase")
    h.tick()
    assert len(h.mails()) == 1
    h.advance(seconds=1)
    h.put_event(app_id, "e1", "p3", "purchase")
    h.tick()
    assert subjects(h) == {"e1@example.org": ["Receipt", "Receipt"]}
    metrics = journey_metrics(h, app_id, journey_id)
    assert (metrics["ENDPOINT_ENTERED"], metrics["REENTRY_CAP_EXCEEDED"]) == ("2", "1")


def test_system_event_filter_starts_on_pinpoints_own_events(h: Harness) -> None:
    app_id, _ = h.new_app([person(1), person(2)])
    template(h, "welcome", "Welcome back")
    journey_id = event_journey(
        h,
        app_id,
        {"welcome": send_email("welcome")},
        "welcome",
        on("_session.start", "signup", filter_type="SYSTEM"),
    )
    h.tick()
    h.put_event(app_id, "e1", "s1", "_session.start", session="session-1")
    h.put_event(app_id, "e2", "s2", "signup")
    h.tick()
    assert subjects(h) == {"e1@example.org": ["Welcome back"]}
    assert journey_metrics(h, app_id, journey_id)["ENDPOINT_ENTERED"] == "1"


def test_an_event_while_paused_is_counted_paused_and_enters_nobody(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1), person(2, group="other")])
    template(h, "receipt", "Receipt")
    journey_id = event_journey(
        h,
        app_id,
        {"receipt": send_email("receipt")},
        "receipt",
        on("purchase"),
        Limits={"EndpointReentryCap": 0},
        segment_id=segment_id,
    )
    h.tick()
    set_state(h, app_id, journey_id, "PAUSED")
    h.put_event(app_id, "e1", "p1", "purchase")
    h.tick()
    set_state(h, app_id, journey_id, "ACTIVE")
    h.tick()
    assert h.mails() == []
    metrics = journey_metrics(h, app_id, journey_id)
    assert metrics["PAUSED"] == "1" and "ENDPOINT_ENTERED" not in metrics
    [run] = runs(h, app_id, journey_id)
    by_run = h.pinpoint.get_journey_run_execution_metrics(
        ApplicationId=app_id, JourneyId=journey_id, RunId=run["RunId"]
    )["JourneyRunExecutionMetricsResponse"]["Metrics"]
    assert by_run == {"ENDPOINT_PRODUCED": "1", "PAUSED": "1"}
    h.put_event(app_id, "e1", "p2", "purchase")
    h.put_event(app_id, "e2", "p3", "purchase")
    h.tick()
    assert subjects(h) == {"e1@example.org": ["Receipt"]}
    metrics = journey_metrics(h, app_id, journey_id)
    assert (metrics["ENDPOINT_ENTERED"], metrics["FILTERED_OUT_BY_SEGMENT"]) == ("1", "1")


def set_state(h: Harness, app_id: str, journey_id: str, value: str) -> None:
    h.pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": value}
    )


# --- caps ---------------------------------------------------------------------------------


def test_total_cap_skips_messages_and_the_participant_goes_on(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1)])
    for name in ("one", "two", "three", "four"):
        template(h, name, name.capitalize())
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "one": send_email("one", "two"),
            "two": send_email("two", "wait"),
            "wait": {"Wait": {"WaitTime": {"WaitFor": "P2D"}, "NextActivity": "three"}},
            "three": send_email("three", "four"),
            "four": send_email("four"),
        },
        "one",
        Limits={"TotalCap": 3},
    )
    h.tick()
    h.advance(days=2)
    assert subjects(h) == {"e1@example.org": ["One", "Two", "Three"]}
    assert activity_metrics(h, app_id, journey_id, "four") == {"TOTAL_CAP": "1"}
    assert journey_metrics(h, app_id, journey_id)["ENDPOINT_LEFT"] == "1"


def test_timeframe_cap_counts_the_last_days(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1)])
    for name in ("one", "two", "three"):
        template(h, name, name.capitalize())
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "one": send_email("one", "two"),
            "two": send_email("two", "wait"),
            "wait": {"Wait": {"WaitTime": {"WaitFor": "P1DT1M"}, "NextActivity": "three"}},
            "three": send_email("three"),
        },
        "one",
        Limits={"TimeframeCap": {"Days": 1, "Cap": 1}},
    )
    h.tick()
    assert subjects(h) == {"e1@example.org": ["One"]}
    assert activity_metrics(h, app_id, journey_id, "two") == {"TIMEFRAME_CAP": "1"}
    h.advance(days=1, minutes=1)
    assert subjects(h) == {"e1@example.org": ["One", "Three"]}


def test_daily_cap_comes_from_the_apps_journey_limits(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1)], JourneyLimits={"DailyCap": 1})
    for name in ("one", "two", "three"):
        template(h, name, name.capitalize())
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {
            "one": send_email("one", "two"),
            "two": send_email("two", "wait"),
            "wait": {"Wait": {"WaitTime": {"WaitFor": "P1DT1S"}, "NextActivity": "three"}},
            "three": send_email("three"),
        },
        "one",
    )
    h.tick()
    h.advance(days=1, seconds=1)
    assert subjects(h) == {"e1@example.org": ["One", "Three"]}
    assert activity_metrics(h, app_id, journey_id, "two") == {"DAILY_CAP": "1"}


def test_messages_per_second_holds_messages_and_loses_none(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 6)])
    template(h, "hello", "Hello")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        {"hello": send_email("hello")},
        "hello",
        Limits={"MessagesPerSecond": 2},
    )
    h.tick()
    sent = [len(h.mails())]
    for _ in range(3):
        h.advance(seconds=1)
        sent.append(len(h.mails()))
    assert sent == [2, 4, 5, 5]
    assert sorted(h.recipients()) == [f"e{n}@example.org" for n in range(1, 6)]
    assert activity_metrics(h, app_id, journey_id, "hello") == {"SUCCESS": "5"}


# --- quiet time, open hours, local time -----------------------------------------------------


def test_quiet_time_without_waiting_skips_the_message(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1, "Asia/Seoul"), person(2, "Europe/London")])
    template(h, "one", "One")
    template(h, "two", "Two")
    # 10:00 UTC is 19:00 in Seoul (quiet from 18:00 through 08:00) and 10:00 in London.
    journey_id = journey(
        h,
        app_id,
        segment_id,
        one_wait_two("PT14H"),
        "one",
        QuietTime={"Start": "18:00", "End": "08:00"},
    )
    h.tick()
    assert subjects(h) == {"e2@example.org": ["One"]}
    assert activity_metrics(h, app_id, journey_id, "one") == {"SUCCESS": "1", "QUIET_TIME": "1"}
    # 14 hours later it is 09:00 in Seoul and 00:00 in London.
    h.advance(hours=14)
    assert subjects(h) == {"e1@example.org": ["Two"], "e2@example.org": ["One"]}
    assert activity_metrics(h, app_id, journey_id, "two") == {"SUCCESS": "1", "QUIET_TIME": "1"}
    assert journey_metrics(h, app_id, journey_id)["ENDPOINT_LEFT"] == "2"


OFFICE_HOURS = {
    "EMAIL": {
        day: [{"StartTime": "09:00", "EndTime": "17:00"}]
        for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
    }
}


def test_open_hours_hold_messages_when_waiting_for_quiet_time(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1, "Europe/London"), person(2, "America/New_York")])
    template(h, "hello", "Hello")
    journey(
        h,
        app_id,
        segment_id,
        {"hello": send_email("hello")},
        "hello",
        SendingSchedule=True,
        OpenHours=OFFICE_HOURS,
        WaitForQuietTime=True,
    )
    # Monday 10:00 UTC: 10:00 in London, 05:00 in New York, which opens at 14:00 UTC.
    h.tick()
    assert h.recipients() == ["e1@example.org"]
    h.at(START.replace(hour=13, minute=59))
    assert h.recipients() == ["e1@example.org"]
    h.at(START.replace(hour=14))
    assert h.recipients() == ["e1@example.org", "e2@example.org"]


def test_closed_days_skip_messages_when_not_waiting(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1, "Europe/London"), person(2, "America/New_York")])
    template(h, "one", "One")
    template(h, "two", "Two")
    holiday = {
        "Name": "holiday",
        "StartDateTime": stamp(START - timedelta(hours=1)),
        "EndDateTime": stamp(START + timedelta(hours=1)),
    }
    journey_id = journey(
        h,
        app_id,
        segment_id,
        one_wait_two("PT5H"),
        "one",
        SendingSchedule=True,
        OpenHours=OFFICE_HOURS,
        ClosedDays={"EMAIL": [holiday]},
    )
    # Monday 10:00 UTC: London is in the closed period, New York (05:00) outside its hours;
    # neither waits, so both messages are skipped and both participants go on.
    h.tick()
    assert h.mails() == []
    assert activity_metrics(h, app_id, journey_id, "one") == {"CLOSED_HOURS": "2"}
    # 15:00 UTC: 15:00 in London and 10:00 in New York, both open.
    h.advance(hours=5)
    assert subjects(h) == {"e1@example.org": ["Two"], "e2@example.org": ["Two"]}


def test_local_time_starts_each_endpoint_at_its_own_clock(h: Harness) -> None:
    app_id, segment_id = h.new_app(
        [
            person(1, "Asia/Tokyo"),
            person(2, "Europe/London"),
            person(3, "America/New_York"),
            person(4),
        ]
    )
    template(h, "morning", "Good morning")
    nine = START.replace(day=5, hour=9)  # Tuesday 09:00, read as each endpoint's wall clock
    journey(
        h,
        app_id,
        segment_id,
        {"morning": send_email("morning")},
        "morning",
        LocalTime=True,
        Schedule={"StartTime": stamp(nine), "Timezone": "UTC"},
    )
    for moment, expected in [
        (START, []),
        (nine - timedelta(hours=9, seconds=1), []),
        (nine - timedelta(hours=9), [1]),
        (nine - timedelta(seconds=1), [1]),
        (nine, [1, 2, 4]),
        (nine + timedelta(hours=5, seconds=-1), [1, 2, 4]),
        (nine + timedelta(hours=5), [1, 2, 3, 4]),
    ]:
        h.at(moment)
        assert h.recipients() == [f"e{n}@example.org" for n in expected], moment


def test_phone_number_estimates_the_zone_of_an_sms_endpoint(h: Harness, carrier: HttpPeer) -> None:
    app_id, segment_id = h.new_app([phone(1, "+81312345678"), phone(2, "+442079460000")])
    h.pinpoint.update_sms_channel(ApplicationId=app_id, SMSChannelRequest={"Enabled": True})
    sms_template(h, "hello", "Hello")
    # 10:00 UTC is 19:00 in Tokyo, inside the quiet time through 08:00 (23:00 UTC), and
    # 10:00 in London.
    journey(
        h,
        app_id,
        segment_id,
        {"hello": message("SMS", "hello")},
        "hello",
        QuietTime={"Start": "18:00", "End": "08:00"},
        WaitForQuietTime=True,
        TimezoneEstimationMethods=["PHONE_NUMBER"],
    )
    h.tick()
    assert texts(carrier) == [("+442079460000", "Hello")]
    h.at(START.replace(hour=23))
    assert len(carrier.requests) == 1
    h.at(START.replace(hour=23, minute=1))
    assert texts(carrier) == [("+442079460000", "Hello"), ("+81312345678", "Hello")]


# --- metrics and the operations around them -------------------------------------------------


def journey_kpi(h: Harness, app_id: str, journey_id: str, name: str) -> dict[str | None, float]:
    response = h.pinpoint.get_journey_date_range_kpi(
        ApplicationId=app_id,
        JourneyId=journey_id,
        KpiName=name,
        StartTime=START,
        EndTime=h.clock(),
    )
    found = rows(response, "JourneyDateRangeKpiResponse")
    return {group: float(value) for group, value in found.items()}


def test_metrics_equal_what_the_sinks_received(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 4)] + [phone(4)])
    template(h, "welcome", "Welcome")
    template(h, "more", "More news")
    with HttpPeer(Answer(200, b"{}")) as hook:
        journey_id = journey(
            h,
            app_id,
            segment_id,
            {
                "welcome": send_email("welcome", "hook"),
                "hook": {
                    "CUSTOM": {
                        "DeliveryUri": hook.url + "/custom",
                        "EndpointTypes": ["EMAIL"],
                        "NextActivity": "wait",
                    }
                },
                "wait": {"Wait": {"WaitTime": {"WaitFor": "PT1H"}, "NextActivity": "more"}},
                "more": send_email("more"),
            },
            "welcome",
        )
        h.tick()
        open_mail(h, "e1@example.org")
        open_mail(h, "e3@example.org")
        h.advance(hours=1)
        hooked = [key for request in hook.requests for key in json.loads(request.body)["Endpoints"]]
    mails = [mail.subject for mail in h.mails()]
    assert (mails.count("Welcome"), mails.count("More news"), sorted(hooked)) == (
        3,
        3,
        ["e1", "e2", "e3"],
    )
    expected = {
        "welcome": {"SUCCESS": "3", "ENDPOINT_CHANNEL_MISMATCH": "1"},
        "hook": {"SUCCESS": "3", "ENDPOINT_CHANNEL_MISMATCH": "1"},
        "wait": {"STARTED": "4", "COMPLETED": "4"},
        "more": {"SUCCESS": "3", "ENDPOINT_CHANNEL_MISMATCH": "1"},
    }
    [run] = runs(h, app_id, journey_id)
    for activity_id, metrics in expected.items():
        assert activity_metrics(h, app_id, journey_id, activity_id) == metrics, activity_id
        by_run = h.pinpoint.get_journey_run_execution_activity_metrics(
            ApplicationId=app_id,
            JourneyId=journey_id,
            RunId=run["RunId"],
            JourneyActivityId=activity_id,
        )["JourneyRunExecutionActivityMetricsResponse"]
        assert (by_run["RunId"], by_run["Metrics"]) == (run["RunId"], metrics), activity_id
    assert journey_kpi(h, app_id, journey_id, "journey-emails-sent") == {None: 6.0}
    assert journey_kpi(h, app_id, journey_id, "journey-emails-opened") == {None: 2.0}
    assert journey_kpi(h, app_id, journey_id, "emails-sent-grouped-by-journey-activity") == {
        "welcome": 3.0,
        "more": 3.0,
    }
    assert journey_kpi(h, app_id, journey_id, "emails-opened-grouped-by-journey-activity") == {
        "welcome": 2.0
    }


def draft(name: str, segment_id: str, activities: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Name": name,
        "Activities": activities or {"hello": send_email("hello")},
        "StartActivity": "hello",
        "StartCondition": {"SegmentStartCondition": {"SegmentId": segment_id}},
    }


def test_list_journeys_pages(h: Harness) -> None:
    app_id, segment_id = h.new_app([])
    template(h, "hello", "Hello")
    made = [
        h.pinpoint.create_journey(
            ApplicationId=app_id, WriteJourneyRequest=draft(f"j{n}", segment_id)
        )["JourneyResponse"]["Id"]
        for n in range(3)
    ]
    first = h.pinpoint.list_journeys(ApplicationId=app_id, PageSize="2")["JourneysResponse"]
    assert [j["Name"] for j in first["Item"]] == ["j0", "j1"]
    second = h.pinpoint.list_journeys(ApplicationId=app_id, PageSize="2", Token=first["NextToken"])[
        "JourneysResponse"
    ]
    assert [j["Id"] for j in second["Item"]] == made[2:]
    assert "NextToken" not in second


def not_found(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert response["Error"]["Code"] == "NotFoundException"
    message: str = response["Error"]["Message"]
    return message


def test_delete_journey_removes_its_runs_and_participants(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1), person(2)])
    template(h, "one", "One")
    template(h, "two", "Two")
    journey_id = journey(
        h,
        app_id,
        segment_id,
        one_wait_two("PT1H"),
        "one",
    )
    h.tick()
    deleted = h.pinpoint.delete_journey(ApplicationId=app_id, JourneyId=journey_id)
    assert deleted["JourneyResponse"]["Id"] == journey_id
    h.advance(hours=2)
    assert len(h.mails()) == 2
    not_found(h.pinpoint.get_journey, ApplicationId=app_id, JourneyId=journey_id)
    not_found(h.pinpoint.get_journey_runs, ApplicationId=app_id, JourneyId=journey_id)
    with h.core.db.read() as conn:
        for table in (journey_runs, journey_participants, journey_counters):
            left = conn.execute(
                sa.select(sa.func.count()).where(table.c.journey_id == journey_id)
            ).scalar_one()
            assert left == 0, table.name


def test_unknown_journeys_and_activities_are_not_found(h: Harness) -> None:
    app_id, segment_id = h.new_app([])
    template(h, "hello", "Hello")
    journey_id = h.pinpoint.create_journey(
        ApplicationId=app_id, WriteJourneyRequest=draft("j", segment_id)
    )["JourneyResponse"]["Id"]
    unknown = "0" * 32
    assert unknown in not_found(h.pinpoint.get_journey, ApplicationId=app_id, JourneyId=unknown)
    assert "nothere" in not_found(
        h.pinpoint.get_journey_execution_activity_metrics,
        ApplicationId=app_id,
        JourneyId=journey_id,
        JourneyActivityId="nothere",
    )
    not_found(
        h.pinpoint.get_journey_run_execution_metrics,
        ApplicationId=app_id,
        JourneyId=journey_id,
        RunId=unknown,
    )


# --- bad input ----------------------------------------------------------------------------


def refused(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    assert response["Error"]["Code"] == "BadRequestException"
    message: str = response["Error"]["Message"]
    return message


def test_bad_journeys_are_refused_naming_the_member_and_nothing_is_stored(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(1)])
    template(h, "hello", "Hello")
    good = {"hello": send_email("hello")}
    cases: list[tuple[dict[str, Any], str]] = [
        (
            draft(
                "cycle",
                segment_id,
                {
                    "hello": send_email("hello", "wait"),
                    "wait": {"Wait": {"WaitTime": {"WaitFor": "PT1H"}, "NextActivity": "hello"}},
                },
            ),
            "Activities.wait.Wait.NextActivity",
        ),
        (
            draft(
                "percent",
                segment_id,
                {
                    "hello": {
                        "RandomSplit": {
                            "Branches": [{"Percentage": 50}, {"Percentage": 40}],
                        }
                    }
                },
            ),
            "Activities.hello.RandomSplit.Branches",
        ),
        (
            draft("template", segment_id, {"hello": send_email("missing")}),
            "Activities.hello.EMAIL.TemplateName",
        ),
        (draft("segment", "0" * 32, good), "SegmentStartCondition.SegmentId"),
        (
            draft(
                "lambda",
                segment_id,
                {
                    "hello": {
                        "CUSTOM": {
                            "DeliveryUri": "arn:aws:lambda:us-east-1:123456789012:function:f"
                        }
                    }
                },
            ),
            "Activities.hello.CUSTOM.DeliveryUri",
        ),
        (
            draft(
                "waitfor",
                segment_id,
                {"hello": {"Wait": {"WaitTime": {"WaitFor": "one hour"}}}},
            ),
            "Activities.hello.Wait.WaitTime.WaitFor",
        ),
        (
            draft("months", segment_id, {"hello": {"Wait": {"WaitTime": {"WaitFor": "P1M"}}}}),
            "Activities.hello.Wait.WaitTime.WaitFor",
        ),
    ]
    for request, member in cases:
        message = refused(
            h.pinpoint.create_journey, ApplicationId=app_id, WriteJourneyRequest=request
        )
        assert member in message, (request["Name"], message)
    assert h.pinpoint.list_journeys(ApplicationId=app_id)["JourneysResponse"]["Item"] == []


def test_a_published_journey_keeps_its_activities_and_no_client_completes_it(
    h: Harness,
) -> None:
    app_id, segment_id = h.new_app([person(1)])
    template(h, "hello", "Hello")
    template(h, "other", "Other")
    journey_id = journey(h, app_id, segment_id, {"hello": send_email("hello")}, "hello")
    before = h.pinpoint.get_journey(ApplicationId=app_id, JourneyId=journey_id)["JourneyResponse"]
    changed = {**draft("journey", segment_id, {"hello": send_email("other")}), "State": "ACTIVE"}
    message = refused(
        h.pinpoint.update_journey,
        ApplicationId=app_id,
        JourneyId=journey_id,
        WriteJourneyRequest=changed,
    )
    assert "WriteJourneyRequest.Activities" in message
    message = refused(
        h.pinpoint.update_journey_state,
        ApplicationId=app_id,
        JourneyId=journey_id,
        JourneyStateRequest={"State": "COMPLETED"},
    )
    assert "JourneyStateRequest.State" in message
    after = h.pinpoint.get_journey(ApplicationId=app_id, JourneyId=journey_id)["JourneyResponse"]
    assert after == before
    h.tick()
    assert subjects(h) == {"e1@example.org": ["Hello"]}


# --- Clarion's own routes -------------------------------------------------------------------


def native(h: Harness, method: str, path: str, body: Any = None, *, sign: bool = True) -> Any:
    """A request to one of Clarion's own routes, signed as botocore signs (on the harness
    clock); the httpx response."""
    data = b"" if body is None else json.dumps(body).encode()
    request = AWSRequest(
        method=method, url=h.url + path, data=data, headers={"Content-Type": "application/json"}
    )
    if sign:
        SigV4Auth(Credentials(*h.key), "mobiletargeting", "us-east-1").add_auth(request)
    prepared = request.prepare()
    return httpx.request(method, prepared.url, headers=dict(prepared.headers), content=data)


def test_simulate_over_http_must_be_signed(h: Harness) -> None:
    app_id, segment_id = h.new_app([person(n) for n in range(1, 5)])
    template(h, "hello", "Hello")
    journey_id = h.pinpoint.create_journey(
        ApplicationId=app_id,
        WriteJourneyRequest=draft(
            "draft",
            segment_id,
            {
                "hello": send_email("hello", "wait"),
                "wait": {"Wait": {"WaitTime": {"WaitFor": "PT90S"}, "NextActivity": "bye"}},
                "bye": send_email("hello"),
            },
        ),
    )["JourneyResponse"]["Id"]
    path = f"/clarion/v1/apps/{app_id}/journeys/{journey_id}/simulate"
    assert native(h, "POST", path, sign=False).status_code == 403
    response = native(h, "POST", path)
    assert response.status_code == 200, response.text
    shape = response.json()
    assert shape["Entering"] == 4
    assert shape["Activities"]["bye"]["Endpoints"] == 4
    assert shape["Activities"]["bye"]["Earliest"] == "2027-01-04T10:01:30.000Z"
    unknown = native(h, "POST", f"/clarion/v1/apps/{app_id}/journeys/{'0' * 32}/simulate")
    assert unknown.status_code == 404
    h.tick()
    assert h.mails() == []
    assert state(h, app_id, journey_id) == "DRAFT"


def test_contact_center_web_hook_is_set_read_and_checked(h: Harness) -> None:
    app_id, _ = h.new_app([])
    path = f"/clarion/v1/apps/{app_id}/contact-center"
    assert native(h, "GET", path).json() == {}
    assert native(h, "PUT", path, {"WebUrl": "not a url"}).status_code == 400
    assert native(h, "PUT", path, {"WebUrl": "http://169.254.169.254/"}).status_code == 400
    assert native(h, "PUT", path, {"Url": "https://example.com"}).status_code == 400
    assert (
        native(h, "PUT", path, {"WebUrl": "http://127.0.0.1:9/agents"}, sign=False).status_code
        == 403
    )
    # Loopback passes only because the tests allow it (CLARION_OUTBOUND_ALLOW).
    put = native(h, "PUT", path, {"WebUrl": "http://127.0.0.1:9/agents"})
    assert (put.status_code, put.json()) == (200, {"WebUrl": "http://127.0.0.1:9/agents"})
    assert native(h, "GET", path).json() == {"WebUrl": "http://127.0.0.1:9/agents"}
    settings = h.pinpoint.get_application_settings(ApplicationId=app_id)
    assert "WebUrl" not in json.dumps(settings["ApplicationSettingsResource"])
    assert native(h, "PUT", path, {"WebUrl": None}).json() == {}
    assert native(h, "GET", path).json() == {}
