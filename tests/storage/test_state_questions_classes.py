"""Conversation state, the question log and the UMKM class history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.storage import (
    ClassHistoryRepository,
    Database,
    QuestionLogRepository,
    StateRepository,
)
from tests.storage.conftest import T0, MakeUser


def test_state_survives_the_transaction_and_is_replaced(
    database: Database, make_user: MakeUser
) -> None:
    user_id = make_user()
    data = {"month": "2026-10-01", "values": [1, 2]}
    with database.transaction() as session:
        StateRepository(session).set(user_id, "progress.omzet", data)
    data["month"] = "changed by the caller"  # must not leak into what was stored
    with database.transaction() as session:
        state = StateRepository(session).get(user_id)
        assert state is not None
        assert state.state == "progress.omzet"
        assert state.data == {"month": "2026-10-01", "values": [1, 2]}
        StateRepository(session).set(user_id, "onboarding.name")
    with database.transaction() as session:
        states = StateRepository(session)
        state = states.get(user_id)
        assert state is not None
        assert (state.state, state.data) == ("onboarding.name", {})
        assert states.clear(user_id) is True
        assert states.clear(user_id) is False
        assert states.get(user_id) is None


def test_question_log_feedback_and_digest(database: Database, make_user: MakeUser) -> None:
    user_id, other = make_user("1"), make_user("2")
    with database.transaction() as session:
        log = QuestionLogRepository(session)
        answered = log.add(
            user_id, "Cara daftar NIB?", "cara daftar nib", ["nib", "oss"], [0.8, 0.5], True, T0
        )
        old = log.add(user_id, "Pajak?", "pajak", [], [], False, T0 - timedelta(days=8))
        new = log.add(other, "Harga cabai?", "harga cabai", ["x"], [0.1], False, T0)
        with pytest.raises(ValueError):
            log.add(user_id, "x", "x", ["a"], [], True)
    with database.transaction() as session:
        log = QuestionLogRepository(session)
        assert log.set_feedback(answered.id, user_id, "down", T0) is True
        assert log.set_feedback(answered.id, other, "up") is False  # not theirs
        with pytest.raises(ValueError):
            log.set_feedback(answered.id, user_id, "meh")
    with database.transaction() as session:
        log = QuestionLogRepository(session)
        mine = log.for_user(user_id)
        assert [q.id for q in mine] == [answered.id, old.id]  # newest first
        assert (mine[0].feedback, mine[0].feedback_at) == ("down", T0)
        assert mine[0].top_ids == ["nib", "oss"]
        assert mine[0].top_scores == [0.8, 0.5]
        assert [q.id for q in log.for_user(user_id, limit=1)] == [answered.id]
        digest = log.unanswered_since(T0 - timedelta(days=7))
        assert [q.id for q in digest] == [new.id]


def test_class_history(database: Database, make_user: MakeUser) -> None:
    user_id = make_user()
    with database.transaction() as session:
        classes = ClassHistoryRepository(session)
        assert classes.latest(user_id) is None
        classes.add(user_id, "micro", date(2026, 1, 1), T0)
        assert classes.add_if_changed(user_id, "micro", date(2026, 6, 1)) is None
        small = classes.add_if_changed(user_id, "small", date(2026, 10, 1))
        assert small is not None
    with database.transaction() as session:
        classes = ClassHistoryRepository(session)
        latest = classes.latest(user_id)
        assert latest is not None
        assert (latest.umkm_class, latest.as_of) == ("small", date(2026, 10, 1))
        assert [c.umkm_class for c in classes.history(user_id)] == ["micro", "small"]
