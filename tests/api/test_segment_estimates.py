"""Segment membership over HTTP: the native estimate answers exactly who is in a segment,
for dimensions and for groups built from base segments."""

from __future__ import annotations

from typing import Any

from tests.conftest import Server, signed_request

PEOPLE = {
    "ann": {"Platform": "ios", "Plan": ["pro"], "Country": "GB"},
    "bob": {"Platform": "android", "Plan": ["pro"], "Country": "FR"},
    "cat": {"Platform": "ios", "Plan": ["free"], "Country": "FR"},
    "dan": {"Platform": "android", "Plan": ["free"], "Country": "GB"},
}


def load(pinpoint: Any, app_id: str) -> None:
    items = [
        {
            "Id": name,
            "ChannelType": "EMAIL",
            "Address": f"{name}@example.com",
            "Demographic": {"Platform": who["Platform"]},
            "Location": {"Country": who["Country"]},
            "Attributes": {"Plan": who["Plan"]},
        }
        for name, who in PEOPLE.items()
    ]
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})


def members(server: Server, app_id: str, segment_id: str) -> set[str]:
    response = signed_request(
        server, "GET", f"/clarion/v1/apps/{app_id}/segments/{segment_id}/estimate"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["Count"] == len(body["SampleEndpointIds"])
    return set(body["SampleEndpointIds"])


def segment(pinpoint: Any, app_id: str, **request: Any) -> str:
    created = pinpoint.create_segment(
        ApplicationId=app_id, WriteSegmentRequest={"Name": "s", **request}
    )
    segment_id: str = created["SegmentResponse"]["Id"]
    return segment_id


def test_dimensions_and_groups(server: Server, pinpoint: Any, app_id: str) -> None:
    load(pinpoint, app_id)
    ios = segment(
        pinpoint,
        app_id,
        Dimensions={"Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}}},
    )
    assert members(server, app_id, ios) == {"ann", "cat"}
    pro_not_fr = segment(
        pinpoint,
        app_id,
        Dimensions={
            "Attributes": {"Plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}},
            "Location": {"Country": {"DimensionType": "EXCLUSIVE", "Values": ["FR"]}},
        },
    )
    assert members(server, app_id, pro_not_fr) == {"ann"}

    any_of = segment(
        pinpoint,
        app_id,
        SegmentGroups={
            "Include": "ANY",
            "Groups": [
                {"SourceSegments": [{"Id": ios}], "Type": "ALL"},
                {"SourceSegments": [{"Id": pro_not_fr}], "Type": "ALL"},
            ],
        },
    )
    assert members(server, app_id, any_of) == {"ann", "cat"}

    filtered = segment(
        pinpoint,
        app_id,
        SegmentGroups={
            "Include": "ALL",
            "Groups": [
                {
                    "SourceSegments": [{"Id": ios, "Version": 1}],
                    "Type": "NONE",
                    "Dimensions": [
                        {"Attributes": {"Plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}}}
                    ],
                }
            ],
        },
    )
    assert members(server, app_id, filtered) == {"cat"}

    excluded = segment(
        pinpoint,
        app_id,
        SegmentGroups={"Include": "NONE", "Groups": [{"SourceSegments": [{"Id": ios}]}]},
    )
    assert members(server, app_id, excluded) == {"bob", "dan"}


def test_estimate_of_a_missing_segment_is_not_found(server: Server, app_id: str) -> None:
    response = signed_request(
        server, "GET", f"/clarion/v1/apps/{app_id}/segments/{'0' * 32}/estimate"
    )
    assert response.status_code == 404
