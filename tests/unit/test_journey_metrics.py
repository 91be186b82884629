"""The journey metric vocabulary and the four execution-metric bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from clarion.journeys import metrics as m

WHEN = datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)

EMAIL: dict[str, Any] = {"EMAIL": {"TemplateName": "welcome"}, "Description": "hello"}
YES_NO: dict[str, Any] = {"ConditionalSplit": {"TrueActivity": "a", "FalseActivity": "b"}}
MULTI: dict[str, Any] = {
    "MultiCondition": {
        "Branches": [{"NextActivity": "a"}, {"NextActivity": "b"}, {"NextActivity": "c"}],
        "DefaultActivity": "d",
    }
}
RANDOM: dict[str, Any] = {
    "RandomSplit": {"Branches": [{"Percentage": 30}, {"Percentage": 70, "NextActivity": "x"}]}
}
HOLD: dict[str, Any] = {"Holdout": {"Percentage": 10, "NextActivity": "a"}}
WAIT: dict[str, Any] = {"Wait": {"WaitTime": {"WaitFor": "PT1H"}, "NextActivity": "a"}}


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("EMAIL", "EMAIL"),
        ("SMS", "SMS"),
        ("PUSH", "PUSH"),
        ("CUSTOM", "CUSTOM"),
        ("ContactCenter", "CONTACT_CENTER"),
        ("Wait", "WAIT"),
        ("ConditionalSplit", "CONDITIONAL_SPLIT"),
        ("MultiCondition", "MULTI_CONDITIONAL_SPLIT"),
        ("RandomSplit", "RANDOM_SPLIT"),
        ("Holdout", "HOLDOUT"),
    ],
)
def test_every_kind_of_activity_has_its_type(member: str, expected: str) -> None:
    assert m.activity_type({member: {}, "Description": "x"}) == expected


@pytest.mark.parametrize("activity", [{}, {"Description": "x"}, {"EMAIL": {}, "SMS": {}}])
def test_an_activity_needs_exactly_one_kind(activity: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="exactly one kind"):
        m.activity_type(activity)


def test_a_null_member_is_not_a_kind() -> None:
    assert m.activity_type({"EMAIL": None, "SMS": {}}) == "SMS"


def test_no_activity_counts_a_bare_arrival() -> None:
    assert m.activity_entered() is None


def test_message_outcomes_have_names() -> None:
    assert m.message_outcome("SUCCESS") == "SUCCESS"
    assert m.message_outcome("NO_CHANNEL") == "ENDPOINT_CHANNEL_MISMATCH"
    assert m.message_outcome("INACTIVE") == "ENDPOINT_INACTIVE"
    names = [m.message_outcome(outcome) for outcome in m.MESSAGE_OUTCOMES]
    assert len(set(names)) == len(names)
    with pytest.raises(ValueError, match="not a message outcome"):
        m.message_outcome("LOST")


def test_paths_of_each_split() -> None:
    assert [m.branch(YES_NO, i) for i in (0, 1)] == ["Branch_1", "Branch_2"]
    assert [m.branch(MULTI, i) for i in (0, 1, 2, None)] == [
        "Branch_1",
        "Branch_2",
        "Branch_3",
        "Branch_4",
    ]
    assert [m.branch(RANDOM, i) for i in (0, 1)] == ["Branch_1", "Branch_2"]
    assert [m.branch(HOLD, i) for i in (0, 1)] == ["HOLDOUT", "CONTINUED"]


@pytest.mark.parametrize(
    ("activity", "index"),
    [(YES_NO, 2), (YES_NO, None), (MULTI, 3), (RANDOM, None), (RANDOM, -1), (HOLD, 2), (WAIT, 0)],
)
def test_a_path_that_does_not_exist_is_refused(activity: dict[str, Any], index: int | None) -> None:
    with pytest.raises(ValueError):
        m.branch(activity, index)


def test_journey_metrics_derive_active_participants() -> None:
    body = m.execution_response(
        "app",
        "j1",
        {m.ENTERED: 10, m.LEFT: 3, m.CANCELLED: 2, m.REENTRY_CAP_EXCEEDED: 4, m.PAUSED: 0},
        WHEN,
    )
    assert body == {
        "ApplicationId": "app",
        "JourneyId": "j1",
        "LastEvaluatedTime": "2026-05-01T12:00:00.250Z",
        "Metrics": {
            "CANCELLED": "2",
            "ENDPOINT_ACTIVE": "5",
            "ENDPOINT_ENTERED": "10",
            "ENDPOINT_LEFT": "3",
            "REENTRY_CAP_EXCEEDED": "4",
        },
    }


def test_a_run_reads_like_aws_example() -> None:
    body = m.run_response("app", "j1", "r1", {m.PRODUCED: 1, m.ENTERED: 1, m.LEFT: 1}, WHEN)
    assert body["RunId"] == "r1"
    assert body["Metrics"] == {
        "ENDPOINT_ENTERED": "1",
        "ENDPOINT_LEFT": "1",
        "ENDPOINT_PRODUCED": "1",
    }


def test_an_engine_supplied_active_count_is_recomputed() -> None:
    assert m.journey_metrics({m.ACTIVE: 99, m.ENTERED: 2}) == {
        "ENDPOINT_ACTIVE": "2",
        "ENDPOINT_ENTERED": "2",
    }
    assert m.journey_metrics({}) == {}


def test_an_email_activity_reads_like_aws_example() -> None:
    body = m.activity_response("app", "j1", "a1", EMAIL, {"SUCCESS": 1, "DAILY_CAP": 0}, WHEN)
    assert body == {
        "ApplicationId": "app",
        "JourneyId": "j1",
        "JourneyActivityId": "a1",
        "ActivityType": "EMAIL",
        "LastEvaluatedTime": "2026-05-01T12:00:00.250Z",
        "Metrics": {"SUCCESS": "1"},
    }


def test_a_random_split_adds_up_its_paths() -> None:
    counters = {m.branch(RANDOM, 0): 3, m.branch(RANDOM, 1): 7}
    body = m.run_activity_response("app", "j1", "r1", "a1", RANDOM, counters, WHEN)
    assert body["RunId"] == "r1"
    assert body["ActivityType"] == "RANDOM_SPLIT"
    assert body["Metrics"] == {"Branch_1": "3", "Branch_2": "7", "TOTAL": "10"}


def test_a_wait_derives_who_is_still_waiting() -> None:
    names = m.wait_metrics()
    metrics = m.activity_metrics(WAIT, {names.started: 5, names.completed: 2})
    assert metrics == {"COMPLETED": "2", "STARTED": "5", "WAITING": "3"}
    assert m.activity_metrics(WAIT, {names.started: 2, names.completed: 2}) == {
        "COMPLETED": "2",
        "STARTED": "2",
    }


def test_other_activities_report_their_counters_as_they_are() -> None:
    counters = {m.branch(HOLD, 0): 1, m.branch(HOLD, 1): 9}
    assert m.activity_metrics(HOLD, counters) == {"CONTINUED": "9", "HOLDOUT": "1"}
    assert m.activity_metrics(MULTI, {"Branch_4": 2}) == {"Branch_4": "2"}
