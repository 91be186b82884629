"""The message rollups without a database: which events they take, what one event adds, and the
KPI arithmetic over facts and endpoint bitmaps, checked against brute-force set arithmetic."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyroaring import BitMap

from clarion.analytics import kpis
from clarion.analytics.kpis import EndpointKpi, FactKpi, Grouping
from clarion.events import messages
from clarion.store.analytics import MessageEndpoints, MessageFacts
from clarion.store.rollups import Fact, FactKey, FactTotals

DAY = date(2026, 11, 20)


# --- Which events, from whom ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "is_message"),
    [
        ("_email.send", True),
        ("_SMS.SUCCESS", True),
        ("_push.send", True),
        ("_campaign.opened_notification", True),
        ("_journey.send", False),
        ("_session.start", False),
        ("_monetization.purchase", False),
        ("_sms.success", False),
        ("email.send", False),
        ("level.up", False),
    ],
)
def test_only_message_event_types_are_examined(event_type: str, is_message: bool) -> None:
    assert messages.is_message(event_type) is is_message


@pytest.mark.parametrize(
    ("attributes", "sender"),
    [
        ({}, ""),
        ({"feedback": "opened"}, ""),
        ({"campaign_id": "c1"}, "c1"),
        ({"campaign_id": "c1", "treatment_id": "0"}, "c1"),
        ({"journey_id": "j1"}, None),
        ({"campaign_id": "", "journey_id": ""}, ""),
    ],
)
def test_the_sender_is_the_campaign_or_transactional_and_journeys_are_left_out(
    attributes: dict[str, str], sender: str | None
) -> None:
    assert messages.sender(attributes) == sender


def test_a_fact_key_holds_the_paired_attributes_cut_to_short_codes() -> None:
    attributes = {
        "iso_country_code": "US",
        "record_status": "x" * 200,
        "delivery_type": "GCM",
        "campaign_send_status": "SUCCESS",
        "destination_phone_number": "+14255550199",
    }
    key = messages.fact_key("2026-11-20", "_SMS.FAILURE", "", attributes)
    assert key == FactKey(
        "2026-11-20", "_SMS.FAILURE", "", "US", "x" * messages.MAX_CODE_LENGTH, "GCM", "SUCCESS"
    )
    assert messages.fact_key("d", "_email.open", "c1", {}) == FactKey(
        "d", "_email.open", "c1", "", "", "", ""
    )


@pytest.mark.parametrize(
    ("attributes", "metrics", "fact"),
    [
        ({"number_of_message_parts": "2"}, {"price_in_millicents_usd": 645.0}, (2, 1, 645.0)),
        ({"number_of_message_parts": "1"}, {}, (1, 0, 0.0)),
        ({}, {"price_in_millicents_usd": 0.0}, (0, 1, 0.0)),
        ({"number_of_message_parts": "two"}, {"other": 3.0}, (0, 0, 0.0)),
        ({"number_of_message_parts": "-1"}, {}, (0, 0, 0.0)),
        ({"number_of_message_parts": "²"}, {}, (0, 0, 0.0)),
    ],
)
def test_a_fact_is_the_reported_parts_and_price(
    attributes: dict[str, str], metrics: dict[str, float], fact: tuple[int, int, float]
) -> None:
    assert messages.fact(attributes, metrics) == fact


def test_fact_totals_add_up_events() -> None:
    totals = FactTotals()
    totals.add(Fact(2, 1, 645.0))
    totals.add(Fact(1, 0, 0.0))
    assert totals == FactTotals(count=2, parts=3, priced=1, price=645.0)


# --- The catalogue --------------------------------------------------------------------------


def test_campaign_metrics_read_campaign_messages_and_txn_metrics_transactional_ones() -> None:
    for name, kpi in kpis.MESSAGE_KPIS.items():
        assert kpi.from_campaigns is not name.startswith("txn-"), name


@pytest.mark.parametrize(
    ("name", "grouping", "key"),
    [
        ("unique-deliveries-grouped-by-campaign", Grouping.CAMPAIGN, "UniqueDeliveries"),
        ("txn-emails-unique-opens-grouped-by-date", Grouping.DATE, "TxnEmailsUniqueOpens"),
        ("txn-sms-sent-by-parts-grouped-by-country", Grouping.COUNTRY, "TxnSmsSentByParts"),
        ("txn-sms-error-distribution", Grouping.ERROR, "TxnSmsErrorDistribution"),
        ("sms-spend", Grouping.NONE, "SmsSpend"),
        ("push-open-rate", Grouping.NONE, "PushOpenRate"),
    ],
)
def test_message_kpis_group_and_name_their_values(name: str, grouping: Grouping, key: str) -> None:
    kpi = kpis.MESSAGE_KPIS[name]
    assert (kpi.grouping, kpi.key) == (grouping, key)


# --- Fact KPIs ------------------------------------------------------------------------------


def facts(
    group: str,
    event_type: str,
    count: int = 1,
    parts: int = 0,
    price: float | None = None,
    channel: str = "",
    status: str = "",
) -> MessageFacts:
    priced = 0 if price is None else count
    return MessageFacts(
        group, event_type, channel, status, count, parts, priced, (price or 0.0) * count
    )


def fact_values(name: str, rows: Iterable[MessageFacts]) -> list[tuple[str | None, str]]:
    kpi = kpis.MESSAGE_KPIS[name]
    assert isinstance(kpi, FactKpi)
    return [
        (row["GroupedBys"][0]["Value"] if "GroupedBys" in row else None, row["Values"][0]["Value"])
        for row in kpis.fact_rows(kpi, rows)
    ]


def test_prices_are_millicents_summed_into_us_dollars() -> None:
    rows = [facts("", "_SMS.SUCCESS", price=645.0), facts("", "_SMS.FAILURE", 2, price=1000.0)]
    assert fact_values("sms-spend", rows) == [(None, repr((645 + 2000) / 100_000))]


def test_a_reported_price_of_zero_is_data_and_a_missing_one_is_not() -> None:
    assert fact_values("sms-spend", [facts("", "_SMS.SUCCESS", price=0.0)]) == [(None, "0.0")]
    assert fact_values("sms-spend", [facts("", "_SMS.SUCCESS", 3)]) == []
    assert fact_values("sms-spend", [facts("", "_SMS.BUFFERED", price=9.0)]) == []


def test_averages_divide_price_by_priced_messages_or_by_their_parts() -> None:
    rows = [
        facts("FR", "_SMS.SUCCESS", 2, parts=6, price=3000.0),
        facts("FR", "_SMS.FAILURE", 1, parts=1, price=1000.0),
        facts("FR", "_SMS.BUFFERED", 5, parts=20),
        facts("US", "_SMS.BUFFERED", 1, parts=1),
    ]
    assert fact_values("txn-sms-average-price-grouped-by-country", rows) == [
        ("FR", repr(7000 / 100_000 / 3))
    ]
    assert fact_values("txn-sms-average-price-by-parts-grouped-by-country", rows) == [
        ("FR", repr(7000 / 100_000 / 7))
    ]
    assert fact_values("txn-sms-sent-by-parts-grouped-by-country", rows) == [
        ("FR", "20.0"),
        ("US", "1.0"),
    ]


def test_events_without_the_grouping_attribute_are_left_out_of_its_groups() -> None:
    rows = [facts("", "_SMS.BUFFERED", 4), facts("DE", "_SMS.BUFFERED", 1)]
    assert fact_values("txn-sms-sent-grouped-by-country", rows) == [("DE", "1.0")]
    errors = [facts("", "_SMS.FAILURE", 2), facts("BLOCKED", "_SMS.FAILURE", 3)]
    assert fact_values("txn-sms-error-distribution", errors) == [("BLOCKED", "3.0")]


def test_push_opens_divide_by_successful_campaign_sends_through_push_channels() -> None:
    rows = [
        facts("c1", "_campaign.opened_notification", 3),
        facts("c1", "_campaign.send", 4, channel="GCM", status="SUCCESS"),
        facts("c1", "_campaign.send", 2, channel="APNS", status="SUCCESS"),
        facts("c1", "_campaign.send", 5, channel="APNS", status="QUIET_TIME"),
        facts("c1", "_campaign.send", 7, channel="EMAIL", status="SUCCESS"),
        facts("c2", "_campaign.opened_notification", 1),
        facts("c3", "_campaign.send", 1, channel="BAIDU", status="SUCCESS"),
    ]
    assert fact_values("push-open-rate-grouped-by-campaign", rows) == [
        ("c1", "0.5"),
        ("c3", "0.0"),
    ]


def test_counts_of_nothing_have_no_rows() -> None:
    for name, kpi in kpis.MESSAGE_KPIS.items():
        if isinstance(kpi, FactKpi):
            assert kpis.fact_rows(kpi, []) == [], name


# --- Distinct endpoints, brute force against sets ------------------------------------------

CAMPAIGNS = ["c1", "c2"]
endpoint_sets = st.dictionaries(
    st.tuples(
        st.integers(min_value=0, max_value=4),
        st.sampled_from(CAMPAIGNS),
        st.sampled_from(["_campaign.send", "_email.hardbounce"]),
    ),
    st.frozensets(st.integers(min_value=0, max_value=30), min_size=1, max_size=10),
    max_size=20,
)


def delivered(sets: dict[tuple[int, str, str], frozenset[int]], n: int, c: str) -> set[int]:
    return set(sets.get((n, c, "_campaign.send"), frozenset())) - sets.get(
        (n, c, "_email.hardbounce"), frozenset()
    )


@given(endpoint_sets)
def test_unique_deliveries_match_set_arithmetic(
    sets: dict[tuple[int, str, str], frozenset[int]],
) -> None:
    stored = [
        MessageEndpoints(DAY + timedelta(days=n), event_type, campaign, BitMap(ordinals))
        for (n, campaign, event_type), ordinals in sets.items()
    ]
    by_day: dict[str | None, set[int]] = {
        (DAY + timedelta(days=n)).isoformat(): set().union(
            *(delivered(sets, n, c) for c in CAMPAIGNS)
        )
        for n in range(5)
    }
    by_campaign: dict[str | None, set[int]] = {
        c: set().union(*(delivered(sets, n, c) for n in range(5))) for c in CAMPAIGNS
    }
    overall: dict[str | None, set[int]] = {None: set().union(*by_day.values())}
    for name, expected in [
        ("unique-deliveries", overall),
        ("unique-deliveries-grouped-by-date", by_day),
        ("unique-deliveries-grouped-by-campaign", by_campaign),
    ]:
        kpi = kpis.MESSAGE_KPIS[name]
        assert isinstance(kpi, EndpointKpi)
        rows = kpis.endpoint_rows(kpi, stored)
        assert [
            (row["GroupedBys"][0]["Value"] if "GroupedBys" in row else None, row["Values"][0])
            for row in rows
        ] == [
            (group, {"Key": "UniqueDeliveries", "Type": "Double", "Value": f"{len(found)}.0"})
            for group, found in sorted(expected.items(), key=lambda item: item[0] or "")
            if found
        ]


def test_unique_opens_count_each_endpoint_once_per_group() -> None:
    stored = [
        MessageEndpoints(DAY, "_email.open", "", BitMap([1, 2, 3])),
        MessageEndpoints(DAY + timedelta(days=1), "_email.open", "", BitMap([3, 4])),
    ]
    overall = kpis.MESSAGE_KPIS["txn-emails-unique-opens"]
    by_date = kpis.MESSAGE_KPIS["txn-emails-unique-opens-grouped-by-date"]
    assert isinstance(overall, EndpointKpi) and isinstance(by_date, EndpointKpi)
    assert kpis.endpoint_rows(overall, stored)[0]["Values"][0]["Value"] == "4.0"
    assert [row["Values"][0]["Value"] for row in kpis.endpoint_rows(by_date, stored)] == [
        "3.0",
        "2.0",
    ]
    assert kpis.endpoint_rows(overall, []) == []
