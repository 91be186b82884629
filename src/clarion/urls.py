"""Rules shared by everything that reads or writes a URL an API client names (event stream
destinations, import sources, export targets), so each place says yes and no alike."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path


def is_loopback(host: str) -> bool:
    """Plain http is allowed to these hosts only: nothing leaves the machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def within_roots(path: Path, roots: Sequence[Path]) -> Path | None:
    """``path`` with links resolved, if it lies under one of ``roots`` (resolved already)."""
    resolved = path.resolve()
    return resolved if any(resolved.is_relative_to(root) for root in roots) else None
