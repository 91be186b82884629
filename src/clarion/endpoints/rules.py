"""Pinpoint's rules for endpoints: validation, quotas, the UpdateEndpoint merge, RemoveAttributes.

Everything here is pure: dicts in, dicts out, no I/O, no clock. Inputs are shaped like botocore's
``pinpoint`` EndpointRequest / EndpointBatchItem and have already been type-checked against the
model (types and enums), so only the semantic rules are checked. Stored documents are shaped like
EndpointResponse.

Quotas, from the Amazon Pinpoint Developer Guide, "Amazon Pinpoint quotas" > "Endpoint quotas"
(https://docs.aws.amazon.com/pinpoint/latest/developerguide/quotas.html#quotas-endpoint):

* 250 attribute names per application across ``Attributes``, ``Metrics`` and
  ``User.UserAttributes`` collectively (the per-parameter rows say the same 250); 250 attributes
  per endpoint; an endpoint is at most 15 KB.
* Attribute name: 50 characters. Attribute value: 100 characters.
* 50 values per ``Attributes`` / ``UserAttributes`` attribute.
* 15 endpoints per user ID (the 16th is refused or evicts an old push endpoint, see
  "Managing an audience member's maximum number of endpoints",
  https://docs.aws.amazon.com/pinpoint/latest/developerguide/audience-define-auto-inactive.html).
* 100 ``EndpointBatchItem`` objects per UpdateEndpointsBatch payload.

Field rules, from the API Reference's Endpoint resource schemas
(https://docs.aws.amazon.com/pinpoint/latest/apireference/apps-application-id-endpoints-endpoint-id.html)
and the botocore model's documentation:

* Endpoint and user IDs can't contain ``$``, ``{`` or ``}``; endpoint IDs are case-insensitive.
* Demographic: AppVersion, Make, ModelVersion, Platform, PlatformVersion at most 50 characters,
  Model at most 100; Timezone is a tz database name.
* Location: City and Region at most 75 characters; Country is ISO 3166-1 alpha-2 or alpha-3;
  Latitude in [-90, 90] and Longitude in [-180, 180], each requiring the other; both are
  "rounded to one decimal place" (the guide's examples store 47.61 as 47.6).
* EffectiveDate is ISO 8601. EndpointStatus is ACTIVE or INACTIVE; OptOut is ALL or NONE (plain
  strings in the model, so checked here).
* Address: E.164 phone number for SMS (and VOICE), an email address for EMAIL, the push
  service's token otherwise.
* Attribute names "should avoid" ``# : ? \\ /`` only because the console can't display them, so
  they are accepted.

Merge, as UpdateEndpoint and UpdateEndpointsBatch apply it:

* Fields left out keep their stored values.
* ``Attributes``, ``Metrics`` and ``User.UserAttributes`` merge per key: a key in the request
  replaces that key's values ("Amazon Pinpoint replaces (overwrites) any existing values with the
  new values"), other keys stay. An empty list clears the values but keeps the attribute;
  only RemoveAttributes removes names (aws/aws-sdk-js#3180, Pinpoint team's answer).
* EndpointStatus: "Amazon Pinpoint automatically sets this value to ACTIVE when you create an
  endpoint or update an existing endpoint", so an update that doesn't name a status reactivates.
* OptOut defaults to NONE on creation, or ALL if the endpoint is created without an Address
  ("If the endpoint is created without an address then OptOut is automatically set to ALL").
* RemoveAttributes' ``Blacklist`` names attributes to remove from every endpoint of the
  application, by exact name or glob pattern (UpdateAttributesRequest). The operation's own
  text instead says existing endpoints keep them and only new values stop being captured;
  :func:`remove_attributes` implements the removal, callers may choose to only forget names.

Undocumented, chosen here as a production service would:

* Demographic, Location and User merge field by field, like the top level.
* ``User.UserId: ""`` detaches the endpoint from its user (Amplify signs users out this way).
* Endpoint and user IDs: 1 to 256 characters, no control characters.
* Push/custom addresses: 1 to 2,048 characters (FCM, APNs and ADM tokens fit), no control
  characters, not blank.
* SMS/VOICE addresses must already be in E.164 form (no spaces or dashes) and be a valid number
  per libphonenumber's metadata. EMAIL addresses go through ``email_validator`` without DNS.
* Country is checked for shape (two or three letters) only; no country table is shipped.
* No string may contain NUL, which PostgreSQL's jsonb can't store.
* 15 KB is 15,360 bytes of the document's compact UTF-8 JSON.
* An empty or missing ``Blacklist`` removes nothing.
* The 16th endpoint of a user may also evict for APNS_SANDBOX, a device-token channel the guide's
  list leaves out.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import math
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from typing import Any, Final

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from clarion.channels.kinds import DEVICE_TOKEN_CHANNELS, PHONE_CHANNELS, ChannelType
from clarion.errors import BadRequest

ATTRIBUTE_KINDS: Final = (
    "endpoint-custom-attributes",
    "endpoint-metric-attributes",
    "endpoint-user-attributes",
)

MAX_ATTRIBUTES_PER_APPLICATION: Final = 250
MAX_ATTRIBUTES_PER_ENDPOINT: Final = 250
MAX_ENDPOINT_SIZE_BYTES: Final = 15 * 1024
MAX_ATTRIBUTE_NAME_LENGTH: Final = 50
MAX_ATTRIBUTE_VALUE_LENGTH: Final = 100
MAX_VALUES_PER_ATTRIBUTE: Final = 50
MAX_ENDPOINTS_PER_USER: Final = 15
MAX_BATCH_ITEMS: Final = 100

MAX_ID_LENGTH: Final = 256
MAX_TOKEN_ADDRESS_LENGTH: Final = 2048
FORBIDDEN_ID_CHARACTERS: Final = "${}"

DEMOGRAPHIC_MAX_LENGTHS: Final[Mapping[str, int]] = {
    "AppVersion": 50,
    "Make": 50,
    "Model": 100,
    "ModelVersion": 50,
    "Platform": 50,
    "PlatformVersion": 50,
}
LOCATION_MAX_LENGTHS: Final[Mapping[str, int]] = {"City": 75, "Region": 75}

ENDPOINT_STATUSES: Final = ("ACTIVE", "INACTIVE")
OPT_OUT_VALUES: Final = ("ALL", "NONE")

_KIND_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "endpoint-custom-attributes": ("Attributes",),
    "endpoint-metric-attributes": ("Metrics",),
    "endpoint-user-attributes": ("User", "UserAttributes"),
}
_COPIED_FIELDS: Final = ("Address", "ChannelType", "EffectiveDate", "OptOut", "EndpointStatus")
_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
_COUNTRY: Final = re.compile(r"[A-Za-z]{2,3}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_NOT_TZ_NAMES: Final = frozenset({"localtime", "posixrules"})


def validate_endpoint_request(
    request: Mapping[str, Any],
    *,
    path: str = "EndpointRequest",
    existing: Mapping[str, Any] | None = None,
) -> None:
    """Check an EndpointRequest or EndpointBatchItem against Pinpoint's per-endpoint rules.

    ``existing`` is the stored endpoint, if any: an Address sent without a ChannelType (or the
    other way round) is checked against the stored one. Quotas that depend on the merged result
    or on other endpoints are checked by :func:`validate_endpoint_document`,
    :func:`check_application_attribute_quota` and :func:`check_user_endpoint_quota`.
    """
    _check_no_nul(request, path)
    if request.get("Id") is not None:
        validate_endpoint_id(request["Id"], path=f"{path}.Id")

    attributes = _submap(request, "Attributes")
    metrics = _submap(request, "Metrics")
    user = _submap(request, "User")
    user_attributes = _submap(user, "UserAttributes")
    _check_string_attributes(attributes, f"{path}.Attributes")
    _check_metrics(metrics, f"{path}.Metrics")
    _check_string_attributes(user_attributes, f"{path}.User.UserAttributes")
    _check_attribute_count(len(attributes) + len(metrics) + len(user_attributes), path)
    if user.get("UserId") is not None:
        validate_user_id(user["UserId"], path=f"{path}.User.UserId", allow_empty=True)

    _check_choice(request, "EndpointStatus", ENDPOINT_STATUSES, path)
    _check_choice(request, "OptOut", OPT_OUT_VALUES, path)
    if request.get("EffectiveDate") is not None:
        _check_iso8601(request["EffectiveDate"], f"{path}.EffectiveDate")
    if request.get("Demographic") is not None:
        _check_demographic(_submap(request, "Demographic"), f"{path}.Demographic")
    if request.get("Location") is not None:
        _check_location(_submap(request, "Location"), f"{path}.Location")

    stored = existing or {}
    if request.get("Address") is not None or request.get("ChannelType") is not None:
        address = _first_present("Address", request, stored)
        if address is not None:
            validate_address(
                _first_present("ChannelType", request, stored), address, path=f"{path}.Address"
            )


def validate_endpoint_document(document: Mapping[str, Any], *, path: str = "Endpoint") -> None:
    """Check the quotas that apply to a whole stored endpoint: attribute count and size."""
    count = sum(len(_kind_map(document, kind)) for kind in ATTRIBUTE_KINDS)
    _check_attribute_count(count, path)
    size = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_ENDPOINT_SIZE_BYTES:
        raise BadRequest(
            f"{path}: the endpoint would be {size} bytes; "
            f"the maximum endpoint size is {MAX_ENDPOINT_SIZE_BYTES} bytes (15 KB)"
        )


def validate_address(channel_type: str | None, address: str, *, path: str = "Address") -> None:
    """Check that ``address`` can receive messages on ``channel_type``."""
    if channel_type == ChannelType.EMAIL:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            raise BadRequest(f"{path}: {address!r} is not a valid email address: {exc}") from exc
        return
    if channel_type in PHONE_CHANNELS:
        if not _E164.fullmatch(address) or not _is_valid_phone_number(address):
            raise BadRequest(
                f"{path}: {address!r} is not a valid phone number in E.164 format "
                "('+', country code and number, such as +14155550100)"
            )
        return
    if not address.strip():
        raise BadRequest(f"{path}: the address must not be empty")
    if len(address) > MAX_TOKEN_ADDRESS_LENGTH:
        raise BadRequest(
            f"{path}: the address is {len(address)} characters long; "
            f"the maximum is {MAX_TOKEN_ADDRESS_LENGTH}"
        )
    if _CONTROL.search(address):
        raise BadRequest(f"{path}: the address must not contain control characters")


def validate_endpoint_id(endpoint_id: str, *, path: str = "EndpointId") -> None:
    """Check an endpoint ID (path parameter or EndpointBatchItem.Id)."""
    _check_identifier(endpoint_id, path, allow_empty=False)


def validate_user_id(user_id: str, *, path: str = "UserId", allow_empty: bool = False) -> None:
    """Check a user ID; ``allow_empty`` for ``User.UserId``, where "" detaches the user."""
    _check_identifier(user_id, path, allow_empty=allow_empty)


def endpoint_id_key(endpoint_id: str) -> str:
    """The form to index endpoint IDs by: Pinpoint's endpoint IDs are case-insensitive."""
    return endpoint_id.lower()


def cohort_id(endpoint_id: str) -> str:
    """A stable CohortId ("0" to "99") for an endpoint, spread evenly over endpoint IDs."""
    digest = hashlib.sha256(endpoint_id_key(endpoint_id).encode()).digest()
    return str(int.from_bytes(digest[:8], "big") % 100)


def merge_endpoint(
    existing: Mapping[str, Any] | None,
    request: Mapping[str, Any],
    *,
    now: str | None = None,
) -> dict[str, Any]:
    """Return the stored endpoint after applying ``request`` to ``existing`` as Pinpoint does.

    ``now`` (ISO 8601), when given, becomes CreationDate of a new endpoint and EffectiveDate when
    the request names none. Id and RequestId of the request are not stored: the caller owns Id,
    ApplicationId, CohortId and RequestId.
    """
    document: dict[str, Any] = copy.deepcopy(dict(existing)) if existing is not None else {}
    for field in _COPIED_FIELDS:
        if request.get(field) is not None:
            document[field] = request[field]

    for field in ("Attributes", "Metrics"):
        if request.get(field) is not None:
            document[field] = {**_submap(document, field), **_copy_values(request[field])}
    for field in ("Demographic", "Location"):
        if request.get(field) is not None:
            document[field] = _merge_fields(_submap(document, field), request[field])
    if "Location" in document:
        document["Location"] = _round_coordinates(document["Location"])
    if request.get("User") is not None:
        document["User"] = _merge_user(_submap(document, "User"), request["User"])

    if request.get("EndpointStatus") is None:
        document["EndpointStatus"] = "ACTIVE"
    if document.get("OptOut") is None:
        document["OptOut"] = "NONE" if document.get("Address") else "ALL"
    if now is not None:
        if request.get("EffectiveDate") is None:
            document["EffectiveDate"] = now
        if existing is None:
            document["CreationDate"] = now
    return document


def attribute_kind(attribute_type: str) -> str:
    """Check RemoveAttributes' ``attribute-type``; it is also the per-kind key used here."""
    _kind_fields(attribute_type)
    return attribute_type


def attribute_names(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """The attribute names a request or stored endpoint defines, per kind."""
    return {kind: set(_kind_map(document, kind)) for kind in ATTRIBUTE_KINDS}


def count_new_attribute_keys(
    existing_keys: Mapping[str, AbstractSet[str]], document: Mapping[str, Any]
) -> dict[str, set[str]]:
    """The attribute names ``document`` would add to the application's, per kind.

    ``existing_keys`` maps each of :data:`ATTRIBUTE_KINDS` to the names the application already
    has; missing kinds count as empty.
    """
    return {
        kind: names - set(existing_keys.get(kind, ()))
        for kind, names in attribute_names(document).items()
    }


def check_application_attribute_quota(
    known: Mapping[str, AbstractSet[str]],
    added: Mapping[str, AbstractSet[str]],
    *,
    limit: int = MAX_ATTRIBUTES_PER_APPLICATION,
) -> None:
    """Refuse ``added`` if the application would define more than ``limit`` attribute names.

    Pinpoint counts Attributes, Metrics and UserAttributes together; ``limit`` is adjustable
    because the quota is "eligible for increase".
    """
    total = sum(
        len(set(known.get(kind, ())) | set(added.get(kind, ()))) for kind in ATTRIBUTE_KINDS
    )
    if total > limit:
        new = sorted(f"{kind}:{name}" for kind in ATTRIBUTE_KINDS for name in added.get(kind, ()))
        raise BadRequest(
            f"Adding {', '.join(new)} would give the application {total} attributes across "
            f"Attributes, Metrics and UserAttributes; the maximum is {limit} per application"
        )


def check_user_endpoint_quota(
    user_endpoints: Mapping[str, Mapping[str, Any]],
    endpoint_id: str,
    document: Mapping[str, Any],
    *,
    limit: int = MAX_ENDPOINTS_PER_USER,
) -> list[str]:
    """Apply the per-user endpoint cap before ``document`` is stored as ``endpoint_id``.

    ``user_endpoints`` maps endpoint ID to stored endpoint for every endpoint that has the
    document's UserId. Returns the IDs of endpoints to :func:`detach_from_user` (oldest
    EffectiveDate first) to make room, or raises BadRequest when Pinpoint refuses: the new
    endpoint isn't on a device-token channel, or the user has no device-token endpoint to evict.
    """
    key = endpoint_id_key(endpoint_id)
    others = {eid: doc for eid, doc in user_endpoints.items() if endpoint_id_key(eid) != key}
    excess = len(others) + 1 - limit
    if excess <= 0:
        return []
    user_id = _submap(document, "User").get("UserId")
    refusal = (
        f"User {user_id!r} already has {len(others)} endpoints; "
        f"the maximum is {limit} endpoints per user ID"
    )
    if document.get("ChannelType") not in DEVICE_TOKEN_CHANNELS:
        raise BadRequest(refusal)
    evictable = sorted(
        (_effective_sort_key(doc), eid)
        for eid, doc in others.items()
        if doc.get("ChannelType") in DEVICE_TOKEN_CHANNELS
    )
    if len(evictable) < excess:
        raise BadRequest(f"{refusal}, and not enough of them are push endpoints to replace")
    return [eid for _, eid in evictable[:excess]]


def detach_from_user(document: Mapping[str, Any]) -> dict[str, Any]:
    """An endpoint evicted by a user's newer endpoint: INACTIVE and without a UserId."""
    detached = copy.deepcopy(dict(document))
    detached["EndpointStatus"] = "INACTIVE"
    user = detached.get("User")
    if isinstance(user, dict):
        user.pop("UserId", None)
    return detached


def matching_attribute_names(names: Iterable[str], blacklist: Sequence[str] | None) -> set[str]:
    """The names that a RemoveAttributes ``Blacklist`` (exact names or globs) selects."""
    patterns = list(blacklist or ())
    return {name for name in names if any(fnmatch.fnmatchcase(name, p) for p in patterns)}


def remove_attributes(
    document: Mapping[str, Any], kind: str, names: Sequence[str] | None
) -> dict[str, Any]:
    """Apply RemoveAttributes to one stored endpoint.

    ``kind`` is the ``attribute-type`` path value; ``names`` is the ``Blacklist``, whose exact
    names or glob patterns select the attributes of that kind to remove from every endpoint of
    the application.
    """
    fields = _kind_fields(kind)
    result = copy.deepcopy(dict(document))
    container: Any = result
    for field in fields:
        container = container.get(field) if isinstance(container, dict) else None
    if isinstance(container, dict):
        for name in matching_attribute_names(list(container), names):
            del container[name]
    return result


def _kind_fields(kind: str) -> tuple[str, ...]:
    try:
        return _KIND_FIELDS[kind]
    except KeyError:
        raise BadRequest(
            f"AttributeType: {kind!r} is not a valid attribute type; "
            f"valid types are {', '.join(ATTRIBUTE_KINDS)}"
        ) from None


def _kind_map(document: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    container: Mapping[str, Any] = document
    for field in _kind_fields(kind):
        container = _submap(container, field)
    return container


def _submap(container: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    value = container.get(field)
    return value if isinstance(value, Mapping) else {}


def _first_present(field: str, *sources: Mapping[str, Any]) -> Any:
    for source in sources:
        if source.get(field) is not None:
            return source[field]
    return None


def _copy_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: list(value) if isinstance(value, list | tuple) else float(value)
        for name, value in values.items()
    }


def _merge_fields(stored: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    return {**stored, **{k: v for k, v in update.items() if v is not None}}


def _round_coordinates(location: Mapping[str, Any]) -> dict[str, Any]:
    rounded = dict(location)
    for field in ("Latitude", "Longitude"):
        if rounded.get(field) is not None:
            rounded[field] = round(float(rounded[field]), 1)
    return rounded


def _merge_user(stored: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    user = dict(stored)
    user_id = update.get("UserId")
    if user_id == "":
        user.pop("UserId", None)
    elif user_id is not None:
        user["UserId"] = user_id
    if update.get("UserAttributes") is not None:
        user["UserAttributes"] = {
            **_submap(stored, "UserAttributes"),
            **_copy_values(update["UserAttributes"]),
        }
    return user


def _effective_sort_key(document: Mapping[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(str(document.get("EffectiveDate")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _check_no_nul(value: Any, path: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest(f"{path}: strings must not contain the NUL character")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_no_nul(key, path)
            _check_no_nul(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_no_nul(item, f"{path}[{index}]")


def _check_attribute_name(name: str, path: str) -> None:
    if not name:
        raise BadRequest(f"{path}: attribute names must not be empty")
    if len(name) > MAX_ATTRIBUTE_NAME_LENGTH:
        raise BadRequest(
            f"{path}: the attribute name is {len(name)} characters long; "
            f"the maximum is {MAX_ATTRIBUTE_NAME_LENGTH}"
        )
    if _CONTROL.search(name):
        raise BadRequest(f"{path}: attribute names must not contain control characters")


def _check_string_attributes(attributes: Mapping[str, Any], path: str) -> None:
    for name, values in attributes.items():
        where = f"{path}.{name}"
        _check_attribute_name(name, where)
        if len(values) > MAX_VALUES_PER_ATTRIBUTE:
            raise BadRequest(
                f"{where}: the attribute has {len(values)} values; "
                f"the maximum is {MAX_VALUES_PER_ATTRIBUTE} values per attribute"
            )
        for index, value in enumerate(values):
            if len(value) > MAX_ATTRIBUTE_VALUE_LENGTH:
                raise BadRequest(
                    f"{where}[{index}]: the attribute value is {len(value)} characters long; "
                    f"the maximum is {MAX_ATTRIBUTE_VALUE_LENGTH}"
                )


def _check_metrics(metrics: Mapping[str, Any], path: str) -> None:
    for name, value in metrics.items():
        where = f"{path}.{name}"
        _check_attribute_name(name, where)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(f"{where}: a metric must be a number")
        if not math.isfinite(value):
            raise BadRequest(f"{where}: a metric must be a finite number")


def _check_attribute_count(count: int, path: str) -> None:
    if count > MAX_ATTRIBUTES_PER_ENDPOINT:
        raise BadRequest(
            f"{path}: the endpoint has {count} attributes across Attributes, Metrics and "
            f"User.UserAttributes; the maximum is {MAX_ATTRIBUTES_PER_ENDPOINT} per endpoint"
        )


def _check_choice(
    request: Mapping[str, Any], field: str, allowed: Sequence[str], path: str
) -> None:
    value = request.get(field)
    if value is not None and value not in allowed:
        raise BadRequest(
            f"{path}.{field}: {value!r} is not valid; valid values are {', '.join(allowed)}"
        )


def _check_iso8601(value: str, path: str) -> None:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"{path}: {value!r} is not an ISO 8601 date and time, such as 2024-05-01T17:31:01.046Z"
        ) from None


def _check_max_lengths(fields: Mapping[str, Any], limits: Mapping[str, int], path: str) -> None:
    for field, limit in limits.items():
        value = fields.get(field)
        if value is not None and len(value) > limit:
            raise BadRequest(
                f"{path}.{field}: the value is {len(value)} characters long; the maximum is {limit}"
            )


def _check_demographic(demographic: Mapping[str, Any], path: str) -> None:
    _check_max_lengths(demographic, DEMOGRAPHIC_MAX_LENGTHS, path)
    timezone = demographic.get("Timezone")
    if timezone is not None and not _is_tz_name(timezone):
        raise BadRequest(
            f"{path}.Timezone: {timezone!r} is not a tz database time zone, "
            "such as America/Los_Angeles"
        )


def _check_location(location: Mapping[str, Any], path: str) -> None:
    _check_max_lengths(location, LOCATION_MAX_LENGTHS, path)
    country = location.get("Country")
    if country is not None and not _COUNTRY.fullmatch(country):
        raise BadRequest(
            f"{path}.Country: {country!r} is not an ISO 3166-1 alpha-2 or alpha-3 code, "
            "such as US or USA"
        )
    latitude, longitude = location.get("Latitude"), location.get("Longitude")
    if (latitude is None) != (longitude is None):
        missing = "Longitude" if longitude is None else "Latitude"
        raise BadRequest(f"{path}.{missing}: Latitude and Longitude must be specified together")
    _check_coordinate(latitude, 90, f"{path}.Latitude")
    _check_coordinate(longitude, 180, f"{path}.Longitude")


def _check_coordinate(value: float | None, bound: int, path: str) -> None:
    if value is not None and not (math.isfinite(value) and -bound <= value <= bound):
        raise BadRequest(
            f"{path}: {value!r} is out of range; it must be between -{bound} and {bound}"
        )


def _check_identifier(value: str, path: str, *, allow_empty: bool) -> None:
    if not value:
        if allow_empty:
            return
        raise BadRequest(f"{path}: the identifier must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise BadRequest(
            f"{path}: the identifier is {len(value)} characters long; "
            f"the maximum is {MAX_ID_LENGTH}"
        )
    forbidden = sorted({c for c in value if c in FORBIDDEN_ID_CHARACTERS})
    if forbidden:
        raise BadRequest(
            f"{path}: the identifier must not contain {', '.join(forbidden)} "
            f"(any of {', '.join(FORBIDDEN_ID_CHARACTERS)})"
        )
    if _CONTROL.search(value):
        raise BadRequest(f"{path}: the identifier must not contain control characters")


def _is_tz_name(name: str) -> bool:
    if name in _NOT_TZ_NAMES:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _is_valid_phone_number(address: str) -> bool:
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))
