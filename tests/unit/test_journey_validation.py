"""Journey validation: a WriteJourneyRequest checked whole as Pinpoint checks it, the ISO 8601
durations and times it carries, and the journey states UpdateJourney and UpdateJourneyState
may move between."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.errors import BadRequest
from clarion.journeys.validation import (
    MAX_ACTIVITIES,
    check_active_update,
    may_update,
    parse_duration,
    parse_timestamp,
    state_change,
    validate_journey,
)

SEGMENTS = {"seg1", "seg2"}
TEMPLATES = {
    ("Welcome", "EMAIL"),
    ("Reminder", "EMAIL"),
    ("Nudge", "SMS"),
    ("Ping", "PUSH"),
    ("Banner", "INAPP"),
}
DROP = object()
"""A change that removes the member."""


def check(request: Any, path: str = "WriteJourneyRequest") -> None:
    validate_journey(
        request,
        segment_exists=SEGMENTS.__contains__,
        template_exists=lambda name, kind: (name, kind) in TEMPLATES,
        path=path,
    )


def refused(request: Any, path: str = "WriteJourneyRequest") -> str:
    with pytest.raises(BadRequest) as caught:
        check(request, path)
    return caught.value.message


def onboarding() -> dict[str, Any]:
    """A realistic journey: e-mail, wait two days, split on whether that first e-mail was
    opened, and remind those who did not open it."""
    return {
        "Name": "onboarding",
        "State": "ACTIVE",
        "StartActivity": "welcome",
        "StartCondition": {
            "Description": "New sign-ups",
            "SegmentStartCondition": {"SegmentId": "seg1"},
        },
        "Schedule": {
            "StartTime": "2026-06-01T09:00:00Z",
            "EndTime": "2026-12-31T00:00:00Z",
            "Timezone": "America/New_York",
        },
        "Limits": {
            "DailyCap": 3,
            "TotalCap": 10,
            "EndpointReentryCap": 2,
            "EndpointReentryInterval": "P7D",
            "MessagesPerSecond": 50,
            "TimeframeCap": {"Days": 7, "Cap": 5},
        },
        "QuietTime": {"Start": "22:00", "End": "07:00"},
        "WaitForQuietTime": True,
        "RefreshFrequency": "PT1H",
        "RefreshOnSegmentUpdate": False,
        "LocalTime": True,
        "TimezoneEstimationMethods": ["PHONE_NUMBER", "POSTAL_CODE"],
        "SendingSchedule": True,
        "OpenHours": {
            "EMAIL": {
                "MONDAY": [
                    {"StartTime": "08:00", "EndTime": "12:00"},
                    {"StartTime": "13:00", "EndTime": "20:00"},
                ]
            }
        },
        "ClosedDays": {
            "EMAIL": [
                {
                    "Name": "New year",
                    "StartDateTime": "2026-12-31T20:00:00",
                    "EndDateTime": "2027-01-02T08:00:00",
                }
            ]
        },
        "Activities": {
            "welcome": {
                "Description": "Welcome e-mail",
                "EMAIL": {
                    "TemplateName": "Welcome",
                    "TemplateVersion": "2",
                    "MessageConfig": {"FromAddress": "Clarion <hello@example.com>"},
                    "NextActivity": "pause",
                },
            },
            "pause": {"Wait": {"WaitTime": {"WaitFor": "P2D"}, "NextActivity": "opened"}},
            "opened": {
                "ConditionalSplit": {
                    "Condition": {
                        "Operator": "ANY",
                        "Conditions": [
                            {
                                "EventCondition": {
                                    "MessageActivity": "welcome",
                                    "Dimensions": {
                                        "EventType": {
                                            "DimensionType": "INCLUSIVE",
                                            "Values": ["_email.open"],
                                        }
                                    },
                                }
                            }
                        ],
                    },
                    "EvaluationWaitTime": {"WaitFor": "PT1H"},
                    "FalseActivity": "reminder",
                }
            },
            "reminder": {"EMAIL": {"TemplateName": "Reminder"}},
        },
    }


def every_kind() -> dict[str, Any]:
    """A journey with one activity of every kind, started by an event."""
    return {
        "Name": "every kind",
        "State": "ACTIVE",
        "StartActivity": "split",
        "StartCondition": {
            "EventStartCondition": {
                "EventFilter": {
                    "FilterType": "SYSTEM",
                    "Dimensions": {
                        "EventType": {"Values": ["_session.start"]},
                        "Attributes": {"plan": {"AttributeType": "EXCLUSIVE", "Values": ["free"]}},
                        "Metrics": {"spent": {"ComparisonOperator": "GREATER_THAN", "Value": 5}},
                    },
                },
                "SegmentId": "seg2",
            }
        },
        "Activities": {
            "split": {
                "RandomSplit": {
                    "Branches": [
                        {"Percentage": 50, "NextActivity": "sms"},
                        {"Percentage": 30, "NextActivity": "push"},
                        {"Percentage": 20, "NextActivity": "holdout"},
                    ]
                }
            },
            "sms": {
                "SMS": {
                    "TemplateName": "Nudge",
                    "MessageConfig": {"MessageType": "PROMOTIONAL", "SenderId": "Clarion"},
                    "NextActivity": "hook",
                }
            },
            "push": {
                "PUSH": {
                    "TemplateName": "Ping",
                    "MessageConfig": {"TimeToLive": "3600"},
                    "NextActivity": "hook",
                }
            },
            "holdout": {"Holdout": {"Percentage": 10, "NextActivity": "hook"}},
            "hook": {
                "CUSTOM": {
                    "DeliveryUri": "https://hooks.example.com/journey",
                    "EndpointTypes": ["CUSTOM", "EMAIL"],
                    "MessageConfig": {"Data": '{"offer": "spring"}'},
                    "NextActivity": "later",
                }
            },
            "later": {
                "Wait": {"WaitTime": {"WaitUntil": "2026-07-01T00:00:00Z"}, "NextActivity": "multi"}
            },
            "multi": {
                "MultiCondition": {
                    "Branches": [
                        {
                            "Condition": {"SegmentCondition": {"SegmentId": "seg1"}},
                            "NextActivity": "call",
                        },
                        {
                            "Condition": {
                                "SegmentDimensions": {
                                    "Demographic": {"Platform": {"Values": ["ios"]}},
                                    "Behavior": {
                                        "Recency": {"Duration": "DAY_7", "RecencyType": "ACTIVE"}
                                    },
                                }
                            },
                            "NextActivity": "call",
                        },
                        {
                            "Condition": {
                                "EventCondition": {
                                    "MessageActivity": "hook",
                                    "Dimensions": {"EventType": {"Values": ["_custom.delivered"]}},
                                }
                            }
                        },
                    ],
                    "DefaultActivity": "call",
                    "EvaluationWaitTime": {"WaitUntil": "2026-07-02T00:00:00+02:00"},
                }
            },
            "call": {"ContactCenter": {"NextActivity": ""}},
        },
    }


def changed(request: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``request`` with each dotted member set (or removed, for DROP); list items
    are named by their index, missing objects on the way are created."""
    copy = deepcopy(request)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node: Any = copy
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        key: Any = int(last) if isinstance(node, list) else last
        if value is DROP:
            del node[key]
        else:
            node[key] = value
    return copy


SPLIT = "Activities.opened.ConditionalSplit"
CONDITION = f"{SPLIT}.Condition.Conditions.0"
EVENT = f"{CONDITION}.EventCondition"
WELCOME = "Activities.welcome.EMAIL"


# --- Valid requests -------------------------------------------------------------------------


def test_the_onboarding_journey_passes() -> None:
    check(onboarding())


def test_a_journey_with_every_activity_kind_passes() -> None:
    check(every_kind())


def test_a_draft_needs_only_a_name() -> None:
    check({"Name": "later"})
    check({"Name": "later", "State": "DRAFT"})


def test_a_draft_may_be_unfinished_as_a_graph() -> None:
    draft = changed(
        onboarding(),
        {
            "State": "DRAFT",
            "StartActivity": DROP,
            "StartCondition": DROP,
            "Activities.orphan": {"EMAIL": {"TemplateName": "Reminder"}},
        },
    )
    check(draft)


def test_paths_may_meet_again() -> None:
    check(changed(onboarding(), {f"{SPLIT}.TrueActivity": "reminder"}))


def test_an_empty_next_activity_ends_the_path() -> None:
    check(changed(every_kind(), {"Activities.sms.SMS.NextActivity": ""}))
    check(changed(onboarding(), {f"{SPLIT}.FalseActivity": "", "Activities.reminder": DROP}))


def test_names_with_spaces_are_accepted() -> None:
    check(changed(onboarding(), {"Name": "Welcome series 2026"}))


def test_http_web_hooks_are_accepted() -> None:
    check(changed(every_kind(), {"Activities.hook.CUSTOM.DeliveryUri": "http://10.0.0.5:8080/in"}))


def test_schedule_times_may_arrive_as_datetimes() -> None:
    schedule = {
        "StartTime": datetime(2026, 6, 1, 9, tzinfo=UTC),
        "EndTime": datetime(2026, 6, 2, tzinfo=timezone(timedelta(hours=9))),
        "Timezone": "UTC+09",
    }
    check(changed(onboarding(), {"Schedule": schedule}))


def test_the_activity_quota_is_inclusive() -> None:
    chain: dict[str, dict[str, Any]] = {
        f"a{index}": {"Wait": {"WaitTime": {"WaitFor": "PT1M"}, "NextActivity": f"a{index + 1}"}}
        for index in range(MAX_ACTIVITIES - 1)
    }
    chain[f"a{MAX_ACTIVITIES - 1}"] = {"Holdout": {"Percentage": 100}}
    journey = changed(onboarding(), {"Activities": chain, "StartActivity": "a0"})
    check(journey)
    chain[f"a{MAX_ACTIVITIES - 1}"] = {"Holdout": {"Percentage": 100, "NextActivity": "extra"}}
    chain["extra"] = {"Holdout": {"Percentage": 0}}
    message = refused(changed(journey, {"Activities": chain}))
    assert message == (
        "WriteJourneyRequest.Activities has 41 activities; a journey may have at most 40"
    )


def test_messages_carry_the_callers_path() -> None:
    message = refused(changed(onboarding(), {"Name": 7}), path="CreateJourneyRequest")
    assert message.startswith("CreateJourneyRequest.Name must be a string")


# --- Broken requests: each names the member -------------------------------------------------

BROKEN: list[Any] = [
    # The journey's own members.
    ({"Name": DROP}, "WriteJourneyRequest.Name is required"),
    ({"Name": ""}, "WriteJourneyRequest.Name is required"),
    ({"Name": 5}, "WriteJourneyRequest.Name must be a string; got the number 5"),
    ({"Name": "x" * 151}, "WriteJourneyRequest.Name has 151 characters; at most 150"),
    ({"State": "PAUSED"}, "WriteJourneyRequest.State must be DRAFT or ACTIVE"),
    ({"State": "CANCELLED"}, "UpdateJourneyState pauses, resumes and cancels a journey"),
    (
        {"State": "paused"},
        "WriteJourneyRequest.State must be DRAFT or ACTIVE in a create or update request; got "
        "'paused'",
    ),
    ({"State": "COMPLETED"}, "WriteJourneyRequest.State must be DRAFT or ACTIVE"),
    ({"State": 1}, "WriteJourneyRequest.State must be a string"),
    ({"CreationDate": 5}, "WriteJourneyRequest.CreationDate must be a string"),
    ({"LocalTime": "yes"}, "WriteJourneyRequest.LocalTime must be true or false"),
    ({"WaitForQuietTime": 1}, "WriteJourneyRequest.WaitForQuietTime must be true or false"),
    ({"RefreshOnSegmentUpdate": "no"}, "WriteJourneyRequest.RefreshOnSegmentUpdate must be true"),
    ({"Schedule": "soon"}, "WriteJourneyRequest.Schedule must be an object"),
    ({"Schedule.StartTime": "June 1st"}, "WriteJourneyRequest.Schedule.StartTime must be an ISO"),
    ({"Schedule.StartTime": 17}, "WriteJourneyRequest.Schedule.StartTime must be a string"),
    (
        {"Schedule.EndTime": "2026-06-01T09:00:00Z"},
        "WriteJourneyRequest.Schedule.EndTime must be after WriteJourneyRequest.Schedule.StartTime",
    ),
    ({"Schedule.Timezone": "Mars/Olympus"}, "WriteJourneyRequest.Schedule.Timezone must be UTC"),
    ({"Schedule.Timezone": "UTC+15"}, "WriteJourneyRequest.Schedule.Timezone must be UTC"),
    ({"Schedule.Timezone": 9}, "WriteJourneyRequest.Schedule.Timezone must be a string"),
    ({"Limits.DailyCap": 101}, "WriteJourneyRequest.Limits.DailyCap must be at least 0 and at"),
    ({"Limits.DailyCap": "3"}, "WriteJourneyRequest.Limits.DailyCap must be a whole number"),
    ({"Limits.DailyCap": 2.5}, "WriteJourneyRequest.Limits.DailyCap must be a whole number"),
    ({"Limits.TotalCap": -1}, "WriteJourneyRequest.Limits.TotalCap must be at least 0"),
    ({"Limits.EndpointReentryCap": 101}, "Limits.EndpointReentryCap must be from 0 to 100"),
    ({"Limits.MessagesPerSecond": 20_001}, "Limits.MessagesPerSecond must be from 0 to 20000"),
    ({"Limits.MessagesPerSecond": True}, "Limits.MessagesPerSecond must be a whole number"),
    ({"Limits.TimeframeCap.Days": 31}, "WriteJourneyRequest.Limits.TimeframeCap.Days must be at"),
    ({"Limits.TimeframeCap.Cap": 101}, "WriteJourneyRequest.Limits.TimeframeCap.Cap must be at"),
    ({"Limits.TimeframeCap": [7, 5]}, "WriteJourneyRequest.Limits.TimeframeCap must be an object"),
    (
        {"Limits.EndpointReentryInterval": "1 hour"},
        "WriteJourneyRequest.Limits.EndpointReentryInterval must be an ISO 8601 duration",
    ),
    ({"QuietTime.Start": "7pm"}, "WriteJourneyRequest.QuietTime.Start must be a 24-hour time"),
    ({"QuietTime.Start": 700}, "WriteJourneyRequest.QuietTime.Start must be a string"),
    ({"QuietTime.End": DROP}, "WriteJourneyRequest.QuietTime needs both Start and End"),
    ({"RefreshFrequency": "PT0S"}, "WriteJourneyRequest.RefreshFrequency must be longer than"),
    ({"RefreshFrequency": "daily"}, "WriteJourneyRequest.RefreshFrequency must be an ISO 8601"),
    (
        {"TimezoneEstimationMethods": ["IP_ADDRESS"]},
        "WriteJourneyRequest.TimezoneEstimationMethods[0] must be one of PHONE_NUMBER, "
        "POSTAL_CODE; got 'IP_ADDRESS'",
    ),
    ({"TimezoneEstimationMethods": "PHONE_NUMBER"}, "TimezoneEstimationMethods must be a list"),
    (
        {"SendingSchedule": False},
        "WriteJourneyRequest.OpenHours is used only when WriteJourneyRequest.SendingSchedule is",
    ),
    (
        {"SendingSchedule": DROP, "OpenHours": DROP},
        "WriteJourneyRequest.ClosedDays is used only when WriteJourneyRequest.SendingSchedule",
    ),
    ({"OpenHours.FAX": {}}, "WriteJourneyRequest.OpenHours key must be one of EMAIL, SMS"),
    ({"OpenHours.EMAIL.FUNDAY": []}, "WriteJourneyRequest.OpenHours.EMAIL key must be one of"),
    (
        {"OpenHours.EMAIL.TUESDAY": [{"StartTime": "08:00", "EndTime": "09:00"}] * 5},
        "WriteJourneyRequest.OpenHours.EMAIL.TUESDAY has 5 time ranges; a day may have at most 4",
    ),
    (
        {"OpenHours.EMAIL.MONDAY.0.StartTime": "8:00"},
        "WriteJourneyRequest.OpenHours.EMAIL.MONDAY[0].StartTime must be a 24-hour time",
    ),
    (
        {"OpenHours.EMAIL.MONDAY.1.EndTime": "12:30"},
        "WriteJourneyRequest.OpenHours.EMAIL.MONDAY[1].EndTime must be after",
    ),
    (
        {"OpenHours.EMAIL.MONDAY.0.EndTime": DROP},
        "WriteJourneyRequest.OpenHours.EMAIL.MONDAY[0].EndTime is required",
    ),
    ({"OpenHours.SMS": []}, "WriteJourneyRequest.OpenHours.SMS must be an object"),
    (
        {
            "ClosedDays.SMS": [
                {"Name": f"d{day}", "StartDateTime": "2026-01-01", "EndDateTime": "2026-01-02"}
                for day in range(21)
            ]
        },
        "WriteJourneyRequest.ClosedDays.SMS has 21 rules; a channel may have at most 20",
    ),
    ({"ClosedDays.EMAIL.0.Name": DROP}, "WriteJourneyRequest.ClosedDays.EMAIL[0].Name is required"),
    (
        {"ClosedDays.EMAIL.0.EndDateTime": "2026-12-01T00:00:00"},
        "WriteJourneyRequest.ClosedDays.EMAIL[0].EndDateTime must be after",
    ),
    (
        {"ClosedDays.EMAIL.0.StartDateTime": "new year's eve"},
        "WriteJourneyRequest.ClosedDays.EMAIL[0].StartDateTime must be an ISO 8601 date",
    ),
    (
        {"ClosedDays.EMAIL.0.StartDateTime": 1767225600},
        "WriteJourneyRequest.ClosedDays.EMAIL[0].StartDateTime must be a string",
    ),
    ({"ClosedDays.PUSH": {"Name": "x"}}, "WriteJourneyRequest.ClosedDays.PUSH must be a list"),
    # Who enters.
    (
        {"StartCondition.EventStartCondition": {"EventFilter": {}}},
        "WriteJourneyRequest.StartCondition must have exactly one of SegmentStartCondition, "
        "EventStartCondition; got SegmentStartCondition and EventStartCondition",
    ),
    (
        {"StartCondition": DROP},
        "WriteJourneyRequest.StartCondition needs SegmentStartCondition or EventStartCondition "
        "to publish",
    ),
    (
        {"StartCondition.SegmentStartCondition.SegmentId": "nope"},
        "WriteJourneyRequest.StartCondition.SegmentStartCondition.SegmentId: there is no segment "
        "'nope' in this app",
    ),
    (
        {"StartCondition.SegmentStartCondition": {}},
        "WriteJourneyRequest.StartCondition.SegmentStartCondition.SegmentId is required",
    ),
    (
        {"StartCondition.Description": 3},
        "WriteJourneyRequest.StartCondition.Description must be a string",
    ),
    (
        {"StartCondition.SegmentStartCondition": DROP, "StartCondition.EventStartCondition": {}},
        "WriteJourneyRequest.StartCondition.EventStartCondition.EventFilter is required",
    ),
    (
        {
            "StartCondition.SegmentStartCondition": DROP,
            "StartCondition.EventStartCondition.EventFilter": {
                "FilterType": "USER",
                "Dimensions": {},
            },
        },
        "WriteJourneyRequest.StartCondition.EventStartCondition.EventFilter.FilterType must be "
        "one of ENDPOINT, SYSTEM",
    ),
    (
        {
            "StartCondition.SegmentStartCondition": DROP,
            "StartCondition.EventStartCondition": {
                "EventFilter": {
                    "FilterType": "ENDPOINT",
                    "Dimensions": {"Attributes": {"plan": {"AttributeType": "NEAR", "Values": []}}},
                },
            },
        },
        "WriteJourneyRequest.StartCondition.EventStartCondition.EventFilter.Dimensions.Attributes"
        ".plan.AttributeType must be one of",
    ),
    (
        {
            "StartCondition.SegmentStartCondition": DROP,
            "StartCondition.EventStartCondition": {
                "EventFilter": {"FilterType": "ENDPOINT", "Dimensions": {}},
                "SegmentId": "gone",
            },
        },
        "WriteJourneyRequest.StartCondition.EventStartCondition.SegmentId: there is no segment",
    ),
    (
        {"JourneyChannelSettings.ConnectCampaignExecutionRoleArn": "admin"},
        "WriteJourneyRequest.JourneyChannelSettings.ConnectCampaignExecutionRoleArn 'admin' is "
        "not an IAM role ARN",
    ),
    # Activities and their ids.
    ({"Activities": []}, "WriteJourneyRequest.Activities must be an object"),
    (
        {"Activities.send-mail": {"Holdout": {"Percentage": 1}}},
        "WriteJourneyRequest.Activities: activity id 'send-mail' must be 1 to 100 letters and "
        "digits",
    ),
    (
        {"Activities." + "a" * 101: {"Holdout": {"Percentage": 1}}},
        "must be 1 to 100 letters and digits",
    ),
    ({"Activities.welcome": "email"}, "WriteJourneyRequest.Activities.welcome must be an object"),
    (
        {"Activities.reminder": {"Description": "nothing"}},
        "WriteJourneyRequest.Activities.reminder needs one of EMAIL, SMS, PUSH, CUSTOM, Wait",
    ),
    (
        {"Activities.reminder.Holdout": {"Percentage": 5}},
        "WriteJourneyRequest.Activities.reminder must have exactly one of EMAIL, SMS",
    ),
    (
        {"Activities.reminder.Description": ["x"]},
        "WriteJourneyRequest.Activities.reminder.Description must be a string",
    ),
    # Message activities.
    (
        {f"{WELCOME}.TemplateName": DROP},
        "WriteJourneyRequest.Activities.welcome.EMAIL.TemplateName",
    ),
    (
        {f"{WELCOME}.TemplateName": "Nope"},
        'WriteJourneyRequest.Activities.welcome.EMAIL.TemplateName: template "Nope" of type '
        "EMAIL does not exist",
    ),
    (
        {f"{WELCOME}.TemplateName": "Nudge"},
        'WriteJourneyRequest.Activities.welcome.EMAIL.TemplateName: template "Nudge" of type '
        "EMAIL does not exist",
    ),
    (
        {f"{WELCOME}.TemplateVersion": "latest"},
        "WriteJourneyRequest.Activities.welcome.EMAIL.TemplateVersion must be a whole number",
    ),
    (
        {f"{WELCOME}.TemplateVersion": 2},
        "WriteJourneyRequest.Activities.welcome.EMAIL.TemplateVersion must be a string",
    ),
    (
        {f"{WELCOME}.MessageConfig.FromAddress": "hello"},
        "WriteJourneyRequest.Activities.welcome.EMAIL.MessageConfig.FromAddress 'hello' is not an "
        "email address",
    ),
    (
        {f"{WELCOME}.MessageConfig": "hello@example.com"},
        "WriteJourneyRequest.Activities.welcome.EMAIL.MessageConfig must be an object",
    ),
    (
        {
            "Activities.reminder": {
                "SMS": {"TemplateName": "Nudge", "MessageConfig": {"MessageType": "BULK"}}
            }
        },
        "WriteJourneyRequest.Activities.reminder.SMS.MessageConfig.MessageType must be one of "
        "TRANSACTIONAL, PROMOTIONAL",
    ),
    (
        {
            "Activities.reminder": {
                "SMS": {"TemplateName": "Nudge", "MessageConfig": {"SenderId": 5}}
            }
        },
        "WriteJourneyRequest.Activities.reminder.SMS.MessageConfig.SenderId must be a string",
    ),
    (
        {
            "Activities.reminder": {
                "PUSH": {"TemplateName": "Ping", "MessageConfig": {"TimeToLive": "1h"}}
            }
        },
        "WriteJourneyRequest.Activities.reminder.PUSH.MessageConfig.TimeToLive must be a whole",
    ),
    (
        {"Activities.reminder": {"PUSH": {"TemplateName": "Welcome"}}},
        'WriteJourneyRequest.Activities.reminder.PUSH.TemplateName: template "Welcome" of type '
        "PUSH does not exist",
    ),
    # Custom delivery.
    (
        {
            "Activities.reminder": {
                "CUSTOM": {"DeliveryUri": "arn:aws:lambda:us-east-1:123456789012:function:send"}
            }
        },
        "WriteJourneyRequest.Activities.reminder.CUSTOM.DeliveryUri: 'arn:aws:lambda:us-east-1:"
        "123456789012:function:send' is an AWS Lambda function, and Clarion runs no Lambda "
        "functions; give the https URL of a web hook",
    ),
    (
        {"Activities.reminder": {"CUSTOM": {"DeliveryUri": "sendMessages"}}},
        "WriteJourneyRequest.Activities.reminder.CUSTOM.DeliveryUri must be the https URL of a "
        "web hook; got 'sendMessages' (Clarion runs no AWS Lambda functions",
    ),
    (
        {"Activities.reminder": {"CUSTOM": {"DeliveryUri": "ftp://example.com/in"}}},
        "WriteJourneyRequest.Activities.reminder.CUSTOM.DeliveryUri must be the https URL",
    ),
    (
        {"Activities.reminder": {"CUSTOM": {"EndpointTypes": ["EMAIL"]}}},
        "WriteJourneyRequest.Activities.reminder.CUSTOM.DeliveryUri is required",
    ),
    (
        {
            "Activities.reminder": {
                "CUSTOM": {"DeliveryUri": "https://x.example", "EndpointTypes": ["FAX"]}
            }
        },
        "WriteJourneyRequest.Activities.reminder.CUSTOM.EndpointTypes[0] must be one of EMAIL, SMS",
    ),
    (
        {
            "Activities.reminder": {
                "CUSTOM": {"DeliveryUri": "https://x.example", "EndpointTypes": "EMAIL"}
            }
        },
        "WriteJourneyRequest.Activities.reminder.CUSTOM.EndpointTypes must be a list",
    ),
    (
        {
            "Activities.reminder": {
                "CUSTOM": {
                    "DeliveryUri": "https://x.example",
                    "MessageConfig": {"Data": "x" * 5001},
                }
            }
        },
        "WriteJourneyRequest.Activities.reminder.CUSTOM.MessageConfig.Data has 5001 characters",
    ),
    (
        {
            "Activities.reminder": {
                "CUSTOM": {"DeliveryUri": "https://x.example", "TemplateName": "Ghost"}
            }
        },
        'WriteJourneyRequest.Activities.reminder.CUSTOM.TemplateName: there is no template "Ghost"',
    ),
    # Waits and holdouts.
    (
        {"Activities.pause.Wait.WaitTime": DROP},
        "WriteJourneyRequest.Activities.pause.Wait.WaitTime is",
    ),
    (
        {"Activities.pause.Wait.WaitTime.WaitUntil": "2026-07-01T00:00:00Z"},
        "WriteJourneyRequest.Activities.pause.Wait.WaitTime must have exactly one of WaitFor, "
        "WaitUntil",
    ),
    (
        {"Activities.pause.Wait.WaitTime": {}},
        "WriteJourneyRequest.Activities.pause.Wait.WaitTime needs WaitFor",
    ),
    (
        {"Activities.pause.Wait.WaitTime.WaitFor": "P1M"},
        "WriteJourneyRequest.Activities.pause.Wait.WaitTime.WaitFor: 'P1M' counts years or months",
    ),
    (
        {"Activities.pause.Wait.WaitTime.WaitFor": 3600},
        "WriteJourneyRequest.Activities.pause.Wait.WaitTime.WaitFor must be an ISO 8601 duration",
    ),
    (
        {"Activities.pause.Wait.WaitTime": {"WaitUntil": "tomorrow"}},
        "WriteJourneyRequest.Activities.pause.Wait.WaitTime.WaitUntil must be an ISO 8601 date",
    ),
    (
        {"Activities.reminder": {"Holdout": {"Percentage": 101}}},
        "WriteJourneyRequest.Activities.reminder.Holdout.Percentage must be from 0 to 100",
    ),
    (
        {"Activities.reminder": {"Holdout": {"Percentage": "50"}}},
        "WriteJourneyRequest.Activities.reminder.Holdout.Percentage must be a whole number",
    ),
    (
        {"Activities.reminder": {"Holdout": {"NextActivity": "welcome"}}},
        "WriteJourneyRequest.Activities.reminder.Holdout.Percentage is required",
    ),
    # Splits.
    (
        {
            "Activities.reminder": {
                "RandomSplit": {"Branches": [{"Percentage": 60}, {"Percentage": 30}]}
            }
        },
        "WriteJourneyRequest.Activities.reminder.RandomSplit.Branches: the percentages add up to "
        "90; they must make 100",
    ),
    (
        {"Activities.reminder": {"RandomSplit": {"Branches": [{"Percentage": 20}] * 6}}},
        "WriteJourneyRequest.Activities.reminder.RandomSplit.Branches has 6 branches; it must "
        "have from 1 to 5",
    ),
    (
        {"Activities.reminder": {"RandomSplit": {"Branches": []}}},
        "WriteJourneyRequest.Activities.reminder.RandomSplit.Branches has 0 branches",
    ),
    (
        {"Activities.reminder": {"RandomSplit": {}}},
        "WriteJourneyRequest.Activities.reminder.RandomSplit.Branches is required",
    ),
    (
        {
            "Activities.reminder": {
                "RandomSplit": {"Branches": [{"Percentage": 100}, {"Percentage": 0}]}
            }
        },
        "WriteJourneyRequest.Activities.reminder.RandomSplit.Branches[1].Percentage must be from 1",
    ),
    (
        {"Activities.reminder": {"RandomSplit": {"Branches": [{"NextActivity": "welcome"}]}}},
        "WriteJourneyRequest.Activities.reminder.RandomSplit.Branches[0].Percentage is required",
    ),
    (
        {
            "Activities.reminder": {
                "RandomSplit": {"Branches": [{"Percentage": 100, "NextActivity": "ghost"}]}
            }
        },
        "WriteJourneyRequest.Activities.reminder.RandomSplit.Branches[0].NextActivity: there is no "
        "activity 'ghost'",
    ),
    (
        {
            "Activities.reminder": {
                "MultiCondition": {
                    "Branches": [{"Condition": {"SegmentCondition": {"SegmentId": "seg1"}}}] * 5
                }
            }
        },
        "WriteJourneyRequest.Activities.reminder.MultiCondition.Branches has 5 branches; it must "
        "have from 1 to 4",
    ),
    (
        {"Activities.reminder": {"MultiCondition": {"Branches": [{"NextActivity": "welcome"}]}}},
        "WriteJourneyRequest.Activities.reminder.MultiCondition.Branches[0].Condition is required",
    ),
    (
        {
            "Activities.reminder": {
                "MultiCondition": {
                    "Branches": [{"Condition": {"SegmentCondition": {"SegmentId": "seg1"}}}],
                    "DefaultActivity": "ghost",
                }
            }
        },
        "WriteJourneyRequest.Activities.reminder.MultiCondition.DefaultActivity: there is no "
        "activity 'ghost'",
    ),
    (
        {
            "Activities.reminder": {
                "MultiCondition": {
                    "Branches": [{"Condition": {"Conditions": [], "Operator": "ALL"}}],
                }
            }
        },
        "WriteJourneyRequest.Activities.reminder.MultiCondition.Branches[0].Condition needs one of "
        "EventCondition, SegmentCondition, SegmentDimensions",
    ),
    (
        {f"{SPLIT}.Condition": DROP},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition is",
    ),
    (
        {f"{SPLIT}.Condition.Conditions": []},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Conditions needs at "
        "least one condition",
    ),
    (
        {f"{SPLIT}.Condition.Operator": "XOR"},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Operator must be one of "
        "ALL, ANY; got 'XOR'",
    ),
    (
        {f"{CONDITION}.SegmentCondition": {"SegmentId": "seg1"}},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Conditions[0] must have "
        "exactly one of EventCondition, SegmentCondition, SegmentDimensions",
    ),
    (
        {f"{CONDITION}.EventCondition": DROP},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Conditions[0] needs one "
        "of EventCondition",
    ),
    (
        {f"{CONDITION}.EventCondition": DROP, f"{CONDITION}.SegmentCondition.SegmentId": "gone"},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Conditions[0]"
        ".SegmentCondition.SegmentId: there is no segment 'gone' in this app",
    ),
    (
        {
            f"{CONDITION}.EventCondition": DROP,
            f"{CONDITION}.SegmentDimensions.Behavior.Recency": {
                "Duration": "DAY_3",
                "RecencyType": "ACTIVE",
            },
        },
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Conditions[0]"
        ".SegmentDimensions.Behavior.Recency.Duration: 'DAY_3' is not one of",
    ),
    (
        {
            f"{CONDITION}.EventCondition": DROP,
            f"{CONDITION}.SegmentDimensions.Metrics.visits": {
                "ComparisonOperator": "EQUAL",
                "Value": "3",
            },
        },
        "Conditions[0].SegmentDimensions.Metrics.visits.Value must be a finite number",
    ),
    (
        {f"{CONDITION}.EventCondition": DROP, f"{CONDITION}.SegmentDimensions": "ios"},
        "Conditions[0].SegmentDimensions must be an object",
    ),
    (
        {f"{EVENT}.Dimensions": DROP},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Conditions[0]"
        ".EventCondition.Dimensions is required",
    ),
    (
        {f"{EVENT}.Dimensions.EventType.DimensionType": "SOME"},
        "Conditions[0].EventCondition.Dimensions.EventType.DimensionType must be INCLUSIVE or "
        "EXCLUSIVE",
    ),
    (
        {f"{EVENT}.MessageActivity": 7},
        "Conditions[0].EventCondition.MessageActivity must be a string",
    ),
    (
        {f"{EVENT}.MessageActivity": "ghost"},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.Condition.Conditions[0]"
        ".EventCondition.MessageActivity: there is no activity 'ghost' in the journey",
    ),
    (
        {f"{EVENT}.MessageActivity": "pause"},
        "Conditions[0].EventCondition.MessageActivity: activity 'pause' is a Wait activity, which "
        "sends no messages",
    ),
    (
        {f"{EVENT}.MessageActivity": "reminder"},
        "Conditions[0].EventCondition.MessageActivity: activity 'reminder' does not come before "
        "'opened' on any path",
    ),
    (
        {f"{SPLIT}.EvaluationWaitTime": {}},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.EvaluationWaitTime needs WaitFor",
    ),
    (
        {f"{SPLIT}.EvaluationWaitTime.WaitFor": "PT"},
        "ConditionalSplit.EvaluationWaitTime.WaitFor must be an ISO 8601 duration",
    ),
    # The graph.
    (
        {f"{WELCOME}.NextActivity": "ghost"},
        "WriteJourneyRequest.Activities.welcome.EMAIL.NextActivity: there is no activity 'ghost' "
        "in WriteJourneyRequest.Activities",
    ),
    (
        {f"{WELCOME}.NextActivity": 3},
        "WriteJourneyRequest.Activities.welcome.EMAIL.NextActivity must",
    ),
    (
        {f"{SPLIT}.TrueActivity": "ghost"},
        "WriteJourneyRequest.Activities.opened.ConditionalSplit.TrueActivity: there is no activity",
    ),
    (
        {"StartActivity": "ghost"},
        "WriteJourneyRequest.StartActivity: there is no activity 'ghost' in "
        "WriteJourneyRequest.Activities",
    ),
    (
        {"Activities.reminder.EMAIL.NextActivity": "welcome"},
        "WriteJourneyRequest.Activities.reminder.EMAIL.NextActivity: 'welcome' leads back to "
        "itself (welcome -> pause -> opened -> reminder -> welcome); a journey's paths may not "
        "loop",
    ),
    (
        {"Activities.reminder.EMAIL.NextActivity": "reminder"},
        "WriteJourneyRequest.Activities.reminder.EMAIL.NextActivity: 'reminder' leads back to "
        "itself (reminder -> reminder)",
    ),
    (
        {"Activities.orphan": {"EMAIL": {"TemplateName": "Reminder"}}},
        "WriteJourneyRequest.Activities.orphan: no path from StartActivity 'welcome' reaches it",
    ),
    ({"StartActivity": DROP}, "WriteJourneyRequest.StartActivity is required to publish"),
    ({"Activities": {}, "StartActivity": DROP}, "WriteJourneyRequest.Activities: a journey needs"),
    (
        {
            "Activities.reminder.EMAIL.NextActivity": "c1",
            "Activities.c1": {"ContactCenter": {"NextActivity": "c2"}},
            "Activities.c2": {"ContactCenter": {"NextActivity": "c3"}},
            "Activities.c3": {"ContactCenter": {"NextActivity": "c4"}},
            "Activities.c4": {"ContactCenter": {}},
        },
        "WriteJourneyRequest.Activities has 4 ContactCenter activities; a journey may have at "
        "most 3",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BROKEN, ids=[str(c) for c, _ in BROKEN])
def test_a_broken_request_is_refused_naming_the_member(
    changes: dict[str, Any], expected: str
) -> None:
    message = refused(changed(onboarding(), changes))
    assert expected in message, message


def test_a_request_that_is_not_an_object_is_refused() -> None:
    assert refused(["Name"]) == "WriteJourneyRequest must be an object; got a list"


def test_a_loop_through_branches_is_found_wherever_it_is() -> None:
    journey = changed(
        every_kind(), {"Activities.multi.MultiCondition.Branches.2.NextActivity": "split"}
    )
    message = refused(journey)
    assert message.startswith(
        "WriteJourneyRequest.Activities.multi.MultiCondition.Branches[2].NextActivity: 'split' "
        "leads back to itself (split -> "
    )


def test_a_draft_is_still_checked_activity_by_activity_and_for_loops() -> None:
    draft = changed(onboarding(), {"State": "DRAFT", "StartActivity": DROP})
    check(draft)
    assert "leads back" in refused(
        changed(draft, {"Activities.reminder.EMAIL.NextActivity": "welcome"})
    )
    assert "there is no activity 'ghost'" in refused(changed(draft, {"StartActivity": "ghost"}))
    assert 'template "Nope"' in refused(changed(draft, {f"{WELCOME}.TemplateName": "Nope"}))


# --- Durations and times --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1H", timedelta(hours=1)),
        ("P1D", timedelta(days=1)),
        ("PT30S", timedelta(seconds=30)),
        ("PT0S", timedelta(0)),
        ("P0D", timedelta(0)),
        ("P2W", timedelta(weeks=2)),
        ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("PT90M", timedelta(minutes=90)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1,25S", timedelta(seconds=1.25)),
        ("pt1h", timedelta(hours=1)),
        ("P36525D", timedelta(days=36_525)),
    ],
)
def test_durations_are_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text, "WaitFor") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "WaitFor must be an ISO 8601 duration such as PT1H, P1D or PT30S; got ''"),
        ("P", "WaitFor must be an ISO 8601 duration"),
        ("PT", "WaitFor must be an ISO 8601 duration"),
        ("P1DT", "WaitFor must be an ISO 8601 duration"),
        ("1H", "WaitFor must be an ISO 8601 duration"),
        ("-PT1H", "WaitFor must be an ISO 8601 duration"),
        ("PT1.5H", "WaitFor must be an ISO 8601 duration"),
        ("P1W2D", "WaitFor must be an ISO 8601 duration"),
        ("PT\u0661H", "WaitFor must be an ISO 8601 duration"),
        (" PT1H", "WaitFor must be an ISO 8601 duration"),
        ("P1M", "WaitFor: 'P1M' counts years or months, which have no fixed length"),
        ("P1Y2D", "WaitFor: 'P1Y2D' counts years or months"),
        ("P36526D", "WaitFor: 'P36526D' is longer than 36525 days"),
        ("P" + "9" * 5000 + "D", "is longer than 36525 days"),
        (3600, "WaitFor must be an ISO 8601 duration such as PT1H; got the number 3600"),
        (None, "WaitFor must be an ISO 8601 duration such as PT1H; got null"),
    ],
)
def test_other_durations_are_refused(value: Any, expected: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_duration(value, "WaitFor")
    assert expected in caught.value.message


@given(
    st.integers(0, 30_000),
    st.integers(0, 100),
    st.integers(0, 1_000),
    st.integers(0, 100_000),
)
def test_a_written_duration_reads_back(days: int, hours: int, minutes: int, seconds: int) -> None:
    text = f"P{days}DT{hours}H{minutes}M{seconds}S"
    expected = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    assert parse_duration(text, "WaitFor") == expected


def test_timestamps_are_read_as_utc() -> None:
    assert parse_timestamp("2026-05-01T09:00:00Z", "t") == datetime(2026, 5, 1, 9, tzinfo=UTC)
    assert parse_timestamp("2026-05-01T11:00:00+02:00", "t") == datetime(2026, 5, 1, 9, tzinfo=UTC)
    assert parse_timestamp("2026-05-01T09:00:00", "t") == datetime(2026, 5, 1, 9, tzinfo=UTC)
    assert parse_timestamp("2026-05-01", "t") == datetime(2026, 5, 1, tzinfo=UTC)
    aware = datetime(2026, 5, 1, 18, tzinfo=timezone(timedelta(hours=9)))
    assert parse_timestamp(aware, "t") == datetime(2026, 5, 1, 9, tzinfo=UTC)
    with pytest.raises(BadRequest, match=r"^t must be an ISO 8601 date and time"):
        parse_timestamp("1 May", "t")
    with pytest.raises(BadRequest, match=r"^t must be a string"):
        parse_timestamp(1_777_000_000, "t")


# --- States ---------------------------------------------------------------------------------

ALLOWED = {
    ("ACTIVE", "PAUSED"): "PAUSED",
    ("PAUSED", "ACTIVE"): "ACTIVE",
    ("ACTIVE", "CANCELLED"): "CANCELLED",
    ("PAUSED", "CANCELLED"): "CANCELLED",
    ("CLOSED", "CANCELLED"): "CANCELLED",
    ("ACTIVE", "ACTIVE"): "ACTIVE",
    ("PAUSED", "PAUSED"): "PAUSED",
    ("CANCELLED", "CANCELLED"): "CANCELLED",
}
REFUSED = [
    ("CANCELLED", "ACTIVE", "Cannot make a CANCELLED journey ACTIVE: it was cancelled, which is"),
    ("CANCELLED", "PAUSED", "Cannot make a CANCELLED journey PAUSED"),
    ("COMPLETED", "ACTIVE", "Cannot make a COMPLETED journey ACTIVE: it has finished"),
    ("COMPLETED", "CANCELLED", "Cannot make a COMPLETED journey CANCELLED"),
    ("DRAFT", "ACTIVE", "publish it with UpdateJourney and State ACTIVE"),
    ("DRAFT", "PAUSED", "Cannot pause a DRAFT journey: only an ACTIVE journey pauses"),
    ("DRAFT", "CANCELLED", "Cannot cancel a DRAFT journey: it has not started; delete it"),
    ("CLOSED", "PAUSED", "Cannot pause a CLOSED journey"),
    ("CLOSED", "ACTIVE", "Cannot make a CLOSED journey ACTIVE"),
    ("ACTIVE", "DRAFT", "JourneyStateRequest.State must be ACTIVE (to resume), PAUSED or"),
    ("ACTIVE", "COMPLETED", "JourneyStateRequest.State must be ACTIVE"),
    ("PAUSED", "CLOSED", "JourneyStateRequest.State must be ACTIVE"),
    ("ACTIVE", "paused", "JourneyStateRequest.State must be ACTIVE"),
]


@pytest.mark.parametrize(("current", "requested"), sorted(ALLOWED))
def test_allowed_state_changes(current: str, requested: str) -> None:
    assert state_change(current, requested) == ALLOWED[current, requested]


@pytest.mark.parametrize(("current", "requested", "expected"), REFUSED)
def test_refused_state_changes(current: str, requested: str, expected: str) -> None:
    with pytest.raises(BadRequest) as caught:
        state_change(current, requested)
    assert expected in caught.value.message


def test_an_unknown_stored_state_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        state_change("RUNNING", "PAUSED")
    with pytest.raises(ValueError):
        may_update("RUNNING")


@pytest.mark.parametrize("state", ["DRAFT", "ACTIVE"])
def test_drafts_and_active_journeys_may_be_updated(state: str) -> None:
    may_update(state)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("PAUSED", "Cannot update a PAUSED journey: a paused journey cannot be edited"),
        ("COMPLETED", "Cannot update a COMPLETED journey: it has finished running"),
        ("CANCELLED", "Cannot update a CANCELLED journey: a cancelled journey cannot be changed"),
        ("CLOSED", "Cannot update a CLOSED journey: it has passed its end"),
    ],
)
def test_other_journeys_may_not_be_updated(state: str, expected: str) -> None:
    with pytest.raises(BadRequest) as caught:
        may_update(state)
    assert caught.value.message.startswith(expected)


def test_an_active_journey_keeps_its_activities() -> None:
    stored = onboarding()
    check_active_update(stored, changed(stored, {"Limits.DailyCap": 1, "Name": "renamed"}))
    check_active_update(stored, changed(stored, {"State": DROP}))
    with pytest.raises(
        BadRequest, match=r"^WriteJourneyRequest\.Activities: the journey is ACTIVE"
    ):
        check_active_update(stored, changed(stored, {f"{WELCOME}.TemplateName": "Reminder"}))
    with pytest.raises(
        BadRequest, match=r"^WriteJourneyRequest\.Activities: the journey is ACTIVE"
    ):
        check_active_update(stored, changed(stored, {"Activities": DROP}))
    with pytest.raises(BadRequest, match=r"^WriteJourneyRequest\.StartActivity: the journey is"):
        check_active_update(stored, changed(stored, {"StartActivity": "pause"}))
    with pytest.raises(BadRequest, match="cannot go back to DRAFT"):
        check_active_update(stored, changed(stored, {"State": "DRAFT"}))
