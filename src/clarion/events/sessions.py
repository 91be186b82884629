"""Sessions as Pinpoint defines them, per endpoint.

A session begins when the app starts or comes to the foreground (``_session.start`` or
``_session.resume``) and ends when it stops or goes to the background (``_session.stop`` or
``_session.pause``). A gap of inactivity of 5 seconds or less does not start a new session,
even when the client sends a new session id: the next begin continues the session that just
ended. A session counts on the day it started; its length is known when it ends.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from clarion.events.rules import SESSION_BEGINS, SESSION_ENDS, day_of
from clarion.store.rollups import Rollup, SessionState

GRACE_MS: Final = 5_000


def track(
    state: SessionState, events: list[tuple[int, str, str | None]], rollup: Rollup
) -> SessionState:
    """Apply one endpoint's events — (timestamp ms, type, session id), in time order — to its
    session state, recording sessions in ``rollup``; returns the state to keep.

    Events from before the endpoint's last known activity (an offline SDK uploading late) are
    sessionised on their own, without disturbing the current session.
    """
    if not events:
        return state
    late = state.last_ms is not None and events[0][0] < state.last_ms - GRACE_MS
    current = SessionState() if late else state
    for timestamp, event_type, session_id in events:
        if event_type in SESSION_BEGINS:
            current = _begin(current, timestamp, session_id, rollup)
        elif event_type in SESSION_ENDS:
            current = _end(current, timestamp, rollup)
        last = timestamp if current.last_ms is None else max(current.last_ms, timestamp)
        current = replace(current, last_ms=last)
    return state if late else current


def _begin(state: SessionState, at: int, session_id: str | None, rollup: Rollup) -> SessionState:
    if state.start_ms is not None:
        if state.stop_ms is not None and 0 <= at - state.stop_ms <= GRACE_MS:
            rollup.session_reopened(day_of(state.start_ms), state.stop_ms - state.start_ms)
            return replace(state, stop_ms=None)
        if state.stop_ms is None:
            last = state.last_ms if state.last_ms is not None else state.start_ms
            if 0 <= at - last <= GRACE_MS:
                return state
            rollup.session_ended(day_of(state.start_ms), max(0, last - state.start_ms))
    rollup.session_started(day_of(at))
    return SessionState(session_id=session_id, start_ms=at, stop_ms=None, last_ms=at)


def _end(state: SessionState, at: int, rollup: Rollup) -> SessionState:
    if state.start_ms is None or state.stop_ms is not None or at < state.start_ms:
        return state
    rollup.session_ended(day_of(state.start_ms), at - state.start_ms)
    return replace(state, stop_ms=at)
