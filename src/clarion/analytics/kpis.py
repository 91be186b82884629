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
  from transactional ones; an SMS's ``iso_country_code``, ``record_status`` and
  ``number_of_message_parts`` attributes and its ``price_in_millicents_usd`` metric (thousandths
  of a US cent, absent from ``_SMS.BUFFERED``); a campaign send's ``delivery_type`` (its
  channel) and ``campaign_send_status``; ``_campaign.opened_notification`` when a recipient taps
  a campaign's push notification.

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

What Clarion computes from the message rollups (see :mod:`clarion.events.messages`), where
"transactional" is stored under campaign id "" (neither ``campaign_id`` nor ``journey_id``):

==================================================  ================================================
kpi-name                                            value
==================================================  ================================================
unique-deliveries (also ``-grouped-by-campaign``,   distinct endpoints with a campaign
``-grouped-by-date``)                               ``_campaign.send``, less, per day and campaign,
                                                    those with a campaign ``_email.hardbounce`` (the
                                                    guide's "sent minus hard bounces", per endpoint)
txn-emails-unique-opens (and ``-grouped-by-date``)  distinct endpoints with a transactional
                                                    ``_email.open``
txn-emails-unique-clicks (and                       distinct endpoints with a transactional
``-grouped-by-date``)                               ``_email.click``
push-open-rate (and ``-grouped-by-campaign``)       campaign ``_campaign.opened_notification`` /
                                                    campaign ``_campaign.send`` through a push
                                                    channel (``delivery_type`` APNS, APNS_SANDBOX,
                                                    APNS_VOIP, APNS_VOIP_SANDBOX, ADM, GCM, BAIDU)
                                                    with ``campaign_send_status`` SUCCESS
sms-spend                                           price, in US dollars, of campaign SMS
                                                    (``_SMS.SUCCESS`` and ``_SMS.FAILURE``, the
                                                    outcomes that carry it)
txn-sms-sent-grouped-by-country                     transactional ``_SMS.BUFFERED`` per country
txn-sms-delivered-grouped-by-country                transactional ``_SMS.SUCCESS`` per country
txn-sms-sent-by-parts (and                          message parts of transactional ``_SMS.BUFFERED``
``-grouped-by-country``)
txn-sms-delivered-by-parts (and                     message parts of transactional ``_SMS.SUCCESS``
``-grouped-by-country``)
txn-sms-total-price-grouped-by-country              price, in US dollars, of transactional SMS
                                                    outcomes per country
txn-sms-average-price-grouped-by-country            that price / the outcomes reporting a price
txn-sms-average-price-by-parts-grouped-by-country   that price / the outcomes' message parts
txn-sms-error-distribution                          transactional ``_SMS.FAILURE`` per
                                                    ``record_status``
==================================================  ================================================

"By parts" counts message parts, the unit Pinpoint bills SMS by; "country" is the SMS's
``iso_country_code``. Country groups are ``{"Key": "Country", …}`` and error groups
``{"Key": "ErrorCode", …}`` (undocumented keys); events without the attribute are left out of
those groups. A sum answers no row when nothing was counted (for a price: no event reported
one), a ratio when its denominator is zero, a distinct count when no endpoint qualifies.
Any other name is not an application metric and is a BadRequest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from pyroaring import BitMap

from clarion.errors import BadRequest
from clarion.store import analytics as rollups
from clarion.store.analytics import MessageEndpoints, MessageFacts
from clarion.store.database import Database

MAX_RANGE_DAYS: Final = 31
LOOKBACK_DAYS: Final = 90
CAMPAIGN_ID: Final = "campaign_id"
JOURNEY_ID: Final = "journey_id"

Row = dict[str, Any]


PUSH_CHANNELS: Final = frozenset(
    {"APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "ADM", "GCM", "BAIDU"}
)
"""The ``delivery_type`` values of campaign sends that are push notifications."""
SMS_OUTCOMES: Final = frozenset({"_SMS.SUCCESS", "_SMS.FAILURE"})
"""The SMS events that report a message's price (never ``_SMS.BUFFERED``)."""
MILLICENTS_PER_DOLLAR: Final = 100_000


class Grouping(Enum):
    """The ``GroupedBys`` key. ``Date``, ``CampaignId`` and (for campaign metrics)
    ``CampaignActivityId`` are documented; ``Country`` follows the kpi-name rule, and
    ``ErrorCode`` is the guide's "grouped by error code"."""

    NONE = ""
    DATE = "Date"
    CAMPAIGN = "CampaignId"
    CAMPAIGN_ACTIVITY = "CampaignActivityId"
    COUNTRY = "Country"
    ERROR = "ErrorCode"

    @property
    def by_sender(self) -> bool:
        """Grouped by what sent the message: a campaign, or one run of a campaign."""
        return self in (Grouping.CAMPAIGN, Grouping.CAMPAIGN_ACTIVITY)


class _Keyed:
    name: str

    @property
    def key(self) -> str:
        """The value's ``Key``: the name before ``-grouped-by-…``, in PascalCase."""
        base = self.name.split("-grouped-by-")[0]
        return "".join(word.capitalize() for word in base.split("-"))


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
class Kpi(_Keyed):
    """A count or rate of events, from ``daily_events`` and ``daily_attributes``."""

    name: str
    numerator: Measure
    denominator: Measure | None
    grouping: Grouping

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
"""The metrics counted from ``daily_events`` and ``daily_attributes``."""


class Quantity(Enum):
    """What a sum over ``daily_message_facts`` adds up."""

    MESSAGES = "messages"
    PARTS = "message parts"
    PRICED = "messages with a price"
    SPEND = "US dollars"

    def of(self, facts: MessageFacts) -> float:
        """The stored amount; a price is stored in millicents, converted once summed."""
        if self is Quantity.SPEND:
            return facts.price
        if self is Quantity.PRICED:
            return facts.priced
        return facts.parts if self is Quantity.PARTS else facts.count

    def evidence(self, facts: MessageFacts) -> int:
        """How many events count toward the sum: a price of 0 is data, an absent one is not."""
        return facts.priced if self is Quantity.SPEND else int(self.of(facts))


@dataclass(frozen=True)
class FactSum:
    """A quantity summed over message events of some types, optionally only campaign sends
    through some channels (``delivery_type``) with one ``campaign_send_status``."""

    quantity: Quantity
    event_types: frozenset[str]
    channels: frozenset[str] | None = None
    send_status: str | None = None

    def admits(self, facts: MessageFacts) -> bool:
        return (
            facts.event_type in self.event_types
            and (self.channels is None or facts.delivery_type in self.channels)
            and (self.send_status is None or facts.campaign_send_status == self.send_status)
        )

    def total(self, facts: Iterable[MessageFacts]) -> tuple[float, bool]:
        """The sum, and whether anything was counted toward it."""
        chosen = [f for f in facts if self.admits(f)]
        counted = any(self.quantity.evidence(f) > 0 for f in chosen)
        amount = sum(self.quantity.of(f) for f in chosen)
        if self.quantity is Quantity.SPEND:
            amount /= MILLICENTS_PER_DOLLAR
        return amount, counted


@dataclass(frozen=True)
class FactKpi(_Keyed):
    """A sum or ratio of sums over ``daily_message_facts``, from campaign messages or from
    transactional ones."""

    name: str
    numerator: FactSum
    denominator: FactSum | None
    grouping: Grouping
    from_campaigns: bool = False

    @property
    def event_types(self) -> frozenset[str]:
        extra = self.denominator.event_types if self.denominator else frozenset()
        return self.numerator.event_types | extra

    def value(self, facts: Sequence[MessageFacts]) -> float | None:
        """The sum, or the ratio; None (no row) when nothing was counted or the denominator
        is zero."""
        numerator, counted = self.numerator.total(facts)
        if self.denominator is None:
            return numerator if counted else None
        denominator, _ = self.denominator.total(facts)
        return numerator / denominator if denominator > 0 else None


@dataclass(frozen=True)
class EndpointKpi(_Keyed):
    """Distinct endpoints, from ``daily_message_endpoints``: those with a ``reached`` event,
    less, for each day and campaign, those with a ``less`` event."""

    name: str
    reached: str
    grouping: Grouping
    from_campaigns: bool = False
    less: str | None = None

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(t for t in (self.reached, self.less) if t is not None)


AnyKpi = Kpi | FactKpi | EndpointKpi


def _distinct_by_date_too(name: str, reached: str) -> list[EndpointKpi]:
    return [
        EndpointKpi(name, reached, Grouping.NONE),
        EndpointKpi(f"{name}-grouped-by-date", reached, Grouping.DATE),
    ]


def _by_country_too(name: str, numerator: FactSum) -> list[FactKpi]:
    return [
        FactKpi(name, numerator, None, Grouping.NONE),
        FactKpi(f"{name}-grouped-by-country", numerator, None, Grouping.COUNTRY),
    ]


def _unique_deliveries(grouping: Grouping, suffix: str = "") -> EndpointKpi:
    return EndpointKpi(
        f"unique-deliveries{suffix}",
        "_campaign.send",
        grouping,
        from_campaigns=True,
        less="_email.hardbounce",
    )


def _message_catalogue() -> dict[str, FactKpi | EndpointKpi]:
    sent = FactSum(Quantity.MESSAGES, frozenset({"_SMS.BUFFERED"}))
    delivered = FactSum(Quantity.MESSAGES, frozenset({"_SMS.SUCCESS"}))
    spend = FactSum(Quantity.SPEND, SMS_OUTCOMES)
    push_opens = FactSum(Quantity.MESSAGES, frozenset({"_campaign.opened_notification"}))
    push_deliveries = FactSum(
        Quantity.MESSAGES, frozenset({"_campaign.send"}), PUSH_CHANNELS, "SUCCESS"
    )
    kpis: list[FactKpi | EndpointKpi] = [
        _unique_deliveries(Grouping.NONE),
        _unique_deliveries(Grouping.CAMPAIGN, "-grouped-by-campaign"),
        _unique_deliveries(Grouping.DATE, "-grouped-by-date"),
        *_distinct_by_date_too("txn-emails-unique-opens", "_email.open"),
        *_distinct_by_date_too("txn-emails-unique-clicks", "_email.click"),
        FactKpi("push-open-rate", push_opens, push_deliveries, Grouping.NONE, from_campaigns=True),
        FactKpi(
            "push-open-rate-grouped-by-campaign",
            push_opens,
            push_deliveries,
            Grouping.CAMPAIGN,
            from_campaigns=True,
        ),
        FactKpi("sms-spend", spend, None, Grouping.NONE, from_campaigns=True),
        FactKpi("txn-sms-sent-grouped-by-country", sent, None, Grouping.COUNTRY),
        FactKpi("txn-sms-delivered-grouped-by-country", delivered, None, Grouping.COUNTRY),
        *_by_country_too("txn-sms-sent-by-parts", FactSum(Quantity.PARTS, sent.event_types)),
        *_by_country_too(
            "txn-sms-delivered-by-parts", FactSum(Quantity.PARTS, delivered.event_types)
        ),
        FactKpi("txn-sms-total-price-grouped-by-country", spend, None, Grouping.COUNTRY),
        FactKpi(
            "txn-sms-average-price-grouped-by-country",
            spend,
            FactSum(Quantity.PRICED, SMS_OUTCOMES),
            Grouping.COUNTRY,
        ),
        FactKpi(
            "txn-sms-average-price-by-parts-grouped-by-country",
            spend,
            FactSum(Quantity.PARTS, SMS_OUTCOMES),
            Grouping.COUNTRY,
        ),
        FactKpi(
            "txn-sms-error-distribution",
            FactSum(Quantity.MESSAGES, frozenset({"_SMS.FAILURE"})),
            None,
            Grouping.ERROR,
        ),
    ]
    return {kpi.name: kpi for kpi in kpis}


MESSAGE_KPIS: Final = _message_catalogue()
"""The metrics computed from the message rollups."""

APPLICATION_KPIS: Final[Mapping[str, AnyKpi]] = {**KPIS, **MESSAGE_KPIS}
"""Every application metric the guide documents."""


def application_kpi(name: str) -> AnyKpi:
    """The application metric named ``name``; anything else is a BadRequest."""
    kpi = APPLICATION_KPIS.get(name)
    if kpi is None:
        raise BadRequest(
            f"{name} is not an application metric. Application metrics are listed in the "
            "Amazon Pinpoint Developer Guide, analytics-standard-metrics.html"
        )
    return kpi


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


def query(db: Database, app_id: str, kpi: AnyKpi, window: KpiRange) -> list[Row]:
    """The KPI's result rows, from at most two indexed, pre-summed reads of the rollups."""
    days = window.days
    if isinstance(kpi, FactKpi):
        group = _FACT_GROUPS[kpi.grouping]
        facts = rollups.message_facts(
            db, app_id, kpi.event_types, days, campaigns=kpi.from_campaigns, group=group
        )
        return fact_rows(kpi, facts)
    if isinstance(kpi, EndpointKpi):
        sets = rollups.message_endpoints(
            db, app_id, kpi.event_types, days, campaigns=kpi.from_campaigns
        )
        return endpoint_rows(kpi, sets)
    return kpi_rows(kpi, _tallies(db, app_id, kpi, days))


_FACT_GROUPS: Final[Mapping[Grouping, str | None]] = {
    Grouping.NONE: None,
    Grouping.DATE: "day",
    Grouping.CAMPAIGN: "campaign_id",
    Grouping.COUNTRY: "iso_country_code",
    Grouping.ERROR: "record_status",
}


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
        tallies += [(day_group(kpi.grouping, e.day), Term(e.event_type), e.count) for e in events]
    if attributed:
        names = {term.attribute for term in attributed if term.attribute is not None}
        counts = rollups.attributed_counts(db, app_id, attributed_types, names, days)
        tallies += [
            (day_group(kpi.grouping, c.day), Term(c.event_type, c.attribute), c.count)
            for c in counts
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


def fact_rows(kpi: FactKpi, facts: Iterable[MessageFacts]) -> list[Row]:
    """One row per group with data. Events without the attribute a KPI groups by (no
    ``iso_country_code``, no ``record_status``) fall in group "" and are left out."""
    groups: dict[str, list[MessageFacts]] = defaultdict(list)
    for f in facts:
        groups[f.group].append(f)
    rows = []
    for group in sorted(groups):
        value = kpi.value(groups[group])
        if value is not None and (group or kpi.grouping is Grouping.NONE):
            rows.append(_result_row(kpi, group, value))
    return rows


def endpoint_rows(kpi: EndpointKpi, sets: Iterable[MessageEndpoints]) -> list[Row]:
    """Per day and sender (``MessageEndpoints.campaign_id``: a campaign, or one run of it when
    grouped by run), the endpoints reached less those taken out; then their union per group,
    one row per group with anyone in it."""
    by_send: dict[tuple[date, str], dict[str, BitMap]] = defaultdict(dict)
    for s in sets:
        by_send[(s.day, s.campaign_id)][s.event_type] = s.endpoints
    groups: dict[str, BitMap] = defaultdict(BitMap)
    for (day, campaign), by_type in by_send.items():
        reached = by_type.get(kpi.reached, BitMap())
        if kpi.less is not None:
            reached = reached - by_type.get(kpi.less, BitMap())
        group = campaign if kpi.grouping.by_sender else day_group(kpi.grouping, day)
        groups[group] |= reached
    return [
        _result_row(kpi, group, float(len(groups[group])))
        for group in sorted(groups)
        if groups[group]
    ]


def day_group(grouping: Grouping, day: date) -> str:
    """The group a day's count falls in: the day when grouped by date, else the one group ""."""
    return day.isoformat() if grouping is Grouping.DATE else ""


def _result_row(kpi: AnyKpi, group: str, value: float) -> Row:
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
