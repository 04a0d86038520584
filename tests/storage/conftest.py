"""Helpers for the storage tests (the database fixtures live in tests/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage import Base, Database, UserRepository

T0 = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)

MakeUser = Callable[..., int]
CountRows = Callable[..., int]


@pytest.fixture
def make_user(database: Database) -> MakeUser:
    """Create (and commit) a user; returns its id. Consented unless told otherwise."""

    def make(external_id: str = "1001", *, consent: bool = True, channel: str = "telegram") -> int:
        with database.transaction() as session:
            users = UserRepository(session)
            user, _ = users.get_or_create(channel, external_id)
            if consent:
                users.give_consent(user, T0)
            session.flush()
            return user.id

    return make


@pytest.fixture
def count_rows(database: Database) -> CountRows:
    """Rows in a table, optionally filtered by column=value, read in a new transaction."""

    def count(table_name: str, **where: object) -> int:
        table = Base.metadata.tables[table_name]
        stmt = select(func.count()).select_from(table)
        for column, value in where.items():
            stmt = stmt.where(table.c[column] == value)
        with database.transaction() as session:
            return session.execute(stmt).scalar_one()

    return count


def run_at_once(database: Database, workers: int, unit: Callable[[Session], object]) -> list[object]:
    """Run `unit` in `workers` threads released together, each in its own transaction;
    returns their results and fails the test if any thread raised."""
    barrier = threading.Barrier(workers)
    results: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            with database.transaction() as session:
                results.append(unit(session))
        except BaseException as exc:  # reported by the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results
