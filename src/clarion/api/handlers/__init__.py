"""Operation handlers: plain functions from a validated input dict to an output dict.

Each module registers the Pinpoint operations of one family with ``@operation``; an operation
nobody registered answers 501 NotImplementedException.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clarion.api.context import Context

Input = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[Context, Input], Output]

HANDLERS: dict[str, Handler] = {}
BLOCKING: set[str] = set()
"""Operations that wait on the outside world (a mail server, a push service): they run on a
worker thread even where the others run on the event loop."""


def operation(name: str, *, blocking: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in HANDLERS:
            raise RuntimeError(f"{name} is registered twice")
        HANDLERS[name] = handler
        if blocking:
            BLOCKING.add(name)
        return handler

    return register


def load() -> dict[str, Handler]:
    """Import every handler family, so each registers its operations."""
    from clarion.api.handlers import (  # noqa: F401
        analytics,
        apps,
        campaign_kpis,
        campaigns,
        channels,
        endpoints,
        events,
        inapp,
        jobs,
        messages,
        phone,
        reports,
        segments,
        streams,
        tags,
        templates,
        tracking,
        webpush,
    )

    return HANDLERS
