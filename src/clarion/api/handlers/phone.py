"""PhoneNumberValidate."""

from __future__ import annotations

from clarion.api.context import Context
from clarion.api.handlers import Input, Output
from clarion.phone import validate_phone_number


def phone_number_validate(_ctx: Context, params: Input) -> Output:
    request = params["NumberValidateRequest"]
    answer = validate_phone_number(request.get("PhoneNumber"), request.get("IsoCountryCode"))
    return {"NumberValidateResponse": answer}
