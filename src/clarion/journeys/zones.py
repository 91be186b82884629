"""The time zone a journey reads a participant's clock in. Pure.

An endpoint's own ``Demographic.Timezone`` comes first. Without one, a journey's
``TimezoneEstimationMethods`` estimate it, in the order given: ``PHONE_NUMBER`` from the
number of an SMS or voice endpoint (libphonenumber's zone data, the number's first zone);
``POSTAL_CODE`` from the endpoint's ``Location.Country`` — Clarion ships no postal-code
database, so the estimate is the country's principal zone (the first the tz database's
``zone1970.tab`` lists for it), exact for single-zone countries and coarse for the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import phonenumbers
from phonenumbers import timezone as phone_zones

from clarion.campaigns.schedule import endpoint_zone
from clarion.channels.kinds import PHONE_CHANNELS

_UNKNOWN = "Etc/Unknown"


def participant_zone(document: Mapping[str, Any], methods: Sequence[str]) -> str | None:
    """The tz database name of the endpoint's zone, own or estimated; None when unknown."""
    own = (document.get("Demographic") or {}).get("Timezone")
    if isinstance(own, str) and endpoint_zone(own) is not None:
        return own
    for method in methods:
        found = _by_phone(document) if method == "PHONE_NUMBER" else _by_country(document)
        if found is not None:
            return found
    return None


def _by_phone(document: Mapping[str, Any]) -> str | None:
    if document.get("ChannelType") not in PHONE_CHANNELS:
        return None
    try:
        number = phonenumbers.parse(str(document.get("Address") or ""), None)
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in phone_zones.time_zones_for_number(number) if z != _UNKNOWN]
    return zones[0] if zones and endpoint_zone(zones[0]) is not None else None


def _by_country(document: Mapping[str, Any]) -> str | None:
    country = (document.get("Location") or {}).get("Country")
    if not isinstance(country, str):
        return None
    return _principal_zones().get(country.upper())


@cache
def _principal_zones() -> dict[str, str]:
    """Country code (ISO 3166 alpha-2) → the first zone zone1970.tab lists for it."""
    found: dict[str, str] = {}
    text = (resources.files("tzdata.zoneinfo") / "zone1970.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        codes, _, zone = line.split("\t")[:3]
        for code in codes.split(","):
            found.setdefault(code, zone)
    return found
