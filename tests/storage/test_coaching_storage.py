"""Coaching and outbox storage on SQLite and PostgreSQL: single-use invites under concurrency,
memberships, batch reads for cohort views, outbox dedupe and rollback."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.coaching.invites import create_invite, redeem_invite
from bot.storage import Coach, Database, OutboxMessage, Repositories
from tests.storage.conftest import T0, MakeUser, run_at_once


def _institution(database: Database) -> int:
    with database.transaction() as session:
        return Repositories(session).coaches.add_institution("Dinas Koperasi Gresik", "government", "Gresik").id


def test_an_invite_is_redeemed_once_even_by_two_people_at_once(database: Database, make_user: MakeUser) -> None:
    institution_id = _institution(database)
    with database.transaction() as session:
        invite = create_invite(Repositories(session), institution_id, T0, days=7)
    users = [make_user("201"), make_user("202")]

    def redeem(session):  # type: ignore[no-untyped-def]
        repos = Repositories(session)
        mine = users.pop()
        user = repos.users.by_id(mine)
        return redeem_invite(repos, user, invite.code, "Rina", T0 + timedelta(hours=1))

    results = run_at_once(database, 2, redeem)
    assert sorted(type(r).__name__ for r in results) == ["Coach", "str"]
    assert "used" in results
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Coach)) == 1


def test_invite_expiry_and_unknown_codes(database: Database, make_user: MakeUser) -> None:
    institution_id = _institution(database)
    user_id = make_user("301")
    with database.transaction() as session:
        repos = Repositories(session)
        invite = create_invite(repos, institution_id, T0, days=7)
        user = repos.users.by_id(user_id)
        assert redeem_invite(repos, user, invite.code, "X", T0 + timedelta(days=7, seconds=1)) == "expired"
        assert redeem_invite(repos, user, "not-a-real-code", "X", T0) == "unknown"
        assert repos.coaches.invite(invite.code) is None  # stored hashed, never in clear


def test_memberships_rejoin_and_batch_reads(database: Database, make_user: MakeUser) -> None:
    institution_id = _institution(database)
    coach_user, a, b = make_user("401"), make_user("402"), make_user("403")
    month = date(2026, 11, 1)
    with database.transaction() as session:
        repos = Repositories(session)
        coach = repos.coaches.add_coach(coach_user, institution_id, "Rina")
        cohort = repos.cohorts.create(coach.id, "KUB Melati", "kub", "Asia/Makassar", "code401")
        repos.cohorts.join(cohort.id, a, "micro", at=T0)
        repos.cohorts.join(cohort.id, b, None, at=T0)
        assert repos.cohorts.leave(cohort.id, b, at=T0)
        assert not repos.cohorts.leave(cohort.id, b, at=T0)
        assert [u.id for _, u in repos.cohorts.members(cohort.id)] == [a]
        assert repos.cohorts.coach_sees_member(coach.id, a) and not repos.cohorts.coach_sees_member(coach.id, b)
        again = repos.cohorts.join(cohort.id, b, "small", at=T0 + timedelta(days=1))
        assert again.left_at is None and again.class_at_join == "small"
        repos.classes.add(a, "micro", date(2026, 1, 1))
        repos.classes.add(a, "small", date(2026, 10, 1))
        repos.milestones.set_done(a, "nib", True)
        repos.figures.record(a, "omzet", month, 9_000_000)
        repos.figures.record(a, "omzet", month, 9_500_000)  # a correction: the current value counts
        assert repos.classes.latest_for_users([a, b]) == {a: "small"}
        assert repos.milestones.done_for_users([a, b]) == {a: {"nib"}, b: set()}
        assert repos.figures.for_users([a, b], "omzet", month) == {a: {month: 9_500_000}, b: {}}


def test_outbox_dedupe_and_a_rolled_back_change_queues_nothing(database: Database, make_user: MakeUser) -> None:
    user_id = make_user("501")
    with database.transaction() as session:
        repos = Repositories(session)
        user = repos.users.by_id(user_id)
        assert repos.outbox.enqueue(user, "test", {"text": "a"}, "same-key") is not None
        assert repos.outbox.enqueue(user, "test", {"text": "b"}, "same-key") is None
    with pytest.raises(RuntimeError), database.transaction() as session:
        repos = Repositories(session)
        repos.outbox.enqueue(repos.users.by_id(user_id), "test", {"text": "c"}, "other-key")
        raise RuntimeError("the change that caused it failed")
    with database.transaction() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert [(r.dedupe_key, r.payload["text"], r.chat_id) for r in rows] == [("same-key", "a", "501")]
