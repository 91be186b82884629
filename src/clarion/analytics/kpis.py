"""Pinpoint's application metrics (GetApplicationDateRangeKpi), computed from the per-day rollups.

Sources, all from the Amazon Pinpoint Developer Guide:

* "Standard Amazon Pinpoint analytics metrics" (analytics-standard-metrics.html): the kpi-names
  of application metrics, their definitions, which are grouped by date or by campaign.
* "Using Amazon Pinpoint analytics query results" (analytics-query-results.html): a
  single-value metric answers one row with ``Values`` only; a ``grouped-by`` metric adds
  ``GroupedBys``; values are ``{"Key": "UniqueDeliveries", "Type": "Double", "Value":
  "1368.0"}``; campaign groups are ``{"Key": "CampaignId", "Type": "String", …}``; a null
  result (no data) is an empty ``Rows``, and a group without data is left out.
* "Querying … data for transactional messages" (analytics-query-txn-messaging.html): keys
  ``TxnEmailsSent`` and ``TxnSmsSent``, date groups ``{"Key": "Date", "Type": "String",
  "Value": "2019-09-06"}``; date ranges are inclusive, at most 31 calendar days, start fewer
  than 90 days before the current day, and default to the preceding 31 calendar days.
* "Email events", "SMS events", "Campaign events" (event-streams-data-*.html): the event types
  and the ``campaign_id`` / ``journey_id`` attributes that tell campaign and journey messages
  from transactional ones.

Only three value keys are documented (``UniqueDeliveries``, ``TxnEmailsSent``,
``TxnSmsSent``); they are the kpi-name without its ``-grouped-by-…`` suffix in PascalCase, and
every other key here follows that rule. Values are fractions for rates (the guide defines each
rate as one count "divided by" another) and counts otherwise, written as Java writes a double.

What Clarion counts, in ``daily_events`` and ``daily_attributes``. "Transactional" is every
event of the type minus those carrying ``campaign_id`` or ``journey_id``; "campaign" is those
carrying ``campaign_id``, per campaign where grouped:

=============================================  ==================================================
kpi-name (each also ``-grouped-by-date``)      counts
=============================================  ==================================================
txn-emails-sent                                transactional ``_email.send``
txn-emails-delivered                           transactional ``_email.delivered``
txn-emails-opened                              transactional ``_email.open``
txn-emails-clicked                             transactional ``_email.click``
txn-emails-hard-bounced                        transactional ``_email.hardbounce``
txn-emails-soft-bounced                        transactional ``_email.softbounce``
txn-emails-with-complaints                     transactional ``_email.complaint``
txn-emails-delivery-rate                       delivered / sent (as above)
txn-emails-complaint-rate                      complaints / sent (as above)
txn-sms-sent                                   transactional ``_SMS.BUFFERED`` (one per message
                                               handed to the carrier)
txn-sms-delivered                              transactional ``_SMS.SUCCESS``
txn-sms-delivery-rate                          delivered / sent (as above)
successful-delivery-rate                       (campaign ``_campaign.send`` minus campaign
                                               ``_email.hardbounce``) / campaign
                                               ``_campaign.send``: the guide's "sent minus
                                               hard bounces" over sent
successful-deliveries-grouped-by-campaign      the same numerator, per campaign (no date form)
email-open-rate (and ``-grouped-by-campaign``  campaign ``_email.open`` / campaign
instead of by date)                            ``_email.delivered``
=============================================  ==================================================

The other documented application metrics need what per-day counts cannot give, and answer 501
rather than a guess (see :data:`UNSUPPORTED`). Any other name is not an application metric and
is a BadRequest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from clarion.errors import BadRequest, NotImplementedYet
from clarion.store import analytics as rollups
from clarion.store.database import Database

MAX_RANGE_DAYS: Final = 31
LOOKBACK_DAYS: Final = 90
CAMPAIGN_ID: Final = "campaign_id"
JOURNEY_ID: Final = "journey_id"

Row = dict[str, Any]


class Grouping(Enum):
    NONE = ""
    DATE = "Date"
    CAMPAIGN = "CampaignId"


@dataclass(frozen=True)
class Term:
    """One rollup sum: the events of a type, or only those carrying an attribute."""

    event_type: str
    attribute: str | None = None


Measure = tuple[tuple[int, Term], ...]
"""A signed sum of terms, e.g. all ``_email.send`` minus those with a ``campaign_id``."""

Tally = tuple[str, Term, int]
"""A rollup sum for one group (a day, a campaign id, or "" when ungrouped) and term."""


def transactional(event_type: str) -> Measure:
    return (
        (1, Term(event_type)),
        (-1, Term(event_type, CAMPAIGN_ID)),
        (-1, Term(event_type, JOURNEY_ID)),
    )


def from_campaigns(event_type: str) -> Measure:
    return ((1, Term(event_type, CAMPAIGN_ID)),)


@dataclass(frozen=True)
class Kpi:
    name: str
    numerator: Measure
    denominator: Measure | None
    grouping: Grouping

    @property
    def key(self) -> str:
        """The value's ``Key``: the name before ``-grouped-by-…``, in PascalCase."""
        base = self.name.split("-grouped-by-")[0]
        return "".join(word.capitalize() for word in base.split("-"))

    @property
    def terms(self) -> frozenset[Term]:
        return frozenset(term for _, term in self.numerator + (self.denominator or ()))

    def value(self, totals: Mapping[Term, int]) -> float | None:
        """The count, or the rate; None (no row) when nothing was counted."""
        numerator = max(0, _total(self.numerator, totals))
        if self.denominator is None:
            return float(numerator) if numerator else None
        denominator = _total(self.denominator, totals)
        return numerator / denominator if denominator > 0 else None


def _total(measure: Measure, totals: Mapping[Term, int]) -> int:
    return sum(sign * totals.get(term, 0) for sign, term in measure)


def _by_date_too(name: str, numerator: Measure, denominator: Measure | None = None) -> list[Kpi]:
    return [
        Kpi(name, numerator, denominator, Grouping.NONE),
        Kpi(f"{name}-grouped-by-date", numerator, denominator, Grouping.DATE),
    ]


def _catalogue() -> dict[str, Kpi]:
    email_sent = transactional("_email.send")
    sms_sent = transactional("_SMS.BUFFERED")
    campaign_sent = from_campaigns("_campaign.send")
    campaign_delivered = (*campaign_sent, (-1, Term("_email.hardbounce", CAMPAIGN_ID)))
    campaign_open_rate = (from_campaigns("_email.open"), from_campaigns("_email.delivered"))
    kpis = [
        *_by_date_too("txn-emails-sent", email_sent),
        *_by_date_too("txn-emails-delivered", transactional("_email.delivered")),
        *_by_date_too("txn-emails-opened", transactional("_email.open")),
        *_by_date_too("txn-emails-clicked", transactional("_email.click")),
        *_by_date_too("txn-emails-hard-bounced", transactional("_email.hardbounce")),
        *_by_date_too("txn-emails-soft-bounced", transactional("_email.softbounce")),
        *_by_date_too("txn-emails-with-complaints", transactional("_email.complaint")),
        *_by_date_too("txn-emails-delivery-rate", transactional("_email.delivered"), email_sent),
        *_by_date_too("txn-emails-complaint-rate", transactional("_email.complaint"), email_sent),
        *_by_date_too("txn-sms-sent", sms_sent),
        *_by_date_too("txn-sms-delivered", transactional("_SMS.SUCCESS")),
        *_by_date_too("txn-sms-delivery-rate", transactional("_SMS.SUCCESS"), sms_sent),
        *_by_date_too("successful-delivery-rate", campaign_delivered, campaign_sent),
        Kpi(
            "successful-deliveries-grouped-by-campaign",
            campaign_delivered,
            None,
            Grouping.CAMPAIGN,
        ),
        Kpi("email-open-rate", *campaign_open_rate, Grouping.NONE),
        Kpi("email-open-rate-grouped-by-campaign", *campaign_open_rate, Grouping.CAMPAIGN),
    ]
    return {kpi.name: kpi for kpi in kpis}


KPIS: Final = _catalogue()

_DISTINCT_ENDPOINTS = (
    "it counts distinct endpoints, and the rollups keep per-day event counts, not the endpoints "
    "behind each event type"
)
_JOINT_COUNTS = (
    "it needs two attributes of the same events counted together ({}), and the rollups count "
    "each attribute on its own"
)
_TXN_SMS_BREAKDOWN = _JOINT_COUNTS.format(
    "telling transactional SMS from campaign SMS while breaking them down by country, message "
    "parts, price or error"
)

UNSUPPORTED: Final[Mapping[str, str]] = {
    "unique-deliveries": _DISTINCT_ENDPOINTS,
    "unique-deliveries-grouped-by-campaign": _DISTINCT_ENDPOINTS,
    "unique-deliveries-grouped-by-date": _DISTINCT_ENDPOINTS,
    "txn-emails-unique-clicks": _DISTINCT_ENDPOINTS,
    "txn-emails-unique-clicks-grouped-by-date": _DISTINCT_ENDPOINTS,
    "txn-emails-unique-opens": _DISTINCT_ENDPOINTS,
    "txn-emails-unique-opens-grouped-by-date": _DISTINCT_ENDPOINTS,
    "push-open-rate": _JOINT_COUNTS.format("campaign sends by push delivery_type"),
    "push-open-rate-grouped-by-campaign": _JOINT_COUNTS.format(
        "campaign sends by push delivery_type"
    ),
    "sms-spend": _JOINT_COUNTS.format("campaign SMS with their price"),
    "txn-sms-average-price-grouped-by-country": _TXN_SMS_BREAKDOWN,
    "txn-sms-average-price-by-parts-grouped-by-country": _TXN_SMS_BREAKDOWN,
    "txn-sms-delivered-by-parts": _TXN_SMS_BREAKDOWN,
    "txn-sms-delivered-by-parts-grouped-by-country": _TXN_SMS_BREAKDOWN,
    "txn-sms-delivered-grouped-by-country": _TXN_SMS_BREAKDOWN,
    "txn-sms-error-distribution": _TXN_SMS_BREAKDOWN,
    "txn-sms-sent-by-parts": _TXN_SMS_BREAKDOWN,
    "txn-sms-sent-by-parts-grouped-by-country": _TXN_SMS_BREAKDOWN,
    "txn-sms-sent-grouped-by-country": _TXN_SMS_BREAKDOWN,
    "txn-sms-total-price-grouped-by-country": _TXN_SMS_BREAKDOWN,
}


def application_kpi(name: str) -> Kpi:
    """The application metric named ``name``; a documented one Clarion cannot compute from its
    rollups answers 501, anything else 400."""
    kpi = KPIS.get(name)
    if kpi is not None:
        return kpi
    if name in UNSUPPORTED:
        raise NotImplementedYet(f"Clarion does not compute {name} yet: {UNSUPPORTED[name]}")
    raise BadRequest(
        f"{name} is not an application metric. Application metrics are listed in the Amazon "
        "Pinpoint Developer Guide, analytics-standard-metrics.html"
    )


@dataclass(frozen=True)
class KpiRange:
    """The query's inclusive range; rollups are daily, so it covers its first to last UTC day."""

    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        first, last = self.start.date(), self.end.date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def kpi_range(start: datetime | None, end: datetime | None, now: datetime) -> KpiRange:
    """StartTime and EndTime as Pinpoint checks them. Without EndTime the range ends now;
    without StartTime it starts at midnight UTC 30 days before its end, so 31 calendar days."""
    end = (end if end is not None else now).astimezone(UTC)
    if start is None:
        start = datetime.combine(end.date() - timedelta(days=MAX_RANGE_DAYS - 1), time(), UTC)
    start = start.astimezone(UTC)
    if end < start:
        raise BadRequest(f"EndTime ({end.isoformat()}) is before StartTime ({start.isoformat()})")
    days = (end.date() - start.date()).days + 1
    if days > MAX_RANGE_DAYS:
        raise BadRequest(
            f"The date range covers {days} calendar days; it can cover at most {MAX_RANGE_DAYS}"
        )
    today = now.astimezone(UTC).date()
    if (today - start.date()).days >= LOOKBACK_DAYS:
        raise BadRequest(
            f"StartTime ({start.date()}) must be fewer than {LOOKBACK_DAYS} days before the "
            f"current day ({today})"
        )
    return KpiRange(start, end)


def date_range_kpi(
    db: Database,
    app_id: str,
    name: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The ApplicationDateRangeKpiResponse to one query."""
    kpi = application_kpi(name)
    window = kpi_range(start, end, now)
    return {
        "ApplicationId": app_id,
        "KpiName": kpi.name,
        "StartTime": window.start,
        "EndTime": window.end,
        "KpiResult": {"Rows": query(db, app_id, kpi, window)},
    }


def query(db: Database, app_id: str, kpi: Kpi, window: KpiRange) -> list[Row]:
    """The KPI's result rows, from at most two indexed, pre-summed reads of the rollups."""
    return kpi_rows(kpi, _tallies(db, app_id, kpi, window.days))


def _tallies(db: Database, app_id: str, kpi: Kpi, days: list[date]) -> list[Tally]:
    """Campaign-grouped KPIs count only events carrying ``campaign_id``, summed per value;
    the others sum events and attributed events per day (or over the range)."""
    attributed = [term for term in kpi.terms if term.attribute is not None]
    attributed_types = {term.event_type for term in attributed}
    if kpi.grouping is Grouping.CAMPAIGN:
        per_value = rollups.value_counts(db, app_id, attributed_types, CAMPAIGN_ID, days)
        return [(v.value, Term(v.event_type, CAMPAIGN_ID), v.count) for v in per_value]
    plain = {term.event_type for term in kpi.terms if term.attribute is None}
    tallies: list[Tally] = []
    if plain:
        events = rollups.event_counts(db, app_id, plain, days)
        tallies += [(_group(kpi.grouping, e.day), Term(e.event_type), e.count) for e in events]
    if attributed:
        names = {term.attribute for term in attributed if term.attribute is not None}
        counts = rollups.attributed_counts(db, app_id, attributed_types, names, days)
        tallies += [
            (_group(kpi.grouping, c.day), Term(c.event_type, c.attribute), c.count) for c in counts
        ]
    return tallies


def kpi_rows(kpi: Kpi, tallies: Iterable[Tally]) -> list[Row]:
    """Add up the tallies per group, then shape one result row per group with data."""
    totals: dict[str, dict[Term, int]] = defaultdict(lambda: defaultdict(int))
    for group, term, count in tallies:
        totals[group][term] += count
    rows = []
    for group in sorted(totals):
        value = kpi.value(totals[group])
        if value is not None:
            rows.append(_result_row(kpi, group, value))
    return rows


def _group(grouping: Grouping, day: date) -> str:
    return day.isoformat() if grouping is Grouping.DATE else ""


def _result_row(kpi: Kpi, group: str, value: float) -> Row:
    row: Row = {"Values": [{"Key": kpi.key, "Type": "Double", "Value": java_double(value)}]}
    if kpi.grouping is not Grouping.NONE:
        row["GroupedBys"] = [{"Key": kpi.grouping.value, "Type": "String", "Value": group}]
    return row


def java_double(number: float) -> str:
    """``number`` as Java's ``Double.toString`` writes it, the way Pinpoint's values read:
    ``62.0``, ``0.25``, ``1.0E7``, ``1.0E-4``."""
    if number == 0:
        return "0.0"
    if 1e-3 <= abs(number) < 1e7:
        return repr(float(number))
    sign, digits, exponent = Decimal(repr(float(number))).normalize().as_tuple()
    mantissa = "".join(map(str, digits))
    power = int(exponent) + len(digits) - 1
    return f"{'-' if sign else ''}{mantissa[0]}.{mantissa[1:] or '0'}E{power}"
