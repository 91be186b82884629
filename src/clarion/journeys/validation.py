"""A ``WriteJourneyRequest`` checked whole, as Pinpoint checks it, and the journey states.

Sources: the botocore ``pinpoint`` 2016-12-01 model (WriteJourneyRequest, Activity and every
shape under them; JourneyStateRequest); the Amazon Pinpoint API Reference, "Journey"; the
Developer Guide, "Journey quotas"; the User Guide, "Add activities to the journey" and
"Pause, resume, or stop a journey". The journey's own settings are checked in
``clarion.journeys.settings``, conditions in ``clarion.journeys.conditions``, durations and
times in ``clarion.journeys.times``; each says what it chose.

Activities:

* ``Activities`` maps an id to an activity: "An activity identifier can contain a maximum of
  100 characters. The characters must be alphanumeric characters" (ASCII letters and digits
  here). A journey has at most 40 activities ("Maximum number of journey activities: 40 per
  journey", Developer Guide quotas; Pinpoint raised it on request, so it is one constant) and
  at most 3 ContactCenter activities ("You can only use 3 contact center activities in a
  Journey", User Guide).
* Each activity has exactly one kind member of EMAIL, SMS, PUSH, CUSTOM, Wait,
  ConditionalSplit, MultiCondition, RandomSplit, Holdout and ContactCenter, and an optional
  ``Description`` (no documented length).
* EMAIL, SMS and PUSH need ``TemplateName``, a template of their own type (the console
  builds every message activity on one; the model says it "must match the name of an
  existing message template"); ``TemplateVersion`` is optional, a version number. Whether
  that version exists is the caller's to check: ``template_exists`` sees names only.
  ``MessageConfig`` members are typed; FromAddress must be an email address, MessageType
  TRANSACTIONAL or PROMOTIONAL, TimeToLive a number of seconds.
* CUSTOM needs ``DeliveryUri``, an http(s) URL: Pinpoint also takes an AWS Lambda function,
  which Clarion cannot run, so a Lambda ARN or name is refused with a message asking for a
  web hook. ``EndpointTypes`` are ChannelType names; ``MessageConfig.Data`` has at most 5,000
  characters (User Guide); a ``TemplateName`` must name a template of some type, Pinpoint
  having no custom template type.
* Wait needs a ``WaitTime`` with exactly one of WaitFor / WaitUntil. Holdout needs a
  ``Percentage`` of 0 to 100. RandomSplit has 1 to 5 ``Branches`` ("as many as five paths"),
  each a whole ``Percentage`` of 1 to 100 (the console's "positive numbers … can't contain
  decimals"), together exactly 100. MultiCondition has 1 to 4 ``Branches``, each with a
  ``Condition``: "as many as five paths (including a default Else path)", and participants
  who meet none take ``DefaultActivity``; a branch, the Else path or a yes/no path without
  an activity ends the journey there. ConditionalSplit needs a ``Condition``; both splits
  take an optional ``EvaluationWaitTime``.

The graph:

* Every NextActivity, TrueActivity, FalseActivity, branch NextActivity, DefaultActivity and
  ``StartActivity`` names an activity of the map (an empty string is no activity, i.e. the
  end), and no path loops back on itself: a participant must always reach an end.
* An EventCondition's ``MessageActivity`` names an activity that sends messages (EMAIL,
  SMS, PUSH, CUSTOM or ContactCenter, the console's choices) and from which some path leads
  to the split, so its messages can exist when the split looks.
* Publishing (the request's ``State`` is ACTIVE) needs more, as the console does before it
  publishes: at least one activity, a ``StartActivity``, a start condition, and every
  activity reachable from StartActivity. A DRAFT may be unfinished in those ways only, so a
  journey can be saved while it is built; each activity it has is checked in full. A service
  that updates a published journey passes the request with its State, so the update is
  checked as published.

States: ``state_change`` and ``may_update`` below say which changes Pinpoint allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from clarion.channels.kinds import ChannelType
from clarion.errors import BadRequest
from clarion.journeys.conditions import (
    MessageReference,
    SegmentExists,
    check_condition,
    check_simple_condition,
)
from clarion.journeys.fields import (
    choice,
    integer,
    listing,
    mapping,
    one_of,
    optional_mapping,
    optional_string,
    required_string,
)
from clarion.journeys.graph import Edge, find_cycle, leads_to, reachable
from clarion.journeys.settings import check_settings
from clarion.journeys.steps import KINDS, MESSAGE_KINDS
from clarion.journeys.times import check_wait_time, parse_duration, parse_timestamp
from clarion.numbers import INT32_MAX, version_number, whole_number

__all__ = [
    "check_active_update",
    "may_update",
    "parse_duration",
    "parse_timestamp",
    "state_change",
    "validate_journey",
]

TEMPLATE_TYPES = ("EMAIL", "SMS", "PUSH", "VOICE", "INAPP")
MAX_ACTIVITIES = 40
MAX_CONTACT_CENTER = 3
MAX_RANDOM_BRANCHES = 5
MAX_CONDITION_BRANCHES = 4
MAX_CUSTOM_DATA = 5_000
SMS_MESSAGE_TYPES = ("TRANSACTIONAL", "PROMOTIONAL")
STATES = ("DRAFT", "ACTIVE", "PAUSED", "COMPLETED", "CANCELLED", "CLOSED")

_ACTIVITY_ID = re.compile(r"[A-Za-z0-9]{1,100}")
_LAMBDA = re.compile(r"arn:aws[a-z-]*:lambda:", re.IGNORECASE)

TemplateExists = Callable[[str, str], bool]


@dataclass
class _Found:
    """What the activities say about the graph, gathered while each is checked."""

    edges: dict[str, list[Edge]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    references: list[tuple[str, MessageReference]] = field(default_factory=list)


def validate_journey(
    request: Mapping[str, Any],
    *,
    segment_exists: Callable[[str], bool],
    template_exists: Callable[[str, str], bool],
    path: str = "WriteJourneyRequest",
) -> None:
    """Check a whole WriteJourneyRequest; BadRequest naming the first member that is wrong.
    ``template_exists(name, template_type)`` answers for EMAIL, SMS, PUSH, VOICE and INAPP."""
    journey = mapping(request, path)
    publishing = journey.get("State") == "ACTIVE"
    check_settings(journey, path, segment_exists, publishing=publishing)
    activities = optional_mapping(journey, "Activities", path) or {}
    where = f"{path}.Activities"
    if len(activities) > MAX_ACTIVITIES:
        raise BadRequest(
            f"{where} has {len(activities)} activities; a journey may have at most {MAX_ACTIVITIES}"
        )
    found = _Found()
    for activity_id, activity in activities.items():
        _activity(activity_id, activity, where, found, segment_exists, template_exists)
    _graph(journey, path, found, publishing=publishing)


def _activity(
    activity_id: Any,
    value: Any,
    path: str,
    found: _Found,
    segment_exists: SegmentExists,
    template_exists: TemplateExists,
) -> None:
    if not isinstance(activity_id, str) or not _ACTIVITY_ID.fullmatch(activity_id):
        raise BadRequest(
            f"{path}: activity id {str(activity_id)[:120]!r} must be 1 to 100 letters and digits"
        )
    where = f"{path}.{activity_id}"
    activity = mapping(value, where)
    optional_string(activity, "Description", where)
    kind = one_of(activity, KINDS, where)
    if kind is None:
        raise BadRequest(f"{where} needs one of {', '.join(KINDS)}: what it does")
    where = f"{where}.{kind}"
    body = mapping(activity[kind], where)
    found.kinds[activity_id] = kind
    found.edges[activity_id] = edges = []

    def leads(parent: Mapping[str, Any], member: str, parent_path: str) -> None:
        target = optional_string(parent, member, parent_path)
        if target:
            edges.append(Edge(activity_id, target, f"{parent_path}.{member}"))

    if kind in ("EMAIL", "SMS", "PUSH"):
        _message(kind, body, where, template_exists)
    elif kind == "CUSTOM":
        _custom(body, where, template_exists)
    elif kind == "Wait":
        if body.get("WaitTime") is None:
            raise BadRequest(f"{where}.WaitTime is required: how long or until when to wait")
        check_wait_time(body["WaitTime"], f"{where}.WaitTime")
    elif kind == "Holdout":
        if body.get("Percentage") is None:
            raise BadRequest(f"{where}.Percentage is required: the share of participants held")
        integer(body["Percentage"], f"{where}.Percentage", 0, 100)
    elif kind == "RandomSplit":
        for index, branch in enumerate(_random_branches(body, where)):
            leads(branch, "NextActivity", f"{where}.Branches[{index}]")
    elif kind in ("ConditionalSplit", "MultiCondition"):
        references = _split(kind, body, where, segment_exists, leads)
        found.references.extend((activity_id, reference) for reference in references)
    if kind == "ConditionalSplit":
        leads(body, "TrueActivity", where)
        leads(body, "FalseActivity", where)
    elif kind == "MultiCondition":
        leads(body, "DefaultActivity", where)
    elif kind != "RandomSplit":
        leads(body, "NextActivity", where)


def _message(
    kind: str, body: Mapping[str, Any], path: str, template_exists: TemplateExists
) -> None:
    name = required_string(body, "TemplateName", path, f"the {kind} template to send")
    if not template_exists(name, kind):
        raise BadRequest(f'{path}.TemplateName: template "{name}" of type {kind} does not exist')
    _template_version(body, path)
    config = optional_mapping(body, "MessageConfig", path)
    if config is None:
        return
    where = f"{path}.MessageConfig"
    if kind == "EMAIL":
        address = optional_string(config, "FromAddress", where)
        if address:
            try:
                validate_email(parseaddr(address)[1], check_deliverability=False)
            except EmailNotValidError as error:
                raise BadRequest(
                    f"{where}.FromAddress {address[:200]!r} is not an email address: {error}"
                ) from None
    elif kind == "SMS":
        for member in ("OriginationNumber", "SenderId", "EntityId", "TemplateId"):
            optional_string(config, member, where)
        if config.get("MessageType") is not None:
            choice(config["MessageType"], f"{where}.MessageType", SMS_MESSAGE_TYPES)
    else:
        ttl = optional_string(config, "TimeToLive", where)
        if ttl is not None:
            whole_number(ttl, f"{where}.TimeToLive", minimum=0, maximum=INT32_MAX)


def _template_version(body: Mapping[str, Any], path: str) -> None:
    version = optional_string(body, "TemplateVersion", path)
    if version is not None:
        version_number(version, f"{path}.TemplateVersion")


def _custom(body: Mapping[str, Any], path: str, template_exists: TemplateExists) -> None:
    where = f"{path}.DeliveryUri"
    uri = required_string(body, "DeliveryUri", path, "the https URL of the web hook to call")
    if _LAMBDA.match(uri):
        raise BadRequest(
            f"{where}: {uri[:200]!r} is an AWS Lambda function, and Clarion runs no Lambda "
            "functions; give the https URL of a web hook that receives the participants instead"
        )
    try:
        parts = urlsplit(uri)
        is_web = parts.scheme.lower() in ("https", "http") and bool(parts.hostname)
    except ValueError:
        is_web = False
    if not is_web:
        raise BadRequest(
            f"{where} must be the https URL of a web hook; got {uri[:200]!r} (Clarion runs no "
            "AWS Lambda functions, so a function name cannot be called)"
        )
    types = body.get("EndpointTypes")
    if types is not None:
        for index, channel in enumerate(listing(types, f"{path}.EndpointTypes")):
            choice(channel, f"{path}.EndpointTypes[{index}]", ChannelType)
    config = optional_mapping(body, "MessageConfig", path)
    data = optional_string(config or {}, "Data", f"{path}.MessageConfig")
    if data is not None and len(data) > MAX_CUSTOM_DATA:
        raise BadRequest(
            f"{path}.MessageConfig.Data has {len(data)} characters; at most {MAX_CUSTOM_DATA} "
            "are allowed"
        )
    name = optional_string(body, "TemplateName", path)
    if name and not any(template_exists(name, kind) for kind in TEMPLATE_TYPES):
        raise BadRequest(f'{path}.TemplateName: there is no template "{name}"')
    _template_version(body, path)


def _random_branches(body: Mapping[str, Any], path: str) -> Sequence[Mapping[str, Any]]:
    branches = _branches(body, path, MAX_RANDOM_BRANCHES)
    total = 0
    for index, branch in enumerate(branches):
        where = f"{path}.Branches[{index}].Percentage"
        if branch.get("Percentage") is None:
            raise BadRequest(f"{where} is required: the share of participants on this path")
        total += integer(branch["Percentage"], where, 1, 100)
    if total != 100:
        raise BadRequest(f"{path}.Branches: the percentages add up to {total}; they must make 100")
    return branches


def _branches(body: Mapping[str, Any], path: str, most: int) -> Sequence[Mapping[str, Any]]:
    if body.get("Branches") is None:
        raise BadRequest(f"{path}.Branches is required: the paths participants may take")
    branches = listing(body["Branches"], f"{path}.Branches")
    if not 1 <= len(branches) <= most:
        raise BadRequest(
            f"{path}.Branches has {len(branches)} branches; it must have from 1 to {most}"
        )
    return [mapping(branch, f"{path}.Branches[{i}]") for i, branch in enumerate(branches)]


def _split(
    kind: str,
    body: Mapping[str, Any],
    path: str,
    segment_exists: SegmentExists,
    leads: Callable[[Mapping[str, Any], str, str], None],
) -> list[MessageReference]:
    if body.get("EvaluationWaitTime") is not None:
        check_wait_time(body["EvaluationWaitTime"], f"{path}.EvaluationWaitTime")
    if kind == "ConditionalSplit":
        if body.get("Condition") is None:
            raise BadRequest(f"{path}.Condition is required: what the split tests")
        return check_condition(body["Condition"], f"{path}.Condition", segment_exists)
    references = []
    for index, branch in enumerate(_branches(body, path, MAX_CONDITION_BRANCHES)):
        where = f"{path}.Branches[{index}]"
        if branch.get("Condition") is None:
            raise BadRequest(f"{where}.Condition is required: who takes this path")
        reference = check_simple_condition(
            branch["Condition"], f"{where}.Condition", segment_exists
        )
        if reference is not None:
            references.append(reference)
        leads(branch, "NextActivity", where)
    return references


def _graph(journey: Mapping[str, Any], path: str, found: _Found, *, publishing: bool) -> None:
    where = f"{path}.Activities"
    for edges in found.edges.values():
        for edge in edges:
            if edge.target not in found.edges:
                raise BadRequest(f"{edge.path}: there is no activity {edge.target!r} in {where}")
    start = optional_string(journey, "StartActivity", path)
    if start and start not in found.edges:
        raise BadRequest(f"{path}.StartActivity: there is no activity {start!r} in {where}")
    cycle = find_cycle(found.edges)
    if cycle is not None:
        edge, loop = cycle
        raise BadRequest(
            f"{edge.path}: {edge.target!r} leads back to itself ({' -> '.join(loop)}); a "
            "journey's paths may not loop"
        )
    for split_id, reference in found.references:
        _message_reference(split_id, reference, found)
    contact_centers = sum(kind == "ContactCenter" for kind in found.kinds.values())
    if contact_centers > MAX_CONTACT_CENTER:
        raise BadRequest(
            f"{where} has {contact_centers} ContactCenter activities; a journey may have at "
            f"most {MAX_CONTACT_CENTER}"
        )
    if not publishing:
        return
    if not found.edges:
        raise BadRequest(f"{where}: a journey needs at least one activity to be published")
    if not start:
        raise BadRequest(f"{path}.StartActivity is required to publish: the first activity")
    reached = reachable(found.edges, start)
    unreached = [activity_id for activity_id in found.edges if activity_id not in reached]
    if unreached:
        raise BadRequest(
            f"{where}.{unreached[0]}: no path from StartActivity {start!r} reaches it; connect "
            "or remove it before publishing"
        )


def _message_reference(split_id: str, reference: MessageReference, found: _Found) -> None:
    target = reference.activity_id
    kind = found.kinds.get(target)
    if kind is None:
        raise BadRequest(f"{reference.path}: there is no activity {target!r} in the journey")
    if kind not in MESSAGE_KINDS:
        raise BadRequest(
            f"{reference.path}: activity {target!r} is a {kind} activity, which sends no "
            "messages; name an EMAIL, SMS, PUSH, CUSTOM or ContactCenter activity"
        )
    if not leads_to(found.edges, target, split_id):
        raise BadRequest(
            f"{reference.path}: activity {target!r} does not come before {split_id!r} on any "
            "path, so none of its messages can have been sent when the split looks"
        )


# --- States ---------------------------------------------------------------------------------


def state_change(current: str, requested: str) -> str:
    """The state an UpdateJourneyState request moves a journey to, or BadRequest.

    Pinpoint's JourneyStateRequest: "Currently, Supported values are ACTIVE, PAUSED, and
    CANCELLED". PAUSED holds a published (ACTIVE) journey, ACTIVE resumes a PAUSED one, and
    CANCELLED stops an ACTIVE, PAUSED or CLOSED one for good ("a stopped journey is stopped
    permanently, you must recreate the journey"). Asking for the state a journey is already in
    changes nothing. Clarion chose to refuse ACTIVE for a DRAFT: publishing goes through
    UpdateJourney with State ACTIVE, where the whole journey is checked as published. Two
    Pinpoint limits are not kept, since Clarion can do without them: "PAUSED only supports
    journeys with a segment refresh interval" and "A paused journey can only be resumed after
    five minutes"."""
    if current not in STATES:
        raise ValueError(f"{current!r} is not a journey state")
    if requested not in ("ACTIVE", "PAUSED", "CANCELLED"):
        raise BadRequest(
            f"JourneyStateRequest.State must be ACTIVE (to resume), PAUSED or CANCELLED; got "
            f"{requested!r}"
        )
    if requested == current:
        return current
    if current in ("COMPLETED", "CANCELLED"):
        ending = "has finished" if current == "COMPLETED" else "was cancelled, which is final"
        raise BadRequest(
            f"Cannot make a {current} journey {requested}: it {ending}; create a new journey"
        )
    if requested == "CANCELLED":
        if current == "DRAFT":
            raise BadRequest(
                "Cannot cancel a DRAFT journey: it has not started; delete it with "
                "DeleteJourney instead"
            )
        return requested
    if requested == "PAUSED":
        if current != "ACTIVE":
            raise BadRequest(f"Cannot pause a {current} journey: only an ACTIVE journey pauses")
        return requested
    if current == "DRAFT":
        raise BadRequest(
            "Cannot make a DRAFT journey ACTIVE with UpdateJourneyState: publish it with "
            "UpdateJourney and State ACTIVE, which checks the whole journey"
        )
    if current == "CLOSED":
        raise BadRequest(
            "Cannot make a CLOSED journey ACTIVE: it passed its end and admits no one; "
            "create a new journey"
        )
    return requested


def may_update(current_state: str) -> None:
    """BadRequest when UpdateJourney may not change a journey in ``current_state``.

    A DRAFT changes freely. An ACTIVE journey may be updated, but "If a journey's status is
    ACTIVE, you can't add, change, or remove activities from it": ``check_active_update``
    holds that. "A paused journey cannot be edited"; a CANCELLED one accepts no change to its
    "activities or segment settings", COMPLETED has finished and CLOSED admits no one, so
    Clarion refuses every update of those four."""
    if current_state not in STATES:
        raise ValueError(f"{current_state!r} is not a journey state")
    why = {
        "PAUSED": "a paused journey cannot be edited; resume it first",
        "COMPLETED": "it has finished running; create a new journey",
        "CANCELLED": "a cancelled journey cannot be changed; create a new journey",
        "CLOSED": "it has passed its end and admits no one; create a new journey",
    }.get(current_state)
    if why is not None:
        raise BadRequest(f"Cannot update a {current_state} journey: {why}")


def check_active_update(
    current: Mapping[str, Any], updated: Mapping[str, Any], *, path: str = "WriteJourneyRequest"
) -> None:
    """BadRequest when an update of an ACTIVE journey (``current``, as stored) to ``updated``
    (the definition it would store) changes what Pinpoint freezes at publishing: the
    activities and where participants start. A published journey cannot go back to DRAFT."""
    if updated.get("State") == "DRAFT":
        raise BadRequest(f"{path}.State: a published journey cannot go back to DRAFT")
    for member in ("Activities", "StartActivity"):
        if (current.get(member) or None) != (updated.get(member) or None):
            raise BadRequest(
                f"{path}.{member}: the journey is ACTIVE, and a published journey's activities "
                "cannot be added, changed or removed; create a new journey for a new flow"
            )
