"""Sending limits: which ``CampaignLimits`` a campaign runs under, and the per-endpoint,
per-second and per-run arithmetic the scheduler applies.

What Pinpoint documents (botocore ``pinpoint`` 2016-12-01 ``CampaignLimits``; Amazon Pinpoint
User Guide, "General settings"):

* The application's ``Limits`` are "the default sending limits for campaigns in the
  application"; a campaign's own ``Limits`` override them ("If you configure settings for an
  individual campaign … those settings override the settings that you choose on the General
  settings page"). Each member is taken from the campaign when it sets it, else from the
  application.
* ``Daily``: for a campaign, "the maximum number of messages that a campaign can send to a
  single endpoint during a 24-hour period"; for the application, the maximum "that can be sent
  to a single endpoint during a 24-hour period by all the campaigns in the project". So an
  application's ``Daily`` counts every campaign's messages to the endpoint, a campaign's only
  its own (``Limits.daily_across_campaigns``). The User Guide warns that campaigns launched at
  the same moment may together exceed it, as counts are read before sending.
* ``Total``: the most messages "a campaign can send to a single endpoint during the course of
  the campaign. If a campaign recurs, this setting applies to all runs". It counts messages
  that *target* the endpoint, including one quiet time kept from it.
* ``Daily`` and ``Total`` are at most 100; ``MessagesPerSecond`` is 1 to 20,000 and, when not
  set, Pinpoint sends "as fast as possible"; ``MaximumDuration`` is "the maximum amount of
  time, in seconds, that a campaign can attempt to deliver a message after the scheduled start
  time", at least 60; ``Session`` is "the maximum total number of messages that the campaign
  can send per user session". These bounds are checked where limits are written
  (``clarion.apps.settings.validate_limits``).
* A limit of 0 means no limit, as Pinpoint documents for journey caps ("The default setting is
  0, which means that there is no limit") and in-app caps ("0 displaying … an unlimited
  number"); it says nothing else about 0 for campaigns.
* Clarion reads "a 24-hour period" as the 24 hours before the moment of sending
  (``DAILY_WINDOW``), not a calendar day, which would depend on a time zone Pinpoint does not
  name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DAILY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Limits:
    """The limits a campaign runs under; None is no limit. ``daily`` counts the messages of
    every campaign of the application when ``daily_across_campaigns``, else the campaign's
    own; ``maximum_duration`` is in seconds."""

    daily: int | None = None
    daily_across_campaigns: bool = False
    total: int | None = None
    messages_per_second: int | None = None
    maximum_duration: int | None = None
    session: int | None = None
    timeframe_days: int | None = None
    timeframe_cap: int | None = None
    """A journey's TimeframeCap: at most ``timeframe_cap`` messages of every campaign and
    journey to one endpoint in ``timeframe_days`` days."""


def effective_limits(
    app_limits: Mapping[str, Any] | None, campaign_limits: Mapping[str, Any] | None
) -> Limits:
    """The campaign's ``Limits`` member by member, the application's where it sets none."""
    app, campaign = app_limits or {}, campaign_limits or {}

    def chosen(member: str) -> int | None:
        value = campaign.get(member)
        return app.get(member) if value is None else value

    return Limits(
        daily=chosen("Daily") or None,
        daily_across_campaigns=campaign.get("Daily") is None and bool(app.get("Daily")),
        total=chosen("Total") or None,
        messages_per_second=chosen("MessagesPerSecond"),
        maximum_duration=chosen("MaximumDuration"),
        session=chosen("Session") or None,
    )


def endpoint_allowed(
    limits: Limits,
    *,
    sent_in_window: int,
    sent_total: int,
    sent_in_session: int = 0,
    sent_in_timeframe: int = 0,
) -> bool:
    """Whether one more message may go to an endpoint (see ``exceeded``)."""
    return (
        exceeded(
            limits,
            sent_in_window=sent_in_window,
            sent_total=sent_total,
            sent_in_session=sent_in_session,
            sent_in_timeframe=sent_in_timeframe,
        )
        is None
    )


def exceeded(
    limits: Limits,
    *,
    sent_in_window: int,
    sent_total: int,
    sent_in_session: int = 0,
    sent_in_timeframe: int = 0,
) -> str | None:
    """The limit one more message to an endpoint would break — "DAILY_CAP", "TOTAL_CAP",
    "SESSION_CAP" or "TIMEFRAME_CAP" — or None. The endpoint has already had
    ``sent_in_window`` messages in the last ``DAILY_WINDOW`` (of every campaign of the
    application when ``limits.daily_across_campaigns``, else of this one), ``sent_total``
    from this campaign (all runs, quiet-time skips included), ``sent_in_session`` from this
    campaign in its current session and ``sent_in_timeframe`` from every campaign and journey
    in the last ``timeframe_days``."""
    checks = (
        ("DAILY_CAP", sent_in_window, limits.daily),
        ("TOTAL_CAP", sent_total, limits.total),
        ("SESSION_CAP", sent_in_session, limits.session),
        ("TIMEFRAME_CAP", sent_in_timeframe, limits.timeframe_cap),
    )
    return next((name for name, count, limit in checks if not _under(count, limit)), None)


def send_budget(limits: Limits, *, elapsed_seconds: float, sent: int) -> int | None:
    """How many more messages a run that started ``elapsed_seconds`` ago and has sent ``sent``
    may send now under ``MessagesPerSecond`` (None: no limit). The run may send one second's
    worth at once and then keeps to the rate."""
    rate = limits.messages_per_second
    if rate is None:
        return None
    return max(0, math.floor(rate * (max(elapsed_seconds, 0.0) + 1)) - sent)


def delivery_deadline(limits: Limits, scheduled: datetime) -> datetime | None:
    """The last moment a message scheduled for ``scheduled`` (the run's start, or the
    endpoint's wave in a local-time run) may still be attempted; None for no deadline."""
    if limits.maximum_duration is None:
        return None
    return scheduled + timedelta(seconds=limits.maximum_duration)


def _under(count: int, limit: int | None) -> bool:
    return limit is None or count < limit
