"""A/B treatments and holdout: Pinpoint's percentages, a stable and fair per-endpoint draw."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.campaigns.treatments import (
    BUCKETS,
    AllocationError,
    Assignment,
    assign,
    bucket,
    treatment_sizes,
)
from clarion.errors import BadRequest

CAMPAIGN = "b1c3de717aea4408a75bb3287a906b46"


def test_default_treatment_gets_what_remains() -> None:
    # The Developer Guide's A/B example: holdout 10, one more treatment of 40.
    assert treatment_sizes(10, [40]) == (50, 40)
    assert treatment_sizes(None, []) == (100,)
    assert treatment_sizes(0, [30, 30, 40]) == (0, 30, 30, 40)


@pytest.mark.parametrize(
    ("holdout", "additional", "message"),
    [
        (
            20,
            [50, 40],
            "HoldoutPercent and AdditionalTreatments[].SizePercent add up to 110; together they "
            "may take at most 100, the default treatment getting what remains",
        ),
        (101, [], "HoldoutPercent must be an integer from 0 to 100; got 101"),
        (
            10,
            [20, -5],
            "AdditionalTreatments[1].SizePercent must be an integer from 0 to 100; got -5",
        ),
        (
            10,
            [True],
            "AdditionalTreatments[0].SizePercent must be an integer from 0 to 100; got True",
        ),
    ],
)
def test_sizes_are_checked_member_by_member(
    holdout: int, additional: list[int], message: str
) -> None:
    with pytest.raises(AllocationError) as caught:
        treatment_sizes(holdout, additional)
    assert str(caught.value) == message
    assert isinstance(caught.value, BadRequest) and isinstance(caught.value, ValueError)


def test_assign_needs_shares_that_add_up_to_100() -> None:
    with pytest.raises(AllocationError, match=r"^HoldoutPercent \(10\) and the treatments'"):
        assign("e1", CAMPAIGN, 10, [50, 30])
    with pytest.raises(AllocationError, match="at least its default treatment"):
        assign("e1", CAMPAIGN, 100, [])


def test_shares_match_the_percentages_within_three_sigma() -> None:
    holdout, sizes = 10, treatment_sizes(10, [25, 15])  # default 50
    count = 100_000
    seen = Counter(assign(f"endpoint-{n}", CAMPAIGN, holdout, sizes) for n in range(count))
    expected = {Assignment(None): holdout, **{Assignment(i): s for i, s in enumerate(sizes)}}
    assert set(seen) == set(expected)
    for share, percent in expected.items():
        p = percent / 100
        sigma = math.sqrt(count * p * (1 - p))
        assert abs(seen[share] - count * p) <= 3 * sigma, (share, seen[share])


def test_assignment_is_stable_and_independent_of_other_endpoints() -> None:
    ids = [f"device-{n}" for n in range(2_000)]
    sizes = treatment_sizes(20, [30])
    first = {endpoint: assign(endpoint, CAMPAIGN, 20, sizes) for endpoint in ids}
    shuffled = ids[:]
    random.Random(7).shuffle(shuffled)
    again = {endpoint: assign(endpoint, CAMPAIGN, 20, sizes) for endpoint in shuffled[:500]}
    assert all(first[endpoint] == share for endpoint, share in again.items())


def test_campaigns_draw_independently() -> None:
    ids = [f"device-{n}" for n in range(1_000)]
    here = [assign(endpoint, "campaign-a", 50, [50]).held_out for endpoint in ids]
    there = [assign(endpoint, "campaign-b", 50, [50]).held_out for endpoint in ids]
    assert here != there


def test_empty_shares_receive_nobody() -> None:
    ids = [f"device-{n}" for n in range(5_000)]
    assert {assign(endpoint, CAMPAIGN, 0, [0, 100, 0]) for endpoint in ids} == {Assignment(1)}
    assert {assign(endpoint, CAMPAIGN, 100, [0]).held_out for endpoint in ids} == {True}


@st.composite
def allocations(draw: st.DrawFn) -> tuple[int, tuple[int, ...]]:
    holdout = draw(st.integers(0, 100))
    additional: list[int] = []
    for _ in range(draw(st.integers(0, 4))):
        additional.append(draw(st.integers(0, 100 - holdout - sum(additional))))
    return holdout, treatment_sizes(holdout, additional)


@given(endpoint=st.text(max_size=40), campaign=st.text(max_size=40), allocation=allocations())
def test_assignment_follows_the_bucket(
    endpoint: str, campaign: str, allocation: tuple[int, tuple[int, ...]]
) -> None:
    holdout, sizes = allocation
    drawn = bucket(campaign, endpoint)
    assert 0 <= drawn < BUCKETS
    share = assign(endpoint, campaign, holdout, sizes)
    assert share == assign(endpoint, campaign, holdout, list(sizes))
    assert share.held_out == (drawn < holdout * 100)
    if share.treatment is not None:
        low = (holdout + sum(sizes[: share.treatment])) * 100
        assert low <= drawn < low + sizes[share.treatment] * 100
