"""The campaign engine: plans each campaign's runs on time and works through them.

One loop, every node: ``plan`` turns schedules into PENDING runs (one per treatment and
moment, stored once however many nodes plan), ``work`` claims due runs by lease and runs
them. A run walks the segment's members in storage order, ``BATCH`` at a time: each endpoint
is assigned its treatment (or the holdout) by a stable hash, checked against the eligibility
rules (opt-out, quiet time, limits), and handed to the sending loop, whose ledger keys the
message by (run, endpoint) so a run resumed after a crash never makes a message twice. The
run's position commits after each batch. A local-time run goes in waves: each pass sends to
the endpoints whose own time zone has reached the run's wall-clock time, and the run sleeps
(its lease) until the next wave.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from clarion.campaigns import limits as campaign_limits
from clarion.campaigns.eligibility import Eligibility, Skip
from clarion.campaigns.messages import direct_configuration, targets
from clarion.campaigns.quiet import effective_quiet_time
from clarion.campaigns.schedule import (
    START_TIME_SLACK,
    Schedule,
    endpoint_zone,
    local_send_time,
    parse_schedule,
    run_times,
)
from clarion.campaigns.service import Campaigns
from clarion.campaigns.treatments import treatment_sizes
from clarion.clock import Clock, epoch_ms, iso
from clarion.errors import ClarionError, NotFound
from clarion.events.service import Accepted
from clarion.messaging import outcomes
from clarion.messaging.compose import Recipient
from clarion.messaging.service import Messages, record_events
from clarion.outbound import OutboundPolicy
from clarion.segments.service import Segments
from clarion.store.database import Database
from clarion.store.deliveries import HOLDOUT, DeliveryRepository
from clarion.store.endpoints import EndpointRepository, StoredEndpoint, members_among
from clarion.store.runs import LIVE, LiveCampaign, Run, RunRepository

log = logging.getLogger("clarion.campaigns")

BATCH = 1000
LEASE_MS = 30_000
LOCAL_LEAD = timedelta(hours=14)
"""How far ahead of UTC the first time zone (UTC+14) reaches a local-time run's wall clock."""
HOOK_TIMEOUT_S = 10.0
HOOK_RETRY_MS = 5_000
TREATMENT_MEMBERS = ("MessageConfiguration", "TemplateConfiguration", "CustomDeliveryConfiguration")


@dataclass(frozen=True)
class Treatment:
    """One treatment of a campaign version as a run sends it."""

    index: int
    definition: Mapping[str, Any]
    """The campaign's members with the treatment's own in their place."""
    schedule: Schedule


def treatments(definition: Mapping[str, Any]) -> list[Treatment]:
    """The default treatment (0) and each AdditionalTreatments[i] (i + 1)."""
    found = [Treatment(0, definition, parse_schedule(definition["Schedule"]))]
    for index, extra in enumerate(definition.get("AdditionalTreatments") or [], start=1):
        merged = {**definition, **{k: extra[k] for k in TREATMENT_MEMBERS if k in extra}}
        if extra.get("Schedule"):
            merged["Schedule"] = extra["Schedule"]
        found.append(Treatment(index, merged, parse_schedule(merged["Schedule"])))
    return found


class CampaignEngine:
    def __init__(
        self,
        db: Database,
        runs: RunRepository,
        members: EndpointRepository,
        campaigns: Campaigns,
        segments: Segments,
        messages: Messages,
        ledger: DeliveryRepository,
        app_settings: Callable[[str], Mapping[str, Any]],
        clock: Clock,
        wake: Callable[[], None],
        policy: OutboundPolicy,
    ) -> None:
        self.db = db
        self.http = policy.http_client(timeout=HOOK_TIMEOUT_S)
        """Hooks and custom delivery: addresses users named, so under the outbound policy."""
        self.runs = runs
        self.members = members
        """Segment members in ordinal order, the walk of every run."""
        self.campaigns = campaigns
        self.segments = segments
        self.messages = messages
        self.ledger = ledger
        self.app_settings = app_settings
        self.clock = clock
        self.wake = wake
        """Tells the sender that triggered messages have committed."""
        self.stopping = threading.Event()

    # --- planning -----------------------------------------------------------------------

    def plan(self) -> int:
        """Store the runs that have come due; move campaigns whose runs are all done on."""
        now = self.clock()
        planned = 0
        for campaign in self.runs.live():
            try:
                planned += self._plan_campaign(campaign, now)
            except (ClarionError, ValueError) as error:
                log.warning("campaign %s cannot be planned: %s", campaign.id, error)
                self.campaigns.set_state(campaign.app_id, campaign.id, "INVALID")
        return planned

    def _plan_campaign(self, campaign: LiveCampaign, now: datetime) -> int:
        created = datetime.fromisoformat(campaign.creation_date.replace("Z", "+00:00"))
        rows = []
        future = False
        for treatment in treatments(campaign.definition):
            schedule = treatment.schedule
            if schedule.triggered:
                future = schedule.end is None or schedule.end > now
                continue
            last = self.runs.last_scheduled(campaign.app_id, campaign.id, str(treatment.index))
            after = (
                datetime.fromtimestamp(last / 1000, UTC)
                if last is not None
                else created - START_TIME_SLACK - timedelta(milliseconds=1)
            )
            lead = LOCAL_LEAD if schedule.is_local_time else timedelta(0)
            due = list(run_times(schedule, after=after, until=now + lead, created=created))
            # A campaign that was paused, or a cluster that was down, does not flood: of the
            # runs it missed only the latest is sent.
            for moment in due[-1:]:
                rows.append(self._run_row(campaign, treatment, moment, moment - lead))
            upcoming = next(
                run_times(
                    schedule, after=now + lead, until=now + timedelta(days=3660), created=created
                ),
                None,
            )
            future = future or upcoming is not None
        self.runs.add(rows)
        if not future and not rows and not self.runs.open_runs(campaign.app_id, campaign.id):
            self.campaigns.set_state(campaign.app_id, campaign.id, "COMPLETED", only_from=LIVE)
        return len(rows)

    def _run_row(
        self, campaign: LiveCampaign, treatment: Treatment, moment: datetime, due: datetime
    ) -> dict[str, Any]:
        return {
            "app_id": campaign.app_id,
            "campaign_id": campaign.id,
            "id": uuid.uuid4().hex,
            "treatment_id": str(treatment.index),
            "campaign_version": campaign.version,
            "scheduled_ms": epoch_ms(moment),
            "due_ms": epoch_ms(due),
        }

    # --- working ------------------------------------------------------------------------

    def work(self) -> int:
        """Claim and advance every due run; how many were worked on."""
        worked = 0
        for run in self.runs.due(epoch_ms(self.clock())):
            if self.stopping.is_set():
                break
            now_ms = epoch_ms(self.clock())
            if not self.runs.claim(run, now_ms, now_ms + LEASE_MS):
                continue
            try:
                self.execute(run)
            except Exception:
                log.exception("campaign run %s stopped on an unexpected error", run.id)
                self.runs.update(None, run, lease_until_ms=0)
            worked += 1
        return worked

    def execute(self, run: Run) -> None:
        """Advance one run as far as it can go now."""
        try:
            found = self.campaigns.definition(run.app_id, run.campaign_id, run.campaign_version)
        except NotFound:
            self.runs.update(None, run, state="CANCELLED", end=iso(self.clock()))
            return
        if found.state in ("DELETED", "INVALID"):
            self.runs.update(None, run, state="CANCELLED", end=iso(self.clock()))
            return
        if found.state == "PAUSED":
            self.runs.update(None, run, lease_until_ms=epoch_ms(self.clock()) + 1000)
            return
        definition = found.definition
        treatment = treatments(definition)[int(run.treatment_id)]
        if run.state == "PENDING":
            self.runs.update(None, run, state="EXECUTING", start=iso(self.clock()))
        # Also for a run resumed mid-way: resuming made its campaign SCHEDULED again.
        self.campaigns.set_state(run.app_id, run.campaign_id, "EXECUTING", only_from=LIVE)
        _Pass(self, run, definition, treatment).go()

    def state(self, run: Run) -> str | None:
        """The run's campaign's state now (None once it is gone)."""
        try:
            return self.campaigns.definition(run.app_id, run.campaign_id).state
        except NotFound:
            return None

    def finished(self, run: Run) -> None:
        """A run is done: the campaign waits for its next run, or is complete."""
        if self.runs.open_runs(run.app_id, run.campaign_id):
            return
        self.campaigns.set_state(run.app_id, run.campaign_id, "PENDING_NEXT_RUN", only_from=LIVE)
        campaign = next((c for c in self.runs.live(run.app_id) if c.id == run.campaign_id), None)
        if campaign is not None:
            self._plan_campaign(campaign, self.clock())

    def sent_counts(
        self,
        conn: Any,
        app_id: str,
        campaign_id: str,
        limits: campaign_limits.Limits,
        keys: Sequence[str],
    ) -> tuple[dict[str, int], dict[str, int]]:
        """What the Daily and Total limits count for these endpoints: their messages of the
        last DAILY_WINDOW (the app's campaigns' or this one's), and this campaign's in all."""
        if limits.daily is None and limits.total is None:
            return {}, {}
        window_ms = int(campaign_limits.DAILY_WINDOW.total_seconds() * 1000)
        daily = self.ledger.counts(
            conn,
            app_id,
            keys,
            since_ms=epoch_ms(self.clock()) - window_ms,
            campaign_id=None if limits.daily_across_campaigns else campaign_id,
        )
        return daily, self.ledger.counts(conn, app_id, keys, campaign_id=campaign_id)

    # --- event triggers -----------------------------------------------------------------

    def queue(self, conn: Any, app_id: str, accepted: Sequence[Accepted]) -> int:
        """Messages of the app's live event-triggered campaigns for these stored events, queued
        in the events' own transaction: a message per campaign, matching event and endpoint in
        the campaign's segment (the ledger's source key makes it once per event)."""
        if not accepted:
            return 0
        live = [c for c in self.runs.live(app_id) if _triggered(c)]
        queued = 0
        for campaign in live:
            queued += self._trigger(conn, campaign, accepted)
        return queued

    def _trigger(self, conn: Any, campaign: LiveCampaign, accepted: Sequence[Accepted]) -> int:
        definition = campaign.definition
        every = treatments(definition)
        schedule = every[0].schedule
        now = self.clock()
        if (schedule.start and now < schedule.start) or (schedule.end and now >= schedule.end):
            return 0
        matcher = schedule.event_filter
        hits = [
            a
            for a in accepted
            if matcher is not None
            and (matcher.filter_type != "SYSTEM" or a.event["EventType"].startswith("_"))
            and matcher.matches(a.event)
        ]
        if not hits:
            return 0
        members = members_among(
            conn,
            campaign.app_id,
            self.segments.condition(
                campaign.app_id, definition["SegmentId"], definition.get("SegmentVersion")
            ),
            {a.endpoint_key for a in hits},
        )
        sizes = treatment_sizes(
            definition.get("HoldoutPercent"),
            [t.get("SizePercent", 0) for t in definition.get("AdditionalTreatments") or []],
        )
        app = self.app_settings(campaign.app_id)
        quiet = effective_quiet_time(app, definition.get("Schedule"))
        limits = campaign_limits.effective_limits(app.get("Limits"), definition.get("Limits"))
        daily, total = self.sent_counts(conn, campaign.app_id, campaign.id, limits, list(members))
        known = (
            self.ledger.known_sources(
                conn, [f"{campaign.id}/{a.endpoint_key}/{a.event_id}" for a in hits]
            )
            if limits.daily is not None or limits.total is not None
            else set()
        )
        eligibility = Eligibility(
            campaign.id,
            definition.get("HoldoutPercent") or 0,
            sizes,
            quiet,
            limits,
            lambda index, channel: targets(
                channel,
                every[index].definition.get("MessageConfiguration") or {},
                every[index].definition.get("TemplateConfiguration") or {},
            ),
        )
        by_treatment: dict[int, list[tuple[Recipient, str, str]]] = {}
        for hit in hits:
            key, source = hit.endpoint_key, f"{campaign.id}/{hit.endpoint_key}/{hit.event_id}"
            document = members.get(hit.endpoint_key)
            if document is None or source in known:
                continue
            decided = eligibility.decide(
                document, key, now, sent_in_window=daily.get(key, 0), sent_total=total.get(key, 0)
            )
            if decided.skip is not None or decided.treatment is None:
                continue
            daily[key], total[key] = daily.get(key, 0) + 1, total.get(key, 0) + 1
            recipient = Recipient(
                document.get("Address") or "",
                document.get("ChannelType") or "",
                {**document, "Id": document.get("Id", hit.endpoint_key)},
                {},
            )
            by_treatment.setdefault(decided.treatment, []).append((recipient, key, source))
        queued = 0
        for index, items in by_treatment.items():
            treatment = every[index].definition
            configuration = direct_configuration(treatment.get("MessageConfiguration") or {})
            templates = treatment.get("TemplateConfiguration") or {}
            queued += self.messages.queue_campaign(
                conn,
                campaign.app_id,
                campaign.id,
                items,
                {"MessageConfiguration": configuration, "TemplateConfiguration": templates},
                {
                    "campaign_id": campaign.id,
                    "treatment_id": str(index),
                    "campaign_activity_id": f"{campaign.id}-events",
                },
            )
        return queued

    def step(self) -> int:
        """One round of the engine's loop: plan what came due, work on due runs."""
        return self.plan() + self.work()


class HookUnavailable(Exception):
    """A campaign's web hook did not answer; the batch waits and is tried again."""


class _Pass:
    """One pass of a run over its segment, from where the last one stopped."""

    def __init__(
        self, engine: CampaignEngine, run: Run, definition: Mapping[str, Any], treatment: Treatment
    ) -> None:
        self.engine = engine
        self.run = run
        self.definition = definition
        self.treatment = treatment
        self.schedule = treatment.schedule
        self.message_configuration = treatment.definition.get("MessageConfiguration") or {}
        self.config = direct_configuration(self.message_configuration)
        self.custom = treatment.definition.get("CustomDeliveryConfiguration")
        self.custom_types = frozenset(
            (self.custom.get("EndpointTypes") or ["CUSTOM"]) if self.custom else ()
        )
        self.hook = definition.get("Hook") or {}
        self.templates = treatment.definition.get("TemplateConfiguration") or {}
        app = engine.app_settings(run.app_id)
        self.limits = campaign_limits.effective_limits(app.get("Limits"), definition.get("Limits"))
        self.quiet = effective_quiet_time(app, definition.get("Schedule"))
        self.eligibility = Eligibility(
            run.campaign_id,
            definition.get("HoldoutPercent") or 0,
            treatment_sizes(
                definition.get("HoldoutPercent"),
                [t.get("SizePercent", 0) for t in definition.get("AdditionalTreatments") or []],
            ),
            self.quiet,
            self.limits,
            lambda _, channel: (
                channel in self.custom_types
                or targets(channel, self.message_configuration, self.templates)
            ),
        )
        self.scheduled = datetime.fromtimestamp(run.scheduled_ms / 1000, UTC)
        self.deadline = campaign_limits.delivery_deadline(self.limits, self.scheduled)
        self.context = {
            "campaign_id": run.campaign_id,
            "treatment_id": run.treatment_id,
            "campaign_activity_id": run.id,
        }
        self.metrics = dict(run.metrics)
        self.position = dict(run.position)
        self.zones: set[str] = set(self.position.get("zones", []))
        """The time zones (``zone_of``) of the endpoints the run targets: TimezonesTotalCount."""
        self.zones_waiting: set[str] = set(self.position.get("zones_waiting", []))
        """Zones with an endpoint whose wave has not come yet, in this pass of a local-time run."""
        self.zones_completed: int = self.position.get("zones_completed", 0)
        """TimezonesCompletedCount: set when a pass ends, so a zone counts once all its
        endpoints were handed to the sending loop."""
        self.started = time.monotonic()
        self.sent = 0

    def go(self) -> None:
        engine, run = self.engine, self.run
        where = engine.segments.condition(
            run.app_id, self.definition["SegmentId"], self.definition.get("SegmentVersion")
        )
        after = self.position.get("after", -1)
        next_wave: int | None = self.position.get("next_wave")
        while not engine.stopping.is_set():
            if engine.state(run) == "PAUSED":
                self._save(after=after, lease_until_ms=epoch_ms(engine.clock()) + 1000)
                return
            if self._expired():
                self._finish("EXPIRED")
                return
            batch = engine.members.members_after(run.app_id, where, after, BATCH)
            if not batch:
                break
            try:
                wave = self._send(batch)
            except HookUnavailable as error:
                log.warning("campaign run %s waits for its web hook: %s", run.id, error)
                self._save(after=after, lease_until_ms=epoch_ms(engine.clock()) + HOOK_RETRY_MS)
                return
            if wave is not None:
                next_wave = wave if next_wave is None else min(next_wave, wave)
            after = batch[-1][0]
            self._save(after=after, next_wave=next_wave)
        else:
            self._save(after=after, next_wave=next_wave, lease_until_ms=0)
            return
        if next_wave is not None:
            # A local-time run: come back when the next time zone reaches the run's time.
            self.zones_completed = len(self.zones - self.zones_waiting)
            self.zones_waiting = set()
            self.position = {"after": -1}
            self._save(after=-1, next_wave=None, lease_until_ms=next_wave)
            return
        self._finish("SUCCESS")

    def _send(self, batch: Sequence[tuple[int, StoredEndpoint]]) -> int | None:
        """Send to the batch's endpoints that are this run's; the earliest later wave (ms) of
        a local-time run, if some endpoints' time has not come yet."""
        engine, run = self.engine, self.run
        now = engine.clock()
        later: int | None = None
        skipped: list[tuple[str, str, str]] = []
        reached: list[StoredEndpoint] = []
        for _, stored in batch:
            document = stored.document
            channel = document.get("ChannelType") or ""
            skip = self.eligibility.reach(document, stored.key, int(run.treatment_id)).skip
            if skip is Skip.HOLDOUT and run.treatment_id == "0":
                skipped.append((stored.key, channel, skip.value))
            if skip is not None:
                continue
            timezone = (document.get("Demographic") or {}).get("Timezone")
            zone = zone_of(timezone)
            self.zones.add(zone)
            if self.schedule.is_local_time:
                due = local_send_time(
                    self.schedule.wall_clock(self.scheduled), timezone, self.schedule.zone
                )
                if due > now:
                    self.zones_waiting.add(zone)
                    due_ms = epoch_ms(due)
                    later = due_ms if later is None else min(later, due_ms)
                    continue
                deadline = campaign_limits.delivery_deadline(self.limits, due)
                if deadline is not None and now > deadline:
                    continue
            reached.append(stored)
        chosen = self._may_go_now(reached, now, skipped)
        if chosen and self.hook.get("WebUrl"):
            chosen = self._hooked(chosen)
        for part in self._paced(chosen):
            self._deliver(part)
        if skipped:
            self._record_skips(skipped)
        return later

    def _deliver(self, chosen: list[StoredEndpoint]) -> None:
        engine, run = self.engine, self.run
        custom = [s for s in chosen if s.document.get("ChannelType") in self.custom_types]
        if custom:
            self._deliver_custom(custom)
        chosen = [s for s in chosen if s.document.get("ChannelType") not in self.custom_types]
        if chosen:
            items = [
                (
                    Recipient(
                        s.document.get("Address") or "",
                        s.document.get("ChannelType") or "",
                        {**s.document, "Id": s.document.get("Id", s.key)},
                        {},
                    ),
                    s.key,
                    f"{run.id}/{s.key}",
                )
                for s in chosen
            ]
            statuses = engine.messages.deliver_campaign(
                run.app_id,
                run.campaign_id,
                items,
                {"MessageConfiguration": self.config, "TemplateConfiguration": self.templates},
                self.context,
            )
            self.sent += len(chosen)
            self._count("TotalEndpointCount", sum(1 for s in statuses if s is not None))
            self._count("SuccessfulEndpointCount", statuses.count(outcomes.SUCCESSFUL))

    def _hooked(self, chosen: list[StoredEndpoint]) -> list[StoredEndpoint]:
        """The campaign hook (Mode FILTER, Pinpoint's default): the web URL gets the batch and
        answers the endpoints to send to, as they should be personalised; DELIVERY: the web URL
        does the sending itself and the batch counts as sent."""
        batch = {s.document.get("Id", s.key): s.document for s in chosen}
        answer = self._post(self.hook["WebUrl"], hook_payload(self.run, self.scheduled, batch))
        if self.hook.get("Mode") == "DELIVERY":
            self._count("TotalEndpointCount", len(chosen))
            self._count("SuccessfulEndpointCount", len(chosen))
            return []
        kept = answer if isinstance(answer, dict) else {}
        keys = {s.document.get("Id", s.key): s for s in chosen}
        return [
            StoredEndpoint(keys[i].key, keys[i].creation_date, {**keys[i].document, **doc, "Id": i})
            for i, doc in kept.items()
            if i in keys and isinstance(doc, dict)
        ]

    def _deliver_custom(self, custom: list[StoredEndpoint]) -> None:
        """CustomDeliveryConfiguration: the batch goes to the DeliveryUri web hook with the
        CustomMessage data, instead of through a channel."""
        assert self.custom is not None
        payload = hook_payload(
            self.run, self.scheduled, {s.document.get("Id", s.key): s.document for s in custom}
        )
        payload["Data"] = (self.message_configuration.get("CustomMessage") or {}).get("Data")
        self._post(self.custom["DeliveryUri"], payload)
        self.sent += len(custom)
        self._count("TotalEndpointCount", len(custom))
        self._count("SuccessfulEndpointCount", len(custom))
        with self.engine.db.write() as conn:
            record_events(
                self.engine.messages.events,
                conn,
                self.run.app_id,
                epoch_ms(self.engine.clock()),
                [
                    (
                        s.key,
                        f"{self.run.id}/{s.key}/_campaign.send",
                        outcomes.campaign_send(
                            s.document.get("ChannelType") or "CUSTOM", self.context, "SUCCESS"
                        ),
                    )
                    for s in custom
                ],
            )

    def _post(self, url: str, payload: Mapping[str, Any]) -> Any:
        """A web hook call; HookUnavailable (the batch is tried again later) unless it
        answers 2xx."""
        try:
            response = self.engine.http.post(url, json=payload)
        except httpx.HTTPError as error:
            raise HookUnavailable(f"{url}: {error}") from None
        if not 200 <= response.status_code < 300:
            raise HookUnavailable(f"{url} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            return None

    def _may_go_now(
        self, reached: list[StoredEndpoint], now: datetime, skipped: list[tuple[str, str, str]]
    ) -> list[StoredEndpoint]:
        """Those of ``reached`` outside their quiet time and within the limits; the others are
        recorded in ``skipped``."""
        limits, engine, run = self.limits, self.engine, self.run
        daily: Mapping[str, int] = {}
        total: Mapping[str, int] = {}
        if reached and (limits.daily is not None or limits.total is not None):
            with engine.db.read() as conn:
                daily, total = engine.sent_counts(
                    conn, run.app_id, run.campaign_id, limits, [s.key for s in reached]
                )
        chosen = []
        for stored in reached:
            skip = self.eligibility.now(
                stored.document,
                now,
                sent_in_window=daily.get(stored.key, 0),
                sent_total=total.get(stored.key, 0),
            )
            if skip is None:
                chosen.append(stored)
            else:
                skipped.append((stored.key, stored.document.get("ChannelType") or "", skip.value))
        return chosen

    def _paced(self, chosen: list[StoredEndpoint]) -> Iterator[list[StoredEndpoint]]:
        """Keep to MessagesPerSecond: the batch in parts, each when ``send_budget`` allows it,
        so the rate holds within a batch too. Once the engine stops, the rest goes at once: the
        run's position moves past the whole batch."""
        rate = self.limits.messages_per_second
        while chosen:
            budget = campaign_limits.send_budget(
                self.limits, elapsed_seconds=time.monotonic() - self.started, sent=self.sent
            )
            if budget is None or self.engine.stopping.is_set():
                budget = len(chosen)
            if budget == 0 and rate is not None:
                self.engine.stopping.wait(1 / rate)
                continue
            yield chosen[:budget]
            chosen = chosen[budget:]

    def _expired(self) -> bool:
        """Past MaximumDuration after the run's start (a local-time run's endpoints each have
        their own deadline, see ``_send``), or past the schedule's end."""
        now = self.engine.clock()
        if self.deadline is not None and now > self.deadline and not self.schedule.is_local_time:
            return True
        return (
            self.schedule.end is not None
            and now >= self.schedule.end
            and not self.schedule.is_local_time
        )

    def _record_skips(self, skipped: Sequence[tuple[str, str, str]]) -> None:
        """Endpoints the run left out count in the run's ExecutionMetrics (HoldoutCount,
        QuietTimeCount, DailyCapCount); held-out ones are also kept in the ledger, one row
        each, so who was held out of which run can be told later. None of them is a send, so
        none becomes a _campaign.send event that the delivery metrics would count."""
        engine, run = self.engine, self.run
        for _, _, why in skipped:
            self._count(why.title().replace("_", "") + "Count", 1)
        held = [(key, channel) for key, channel, why in skipped if why == "HOLDOUT"]
        if not held:
            return
        now = epoch_ms(engine.clock())
        with engine.db.write() as conn:
            known = engine.ledger.known_sources(conn, [f"{run.id}/{key}" for key, _ in held])
            engine.ledger.add(
                conn,
                [
                    {
                        "app_id": run.app_id,
                        "message_id": f"{uuid.uuid4().hex}@holdout",
                        "source_key": f"{run.id}/{key}",
                        "channel": channel,
                        "address": "",
                        "endpoint_key": key,
                        "campaign_id": run.campaign_id,
                        "message": {"context": self.context},
                        "status": HOLDOUT,
                        "attempts": 0,
                        "status_code": 0,
                        "detail": "held out",
                        "created_ms": now,
                        "next_attempt_ms": 0,
                        "lease_until_ms": 0,
                    }
                    for key, channel in held
                    if f"{run.id}/{key}" not in known
                ],
            )

    def _count(self, name: str, amount: int) -> None:
        self.metrics[name] = int(self.metrics.get(name, 0)) + amount

    def _save(self, **position: Any) -> None:
        lease = position.pop("lease_until_ms", epoch_ms(self.engine.clock()) + LEASE_MS)
        self.position.update(position)
        self.engine.runs.update(None, self.run, **self._progress(), lease_until_ms=lease)

    def _finish(self, result: str) -> None:
        if result == "SUCCESS":
            self.zones_completed = len(self.zones)
        self.engine.runs.update(
            None,
            self.run,
            **self._progress(),
            state="COMPLETED",
            result=result,
            end=iso(self.engine.clock()),
            lease_until_ms=0,
        )
        self.engine.finished(self.run)

    def _progress(self) -> dict[str, Any]:
        self.position |= {
            "zones": sorted(self.zones),
            "zones_waiting": sorted(self.zones_waiting),
            "zones_completed": self.zones_completed,
        }
        return {
            "position": self.position,
            "metrics": self.metrics,
            "total_endpoint_count": int(self.metrics.get("TotalEndpointCount", 0)),
            "successful_endpoint_count": int(self.metrics.get("SuccessfulEndpointCount", 0)),
            "timezones_total_count": len(self.zones),
            "timezones_completed_count": self.zones_completed,
        }


def zone_of(timezone: Any) -> str:
    """The time zone an endpoint counts in for TimezonesTotalCount: its Demographic.Timezone
    when the tz database knows it, else UTC. Endpoints without a valid zone thus count as the
    one zone UTC, even in a local-time run that sends to them in the schedule's zone."""
    zone = endpoint_zone(timezone) if isinstance(timezone, str) else None
    return zone.key if zone is not None else "UTC"


def _triggered(campaign: LiveCampaign) -> bool:
    frequency = (campaign.definition.get("Schedule") or {}).get("Frequency")
    return frequency == "EVENT"


def hook_payload(
    run: Run, scheduled: datetime, batch: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """What a CampaignHook or custom delivery web URL receives, as Pinpoint sends it."""
    return {
        "ApplicationId": run.app_id,
        "CampaignId": run.campaign_id,
        "TreatmentId": run.treatment_id,
        "ActivityId": run.id,
        "ScheduledTime": iso(scheduled),
        "Endpoints": dict(batch),
    }
