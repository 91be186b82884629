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


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in HANDLERS:
            raise RuntimeError(f"{name} is registered twice")
        HANDLERS[name] = handler
        return handler

    return register


def load() -> dict[str, Handler]:
    """Import every handler family, so each registers its operations."""
    from clarion.api.handlers import (  # noqa: F401
        analytics,
        apps,
        channels,
        endpoints,
        events,
        jobs,
        phone,
        reports,
        segments,
        streams,
        tags,
    )

    return HANDLERS
