"""Timestamps are stored in UTC and come back timezone-aware on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, select
from sqlalchemy.exc import StatementError

from bot.storage import (
    Base,
    Database,
    OutboxMessage,
    ReminderOccurrence,
    Repositories,
    User,
    UTCDateTime,
    WebLogin,
    WebSession,
)
from tests.storage.conftest import MakeUser

WIB = timezone(timedelta(hours=7))  # Jakarta
LOCAL = datetime(2026, 11, 23, 9, 15, 30, 123456, tzinfo=WIB)


def test_every_timestamp_column_reads_back_aware_utc(database: Database, make_user: MakeUser) -> None:
    user_id = make_user()
    with database.transaction() as session:
        repos = Repositories(session)
        user = repos.users.by_id(user_id)
        assert user is not None
        user.consent_at = LOCAL
        repos.states.set(user_id, "menu", at=LOCAL)
        question = repos.questions.add(user_id, "q", "q", [], [], False, at=LOCAL)
        repos.questions.set_feedback(question.id, user_id, "up", at=LOCAL)
        repos.updates.claim(1, at=LOCAL)
        repos.milestones.set_done(user_id, "nib", True, at=LOCAL)
        repos.figures.record(user_id, "omzet", date(2026, 10, 1), 1, at=LOCAL)
        repos.figures.record(user_id, "omzet", date(2026, 10, 1), 2, at=LOCAL)
        repos.classes.add(user_id, "micro", date(2026, 10, 1), at=LOCAL)
        _fill_coaching_and_delivery(repos, user, LOCAL)

    seen: set[str] = set()
    with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, DateTime | UTCDateTime)]
            for column in columns:
                assert isinstance(column.type, UTCDateTime), f"{column} is a plain DateTime"
            for row in session.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    assert value.tzinfo is not None, f"{column} came back naive"
                    assert value.utcoffset() == timedelta(0), f"{column} is not in UTC"
                    seen.add(str(column))
    every = {str(c) for t in Base.metadata.tables.values() for c in t.c if isinstance(c.type, UTCDateTime)}
    assert seen == every


def test_instant_is_preserved_across_time_zones(database: Database, make_user: MakeUser) -> None:
    user_id = make_user()
    with database.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.consent_at = LOCAL
    with database.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert user.consent_at == LOCAL  # the same instant ...
        assert user.consent_at.tzinfo == UTC  # ... expressed in UTC
        assert user.consent_at.hour == 2
        assert user.created_at.tzinfo == UTC


def _fill_coaching_and_delivery(repos: Repositories, user: User, at: datetime) -> None:
    """One row in every coaching and delivery table, each timestamp set from `at`."""
    user.last_active_at = at
    institution = repos.coaches.add_institution("Dinas Koperasi", "government")
    institution.created_at = at
    coach = repos.coaches.add_coach(user.id, institution.id, "Bu Rina")
    coach.created_at = at
    invite = repos.coaches.add_invite(institution.id, "h" * 64, at)
    invite.created_at = at
    repos.coaches.use_invite(invite.id, user.id, at=at)
    cohort = repos.cohorts.create(coach.id, "Sentra", "sentra", "Asia/Jakarta", "code1")
    cohort.created_at = cohort.archived_at = at
    repos.cohorts.join(cohort.id, user.id, None, at=at)
    repos.cohorts.leave(cohort.id, user.id, at=at)
    thread = repos.handoffs.open_thread(user.id, coach.id, cohort.id, "q", at=at)
    repos.handoffs.add_message(thread, "coach", "a", at=at)
    draft = repos.handoffs.add_draft(thread, "q", "a", at=at)
    repos.handoffs.mark_exported([draft.id], at=at)
    row_id = repos.outbox.enqueue(user, "test", {"text": "x"}, "k1", not_before=at)
    assert row_id is not None
    repos.outbox.claim("w", 1, now=at)
    repos.outbox.mark_sent(row_id, 7, now=at)
    repos.leases.acquire("job", "me", timedelta(seconds=5), now=at)
    user.blocked_at = at
    cohort.next_checkin_at = at
    reminder = repos.reminders.add(cohort.id, coach.id, "Halo", "2026-12-01T08:00", "Asia/Jakarta", None, at)
    reminder.last_at = at
    reminder.created_at = reminder.updated_at = at
    repos.reminders.add_occurrence(reminder.id, at, "queued", 1)
    event = repos.events.add(
        cohort_id=cohort.id,
        coach_id=coach.id,
        title="Pelatihan",
        starts_at=at,
        ends_at=at,
        timezone="Asia/Jakarta",
        rsvp_closes_at=at,
        next_notice_at=at,
        created_at=at,
    )
    repos.events.invite(event.id, user.id, at=at)
    rsvp = repos.events.rsvp(event.id, user.id)
    assert rsvp is not None
    repos.events.set_answer(rsvp, "yes", waitlisted=True, at=at)
    rsvp.attendance_at = rsvp.rated_at = at
    repos.broadcasts.add(cohort_id=cohort.id, coach_id=coach.id, text="x", created_at=at)
    repos.session.add(WebLogin(user_id=user.id, code_hash="c" * 64, expires_at=at, used_at=at, created_at=at))
    repos.session.add(
        WebSession(
            user_id=user.id,
            token_hash="t" * 64,
            csrf_token="x",
            expires_at=at,
            revoked_at=at,
            created_at=at,
            last_seen_at=at,
        )
    )
    repos.session.flush()
    repos.session.execute(OutboxMessage.__table__.update().values(created_at=at, updated_at=at, claimed_until=at))
    repos.session.execute(ReminderOccurrence.__table__.update().values(created_at=at))


def test_comparisons_use_the_instant(database: Database, make_user: MakeUser) -> None:
    """2026-11-23 09:00 in Jakarta is 02:00 UTC: filters must agree on both databases."""
    user_id = make_user()
    with database.transaction() as session:
        Repositories(session).questions.add(user_id, "q", "q", [], [], False, at=LOCAL)
    with database.transaction() as session:
        questions = Repositories(session).questions
        just_before = LOCAL.astimezone(UTC) - timedelta(minutes=1)
        just_after = LOCAL + timedelta(minutes=1)
        assert len(questions.unanswered_since(just_before)) == 1
        assert len(questions.unanswered_since(just_after.astimezone(WIB))) == 0


def test_naive_datetimes_are_refused(database: Database, make_user: MakeUser) -> None:
    user_id = make_user()
    naive = datetime(2026, 11, 23, 9, 0)
    with database.transaction() as session:
        repos = Repositories(session)
        with pytest.raises(ValueError, match="naive"):
            repos.states.set(user_id, "menu", at=naive)
        with pytest.raises(ValueError, match="naive"):
            repos.milestones.set_done(user_id, "nib", True, at=naive)
    with pytest.raises(StatementError, match="naive"), database.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.consent_at = naive
        session.flush()
