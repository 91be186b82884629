"""The delivery loop: one thread running asyncio, holding the channel adapters, on which
every attempt is made — the first from SendMessages, retries from the retry worker.

Adapters are asynchronous and keep connections open (an SMTP pool, HTTP/2 sessions), so they
live on one long-lived event loop; request threads hand attempts to it and wait for results.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from clarion.delivery.base import Adapter, Outcome, Result
from clarion.messaging.outgoing import Outgoing, Unsendable

AdapterFor = Callable[[str, str], Adapter[Any]]
"""(app id, channel) → the adapter that sends that app's messages on that channel."""
RevisionOf = Callable[[str, str], str]
"""(app id, channel) → a value that changes whenever the channel's credentials change, so an
adapter built from old credentials is replaced."""


@dataclass(frozen=True)
class Attempt:
    app_id: str
    channel: str
    message: Outgoing


class Dispatcher:
    def __init__(self, adapter_for: AdapterFor, revision_of: RevisionOf, timeout: float) -> None:
        self.adapter_for = adapter_for
        self.revision_of = revision_of
        self.timeout = timeout
        self._adapters: dict[tuple[str, str], tuple[str, Adapter[Any]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="clarion-delivery", daemon=True)
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close_adapters(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        self._loop = self._thread = None
        self._ready.clear()

    def attempt(self, attempts: Sequence[Attempt]) -> list[Result]:
        """Try each message once, all at once; blocks the calling thread (not the loop)."""
        if not attempts:
            return []
        self.start()
        assert self._loop is not None
        future: Future[list[Result]] = asyncio.run_coroutine_threadsafe(
            self._attempt_all(attempts), self._loop
        )
        return future.result(self.timeout + 30)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _attempt_all(self, attempts: Sequence[Attempt]) -> list[Result]:
        adapters: dict[tuple[str, str], Adapter[Any] | ValueError] = {}
        for key in {(a.app_id, a.channel) for a in attempts}:
            try:
                adapters[key] = await self._adapter(*key)
            except ValueError as error:
                adapters[key] = error
        return list(
            await asyncio.gather(
                *(self._attempt_one(adapters[(a.app_id, a.channel)], a) for a in attempts)
            )
        )

    async def _attempt_one(self, adapter: Adapter[Any] | ValueError, attempt: Attempt) -> Result:
        if isinstance(adapter, ValueError):
            return Result(Outcome.PERMANENT, 0, str(adapter))
        message = attempt.message
        if isinstance(message, Unsendable):
            return Result(Outcome.PERMANENT, 0, f"the message cannot be sent: {message.reason}")
        try:
            return await asyncio.wait_for(adapter.send(message), self.timeout)
        except TimeoutError:
            return Result(Outcome.TRANSIENT, 0, f"no answer within {self.timeout:g} s")

    async def _adapter(self, app_id: str, channel: str) -> Adapter[Any]:
        """The cached adapter, rebuilt when the channel's credentials changed."""
        key = (app_id, channel)
        revision = self.revision_of(app_id, channel)
        cached = self._adapters.get(key)
        if cached is not None and cached[0] == revision:
            return cached[1]
        adapter = self.adapter_for(app_id, channel)
        self._adapters[key] = (revision, adapter)
        if cached is not None:
            await cached[1].close()
        return adapter

    async def _close_adapters(self) -> None:
        for _, adapter in self._adapters.values():
            await adapter.close()
        self._adapters.clear()
