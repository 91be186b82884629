"""Campaigns: CreateCampaign, UpdateCampaign (each update a new version), the reads,
DeleteCampaign and GetCampaignActivities; and what the scheduler reads and writes.

A campaign's definition — the WriteCampaignRequest members but ``tags`` — is stored per
version, so GetCampaignVersion answers old ones unchanged and a run can name the version it
sent. The campaign's state (SCHEDULED, EXECUTING, PENDING_NEXT_RUN, COMPLETED, PAUSED,
DELETED, INVALID) belongs to the campaign, not to a version: writes here set SCHEDULED or
PAUSED, the scheduler the rest.

The rules, with their sources (botocore ``pinpoint`` 2016-12-01 documentation of
``WriteCampaignRequest`` and the shapes it holds; Amazon Pinpoint User and Developer Guides),
and what Clarion chose where Pinpoint is silent:

* UpdateCampaign: members the request names replace the stored ones and members it leaves out
  carry over, so ``{"IsPaused": true}`` alone pauses a campaign. ``tags`` in an update are
  ignored without an error, as Pinpoint documents since 22-05-2023 (use TagResource).
* ``SegmentId`` is required and names a segment of the app. ``SegmentVersion`` must exist;
  a write that names ``SegmentId`` without ``SegmentVersion`` pins the segment's latest
  version, the one ``CampaignResponse.SegmentVersion`` (a required member) then reports.
* ``Schedule`` is required and checked by ``clarion.campaigns.schedule.parse_schedule``. A
  start or end in the past is refused, except in a schedule the campaign already has (one an
  update sends back unchanged), which was in the future when it was accepted.
* Something to send: a message for at least one channel in ``MessageConfiguration``, or a
  template in ``TemplateConfiguration``; a channel's message without its content (an e-mail
  without HtmlBody or Body, an SMS without Body, … and no DefaultMessage.Body) needs that
  channel's template. Templates named must exist (at the version named). ``CustomMessage``
  needs a ``CustomDeliveryConfiguration`` (its documentation: "This object is required if the
  MessageConfiguration object … specifies a CustomMessage object"). An in-app message is shown
  when the app reports an event, so it goes with ``Schedule.Frequency`` IN_APP_EVENT, and
  IN_APP_EVENT with an in-app message.
* ``AdditionalTreatments``: each its own ``SizePercent`` and optionally its own
  MessageConfiguration, TemplateConfiguration, CustomDeliveryConfiguration and Schedule; each
  member a treatment leaves out is the default treatment's, and the rules above hold for the
  treatment as it sends. They are numbered "1", "2", … in order (the
  default treatment is "0", as in ``campaign_runs.treatment_id``); an update that sends
  ``AdditionalTreatments`` replaces them all and numbers them again. ``HoldoutPercent`` and
  the sizes follow ``clarion.campaigns.treatments.treatment_sizes``.
* ``Limits`` have the bounds ``clarion.apps.settings.validate_limits`` checks for the app's.
* ``Hook``: Clarion runs no AWS Lambda functions, so ``LambdaFunctionName`` is refused and
  ``WebUrl`` (https, or http to a loopback host) is the hook; without ``Mode`` it filters.
  ``CustomDeliveryConfiguration.DeliveryUri`` is likewise an https URL, never a Lambda.
* ``Priority`` is 1 (highest) to 5, the five priorities the Pinpoint console offers for
  in-app campaigns.
* State: a new campaign is SCHEDULED, or PAUSED with ``IsPaused``. An update with IsPaused
  pauses it; without (or with false) a PAUSED or INVALID campaign is SCHEDULED again, and any
  other state the scheduler set stays. A COMPLETED or DELETED campaign has finished and
  refuses updates, as the console offers no edit once a campaign has completed. Treatments
  report the campaign's state; ``DefaultState`` is the default treatment's, the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from clarion import paging
from clarion.apps.settings import validate_limits
from clarion.arns import Arns
from clarion.campaigns.schedule import parse_schedule
from clarion.campaigns.treatments import AllocationError, treatment_sizes
from clarion.clock import Clock, iso
from clarion.errors import BadRequest, NotFound
from clarion.numbers import version_number
from clarion.outbound import OutboundPolicy
from clarion.segments.service import Segments
from clarion.store.campaigns import CampaignRepository, CampaignRun, CampaignVersion
from clarion.tags import Tags, validate_tags

SCHEDULED, EXECUTING, PENDING_NEXT_RUN = "SCHEDULED", "EXECUTING", "PENDING_NEXT_RUN"
COMPLETED, PAUSED, DELETED, INVALID = "COMPLETED", "PAUSED", "DELETED", "INVALID"
STATES = frozenset({SCHEDULED, EXECUTING, PENDING_NEXT_RUN, COMPLETED, PAUSED, DELETED, INVALID})
FINISHED = frozenset({COMPLETED, DELETED})
PRIORITIES = range(1, 6)

REQUEST = "WriteCampaignRequest"
_MEMBERS = (
    "AdditionalTreatments",
    "CustomDeliveryConfiguration",
    "Description",
    "HoldoutPercent",
    "Hook",
    "IsPaused",
    "Limits",
    "MessageConfiguration",
    "Name",
    "Priority",
    "Schedule",
    "SegmentId",
    "SegmentVersion",
    "TemplateConfiguration",
    "TreatmentDescription",
    "TreatmentName",
)
_TEMPLATE_TYPES = {
    "EmailTemplate": "EMAIL",
    "PushTemplate": "PUSH",
    "SMSTemplate": "SMS",
    "VoiceTemplate": "VOICE",
    "InAppTemplate": "INAPP",
}
_PUSH_MESSAGES = ("ADMMessage", "APNSMessage", "BaiduMessage", "GCMMessage", "DefaultMessage")
_PUSH_CONTENT = ("Body", "Title", "RawContent", "JsonBody", "ImageUrl", "MediaUrl", "Url")
_IN_APP_FREQUENCY = "IN_APP_EVENT"
_TREATMENT_MEMBERS = (
    "MessageConfiguration",
    "TemplateConfiguration",
    "CustomDeliveryConfiguration",
    "Schedule",
)

TemplateLookup = Callable[[str, str, str | None], object]
"""(template type, name, version or None for the active one) → the template; NotFound if the
template or that version does not exist."""


class Campaigns:
    def __init__(
        self,
        repo: CampaignRepository,
        segments: Segments,
        tags: Tags,
        arns: Arns,
        template: TemplateLookup,
        clock: Clock,
        policy: OutboundPolicy,
    ) -> None:
        self.repo = repo
        self._listings = paging.VersionListings(
            "campaigns", "campaign-versions", repo, self._response
        )
        self.segments = segments
        self.tags = tags
        self.arns = arns
        self.template = template
        self.clock = clock
        self.policy = policy

    def create(self, app_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock()
        definition = self._definition({}, request, app_id, now)
        tags = request.get("tags") or {}
        validate_tags(tags, f"{REQUEST}.tags")
        campaign_id = uuid.uuid4().hex
        state = PAUSED if definition.get("IsPaused") else SCHEDULED
        self.repo.insert(app_id, campaign_id, iso(now), state, definition)
        self.tags.repo.put(self.arns.campaign(app_id, campaign_id), app_id, tags)
        return self.get(app_id, campaign_id)

    def update(self, app_id: str, campaign_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        now = self.clock()
        current = self._latest(app_id, campaign_id)
        _refuse_finished(campaign_id, current.state)
        definition = self._definition(current.definition, request, app_id, now)
        paused = bool(definition.get("IsPaused"))

        def next_state(state: str) -> str:
            _refuse_finished(campaign_id, state)
            if paused:
                return PAUSED
            return SCHEDULED if state in (PAUSED, INVALID) else state

        if self.repo.add_version(app_id, campaign_id, iso(now), definition, next_state) is None:
            raise NotFound(f"Campaign not found: {campaign_id}")
        return self.get(app_id, campaign_id)

    def get(self, app_id: str, campaign_id: str) -> dict[str, Any]:
        return self._response(app_id, self._latest(app_id, campaign_id))

    def version(self, app_id: str, campaign_id: str, version: str) -> dict[str, Any]:
        number = version_number(version, "Version")
        return self._response(app_id, self.definition(app_id, campaign_id, number))

    def page(self, app_id: str, size: str | None, token: str | None) -> dict[str, Any]:
        return self._listings.latest(app_id, size, token)

    def versions(
        self, app_id: str, campaign_id: str, size: str | None, token: str | None
    ) -> dict[str, Any]:
        self._latest(app_id, campaign_id)
        return self._listings.versions(app_id, campaign_id, size, token)

    def activities(
        self, app_id: str, campaign_id: str, size: str | None, token: str | None
    ) -> dict[str, Any]:
        """The campaign's runs, one per treatment and scheduled start, as the scheduler left
        them."""
        campaign = self._latest(app_id, campaign_id)
        return paging.page(
            f"campaign-activities:{campaign_id}",
            size,
            token,
            lambda after, limit: self.repo.runs(app_id, campaign_id, after, limit),
            lambda row: row[0],
            lambda row: _activity(app_id, campaign_id, row[1], campaign.state),
        )

    def delete(self, app_id: str, campaign_id: str) -> dict[str, Any]:
        response = self.get(app_id, campaign_id)
        self.repo.delete(app_id, campaign_id)
        self.tags.repo.remove_all(self.arns.campaign(app_id, campaign_id))
        return response

    def exists(self, app_id: str, campaign_id: str) -> bool:
        return self.repo.latest(app_id, campaign_id) is not None

    def definition(
        self, app_id: str, campaign_id: str, version: int | None = None
    ) -> CampaignVersion:
        """The campaign's definition at ``version`` (its latest when None), with the version's
        number and the campaign's state now: for GetCampaignVersion and the scheduler."""
        found = self.repo.at(app_id, campaign_id, version)
        if found is None:
            self._latest(app_id, campaign_id)
            raise NotFound(f"Campaign {campaign_id} has no version {version}")
        return found

    def set_state(
        self,
        app_id: str,
        campaign_id: str,
        state: str,
        *,
        only_from: Collection[str] | None = None,
    ) -> bool:
        """For the scheduler: move the campaign to ``state``. With ``only_from``, only out of
        one of those states, so a campaign paused meanwhile is not started. Whether it moved."""
        if state not in STATES:
            raise ValueError(f"{state!r} is not a CampaignStatus")
        return self.repo.set_state(app_id, campaign_id, state, only_from)

    def _latest(self, app_id: str, campaign_id: str) -> CampaignVersion:
        found = self.repo.latest(app_id, campaign_id)
        if found is None:
            raise NotFound(f"Campaign not found: {campaign_id}")
        return found

    def _definition(
        self,
        current: Mapping[str, Any],
        request: Mapping[str, Any],
        app_id: str,
        now: datetime,
    ) -> dict[str, Any]:
        """The stored definition with the request's members in place, checked."""
        definition = {k: current[k] for k in _MEMBERS if k in current}
        definition |= {k: request[k] for k in _MEMBERS if k in request}
        if "SegmentId" in request and "SegmentVersion" not in request:
            definition.pop("SegmentVersion", None)
        if "AdditionalTreatments" in request:
            definition["AdditionalTreatments"] = [
                {"Id": str(number), **treatment}
                for number, treatment in enumerate(request["AdditionalTreatments"], 1)
            ]
        if not definition.get("SegmentId"):
            raise BadRequest(f"{REQUEST}.SegmentId is required: the segment the campaign sends to")
        if "SegmentId" in request or "SegmentVersion" in request:
            definition["SegmentVersion"] = self._segment_version(
                app_id, definition["SegmentId"], definition.get("SegmentVersion")
            )
        _check_definition(definition, _schedules(current), now)
        for url, path in _web_urls(definition):
            self.policy.check_url(url, path)
        if "TemplateConfiguration" in request:
            self._check_templates(definition.get("TemplateConfiguration"), REQUEST)
        if "AdditionalTreatments" in request:
            for index, treatment in enumerate(definition["AdditionalTreatments"]):
                self._check_templates(
                    treatment.get("TemplateConfiguration"),
                    f"{REQUEST}.AdditionalTreatments[{index}]",
                )
        return definition

    def _segment_version(self, app_id: str, segment_id: str, version: int | None) -> int:
        """The version named, which must exist, or the segment's latest."""
        latest = self.segments.repo.latest(app_id, segment_id)
        if latest is None:
            raise BadRequest(f"{REQUEST}.SegmentId: there is no segment {segment_id} in this app")
        if version is None:
            return latest.version
        if version < 1 or self.segments.repo.version(app_id, segment_id, version) is None:
            raise BadRequest(
                f"{REQUEST}.SegmentVersion: segment {segment_id} has no version {version}"
            )
        return version

    def _check_templates(self, templates: Mapping[str, Any] | None, path: str) -> None:
        for member, template in (templates or {}).items():
            try:
                version = template.get("Version")
                self.template(
                    _TEMPLATE_TYPES[member],
                    template["Name"],
                    None if version is None else str(version_number(version, "Version")),
                )
            except (NotFound, BadRequest) as error:
                raise BadRequest(
                    f"{path}.TemplateConfiguration.{member}: {error.message}"
                ) from None

    def _response(self, app_id: str, found: CampaignVersion) -> dict[str, Any]:
        arn = self.arns.campaign(app_id, found.campaign_id)
        state = {"CampaignStatus": found.state}
        response: dict[str, Any] = {
            "HoldoutPercent": 0,
            "IsPaused": False,
            **found.definition,
            "ApplicationId": app_id,
            "Arn": arn,
            "Id": found.campaign_id,
            "CreationDate": found.creation_date,
            "LastModifiedDate": found.last_modified_date,
            "Version": found.version,
            "State": state,
            "DefaultState": dict(state),
            "tags": self.tags.repo.get(arn),
        }
        if "AdditionalTreatments" in found.definition:
            response["AdditionalTreatments"] = [
                {**treatment, "State": dict(state)}
                for treatment in found.definition["AdditionalTreatments"]
            ]
        return response


def _refuse_finished(campaign_id: str, state: str) -> None:
    if state in FINISHED:
        raise BadRequest(
            f"Campaign {campaign_id} is {state}: a campaign that has finished cannot be updated; "
            "create a new campaign instead"
        )


def _schedules(definition: Mapping[str, Any]) -> list[Any]:
    """Every schedule a stored definition has: its own and its treatments'."""
    treatments = definition.get("AdditionalTreatments") or []
    found = [definition.get("Schedule"), *(t.get("Schedule") for t in treatments)]
    return [schedule for schedule in found if schedule is not None]


def _check_definition(
    definition: Mapping[str, Any], accepted_schedules: list[Any], now: datetime
) -> None:
    """The rules a definition keeps on its own, whichever members the request named."""
    schedule = definition.get("Schedule")
    if schedule is None:
        raise BadRequest(f"{REQUEST}.Schedule is required: when the campaign sends")

    def check_schedule(value: Any, path: str) -> None:
        parse_schedule(value, now=None if value in accepted_schedules else now, path=path)

    check_schedule(schedule, f"{REQUEST}.Schedule")
    treatments = definition.get("AdditionalTreatments") or []
    try:
        treatment_sizes(definition.get("HoldoutPercent"), [t["SizePercent"] for t in treatments])
    except AllocationError as error:
        raise BadRequest(f"{REQUEST}.{error.message}") from None
    _check_treatment(definition, REQUEST)
    for index, treatment in enumerate(treatments):
        path = f"{REQUEST}.AdditionalTreatments[{index}]"
        if treatment.get("Schedule") is not None:
            check_schedule(treatment["Schedule"], f"{path}.Schedule")
        own = {k: treatment[k] for k in _TREATMENT_MEMBERS if treatment.get(k) is not None}
        _check_treatment({**definition, **own}, path)
    if definition.get("Limits") is not None:
        validate_limits(definition["Limits"], f"{REQUEST}.Limits")
    if definition.get("Hook") is not None:
        _check_hook(definition["Hook"], f"{REQUEST}.Hook")
    priority = definition.get("Priority")
    if priority is not None and priority not in PRIORITIES:
        raise BadRequest(
            f"{REQUEST}.Priority must be from {PRIORITIES.start} (highest) to "
            f"{PRIORITIES.stop - 1}; got {priority}"
        )


def _check_treatment(treatment: Mapping[str, Any], path: str) -> None:
    """A treatment as it sends (the default treatment's members with its own in their place):
    something to send, each channel's message complete or backed by its template, custom
    delivery to a URL where a custom message is, in-app messages on in-app events only."""
    messages = treatment.get("MessageConfiguration") or {}
    templates = treatment.get("TemplateConfiguration") or {}
    for member, template in templates.items():
        if not template.get("Name"):
            raise BadRequest(f"{path}.TemplateConfiguration.{member}.Name is required")
    where = f"{path}.MessageConfiguration"
    default_body = (messages.get("DefaultMessage") or {}).get("Body")
    email = messages.get("EmailMessage")
    if email is not None and not (email.get("HtmlBody") or email.get("Body") or default_body):
        _needs_template(templates, "EmailTemplate", f"{where}.EmailMessage", "HtmlBody or Body")
    sms = messages.get("SMSMessage")
    if sms is not None and not (sms.get("Body") or default_body):
        _needs_template(templates, "SMSTemplate", f"{where}.SMSMessage", "Body")
    for member in _PUSH_MESSAGES:
        push = messages.get(member)
        if push is not None and not (push.get("SilentPush") or any(map(push.get, _PUSH_CONTENT))):
            _needs_template(
                templates,
                "PushTemplate",
                f"{where}.{member}",
                "Body, Title, RawContent or JsonBody (or SilentPush)",
            )
    in_app = messages.get("InAppMessage")
    if in_app is not None and not in_app.get("Content"):
        _needs_template(templates, "InAppTemplate", f"{where}.InAppMessage", "Content")
    custom = messages.get("CustomMessage")
    if custom is not None and not custom.get("Data"):
        raise BadRequest(f"{where}.CustomMessage.Data is required")
    if custom is not None and treatment.get("CustomDeliveryConfiguration") is None:
        raise BadRequest(
            f"{path}.CustomDeliveryConfiguration is required to send {where}.CustomMessage"
        )
    if not any(messages.values()) and not templates:
        raise BadRequest(
            f"{path} has nothing to send: give MessageConfiguration a message for at least one "
            "channel, or name a template in TemplateConfiguration"
        )
    has_in_app = in_app is not None or "InAppTemplate" in templates
    frequency = treatment["Schedule"].get("Frequency") or "ONCE"
    if has_in_app != (frequency == _IN_APP_FREQUENCY):
        raise BadRequest(
            f"{path}: an in-app message is shown when the app reports an event, so it is sent "
            f"with Schedule.Frequency {_IN_APP_FREQUENCY}, and {_IN_APP_FREQUENCY} only sends "
            f"in-app messages; got Frequency {frequency} "
            f"{'with' if has_in_app else 'without'} an in-app message"
        )
    if treatment.get("CustomDeliveryConfiguration") is not None:
        uri = treatment["CustomDeliveryConfiguration"]["DeliveryUri"]
        _check_url(uri, f"{path}.CustomDeliveryConfiguration.DeliveryUri")


def _needs_template(templates: Mapping[str, Any], member: str, path: str, content: str) -> None:
    if member not in templates:
        raise BadRequest(f"{path} needs {content}, or a TemplateConfiguration.{member}")


def _check_hook(hook: Mapping[str, Any], path: str) -> None:
    if hook.get("LambdaFunctionName"):
        raise BadRequest(
            f"{path}.LambdaFunctionName: Clarion runs no AWS Lambda functions; give {path}.WebUrl, "
            "an https URL Clarion calls with the campaign's endpoints instead"
        )
    if hook.get("WebUrl"):
        _check_url(hook["WebUrl"], f"{path}.WebUrl")
    elif hook.get("Mode"):
        raise BadRequest(f"{path}.Mode {hook['Mode']} needs {path}.WebUrl, the URL to call")


def _check_url(url: str, path: str) -> None:
    """A web URL, never the Lambda function Pinpoint allows; where it may point is the
    outbound-address policy's to say (``_web_urls``)."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise BadRequest(
            f"{path} must be an https URL (Clarion runs no AWS Lambda functions); got {url!r}"
        )


def _web_urls(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every URL the campaign will call (hook, custom delivery), with its member path."""
    found = []
    if (definition.get("Hook") or {}).get("WebUrl"):
        found.append((definition["Hook"]["WebUrl"], f"{REQUEST}.Hook.WebUrl"))
    treatments = [(REQUEST, definition)] + [
        (f"{REQUEST}.AdditionalTreatments[{index}]", treatment)
        for index, treatment in enumerate(definition.get("AdditionalTreatments") or [])
    ]
    for path, treatment in treatments:
        custom = treatment.get("CustomDeliveryConfiguration")
        if custom is not None:
            member = f"{path}.CustomDeliveryConfiguration.DeliveryUri"
            found.append((custom["DeliveryUri"], member))
    return found


def _activity(
    app_id: str, campaign_id: str, run: CampaignRun, campaign_state: str
) -> dict[str, Any]:
    """A run as ActivityResponse: its State one of PENDING, RUNNING (the scheduler's
    EXECUTING), PAUSED (a started run of a paused campaign), CANCELLED or COMPLETED, and its
    Result SUCCESS or FAIL (a run that ran past MaximumDuration, EXPIRED to the scheduler)."""
    scheduled = datetime.fromtimestamp(run.scheduled_ms / 1000, UTC)
    state = "RUNNING" if run.state == EXECUTING else run.state
    if state == "RUNNING" and campaign_state == PAUSED:
        state = PAUSED
    activity: dict[str, Any] = {
        "Id": run.id,
        "ApplicationId": app_id,
        "CampaignId": campaign_id,
        "TreatmentId": run.treatment_id,
        "ScheduledStart": iso(scheduled),
        "Start": run.start,
        "End": run.end,
        "State": state,
        "Result": run.result if run.result in (None, "SUCCESS") else "FAIL",
        "TotalEndpointCount": run.total_endpoint_count,
        "SuccessfulEndpointCount": run.successful_endpoint_count,
        "TimezonesTotalCount": run.timezones_total_count,
        "TimezonesCompletedCount": run.timezones_completed_count,
        "ExecutionMetrics": {
            name: value if isinstance(value, str) else orjson.dumps(value).decode()
            for name, value in run.metrics.items()
        },
    }
    return {k: v for k, v in activity.items() if v is not None}
