"""In-app messages: which in-app campaigns an endpoint is entitled to now, as GetInAppMessages
answers them.

An in-app campaign sends nothing. The app fetches the messages its endpoint is entitled to and
shows one when the user does what the campaign's event filter names; the SDK keeps the caps,
the end date and the quiet time on the device. What Pinpoint documents, and what Clarion chose
where it is silent:

* Which campaigns (Developer Guide, "Retrieving in-app messages": "all of the in-app messages
  that a given endpoint is entitled to"): live campaigns (not paused, completed or deleted)
  whose segment holds the endpoint, at the segment version the campaign pinned. "In order to
  receive in-app messages, the endpoints that your campaign targets must have an endpoint type
  of IN_APP" (User Guide, "In-app messaging channel"), so other endpoints are entitled to none;
  nor is an INACTIVE endpoint ("INACTIVE, messages aren't sent to the endpoint"). ``OptOut`` is
  not consulted: Pinpoint sets it to ALL on every endpoint created without an Address, which is
  how the Amplify SDK registers IN_APP endpoints, and those receive in-app messages.
* When (User Guide, "Scheduling an in-app campaign"): "Amazon Pinpoint sends the campaign only
  if the event … occurs after the start date" and "before the end date". The response carries
  only ``EndDate``, so a campaign is served from its start until its end; a client that cached
  it checks the end itself.
* Treatments: the endpoint's share of the campaign is drawn as for every campaign
  (``clarion.campaigns.treatments.assign``); a held-out endpoint gets nothing, any other the
  treatment it is in, with that treatment's message and schedule, ``TreatmentId`` "0" for the
  default one and "1", "2", … for ``AdditionalTreatments``.
* Content: ``MessageConfiguration.InAppMessage`` and ``TemplateConfiguration.InAppTemplate`` (the
  version named, else the active one, read when the messages are fetched). Each of Content,
  CustomConfig and Layout comes from the campaign's message where it sets one, else from the
  template, as message content overrides a template's on every other channel. In-app messages
  "don't support the use of substitution variables", so they are not rendered.
* Caps (User Guide, the campaign's in-app settings: per session, per day, in total, "0
  displaying … an unlimited number"): ``SessionCap``, ``DailyCap`` and ``TotalCap`` are the
  campaign's ``Limits`` Session, Daily and Total, each taken from the application's ``Limits``
  when the campaign sets none (the console's "Override default setting"), and 0 for no limit,
  as in the Developer Guide's example response. The SDK counts displays against them.
* ``Priority`` is the campaign's, 1 highest; the SDK shows the highest-priority message among
  those an event qualifies. The list comes highest priority first, campaigns without one last,
  otherwise in creation order.
* ``Schedule``: ``EndDate`` as an ISO 8601 UTC instant in whole seconds (the example's form),
  the ``EventFilter`` as written with empty ``Attributes`` and ``Metrics`` where it names none
  (as in the example), and the quiet time in force (the campaign's, else the application's).

A campaign that can no longer be served — its segment or template deleted — is left out and
logged; the endpoint still gets the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clarion.campaigns.engine import Treatment, treatments
from clarion.campaigns.limits import effective_limits
from clarion.campaigns.quiet import effective_quiet_time
from clarion.campaigns.schedule import Schedule
from clarion.campaigns.treatments import assign, treatment_sizes
from clarion.clock import Clock
from clarion.endpoints.rules import endpoint_id_key
from clarion.errors import ClarionError, NotFound
from clarion.segments.service import Segments
from clarion.store.inapp import InAppRepository
from clarion.store.runs import LiveCampaign
from clarion.templates.service import Templates

log = logging.getLogger("clarion.campaigns")

IN_APP_EVENT = "IN_APP_EVENT"
IN_APP_CHANNEL = "IN_APP"
MESSAGE_MEMBERS = ("Content", "CustomConfig", "Layout")
END_DATE = "%Y-%m-%dT%H:%M:%SZ"


def reachable(document: Mapping[str, Any]) -> bool:
    """Whether an endpoint takes in-app messages at all: an active IN_APP endpoint."""
    return (
        document.get("ChannelType") == IN_APP_CHANNEL
        and document.get("EndpointStatus") != "INACTIVE"
    )


def showing(schedule: Schedule, now: datetime) -> bool:
    """Whether a treatment with this schedule serves an in-app message at ``now``."""
    return (
        schedule.frequency == IN_APP_EVENT
        and (schedule.start is None or schedule.start <= now)
        and (schedule.end is None or now < schedule.end)
    )


def in_app_message(
    configured: Mapping[str, Any] | None, template: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The InAppMessage to render: each member from the campaign's message where it sets one,
    else from the template's fields."""
    configured, template = configured or {}, template or {}
    message: dict[str, Any] = {}
    for member in MESSAGE_MEMBERS:
        value = configured.get(member) or template.get(member)
        if value:
            message[member] = value
    return message


def event_filter(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's EventFilter as Pinpoint answers it: Attributes and Metrics always there."""
    dimensions = stored.get("Dimensions") or {}
    return {
        **stored,
        "Dimensions": {
            **dimensions,
            "Attributes": dimensions.get("Attributes") or {},
            "Metrics": dimensions.get("Metrics") or {},
        },
    }


def campaign_item(
    campaign_id: str,
    treatment: Treatment,
    message: Mapping[str, Any],
    app_settings: Mapping[str, Any],
) -> dict[str, Any]:
    """One InAppMessageCampaign: ``treatment`` of the campaign with ``message`` as its content,
    under the application's default limits and quiet time."""
    definition = treatment.definition
    limits = effective_limits(app_settings.get("Limits"), definition.get("Limits"))
    written = definition["Schedule"]
    schedule: dict[str, Any] = {"EventFilter": event_filter(written["EventFilter"])}
    if treatment.schedule.end is not None:
        schedule["EndDate"] = treatment.schedule.end.astimezone(UTC).strftime(END_DATE)
    quiet = effective_quiet_time(app_settings, written)
    if quiet is not None:
        schedule["QuietTime"] = {"Start": quiet[0], "End": quiet[1]}
    item: dict[str, Any] = {
        "CampaignId": campaign_id,
        "TreatmentId": str(treatment.index),
        "InAppMessage": dict(message),
        "Schedule": schedule,
        "DailyCap": limits.daily or 0,
        "SessionCap": limits.session or 0,
        "TotalCap": limits.total or 0,
    }
    if definition.get("Priority") is not None:
        item["Priority"] = definition["Priority"]
    return item


def by_priority(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Priority 1 first, items without a priority last, otherwise in the order given."""
    return sorted(
        (dict(item) for item in items),
        key=lambda item: (item.get("Priority") is None, item.get("Priority") or 0),
    )


@dataclass(frozen=True)
class _Candidate:
    campaign: LiveCampaign
    showing: Mapping[int, Treatment]
    """The campaign's treatments serving now, by index."""


class InAppMessages:
    def __init__(
        self,
        repo: InAppRepository,
        live: Callable[[str], Sequence[LiveCampaign]],
        segments: Segments,
        templates: Templates,
        app_settings: Callable[[str], Mapping[str, Any]],
        clock: Clock,
    ) -> None:
        self.repo = repo
        self.live = live
        self.segments = segments
        self.templates = templates
        self.app_settings = app_settings
        self.clock = clock

    def for_endpoint(self, app_id: str, endpoint_id: str) -> list[dict[str, Any]]:
        """The InAppMessageCampaigns of ``endpoint_id``, highest priority first; NotFound for an
        endpoint the app does not have."""
        now = self.clock()
        candidates = [found for c in self.live(app_id) if (found := _candidate(c, now)) is not None]
        document, members = self._endpoint(app_id, endpoint_id, candidates)
        if not reachable(document):
            return []
        settings = self.app_settings(app_id)
        drawn_id = document.get("Id", endpoint_id_key(endpoint_id))
        items = []
        for candidate in members:
            try:
                item = self._item(candidate, drawn_id, settings)
            except ClarionError as error:
                log.warning(
                    "in-app campaign %s cannot be served: %s", candidate.campaign.id, error.message
                )
                continue
            if item is not None:
                items.append(item)
        return by_priority(items)

    def _endpoint(
        self, app_id: str, endpoint_id: str, candidates: Sequence[_Candidate]
    ) -> tuple[dict[str, Any], list[_Candidate]]:
        """The endpoint's document and the candidates whose segment holds it, in one query."""
        segmented = []
        for candidate in candidates:
            campaign = candidate.campaign
            definition = campaign.definition
            try:
                condition = self.segments.condition(
                    app_id, definition["SegmentId"], definition.get("SegmentVersion")
                )
            except ClarionError as error:
                log.warning("in-app campaign %s cannot be served: %s", campaign.id, error.message)
                continue
            segmented.append((candidate, condition))
        found = self.repo.segmented_endpoint(
            app_id, endpoint_id_key(endpoint_id), [condition for _, condition in segmented]
        )
        if found is None:
            raise NotFound(f"Endpoint not found: {endpoint_id}")
        members = [
            candidate
            for (candidate, _), within in zip(segmented, found.within, strict=True)
            if within
        ]
        return found.document, members

    def _item(
        self, candidate: _Candidate, drawn_id: str, settings: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The endpoint's item of a campaign whose segment holds it; None when it is held out,
        its treatment is not serving now, or there is nothing to show."""
        campaign = candidate.campaign
        definition = campaign.definition
        holdout = definition.get("HoldoutPercent") or 0
        sizes = treatment_sizes(
            holdout, [t.get("SizePercent", 0) for t in definition.get("AdditionalTreatments") or []]
        )
        share = assign(drawn_id, campaign.id, holdout, sizes)
        if share.treatment is None or share.treatment not in candidate.showing:
            return None
        treatment = candidate.showing[share.treatment]
        message = in_app_message(
            (treatment.definition.get("MessageConfiguration") or {}).get("InAppMessage"),
            self._template(treatment.definition),
        )
        if not message.get("Content"):
            return None
        return campaign_item(campaign.id, treatment, message, settings)

    def _template(self, definition: Mapping[str, Any]) -> Mapping[str, Any] | None:
        named = (definition.get("TemplateConfiguration") or {}).get("InAppTemplate")
        if not named:
            return None
        return self.templates.for_sending(named["Name"], "INAPP", named.get("Version")).fields


def _candidate(campaign: LiveCampaign, now: datetime) -> _Candidate | None:
    """The campaign with its treatments serving in-app messages now; None if none does."""
    try:
        every = treatments(campaign.definition)
    except ClarionError as error:
        log.warning("in-app campaign %s cannot be served: %s", campaign.id, error.message)
        return None
    serving = {t.index: t for t in every if showing(t.schedule, now)}
    return _Candidate(campaign, serving) if serving else None
