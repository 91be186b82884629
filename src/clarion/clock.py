"""Time as Pinpoint writes it, from one replaceable source so tests can move the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, the way Pinpoint formats CreationDate."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch: how the store keeps leases, due times and arrivals."""
    return int(moment.timestamp() * 1000)
