"""Fixtures for the delivery tests: the fake Bot API, settings with tiny backoffs, recipients,
queued messages, and workers that are closed after the test. The `database` fixture (SQLite and
PostgreSQL) comes from tests/conftest.py."""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.delivery import DeliveryWorker, RateGate, TelegramSender, memory_gate, telegram_sender, unlimited_gate
from bot.delivery.rate import SUB_WINDOWS
from bot.storage import Database
from bot.storage.repos import Repositories
from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

Enqueue = Callable[..., list[int]]


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=DEFAULT_TOKEN) as api:
        yield api


@pytest.fixture
def settings(fake_api: FakeBotApi) -> Settings:
    """Telegram pointed at the fake server; retries, polls and pacing made fast for tests."""
    settings = Settings()
    settings.telegram.base_url = fake_api.base_url
    settings.telegram.base_file_url = fake_api.base_file_url
    d = settings.delivery
    d.global_rate = 1000
    d.per_chat_interval = 0.0
    d.backoff_base = 0.01
    d.backoff_max = 0.05
    d.poll_interval = 0.05
    d.max_attempts = 4
    d.read_timeout = 3.0
    d.connect_timeout = 2.0
    return settings


@pytest.fixture
async def sender(settings: Settings) -> AsyncIterator[TelegramSender]:
    """A started TelegramSender (the real python-telegram-bot Bot) talking to the fake server."""
    sender = telegram_sender(settings, DEFAULT_TOKEN)
    await sender.start()
    yield sender
    await sender.close()


@pytest.fixture
def make_worker(database: Database, settings: Settings) -> Iterator[Callable[..., DeliveryWorker]]:
    """Build workers (default: unlimited rate, the test's settings); closed after the test."""
    made: list[tuple[DeliveryWorker, RateGate]] = []

    def make(sender: Any, *, gate: RateGate | None = None, db: Database | None = None, **kwargs: Any) -> DeliveryWorker:
        gate = gate or unlimited_gate()
        worker = DeliveryWorker(db or database, sender, settings.delivery, gate=gate, **kwargs)
        made.append((worker, gate))
        return worker

    yield make
    for worker, gate in made:
        worker.close()
        gate.close()


@pytest.fixture
def enqueue(database: Database) -> Enqueue:
    """Queue messages in one transaction: enqueue([(chat_id, text), ...], channel=..., **payload
    extras); returns the new row ids (None for a dedupe hit is dropped)."""

    def run(
        messages: list[tuple[str, str]],
        *,
        channel: str = "telegram",
        kind: str = "test",
        buttons: list[list[dict[str, str]]] | None = None,
        document: tuple[str, bytes] | None = None,
        dedupe: Callable[[int], str] | None = None,
    ) -> list[int]:
        ids: list[int] = []
        with database.transaction() as session:
            repos = Repositories(session)
            for n, (chat_id, text) in enumerate(messages):
                user, _ = repos.users.get_or_create(channel, chat_id)
                payload: dict[str, Any] = {"text": text}
                if buttons is not None:
                    payload["buttons"] = buttons
                if document is not None:
                    payload["document"] = {"filename": document[0], "base64": base64.b64encode(document[1]).decode()}
                key = dedupe(n) if dedupe else f"{kind}:{chat_id}:{n}:{text[:40]}"
                row_id = repos.outbox.enqueue(user, kind, payload, key)
                if row_id is not None:
                    ids.append(row_id)
        return ids

    return run


def row(database: Database, row_id: int) -> dict[str, Any]:
    """An outbox row's columns, read in a fresh transaction."""
    with database.transaction() as session:
        found = Repositories(session).outbox.by_id(row_id)
        assert found is not None
        return {c.name: getattr(found, c.name) for c in found.__table__.columns}


def states(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return {k: v for k, v in Repositories(session).outbox.counts().items() if v}


def busiest_window(times: list[float], width: float = 1.0) -> int:
    """The most arrivals in any window [t, t + width) (sliding, not aligned to seconds)."""
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while times[start] <= t - width:
            start += 1
        best = max(best, end - start + 1)
    return best


def server_window_allowance(limit: int) -> int:
    """The most arrivals a one-second window at the server may hold when the worker keeps `limit`
    per second where requests leave it (`test_the_memory_gate_never_lets_more_than_the_limit_into_
    one_second` checks that strictly): on a busy machine one burst can be held up on its way (event
    loop, httpx) by more than WINDOW_MARGIN and land beside the next second's; more than that one
    burst would mean the limiter let too many go."""
    return limit + math.ceil(limit / SUB_WINDOWS)


__all__ = ["Enqueue", "busiest_window", "memory_gate", "row", "server_window_allowance", "states"]
