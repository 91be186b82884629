"""What the exporter hands a destination, and what a destination promises back: the small
interface every kind of destination (``destinations``, ``nats_destination``,
``redis_destination``) implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class DeliveryError(Exception):
    """The destination did not acknowledge the whole batch; it will be sent again."""


@dataclass(frozen=True)
class Record:
    """One event as a destination receives it."""

    id: str
    """Unique per event and the same on every retry, for destinations that deduplicate."""
    key: str
    """The endpoint id: Kinesis's partition key."""
    data: bytes
    """The Pinpoint event-stream JSON object, without a trailing newline."""


class Destination(Protocol):
    def send(self, records: Sequence[Record]) -> None:
        """Deliver every record or raise; after a raise, any of them may have arrived."""

    def close(self) -> None: ...
