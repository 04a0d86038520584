"""Users: get_or_create (also under concurrency), consent, profile, erasure."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from bot.storage import (
    Base,
    ConsentRequiredError,
    Database,
    Repositories,
    User,
    UserRepository,
)
from tests.storage.conftest import T0, CountRows, MakeUser, run_at_once
from tests.storage.test_transactions import _engagement


def test_get_or_create_twice_returns_the_same_user(database: Database) -> None:
    with database.transaction() as session:
        first, created = UserRepository(session).get_or_create("telegram", "42", "en")
        assert created
    with database.transaction() as session:
        again, created = UserRepository(session).get_or_create("telegram", "42", "id")
        assert not created
        assert again.id == first.id
        assert again.locale == "en"  # an existing user keeps their language


def test_same_external_id_on_another_channel_is_another_user(database: Database) -> None:
    with database.transaction() as session:
        users = UserRepository(session)
        telegram, _ = users.get_or_create("telegram", "42")
        terminal, _ = users.get_or_create("terminal", "42")
        assert telegram.id != terminal.id
        assert users.get("telegram", "42") is telegram
        assert users.get("telegram", "43") is None


def test_new_user_keeps_start_payload_and_no_personal_data(database: Database) -> None:
    with database.transaction() as session:
        user, _ = UserRepository(session).get_or_create(
            "telegram", "42", start_payload="cohort-jogja-2026"
        )
    with database.transaction() as session:
        stored = UserRepository(session).by_id(user.id)
        assert stored is not None
        assert stored.start_payload == "cohort-jogja-2026"
        assert stored.consent_at is None
        assert (stored.name, stored.sector, stored.district, stored.products) == (None,) * 4


def test_invalid_channel_or_locale_is_refused(database: Database) -> None:
    with database.transaction() as session:
        users = UserRepository(session)
        with pytest.raises(ValueError, match="channel"):
            users.get_or_create("whatsapp", "42")
        with pytest.raises(ValueError, match="locale"):
            users.get_or_create("telegram", "42", "fr")


def test_two_threads_create_exactly_one_user(database: Database, count_rows: CountRows) -> None:
    workers = 8

    def create(session):  # type: ignore[no-untyped-def]
        user, created = UserRepository(session).get_or_create("telegram", "777")
        return user.id, created

    results = run_at_once(database, workers, create)
    assert len(results) == workers
    assert len({user_id for user_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert count_rows("users", channel="telegram", external_id="777") == 1


def _wait_until_blocked(database: Database) -> None:
    """Return once another transaction waits for a lock on users (PostgreSQL), or after
    a short pause on SQLite, where the second transaction waits in BEGIN IMMEDIATE."""
    if database.dialect != "postgresql":
        time.sleep(0.3)
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO users%'"
    )
    deadline = time.monotonic() + 10
    with database.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(query).scalar_one():
                return
            connection.rollback()  # a fresh snapshot of pg_stat_activity
            time.sleep(0.02)
    raise AssertionError("the second transaction never blocked on its INSERT")


def test_losing_the_race_rolls_back_only_the_savepoint(
    database: Database, count_rows: CountRows
) -> None:
    """The second transaction's INSERT waits for the first, fails, and recovers."""
    savepoint_rollbacks: list[str] = []
    event.listen(
        database.engine,
        "rollback_savepoint",
        lambda _c, name, _ctx: savepoint_rollbacks.append(name),
    )
    first_inserted = threading.Event()
    first_result: list[int] = []

    def first() -> None:
        with database.transaction() as session:
            user, created = UserRepository(session).get_or_create("telegram", "888")
            assert created
            first_result.append(user.id)
            first_inserted.set()
            _wait_until_blocked(database)  # the second transaction waits on its INSERT

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inserted.wait(timeout=10)
    with database.transaction() as session:
        repos = Repositories(session)
        user, created = repos.users.get_or_create("telegram", "888")
        # The transaction is still usable after the lost race.
        repos.states.set(user.id, "onboarding.name")
    thread.join(timeout=30)

    assert not created
    assert [user.id] == first_result
    assert count_rows("users", external_id="888") == 1
    assert count_rows("conversation_states", user_id=user.id) == 1
    if database.dialect == "postgresql":
        # PostgreSQL does not serialise the transactions, so the unique violation
        # really happened (SQLite's BEGIN IMMEDIATE made the second one wait instead).
        assert savepoint_rollbacks


class _StaleLookup(UserRepository):
    """Misses the user once, as a transaction racing another one would."""

    missed = False

    def get(self, channel: str, external_id: str) -> User | None:
        if not self.missed:
            self.missed = True
            return None
        return super().get(channel, external_id)


def test_unique_violation_is_recovered_inside_a_savepoint(
    database: Database, make_user: MakeUser, count_rows: CountRows
) -> None:
    existing = make_user("555")
    with database.transaction() as session:
        user, created = _StaleLookup(session).get_or_create("telegram", "555")
        Repositories(session).states.set(user.id, "menu")
    assert (user.id, created) == (existing, False)
    assert count_rows("users", external_id="555") == 1
    assert count_rows("conversation_states", user_id=existing) == 1


def test_profile_needs_consent(database: Database, make_user: MakeUser) -> None:
    user_id = make_user("42", consent=False)
    with database.transaction() as session:
        users = UserRepository(session)
        user = users.by_id(user_id)
        assert user is not None
        with pytest.raises(ConsentRequiredError):
            users.update_profile(user, name="Siti")
        users.give_consent(user, T0)
        users.update_profile(
            user, name="Siti", sector="food", district="Sleman", products="Keripik"
        )
        with pytest.raises(ValueError, match="sector"):
            users.update_profile(user, sector="mining")
        with pytest.raises(ValueError, match="not profile fields"):
            users.update_profile(user, external_id="43")
    with database.transaction() as session:
        user = UserRepository(session).by_id(user_id)
        assert user is not None
        assert (user.name, user.sector, user.district, user.products) == (
            "Siti",
            "food",
            "Sleman",
            "Keripik",
        )
        assert user.consent_at == T0
        assert user.updated_at > user.created_at


def test_consent_keeps_the_first_moment(database: Database, make_user: MakeUser) -> None:
    user_id = make_user("42")
    with database.transaction() as session:
        users = UserRepository(session)
        user = users.by_id(user_id)
        assert user is not None
        users.give_consent(user)
        assert user.consent_at == T0


def _fill_everything(database: Database, user_id: int) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        repos.states.set(user_id, "progress.omzet", {"month": "2026-10-01"})
        question = repos.questions.add(user_id, "Cara urus NIB?", "urus nib", ["nib"], [0.9], True)
        repos.questions.set_feedback(question.id, user_id, "up")
        repos.questions.add(user_id, "Harga emas?", "harga emas", [], [], False)
        repos.milestones.set_done(user_id, "nib", True)
        repos.milestones.set_done(user_id, "qris", True)
        month = T0.date().replace(day=1)
        repos.figures.record(user_id, "omzet", month, 5_000_000)
        repos.figures.record(user_id, "omzet", month, 5_500_000)  # a correction: 2 rows
        repos.classes.add(user_id, "micro", month)
        _coach_and_member(repos, user_id)


def _coach_and_member(repos: Repositories, user_id: int) -> None:
    """The user coaches (with no cohort of their own) and is a member of another coach's cohort,
    with a hand-off thread, a draft and outbox rows to them and about them."""
    user = repos.users.by_id(user_id)
    assert user is not None
    institution = repos.coaches.add_institution(f"Dinas {user_id}")
    repos.coaches.add_coach(user_id, institution.id, "Pak Budi")
    other, _ = repos.users.get_or_create("telegram", f"coach-of-{user_id}")
    other_coach = repos.coaches.add_coach(other.id, institution.id, "Bu Rina")
    cohort = repos.cohorts.create(other_coach.id, "Sentra", "sentra", "Asia/Jakarta", f"code{user_id}")
    repos.cohorts.join(cohort.id, user_id, "micro")
    thread = repos.handoffs.open_thread(user_id, other_coach.id, cohort.id, "Bagaimana izin PIRT?")
    repos.handoffs.add_draft(thread, "Bagaimana izin PIRT?", "Ke Dinas Kesehatan.")
    repos.outbox.enqueue(user, "reply", {"text": "a"}, f"to-{user_id}")
    repos.outbox.enqueue(other, "question", {"text": "q"}, f"about-{user_id}", about_user_id=user_id)
    _engagement(repos, cohort.id, other_coach.id, user_id)


def _user_tables() -> list[str]:
    return sorted(name for name, table in Base.metadata.tables.items() if "user_id" in table.c)


def test_delete_user_data_removes_every_row_of_that_user_only(
    database: Database, make_user: MakeUser, count_rows: CountRows
) -> None:
    gone, kept = make_user("1"), make_user("2")
    _fill_everything(database, gone)
    _fill_everything(database, kept)
    before = {table: count_rows(table, user_id=gone) for table in _user_tables()}
    assert all(before.values()), f"test data misses a table: {before}"

    with database.transaction() as session:
        users = UserRepository(session)
        user = users.by_id(gone)
        assert user is not None
        counts = users.delete_user_data(user)

    # One outbox row goes to the user and one is about them (to their coach); a reminder, an
    # event and a broadcast were aimed at them alone.
    assert counts == {
        **before, "outbox": before["outbox"] + 1, "reminders": 1, "events": 1, "broadcasts": 1, "users": 1
    }
    for table in _user_tables():
        assert count_rows(table, user_id=gone) == 0, table
        assert count_rows(table, user_id=kept) == before[table], table
    assert count_rows("users", id=gone) == 0
    assert count_rows("users", id=kept) == 1
    with database.transaction() as session:
        assert UserRepository(session).get("telegram", "1") is None


def test_deleting_the_user_row_cascades(
    database: Database, make_user: MakeUser, count_rows: CountRows
) -> None:
    """ON DELETE CASCADE works too (on SQLite only with foreign_keys=ON)."""
    user_id = make_user("1")
    _fill_everything(database, user_id)
    with database.transaction() as session:
        session.execute(User.__table__.delete().where(User.__table__.c.id == user_id))
    for table in _user_tables():
        assert count_rows(table, user_id=user_id) == 0, table


def test_foreign_keys_are_enforced(database: Database, count_rows: CountRows) -> None:
    with pytest.raises(IntegrityError), database.transaction() as session:
        Repositories(session).states.set(999_999, "menu")
    assert count_rows("conversation_states") == 0
