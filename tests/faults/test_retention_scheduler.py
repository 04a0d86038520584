"""Retention through the scheduler, on SQLite and PostgreSQL: processed update ids and abandoned
dialogue states go once older than the configured days — at the scheduler's hourly pass, run by
its own loop — and not a moment before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.config import Settings
from bot.delivery.scheduler import Scheduler
from bot.storage import ConversationState, Database, ProcessedUpdate, Repositories

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _kept(database: Database) -> tuple[list[int], list[str]]:
    with database.transaction() as session:
        updates = sorted(session.scalars(select(ProcessedUpdate.update_id)))
        states = sorted(session.scalars(select(ConversationState.state)))
    return updates, states


def _seed(database: Database) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        users = []
        for n in range(3):
            user, _ = repos.users.get_or_create("telegram", str(100 + n))
            repos.users.give_consent(user, T0)
            users.append(user)
        repos.updates.claim(1, at=T0 - timedelta(days=3, minutes=1))  # past 3 days
        repos.updates.claim(2, at=T0 - timedelta(days=2, hours=23))  # not yet
        repos.updates.claim(3, at=T0)
        repos.states.set(users[0].id, "progress.old", at=T0 - timedelta(days=5, minutes=1))
        repos.states.set(users[1].id, "progress.young", at=T0 - timedelta(days=4, hours=23))
        repos.states.set(users[2].id, "progress.now", at=T0)


def test_the_scheduler_forgets_old_update_ids_and_states_after_the_configured_time(database: Database) -> None:
    settings = Settings()
    settings.retention.processed_update_days = 3
    settings.retention.state_days = 5
    _seed(database)
    clock = Clock()
    scheduler = Scheduler(database, settings, holder="retention-test", now=clock)

    assert scheduler.tick() is not None
    assert _kept(database) == ([2, 3], ["progress.now", "progress.young"])
    # Two hours on, update 2 and the young state are past their time; the hourly pass sees it.
    clock.now = T0 + timedelta(minutes=59)
    scheduler.tick()
    assert _kept(database) == ([2, 3], ["progress.now", "progress.young"])  # not yet an hour since the last pass
    clock.now = T0 + timedelta(hours=2)
    scheduler.tick()
    assert _kept(database) == ([3], ["progress.now"])


async def test_the_scheduler_loop_runs_retention_by_itself(database: Database) -> None:
    settings = Settings()
    settings.retention.processed_update_days = 3
    settings.retention.state_days = 5
    settings.engagement.scheduler_interval = 0.05
    _seed(database)
    stop = asyncio.Event()
    loop = asyncio.create_task(Scheduler(database, settings, holder="loop", now=Clock()).run(stop))
    try:
        for _ in range(200):
            if _kept(database) == ([2, 3], ["progress.now", "progress.young"]):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    assert _kept(database) == ([2, 3], ["progress.now", "progress.young"])
