"""NATS JetStream destination: ``nats://HOST:PORT/SUBJECT``.

Each record is one message published to SUBJECT and acknowledged by the JetStream stream that
captures it; without such a stream the batch fails (core NATS gives no acknowledgement, so it
could not be delivered at least once). Messages carry ``Nats-Msg-Id``, so JetStream drops the
copies a retried batch sends within the stream's duplicate window.

nats-py is asyncio-only; the destination runs its own event loop, used only by the thread that
calls ``send``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import nats
from nats.aio.client import Client

from clarion.streams.records import DeliveryError, Record


class NatsDestination:
    def __init__(self, server: str, subject: str, timeout: float = 10.0) -> None:
        self.server = server
        self.subject = subject
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self.client: Client | None = None

    def send(self, records: Sequence[Record]) -> None:
        try:
            self.loop.run_until_complete(self._publish(records))
        except Exception as failure:
            self.loop.run_until_complete(self._disconnect())
            raise DeliveryError(
                f"NATS JetStream did not acknowledge {self.subject}: {failure!r}"
            ) from failure

    def close(self) -> None:
        self.loop.run_until_complete(self._disconnect())
        self.loop.close()

    async def _publish(self, records: Sequence[Record]) -> None:
        if self.client is None or self.client.is_closed:
            self.client = await nats.connect(
                self.server, connect_timeout=self.timeout, allow_reconnect=False
            )
        stream = self.client.jetstream(timeout=self.timeout)
        for record in records:
            await stream.publish(self.subject, record.data, headers={"Nats-Msg-Id": record.id})

    async def _disconnect(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
