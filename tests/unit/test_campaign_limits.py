"""CampaignLimits: campaign over application member by member, and the per-send arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clarion.campaigns.limits import (
    Limits,
    delivery_deadline,
    effective_limits,
    endpoint_allowed,
    send_budget,
)

APP = {"Daily": 5, "Total": 20, "MessagesPerSecond": 100, "MaximumDuration": 600, "Session": 2}


def test_campaign_members_override_the_application_one_by_one() -> None:
    limits = effective_limits(APP, {"Daily": 2, "MessagesPerSecond": 50})
    assert limits == Limits(
        daily=2,
        daily_across_campaigns=False,
        total=20,
        messages_per_second=50,
        maximum_duration=600,
        session=2,
    )


def test_the_application_daily_limit_counts_every_campaign() -> None:
    assert effective_limits(APP, None).daily_across_campaigns
    assert effective_limits(APP, {"Total": 3}).daily_across_campaigns
    assert not effective_limits({}, {"Daily": 3}).daily_across_campaigns


def test_zero_and_absent_mean_no_limit() -> None:
    assert effective_limits(None, None) == Limits()
    zeros = effective_limits(APP, {"Daily": 0, "Total": 0, "Session": 0})
    assert (zeros.daily, zeros.total, zeros.session) == (None, None, None)
    assert not zeros.daily_across_campaigns


def test_an_endpoint_may_receive_until_each_limit_is_reached() -> None:
    limits = Limits(daily=2, total=3, session=1)
    assert endpoint_allowed(limits, sent_in_window=1, sent_total=2)
    assert not endpoint_allowed(limits, sent_in_window=2, sent_total=2)
    assert not endpoint_allowed(limits, sent_in_window=0, sent_total=3)
    assert not endpoint_allowed(limits, sent_in_window=0, sent_total=0, sent_in_session=1)
    assert endpoint_allowed(Limits(), sent_in_window=10**6, sent_total=10**6, sent_in_session=99)


def test_send_budget_keeps_to_the_rate() -> None:
    limits = Limits(messages_per_second=100)
    assert send_budget(limits, elapsed_seconds=0, sent=0) == 100
    assert send_budget(limits, elapsed_seconds=0.5, sent=100) == 50
    assert send_budget(limits, elapsed_seconds=2.5, sent=300) == 50
    assert send_budget(limits, elapsed_seconds=1, sent=500) == 0
    assert send_budget(limits, elapsed_seconds=-3, sent=0) == 100
    assert send_budget(Limits(), elapsed_seconds=1, sent=10**9) is None


@given(
    rate=st.integers(1, 20_000),
    steps=st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=20),
)
def test_a_run_that_spends_its_budget_never_outruns_the_rate(rate: int, steps: list[float]) -> None:
    limits, elapsed, sent = Limits(messages_per_second=rate), 0.0, 0
    for step in steps:
        elapsed += step
        budget = send_budget(limits, elapsed_seconds=elapsed, sent=sent)
        assert budget is not None and budget >= 0
        sent += budget
        assert sent <= rate * (elapsed + 1)


def test_delivery_deadline_is_maximum_duration_after_the_scheduled_start() -> None:
    scheduled = datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert delivery_deadline(Limits(maximum_duration=60), scheduled) == scheduled + timedelta(
        minutes=1
    )
    assert delivery_deadline(Limits(), scheduled) is None
