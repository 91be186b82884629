"""Unit tests for clarion.endpoints.rules: each quota at and just past its limit, merges."""

from __future__ import annotations

import copy
import json
from typing import Any

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.endpoints import rules
from clarion.endpoints.rules import (
    ATTRIBUTE_KINDS,
    attribute_kind,
    attribute_names,
    check_application_attribute_quota,
    check_user_endpoint_quota,
    cohort_id,
    count_new_attribute_keys,
    detach_from_user,
    endpoint_id_key,
    matching_attribute_names,
    merge_endpoint,
    remove_attributes,
    validate_address,
    validate_endpoint_document,
    validate_endpoint_id,
    validate_endpoint_request,
    validate_user_id,
)
from clarion.errors import BadRequest

CUSTOM, METRIC, USER = ATTRIBUTE_KINDS


def bad(message_part: str) -> Any:
    return pytest.raises(BadRequest, match=message_part)


# --- attribute names, values and counts -------------------------------------------------------


@pytest.mark.parametrize("field", ["Attributes", "User.UserAttributes"])
def test_attribute_name_length_limit(field: str) -> None:
    def request(name: str) -> dict[str, Any]:
        attrs = {name: ["v"]}
        return {"User": {"UserAttributes": attrs}} if field.startswith("User") else {field: attrs}

    validate_endpoint_request(request("n" * 50))
    with bad(rf"^EndpointRequest\.{field}\.{'n' * 51}: .*51 characters.*maximum is 50"):
        validate_endpoint_request(request("n" * 51))


def test_metric_name_length_limit() -> None:
    validate_endpoint_request({"Metrics": {"m" * 50: 1.0}})
    with bad(r"EndpointRequest\.Metrics\.m{51}: .*maximum is 50"):
        validate_endpoint_request({"Metrics": {"m" * 51: 1.0}})


@pytest.mark.parametrize("name", ["", "tab\there", "nul\x00"])
def test_invalid_attribute_names(name: str) -> None:
    with pytest.raises(BadRequest):
        validate_endpoint_request({"Attributes": {name: ["v"]}})


@pytest.mark.parametrize("name", ["a:b", "a#b", "a?b", "a/b", "a\\b", "Interests", "ünïcode"])
def test_console_unfriendly_names_are_accepted(name: str) -> None:
    validate_endpoint_request({"Attributes": {name: ["v"]}, "Metrics": {name: 1}})


def test_attribute_value_length_limit() -> None:
    validate_endpoint_request({"Attributes": {"color": ["ok", "v" * 100]}})
    with bad(r"^EndpointRequest\.Attributes\.color\[1\]: .*101 characters.*maximum is 100"):
        validate_endpoint_request({"Attributes": {"color": ["ok", "v" * 101]}})


def test_user_attribute_value_length_limit() -> None:
    validate_endpoint_request({"User": {"UserAttributes": {"name": ["v" * 100]}}})
    with bad(r"^EndpointRequest\.User\.UserAttributes\.name\[0\]: "):
        validate_endpoint_request({"User": {"UserAttributes": {"name": ["v" * 101]}}})


def test_empty_values_are_accepted() -> None:
    validate_endpoint_request({"Attributes": {"cleared": [], "blank": [""]}})


@pytest.mark.parametrize("field", ["Attributes", "User.UserAttributes"])
def test_values_per_attribute_limit(field: str) -> None:
    def request(count: int) -> dict[str, Any]:
        attrs = {"tags": [str(i) for i in range(count)]}
        return {"User": {"UserAttributes": attrs}} if field.startswith("User") else {field: attrs}

    validate_endpoint_request(request(50))
    with bad(rf"^EndpointRequest\.{field}\.tags: .*51 values.*maximum is 50"):
        validate_endpoint_request(request(51))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), True])
def test_metrics_must_be_finite_numbers(value: Any) -> None:
    with bad(r"EndpointRequest\.Metrics\.score: "):
        validate_endpoint_request({"Metrics": {"score": value}})


def _split_attributes(total: int) -> dict[str, Any]:
    third = total // 3
    return {
        "Attributes": {f"a{i}": ["v"] for i in range(third)},
        "Metrics": {f"m{i}": float(i) for i in range(third)},
        "User": {"UserAttributes": {f"u{i}": ["v"] for i in range(total - 2 * third)}},
    }


def test_attributes_per_endpoint_limit_in_request() -> None:
    validate_endpoint_request(_split_attributes(250))
    with bad(r"^EndpointRequest: .*251 attributes.*maximum is 250 per endpoint"):
        validate_endpoint_request(_split_attributes(251))


def test_attributes_per_endpoint_limit_in_document() -> None:
    validate_endpoint_document(_split_attributes(250))
    with bad(r"^Endpoint: .*251 attributes"):
        validate_endpoint_document(_split_attributes(251))


def test_endpoint_size_limit() -> None:
    overhead = len(json.dumps({"Address": ""}, separators=(",", ":")))
    validate_endpoint_document({"Address": "x" * (15 * 1024 - overhead)})
    with bad(r"15361 bytes.*maximum endpoint size is 15360 bytes"):
        validate_endpoint_document({"Address": "x" * (15 * 1024 - overhead + 1)})


def test_endpoint_size_counts_utf8_bytes() -> None:
    overhead = len(json.dumps({"Address": ""}, separators=(",", ":")))
    with pytest.raises(BadRequest):
        validate_endpoint_document({"Address": "é" * ((15 * 1024 - overhead) // 2 + 1)})


def test_nul_is_refused_anywhere() -> None:
    with bad(r"EndpointRequest\.Demographic\.Make: .*NUL"):
        validate_endpoint_request({"Demographic": {"Make": "a\x00b"}})
    with bad(r"EndpointRequest\.Attributes\.x\[0\]: .*NUL"):
        validate_endpoint_request({"Attributes": {"x": ["a\x00"]}})


# --- scalar fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2018-05-07T19:03:29.963Z", "2018-05-07T19:03:29+02:00", "2018-05-07", "20180507T1903Z"],
)
def test_effective_date_accepts_iso8601(value: str) -> None:
    validate_endpoint_request({"EffectiveDate": value})


@pytest.mark.parametrize("value", ["yesterday", "2018-13-01T00:00:00Z", "05/07/2018", ""])
def test_effective_date_refuses_non_iso8601(value: str) -> None:
    with bad(r"^EndpointRequest\.EffectiveDate: .*ISO 8601"):
        validate_endpoint_request({"EffectiveDate": value})


def test_endpoint_status_and_opt_out_values() -> None:
    validate_endpoint_request({"EndpointStatus": "INACTIVE", "OptOut": "ALL"})
    validate_endpoint_request({"EndpointStatus": "ACTIVE", "OptOut": "NONE"})
    with bad(r"^EndpointRequest\.EndpointStatus: 'PAUSED' is not valid"):
        validate_endpoint_request({"EndpointStatus": "PAUSED"})
    with bad(r"^EndpointRequest\.OptOut: 'active'"):
        validate_endpoint_request({"OptOut": "active"})


@pytest.mark.parametrize("timezone", ["America/Los_Angeles", "UTC", "Europe/Berlin", "Etc/GMT+5"])
def test_timezone_accepts_tz_names(timezone: str) -> None:
    validate_endpoint_request({"Demographic": {"Timezone": timezone}})


@pytest.mark.parametrize(
    "timezone",
    ["Mars/Olympus", "GMT+05:30", "", "america/los_angeles", "localtime", "../etc/passwd"],
)
def test_timezone_refuses_other_strings(timezone: str) -> None:
    with bad(r"^EndpointRequest\.Demographic\.Timezone: "):
        validate_endpoint_request({"Demographic": {"Timezone": timezone}})


@pytest.mark.parametrize(
    ("field", "limit"),
    [("AppVersion", 50), ("Make", 50), ("Model", 100), ("ModelVersion", 50), ("Platform", 50)],
)
def test_demographic_length_limits(field: str, limit: int) -> None:
    validate_endpoint_request({"Demographic": {field: "x" * limit}})
    with bad(rf"^EndpointRequest\.Demographic\.{field}: .*maximum is {limit}"):
        validate_endpoint_request({"Demographic": {field: "x" * (limit + 1)}})


@pytest.mark.parametrize("field", ["City", "Region"])
def test_location_length_limits(field: str) -> None:
    validate_endpoint_request({"Location": {field: "x" * 75}})
    with bad(rf"^EndpointRequest\.Location\.{field}: .*maximum is 75"):
        validate_endpoint_request({"Location": {field: "x" * 76}})


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0), (47.61, -122.33)]
)
def test_coordinates_in_range(latitude: float, longitude: float) -> None:
    validate_endpoint_request({"Location": {"Latitude": latitude, "Longitude": longitude}})


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (90.01, 0.0, "Latitude"),
        (-90.01, 0.0, "Latitude"),
        (0.0, 180.01, "Longitude"),
        (0.0, -180.01, "Longitude"),
        (float("nan"), 0.0, "Latitude"),
    ],
)
def test_coordinates_out_of_range(latitude: float, longitude: float, field: str) -> None:
    with bad(rf"^EndpointRequest\.Location\.{field}: .*out of range"):
        validate_endpoint_request({"Location": {"Latitude": latitude, "Longitude": longitude}})


def test_latitude_and_longitude_go_together() -> None:
    with bad(r"^EndpointRequest\.Location\.Longitude: .*together"):
        validate_endpoint_request({"Location": {"Latitude": 1.0}})
    with bad(r"^EndpointRequest\.Location\.Latitude: .*together"):
        validate_endpoint_request({"Location": {"Longitude": 1.0}})


@pytest.mark.parametrize("country", ["US", "USA", "de"])
def test_country_codes(country: str) -> None:
    validate_endpoint_request({"Location": {"Country": country}})


@pytest.mark.parametrize("country", ["U", "USAA", "U1", "United States"])
def test_country_codes_refused(country: str) -> None:
    with bad(r"^EndpointRequest\.Location\.Country: "):
        validate_endpoint_request({"Location": {"Country": country}})


# --- addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "user@example.com",
        "first.last+tag@mail.example.co.uk",
        "o'brien@example.org",
        "用户@例子.广告",
    ],
)
def test_valid_email_addresses(address: str) -> None:
    validate_endpoint_request({"ChannelType": "EMAIL", "Address": address})


@pytest.mark.parametrize(
    "address",
    [
        "",
        "user",
        "user@",
        "@example.com",
        "user@@example.com",
        "user name@example.com",
        "user@localhost",
        "user@example",
        "user@example..com",
        "+14155550100",
    ],
)
def test_invalid_email_addresses(address: str) -> None:
    with bad(r"^EndpointRequest\.Address: .*not a valid email address"):
        validate_endpoint_request({"ChannelType": "EMAIL", "Address": address})


VALID_NUMBERS = ["+14155550100", "+447911123456", "+4915123456789", "+33612345678", "+61412345678"]


def test_phone_fixtures_are_valid_per_metadata() -> None:
    for number in VALID_NUMBERS:
        assert phonenumbers.is_valid_number(phonenumbers.parse(number, None)), number


@pytest.mark.parametrize("channel", ["SMS", "VOICE"])
@pytest.mark.parametrize("address", VALID_NUMBERS)
def test_valid_phone_numbers(channel: str, address: str) -> None:
    validate_endpoint_request({"ChannelType": channel, "Address": address})


@pytest.mark.parametrize(
    "address",
    [
        "14155550100",
        "4155550100",
        "+1 415 555 0100",
        "+1-415-555-0100",
        "+1415555010",
        "+141555501000",
        "+999123456789",
        "+0123456789",
        "+",
        "",
        "user@example.com",
    ],
)
def test_invalid_phone_numbers(address: str) -> None:
    assert address == "" or not _valid_e164(address)
    with bad(r"^EndpointRequest\.Address: .*E\.164"):
        validate_endpoint_request({"ChannelType": "SMS", "Address": address})


def _valid_e164(address: str) -> bool:
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException:
        return False
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return bool(phonenumbers.is_valid_number(number)) and formatted == address


@pytest.mark.parametrize("channel", ["APNS", "GCM", "ADM", "BAIDU", "CUSTOM", "IN_APP", "PUSH"])
def test_token_addresses(channel: str) -> None:
    validate_endpoint_request({"ChannelType": channel, "Address": "a1b2" * 16})
    validate_endpoint_request({"ChannelType": channel, "Address": "t" * 2048})
    with bad(r"^EndpointRequest\.Address: .*2049 characters.*maximum is 2048"):
        validate_endpoint_request({"ChannelType": channel, "Address": "t" * 2049})
    for blank in ("", "   "):
        with bad(r"^EndpointRequest\.Address: .*empty"):
            validate_endpoint_request({"ChannelType": channel, "Address": blank})
    with bad(r"control characters"):
        validate_endpoint_request({"ChannelType": channel, "Address": "tok\nen"})


def test_address_checked_against_stored_channel() -> None:
    stored = {"ChannelType": "SMS", "Address": "+14155550100"}
    validate_endpoint_request({"Address": "+447911123456"}, existing=stored)
    with bad(r"E\.164"):
        validate_endpoint_request({"Address": "user@example.com"}, existing=stored)


def test_changing_channel_rechecks_stored_address() -> None:
    stored = {"ChannelType": "EMAIL", "Address": "user@example.com"}
    with bad(r"^EndpointRequest\.Address: .*E\.164"):
        validate_endpoint_request({"ChannelType": "SMS"}, existing=stored)
    validate_endpoint_request({"ChannelType": "SMS", "Address": "+14155550100"}, existing=stored)


def test_address_without_any_channel_is_a_token() -> None:
    validate_endpoint_request({"Address": "anything"})
    with pytest.raises(BadRequest):
        validate_endpoint_request({"Address": ""})


def test_validate_address_default_path() -> None:
    with bad(r"^Address: "):
        validate_address("EMAIL", "nope")


# --- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize("check", [validate_endpoint_id, validate_user_id])
def test_identifier_rules(check: Any) -> None:
    check("5f3a1c9e-0d5b-4c7e-9a1f-2b6c8d0e4f7a")
    check("us-east-1:abc+def@example.com")
    check("i" * 256)
    with bad(r"257 characters.*maximum is 256"):
        check("i" * 257)
    with bad(r"must not be empty"):
        check("")
    for char in "${}":
        with bad(r"must not contain"):
            check(f"a{char}b")
    with bad(r"control characters"):
        check("a\nb")


def test_identifier_error_names_the_path() -> None:
    with bad(r"^EndpointId: "):
        validate_endpoint_id("a$b")
    with bad(r"^UserId: "):
        validate_user_id("")


def test_user_id_in_request_may_be_empty_to_detach() -> None:
    validate_endpoint_request({"User": {"UserId": ""}})
    with bad(r"^EndpointRequest\.User\.UserId: "):
        validate_endpoint_request({"User": {"UserId": "{me}"}})


def test_batch_item_id_is_checked() -> None:
    validate_endpoint_request({"Id": "ok"}, path="EndpointBatchRequest.Item[0]")
    with bad(r"^EndpointBatchRequest\.Item\[3\]\.Id: "):
        validate_endpoint_request({"Id": "a{b"}, path="EndpointBatchRequest.Item[3]")


def test_endpoint_ids_are_case_insensitive_keys() -> None:
    assert endpoint_id_key("ABC-def") == endpoint_id_key("abc-DEF")


def test_cohort_id_is_stable_and_in_range() -> None:
    ids = [f"endpoint-{i}" for i in range(2000)]
    cohorts = {int(cohort_id(i)) for i in ids}
    assert cohorts <= set(range(100))
    assert len(cohorts) == 100
    assert cohort_id("Endpoint-7") == cohort_id("endpoint-7")


# --- merge ------------------------------------------------------------------------------------

STORED: dict[str, Any] = {
    "ApplicationId": "app",
    "Id": "e1",
    "CohortId": "42",
    "CreationDate": "2024-01-01T00:00:00Z",
    "EffectiveDate": "2024-01-01T00:00:00Z",
    "ChannelType": "EMAIL",
    "Address": "user@example.com",
    "EndpointStatus": "ACTIVE",
    "OptOut": "NONE",
    "RequestId": "req-1",
    "Attributes": {"color": ["red"], "size": ["m"]},
    "Metrics": {"visits": 3.0},
    "Demographic": {"Make": "apple", "Model": "iPhone", "Timezone": "America/Los_Angeles"},
    "Location": {"City": "Seattle", "Country": "US", "Latitude": 47.6, "Longitude": -122.3},
    "User": {"UserId": "u1", "UserAttributes": {"name": ["Wang", "Xiulan"], "age": ["39"]}},
}


def test_new_endpoint_defaults() -> None:
    merged = merge_endpoint(None, {"ChannelType": "EMAIL", "Address": "user@example.com"})
    assert merged == {
        "ChannelType": "EMAIL",
        "Address": "user@example.com",
        "EndpointStatus": "ACTIVE",
        "OptOut": "NONE",
    }


def test_new_endpoint_without_address_is_opted_out() -> None:
    assert merge_endpoint(None, {"ChannelType": "IN_APP"})["OptOut"] == "ALL"
    assert merge_endpoint(None, {"OptOut": "NONE"})["OptOut"] == "NONE"


def test_request_id_and_batch_id_are_not_stored() -> None:
    merged = merge_endpoint(None, {"Id": "batch-id", "RequestId": "r", "Address": "a"})
    assert "Id" not in merged
    assert "RequestId" not in merged
    assert merge_endpoint(STORED, {"RequestId": "r2"})["RequestId"] == "req-1"


def test_empty_request_keeps_everything() -> None:
    assert merge_endpoint(STORED, {}) == STORED


def test_existing_is_not_mutated() -> None:
    before = copy.deepcopy(STORED)
    merge_endpoint(STORED, {"Attributes": {"color": ["blue"]}, "User": {"UserId": ""}})
    assert before == STORED


def test_attributes_add_and_overwrite_per_key() -> None:
    merged = merge_endpoint(STORED, {"Attributes": {"color": ["blue", "green"], "shape": ["o"]}})
    assert merged["Attributes"] == {"color": ["blue", "green"], "size": ["m"], "shape": ["o"]}


def test_empty_list_clears_values_but_keeps_the_attribute() -> None:
    merged = merge_endpoint(STORED, {"Attributes": {"color": []}})
    assert merged["Attributes"] == {"color": [], "size": ["m"]}


def test_metrics_merge_per_key() -> None:
    merged = merge_endpoint(STORED, {"Metrics": {"visits": 4, "spend": 9.5}})
    assert merged["Metrics"] == {"visits": 4.0, "spend": 9.5}
    assert isinstance(merged["Metrics"]["visits"], float)


def test_unmentioned_fields_are_kept() -> None:
    merged = merge_endpoint(STORED, {"Metrics": {"visits": 5.0}})
    for field in ("Address", "ChannelType", "Attributes", "Demographic", "Location", "User"):
        assert merged[field] == STORED[field]
    for field in ("ApplicationId", "Id", "CohortId", "CreationDate", "EffectiveDate", "OptOut"):
        assert merged[field] == STORED[field]


def test_demographic_partial_update() -> None:
    merged = merge_endpoint(STORED, {"Demographic": {"Model": "iPhone 15", "Locale": "en_US"}})
    assert merged["Demographic"] == {
        "Make": "apple",
        "Model": "iPhone 15",
        "Timezone": "America/Los_Angeles",
        "Locale": "en_US",
    }


def test_location_partial_update_and_rounding() -> None:
    merged = merge_endpoint(STORED, {"Location": {"Latitude": 40.71, "Longitude": -74.06}})
    assert merged["Location"] == {
        "City": "Seattle",
        "Country": "US",
        "Latitude": 40.7,
        "Longitude": -74.1,
    }
    assert merge_endpoint(None, {"Location": {"PostalCode": "98121"}})["Location"] == {
        "PostalCode": "98121"
    }


def test_user_partial_updates() -> None:
    merged = merge_endpoint(STORED, {"User": {"UserAttributes": {"age": ["40"], "tier": ["gold"]}}})
    assert merged["User"] == {
        "UserId": "u1",
        "UserAttributes": {"name": ["Wang", "Xiulan"], "age": ["40"], "tier": ["gold"]},
    }
    renamed = merge_endpoint(STORED, {"User": {"UserId": "u2"}})
    assert renamed["User"] == {"UserId": "u2", "UserAttributes": STORED["User"]["UserAttributes"]}


def test_empty_user_id_detaches_the_user() -> None:
    merged = merge_endpoint(STORED, {"User": {"UserId": ""}})
    assert merged["User"] == {"UserAttributes": STORED["User"]["UserAttributes"]}


def test_update_reactivates_unless_status_is_given() -> None:
    inactive = {**STORED, "EndpointStatus": "INACTIVE"}
    assert merge_endpoint(inactive, {"Metrics": {"visits": 1.0}})["EndpointStatus"] == "ACTIVE"
    kept = merge_endpoint(inactive, {"EndpointStatus": "INACTIVE"})
    assert kept["EndpointStatus"] == "INACTIVE"
    assert merge_endpoint(STORED, {"EndpointStatus": "INACTIVE"})["EndpointStatus"] == "INACTIVE"


def test_opt_out_is_kept_or_replaced() -> None:
    opted_out = {**STORED, "OptOut": "ALL"}
    assert merge_endpoint(opted_out, {"Address": "new@example.com"})["OptOut"] == "ALL"
    assert merge_endpoint(opted_out, {"OptOut": "NONE"})["OptOut"] == "NONE"


def test_scalar_fields_overwrite() -> None:
    merged = merge_endpoint(STORED, {"ChannelType": "SMS", "Address": "+14155550100"})
    assert (merged["ChannelType"], merged["Address"]) == ("SMS", "+14155550100")


def test_timestamps_come_from_now() -> None:
    now = "2024-06-01T12:00:00Z"
    created = merge_endpoint(None, {"Address": "a"}, now=now)
    assert created["CreationDate"] == now
    assert created["EffectiveDate"] == now
    updated = merge_endpoint(STORED, {}, now=now)
    assert updated["CreationDate"] == STORED["CreationDate"]
    assert updated["EffectiveDate"] == now
    given_date = merge_endpoint(STORED, {"EffectiveDate": "2024-05-05T00:00:00Z"}, now=now)
    assert given_date["EffectiveDate"] == "2024-05-05T00:00:00Z"
    assert merge_endpoint(STORED, {})["EffectiveDate"] == STORED["EffectiveDate"]


_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
_texts = st.text(max_size=12)
_string_lists = st.dictionaries(_names, st.lists(_texts, max_size=3), max_size=4)
_requests = st.fixed_dictionaries(
    {},
    optional={
        "Address": _texts,
        "ChannelType": st.sampled_from(["EMAIL", "SMS", "APNS", "GCM", "CUSTOM"]),
        "EffectiveDate": st.just("2024-01-01T00:00:00Z"),
        "EndpointStatus": st.sampled_from(["ACTIVE", "INACTIVE"]),
        "OptOut": st.sampled_from(["ALL", "NONE"]),
        "RequestId": _texts,
        "Attributes": _string_lists,
        "Metrics": st.dictionaries(_names, st.floats(allow_nan=False), max_size=4),
        "Demographic": st.fixed_dictionaries(
            {}, optional={"Make": _texts, "Model": _texts, "Timezone": st.just("UTC")}
        ),
        "Location": st.fixed_dictionaries(
            {},
            optional={
                "City": _texts,
                "Latitude": st.floats(-90, 90),
                "Longitude": st.floats(-180, 180),
            },
        ),
        "User": st.fixed_dictionaries(
            {}, optional={"UserId": _texts, "UserAttributes": _string_lists}
        ),
    },
)


@given(_requests)
def test_merging_an_empty_request_changes_nothing(request: dict[str, Any]) -> None:
    once = merge_endpoint(None, request)
    twice = merge_endpoint(once, {})
    assert twice == {**once, "EndpointStatus": "ACTIVE"}
    if request.get("EndpointStatus") != "INACTIVE":
        assert twice == once


@given(_requests)
def test_merging_the_same_request_again_changes_nothing(request: dict[str, Any]) -> None:
    once = merge_endpoint(None, request)
    assert merge_endpoint(once, request) == once


# --- application-wide attribute quota ---------------------------------------------------------


def test_attribute_names_per_kind() -> None:
    assert attribute_names(STORED) == {
        CUSTOM: {"color", "size"},
        METRIC: {"visits"},
        USER: {"name", "age"},
    }
    assert attribute_names({}) == {CUSTOM: set(), METRIC: set(), USER: set()}


def test_count_new_attribute_keys() -> None:
    known = {CUSTOM: {"color"}, METRIC: {"visits"}}
    request = {
        "Attributes": {"color": ["x"], "shape": ["o"]},
        "Metrics": {"visits": 1.0, "color": 2.0},
        "User": {"UserAttributes": {"age": ["1"]}},
    }
    assert count_new_attribute_keys(known, request) == {
        CUSTOM: {"shape"},
        METRIC: {"color"},
        USER: {"age"},
    }


def _known(total: int) -> dict[str, set[str]]:
    return {
        CUSTOM: {f"a{i}" for i in range(total // 2)},
        USER: {f"u{i}" for i in range(total - total // 2)},
    }


def test_application_attribute_quota_at_limit() -> None:
    check_application_attribute_quota(_known(249), {METRIC: {"new"}})
    check_application_attribute_quota(_known(250), {CUSTOM: {"a0"}})


def test_application_attribute_quota_past_limit() -> None:
    with bad(r"endpoint-metric-attributes:new.*251 attributes.*maximum is 250 per application"):
        check_application_attribute_quota(_known(250), {METRIC: {"new"}})
    with bad(r"251 attributes"):
        check_application_attribute_quota(_known(249), {METRIC: {"m1", "m2"}})


def test_same_name_in_two_kinds_counts_twice() -> None:
    with pytest.raises(BadRequest):
        check_application_attribute_quota(_known(249), {CUSTOM: {"x"}, METRIC: {"x"}})


def test_application_attribute_quota_limit_is_adjustable() -> None:
    check_application_attribute_quota(_known(250), {METRIC: {"new"}}, limit=500)


# --- endpoints per user -----------------------------------------------------------------------


def _user_endpoints(count: int, channel: str = "EMAIL") -> dict[str, dict[str, Any]]:
    return {
        f"e{i:02d}": {
            "ChannelType": channel,
            "EffectiveDate": f"2024-01-{i + 1:02d}T00:00:00Z",
            "User": {"UserId": "u1"},
        }
        for i in range(count)
    }


def _joining(channel: str) -> dict[str, Any]:
    return {"ChannelType": channel, "User": {"UserId": "u1"}}


def test_user_endpoint_quota_at_limit() -> None:
    assert check_user_endpoint_quota(_user_endpoints(14), "new", _joining("EMAIL")) == []


def test_updating_a_users_endpoint_is_not_a_new_one() -> None:
    assert check_user_endpoint_quota(_user_endpoints(15), "E03", _joining("SMS")) == []


@pytest.mark.parametrize("channel", ["SMS", "PUSH", "VOICE", "EMAIL", "CUSTOM", "IN_APP"])
def test_sixteenth_endpoint_is_refused_for_non_device_channels(channel: str) -> None:
    with bad(r"User 'u1' already has 15 endpoints; the maximum is 15 endpoints per user ID"):
        check_user_endpoint_quota(_user_endpoints(15, "GCM"), "new", _joining(channel))


def test_sixteenth_device_endpoint_evicts_the_oldest_device_endpoint() -> None:
    endpoints = _user_endpoints(15)
    endpoints["e09"]["ChannelType"] = "GCM"
    endpoints["e04"]["ChannelType"] = "APNS"
    assert check_user_endpoint_quota(endpoints, "new", _joining("APNS")) == ["e04"]


def test_sixteenth_device_endpoint_needs_a_device_endpoint_to_evict() -> None:
    with bad(r"not enough of them are push endpoints"):
        check_user_endpoint_quota(_user_endpoints(15), "new", _joining("GCM"))


def test_endpoints_without_effective_date_are_evicted_first() -> None:
    endpoints = _user_endpoints(15, "GCM")
    del endpoints["e07"]["EffectiveDate"]
    assert check_user_endpoint_quota(endpoints, "new", _joining("ADM")) == ["e07"]


def test_detach_from_user() -> None:
    detached = detach_from_user(STORED)
    assert detached["EndpointStatus"] == "INACTIVE"
    assert detached["User"] == {"UserAttributes": STORED["User"]["UserAttributes"]}
    assert STORED["User"]["UserId"] == "u1"


# --- RemoveAttributes -------------------------------------------------------------------------


def test_remove_custom_attributes_by_name() -> None:
    result = remove_attributes(STORED, CUSTOM, ["color", "missing"])
    assert result["Attributes"] == {"size": ["m"]}
    assert result["Metrics"] == STORED["Metrics"]
    assert result["User"] == STORED["User"]
    assert STORED["Attributes"] == {"color": ["red"], "size": ["m"]}


def test_remove_metric_and_user_attributes() -> None:
    assert remove_attributes(STORED, METRIC, ["visits"])["Metrics"] == {}
    result = remove_attributes(STORED, USER, ["age"])
    assert result["User"] == {"UserId": "u1", "UserAttributes": {"name": ["Wang", "Xiulan"]}}
    assert result["Attributes"] == STORED["Attributes"]


def test_remove_attributes_by_glob() -> None:
    document = {"Attributes": {"interest_a": ["1"], "interest_b": ["2"], "Interest_c": ["3"]}}
    assert remove_attributes(document, CUSTOM, ["interest_*"])["Attributes"] == {
        "Interest_c": ["3"]
    }
    assert remove_attributes(document, CUSTOM, ["*"])["Attributes"] == {}
    assert remove_attributes(document, CUSTOM, ["interest_?"])["Attributes"] == {
        "Interest_c": ["3"]
    }


@pytest.mark.parametrize("names", [None, []])
def test_empty_blacklist_removes_nothing(names: list[str] | None) -> None:
    assert remove_attributes(STORED, CUSTOM, names) == STORED


def test_remove_from_document_without_that_kind() -> None:
    assert remove_attributes({"Address": "a"}, USER, ["x"]) == {"Address": "a"}


def test_unknown_attribute_type() -> None:
    with bad(r"AttributeType: 'endpoint-attributes' is not a valid attribute type"):
        remove_attributes(STORED, "endpoint-attributes", ["x"])
    with bad(r"valid types are endpoint-custom-attributes, endpoint-metric-attributes"):
        attribute_kind("custom")
    for kind in ATTRIBUTE_KINDS:
        assert attribute_kind(kind) == kind


def test_matching_attribute_names() -> None:
    names = ["color", "colour", "size"]
    assert matching_attribute_names(names, ["colo*r", "size"]) == {"color", "colour", "size"}
    assert matching_attribute_names(names, None) == set()


def test_quota_constants_match_the_documentation() -> None:
    assert rules.MAX_ATTRIBUTES_PER_APPLICATION == 250
    assert rules.MAX_ATTRIBUTES_PER_ENDPOINT == 250
    assert rules.MAX_ENDPOINT_SIZE_BYTES == 15 * 1024
    assert rules.MAX_ENDPOINTS_PER_USER == 15
    assert rules.MAX_BATCH_ITEMS == 100
