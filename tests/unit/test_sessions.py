"""Sessionisation as the brief defines it: begin/end events and the 5-second grace period."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from clarion.events.sessions import track
from clarion.store.rollups import Rollup, SessionState

BASE = int(datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp() * 1000)
DAY = "2026-11-20"


def run(*events: tuple[int, str], state: SessionState | None = None) -> tuple[Rollup, SessionState]:
    rollup = Rollup()
    final = track(state or SessionState(), [(BASE + t, kind, None) for t, kind in events], rollup)
    return rollup, final


def totals(rollup: Rollup) -> tuple[int, int, int]:
    s = rollup.sessions[DAY]
    return s.started, s.ended, s.duration_ms


def test_start_and_stop_make_one_session_with_its_length() -> None:
    rollup, _ = run((0, "_session.start"), (60_000, "_session.stop"))
    assert totals(rollup) == (1, 1, 60_000)


def test_restart_within_five_seconds_continues_the_session() -> None:
    rollup, _ = run(
        (0, "_session.start"),
        (60_000, "_session.stop"),
        (65_000, "_session.start"),
        (120_000, "_session.stop"),
    )
    assert totals(rollup) == (1, 1, 120_000)


def test_restart_after_more_than_five_seconds_is_a_new_session() -> None:
    rollup, _ = run(
        (0, "_session.start"),
        (60_000, "_session.stop"),
        (65_001, "_session.start"),
        (70_001, "_session.stop"),
    )
    assert totals(rollup) == (2, 2, 65_000)


def test_background_and_foreground_follow_the_same_rule() -> None:
    rollup, _ = run(
        (0, "_session.start"),
        (10_000, "_session.pause"),
        (12_000, "_session.resume"),
        (20_000, "_session.pause"),
        (40_000, "_session.resume"),
        (50_000, "_session.stop"),
    )
    assert totals(rollup) == (2, 2, 30_000)


def test_state_carries_across_batches() -> None:
    _, state = run((0, "_session.start"), (60_000, "_session.stop"))
    rollup, _ = run((63_000, "_session.start"), (90_000, "_session.stop"), state=state)
    started, ended, duration = totals(rollup)
    assert (started, ended) == (0, 0), "the earlier end is undone, the new end counted"
    assert duration == 90_000 - 60_000


def test_a_session_left_open_ends_at_its_last_activity_when_a_new_one_starts() -> None:
    rollup, _ = run((0, "_session.start"), (30_000, "custom"), (100_000, "_session.start"))
    assert totals(rollup) == (2, 1, 30_000)


def test_late_events_are_sessionised_apart_from_the_current_session() -> None:
    _, state = run((10 * 3_600_000, "_session.start"))
    rollup, kept = run((0, "_session.start"), (5_000, "_session.stop"), state=state)
    assert totals(rollup) == (1, 1, 5_000)
    assert kept == state


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3_600_000),
            st.sampled_from(
                ["_session.start", "_session.stop", "_session.pause", "_session.resume", "custom"]
            ),
        ),
        max_size=40,
    )
)
def test_counts_never_go_negative_and_ends_never_outnumber_starts(
    events: list[tuple[int, str]],
) -> None:
    rollup, _ = run(*sorted(events))
    for day in rollup.sessions.values():
        assert 0 <= day.ended <= day.started
        assert day.duration_ms >= 0
