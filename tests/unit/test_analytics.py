"""The analytics arithmetic without a database: KPI ranges, names, sums and values; report
ranges, sliding windows, cohorts and row shapes, checked against brute-force set arithmetic."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyroaring import BitMap

from clarion.analytics import kpis, reports
from clarion.analytics.kpis import CAMPAIGN_ID, JOURNEY_ID, Grouping, Kpi, Term
from clarion.errors import BadRequest
from clarion.store.analytics import AttributeCount, EventCount, MetricDay, SessionDay

NOW = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
TODAY = NOW.date()

# Every application metric in the Developer Guide's "Standard Amazon Pinpoint analytics
# metrics" (application metrics for campaigns, transactional email, transactional SMS).
DOCUMENTED_APPLICATION_METRICS = [
    "successful-delivery-rate",
    "successful-delivery-rate-grouped-by-date",
    "email-open-rate",
    "email-open-rate-grouped-by-campaign",
    "unique-deliveries",
    "unique-deliveries-grouped-by-campaign",
    "unique-deliveries-grouped-by-date",
    "successful-deliveries-grouped-by-campaign",
    "push-open-rate",
    "push-open-rate-grouped-by-campaign",
    *[
        f"txn-emails-{name}{suffix}"
        for name in (
            "clicked",
            "complaint-rate",
            "with-complaints",
            "delivered",
            "delivery-rate",
            "hard-bounced",
            "opened",
            "sent",
            "soft-bounced",
            "unique-clicks",
            "unique-opens",
        )
        for suffix in ("", "-grouped-by-date")
    ],
    "txn-sms-average-price-grouped-by-country",
    "txn-sms-average-price-by-parts-grouped-by-country",
    "txn-sms-delivered",
    "txn-sms-delivered-grouped-by-country",
    "txn-sms-delivered-grouped-by-date",
    "txn-sms-error-distribution",
    "txn-sms-delivery-rate",
    "txn-sms-delivery-rate-grouped-by-date",
    "txn-sms-delivered-by-parts",
    "txn-sms-delivered-by-parts-grouped-by-country",
    "txn-sms-sent-by-parts",
    "txn-sms-sent-by-parts-grouped-by-country",
    "txn-sms-sent",
    "txn-sms-sent-grouped-by-country",
    "txn-sms-sent-grouped-by-date",
    "txn-sms-total-price-grouped-by-country",
    "sms-spend",
]


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


# --- KPI date ranges ------------------------------------------------------------------------


def test_kpi_range_defaults_to_the_31_days_ending_now() -> None:
    window = kpis.kpi_range(None, None, NOW)
    assert window.start == at(TODAY - timedelta(days=30))
    assert window.end == NOW
    assert window.days == [TODAY - timedelta(days=30 - n) for n in range(31)]


def test_kpi_range_without_start_time_covers_31_days_ending_at_end_time() -> None:
    end = at(TODAY - timedelta(days=5), 8)
    window = kpis.kpi_range(None, end, NOW)
    assert window.start == at(TODAY - timedelta(days=35))
    assert len(window.days) == 31


def test_kpi_range_is_inclusive_and_at_most_31_calendar_days() -> None:
    first = TODAY - timedelta(days=40)
    window = kpis.kpi_range(at(first, 20), at(first + timedelta(days=30), 23, 59, 59), NOW)
    assert window.days[0] == first
    assert window.days[-1] == first + timedelta(days=30)
    with pytest.raises(BadRequest, match="32 calendar days; it can cover at most 31"):
        kpis.kpi_range(at(first), at(first + timedelta(days=31)), NOW)


def test_kpi_range_end_before_start_is_bad_request() -> None:
    with pytest.raises(BadRequest, match=r"EndTime .* is before StartTime"):
        kpis.kpi_range(at(TODAY, 10), at(TODAY, 9, 59), NOW)


def test_kpi_range_must_start_fewer_than_90_days_ago() -> None:
    kpis.kpi_range(at(TODAY - timedelta(days=89)), at(TODAY - timedelta(days=80)), NOW)
    with pytest.raises(BadRequest, match="fewer than 90 days before the current day"):
        kpis.kpi_range(at(TODAY - timedelta(days=90)), at(TODAY - timedelta(days=80)), NOW)


@given(
    st.integers(min_value=0, max_value=89),
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=86399),
    st.integers(min_value=0, max_value=86399),
)
def test_kpi_range_days_run_from_the_start_day_to_the_end_day(
    back: int, span: int, start_second: int, end_second: int
) -> None:
    first = TODAY - timedelta(days=back)
    start = at(first) + timedelta(seconds=start_second)
    end = at(first + timedelta(days=span)) + timedelta(seconds=end_second)
    if end < start:
        return
    window = kpis.kpi_range(start, end, NOW)
    assert window.days == [first + timedelta(days=n) for n in range(span + 1)]


# --- KPI names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DOCUMENTED_APPLICATION_METRICS)
def test_every_documented_application_metric_is_computed(name: str) -> None:
    assert kpis.application_kpi(name).name == name


def test_no_metric_is_undocumented() -> None:
    assert set(kpis.APPLICATION_KPIS) == set(DOCUMENTED_APPLICATION_METRICS)


@pytest.mark.parametrize(
    "name", ["no-such-kpi", "hard-bounce-rate", "journey-emails-sent", "TXN-EMAILS-SENT", ""]
)
def test_other_names_are_bad_requests(name: str) -> None:
    with pytest.raises(BadRequest, match="is not an application metric"):
        kpis.application_kpi(name)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("txn-emails-sent", "TxnEmailsSent"),
        ("txn-sms-sent-grouped-by-date", "TxnSmsSent"),
        ("unique-deliveries-grouped-by-campaign", "UniqueDeliveries"),
        ("email-open-rate-grouped-by-campaign", "EmailOpenRate"),
    ],
)
def test_value_keys_are_the_pascal_case_name_without_grouping(name: str, key: str) -> None:
    assert Kpi(name, (), None, Grouping.NONE).key == key


def test_grouping_follows_the_name() -> None:
    for name, kpi in kpis.KPIS.items():
        if name.endswith("-grouped-by-date"):
            assert kpi.grouping is Grouping.DATE
        elif name.endswith("-grouped-by-campaign"):
            assert kpi.grouping is Grouping.CAMPAIGN
            assert all(term.attribute == CAMPAIGN_ID for term in kpi.terms)
        else:
            assert kpi.grouping is Grouping.NONE


# --- KPI values -----------------------------------------------------------------------------


def sent(group: str, total: int, campaigns: int = 0, journeys: int = 0) -> list[kpis.Tally]:
    return [
        (group, Term("_email.send"), total),
        (group, Term("_email.send", CAMPAIGN_ID), campaigns),
        (group, Term("_email.send", JOURNEY_ID), journeys),
    ]


def test_transactional_counts_leave_out_campaign_and_journey_messages() -> None:
    rows = kpis.kpi_rows(kpis.KPIS["txn-emails-sent"], sent("", 10, campaigns=3, journeys=2))
    assert rows == [{"Values": [{"Key": "TxnEmailsSent", "Type": "Double", "Value": "5.0"}]}]


def test_no_data_is_an_empty_result() -> None:
    assert kpis.kpi_rows(kpis.KPIS["txn-emails-sent"], []) == []
    assert kpis.kpi_rows(kpis.KPIS["txn-emails-sent"], sent("", 4, campaigns=4)) == []
    assert kpis.kpi_rows(kpis.KPIS["txn-emails-delivery-rate"], sent("", 2, journeys=2)) == []


def test_rates_divide_and_report_zero_when_only_the_numerator_is_missing() -> None:
    kpi = kpis.KPIS["txn-emails-delivery-rate"]
    delivered = [("", Term("_email.delivered"), 4), ("", Term("_email.delivered", CAMPAIGN_ID), 1)]
    assert kpis.kpi_rows(kpi, sent("", 5, campaigns=1) + delivered) == [
        {"Values": [{"Key": "TxnEmailsDeliveryRate", "Type": "Double", "Value": "0.75"}]}
    ]
    assert kpis.kpi_rows(kpi, sent("", 5))[0]["Values"][0]["Value"] == "0.0"


def test_date_groups_are_sorted_and_skip_days_without_data() -> None:
    tallies = sent("2026-11-02", 2) + sent("2026-11-01", 7) + sent("2026-11-03", 1, campaigns=1)
    rows = kpis.kpi_rows(kpis.KPIS["txn-emails-sent-grouped-by-date"], tallies)
    assert rows == [
        {
            "GroupedBys": [{"Key": "Date", "Type": "String", "Value": day}],
            "Values": [{"Key": "TxnEmailsSent", "Type": "Double", "Value": value}],
        }
        for day, value in [("2026-11-01", "7.0"), ("2026-11-02", "2.0")]
    ]


def test_campaign_groups_divide_per_campaign() -> None:
    tallies: list[kpis.Tally] = [
        ("c1", Term("_email.open", CAMPAIGN_ID), 1),
        ("c1", Term("_email.delivered", CAMPAIGN_ID), 4),
        ("c2", Term("_email.open", CAMPAIGN_ID), 3),
    ]
    rows = kpis.kpi_rows(kpis.KPIS["email-open-rate-grouped-by-campaign"], tallies)
    assert rows == [
        {
            "GroupedBys": [{"Key": "CampaignId", "Type": "String", "Value": "c1"}],
            "Values": [{"Key": "EmailOpenRate", "Type": "Double", "Value": "0.25"}],
        }
    ]


def test_campaign_deliveries_are_sends_minus_hard_bounces() -> None:
    tallies: list[kpis.Tally] = [
        ("", Term("_campaign.send", CAMPAIGN_ID), 8),
        ("", Term("_email.hardbounce", CAMPAIGN_ID), 2),
    ]
    rows = kpis.kpi_rows(kpis.KPIS["successful-delivery-rate"], tallies)
    assert rows[0]["Values"][0] == {
        "Key": "SuccessfulDeliveryRate",
        "Type": "Double",
        "Value": "0.75",
    }


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0.0"),
        (62, "62.0"),
        (1368.0, "1368.0"),
        (0.25, "0.25"),
        (0.001, "0.001"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (12345678, "1.2345678E7"),
        (0.0001, "1.0E-4"),
        (-2.5e-5, "-2.5E-5"),
    ],
)
def test_values_read_like_java_doubles(number: float, text: str) -> None:
    assert kpis.java_double(number) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_java_doubles_read_back_exactly(number: float) -> None:
    text = kpis.java_double(number)
    assert re.fullmatch(r"-?\d+\.\d+(E-?\d+)?", text)
    assert float(text) == number or (number == 0 and text == "0.0")


# --- Report ranges --------------------------------------------------------------------------


def test_report_range_defaults_to_the_31_days_ending_today() -> None:
    assert reports.parse_report_range({}, TODAY) == (TODAY - timedelta(days=30), TODAY)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"start-time": "2026-01-01", "end-time": "2026-01-31"}, ("2026-01-01", "2026-01-31")),
        (
            {"start-time": "2026-01-01T23:30:00-02:00", "end-time": "2026-01-05T00:00:00Z"},
            ("2026-01-02", "2026-01-05"),
        ),
        ({"end-time": "2026-03-01"}, ("2026-01-30", "2026-03-01")),
        ({"start-time": "2026-11-01"}, ("2026-11-01", "2026-11-28")),
        ({"start-time": "2025-11-28"}, ("2025-11-28", "2026-11-28")),
    ],
)
def test_report_range_takes_whole_utc_days(
    query: Mapping[str, str], expected: tuple[str, str]
) -> None:
    start, end = reports.parse_report_range(query, TODAY)
    assert (start.isoformat(), end.isoformat()) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start-time": "yesterday"}, "start-time must be an ISO 8601 date"),
        ({"end-time": "2026-02-30"}, "end-time must be an ISO 8601 date"),
        ({"start-time": "2026-02-02", "end-time": "2026-02-01"}, r"end-time \(2026-02-01\) is"),
        ({"start-time": "2026-12-01"}, "end-time, by default today, .* is before start-time"),
        ({"start-time": "2025-11-27"}, "covers 367 days; a report covers at most 366"),
    ],
)
def test_bad_report_ranges_are_bad_requests(query: Mapping[str, str], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        reports.parse_report_range(query, TODAY)


# --- Active users, brute force against sets -------------------------------------------------

FIRST = date(2026, 1, 1)
activity_days = st.dictionaries(
    st.integers(min_value=0, max_value=70),
    st.frozensets(st.integers(min_value=0, max_value=40), max_size=12),
    max_size=40,
)


def bitmaps(activity: Mapping[int, frozenset[int]]) -> dict[date, BitMap]:
    return {FIRST + timedelta(days=n): BitMap(ordinals) for n, ordinals in activity.items()}


def active_in(activity: Mapping[int, frozenset[int]], first: int, last: int) -> set[int]:
    return {o for n, ordinals in activity.items() if first <= n <= last for o in ordinals}


def first_days(activity: Mapping[int, frozenset[int]]) -> dict[int, int]:
    first: dict[int, int] = {}
    for n in sorted(activity):
        for ordinal in activity[n]:
            first.setdefault(ordinal, n)
    return first


@given(
    activity_days, st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=10)
)
def test_active_users_match_set_arithmetic(
    activity: dict[int, frozenset[int]], start: int, length: int
) -> None:
    firsts = first_days(activity)
    new = {
        FIRST + timedelta(days=n): sum(1 for f in firsts.values() if f == n)
        for n in set(firsts.values())
    }
    rows = reports.active_user_rows(
        bitmaps(activity),
        new,
        FIRST + timedelta(days=start),
        FIRST + timedelta(days=start + length),
    )
    assert len(rows) == length + 1
    for n, row in enumerate(rows, start):
        daily = len(activity.get(n, frozenset()))
        monthly = len(active_in(activity, n - 29, n))
        assert row == {
            "Date": (FIRST + timedelta(days=n)).isoformat(),
            "DailyActiveUsers": daily,
            "WeeklyActiveUsers": len(active_in(activity, n - 6, n)),
            "MonthlyActiveUsers": monthly,
            "NewUsers": sum(1 for f in firsts.values() if f == n),
            "StickyFactor": daily / monthly if monthly else 0.0,
        }


# --- Retention, brute force against sets ----------------------------------------------------


@given(
    activity_days,
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=10),
    st.integers(min_value=0, max_value=80),
)
def test_retention_matches_set_arithmetic(
    activity: dict[int, frozenset[int]], start: int, length: int, today: int
) -> None:
    firsts = first_days(activity)
    rows = reports.retention_rows(
        bitmaps(activity),
        FIRST + timedelta(days=start),
        FIRST + timedelta(days=start + length),
        FIRST + timedelta(days=today),
    )
    for n, row in enumerate(rows, start):
        cohort = {o for o, f in firsts.items() if f == n}
        elapsed = min(30, max(0, today - n))
        expected: dict[str, object] = {
            "CohortDate": (FIRST + timedelta(days=n)).isoformat(),
            "NewUsers": len(cohort),
        }
        for window in (7, 14, 30):
            returned = cohort & active_in(activity, n + 1, n + window)
            expected[f"Retained{window}"] = len(returned) if n + window <= today else None
        expected["Days"] = [
            len(cohort & activity.get(n + k, frozenset())) for k in range(1, elapsed + 1)
        ]
        assert row == expected


# --- Other rows -----------------------------------------------------------------------------


def test_session_rows_fill_every_day_and_divide_safely() -> None:
    day = date(2026, 3, 1)
    rows = reports.session_rows(
        {day: SessionDay(day, sessions=12, ended=4, duration_ms=10_000)},
        {day: 3, day + timedelta(days=1): 2},
        day,
        day + timedelta(days=1),
    )
    assert rows == [
        {
            "Date": "2026-03-01",
            "Sessions": 12,
            "SessionsPerDailyActiveUser": 4.0,
            "AverageSessionSeconds": 2.5,
        },
        {
            "Date": "2026-03-02",
            "Sessions": 0,
            "SessionsPerDailyActiveUser": 0.0,
            "AverageSessionSeconds": 0.0,
        },
    ]


def test_demographic_rows_put_most_endpoints_first_then_by_value() -> None:
    assert reports.demographic_rows({"web": 2, "ios": 5, "android": 2}) == [
        {"Value": "ios", "Endpoints": 5},
        {"Value": "android", "Endpoints": 2},
        {"Value": "web", "Endpoints": 2},
    ]


def test_event_rows() -> None:
    day = date(2026, 3, 1)
    days = [day, day + timedelta(days=1)]
    assert reports.event_count_rows([EventCount(day, "buy", 3)], days) == [
        {"Date": "2026-03-01", "Count": 3},
        {"Date": "2026-03-02", "Count": 0},
    ]
    counts = [
        AttributeCount(days[1], "buy", "color", "red", 1),
        AttributeCount(day, "buy", "color", "red", 1),
        AttributeCount(day, "buy", "color", "blue", 2),
    ]
    assert reports.attribute_rows(counts) == [
        {"Date": "2026-03-01", "Value": "blue", "Count": 2},
        {"Date": "2026-03-01", "Value": "red", "Count": 1},
        {"Date": "2026-03-02", "Value": "red", "Count": 1},
    ]


def test_metric_rows_weigh_the_total_by_the_days_sessions() -> None:
    day = date(2026, 3, 1)
    metrics = [MetricDay(day, 4, 10.0, 1.0, 4.0), MetricDay(day + timedelta(days=1), 1, 2.0, 2, 2)]
    rows = reports.metric_rows(metrics, {day: SessionDay(day, 5, 5, 0)})
    assert rows == [
        {
            "Date": "2026-03-01",
            "Count": 4,
            "Min": 1.0,
            "Max": 4.0,
            "Average": 2.5,
            "SessionWeightedAverage": 2.0,
        },
        {
            "Date": "2026-03-02",
            "Count": 1,
            "Min": 2,
            "Max": 2,
            "Average": 2.0,
            "SessionWeightedAverage": None,
        },
    ]


def test_ratio_is_zero_without_a_whole() -> None:
    assert reports.ratio(3, 0) == 0.0
    assert math.isclose(reports.ratio(1, 3), 1 / 3)
