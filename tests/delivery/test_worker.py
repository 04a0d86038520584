"""The worker's guarantees on a real database (SQLite and PostgreSQL): a killed worker's rows,
transactions and dedupe keys, one SQLite worker at a time, many PostgreSQL workers without a
double send, and the terminal chat's own messages."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.delivery import (
    CallbackSender,
    OutgoingMessage,
    WorkerBusy,
    outbox_problems,
    outbox_report,
    run_worker,
    telegram_sender,
)
from bot.storage import Database
from bot.storage.repos import Repositories
from bot.storage.types import utcnow
from tests.delivery.conftest import Enqueue, row, states
from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

ONLY_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


async def test_a_worker_killed_between_claim_and_mark_leaves_nothing_sent_twice(database: Database, fake_api: FakeBotApi, settings: Settings, sender, make_worker, enqueue: Enqueue) -> None:
    settings.delivery.claim_seconds = 0.5
    claimed_only, sending = enqueue([("1001", "diklaim saja"), ("1002", "sedang dikirim")])
    dead = make_worker(sender, exclusive=False)
    messages = {m.row_id: m for m in await dead.claim()}
    assert set(messages) == {claimed_only, sending}
    assert [m.row_id for m in await dead.mark_sending([messages[sending]])] == [sending]
    # ...and the process dies here: no request, no outcome, no release.

    successor = make_worker(sender)
    stats = await successor.drain(5)  # waits for the dead worker's claim to lapse

    assert stats.sent == 1 and stats.recovered == 1
    assert row(database, claimed_only)["state"] == "sent"
    lost = row(database, sending)
    assert lost["state"] == "uncertain" and lost["last_error"] == "worker stopped while sending"
    assert fake_api.received_per_chat() == {1001: 1}
    await successor.drain(0.5)
    assert fake_api.received_per_chat() == {1001: 1}


async def test_a_rolled_back_transaction_queues_nothing(database: Database, fake_api: FakeBotApi, sender, make_worker) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", "1001")
        assert repos.outbox.enqueue(user, "reply", {"text": "Jawaban pendamping"}, "reply:1") is not None
        raise RuntimeError("the change that caused it failed")

    stats = await make_worker(sender).drain(1)

    assert stats.claimed == 0 and states(database) == {}
    assert fake_api.calls_to("sendMessage") == []


async def test_the_same_dedupe_key_twice_is_one_row_and_one_message(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    first = enqueue([("1001", "Pengingat")], dedupe=lambda n: "reminder:9:1001")
    second = enqueue([("1001", "Pengingat")], dedupe=lambda n: "reminder:9:1001")

    await make_worker(sender).drain(5)

    assert len(first) == 1 and second == []
    assert states(database) == {"sent": 1}
    assert fake_api.received_per_chat() == {1001: 1}


async def test_rows_of_other_channels_and_of_future_times_are_left_alone(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    enqueue([("siti", "untuk terminal")], channel="terminal")
    with database.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", "1001")
        repos.outbox.enqueue(user, "later", {"text": "besok"}, "later", not_before=utcnow() + timedelta(hours=1))

    stats = await make_worker(sender).drain(1)

    assert stats.claimed == 0 and fake_api.calls_to("sendMessage") == []
    assert states(database) == {"pending": 2}


async def test_a_bad_payload_is_failed_without_a_request(database: Database, fake_api: FakeBotApi, sender, make_worker) -> None:
    with database.transaction() as session:
        repos = Repositories(session)
        user, _ = repos.users.get_or_create("telegram", "1001")
        row_id = repos.outbox.enqueue(user, "broken", {"buttons": "nope"}, "broken")

    await make_worker(sender).drain(2)

    broken = row(database, row_id)
    assert broken["state"] == "failed" and broken["last_error"].startswith("bad payload")
    assert fake_api.calls == []


async def test_the_terminal_worker_delivers_only_its_own_users_messages(database: Database, fake_api: FakeBotApi, make_worker, enqueue: Enqueue) -> None:
    shown: list[OutgoingMessage] = []
    enqueue([("siti", "Balasan dari <b>pendamping</b>")], channel="terminal", buttons=[[{"label": "Terima kasih", "data": "thanks:1"}]])
    enqueue([("budi", "untuk Budi")], channel="terminal")
    enqueue([("1001", "untuk Telegram")])

    stats = await make_worker(CallbackSender(shown.append), chat_ids=["siti"]).drain(2)

    assert stats.sent == 1
    [message] = shown
    assert message.chat_id == "siti" and message.text == "Balasan dari <b>pendamping</b>"
    assert message.buttons[0][0].label == "Terima kasih" and message.buttons[0][0].data == "thanks:1"
    assert states(database) == {"sent": 1, "pending": 2}
    assert fake_api.calls == []


async def test_the_admin_report_counts_states_and_lists_problems_without_text(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    fake_api.fail_method("sendMessage", 400, "Bad Request: fake failure", times=1)
    enqueue([("1001", "RAHASIA pribadi"), ("1002", "halo")])
    await make_worker(sender).drain(5)

    with database.transaction() as session:
        repos = Repositories(session)
        counts = outbox_report(repos)
        problems = outbox_problems(repos, 10)

    assert counts == {"pending": 0, "sending": 0, "sent": 1, "blocked": 0, "failed": 1, "uncertain": 0}
    [problem] = problems
    assert problem["state"] == "failed" and problem["kind"] == "test" and problem["channel"] == "telegram"
    assert problem["attempts"] == 1 and "fake failure" in problem["last_error"].lower()
    assert set(problem) == {"id", "kind", "state", "attempts", "last_error", "created_at", "updated_at", "channel"}
    assert "RAHASIA" not in str(problems) and "halo" not in str(problems)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL workers share the outbox
async def test_on_sqlite_a_second_worker_waits_for_the_first(database: Database, fake_api: FakeBotApi, sender, make_worker, enqueue: Enqueue) -> None:
    first, second = make_worker(sender, lease_seconds=0.6), make_worker(sender, lease_seconds=0.6)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    enqueue([("1001", "pertama")])
    running = asyncio.create_task(first.run(stop_first))
    await fake_api.wait_for("sendMessage")
    waiting = asyncio.create_task(second.run(stop_second))

    enqueue([(str(2000 + n), f"pesan {n}") for n in range(20)])
    first.wake()
    await fake_api.wait_for("sendMessage", count=21)
    with pytest.raises(WorkerBusy):
        await second.drain(1)
    assert second.stats.claimed == 0

    stop_first.set()
    await running
    assert first.stats.sent == 21
    enqueue([("3000", "setelah pergantian")])
    await fake_api.wait_for("sendMessage", lambda c: c.params["chat_id"] == 3000, timeout=5)
    stop_second.set()
    await waiting
    assert second.stats.sent == 1 and first.stats.sent == 21
    assert sum(fake_api.received_per_chat().values()) == 22


@pytest.mark.slow
@ONLY_POSTGRESQL
@pytest.mark.parametrize("workers_count", [2, 3])
async def test_postgres_workers_drain_1000_rows_without_sending_one_twice(database: Database, fake_api: FakeBotApi, settings: Settings, make_worker, enqueue: Enqueue, workers_count: int) -> None:
    chats = [str(5000 + n) for n in range(200)]
    ids = enqueue([(chats[n % 200], f"siaran {n}") for n in range(1000)])
    assert len(ids) == 1000
    # Each worker as its own process would have it: its own engine and its own Bot.
    workers, senders, engines = [], [], []
    for _ in range(workers_count):
        engine = Database(database.url)
        sender = telegram_sender(settings, DEFAULT_TOKEN)
        await sender.start()
        engines.append(engine)
        senders.append(sender)
        workers.append(make_worker(sender, db=engine))
    try:
        results = await asyncio.gather(*(w.drain(60) for w in workers))
    finally:
        for sender in senders:
            await sender.close()
        for engine in engines:
            engine.dispose()

    assert all(r.sent > 0 for r in results), results  # every worker really worked
    assert sum(r.sent for r in results) == 1000
    assert states(database) == {"sent": 1000}
    texts = [c.params["text"] for c in fake_api.calls_to("sendMessage") if c.ok]
    assert len(texts) == 1000 and len(set(texts)) == 1000
    assert set(fake_api.received_per_chat().values()) == {5}


async def test_run_worker_delivers_until_stopped(database: Database, fake_api: FakeBotApi, settings: Settings, enqueue: Enqueue) -> None:
    """The CLI's entry point: its own sender, the rate chosen for the database, a clean stop."""
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(settings, database, telegram_sender(settings, DEFAULT_TOKEN), stop))
    enqueue([("1001", "satu"), ("1002", "dua")])
    await fake_api.wait_for("sendMessage", count=2, timeout=10)
    stop.set()
    await asyncio.wait_for(running, 10)

    assert states(database) == {"sent": 2}
    with database.transaction() as session:  # the SQLite lease is given back on a clean stop
        assert Repositories(session).leases.holder("delivery-worker") is None
