"""The message activities of journeys: EMAIL, SMS, PUSH, CUSTOM, and ContactCenter.

Each participant at a message activity meets the eligibility rules campaigns meet (opt-out,
inactive, quiet time, caps) plus the journey's own sending schedule (OpenHours, ClosedDays)
and MessagesPerSecond. E-mail, SMS and push go through the delivery ledger under a source
key of (journey, endpoint, entry, activity): a step done again after a crash finds its
message there, with its Message-ID, and counts the outcome the ledger holds instead of
sending again. CUSTOM posts to the activity's DeliveryUri and ContactCenter to the
application's contact-center web hook (``/clarion/v1/apps/{id}/contact-center``): Clarion
has no Amazon Connect, so a hand-off is a web hook call the app's own contact center takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from clarion.campaigns import limits as campaign_limits
from clarion.campaigns.eligibility import Skip
from clarion.campaigns.quiet import quiet_time_ends
from clarion.campaigns.schedule import endpoint_zone
from clarion.clock import Clock, epoch_ms, iso
from clarion.journeys import metrics, steps
from clarion.journeys.entry import Counts
from clarion.journeys.plan import Plan
from clarion.journeys.zones import participant_zone
from clarion.messaging import outcomes
from clarion.messaging.compose import Recipient
from clarion.messaging.service import Messages, record_events
from clarion.store.database import Database
from clarion.store.deliveries import DeliveryRepository
from clarion.store.journeys import Participant

log = logging.getLogger("clarion.journeys")

HOOK_RETRY_MS = 5_000
THROTTLE_RETRY_MS = 1_000
_TEMPLATES = {"EMAIL": "EmailTemplate", "SMS": "SMSTemplate", "PUSH": "PushTemplate"}
_LEDGER_OUTCOMES = {
    outcomes.SUCCESSFUL: "SUCCESS",
    outcomes.PERMANENT_FAILURE: "FAILURE",
    outcomes.OPT_OUT: "OPT_OUT",
    outcomes.DUPLICATE: "FAILURE",
    outcomes.UNKNOWN_FAILURE: "FAILURE",
}
"""A message's ledger state → the activity outcome it counts as; a message still PENDING
(to be tried again) counts once it settles in the journey's KPIs, not here."""


class HookUnavailable(Exception):
    pass


class Delivery:
    def __init__(
        self,
        db: Database,
        messages: Messages,
        ledger: DeliveryRepository,
        http: httpx.Client,
        contact_center: Callable[[str], str | None],
        clock: Clock,
    ) -> None:
        self.db = db
        self.messages = messages
        self.ledger = ledger
        self.http = http
        """Web hooks users named: an outbound-policy client."""
        self.contact_center = contact_center
        self.clock = clock
        self._rates: dict[str, tuple[int, int]] = {}

    def send(
        self,
        plan: Plan,
        sending: Sequence[tuple[Participant, str]],
        documents: Mapping[str, Mapping[str, Any]],
        counts: Counts,
    ) -> dict[int, int]:
        """Send what each (participant, activity id) is due; the participants that stay
        where they are, by seq. Outcomes are added to ``counts``."""
        stays: dict[int, int] = {}
        groups: dict[tuple[str, str], list[Participant]] = {}
        for participant, activity_id in sending:
            groups.setdefault((activity_id, participant.run_id), []).append(participant)
        for (activity_id, run_id), group in groups.items():
            _Activity(self, plan, activity_id, run_id, documents, counts, stays).send(group)
        return stays

    def may_send(self, plan: Plan) -> bool:
        """MessagesPerSecond, kept by each node for itself, per second of the engine's clock:
        the clock that also says when a participant held back here is tried again."""
        rate = plan.limits.messages_per_second
        if rate is None:
            return True
        second = epoch_ms(self.clock()) // 1000
        started, sent = self._rates.get(plan.id, (second, 0))
        if started != second:
            started, sent = second, 0
        if sent >= rate:
            return False
        self._rates[plan.id] = (started, sent + 1)
        return True


class _Activity:
    """One message activity's participants of one run, in one step."""

    def __init__(
        self,
        delivery: Delivery,
        plan: Plan,
        activity_id: str,
        run_id: str,
        documents: Mapping[str, Mapping[str, Any]],
        counts: Counts,
        stays: dict[int, int],
    ) -> None:
        self.delivery = delivery
        self.plan = plan
        self.activity_id = activity_id
        self.run_id = run_id
        self.activity = plan.activities[activity_id]
        self.kind = steps.kind(self.activity)
        self.body = self.activity[self.kind]
        self.documents = documents
        self.counts = counts
        self.stays = stays
        self.now = delivery.clock()
        self.context = {
            "journey_id": plan.id,
            "journey_activity_id": activity_id,
            "journey_run_id": run_id,
            "journey_activity_type": metrics.activity_type(self.activity),
        }

    def source(self, participant: Participant) -> str:
        plan, key = self.plan, participant.endpoint_key
        return f"journey/{plan.id}/{participant.entry}/{self.activity_id}/{key}"

    def count(self, outcome: str, amount: int = 1) -> None:
        self.counts[(self.run_id, self.activity_id, metrics.message_outcome(outcome))] += amount

    def send(self, group: Sequence[Participant]) -> None:
        with self.delivery.db.read() as conn:
            known = self.delivery.ledger.source_statuses(conn, [self.source(p) for p in group])
        fresh = []
        for participant in group:
            status = known.get(self.source(participant))
            if status is not None:
                if status in _LEDGER_OUTCOMES:
                    self.count(_LEDGER_OUTCOMES[status])
                continue
            fresh.append(participant)
        ready = self._eligible(fresh)
        if not ready:
            return
        if self.kind in ("CUSTOM", "ContactCenter"):
            self._post(ready)
        else:
            self._deliver(ready)

    def _eligible(self, group: Sequence[Participant]) -> list[Participant]:
        """Those of ``group`` a message may go to now; the others are counted or stay."""
        plan, now = self.plan, self.now
        reached = []
        for participant in group:
            document = self.documents[participant.endpoint_key]
            channel = document.get("ChannelType") or ""
            custom_types = self.body.get("EndpointTypes") or []
            if self.kind != "ContactCenter" and not steps.channel_matches(
                self.kind, custom_types, channel
            ):
                self.count("NO_CHANNEL")
                continue
            skip = plan.eligibility.reach(document, participant.endpoint_key, None).skip
            if skip is not None:
                self.count("OPT_OUT" if skip is Skip.OPT_OUT else "INACTIVE")
                continue
            reached.append(participant)
        keys = [p.endpoint_key for p in reached]
        daily, total, timeframe = self._sent_counts(keys)
        ready = []
        for participant in reached:
            key = participant.endpoint_key
            document = self.documents[key]
            zone = participant_zone(document, plan.zone_methods)
            opens = steps.next_open(
                now, _sending_key(self.kind), plan.open_hours, plan.closed_days, _zone(zone, plan)
            )
            if opens is None or opens > now:
                self._hold_or_skip(participant, opens, "CLOSED_HOURS")
                continue
            located = {
                **document,
                "Demographic": {**(document.get("Demographic") or {}), "Timezone": zone},
            }
            skip = plan.eligibility.now(
                located,
                now,
                sent_in_window=daily.get(key, 0),
                sent_total=total.get(key, 0),
                sent_in_timeframe=timeframe.get(key, 0),
            )
            if skip is Skip.QUIET_TIME:
                assert plan.eligibility.quiet is not None
                ends = quiet_time_ends(now, *plan.eligibility.quiet, zone)
                self._hold_or_skip(participant, ends, "QUIET_TIME")
                continue
            if skip is not None:
                self.count(
                    campaign_limits.exceeded(
                        plan.limits,
                        sent_in_window=daily.get(key, 0),
                        sent_total=total.get(key, 0),
                        sent_in_timeframe=timeframe.get(key, 0),
                    )
                    or "DAILY_CAP"
                )
                continue
            if not self.delivery.may_send(plan):
                self.stays[participant.seq] = epoch_ms(now) + THROTTLE_RETRY_MS
                continue
            ready.append(participant)
        return ready

    def _hold_or_skip(self, participant: Participant, until: datetime | None, outcome: str) -> None:
        """WaitForQuietTime: the participant waits at the activity until it may be sent to;
        otherwise the message is skipped and the participant moves on."""
        if self.plan.wait_for_quiet_time and until is not None:
            self.stays[participant.seq] = epoch_ms(until)
        else:
            self.count(outcome)

    def _sent_counts(
        self, keys: Sequence[str]
    ) -> tuple[Mapping[str, int], Mapping[str, int], Mapping[str, int]]:
        """What the caps count: the journey's messages to each endpoint in the last day and
        in all, and every campaign's and journey's in the TimeframeCap's days."""
        limits, ledger = self.plan.limits, self.delivery.ledger
        if not keys or (
            limits.daily is None and limits.total is None and limits.timeframe_cap is None
        ):
            return {}, {}, {}
        now_ms = epoch_ms(self.now)
        day_ms = int(campaign_limits.DAILY_WINDOW.total_seconds() * 1000)
        app_id, journey_id = self.plan.app_id, self.plan.id
        with self.delivery.db.read() as conn:
            daily = ledger.counts(
                conn, app_id, keys, since_ms=now_ms - day_ms, campaign_id=journey_id
            )
            total = ledger.counts(conn, app_id, keys, campaign_id=journey_id)
            timeframe = (
                ledger.counts(conn, app_id, keys, since_ms=now_ms - limits.timeframe_days * day_ms)
                if limits.timeframe_days and limits.timeframe_cap
                else {}
            )
        return daily, total, timeframe

    def _deliver(self, ready: Sequence[Participant]) -> None:
        template = {"Name": self.body.get("TemplateName")}
        if self.body.get("TemplateVersion"):
            template["Version"] = self.body["TemplateVersion"]
        request = {
            "MessageConfiguration": _message_configuration(
                self.kind, self.body.get("MessageConfig") or {}
            ),
            "TemplateConfiguration": {_TEMPLATES[self.kind]: template},
        }
        items = [
            (
                Recipient(
                    self.documents[p.endpoint_key].get("Address") or "",
                    self.documents[p.endpoint_key].get("ChannelType") or "",
                    {
                        **self.documents[p.endpoint_key],
                        "Id": self.documents[p.endpoint_key].get("Id", p.endpoint_key),
                    },
                    {},
                ),
                p.endpoint_key,
                self.source(p),
            )
            for p in ready
        ]
        statuses = self.delivery.messages.deliver_campaign(
            self.plan.app_id, self.plan.id, items, request, self.context
        )
        unsettled = [
            self.source(p) for p, status in zip(ready, statuses, strict=True) if status is None
        ]
        if unsettled:
            with self.delivery.db.read() as conn:
                settled = self.delivery.ledger.source_statuses(conn, unsettled)
            statuses = [
                s if s is not None else settled.get(self.source(p))
                for p, s in zip(ready, statuses, strict=True)
            ]
        for status in statuses:
            if status in _LEDGER_OUTCOMES:
                self.count(_LEDGER_OUTCOMES[status])

    def _post(self, ready: Sequence[Participant]) -> None:
        """A CUSTOM activity's DeliveryUri, or the app's contact-center web hook, gets the
        participants' endpoints in one call; if it does not answer they try again later."""
        plan = self.plan
        url = (
            self.body.get("DeliveryUri")
            if self.kind == "CUSTOM"
            else self.delivery.contact_center(plan.app_id)
        )
        if not url:
            self.count("FAILURE", len(ready))
            return
        payload = {
            "ApplicationId": plan.app_id,
            "JourneyId": plan.id,
            "JourneyActivityId": self.activity_id,
            "RunId": self.run_id,
            "ScheduledTime": iso(self.now),
            "Data": (self.body.get("MessageConfig") or {}).get("Data"),
            "Endpoints": {p.endpoint_key: self.documents[p.endpoint_key] for p in ready},
        }
        try:
            response = self.delivery.http.post(url, json=payload)
            if not 200 <= response.status_code < 300:
                raise HookUnavailable(f"{url} answered HTTP {response.status_code}")
        except (httpx.HTTPError, HookUnavailable) as error:
            log.warning(
                "journey %s activity %s waits for its web hook: %s",
                plan.id,
                self.activity_id,
                error,
            )
            for p in ready:
                self.stays[p.seq] = epoch_ms(self.now) + HOOK_RETRY_MS
            return
        self.count("SUCCESS", len(ready))
        with self.delivery.db.write() as conn:
            record_events(
                self.delivery.messages.events,
                conn,
                plan.app_id,
                epoch_ms(self.now),
                [
                    (
                        p.endpoint_key,
                        f"{self.source(p)}/_journey.send",
                        outcomes.journey_send(
                            self.documents[p.endpoint_key].get("ChannelType") or "CUSTOM",
                            self.context,
                            "SUCCESS",
                        ),
                    )
                    for p in ready
                ],
            )


def _sending_key(kind: str) -> str:
    """The OpenHours/ClosedDays member a message activity keeps to."""
    return kind if kind in ("EMAIL", "SMS", "PUSH") else "CUSTOM"


def _zone(name: str | None, plan: Plan) -> Any:
    return endpoint_zone(name) or plan.zone


def _message_configuration(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """An activity's MessageConfig in the shape SendMessages reads."""
    if kind == "EMAIL" and config.get("FromAddress"):
        return {"EmailMessage": {"FromAddress": config["FromAddress"]}}
    if kind == "SMS" and config:
        return {"SMSMessage": dict(config)}
    return {}
