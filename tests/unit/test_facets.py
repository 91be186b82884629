"""Unit tests for clarion.store.facets: which facets a document holds, and the +1/-1 a
write moves them by, checked against recounting the documents after any sequence of writes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from clarion.store.facets import MAX_VALUE_LENGTH, facet_changes, facets_of

PHONE: dict[str, Any] = {
    "ChannelType": "SMS",
    "Address": "+33612345678",
    "Demographic": {
        "Platform": "android",
        "AppVersion": "3.2",
        "Make": "Google",
        "Model": "Pixel",
        "Locale": "fr_FR",
        "Timezone": "Europe/Paris",
    },
    "Location": {"Country": "FR", "City": "Paris"},
    "Attributes": {"team": ["red", "blue", "red"], "empty": []},
    "Metrics": {"score": 3.0},
    "User": {"UserId": "u1", "UserAttributes": {"name": ["Ada"]}},
}


def test_a_document_has_its_demographic_fields_and_each_distinct_attribute_value() -> None:
    assert facets_of(PHONE) == {
        ("Platform", "android"),
        ("AppVersion", "3.2"),
        ("Make", "Google"),
        ("Model", "Pixel"),
        ("Locale", "fr_FR"),
        ("Country", "FR"),
        ("Attributes.team", "red"),
        ("Attributes.team", "blue"),
    }


def test_no_document_and_missing_fields_have_no_facets() -> None:
    assert facets_of(None) == set()
    assert facets_of({"Address": "a@example.com", "Demographic": None}) == set()


def test_values_too_long_for_the_facet_key_are_left_out() -> None:
    long = "x" * (MAX_VALUE_LENGTH + 1)
    document = {"Demographic": {"Locale": long}, "Attributes": {"a": [long, "ok"]}}
    assert facets_of(document) == {("Attributes.a", "ok")}


def test_insert_and_delete_move_every_facet_by_one() -> None:
    assert facet_changes(None, PHONE) == dict.fromkeys(facets_of(PHONE), 1)
    assert facet_changes(PHONE, None) == dict.fromkeys(facets_of(PHONE), -1)


def test_a_replace_moves_only_what_changed() -> None:
    moved = {
        **PHONE,
        "Demographic": {**PHONE["Demographic"], "Platform": "ios"},
        "Attributes": {"team": ["blue", "green"]},
        "Location": {"City": "Lyon", "Country": "FR"},
    }
    assert facet_changes(PHONE, moved) == {
        ("Platform", "android"): -1,
        ("Platform", "ios"): 1,
        ("Attributes.team", "red"): -1,
        ("Attributes.team", "green"): 1,
    }
    assert facet_changes(PHONE, {**PHONE, "OptOut": "ALL"}) == {}


values = st.sampled_from(["a", "b", "c"])
documents = st.fixed_dictionaries(
    {},
    optional={
        "Demographic": st.fixed_dictionaries(
            {}, optional={"Platform": values, "Model": values, "Locale": values}
        ),
        "Location": st.fixed_dictionaries({}, optional={"Country": values}),
        "Attributes": st.dictionaries(
            st.sampled_from(["x", "y"]), st.lists(values, max_size=3), max_size=2
        ),
    },
)
writes = st.lists(st.tuples(st.integers(0, 3), st.none() | documents), max_size=30)


@given(writes)
def test_summed_changes_equal_a_recount_after_any_writes(
    sequence: list[tuple[int, dict[str, Any] | None]],
) -> None:
    """Each write puts a document at an endpoint (insert or replace) or, as None, deletes it."""
    stored: dict[int, dict[str, Any]] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for endpoint, document in sequence:
        counts.update(facet_changes(stored.get(endpoint), document))
        if document is None:
            stored.pop(endpoint, None)
        else:
            stored[endpoint] = document
    recount = Counter(facet for document in stored.values() for facet in facets_of(document))
    assert +counts == recount
    assert all(n >= 0 for n in counts.values())
