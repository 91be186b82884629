"""Unit tests for the funnel: the one-pass match per endpoint against an exhaustive search over
every choice of events, the rows' conversion rates, and the request body's rules."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.analytics.reports import Funnel, funnel_rows, parse_funnel_body
from clarion.errors import BadRequest

Event = tuple[str, str, int]


def exhaustive(events: Sequence[Event], plan: Funnel) -> list[int]:
    """Try every step-1 event in the range and every later event for every next step."""
    by_endpoint: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for endpoint, event_type, moment in events:
        by_endpoint[endpoint].append((moment, event_type))

    def further(own: list[tuple[int, str]], step: int, after: int, deadline: int) -> int:
        if step == len(plan.steps):
            return 0
        return max(
            (
                1 + further(own, step + 1, moment, deadline)
                for moment, event_type in own
                if event_type == plan.steps[step] and after < moment <= deadline
            ),
            default=0,
        )

    reached = [0] * len(plan.steps)
    for own in by_endpoint.values():
        deepest = max(
            (
                1 + further(own, 1, moment, moment + plan.window_ms)
                for moment, event_type in own
                if event_type == plan.steps[0] and plan.start_ms <= moment < plan.end_ms
            ),
            default=0,
        )
        for k in range(deepest):
            reached[k] += 1
    return reached


def ordered(events: Sequence[Event]) -> list[Event]:
    """By endpoint then time, as the store reads them; ties in any order."""
    shuffled = list(events)
    random.Random(len(events)).shuffle(shuffled)
    return sorted(shuffled, key=lambda event: (event[0], event[2]))


event_types = st.sampled_from(["view", "cart", "buy"])
events = st.lists(
    st.tuples(st.sampled_from(["e1", "e2", "e3"]), event_types, st.integers(0, 40)), max_size=24
)
plans = st.builds(
    lambda steps, start, length, window: Funnel(tuple(steps), start, start + length, window),
    st.lists(event_types, min_size=2, max_size=4),
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(0, 25),
)


@given(events, plans)
def test_one_pass_matches_the_exhaustive_search(recorded: list[Event], plan: Funnel) -> None:
    assert plan.reached(ordered(recorded)) == exhaustive(recorded, plan)


DAY_PLAN = Funnel(("view", "cart", "buy"), start_ms=100, end_ms=200, window_ms=50)


@pytest.mark.parametrize(
    ("recorded", "reached"),
    [
        ([("a", "view", 100), ("a", "cart", 120), ("a", "buy", 150)], [1, 1, 1]),
        ([("a", "buy", 101), ("a", "cart", 102), ("a", "view", 103)], [1, 0, 0]),
        ([("a", "view", 110), ("a", "cart", 110), ("a", "buy", 111)], [1, 0, 0]),
        ([("a", "view", 110), ("a", "cart", 160), ("a", "buy", 161)], [1, 1, 0]),
        ([("a", "view", 99), ("a", "cart", 120), ("a", "buy", 130)], [0, 0, 0]),
        ([("a", "view", 199), ("a", "cart", 220), ("a", "buy", 249)], [1, 1, 1]),
        ([("a", "view", 200), ("a", "cart", 220)], [0, 0, 0]),
        (
            [
                ("a", "view", 100),
                ("a", "cart", 140),
                ("a", "view", 145),
                ("a", "cart", 170),
                ("a", "buy", 180),
            ],
            [1, 1, 1],
        ),
        ([("a", "view", 100), ("b", "view", 150), ("b", "cart", 151)], [2, 1, 0]),
    ],
    ids=[
        "in order",
        "out of order",
        "same millisecond is not after",
        "window is inclusive",
        "step 1 before the range",
        "later steps after the range",
        "step 1 after the range",
        "a later start reaches further",
        "per endpoint",
    ],
)
def test_examples(recorded: list[Event], reached: list[int]) -> None:
    assert DAY_PLAN.reached(ordered(recorded)) == reached


def test_a_step_may_repeat_and_needs_an_event_each_time() -> None:
    plan = Funnel(("view", "view", "buy"), start_ms=0, end_ms=100, window_ms=100)
    assert plan.reached([("a", "view", 1), ("a", "buy", 2)]) == [1, 0, 0]
    assert plan.reached([("a", "view", 1), ("a", "view", 2), ("a", "buy", 3)]) == [1, 1, 1]


def test_rows_convert_from_the_previous_and_the_first_step() -> None:
    assert funnel_rows(["view", "cart", "buy"], [10, 4, 0]) == [
        {
            "Step": 1,
            "EventType": "view",
            "Endpoints": 10,
            "ConversionFromPrevious": 1.0,
            "ConversionFromFirst": 1.0,
        },
        {
            "Step": 2,
            "EventType": "cart",
            "Endpoints": 4,
            "ConversionFromPrevious": 0.4,
            "ConversionFromFirst": 0.4,
        },
        {
            "Step": 3,
            "EventType": "buy",
            "Endpoints": 0,
            "ConversionFromPrevious": 0.0,
            "ConversionFromFirst": 0.0,
        },
    ]
    assert [row["ConversionFromFirst"] for row in funnel_rows(["a", "b"], [0, 0])] == [0.0, 0.0]


def body(**fields: Any) -> bytes:
    return json.dumps({"Steps": ["view", "buy"], "WindowSeconds": 3600, **fields}).encode()


def test_a_good_body() -> None:
    assert parse_funnel_body(body(Steps=["a", "b", "a"], WindowSeconds=30 * 86_400)) == (
        ["a", "b", "a"],
        30 * 86_400,
    )


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (b"", "The funnel body must be JSON"),
        (b"{Steps:", "The funnel body must be JSON"),
        (b'["view", "buy"]', "must be a JSON object, not a list"),
        (b'{"WindowSeconds": 60}', "Steps is required: a list of 2 to 10 event types"),
        (body(Steps="view"), "Steps must be a list of 2 to 10 event types, not a string"),
        (body(Steps=["view"]), "Steps holds 1; a funnel has 2 to 10 event types"),
        (body(Steps=["e"] * 11), "Steps holds 11"),
        (body(Steps=["view", ""]), r"Steps\[1\] must be an event type, a non-empty string"),
        (body(Steps=["view", 7]), r"Steps\[1\] must be an event type"),
        (b'{"Steps": ["a", "b"]}', "WindowSeconds is required: a whole number of seconds"),
        (body(WindowSeconds=None), "WindowSeconds is required"),
        (body(WindowSeconds=1.5), "WindowSeconds must be .* not the number 1.5"),
        (body(WindowSeconds="60"), "WindowSeconds must be .* not a string"),
        (body(WindowSeconds=True), "WindowSeconds must be .* not a boolean"),
        (body(WindowSeconds=0), r"WindowSeconds is 0; it must be .* from 1 to 2592000 \(30 days\)"),
        (body(WindowSeconds=30 * 86_400 + 1), "WindowSeconds is 2592001"),
    ],
)
def test_bad_bodies_are_bad_requests(sent: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_funnel_body(sent)
