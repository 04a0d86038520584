"""One transaction per unit of work, and retrying a unit of work that lost a race."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.storage import Base, Database, Repositories, User, WebLogin, WebSession, is_retryable, run_with_retry
from tests.storage.conftest import CountRows


def _total_rows(count_rows: CountRows) -> dict[str, int]:
    return {table: count_rows(table) for table in Base.metadata.tables}


def _write_a_bit_of_everything(repos: Repositories) -> int:
    user, _ = repos.users.get_or_create("telegram", "42")
    repos.users.give_consent(user)
    repos.users.update_profile(user, name="Siti")
    repos.states.set(user.id, "progress.omzet")
    repos.updates.claim(1)
    repos.questions.add(user.id, "q", "q", [], [], False)
    repos.milestones.set_done(user.id, "nib", True)
    repos.figures.record(user.id, "omzet", date(2026, 10, 1), 100)
    repos.classes.add(user.id, "micro", date(2026, 10, 1))
    institution = repos.coaches.add_institution("Dinas Koperasi")
    coach = repos.coaches.add_coach(user.id, institution.id, "Bu Rina")
    invite = repos.coaches.add_invite(institution.id, "h" * 64, datetime(2026, 12, 1, tzinfo=UTC))
    repos.coaches.use_invite(invite.id, user.id)
    cohort = repos.cohorts.create(coach.id, "Sentra", "sentra", "Asia/Jakarta", "code")
    repos.cohorts.join(cohort.id, user.id, None)
    thread = repos.handoffs.open_thread(user.id, coach.id, cohort.id, "q")
    repos.handoffs.add_draft(thread, "q", "a")
    repos.outbox.enqueue(user, "test", {"text": "x"}, "key")
    repos.leases.acquire("job", "me", timedelta(seconds=5))
    _engagement(repos, cohort.id, coach.id, user.id)
    return user.id


def _engagement(repos: Repositories, cohort_id: int, coach_id: int, user_id: int) -> None:
    """One row in each engagement table (aimed at `user_id` where a table points at users)."""
    at = datetime(2026, 12, 1, 1, tzinfo=UTC)
    reminder = repos.reminders.add(
        cohort_id, coach_id, "Halo", "2026-12-01T08:00", "Asia/Jakarta", None, at,
        audience="person", audience_user_id=user_id,
    )
    repos.reminders.add_occurrence(reminder.id, at, "queued", 1)
    event = repos.events.add(
        cohort_id=cohort_id, coach_id=coach_id, title="Pelatihan", starts_at=at, ends_at=at,
        timezone="Asia/Jakarta", rsvp_closes_at=at, audience="person", audience_user_id=user_id,
    )
    repos.events.invite(event.id, user_id)
    repos.broadcasts.add(cohort_id=cohort_id, coach_id=coach_id, text="x", audience="person", audience_user_id=user_id)
    repos.session.add(WebLogin(user_id=user_id, code_hash=f"{user_id}c".ljust(64, "c"), expires_at=at))
    repos.session.add(WebSession(user_id=user_id, token_hash=f"{user_id}t".ljust(64, "t"), csrf_token="x", expires_at=at))


def test_an_exception_leaves_nothing_written(database: Database, count_rows: CountRows) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        _write_a_bit_of_everything(Repositories(session))
        session.flush()  # everything has reached the database ...
        raise RuntimeError("... and then the handler fails")
    assert set(_total_rows(count_rows).values()) == {0}


def test_a_database_error_midway_leaves_nothing_written(
    database: Database, count_rows: CountRows
) -> None:
    with pytest.raises(IntegrityError), database.transaction() as session:
        user_id = _write_a_bit_of_everything(Repositories(session))
        session.add(User(channel="telegram", external_id="42", locale="id"))  # duplicate
        assert user_id
    assert set(_total_rows(count_rows).values()) == {0}


def test_success_commits_everything(database: Database, count_rows: CountRows) -> None:
    with database.transaction() as session:
        _write_a_bit_of_everything(Repositories(session))
    assert set(_total_rows(count_rows).values()) == {1}


def test_run_with_retry_retries_a_unit_of_work_that_hit_a_unique_violation(
    database: Database, count_rows: CountRows
) -> None:
    with database.transaction() as session:
        Repositories(session).users.get_or_create("telegram", "taken")
    calls: list[int] = []

    def unit_of_work() -> int:
        calls.append(1)
        external_id = "taken" if len(calls) < 3 else "free"
        with database.transaction() as session:
            user = User(channel="telegram", external_id=external_id, locale="id")
            session.add(user)
            session.flush()
            return user.id

    assert run_with_retry(unit_of_work, attempts=3, backoff=0) > 0
    assert len(calls) == 3
    assert count_rows("users") == 2


def test_run_with_retry_gives_up_after_the_last_attempt(database: Database) -> None:
    with database.transaction() as session:
        Repositories(session).users.get_or_create("telegram", "taken")
    calls: list[int] = []

    def unit_of_work() -> None:
        calls.append(1)
        with database.transaction() as session:
            session.add(User(channel="telegram", external_id="taken", locale="id"))

    with pytest.raises(IntegrityError):
        run_with_retry(unit_of_work, attempts=2, backoff=0)
    assert len(calls) == 2


def test_run_with_retry_does_not_retry_other_errors(database: Database) -> None:
    calls: list[int] = []

    def unit_of_work() -> None:
        calls.append(1)
        with database.transaction() as session:
            session.execute(text("SELECT * FROM no_such_table"))

    # SQLite reports a missing table as an OperationalError: still not a conflict.
    with pytest.raises((OperationalError, ProgrammingError)) as caught:
        run_with_retry(unit_of_work, backoff=0)
    assert not is_retryable(caught.value)
    assert len(calls) == 1
    with pytest.raises(ValueError):
        run_with_retry(lambda: None, attempts=0)
