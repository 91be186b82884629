"""A/B treatments and the holdout: which share of a campaign's segment each endpoint is in.

What Pinpoint documents (botocore ``pinpoint`` 2016-12-01, ``WriteCampaignRequest`` and
``WriteTreatmentResource``; Amazon Pinpoint Developer Guide, "Creating A/B Test Campaigns"):

* ``HoldoutPercent`` is "the allocated percentage of users (segment members) who shouldn't
  receive messages from the campaign", and each additional treatment's ``SizePercent`` "the
  allocated percentage of users (segment members) to send the treatment to". Both are shares
  of the whole segment, not of what the holdout leaves: the Developer Guide's example pairs
  ``HoldoutPercent`` 10 with one additional treatment of ``SizePercent`` 40.
* The default treatment has no ``SizePercent`` of its own; it gets what remains (50 in that
  example). So the holdout and every treatment's share add up to 100, and the holdout and the
  additional treatments together may take at most 100.
* For holdouts Pinpoint "applies a probability-based algorithm to the percentage that you
  specify. Therefore, the actual percentage … may not be equal to the percentage that you
  specify" (``HoldoutActivity.Percentage``). Clarion's draw is per endpoint and deterministic:
  SHA-256 of the campaign id and the endpoint id, read as a number in [0, 10000), picks a
  bucket; the holdout takes the lowest buckets, then each treatment in order takes 100
  buckets per point of ``SizePercent``. An endpoint lands in the same share on every run of
  the campaign and whatever other endpoints exist, and shares match the percentages within
  sampling error.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from clarion.errors import BadRequest

BUCKETS = 10_000
_BUCKETS_PER_PERCENT = BUCKETS // 100


class AllocationError(BadRequest, ValueError):
    """Holdout and treatment percentages Pinpoint would refuse; the message names the member."""


@dataclass(frozen=True)
class Assignment:
    """An endpoint's share of a campaign: ``treatment`` is the index of its treatment (0 for
    the default one, i + 1 for ``AdditionalTreatments[i]``), None when it is held out."""

    treatment: int | None

    @property
    def held_out(self) -> bool:
        return self.treatment is None


def treatment_sizes(holdout_percent: int | None, additional: Sequence[int]) -> tuple[int, ...]:
    """The ``SizePercent`` of every treatment, the default one first with what the holdout and
    the additional treatments leave."""
    holdout = _percent(holdout_percent or 0, "HoldoutPercent")
    sizes = [
        _percent(size, f"AdditionalTreatments[{index}].SizePercent")
        for index, size in enumerate(additional)
    ]
    taken = holdout + sum(sizes)
    if taken > 100:
        raise AllocationError(
            f"HoldoutPercent and AdditionalTreatments[].SizePercent add up to {taken}; together "
            "they may take at most 100, the default treatment getting what remains"
        )
    return (100 - taken, *sizes)


def assign(
    endpoint_id: str, campaign_id: str, holdout_percent: int, treatments: Sequence[int]
) -> Assignment:
    """The share of ``campaign_id`` that ``endpoint_id`` is in. ``treatments`` is the
    ``SizePercent`` of every treatment, the default one first (see ``treatment_sizes``)."""
    shares = bisect_right(
        _upper_bounds(holdout_percent, tuple(treatments)), bucket(campaign_id, endpoint_id)
    )
    return Assignment(None if shares == 0 else shares - 1)


def bucket(campaign_id: str, endpoint_id: str) -> int:
    """The endpoint's bucket in [0, BUCKETS) for the campaign: uniform and stable."""
    digest = hashlib.sha256(f"{campaign_id}\x00{endpoint_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


@lru_cache(maxsize=1024)
def _upper_bounds(holdout_percent: int, treatments: tuple[int, ...]) -> tuple[int, ...]:
    """The exclusive upper bucket of the holdout, then of each treatment."""
    holdout = _percent(holdout_percent, "HoldoutPercent")
    if not treatments:
        raise AllocationError("a campaign has at least its default treatment")
    sizes = [_percent(size, f"treatments[{index}]") for index, size in enumerate(treatments)]
    if holdout + sum(sizes) != 100:
        raise AllocationError(
            f"HoldoutPercent ({holdout}) and the treatments' SizePercent ({sum(sizes)} in all) "
            "must add up to 100"
        )
    bounds = [holdout * _BUCKETS_PER_PERCENT]
    for size in sizes:
        bounds.append(bounds[-1] + size * _BUCKETS_PER_PERCENT)
    return tuple(bounds)


def _percent(value: int, member: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise AllocationError(f"{member} must be an integer from 0 to 100; got {value!r}")
    return value
