"""CampaignEventFilter: compiled once, matched against PutEvents events."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.campaigns.filters import EventFilterError, EventMatcher, compile_event_filter
from clarion.errors import BadRequest


def matcher(**dimensions: Any) -> EventMatcher:
    return compile_event_filter({"FilterType": "ENDPOINT", "Dimensions": dimensions})


def event(
    event_type: str = "purchase",
    attributes: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"EventType": event_type, "Attributes": attributes or {}, "Metrics": metrics or {}}


def test_event_type_inclusive_by_default_and_exclusive() -> None:
    inclusive = matcher(EventType={"Values": ["purchase", "signup"]})
    assert inclusive.matches(event("signup"))
    assert not inclusive.matches(event("_session.start"))
    exclusive = matcher(EventType={"DimensionType": "EXCLUSIVE", "Values": ["purchase"]})
    assert exclusive.matches(event("signup"))
    assert not exclusive.matches(event("purchase"))


def test_without_event_type_every_event_matches() -> None:
    assert matcher().matches(event("anything"))
    assert matcher().matches({"EventType": "bare"})


def test_attribute_values_are_alternatives_and_names_all_apply() -> None:
    rule = matcher(
        EventType={"Values": ["purchase"]},
        Attributes={"item": {"Values": ["gloves", "hat"]}, "store": {"Values": ["online"]}},
    )
    assert rule.matches(event(attributes={"item": "hat", "store": "online"}))
    assert not rule.matches(event(attributes={"item": "hat", "store": "shop"}))
    assert not rule.matches(event(attributes={"item": "Hat", "store": "online"}))
    assert not rule.matches(event(attributes={"store": "online"}))
    assert not rule.matches(event("refund", attributes={"item": "hat", "store": "online"}))


def test_exclusive_attribute_keeps_events_without_it() -> None:
    rule = matcher(Attributes={"plan": {"AttributeType": "EXCLUSIVE", "Values": ["free"]}})
    assert rule.matches(event(attributes={"plan": "pro"}))
    assert rule.matches(event())
    assert not rule.matches(event(attributes={"plan": "free"}))


def test_contains_matches_substrings() -> None:
    rule = matcher(Attributes={"page": {"AttributeType": "CONTAINS", "Values": ["/cart", "/pay"]}})
    assert rule.matches(event(attributes={"page": "https://shop/cart?x=1"}))
    assert not rule.matches(event(attributes={"page": "https://shop/home"}))
    assert not rule.matches(event())


@pytest.mark.parametrize(
    ("kind", "values", "inside", "outside"),
    [
        ("BEFORE", ["2026-03-01T00:00:00Z"], "2026-02-28T23:59:59Z", "2026-03-01T00:00:00Z"),
        ("AFTER", ["2026-03-01T00:00:00Z"], "2026-03-01T00:00:01Z", "2026-03-01T00:00:00Z"),
        ("ON", ["2026-03-01"], "2026-03-01T23:59:59.999Z", "2026-03-02T00:00:00Z"),
        ("ON", ["2026-03-01T18:00:00-08:00"], "2026-03-02T01:00:00Z", "2026-03-01T01:00:00Z"),
        (
            "BETWEEN",
            ["2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z"],
            "2026-03-31T00:00:00Z",
            "2026-03-31T00:00:00.001Z",
        ),
        ("AFTER", ["2026-03-01T00:00:00Z"], "2026-03-01T09:00:00+08:00", "2026-02-01"),
    ],
)
def test_date_attributes(kind: str, values: list[str], inside: str, outside: str) -> None:
    rule = matcher(Attributes={"at": {"AttributeType": kind, "Values": values}})
    assert rule.matches(event(attributes={"at": inside}))
    assert not rule.matches(event(attributes={"at": outside}))
    assert not rule.matches(event(attributes={"at": "not a date"}))
    assert not rule.matches(event())


@pytest.mark.parametrize(
    ("operator", "matching", "failing"),
    [
        ("GREATER_THAN", 10.5, 10),
        ("LESS_THAN", 9, 10),
        ("GREATER_THAN_OR_EQUAL", 10, 9.99),
        ("LESS_THAN_OR_EQUAL", 10, 10.01),
        ("EQUAL", 10.0, 10.1),
    ],
)
def test_metrics_compare_with_the_value(operator: str, matching: float, failing: float) -> None:
    rule = matcher(Metrics={"price": {"ComparisonOperator": operator, "Value": 10}})
    assert rule.matches(event(metrics={"price": matching}))
    assert not rule.matches(event(metrics={"price": failing}))
    assert not rule.matches(event(metrics={"weight": matching}))
    assert not rule.matches(event(metrics={"price": True}))


def test_non_string_attribute_values_count_as_absent() -> None:
    rule = matcher(Attributes={"n": {"AttributeType": "EXCLUSIVE", "Values": ["1"]}})
    assert rule.matches(event(attributes={"n": 1}))


def test_filter_type_is_kept() -> None:
    system = compile_event_filter({"FilterType": "SYSTEM", "Dimensions": {}})
    assert system.filter_type == "SYSTEM"


@pytest.mark.parametrize(
    ("event_filter", "message"),
    [
        ("x", "EventFilter must be an object"),
        ({"Dimensions": {}}, "EventFilter.FilterType must be one of ENDPOINT, SYSTEM; got None"),
        ({"FilterType": "ENDPOINT"}, "EventFilter.Dimensions is required"),
        ({"FilterType": "ENDPOINT", "Dimensions": []}, "EventFilter.Dimensions must be an object"),
        (
            {"FilterType": "ENDPOINT", "Dimensions": {"EventType": {"Values": "purchase"}}},
            "EventFilter.Dimensions.EventType.Values must be a list of strings",
        ),
        (
            {
                "FilterType": "ENDPOINT",
                "Dimensions": {"EventType": {"DimensionType": "NOT", "Values": []}},
            },
            "EventFilter.Dimensions.EventType.DimensionType must be INCLUSIVE or EXCLUSIVE; "
            "got 'NOT'",
        ),
        (
            {
                "FilterType": "ENDPOINT",
                "Dimensions": {"Attributes": {"a": {"AttributeType": "LIKE", "Values": ["x"]}}},
            },
            "EventFilter.Dimensions.Attributes.a.AttributeType must be one of INCLUSIVE, "
            "EXCLUSIVE, CONTAINS, BEFORE, AFTER, ON, BETWEEN; got 'LIKE'",
        ),
        (
            {
                "FilterType": "ENDPOINT",
                "Dimensions": {"Attributes": {"a": {"AttributeType": "BETWEEN", "Values": ["x"]}}},
            },
            "EventFilter.Dimensions.Attributes.a.Values: BETWEEN takes exactly 2 ISO 8601 dates, "
            "not 1",
        ),
        (
            {
                "FilterType": "ENDPOINT",
                "Dimensions": {"Attributes": {"a": {"AttributeType": "ON", "Values": ["soon"]}}},
            },
            "EventFilter.Dimensions.Attributes.a.Values: 'soon' is not an ISO 8601 date or time",
        ),
        (
            {
                "FilterType": "ENDPOINT",
                "Dimensions": {
                    "Attributes": {
                        "a": {"AttributeType": "BETWEEN", "Values": ["2026-02-01", "2026-01-01"]}
                    }
                },
            },
            "EventFilter.Dimensions.Attributes.a.Values: BETWEEN takes the earlier date first",
        ),
        (
            {
                "FilterType": "ENDPOINT",
                "Dimensions": {"Metrics": {"m": {"ComparisonOperator": "GT", "Value": 1}}},
            },
            "EventFilter.Dimensions.Metrics.m.ComparisonOperator must be one of GREATER_THAN, "
            "LESS_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN_OR_EQUAL, EQUAL; got 'GT'",
        ),
        (
            {
                "FilterType": "ENDPOINT",
                "Dimensions": {"Metrics": {"m": {"ComparisonOperator": "EQUAL", "Value": "1"}}},
            },
            "EventFilter.Dimensions.Metrics.m.Value must be a number; got '1'",
        ),
    ],
)
def test_invalid_filters_name_the_member(event_filter: Any, message: str) -> None:
    with pytest.raises(EventFilterError) as caught:
        compile_event_filter(event_filter)
    assert str(caught.value) == message
    assert isinstance(caught.value, BadRequest) and isinstance(caught.value, ValueError)


def test_path_prefixes_messages() -> None:
    with pytest.raises(EventFilterError, match=r"^Schedule\.EventFilter\.Dimensions is required$"):
        compile_event_filter({"FilterType": "SYSTEM"}, path="Schedule.EventFilter")


WORDS = st.sampled_from(["a", "b", "ab", "ba", "c"])


@given(
    values=st.lists(WORDS, max_size=3),
    kind=st.sampled_from(["INCLUSIVE", "EXCLUSIVE", "CONTAINS"]),
    value=st.none() | WORDS,
    threshold=st.floats(-10, 10),
    metric=st.none() | st.floats(-10, 10),
    operator=st.sampled_from(
        ["GREATER_THAN", "LESS_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN_OR_EQUAL", "EQUAL"]
    ),
)
def test_matcher_agrees_with_the_plain_reading(
    values: list[str],
    kind: str,
    value: str | None,
    threshold: float,
    metric: float | None,
    operator: str,
) -> None:
    rule = matcher(
        Attributes={"x": {"AttributeType": kind, "Values": values}},
        Metrics={"m": {"ComparisonOperator": operator, "Value": threshold}},
    )
    if kind == "INCLUSIVE":
        attribute_holds = value in values
    elif kind == "EXCLUSIVE":
        attribute_holds = value not in values
    else:
        attribute_holds = value is not None and any(part in value for part in values)
    metric_holds = (
        metric is not None
        and {
            "GREATER_THAN": metric > threshold,
            "LESS_THAN": metric < threshold,
            "GREATER_THAN_OR_EQUAL": metric >= threshold,
            "LESS_THAN_OR_EQUAL": metric <= threshold,
            "EQUAL": metric == threshold,
        }[operator]
    )
    given_event = event(
        attributes={} if value is None else {"x": value},
        metrics={} if metric is None else {"m": metric},
    )
    assert rule.matches(given_event) == (attribute_holds and metric_holds)
