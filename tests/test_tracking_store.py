"""Tracking switches, on until an app turns them off, and opens and clicks already counted:
once per message (and link), and gone with their app."""

from __future__ import annotations

import uuid

from clarion.store.apps import AppRepository
from clarion.store.database import Database
from clarion.store.tracking import TrackingRepository


def test_tracking_is_on_until_an_app_turns_it_off(db: Database) -> None:
    """No row means the app never chose: apps made before tracking was the default track too,
    and a choice once stored is kept, off as well as on."""
    repo = TrackingRepository(db)
    app_id = uuid.uuid4().hex
    assert repo.get(app_id) == (True, True)
    repo.put(app_id, False, False)
    assert repo.get(app_id) == (False, False)
    repo.put(app_id, False, True)
    assert repo.get(app_id) == (False, True)
    repo.put(app_id, True, True)
    assert repo.get(app_id) == (True, True)


def test_an_open_or_a_click_counts_once(db: Database) -> None:
    repo = TrackingRepository(db)
    app_id, message_id = uuid.uuid4().hex, f"{uuid.uuid4().hex}@clarion.test"
    sale, new = "https://shop.example.com/sale", "https://shop.example.com/new"
    assert not repo.counted(message_id, "open", None)
    with db.write() as conn:
        assert repo.count(conn, app_id, message_id, "open", None)
        assert not repo.count(conn, app_id, message_id, "open", None)
        assert repo.count(conn, app_id, message_id, "click", sale)
        assert not repo.count(conn, app_id, message_id, "click", sale)
        assert repo.count(conn, app_id, message_id, "click", new)
    assert repo.counted(message_id, "open", None)
    assert repo.counted(message_id, "click", sale)
    assert not repo.counted(message_id, "click", "https://shop.example.com/other")

    AppRepository(db).delete(app_id)
    assert not repo.counted(message_id, "open", None)
    assert not repo.counted(message_id, "click", sale)
