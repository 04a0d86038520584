"""Milestones: toggling, the done set, and the event history."""

from __future__ import annotations

from datetime import timedelta

from bot.storage import Database, MilestoneRepository
from tests.storage.conftest import T0, CountRows, MakeUser


def test_toggle_and_events(database: Database, make_user: MakeUser) -> None:
    user_id, other = make_user("1"), make_user("2")
    t1, t2, t3 = T0, T0 + timedelta(days=1), T0 + timedelta(days=2)
    with database.transaction() as session:
        milestones = MilestoneRepository(session)
        assert milestones.set_done(user_id, "nib", True, t1) is True
        assert milestones.set_done(user_id, "qris", True, t2) is True
        assert milestones.set_done(other, "nib", True, t2) is True
    with database.transaction() as session:
        milestones = MilestoneRepository(session)
        assert milestones.set_done(user_id, "nib", True, t3) is False  # a double tap
        assert milestones.set_done(user_id, "qris", False, t3) is True
        assert milestones.set_done(user_id, "halal", False, t3) is False  # never done

    with database.transaction() as session:
        milestones = MilestoneRepository(session)
        assert milestones.done_ids(user_id) == {"nib"}
        assert milestones.done_ids(other) == {"nib"}
        events = [(e.milestone_id, e.done, e.at) for e in milestones.events(user_id)]
        assert events == [("nib", True, t1), ("qris", True, t2), ("qris", False, t3)]


def test_done_again_after_undo(
    database: Database, make_user: MakeUser, count_rows: CountRows
) -> None:
    user_id = make_user()
    with database.transaction() as session:
        milestones = MilestoneRepository(session)
        for done in (True, False, True):
            assert milestones.set_done(user_id, "nib", done)
        assert milestones.done_ids(user_id) == {"nib"}
    assert count_rows("milestone_progress", user_id=user_id) == 1
    assert count_rows("milestone_events", user_id=user_id) == 3
