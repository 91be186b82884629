"""Endpoints and users through signed boto3 calls, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

FULL_REQUEST: dict[str, Any] = {
    "Address": "ada@example.com",
    "Attributes": {"Interests": ["math", "engines"], "Plan": ["pro"]},
    "ChannelType": "EMAIL",
    "Demographic": {
        "AppVersion": "2.1.0",
        "Locale": "en_GB",
        "Make": "Apple",
        "Model": "iPhone",
        "ModelVersion": "15",
        "Platform": "ios",
        "PlatformVersion": "17.1",
        "Timezone": "Europe/London",
    },
    "EffectiveDate": "2026-11-01T10:00:00.000Z",
    "EndpointStatus": "ACTIVE",
    "Location": {
        "City": "London",
        "Country": "GBR",
        "Latitude": 51.5,
        "Longitude": -0.1,
        "PostalCode": "N1",
        "Region": "England",
    },
    "Metrics": {"score": 42.5},
    "OptOut": "NONE",
    "RequestId": "client-request-1",
    "User": {"UserAttributes": {"FirstName": ["Ada"]}, "UserId": "user-1"},
}


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_update_then_get_returns_every_field(pinpoint: Any, app_id: str) -> None:
    accepted = pinpoint.update_endpoint(
        ApplicationId=app_id, EndpointId="endpoint-1", EndpointRequest=FULL_REQUEST
    )
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert accepted["MessageBody"]["Message"] == "Accepted"
    request_id = accepted["MessageBody"]["RequestID"]

    endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="endpoint-1")[
        "EndpointResponse"
    ]
    for field in (
        "Address",
        "Attributes",
        "ChannelType",
        "Demographic",
        "EffectiveDate",
        "EndpointStatus",
        "Location",
        "Metrics",
        "OptOut",
        "User",
    ):
        assert endpoint[field] == FULL_REQUEST[field], field
    assert endpoint["ApplicationId"] == app_id
    assert endpoint["Id"] == "endpoint-1"
    assert 0 <= int(endpoint["CohortId"]) <= 99
    assert endpoint["CreationDate"].endswith("Z")
    assert endpoint["RequestId"] == request_id


def test_update_merges_and_keeps_fields_left_out(pinpoint: Any, app_id: str) -> None:
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="e", EndpointRequest=FULL_REQUEST)
    first = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e")["EndpointResponse"]
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="e",
        EndpointRequest={"Attributes": {"Plan": ["free"]}, "Demographic": {"AppVersion": "2.2.0"}},
    )
    second = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e")["EndpointResponse"]
    assert second["Address"] == "ada@example.com"
    assert second["ChannelType"] == "EMAIL"
    assert second["Attributes"]["Plan"] == ["free"]
    assert second["Attributes"]["Interests"] == ["math", "engines"]
    assert second["Demographic"]["AppVersion"] == "2.2.0"
    assert second["Demographic"]["Platform"] == "ios"
    assert second["User"] == FULL_REQUEST["User"]
    assert second["CreationDate"] == first["CreationDate"]
    assert second["CohortId"] == first["CohortId"]


def test_coordinates_are_rounded_to_one_decimal_as_pinpoint_does(
    pinpoint: Any, app_id: str
) -> None:
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="geo",
        EndpointRequest={"Location": {"Latitude": 47.61, "Longitude": -122.33}},
    )
    location = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="geo")["EndpointResponse"][
        "Location"
    ]
    assert (location["Latitude"], location["Longitude"]) == (47.6, -122.3)


def test_endpoint_ids_are_case_insensitive(pinpoint: Any, app_id: str) -> None:
    pinpoint.update_endpoint(
        ApplicationId=app_id, EndpointId="MixedCase", EndpointRequest={"ChannelType": "EMAIL"}
    )
    endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="mixedcase")
    assert endpoint["EndpointResponse"]["Id"] == "MixedCase"


def test_same_address_deactivates_the_older_endpoint(pinpoint: Any, app_id: str) -> None:
    request = {"ChannelType": "EMAIL", "Address": "shared@example.com"}
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="old", EndpointRequest=request)
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="new", EndpointRequest=request)
    old = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="old")["EndpointResponse"]
    new = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="new")["EndpointResponse"]
    assert (old["EndpointStatus"], new["EndpointStatus"]) == ("INACTIVE", "ACTIVE")


def test_sixteenth_endpoint_of_a_user_is_refused(pinpoint: Any, app_id: str) -> None:
    items = [
        {
            "Id": f"u-{i}",
            "ChannelType": "EMAIL",
            "Address": f"u{i}@example.com",
            "User": {"UserId": "busy"},
        }
        for i in range(15)
    ]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_endpoint(
            ApplicationId=app_id,
            EndpointId="u-16",
            EndpointRequest={
                "ChannelType": "EMAIL",
                "Address": "x16@example.com",
                "User": {"UserId": "busy"},
            },
        )
    code, message = error(excinfo)
    assert code == "BadRequestException"
    assert "15" in message


def test_application_attribute_quota_is_enforced(pinpoint: Any, app_id: str) -> None:
    for start in range(0, 250, 50):
        attributes = {f"a{i}": ["v"] for i in range(start, start + 50)}
        pinpoint.update_endpoint(
            ApplicationId=app_id, EndpointId=f"q{start}", EndpointRequest={"Attributes": attributes}
        )
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_endpoint(
            ApplicationId=app_id,
            EndpointId="q-over",
            EndpointRequest={"Attributes": {"one_more": ["v"]}},
        )
    code, message = error(excinfo)
    assert code == "BadRequestException"
    assert "250" in message
    pinpoint.update_endpoint(
        ApplicationId=app_id, EndpointId="q-reuse", EndpointRequest={"Attributes": {"a7": ["w"]}}
    )


def test_get_missing_endpoint_is_not_found(pinpoint: Any, app_id: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="nobody")
    assert error(excinfo)[0] == "NotFoundException"


def test_endpoint_in_missing_app_is_not_found(pinpoint: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_endpoint(
            ApplicationId="0" * 32, EndpointId="e", EndpointRequest={"ChannelType": "EMAIL"}
        )
    assert error(excinfo)[0] == "NotFoundException"


def test_delete_endpoint_answers_the_deleted_endpoint(pinpoint: Any, app_id: str) -> None:
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="gone", EndpointRequest=FULL_REQUEST)
    deleted = pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId="gone")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["EndpointResponse"]["Address"] == "ada@example.com"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId="gone")
    assert error(excinfo)[0] == "NotFoundException"


def test_batch_update_and_user_endpoints(pinpoint: Any, app_id: str) -> None:
    items = [
        {"Id": "phone", "ChannelType": "SMS", "Address": "+447911123456", "User": {"UserId": "u9"}},
        {
            "Id": "mail",
            "ChannelType": "EMAIL",
            "Address": "u9@example.com",
            "User": {"UserId": "u9"},
        },
        {
            "Id": "other",
            "ChannelType": "EMAIL",
            "Address": "x@example.com",
            "User": {"UserId": "u8"},
        },
    ]
    accepted = pinpoint.update_endpoints_batch(
        ApplicationId=app_id, EndpointBatchRequest={"Item": items}
    )
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202

    found = pinpoint.get_user_endpoints(ApplicationId=app_id, UserId="u9")["EndpointsResponse"]
    assert sorted(e["Id"] for e in found["Item"]) == ["mail", "phone"]

    deleted = pinpoint.delete_user_endpoints(ApplicationId=app_id, UserId="u9")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert sorted(e["Id"] for e in deleted["EndpointsResponse"]["Item"]) == ["mail", "phone"]
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_user_endpoints(ApplicationId=app_id, UserId="u9")
    assert error(excinfo)[0] == "NotFoundException"
    assert pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="other")["EndpointResponse"]


def test_batch_of_101_items_is_refused_and_writes_nothing(pinpoint: Any, app_id: str) -> None:
    items = [
        {"Id": f"b{i}", "ChannelType": "EMAIL", "Address": f"b{i}@example.com"} for i in range(101)
    ]
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    code, message = error(excinfo)
    assert code == "BadRequestException"
    assert "100" in message
    with pytest.raises(ClientError):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="b0")


def test_batch_with_one_bad_item_names_it(pinpoint: Any, app_id: str) -> None:
    items = [
        {"Id": "ok", "ChannelType": "EMAIL", "Address": "ok@example.com"},
        {"Id": "bad", "ChannelType": "EMAIL", "Address": "not-an-address"},
    ]
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    code, message = error(excinfo)
    assert code == "BadRequestException"
    assert "Item[1]" in message


@pytest.mark.parametrize(
    ("request_body", "fragment"),
    [
        ({"ChannelType": "EMAIL", "Address": "not-an-email"}, "Address"),
        ({"ChannelType": "SMS", "Address": "12345"}, "Address"),
        ({"ChannelType": "SMS", "Address": "+1 not a number"}, "Address"),
        ({"ChannelType": "CARRIER_PIGEON"}, "ChannelType"),
        ({"Location": {"Latitude": 91.0}}, "Latitude"),
        ({"Demographic": {"Timezone": "Mars/Olympus"}}, "Timezone"),
        ({"Attributes": {"x" * 51: ["v"]}}, "Attributes"),
        ({"Attributes": {"k": ["v" * 101]}}, "Attributes"),
    ],
)
def test_bad_endpoint_requests_are_rejected_precisely(
    pinpoint: Any, app_id: str, request_body: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.update_endpoint(
            ApplicationId=app_id, EndpointId="bad", EndpointRequest=request_body
        )
    code, message = error(excinfo)
    assert code == "BadRequestException"
    assert fragment in message
    with pytest.raises(ClientError):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="bad")


def test_remove_attributes_forgets_names_across_the_app(pinpoint: Any, app_id: str) -> None:
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="e",
        EndpointRequest={
            "ChannelType": "EMAIL",
            "Address": "a@example.com",
            "Attributes": {"Color": ["red"], "Size": ["L"]},
        },
    )
    removed = pinpoint.remove_attributes(
        ApplicationId=app_id,
        AttributeType="endpoint-custom-attributes",
        UpdateAttributesRequest={"Blacklist": ["Color"]},
    )["AttributesResource"]
    assert removed["AttributeType"] == "endpoint-custom-attributes"
    assert removed["Attributes"] == ["Color"]

    with pytest.raises(ClientError) as excinfo:
        pinpoint.remove_attributes(
            ApplicationId=app_id, AttributeType="nonsense", UpdateAttributesRequest={}
        )
    assert error(excinfo)[0] == "BadRequestException"
