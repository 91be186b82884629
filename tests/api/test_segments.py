"""Segment definitions through boto3: create, version on update, read, list, delete."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

DIMENSIONS: dict[str, Any] = {
    "Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": ["ios"]}},
    "Attributes": {"Plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}},
}


def code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    found: str = excinfo.value.response["Error"]["Code"]
    return found


def test_create_update_versions_and_delete(pinpoint: Any, app_id: str) -> None:
    created = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={"Name": "pro iOS", "Dimensions": DIMENSIONS, "tags": {"team": "a"}},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    segment = created["SegmentResponse"]
    assert (segment["Name"], segment["Version"], segment["SegmentType"]) == (
        "pro iOS",
        1,
        "DIMENSIONAL",
    )
    assert segment["Dimensions"] == DIMENSIONS
    assert segment["Arn"].endswith(f"apps/{app_id}/segments/{segment['Id']}")
    assert segment["tags"] == {"team": "a"}

    updated = pinpoint.update_segment(
        ApplicationId=app_id,
        SegmentId=segment["Id"],
        WriteSegmentRequest={"Name": "pro iOS users"},
    )["SegmentResponse"]
    assert (updated["Version"], updated["Name"]) == (2, "pro iOS users")
    assert updated["Dimensions"] == DIMENSIONS, "members left out carry over"
    assert updated["CreationDate"] == segment["CreationDate"]

    first = pinpoint.get_segment_version(
        ApplicationId=app_id, SegmentId=segment["Id"], Version="1"
    )["SegmentResponse"]
    assert (first["Version"], first["Name"]) == (1, "pro iOS")
    versions = pinpoint.get_segment_versions(
        ApplicationId=app_id, SegmentId=segment["Id"], PageSize="1"
    )["SegmentsResponse"]
    assert [v["Version"] for v in versions["Item"]] == [1]
    rest = pinpoint.get_segment_versions(
        ApplicationId=app_id, SegmentId=segment["Id"], Token=versions["NextToken"]
    )["SegmentsResponse"]
    assert [v["Version"] for v in rest["Item"]] == [2]

    listed = pinpoint.get_segments(ApplicationId=app_id)["SegmentsResponse"]["Item"]
    assert [s["Id"] for s in listed] == [segment["Id"]]
    assert pinpoint.list_tags_for_resource(ResourceArn=segment["Arn"])["TagsModel"]["tags"] == {
        "team": "a"
    }

    deleted = pinpoint.delete_segment(ApplicationId=app_id, SegmentId=segment["Id"])
    assert deleted["SegmentResponse"]["Id"] == segment["Id"]
    for call in ("get_segment", "delete_segment"):
        with pytest.raises(ClientError) as excinfo:
            getattr(pinpoint, call)(ApplicationId=app_id, SegmentId=segment["Id"])
        assert code(excinfo) == "NotFoundException"
    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_tags_for_resource(ResourceArn=segment["Arn"])
    assert code(excinfo) == "NotFoundException"


def test_segment_groups_must_name_existing_segments(pinpoint: Any, app_id: str) -> None:
    base = pinpoint.create_segment(
        ApplicationId=app_id, WriteSegmentRequest={"Name": "base", "Dimensions": DIMENSIONS}
    )["SegmentResponse"]
    groups = {
        "Include": "ALL",
        "Groups": [{"SourceSegments": [{"Id": base["Id"], "Version": 1}], "Type": "ALL"}],
    }
    built = pinpoint.create_segment(
        ApplicationId=app_id, WriteSegmentRequest={"Name": "built", "SegmentGroups": groups}
    )["SegmentResponse"]
    assert built["SegmentGroups"] == groups

    for source in ({"Id": "f" * 32}, {"Id": base["Id"], "Version": 9}):
        bad = {"Include": "ALL", "Groups": [{"SourceSegments": [source], "Type": "ALL"}]}
        with pytest.raises(ClientError) as excinfo:
            pinpoint.create_segment(
                ApplicationId=app_id, WriteSegmentRequest={"Name": "bad", "SegmentGroups": bad}
            )
        assert code(excinfo) == "BadRequestException"
        assert "SourceSegments[0]" in excinfo.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"Name": "nobody"}, "BadRequestException"),
        ({"Name": "x", "Dimensions": DIMENSIONS, "tags": {"aws:x": "y"}}, "BadRequestException"),
        (
            {"Dimensions": {"Demographic": {"Platform": {"DimensionType": "MAYBE", "Values": []}}}},
            "BadRequestException",
        ),
    ],
)
def test_bad_segments_are_refused(
    pinpoint: Any, app_id: str, request_body: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=request_body)
    assert code(excinfo) == expected
    assert pinpoint.get_segments(ApplicationId=app_id)["SegmentsResponse"]["Item"] == []


def test_missing_segment_and_version(pinpoint: Any, app_id: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_segment(ApplicationId=app_id, SegmentId="0" * 32)
    assert code(excinfo) == "NotFoundException"
    segment = pinpoint.create_segment(
        ApplicationId=app_id, WriteSegmentRequest={"Name": "one", "Dimensions": DIMENSIONS}
    )["SegmentResponse"]
    for version, expected in (("2", "NotFoundException"), ("zero", "BadRequestException")):
        with pytest.raises(ClientError) as excinfo:
            pinpoint.get_segment_version(
                ApplicationId=app_id, SegmentId=segment["Id"], Version=version
            )
        assert code(excinfo) == expected
