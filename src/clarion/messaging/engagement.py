"""E-mail engagement: tracking added to every app's outgoing HTML unless the app turned it off,
and the opens and clicks that come back through Clarion's public tracking URLs."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable

from clarion.clock import Clock, epoch_ms
from clarion.delivery.base import Email
from clarion.events.service import Events
from clarion.messaging import outcomes
from clarion.messaging.service import record_events
from clarion.messaging.tracking import CLICK, CLICK_PATH, OPEN, OPEN_PATH, Signer, add_tracking
from clarion.store.database import Database
from clarion.store.deliveries import DeliveryRepository
from clarion.store.secrets import SecretRepository
from clarion.store.tracking import TrackingRepository


class Engagement:
    def __init__(
        self,
        db: Database,
        repo: TrackingRepository,
        secrets: SecretRepository,
        ledger: DeliveryRepository,
        events: Events,
        public_url: str,
        clock: Clock,
    ) -> None:
        self.db = db
        self.repo = repo
        self.secrets = secrets
        self.ledger = ledger
        self.events = events
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self._signer: Signer | None = None

    def load_key(self) -> None:
        """Read the signing key, making it the first time. Done at start: campaigns build
        their e-mails inside a write transaction, where making it would wait on itself."""
        self._signer = Signer(self.secrets.get("email-tracking"))

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            self.load_key()
        assert self._signer is not None
        return self._signer

    def settings(self, app_id: str) -> dict[str, bool]:
        opens, clicks = self.repo.get(app_id)
        return {"Opens": opens, "Clicks": clicks}

    def update(self, app_id: str, opens: bool, clicks: bool) -> dict[str, bool]:
        self.repo.put(app_id, opens, clicks)
        return self.settings(app_id)

    def decorator(self, app_id: str) -> Callable[[Email], Email]:
        """What to do to each of an app's outgoing e-mails: add the tracking the app asks
        for. Read once per send, not per message."""
        opens, clicks = self.repo.get(app_id)
        if not opens and not clicks:
            return _unchanged

        def decorate(message: Email) -> Email:
            if not message.html:
                return message
            message_id = message.message_id

            def link(url: str) -> str:
                token = self.signer.token(CLICK, {"m": message_id, "u": url})
                return f"{self.public_url}{CLICK_PATH}{token}"

            token = self.signer.token(OPEN, {"m": message_id})
            pixel = f"{self.public_url}{OPEN_PATH}{token}.gif"
            html = add_tracking(
                message.html,
                pixel_url=pixel if opens else None,
                link_url=link if clicks else None,
            )
            return dataclasses.replace(message, html=html)

        return decorate

    def opened(self, token: str) -> None:
        payload = self.signer.read(OPEN, token.removesuffix(".gif"))
        if payload is not None:
            self._record(payload["m"], OPEN, None)

    def clicked(self, token: str) -> str | None:
        """Where the link leads, after recording the click; None for a token not ours."""
        payload = self.signer.read(CLICK, token)
        if payload is None:
            return None
        self._record(payload["m"], CLICK, payload["u"])
        return payload["u"]

    def _record(self, message_id: str, kind: str, link: str | None) -> None:
        """The message's open, or its click on ``link``, recorded the first time only: Pinpoint
        counts messages opened, and anyone holding a link must not be able to run a count up.
        A pixel loaded again or a link followed again costs one read and records nothing."""
        if self.repo.counted(message_id, kind, link):
            return
        delivery = self.ledger.get(message_id)
        if delivery is None:
            return
        event = outcomes.engagement(kind, delivery.message, link)
        with self.db.write() as conn:
            if not self.repo.count(conn, delivery.app_id, message_id, kind, link):
                return
            record_events(
                self.events,
                conn,
                delivery.app_id,
                epoch_ms(self.clock()),
                [
                    (
                        delivery.endpoint_key,
                        f"{message_id}/{event.event_type}/{uuid.uuid4().hex}",
                        event,
                    )
                ],
            )


def _unchanged(message: Email) -> Email:
    return message
