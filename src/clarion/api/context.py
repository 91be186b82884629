"""What a handler is given besides its input: the core, the request id and the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass

from clarion.core import Clarion


@dataclass(frozen=True)
class Context:
    clarion: Clarion
    request_id: str
    access_key_id: str
    app_scope: frozenset[str] | None
    """Apps the caller's key is limited to; None means every app."""
    body_size: int

    def may_see(self, app_id: str) -> bool:
        return self.app_scope is None or app_id in self.app_scope
