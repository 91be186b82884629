"""PhoneNumberValidate's mapping from libphonenumber to NumberValidateResponse, without a server.

The expected answers follow the examples of Pinpoint's developer guide where libphonenumber
knows as much as Pinpoint's carriers did.
"""

from __future__ import annotations

import pytest

from clarion.errors import BadRequest
from clarion.phone import PHONE_TYPE_CODES, validate_phone_number


def test_type_codes_are_pinpoints() -> None:
    assert PHONE_TYPE_CODES == {
        "MOBILE": 0,
        "LANDLINE": 1,
        "VOIP": 2,
        "INVALID": 3,
        "OTHER": 4,
        "PREPAID": 5,
    }


def test_a_landline_with_its_country_hint_and_dashes() -> None:
    assert validate_phone_number("+44-207-946-0881", "GB") == {
        "OriginalPhoneNumber": "+44-207-946-0881",
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


def test_a_mobile_number_names_its_carrier() -> None:
    answer = validate_phone_number("+33 6 12 34 56 78", None)
    assert (answer["PhoneType"], answer["PhoneTypeCode"]) == ("MOBILE", 0)
    assert (answer["Carrier"], answer["Country"], answer["Timezone"]) == (
        "SFR",
        "France",
        "Europe/Paris",
    )
    assert "City" not in answer, "a description that only repeats the country is no city"
    assert "OriginalCountryCodeIso2" not in answer


def test_the_country_hint_reads_a_national_number() -> None:
    answer = validate_phone_number("(212) 555-1234", "us")
    assert answer["CleansedPhoneNumberE164"] == "+12125551234"
    assert answer["OriginalCountryCodeIso2"] == "us"
    assert answer["CountryCodeIso2"] == "US"
    assert answer["City"] == "New York, NY"
    assert answer["PhoneType"] == "MOBILE", "North American numbers may be fixed line or mobile"


def test_without_country_code_or_hint_the_digits_start_with_one() -> None:
    """The guide's example: 4085550100 without +1 reads as a Romanian number, and an invalid one."""
    assert validate_phone_number("4085550100", None) == {
        "OriginalPhoneNumber": "4085550100",
        "CleansedPhoneNumberE164": "+4085550100",
        "CleansedPhoneNumberNational": "85550100",
        "CountryCodeNumeric": "40",
        "CountryCodeIso2": "RO",
        "Country": "Romania",
        "PhoneType": "INVALID",
        "PhoneTypeCode": 3,
    }


def test_an_invalid_number_answers_what_its_digits_tell_and_no_carrier_or_place() -> None:
    assert validate_phone_number("+440163296076", None) == {
        "OriginalPhoneNumber": "+440163296076",
        "CleansedPhoneNumberE164": "+44163296076",
        "CleansedPhoneNumberNational": "163296076",
        "CountryCodeNumeric": "44",
        "CountryCodeIso2": "GB",
        "Country": "United Kingdom",
        "PhoneType": "INVALID",
        "PhoneTypeCode": 3,
    }


@pytest.mark.parametrize("text", ["", "not a number", "+", "+999 123"])
def test_text_that_is_no_number_is_invalid_not_an_error(text: str) -> None:
    assert validate_phone_number(text, None) == {
        "OriginalPhoneNumber": text,
        "PhoneType": "INVALID",
        "PhoneTypeCode": 3,
    }


@pytest.mark.parametrize(
    ("number", "phone_type"),
    [
        ("+18005551234", "OTHER"),
        ("+80012345678", "OTHER"),
        ("+442034567890", "LANDLINE"),
        ("+445612345678", "VOIP"),
        ("+4915112345678", "MOBILE"),
    ],
)
def test_phone_types(number: str, phone_type: str) -> None:
    answer = validate_phone_number(number, None)
    assert (answer["PhoneType"], answer["PhoneTypeCode"]) == (
        phone_type,
        PHONE_TYPE_CODES[phone_type],
    )


def test_fictitious_north_american_numbers_are_other() -> None:
    """555-0100 to 555-0199 are reserved for fiction; the guide's example answers OTHER."""
    answer = validate_phone_number("+14255550199", None)
    assert answer["Country"] == "United States"
    assert validate_phone_number("+14255550200", None)["PhoneType"] == "MOBILE"


def test_a_non_geographic_number_has_no_country() -> None:
    answer = validate_phone_number("+80012345678", None)
    assert answer["CountryCodeNumeric"] == "800"
    assert "CountryCodeIso2" not in answer
    assert "Country" not in answer


def test_timezone_only_when_the_number_has_exactly_one() -> None:
    assert "Timezone" not in validate_phone_number("+61412345678", None)
    assert validate_phone_number("+81312345678", None)["Timezone"] == "Asia/Tokyo"


def test_a_country_hint_must_be_a_region_with_numbers() -> None:
    with pytest.raises(BadRequest) as excinfo:
        validate_phone_number("2065550100", "ZZ")
    assert excinfo.value.message.startswith("NumberValidateRequest.IsoCountryCode 'ZZ'")


def test_the_phone_number_is_required() -> None:
    with pytest.raises(BadRequest) as excinfo:
        validate_phone_number(None, "US")
    assert excinfo.value.message == "NumberValidateRequest.PhoneNumber is required"
