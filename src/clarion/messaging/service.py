"""SendMessages and SendUsersMessages, and the retries behind them.

A send is a short loop: resolve recipients, compose each message, write them all to the
delivery ledger, make one attempt each, record the outcomes and their delivery events. A
message a provider could not take now stays PENDING in the ledger and the retry worker tries
it again after a doubling pause until it is delivered, refused for good, or too old; because
every message is in the ledger before its first attempt, a crash loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from clarion.channels.kinds import ChannelType
from clarion.clock import Clock, epoch_ms
from clarion.delivery.base import Email, Result
from clarion.endpoints import rules as endpoint_rules
from clarion.endpoints.service import Endpoints
from clarion.errors import BadRequest, NotFound
from clarion.events.service import Accepted, Events
from clarion.messaging import outcomes
from clarion.messaging.compose import CompositionError, Recipient, Sender, compose
from clarion.messaging.dispatch import Attempt, Dispatcher
from clarion.messaging.outgoing import Outgoing, outgoing, stored
from clarion.store.database import Database
from clarion.store.deliveries import PENDING, DeliveryRepository

MAX_RECIPIENTS = 100
RETRY_BATCH = 100
_TEMPLATE_TYPES = {
    "EmailTemplate": "EMAIL",
    "SMSTemplate": "SMS",
    "VoiceTemplate": "VOICE",
    "PushTemplate": "PUSH",
}
"""TemplateConfiguration's members and the template type each names (not a ChannelType: one
push template serves every push channel)."""

TemplateFor = Callable[[str, str, str | None], Mapping[str, Any]]
"""(template type EMAIL/SMS/VOICE/PUSH, name, version) → the version's stored fields."""
ChannelFor = Callable[[str, str], Mapping[str, Any] | None]
"""(app id, platform) → the channel's settings (GetXChannel's answer), None if absent."""


@dataclass(frozen=True)
class RetryPolicy:
    """When a message a provider could not take is tried again (CLARION_RETRY_* settings)."""

    base_s: float
    most_s: float
    give_up_after_s: float


@dataclass
class _Work:
    """One recipient on its way through a send."""

    key: str
    recipient: Recipient | None
    endpoint_key: str | None
    status: outcomes.Status | None = None
    message: Outgoing | None = None
    source_key: str | None = None


class _Tried(NamedTuple):
    """A message just attempted, as the ledger holds it; ``created_ms`` is None on a first
    attempt, which is never given up for age."""

    endpoint_key: str | None
    channel: str
    message: Mapping[str, Any]
    attempts: int
    created_ms: int | None


class _Final(NamedTuple):
    """A message's final outcome (or its rendering failure), which its delivery events tell."""

    endpoint_key: str | None
    channel: str
    message: Mapping[str, Any]
    outcome: str
    detail: str


class Messages:
    def __init__(
        self,
        db: Database,
        endpoints: Endpoints,
        events: Events,
        ledger: DeliveryRepository,
        dispatcher: Dispatcher,
        template_for: TemplateFor,
        channel_for: ChannelFor,
        clock: Clock,
        message_domain: str,
        retry: RetryPolicy,
        decorator: Callable[[str], Callable[[Email], Email]],
    ) -> None:
        self.db = db
        self.endpoints = endpoints
        self.events = events
        self.ledger = ledger
        self.dispatcher = dispatcher
        self.template_for = template_for
        self.channel_for = channel_for
        self.clock = clock
        self.message_domain = message_domain
        self.retry = retry
        self.decorator = decorator
        """What the app asks done to its outgoing e-mail (open and click tracking)."""

    # --- the API ------------------------------------------------------------------------

    def send(
        self,
        app_id: str,
        request: Mapping[str, Any],
        request_id: str,
        *,
        sensitive: bool = False,
    ) -> dict[str, Any]:
        """SendMessages: a result for every address and endpoint the request names.
        ``sensitive`` messages (one-time passwords) lose their text from the ledger once
        delivered or given up."""
        addresses = request.get("Addresses") or {}
        endpoint_configs = request.get("Endpoints") or {}
        if not addresses and not endpoint_configs:
            raise BadRequest("MessageRequest needs Addresses or Endpoints to send to")
        if len(addresses) + len(endpoint_configs) > MAX_RECIPIENTS:
            raise BadRequest(
                f"MessageRequest names {len(addresses) + len(endpoint_configs)} recipients; "
                f"at most {MAX_RECIPIENTS} can be sent to in one request"
            )
        work = [self._address(address, cfg) for address, cfg in addresses.items()]
        stored = self.endpoints.repo.get_many(
            app_id, [endpoint_rules.endpoint_id_key(i) for i in endpoint_configs]
        )
        endpoint_work = [
            self._endpoint_work(
                endpoint_id, cfg, stored.get(endpoint_rules.endpoint_id_key(endpoint_id))
            )
            for endpoint_id, cfg in endpoint_configs.items()
        ]
        self._deliver(app_id, request, [*endpoint_work, *work], sensitive)
        response: dict[str, Any] = {"ApplicationId": app_id, "RequestId": request_id}
        if work:
            response["Result"] = {w.key: _result(w) for w in work}
        if endpoint_work:
            response["EndpointResult"] = {
                w.key: {**_result(w), "Address": w.recipient.address if w.recipient else ""}
                for w in endpoint_work
            }
        return response

    def send_users(
        self, app_id: str, request: Mapping[str, Any], request_id: str
    ) -> dict[str, Any]:
        """SendUsersMessages: every endpoint of each user, answered per user and endpoint."""
        users = request.get("Users") or {}
        if not users:
            raise BadRequest("SendUsersMessageRequest.Users must name at least one user")
        per_user: dict[str, list[_Work]] = {}
        for user_id, cfg in users.items():
            found = self.endpoints.repo.for_user(app_id, user_id)
            per_user[user_id] = [
                self._endpoint_work(stored.document.get("Id", stored.key), cfg, stored)
                for stored in found
            ]
        total = sum(len(w) for w in per_user.values())
        if total > MAX_RECIPIENTS * 10:
            raise BadRequest(f"The users have {total} endpoints; at most 1000 per request")
        self._deliver(app_id, request, [w for items in per_user.values() for w in items], False)
        return {
            "ApplicationId": app_id,
            "RequestId": request_id,
            "Result": {
                user_id: {
                    w.key: {**_result(w), "Address": w.recipient.address if w.recipient else ""}
                    for w in items
                }
                for user_id, items in per_user.items()
            },
        }

    # --- recipients ---------------------------------------------------------------------

    def _address(self, address: str, cfg: Mapping[str, Any]) -> _Work:
        channel = cfg.get("ChannelType")
        if not channel:
            raise BadRequest(f"MessageRequest.Addresses.{address}.ChannelType is required")
        endpoint = {"Address": address, "ChannelType": channel}
        return _Work(address, Recipient(address, channel, endpoint, cfg), None)

    def _endpoint_work(self, endpoint_id: str, cfg: Mapping[str, Any], stored: Any) -> _Work:
        if stored is None:
            return _Work(
                endpoint_id,
                None,
                None,
                outcomes.Status(outcomes.PERMANENT_FAILURE, 404, "Endpoint not found"),
            )
        document = stored.document
        key = stored.key
        work = _Work(
            endpoint_id,
            Recipient(
                document.get("Address") or "",
                document.get("ChannelType") or "",
                {**document, "Id": document.get("Id", endpoint_id)},
                cfg,
            ),
            key,
        )
        if document.get("OptOut") == "ALL":
            work.status = outcomes.Status(outcomes.OPT_OUT, 400, "The endpoint has opted out")
        elif document.get("EndpointStatus") == "INACTIVE":
            work.status = outcomes.Status(
                outcomes.PERMANENT_FAILURE, 400, "The endpoint is inactive"
            )
        elif not document.get("Address") or not document.get("ChannelType"):
            work.status = outcomes.Status(
                outcomes.PERMANENT_FAILURE, 400, "The endpoint has no Address or ChannelType"
            )
        return work

    # --- the loop -----------------------------------------------------------------------

    def deliver_campaign(
        self,
        app_id: str,
        campaign_id: str,
        items: Sequence[tuple[Recipient, str, str]],
        request: Mapping[str, Any],
        context: Mapping[str, str],
    ) -> list[str | None]:
        """A campaign's messages to (recipient, endpoint key, source key) items: the same loop
        as SendMessages, except that an item whose source key the ledger already holds (a
        resumed run) is left to the ledger and answers None. Returns each DeliveryStatus."""
        work = [_Work(key, recipient, key, source_key=source) for recipient, key, source in items]
        self._deliver(app_id, {**request, "Context": context}, work, False, campaign_id=campaign_id)
        return [None if w.status is None else w.status.delivery_status for w in work]

    def queue_campaign(
        self,
        conn: Any,
        app_id: str,
        campaign_id: str,
        items: Sequence[tuple[Recipient, str, str]],
        request: Mapping[str, Any],
        context: Mapping[str, str],
    ) -> int:
        """Compose a campaign's messages and leave them PENDING in the ledger for the retry
        worker to send, in the caller's transaction (an event trigger's, so that the event and
        the message it triggers commit together). Returns how many were queued."""
        work = [_Work(key, recipient, key, source_key=source) for recipient, key, source in items]
        sending, failed = self._prepare(app_id, {**request, "Context": context}, work)
        return len(
            self._record_pending(
                conn, app_id, sending, failed, context, False, campaign_id, lease_ms=0
            )
        )

    def _deliver(
        self,
        app_id: str,
        request: Mapping[str, Any],
        work: Sequence[_Work],
        sensitive: bool,
        *,
        campaign_id: str | None = None,
    ) -> None:
        context = {k: str(v) for k, v in (request.get("Context") or {}).items()}
        sending, failed = self._prepare(app_id, request, work)
        lease = self._attempt_lease_ms()
        with self.db.write() as conn:
            sending = self._record_pending(
                conn, app_id, sending, failed, context, sensitive, campaign_id, lease_ms=lease
            )
        results = self.dispatcher.attempt(
            [
                Attempt(app_id, item.recipient.channel, item.message)
                for item in sending
                if item.recipient and item.message
            ]
        )
        with self.db.write() as conn:
            statuses = self._settle(
                conn,
                lambda _: app_id,
                [
                    _Tried(
                        item.endpoint_key,
                        item.recipient.channel,
                        stored(item.message, context, sensitive),
                        1,
                        None,
                    )
                    for item in sending
                    if item.recipient and item.message
                ],
                results,
            )
        for item, status in zip(sending, statuses, strict=True):
            item.status = status

    def _prepare(
        self, app_id: str, request: Mapping[str, Any], work: Sequence[_Work]
    ) -> tuple[list[_Work], list[tuple[_Work, str]]]:
        """Compose each recipient's message: the work with a message, and the rendering
        failures (with their message ids)."""
        configuration = request.get("MessageConfiguration") or {}
        templates = self._templates(request.get("TemplateConfiguration") or {})
        senders: dict[str, Sender] = {}
        refusals: dict[str, str | None] = {}
        seen: set[tuple[str, str]] = set()
        failed_renders: list[tuple[_Work, str]] = []
        decorate: Callable[[Email], Email] | None = None
        for item in work:
            if item.status is not None or item.recipient is None:
                continue
            recipient = item.recipient
            if recipient.channel not in refusals:
                refusals[recipient.channel] = self._channel_refusal(app_id, recipient.channel)
            blocked = refusals[recipient.channel]
            if blocked:
                item.status = outcomes.Status(outcomes.PERMANENT_FAILURE, 400, blocked)
                continue
            if (recipient.channel, recipient.address) in seen:
                item.status = outcomes.Status(
                    outcomes.DUPLICATE,
                    400,
                    "Another recipient of this request has the same address",
                )
                continue
            seen.add((recipient.channel, recipient.address))
            sender = senders.get(recipient.channel) or self._sender(app_id, recipient.channel)
            senders[recipient.channel] = sender
            message_id = f"{uuid.uuid4().hex}@{self.message_domain}"
            try:
                item.message = compose(recipient, configuration, templates, sender, message_id)
                if isinstance(item.message, Email):
                    if decorate is None:
                        decorate = self.decorator(app_id)
                    item.message = decorate(item.message)
            except CompositionError as error:
                item.status = outcomes.Status(outcomes.PERMANENT_FAILURE, 400, str(error))
                failed_renders.append((item, message_id))
        return [item for item in work if item.message is not None], failed_renders

    def _record_pending(
        self,
        conn: Any,
        app_id: str,
        sending: list[_Work],
        failed_renders: list[tuple[_Work, str]],
        context: Mapping[str, str],
        sensitive: bool,
        campaign_id: str | None,
        *,
        lease_ms: int,
    ) -> list[_Work]:
        """Write the messages to the ledger (those whose source key it already holds are left
        out) and the rendering failures' events; returns the work written."""
        now = epoch_ms(self.clock())
        known = self.ledger.known_sources(
            conn, [item.source_key for item in sending if item.source_key]
        )
        if known:
            for item in sending:
                if item.source_key in known:
                    item.message = None
            sending = [item for item in sending if item.message is not None]
        self.ledger.add(
            conn,
            [
                {
                    "app_id": app_id,
                    "message_id": item.message.message_id,
                    "source_key": item.source_key,
                    "channel": item.recipient.channel,
                    "address": item.recipient.address,
                    "endpoint_key": item.endpoint_key,
                    "campaign_id": campaign_id,
                    "message": stored(item.message, context, sensitive),
                    "status": PENDING,
                    "attempts": 0,
                    "status_code": 0,
                    "detail": "",
                    "created_ms": now,
                    "next_attempt_ms": now,
                    "lease_until_ms": now + lease_ms if lease_ms else 0,
                }
                for item in sending
                if item.message is not None and item.recipient is not None
            ],
        )
        self._record_events(
            conn,
            app_id,
            [
                _Final(
                    item.endpoint_key,
                    item.recipient.channel,
                    {"message_id": message_id, "recipient": item.recipient.address},
                    "RENDERING_FAILURE",
                    item.status.message if item.status else "",
                )
                for item, message_id in failed_renders
                if item.recipient is not None
            ],
        )
        return sending

    def _settle(
        self,
        conn: Any,
        app_id_of: Callable[[int], str],
        tried: Sequence[_Tried],
        results: Sequence[Result],
    ) -> list[outcomes.Status]:
        """Store attempts' outcomes, the events of the final ones, and when to try the others
        again, in one transaction."""
        now = epoch_ms(self.clock())
        statuses: list[outcomes.Status] = []
        updates: list[dict[str, Any]] = []
        finals: dict[str, list[_Final]] = {}
        for index, (item, result) in enumerate(zip(tried, results, strict=True)):
            status = outcomes.status(result)
            statuses.append(status)
            update: dict[str, Any] = {
                "message_id": item.message["message_id"],
                "status": status.delivery_status,
                "status_code": status.status_code,
                "detail": status.message,
                "next_attempt_ms": 0,
                "message": _kept(item.message),
            }
            outcome, detail = status.delivery_status, result.detail
            if outcome == outcomes.TEMPORARY_FAILURE:
                age = 0 if item.created_ms is None else now - item.created_ms
                if age <= self.retry.give_up_after_s * 1000:
                    wait = outcomes.backoff_ms(item.attempts, self.retry.base_s, self.retry.most_s)
                    updates.append(
                        {
                            **update,
                            "status": PENDING,
                            "next_attempt_ms": now + wait,
                            "message": None,
                        }
                    )
                    continue
                outcome, detail = "GAVE_UP", status.message
                update |= {"status": outcomes.PERMANENT_FAILURE, "detail": f"gave up: {detail}"}
            updates.append(update)
            finals.setdefault(app_id_of(index), []).append(
                _Final(item.endpoint_key, item.channel, item.message, outcome, detail)
            )
        self.ledger.record_many(conn, updates)
        for app_id, items in finals.items():
            self._record_events(conn, app_id, items)
        return statuses

    def _record_events(
        self,
        conn: Any,
        app_id: str,
        finals: Iterable[_Final],
    ) -> None:
        record_events(
            self.events,
            conn,
            app_id,
            epoch_ms(self.clock()),
            [
                (endpoint_key, f"{message.get('message_id', '')}/{event.event_type}", event)
                for endpoint_key, channel, message, outcome, detail in finals
                for event in outcomes.events(
                    channel, message, outcome, detail, message.get("context")
                )
            ],
        )

    # --- retries ------------------------------------------------------------------------

    def retry_due(self) -> int:
        """Try again the PENDING messages that are due; how many were tried."""
        now = epoch_ms(self.clock())
        due = self.ledger.claim_due(now, now + self._attempt_lease_ms(), RETRY_BATCH)
        if not due:
            return 0
        results = self.dispatcher.attempt(
            [Attempt(d.app_id, d.channel, outgoing(d.channel, d.message)) for d in due]
        )
        with self.db.write() as conn:
            self._settle(
                conn,
                lambda index: due[index].app_id,
                [
                    _Tried(d.endpoint_key, d.channel, d.message, d.attempts + 1, d.created_ms)
                    for d in due
                ],
                results,
            )
        return len(due)

    # --- helpers ------------------------------------------------------------------------

    def _attempt_lease_ms(self) -> int:
        """How long a message being attempted is kept from the retry worker: past the
        attempt's own timeout, so a message is never in two attempts at once."""
        return int((self.dispatcher.timeout + 5) * 1000)

    def _templates(self, configuration: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        for member, template_type in _TEMPLATE_TYPES.items():
            named = configuration.get(member)
            if not named or not named.get("Name"):
                continue
            try:
                found[member] = self.template_for(
                    template_type, named["Name"], named.get("Version")
                )
            except NotFound as error:
                raise BadRequest(f"TemplateConfiguration.{member}: {error.message}") from None
        return found

    def _channel_refusal(self, app_id: str, channel: str) -> str | None:
        if channel == ChannelType.PUSH:
            return None
        settings = self.channel_for(app_id, channel)
        if settings is None:
            return f"The {channel} channel is not set up for this app"
        if not settings.get("Enabled", True):
            return f"The {channel} channel is disabled for this app"
        return None

    def _sender(self, app_id: str, channel: str) -> Sender:
        settings = self.channel_for(app_id, channel) or {}
        if channel == ChannelType.EMAIL:
            return Sender(email_from=settings.get("FromAddress"))
        if channel == ChannelType.SMS:
            return Sender(sms_sender=settings.get("ShortCode") or settings.get("SenderId"))
        return Sender()


def record_events(
    events: Events,
    conn: Any,
    app_id: str,
    now_ms: int,
    items: Sequence[tuple[str | None, str, outcomes.DeliveryEvent]],
) -> None:
    """Delivery and engagement events, as (endpoint key, event id, event), into analytics and
    the event streams, in the caller's transaction."""
    if not items:
        return
    timestamp = (
        datetime.fromtimestamp(now_ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
    events.record(
        conn,
        app_id,
        [
            Accepted(
                endpoint_key or "",
                endpoint_key or "",
                event_id,
                {
                    "EventType": event.event_type,
                    "Timestamp": timestamp,
                    "Attributes": event.attributes,
                    "Metrics": event.metrics,
                },
                now_ms,
            )
            for endpoint_key, event_id, event in items
        ],
    )


def _kept(message: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """What the ledger keeps of a message that will not be sent again: all of it, except the
    text of a sensitive one."""
    if not message.get("sensitive"):
        return None
    return {k: v for k, v in message.items() if k not in ("body", "html", "text", "subject")}


def _result(work: _Work) -> dict[str, Any]:
    status = work.status or outcomes.Status(outcomes.UNKNOWN_FAILURE, 500, "Not attempted")
    result: dict[str, Any] = {
        "DeliveryStatus": status.delivery_status,
        "StatusCode": status.status_code,
        "StatusMessage": status.message,
    }
    if work.message is not None:
        result["MessageId"] = work.message.message_id
    return result
