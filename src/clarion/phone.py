"""PhoneNumberValidate: what libphonenumber knows about a number, in Pinpoint's
NumberValidateResponse shape. Pure.

Pinpoint asked carriers; Clarion answers from libphonenumber's metadata (``phonenumbers`` and its
carrier, geocoder and timezone data), which differs in a few documented ways:

- A number that could be fixed line or mobile (every North American number) is MOBILE, the type
  Pinpoint's guide tells senders to keep for SMS, not LANDLINE.
- PREPAID never appears, nor County or ZipCode: no public metadata knows them.
- City is libphonenumber's description of the area ("London", "New York, NY"), left out when it
  only repeats the country; Timezone is answered when the number lies in exactly one zone.

As Pinpoint does, a number that is not valid still answers 200, with PhoneType INVALID and
whatever the digits tell (country, cleansed forms) but no carrier or location; a number without a
country code or IsoCountryCode is read as if it started with one.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from phonenumbers import (
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    carrier,
    geocoder,
    timezone,
)
from phonenumbers.geodata.locale import LOCALE_DATA

from clarion.errors import BadRequest

PHONE_TYPE_CODES = {"MOBILE": 0, "LANDLINE": 1, "VOIP": 2, "INVALID": 3, "OTHER": 4, "PREPAID": 5}

_PHONE_TYPES = {
    PhoneNumberType.MOBILE: "MOBILE",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "MOBILE",
    PhoneNumberType.FIXED_LINE: "LANDLINE",
    PhoneNumberType.VOIP: "VOIP",
}
_LANGUAGE = "en"


def validate_phone_number(phone_number: str | None, iso_country_code: str | None) -> dict[str, Any]:
    path = "NumberValidateRequest"
    if phone_number is None:
        raise BadRequest(f"{path}.PhoneNumber is required")
    region = None
    if iso_country_code is not None:
        region = iso_country_code.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise BadRequest(
                f"{path}.IsoCountryCode {iso_country_code!r} is not the ISO 3166-1 alpha-2 code "
                "of a country or region with a telephone numbering plan"
            )
    answer: dict[str, Any] = {"OriginalPhoneNumber": phone_number}
    if iso_country_code is not None:
        answer["OriginalCountryCodeIso2"] = iso_country_code
    number = _parse(phone_number, region)
    if number is None:
        return {**answer, **_typed("INVALID")}

    answer["CleansedPhoneNumberE164"] = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    answer["CleansedPhoneNumberNational"] = phonenumbers.national_significant_number(number)
    country_code = number.country_code or 0
    answer["CountryCodeNumeric"] = str(country_code)
    home = phonenumbers.region_code_for_number(number)
    if home is None:
        home = phonenumbers.region_code_for_country_code(country_code)
    country = _country_name(home)
    if country:
        answer["CountryCodeIso2"] = home
        answer["Country"] = country
    phone_type = _phone_type(number)
    answer.update(_typed(phone_type))
    if phone_type == "INVALID":
        return answer

    carrier_name = carrier.name_for_number(number, _LANGUAGE)
    if carrier_name:
        answer["Carrier"] = carrier_name
    area = geocoder.description_for_number(number, _LANGUAGE)
    if area and area != country:
        answer["City"] = area
    zones = timezone.time_zones_for_number(number)
    if len(zones) == 1 and zones[0] != timezone.UNKNOWN_TIMEZONE:
        answer["Timezone"] = zones[0]
    return answer


def _parse(text: str, region: str | None) -> PhoneNumber | None:
    digits = text.strip()
    if region is None and not digits.startswith("+"):
        digits = f"+{digits}"
    try:
        return phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None


def _phone_type(number: PhoneNumber) -> str:
    if not phonenumbers.is_valid_number(number):
        return "INVALID"
    if _is_fictitious(number):
        return "OTHER"
    return _PHONE_TYPES.get(phonenumbers.number_type(number), "OTHER")


def _is_fictitious(number: PhoneNumber) -> bool:
    """North America's 555-0100 to 555-0199, kept for films and examples: Pinpoint answers OTHER."""
    national = phonenumbers.national_significant_number(number)
    return number.country_code == 1 and national[3:6] == "555" and national[6:8] == "01"


def _typed(phone_type: str) -> dict[str, Any]:
    return {"PhoneType": phone_type, "PhoneTypeCode": PHONE_TYPE_CODES[phone_type]}


def _country_name(region: str) -> str:
    """The English name libphonenumber holds for a region; "" for non-geographic codes ("001")."""
    names = LOCALE_DATA.get(region, {})
    name = names.get(_LANGUAGE, "")
    if name.startswith("*"):
        name = names.get(name[1:], "")
    return str(name)
