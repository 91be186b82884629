"""Who may receive a message: the one rule set scheduled runs, event triggers and journeys
apply to every endpoint they would reach.

An endpoint is passed over, with the reason, when the campaign's holdout keeps it
(``HOLDOUT``, which the campaign's metrics count) or its bucket belongs to another treatment;
when the treatment has nothing for its channel; when it opted out of everything (``OptOut``
``ALL``) or is ``INACTIVE``; when its own time zone is inside the quiet time; or when the
campaign's ``Daily``/``Total`` limits are used up for it. The checks run in two steps because
a local-time run decides *when* between them: ``reach`` (who the message is for) and ``now``
(whether it may go at this moment).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from clarion.campaigns import limits as campaign_limits
from clarion.campaigns.quiet import in_quiet_time
from clarion.campaigns.treatments import assign


class Skip(StrEnum):
    OPT_OUT = "OPT_OUT"
    INACTIVE = "INACTIVE"
    HOLDOUT = "HOLDOUT"
    OTHER_TREATMENT = "OTHER_TREATMENT"
    NO_MESSAGE = "NO_MESSAGE"
    QUIET_TIME = "QUIET_TIME"
    CAP = "DAILY_CAP"


@dataclass(frozen=True)
class Reach:
    """The treatment an endpoint is in (None when held out), or why it is passed over."""

    treatment: int | None
    skip: Skip | None


@dataclass(frozen=True)
class Eligibility:
    """What one campaign asks of every endpoint: its id (the treatment buckets hash it), its
    holdout and treatment sizes, the quiet time it observes, its limits, and which channels
    a treatment has a message for."""

    campaign_id: str
    holdout_percent: int
    sizes: tuple[int, ...]
    quiet: tuple[str, str] | None
    limits: campaign_limits.Limits
    has_message: Callable[[int, str], bool]
    """(treatment index, ChannelType) → whether that treatment sends something to it."""

    def reach(self, document: Mapping[str, Any], key: str, treatment: int | None) -> Reach:
        """Whether the message is for this endpoint: of ``treatment`` when one is named (a
        scheduled run sends one treatment), else of whichever its bucket is."""
        share = assign(
            document.get("Id", key), self.campaign_id, self.holdout_percent, self.sizes
        ).treatment
        if share is None:
            return Reach(None, Skip.HOLDOUT)
        if treatment is not None and share != treatment:
            return Reach(share, Skip.OTHER_TREATMENT)
        if not self.has_message(share, document.get("ChannelType") or ""):
            return Reach(share, Skip.NO_MESSAGE)
        if document.get("OptOut") == "ALL":
            return Reach(share, Skip.OPT_OUT)
        if document.get("EndpointStatus") == "INACTIVE":
            return Reach(share, Skip.INACTIVE)
        return Reach(share, None)

    def now(
        self,
        document: Mapping[str, Any],
        at: datetime,
        *,
        sent_in_window: int,
        sent_total: int,
        sent_in_timeframe: int = 0,
    ) -> Skip | None:
        """Whether a message the endpoint is reached by may go at ``at``, having had
        ``sent_in_window``, ``sent_total`` and ``sent_in_timeframe`` messages as the limits
        count them."""
        timezone = (document.get("Demographic") or {}).get("Timezone")
        if self.quiet is not None and in_quiet_time(at, *self.quiet, timezone):
            return Skip.QUIET_TIME
        if not campaign_limits.endpoint_allowed(
            self.limits,
            sent_in_window=sent_in_window,
            sent_total=sent_total,
            sent_in_timeframe=sent_in_timeframe,
        ):
            return Skip.CAP
        return None

    def decide(
        self,
        document: Mapping[str, Any],
        key: str,
        at: datetime,
        *,
        sent_in_window: int,
        sent_total: int,
    ) -> Reach:
        """Both steps at once, for messages that go as soon as they are decided (event
        triggers): the endpoint's treatment, or the first reason it is passed over."""
        reached = self.reach(document, key, None)
        if reached.skip is not None:
            return reached
        skip = self.now(document, at, sent_in_window=sent_in_window, sent_total=sent_total)
        return Reach(reached.treatment, skip)
