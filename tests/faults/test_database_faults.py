"""The database misbehaves under a running bot: another writer holds the SQLite file's write lock
for seconds, and PostgreSQL kills the bot's (or the delivery worker's) connection in the middle of
a transaction. Through the real Application (polling) and the real worker against the fake Bot
API: writes wait or are retried on a fresh connection, nothing is half-written, the user still
gets a reply, and no outbox message goes out twice.

How long a unit of work waits (SQLite): each attempt waits up to the busy timeout (5 s) for the
lock, and `run_with_retry` makes four attempts, so a lock held for up to ~20 s costs only time.
Held longer, the user is told to try again (the `error` reply), nothing of the update is
written and it is not marked handled, so a redelivery of the same update is handled normally.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.core import Conversation
from bot.delivery import telegram_sender
from bot.delivery.worker import DeliveryWorker
from bot.storage import Database, Figure, OutboxMessage, ProcessedUpdate, Repositories
from tests.e2e.conftest import polling_bot
from tests.e2e.fake_bot_api import FakeBotApi, FakeUser
from tests.faults.conftest import consent, count, sent_to

SARI = FakeUser(7101, "Sari")
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRES = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                   indirect=True)  # fmt: skip
RECORD, RECORDED = "/catat omzet 2,5jt", "Rp2.500.000"
SORRY = "kirim lagi"  # the `error` template: "... Silakan kirim lagi sebentar lagi."


def _figures(database: Database) -> int:
    return count(database, Figure)


def _claimed(database: Database, update_id: int) -> int:
    return count(database, ProcessedUpdate, ProcessedUpdate.update_id == update_id)


# -- SQLite: another writer holds the lock -----------------------------------------------------


class WriteLock:
    """Another connection (another process, a backup, a migration) holding the SQLite file's
    write lock — BEGIN IMMEDIATE — for `seconds`, from a thread of its own."""

    def __init__(self, database_url: str, seconds: float) -> None:
        self.path = make_url(database_url).database
        self.seconds = seconds
        self.taken = threading.Event()
        self.released_at = 0.0  # time.monotonic(), the clock of the fake server's arrival times
        self._thread = threading.Thread(target=self._hold, name="sqlite-write-lock", daemon=True)

    def _hold(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self.taken.set()
            time.sleep(self.seconds)
            self.released_at = time.monotonic()
            connection.execute("ROLLBACK")
        finally:
            connection.close()

    async def __aenter__(self) -> WriteLock:
        self._thread.start()
        assert await asyncio.to_thread(self.taken.wait, 10), "could not take the write lock"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self._thread.join, self.seconds + 10)


def _conversation(settings: Settings, conversation: Conversation, busy_timeout_ms: int) -> Conversation:
    """The fixture's core on a database whose writers wait `busy_timeout_ms` for a lock."""
    return Conversation(settings, conversation.index, Database(settings.database_url,
                                                                sqlite_busy_timeout_ms=busy_timeout_ms))


@SQLITE
@pytest.mark.slow
async def test_a_write_lock_shorter_than_the_busy_timeout_only_delays_the_reply(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    async with polling_bot(settings, conversation, fake_api):
        await consent(fake_api, SARI)
        async with WriteLock(settings.database_url, 3.0) as lock:
            update_id = fake_api.queue_text(SARI, RECORD)
            [reply] = await sent_to(fake_api, SARI.id, RECORDED, timeout=30)
        assert reply.arrived_at >= lock.released_at  # it waited for the lock, then did the work
    assert _figures(conversation.database) == 1 and _claimed(conversation.database, update_id) == 1
    assert not logbook.matching("retrying unit of work") and not logbook.matching("failed", logging.ERROR)


@SQLITE
@pytest.mark.slow
async def test_a_write_lock_longer_than_the_busy_timeout_is_retried_and_the_reply_arrives(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    # 1 s of busy timeout, four attempts: a 2.5 s lock makes the first two attempts give up.
    core = _conversation(settings, conversation, busy_timeout_ms=1000)
    try:
        async with polling_bot(settings, core, fake_api):
            await consent(fake_api, SARI)
            async with WriteLock(settings.database_url, 2.5) as lock:
                update_id = fake_api.queue_text(SARI, RECORD)
                [reply] = await sent_to(fake_api, SARI.id, RECORDED, timeout=30)
            assert reply.arrived_at >= lock.released_at
    finally:
        core.database.dispose()
    assert logbook.matching("retrying unit of work after OperationalError")
    assert _figures(conversation.database) == 1 and _claimed(conversation.database, update_id) == 1
    assert SORRY not in " ".join(fake_api.sent_texts(SARI.id))


@SQLITE
@pytest.mark.slow
async def test_a_write_lock_outlasting_every_retry_gets_an_apology_and_a_redelivery_is_handled(settings, conversation, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    # 0.5 s of busy timeout, four attempts (~2.2 s in all) against a 5 s lock.
    core = _conversation(settings, conversation, busy_timeout_ms=500)
    try:
        async with polling_bot(settings, core, fake_api):
            await consent(fake_api, SARI)
            async with WriteLock(settings.database_url, 5.0) as lock:
                update_id = fake_api.queue_text(SARI, RECORD)
                [apology] = await sent_to(fake_api, SARI.id, SORRY, timeout=30)
                assert apology.arrived_at < lock.released_at or lock.released_at == 0
            # Nothing of the update was written, and it is not marked handled ...
            assert _figures(conversation.database) == 0 and _claimed(conversation.database, update_id) == 0
            assert logbook.matching(f"update {update_id} failed: OperationalError", logging.ERROR)
        # ... so when Telegram hands it out again to the next process (this one died before
        # confirming it), it is handled like new: once.
        async with polling_bot(settings, core, fake_api):
            fake_api.queue_duplicate(update_id)
            await sent_to(fake_api, SARI.id, RECORDED, timeout=30)
            await asyncio.sleep(0.5)
    finally:
        core.database.dispose()
    assert _figures(conversation.database) == 1 and _claimed(conversation.database, update_id) == 1
    texts = fake_api.sent_texts(SARI.id)
    assert sum(RECORDED in t for t in texts) == 1 and sum(SORRY in t for t in texts) == 1
    assert RECORDED not in logbook.text() and "2,5jt" not in logbook.text()  # no personal data logged


# -- PostgreSQL: the connection is killed mid-transaction ---------------------------------------


class Killer:
    """Pauses the first statement on `engine` that `matches` (before it runs, or just after with
    `after=True`) inside its transaction, kills that backend from an admin connection with
    pg_terminate_backend — found in pg_stat_activity by its application_name, idle in
    transaction — and lets the statement (or the commit) go on, on a connection now dead."""

    def __init__(self, engine: Engine, admin: Engine, application_name: str,
                 matches: Callable[[str], bool], *, after: bool = False) -> None:  # fmt: skip
        self.admin = admin
        self.application_name = application_name
        self.matches = matches
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.pid: int | None = None
        self.killed = 0
        self._armed = True
        self._lock = threading.Lock()
        event.listen(engine, "after_cursor_execute" if after else "before_cursor_execute", self._hook)

    def _hook(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            if not (self._armed and self.matches(statement)):
                return
            self._armed = False
        self.pid = conn.connection.dbapi_connection.info.backend_pid
        self.paused.set()
        self.resume.wait(30)

    async def kill(self) -> None:
        assert await asyncio.to_thread(self.paused.wait, 30), "the statement to interrupt never ran"
        with self.admin.connect() as connection:
            self.killed = len(connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = :name AND pid = :pid AND state = 'idle in transaction'"),
                {"name": self.application_name, "pid": self.pid},
            ).all())  # fmt: skip
            for _ in range(100):  # the backend exits asynchronously: wait until it is gone
                gone = connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                          {"pid": self.pid}).scalar() == 0  # fmt: skip
                if gone:
                    break
                await asyncio.sleep(0.05)
        self.resume.set()


def _named(database_url: str, name: str) -> str:
    """The URL with an application_name, which pg_stat_activity shows for its connections."""
    url = make_url(database_url).update_query_dict({"application_name": name})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def named_core(settings: Settings, conversation: Conversation) -> Iterator[tuple[Conversation, str]]:
    """The fixture's core on connections named so that the test can find them."""
    name = f"umkm-bot-{uuid.uuid4().hex[:8]}"
    core = Conversation(settings, conversation.index, Database(_named(settings.database_url, name)))
    yield core, name
    core.database.dispose()


@POSTGRES
@pytest.mark.parametrize("where", ["claim", "figure", "commit"])
async def test_a_connection_killed_mid_unit_of_work_is_retried_on_a_fresh_one(settings, named_core, postgres_admin_engine, fake_api: FakeBotApi, logbook, where: str) -> None:  # type: ignore[no-untyped-def]
    core, name = named_core
    async with polling_bot(settings, core, fake_api):
        await consent(fake_api, SARI)
        # Just after the update's claim (its first statement), before the figure's INSERT (the
        # user's row is locked, the state read), or after that INSERT (so the commit fails).
        statement = "INSERT INTO processed_updates" if where == "claim" else "INSERT INTO figures"
        killer = Killer(core.database.engine, postgres_admin_engine, name,
                        lambda s: s.lstrip().startswith(statement), after=where != "figure")  # fmt: skip
        update_id = fake_api.queue_text(SARI, RECORD)
        await killer.kill()
        await sent_to(fake_api, SARI.id, RECORDED, timeout=30)
        await asyncio.sleep(0.5)
    assert killer.killed == 1
    assert logbook.matching("retrying unit of work after OperationalError")
    assert not logbook.matching("failed", logging.ERROR)
    assert _figures(core.database) == 1 and _claimed(core.database, update_id) == 1
    texts = fake_api.sent_texts(SARI.id)
    assert sum(RECORDED in t for t in texts) == 1 and not any(SORRY in t for t in texts)


@POSTGRES
async def test_a_connection_killed_while_a_refused_reply_is_queued_loses_no_reply(settings, named_core, postgres_admin_engine, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    core, name = named_core
    async with polling_bot(settings, core, fake_api, delivery=True):
        await consent(fake_api, SARI)
        # Telegram refuses the reply (502): it goes to the outbox, and the connection dies just
        # after the outbox INSERT, before that transaction commits.
        fake_api.fail_method("sendMessage", 502, "Bad Gateway", chat_id=SARI.id, times=1)
        killer = Killer(core.database.engine, postgres_admin_engine, name,
                        lambda s: s.lstrip().startswith("INSERT INTO outbox"), after=True)  # fmt: skip
        update_id = fake_api.queue_text(SARI, RECORD)
        await killer.kill()
        await sent_to(fake_api, SARI.id, RECORDED, timeout=30)  # the worker delivers it
        await asyncio.sleep(1.0)
    assert killer.killed == 1
    assert logbook.matching("retrying unit of work after OperationalError")
    assert not logbook.matching("failed", logging.ERROR)
    texts = fake_api.sent_texts(SARI.id)
    assert sum(RECORDED in t for t in texts) == 1 and not any(SORRY in t for t in texts)
    assert _figures(core.database) == 1 and _claimed(core.database, update_id) == 1
    assert count(core.database, OutboxMessage, OutboxMessage.kind == "reply", OutboxMessage.state == "sent") == 1


@POSTGRES
async def test_pooled_connections_killed_between_updates_are_replaced_before_use(settings, named_core, postgres_admin_engine, fake_api: FakeBotApi, logbook) -> None:  # type: ignore[no-untyped-def]
    core, name = named_core
    async with polling_bot(settings, core, fake_api):
        await consent(fake_api, SARI)
        with postgres_admin_engine.connect() as connection:  # a server restart, a proxy's idle timeout
            killed = connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                             "WHERE application_name = :name"), {"name": name}).all()  # fmt: skip
        assert killed  # the pool kept at least one connection between the updates
        update_id = fake_api.queue_text(SARI, RECORD)
        await sent_to(fake_api, SARI.id, RECORDED, timeout=30)
    # pool_pre_ping found the dead connections at checkout: not even a retry was needed.
    assert not logbook.matching("retrying unit of work") and not logbook.matching("failed", logging.ERROR)
    assert _figures(core.database) == 1 and _claimed(core.database, update_id) == 1


def _queue_messages(database: Database, users: list[FakeUser], per_user: int) -> dict[str, int]:
    """`per_user` outbox rows for each (consented) user, as a broadcast queues them: text -> 1."""
    texts: dict[str, int] = {}
    with database.transaction() as session:
        repos = Repositories(session)
        for user in users:
            stored = repos.users.get("telegram", str(user.id))
            assert stored is not None and stored.consent_at is not None
            for n in range(per_user):
                body = f"Kabar {n} untuk {user.first_name}"
                repos.outbox.enqueue(stored, "broadcast", {"text": body}, f"test:{user.id}:{n}")
                texts[body] = 1
    return texts


@POSTGRES
@pytest.mark.parametrize("where", ["claim", "mark_sent"])
async def test_a_worker_connection_killed_mid_claim_or_mid_record_sends_nothing_twice(settings, conversation, postgres_admin_engine, fake_api: FakeBotApi, logbook, where: str) -> None:  # type: ignore[no-untyped-def]
    users = [FakeUser(7200 + n, f"Anggota{n}") for n in range(3)]
    async with polling_bot(settings, conversation, fake_api):
        for user in users:
            await consent(fake_api, user)
    expected = _queue_messages(conversation.database, users, per_user=4)
    name = f"umkm-worker-{uuid.uuid4().hex[:8]}"
    database = Database(_named(settings.database_url, name))
    sender = telegram_sender(settings, fake_api.token)
    worker = DeliveryWorker(database, sender, settings.delivery)  # an in-memory rate: one named pool
    if where == "claim":  # the rows are claimed, the claim not yet committed
        matches: Callable[[str], bool] = lambda s: s.lstrip().startswith("UPDATE outbox SET claimed_by")  # noqa: E731
    else:  # the requests went out and were recorded as sent, not yet committed
        matches = lambda s: s.lstrip().startswith("UPDATE outbox SET state") and "sent_at" in s  # noqa: E731
    killer = Killer(database.engine, postgres_admin_engine, name, matches, after=True)
    try:
        await sender.start()
        drained = asyncio.create_task(worker.drain(timeout=60))
        await killer.kill()
        stats = await drained
    finally:
        await sender.close()
        worker.close()
        database.dispose()
    assert killer.killed == 1
    assert logbook.matching("retrying unit of work after OperationalError")
    sent = [t for t in fake_api.sent_texts() if t.startswith("Kabar")]
    assert sorted(sent) == sorted(expected)  # every message, none twice
    assert stats.sent == len(expected) and stats.uncertain == 0
    assert count(conversation.database, OutboxMessage, OutboxMessage.state == "sent") == len(expected)
