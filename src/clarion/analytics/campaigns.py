"""Pinpoint's campaign metrics (GetCampaignDateRangeKpi), and the same metrics for one treatment
of a campaign (Clarion's native treatment route).

Sources: the Amazon Pinpoint Developer Guide's "Standard Amazon Pinpoint analytics metrics",
section "Campaign metrics" (analytics-standard-metrics.html), for the kpi-names and their
definitions; "Querying Amazon Pinpoint analytics data for campaigns"
(analytics-query-campaigns.html) for the response; "Campaign events"
(event-streams-data-campaign.html) for the attributes every campaign message event carries:
``campaign_id``, ``campaign_activity_id`` (one per run of the campaign, what the guide calls a
"campaign run") and ``treatment_id`` (``"0"`` for a standard campaign). Rows, keys and values
are shaped exactly as for the application metrics (:mod:`clarion.analytics.kpis`); groups of a
``-grouped-by-campaign-activity`` metric are ``{"Key": "CampaignActivityId", …}``.

Each metric is an application metric's definition restricted to one campaign's events, those
whose ``campaign_id`` is the campaign's (``-grouped-by-campaign-activity``: per run):

=============================================  ==============================================
kpi-name (``-grouped-by-…``: by campaign run)  value, over the campaign's events
=============================================  ==============================================
hard-bounce-rate (and ``-grouped-by-…``)       ``_email.hardbounce`` / ``_email.send``
successful-delivery-rate (and                  (``_campaign.send`` - ``_email.hardbounce``) /
``-grouped-by-date``, ``-grouped-by-…``)       ``_campaign.send``
email-open-rate (and ``-grouped-by-…``)        ``_email.open`` / ``_email.delivered``
unique-deliveries (and ``-grouped-by-date``,   distinct endpoints with a ``_campaign.send``,
``-grouped-by-…``)                             less, per day (and run), the hard-bounced ones
push-open-rate (and ``-grouped-by-…``)         ``_campaign.opened_notification`` / push
                                               ``_campaign.send`` with status SUCCESS
direct-email-opens-grouped-by-…                ``_email.open``
clicks-grouped-by-…                            ``_email.click``
successful-deliveries-grouped-by-…             ``_campaign.send`` - ``_email.hardbounce``
attempted-deliveries-grouped-by-…              ``_campaign.send``
direct-push-opens-grouped-by-…                 ``_campaign.opened_notification``
=============================================  ==============================================

Clarion adds two metrics the API lacks but Pinpoint's console charted per campaign and
treatment ("Campaign sessions", "Campaign units sold", User Guide analytics-campaigns.html):
``sessions`` and ``purchases`` (each also ``-grouped-by-date``), the ``_session.start`` and
``_monetization.purchase`` events credited to the campaign. Pinpoint's mobile SDKs credit them:
when a user opens a campaign's push notification they add its ``campaign_id``,
``campaign_activity_id`` and ``treatment_id`` to every event they record until the session
stops (the iOS SDK's ``setCampaignAttributes`` and ``removeAllGlobalCampaignAttributes``), so
an app event carrying the campaign's id is the campaign's. Pinpoint answers 400 for these two
names; they are Clarion's.

Two reads serve them. A metric over the whole campaign, ungrouped or by date, reads the rollups
exactly as its application metric does, narrowed to the campaign id (a key of the message
rollups, and a key value of ``campaign_id`` in ``daily_attributes``). The rollups know the
campaign but not its runs or treatments, so a metric grouped by run, and every metric of one
treatment, reads the campaign's raw events instead (:func:`campaign_events`, which explains
the cost). Both feed the application metrics' arithmetic (``kpi_rows``, ``fact_rows``,
``endpoint_rows``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from pyroaring import BitMap

from clarion.analytics.kpis import (
    CAMPAIGN_ID,
    KPIS,
    MESSAGE_KPIS,
    AnyKpi,
    EndpointKpi,
    FactKpi,
    Grouping,
    Kpi,
    KpiRange,
    Row,
    Term,
    day_group,
    endpoint_rows,
    fact_rows,
    from_campaigns,
    kpi_range,
    kpi_rows,
)
from clarion.clock import iso
from clarion.errors import BadRequest
from clarion.events.messages import DELIVERY_TYPE, SEND_STATUS
from clarion.store import analytics as rollups
from clarion.store.analytics import EventTally, MessageEndpoints, MessageFacts
from clarion.store.database import Database

ACTIVITY_ID: Final = "campaign_activity_id"
TREATMENT_ID: Final = "treatment_id"


def _by_run(kpi: AnyKpi) -> AnyKpi:
    base = kpi.name.split("-grouped-by-")[0]
    return dataclasses.replace(
        kpi, name=f"{base}-grouped-by-campaign-activity", grouping=Grouping.CAMPAIGN_ACTIVITY
    )


def _count(name: str, event_type: str, grouping: Grouping = Grouping.NONE) -> Kpi:
    return Kpi(name, from_campaigns(event_type), None, grouping)


def _catalogue() -> dict[str, AnyKpi]:
    hard_bounce_rate = Kpi(
        "hard-bounce-rate",
        from_campaigns("_email.hardbounce"),
        from_campaigns("_email.send"),
        Grouping.NONE,
    )
    delivered = dataclasses.replace(
        KPIS["successful-deliveries-grouped-by-campaign"],
        name="successful-deliveries",
        grouping=Grouping.NONE,
    )
    whole_and_by_run: list[AnyKpi] = [
        hard_bounce_rate,
        KPIS["successful-delivery-rate"],
        KPIS["email-open-rate"],
        MESSAGE_KPIS["unique-deliveries"],
        MESSAGE_KPIS["push-open-rate"],
    ]
    by_run_only: list[AnyKpi] = [
        _count("direct-email-opens", "_email.open"),
        _count("clicks", "_email.click"),
        delivered,
        _count("attempted-deliveries", "_campaign.send"),
        _count("direct-push-opens", "_campaign.opened_notification"),
    ]
    kpis = [
        *whole_and_by_run,
        *(_by_run(kpi) for kpi in whole_and_by_run + by_run_only),
        KPIS["successful-delivery-rate-grouped-by-date"],
        MESSAGE_KPIS["unique-deliveries-grouped-by-date"],
    ]
    return {kpi.name: kpi for kpi in kpis}


CAMPAIGN_KPIS: Final[Mapping[str, AnyKpi]] = _catalogue()
"""Every campaign metric the guide documents."""

CREDITED_KPIS: Final[Mapping[str, AnyKpi]] = {
    kpi.name: kpi
    for name, event_type in [
        ("sessions", "_session.start"),
        ("purchases", "_monetization.purchase"),
    ]
    for kpi in (
        _count(name, event_type),
        _count(f"{name}-grouped-by-date", event_type, Grouping.DATE),
    )
}
"""Clarion's additions: app events credited to the campaign."""


def campaign_kpi(name: str) -> AnyKpi:
    """The campaign metric named ``name``; anything else is a BadRequest."""
    kpi = CAMPAIGN_KPIS.get(name) or CREDITED_KPIS.get(name)
    if kpi is None:
        raise BadRequest(
            f"{name} is not a campaign metric. Campaign metrics are listed in the Amazon "
            "Pinpoint Developer Guide, analytics-standard-metrics.html; Clarion adds sessions "
            "and purchases (each also -grouped-by-date)"
        )
    return kpi


def date_range_kpi(
    db: Database,
    app_id: str,
    campaign_id: str,
    name: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The CampaignDateRangeKpiResponse to one query, over the range Pinpoint allows."""
    kpi = campaign_kpi(name)
    window = kpi_range(start, end, now)
    return {
        "ApplicationId": app_id,
        "CampaignId": campaign_id,
        "KpiName": kpi.name,
        "StartTime": window.start,
        "EndTime": window.end,
        "KpiResult": {"Rows": campaign_rows(db, app_id, campaign_id, kpi, window)},
    }


def treatment_kpi(
    db: Database,
    app_id: str,
    campaign_id: str,
    treatment_id: str,
    name: str,
    query: Mapping[str, str],
    now: datetime,
) -> dict[str, Any]:
    """The same response for one treatment, with ``start-time`` and ``end-time`` from a query
    string and checked as GetCampaignDateRangeKpi checks StartTime and EndTime."""
    kpi = campaign_kpi(name)
    window = kpi_range(_moment(query, "start-time"), _moment(query, "end-time"), now)
    rows = campaign_rows(db, app_id, campaign_id, kpi, window, treatment_id=treatment_id)
    return {
        "ApplicationId": app_id,
        "CampaignId": campaign_id,
        "TreatmentId": treatment_id,
        "KpiName": kpi.name,
        "StartTime": iso(window.start),
        "EndTime": iso(window.end),
        "KpiResult": {"Rows": rows},
    }


def _moment(query: Mapping[str, str], name: str) -> datetime | None:
    """An ISO 8601 date and time; one without an offset is UTC."""
    text = query.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"{name} must be an ISO 8601 date and time, such as 2026-05-01T00:00:00Z, not {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def campaign_rows(
    db: Database,
    app_id: str,
    campaign_id: str,
    kpi: AnyKpi,
    window: KpiRange,
    *,
    treatment_id: str | None = None,
) -> list[Row]:
    """The metric's rows for the campaign, or for one of its treatments."""
    if treatment_id is None and kpi.grouping is not Grouping.CAMPAIGN_ACTIVITY:
        return _from_rollups(db, app_id, campaign_id, kpi, window.days)
    found = campaign_events(db, app_id, campaign_id, _event_types(kpi), window, treatment_id)
    return event_rows(kpi, found)


def _event_types(kpi: AnyKpi) -> frozenset[str]:
    if isinstance(kpi, Kpi):
        return frozenset(term.event_type for term in kpi.terms)
    return kpi.event_types


def _from_rollups(
    db: Database, app_id: str, campaign_id: str, kpi: AnyKpi, days: list[date]
) -> list[Row]:
    """The application metric's reads, each narrowed to the campaign: still one seek per day."""
    if isinstance(kpi, FactKpi):
        group = "day" if kpi.grouping is Grouping.DATE else None
        facts = rollups.message_facts(
            db, app_id, kpi.event_types, days, campaigns=True, group=group, campaign_id=campaign_id
        )
        return fact_rows(kpi, facts)
    if isinstance(kpi, EndpointKpi):
        sets = rollups.message_endpoints(
            db, app_id, kpi.event_types, days, campaigns=True, campaign_id=campaign_id
        )
        return endpoint_rows(kpi, sets)
    counts = rollups.attribute_counts(
        db, app_id, _event_types(kpi), [CAMPAIGN_ID], days, value=campaign_id
    )
    tallies = [
        (day_group(kpi.grouping, c.day), Term(c.event_type, CAMPAIGN_ID), c.count) for c in counts
    ]
    return kpi_rows(kpi, tallies)


# --- The campaign's raw events --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignEvents:
    """How many of the campaign's events were alike in all that a campaign metric tells apart:
    day, type, run, channel, send status and endpoint. Attributes an event lacks are ""."""

    day: date
    event_type: str
    activity: str
    delivery_type: str
    send_status: str
    endpoint: str
    count: int


def campaign_events(
    db: Database,
    app_id: str,
    campaign_id: str,
    event_types: Iterable[str],
    window: KpiRange,
    treatment_id: str | None = None,
) -> list[CampaignEvents]:
    """The campaign's (or one treatment's) events of ``event_types`` over the window's days,
    counted in the database.

    Cost: the ``(app_id, event_type, timestamp_ms)`` index ``ix_events_app_type_time`` finds
    the app's events of these types in the range; the campaign and treatment are conditions on
    each such event's stored JSON. So the read grows with the whole app's events of the
    metric's types over the range (at most 31 days), not with the campaign's alone: its message
    events for the message metrics, but every session start or purchase of the app for
    ``sessions`` and ``purchases`` of a treatment. What comes back is a row per endpoint and
    kind of event, since distinct endpoints are counted here. A rollup keyed by run or
    treatment would make this a seek like the campaign-wide metrics; that is a schema change."""
    days = window.days
    first = datetime.combine(days[0], time(), UTC)
    after = datetime.combine(days[-1] + timedelta(days=1), time(), UTC)
    matching = {CAMPAIGN_ID: campaign_id}
    if treatment_id is not None:
        matching[TREATMENT_ID] = treatment_id
    tallies = rollups.event_tallies(
        db,
        app_id,
        event_types,
        int(first.timestamp() * 1000),
        int(after.timestamp() * 1000) - 1,
        matching=matching,
        by=(ACTIVITY_ID, DELIVERY_TYPE, SEND_STATUS),
    )
    return [_alike(tally) for tally in tallies]


def _alike(tally: EventTally) -> CampaignEvents:
    activity, delivery_type, send_status = tally.values
    return CampaignEvents(
        tally.day,
        tally.event_type,
        activity,
        delivery_type,
        send_status,
        tally.endpoint,
        tally.count,
    )


def event_rows(kpi: AnyKpi, found: Iterable[CampaignEvents]) -> list[Row]:
    """The metric's rows from one campaign's events, shaped like the rollups the application
    metrics read. Grouped by run, each run is its own sender and events without a
    ``campaign_activity_id`` are left out. The events are counts of messages: none of these
    metrics sums SMS parts or prices."""
    by_run = kpi.grouping is Grouping.CAMPAIGN_ACTIVITY
    chosen = [e for e in found if e.activity or not by_run]

    def group(e: CampaignEvents) -> str:
        return e.activity if by_run else day_group(kpi.grouping, e.day)

    if isinstance(kpi, FactKpi):
        facts = [
            MessageFacts(group(e), e.event_type, e.delivery_type, e.send_status, e.count, 0, 0, 0)
            for e in chosen
        ]
        return fact_rows(kpi, facts)
    if isinstance(kpi, EndpointKpi):
        numbers: dict[str, int] = {}
        sets: dict[tuple[date, str, str], BitMap] = defaultdict(BitMap)
        for e in chosen:
            sender = e.activity if by_run else ""
            sets[(e.day, e.event_type, sender)].add(numbers.setdefault(e.endpoint, len(numbers)))
        return endpoint_rows(kpi, [MessageEndpoints(*key, bitmap) for key, bitmap in sets.items()])
    return kpi_rows(kpi, [(group(e), Term(e.event_type, CAMPAIGN_ID), e.count) for e in chosen])
