"""Clarion's engagement reports, the charts Pinpoint's console drew, from the per-day rollups,
the endpoint facet counts (demographics) and, for the funnel alone, the raw events.

Each report is ``name(db, app_id, start_day, end_day, …) -> rows``: a few indexed reads in
``clarion.store.analytics``, then pure functions (``*_rows``, :class:`Funnel`) that do the
arithmetic, so the arithmetic is tested without a database. Days are UTC days, ranges are
inclusive. An endpoint is a user (the brief: one person on two devices counts twice).
docs/reports.md documents the rows.

Definitions (Amazon Pinpoint User Guide, "Usage charts" and "Events charts"; the brief §4):

* Daily / weekly / monthly active users: distinct endpoints with any event on the day, in the
  7 days, in the 30 days ending on the day. New users: endpoints whose first active day it is.
  Sticky factor = DAU / MAU.
* Sessions: sessions started on the day; per daily active user = sessions / DAU; average
  length = the summed length of the day's ended sessions / how many ended.
* Retention: a cohort is the endpoints first active on a day; RetainedN counts those active
  again on any of the N days after it.
* Session-weighted average of a metric: the day's metric total / the day's sessions, i.e. the
  metric's amount per session (Pinpoint's "weighted average of metric values per session").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any, Final

import orjson
from pyroaring import AbstractBitMap, BitMap, FrozenBitMap

from clarion.errors import BadRequest, MethodNotAllowed, NotFound
from clarion.store import analytics as rollups
from clarion.store.analytics import AttributeCount, EventCount, MetricDay, SessionDay
from clarion.store.database import Database
from clarion.store.facets import ATTRIBUTE_PREFIX, DOCUMENT_FIELDS

Row = dict[str, Any]

MAX_REPORT_DAYS: Final = 366
DEFAULT_REPORT_DAYS: Final = 31
WEEK: Final = 7
MONTH: Final = 30
RETENTION_WINDOWS: Final = (7, 14, 30)
RETENTION_HORIZON: Final = 30
MIN_FUNNEL_STEPS: Final = 2
MAX_FUNNEL_STEPS: Final = 10
MAX_FUNNEL_WINDOW_SECONDS: Final = 30 * 86_400
DAY_MS: Final = 86_400_000
REPORTS: Final = ("active-users", "sessions", "retention", "demographics", "events", "revenue")
"""The reports :func:`run` answers; ``funnel`` is a POST of its own."""
_NOTHING: Final = FrozenBitMap()


# --- Parameters -----------------------------------------------------------------------------


def parse_report_range(query: Mapping[str, str], today: date) -> tuple[date, date]:
    """``start-time`` and ``end-time`` (ISO 8601 dates or date-times) as whole UTC days,
    inclusive. ``end-time`` defaults to today, ``start-time`` to 30 days before the end, so no
    parameters mean the 31 days ending today."""
    given_end = _day_parameter(query, "end-time")
    end = given_end if given_end is not None else today
    start = _day_parameter(query, "start-time")
    if start is None:
        start = end - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if end < start:
        end_label = "end-time" if given_end is not None else "end-time, by default today,"
        raise BadRequest(f"{end_label} ({end}) is before start-time ({start})")
    days = (end - start).days + 1
    if days > MAX_REPORT_DAYS:
        raise BadRequest(f"The range covers {days} days; a report covers at most {MAX_REPORT_DAYS}")
    return start, end


def _day_parameter(query: Mapping[str, str], name: str) -> date | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"{name} must be an ISO 8601 date or date and time, such as 2024-05-01 or "
            f"2024-05-01T00:00:00Z, not {text!r}"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def ratio(part: float, whole: float) -> float:
    """``part / whole``, or 0 when there is nothing to divide by."""
    return part / whole if whole else 0.0


def run(db: Database, app_id: str, name: str, query: Mapping[str, str], today: date) -> list[Row]:
    """Answer ``GET …/reports/<name>`` from its query parameters."""
    if name == "funnel":
        raise MethodNotAllowed("The funnel report is a POST, with its steps in a JSON body")
    if name not in REPORTS:
        raise NotFound(f"There is no report named {name}; the reports are {', '.join(REPORTS)}")
    if name == "demographics":
        return demographics(db, app_id, _required(query, "dimension", name))
    start, end = parse_report_range(query, today)
    if name == "active-users":
        return active_users(db, app_id, start, end)
    if name == "sessions":
        return sessions(db, app_id, start, end)
    if name == "retention":
        return retention(db, app_id, start, end, today)
    if name == "events":
        event_type = _required(query, "event-type", name)
        return events(
            db, app_id, start, end, event_type, query.get("attribute"), query.get("metric")
        )
    return revenue(db, app_id, start, end)


def _required(query: Mapping[str, str], parameter: str, report: str) -> str:
    value = query.get(parameter)
    if not value:
        raise BadRequest(f"The {report} report needs the {parameter} parameter")
    return value


# --- Active users ---------------------------------------------------------------------------


def active_users(db: Database, app_id: str, start_day: date, end_day: date) -> list[Row]:
    """Rows {Date, DailyActiveUsers, WeeklyActiveUsers, MonthlyActiveUsers, NewUsers,
    StickyFactor}; each day's bitmap is read once, including the 29 days before the range."""
    active = rollups.active_endpoints(db, app_id, start_day - timedelta(days=MONTH - 1), end_day)
    new = rollups.new_endpoints(db, app_id, start_day, end_day)
    return active_user_rows(active, new, start_day, end_day)


def active_user_rows(
    active: Mapping[date, AbstractBitMap], new: Mapping[date, int], start_day: date, end_day: date
) -> list[Row]:
    rows = []
    for day in days_between(start_day, end_day):
        daily = len(active.get(day, _NOTHING))
        monthly = distinct_over(active, day, MONTH)
        rows.append(
            {
                "Date": day.isoformat(),
                "DailyActiveUsers": daily,
                "WeeklyActiveUsers": distinct_over(active, day, WEEK),
                "MonthlyActiveUsers": monthly,
                "NewUsers": new.get(day, 0),
                "StickyFactor": ratio(daily, monthly),
            }
        )
    return rows


def distinct_over(active: Mapping[date, AbstractBitMap], last_day: date, days: int) -> int:
    """Distinct endpoints active in the ``days`` days ending on ``last_day``."""
    first_day = last_day - timedelta(days=days - 1)
    window = [active[day] for day in days_between(first_day, last_day) if day in active]
    return len(BitMap().union(*window))


# --- Sessions -------------------------------------------------------------------------------


def sessions(db: Database, app_id: str, start_day: date, end_day: date) -> list[Row]:
    """Rows {Date, Sessions, SessionsPerDailyActiveUser, AverageSessionSeconds}."""
    days = rollups.session_days(db, app_id, start_day, end_day)
    active = rollups.active_endpoints(db, app_id, start_day, end_day)
    daily_active = {day: len(endpoints) for day, endpoints in active.items()}
    return session_rows(days, daily_active, start_day, end_day)


def session_rows(
    days: Mapping[date, SessionDay],
    daily_active: Mapping[date, int],
    start_day: date,
    end_day: date,
) -> list[Row]:
    rows = []
    for day in days_between(start_day, end_day):
        totals = days.get(day, SessionDay(day, 0, 0, 0))
        rows.append(
            {
                "Date": day.isoformat(),
                "Sessions": totals.sessions,
                "SessionsPerDailyActiveUser": ratio(totals.sessions, daily_active.get(day, 0)),
                "AverageSessionSeconds": ratio(totals.duration_ms, totals.ended) / 1000,
            }
        )
    return rows


# --- Retention ------------------------------------------------------------------------------


def retention(db: Database, app_id: str, start_day: date, end_day: date, today: date) -> list[Row]:
    """Rows {CohortDate, NewUsers, Retained7, Retained14, Retained30, Days}.

    A cohort is read as the endpoints active on its day and on no earlier day, from the daily
    bitmaps since the app's first event: under the rollup contract (``first_day`` is the
    earliest day in ``daily_active``) that is exactly ``first_day == CohortDate``, and it costs
    one bitmap per day of history instead of one row per endpoint.
    """
    active = rollups.active_endpoints(
        db, app_id, date.min, end_day + timedelta(days=RETENTION_HORIZON)
    )
    return retention_rows(active, start_day, end_day, today)


def retention_rows(
    active: Mapping[date, AbstractBitMap], start_day: date, end_day: date, today: date
) -> list[Row]:
    """RetainedN is None until the cohort's N days have begun (day + N after ``today``);
    ``Days`` lists the returning members on each following day up to ``today``."""
    seen = BitMap().union(*(bitmap for day, bitmap in active.items() if day < start_day))
    rows = []
    for day in days_between(start_day, end_day):
        on_day = active.get(day, _NOTHING)
        cohort = on_day - seen
        seen |= on_day
        rows.append(cohort_row(day, cohort, active, today))
    return rows


def cohort_row(
    cohort_day: date, cohort: AbstractBitMap, active: Mapping[date, AbstractBitMap], today: date
) -> Row:
    returned = BitMap()
    per_day: list[int] = []
    retained: dict[int, int] = {}
    for offset in range(1, min(RETENTION_HORIZON, (today - cohort_day).days) + 1):
        back = cohort & active.get(cohort_day + timedelta(days=offset), _NOTHING)
        per_day.append(len(back))
        returned |= back
        if offset in RETENTION_WINDOWS:
            retained[offset] = len(returned)
    row: Row = {"CohortDate": cohort_day.isoformat(), "NewUsers": len(cohort)}
    row |= {f"Retained{window}": retained.get(window) for window in RETENTION_WINDOWS}
    row["Days"] = per_day
    return row


# --- Demographics ---------------------------------------------------------------------------


def demographics(db: Database, app_id: str, dimension: str) -> list[Row]:
    """Rows {Value, Endpoints} over the app's current endpoints, most endpoints first. Dates
    do not apply: it describes the endpoints as they are now, from the facet counts that
    endpoint writes keep current (clarion.store.facets)."""
    is_attribute = dimension.startswith(ATTRIBUTE_PREFIX) and dimension != ATTRIBUTE_PREFIX
    if not is_attribute and dimension not in DOCUMENT_FIELDS:
        choices = ", ".join([*DOCUMENT_FIELDS, "Attributes.<name>"])
        raise BadRequest(f"dimension must be one of {choices}, not {dimension!r}")
    return demographic_rows(rollups.endpoints_by_facet(db, app_id, dimension))


def demographic_rows(counts: Mapping[str, int]) -> list[Row]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"Value": value, "Endpoints": count} for value, count in ordered]


# --- Events ---------------------------------------------------------------------------------


def events(
    db: Database,
    app_id: str,
    start_day: date,
    end_day: date,
    event_type: str,
    attribute: str | None = None,
    metric: str | None = None,
) -> list[Row]:
    """Rows {Date, Count} for every day; with ``attribute``, {Date, Value, Count} for each value
    seen; with ``metric``, {Date, Count, Min, Max, Average, SessionWeightedAverage} for each
    day the metric was reported."""
    if attribute is not None and metric is not None:
        raise BadRequest("Ask for one of attribute or metric, not both")
    days = days_between(start_day, end_day)
    if attribute is not None:
        return attribute_rows(rollups.attribute_counts(db, app_id, [event_type], [attribute], days))
    if metric is not None:
        sessions_by_day = rollups.session_days(db, app_id, start_day, end_day)
        return metric_rows(
            rollups.metric_days(db, app_id, event_type, metric, days), sessions_by_day
        )
    return event_count_rows(rollups.event_counts(db, app_id, [event_type], days), days)


def event_count_rows(counts: Iterable[EventCount], days: Sequence[date]) -> list[Row]:
    by_day = {count.day: count.count for count in counts}
    return [{"Date": day.isoformat(), "Count": by_day.get(day, 0)} for day in days]


def attribute_rows(counts: Iterable[AttributeCount]) -> list[Row]:
    ordered = sorted(counts, key=lambda count: (count.day, -count.count, count.value))
    return [
        {"Date": count.day.isoformat(), "Value": count.value, "Count": count.count}
        for count in ordered
    ]


def metric_rows(
    metrics: Iterable[MetricDay], sessions_by_day: Mapping[date, SessionDay]
) -> list[Row]:
    """SessionWeightedAverage is None on a day without sessions."""
    rows = []
    for metric in metrics:
        day_sessions = sessions_by_day.get(metric.day)
        started = day_sessions.sessions if day_sessions else 0
        rows.append(
            {
                "Date": metric.day.isoformat(),
                "Count": metric.count,
                "Min": metric.minimum,
                "Max": metric.maximum,
                "Average": ratio(metric.total, metric.count),
                "SessionWeightedAverage": metric.total / started if started else None,
            }
        )
    return rows


# --- Revenue --------------------------------------------------------------------------------


def revenue(db: Database, app_id: str, start_day: date, end_day: date) -> list[Row]:
    """Rows {Date, Currency, Purchases, Quantity, Revenue} for each day and currency with
    purchases; revenue is the sum of ``_item_price`` times ``_quantity``, per currency."""
    return [
        {
            "Date": day.day.isoformat(),
            "Currency": day.currency,
            "Purchases": day.purchases,
            "Quantity": day.quantity,
            "Revenue": day.revenue,
        }
        for day in rollups.revenue_days(db, app_id, start_day, end_day)
    ]


# --- Funnel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """An endpoint reaches step k when it has a step-1 event at or after ``start_ms`` and
    before ``end_ms``, then events of steps 2..k in that order, each strictly after the one
    before and all at most ``window_ms`` after the step-1 event."""

    steps: tuple[str, ...]
    start_ms: int
    end_ms: int
    window_ms: int

    def deepest(self, moments: Iterable[tuple[int, set[str]]]) -> int:
        """How many steps one endpoint reaches, from its event types at each moment in time
        order. For each step it keeps only the latest step-1 time among the chains that have
        reached it: every later event is after all of them, so the latest start, with the
        most window left, can always go as far as any other. Steps are tried from the last
        down, so a moment's events only extend chains that ended at earlier moments."""
        steps = self.steps
        starts: list[int | None] = [None] * len(steps)
        deepest = 0
        for moment, types in moments:
            for k in range(len(steps) - 1, 0, -1):
                start = starts[k - 1]
                if start is not None and steps[k] in types and moment - start <= self.window_ms:
                    starts[k] = start
                    deepest = max(deepest, k + 1)
            if steps[0] in types and self.start_ms <= moment < self.end_ms:
                starts[0] = moment
                deepest = max(deepest, 1)
        return deepest

    def reached(self, events: Iterable[tuple[str, str, int]]) -> list[int]:
        """Endpoints reaching each step, from (endpoint, event type, timestamp) rows ordered by
        endpoint then timestamp: one endpoint's events at a time, so memory stays flat."""
        reached = [0] * len(self.steps)
        for _, endpoint_events in groupby(events, key=itemgetter(0)):
            for k in range(self.deepest(_moments(endpoint_events))):
                reached[k] += 1
        return reached


def _moments(events: Iterable[tuple[str, str, int]]) -> Iterable[tuple[int, set[str]]]:
    """Events at the same millisecond together: none of them is after another."""
    for moment, same_time in groupby(events, key=itemgetter(2)):
        yield moment, {event_type for _, event_type, _ in same_time}


def run_funnel(
    db: Database, app_id: str, query: Mapping[str, str], body: bytes, today: date
) -> list[Row]:
    """Answer ``POST …/reports/funnel``: steps and window from the body, range from the query."""
    steps, window_seconds = parse_funnel_body(body)
    start, end = parse_report_range(query, today)
    return funnel(db, app_id, start, end, steps, window_seconds)


def funnel(
    db: Database,
    app_id: str,
    start_day: date,
    end_day: date,
    steps: Sequence[str],
    window_seconds: int,
) -> list[Row]:
    """Rows {Step, EventType, Endpoints, ConversionFromPrevious, ConversionFromFirst}.

    Which events came in which order is lost in per-day counts, so this reads the raw events
    of the step types, by endpoint then time. Step-1 events count from the first day to the
    last; later steps may fall up to the window after the last day."""
    plan = Funnel(
        tuple(steps), _epoch_ms(start_day), _epoch_ms(end_day) + DAY_MS, window_seconds * 1000
    )
    last_ms = plan.end_ms - 1 + plan.window_ms
    with rollups.step_events(db, app_id, set(steps), plan.start_ms, last_ms) as events:
        reached = plan.reached(events)
    return funnel_rows(steps, reached)


def funnel_rows(steps: Sequence[str], reached: Sequence[int]) -> list[Row]:
    """Step 1 converts from itself: 1 when anyone started the funnel, else 0."""
    return [
        {
            "Step": index + 1,
            "EventType": event_type,
            "Endpoints": endpoints,
            "ConversionFromPrevious": ratio(endpoints, reached[max(index - 1, 0)]),
            "ConversionFromFirst": ratio(endpoints, reached[0]),
        }
        for index, (event_type, endpoints) in enumerate(zip(steps, reached, strict=True))
    ]


def _epoch_ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_MS


def parse_funnel_body(body: bytes) -> tuple[list[str], int]:
    """``{"Steps": [2 to 10 event types], "WindowSeconds": 1 to 30 days}``."""
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest(
            'The funnel body must be JSON, such as {"Steps": ["view", "buy"], '
            '"WindowSeconds": 86400}'
        ) from None
    if not isinstance(request, dict):
        raise BadRequest(f"The funnel body must be a JSON object, not {_json_kind(request)}")
    return _funnel_steps(request), _window_seconds(request)


def _funnel_steps(request: Mapping[str, Any]) -> list[str]:
    steps = request.get("Steps")
    allowed = f"{MIN_FUNNEL_STEPS} to {MAX_FUNNEL_STEPS} event types"
    if steps is None:
        raise BadRequest(f"Steps is required: a list of {allowed}")
    if not isinstance(steps, list):
        raise BadRequest(f"Steps must be a list of {allowed}, not {_json_kind(steps)}")
    if not MIN_FUNNEL_STEPS <= len(steps) <= MAX_FUNNEL_STEPS:
        raise BadRequest(f"Steps holds {len(steps)}; a funnel has {allowed}")
    for index, step in enumerate(steps):
        if not isinstance(step, str) or not step:
            raise BadRequest(f"Steps[{index}] must be an event type, a non-empty string")
    return steps


def _window_seconds(request: Mapping[str, Any]) -> int:
    window = request.get("WindowSeconds")
    allowed = f"a whole number of seconds from 1 to {MAX_FUNNEL_WINDOW_SECONDS} (30 days)"
    if window is None:
        raise BadRequest(f"WindowSeconds is required: {allowed}")
    if isinstance(window, bool) or not isinstance(window, int):
        raise BadRequest(f"WindowSeconds must be {allowed}, not {_json_kind(window)}")
    if not 1 <= window <= MAX_FUNNEL_WINDOW_SECONDS:
        raise BadRequest(f"WindowSeconds is {window}; it must be {allowed}")
    return window


def _json_kind(value: Any) -> str:
    """How JSON would name the type of ``value``, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"
