"""The protocol layer must agree with botocore in both directions.

Requests are produced by botocore's own rest-json serializer and fed through ``route`` and
``parse``; responses are produced by ``serialize`` and read back by botocore's rest-json
parser (and, for errors, by a real boto3 client wired to Clarion instead of the network).
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.model
import orjson
import pytest
from botocore.awsrequest import (
    AWSPreparedRequest,
    AWSResponse,
    HeadersDict,
    create_request_object,
    prepare_request_dict,
)
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import RestJSONParser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion.api.protocol import HttpResponse, Protocol, Route, load_pinpoint_model
from clarion.api.protocol.scalars import InvalidValue, TimestampSpec
from clarion.errors import (
    BadRequest,
    ClarionError,
    MethodNotAllowed,
    NotFound,
    NotImplementedYet,
    TooManyRequests,
)

ENDPOINT_URL = "https://pinpoint.us-east-1.amazonaws.com"
APP_ARN = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/abc"
MOMENT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)

MODEL = load_pinpoint_model()
PROTOCOL = Protocol(MODEL)
SERIALIZER = create_serializer("rest-json", include_validation=True)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class WireRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


def to_wire(operation: str, params: Mapping[str, Any]) -> WireRequest:
    """Serialise params exactly as a boto3 client would put them on the wire."""
    request_dict = SERIALIZER.serialize_to_request(dict(params), MODEL.operation_model(operation))
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT_URL)
    return from_prepared(create_request_object(request_dict).prepare())


def from_prepared(prepared: AWSPreparedRequest) -> WireRequest:
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return WireRequest(prepared.method, url.path, url.query, dict(prepared.headers), body)


def route_and_parse(wire: WireRequest) -> tuple[Route, dict[str, Any]]:
    route = PROTOCOL.route(wire.method, wire.path)
    return route, PROTOCOL.parse(route, wire.query, wire.headers, wire.body)


def assert_round_trip(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    route, parsed = route_and_parse(to_wire(operation, params))
    assert route.operation == operation
    assert parsed == params
    return parsed


def parse_with_botocore(operation: str, response: HttpResponse) -> dict[str, Any]:
    """Read a response the way a boto3 client does."""
    shape = MODEL.operation_model(operation).output_shape
    raw = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": response.body,
    }
    parsed: dict[str, Any] = RestJSONParser().parse(raw, shape)
    parsed.pop("ResponseMetadata")
    return parsed


def parse_body(operation: str, body: bytes, path_params: dict[str, str] | None = None) -> Any:
    return PROTOCOL.parse(Route(operation, path_params or {}), "", {}, body)


def parse_error(operation: str, body: bytes, path_params: dict[str, str] | None = None) -> str:
    with pytest.raises(BadRequest) as caught:
        parse_body(operation, body, path_params)
    return caught.value.message


APP = {"application-id": "app-1"}
ENDPOINT = {"application-id": "app-1", "endpoint-id": "e-1"}


# --------------------------------------------------------------------------- minimal params


def minimal_value(shape: botocore.model.Shape, hint: str) -> Any:
    """The smallest value botocore accepts for a shape: required members only."""
    kind = shape.type_name
    if kind == "structure":
        return {name: minimal_value(shape.members[name], name) for name in shape.required_members}
    if kind == "string":
        return shape.enum[0] if shape.enum else f"{hint} /:%é+"
    if kind in ("integer", "long"):
        return 7
    if kind in ("double", "float"):
        return 2.5
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return MOMENT
    if kind == "blob":
        return b"\x00blob"
    if kind == "list":
        return [minimal_value(shape.member, hint)]
    if kind == "map":
        return {"key": minimal_value(shape.value, hint)}
    raise AssertionError(f"unexpected shape type {kind}")


def minimal_params(operation: str) -> dict[str, Any]:
    shape = MODEL.operation_model(operation).input_shape
    return minimal_value(shape, operation) if shape is not None else {}


# --------------------------------------------------------------------------- model coverage


def test_operation_names_cover_the_model() -> None:
    assert len(PROTOCOL.operation_names) == 122
    assert set(PROTOCOL.operation_names) == set(MODEL.operation_names)


def test_http_of_reports_method_and_template() -> None:
    assert PROTOCOL.http_of("UpdateEndpoint") == (
        "PUT",
        "/v1/apps/{application-id}/endpoints/{endpoint-id}",
    )


def test_default_constructor_loads_pinpoint() -> None:
    assert Protocol().operation_names == PROTOCOL.operation_names


def test_only_rest_json_models_are_accepted() -> None:
    raw = {"metadata": {"protocol": "json", "apiVersion": "1"}, "operations": {}, "shapes": {}}
    with pytest.raises(ValueError, match="rest-json"):
        Protocol(botocore.model.ServiceModel(raw, service_name="x"))


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_every_operation_round_trips_minimal_params(operation: str) -> None:
    assert_round_trip(operation, minimal_params(operation))


# --------------------------------------------------------------------------- request round trips


def test_create_app() -> None:
    assert_round_trip(
        "CreateApp", {"CreateApplicationRequest": {"Name": "My app", "tags": {"a": "b"}}}
    )


def test_get_apps_with_paging() -> None:
    params = {"PageSize": "25", "Token": "next/page token+="}
    parsed = assert_round_trip("GetApps", params)
    assert parsed["Token"] == "next/page token+="


def test_get_apps_without_query() -> None:
    assert_round_trip("GetApps", {})


FULL_ENDPOINT_REQUEST: dict[str, Any] = {
    "Address": "device-token",
    "Attributes": {"Interests": ["cooking", "hiking"], "Empty": []},
    "ChannelType": "GCM",
    "Demographic": {
        "AppVersion": "1.2",
        "Locale": "en_US",
        "Make": "Google",
        "Model": "Pixel",
        "ModelVersion": "8",
        "Platform": "android",
        "PlatformVersion": "14",
        "Timezone": "Europe/Paris",
    },
    "EffectiveDate": "2024-05-06T07:08:09Z",
    "EndpointStatus": "ACTIVE",
    "Location": {
        "City": "Paris",
        "Country": "FR",
        "Latitude": 48.8566,
        "Longitude": 2.3522,
        "PostalCode": "75001",
        "Region": "IDF",
    },
    "Metrics": {"score": 9.5, "visits": 3.0},
    "OptOut": "NONE",
    "RequestId": "req-1",
    "User": {"UserAttributes": {"Tier": ["gold"]}, "UserId": "user 1/é"},
}


def test_update_endpoint_with_full_request() -> None:
    params = {
        "ApplicationId": "app-1",
        "EndpointId": "endpoint id/with:odd+chars é",
        "EndpointRequest": FULL_ENDPOINT_REQUEST,
    }
    assert_round_trip("UpdateEndpoint", params)


def test_update_endpoints_batch() -> None:
    items = [
        {**FULL_ENDPOINT_REQUEST, "Id": "e-1"},
        {"Id": "e-2", "ChannelType": "EMAIL", "Address": "a@example.com"},
    ]
    params = {"ApplicationId": "app-1", "EndpointBatchRequest": {"Item": items}}
    assert_round_trip("UpdateEndpointsBatch", params)


def test_tag_resource_with_arn() -> None:
    wire = to_wire("TagResource", {"ResourceArn": APP_ARN, "TagsModel": {"tags": {"k": "v"}}})
    assert "%3A" in wire.path and "%2F" in wire.path
    route, parsed = route_and_parse(wire)
    assert route.path_params == {"resource-arn": APP_ARN}
    assert parsed == {"ResourceArn": APP_ARN, "TagsModel": {"tags": {"k": "v"}}}


def test_untag_resource_collects_repeated_keys() -> None:
    params = {"ResourceArn": APP_ARN, "TagKeys": ["team", "cost center", "a&b=c"]}
    wire = to_wire("UntagResource", params)
    assert wire.query.count("tagKeys=") == 3
    assert route_and_parse(wire)[1] == params


def test_remove_attributes() -> None:
    params = {
        "ApplicationId": "app-1",
        "AttributeType": "endpoint-custom-attributes",
        "UpdateAttributesRequest": {"Blacklist": ["Interests", "Tier"]},
    }
    assert_round_trip("RemoveAttributes", params)


def test_date_range_kpi_timestamps_arrive_as_utc_datetimes() -> None:
    params = {
        "ApplicationId": "app-1",
        "KpiName": "email-open-rate",
        "StartTime": MOMENT,
        "EndTime": MOMENT + timedelta(days=7, microseconds=250_000),
        "PageSize": "10",
        "NextToken": "t",
    }
    parsed = assert_round_trip("GetApplicationDateRangeKpi", params)
    assert parsed["EndTime"].tzinfo is not None


def test_update_template_boolean_query_parameter() -> None:
    params = {
        "TemplateName": "welcome",
        "CreateNewVersion": False,
        "Version": "3",
        "EmailTemplateRequest": {"Subject": "Hi", "HtmlPart": "<p>Hi</p>"},
    }
    parsed = assert_round_trip("UpdateEmailTemplate", params)
    assert parsed["CreateNewVersion"] is False


def test_put_events_with_nested_maps() -> None:
    event = {
        "EventType": "_session.start",
        "Timestamp": "2024-05-06T07:08:09Z",
        "Attributes": {"screen": "home"},
        "Metrics": {"duration": 12.5},
        "Session": {"Id": "s-1", "StartTimestamp": "2024-05-06T07:00:00Z", "Duration": 30},
    }
    batch = {"Endpoint": {"ChannelType": "APNS", "Address": "tok"}, "Events": {"ev-1": event}}
    params = {"ApplicationId": "app-1", "EventsRequest": {"BatchItem": {"e-1": batch}}}
    assert_round_trip("PutEvents", params)


def test_send_messages_raw_email_blob_becomes_bytes() -> None:
    raw_email = {"Data": b"From: a@example.com\r\n\r\n\xff\x00"}
    params = {
        "ApplicationId": "app-1",
        "MessageRequest": {
            "Addresses": {"a@example.com": {"ChannelType": "EMAIL"}},
            "MessageConfiguration": {"EmailMessage": {"RawEmail": raw_email}},
        },
    }
    assert_round_trip("SendMessages", params)


def test_journey_schedule_iso_timestamps_in_body() -> None:
    schedule = {"StartTime": MOMENT, "EndTime": MOMENT + timedelta(hours=1), "Timezone": "UTC"}
    params = {
        "ApplicationId": "app-1",
        "WriteJourneyRequest": {"Name": "j", "Schedule": schedule, "LocalTime": True},
    }
    wire = to_wire("CreateJourney", params)
    assert b'"StartTime": "2024-05-06T07:08:09Z"' in wire.body
    assert route_and_parse(wire)[1] == params


def test_application_settings_integers() -> None:
    limits = {"Daily": 10, "MaximumDuration": 60, "MessagesPerSecond": 50, "Total": 100}
    params = {
        "ApplicationId": "app-1",
        "WriteApplicationSettingsRequest": {
            "Limits": limits,
            "CloudWatchMetricsEnabled": True,
            "QuietTime": {"Start": "22:00", "End": "06:00"},
        },
    }
    assert_round_trip("UpdateApplicationSettings", params)


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize(
    ("method", "path", "operation", "labels"),
    [
        ("GET", "/v1/apps", "GetApps", {}),
        ("POST", "/v1/apps/", "CreateApp", {}),
        ("GET", "/v1/apps/a%2Fb", "GetApp", {"application-id": "a/b"}),
        ("GET", "/v1/apps/a/campaigns", "GetCampaigns", {"application-id": "a"}),
        ("GET", "/v1/apps/campaigns/campaigns", "GetCampaigns", {"application-id": "campaigns"}),
        ("GET", "/v1/apps/a/channels/email", "GetEmailChannel", {"application-id": "a"}),
        ("PUT", "/v1/apps/a/endpoints", "UpdateEndpointsBatch", {"application-id": "a"}),
        ("GET", "/v1/templates/t/email", "GetEmailTemplate", {"template-name": "t"}),
        ("GET", "/v1/templates/email/email", "GetEmailTemplate", {"template-name": "email"}),
        (
            "GET",
            "/v1/templates/t/email/versions",
            "ListTemplateVersions",
            {"template-name": "t", "template-type": "email"},
        ),
        (
            "PUT",
            "/v1/templates/t/SMS/active-version/",
            "UpdateTemplateActiveVersion",
            {"template-name": "t", "template-type": "SMS"},
        ),
        (
            "GET",
            "/v1/apps/a/campaigns/c/versions/3",
            "GetCampaignVersion",
            {"application-id": "a", "campaign-id": "c", "version": "3"},
        ),
        (
            "GET",
            "/v1/apps/a/users/u%20%2B1",
            "GetUserEndpoints",
            {"application-id": "a", "user-id": "u +1"},
        ),
        (
            "GET",
            "/v1/tags/arn%3Aaws%3Ax%2Fy?z=1",
            "ListTagsForResource",
            {"resource-arn": "arn:aws:x/y"},
        ),
    ],
)
def test_route(method: str, path: str, operation: str, labels: dict[str, str]) -> None:
    assert PROTOCOL.route(method, path) == Route(operation, labels)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "",
        "v1/apps",
        "/x",
        "/v1",
        "/v1/apps/a/unknown",
        "/v1/apps//endpoints/e",
        "//v1/apps",
        "/v1/templates/t/email/unknown",
        "/v1/apps/a/endpoints/e/inappmessages/extra",
    ],
)
def test_unknown_paths_are_not_found(path: str) -> None:
    with pytest.raises(NotFound, match="No route for GET"):
        PROTOCOL.route("GET", path)


def test_wrong_method_is_method_not_allowed() -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        PROTOCOL.route("PATCH", "/v1/apps/a/endpoints/e")
    assert "PATCH" in caught.value.message
    assert "/v1/apps/a/endpoints/e" in caught.value.message
    assert "DELETE, GET, PUT" in caught.value.message


def test_wrong_method_on_a_backtracked_template() -> None:
    with pytest.raises(MethodNotAllowed, match="allowed: PUT"):
        PROTOCOL.route("GET", "/v1/templates/t/email/active-version")


def test_invalid_percent_encoding_in_a_label_is_bad_request() -> None:
    with pytest.raises(BadRequest, match="percent-encoded"):
        PROTOCOL.route("GET", "/v1/apps/%FF%FE")


# --------------------------------------------------------------------------- validation


def test_missing_payload_is_reported_by_member_name() -> None:
    assert parse_error("UpdateEndpoint", b"", ENDPOINT) == (
        "Missing required parameter EndpointRequest"
    )


def test_blank_body_counts_as_missing() -> None:
    assert "EndpointRequest" in parse_error("UpdateEndpoint", b" \n", ENDPOINT)
    assert "EndpointRequest" in parse_error("UpdateEndpoint", b"null", ENDPOINT)


def test_missing_nested_required_member_names_the_path() -> None:
    body = {"BatchItem": {"b-1": {"Endpoint": {}, "Events": {"ev-1": {"EventType": "x"}}}}}
    message = parse_error("PutEvents", orjson.dumps(body), APP)
    assert message == "Missing required parameter EventsRequest.BatchItem.b-1.Events.ev-1.Timestamp"


def test_missing_required_uri_member() -> None:
    assert parse_error("GetApp", b"") == "Missing required parameter ApplicationId"


def test_wrong_type_names_the_path() -> None:
    body = orjson.dumps({"Limits": {"Daily": "ten"}})
    message = parse_error("UpdateApplicationSettings", body, APP)
    assert message == (
        "Invalid type for parameter WriteApplicationSettingsRequest.Limits.Daily:"
        " expected integer, got string"
    )


@pytest.mark.parametrize("value", [True, 1.5, 2**31, -(2**31) - 1, "1", [1]])
def test_integer_rejects_non_integers(value: Any) -> None:
    body = orjson.dumps({"Limits": {"Daily": value}})
    assert "Limits.Daily" in parse_error("UpdateApplicationSettings", body, APP)


@pytest.mark.parametrize("value", [True, "1.5", {}, [1.5]])
def test_double_rejects_non_numbers(value: Any) -> None:
    body = orjson.dumps({"Location": {"Latitude": value}})
    assert "EndpointRequest.Location.Latitude" in parse_error("UpdateEndpoint", body, ENDPOINT)


def test_double_accepts_integers_as_floats() -> None:
    body = orjson.dumps({"Location": {"Latitude": 48}})
    parsed = parse_body("UpdateEndpoint", body, ENDPOINT)
    latitude = parsed["EndpointRequest"]["Location"]["Latitude"]
    assert latitude == 48.0 and isinstance(latitude, float)


@pytest.mark.parametrize("value", ["true", 1, 0])
def test_boolean_rejects_non_booleans(value: Any) -> None:
    body = orjson.dumps({"CloudWatchMetricsEnabled": value})
    assert "CloudWatchMetricsEnabled" in parse_error("UpdateApplicationSettings", body, APP)


def test_bad_enum_lists_allowed_values() -> None:
    message = parse_error("UpdateEndpoint", b'{"ChannelType": "PIGEON"}', ENDPOINT)
    assert message.startswith("Invalid value for parameter EndpointRequest.ChannelType: 'PIGEON'")
    assert "GCM" in message and "EMAIL" in message


def test_enum_map_keys_are_validated() -> None:
    rules = {"MONDAY": [{"StartTime": "09:00", "EndTime": "17:00"}]}
    good = {"Name": "j", "OpenHours": {"EMAIL": rules}}
    assert parse_body("CreateJourney", orjson.dumps(good), APP)
    bad = {"Name": "j", "OpenHours": {"EMAIL": {"FUNDAY": []}}}
    assert "FUNDAY" in parse_error("CreateJourney", orjson.dumps(bad), APP)


def test_list_and_map_elements_are_checked() -> None:
    body = orjson.dumps({"Attributes": {"Interests": ["a", 3]}})
    message = parse_error("UpdateEndpoint", body, ENDPOINT)
    assert message == (
        "Invalid type for parameter EndpointRequest.Attributes.Interests[1]:"
        " expected string, got integer"
    )
    assert "[0]" in parse_error("UpdateEndpoint", b'{"Attributes": {"A": [null]}}', ENDPOINT)
    assert "expected list" in parse_error("UpdateEndpoint", b'{"Attributes": {"A": "x"}}', ENDPOINT)
    assert "expected map" in parse_error("UpdateEndpoint", b'{"Attributes": []}', ENDPOINT)
    assert "expected structure" in parse_error("UpdateEndpoint", b'{"User": "u"}', ENDPOINT)


def test_unknown_members_and_nulls_are_dropped() -> None:
    body = b'{"Address": "a", "Bogus": {"x": 1}, "User": null, "Metrics": {"m": null, "n": 1}}'
    parsed = parse_body("UpdateEndpoint", body, ENDPOINT)
    assert parsed["EndpointRequest"] == {"Address": "a", "Metrics": {"n": 1.0}}


def test_json_names_differ_from_member_names() -> None:
    body = orjson.dumps(
        {
            "Name": "s",
            "SegmentGroups": {
                "Groups": [{"Dimensions": [{"Demographic": {"Channel": {"Values": ["EMAIL"]}}}]}]
            },
        }
    )
    assert parse_body("CreateSegment", body, APP)["WriteSegmentRequest"]["SegmentGroups"]
    condition = {"segmentDimensions": {"Demographic": {"Platform": {"Values": ["ios"]}}}}
    journey = {"Name": "j", "StartCondition": {"SegmentStartCondition": {"SegmentId": "s"}}}
    journey["Activities"] = {"a": {"ConditionalSplit": {"Condition": {"Conditions": [condition]}}}}
    parsed = parse_body("CreateJourney", orjson.dumps(journey), APP)
    split = parsed["WriteJourneyRequest"]["Activities"]["a"]["ConditionalSplit"]
    assert split["Condition"]["Conditions"][0] == {
        "SegmentDimensions": {"Demographic": {"Platform": {"Values": ["ios"]}}}
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object, not array"),
        (b'"text"', "must be a JSON object, not string"),
        (b"12", "must be a JSON object, not integer"),
        (b"{}{}", "not valid JSON"),
        (b"NaN", "not valid JSON"),
    ],
)
def test_bad_json_bodies(body: bytes, fragment: str) -> None:
    assert fragment in parse_error("UpdateEndpoint", body, ENDPOINT)


def test_body_is_ignored_for_operations_without_one() -> None:
    assert parse_body("GetApp", b"not json", {"application-id": "a"}) == {"ApplicationId": "a"}


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2024-05-06T07:08:09Z", MOMENT),
        ("2024-05-06T09:08:09+02:00", MOMENT),
        ("2024-05-06T07:08:09", MOMENT),
        ("2024-05-06T07:08:09.500Z", MOMENT + timedelta(milliseconds=500)),
        ("1714979289", MOMENT),
        ("1714979289.5", MOMENT + timedelta(milliseconds=500)),
    ],
)
def test_query_timestamps_accept_iso_and_epoch(start: str, expected: datetime) -> None:
    route = Route("GetApplicationDateRangeKpi", {"application-id": "a", "kpi-name": "k"})
    parsed = PROTOCOL.parse(route, f"start-time={start.replace('+', '%2B')}", {}, b"")
    assert parsed["StartTime"] == expected


@pytest.mark.parametrize(
    "start",
    [
        "yesterday",
        "2024-13-01T00:00:00Z",
        "1e999",
        "nan",
        "99999999999999",
        "0001-01-01T00:00:00%2B01:00",
        "9999-12-31T23:59:59-01:00",
        "Fri, 31 Dec 9999 23:59:59 -0100",
    ],
)
def test_bad_query_timestamps_are_bad_request(start: str) -> None:
    route = Route("GetApplicationDateRangeKpi", {"application-id": "a", "kpi-name": "k"})
    with pytest.raises(BadRequest, match="StartTime"):
        PROTOCOL.parse(route, f"start-time={start}", {}, b"")


def test_body_timestamps_accept_iso_and_epoch_numbers() -> None:
    journey = {
        "Name": "j",
        "Schedule": {"StartTime": 1714979289, "EndTime": "2024-05-06T07:08:09Z"},
    }
    parsed = parse_body("CreateJourney", orjson.dumps(journey), APP)
    assert parsed["WriteJourneyRequest"]["Schedule"] == {"StartTime": MOMENT, "EndTime": MOMENT}
    journey["Schedule"] = {"StartTime": True}
    assert "Schedule.StartTime" in parse_error("CreateJourney", orjson.dumps(journey), APP)


@pytest.mark.parametrize("value", ["yes", "1", ""])
def test_bad_query_boolean_is_bad_request(value: str) -> None:
    route = Route("UpdateSmsTemplate", {"template-name": "t"})
    with pytest.raises(BadRequest, match="CreateNewVersion"):
        PROTOCOL.parse(route, f"create-new-version={value}", {}, b'{"Body": "b"}')


def test_query_boolean_is_case_insensitive_and_unknown_keys_ignored() -> None:
    route = Route("UpdateSmsTemplate", {"template-name": "t"})
    parsed = PROTOCOL.parse(route, "create-new-version=TRUE&other=1", {}, b'{"Body": "b"}')
    assert parsed == {
        "TemplateName": "t",
        "CreateNewVersion": True,
        "SMSTemplateRequest": {"Body": "b"},
    }


def test_repeated_scalar_query_parameter_uses_the_first() -> None:
    parsed = PROTOCOL.parse(Route("GetApps", {}), "page-size=1&page-size=2&token=", {}, b"")
    assert parsed == {"PageSize": "1", "Token": ""}


def test_invalid_query_encoding_is_bad_request() -> None:
    with pytest.raises(BadRequest, match="query string"):
        PROTOCOL.parse(Route("GetApps", {}), "token=%FF", {}, b"")


def test_bad_base64_blob_is_bad_request() -> None:
    body = {"MessageConfiguration": {"EmailMessage": {"RawEmail": {"Data": "!!not base64!!"}}}}
    message = parse_error("SendMessages", orjson.dumps(body), APP)
    assert "MessageRequest.MessageConfiguration.EmailMessage.RawEmail.Data" in message


def test_timestamp_spec_reads_rfc822_headers() -> None:
    assert TimestampSpec(None).read_text("Mon, 06 May 2024 07:08:09 GMT") == MOMENT


# --------------------------------------------------------------------------- fuzzing


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    )


def junk_values() -> st.SearchStrategy[Any]:
    scalars: st.SearchStrategy[Any] = st.one_of(
        st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text()
    )
    return st.none() | scalars | st.lists(scalars, max_size=2) | st.dictionaries(st.text(), scalars)


_FUZZY: dict[str, st.SearchStrategy[Any]] = {}


def fuzzy_values(shape: botocore.model.Shape) -> st.SearchStrategy[Any]:
    """JSON that follows a shape's outline, with occasional junk so errors appear at depth."""
    if shape.name not in _FUZZY:
        outline = _fuzzy_values(shape)
        _FUZZY[shape.name] = st.integers(0, 9).flatmap(
            lambda roll: junk_values() if roll == 0 else outline
        )
    return _FUZZY[shape.name]


def _fuzzy_values(shape: botocore.model.Shape) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        members = {
            member.serialization.get("name", name): fuzzy_values(member)
            for name, member in shape.members.items()
        }
        return st.fixed_dictionaries({}, optional=members)
    if kind == "list":
        return st.lists(fuzzy_values(shape.member), max_size=3)
    if kind == "map":
        keys = st.sampled_from(shape.key.enum) if shape.key.enum else st.text(max_size=5)
        return st.dictionaries(keys, fuzzy_values(shape.value), max_size=3)
    if kind == "string" and shape.enum:
        return st.sampled_from(shape.enum)
    if kind == "timestamp":
        return st.text(max_size=30) | st.datetimes().map(str)
    return junk_values()


_VALID: dict[tuple[str, bool], st.SearchStrategy[Any]] = {}


def valid_values(shape: botocore.model.Shape, non_empty: bool = False) -> st.SearchStrategy[Any]:
    """Values botocore's validator accepts for a shape, as a handler would see them."""
    key = (shape.name, non_empty)
    if key not in _VALID:
        _VALID[key] = _valid_values(shape, non_empty)
    return _VALID[key]


def _valid_values(shape: botocore.model.Shape, non_empty: bool) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    min_size = 1 if non_empty else 0
    if kind == "structure":
        return _valid_structures(shape)
    if kind == "string":
        return st.sampled_from(shape.enum) if shape.enum else st.text(min_size=min_size, max_size=8)
    if kind == "integer":
        return st.integers(-(2**31), 2**31 - 1)
    if kind == "long":
        return st.integers(-(2**63), 2**63 - 1)
    if kind == "double":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        moments = st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1), timezones=st.just(UTC))
        return moments.map(
            lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        )
    if kind == "blob":
        return st.binary(max_size=8)
    if kind == "list":
        return st.lists(valid_values(shape.member), min_size=min_size, max_size=2)
    if kind == "map":
        return st.dictionaries(valid_values(shape.key), valid_values(shape.value), max_size=2)
    raise AssertionError(f"unexpected shape type {kind}")


def _valid_structures(shape: botocore.model.Shape) -> st.SearchStrategy[dict[str, Any]]:
    required = set(shape.required_members)
    payload = shape.serialization.get("payload")
    if payload is not None:
        required.add(payload)
    strategies = {
        name: valid_values(member, non_empty=member.serialization.get("location") is not None)
        for name, member in shape.members.items()
    }
    return st.fixed_dictionaries(
        {name: s for name, s in strategies.items() if name in required},
        optional={name: s for name, s in strategies.items() if name not in required},
    )


FUZZED_OPERATIONS = [
    ("UpdateEndpoint", ENDPOINT),
    ("UpdateEndpointsBatch", APP),
    ("PutEvents", APP),
    ("CreateApp", {}),
    ("UpdateApplicationSettings", APP),
    ("SendMessages", APP),
    ("CreateJourney", APP),
]


def parse_or_bad_request(operation: str, path_params: dict[str, str], body: bytes) -> None:
    with contextlib.suppress(BadRequest):
        PROTOCOL.parse(Route(operation, dict(path_params)), "", {}, body)


@pytest.mark.parametrize(("operation", "path_params"), FUZZED_OPERATIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=200))
def test_fuzz_random_bytes(operation: str, path_params: dict[str, str], body: bytes) -> None:
    parse_or_bad_request(operation, path_params, body)


@pytest.mark.parametrize(("operation", "path_params"), FUZZED_OPERATIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_values())
def test_fuzz_random_json(operation: str, path_params: dict[str, str], document: Any) -> None:
    parse_or_bad_request(operation, path_params, json.dumps(document).encode())


@pytest.mark.parametrize(("operation", "path_params"), FUZZED_OPERATIONS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_shape_guided_json(
    operation: str, path_params: dict[str, str], data: st.DataObject
) -> None:
    input_shape = MODEL.operation_model(operation).input_shape
    payload = input_shape.members[input_shape.serialization["payload"]]
    document = data.draw(_fuzzy_values(payload))
    parse_or_bad_request(operation, path_params, json.dumps(document).encode())


@settings(max_examples=300, deadline=None)
@given(
    query=st.text(max_size=60),
    operation=st.sampled_from(
        ["GetApplicationDateRangeKpi", "UpdateEmailTemplate", "UntagResource", "GetApps"]
    ),
)
def test_fuzz_query_strings(query: str, operation: str) -> None:
    labels = {"application-id": "a", "kpi-name": "k", "template-name": "t", "resource-arn": "r"}
    with contextlib.suppress(BadRequest):
        PROTOCOL.parse(Route(operation, labels), query, {}, b"{}")


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=40)
    | st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    | st.datetimes(timezones=st.timezones()).map(format_datetime)
)
def test_fuzz_timestamp_text(text: str) -> None:
    with contextlib.suppress(InvalidValue):
        assert TimestampSpec("iso8601").read_text(text).tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH"]),
    segments=st.lists(
        st.sampled_from(["v1", "apps", "a", "templates", "email", "versions", "%2F", "%FF", ""])
        | st.text(max_size=4),
        max_size=7,
    ),
)
def test_fuzz_routing(method: str, segments: list[str]) -> None:
    try:
        route = PROTOCOL.route(method, "/" + "/".join(segments))
    except (NotFound, MethodNotAllowed, BadRequest):
        return
    assert route.operation in PROTOCOL.operation_names


@pytest.mark.parametrize(
    "operation",
    [
        "UpdateEndpoint",
        "UpdateEndpointsBatch",
        "PutEvents",
        "CreateCampaign",
        "CreateSegment",
        "CreateJourney",
        "SendMessages",
        "SendUsersMessages",
        "UpdateApplicationSettings",
        "UpdateEmailTemplate",
        "UpdateInAppTemplate",
        "GetApplicationDateRangeKpi",
        "UntagResource",
        "GetApps",
    ],
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_valid_request_round_trips(operation: str, data: st.DataObject) -> None:
    params = data.draw(valid_values(MODEL.operation_model(operation).input_shape))
    assert_round_trip(operation, params)


@pytest.mark.parametrize(
    "operation",
    [
        "GetApp",
        "GetApps",
        "GetEndpoint",
        "GetUserEndpoints",
        "GetCampaign",
        "GetJourney",
        "GetSegment",
        "GetApplicationDateRangeKpi",
        "GetJourneyDateRangeKpi",
        "PutEvents",
        "SendMessages",
        "GetEmailTemplate",
        "GetChannels",
        "ListTemplates",
        "GetApplicationSettings",
    ],
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_valid_response_round_trips(operation: str, data: st.DataObject) -> None:
    output = data.draw(valid_values(MODEL.operation_model(operation).output_shape))
    assert parse_with_botocore(operation, PROTOCOL.serialize(operation, output)) == output


# --------------------------------------------------------------------------- response round trips


APPLICATION = {
    "Arn": APP_ARN,
    "Id": "abc",
    "Name": "My app",
    "tags": {"team": "growth"},
    "CreationDate": "2024-05-06T07:08:09.000Z",
}
ENDPOINT_RESPONSE: dict[str, Any] = {
    **{k: v for k, v in FULL_ENDPOINT_REQUEST.items() if k != "RequestId"},
    "ApplicationId": "abc",
    "CohortId": "42",
    "CreationDate": "2024-05-06T07:08:09.000Z",
    "Id": "e-1",
    "RequestId": "req-1",
}


@pytest.mark.parametrize(
    ("operation", "output"),
    [
        ("GetApp", {"ApplicationResponse": APPLICATION}),
        ("CreateApp", {"ApplicationResponse": APPLICATION}),
        (
            "GetApps",
            {
                "ApplicationsResponse": {
                    "Item": [APPLICATION, {**APPLICATION, "Id": "d"}],
                    "NextToken": "n",
                }
            },
        ),
        ("GetApps", {"ApplicationsResponse": {"Item": []}}),
        ("UpdateEndpoint", {"MessageBody": {"Message": "Accepted", "RequestID": "r-1"}}),
        ("UpdateEndpointsBatch", {"MessageBody": {"Message": "Accepted", "RequestID": "r-1"}}),
        ("GetEndpoint", {"EndpointResponse": ENDPOINT_RESPONSE}),
        ("DeleteEndpoint", {"EndpointResponse": ENDPOINT_RESPONSE}),
        (
            "GetUserEndpoints",
            {"EndpointsResponse": {"Item": [ENDPOINT_RESPONSE, ENDPOINT_RESPONSE]}},
        ),
        ("DeleteUserEndpoints", {"EndpointsResponse": {"Item": []}}),
        ("ListTagsForResource", {"TagsModel": {"tags": {"a": "b", "c": ""}}}),
        (
            "GetApplicationSettings",
            {
                "ApplicationSettingsResource": {
                    "ApplicationId": "abc",
                    "Limits": {
                        "Daily": 0,
                        "MaximumDuration": 60,
                        "MessagesPerSecond": 50,
                        "Total": 0,
                    },
                    "QuietTime": {"Start": "22:00", "End": "06:00"},
                    "LastModifiedDate": "2024-05-06T07:08:09.000Z",
                }
            },
        ),
        (
            "GetApplicationDateRangeKpi",
            {
                "ApplicationDateRangeKpiResponse": {
                    "ApplicationId": "abc",
                    "KpiName": "email-open-rate",
                    "StartTime": MOMENT,
                    "EndTime": MOMENT + timedelta(days=1, microseconds=123_456),
                    "KpiResult": {
                        "Rows": [
                            {
                                "GroupedBys": [],
                                "Values": [{"Key": "k", "Type": "Double", "Value": "0.5"}],
                            }
                        ]
                    },
                }
            },
        ),
        (
            "PutEvents",
            {
                "EventsResponse": {
                    "Results": {
                        "e-1": {
                            "EndpointItemResponse": {"Message": "ok", "StatusCode": 202},
                            "EventsItemResponse": {"ev": {"Message": "ok", "StatusCode": 202}},
                        }
                    }
                }
            },
        ),
    ],
)
def test_responses_round_trip_through_botocore(operation: str, output: dict[str, Any]) -> None:
    response = PROTOCOL.serialize(operation, output)
    assert response.status == MODEL.operation_model(operation).http.get("responseCode", 200)
    assert ("Content-Type", "application/json") in response.headers
    assert parse_with_botocore(operation, response) == output


def test_status_codes_follow_the_model() -> None:
    assert PROTOCOL.serialize("GetApp", {"ApplicationResponse": APPLICATION}).status == 200
    assert PROTOCOL.serialize("CreateApp", {"ApplicationResponse": APPLICATION}).status == 201
    assert PROTOCOL.serialize("UpdateEndpoint", {"MessageBody": {}}).status == 202


@pytest.mark.parametrize("operation", ["TagResource", "UntagResource"])
def test_operations_without_output_answer_204_with_no_body(operation: str) -> None:
    assert PROTOCOL.serialize(operation, {}) == HttpResponse(204, [], b"")
    assert parse_with_botocore(operation, PROTOCOL.serialize(operation, {})) == {}


def test_serialisation_drops_undeclared_members_and_nones() -> None:
    output = {
        "ApplicationResponse": {**APPLICATION, "Secret": "x", "Name": None, "tags": {"a": None}},
        "Extra": 1,
    }
    body = orjson.loads(PROTOCOL.serialize("GetApp", output).body)
    assert body == {
        "Arn": APP_ARN,
        "Id": "abc",
        "tags": {},
        "CreationDate": APPLICATION["CreationDate"],
    }


def test_serialisation_uses_json_names() -> None:
    condition = {"SegmentDimensions": {"Demographic": {"Platform": {"Values": ["ios"]}}}}
    journey = {
        "Id": "j",
        "ApplicationId": "a",
        "Name": "n",
        "Activities": {"x": {"ConditionalSplit": {"Condition": {"Conditions": [condition]}}}},
    }
    body = PROTOCOL.serialize("GetJourney", {"JourneyResponse": journey}).body
    assert b'"segmentDimensions"' in body
    assert parse_with_botocore(
        "GetJourney", PROTOCOL.serialize("GetJourney", {"JourneyResponse": journey})
    ) == {"JourneyResponse": journey}


def test_missing_payload_gives_an_empty_body() -> None:
    assert PROTOCOL.serialize("GetApp", {}) == HttpResponse(200, [], b"")


def test_timestamp_formats() -> None:
    moment = MOMENT + timedelta(microseconds=500_000)
    assert TimestampSpec("iso8601").write(moment) == "2024-05-06T07:08:09.500Z"
    assert TimestampSpec("iso8601").write(MOMENT) == "2024-05-06T07:08:09Z"
    assert (
        TimestampSpec("iso8601").write(MOMENT.replace(microsecond=7))
        == "2024-05-06T07:08:09.000007Z"
    )
    assert TimestampSpec(None).write(MOMENT) == 1714979289
    assert TimestampSpec(None).write(moment) == 1714979289.5
    assert TimestampSpec(None).write_text(MOMENT) == "Mon, 06 May 2024 07:08:09 GMT"
    naive = datetime(2024, 5, 6, 7, 8, 9)
    assert TimestampSpec("unixTimestamp").write(naive) == 1714979289
    assert TimestampSpec("iso8601").write("2024-05-06T09:08:09+02:00") == "2024-05-06T07:08:09Z"
    assert TimestampSpec("iso8601").write(1714979289) == "2024-05-06T07:08:09Z"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "error",
    [
        BadRequest("Missing required parameter EndpointRequest"),
        NotFound("Resource not found"),
        MethodNotAllowed("Method PATCH is not allowed for /v1/apps"),
        TooManyRequests("Slow down"),
        NotImplementedYet("GetJourneyRuns is not implemented yet"),
        ClarionError("boom"),
    ],
)
def test_errors_parse_in_botocore(error: ClarionError) -> None:
    response = PROTOCOL.serialize_error(error, "req-123")
    assert response.status == error.status
    assert ("x-amzn-ErrorType", error.code) in response.headers
    parsed = RestJSONParser().parse(
        {
            "status_code": response.status,
            "headers": HeadersDict(response.headers),
            "body": response.body,
        },
        MODEL.operation_model("GetApp").output_shape,
    )
    assert parsed["Error"] == {"Code": error.code, "Message": error.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-123"
    assert orjson.loads(response.body) == {"Message": error.message, "RequestID": "req-123"}


def test_not_implemented_is_501() -> None:
    response = PROTOCOL.serialize_error(NotImplementedYet("later"), "r")
    assert response.status == 501
    assert ("x-amzn-ErrorType", "NotImplementedException") in response.headers


# --------------------------------------------------------------------------- a real boto3 client


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class ClarionTransport:
    """Stands in for the network: every request a client sends goes through the protocol."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        wire = from_prepared(request)
        try:
            route = PROTOCOL.route(wire.method, wire.path)
            params = PROTOCOL.parse(route, wire.query, wire.headers, wire.body)
            self.seen.append((route.operation, params))
            response = PROTOCOL.serialize(route.operation, self.handler(route.operation, params))
        except ClarionError as error:
            response = PROTOCOL.serialize_error(error, "req-1")
        headers = HeadersDict(response.headers)
        return AWSResponse(request.url, response.status, headers, _RawBody(response.body))


def pinpoint_client(transport: ClarionTransport) -> Any:
    client = boto3.client(
        "pinpoint",
        region_name="us-east-1",
        endpoint_url=ENDPOINT_URL,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.meta.events.register("before-send.pinpoint", transport)
    return client


def test_boto3_client_sees_clarion_errors() -> None:
    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotFound(f"Application {params['ApplicationId']} not found")

    client = pinpoint_client(ClarionTransport(handler))
    with pytest.raises(client.exceptions.NotFoundException) as caught:
        client.get_app(ApplicationId="nope")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    assert caught.value.response["Error"]["Message"] == "Application nope not found"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_boto3_client_sees_not_implemented() -> None:
    def handler(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedYet(f"{operation} is not implemented yet")

    client = pinpoint_client(ClarionTransport(handler))
    with pytest.raises(ClientError) as caught:
        client.get_journey_runs(ApplicationId="a", JourneyId="j")
    assert caught.value.response["Error"] == {
        "Code": "NotImplementedException",
        "Message": "GetJourneyRuns is not implemented yet",
    }


def test_boto3_client_round_trip() -> None:
    transport = ClarionTransport(lambda operation, params: {"MessageBody": {"Message": "Accepted"}})
    client = pinpoint_client(transport)
    answer = client.update_endpoint(
        ApplicationId="a", EndpointId="e/1 é", EndpointRequest=FULL_ENDPOINT_REQUEST
    )
    assert answer["MessageBody"] == {"Message": "Accepted"}
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    expected = {
        "ApplicationId": "a",
        "EndpointId": "e/1 é",
        "EndpointRequest": FULL_ENDPOINT_REQUEST,
    }
    assert transport.seen == [("UpdateEndpoint", expected)]


def test_boto3_client_timestamps_both_ways() -> None:
    def echo_window(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        window = {"StartTime": params["StartTime"], "EndTime": params["EndTime"]}
        kpi = {"ApplicationId": "a", "KpiName": "k", "KpiResult": {"Rows": []}, **window}
        return {"ApplicationDateRangeKpiResponse": kpi}

    client = pinpoint_client(ClarionTransport(echo_window))
    end = MOMENT + timedelta(days=1, milliseconds=250)
    answer = client.get_application_date_range_kpi(
        ApplicationId="a", KpiName="k", StartTime=MOMENT, EndTime=end
    )
    kpi = answer["ApplicationDateRangeKpiResponse"]
    assert (kpi["StartTime"], kpi["EndTime"]) == (MOMENT, end)


def test_blob_payload_base64_on_the_wire() -> None:
    wire = to_wire(
        "SendMessages",
        {
            "ApplicationId": "a",
            "MessageRequest": {
                "MessageConfiguration": {"EmailMessage": {"RawEmail": {"Data": b"\xff"}}}
            },
        },
    )
    assert base64.b64encode(b"\xff") in wire.body


def test_a_native_route_given_twice_is_an_error_at_start() -> None:
    from clarion.api import native

    def handler(ctx: Any, request: native.NativeRequest) -> dict[str, Any]:
        return {}

    route = native.Route("GET", "/clarion/v1/apps/{application-id}/x", handler)
    with pytest.raises(ValueError, match="two handlers for GET"):
        native.Routes([route, native.Route("GET", "/clarion/v1/apps/{id}/x", handler)])
    assert native.Routes([route]).match("GET", "/clarion/v1/apps/a1/x") == (
        handler,
        {"application-id": "a1"},
    )
