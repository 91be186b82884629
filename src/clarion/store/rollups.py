"""What one batch of events adds to the per-day rollups, gathered in memory first so that each
rollup row is written once per request however many events touch it; and the session state
kept per endpoint. Plain values: the events domain fills them, this package writes them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

Day = str


class FactKey(NamedTuple):
    """The key of one ``daily_message_facts`` row; attributes an event lacks are ``""``."""

    day: str
    event_type: str
    campaign_id: str
    iso_country_code: str
    record_status: str
    delivery_type: str
    campaign_send_status: str


class Fact(NamedTuple):
    """What one event adds to its facts row."""

    parts: int
    priced: int
    price: float


@dataclass
class MetricTotals:
    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)


@dataclass
class SessionTotals:
    started: int = 0
    ended: int = 0
    duration_ms: int = 0


@dataclass
class RevenueTotals:
    purchases: int = 0
    quantity: float = 0.0
    revenue: float = 0.0


@dataclass
class FactTotals:
    """What a batch adds to one ``daily_message_facts`` row."""

    count: int = 0
    parts: int = 0
    priced: int = 0
    price: float = 0.0

    def add(self, fact: Fact) -> None:
        self.count += 1
        self.parts += fact.parts
        self.priced += fact.priced
        self.price += fact.price


@dataclass
class Rollup:
    active: dict[Day, set[int]] = field(default_factory=lambda: defaultdict(set))
    sessions: dict[Day, SessionTotals] = field(default_factory=lambda: defaultdict(SessionTotals))
    events: dict[tuple[Day, str], int] = field(default_factory=lambda: defaultdict(int))
    attributes: dict[tuple[Day, str, str, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    metrics: dict[tuple[Day, str, str], MetricTotals] = field(
        default_factory=lambda: defaultdict(MetricTotals)
    )
    revenue: dict[tuple[Day, str], RevenueTotals] = field(
        default_factory=lambda: defaultdict(RevenueTotals)
    )
    message_endpoints: dict[tuple[Day, str, str], set[int]] = field(
        default_factory=lambda: defaultdict(set)
    )
    """Endpoint ordinals per day, message event type and sender (campaign id, "" if none)."""
    message_facts: dict[FactKey, FactTotals] = field(
        default_factory=lambda: defaultdict(FactTotals)
    )
    """Message events per day, type, sender and the attributes the KPIs pair."""

    def session_started(self, day: Day) -> None:
        self.sessions[day].started += 1

    def session_ended(self, day: Day, duration_ms: int) -> None:
        self.sessions[day].ended += 1
        self.sessions[day].duration_ms += duration_ms

    def session_reopened(self, day: Day, duration_ms: int) -> None:
        """A session counted as ended came back within the grace period: it has not ended."""
        self.sessions[day].ended -= 1
        self.sessions[day].duration_ms -= duration_ms


@dataclass(frozen=True)
class SessionState:
    """An endpoint's latest session: when it began, when (if) it ended, last activity seen."""

    session_id: str | None = None
    start_ms: int | None = None
    stop_ms: int | None = None
    last_ms: int | None = None
