"""TagResource, UntagResource and ListTagsForResource over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_tag_list_untag_an_app(pinpoint: Any, app_id: str) -> None:
    arn = pinpoint.get_app(ApplicationId=app_id)["ApplicationResponse"]["Arn"]
    tagged = pinpoint.tag_resource(
        ResourceArn=arn, TagsModel={"tags": {"env": "prod", "team": "a"}}
    )
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    pinpoint.tag_resource(ResourceArn=arn, TagsModel={"tags": {"team": "b"}})
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {
        "env": "prod",
        "team": "b",
    }
    untagged = pinpoint.untag_resource(ResourceArn=arn, TagKeys=["env", "absent"])
    assert untagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {"team": "b"}
    assert pinpoint.get_app(ApplicationId=app_id)["ApplicationResponse"]["tags"] == {"team": "b"}


@pytest.mark.parametrize(
    ("suffix", "code"),
    [
        ("apps/{app}/campaigns/c1", "NotFoundException"),
        ("apps/{app}/segments/s1", "NotFoundException"),
        ("apps/{app}/journeys/j1", "NotFoundException"),
        ("templates/welcome/EMAIL", "NotFoundException"),
        ("apps/" + "0" * 32, "NotFoundException"),
        ("buckets/nope", "BadRequestException"),
    ],
)
def test_each_arn_kind_is_understood(pinpoint: Any, app_id: str, suffix: str, code: str) -> None:
    arn = "arn:aws:mobiletargeting:us-east-1:000000000000:" + suffix.format(app=app_id)
    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_tags_for_resource(ResourceArn=arn)
    assert excinfo.value.response["Error"]["Code"] == code


def test_malformed_arn_is_bad_request(pinpoint: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.list_tags_for_resource(ResourceArn="not-an-arn")
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"


def test_too_many_tags_are_refused(pinpoint: Any, app_id: str) -> None:
    arn = pinpoint.get_app(ApplicationId=app_id)["ApplicationResponse"]["Arn"]
    with pytest.raises(ClientError) as excinfo:
        pinpoint.tag_resource(
            ResourceArn=arn, TagsModel={"tags": {f"k{i}": "v" for i in range(51)}}
        )
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"
    assert pinpoint.list_tags_for_resource(ResourceArn=arn)["TagsModel"]["tags"] == {}
