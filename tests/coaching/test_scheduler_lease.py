"""One scheduler at a time (a lease another process takes over when the holder dies), and the
retention that runs with it; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.config import Settings
from bot.delivery.scheduler import Scheduler
from bot.retention import purge_old_records
from bot.storage import ConversationState, Database, OutboxMessage, ProcessedUpdate, Repositories

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_one_scheduler_works_and_another_takes_over_when_it_dies(database: Database) -> None:
    settings = Settings()
    clock = Clock()
    first = Scheduler(database, settings, holder="a", now=clock)
    second = Scheduler(database, settings, holder="b", now=clock)
    assert first.tick() is not None
    assert second.tick() is None  # the lease is held
    clock.now += timedelta(seconds=30)
    assert first.tick() is not None and second.tick() is None  # renewed by its holder
    clock.now += timedelta(seconds=settings.engagement.scheduler_lease_seconds + 1)  # "a" died
    assert second.tick() is not None
    assert first.tick() is None
    second.release()
    assert first.tick() is not None  # a clean stop hands over at once


def test_retention_forgets_old_records_but_keeps_once_meaning_once(database: Database) -> None:
    settings = Settings()
    with database.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", "1")
        repos.users.give_consent(user, T0)
        repos.updates.claim(1, at=T0 - timedelta(days=3))
        repos.updates.claim(2, at=T0)
        repos.states.set(user.id, "progress.catat", at=T0 - timedelta(days=40))
        row = repos.outbox.enqueue(user, "nudge", {"text": "rahasia"}, "nudge:1:nib")
        repos.outbox.mark_sent(row, 5, now=T0 - timedelta(days=100))
    counts = purge_old_records(database, settings, T0)
    assert counts["processed_updates"] == 1 and counts["conversation_states"] == 1 and counts["outbox_texts"] == 1
    with database.transaction() as session:
        repos = Repositories(session)
        assert session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1
        assert session.scalar(select(func.count()).select_from(ConversationState)) == 0
        assert session.scalars(select(OutboxMessage)).one().payload == {}
        assert repos.outbox.enqueue(repos.users.by_id(user.id), "nudge", {"text": "x"}, "nudge:1:nib") is None
