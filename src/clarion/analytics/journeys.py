"""Pinpoint's journey engagement metrics (GetJourneyDateRangeKpi), from the journey message
rollup.

Sources: the Amazon Pinpoint Developer Guide's "Standard Amazon Pinpoint analytics metrics",
section "Journey engagement metrics" (analytics-standard-metrics.html), for the kpi-names and
their definitions ("for all the email messages that were sent by an Amazon Pinpoint journey";
the ``-grouped-by-journey-activity`` forms are "grouped by activity ID
(``JourneyActivityId``)"); "Journey events" and "Email events" (event-streams-data-journey.html,
event-streams-data-email.html) for the ``journey_id`` and ``journey_activity_id`` attributes
that tie a message event to its journey and activity; the API reference's
JourneyDateRangeKpiResponse, whose ``NextToken`` "is null for the Journey Engagement Metrics
resource because the resource returns all results in a single page".

Every metric counts one e-mail event type among the journey's events (those whose
``journey_id`` is the journey's); the guide defines no rates or distinct counts for journeys:

==================================================  ======================
kpi-name (and the form grouped by activity)         counts
==================================================  ======================
journey-emails-sent, emails-sent-…                  ``_email.send``
journey-emails-delivered, emails-delivered-…        ``_email.delivered``
journey-emails-opened, emails-opened-…              ``_email.open``
journey-emails-clicked, emails-clicked-…            ``_email.click``
journey-emails-hardbounced, emails-hardbounced-…    ``_email.hardbounce``
journey-emails-softbounced, emails-softbounced-…    ``_email.softbounce``
journey-emails-complained, emails-complained-…      ``_email.complaint``
journey-emails-rejected, emails-rejected-…          ``_email.rejected``
journey-emails-unsubscribed, emails-unsubscribed-…  ``_email.unsubscribe``
==================================================  ======================

("emails-sent-…" stands for ``emails-sent-grouped-by-journey-activity``, and so on.) The guide
defines deliveries as sends minus bounces and rejections; Clarion counts the ``_email.delivered``
events its delivery (and a provider's feedback) records, which is that number once every
outcome is known, and the same choice the application metric ``txn-emails-delivered`` makes.

Pinpoint documents no journey metric for SMS. Clarion adds three, named like the e-mail ones,
for the SMS activity figures Pinpoint's console showed ("View journey metrics",
journeys-metrics.html: messages sent, deliveries, failures): ``journey-sms-sent``
(``_SMS.BUFFERED``, one per message handed to the carrier, as ``txn-sms-sent``),
``journey-sms-delivered`` (``_SMS.SUCCESS``) and ``journey-sms-failed`` (``_SMS.FAILURE``),
each also ``sms-…-grouped-by-journey-activity``. Pinpoint would answer 400 for them.

Rows are shaped as the application metrics' are (:mod:`clarion.analytics.kpis`): values are
Doubles under the kpi-name before ``-grouped-by-…`` in PascalCase (``JourneyEmailsSent``,
``EmailsSent``; the guide documents no key), groups are ``{"Key": "JourneyActivityId", "Type":
"String", …}``; no row when nothing was counted, no group for an activity without data, and
events without a ``journey_activity_id`` count toward the journey but no activity. The date
range is checked exactly as for application and campaign metrics (``kpi_range``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from clarion.analytics.kpis import KpiRange, Row, _Keyed, java_double, kpi_range
from clarion.errors import BadRequest
from clarion.store import analytics as rollups
from clarion.store.analytics import JourneyMessageCount
from clarion.store.database import Database

BY_ACTIVITY: Final = "-grouped-by-journey-activity"
ACTIVITY_GROUP: Final = "JourneyActivityId"


@dataclass(frozen=True)
class JourneyKpi(_Keyed):
    """A count of one message event type among a journey's events, over the journey or per
    activity."""

    name: str
    event_type: str
    by_activity: bool

    def rows(self, counts: Iterable[JourneyMessageCount]) -> list[Row]:
        """One row (per activity, when grouped) with a count; activity "" is no group."""
        totals: dict[str, int] = defaultdict(int)
        for c in counts:
            if c.event_type == self.event_type and (c.activity_id or not self.by_activity):
                totals[c.activity_id if self.by_activity else ""] += c.count
        return [self._row(group, totals[group]) for group in sorted(totals) if totals[group] > 0]

    def _row(self, group: str, count: int) -> Row:
        row: Row = {"Values": [{"Key": self.key, "Type": "Double", "Value": java_double(count)}]}
        if self.by_activity:
            row["GroupedBys"] = [{"Key": ACTIVITY_GROUP, "Type": "String", "Value": group}]
        return row


def _both(channel: str, measure: str, event_type: str) -> list[JourneyKpi]:
    return [
        JourneyKpi(f"journey-{channel}-{measure}", event_type, by_activity=False),
        JourneyKpi(f"{channel}-{measure}{BY_ACTIVITY}", event_type, by_activity=True),
    ]


def _catalogue(channel: str, measures: Mapping[str, str]) -> dict[str, JourneyKpi]:
    kpis = [kpi for measure, t in measures.items() for kpi in _both(channel, measure, t)]
    return {kpi.name: kpi for kpi in kpis}


JOURNEY_KPIS: Final = _catalogue(
    "emails",
    {
        "sent": "_email.send",
        "delivered": "_email.delivered",
        "opened": "_email.open",
        "clicked": "_email.click",
        "hardbounced": "_email.hardbounce",
        "softbounced": "_email.softbounce",
        "complained": "_email.complaint",
        "rejected": "_email.rejected",
        "unsubscribed": "_email.unsubscribe",
    },
)
"""Every journey engagement metric the guide documents."""

SMS_KPIS: Final = _catalogue(
    "sms", {"sent": "_SMS.BUFFERED", "delivered": "_SMS.SUCCESS", "failed": "_SMS.FAILURE"}
)
"""Clarion's additions: a journey's SMS messages."""


def journey_kpi(name: str) -> JourneyKpi:
    """The journey metric named ``name``; anything else is a BadRequest."""
    kpi = JOURNEY_KPIS.get(name) or SMS_KPIS.get(name)
    if kpi is None:
        raise BadRequest(
            f"{name} is not a journey metric. Journey engagement metrics are listed in the "
            "Amazon Pinpoint Developer Guide, analytics-standard-metrics.html; Clarion adds "
            "journey-sms-sent, journey-sms-delivered and journey-sms-failed (each also "
            f"sms-…{BY_ACTIVITY})"
        )
    return kpi


def date_range_kpi(
    db: Database,
    app_id: str,
    journey_id: str,
    kpi_name: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The JourneyDateRangeKpiResponse to one query, over the range Pinpoint allows."""
    kpi = journey_kpi(kpi_name)
    window = kpi_range(start, end, now)
    return {
        "ApplicationId": app_id,
        "JourneyId": journey_id,
        "KpiName": kpi.name,
        "StartTime": window.start,
        "EndTime": window.end,
        "KpiResult": {"Rows": journey_rows(db, app_id, journey_id, kpi, window)},
    }


def journey_rows(
    db: Database, app_id: str, journey_id: str, kpi: JourneyKpi, window: KpiRange
) -> list[Row]:
    """The metric's rows: one key seek per day of the window, summed in the database."""
    counts = rollups.journey_messages(
        db, app_id, journey_id, [kpi.event_type], window.days, by_activity=kpi.by_activity
    )
    return kpi.rows(counts)
