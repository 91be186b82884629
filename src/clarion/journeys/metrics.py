"""The names Pinpoint reports journey execution metrics under, and the four response bodies
(GetJourneyExecutionMetrics, GetJourneyExecutionActivityMetrics, GetJourneyRunExecutionMetrics,
GetJourneyRunExecutionActivityMetrics) built from the engine's counters.

The engine counts; this module names what it counts and derives what Pinpoint derives, so the
vocabulary lives in one place and the engine never spells a metric itself.

Sources:

* Amazon Pinpoint Developer Guide, "Amazon Pinpoint journey execution metrics"
  (journey-metrics-execution.html): ``ENDPOINT_ENTERED``, ``ENDPOINT_LEFT``, ``CANCELLED``,
  ``REENTRY_CAP_EXCEEDED``, ``ACTIVE_ENDPOINT_REJECTED``, and ``ENDPOINT_ACTIVE``, "the number
  of participants who started the journey, minus the number of participants who left the
  journey and the number of participants who were removed from the journey".
* Developer Guide, "Journey run activity execution metrics"
  (journey-run-metrics-activity-execution.html): ``ENDPOINT_PRODUCED``,
  ``ENDPOINTS_FROM_USER``, ``ENDPOINT_OPT_OUT``, ``ENDPOINT_INACTIVE``,
  ``FILTERED_OUT_BY_SEGMENT``, ``ENDPOINT_MISSING_ADDRESS``, ``ENDPOINT_MISSING_CHANNEL``,
  ``ENDPOINT_MISSING_TIMEZONE``, ``ENDPOINT_TIMEZONE_MISMATCH``, ``ENDPOINT_CHANNEL_MISMATCH``
  (said to apply to campaigns), ``DUPLICATE_ENDPOINT``, ``DUPLICATE_USER``, ``PAUSED``
  (journeys: "removed from execution because the journey was paused").
* Developer Guide, "Standard Amazon Pinpoint analytics metrics", section "Journey activity
  execution metrics" (analytics-standard-metrics.html, journey-metrics-activity-execution.html):
  the ActivityType of each kind; ``MULTI_CONDITIONAL_SPLIT`` and ``RANDOM_SPLIT`` report, per
  path, "``Branch_#`` where # is the numeric identifier for a path — for example ``Branch_1``
  for the first path"; ``RANDOM_SPLIT`` also reports ``TOTAL``, "the number of participants
  who started any path in the activity".
* The AWS SDK's documented examples (aws-sdk-js-v3, GetJourneyRunExecutionMetrics and
  GetJourneyRunExecutionActivityMetrics): a run answers ``{"ENDPOINT_PRODUCED": "1",
  "ENDPOINT_ENTERED": "1", "ENDPOINT_LEFT": "1"}`` (metrics that were not counted are left
  out, and values are decimal integers in strings); an email activity answers
  ``"ActivityType": "EMAIL"`` with ``{"SUCCESS": "1"}``.
* Developer Guide, "Journey events" (event-streams-data-journey.html): ``_journey.send`` carries
  ``journey_activity_type`` EMAIL, SMS, PUSH or CUSTOM, and ``journey_send_status``.
* User Guide, "View journey metrics" (journeys-metrics.html): what the console shows per
  message activity (not sent during quiet time, exceeded the endpoint message limit,
  throttled, failures, unsupported channel) — descriptions without field names.

Where the guide is silent, Clarion chooses, and says so here:

* ActivityType. The API reference lists six values and calls an email activity ``MESSAGE``;
  that list predates SMS, push and custom activities, and AWS's own example answers ``EMAIL``,
  as ``journey_activity_type`` does. Clarion answers EMAIL, SMS, PUSH and CUSTOM for message
  activities (see :data:`ACTIVITY_TYPES`, one line to change) and ``CONTACT_CENTER`` for the
  contact-center hand-off.
* Message outcomes besides ``SUCCESS`` (the field names behind the console's descriptions are
  not published): ``FAILURE``, ``OPT_OUT`` and ``TIMEOUT`` as ``journey_send_status`` spells
  them; ``QUIET_TIME``, ``DAILY_CAP``, ``TOTAL_CAP``, ``TIMEFRAME_CAP`` after the settings
  that cause them; ``THROTTLED`` (MessagesPerSecond, the console's "Throttled");
  ``CLOSED_HOURS`` (OpenHours/ClosedDays); and, for an endpoint whose channel the activity
  cannot use or an inactive endpoint, the documented run names ``ENDPOINT_CHANNEL_MISMATCH``
  and ``ENDPOINT_INACTIVE``.
* Yes/no split paths: ``Branch_1`` (yes) and ``Branch_2`` (no), the ``Branch_#`` rule of the
  other splits. A multivariate split's Else path is the path after its conditions,
  ``Branch_{n+1}`` for n conditions (the guide counts it among the "as many as five paths").
* Holdout: ``HOLDOUT`` (held out, their journey ends) and ``CONTINUED``.
* Wait: ``STARTED`` and ``COMPLETED`` counted, ``WAITING`` derived as their difference.
* No activity reports a generic "entered" count (:func:`activity_entered` is None); a random
  split's ``TOTAL`` is derived from its paths.
* "Removed from the journey" in ``ENDPOINT_ACTIVE`` is ``CANCELLED``: the other exceptions
  (re-entry cap, rejection, pause) stop endpoints that never started.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from clarion.clock import iso

# --- Journey and run counters -----------------------------------------------------------------

ENTERED: Final = "ENDPOINT_ENTERED"
"""A participant started the journey (or, per run, that run)."""
ACTIVE: Final = "ENDPOINT_ACTIVE"
"""Derived, never counted: entered - left - removed."""
LEFT: Final = "ENDPOINT_LEFT"
"""A participant left the journey: reached its end or was held out."""
CANCELLED: Final = "CANCELLED"
"""A participant was in the journey when it was cancelled."""
REENTRY_CAP_EXCEEDED: Final = "REENTRY_CAP_EXCEEDED"
"""An endpoint was kept out by EndpointReentryCap (or EndpointReentryInterval)."""
ACTIVE_ENDPOINT_REJECTED: Final = "ACTIVE_ENDPOINT_REJECTED"
"""An endpoint was kept out because it is already an active participant."""

PRODUCED: Final = "ENDPOINT_PRODUCED"
"""An endpoint came from the segment or event, before any filtering."""
ENDPOINTS_FROM_USER: Final = "ENDPOINTS_FROM_USER"
"""An endpoint added because its user is in a user-id-only segment."""
ENDPOINT_OPT_OUT: Final = "ENDPOINT_OPT_OUT"
"""An opted-out endpoint did not enter."""
ENDPOINT_INACTIVE: Final = "ENDPOINT_INACTIVE"
"""An inactive endpoint did not enter."""
FILTERED_OUT_BY_SEGMENT: Final = "FILTERED_OUT_BY_SEGMENT"
"""An endpoint did not match the segment filters (an event start's SegmentId)."""
MISSING_ADDRESS: Final = "ENDPOINT_MISSING_ADDRESS"
MISSING_CHANNEL: Final = "ENDPOINT_MISSING_CHANNEL"
MISSING_TIMEZONE: Final = "ENDPOINT_MISSING_TIMEZONE"
"""No time zone where one is needed (LocalTime) and none could be estimated."""
TIMEZONE_MISMATCH: Final = "ENDPOINT_TIMEZONE_MISMATCH"
"""The endpoint's zone was not part of the run at that time."""
CHANNEL_MISMATCH: Final = "ENDPOINT_CHANNEL_MISMATCH"
DUPLICATE_ENDPOINT: Final = "DUPLICATE_ENDPOINT"
DUPLICATE_USER: Final = "DUPLICATE_USER"
PAUSED: Final = "PAUSED"
"""An endpoint kept out of execution because the journey was paused."""

JOURNEY_COUNTERS: Final = (
    ENTERED,
    LEFT,
    CANCELLED,
    REENTRY_CAP_EXCEEDED,
    ACTIVE_ENDPOINT_REJECTED,
)
"""What GetJourneyExecutionMetrics reports besides the derived ``ENDPOINT_ACTIVE``."""

RUN_COUNTERS: Final = (
    PRODUCED,
    ENDPOINTS_FROM_USER,
    ENDPOINT_OPT_OUT,
    ENDPOINT_INACTIVE,
    FILTERED_OUT_BY_SEGMENT,
    MISSING_ADDRESS,
    MISSING_CHANNEL,
    MISSING_TIMEZONE,
    TIMEZONE_MISMATCH,
    CHANNEL_MISMATCH,
    DUPLICATE_ENDPOINT,
    DUPLICATE_USER,
    PAUSED,
    *JOURNEY_COUNTERS,
)
"""What GetJourneyRunExecutionMetrics reports besides the derived ``ENDPOINT_ACTIVE``."""

REMOVED: Final = (CANCELLED,)
"""The participants "removed from the journey", subtracted from ``ENDPOINT_ACTIVE``."""

# --- Activity types ---------------------------------------------------------------------------

EMAIL: Final = "EMAIL"
SMS: Final = "SMS"
PUSH: Final = "PUSH"
CUSTOM: Final = "CUSTOM"
CONTACT_CENTER: Final = "CONTACT_CENTER"
WAIT: Final = "WAIT"
CONDITIONAL_SPLIT: Final = "CONDITIONAL_SPLIT"
MULTI_CONDITIONAL_SPLIT: Final = "MULTI_CONDITIONAL_SPLIT"
RANDOM_SPLIT: Final = "RANDOM_SPLIT"
HOLDOUT: Final = "HOLDOUT"

ACTIVITY_TYPES: Final[Mapping[str, str]] = {
    "EMAIL": EMAIL,
    "SMS": SMS,
    "PUSH": PUSH,
    "CUSTOM": CUSTOM,
    "ContactCenter": CONTACT_CENTER,
    "Wait": WAIT,
    "ConditionalSplit": CONDITIONAL_SPLIT,
    "MultiCondition": MULTI_CONDITIONAL_SPLIT,
    "RandomSplit": RANDOM_SPLIT,
    "Holdout": HOLDOUT,
}
"""The ActivityType of each kind of Activity (the member of the Activity object that is set)."""

MESSAGE_TYPES: Final = frozenset({EMAIL, SMS, PUSH, CUSTOM, CONTACT_CENTER})
"""Activities that send something, and so report message outcomes."""


def activity_type(activity: Mapping[str, Any]) -> str:
    """The ActivityType of an Activity object as WriteJourneyRequest.Activities holds it; its
    kind is the one member of :data:`ACTIVITY_TYPES` that is set."""
    kinds = [member for member in ACTIVITY_TYPES if activity.get(member) is not None]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        raise ValueError(f"an activity has exactly one kind of {sorted(ACTIVITY_TYPES)}: {found}")
    return ACTIVITY_TYPES[kinds[0]]


def activity_entered() -> str | None:
    """The name counted when a participant arrives at an activity: Pinpoint documents none
    (a random split's ``TOTAL`` is derived from its paths), so there is nothing to count."""
    return None


# --- Message outcomes -------------------------------------------------------------------------

SUCCESS: Final = "SUCCESS"

MESSAGE_OUTCOMES: Final[Mapping[str, str]] = {
    "SUCCESS": SUCCESS,
    "FAILURE": "FAILURE",
    "OPT_OUT": "OPT_OUT",
    "THROTTLED": "THROTTLED",
    "QUIET_TIME": "QUIET_TIME",
    "DAILY_CAP": "DAILY_CAP",
    "TOTAL_CAP": "TOTAL_CAP",
    "TIMEFRAME_CAP": "TIMEFRAME_CAP",
    "NO_CHANNEL": CHANNEL_MISMATCH,
    "CLOSED_HOURS": "CLOSED_HOURS",
    "TIMEOUT": "TIMEOUT",
    "INACTIVE": ENDPOINT_INACTIVE,
}
"""The engine's outcome of a message activity for one participant -> the metric it counts."""


def message_outcome(outcome: str) -> str:
    """The metric a message activity counts for ``outcome`` (a key of
    :data:`MESSAGE_OUTCOMES`); an unknown outcome is a programming error."""
    try:
        return MESSAGE_OUTCOMES[outcome]
    except KeyError:
        raise ValueError(
            f"{outcome!r} is not a message outcome; expected one of {sorted(MESSAGE_OUTCOMES)}"
        ) from None


# --- Paths ------------------------------------------------------------------------------------

HELD_OUT: Final = "HOLDOUT"
CONTINUED: Final = "CONTINUED"
TOTAL: Final = "TOTAL"
BRANCH_PREFIX: Final = "Branch_"


def _branch(number: int) -> str:
    return f"{BRANCH_PREFIX}{number}"


def branch(activity: Mapping[str, Any], index: int | None) -> str:
    """The metric counted when a participant takes a path out of a split or holdout.

    ConditionalSplit: 0 yes, 1 no. MultiCondition: 0..n-1 its Branches, None its Else
    (DefaultActivity). RandomSplit: 0..n-1 its Branches. Holdout: 0 held out, 1 continued."""
    kind = activity_type(activity)
    if kind == CONDITIONAL_SPLIT:
        return _branch(_within(kind, index, 2) + 1)
    if kind == HOLDOUT:
        return (HELD_OUT, CONTINUED)[_within(kind, index, 2)]
    if kind == MULTI_CONDITIONAL_SPLIT:
        branches = activity["MultiCondition"].get("Branches") or []
        if index is None:
            return _branch(len(branches) + 1)
        return _branch(_within(kind, index, len(branches)) + 1)
    if kind == RANDOM_SPLIT:
        branches = activity["RandomSplit"].get("Branches") or []
        return _branch(_within(kind, index, len(branches)) + 1)
    raise ValueError(f"a {kind} activity has no paths")


def _within(kind: str, index: int | None, paths: int) -> int:
    if index is None or not 0 <= index < paths:
        raise ValueError(f"path {index} of a {kind} activity with {paths} paths")
    return index


@dataclass(frozen=True)
class WaitMetrics:
    """What a wait activity reports: ``started`` and ``completed`` are counted; ``waiting``
    (started - completed) is derived."""

    started: str = "STARTED"
    completed: str = "COMPLETED"
    waiting: str = "WAITING"


def wait_metrics() -> WaitMetrics:
    """The names a wait activity's counters and derived count go by."""
    return _WAIT


_WAIT: Final = WaitMetrics()

# --- Responses --------------------------------------------------------------------------------


def journey_metrics(counters: Mapping[str, int]) -> dict[str, str]:
    """The Metrics map of a journey or a run: every counted metric, plus ``ENDPOINT_ACTIVE``.
    Metrics that stand at zero are left out, as in AWS's examples."""
    metrics = dict(counters)
    metrics[ACTIVE] = metrics.get(ENTERED, 0) - metrics.get(LEFT, 0) - _sum(metrics, REMOVED)
    return _reported(metrics)


def activity_metrics(activity: Mapping[str, Any], counters: Mapping[str, int]) -> dict[str, str]:
    """The Metrics map of one activity: its counters, plus ``TOTAL`` for a random split and
    ``WAITING`` for a wait."""
    metrics = dict(counters)
    kind = activity_type(activity)
    if kind == RANDOM_SPLIT:
        paths = [name for name in metrics if name.startswith(BRANCH_PREFIX)]
        metrics[TOTAL] = _sum(metrics, paths)
    elif kind == WAIT:
        metrics[_WAIT.waiting] = metrics.get(_WAIT.started, 0) - metrics.get(_WAIT.completed, 0)
    return _reported(metrics)


def _sum(metrics: Mapping[str, int], names: Iterable[str]) -> int:
    return sum(metrics.get(name, 0) for name in names)


def _reported(metrics: Mapping[str, int]) -> dict[str, str]:
    """Counts as Pinpoint writes them, decimal strings; a count below one is not reported
    (a derived count can dip below zero while its counters are updated one at a time)."""
    return {name: str(count) for name, count in sorted(metrics.items()) if count > 0}


def execution_response(
    app_id: str, journey_id: str, counters: Mapping[str, int], last_evaluated: datetime
) -> dict[str, Any]:
    """The JourneyExecutionMetricsResponse body."""
    return {
        "ApplicationId": app_id,
        "JourneyId": journey_id,
        "LastEvaluatedTime": iso(last_evaluated),
        "Metrics": journey_metrics(counters),
    }


def run_response(
    app_id: str,
    journey_id: str,
    run_id: str,
    counters: Mapping[str, int],
    last_evaluated: datetime,
) -> dict[str, Any]:
    """The JourneyRunExecutionMetricsResponse body."""
    return {**execution_response(app_id, journey_id, counters, last_evaluated), "RunId": run_id}


def activity_response(
    app_id: str,
    journey_id: str,
    activity_id: str,
    activity: Mapping[str, Any],
    counters: Mapping[str, int],
    last_evaluated: datetime,
) -> dict[str, Any]:
    """The JourneyExecutionActivityMetricsResponse body; ``activity`` is the Activity object,
    which gives the ActivityType and the derived metrics."""
    return {
        "ApplicationId": app_id,
        "JourneyId": journey_id,
        "JourneyActivityId": activity_id,
        "ActivityType": activity_type(activity),
        "LastEvaluatedTime": iso(last_evaluated),
        "Metrics": activity_metrics(activity, counters),
    }


def run_activity_response(
    app_id: str,
    journey_id: str,
    run_id: str,
    activity_id: str,
    activity: Mapping[str, Any],
    counters: Mapping[str, int],
    last_evaluated: datetime,
) -> dict[str, Any]:
    """The JourneyRunExecutionActivityMetricsResponse body."""
    body = activity_response(app_id, journey_id, activity_id, activity, counters, last_evaluated)
    return {**body, "RunId": run_id}
