"""The one eligibility rule set, property-tested: opt-outs never receive, quiet time is never
broken in the endpoint's own zone, and limits are never exceeded, across random endpoints,
zones and clocks. The quiet-time oracle here reads the wall clock with zoneinfo itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.campaigns.eligibility import Eligibility, Skip
from clarion.campaigns.limits import DAILY_WINDOW, Limits

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Seoul", "Australia/Adelaide"]
CHANNELS = ["EMAIL", "SMS", "GCM"]

endpoints = st.fixed_dictionaries(
    {
        "Id": st.text("abcdef0123456789", min_size=1, max_size=12),
        "ChannelType": st.sampled_from(CHANNELS),
        "OptOut": st.sampled_from(["NONE", "ALL"]),
        "EndpointStatus": st.sampled_from(["ACTIVE", "INACTIVE"]),
        "Demographic": st.fixed_dictionaries({"Timezone": st.sampled_from(ZONES)}),
    }
)
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
hours = st.integers(0, 23).map(lambda h: f"{h:02d}:00")


def rules(quiet: tuple[str, str] | None = None, limits: Limits | None = None) -> Eligibility:
    return Eligibility(
        campaign_id="c1",
        holdout_percent=10,
        sizes=(60, 30),
        quiet=quiet,
        limits=limits or Limits(),
        has_message=lambda treatment, channel: channel != "GCM" or treatment == 1,
    )


def quiet_now(at: datetime, start: str, end: str, zone: str) -> bool:
    minute = at.astimezone(ZoneInfo(zone))
    now, first, last = (
        minute.hour * 60 + minute.minute,
        int(start[:2]) * 60 + int(start[3:]),
        int(end[:2]) * 60 + int(end[3:]),
    )
    if first == last:
        return False
    return first <= now < last if first < last else now >= first or now < last


@given(endpoints, moments, hours, hours)
@settings(max_examples=300)
def test_a_message_goes_only_to_reachable_endpoints_outside_their_quiet_time(
    document: dict[str, Any], at: datetime, start: str, end: str
) -> None:
    decided = rules((start, end)).decide(
        document, document["Id"], at, sent_in_window=0, sent_total=0
    )
    if decided.skip is None:
        assert document["OptOut"] != "ALL"
        assert document["EndpointStatus"] != "INACTIVE"
        assert decided.treatment is not None
        assert document["ChannelType"] != "GCM" or decided.treatment == 1
        assert not quiet_now(at, start, end, document["Demographic"]["Timezone"])
    elif document["OptOut"] == "ALL" and decided.treatment is not None:
        assert decided.skip in (Skip.OPT_OUT, Skip.NO_MESSAGE)


@given(endpoints, st.sampled_from([0, 1, None]))
def test_a_scheduled_run_reaches_only_its_own_treatment(
    document: dict[str, Any], treatment: int | None
) -> None:
    reached = rules().reach(document, document["Id"], treatment)
    if reached.skip is None:
        assert treatment is None or reached.treatment == treatment
    whole = rules().reach(document, document["Id"], None)
    assert whole.treatment == reached.treatment or reached.skip is not None


@given(
    endpoints,
    st.lists(st.integers(0, 96), min_size=1, max_size=60),
    st.integers(1, 5),
    st.integers(1, 12),
)
def test_limits_are_never_exceeded(
    document: dict[str, Any], gaps: list[int], daily: int, total: int
) -> None:
    """Attempts at random moments (gaps in hours); whatever goes must keep both limits."""
    document = {**document, "OptOut": "NONE", "EndpointStatus": "ACTIVE", "ChannelType": "SMS"}
    eligibility = rules(limits=Limits(daily=daily, total=total))
    sent: list[datetime] = []
    at = datetime(2026, 3, 1, tzinfo=UTC)
    for gap in gaps:
        at += timedelta(hours=gap)
        window = sum(1 for moment in sent if at - moment < DAILY_WINDOW)
        decided = eligibility.decide(
            document, document["Id"], at, sent_in_window=window, sent_total=len(sent)
        )
        if decided.skip is None:
            sent.append(at)
    assert len(sent) <= total
    for moment in sent:
        assert sum(1 for other in sent if timedelta(0) <= other - moment < DAILY_WINDOW) <= daily
