"""Background loops: the threads that run jobs, retry messages and drive campaigns.

Each calls one ``step`` over and over: again at once while it finds work, otherwise after
``interval`` seconds or as soon as someone wakes it. A failing step is logged and tried again;
``stop`` lets the current step finish."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("clarion.loops")


class Loop:
    def __init__(
        self,
        name: str,
        step: Callable[[], int],
        interval: float,
        stopping: threading.Event | None = None,
        wakeup: threading.Event | None = None,
    ) -> None:
        self.name = name
        self.step = step
        """Does some work; how much (0: nothing was due)."""
        self.interval = interval
        self.stopping = stopping or threading.Event()
        """Set by ``stop``; long steps look at it to stop between pieces of work."""
        self._wake = wakeup or threading.Event()
        """Set by ``wake``, or by whoever was given the same event before the loop existed."""
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Work just arrived: take the next step now."""
        self._wake.set()

    def start(self) -> None:
        self.stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        self.stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                done = self.step()
            except Exception:
                log.exception("%s failed; it tries again shortly", self.name)
                done = 0
            if not done:
                self._wake.wait(self.interval)
                self._wake.clear()
