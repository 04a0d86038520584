"""Rates measured where Telegram measures them, at the server: the global rate over all workers,
and the gap between two messages to one chat."""

from __future__ import annotations

import asyncio

import pytest
from pyrate_limiter import Rate

from bot.config import Settings
from bot.delivery import memory_gate, rate_gate, telegram_sender
from bot.delivery.rate import rates_for
from bot.storage import Database
from tests.delivery.conftest import Enqueue, busiest_window, server_window_allowance, states
from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi


def test_rates_spread_a_second_over_five_bursts_with_a_margin() -> None:
    assert [(r.limit, r.interval) for r in rates_for(25)] == [(5, 206), (25, 1030)]
    assert [(r.limit, r.interval) for r in rates_for(1000)] == [(200, 206), (1000, 1030)]
    assert [(r.limit, r.interval) for r in rates_for(7)] == [(2, 296), (7, 1036)]  # evenly divided
    assert [(r.limit, r.interval) for r in rates_for(1)] == [(1, 1030)]
    assert [(r.limit, r.interval) for r in rates_for(0.5)] == [(1, 2030)]
    for per_second in (1, 2, 3, 7, 10, 25, 30, 99, 1000):
        rates = rates_for(per_second)
        assert all(isinstance(r, Rate) for r in rates)
        # The sub-window never makes the rate tighter than the main window.
        assert rates[0].limit * rates[-1].interval == rates[-1].limit * rates[0].interval


async def test_the_memory_gate_never_lets_more_than_the_limit_into_one_second() -> None:
    gate = memory_gate(10)
    times: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        for _ in range(16):
            await gate.acquire(1)
            times.append(loop.time())
    finally:
        gate.close()
    assert busiest_window(times) <= 10
    assert 1.2 <= times[-1] - times[0] <= 2.0  # 16 permits at 10/s: about 1.4 s, not a crawl


async def test_a_pause_holds_the_next_permit() -> None:
    gate = memory_gate(100)
    loop = asyncio.get_running_loop()
    try:
        await gate.acquire(1)
        gate.pause(0.3)
        start = loop.time()
        await gate.acquire(1)
        assert loop.time() - start >= 0.29
    finally:
        gate.close()


async def test_two_messages_to_one_chat_are_paced_at_the_server(database: Database, fake_api: FakeBotApi, settings: Settings, sender, make_worker, enqueue: Enqueue) -> None:
    settings.delivery.per_chat_interval = 0.4
    enqueue([("1001", "satu"), ("1001", "dua"), ("1001", "tiga"), ("1002", "lain")])

    await make_worker(sender).drain(10)

    assert states(database) == {"sent": 4}
    one_chat = fake_api.arrival_times(1001)
    assert [c.params["text"] for c in fake_api.calls_to("sendMessage") if c.params["chat_id"] == 1001] == ["satu", "dua", "tiga"]
    gaps = [b - a for a, b in zip(one_chat, one_chat[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.4, gaps
    assert max(gaps) < 1.0  # paced, not polled: the worker wakes when the chat frees up


async def test_the_global_rate_holds_in_every_second_at_the_server(database: Database, fake_api: FakeBotApi, settings: Settings, sender, make_worker, enqueue: Enqueue) -> None:
    """40 messages to 40 chats at 10/s. On PostgreSQL through the shared rate table."""
    settings.delivery.global_rate = 10
    enqueue([(str(7000 + n), f"siaran {n}") for n in range(40)])
    gate = rate_gate(settings, database)
    assert ("PostgreSQL" in gate.description) == (database.dialect == "postgresql")

    await make_worker(sender, gate=gate).drain(15)

    assert states(database) == {"sent": 40}
    times = fake_api.arrival_times()
    assert len(times) == 40
    assert busiest_window(times) <= server_window_allowance(10)
    # 40 at 10/s: about 3.8 s and never under 3; a worker that slept between its groups would take
    # 10+ s (6 leaves room for a busy machine, where 4.6 s was seen).
    assert 2.9 <= times[-1] - times[0] <= 6.0


@pytest.mark.parametrize(  # the shared rate lives in PostgreSQL
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_workers_on_postgresql_share_one_rate(database: Database, fake_api: FakeBotApi, settings: Settings, make_worker, enqueue: Enqueue) -> None:
    settings.delivery.global_rate = 10
    settings.delivery.batch_size = 5  # small claims, so that both workers get rows
    enqueue([(str(8000 + n), f"siaran {n}") for n in range(30)])
    workers, senders, engines = [], [], []
    for _ in range(2):
        engine = Database(database.url)
        sender = telegram_sender(settings, DEFAULT_TOKEN)
        await sender.start()
        engines.append(engine)
        senders.append(sender)
        workers.append(make_worker(sender, db=engine, gate=rate_gate(settings, engine)))
    try:
        results = await asyncio.gather(*(w.drain(15) for w in workers))
    finally:
        for sender in senders:
            await sender.close()
        for engine in engines:
            engine.dispose()

    assert all(r.sent > 0 for r in results) and sum(r.sent for r in results) == 30
    times = fake_api.arrival_times()
    assert busiest_window(times) <= server_window_allowance(10)
    assert times[-1] - times[0] >= 1.9  # 30 at 10/s over both workers: never under 2 s
