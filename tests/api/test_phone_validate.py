"""PhoneNumberValidate through boto3: valid and invalid numbers answer 200, bad requests 400."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def validate(pinpoint: Any, **request: str) -> dict[str, Any]:
    answer: dict[str, Any] = pinpoint.phone_number_validate(NumberValidateRequest=request)[
        "NumberValidateResponse"
    ]
    return answer


def test_a_valid_number(pinpoint: Any) -> None:
    assert validate(pinpoint, PhoneNumber="020 7946 0881", IsoCountryCode="GB") == {
        "OriginalPhoneNumber": "020 7946 0881",
        "OriginalCountryCodeIso2": "GB",
        "CleansedPhoneNumberE164": "+442079460881",
        "CleansedPhoneNumberNational": "2079460881",
        "CountryCodeNumeric": "44",
        "CountryCodeIso2": "GB",
        "Country": "United Kingdom",
        "PhoneType": "LANDLINE",
        "PhoneTypeCode": 1,
        "City": "London",
        "Timezone": "Europe/London",
    }


def test_a_mobile_number(pinpoint: Any) -> None:
    answer = validate(pinpoint, PhoneNumber="+4915112345678")
    assert (answer["PhoneType"], answer["PhoneTypeCode"], answer["Carrier"]) == (
        "MOBILE",
        0,
        "T-Mobile",
    )


def test_an_invalid_number_is_answered_not_refused(pinpoint: Any) -> None:
    response = pinpoint.phone_number_validate(NumberValidateRequest={"PhoneNumber": "4085550100"})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    answer = response["NumberValidateResponse"]
    assert (answer["PhoneType"], answer["PhoneTypeCode"], answer["CountryCodeIso2"]) == (
        "INVALID",
        3,
        "RO",
    )
    assert "Carrier" not in answer
    garbage = validate(pinpoint, PhoneNumber="call me maybe")
    assert garbage == {
        "OriginalPhoneNumber": "call me maybe",
        "PhoneType": "INVALID",
        "PhoneTypeCode": 3,
    }


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        ({"IsoCountryCode": "US"}, "NumberValidateRequest.PhoneNumber is required"),
        (
            {"PhoneNumber": "2065550100", "IsoCountryCode": "XX"},
            "NumberValidateRequest.IsoCountryCode 'XX'",
        ),
    ],
)
def test_bad_requests(pinpoint: Any, request_body: dict[str, str], expected: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        pinpoint.phone_number_validate(NumberValidateRequest=request_body)
    error = excinfo.value.response["Error"]
    assert error["Code"] == "BadRequestException"
    assert error["Message"].startswith(expected)
