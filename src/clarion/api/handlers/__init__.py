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
INLINE: set[str] = set()
"""Operations whose work the API's own quotas keep to a few small queries (an endpoint, a
PutEvents batch): on SQLite they may run on the event loop, where a thread hand-off would cost
more than the request. Everything else runs on a worker thread, so no request can stall the
others."""


def operation(name: str, *, inline: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in HANDLERS:
            raise RuntimeError(f"{name} is registered twice")
        HANDLERS[name] = handler
        if inline:
            INLINE.add(name)
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
