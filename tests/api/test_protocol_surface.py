"""The whole Pinpoint surface is routed; unbuilt operations say so with 501."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import httpx
import pytest
from botocore.exceptions import ClientError

from clarion.api.handlers import operations
from clarion.api.protocol import Protocol
from tests.conftest import Server, signed_request


def test_routing_table_covers_every_operation_of_the_model() -> None:
    model = botocore.session.get_session().get_service_model("pinpoint")
    assert len(model.operation_names) == 122
    assert sorted(Protocol().operation_names) == sorted(model.operation_names)


def test_unbuilt_operation_answers_501_naming_itself(pinpoint: Any, app_id: str) -> None:
    assert "GetRecommenderConfigurations" not in operations()
    with pytest.raises(ClientError) as excinfo:
        pinpoint.get_recommender_configurations()
    response = excinfo.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["Error"]["Code"] == "NotImplementedException"
    assert "GetRecommenderConfigurations" in response["Error"]["Message"]


def test_unknown_path_is_not_found(server: Server) -> None:
    response = signed_request(server, "GET", "/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"].startswith("NotFoundException")
    assert set(response.json()) == {"Message", "RequestID"}


def test_wrong_method_is_method_not_allowed(server: Server) -> None:
    response = signed_request(server, "PATCH", "/v1/apps")
    assert response.status_code == 405
    assert response.headers["x-amzn-ErrorType"].startswith("MethodNotAllowedException")


def test_body_that_is_not_json_is_bad_request(server: Server) -> None:
    response = signed_request(server, "POST", "/v1/apps", b"{not json")
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"].startswith("BadRequestException")


def test_wrong_member_type_names_the_member(server: Server, app_id: str) -> None:
    body = json.dumps({"Limits": {"Daily": "lots"}}).encode()
    response = signed_request(server, "PUT", f"/v1/apps/{app_id}/settings", body)
    assert response.status_code == 400
    assert "Daily" in response.json()["Message"]


def test_missing_required_member_names_it(server: Server) -> None:
    response = signed_request(server, "POST", "/v1/apps", json.dumps({"tags": {}}).encode())
    assert response.status_code == 400
    assert "Name" in response.json()["Message"]


def test_payload_too_large(server: Server) -> None:
    body = b"{" + b" " * (8 * 1024 * 1024) + b"}"
    response = signed_request(server, "POST", "/v1/apps", body)
    assert response.status_code == 413
    assert response.headers["x-amzn-ErrorType"].startswith("PayloadTooLargeException")


def test_healthz_needs_no_signature(server: Server) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
